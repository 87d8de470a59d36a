/**
 * Return paths: where the user lands after the flow. Only a path on the app's own origin is
 * ever accepted; anything else becomes `fallback`. This is what closes the open redirect of
 * oauth2client, which took `return_url` from the query or the Referer unchecked.
 */

const MAX_LENGTH = 2048;

/**
 * Turns an untrusted return target into a same-origin path (with query), or `fallback`.
 *
 * @param target the candidate (a path, or anything an attacker could put there)
 * @param origin the app's origin, from configuration
 * @param fallback what to use when the target is refused (default `/`)
 * @returns a path beginning with a single `/`
 * @see https://www.rfc-editor.org/rfc/rfc9700#section-4.11
 */
export function safeReturnPath(target: unknown, origin: string, fallback = '/'): string {
  if (typeof target !== 'string' || target.length === 0 || target.length > MAX_LENGTH)
    return fallback;
  // Only a plain absolute path: no scheme, no authority (`//x`, `/\x`), no control characters
  // or backslashes anywhere (browsers treat `\` as `/`), no percent-encoded slashes or
  // backslashes that a later decode could turn into an authority.
  if (target[0] !== '/' || target[1] === '/' || target[1] === '\\') return fallback;
  if (/[\u0000-\u001f\u007f\\]/.test(target)) return fallback;
  const pathPart = target.split(/[?#]/, 1)[0]!;
  if (/%(?:2f|5c|[01][0-9a-f]|7f)/i.test(pathPart)) return fallback;
  let url: URL;
  try {
    url = new URL(target, origin);
  } catch {
    return fallback;
  }
  if (url.origin !== origin) return fallback;
  const path = url.pathname + url.search;
  return path.startsWith('//') ? fallback : path;
}
