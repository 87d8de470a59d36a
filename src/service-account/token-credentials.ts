import { createBearerFetch, type AuthorizedFetch } from '../core/authorized-fetch.js';
import { Credentials } from '../core/credentials.js';
import { OAuthKitError, TransientError } from '../core/errors.js';

/**
 * How long before its expiry a service-account token is replaced: 5 minutes, as Google's own
 * libraries do. For a token that lives less than twice this, half its lifetime is used instead,
 * so that a short-lived token is not renewed on every call.
 */
export const DEFAULT_RENEW_MARGIN_MS = 5 * 60_000;

/** After a failure that retrying cannot fix, how long calls fail fast without asking again. */
export const DEFAULT_FAILURE_BACKOFF_MS = 10_000;

/**
 * A cache shared by the instances of an app (the role memcache played in the seed), so that a
 * fleet does not each mint a token. Values are opaque strings; entries must vanish after `ttlMs`.
 *
 * @example
 * ```ts
 * const cache: TokenCache = createRedisTokenCache({ client: new Redis(process.env.REDIS_URL) });
 * const credentials = new AppAssertionCredentials({ scopes, cache });
 * ```
 */
export interface TokenCache {
  /**
   * @param key the cache key
   * @returns the value stored under `key`, or `undefined`
   */
  get(key: string): Promise<string | undefined>;
  /**
   * Stores a value that expires after `ttlMs`.
   *
   * @param key the cache key
   * @param value what to store (it holds an access token: keep the cache private)
   * @param ttlMs how long the entry may be served, in milliseconds (at least 1)
   */
  set(key: string, value: string, ttlMs: number): Promise<void>;
}

/** An access token and when it expires. */
export interface AccessToken {
  /** The token, for an `Authorization: Bearer` header. */
  token: string;
  /** When it expires, in milliseconds since the epoch. */
  expiresAt: number;
}

/** Options every service-account credentials object accepts. */
export interface TokenCredentialsOptions {
  /** A cache shared across instances (e.g. {@link createRedisTokenCache}). */
  cache?: TokenCache | undefined;
  /** How long before expiry a token is replaced (default {@link DEFAULT_RENEW_MARGIN_MS}). */
  renewMarginMs?: number | undefined;
  /**
   * After a failure that retrying cannot fix (`invalid_grant`, a refused key file), how long
   * further calls fail with the same error without contacting the server (default 10 s).
   */
  failureBackoffMs?: number | undefined;
  /** Called when the shared cache fails; the token is then minted or kept locally. */
  onCacheError?: ((error: unknown) => void) | undefined;
  /** The fetch that reaches the token endpoint or metadata server; the global one by default. */
  fetch?: typeof fetch | undefined;
  /** The clock, in milliseconds since the epoch (for tests). */
  now?: (() => number) | undefined;
  /** How to wait between retries (for tests). */
  sleep?: ((ms: number) => Promise<void>) | undefined;
}

/** Options of {@link TokenCredentials.getAccessToken}. */
export interface GetAccessTokenOptions {
  /** Mint a new token even if the cached one is still good. */
  forceRefresh?: boolean | undefined;
}

/** Options of {@link TokenCredentials.authorize}. */
export interface AuthorizeOptions {
  /**
   * The origins the token may be sent to (e.g. `https://tasks.googleapis.com`). When given, a
   * request to any other origin is refused before anything is sent.
   */
  allowedOrigins?: readonly string[] | undefined;
  /** The fetch that sends the API requests; the global one by default. */
  fetch?: typeof fetch | undefined;
}

/** A token a subclass minted. */
export interface MintedToken {
  token: string;
  expiresAt: number;
}

interface Entry extends MintedToken {
  /** When to stop using it (ms); ahead of `expiresAt` by the renew margin. */
  renewAt: number;
}

const CACHE_FORMAT = 1;

/**
 * The token handling every service-account credentials object shares: an in-memory token per
 * object, renewed ahead of expiry, minted at most once at a time (single-flight), optionally
 * shared through a {@link TokenCache}; and the authorized fetch.
 *
 * Subclasses say how to mint a token; tokens never appear in `toJSON`, inspection or errors.
 *
 * @example
 * ```ts
 * const http = credentials.authorize();
 * const res = await http('https://tasks.googleapis.com/tasks/v1/users/@me/lists');
 * ```
 */
export abstract class TokenCredentials {
  /** A label for these credentials (account, subject), used as the authorized fetch's `key`. */
  abstract readonly key: string;
  /** The scopes tokens are minted for. */
  abstract readonly scopes: readonly string[];

  readonly #cache: TokenCache | undefined;
  readonly #marginMs: number;
  readonly #backoffMs: number;
  readonly #onCacheError: ((error: unknown) => void) | undefined;
  readonly #now: () => number;
  #entry: Entry | undefined;
  #inflight: Promise<Entry> | undefined;
  #failure: { error: unknown; until: number } | undefined;

