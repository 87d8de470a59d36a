import { StoreError } from '../core/errors.js';
import { optionalDuration } from '../storage/lease.js';
import { checkPrefix, toRedisCommand, type RedisClient } from '../storage/redis-common.js';
import { checkFlowSecrets, createFlowRecordMac, type FlowRejection } from './flow-record-mac.js';
import { isFlowRecord, type FlowRecord, type FlowStore } from './flow-store.js';

export type { IoRedisLike, NodeRedisLike, RedisClient } from '../storage/redis-common.js';
export type { FlowRejection } from './flow-record-mac.js';

/** Options of {@link createRedisFlowStore}. */
export interface RedisFlowStoreOptions {
  /** The app's client: `ioredis` or node-redis. */
  client: RedisClient;
  /**
   * The key of the records' MAC: at least 32 characters, or several, newest first (the first
   * signs, all verify). Keep it in configuration, never in Redis. It may be the decorator's
   * `secret` (the key actually used is derived from it for this purpose only).
   */
  secret: string | readonly string[];
  /** Put before every key; default `oauthkit:`. Records live at `<prefix>flow:<id>`. */
  prefix?: string | undefined;
  /** How long one command may go unanswered; default 10,000 ms; `false` waits for the driver. */
  timeoutMs?: number | false | undefined;
  /** Told why a record presented to `take` was refused, for monitoring (never given the record). */
  onReject?: ((reason: FlowRejection) => void) | undefined;
  /** The clock, for tests. */
  now?: (() => number) | undefined;
}

const NAME = 'redis flow store';

/**
 * Creates a flow store in Redis: the seed's Flow objects in memcache, for apps on many machines
 * where a flow may start on one instance and finish on another. Pass it as the decorator's
 * `flowStore`.
 *
 * - The cookie holds a random 256-bit handle; the record is stored under a hash of it
 *   (`<prefix>flow:<id>`), with a TTL until the flow expires (`SET … PX … NX`).
 * - Each record carries its owner (the app user who started the flow, checked by the decorator;
 *   the browser, by the handle only it holds) and an HMAC-SHA-256 over its JSON and its id, under
 *   a key derived from `secret`. An edited, moved or forged record is refused.
 * - `take` is `GETDEL`: atomic and single-use, so a replayed or concurrent callback finds
 *   nothing and makes no token request.
 * - An unreachable Redis is a {@link StoreError} (the decorator answers 503).
 *
 * Needs Redis 6.2 or later (`GETDEL`).
 *
 * @param options `client`, `secret`, and optionally `prefix`, `timeoutMs`, `onReject`, `now`
 * @returns the flow store
 * @throws {TypeError} naming `client`, `secret`, `prefix` or `timeoutMs`
 * @example
 * ```ts
 * import Redis from 'ioredis';
 * import { createRedisFlowStore } from 'oauthkit/flow-store/redis';
 *
 * const decorator = new OAuth2Decorator({
 *   // …
 *   secret: process.env.OAUTHKIT_SECRET!,
 *   flowStore: createRedisFlowStore({ client: new Redis(process.env.REDIS_URL!), secret: process.env.OAUTHKIT_SECRET! }),
 * });
 * ```
 */
export function createRedisFlowStore(options: RedisFlowStoreOptions): FlowStore {
  const timeoutMs =
    options?.timeoutMs === false
      ? undefined
      : (optionalDuration('timeoutMs', options?.timeoutMs) ?? 10_000);
  const command = toRedisCommand(options?.client, NAME, timeoutMs);
  const mac = createFlowRecordMac(checkFlowSecrets(options.secret));
  const prefix = checkPrefix(options.prefix, 'oauthkit:');
  const now = options.now ?? Date.now;
  const onReject = options.onReject ?? (() => {});
  const keyOf = (id: string) => `${prefix}flow:${id}`;

  return {
    async save(record: FlowRecord): Promise<string> {
      if (!isFlowRecord(record)) throw new TypeError('"record" must be a FlowRecord');
      const { handle, id } = await mac.newHandle();
      const text = await mac.seal(id, record);
      const ttl = Math.max(1000, Math.ceil(record.expiresAt - now()));
      const reply = await command('SET', ['SET', keyOf(id), text, 'PX', String(ttl), 'NX']);
      if (reply !== 'OK') throw new StoreError(`${NAME}: a flow id was already taken`);
      return handle;
    },

    async take(cookieValue: string): Promise<FlowRecord | undefined> {
      const id = await mac.idOf(cookieValue);
      if (id === undefined) {
        onReject('bad-handle');
        return undefined;
      }
      const text = await command('GETDEL', ['GETDEL', keyOf(id)]);
      if (text === null || text === undefined) return undefined;
      const opened = await mac.open(id, text, now());
      if (typeof opened === 'string') {
        onReject(opened);
        return undefined;
      }
      return opened;
    },
  };
}
