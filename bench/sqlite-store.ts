/**
 * SQLite store throughput against the bare `libsql` driver.
 *
 *   node --import tsx bench/sqlite-store.ts
 *
 * Goal (from the issue): store ops/s ÷ direct ops/s ≥ 0.8 for both `get` and `put`, judged on
 * the median ratio over the rounds.
 *
 * What is compared, and why it is fair:
 * - Both variants share one database, with the settings the store sets up, and identical tables
 *   (`key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at INTEGER NOT NULL`) holding the same
 *   1,000 keys. It runs twice: on a WAL file under the OS temp folder (libsql's default
 *   `synchronous = FULL`, so each put waits for an fsync: the realistic case) and on `:memory:`
 *   (no I/O: the case where the store's own cost shows most).
 * - Both run the same SQL through prepared statements made once: an UPSERT for `put`, a
 *   `SELECT value ... WHERE key = ?` for `get`.
 * - The goal measures the store's overhead over the driver, so the direct baseline does the same
 *   serialization work an app would need without the store: `JSON.stringify(credentials)` before
 *   each write, `Credentials.fromJSON(row.value)` after each read. What remains is the store's
 *   own cost: key validation, the codec indirection, async functions and one `await` per call.
 * - The direct baseline calls the synchronous driver in a plain loop (what an app would write);
 *   the store's calls are awaited one after another, as the core awaits them.
 * - Variants alternate within each round and swap order every round; round 0 is a warm-up and
 *   is not counted. Compare the ratios, not the absolute figures: the machine is shared.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'libsql';
import { Credentials } from '../src/core/credentials.js';
import { createSqliteStore } from '../src/storage/sqlite.js';

const KEYS = 1_000;
const ROUNDS = 5; // counted rounds per database, after one warm-up

/**
 * Two databases: a WAL file with libsql's default `synchronous = FULL` (what a deployment runs;
 * every put waits for an fsync, so the disk dominates), and `:memory:` (no I/O at all, so the
 * store's own CPU cost is as visible as it can be).
 */
const setups = [
  { label: 'file', getOps: 30_000, putOps: 2_000 },
  { label: ':memory:', getOps: 30_000, putOps: 20_000 },
] as const;

const started = performance.now();
const verdicts: boolean[] = [];
for (const setup of setups) verdicts.push(await run(setup));
console.log(
  `\ngoal (median ratio >= 0.8 for get and put on every database): ` +
    `${verdicts.every(Boolean) ? 'met' : 'NOT met'}; ` +
    `${((performance.now() - started) / 1000).toFixed(1)} s in all`,
);

