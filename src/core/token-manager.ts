import type { OAuthClient } from './client.js';
import { Credentials, DEFAULT_EXPIRY_MARGIN_MS } from './credentials.js';
import {
  CredentialsMissingError,
  GrantRevokedError,
  OAuthKitError,
  ReauthRequiredError,
  StoreError,
} from './errors.js';
import { assertStoreKey, type CredentialStore } from './store.js';

/** Options of {@link TokenManager}. */
export interface TokenManagerOptions {
  /** The client that talks to the provider. */
  client: OAuthClient;
  /** Where credentials live. */
  store: CredentialStore;
  /** How long before expiry an access token is replaced (default 60 s). */
  expiryMarginMs?: number | undefined;
  /** How long a cross-process refresh lock may be held (default 30 s). */
  lockLeaseMs?: number | undefined;
  /** The clock, for tests (ms since the epoch). */
  now?: (() => number) | undefined;
}

/** Options of {@link TokenManager.refresh}. */
export interface RefreshOptions {
  /**
   * The access token an API just refused (a 401). The refresh is skipped when the store already
   * holds a different, unexpired one: another caller refreshed first.
   */
  rejectedAccessToken?: string | undefined;
  /** Refresh even when the stored access token is unexpired and not rejected. */
  force?: boolean | undefined;
}

/**
 * Keeps stored credentials fresh: refreshes at most once at a time per key in this process,
 * re-reads the store before refreshing so that a token another process saved is adopted, holds
 * the store's lock (when the store offers one) across processes, and saves what it refreshed.
 *
 * A refresh token is never lost: a rotated one is saved before anyone uses the new access
 * token, and an `invalid_grant` caused by another process rotating first is recognised and the
 * stored token adopted instead of marking the grant invalid.
 *
 * @example
 * ```ts
 * const tokens = new TokenManager({ client, store });
 * const credentials = await tokens.getFresh('user-1'); // refreshed and saved if needed
 * ```
 */
export class TokenManager {
  readonly client: OAuthClient;
  readonly store: CredentialStore;
  readonly #marginMs: number;
  readonly #leaseMs: number;
  readonly #now: () => number;
  readonly #inflight = new Map<string, Promise<Credentials>>();

