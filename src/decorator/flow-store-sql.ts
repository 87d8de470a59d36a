import { StoreError } from '../core/errors.js';
import { safeCause } from '../storage/driver-errors.js';
import {
  lostCreateRace,
  qualified,
  quoteIdentifier,
  toRunQuery,
  type PostgresClient,
} from '../storage/postgres-common.js';
import type { SqliteDatabase, SqliteStatement } from '../storage/sqlite.js';
import {
  checkSqliteDatabase,
  quoteSqliteIdentifier,
  sqliteAttempt,
} from '../storage/sqlite-common.js';
import {
  checkFlowSecrets,
  createFlowRecordMac,
  type FlowRecordMac,
  type FlowRejection,
} from './flow-record-mac.js';
import { isFlowRecord, type FlowRecord, type FlowStore } from './flow-store.js';

export type { PgQueryable, PostgresClient, PostgresJsSql } from '../storage/postgres-common.js';
export type { SqliteDatabase } from '../storage/sqlite.js';
export type { FlowRejection } from './flow-record-mac.js';

/** Options both SQL flow stores take. */
interface SqlFlowStoreCommon {
  /**
   * The key of the records' MAC: at least 32 characters, or several, newest first. Keep it in
   * configuration, never in the database. It may be the decorator's `secret`.
   */
  secret: string | readonly string[];
  /** The table, created on first use; default `oauthkit_flows`. */
  table?: string | undefined;
  /** Told why a record presented to `take` was refused, for monitoring. */
  onReject?: ((reason: FlowRejection) => void) | undefined;
  /** The clock, for tests. */
  now?: (() => number) | undefined;
}

/** Options of {@link createPostgresFlowStore}. */
export interface PostgresFlowStoreOptions extends SqlFlowStoreCommon {
  /** A `pg` Pool or Client, or a postgres.js `sql`. */
  db: PostgresClient;
  /** The table's schema (must exist); default: the connection's `search_path`. */
  schema?: string | undefined;
  /** Whether to create the table on first use; default `true`. */
  createTable?: boolean | undefined;
}

/** Options of {@link createSqliteFlowStore}. */
export interface SqliteFlowStoreOptions extends SqlFlowStoreCommon {
  /** An open `better-sqlite3` or `libsql` database (SQLite 3.35 or later, for `RETURNING`). */
  database: SqliteDatabase;
}

/** A SQL flow store: a {@link FlowStore} that can also drop expired records. */
export interface SqlFlowStore extends FlowStore {
  /**
   * Deletes expired records (also done now and then by `save`).
   *
   * @returns nothing
   */
  purgeExpired(): Promise<void>;
}

/** One in this many saves also deletes expired records. */
const PURGE_EVERY = 64;

/**
 * Creates a flow store in a PostgreSQL table (`id, value, expires_at`): the seed's Flow objects,
 * server-side, for apps on many machines. Records are MAC'd and owner-bound as in the Redis
 * flow store; `take` is `DELETE … RETURNING`, atomic and single-use.
 *
 * @param options `db`, `secret`, and optionally `table`, `schema`, `createTable`, `onReject`, `now`
 * @returns the flow store
 * @throws {TypeError} naming `db`, `secret`, `table` or `schema`
 * @example
 * ```ts
 * import { createPostgresFlowStore } from 'oauthkit/flow-store/sql';
 * const flowStore = createPostgresFlowStore({ db: pool, secret: process.env.OAUTHKIT_SECRET! });
 * ```
 */
export function createPostgresFlowStore(options: PostgresFlowStoreOptions): SqlFlowStore {
  const run = toRunQuery(options?.db, 'db');
  const mac = createFlowRecordMac(checkFlowSecrets(options.secret));
  const table = options.table ?? 'oauthkit_flows';
  quoteIdentifier('table', table);
  const t = qualified(options.schema, table);
  const name = 'postgres flow store';
  let setup: Promise<void> | undefined;
  const ready = (): Promise<void> => {
    if (options.createTable === false) return Promise.resolve();
    setup ??= (async () => {
      try {
        await run(
          `CREATE TABLE IF NOT EXISTS ${t} (id TEXT COLLATE "C" PRIMARY KEY, ` +
            'value TEXT NOT NULL, expires_at TIMESTAMPTZ NOT NULL)',
        );
      } catch (err) {
        if (!lostCreateRace(err)) {
          throw new StoreError(`${name}: could not create ${t}`, { cause: safeCause(err) });
        }
      }
    })();
    setup.catch(() => (setup = undefined));
    return setup;
  };
  const query = async (what: string, text: string, values: unknown[]) => {
    await ready();
    try {
      return await run(text, values);
    } catch (err) {
      throw new StoreError(`${name}: ${what} ${t} failed`, { cause: safeCause(err) });
    }
  };
  return sqlFlowStore(mac, options, {
    insert: (id, text, expiresAt) =>
      query(
        'writing to',
        `INSERT INTO ${t} (id, value, expires_at) VALUES ($1, $2, to_timestamp($3::float8 / 1000))`,
        [id, text, expiresAt],
      ).then(() => {}),
    takeText: async (id) => {
      const rows = await query('taking from', `DELETE FROM ${t} WHERE id = $1 RETURNING value`, [
        id,
      ]);
      return (rows[0] as { value?: unknown } | undefined)?.value;
    },
    purge: (nowMs) =>
      query('purging', `DELETE FROM ${t} WHERE expires_at < to_timestamp($1::float8 / 1000)`, [
        nowMs,
      ]).then(() => {}),
  });
}

