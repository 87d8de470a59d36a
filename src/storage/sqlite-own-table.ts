import { StoreError } from '../core/errors.js';
import { assertStoreKey } from '../core/store.js';
import type { ListableCredentialStore } from './capabilities.js';
import { columnText } from './credentials-column.js';
import { safeCause } from './driver-errors.js';
import { storeCodec, type StoreCodecOptions } from './encryption.js';
import type { SqliteDatabase, SqliteStatement } from './sqlite.js';
import { checkSqliteDatabase, quoteSqliteIdentifier, sqliteAttempt } from './sqlite-common.js';
import { textStore } from './text-store.js';

export type { SqliteDatabase, SqliteStatement } from './sqlite.js';

/** Options of {@link createSqliteOwnTableStore}. */
export interface SqliteOwnTableStoreOptions extends StoreCodecOptions {
  /** An open `better-sqlite3` or `libsql` database (SQLite 3.35 or later, for `RETURNING`). */
  database: SqliteDatabase;
  /** The app's table (e.g. `users`); the store never creates or alters it. */
  table: string;
  /** The column that identifies a row: the store key (e.g. `id`). Must be unique. */
  keyColumn: string;
  /** The `TEXT` column the credentials live in; `NULL` means no credentials. */
  credentialsColumn: string;
  /**
   * What `put` does for a key with no row: `false` (default) fails with a {@link StoreError};
   * `true` inserts a row with only the key and credentials (needs a unique index on the key
   * column and defaults for every other `NOT NULL` column).
   */
  createMissingRows?: boolean | undefined;
}

/** The store {@link createSqliteOwnTableStore} makes. */
export interface SqliteOwnTableStore extends ListableCredentialStore {}

const NAME = 'sqlite own-table store';
const PAGE = 500;

interface Statements {
  get: SqliteStatement;
  put: SqliteStatement;
  delete: SqliteStatement;
  firstKeys: SqliteStatement & { all?(...params: unknown[]): unknown[] };
  nextKeys: SqliteStatement & { all?(...params: unknown[]): unknown[] };
  replace: SqliteStatement;
}

/**
 * The seed's `StorageByKeyName(model, key_name, property)` on SQLite: keeps each user's
 * credentials in a column of a table the app owns, in the row found by a key column, and never
 * reads or writes any other column. `delete` sets the column to `NULL` and keeps the row.
 * Statements are prepared once, on first use. Supports `codec` and `encryptionKeys` like every
 * store, and listing for {@link reencryptAll}; it has no cross-process `lock` (use the
 * PostgreSQL or Redis stores for apps on many machines).
 *
 * @param options `database`, `table`, `keyColumn`, `credentialsColumn`, and optionally `codec`,
 *   `encryptionKeys`, `createMissingRows`
 * @returns the store
 * @throws {TypeError} naming the option at fault
 * @example
 * ```ts
 * import Database from 'libsql';
 * import { createSqliteOwnTableStore } from 'oauthkit/storage/sqlite-own-table';
 *
 * const storage = createSqliteOwnTableStore({
 *   database: new Database('app.db', { timeout: 5000 }),
 *   table: 'users',
 *   keyColumn: 'id',
 *   credentialsColumn: 'google_credentials',
 * });
 * ```
 */
export function createSqliteOwnTableStore(
  options: SqliteOwnTableStoreOptions,
): SqliteOwnTableStore {
  const db = checkSqliteDatabase(options?.database);
  const t = quoteSqliteIdentifier('table', options.table);
  const k = quoteSqliteIdentifier('keyColumn', options.keyColumn);
  const c = quoteSqliteIdentifier('credentialsColumn', options.credentialsColumn);
  if (k === c) throw new TypeError('"credentialsColumn" must differ from "keyColumn"');
  const codec = storeCodec(options);

  let statements: Statements | undefined;
  const prepared = (): Statements => {
    if (statements !== undefined) return statements;
    try {
      statements = {
        get: db.prepare(`SELECT ${c} AS value FROM ${t} WHERE ${k} = ?`),
        put: db.prepare(
          options.createMissingRows
            ? `INSERT INTO ${t} (${k}, ${c}) VALUES (?, ?) ` +
                `ON CONFLICT (${k}) DO UPDATE SET ${c} = excluded.${c} RETURNING 1 AS ok`
            : `UPDATE ${t} SET ${c} = ?2 WHERE ${k} = ?1 RETURNING 1 AS ok`,
        ),
        delete: db.prepare(`UPDATE ${t} SET ${c} = NULL WHERE ${k} = ?`),
        firstKeys: db.prepare(
          `SELECT ${k} AS key FROM ${t} WHERE ${c} IS NOT NULL ORDER BY ${k} LIMIT ${PAGE}`,
        ),
        nextKeys: db.prepare(
          `SELECT ${k} AS key FROM ${t} WHERE ${c} IS NOT NULL AND ${k} > ? ORDER BY ${k} LIMIT ${PAGE}`,
        ),
        replace: db.prepare(
          `UPDATE ${t} SET ${c} = ?3 WHERE ${k} = ?1 AND ${c} = ?2 RETURNING 1 AS ok`,
        ),
      };
    } catch (cause) {
      // Most likely the table or a column does not exist: the app owns them.
      throw new StoreError(`${NAME}: could not prepare statements on ${t}`, {
        cause: safeCause(cause),
      });
    }
    return statements;
  };
  const attempt = sqliteAttempt(NAME, t);
  const all = (stmt: Statements['firstKeys'], params: unknown[]): { key: unknown }[] => {
    if (typeof stmt.all !== 'function') {
      throw new TypeError('"database" must give statements an all() method to list keys');
    }
    return attempt('listing', () => stmt.all!(...params)) as { key: unknown }[];
  };

  const readText = async (key: string): Promise<string | undefined> => {
    assertStoreKey(key);
    const stmt = prepared().get;
    const row = attempt('reading from', () => stmt.get(key)) as { value: unknown } | undefined;
    return row === undefined ? undefined : columnText(row.value);
  };

  return {
    codec,

    ...textStore(NAME, codec, {
      readText,
      // Statements are prepared before the codec runs, so a missing table is reported first.
      beforeEncode: prepared,
      writeText: async (key, text) => {
        const stmt = prepared().put;
        const row = attempt('writing to', () => stmt.get(key, text));
        if (row === undefined) {
          throw new StoreError(
            `${NAME}: no row of ${t} has this ${k}; create the row first, or set createMissingRows`,
          );
        }
      },
    }),

    async delete(key: string): Promise<void> {
      assertStoreKey(key);
      const stmt = prepared().delete;
      attempt('clearing a column of', () => stmt.run(key));
    },

    async *keys(): AsyncIterable<string> {
      const s = prepared();
      let rows = all(s.firstKeys, []);
      for (;;) {
        for (const row of rows) yield String(row.key);
        if (rows.length < PAGE) return;
        rows = all(s.nextKeys, [rows[rows.length - 1]!.key]);
      }
    },

    readText,

    async replaceText(key: string, expected: string, text: string): Promise<boolean> {
      assertStoreKey(key);
      if (typeof expected !== 'string' || typeof text !== 'string') {
        throw new TypeError('"expected" and "text" must be strings');
      }
      const stmt = prepared().replace;
      return attempt('replacing in', () => stmt.get(key, expected, text)) !== undefined;
    },
  };
}
