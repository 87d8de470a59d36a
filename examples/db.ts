/**
 * Opens the demo peers' SQLite databases (the local provider's grants, the local Tasks API's
 * tasks) with `libsql`, the driver oauthkit's default store also uses when `better-sqlite3` is
 * absent.
 *
 * @module
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'libsql';

/** An open libsql database. */
export type SqliteDb = Database.Database;

/**
 * Opens (and creates) a SQLite database file, or an in-memory one for `':memory:'`.
 *
 * @param path the file, or `':memory:'`
 * @returns the open database, in WAL mode when it is a file
 * @example
 * ```ts
 * const db = openDatabase('.data/tasks-api.sqlite');
 * ```
 */
export function openDatabase(path: string): SqliteDb {
  if (path === ':memory:') return new Database(':memory:');
  const file = resolve(path);
  mkdirSync(dirname(file), { recursive: true });
  // Another process (a second `npm start`, a test) may hold a lock for a moment: wait for it.
  const db = new Database(file, { timeout: 5000 });
  db.exec('PRAGMA journal_mode = WAL');
  return db;
}
