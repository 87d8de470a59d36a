import { OAuthKitError, StoreError } from '../core/errors.js';

/**
 * A copy of a driver's error that keeps what helps an operator (name, message, code, stack) and
 * drops everything else. Drivers attach the failed command to their errors (ioredis's
 * `command.args`, PostgreSQL's `detail: Failing row contains (...)` and `where`), and those can
 * hold the stored value, which holds tokens when it is not encrypted.
 *
 * @param err what the driver threw
 * @returns an `Error` safe to keep as a `cause`
 */
export function safeCause(err: unknown): Error {
  if (!(err instanceof Error)) return new Error('the driver failed with a non-Error value');
  let message = err.message;
  // Node reports a refused connection to a name with several addresses as an AggregateError
  // with an empty message; the first inner error says what happened.
  if (message === '' && err instanceof AggregateError && err.errors[0] instanceof Error) {
    message = err.errors[0].message;
  }
  const copy = new Error(message);
  copy.name = err.name;
  if (err.stack !== undefined) copy.stack = err.stack;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' || typeof code === 'number') {
    Object.defineProperty(copy, 'code', { value: code, enumerable: true });
  }
  return copy;
}

/**
 * A codec's own errors (`CredentialsInvalidError` for text it cannot read) pass through; anything
 * else (a bug, an unreachable key service) is a store failure, not a verdict on the credentials.
 *
 * @param store the store's name for messages (`"postgres store"`)
 * @param step which codec method failed
 * @param cause what it threw
 * @returns the error to throw
 */
export function codecFailure(store: string, step: 'encode' | 'decode', cause: unknown): unknown {
  if (cause instanceof OAuthKitError) return cause;
  return new StoreError(`${store}: the codec's ${step}() failed`, { cause });
}
