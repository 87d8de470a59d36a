import type { IncomingHttpHeaders } from 'node:http';

/**
 * The origin an adapter builds request URLs on: the configured one, checked, else
 * `http://localhost`. Never taken from `Host` or `X-Forwarded-*`.
 *
 * @param origin the adapter's `origin` option, or the decorator's configured origin
 * @returns the origin, without path or trailing slash
 * @throws {TypeError} naming `origin` when it is not an absolute URL
 */
export function publicOrigin(origin: string | undefined): string {
  if (origin === undefined) return 'http://localhost';
  if (typeof origin !== 'string' || !URL.canParse(origin)) {
    throw new TypeError('"origin" must be an absolute URL such as https://app.example');
  }
  return new URL(origin).origin;
}

/**
 * The path and query of a Node request target. Absolute-form targets (through some proxies) keep
 * only their path and query; anything else that is not a path becomes `/`.
 *
 * @param raw the request target as received (`req.url`)
 * @returns a target that starts with `/`
 */
export function requestTarget(raw: string): string {
  if (raw.startsWith('/')) return raw;
  if (!URL.canParse(raw)) return '/';
  const url = new URL(raw);
  return url.pathname + url.search;
}

/**
 * The Web Request the decorator reads: the configured origin (never `Host`), the path and query
 * as received, the headers; no body (the decorator never reads one).
 *
 * @param req the Node request's method and headers
 * @param raw the request target as received
 * @param origin from {@link publicOrigin}
 * @returns the Web Request
 */
export function toWebRequest(
  req: { method: string; headers: IncomingHttpHeaders },
  raw: string,
  origin: string,
): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    // HTTP/2 pseudo-headers are not headers.
    if (value === undefined || name.startsWith(':')) continue;
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else headers.set(name, String(value));
  }
  // Concatenated, not resolved: a target such as `//evil.example/x` stays a path on our origin.
  const url = new URL(`${origin}${requestTarget(raw)}`);
  // The Fetch API refuses a few methods; the decorator only tells GET/HEAD from the rest.
  const method = /^(?:CONNECT|TRACE|TRACK)$/i.test(req.method) ? 'POST' : req.method;
  return new Request(url, { method, headers });
}

/**
 * Whether a handler returned a promise (or any thenable) that the adapter must chain.
 *
 * @param value what the handler returned
 * @returns `true` for a thenable
 */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
