import { Credentials } from './credentials.js';

/**
 * Where credentials live, by key (usually your app's user id).
 *
 * Three methods are required. Stores may add optional capabilities that the core detects and
 * uses: {@link CredentialStore.lock} coordinates refreshes across processes.
 *
 * @example
 * ```ts
 * const store: CredentialStore = createMemoryStore();
 * await store.put('user-1', credentials);
 * const again = await store.get('user-1');
 * ```
 */
export interface CredentialStore {
  /**
   * @param key the store key
   * @returns the stored credentials, or `undefined` when none are stored
   * @throws {CredentialsInvalidError} when what is stored cannot be read
   */
  get(key: string): Promise<Credentials | undefined>;
  /**
   * Stores credentials under a key, replacing what was there, atomically.
   *
   * @param key the store key
   * @param credentials what to store
   */
  put(key: string, credentials: Credentials): Promise<void>;
  /**
   * Deletes the credentials under a key; deleting nothing is not an error.
   *
   * @param key the store key
   */
  delete(key: string): Promise<void>;
  /**
   * Optional: runs `fn` while holding an exclusive lock on `key` shared by every process that
   * uses the same backing store. A holder that dies must not block the key for longer than
   * `leaseMs`. The core refreshes inside this lock and re-reads the store first, so only one
   * process in a fleet refreshes a given credential at a time.
   *
   * @param key the store key
   * @param fn the work to do under the lock
   * @param options `leaseMs`: how long the lock may be held before others may take it
   * @returns what `fn` returns
   */
  lock?<T>(key: string, fn: () => Promise<T>, options: { leaseMs: number }): Promise<T>;
  /** Optional: releases what the store holds open (a database handle, a connection). */
  close?(): Promise<void>;
}

/**
 * Turns credentials into the text a store keeps, and back. The store key is passed so that an
 * encrypting codec can bind a stored value to its key.
 */
export interface CredentialsCodec {
  /**
   * @param key the store key
   * @param credentials what to store
   * @returns the text to store
   */
  encode(key: string, credentials: Credentials): string | Promise<string>;
  /**
   * @param key the store key
   * @param text what the store held
   * @returns the credentials
   * @throws {CredentialsInvalidError} when the text cannot be read
   */
  decode(key: string, text: string): Credentials | Promise<Credentials>;
}

/**
 * The default codec: oauthkit's versioned JSON; reads oauth2client JSON too.
 *
 * @example
 * ```ts
 * const text = await jsonCodec.encode('user-1', credentials);
 * ```
 */
export const jsonCodec: CredentialsCodec = Object.freeze({
  encode: (_key: string, credentials: Credentials) => JSON.stringify(credentials),
  decode: (_key: string, text: string) => Credentials.fromJSON(text),
});

/**
 * Checks a store key: a non-empty string of at most 512 characters.
 *
 * @param key the candidate key
 * @returns the key
 * @throws {TypeError} naming `key`
 */
export function assertStoreKey(key: unknown): string {
  if (typeof key !== 'string' || key.length === 0 || key.length > 512) {
    throw new TypeError('"key" must be a non-empty string of at most 512 characters');
  }
  return key;
}
