/**
 * Refresh coordinated across processes: separate OS processes share one PostgreSQL or Redis
 * store and refresh the same user's expired token at once, against oidc-provider rotating its
 * refresh tokens on every use. One token request per round, no invalid_grant, the grant
 * survives; and a lock holder killed mid-refresh holds the others up only until its lease ends.
 *
 * RACE_ROUNDS sets the rounds (default 10 here; `bench/refresh-storm.ts` runs 100).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Credentials } from '../src/core/credentials.js';
import type { CredentialStore } from '../src/core/store.js';
import { generateEncryptionKey, parseEncryptionKeys } from '../src/storage/encryption.js';
import { createPostgresStore } from '../src/storage/postgres.js';
import { createRedisStore } from '../src/storage/redis.js';
import { startTestApi, type TestApi } from './support/api.js';
import {
  createPool,
  createRedis,
  createSchema,
  deleteKeys,
  redisPrefix,
} from './support/databases.js';
import { setupOAuth, type OAuthSetup } from './support/oauth.js';
import { spawnRaceWorker, type RaceWorkerSettings } from './support/race.js';

const ROUNDS = Number(process.env.RACE_ROUNDS ?? 10);
const PROCESSES = 2;
const CALLS = 200;
const KEY = 'user-race';
const expired = (c: Credentials) => c.with({ expiresAt: Date.now() - 1000 });

for (const kind of ['postgres', 'redis'] as const) {
  // PostgreSQL runs encrypted and Redis plain, so the race covers both codecs.
  const encryptionKeys = kind === 'postgres' ? `k1:${generateEncryptionKey()}` : undefined;

  describe(`refresh across processes, ${kind} store${encryptionKeys ? ' (encrypted)' : ''}`, () => {
    let t: OAuthSetup;
    let api: TestApi;
    let store: CredentialStore;
    let namespace: string;
    let cleanup: () => Promise<void>;
    let settings: RaceWorkerSettings;

    before(async () => {
      t = await setupOAuth({ rotateRefreshToken: true });
      api = await startTestApi(t.provider);
      const keys = encryptionKeys ? parseEncryptionKeys(encryptionKeys) : undefined;
      if (kind === 'postgres') {
        const pool = createPool({ max: 2 });
        const { schema, drop } = await createSchema(pool);
        namespace = schema;
        store = createPostgresStore({ db: pool, schema, encryptionKeys: keys });
        cleanup = async () => {
          await drop();
          await pool.end();
        };
      } else {
        const redis = createRedis();
        namespace = redisPrefix();
        store = createRedisStore({ client: redis, prefix: namespace, encryptionKeys: keys });
        cleanup = async () => {
          await deleteKeys(redis, namespace);
          redis.disconnect();
        };
      }
      settings = {
        issuer: t.provider.issuer,
        api: api.origin,
        store: kind,
        namespace,
        key: KEY,
        leaseMs: 30_000,
        encryptionKeys,
      };
    });
    after(async () => {
      await cleanup?.();
      await api?.close();
      await t?.close();
    });

    it(
      `${PROCESSES} processes × ${CALLS} concurrent calls with an expired token: one token request per round for ${ROUNDS} rounds, no invalid_grant, the grant survives`,
      { timeout: 120_000 },
      async () => {
        await store.put(KEY, expired(await t.login('racer')));
        const workers = await Promise.all(
          Array.from({ length: PROCESSES }, () => spawnRaceWorker(settings)),
        );
        try {
          const seen = new Set<string>();
          for (let round = 1; round <= ROUNDS; round++) {
            const before = (await store.get(KEY))!;
            seen.add(before.refreshToken!);
            await store.put(KEY, expired(before));
            t.provider.resetCounts();
            const results = await Promise.all(workers.map((w) => w.round(round, CALLS)));
            for (const [i, r] of results.entries()) {
              assert.deepEqual(r.errors, [], `round ${round}, process ${i}: no call failed`);
              assert.equal(r.ok, CALLS, `round ${round}, process ${i}: every call answered 200`);
            }
            assert.equal(t.provider.counts.token, 1, `round ${round}: exactly one token request`);
            assert.deepEqual(
              results.map((r) => r.tokenRequests).sort(),
              [...Array<number>(PROCESSES - 1).fill(0), 1],
              `round ${round}: one process refreshed, the others adopted its token`,
            );
            const after = (await store.get(KEY))!;
            assert.equal(after.invalid, false);
            assert.equal(after.isExpired(), false, `round ${round}: the fresh token was saved`);
            assert.ok(
              !seen.has(after.refreshToken!),
              `round ${round}: the rotated token was saved`,
            );
          }
        } finally {
          await Promise.all(workers.map((w) => w.stop()));
        }
        // The refresh token left in the store is the live one: the provider accepts it.
        const last = (await store.get(KEY))!;
        const fresh = await t.client.refresh(last);
        assert.ok(fresh.accessToken);
        await store.put(KEY, fresh);
      },
    );

    it(
      'a lock holder killed mid-refresh holds the others up only until its lease runs out',
      { timeout: 60_000 },
      async () => {
        await store.put(KEY, expired(await t.login('victim')));
        const leaseMs = 1500;
        const [doomed, survivor] = await Promise.all([
          spawnRaceWorker({ ...settings, leaseMs, fault: 'hang-token' }),
          spawnRaceWorker({ ...settings, leaseMs }),
        ]);
        try {
          t.provider.resetCounts();
          const hung = doomed.next('token-request-hung').then(() => 'hung');
          const finished = doomed.round(1, 20).then(
            () => 'finished',
            () => 'exited',
          );
          assert.equal(await Promise.race([hung, finished]), 'hung', 'it got as far as refreshing');
          // It holds the lease, its token request is in flight: kill it there.
          assert.equal(await leaseIsLive(kind, namespace), true, 'the lease is held');
          doomed.child.kill('SIGKILL');
          await doomed.exited;
          assert.equal(doomed.child.signalCode, 'SIGKILL');
          assert.equal(await leaseIsLive(kind, namespace), true, 'the dead holder’s lease remains');
          const result = await survivor.round(1, 50);
          assert.deepEqual(result.errors, []);
          assert.equal(result.ok, 50, 'every call of the other process succeeded');
          assert.equal(t.provider.counts.token, 1, 'one refresh, by the survivor');
          const saved = (await store.get(KEY))!;
          assert.equal(saved.isExpired(), false);
          assert.ok((await t.client.refresh(saved)).accessToken, 'the grant is intact');
        } finally {
          doomed.child.kill('SIGKILL');
          await survivor.stop();
        }
      },
    );
  });
}

/** Whether the race key's refresh lease is held right now, read straight from the backend. */
async function leaseIsLive(kind: 'postgres' | 'redis', namespace: string): Promise<boolean> {
  if (kind === 'postgres') {
    const pool = createPool({ max: 1 });
    try {
      const { rows } = await pool.query(
        `SELECT expires_at > clock_timestamp() AS live FROM "${namespace}".oauthkit_credentials_locks WHERE key = $1`,
        [KEY],
      );
      return rows[0]?.live === true;
    } finally {
      await pool.end();
    }
  }
  const redis = createRedis();
  try {
    return (await redis.pttl(`${namespace}lock:${KEY}`)) > 0;
  } finally {
    redis.disconnect();
  }
}
