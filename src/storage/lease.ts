import { StoreError } from '../core/errors.js';
import { assertStoreKey } from '../core/store.js';

/** How one store takes and gives back a lease on one key (a Redis key, a PostgreSQL row). */
export interface LeaseBackend {
  /**
   * Tries once to take the lease.
   *
   * @param token this holder's random token, stored with the lease
   * @param leaseMs how long the lease lasts unless given back
   * @returns `true` when taken
   */
  tryAcquire(token: string, leaseMs: number): Promise<boolean>;
  /**
   * Gives the lease back, only if `token` still holds it (a holder whose lease ran out must not
   * free the lease of the one who took it next).
   *
   * @param token the holder's token
   */
  release(token: string): Promise<void>;
}

/** Options of {@link withLease}. */
export interface LeaseOptions {
  /** How long the lease lasts: a holder that dies blocks the key for at most this long. */
  leaseMs: number;
  /** How long to keep trying before giving up; default `leaseMs + 5000`. */
  waitMs?: number | undefined;
  /** The store's name, for messages. */
  store: string;
}

const FIRST_DELAY_MS = 5;
const MAX_DELAY_MS = 200;

/**
 * Runs `fn` while holding a lease taken through `backend`: tries to take it, and while another
 * holder has it, polls again with a growing, jittered delay (5 ms up to 200 ms) until it is
 * free or `waitMs` has passed. The lease is given back when `fn` settles; if giving it back
 * fails, it simply runs out.
 *
 * @param backend takes and gives back the lease
 * @param fn the work to do under the lease
 * @param options `leaseMs`, `waitMs`, and the store's name
 * @returns what `fn` returns
 * @throws {StoreError} when the lease could not be taken within `waitMs`
 */
export async function withLease<T>(
  backend: LeaseBackend,
  fn: () => Promise<T>,
  options: LeaseOptions,
): Promise<T> {
  const leaseMs = options.leaseMs;
  const waitMs = options.waitMs ?? leaseMs + 5000;
  const token = randomToken();
  const deadline = Date.now() + waitMs;
  let delay = FIRST_DELAY_MS;
  while (!(await backend.tryAcquire(token, leaseMs))) {
    const left = deadline - Date.now();
    if (left <= 0) {
      throw new StoreError(
        `${options.store}: gave up after waiting ${waitMs} ms for another process's refresh lock on this key`,
      );
    }
    // Jitter spreads the waiters of many processes apart, so they do not all poll at once.
    await sleep(Math.min(left, delay * (0.5 + Math.random() / 2)));
    delay = Math.min(MAX_DELAY_MS, delay * 1.6);
  }
  try {
    return await fn();
  } finally {
    try {
      await backend.release(token);
    } catch {
      // The lease runs out by itself; the result of `fn` (a refreshed, saved token) matters more.
    }
  }
}

/**
 * Checks the arguments of a store's `lock()`.
 *
 * @param key the store key
 * @param fn the work
 * @param options must carry `leaseMs`
 * @returns the lease in whole milliseconds
 * @throws {TypeError} naming `key`, `fn` or `leaseMs`
 */
export function checkLockArguments(key: unknown, fn: unknown, options: unknown): number {
  assertStoreKey(key);
  if (typeof fn !== 'function') throw new TypeError('"fn" must be a function');
  const leaseMs = (options as { leaseMs?: unknown } | undefined)?.leaseMs;
  if (typeof leaseMs !== 'number' || !Number.isFinite(leaseMs) || leaseMs < 1) {
    throw new TypeError('"leaseMs" must be a positive number of milliseconds');
  }
  return Math.ceil(leaseMs);
}

/**
 * Checks an optional positive duration option.
 *
 * @param name the option's name, for the message
 * @param value the candidate
 * @returns the value, or `undefined`
 * @throws {TypeError} naming the option
 */
export function optionalDuration(name: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 1) {
    throw new TypeError(`"${name}" must be a positive number of milliseconds`);
  }
  return value;
}

function randomToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
