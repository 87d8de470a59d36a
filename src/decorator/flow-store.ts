import type { PendingAuthorization } from '../core/client.js';
import { createSealer, type Sealer } from './seal.js';

/** A pending authorization flow: everything the callback needs, plain JSON. */
export interface FlowRecord {
  /** A random id for this flow (single use). */
  id: string;
  /** State, PKCE verifier, nonce, issuer, redirect URI and scopes. */
  pending: PendingAuthorization;
  /** The same-origin path to return to. */
  returnTo: string;
  /** The app user (or built-in session user) who started the flow, if any. */
  user?: string | undefined;
  /** When the flow expires (ms since the epoch). */
  expiresAt: number;
}

/**
 * Where pending flows wait for their callback (the seed kept Flow objects in memcache). The
 * browser holds whatever {@link FlowStore.save} returns in a cookie, one per flow.
 */
export interface FlowStore {
  /**
   * Keeps a flow until its callback.
   *
   * @param record the flow
   * @returns the cookie value that identifies (or contains) it
   */
  save(record: FlowRecord): Promise<string>;
  /**
   * Takes a flow, once: a second take of the same flow, even a concurrent one, finds nothing.
   *
   * @param cookieValue what {@link FlowStore.save} returned
   * @returns the flow, or `undefined` when unknown, used, expired or tampered with
   */
  take(cookieValue: string): Promise<FlowRecord | undefined>;
}

/** Options of {@link createSealedCookieFlowStore}. */
export interface SealedCookieFlowStoreOptions {
  /** The app's secrets, newest first. */
  secrets: readonly string[];
  /** How many used flow ids to remember per process (default 100,000). */
  maxRemembered?: number | undefined;
  /** The clock, for tests. */
  now?: (() => number) | undefined;
}

/**
 * The default flow store: the whole flow record sealed (AES-256-GCM) into the cookie, so no
 * server state is needed. Each flow id is remembered as used until the flow would have expired,
 * so a replayed callback is refused without a token request. That memory is per process: to
 * refuse replays across many instances, use a server-side flow store (Redis, SQL).
 *
 * @param options the secrets
 * @returns the flow store
 * @example
 * ```ts
 * const flows = createSealedCookieFlowStore({ secrets: [process.env.OAUTHKIT_SECRET!] });
 * ```
 */
export function createSealedCookieFlowStore(options: SealedCookieFlowStoreOptions): FlowStore {
  const sealer: Sealer = createSealer(options.secrets, 'flow');
  const now = options.now ?? Date.now;
  const max = options.maxRemembered ?? 100_000;
  const used = new Map<string, number>();

  const forgetExpired = () => {
    const t = now();
    for (const [id, exp] of used) {
      if (exp <= t) used.delete(id);
      else break; // insertion order is close to expiry order: stop at the first live one
    }
    while (used.size >= max) used.delete(used.keys().next().value as string);
  };

  return {
    save: (record) => sealer.seal(record, 'oauthkit-flow'),
    async take(cookieValue) {
      const record = (await sealer.unseal(cookieValue, 'oauthkit-flow')) as FlowRecord | undefined;
      if (!isFlowRecord(record) || record.expiresAt <= now()) return undefined;
      forgetExpired();
      if (used.has(record.id)) return undefined;
      used.set(record.id, record.expiresAt);
      return record;
    },
  };
}

/**
 * Checks the shape of a flow record read back from a cookie or a store.
 *
 * @param value the candidate
 * @returns whether it is a well-formed {@link FlowRecord}
 */
export function isFlowRecord(value: unknown): value is FlowRecord {
  if (value === null || typeof value !== 'object') return false;
  const r = value as Record<string, unknown>;
  const p = r['pending'] as Record<string, unknown> | null;
  return (
    typeof r['id'] === 'string' &&
    typeof r['returnTo'] === 'string' &&
    typeof r['expiresAt'] === 'number' &&
    (r['user'] === undefined || typeof r['user'] === 'string') &&
    p !== null &&
    typeof p === 'object' &&
    typeof p['state'] === 'string' &&
    typeof p['codeVerifier'] === 'string' &&
    typeof p['issuer'] === 'string' &&
    typeof p['redirectUri'] === 'string' &&
    Array.isArray(p['scopes']) &&
    (p['nonce'] === undefined || typeof p['nonce'] === 'string')
  );
}