  /** @param options the client, the store, and timing options */
  constructor(options: TokenManagerOptions) {
    if (!options?.client) throw new TypeError('"client" is required');
    if (!options.store || typeof options.store.get !== 'function') {
      throw new TypeError('"store" must be a CredentialStore');
    }
    this.client = options.client;
    this.store = options.store;
    this.#marginMs = options.expiryMarginMs ?? DEFAULT_EXPIRY_MARGIN_MS;
    this.#leaseMs = options.lockLeaseMs ?? 30_000;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Whether credentials are usable now, by the one definition ({@link Credentials.isUsable}) and
   * this manager's margin.
   *
   * @param credentials the credentials, or `undefined`
   * @returns `true` when an API call can be authorized with them
   */
  isUsable(credentials: Credentials | undefined): credentials is Credentials {
    return credentials !== undefined && credentials.isUsable(this.#now(), this.#marginMs);
  }

  /**
   * Whether an access token must be replaced before use.
   *
   * @param credentials the credentials
   * @returns `true` when missing or expiring within the margin
   */
  isExpired(credentials: Credentials): boolean {
    return credentials.isExpired(this.#now(), this.#marginMs);
  }

  /**
   * Reads the stored credentials.
   *
   * @param key the store key
   * @returns the credentials or `undefined`
   */
  async get(key: string): Promise<Credentials | undefined> {
    return this.store.get(assertStoreKey(key));
  }

  /**
   * Returns stored credentials with an unexpired access token, refreshing (and saving) first
   * when needed.
   *
   * @param key the store key
   * @returns usable credentials
   * @throws {CredentialsMissingError} nothing is stored for the key
   * @throws {GrantRevokedError} the grant is gone (now or earlier)
   * @throws {ReauthRequiredError} expired and no refresh token, or the provider wants a new sign-in
   */
  async getFresh(key: string): Promise<Credentials> {
    const stored = await this.get(key);
    if (stored !== undefined && !stored.invalid && !this.isExpired(stored)) return stored;
    return this.refresh(key);
  }

  /**
   * Refreshes the credentials under a key, single-flight: concurrent callers for the same key
   * share one refresh. Inside, the store is re-read (under its lock when it has one) and a
   * newer token adopted instead of refreshing again.
   *
   * @param key the store key
   * @param options a rejected access token, or `force`
   * @returns the fresh credentials, already saved
   */
  refresh(key: string, options: RefreshOptions = {}): Promise<Credentials> {
    assertStoreKey(key);
    const running = this.#inflight.get(key);
    if (running !== undefined) return running;
    const work = (async () => {
      try {
        const store = this.store;
        const run = () => this.#refreshLocked(key, options);
        return store.lock ? await store.lock(key, run, { leaseMs: this.#leaseMs }) : await run();
      } finally {
        this.#inflight.delete(key);
      }
    })();
    this.#inflight.set(key, work);
    return work;
  }

  async #refreshLocked(
    key: string,
    options: RefreshOptions & { afterRace?: boolean },
  ): Promise<Credentials> {
    const current = await this.store.get(key);
    if (current === undefined) {
      throw new CredentialsMissingError('no credentials are stored for this user; authorize first');
    }
    if (current.invalid) {
      throw new GrantRevokedError('the stored grant was revoked or expired; authorize again');
    }
    const rejected =
      options.rejectedAccessToken !== undefined &&
      current.accessToken === options.rejectedAccessToken;
    if (!options.force && !rejected && !this.isExpired(current)) return current;
    if (current.refreshToken === undefined) {
      throw new ReauthRequiredError(
        'the access token expired and there is no refresh token; authorize again',
      );
    }

    let fresh: Credentials;
    try {
      fresh = await this.client.refresh(current);
    } catch (err) {
      if (err instanceof GrantRevokedError && !options.afterRace) {
        return this.#onInvalidGrant(key, current, err);
      }
      if (err instanceof GrantRevokedError) await this.#save(key, current.with({ invalid: true }));
      throw err;
    }
    // While the token request was out, the user may have authorized again or disconnected (the
    // callback and revocation do not refresh, so they may not hold the lock on every store):
    // what they wrote wins over a refresh of the grant they replaced.
    const now = await this.store.get(key).catch(() => current);
    if (now === undefined) return fresh;
    if (now.refreshToken !== current.refreshToken || now.invalid !== current.invalid) return now;
    await this.#save(key, fresh);
    return fresh;
  }

  async #onInvalidGrant(
    key: string,
    used: Credentials,
    err: GrantRevokedError,
  ): Promise<Credentials> {
    // With a rotating provider, a process that read the store just before another one saved a
    // rotated token sends a refresh token that is no longer valid. That is not a revoked grant:
    // adopt what the other process saved.
    const now = await this.store.get(key);
    if (now !== undefined && !now.invalid && now.refreshToken !== used.refreshToken) {
      if (!this.isExpired(now)) return now;
      return this.#refreshLocked(key, { force: true, afterRace: true });
    }
    await this.#save(key, used.with({ invalid: true }));
    throw err;
  }

  async #save(key: string, credentials: Credentials): Promise<void> {
    // A rotated refresh token exists only in this response: try hard before giving up on it.
    let lastError: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await this.store.put(key, credentials);
        return;
      } catch (err) {
        lastError = err;
        await new Promise((r) => setTimeout(r, 50 * (attempt + 1)));
      }
    }
    if (lastError instanceof OAuthKitError) throw lastError;
    throw new StoreError('could not save refreshed credentials', { cause: lastError });
  }

  /**
   * Revokes the grant at the provider and, only when that succeeded, deletes the stored
   * credentials.
   *
   * @param key the store key
   * @returns `true` when something was revoked and deleted, `false` when nothing was stored
   * @throws {RevocationError} the provider refused; the credentials are kept
   */
  async revoke(key: string): Promise<boolean> {
    const current = await this.get(key);
    if (current === undefined) return false;
    await this.client.revoke(current);
    await this.store.delete(key);
    return true;
  }
}
