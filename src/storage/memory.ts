import type { Credentials } from '../core/credentials.js';
import { OAuthKitError, StoreError } from '../core/errors.js';
import { assertStoreKey, jsonCodec } from '../core/store.js';
import type { CredentialStore, CredentialsCodec } from '../core/store.js';

/** Options of {@link createMemoryStore}. */
export interface MemoryStoreOptions {
  /**
   * Turns credentials into the text the store keeps, and back; {@link jsonCodec} by default.
   * Pass an encrypting codec to see, in tests, exactly what a persistent store would hold.
   */
  codec?: CredentialsCodec | undefined;
}

/**
 * Creates a credential store that keeps credentials in this process's memory, for tests, demos
 * and single-process apps that may lose their users' grants on restart.
 *
 * Values are kept as the codec's text, not as objects, so every `get` returns a freshly decoded
 * {@link Credentials} and the memory store behaves like a persistent one (a codec that cannot read
 * back what it wrote fails here too). It has no `lock`: refreshes within one process are already
 * single-flighted by the core, and nothing is shared with other processes.
 *
 * @param options `codec`
 * @returns a {@link CredentialStore}
 * @example
 * ```ts
 * import { Credentials } from 'oauthkit';
 * import { createMemoryStore } from 'oauthkit/storage/memory';
 *
 * const store = createMemoryStore();
 * await store.put('user-1', new Credentials({ accessToken: 'ya29...', refreshToken: '1//0g...' }));
 * const creds = await store.get('user-1'); // a new Credentials object, equal in content
 * await store.delete('user-1');
 * ```
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): CredentialStore {
  const codec = options.codec ?? jsonCodec;
  const entries = new Map<string, string>();

  return {
    async get(key: string): Promise<Credentials | undefined> {
      assertStoreKey(key);
      const text = entries.get(key);
      if (text === undefined) return undefined;
      try {
        return await codec.decode(key, text);
      } catch (cause) {
        throw codecFailure('decode', cause);
      }
    },

    async put(key: string, credentials: Credentials): Promise<void> {
      assertStoreKey(key);
      let text: string;
      try {
        text = await codec.encode(key, credentials);
      } catch (cause) {
        throw codecFailure('encode', cause);
      }
      if (typeof text !== 'string') {
        throw new StoreError("memory store: the codec's encode() did not return a string");
      }
      entries.set(key, text);
    },

    async delete(key: string): Promise<void> {
      assertStoreKey(key);
      entries.delete(key);
    },
  };
}

/**
 * A codec's own errors (`CredentialsInvalidError` for text it cannot read) pass through; anything
 * else (a bug, an unreachable key service) is a store failure, not a verdict on the credentials.
 */
function codecFailure(step: 'encode' | 'decode', cause: unknown): unknown {
  if (cause instanceof OAuthKitError) return cause;
  return new StoreError(`memory store: the codec's ${step}() failed`, { cause });
}
