import * as oauth from 'oauth4webapi';
import { classifyTokenError, sendTokenRequest } from '../core/client.js';
import { ConfigurationError, GrantRevokedError } from '../core/errors.js';
import { requestOptions } from '../core/provider.js';
import { checkTokenUri, parseCredentialsFile, type AuthorizedUserFile } from './key-file.js';
import {
  defaultSleep,
  nonNegative,
  TokenCredentials,
  withRetry,
  type MintedToken,
  type TokenCredentialsOptions,
} from './token-credentials.js';

/** Options of {@link AuthorizedUserCredentials}. */
export interface AuthorizedUserCredentialsOptions extends TokenCredentialsOptions {
  /** `token_uri` values accepted besides Google's (see {@link ServiceAccountCredentialsOptions}). */
  allowedTokenUris?: readonly string[] | undefined;
  /** Allow a loopback `http:` token endpoint that is in `allowedTokenUris` (tests only). */
  allowHttpLoopback?: boolean | undefined;
  /** Timeout of each token request in milliseconds (default 10 s). */
  timeoutMs?: number | undefined;
  /** Extra attempts after a transient failure, default 1. */
  retries?: number | undefined;
  /** Where the file came from, for error messages. */
  source?: string | undefined;
}

/**
 * A developer's own Google credentials, as `gcloud auth application-default login` saves them
 * (`"type": "authorized_user"`): access tokens by refreshing the saved refresh token. What
 * {@link applicationDefault} returns on a developer's machine.
 *
 * Tokens are kept in memory only (the shared cache is not used: these are one person's
 * credentials, not a fleet's).
 *
 * @example
 * ```ts
 * const credentials = new AuthorizedUserCredentials(await readFile(path, 'utf8'));
 * const { token } = await credentials.getAccessToken();
 * ```
 */
export class AuthorizedUserCredentials extends TokenCredentials {
  /** The OAuth client the refresh token belongs to. */
  readonly clientId: string;
  /** The token endpoint refreshes go to. */
  readonly tokenUri: string;
  /** The project billed for quota, if the file names one. */
  readonly quotaProjectId: string | undefined;
  /** Always empty: the refresh token's grant decides the scopes. */
  readonly scopes: readonly string[] = Object.freeze([]);
  /** A label: `authorized-user:CLIENT_ID`. */
  readonly key: string;
  readonly #clientSecret: string;
  #refreshToken: string;
  readonly #options: AuthorizedUserCredentialsOptions;

  /**
   * @param file the `authorized_user` file: JSON text or the parsed object
   * @param options token endpoint allowlist, timing
   * @throws {ConfigurationError} the file is malformed or its `token_uri` is not allowed
   */
  constructor(file: string | AuthorizedUserFile, options: AuthorizedUserCredentialsOptions = {}) {
    super({ ...options, cache: undefined });
    const source =
      options.source ??
      (typeof file === 'string' ? 'the credentials string' : 'the credentials object');
    const parsed = parseCredentialsFile(file, source);
    if (parsed.type !== 'authorized_user') {
      throw new ConfigurationError(`${source} is of type "${parsed.type}", not "authorized_user"`);
    }
    this.clientId = parsed.client_id;
    this.#clientSecret = parsed.client_secret;
    this.#refreshToken = parsed.refresh_token;
    this.tokenUri = checkTokenUri(
      parsed.token_uri ?? undefined,
      options.allowedTokenUris,
      options.allowHttpLoopback,
      source,
    );
    this.quotaProjectId = parsed.quota_project_id ?? undefined;
    nonNegative(options.timeoutMs, 'timeoutMs', 0);
    nonNegative(options.retries, 'retries', 0);
    this.#options = options;
    this.key = `authorized-user:${this.clientId}`;
  }

  protected async sharedCacheKey(): Promise<string | undefined> {
    return undefined;
  }

  protected override extraHeaders(): Record<string, string> {
    return this.quotaProjectId ? { 'x-goog-user-project': this.quotaProjectId } : {};
  }

  protected async mintToken(): Promise<MintedToken> {
    const options = this.#options;
    const as: oauth.AuthorizationServer = {
      issuer: new URL(this.tokenUri).origin,
      token_endpoint: this.tokenUri,
    };
    const client: oauth.Client = { client_id: this.clientId };
    const timeoutMs = options.timeoutMs ?? 10_000;
    return withRetry(options.retries ?? 1, options.sleep ?? defaultSleep, async () => {
      const started = this.now();
      const response = await sendTokenRequest(
        () =>
          oauth.refreshTokenGrantRequest(
            as,
            client,
            oauth.ClientSecretPost(this.#clientSecret),
            this.#refreshToken,
            { signal: AbortSignal.timeout(timeoutMs), ...requestOptions(options) },
          ),
        { endpoint: this.tokenUri, timeoutMs },
      );
      let result: oauth.TokenEndpointResponse;
      try {
        result = await oauth.processRefreshTokenResponse(as, client, response);
      } catch (err) {
        const typed = classifyTokenError(err);
        if (typed instanceof GrantRevokedError) {
          throw new GrantRevokedError(
            `${typed.message}: the saved gcloud credentials are revoked or expired; run "gcloud auth application-default login" again`,
            { error: typed.error, errorDescription: typed.error_description, status: typed.status },
          );
        }
        throw typed;
      }
      if (result.refresh_token !== undefined) this.#refreshToken = result.refresh_token;
      return {
        token: result.access_token,
        expiresAt: started + (result.expires_in ?? 3600) * 1000,
      };
    });
  }

  /**
   * What is safe to show: the client id, token endpoint and quota project. Never the secret or
   * the refresh token.
   *
   * @returns a plain object without secrets
   * @example
   * ```ts
   * console.log(JSON.stringify(credentials)); // safe to log
   * ```
   */
  toJSON(): Record<string, unknown> {
    return {
      type: 'authorized_user',
      client_id: this.clientId,
      token_uri: this.tokenUri,
      quota_project_id: this.quotaProjectId,
    };
  }

  /**
   * A redacted view for `console.log` and `util.inspect`.
   *
   * @returns the same as {@link AuthorizedUserCredentials.toJSON}
   */
  [Symbol.for('nodejs.util.inspect.custom')](): Record<string, unknown> {
    return this.toJSON();
  }
}
