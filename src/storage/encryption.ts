import type { Credentials } from '../core/credentials.js';
import { CredentialsInvalidError, OAuthKitError } from '../core/errors.js';
import { assertStoreKey, jsonCodec, type CredentialsCodec } from '../core/store.js';
import type { ListableCredentialStore } from './capabilities.js';

/** One encryption key: an id stored with every value it encrypts, and 32 bytes of key. */
export interface EncryptionKey {
  /** 1-64 letters, digits, `_` or `-` (a date is a good id: `2025-06`). */
  id: string;
  /** 32 random bytes, or their base64 / base64url text (`openssl rand -base64 32`). */
  key: string | Uint8Array;
}

/** Options of {@link createEncryptingCodec}. */
export interface EncryptingCodecOptions {
  /**
   * The keys, newest first: the first encrypts, every one decrypts. To rotate, put a new key
   * first, deploy, run {@link reencryptAll}, then drop the old key.
   */
  keys: readonly EncryptionKey[];
  /** What turns credentials into text before encryption; {@link jsonCodec} by default. */
  inner?: CredentialsCodec | undefined;
  /**
   * Extra data bound to every ciphertext besides the store key (e.g. the table name), so a
   * value only decrypts in the same context. Default: none.
   */
  context?: string | undefined;
  /**
   * Read stored values that are not encrypted (plain JSON), so that a store that ran without
   * encryption keeps working while {@link reencryptAll} encrypts its rows. Default `false`:
   * plain text fails closed.
   */
  acceptPlaintext?: boolean | undefined;
}

/** A {@link CredentialsCodec} that encrypts, and can say which key encrypted a value. */
export interface EncryptingCodec extends CredentialsCodec {
  /** The id of the key that encrypts new values (the first one). */
  readonly currentKeyId: string;
  /**
   * @param text a stored value
   * @returns the id of the key that encrypted it, or `undefined` when it is not encrypted
   */
  keyIdOf(text: string): string | undefined;
  /**
   * @param key the store key, bound to the ciphertext
   * @param credentials what to store
   * @returns `enc.v1.<key id>.<nonce>.<ciphertext>`
   */
  encode(key: string, credentials: Credentials): Promise<string>;
  /**
   * @param key the store key the value was stored under
   * @param text the stored value
   * @returns the credentials
   * @throws {CredentialsInvalidError} unknown key id, altered, another key's or context's value,
   *   or plain text (unless `acceptPlaintext`)
   */
  decode(key: string, text: string): Promise<Credentials>;
}

/** What {@link reencryptAll} did. */
export interface ReencryptReport {
  /** Keys listed. */
  scanned: number;
  /** Values rewritten under the current key. */
  reencrypted: number;
  /** Values already under the current key. */
  current: number;
  /** Values that could not be read (unknown key, altered, corrupt), left as they were. */
  failed: { key: string; reason: string }[];
}

const PREFIX = 'enc.v1.';
const KEY_ID = /^[A-Za-z0-9_-]{1,64}$/;
const encoder = new TextEncoder();

/**
 * Creates a codec that encrypts stored credentials with AES-256-GCM: a fresh random 96-bit
 * nonce per value, the key id stored in the value (`enc.v1.<key id>.<nonce>.<ciphertext>`,
 * base64url), and the store key bound to the ciphertext as associated data, so a value copied
 * into another user's row does not decrypt. Anything that fails (unknown key id, a flipped
 * bit, another row's value, plain text) fails closed with {@link CredentialsInvalidError}: the
 * decorator then sends the user through the flow again. Uses Web Crypto only.
 *
 * Every token, the ID token and its claims are encrypted: the whole stored value is.
 *
 * @param options the keys (newest first), and optionally an inner codec, a context and
 *   `acceptPlaintext`
 * @returns the codec; pass it as a store's `codec`
 * @throws {TypeError} naming `keys` when a key is malformed (the message never shows key material)
 * @see https://nvlpubs.nist.gov/nistpubs/Legacy/SP/nistspecialpublication800-38d.pdf (GCM; random nonces are safe for up to 2^32 values per key)
 * @example
 * ```ts
 * import { createEncryptingCodec, parseEncryptionKeys } from 'oauthkit/storage/encryption';
 * import { createPostgresStore } from 'oauthkit/storage/postgres';
 *
 * const codec = createEncryptingCodec({ keys: parseEncryptionKeys(process.env.OAUTHKIT_KEYS!) });
 * const store = createPostgresStore({ db: pool, codec });
 * ```
 */
