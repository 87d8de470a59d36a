/**
 * Sealing: AES-256-GCM under keys derived (HKDF-SHA-256) from the app's secret, one key per
 * purpose, so that a sealed flow can never be presented as a session or the other way round.
 *
 * Sealed text: `v1.<kid>.<iv>.<ciphertext>` in base64url; `kid` names which secret sealed it, so
 * secrets can be rotated: the first seals, all unseal.
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The minimum length of a secret, in characters. */
export const MIN_SECRET_LENGTH = 32;

/** Seals and unseals JSON values for one purpose. */
export interface Sealer {
  /**
   * @param value a JSON-serializable value
   * @param aad extra data bound to the ciphertext (the cookie name, say)
   * @returns the sealed text, safe in a cookie
   */
  seal(value: unknown, aad: string): Promise<string>;
  /**
   * @param text what {@link Sealer.seal} returned
   * @param aad the same extra data
   * @returns the value, or `undefined` when the text is malformed, tampered with, or sealed
   *   under a key no longer configured
   */
  unseal(text: string, aad: string): Promise<unknown>;
}

/**
 * Derives a {@link Sealer} for one purpose from one or more secrets.
 *
 * @param secrets the app's secrets, newest first
 * @param purpose what the keys are for (`"flow"`, `"session"`)
 * @returns the sealer
 * @example
 * ```ts
 * const sealer = createSealer(['a-secret-of-at-least-32-characters!!'], 'flow');
 * const text = await sealer.seal({ state: 'abc' }, 'cookie-name');
 * ```
 */
export function createSealer(secrets: readonly string[], purpose: string): Sealer {
  if (secrets.length === 0) throw new TypeError('"secret" must be given');
  const keys = secrets.map(async (secret) => {
    const kid = b64u(
      new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(`kid:${secret}`))).slice(
        0,
        6,
      ),
    );
    const base = await crypto.subtle.importKey('raw', encoder.encode(secret), 'HKDF', false, [
      'deriveKey',
    ]);
    const key = await crypto.subtle.deriveKey(
      {
        name: 'HKDF',
        hash: 'SHA-256',
        salt: new Uint8Array(0),
        info: encoder.encode(`oauthkit ${purpose} v1`),
      },
      base,
      { name: 'AES-GCM', length: 256 },
      false,
      ['encrypt', 'decrypt'],
    );
    return { kid, key };
  });
  // Key derivation happens once; its promises are shared by every call.
  const all = Promise.all(keys);
  all.catch(() => {});

  return {
    async seal(value, aad) {
      const [{ kid, key }] = (await all) as [{ kid: string; key: CryptoKey }];
      const iv = crypto.getRandomValues(new Uint8Array(12));
      const ct = await crypto.subtle.encrypt(
        { name: 'AES-GCM', iv, additionalData: encoder.encode(aad) },
        key,
        encoder.encode(JSON.stringify(value)),
      );
      return `v1.${kid}.${b64u(iv)}.${b64u(new Uint8Array(ct))}`;
    },
    async unseal(text, aad) {
      if (typeof text !== 'string' || text.length > 8192) return undefined;
      const parts = text.split('.');
      if (parts.length !== 4 || parts[0] !== 'v1') return undefined;
      const entry = (await all).find((k) => k.kid === parts[1]);
      if (!entry) return undefined;
      try {
        const plain = await crypto.subtle.decrypt(
          { name: 'AES-GCM', iv: fromB64u(parts[2]!), additionalData: encoder.encode(aad) },
          entry.key,
          fromB64u(parts[3]!),
        );
        return JSON.parse(decoder.decode(plain));
      } catch {
        return undefined;
      }
    },
  };
}

/**
 * Base64url without padding.
 *
 * @param bytes the bytes
 * @returns the text
 */
export function b64u(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromB64u(text: string): Uint8Array<ArrayBuffer> {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new TypeError('not base64url');
  const s = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/**
 * A random identifier of `bytes` random bytes, base64url.
 *
 * @param bytes how many random bytes (default 32: 256 bits)
 * @returns the identifier
 */
export function randomId(bytes = 32): string {
  return b64u(crypto.getRandomValues(new Uint8Array(bytes)));
}
