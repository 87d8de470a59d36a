import { StoreError } from '../core/errors.js';
import { safeCause } from './driver-errors.js';
import type { SqliteDatabase } from './sqlite.js';

/**
 * Checks that `database` is an open `better-sqlite3` or `libsql` database.
 *
 * @param db the `database` option
 * @returns the database
 * @throws {TypeError} naming `database` when it is not one
 */
export function checkSqliteDatabase(db: SqliteDatabase | undefined): SqliteDatabase {
  if (
    db === null ||
    typeof db !== 'object' ||
    typeof db.prepare !== 'function' ||
    typeof db.exec !== 'function'
  ) {
    throw new TypeError('"database" must be an open better-sqlite3 or libsql Database');
  }
  return db;
}

const IDENTIFIER = /^(?!sqlite_)[A-Za-z_][A-Za-z0-9_]{0,63}$/i;

/**
 * Checks a table or column name taken from options and quotes it for SQL.
 *
 * @param name the option's name, for the error message
 * @param value the option's value
 * @returns the name in double quotes
 * @throws {TypeError} naming the option when the value is not a safe identifier
 */
export function quoteSqliteIdentifier(name: string, value: unknown): string {
  if (typeof value !== 'string' || !IDENTIFIER.test(value)) {
    throw new TypeError(
      `"${name}" must be 1-64 letters, digits or "_", not starting with a digit or "sqlite_"`,
    );
  }
  return `"${value}"`;
}

/**
 * Makes a runner for synchronous driver calls on one table: a driver error becomes a
 * {@link StoreError} that names the store and the table, never the bound values (they can hold
 * tokens), with a {@link safeCause} copy of the driver's error.
 *
 * @param store the store's name for messages
 * @param table the quoted table
 * @returns `attempt(what, fn)`, where `what` reads like `"reading from"`
 */
export function sqliteAttempt(store: string, table: string): <T>(what: string, fn: () => T) => T {
  return (what, fn) => {
    try {
      return fn();
    } catch (cause) {
      throw new StoreError(`${store}: ${what} ${table} failed`, { cause: safeCause(cause) });
    }
  };
}
