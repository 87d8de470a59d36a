import type { CredentialStore } from '../core/store.js';

/** Request-scoped storage, as `AsyncLocalStorage` provides it. */
export interface AsyncContext<T> {
  /** Runs `fn` with `value` as the current store. */
  run<R>(value: T, fn: () => R): R;
  /** @returns the current store, or `undefined` outside `run` */
  getStore(): T | undefined;
}

/**
 * What the decorator needs from the runtime beyond Web APIs. The Node entry of `oauthkit`
 * (also used on Bun and Deno) fills these in; elsewhere they stay empty and the decorator says
 * what to pass instead.
 */
export interface RuntimeHooks {
  /** Makes request-scoped storage (`AsyncLocalStorage`). */
  createAsyncContext?: (<T>() => AsyncContext<T>) | undefined;
  /** Reads a text file (for `fromClientSecrets(path)`). */
  readTextFile?: ((path: string) => Promise<string>) | undefined;
  /** Opens the embedded default store (a SQLite file). */
  openDefaultStore?: (() => Promise<CredentialStore>) | undefined;
}

/** The hooks in force. */
export const runtime: RuntimeHooks = {};

/**
 * Fills in runtime hooks; called by the Node entry.
 *
 * @param hooks the hooks to set
 */
export function registerRuntime(hooks: RuntimeHooks): void {
  Object.assign(runtime, hooks);
}

/**
 * Makes request-scoped storage: the registered one, else a global `AsyncLocalStorage` (Cloudflare
 * Workers with `nodejs_als`), else none.
 *
 * @returns the storage or `undefined`
 */
export function createAsyncContext<T>(): AsyncContext<T> | undefined {
  if (runtime.createAsyncContext) return runtime.createAsyncContext<T>();
  const Als = (globalThis as { AsyncLocalStorage?: new () => AsyncContext<T> }).AsyncLocalStorage;
  return Als ? new Als() : undefined;
}
