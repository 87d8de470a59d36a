import { CredentialsInvalidError, StoreError } from '../core/errors.js';
import { assertStoreKey } from '../core/store.js';
import type { ListableCredentialStore } from './capabilities.js';
import { safeCause } from './driver-errors.js';
import { storeCodec, type StoreCodecOptions } from './encryption.js';
import { checkLockArguments, optionalDuration, withLease } from './lease.js';
import {
  leaseStatements,
  lostCreateRace,
  qualified,
  quoteIdentifier,
  toRunQuery,
  type PostgresClient,
  type RunQuery,
} from './postgres-common.js';
import { textStore } from './text-store.js';

export type {
  PgQueryable,
  PgQueryResult,
  PostgresClient,
  PostgresJsSql,
} from './postgres-common.js';
export type { ListableCredentialStore, LockingCredentialStore } from './capabilities.js';

/** Options of {@link createPostgresStore}. */
export interface PostgresStoreOptions extends StoreCodecOptions {
  /**
   * The app's client: a `pg` `Pool` (or `Client`), or a postgres.js `sql`. The store neither
   * opens nor closes it. With `pg`, listen for `pool.on('error', …)` as pg asks every app to.
   */
  db: PostgresClient;
  /**
   * The credentials table: letters, digits and `_`, at most 57 characters (the lease table adds
   * `_locks`). Default `oauthkit_credentials`.
   */
  table?: string | undefined;
  /** The schema of both tables (must exist); default: the connection's `search_path`. */
  schema?: string | undefined;
  /**
   * Whether to create the tables on first use (`CREATE TABLE IF NOT EXISTS`). Default `true`;
   * set `false` when your migrations run {@link postgresStoreMigration}.
   */
  createTables?: boolean | undefined;
  /**
   * How long `lock()` waits for another process's refresh before failing; default the lease
   * plus 5 s.
   */
  lockWaitMs?: number | undefined;
}

/** The store {@link createPostgresStore} makes: every capability oauthkit's core knows. */
export interface PostgresStore extends ListableCredentialStore {
  /**
   * Runs `fn` holding this key's refresh lease, shared by every process on the same database.
   *
   * @param key the store key
   * @param fn the work
   * @param options `leaseMs`: how long a holder that dies can block the key
   * @returns what `fn` returns
   * @throws {StoreError} when the lease could not be taken within `lockWaitMs`
   */
  lock<T>(key: string, fn: () => Promise<T>, options: { leaseMs: number }): Promise<T>;
  /** Creates the tables now, if they are missing; otherwise that happens on first use. */
  migrate(): Promise<void>;
}

const DEFAULT_TABLE = 'oauthkit_credentials';
const NAME = 'postgres store';
const PAGE = 500;

/**
 * The SQL that creates the store's two tables, for your migration tool:
 * `<table> (key TEXT COLLATE "C" PRIMARY KEY, value TEXT NOT NULL, updated_at TIMESTAMPTZ)` and
 * the refresh-lock leases `<table>_locks (key, token, expires_at)`.
 *
 * @param options `table` and `schema`, as given to {@link createPostgresStore}
 * @returns the statements, separated by `;`
 * @throws {TypeError} naming `table` or `schema`
 * @example
 * ```ts
 * await pool.query(postgresStoreMigration({ table: 'oauthkit_credentials' }));
 * ```
 */
export function postgresStoreMigration(
  options: { table?: string | undefined; schema?: string | undefined } = {},
): string {
  return migrationStatements(tables(options)).join(';\n') + ';\n';
}

function tables(options: { table?: string | undefined; schema?: string | undefined }): {
  main: string;
  locks: string;
} {
  const table = options.table ?? DEFAULT_TABLE;
  quoteIdentifier('table', table, 57);
  if (options.schema !== undefined) quoteIdentifier('schema', options.schema);
  return {
    main: qualified(options.schema, table),
    locks: qualified(options.schema, `${table}_locks`),
  };
}

function migrationStatements(t: { main: string; locks: string }): string[] {
  // COLLATE "C": keys compare byte by byte, so the primary key index serves the paged listing.
  return [
    `CREATE TABLE IF NOT EXISTS ${t.main} (key TEXT COLLATE "C" PRIMARY KEY, ` +
      'value TEXT NOT NULL, updated_at TIMESTAMPTZ NOT NULL DEFAULT now())',
    leaseStatements(t.locks).create,
  ];
}