  /** @param options cache, margins, clock */
  constructor(options: TokenCredentialsOptions = {}) {
    if (options === null || typeof options !== 'object') {
      throw new TypeError('"options" must be an object');
    }
    const cache = options.cache;
    if (
      cache !== undefined &&
      (typeof cache.get !== 'function' || typeof cache.set !== 'function')
    ) {
      throw new TypeError('"cache" must have get() and set() methods');
    }
    this.#cache = cache;
    this.#marginMs = nonNegative(options.renewMarginMs, 'renewMarginMs', DEFAULT_RENEW_MARGIN_MS);
    this.#backoffMs = nonNegative(
      options.failureBackoffMs,
      'failureBackoffMs',
      DEFAULT_FAILURE_BACKOFF_MS,
    );
    this.#onCacheError = options.onCacheError;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Mints a new token (a subclass's one protocol step).
   *
   * @returns the token and its expiry
   */
  protected abstract mintToken(): Promise<MintedToken>;

  /**
   * The key under which tokens are shared in the {@link TokenCache}; `undefined` to not share.
   *
   * @returns the key, naming account, scopes and subject
   */
  protected abstract sharedCacheKey(): Promise<string | undefined>;

  /**
   * Headers the authorized fetch adds besides `Authorization` (e.g. a quota project).
   *
   * @returns header names and values
   */
  protected extraHeaders(): Record<string, string> {
    return {};
  }

  /**
   * The current time, from the injected clock.
   *
   * @returns milliseconds since the epoch
   */
  protected now(): number {
    return this.#now();
  }

  /**
   * An access token, from memory or the shared cache when one is good for longer than the renew
   * margin, else newly minted. Concurrent calls share one mint.
   *
   * @param options `forceRefresh` to mint even when a cached token is good
   * @returns the token and its expiry
   * @throws {GrantRevokedError} the key was revoked or the assertion refused (`invalid_grant`)
   * @throws {TransientError} the server could not be reached or failed; nothing is cached
   * @example
   * ```ts
   * const { token, expiresAt } = await credentials.getAccessToken();
   * ```
   */
  async getAccessToken(options: GetAccessTokenOptions = {}): Promise<AccessToken> {
    const entry = await this.#get(undefined, options.forceRefresh === true);
    return { token: entry.token, expiresAt: entry.expiresAt };
  }

  async #get(rejected: string | undefined, force: boolean): Promise<Entry> {
    const now = this.#now();
    const current = this.#entry;
    if (!force && current !== undefined && current.renewAt > now && current.token !== rejected) {
      return current;
    }
    if (this.#inflight !== undefined) return this.#inflight;
    // Fail fast after an error retrying cannot fix, so that a revoked key under load does not
    // turn every API call into a token request.
    if (this.#failure !== undefined) {
      if (now < this.#failure.until) throw this.#failure.error;
      this.#failure = undefined;
    }
    const work = (async () => {
      try {
        return await this.#renew(rejected, force);
      } finally {
        this.#inflight = undefined;
      }
    })();
    this.#inflight = work;
    return work;
  }

  async #renew(rejected: string | undefined, force: boolean): Promise<Entry> {
    const key = this.#cache !== undefined ? await this.sharedCacheKey() : undefined;
    if (key !== undefined && !force) {
      const shared = await this.#readShared(key);
      if (shared !== undefined && shared.renewAt > this.#now() && shared.token !== rejected) {
        this.#entry = shared;
        return shared;
      }
    }
    const started = this.#now();
    let minted: MintedToken;
    try {
      minted = await this.mintToken();
    } catch (err) {
      if (err instanceof OAuthKitError && !(err instanceof TransientError)) {
        this.#failure = { error: err, until: this.#now() + this.#backoffMs };
      }
      throw err;
    }
    const lifetime = Math.max(0, minted.expiresAt - started);
    const entry: Entry = {
      token: minted.token,
      expiresAt: minted.expiresAt,
      renewAt: minted.expiresAt - Math.min(this.#marginMs, lifetime / 2),
    };
    this.#entry = entry;
    if (key !== undefined) await this.#writeShared(key, entry);
    return entry;
  }

  async #readShared(key: string): Promise<Entry | undefined> {
    let text: string | undefined;
    try {
      text = await this.#cache!.get(key);
    } catch (err) {
      this.#onCacheError?.(err);
      return undefined;
    }
    if (typeof text !== 'string') return undefined;
    try {
      const o = JSON.parse(text) as Record<string, unknown>;
      if (
        o['v'] === CACHE_FORMAT &&
        typeof o['token'] === 'string' &&
        o['token'].length > 0 &&
        typeof o['expires_at'] === 'number' &&
        typeof o['renew_at'] === 'number'
      ) {
        return { token: o['token'], expiresAt: o['expires_at'], renewAt: o['renew_at'] };
      }
    } catch {
      // an unreadable entry is a miss
    }
    return undefined;
  }