export function createEncryptingCodec(options: EncryptingCodecOptions): EncryptingCodec {
  const keys = options?.keys;
  if (!Array.isArray(keys) || keys.length === 0) {
    throw new TypeError('"keys" must be a non-empty array of { id, key }, newest first');
  }
  const material = new Map<string, Uint8Array<ArrayBuffer>>();
  keys.forEach((entry: EncryptionKey, i) => {
    const id = (entry as EncryptionKey | undefined)?.id;
    if (typeof id !== 'string' || !KEY_ID.test(id)) {
      throw new TypeError(`"keys[${i}].id" must be 1-64 letters, digits, "_" or "-"`);
    }
    if (material.has(id)) throw new TypeError(`"keys" has the id "${id}" twice`);
    material.set(id, keyBytes(entry.key, `keys[${i}].key`));
  });
  const inner = options.inner ?? jsonCodec;
  if (typeof inner?.encode !== 'function' || typeof inner.decode !== 'function') {
    throw new TypeError('"inner" must be a CredentialsCodec');
  }
  const context = options.context ?? '';
  if (typeof context !== 'string') throw new TypeError('"context" must be a string');
  const acceptPlaintext = options.acceptPlaintext === true;
  const currentKeyId = keys[0]!.id;

  const imported = new Map<string, Promise<CryptoKey>>();
  const cryptoKey = (id: string): Promise<CryptoKey> => {
    let key = imported.get(id);
    if (key === undefined) {
      key = crypto.subtle.importKey('raw', material.get(id)!, 'AES-GCM', false, [
        'encrypt',
        'decrypt',
      ]);
      imported.set(id, key);
    }
    return key;
  };
  // The store key and the key id are bound to the ciphertext: a value copied to another row, or
  // relabelled with another key id, fails authentication.
  const aad = (id: string, key: string) =>
    encoder.encode(`oauthkit credentials\0v1\0${id}\0${context}\0${key}`);

  return Object.freeze({
    currentKeyId,

    keyIdOf(text: string): string | undefined {
      if (typeof text !== 'string' || !text.startsWith(PREFIX)) return undefined;
      const end = text.indexOf('.', PREFIX.length);
      const id = end < 0 ? '' : text.slice(PREFIX.length, end);
      return KEY_ID.test(id) ? id : undefined;
    },

    async encode(key: string, credentials: Credentials): Promise<string> {
      assertStoreKey(key);
      const plain = await inner.encode(key, credentials);
      if (typeof plain !== 'string') {
        throw new TypeError("the inner codec's encode() did not return a string");
      }
      const iv = crypto.getRandomValues(new Uint8Array(12));
      const ct = await crypto.subtle.encrypt(
        { name: 'AES-GCM', iv, additionalData: aad(currentKeyId, key) },
        await cryptoKey(currentKeyId),
        encoder.encode(plain),
      );
      return `${PREFIX}${currentKeyId}.${b64u(iv)}.${b64u(new Uint8Array(ct))}`;
    },

    async decode(key: string, text: string): Promise<Credentials> {
      assertStoreKey(key);
      if (typeof text !== 'string') {
        throw new CredentialsInvalidError('stored credentials are not text');
      }
      if (!text.startsWith(PREFIX)) {
        if (acceptPlaintext && !text.startsWith('enc.')) return inner.decode(key, text);
        throw new CredentialsInvalidError(
          text.startsWith('enc.')
            ? 'stored credentials use an encryption format this oauthkit does not know'
            : 'stored credentials are not encrypted; refusing them (set "acceptPlaintext" while encrypting an existing store)',
        );
      }
      const parts = text.split('.');
      const [, , id = '', ivText = '', ctText = ''] = parts;
      if (parts.length !== 5 || !KEY_ID.test(id)) {
        throw new CredentialsInvalidError('stored credentials are not a well-formed ciphertext');
      }
      if (!material.has(id)) {
        throw new CredentialsInvalidError(
          `stored credentials were encrypted under key "${id}", which is not configured`,
        );
      }
      const iv = fromB64u(ivText);
      const ct = fromB64u(ctText);
      if (iv === undefined || iv.length !== 12 || ct === undefined || ct.length < 16) {
        throw new CredentialsInvalidError('stored credentials are not a well-formed ciphertext');
      }
      let plain: string;
      try {
        const bytes = await crypto.subtle.decrypt(
          { name: 'AES-GCM', iv, additionalData: aad(id, key) },
          await cryptoKey(id),
          ct,
        );
        plain = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
      } catch (cause) {
        throw new CredentialsInvalidError(
          'stored credentials failed decryption: altered, or copied from another key or context',
          { cause: cause instanceof Error ? new Error(cause.name) : undefined },
        );
      }
      return inner.decode(key, plain);
    },
  });
}

/**
 * Makes a new random 256-bit key, as base64 (what `openssl rand -base64 32` prints).
 *
 * @returns the key text
 * @example
 * ```ts
 * const key = generateEncryptionKey(); // keep it in your secret manager, not in the database
 * ```
 */
export function generateEncryptionKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

/**
 * Reads keys from one line of configuration, newest first: `id:base64key,id:base64key`
 * (an environment variable such as `OAUTHKIT_ENCRYPTION_KEYS="2025-06:q3v…=,2024-01:Zk9…="`).
 *
 * @param text the configuration text
 * @returns the keys, ready for {@link createEncryptingCodec}
 * @throws {TypeError} naming `keys`; the message never shows key material
 * @example
 * ```ts
 * const keys = parseEncryptionKeys(process.env.OAUTHKIT_ENCRYPTION_KEYS ?? '');
 * ```
 */
