import { assertStoreKey, jsonCodec } from '../core/store.js';
import type { CredentialStore, CredentialsCodec } from '../core/store.js';
import { textStore } from './text-store.js';

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
    ...textStore('memory store', codec, {
      readText: async (key) => {
        assertStoreKey(key);
        return entries.get(key);
      },
      writeText: async (key, text) => {
        entries.set(key, text);
      },
    }),

    async delete(key: string): Promise<void> {
      assertStoreKey(key);
      entries.delete(key);
    },
  };
}
