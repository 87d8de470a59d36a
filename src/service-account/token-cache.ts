import type { TokenCache } from './token-credentials.js';

/**
 * The few methods of an ioredis client the Redis token cache calls (described here so that
 * oauthkit does not depend on ioredis).
 */
export interface RedisTokenCacheClient {
  /**
   * @param key the key
   * @returns the value, or `null`
   */
  get(key: string): Promise<string | null>;
  /**
   * `SET key value PX ttlMs`.
   *
   * @param key the key
   * @param value the value
   * @param mode `'PX'`: the TTL is in milliseconds
   * @param ttlMs the TTL
   */
  set(key: string, value: string, mode: 'PX', ttlMs: number): Promise<unknown>;
}

/** Options of {@link createRedisTokenCache}. */
export interface RedisTokenCacheOptions {
  /** An ioredis client (or anything with the same `get` and `set`). */
  client: RedisTokenCacheClient;
  /** Prepended to every key (default `oauthkit:sa-token:`). */
  prefix?: string | undefined;
}

/**
 * A {@link TokenCache} in Redis, shared by every instance of an app: the first instance that
 * needs a token mints it, the others read it. Entries expire (Redis `PX`) ahead of the token.
 *
 * The values are access tokens: use a Redis only the app can reach.
 *
 * @param options the ioredis client and a key prefix
 * @returns the cache
 * @example
 * ```ts
 * import Redis from 'ioredis';
 * const cache = createRedisTokenCache({ client: new Redis(process.env.REDIS_URL) });
 * const credentials = new AppAssertionCredentials({ scopes, cache });
 * ```
 */
export function createRedisTokenCache(options: RedisTokenCacheOptions): TokenCache {
  const client = options?.client;
  if (!client || typeof client.get !== 'function' || typeof client.set !== 'function') {
    throw new TypeError('"client" must be an ioredis-like client with get() and set()');
  }
  const prefix = options.prefix ?? 'oauthkit:sa-token:';
  if (typeof prefix !== 'string') throw new TypeError('"prefix" must be a string');
  return {
    async get(key) {
      const value = await client.get(prefix + key);
      return value ?? undefined;
    },
    async set(key, value, ttlMs) {
      await client.set(prefix + key, value, 'PX', Math.max(1, Math.ceil(ttlMs)));
    },
  };
}

/** Options of {@link createMemoryTokenCache}. */
export interface MemoryTokenCacheOptions {
  /** The clock, in milliseconds since the epoch (for tests). */
  now?: (() => number) | undefined;
}

/**
 * A {@link TokenCache} in this process's memory, shared by several credentials objects (each
 * already keeps its own token; this lets separately created objects for the same account share).
 *
 * @param options the clock
 * @returns the cache
 * @example
 * ```ts
 * const cache = createMemoryTokenCache();
 * const a = new AppAssertionCredentials({ scopes, cache });
 * const b = new AppAssertionCredentials({ scopes, cache }); // reuses a's token
 * ```
 */
export function createMemoryTokenCache(options: MemoryTokenCacheOptions = {}): TokenCache {
  const now = options.now ?? Date.now;
  const entries = new Map<string, { value: string; until: number }>();
  return {
    async get(key) {
      const entry = entries.get(key);
      if (entry === undefined) return undefined;
      if (entry.until <= now()) {
        entries.delete(key);
        return undefined;
      }
      return entry.value;
    },
    async set(key, value, ttlMs) {
      entries.set(key, { value, until: now() + ttlMs });
    },
  };
}
