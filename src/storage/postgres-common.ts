/**
 * What the PostgreSQL stores need from a driver, described here so that neither `pg` nor
 * `postgres` is a dependency of oauthkit.
 *
 * @module
 */

/** A query result: only `rows` is read. */
export interface PgQueryResult {
  /** The rows, as objects keyed by column name. */
  rows: unknown[];
}

/**
 * A `pg` `Pool` or `Client` (`pool.query(text, values)`), described by the one method the stores
 * call. A `Pool` is the usual choice; each query takes any free connection and no connection is
 * held between queries (the refresh lock is a lease row, not a session lock).
 */
export interface PgQueryable {
  /** Runs one parameterized statement (`$1`, `$2`, …). */
  query(text: string, values?: unknown[]): Promise<PgQueryResult>;
}

/**
 * A `postgres` (postgres.js) `sql` instance, described by the one method the stores call:
 * `sql.unsafe(text, values)`, which runs a parameterized statement and resolves to its rows.
 */
export interface PostgresJsSql {
  /** Runs one parameterized statement (`$1`, `$2`, …). */
  unsafe(query: string, parameters?: never[]): PromiseLike<readonly unknown[]>;
}

/** Either driver: a `pg` Pool/Client or a postgres.js `sql`. */
export type PostgresClient = PgQueryable | PostgresJsSql;

/** Runs one statement and resolves to its rows. */
export type RunQuery = (text: string, values?: unknown[]) => Promise<unknown[]>;

/**
 * Turns either driver into one `run(text, values) → rows` function.
 *
 * @param db the client the app gave
 * @param name the option's name, for the message
 * @returns the function
 * @throws {TypeError} naming the option when `db` is neither driver
 */
export function toRunQuery(db: unknown, name: string): RunQuery {
  if (db !== null && typeof db === 'object') {
    const pg = db as PgQueryable;
    if (typeof pg.query === 'function') {
      return async (text, values) => (await pg.query(text, values ?? [])).rows;
    }
  }
  if (db !== null && (typeof db === 'object' || typeof db === 'function')) {
    const sql = db as PostgresJsSql;
    if (typeof sql.unsafe === 'function') {
      return async (text, values) => [...(await sql.unsafe(text, (values ?? []) as never[]))];
    }
  }
  throw new TypeError(
    `"${name}" must be a pg Pool or Client (with query()) or a postgres.js sql (with unsafe())`,
  );
}

/** PostgreSQL identifiers the stores accept: 1-63 letters, digits or `_`, not starting with a digit. */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/**
 * Checks an identifier option and returns it double-quoted.
 *
 * @param name the option's name
 * @param value the candidate
 * @param maxLength the longest accepted (shorter when a suffix is appended)
 * @returns `"value"`
 * @throws {TypeError} naming the option
 */
export function quoteIdentifier(name: string, value: unknown, maxLength = 63): string {
  if (typeof value !== 'string' || !IDENTIFIER.test(value) || value.length > maxLength) {
    throw new TypeError(
      `"${name}" must be 1-${maxLength} letters, digits or "_", not starting with a digit`,
    );
  }
  return `"${value}"`;
}

/**
 * A table's qualified, quoted name.
 *
 * @param schema the schema option, if any
 * @param table the table name (already checked)
 * @returns `"schema"."table"` or `"table"`
 */
export function qualified(schema: string | undefined, table: string): string {
  const t = `"${table}"`;
  return schema === undefined ? t : `${quoteIdentifier('schema', schema)}.${t}`;
}

/**
 * Whether a failed `CREATE … IF NOT EXISTS` lost a race with another process creating the same
 * thing (PostgreSQL checks the catalog before inserting into it, so two sessions can both pass
 * the check): unique violation on a catalog index, or duplicate table/object.
 *
 * @param err the error
 * @returns `true` when the object now exists
 */
export function lostCreateRace(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '23505' || code === '42P07' || code === '42710';
}

/**
 * The statements of a lease table (`key, token, expires_at`), the PostgreSQL stores' refresh
 * lock: taking a lease is one UPSERT that only overwrites an expired lease, timed by the
 * database's clock; giving it back deletes it only while it holds the holder's token.
 *
 * @param locks the lease table's qualified, quoted name
 * @returns the SQL
 */
export function leaseStatements(locks: string): {
  create: string;
  acquire: string;
  release: string;
} {
  return {
    create:
      `CREATE TABLE IF NOT EXISTS ${locks} (key TEXT COLLATE "C" PRIMARY KEY, ` +
      'token TEXT NOT NULL, expires_at TIMESTAMPTZ NOT NULL)',
    acquire:
      `INSERT INTO ${locks} AS l (key, token, expires_at) ` +
      "VALUES ($1, $2, clock_timestamp() + $3::float8 * interval '1 millisecond') " +
      'ON CONFLICT (key) DO UPDATE SET token = excluded.token, expires_at = excluded.expires_at ' +
      'WHERE l.expires_at <= clock_timestamp() RETURNING 1 AS ok',
    release: `DELETE FROM ${locks} WHERE key = $1 AND token = $2`,
  };
}