/**
 * Creates a flow store in a SQLite table, for one machine (or several processes on one file)
 * that want flows server-side. Same records and guarantees as {@link createPostgresFlowStore};
 * `take` is `DELETE … RETURNING`.
 *
 * @param options `database`, `secret`, and optionally `table`, `onReject`, `now`
 * @returns the flow store
 * @throws {TypeError} naming `database`, `secret` or `table`
 * @example
 * ```ts
 * import Database from 'libsql';
 * import { createSqliteFlowStore } from 'oauthkit/flow-store/sql';
 * const flowStore = createSqliteFlowStore({ database: new Database('app.db'), secret });
 * ```
 */
export function createSqliteFlowStore(options: SqliteFlowStoreOptions): SqlFlowStore {
  const db = checkSqliteDatabase(options?.database);
  const mac = createFlowRecordMac(checkFlowSecrets(options.secret));
  const t = quoteSqliteIdentifier('table', options.table ?? 'oauthkit_flows');
  const name = 'sqlite flow store';
  let statements:
    { insert: SqliteStatement; take: SqliteStatement; purge: SqliteStatement } | undefined;
  const prepared = () => {
    if (statements !== undefined) return statements;
    try {
      db.exec(
        `CREATE TABLE IF NOT EXISTS ${t} (id TEXT PRIMARY KEY, value TEXT NOT NULL, expires_at INTEGER NOT NULL)`,
      );
      statements = {
        insert: db.prepare(`INSERT INTO ${t} (id, value, expires_at) VALUES (?, ?, ?)`),
        take: db.prepare(`DELETE FROM ${t} WHERE id = ? RETURNING value`),
        purge: db.prepare(`DELETE FROM ${t} WHERE expires_at < ?`),
      };
    } catch (cause) {
      throw new StoreError(`${name}: could not set up ${t}`, { cause: safeCause(cause) });
    }
    return statements;
  };
  const attempt = sqliteAttempt(name, t);
  return sqlFlowStore(mac, options, {
    insert: async (id, text, expiresAt) => {
      const { insert } = prepared();
      attempt('writing to', () => insert.run(id, text, expiresAt));
    },
    takeText: async (id) => {
      const { take } = prepared();
      const row = attempt('taking from', () => take.get(id)) as { value?: unknown } | undefined;
      return row?.value;
    },
    purge: async (nowMs) => {
      const { purge } = prepared();
      attempt('purging', () => purge.run(nowMs));
    },
  });
}

interface SqlBackend {
  insert(id: string, text: string, expiresAt: number): Promise<void>;
  /** Deletes the record and returns its value, in one statement. */
  takeText(id: string): Promise<unknown>;
  purge(now: number): Promise<void>;
}

function sqlFlowStore(
  mac: FlowRecordMac,
  options: SqlFlowStoreCommon,
  backend: SqlBackend,
): SqlFlowStore {
  const now = options.now ?? Date.now;
  const onReject = options.onReject ?? (() => {});
  let saves = 0;
  return {
    async save(record: FlowRecord): Promise<string> {
      if (!isFlowRecord(record)) throw new TypeError('"record" must be a FlowRecord');
      const { handle, id } = await mac.newHandle();
      await backend.insert(id, await mac.seal(id, record), record.expiresAt);
      if (++saves % PURGE_EVERY === 0) {
        // Housekeeping must never fail a sign-in.
        backend.purge(now()).catch(() => {});
      }
      return handle;
    },

    async take(cookieValue: string): Promise<FlowRecord | undefined> {
      const id = await mac.idOf(cookieValue);
      if (id === undefined) {
        onReject('bad-handle');
        return undefined;
      }
      const text = await backend.takeText(id);
      if (text === undefined || text === null) return undefined;
      const opened = await mac.open(id, text, now());
      if (typeof opened === 'string') {
        onReject(opened);
        return undefined;
      }
      return opened;
    },

    purgeExpired: () => backend.purge(now()),
  };
}