async function run(setup: (typeof setups)[number]): Promise<boolean> {
  const { getOps, putOps } = setup;
  const dir = mkdtempSync(join(tmpdir(), 'oauthkit-bench-'));
  const db = new Database(setup.label === 'file' ? join(dir, 'bench.db') : ':memory:');
  try {
    const keys = Array.from({ length: KEYS }, (_, i) => `user-${i}`);
    const payloads = keys.map((key, i) => credentialsFor(key, i));

    const store = createSqliteStore({ database: db, table: 'store_credentials' });
    // First use creates the store's table and turns on WAL; the direct table gets the same.
    for (const [i, key] of keys.entries()) await store.put(key, payloads[i]!);

    db.exec(
      'CREATE TABLE direct_credentials ' +
        '(key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at INTEGER NOT NULL)',
    );
    const directPut = db.prepare(
      'INSERT INTO direct_credentials (key, value, updated_at) VALUES (?, ?, ?) ' +
        'ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
    );
    const directGet = db.prepare('SELECT value FROM direct_credentials WHERE key = ?');
    for (const [i, key] of keys.entries()) {
      directPut.run(key, JSON.stringify(payloads[i]), Date.now());
    }

    const journal = (db.prepare('PRAGMA journal_mode').get() as { journal_mode: string })
      .journal_mode;
    const synchronous = (db.prepare('PRAGMA synchronous').get() as { synchronous: number })
      .synchronous;

    let sink = 0; // keeps results alive so nothing is optimized away

    const variants = {
      'direct get': async () => {
        for (let i = 0; i < getOps; i++) {
          const row = directGet.get(keys[i % KEYS]) as { value: string } | undefined;
          const creds = Credentials.fromJSON(row!.value);
          sink += creds.scopes.length;
        }
        return getOps;
      },
      'store get': async () => {
        for (let i = 0; i < getOps; i++) {
          const creds = await store.get(keys[i % KEYS]!);
          sink += creds!.scopes.length;
        }
        return getOps;
      },
      'direct put': async () => {
        for (let i = 0; i < putOps; i++) {
          const k = i % KEYS;
          directPut.run(keys[k], JSON.stringify(payloads[k]), Date.now());
        }
        return putOps;
      },
      'store put': async () => {
        for (let i = 0; i < putOps; i++) {
          const k = i % KEYS;
          await store.put(keys[k]!, payloads[k]!);
        }
        return putOps;
      },
    } satisfies Record<string, () => Promise<number>>;
    type Variant = keyof typeof variants;

    const opsPerSecond = async (name: Variant): Promise<number> => {
      const start = performance.now();
      const ops = await variants[name]();
      return ops / ((performance.now() - start) / 1000);
    };

    const rows: Record<string, number>[] = [];
    for (let round = 0; round <= ROUNDS; round++) {
      const r: Record<string, number> = { round };
      for (const pair of [
        ['direct get', 'store get'],
        ['direct put', 'store put'],
      ] as const) {
        for (const name of round % 2 === 0 ? pair : [pair[1], pair[0]]) {
          r[name] = await opsPerSecond(name);
        }
      }
      if (round === 0) continue; // warm-up
      r['get ratio'] = r['store get']! / r['direct get']!;
      r['put ratio'] = r['store put']! / r['direct put']!;
      rows.push(r);
    }

    const payloadBytes = Math.round(
      payloads.reduce((n, c) => n + JSON.stringify(c).length, 0) / payloads.length,
    );
    console.log(
      `\nlibsql ${setup.label} DB: journal_mode=${journal}, synchronous=${synchronous}, ` +
        `${KEYS} keys, ~${payloadBytes} B JSON per credential, ` +
        `${getOps} gets / ${putOps} puts per variant per round`,
    );
    console.table(
      rows.map((r) => ({
        round: r['round'],
        'direct get/s': fmt(r['direct get']),
        'store get/s': fmt(r['store get']),
        'get ratio': r['get ratio']!.toFixed(3),
        'direct put/s': fmt(r['direct put']),
        'store put/s': fmt(r['store put']),
        'put ratio': r['put ratio']!.toFixed(3),
      })),
    );
    const getMedian = median(rows.map((r) => r['get ratio']!));
    const putMedian = median(rows.map((r) => r['put ratio']!));
    console.log(
      `${setup.label}: median ratio store/direct: get ${getMedian.toFixed(3)}, ` +
        `put ${putMedian.toFixed(3)}`,
    );
    if (sink < 0) console.log(sink);
    return getMedian >= 0.8 && putMedian >= 0.8;
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A realistic credential: Google-sized tokens, an ID token and its claims. */
function credentialsFor(key: string, i: number): Credentials {
  const b64 = (n: number) => 'A'.repeat(n);
  return new Credentials({
    accessToken: `ya29.a0${b64(200)}${i}`,
    refreshToken: `1//0g${b64(98)}${i}`,
    expiresAt: Date.now() + 3_600_000,
    scopes: ['openid', 'email', 'profile', 'https://www.googleapis.com/auth/tasks'],
    idToken: `eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.${b64(600)}.${b64(342)}`,
    idTokenClaims: {
      iss: 'https://accounts.google.com',
      sub: `1000${i}`,
      aud: 'client-id.apps.googleusercontent.com',
      email: `${key}@example.com`,
      email_verified: true,
      iat: 1_700_000_000,
      exp: 1_700_003_600,
    },
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function fmt(n: number | undefined): string {
  return Math.round(n ?? 0).toLocaleString('en-US');
}