export function parseEncryptionKeys(text: string): EncryptionKey[] {
  if (typeof text !== 'string' || text.trim() === '') {
    throw new TypeError('"keys" must be "id:base64key" entries separated by commas, newest first');
  }
  return text.split(',').map((entry, i) => {
    const at = entry.indexOf(':');
    if (at <= 0) throw new TypeError(`"keys" entry ${i + 1} must look like "id:base64key"`);
    const id = entry.slice(0, at).trim();
    const key = entry.slice(at + 1).trim();
    if (!KEY_ID.test(id)) {
      throw new TypeError(
        `"keys" entry ${i + 1} has an id that is not 1-64 letters, digits, _ or -`,
      );
    }
    try {
      keyBytes(key, 'keys');
    } catch {
      throw new TypeError(`"keys" entry ${i + 1} must hold 32 random bytes, base64-encoded`);
    }
    return { id, key };
  });
}

/**
 * Re-encrypts every stored value under the codec's current key, for key rotation (and, with
 * `acceptPlaintext`, encrypts the values of a store that ran without encryption). Each value is
 * replaced only if it is unchanged since it was read, so a refresh or sign-in saved meanwhile
 * by another process is never overwritten with older credentials. Values that cannot be read
 * are left alone and reported. Safe to run again; safe to run while the app serves.
 *
 * @param store a store with the listing capability (PostgreSQL, Redis, own-table) whose codec
 *   is an {@link EncryptingCodec}
 * @returns what was done
 * @throws {TypeError} naming `store` when it cannot list, or does not encrypt
 * @example
 * ```ts
 * // after deploying keys [new, old]:
 * const report = await reencryptAll(store);
 * console.log(`${report.reencrypted} re-encrypted, ${report.failed.length} unreadable`);
 * // then deploy keys [new]
 * ```
 */
export async function reencryptAll(store: ListableCredentialStore): Promise<ReencryptReport> {
  if (
    typeof store?.keys !== 'function' ||
    typeof store.readText !== 'function' ||
    typeof store.replaceText !== 'function'
  ) {
    throw new TypeError('"store" must list its keys (keys(), readText(), replaceText())');
  }
  const codec = store.codec as Partial<EncryptingCodec> | undefined;
  if (typeof codec?.keyIdOf !== 'function' || typeof codec.currentKeyId !== 'string') {
    throw new TypeError('"store" must encrypt: give it an encrypting codec or "encryptionKeys"');
  }
  const encrypting = codec as EncryptingCodec;
  const report: ReencryptReport = { scanned: 0, reencrypted: 0, current: 0, failed: [] };
  for await (const key of store.keys()) {
    report.scanned++;
    // A value that changes between the read and the replace was just written by the app, under
    // the current key already; look once more to count it right.
    for (let attempt = 0; attempt < 5; attempt++) {
      const text = await store.readText(key);
      if (text === undefined) break;
      if (encrypting.keyIdOf(text) === encrypting.currentKeyId) {
        report.current++;
        break;
      }
      let next: string;
      try {
        next = await encrypting.encode(key, await encrypting.decode(key, text));
      } catch (err) {
        if (!(err instanceof OAuthKitError)) throw err;
        report.failed.push({ key, reason: err.message });
        break;
      }
      if (await store.replaceText(key, text, next)) {
        report.reencrypted++;
        break;
      }
    }
  }
  return report;
}

function keyBytes(value: unknown, name: string): Uint8Array<ArrayBuffer> {
  let bytes: Uint8Array<ArrayBuffer> | undefined;
  if (value instanceof Uint8Array) bytes = new Uint8Array(value);
  else if (typeof value === 'string')
    bytes = fromB64u(value.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''));
  if (bytes === undefined || bytes.length !== 32) {
    throw new TypeError(
      `"${name}" must be 32 random bytes, or their base64 text (make one with \`openssl rand -base64 32\`)`,
    );
  }
  return bytes;
}

function b64u(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromB64u(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return undefined;
  const s = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** The codec options every oauthkit store takes. */
export interface StoreCodecOptions {
  /** Turns credentials into the stored text and back; {@link jsonCodec} by default. */
  codec?: CredentialsCodec | undefined;
  /**
   * Encryption keys, newest first. When given, every value is encrypted with AES-256-GCM
   * ({@link createEncryptingCodec}, with `codec` as its inner codec).
   */
  encryptionKeys?: readonly EncryptionKey[] | undefined;
}

/**
 * The codec a store uses: encrypting when keys are configured, otherwise the given codec or
 * {@link jsonCodec}.
 *
 * @param options `codec` and `encryptionKeys`
 * @returns the codec
 * @throws {TypeError} naming `codec` or `keys`
 */
export function storeCodec(options: StoreCodecOptions): CredentialsCodec {
  const codec = options.codec ?? jsonCodec;
  if (typeof codec?.encode !== 'function' || typeof codec.decode !== 'function') {
    throw new TypeError('"codec" must be a CredentialsCodec (encode and decode)');
  }
  if (options.encryptionKeys === undefined) return codec;
  return createEncryptingCodec({ keys: options.encryptionKeys, inner: codec });
}
