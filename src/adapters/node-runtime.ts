import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { ConfigurationError } from '../core/errors.js';
import type { CredentialStore } from '../core/store.js';
import { registerRuntime } from '../decorator/runtime.js';
import { createEncryptingCodec, parseEncryptionKeys } from '../storage/encryption.js';
import { createSqliteStore, type SqliteDatabase } from '../storage/sqlite.js';

/** Where the embedded default store keeps its file, relative to the working directory. */
export const DEFAULT_SQLITE_PATH = '.data/oauthkit.sqlite';

/**
 * Opens the embedded default store: a SQLite file at `path`, through `better-sqlite3` or
 * `libsql`, whichever is installed. When `OAUTHKIT_ENCRYPTION_KEYS` is set (`id:base64key`
 * entries, newest first), tokens are encrypted at rest with those keys.
 *
 * @param path the database file (default `.data/oauthkit.sqlite`)
 * @returns the store
 * @throws {ConfigurationError} when neither driver is installed
 * @example
 * ```ts
 * const storage = await openDefaultSqliteStore('.data/credentials.sqlite');
 * ```
 */
export async function openDefaultSqliteStore(
  path: string = DEFAULT_SQLITE_PATH,
): Promise<CredentialStore> {
  const file = resolve(path);
  await mkdir(dirname(file), { recursive: true });
  let Database: new (file: string, options?: { timeout?: number }) => SqliteDatabase;
  try {
    Database = (await import('better-sqlite3' as string)).default;
  } catch {
    try {
      Database = (await import('libsql' as string)).default;
    } catch {
      throw new ConfigurationError(
        'the default credential store is a SQLite file, which needs a driver: `npm install better-sqlite3` (or libsql), or pass "storage"',
      );
    }
  }
  // Several processes may share the file: wait for a lock instead of failing at once.
  const database = new Database(file, { timeout: 5000 }) as SqliteDatabase & { close(): unknown };
  // Encryption at rest is on as soon as keys are configured (newest first: "id:base64,id:base64").
  const keys = process.env['OAUTHKIT_ENCRYPTION_KEYS'];
  const codec = keys ? createEncryptingCodec({ keys: parseEncryptionKeys(keys) }) : undefined;
  const store = createSqliteStore({ database, codec });
  return {
    ...store,
    async close() {
      database.close();
    },
  };
}

registerRuntime({
  createAsyncContext: () => new AsyncLocalStorage(),
  readTextFile: (path) => readFile(path, 'utf8'),
  openDefaultStore: () => openDefaultSqliteStore(),
});
