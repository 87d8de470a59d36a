/**
 * PostgreSQL and Redis store throughput against the bare drivers (`pg`, `ioredis`).
 *
 *   node --import tsx bench/pg-redis-stores.ts [rounds=5]
 *
 * Goal (issue 4): store ops/s ÷ driver ops/s ≥ 0.8 for `get` and `put`, on both stores, judged
 * on the median ratio over the counted rounds.
 *
 * What is compared, and why it is fair:
 * - Both variants use one client (a pg Pool of 10, one ioredis connection) on the local server,
 *   and identical data: the store's own table (PostgreSQL) or key space (Redis) beside a direct
 *   table / prefix of the same shape, holding the same 1,000 users' credentials.
 * - The direct baseline sends the statements the store sends (the same UPSERT and SELECT; the
 *   same SET and GET) and does the serialization an app would need without the store:
 *   `JSON.stringify(credentials)` before a write, `Credentials.fromJSON(text)` after a read.
 *   What remains is the store's own cost: key validation, the codec indirection, error
 *   wrapping, the per-command timeout timer (Redis).
 * - Two loads: one call at a time (each op waits for the last: latency-bound) and 32 in flight
 *   (throughput-bound, as a busy server has it).
 * - Variants alternate within each round and swap order every round; round 0 warms up and is
 *   not counted. The encrypted store (AES-256-GCM) is shown beside, for what encryption costs;
 *   it has no goal.
 */
import { performance } from 'node:perf_hooks';
import { Credentials } from '../src/core/credentials.js';
import type { CredentialStore } from '../src/core/store.js';
import { generateEncryptionKey } from '../src/storage/encryption.js';
import { createPostgresStore } from '../src/storage/postgres.js';
import { createRedisStore } from '../src/storage/redis.js';
import {
  createPool,
  createRedis,
  createSchema,
  deleteKeys,
  redisPrefix,
} from '../test/support/databases.js';

const ROUNDS = Number(process.argv[2] ?? 5);
const KEYS = 1_000;
const keys = Array.from({ length: KEYS }, (_, i) => `user-${i}`);
const payloads = keys.map(
  (key, i) =>
    new Credentials({
      accessToken: `ya29.a0AfB_byC${'x'.repeat(150)}${i}`,
      refreshToken: `1//0gLk${'y'.repeat(90)}${i}`,
      expiresAt: Date.now() + 3600_000,
      scopes: ['openid', 'email', 'https://www.googleapis.com/auth/tasks'],
      idToken: `eyJhbGciOiJSUzI1NiJ9.${'z'.repeat(600)}.sig${i}`,
      idTokenClaims: { iss: 'https://accounts.google.com', sub: `1000${i}`, email: `${key}@x.com` },
    }),
);

interface Ops {
  get(key: string): Promise<unknown>;
  put(key: string, i: number): Promise<void>;
}

const pool = createPool({ max: 10 });
const redis = createRedis();
const { schema, drop } = await createSchema(pool);
const prefix = redisPrefix();
const encryptionKeys = [{ id: 'k1', key: generateEncryptionKey() }];

const viaStore = (store: CredentialStore): Ops => ({
  get: (key) => store.get(key),
  put: (key, i) => store.put(key, payloads[i]!),
});

const pgStore = createPostgresStore({ db: pool, schema, table: 'store_credentials' });
const pgEncrypted = createPostgresStore({
  db: pool,
  schema,
  table: 'encrypted_credentials',
  encryptionKeys,
});
await pool.query(
  `CREATE TABLE "${schema}".direct_credentials (key TEXT COLLATE "C" PRIMARY KEY, value TEXT NOT NULL, updated_at TIMESTAMPTZ NOT NULL DEFAULT now())`,
);
const pgDirect: Ops = {
  async get(key) {
    const { rows } = await pool.query(
      `SELECT value FROM "${schema}".direct_credentials WHERE key = $1`,
      [key],
    );
    return rows.length ? Credentials.fromJSON(rows[0].value as string) : undefined;
  },
  async put(key, i) {
    await pool.query(
      `INSERT INTO "${schema}".direct_credentials (key, value, updated_at) VALUES ($1, $2, now()) ` +
        'ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
      [key, JSON.stringify(payloads[i])],
    );
  },
};

const redisStore = createRedisStore({ client: redis, prefix: `${prefix}store:` });
const redisEncrypted = createRedisStore({ client: redis, prefix: `${prefix}enc:`, encryptionKeys });
const redisDirect: Ops = {
  async get(key) {
    const text = await redis.get(`${prefix}direct:cred:${key}`);
    return text === null ? undefined : Credentials.fromJSON(text);
  },
  async put(key, i) {
    await redis.set(`${prefix}direct:cred:${key}`, JSON.stringify(payloads[i]));
  },
};

const setups = [
  {
    name: 'postgres',
    variants: { store: viaStore(pgStore), direct: pgDirect, encrypted: viaStore(pgEncrypted) },
    ops: { get: 4000, put: 1500 },
  },
  {
    name: 'redis',
    variants: {
      store: viaStore(redisStore),
      direct: redisDirect,
      encrypted: viaStore(redisEncrypted),
    },
    ops: { get: 8000, put: 8000 },
  },
] as const;

async function measure(ops: Ops, op: 'get' | 'put', count: number, inFlight: number) {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < count) {
        const i = next++ % KEYS;
        if (op === 'get') await ops.get(keys[i]!);
        else await ops.put(keys[i]!, i);
      }
    }),
  );
  return count / ((performance.now() - started) / 1000);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rows: string[][] = [];
let met = true;
const started = performance.now();
try {
  for (const setup of setups) {
    for (const v of Object.values(setup.variants)) {
      for (const [i, key] of keys.entries()) await v.put(key, i);
    }
    for (const inFlight of [1, 32]) {
      for (const op of ['get', 'put'] as const) {
        const count = inFlight === 1 ? Math.round(setup.ops[op] / 4) : setup.ops[op];
        const rates: Record<string, number[]> = { store: [], direct: [], encrypted: [] };
        for (let round = 0; round <= ROUNDS; round++) {
          const order = Object.entries(setup.variants);
          if (round % 2) order.reverse();
          for (const [name, ops] of order) {
            const rate = await measure(ops, op, count, inFlight);
            if (round > 0) rates[name]!.push(rate);
          }
        }
        const ratios = rates['store']!.map((s, i) => s / rates['direct']![i]!);
        const ratio = median(ratios);
        if (ratio < 0.8) met = false;
        rows.push([
          setup.name,
          op,
          String(inFlight),
          median(rates['direct']!).toFixed(0),
          median(rates['store']!).toFixed(0),
          ratio.toFixed(2),
          `${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}`,
          median(rates['encrypted']!).toFixed(0),
          (median(rates['encrypted']!) / median(rates['direct']!)).toFixed(2),
        ]);
      }
    }
  }
} finally {
  await drop();
  await deleteKeys(redis, prefix);
  await pool.end();
  redis.disconnect();
}

const header = [
  'store',
  'op',
  'in flight',
  'driver ops/s',
  'store ops/s',
  'store ÷ driver (median)',
  'range',
  'encrypted ops/s',
  'encrypted ÷ driver',
];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
console.log(line(header));
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
for (const r of rows) console.log(line(r));
console.log(
  `\ngoal (median store ÷ driver >= 0.8 for get and put, both stores, both loads): ` +
    `${met ? 'met' : 'NOT met'}; ${((performance.now() - started) / 1000).toFixed(1)} s in all`,
);
