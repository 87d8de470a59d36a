import type { Credentials } from '../core/credentials.js';
import { CredentialsInvalidError } from '../core/errors.js';
import { assertStoreKey } from '../core/store.js';
import { storeCodec, type StoreCodecOptions } from './encryption.js';

/**
 * The seed's `CredentialsProperty`: credentials as a column value of the app's own table, in
 * any query builder or ORM. Values are the codec's text (oauthkit's versioned JSON, or an
 * AES-256-GCM ciphertext bound to the row's key when encryption keys are given), so the column
 * is `TEXT` (or `JSONB` without encryption).
 */
export interface CredentialsColumn {
  /**
   * @param key the row's key (the user id); an encrypted value only decrypts under the same key
   * @param credentials what to store
   * @returns the column value to write
   */
  toColumn(key: string, credentials: Credentials): Promise<string>;
  /**
   * @param key the row's key
   * @param value the column value as the driver returned it: text, a parsed `JSONB` object,
   *   or `null`
   * @returns the credentials, or `undefined` for `null`
   * @throws {CredentialsInvalidError} when the value cannot be read (corrupt, altered, another
   *   row's ciphertext, an unknown key id)
   */
  fromColumn(key: string, value: unknown): Promise<Credentials | undefined>;
}

/**
 * Creates the credentials column type: the store codec exposed for the app's own queries.
 *
 * @param options `codec` and `encryptionKeys`, as the stores take them
 * @returns to and from column values
 * @example
 * ```ts
 * import { createCredentialsColumn } from 'oauthkit/storage/credentials-column';
 *
 * const column = createCredentialsColumn({ encryptionKeys });
 * await db.updateTable('users')
 *   .set({ credentials: await column.toColumn(userId, credentials) })
 *   .where('id', '=', userId)
 *   .execute();
 * const row = await db.selectFrom('users').select(['id', 'credentials']).where('id', '=', userId).executeTakeFirstOrThrow();
 * const again = await column.fromColumn(row.id, row.credentials);
 * ```
 */
export function createCredentialsColumn(options: StoreCodecOptions = {}): CredentialsColumn {
  const codec = storeCodec(options);
  return {
    async toColumn(key, credentials) {
      assertStoreKey(key);
      const text = await codec.encode(key, credentials);
      if (typeof text !== 'string')
        throw new TypeError("the codec's encode() did not return a string");
      return text;
    },
    async fromColumn(key, value) {
      assertStoreKey(key);
      const text = columnText(value);
      return text === undefined ? undefined : codec.decode(key, text);
    },
  };
}

/**
 * The text of a credentials column value as a driver returns it.
 *
 * @param value `null`, text, a parsed `JSONB` object, or bytes
 * @returns the text, or `undefined` for `null`
 * @throws {CredentialsInvalidError} for anything else
 */
export function columnText(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(value);
    } catch {
      throw new CredentialsInvalidError('the stored credentials column is not UTF-8 text');
    }
  }
  // A JSONB column comes back parsed; the codec reads text.
  if (typeof value === 'object' && !Array.isArray(value)) return JSON.stringify(value);
  throw new CredentialsInvalidError('the stored credentials column is not text');
}
