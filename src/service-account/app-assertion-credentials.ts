import { decodeJwt } from 'jose';
import { ConfigurationError, TokenRequestError, TransientError } from '../core/errors.js';
import {
  checkScopes,
  defaultSleep,
  nonNegative,
  TokenCredentials,
  withRetry,
  type MintedToken,
  type TokenCredentialsOptions,
} from './token-credentials.js';

/** Where the metadata server answers on every Google runtime (App Engine, Cloud Run, GCE, GKE). */
export const DEFAULT_METADATA_HOST = '169.254.169.254';

/** Process configuration a metadata client reads (pass `process.env`, `Deno.env.toObject()`, ...). */
export type Env = Readonly<Record<string, string | undefined>>;

/** Options of the metadata-server client. */
export interface MetadataOptions {
  /**
   * Process configuration. Only `GCE_METADATA_HOST` (`host` or `host:port`) is read from it: the
   * metadata server's address is fixed, or set by the process's own environment, never by data.
   */
  env?: Env | undefined;
  /** The fetch to reach the metadata server with; the global one by default. */
  fetch?: typeof fetch | undefined;
  /** Timeout of each request in milliseconds (default 3 s). */
  timeoutMs?: number | undefined;
  /** Extra attempts after a timeout, network error, 429 or 5xx (default 2). */
  retries?: number | undefined;
  /** How to wait between retries (for tests). */
  sleep?: ((ms: number) => Promise<void>) | undefined;
}

/** Options of {@link AppAssertionCredentials}. */
export interface AppAssertionCredentialsOptions
  extends Omit<TokenCredentialsOptions, 'fetch' | 'sleep'>, MetadataOptions {
  /** The scopes to ask for; the instance's default scopes when empty. */
  scopes?: readonly string[] | undefined;
  /** The service account on the instance: `default` unless the instance has several. */
  serviceAccount?: string | undefined;
}

const HOST_PATTERN =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?\.?|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * The metadata server's base URL: `http://169.254.169.254`, or `http://` + `GCE_METADATA_HOST`.
 *
 * @param env process configuration
 * @returns the base URL, without a trailing slash
 * @throws {ConfigurationError} when `GCE_METADATA_HOST` is not a bare `host[:port]`
 * @example
 * ```ts
 * metadataBaseUrl({ GCE_METADATA_HOST: '127.0.0.1:8080' }); // 'http://127.0.0.1:8080'
 * ```
 */
export function metadataBaseUrl(env: Env | undefined): string {
  const host = env?.['GCE_METADATA_HOST'];
  if (host === undefined || host === '') return `http://${DEFAULT_METADATA_HOST}`;
  if (!HOST_PATTERN.test(host)) {
    throw new ConfigurationError(
      'GCE_METADATA_HOST must be a bare host or host:port (no scheme, path or credentials)',
    );
  }
  return `http://${host}`;
}

/**
 * One GET to the metadata server, with the checks every request and response needs:
 * `Metadata-Flavor: Google` sent and required back, redirects refused, a timeout per attempt and
 * a bounded retry for timeouts, network errors, 429 and 5xx.
 *
 * @param path the path under the base URL, starting with `/computeMetadata/v1/`
 * @param options env, fetch, timeout and retries
 * @returns the response body as text
 * @throws {TransientError} no answer in time, or a 429/5xx, after every attempt
 * @throws {TokenRequestError} a redirect, a response without the header, or another error status
 * @example
 * ```ts
 * const email = await metadataGet('/computeMetadata/v1/instance/service-accounts/default/email');
 * ```
 */
