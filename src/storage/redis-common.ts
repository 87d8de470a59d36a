/**
 * What the Redis stores need from a driver, described here so that neither `ioredis` nor
 * `redis` is a dependency of oauthkit: one way to send a command.
 *
 * @module
 */
import { StoreError } from '../core/errors.js';
import { safeCause } from './driver-errors.js';

/** An `ioredis` client (or Cluster): `client.call(command, ...args)`. */
export interface IoRedisLike {
  /** Sends any command; resolves to its reply. */
  call(command: string, ...args: (string | number)[]): Promise<unknown>;
}

/** A node-redis (`redis` 4 and later) client: `client.sendCommand([command, ...args])`. */
export interface NodeRedisLike {
  /** Sends any command; resolves to its reply. */
  sendCommand(args: string[]): Promise<unknown>;
}

/** Either driver. */
export type RedisClient = IoRedisLike | NodeRedisLike;

/** Sends one command and resolves to its reply, or rejects with a {@link StoreError}. */
export type RedisCommand = (what: string, args: string[]) => Promise<unknown>;

/**
 * Turns either driver into one `command(what, args)` function that fails with a
 * {@link StoreError} (the driver's message and code kept, its copy of the arguments dropped),
 * and that gives up after `timeoutMs`.
 *
 * @param client the app's client
 * @param store the store's name, for messages
 * @param timeoutMs how long one command may take; `undefined` waits for the driver
 * @returns the function
 * @throws {TypeError} naming `client`
 */
export function toRedisCommand(
  client: unknown,
  store: string,
  timeoutMs: number | undefined,
): RedisCommand {
  let send: (args: string[]) => Promise<unknown>;
  const c = client as Partial<IoRedisLike & NodeRedisLike> | null;
  // ioredis has a `sendCommand` too, taking a Command object: look for `call` first.
  if (c !== null && typeof c === 'object' && typeof c.call === 'function') {
    const call = c.call.bind(c);
    send = (args) => call(args[0]!, ...args.slice(1));
  } else if (c !== null && typeof c === 'object' && typeof c.sendCommand === 'function') {
    const sendCommand = c.sendCommand.bind(c);
    send = (args) => sendCommand(args);
  } else {
    throw new TypeError(
      '"client" must be an ioredis client (call) or a node-redis client (sendCommand)',
    );
  }
  return async (what, args) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const reply = send(args);
      if (timeoutMs === undefined) return await reply;
      return await Promise.race([
        reply,
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new RedisTimeout(`no reply within ${timeoutMs} ms; is Redis reachable?`)),
            timeoutMs,
          );
        }),
      ]);
    } catch (err) {
      // The message names the command only: its arguments hold the tokens.
      throw new StoreError(
        `${store}: ${what} failed${err instanceof RedisTimeout ? ` (${err.message})` : ''}`,
        {
          cause: safeCause(err),
        },
      );
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  };
}

class RedisTimeout extends Error {
  override name = 'TimeoutError';
}

/**
 * Checks a key prefix option.
 *
 * @param value the candidate
 * @param fallback the default
 * @returns the prefix
 * @throws {TypeError} naming `prefix`
 */
export function checkPrefix(value: unknown, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || value.length > 256) {
    throw new TypeError('"prefix" must be a string of at most 256 characters');
  }
  return value;
}

/**
 * Escapes Redis glob characters, so that a prefix matches only itself in `SCAN … MATCH`.
 *
 * @param text the literal text
 * @returns the pattern
 */
export function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

/** Deletes a key only while it holds the expected value (a lease's token, a compare-and-set). */
export const COMPARE_AND_DELETE =
  "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";

/** Sets a key only while it holds the expected value. */
export const COMPARE_AND_SET =
  "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2]) return 1 else return 0 end";
