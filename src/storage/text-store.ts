import type { Credentials } from '../core/credentials.js';
import { StoreError } from '../core/errors.js';
import { assertStoreKey } from '../core/store.js';
import type { CredentialStore, CredentialsCodec } from '../core/store.js';
import { codecFailure } from './driver-errors.js';

/** The primitives a store that keeps credentials as codec text supplies to {@link textStore}. */
export interface TextStorePrimitives {
  /**
   * The stored text of a key, or `undefined` when nothing is stored. Checks the key itself
   * (`get` passes it through unchecked).
   */
  readText(key: string): Promise<string | undefined>;
  /** Stores the codec's text under a key that has already been checked. */
  writeText(key: string, text: string): Promise<void>;
  /**
   * Runs in `put` after the key check and before the codec, for a store whose lazy setup must
   * fail before any encoding is attempted.
   */
  beforeEncode?(): void;
}

/**
 * Builds a store's `get` and `put` from its text primitives: `get` decodes what `readText`
 * returns, `put` encodes, checks that the codec returned text, and hands it to `writeText`.
 * Codec failures become a {@link StoreError} named after the store, unless the codec threw an
 * oauthkit error of its own.
 *
 * @param name the store's name for messages (`"postgres store"`)
 * @param codec the codec the store encodes and decodes with
 * @param primitives `readText`, `writeText`, and optionally `beforeEncode`
 * @returns `get` and `put`
 * @example
 * ```ts
 * const texts = new Map<string, string>();
 * const { get, put } = textStore('map store', jsonCodec, {
 *   readText: async (key) => texts.get(key),
 *   writeText: async (key, text) => {
 *     texts.set(key, text);
 *   },
 * });
 * ```
 */
export function textStore(
  name: string,
  codec: CredentialsCodec,
  primitives: TextStorePrimitives,
): Pick<CredentialStore, 'get' | 'put'> {
  const { readText, writeText, beforeEncode } = primitives;
  return {
    async get(key: string): Promise<Credentials | undefined> {
      const text = await readText(key);
      if (text === undefined) return undefined;
      try {
        return await codec.decode(key, text);
      } catch (cause) {
        throw codecFailure(name, 'decode', cause);
      }
    },

    async put(key: string, credentials: Credentials): Promise<void> {
      assertStoreKey(key);
      beforeEncode?.();
      let text: string;
      try {
        text = await codec.encode(key, credentials);
      } catch (cause) {
        throw codecFailure(name, 'encode', cause);
      }
      if (typeof text !== 'string') {
        throw new StoreError(`${name}: the codec's encode() did not return a string`);
      }
      await writeText(key, text);
    },
  };
}
