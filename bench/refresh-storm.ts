/**
 * Cross-process refresh storm: several app processes (`test/support/race-worker.ts`) share one
 * PostgreSQL or Redis store and, round after round, fire concurrent authorized calls for the
 * same user whose stored access token has just expired, against oidc-provider rotating its
 * refresh token on every use. Reports token requests per round (goal: exactly 1 every round),
 * failed calls (goal: 0, no invalid_grant), whether the last stored refresh token still works,
 * and latencies: of every call, and of the calls in the processes that waited for another
 * process's refresh (the lease holder's calls excluded).
 *
 * The baseline is the same fleet with the store's lock hidden (each process single-flights its
 * own refreshes, as a library without cross-process coordination does): it starts every round
 * from a fresh sign-in, because its first round already loses the grant.
 *
 * Run: node --import tsx bench/refresh-storm.ts [rounds=100] [processes=2] [calls=200] [stores=postgres,redis] [baseline rounds=10]
 */
import { performance } from 'node:perf_hooks';
import type { Credentials } from '../src/core/credentials.js';
import type { CredentialStore } from '../src/core/store.js';
import { createPostgresStore } from '../src/storage/postgres.js';
import { createRedisStore } from '../src/storage/redis.js';
import { startTestApi } from '../test/support/api.js';
import {
  createPool,
  createRedis,
  createSchema,
  deleteKeys,
  redisPrefix,
} from '../test/support/databases.js';
import { setupOAuth } from '../test/support/oauth.js';
import { percentile, spawnRaceWorker } from '../test/support/race.js';

const rounds = Number(process.argv[2] ?? 100);
const processes = Number(process.argv[3] ?? 2);
const calls = Number(process.argv[4] ?? 200);
const kinds = (process.argv[5] ?? 'postgres,redis').split(',') as ('postgres' | 'redis')[];
const baselineRounds = Number(process.argv[6] ?? 10);
const KEY = 'storm-user';

const rows: string[][] = [];
const variants = kinds.flatMap((kind) => [
  { kind, lock: true, rounds },
  { kind, lock: false, rounds: baselineRounds },
]);
for (const { kind, lock, rounds } of variants) {
  if (rounds === 0) continue;
  const t = await setupOAuth({ rotateRefreshToken: true });
  const api = await startTestApi(t.provider);
  let store: CredentialStore;
  let namespace: string;
  let cleanup: () => Promise<void>;
  if (kind === 'postgres') {
    const pool = createPool({ max: 2 });
    const schema = await createSchema(pool);
    namespace = schema.schema;
    store = createPostgresStore({ db: pool, schema: namespace });
    cleanup = async () => {
      await schema.drop();
      await pool.end();
    };
  } else {
    const redis = createRedis();
    namespace = redisPrefix();
    store = createRedisStore({ client: redis, prefix: namespace });
    cleanup = async () => {
      await deleteKeys(redis, namespace);
      redis.disconnect();
    };
  }
  await store.put(KEY, await t.login('storm'));
  const workers = await Promise.all(
    Array.from({ length: processes }, () =>
      spawnRaceWorker({
        issuer: t.provider.issuer,
        api: api.origin,
        store: kind,
        namespace,
        key: KEY,
        leaseMs: 30_000,
        noLock: !lock,
      }),
    ),
  );
  const perRound: number[] = [];
  const all: number[] = [];
  const waiting: number[] = [];
  const roundMs: number[] = [];
  let failed = 0;
  const errors = new Map<string, number>();
  try {
    for (let round = 1; round <= rounds; round++) {
      const current = lock ? ((await store.get(KEY)) as Credentials) : await t.login('storm');
      await store.put(KEY, current.with({ expiresAt: Date.now() - 1000 }));
      t.provider.resetCounts();
      const started = performance.now();
      const results = await Promise.all(workers.map((w) => w.round(round, calls)));
      roundMs.push(performance.now() - started);
      perRound.push(t.provider.counts.token);
      for (const r of results) {
        failed += r.failed;
        for (const e of r.errors) errors.set(e, (errors.get(e) ?? 0) + 1);
        all.push(...r.latencies);
        if (r.tokenRequests === 0) waiting.push(...r.latencies);
      }
    }
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
  }
  let grantWorks = lock ? 'yes' : '-';
  if (lock) {
    try {
      await t.client.refresh((await store.get(KEY)) as Credentials);
    } catch (err) {
      grantWorks = `no (${(err as Error).name})`;
    }
  }
  await cleanup();
  await api.close();
  await t.close();
  const exactlyOne = perRound.filter((n) => n === 1).length;
  rows.push([
    lock ? kind : `${kind}, no cross-process lock (baseline)`,
    String(processes),
    String(calls),
    String(rounds),
    `${exactlyOne}/${rounds}`,
    `${Math.min(...perRound)}-${Math.max(...perRound)}`,
    String(failed) +
      (errors.size ? ` (${[...errors].map(([e, n]) => `${e}×${n}`).join(', ')})` : ''),
    grantWorks,
    percentile(all, 50).toFixed(1),
    percentile(all, 99).toFixed(1),
    percentile(waiting, 50).toFixed(1),
    percentile(waiting, 99).toFixed(1),
    percentile(roundMs, 50).toFixed(0),
  ]);
}

const header = [
  'store',
  'processes',
  'calls/process',
  'rounds',
  'rounds with 1 token request',
  'token requests/round',
  'failed calls',
  'grant works after',
  'p50 ms (all)',
  'p99 ms (all)',
  'p50 ms (waiting processes)',
  'p99 ms (waiting processes)',
  'round ms (p50)',
];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
console.log(line(header));
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
for (const r of rows) console.log(line(r));