  async #writeShared(key: string, entry: Entry): Promise<void> {
    // The entry vanishes from the shared cache when this process would stop using it.
    const ttl = Math.floor(entry.renewAt - this.#now());
    if (ttl < 1) return;
    const value = JSON.stringify({
      v: CACHE_FORMAT,
      token: entry.token,
      expires_at: entry.expiresAt,
      renew_at: entry.renewAt,
    });
    try {
      await this.#cache!.set(key, value, ttl);
    } catch (err) {
      this.#onCacheError?.(err);
    }
  }

  /**
   * The token a request would carry now, as core {@link Credentials} (what an authorized fetch's
   * `credentials()` gives).
   *
   * @returns credentials with the access token, its expiry and the scopes
   * @example
   * ```ts
   * const { accessToken, expiresAt } = await credentials.getCredentials();
   * ```
   */
  async getCredentials(): Promise<Credentials> {
    const entry = await this.#get(undefined, false);
    return new Credentials({
      accessToken: entry.token,
      expiresAt: entry.expiresAt,
      scopes: this.scopes,
      tokenType: 'Bearer',
    });
  }

  /**
   * Makes an authorized HTTP client, like `credentials.authorize(http)` in the seed: a
   * fetch-compatible function that adds `Authorization: Bearer …`, renews the token ahead of
   * expiry, and on a 401 gets a new token once and sends the request again (body included).
   * It has the same shape as the core's user-credentials client, so
   * `build(...).execute(credentials.authorize())` works.
   *
   * @param options an origin allowlist and the fetch to send with
   * @returns a fetch-compatible function
   * @throws {OriginNotAllowedError} from a call to an origin outside `allowedOrigins`
   * @see https://www.rfc-editor.org/rfc/rfc6750#section-2.1
   * @example
   * ```ts
   * const http = credentials.authorize({ allowedOrigins: ['https://tasks.googleapis.com'] });
   * const res = await http('https://tasks.googleapis.com/tasks/v1/users/@me/lists');
   * ```
   */
  authorize(options: AuthorizeOptions = {}): AuthorizedFetch {
    const authorized = createBearerFetch({
      // Concurrent 401s for the same token share one renewal.
      getToken: async (rejected) => ({ token: (await this.#get(rejected, false)).token }),
      allowedOrigins: options.allowedOrigins,
      fetch: options.fetch,
      headers: this.extraHeaders(),
      // A service account's scopes are fixed by its configuration, not asked of a user: its 403s
      // reach the caller as they are.
      insufficientScope: 'return',
    });

    return Object.assign(authorized, {
      key: this.key,
      credentials: () => this.getCredentials(),
    }) as AuthorizedFetch;
  }
}

/**
 * Runs `fn` again after a {@link TransientError}, up to `retries` more times, waiting 100 ms,
 * 200 ms, 400 ms ... in between. Other errors end it at once.
 *
 * @param retries how many extra attempts
 * @param sleep how to wait
 * @param fn the attempt
 * @returns what `fn` returned
 * @example
 * ```ts
 * const text = await withRetry(2, defaultSleep, () => metadataGet(path));
 * ```
 */
export async function withRetry<T>(
  retries: number,
  sleep: (ms: number) => Promise<void>,
  fn: () => Promise<T>,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof TransientError) || attempt >= retries) throw err;
      await sleep(100 * 2 ** attempt);
    }
  }
}

/**
 * The default `sleep`.
 *
 * @param ms how long
 * @returns a promise that resolves after `ms`
 * @example
 * ```ts
 * await defaultSleep(100);
 * ```
 */
export function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Checks a scopes option: an array of non-empty strings without whitespace.
 *
 * @param scopes the option value
 * @param name what to call it in errors
 * @returns a frozen, deduplicated, sorted copy
 * @throws {TypeError} naming the option
 * @example
 * ```ts
 * checkScopes(['b', 'a', 'b']); // ['a', 'b']
 * ```
 */
export function checkScopes(scopes: unknown, name = 'scopes'): readonly string[] {
  if (scopes === undefined) return Object.freeze([]);
  if (typeof scopes === 'string' || !Array.isArray(scopes)) {
    throw new TypeError(`"${name}" must be an array of strings`);
  }
  for (const s of scopes) {
    if (typeof s !== 'string' || s.length === 0 || /\s/.test(s)) {
      throw new TypeError(`"${name}" contains an invalid scope: ${JSON.stringify(s)}`);
    }
  }
  return Object.freeze([...new Set(scopes as string[])].sort());
}

/**
 * Checks a non-negative number option.
 *
 * @param value the option value
 * @param name the option's name
 * @param fallback the default
 * @returns the value or the default
 * @throws {TypeError} naming the option
 * @example
 * ```ts
 * const timeoutMs = nonNegative(options.timeoutMs, 'timeoutMs', 3000);
 * ```
 */
export function nonNegative(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new TypeError(`"${name}" must be a non-negative number`);
  }
  return value;
}
