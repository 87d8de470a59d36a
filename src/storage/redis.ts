import { CredentialsInvalidError, StoreError } from '../core/errors.js';
import { assertStoreKey } from '../core/store.js';
import type { ListableCredentialStore } from './capabilities.js';
import { storeCodec, type StoreCodecOptions } from './encryption.js';
import { checkLockArguments, optionalDuration, withLease } from './lease.js';
import {
  checkPrefix,
  COMPARE_AND_DELETE,
  COMPARE_AND_SET,
  globEscape,
  toRedisCommand,
  type RedisClient,
} from './redis-common.js';
import { textStore } from './text-store.js';

export type { IoRedisLike, NodeRedisLike, RedisClient } from './redis-common.js';
export type { ListableCredentialStore, LockingCredentialStore } from './capabilities.js';

/** Options of {@link createRedisStore}. */
export interface RedisStoreOptions extends StoreCodecOptions {
  /** The app's client: `ioredis` (`new Redis(url)`) or node-redis (`createClient().connect()`). */
  client: RedisClient;
  /**
   * Put before every key the store writes; default `oauthkit:`. Credentials live at
   * `<prefix>cred:<key>`, refresh-lock leases at `<prefix>lock:<key>`.
   */
  prefix?: string | undefined;
  /**
   * How long one command may go unanswered before it fails with a {@link StoreError}; default
   * 10,000 ms. `false` waits as long as the driver does (ioredis retries for a long time while
   * Redis is unreachable).
   */
  timeoutMs?: number | false | undefined;
  /**
   * How long `lock()` waits for another process's refresh before failing; default the lease
   * plus 5 s.
   */
  lockWaitMs?: number | undefined;
}

/** The store {@link createRedisStore} makes: every capability oauthkit's core knows. */
export interface RedisStore extends ListableCredentialStore {
  /**
   * Runs `fn` holding this key's refresh lease, shared by every process on the same Redis.
   *
   * @param key the store key
   * @param fn the work
   * @param options `leaseMs`: how long a holder that dies can block the key
   * @returns what `fn` returns
   * @throws {StoreError} when the lease could not be taken within `lockWaitMs`
   */
  lock<T>(key: string, fn: () => Promise<T>, options: { leaseMs: number }): Promise<T>;
}

const NAME = 'redis store';

/**
 * Creates a credential store in Redis, on the app's `ioredis` or node-redis client, for apps
 * that run on many machines.
 *
 * - Each user's credentials are one string value, replaced whole by `SET`; nothing expires.
 * - `lock(key, fn, { leaseMs })` coordinates refreshes across processes:
 *   `SET <prefix>lock:<key> <random token> NX PX <leaseMs>` takes the lease, a Lua
 *   compare-and-delete gives it back only while it still holds this holder's token. A holder
 *   that dies blocks the key for at most `leaseMs`; waiters poll with a growing, jittered delay.
 * - `keys()` (`SCAN`), `readText()` and `replaceText()` (Lua compare-and-set) serve
 *   {@link reencryptAll}.
 * - Every command gives up after `timeoutMs`, so an unreachable Redis is a prompt
 *   {@link StoreError} ("redis store: GET failed (no reply within 10000 ms; is Redis
 *   reachable?)"), never a hung request.
 * - `encryptionKeys` turns on AES-256-GCM encryption of every value.
 *
 * Needs Redis 2.6.12 or later (`SET … NX PX`, Lua). With Redis Cluster, `keys()` lists the
 * node the client talks to only.
 *
 * @param options `client`, and optionally `prefix`, `codec`, `encryptionKeys`, `timeoutMs`,
 *   `lockWaitMs`
 * @returns the store
 * @throws {TypeError} naming `client`, `prefix`, `codec`, `timeoutMs` or `lockWaitMs`
 * @example
 * ```ts
 * import Redis from 'ioredis';
 * import { createRedisStore } from 'oauthkit/storage/redis';
 *
 * const store = createRedisStore({ client: new Redis(process.env.REDIS_URL!), prefix: 'myapp:' });
 * ```
 */
export function createRedisStore(options: RedisStoreOptions): RedisStore {
  const timeoutMs =
    options?.timeoutMs === false
      ? undefined
      : (optionalDuration('timeoutMs', options?.timeoutMs) ?? 10_000);
  const command = toRedisCommand(options?.client, NAME, timeoutMs);
  const prefix = checkPrefix(options.prefix, 'oauthkit:');
  const codec = storeCodec(options);
  const lockWaitMs = optionalDuration('lockWaitMs', options.lockWaitMs);
  const credKey = (key: string) => `${prefix}cred:${key}`;
  const lockKey = (key: string) => `${prefix}lock:${key}`;

  const readText = async (key: string): Promise<string | undefined> => {
    assertStoreKey(key);
    const reply = await command('GET', ['GET', credKey(key)]);
    if (reply === null || reply === undefined) return undefined;
    if (typeof reply !== 'string') {
      throw new CredentialsInvalidError(`${NAME}: the stored value is not text`);
    }
    return reply;
  };

  return {
    codec,

    ...textStore(NAME, codec, {
      readText,
      writeText: async (key, text) => {
        await command('SET', ['SET', credKey(key), text]);
      },
    }),

    async delete(key: string): Promise<void> {
      assertStoreKey(key);
      await command('DEL', ['DEL', credKey(key)]);
    },

    async lock<T>(key: string, fn: () => Promise<T>, lockOptions: { leaseMs: number }): Promise<T> {
      const leaseMs = checkLockArguments(key, fn, lockOptions);
      return withLease(
        {
          tryAcquire: async (token, ms) =>
            (await command('SET NX PX', ['SET', lockKey(key), token, 'NX', 'PX', String(ms)])) ===
            'OK',
          release: async (token) => {
            await command('EVAL', ['EVAL', COMPARE_AND_DELETE, '1', lockKey(key), token]);
          },
        },
        fn,
        { leaseMs, waitMs: lockWaitMs, store: NAME },
      );
    },

    async *keys(): AsyncIterable<string> {
      const pattern = `${globEscape(prefix)}cred:*`;
      const skip = credKey('').length;
      let cursor = '0';
      do {
        const reply = await command('SCAN', ['SCAN', cursor, 'MATCH', pattern, 'COUNT', '500']);
        const [next, found] = reply as [string, string[]];
        for (const k of found) yield k.slice(skip);
        cursor = String(next);
      } while (cursor !== '0');
    },

    readText,

    async replaceText(key: string, expected: string, text: string): Promise<boolean> {
      assertStoreKey(key);
      if (typeof expected !== 'string' || typeof text !== 'string') {
        throw new TypeError('"expected" and "text" must be strings');
      }
      const reply = await command('EVAL', [
        'EVAL',
        COMPARE_AND_SET,
        '1',
        credKey(key),
        expected,
        text,
      ]);
      return Number(reply) === 1;
    },
  };
}
