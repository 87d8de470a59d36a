/**
 * One app process of the cross-process refresh race (test/refresh-race.test.ts,
 * bench/refresh-storm.ts). Run as `node --import tsx test/support/race-worker.ts` with an IPC
 * channel and its settings in the environment:
 *
 * - RACE_ISSUER, RACE_API: the oidc-provider issuer and the test API origin
 * - RACE_STORE: `postgres` or `redis`; RACE_NAMESPACE: the schema or key prefix
 * - RACE_KEY: the store key of the user; RACE_LEASE_MS: the refresh lease
 * - RACE_ENCRYPTION_KEYS (optional): `id:base64key,…`
 * - RACE_NO_LOCK (optional): `1` hides the store's `lock()`, so that refreshes are coordinated
 *   within each process only (the baseline of bench/refresh-storm.ts)
 * - RACE_FAULT (optional): `hang-token` makes every token request hang forever, after telling
 *   the parent (`{ type: 'token-request-hung' }`), so that the parent can kill this process
 *   while it holds the lease
 * - DATABASE_URL, REDIS_URL: as everywhere
 *
 * Messages from the parent: `{ type: 'round', round, calls }` fires `calls` concurrent
 * authorized calls with a fresh authorized fetch (a new request context, as each request of an
 * app gets) and answers `{ type: 'done', round, ok, failed, errors, latencies }`;
 * `{ type: 'exit' }` closes the connections and exits.
 */
import { performance } from 'node:perf_hooks';
import {
  OAuthClient,
  OAuthKitError,
  TokenManager,
  createAuthorizedFetch,
} from '../../src/index.js';
import type { CredentialStore } from '../../src/core/store.js';
import { parseEncryptionKeys } from '../../src/storage/encryption.js';
import { createPostgresStore } from '../../src/storage/postgres.js';
import { createRedisStore } from '../../src/storage/redis.js';
import { createPool, createRedis } from './databases.js';
import { REDIRECT_URI } from './oauth.js';

export interface RoundMessage {
  type: 'round';
  round: number;
  calls: number;
}

export interface DoneMessage {
  type: 'done';
  round: number;
  /** Calls answered 200. */
  ok: number;
  /** Calls answered otherwise. */
  failed: number;
  /** The codes (or names) of the errors calls threw, one per failed call. */
  errors: string[];
  /** Each call's latency in ms. */
  latencies: number[];
  /** Token requests this process sent during the round (the refresher sends 1, waiters 0). */
  tokenRequests: number;
}

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`race worker: ${name} is not set`);
  return value;
};

const send = (message: unknown) => process.send?.(message);

const kind = env('RACE_STORE');
const namespace = env('RACE_NAMESPACE');
const key = env('RACE_KEY');
const api = env('RACE_API');
const leaseMs = Number(env('RACE_LEASE_MS'));
const encryptionKeys = process.env.RACE_ENCRYPTION_KEYS
  ? parseEncryptionKeys(process.env.RACE_ENCRYPTION_KEYS)
  : undefined;

let store: CredentialStore;
let close: () => Promise<void>;
if (kind === 'postgres') {
  const pool = createPool();
  store = createPostgresStore({ db: pool, schema: namespace, encryptionKeys });
  close = () => pool.end();
} else if (kind === 'redis') {
  const redis = createRedis();
  store = createRedisStore({ client: redis, prefix: namespace, encryptionKeys });
  close = async () => void redis.disconnect();
} else {
  throw new Error(`race worker: unknown RACE_STORE ${kind}`);
}

if (process.env.RACE_NO_LOCK === '1') {
  const shared = store;
  store = {
    get: (k) => shared.get(k),
    put: (k, c) => shared.put(k, c),
    delete: (k) => shared.delete(k),
  };
}

const hangTokenRequests = process.env.RACE_FAULT === 'hang-token';
let tokenRequests = 0;
const providerFetch: typeof fetch = async (input, init) => {
  const request = new Request(input, init);
  if (new URL(request.url).pathname === '/token') tokenRequests++;
  if (hangTokenRequests && new URL(request.url).pathname === '/token') {
    send({ type: 'token-request-hung' });
    return new Promise<Response>(() => {});
  }
  return fetch(request);
};

const client = new OAuthClient({
  clientId: 'test-client',
  clientSecret: 'test-secret',
  redirectUri: REDIRECT_URI,
  issuer: env('RACE_ISSUER'),
  allowHttpLoopback: true,
  fetch: providerFetch,
  timeoutMs: 30_000,
});
const tokens = new TokenManager({ client, store, lockLeaseMs: leaseMs });

process.on('message', async (message: RoundMessage | { type: 'exit' }) => {
  if (message.type === 'exit') {
    await close();
    process.exit(0);
  }
  if (message.type !== 'round') return;
  const http = createAuthorizedFetch({ tokens, key });
  tokenRequests = 0;
  const latencies: number[] = [];
  const errors: string[] = [];
  let ok = 0;
  let failed = 0;
  await Promise.all(
    Array.from({ length: message.calls }, async () => {
      const started = performance.now();
      try {
        const res = await http(`${api}/echo`);
        await res.body?.cancel();
        if (res.status === 200) ok++;
        else {
          failed++;
          errors.push(`HTTP ${res.status}`);
        }
      } catch (err) {
        failed++;
        errors.push(err instanceof OAuthKitError ? err.code : (err as Error).name);
      }
      latencies.push(performance.now() - started);
    }),
  );
  const done: DoneMessage = {
    type: 'done',
    round: message.round,
    ok,
    failed,
    errors,
    latencies,
    tokenRequests,
  };
  send(done);
});

// The parent only learns the worker is up once its connections would work.
process.on('disconnect', () => process.exit(0));
send({ type: 'ready' });