/**
 * Creates a credential store in a PostgreSQL table, on the app's `pg` Pool or postgres.js
 * client, for apps that run on many machines.
 *
 * - `put` is one UPSERT: a value is always replaced whole. Driver errors become a
 *   {@link StoreError} whose `cause` keeps the driver's message and code but none of its
 *   attached data (which can include the value).
 * - `lock(key, fn, { leaseMs })` coordinates refreshes across processes with a lease row:
 *   `INSERT … ON CONFLICT DO UPDATE … WHERE expires_at <= clock_timestamp()` takes it (the
 *   database's clock, so the machines' clocks do not matter), a delete that names the holder's
 *   random token gives it back. A holder that dies blocks the key for at most `leaseMs`. No
 *   connection is held while `fn` runs, so a small pool never deadlocks on refreshes.
 *   Waiters poll with a growing, jittered delay.
 * - `keys()`, `readText()` and `replaceText()` (compare-and-set) serve {@link reencryptAll}.
 * - `encryptionKeys` turns on AES-256-GCM encryption of every value.
 *
 * @param options `db`, and optionally `table`, `schema`, `codec`, `encryptionKeys`,
 *   `createTables`, `lockWaitMs`
 * @returns the store
 * @throws {TypeError} naming `db`, `table`, `schema`, `codec` or `lockWaitMs`
 * @example
 * ```ts
 * import pg from 'pg';
 * import { createPostgresStore } from 'oauthkit/storage/postgres';
 * import { parseEncryptionKeys } from 'oauthkit/storage/encryption';
 *
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * pool.on('error', (err) => console.error('idle PostgreSQL client failed', err.message));
 * const store = createPostgresStore({
 *   db: pool,
 *   encryptionKeys: parseEncryptionKeys(process.env.OAUTHKIT_ENCRYPTION_KEYS!),
 * });
 * ```
 */
export function createPostgresStore(options: PostgresStoreOptions): PostgresStore {
  const run = toRunQuery(options?.db, 'db');
  const t = tables(options);
  const codec = storeCodec(options);
  const lockWaitMs = optionalDuration('lockWaitMs', options.lockWaitMs);
  const createTables = options.createTables !== false;

  const sql = {
    get: `SELECT value FROM ${t.main} WHERE key = $1`,
    put:
      `INSERT INTO ${t.main} (key, value, updated_at) VALUES ($1, $2, now()) ` +
      'ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
    delete: `DELETE FROM ${t.main} WHERE key = $1`,
    keys: `SELECT key FROM ${t.main} WHERE key > $1 ORDER BY key LIMIT ${PAGE}`,
    replace:
      `UPDATE ${t.main} SET value = $3, updated_at = now() ` +
      'WHERE key = $1 AND value = $2 RETURNING 1 AS ok',
    ...leaseStatements(t.locks),
  };

  let setup: Promise<void> | undefined;
  // The tables are created lazily so that building the store never touches the database; a
  // failed setup is not remembered, so the next call tries again.
  const ready = (): Promise<void> => {
    if (!createTables) return Promise.resolve();
    if (setup === undefined) {
      setup = createIfMissing(run, migrationStatements(t));
      setup.catch(() => {
        setup = undefined;
      });
    }
    return setup;
  };

  const query = async (what: string, text: string, values: unknown[]): Promise<unknown[]> => {
    await ready();
    try {
      return await run(text, values);
    } catch (err) {
      // The message names the table only: the values bound here hold the tokens.
      throw new StoreError(`${NAME}: ${what} ${t.main} failed`, { cause: safeCause(err) });
    }
  };

  const readText = async (key: string): Promise<string | undefined> => {
    assertStoreKey(key);
    const rows = await query('reading from', sql.get, [key]);
    if (rows.length === 0) return undefined;
    const text = (rows[0] as { value?: unknown }).value;
    if (typeof text !== 'string') {
      throw new CredentialsInvalidError(`${NAME}: the stored value in ${t.main} is not text`);
    }
    return text;
  };

  return {
    codec,

    migrate: ready,

    ...textStore(NAME, codec, {
      readText,
      writeText: async (key, text) => {
        await query('writing to', sql.put, [key, text]);
      },
    }),

    async delete(key: string): Promise<void> {
      assertStoreKey(key);
      await query('deleting from', sql.delete, [key]);
    },

    async lock<T>(key: string, fn: () => Promise<T>, lockOptions: { leaseMs: number }): Promise<T> {
      const leaseMs = checkLockArguments(key, fn, lockOptions);
      return withLease(
        {
          tryAcquire: async (token, ms) =>
            (await query('taking a lease in', sql.acquire, [key, token, ms])).length === 1,
          release: async (token) => {
            await query('giving back a lease in', sql.release, [key, token]);
          },
        },
        fn,
        { leaseMs, waitMs: lockWaitMs, store: NAME },
      );
    },

    async *keys(): AsyncIterable<string> {
      let after = '';
      for (;;) {
        const rows = (await query('listing', sql.keys, [after])) as { key: string }[];
        for (const row of rows) yield row.key;
        if (rows.length < PAGE) return;
        after = rows[rows.length - 1]!.key;
      }
    },

    readText,

    async replaceText(key: string, expected: string, text: string): Promise<boolean> {
      assertStoreKey(key);
      if (typeof expected !== 'string' || typeof text !== 'string') {
        throw new TypeError('"expected" and "text" must be strings');
      }
      return (await query('replacing in', sql.replace, [key, expected, text])).length === 1;
    },
  };
}

async function createIfMissing(run: RunQuery, statements: string[]): Promise<void> {
  for (const statement of statements) {
    try {
      await run(statement);
    } catch (err) {
      // Another process created it between PostgreSQL's existence check and its insert.
      if (lostCreateRace(err)) continue;
      throw new StoreError(`${NAME}: could not create its tables`, { cause: safeCause(err) });
    }
  }
}
