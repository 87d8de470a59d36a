import { StoreError } from '../core/errors.js';
import { assertStoreKey } from '../core/store.js';
import type { ListableCredentialStore } from './capabilities.js';
import { columnText } from './credentials-column.js';
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
} from './postgres-common.js';
import { textStore } from './text-store.js';

export type { PgQueryable, PostgresClient, PostgresJsSql } from './postgres-common.js';

/** Options of {@link createPostgresOwnTableStore}. */
export interface PostgresOwnTableStoreOptions extends StoreCodecOptions {
  /** The app's client: a `pg` Pool or Client, or a postgres.js `sql`. */
  db: PostgresClient;
  /** The app's table (e.g. `users`); the store never creates or alters it. */
  table: string;
  /** The table's schema; default: the connection's `search_path`. */
  schema?: string | undefined;
  /** The column that identifies a row: the store key (e.g. `id`). Must be unique. */
  keyColumn: string;
  /**
   * The column the credentials live in: `TEXT` (any codec, encryption included) or `JSONB`
   * (plain JSON only). `NULL` means no credentials.
   */
  credentialsColumn: string;
  /**
   * What `put` does for a key with no row: `false` (default) fails with a {@link StoreError}
   * (the app creates its users' rows); `true` inserts a row with only the key and credentials
   * (`INSERT … ON CONFLICT (key) DO UPDATE`: needs a unique index on the key column and
   * defaults for every other `NOT NULL` column).
   */
  createMissingRows?: boolean | undefined;
  /**
   * The lease table of the refresh lock, created on first `lock()`; default `oauthkit_locks` in
   * the same schema. `false`: no `lock()` (refreshes are then coordinated per process only).
   */
  lockTable?: string | false | undefined;
  /** How long `lock()` waits for another process's refresh; default the lease plus 5 s. */
  lockWaitMs?: number | undefined;
}

/** The store {@link createPostgresOwnTableStore} makes. */
export interface PostgresOwnTableStore extends ListableCredentialStore {}

const NAME = 'postgres own-table store';
const PAGE = 500;

/**
 * The seed's `StorageByKeyName(model, key_name, property)` on PostgreSQL: keeps each user's
 * credentials in a column of a table the app owns, in the row found by a key column, and never
 * reads or writes any other column. `delete` sets the column to `NULL` and keeps the row.
 *
 * Everything else is as {@link createPostgresStore}: whole-value writes, `StoreError`s without
 * the driver's copy of the row, optional AES-256-GCM (`encryptionKeys`, bound to the row's key),
 * the lease-row refresh lock (in a small table of its own, created on first use), and listing
 * for {@link reencryptAll}.
 *
 * @param options `db`, `table`, `keyColumn`, `credentialsColumn`, and optionally `schema`,
 *   `codec`, `encryptionKeys`, `createMissingRows`, `lockTable`, `lockWaitMs`
 * @returns the store
 * @throws {TypeError} naming the option at fault
 * @example
 * ```ts
 * import { createPostgresOwnTableStore } from 'oauthkit/storage/postgres-own-table';
 *
 * // ALTER TABLE users ADD COLUMN google_credentials TEXT;
 * const storage = createPostgresOwnTableStore({
 *   db: pool,
 *   table: 'users',
 *   keyColumn: 'id',
 *   credentialsColumn: 'google_credentials',
 *   encryptionKeys,
 * });
 * const decorator = new OAuth2Decorator({ ...options, storage, user: (req) => sessionUserId(req) });
 * ```
 */
