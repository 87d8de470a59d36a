/**
 * Cookie names and attributes, decided from configuration only (never from `Host` or
 * `X-Forwarded-*`): `__Host-` + `Secure` for an https app; on plain-http loopback (tests and
 * demos) the nearest a browser accepts there: no prefix, no `Secure`.
 */

/** How cookies are named and which attributes they carry. */
export interface CookiePolicy {
  /** Whether the app is served over https (from the configured redirect URI). */
  secure: boolean;
  /** The name prefix: `__Host-oauthkit-` or `oauthkit-`. */
  prefix: string;
}

/**
 * @param secure whether the app's configured URL is https
 * @returns the policy
 */
export function cookiePolicy(secure: boolean): CookiePolicy {
  return { secure, prefix: secure ? '__Host-oauthkit-' : 'oauthkit-' };
}

/**
 * Reads one cookie from a `Cookie` header.
 *
 * @param header the header value, or null
 * @param name the cookie name
 * @returns its value, or `undefined`
 */
export function readCookie(header: string | null, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * Builds a `Set-Cookie` value with the policy's attributes: `Path=/; HttpOnly; SameSite=Lax`,
 * plus `Secure` on https.
 *
 * @param policy the cookie policy
 * @param name the full cookie name
 * @param value the value (already cookie-safe: base64url and dots)
 * @param maxAgeSec lifetime in seconds; 0 deletes the cookie
 * @returns the header value
 */
export function serializeCookie(
  policy: CookiePolicy,
  name: string,
  value: string,
  maxAgeSec: number,
): string {
  let c = `${name}=${value}; Path=/; Max-Age=${Math.max(0, Math.floor(maxAgeSec))}; HttpOnly; SameSite=Lax`;
  if (policy.secure) c += '; Secure';
  return c;
}

/**
 * The names of the cookies in a `Cookie` header that start with `prefix`, in header order
 * (browsers send older cookies first).
 *
 * @param header the header value, or null
 * @param prefix the name prefix
 * @returns the matching names
 */
export function cookieNames(header: string | null, prefix: string): string[] {
  if (!header) return [];
  const names: string[] = [];
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    const name = (eq === -1 ? part : part.slice(0, eq)).trim();
    if (name.startsWith(prefix)) names.push(name);
  }
  return names;
}
