/**
 * Sending requests: the HTTP client type, and retries with backoff and jitter that honour
 * `Retry-After`.
 *
 * @module
 */

/**
 * Anything that sends a request the way `fetch` does: the global `fetch`, oauthkit's
 * `createAuthorizedFetch()`, `decorator.http()` or a service account's `authorize()`.
 */
export type HttpClient = (input: Request, init?: RequestInit) => Promise<Response>;

/** How failed calls are retried. */
export interface RetryOptions {
  /** How many times a call is sent again after the first try (3 by default; 0 turns retries off). */
  retries?: number;
  /** The first backoff ceiling, in milliseconds (500 by default); it doubles on each retry. */
  baseDelayMs?: number;
  /** The largest backoff, in milliseconds (32 000 by default). */
  maxDelayMs?: number;
  /**
   * The longest `Retry-After` the client waits for, in milliseconds (60 000 by default); a
   * longer one ends the retries and the error is thrown.
   */
  maxRetryAfterMs?: number;
  /** The statuses that are retried (408, 429, 500, 502, 503, 504 by default). */
  statuses?: readonly number[];
  /** Waits between tries; replace it in tests so they need not wait. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** A number in [0, 1) for the jitter (`Math.random` by default). */
  random?: () => number;
}

/** {@link RetryOptions} with every field filled. */
export type ResolvedRetry = Required<RetryOptions>;

const DEFAULT_STATUSES = [408, 429, 500, 502, 503, 504] as const;

/**
 * HTTP methods that may be sent twice without a second effect; only these are retried.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-9.2.2
 * @example
 * ```ts
 * IDEMPOTENT_METHODS.has('POST'); // false
 * ```
 */
export const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set([
  'GET',
  'HEAD',
  'PUT',
  'DELETE',
  'OPTIONS',
]);

/**
 * Waits `ms` milliseconds, or less when the signal aborts.
 *
 * @param ms how long
 * @param signal ends the wait early with the signal's reason
 * @returns a promise that settles after the wait
 * @example
 * ```ts
 * await defaultSleep(100);
 * ```
 */
export function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Fills retry options with their defaults and checks them.
 *
 * @param options what the caller set, or `false` for no retries
 * @param base options to start from
 * @returns complete options
 * @throws {TypeError} when a number is negative or not finite
 * @example
 * ```ts
 * const retry = resolveRetry({ retries: 5 });
 * ```
 */
export function resolveRetry(
  options: RetryOptions | false | undefined,
  base?: ResolvedRetry,
): ResolvedRetry {
  const start: ResolvedRetry = base ?? {
    retries: 3,
    baseDelayMs: 500,
    maxDelayMs: 32_000,
    maxRetryAfterMs: 60_000,
    statuses: DEFAULT_STATUSES,
    sleep: defaultSleep,
    random: Math.random,
  };
  if (options === false) return { ...start, retries: 0 };
  if (options === undefined) return start;
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('"retry" must be an object or false');
  }
  const out = { ...start };
  for (const key of ['retries', 'baseDelayMs', 'maxDelayMs', 'maxRetryAfterMs'] as const) {
    const v = options[key];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      throw new TypeError(`"retry.${key}" must be a non-negative number`);
    }
    out[key] = v;
  }
  if (options.statuses !== undefined) out.statuses = [...options.statuses];
  if (options.sleep !== undefined) out.sleep = options.sleep;
  if (options.random !== undefined) out.random = options.random;
  return out;
}

/**
 * Reads `Retry-After` (seconds or an HTTP date) as milliseconds from now.
 *
 * @param value the header value
 * @param now the current time in ms since the epoch
 * @returns the delay, or `undefined` when the header is absent or unreadable
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-10.2.3
 * @example
 * ```ts
 * parseRetryAfter('2'); // 2000
 * ```
 */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * The backoff before retry number `attempt` (0 for the first retry): a random wait up to an
 * exponentially growing ceiling ("full jitter"), so that many clients do not retry in step.
 *
 * @param retry the retry options
 * @param attempt 0 for the first retry
 * @returns the delay in milliseconds
 * @example
 * ```ts
 * backoffDelay(resolveRetry(undefined), 0); // between 0 and 500
 * ```
 */
export function backoffDelay(retry: ResolvedRetry, attempt: number): number {
  const ceiling = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** attempt);
  return Math.floor(retry.random() * ceiling);
}

/** Options of {@link sendWithRetry}. */
export interface SendOptions {
  /** Sends one try. */
  http: HttpClient;
  /** Retry options. */
  retry: ResolvedRetry;
  /** Whether the call may be sent again (idempotent method, or a safe upload step). */
  retryable: boolean;
  /** Ends the waits and the sends. */
  signal?: AbortSignal | undefined;
}

/**
 * Sends a request, and sends it again on a retryable status or a network error when the call
 * may be repeated. Waits `Retry-After` when the server sends one, else a jittered backoff.
 * Returns the last response, whatever its status; the caller turns errors into exceptions.
 *
 * @param make builds a fresh `Request` for each try (a body can be read only once)
 * @param options the client, retry options, and whether retries are allowed
 * @returns the final response
 * @throws the last network error when every try failed without a response
 * @example
 * ```ts
 * const res = await sendWithRetry(() => new Request(url), { http: fetch, retry, retryable: true });
 * ```
 */
export async function sendWithRetry(make: () => Request, options: SendOptions): Promise<Response> {
  const { http, retry, retryable, signal } = options;
  const limit = retryable ? retry.retries : 0;
  for (let attempt = 0; ; attempt++) {
    const request = make();
    let response: Response;
    try {
      response = await http(request);
    } catch (err) {
      // fetch rejects with a TypeError on a network failure; anything else (a refused origin, a
      // revoked grant from an authorized fetch) would fail the same way again.
      if (signal?.aborted || attempt >= limit || !isNetworkError(err)) throw err;
      await retry.sleep(backoffDelay(retry, attempt), signal);
      continue;
    }
    if (attempt >= limit || !(await shouldRetry(response, retry))) return response;
    const after = parseRetryAfter(response.headers.get('retry-after'));
    if (after !== undefined && after > retry.maxRetryAfterMs) return response;
    await response.body?.cancel().catch(() => {});
    await retry.sleep(after ?? backoffDelay(retry, attempt), signal);
  }
}

/**
 * Whether an error thrown by a fetch is a network failure (the Fetch standard's TypeError), as
 * opposed to an error of the client itself (an oauthkit error, an abort).
 *
 * @param err what the fetch threw
 * @returns true for a network failure
 * @example
 * ```ts
 * isNetworkError(new TypeError('fetch failed')); // true
 * ```
 */
export function isNetworkError(err: unknown): boolean {
  return err instanceof TypeError;
}

async function shouldRetry(response: Response, retry: ResolvedRetry): Promise<boolean> {
  if (retry.statuses.includes(response.status)) return true;
  if (response.status !== 403) return false;
  // Google reports some rate limits as 403 with these reasons; they clear with time.
  const text = await response.clone().text();
  return /"reason"\s*:\s*"(rateLimitExceeded|userRateLimitExceeded)"/.test(text);
}
