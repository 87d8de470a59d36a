import { CredentialsInvalidError, StoreError } from '../core/errors.js';
import { assertStoreKey, jsonCodec } from '../core/store.js';
import type { CredentialStore, CredentialsCodec } from '../core/store.js';
import { checkSqliteDatabase, quoteSqliteIdentifier } from './sqlite-common.js';
import { textStore } from './text-store.js';

/**
 * A prepared statement, as `better-sqlite3` and `libsql` both provide it. Only the methods this
 * store calls are described, so that neither driver is a dependency of oauthkit.
 */
export interface SqliteStatement {
  /** Runs a statement that returns no rows. */
  run(...params: unknown[]): unknown;
  /** Runs a query and returns its first row as an object, or `undefined` when there is none. */
  get(...params: unknown[]): unknown;
}

/**
 * An open SQLite database, as `better-sqlite3` (`new Database(file)`) and `libsql`
 * (`new Database(file)`) both provide it, described by the few members this store uses.
 */
export interface SqliteDatabase {
  /** Compiles one SQL statement. */
  prepare(sql: string): SqliteStatement;
  /** Runs SQL that returns nothing. */
  exec(sql: string): unknown;
  /** `true` for an in-memory database (both drivers set it). */
  readonly memory?: boolean;
  /** The file name; `better-sqlite3` gives `":memory:"` for an in-memory database. */
  readonly name?: string;
}

/** Options of {@link createSqliteStore}. */
export interface SqliteStoreOptions {
  /** An open database from `better-sqlite3` or `libsql`; the store does not close it. */
  database: SqliteDatabase;
  /**
   * The table to keep credentials in, created on first use: letters, digits and `_`, not
   * starting with a digit or `sqlite_`, at most 64 characters. Default `oauthkit_credentials`.
   */
  table?: string | undefined;
  /** Turns credentials into the stored text and back; {@link jsonCodec} by default. */
  codec?: CredentialsCodec | undefined;
  /**
   * Whether to switch a file database to write-ahead logging on first use, so that readers in
   * other processes do not block writers. Default `true`; ignored for an in-memory database.
   */
  wal?: boolean | undefined;
}

const DEFAULT_TABLE = 'oauthkit_credentials';
const NAME = 'sqlite store';

interface Statements {
  get: SqliteStatement;
  put: SqliteStatement;
  delete: SqliteStatement;
}

/**
 * Creates a credential store in a SQLite table, on a database you opened with `better-sqlite3`
 * or `libsql`.
 *
 * On first use the store creates its table (`key TEXT PRIMARY KEY, value TEXT NOT NULL,
 * updated_at INTEGER NOT NULL`, milliseconds since the epoch) if it is missing, turns on WAL for
 * a file database, and prepares its statements once. `put` is a single UPSERT, so a value is
 * always replaced whole. Driver errors become a {@link StoreError} with the driver's error as
 * `cause`; stored text that the codec cannot read makes `get` reject with a
 * {@link CredentialsInvalidError}.
 *
 * Several processes may share one database file. Open it with a busy timeout
 * (`better-sqlite3` waits 5 s by default; pass `{ timeout: 5000 }` to `libsql`) so that a write
 * waits for another process's write instead of failing.
 *
 * @param options `database`, and optionally `table`, `codec`, `wal`
 * @returns a {@link CredentialStore}
 * @throws {TypeError} naming `database` or `table` when one is unusable
 * @example
 * ```ts
 * import Database from 'libsql'; // or: import Database from 'better-sqlite3';
 * import { Credentials } from 'oauthkit';
 * import { createSqliteStore } from 'oauthkit/storage/sqlite';
 *
 * const store = createSqliteStore({ database: new Database('oauthkit.db', { timeout: 5000 }) });
 * await store.put('user-1', new Credentials({ accessToken: 'ya29...', refreshToken: '1//0g...' }));
 * const again = await store.get('user-1');
 * ```
 */
export function createSqliteStore(options: SqliteStoreOptions): CredentialStore {
  const db = checkSqliteDatabase(options?.database);
  const quoted = quoteSqliteIdentifier('table', options.table ?? DEFAULT_TABLE);
  const codec = options.codec ?? jsonCodec;
  const wal = options.wal !== false && db.memory !== true && db.name !== ':memory:';

  let statements: Statements | undefined;

  // The table is created lazily so that building the store never touches the database; a failed
  // setup is not remembered, so the next call tries again.
  function prepared(): Statements {
    if (statements !== undefined) return statements;
    try {
      db.exec(
        `CREATE TABLE IF NOT EXISTS ${quoted} (` +
          'key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at INTEGER NOT NULL)',
      );
    } catch (cause) {
      throw new StoreError(`sqlite store: could not create table ${quoted}`, { cause });
    }
    if (wal) {
      try {
        db.exec('PRAGMA journal_mode = WAL');
      } catch {
        // The journal mode is a performance setting that persists in the file: another process
        // holding a lock may make this fail now and succeed later, and nothing here depends on it.
      }
    }
    try {
      statements = {
        get: db.prepare(`SELECT value FROM ${quoted} WHERE key = ?`),
        put: db.prepare(
          `INSERT INTO ${quoted} (key, value, updated_at) VALUES (?, ?, ?) ` +
            'ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
        ),
        delete: db.prepare(`DELETE FROM ${quoted} WHERE key = ?`),
      };
    } catch (cause) {
      throw new StoreError(`sqlite store: could not prepare statements on ${quoted}`, { cause });
    }
    return statements;
  }

  return {
    ...textStore(NAME, codec, {
      async readText(key) {
        assertStoreKey(key);
        const stmt = prepared().get;
        let row: unknown;
        try {
          row = stmt.get(key);
        } catch (cause) {
          throw new StoreError(`sqlite store: reading from ${quoted} failed`, { cause });
        }
        if (row === undefined || row === null) return undefined;
        const text = (row as { value?: unknown }).value;
        if (typeof text !== 'string') {
          throw new CredentialsInvalidError(
            `sqlite store: the stored value in ${quoted} is not text`,
          );
        }
        return text;
      },
      // Setup failures are reported before the codec runs.
      beforeEncode: prepared,
      async writeText(key, text) {
        const stmt = prepared().put;
        try {
          stmt.run(key, text, Date.now());
        } catch (cause) {
          // The message names the table only: the text bound here holds the tokens. SQLite's own
          // messages (kept in `cause`) name tables and columns, not bound values.
          throw new StoreError(`sqlite store: writing to ${quoted} failed`, { cause });
        }
      },
    }),

    async delete(key: string): Promise<void> {
      assertStoreKey(key);
      const stmt = prepared().delete;
      try {
        stmt.run(key);
      } catch (cause) {
        throw new StoreError(`sqlite store: deleting from ${quoted} failed`, { cause });
      }
    },
  };
}