export async function metadataGet(path: string, options: MetadataOptions = {}): Promise<string> {
  const base = metadataBaseUrl(options.env);
  const url = `${base}${path}`;
  const timeoutMs = nonNegative(options.timeoutMs, 'timeoutMs', 3000);
  const retries = nonNegative(options.retries, 'retries', 2);
  const send = options.fetch ?? fetch;
  const where = `the metadata server at ${base}`;
  const what = path.split('?')[0];
  return withRetry(retries, options.sleep ?? defaultSleep, async () => {
    let response: Response;
    try {
      response = await send(url, {
        headers: { 'Metadata-Flavor': 'Google' },
        // A redirect could take the request (and what it returns) anywhere.
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (cause) {
      throw networkError(cause, where, timeoutMs);
    }
    const status = response.status;
    if (response.type === 'opaqueredirect' || (status >= 300 && status < 400)) {
      await response.body?.cancel();
      throw new TokenRequestError(
        `${where} answered ${status || 'a redirect'} for ${what}; redirects are not followed`,
        { status },
      );
    }
    // Something that is not a metadata server (a proxy, a captive portal, another service on the
    // port) must not be trusted as one, whatever it answers.
    if (response.headers.get('metadata-flavor') !== 'Google') {
      await response.body?.cancel();
      throw new TokenRequestError(
        `${where} answered without "Metadata-Flavor: Google"; it is not a metadata server, so its answer was not used`,
        { status },
      );
    }
    if (status === 429 || status >= 500) {
      await response.body?.cancel();
      throw new TransientError(`${where} answered ${status} for ${what}`, { status });
    }
    if (status !== 200) {
      await response.body?.cancel();
      const hint = status === 404 ? ' (no such service account or path on this instance)' : '';
      throw new TokenRequestError(`${where} answered ${status} for ${what}${hint}`, { status });
    }
    try {
      return await response.text();
    } catch (cause) {
      throw networkError(cause, where, timeoutMs);
    }
  });
}

function networkError(cause: unknown, where: string, timeoutMs: number): TransientError {
  const timeout =
    cause instanceof Error && (cause.name === 'TimeoutError' || cause.name === 'AbortError');
  return timeout
    ? new TransientError(`${where} did not answer within ${timeoutMs} ms`)
    : new TransientError(`could not reach ${where}`, {}, { cause });
}

/** What {@link detectMetadataServer} found. */
export interface MetadataDetection {
  /** Whether a metadata server answered as one. */
  available: boolean;
  /** What happened, for error messages. */
  detail: string;
}

/**
 * Checks, with one short request, whether a metadata server answers: how
 * {@link applicationDefault} decides it runs on Google Cloud.
 *
 * @param options env, fetch, and `timeoutMs` (default 1 s)
 * @returns whether it answered as a metadata server, and what happened
 * @example
 * ```ts
 * const { available } = await detectMetadataServer({ env: process.env });
 * ```
 */
export async function detectMetadataServer(
  options: MetadataOptions = {},
): Promise<MetadataDetection> {
  const timeoutMs = options.timeoutMs ?? 1000;
  try {
    await metadataGet('/computeMetadata/v1/instance/', { ...options, timeoutMs, retries: 0 });
    return { available: true, detail: `answered at ${metadataBaseUrl(options.env)}` };
  } catch (err) {
    if (err instanceof ConfigurationError) throw err;
    return { available: false, detail: err instanceof Error ? err.message : String(err) };
  }
}

interface IdTokenEntry {
  token: string;
  renewAt: number;
}

/**
 * The app's own identity from the metadata server of App Engine, Cloud Run, Cloud Functions,
 * GCE and GKE: the seed's `AppAssertionCredentials(scope=...)`. Tokens are cached with their
 * expiry and renewed ahead of it; the account's email and ID tokens for other services too.
 *
 * @example
 * ```ts
 * const credentials = new AppAssertionCredentials({
 *   scopes: ['https://www.googleapis.com/auth/tasks'],
 * });
 * const http = credentials.authorize();
 * const res = await http('https://tasks.googleapis.com/tasks/v1/users/@me/lists');
 * ```
 */
export class AppAssertionCredentials extends TokenCredentials {
  /** The scopes tokens are asked for (empty: the instance's default scopes). */
  readonly scopes: readonly string[];
  /** The service account on the instance (`default` unless named). */
  readonly serviceAccount: string;
  /** The metadata server's base URL. */
  readonly metadataUrl: string;
  /** A label: `metadata:ACCOUNT`. */
  readonly key: string;
  readonly #options: AppAssertionCredentialsOptions;
  #email: Promise<string> | undefined;
  readonly #idTokens = new Map<string, IdTokenEntry>();
  readonly #idInflight = new Map<string, Promise<string>>();

  /**
   * @param options scopes, service account, env (`GCE_METADATA_HOST`), cache, timing
   * @throws {TypeError} naming a malformed option
   * @throws {ConfigurationError} `GCE_METADATA_HOST` is malformed
   */
  constructor(options: AppAssertionCredentialsOptions = {}) {
    super(options);
    this.scopes = checkScopes(options.scopes);
    const account = options.serviceAccount ?? 'default';
    if (typeof account !== 'string' || account.length === 0 || /[/?#\s]/.test(account)) {
      throw new TypeError('"serviceAccount" must be an email or "default"');
    }
    this.serviceAccount = account;
    this.metadataUrl = metadataBaseUrl(options.env);
    nonNegative(options.timeoutMs, 'timeoutMs', 0);
    nonNegative(options.retries, 'retries', 0);
    this.#options = options;
    this.key = `metadata:${account}`;
  }

  #path(leaf: string): string {
    return `/computeMetadata/v1/instance/service-accounts/${encodeURIComponent(this.serviceAccount)}/${leaf}`;
  }

  #get(path: string): Promise<string> {
    return metadataGet(path, this.#options);
  }

  /**
   * A copy asking for other scopes; the original is unchanged.
   *
   * @param scopes the scopes
   * @returns new credentials with their own token cache
   * @example
   * ```ts
   * const readonly = credentials.withScopes(['https://www.googleapis.com/auth/tasks.readonly']);
   * ```
   */
  withScopes(scopes: readonly string[]): AppAssertionCredentials {
    return new AppAssertionCredentials({ ...this.#options, scopes });
  }

  /**
   * The service account's email, asked once.
   *
   * @returns the email
   * @throws {TransientError} the metadata server did not answer
   * @example
   * ```ts
   * const email = await credentials.getEmail();
   * ```
   */
  getEmail(): Promise<string> {
    if (this.#email === undefined) {
      const p = this.#get(this.#path('email')).then((text) => {
        const email = text.trim();
        if (!email) throw new TokenRequestError('the metadata server gave an empty email');
        return email;
      });
      this.#email = p;
      p.catch(() => {
        if (this.#email === p) this.#email = undefined;
      });
    }
    return this.#email;
  }

  /**
   * The project the instance runs in.
   *
   * @returns the project id
   * @example
   * ```ts
   * const project = await credentials.getProjectId();
   * ```
   */
  async getProjectId(): Promise<string> {
    return (await this.#get('/computeMetadata/v1/project/project-id')).trim();
  }

  /**
   * An ID token (a JWT signed by Google) for calling another service that checks the caller's
   * identity, e.g. a Cloud Run service. Cached per audience and renewed ahead of its expiry.
   *
   * @param audience the receiving service's URL or client id (the token's `aud`)
   * @param options `format: 'full'` adds project and instance claims
   * @returns the ID token
   * @throws {TokenRequestError} the metadata server refused or gave something that is not a JWT
   * @example
   * ```ts
   * const idToken = await credentials.getIdToken('https://other-service-xyz.a.run.app');
   * await fetch('https://other-service-xyz.a.run.app/', { headers: { authorization: `Bearer ${idToken}` } });
   * ```
   */
  async getIdToken(
    audience: string,
    options: { format?: 'standard' | 'full' | undefined } = {},
  ): Promise<string> {
    if (typeof audience !== 'string' || audience.length === 0) {
      throw new TypeError('"audience" must be a non-empty string');
    }
    const format = options.format ?? 'standard';
    const cacheKey = `${format} ${audience}`;
    const cached = this.#idTokens.get(cacheKey);
    if (cached !== undefined && cached.renewAt > this.now()) return cached.token;
    const running = this.#idInflight.get(cacheKey);
    if (running !== undefined) return running;
    const work = (async () => {
      try {
        const query = new URLSearchParams({ audience, format });
        const started = this.now();
        const token = (await this.#get(`${this.#path('identity')}?${query}`)).trim();
        let exp: unknown;
        try {
          exp = decodeJwt(token).exp;
        } catch {
          throw new TokenRequestError('the metadata server gave an ID token that is not a JWT');
        }
        const expiresAt = typeof exp === 'number' ? exp * 1000 : started;
        const lifetime = Math.max(0, expiresAt - started);
        this.#idTokens.set(cacheKey, {
          token,
          renewAt: expiresAt - Math.min(5 * 60_000, lifetime / 2),
        });
        return token;
      } finally {
        this.#idInflight.delete(cacheKey);
      }
    })();
    this.#idInflight.set(cacheKey, work);
    return work;
  }

  protected async sharedCacheKey(): Promise<string | undefined> {
    // Keyed by the account's email, not "default": instances running as different accounts may
    // share one cache, and must never pick up each other's tokens.
    const email = await this.getEmail();
    return `metadata|${this.metadataUrl}|${email}|${this.scopes.join(' ')}`;
  }

  protected async mintToken(): Promise<MintedToken> {
    const query =
      this.scopes.length > 0 ? `?scopes=${encodeURIComponent(this.scopes.join(','))}` : '';
    const started = this.now();
    const text = await this.#get(`${this.#path('token')}${query}`);
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      throw new TokenRequestError('the metadata server gave a token response that is not JSON');
    }
    const token = body['access_token'];
    const expiresIn = body['expires_in'];
    if (typeof token !== 'string' || token.length === 0) {
      throw new TokenRequestError('the metadata server gave a token response without access_token');
    }
    if (typeof expiresIn !== 'number' || !Number.isFinite(expiresIn) || expiresIn <= 0) {
      throw new TokenRequestError('the metadata server gave a token response without expires_in');
    }
    return { token, expiresAt: started + expiresIn * 1000 };
  }

  /**
   * What is safe to show: the account, scopes and metadata server.
   *
   * @returns a plain object without tokens
   * @example
   * ```ts
   * console.log(JSON.stringify(credentials)); // safe to log
   * ```
   */
  toJSON(): Record<string, unknown> {
    return {
      type: 'metadata_server',
      service_account: this.serviceAccount,
      scopes: [...this.scopes],
      metadata_url: this.metadataUrl,
    };
  }

  /**
   * A redacted view for `console.log` and `util.inspect`.
   *
   * @returns the same as {@link AppAssertionCredentials.toJSON}
   */
  [Symbol.for('nodejs.util.inspect.custom')](): Record<string, unknown> {
    return this.toJSON();
  }
}
