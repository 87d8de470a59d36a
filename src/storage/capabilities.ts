import type { CredentialStore, CredentialsCodec } from '../core/store.js';

/**
 * Optional store capabilities beyond {@link CredentialStore}: listing keys and replacing stored
 * text only when it is unchanged. Maintenance jobs use them ({@link reencryptAll} rewrites every
 * row under the newest encryption key without ever overwriting a value another process wrote in
 * the meantime). The PostgreSQL, Redis and own-table stores have them.
 *
 * @example
 * ```ts
 * for await (const key of store.keys()) console.log(key);
 * ```
 */
export interface ListableCredentialStore extends CredentialStore {
  /** The codec the store encodes and decodes with. */
  readonly codec: CredentialsCodec;
  /**
   * Every key that has credentials stored, in no promised order. A key written or deleted while
   * the listing runs may or may not be listed; a key may be listed twice (Redis `SCAN`).
   *
   * @returns the keys, fetched page by page
   */
  keys(): AsyncIterable<string>;
  /**
   * The stored text of a key as the codec wrote it (ciphertext, when encrypting).
   *
   * @param key the store key
   * @returns the text, or `undefined` when nothing is stored
   */
  readText(key: string): Promise<string | undefined>;
  /**
   * Replaces the stored text of a key, atomically, only if it still equals `expected`.
   *
   * @param key the store key
   * @param expected what {@link ListableCredentialStore.readText} returned
   * @param text the new text
   * @returns `true` when replaced, `false` when the stored text had changed (or is gone)
   */
  replaceText(key: string, expected: string, text: string): Promise<boolean>;
}

/** A store that coordinates refreshes across processes ({@link CredentialStore.lock} is set). */
export interface LockingCredentialStore extends CredentialStore {
  lock<T>(key: string, fn: () => Promise<T>, options: { leaseMs: number }): Promise<T>;
}
