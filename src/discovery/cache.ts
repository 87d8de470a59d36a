/**
 * Where fetched discovery documents are kept, so that a process (or a fleet, with a shared
 * cache) fetches each document once.
 *
 * @module
 */

/**
 * A cache of discovery documents, keyed by discovery URL, holding the document's JSON text. Any
 * key-value store fits in a few lines (a directory, Redis, a KV namespace); keep entries for a
 * day or so, since documents change a few times a month.
 *
 * @example
 * ```ts
 * const redisCache: DiscoveryCache = {
 *   get: async (key) => (await redis.get(`discovery:${key}`)) ?? undefined,
 *   set: async (key, value) => void (await redis.set(`discovery:${key}`, value, 'EX', 86400)),
 * };
 * ```
 */
export interface DiscoveryCache {
  /** @returns the document's text, or `undefined` when it is not cached */
  get(key: string): Promise<string | undefined>;
  /** Keeps the document's text under the key. */
  set(key: string, value: string): Promise<void>;
}

/** Options of {@link createMemoryCache}. */
export interface MemoryCacheOptions {
  /** How long an entry stays, in milliseconds (24 hours by default). */
  ttlMs?: number;
  /** How many documents are kept; the least recently used goes first (32 by default). */
  maxEntries?: number;
  /** The clock, in milliseconds; replace it in tests. */
  now?: () => number;
}

/**
 * Creates a {@link DiscoveryCache} in this process's memory, with an expiry and a size bound.
 * `build()` uses one shared instance by default.
 *
 * @param options `ttlMs`, `maxEntries`, `now`
 * @returns the cache
 * @example
 * ```ts
 * const service = await build('tasks', 'v1', { cache: createMemoryCache({ ttlMs: 3_600_000 }) });
 * ```
 */
export function createMemoryCache(options: MemoryCacheOptions = {}): DiscoveryCache {
  const ttl = options.ttlMs ?? 24 * 60 * 60 * 1000;
  const max = options.maxEntries ?? 32;
  const now = options.now ?? Date.now;
  if (!(ttl >= 0) || !(max >= 1)) {
    throw new TypeError('"ttlMs" must be non-negative and "maxEntries" at least 1');
  }
  const entries = new Map<string, { value: string; expires: number }>();
  return {
    async get(key) {
      const entry = entries.get(key);
      if (entry === undefined) return undefined;
      entries.delete(key);
      if (entry.expires <= now()) return undefined;
      entries.set(key, entry); // most recently used last
      return entry.value;
    },
    async set(key, value) {
      entries.delete(key);
      entries.set(key, { value, expires: now() + ttl });
      while (entries.size > max) entries.delete(entries.keys().next().value!);
    },
  };
}

/**
 * The cache `build()` uses when none is given: one per process.
 *
 * @example
 * ```ts
 * await defaultCache.get('https://www.googleapis.com/discovery/v1/apis/tasks/v1/rest');
 * ```
 */
export const defaultCache: DiscoveryCache = createMemoryCache();
