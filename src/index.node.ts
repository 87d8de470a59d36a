/**
 * oauthkit's entry on Node, Bun and Deno: the same API as the Web-standard entry, with the
 * runtime's AsyncLocalStorage (for `decorator.http()`), file reading (`fromClientSecrets(path)`)
 * and the embedded SQLite default store filled in.
 *
 * @module
 */
import './adapters/node-runtime.js';
export * from './index.js';
export { openDefaultSqliteStore, DEFAULT_SQLITE_PATH } from './adapters/node-runtime.js';