export function createPostgresOwnTableStore(
  options: PostgresOwnTableStoreOptions,
): PostgresOwnTableStore {
  const run = toRunQuery(options?.db, 'db');
  quoteIdentifier('table', options.table);
  const t = qualified(options.schema, options.table);
  const k = quoteIdentifier('keyColumn', options.keyColumn);
  const c = quoteIdentifier('credentialsColumn', options.credentialsColumn);
  if (k === c) throw new TypeError('"credentialsColumn" must differ from "keyColumn"');
  const codec = storeCodec(options);
  const lockWaitMs = optionalDuration('lockWaitMs', options.lockWaitMs);
  const lockTable = options.lockTable ?? 'oauthkit_locks';
  const lease =
    lockTable === false
      ? undefined
      : leaseStatements(
          qualified(options.schema, quoteIdentifier('lockTable', lockTable).slice(1, -1)),
        );
  // One lease table may serve several stores: a lease names the table and column it guards.
  const leaseKey = (key: string) => `${options.table}.${options.credentialsColumn}:${key}`;

  const sql = {
    get: `SELECT ${c} AS value FROM ${t} WHERE ${k} = $1 LIMIT 2`,
    update: `UPDATE ${t} SET ${c} = $2 WHERE ${k} = $1 RETURNING 1 AS ok`,
    upsert:
      `INSERT INTO ${t} (${k}, ${c}) VALUES ($1, $2) ` +
      `ON CONFLICT (${k}) DO UPDATE SET ${c} = excluded.${c} RETURNING 1 AS ok`,
    delete: `UPDATE ${t} SET ${c} = NULL WHERE ${k} = $1`,
    firstKeys: `SELECT ${k} AS key FROM ${t} WHERE ${c} IS NOT NULL ORDER BY ${k} LIMIT ${PAGE}`,
    nextKeys: `SELECT ${k} AS key FROM ${t} WHERE ${c} IS NOT NULL AND ${k} > $1 ORDER BY ${k} LIMIT ${PAGE}`,
    replace: `UPDATE ${t} SET ${c} = $3 WHERE ${k} = $1 AND ${c} = $2 RETURNING 1 AS ok`,
  };

  const query = async (what: string, text: string, values: unknown[]): Promise<unknown[]> => {
    try {
      return await run(text, values);
    } catch (err) {
      throw new StoreError(`${NAME}: ${what} ${t} failed`, { cause: safeCause(err) });
    }
  };

  const readText = async (key: string): Promise<string | undefined> => {
    assertStoreKey(key);
    const rows = await query('reading from', sql.get, [key]);
    if (rows.length > 1) {
      throw new StoreError(`${NAME}: more than one row of ${t} has this ${k}; it must be unique`);
    }
    return rows.length === 0 ? undefined : columnText((rows[0] as { value: unknown }).value);
  };

  let leaseSetup: Promise<void> | undefined;
  const leaseReady = (): Promise<void> => {
    leaseSetup ??= run(lease!.create).then(
      () => {},
      (err: unknown) => {
        leaseSetup = undefined;
        if (lostCreateRace(err)) return;
        throw new StoreError(`${NAME}: could not create its lease table`, {
          cause: safeCause(err),
        });
      },
    );
    return leaseSetup;
  };

  const store: PostgresOwnTableStore = {
    codec,

    ...textStore(NAME, codec, {
      readText,
      writeText: async (key, text) => {
        const rows = await query(
          'writing to',
          options.createMissingRows ? sql.upsert : sql.update,
          [key, text],
        );
        if (rows.length === 0) {
          throw new StoreError(
            `${NAME}: no row of ${t} has this ${k}; create the row first, or set createMissingRows`,
          );
        }
      },
    }),

    async delete(key: string): Promise<void> {
      assertStoreKey(key);
      await query('clearing a column of', sql.delete, [key]);
    },

    async *keys(): AsyncIterable<string> {
      let rows = (await query('listing', sql.firstKeys, [])) as { key: unknown }[];
      for (;;) {
        for (const row of rows) yield String(row.key);
        if (rows.length < PAGE) return;
        rows = (await query('listing', sql.nextKeys, [rows[rows.length - 1]!.key])) as {
          key: unknown;
        }[];
      }
    },

    readText,

    async replaceText(key: string, expected: string, text: string): Promise<boolean> {
      assertStoreKey(key);
      if (typeof expected !== 'string' || typeof text !== 'string') {
        throw new TypeError('"expected" and "text" must be strings');
      }
      return (await query('replacing in', sql.replace, [key, expected, text])).length > 0;
    },
  };

  if (lease !== undefined) {
    store.lock = async <T>(
      key: string,
      fn: () => Promise<T>,
      lockOptions: { leaseMs: number },
    ): Promise<T> => {
      const leaseMs = checkLockArguments(key, fn, lockOptions);
      await leaseReady();
      return withLease(
        {
          tryAcquire: async (token, ms) =>
            (await query('taking a lease in', lease.acquire, [leaseKey(key), token, ms])).length ===
            1,
          release: async (token) => {
            await query('giving back a lease in', lease.release, [leaseKey(key), token]);
          },
        },
        fn,
        { leaseMs, waitMs: lockWaitMs, store: NAME },
      );
    };
  }
  return store;
}
