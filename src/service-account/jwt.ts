import { base64url, importPKCS8 } from 'jose';
import { ConfigurationError } from '../core/errors.js';

/** The grant type of RFC 7523 section 2.1: a JWT used as an authorization grant. */
export const JWT_BEARER_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/** The longest lifetime Google accepts for an assertion or a self-signed JWT: one hour. */
export const MAX_ASSERTION_LIFETIME_SEC = 3600;

const encoder = new TextEncoder();

/**
 * Imports a service account's PEM private key (PKCS#8, RSA) for RS256, once, non-extractable:
 * after this the key bytes exist only inside Web Crypto.
 *
 * @param pem the `private_key` of a key file
 * @param source where the key came from, for the error message
 * @returns a non-extractable `CryptoKey` that can only sign
 * @throws {ConfigurationError} when the key is not a PKCS#8 RSA key (the message holds no key material)
 * @example
 * ```ts
 * const key = await importPrivateKey(keyFile.private_key, 'key.json');
 * ```
 */
export async function importPrivateKey(pem: string, source: string): Promise<CryptoKey> {
  // Keys pasted into environment variables often arrive with literal "\n" instead of newlines.
  const normalized = pem.includes('\\n') ? pem.replace(/\\n/g, '\n') : pem;
  try {
    return await importPKCS8(normalized, 'RS256', { extractable: false });
  } catch {
    // The underlying error is not kept: it could quote the input.
    throw new ConfigurationError(
      `"private_key" in ${source} is not a PKCS#8 RSA private key in PEM form ("-----BEGIN PRIVATE KEY-----")`,
    );
  }
}

/**
 * Signs a JWT with RS256 (RSASSA-PKCS1-v1_5 with SHA-256) using Web Crypto.
 *
 * @param key the private key from {@link importPrivateKey}
 * @param header the JOSE header (`alg` is set to `RS256`)
 * @param payload the claims
 * @returns the compact JWT
 * @example
 * ```ts
 * const jwt = await signJwt(key, { typ: 'JWT', kid }, { iss: email, sub: email, iat, exp });
 * ```
 */
export async function signJwt(
  key: CryptoKey,
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
): Promise<string> {
  const input = `${base64url.encode(JSON.stringify({ ...header, alg: 'RS256' }))}.${base64url.encode(JSON.stringify(payload))}`;
  const signature = await crypto.subtle.sign('RSASSA-PKCS1-v1_5', key, encoder.encode(input));
  return `${input}.${base64url.encode(new Uint8Array(signature))}`;
}

/** What goes into a JWT bearer assertion (RFC 7523 section 3). */
export interface AssertionClaims {
  /** The service account's email: `iss`. */
  issuer: string;
  /** The `private_key_id`: the header's `kid`. */
  keyId: string;
  /** The token endpoint: `aud`. */
  audience: string;
  /** The scopes, space-separated in the `scope` claim (Google's extension). */
  scopes: readonly string[];
  /** The user to act as (domain-wide delegation): `sub`. */
  subject?: string | undefined;
  /** The current time in seconds since the epoch: `iat`. */
  nowSec: number;
}

/**
 * Builds and signs the assertion of the JWT bearer grant, valid for one hour.
 *
 * @param key the service account's private key
 * @param claims issuer, key id, audience, scopes, subject and time
 * @returns the signed assertion; send it only to the token endpoint
 * @see https://www.rfc-editor.org/rfc/rfc7523#section-3
 * @example
 * ```ts
 * const assertion = await createBearerAssertion(key, {
 *   issuer: 'app@project.iam.gserviceaccount.com',
 *   keyId: 'a1b2c3',
 *   audience: 'https://oauth2.googleapis.com/token',
 *   scopes: ['https://www.googleapis.com/auth/tasks'],
 *   nowSec: Math.floor(Date.now() / 1000),
 * });
 * ```
 */
export function createBearerAssertion(key: CryptoKey, claims: AssertionClaims): Promise<string> {
  const payload: Record<string, unknown> = {
    iss: claims.issuer,
    scope: claims.scopes.join(' '),
    aud: claims.audience,
    iat: claims.nowSec,
    exp: claims.nowSec + MAX_ASSERTION_LIFETIME_SEC,
  };
  if (claims.subject !== undefined) payload['sub'] = claims.subject;
  return signJwt(key, { typ: 'JWT', kid: claims.keyId }, payload);
}
