import * as oauth from 'oauth4webapi';
import { createRemoteJWKSet, customFetch, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { Credentials, splitScopes } from './credentials.js';
import {
  AuthorizationDeniedError,
  AuthorizationResponseError,
  ConfigurationError,
  GrantRevokedError,
  IdTokenError,
  InsufficientScopeError,
  OAuthKitError,
  ReauthRequiredError,
  RevocationError,
  TokenRequestError,
  TransientError,
  type ServerErrorFields,
} from './errors.js';
import {
  checkMetadata,
  discoverProvider,
  GOOGLE,
  parseEndpoint,
  requestOptions,
  type ProviderMetadata,
} from './provider.js';

/** Options of {@link OAuthClient}. */
export interface OAuthClientOptions {
  /** The OAuth client id. */
  clientId: string;
  /** The client secret; omit for a public client. */
  clientSecret?: string | undefined;
  /**
   * The redirect URI registered with the provider. The token request always uses this exact
   * value, never one derived from the incoming request.
   */
  redirectUri: string;
  /**
   * The provider: Google by default. Give `issuer` to use any OpenID Connect / RFC 8414
   * provider through metadata discovery, or `provider` to give the endpoints by hand.
   */
  issuer?: string | undefined;
  /** Provider metadata given by hand (see {@link GOOGLE}). */
  provider?: ProviderMetadata | undefined;
  /** How the client authenticates at the token endpoint (default `client_secret_basic`). */
  clientAuthentication?: 'client_secret_basic' | 'client_secret_post' | 'none' | undefined;
  /** The fetch to reach the provider with; the global one by default. */
  fetch?: typeof fetch | undefined;
  /** Allow `http://` loopback endpoints (tests and local demos only). */
  allowHttpLoopback?: boolean | undefined;
  /** Timeout of each request to the provider in milliseconds (default 10 s). */
  timeoutMs?: number | undefined;
  /** Allowed clock skew for ID token time claims, in seconds (default 60). */
  clockToleranceSec?: number | undefined;
}

/** Options of {@link OAuthClient.buildAuthorizationUrl}. */
export interface AuthorizationUrlOptions {
  /** The scopes to ask for. */
  scopes: readonly string[];
  /** `access_type` (Google): `offline` (the default) asks for a refresh token. */
  accessType?: 'offline' | 'online' | undefined;
  /** `include_granted_scopes=true` (Google): the new grant keeps the scopes granted before. */
  includeGrantedScopes?: boolean | undefined;
  /** `login_hint`: the account to preselect. */
  loginHint?: string | undefined;
  /** `prompt`, e.g. `consent` or `select_account`. */
  prompt?: string | undefined;
  /** Further parameters; they cannot override the ones oauthkit sets for security. */
  extraParams?: Record<string, string> | undefined;
}

/**
 * What must be kept between the redirect to the provider and the callback: plain JSON, safe to
 * seal into a cookie or a flow record. Never send it to the browser unsealed.
 */
export interface PendingAuthorization {
  /** The `state` sent; the callback must carry exactly this. */
  state: string;
  /** The PKCE code verifier. */
  codeVerifier: string;
  /** The OpenID Connect nonce, when `openid` was asked for. */
  nonce?: string | undefined;
  /** The issuer the request went to. */
  issuer: string;
  /** The redirect URI the request named. */
  redirectUri: string;
  /** The scopes asked for. */
  scopes: string[];
  /** When the request was made (ms since the epoch). */
  createdAt: number;
}

/** The parameters oauthkit sets itself; `extraParams` may not change them. */
const RESERVED_PARAMS = new Set([
  'client_id',
  'redirect_uri',
  'response_type',
  'scope',
  'state',
  'nonce',
  'code_challenge',
  'code_challenge_method',
  'response_mode',
  'request',
  'request_uri',
]);

/**
 * An OAuth 2.0 / OpenID Connect client: the authorization-code flow with PKCE, refresh and
 * revocation, following RFC 9700 (OAuth 2.0 Security BCP).
 *
 * Protocol work is done by `oauth4webapi`; ID token signatures are checked with `jose` against
 * the provider's JWKS. Errors are oauthkit's typed errors and never contain a token or code.
 *
 * @example
 * ```ts
 * const client = new OAuthClient({
 *   clientId: '123.apps.googleusercontent.com',
 *   clientSecret: process.env.CLIENT_SECRET,
 *   redirectUri: 'https://app.example/oauth2callback',
 * });
 * const { url, pending } = await client.buildAuthorizationUrl({ scopes: ['openid', 'email'] });
 * // keep `pending` sealed, redirect to `url`; then, in the callback:
 * const credentials = await client.exchangeCode(new URL(request.url).searchParams, pending);
 * ```
 */
export class OAuthClient {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly #options: OAuthClientOptions;
  readonly #client: oauth.Client;
  readonly #auth: oauth.ClientAuth;
  #metadata: Promise<oauth.AuthorizationServer> | undefined;
  #jwks: JWTVerifyGetKey | undefined;

  /**
   * @param options client id, secret, redirect URI and provider
   * @throws {TypeError} naming a missing or malformed option
   * @throws {ConfigurationError} when an endpoint is not https (or allowed loopback http)
   */
  constructor(options: OAuthClientOptions) {
    if (options === null || typeof options !== 'object') {
      throw new TypeError('"options" must be an object');
    }
    if (typeof options.clientId !== 'string' || options.clientId.length === 0) {
      throw new TypeError('"clientId" must be a non-empty string');
    }
    if (options.clientSecret !== undefined && typeof options.clientSecret !== 'string') {
      throw new TypeError('"clientSecret" must be a string when given');
    }
    if (typeof options.redirectUri !== 'string' || !URL.canParse(options.redirectUri)) {
      throw new TypeError('"redirectUri" must be an absolute URL');
    }
    if (options.issuer !== undefined && options.provider !== undefined) {
      throw new TypeError('give either "issuer" or "provider", not both');
    }
    const redirect = parseEndpoint(options.redirectUri, 'redirectUri', options.allowHttpLoopback);
    if (redirect.hash) throw new TypeError('"redirectUri" must not have a fragment');

    const method =
      options.clientAuthentication ?? (options.clientSecret ? 'client_secret_basic' : 'none');
    if (method !== 'none' && !options.clientSecret) {
      throw new TypeError(`"clientSecret" is required for ${method}`);
    }
    this.clientId = options.clientId;
    this.redirectUri = options.redirectUri;
    this.#options = options;
    this.#client = {
      client_id: options.clientId,
      [oauth.clockTolerance]: options.clockToleranceSec ?? 60,
    };
    this.#auth =
      method === 'client_secret_post'
        ? oauth.ClientSecretPost(options.clientSecret as string)
        : method === 'client_secret_basic'
          ? oauth.ClientSecretBasic(options.clientSecret as string)
          : oauth.None();
    if (options.issuer === undefined) {
      const given = options.provider ?? GOOGLE;
      checkMetadata(given, options.allowHttpLoopback);
      this.#metadata = Promise.resolve({ ...given } as oauth.AuthorizationServer);
    }
  }

  /**
   * The provider's metadata: given, Google's, or discovered once from `issuer` (a failed
   * discovery is retried on the next call).
   *
   * @returns the provider metadata
   */
  async metadata(): Promise<ProviderMetadata> {
    return (await this.#as()) as ProviderMetadata;
  }

  #as(): Promise<oauth.AuthorizationServer> {
    if (this.#metadata === undefined) {
      const p = discoverProvider(this.#options.issuer as string, this.#options).then(
        (m) => m as oauth.AuthorizationServer,
      );
      this.#metadata = p;
      p.catch(() => {
        if (this.#metadata === p) this.#metadata = undefined;
      });
    }
    return this.#metadata;
  }

  #request(): { signal: AbortSignal } & ReturnType<typeof requestOptions> {
    return {
      signal: AbortSignal.timeout(this.#options.timeoutMs ?? 10_000),
      ...requestOptions(this.#options),
    };
  }

  /**
   * Builds the URL that starts the authorization-code flow: `response_type=code`, PKCE S256, a
   * fresh 256-bit `state`, a `nonce` when `openid` is asked for, `access_type=offline`.
   *
   * @param options scopes and optional parameters
   * @returns the URL to redirect to, and the {@link PendingAuthorization} to keep sealed until
   *   the callback
   * @see https://www.rfc-editor.org/rfc/rfc9700#section-2.1.1
   */
  async buildAuthorizationUrl(
    options: AuthorizationUrlOptions,
  ): Promise<{ url: URL; pending: PendingAuthorization }> {
    if (!options || !Array.isArray(options.scopes) || options.scopes.length === 0) {
      throw new TypeError('"scopes" must be a non-empty array of strings');
    }
    for (const s of options.scopes) {
      if (typeof s !== 'string' || s.length === 0 || /\s/.test(s)) {
        throw new TypeError(`"scopes" contains an invalid scope: ${JSON.stringify(s)}`);
      }
    }
    const as = await this.#as();
    const scopes = [...new Set(options.scopes)];
    const codeVerifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const nonce = scopes.includes('openid') ? oauth.generateRandomNonce() : undefined;
    const url = new URL(as.authorization_endpoint as string);
    const p = url.searchParams;
    for (const [k, v] of Object.entries(options.extraParams ?? {})) {
      if (RESERVED_PARAMS.has(k)) {
        throw new TypeError(`"extraParams" may not set "${k}"; oauthkit sets it itself`);
      }
      p.set(k, String(v));
    }
    p.set('client_id', this.clientId);
    p.set('redirect_uri', this.redirectUri);
    p.set('response_type', 'code');
    p.set('scope', scopes.join(' '));
    p.set('state', state);
    p.set('code_challenge', await oauth.calculatePKCECodeChallenge(codeVerifier));
    p.set('code_challenge_method', 'S256');
    if (nonce !== undefined) p.set('nonce', nonce);
    p.set('access_type', options.accessType ?? 'offline');
    if (options.includeGrantedScopes) p.set('include_granted_scopes', 'true');
    if (options.loginHint) p.set('login_hint', options.loginHint);
    if (options.prompt) p.set('prompt', options.prompt);
    return {
      url,
      pending: {
        state,
        codeVerifier,
        nonce,
        issuer: as.issuer,
        redirectUri: this.redirectUri,
        scopes,
        createdAt: Date.now(),
      },
    };
  }

  /**
   * Checks the callback (state, then `iss` per RFC 9207, then error) **before** any token
   * request, then exchanges the code using the configured redirect URI and validates the
   * response: ID token signature against the provider's JWKS, its claims, and the nonce.
   *
   * @param callbackParams the query of the request to the redirect URI
   * @param pending what {@link OAuthClient.buildAuthorizationUrl} returned for this flow
   * @returns the new credentials, with the **granted** scopes
   * @throws {AuthorizationResponseError} wrong or missing state or iss, no code (no token request made)
   * @throws {AuthorizationDeniedError} the provider sent an error such as `access_denied`
   * @throws {IdTokenError} the ID token failed validation
   * @see https://www.rfc-editor.org/rfc/rfc9207
   */
  async exchangeCode(
    callbackParams: URLSearchParams,
    pending: PendingAuthorization,
  ): Promise<Credentials> {
    if (!(callbackParams instanceof URLSearchParams)) {
      throw new TypeError('"callbackParams" must be URLSearchParams');
    }
    checkPending(pending);
    const as = await this.#as();
    if (pending.issuer !== as.issuer) {
      throw new AuthorizationResponseError('the pending authorization was for another provider');
    }
    if (pending.redirectUri !== this.redirectUri) {
      throw new AuthorizationResponseError('the pending authorization named another redirect URI');
    }
    let params: URLSearchParams;
    try {
      params = oauth.validateAuthResponse(as, this.#client, callbackParams, pending.state);
    } catch (err) {
      if (err instanceof oauth.AuthorizationResponseError) {
        throw new AuthorizationDeniedError(`the provider refused the authorization: ${err.error}`, {
          error: err.error,
          errorDescription: err.error_description,
        });
      }
      // oauth4webapi's messages name the check that failed and hold no parameter values; its
      // `cause` holds the parameters (the code among them), so it is not kept.
      throw new AuthorizationResponseError(
        `the authorization response is invalid: ${err instanceof Error ? err.message : 'unknown'}`,
      );
    }
    if (!params.get('code')) {
      throw new AuthorizationResponseError('the authorization response has no "code"');
    }

    const response = await this.#tokenRequest(() =>
      oauth.authorizationCodeGrantRequest(
        as,
        this.#client,
        this.#auth,
        params,
        this.redirectUri,
        pending.codeVerifier,
        this.#request(),
      ),
    );
    const result = await this.#processTokenResponse(() =>
      oauth.processAuthorizationCodeResponse(as, this.#client, response, {
        expectedNonce: pending.nonce ?? oauth.expectNoNonce,
        requireIdToken: pending.scopes.includes('openid'),
      }),
    );
    let claims: Record<string, unknown> | undefined;
    if (result.id_token !== undefined) {
      claims = await this.#verifyIdToken(as, result.id_token, pending.nonce);
    }
    return new Credentials({
      accessToken: result.access_token,
      refreshToken: result.refresh_token,
      expiresAt: expiresAt(result.expires_in),
      // RFC 6749 section 5.1: "scope" may be omitted when it is identical to what was asked.
      scopes: result.scope !== undefined ? splitScopes(result.scope) : pending.scopes,
      idToken: result.id_token,
      idTokenClaims: claims,
      tokenType: normalizeTokenType(result.token_type),
    });
  }

  /**
   * Gets a new access token with the refresh token. The result keeps the refresh token when the
   * server sends none, takes the new one when it rotates, keeps the ID token when the response
   * has none, and validates a new one (signature; same `iss`, `sub`, `aud`).
   *
   * This is the bare protocol step: it neither stores nor coordinates. Use a `TokenManager`
   * (or the authorized fetch) for that.
   *
   * @param credentials credentials with a refresh token
   * @returns the refreshed credentials
   * @throws {GrantRevokedError} `invalid_grant`: the grant is gone
   * @throws {ReauthRequiredError} the user must sign in again (`invalid_rapt` and similar)
   * @throws {InsufficientScopeError} `invalid_scope`
   * @throws {TransientError} network, timeout, 5xx, or a non-conforming response
   * @throws {TokenRequestError} any other refusal (`invalid_client`, ...)
   */
  async refresh(credentials: Credentials): Promise<Credentials> {
    if (!(credentials instanceof Credentials)) {
      throw new TypeError('"credentials" must be a Credentials object');
    }
    if (credentials.refreshToken === undefined) {
      throw new ReauthRequiredError('the credentials have no refresh token; authorize again');
    }
    const as = await this.#as();
    const refreshToken = credentials.refreshToken;
    const response = await this.#tokenRequest(() =>
      oauth.refreshTokenGrantRequest(as, this.#client, this.#auth, refreshToken, this.#request()),
    );
    const result = await this.#processTokenResponse(() =>
      oauth.processRefreshTokenResponse(as, this.#client, response),
    );
    let idToken = credentials.idToken;
    let claims = credentials.idTokenClaims;
    if (result.id_token !== undefined) {
      const fresh = await this.#verifyIdToken(as, result.id_token, undefined);
      // OpenID Connect Core 12.2: a refreshed ID token must name the same issuer, subject and
      // audience as the original one.
      if (claims !== undefined) {
        for (const c of ['iss', 'sub'] as const) {
          if (fresh[c] !== claims[c]) {
            throw new IdTokenError(`the refreshed ID token has a different "${c}"`);
          }
        }
        if (JSON.stringify(audience(fresh)) !== JSON.stringify(audience(claims))) {
          throw new IdTokenError('the refreshed ID token has a different "aud"');
        }
      }
      idToken = result.id_token;
      claims = fresh;
    }
    return new Credentials({
      accessToken: result.access_token,
      refreshToken: result.refresh_token ?? credentials.refreshToken,
      expiresAt: expiresAt(result.expires_in),
      scopes: result.scope !== undefined ? splitScopes(result.scope) : credentials.scopes,
      idToken,
      idTokenClaims: claims,
      tokenType: normalizeTokenType(result.token_type),
    });
  }

  /**
   * Revokes the grant at the provider (RFC 7009): the refresh token when there is one, else the
   * access token. A token the provider no longer knows counts as revoked.
   *
   * @param credentials the credentials to revoke
   * @throws {ConfigurationError} the provider has no revocation endpoint
   * @throws {RevocationError} the provider refused or could not be reached
   * @see https://www.rfc-editor.org/rfc/rfc7009#section-2
   */
  async revoke(credentials: Credentials): Promise<void> {
    const token = credentials.refreshToken ?? credentials.accessToken;
    if (token === undefined) return;
    const as = await this.#as();
    if (!as.revocation_endpoint) {
      throw new ConfigurationError('the provider has no revocation_endpoint; cannot revoke');
    }
    let response: Response;
    try {
      response = await oauth.revocationRequest(as, this.#client, this.#auth, token, {
        ...this.#request(),
        additionalParameters: {
          token_type_hint:
            credentials.refreshToken !== undefined ? 'refresh_token' : 'access_token',
        },
      });
    } catch (cause) {
      throw new RevocationError(
        'could not reach the revocation endpoint',
        {},
        { cause: safeCause(cause) },
      );
    }
    if (response.ok) {
      await response.body?.cancel();
      return;
    }
    const fields = await readErrorBody(response);
    // Google answers 400 invalid_token for a token that is already revoked or expired: the
    // grant is gone either way, which is what the caller asked for.
    if (response.status === 400 && fields.error === 'invalid_token') return;
    throw new RevocationError(
      `the provider refused the revocation (${response.status}${fields.error ? ` ${fields.error}` : ''})`,
      fields,
    );
  }

  #tokenRequest(send: () => Promise<Response>): Promise<Response> {
    return sendTokenRequest(send);
  }

  async #processTokenResponse(
    process: () => Promise<oauth.TokenEndpointResponse>,
  ): Promise<oauth.TokenEndpointResponse> {
    try {
      return await process();
    } catch (err) {
      throw classifyTokenError(err);
    }
  }

  async #verifyIdToken(
    as: oauth.AuthorizationServer,
    idToken: string,
    nonce: string | undefined,
  ): Promise<Record<string, unknown>> {
    if (!as.jwks_uri) {
      throw new IdTokenError('the provider publishes no jwks_uri; cannot verify the ID token');
    }
    if (this.#jwks === undefined) {
      const options: Parameters<typeof createRemoteJWKSet>[1] = {
        timeoutDuration: this.#options.timeoutMs ?? 10_000,
      };
      if (this.#options.fetch) {
        const f = this.#options.fetch;
        options[customFetch] = (url, init) => f(url, init);
      }
      this.#jwks = createRemoteJWKSet(new URL(as.jwks_uri), options);
    }
    try {
      const { payload } = await jwtVerify(idToken, this.#jwks, {
        issuer: as.issuer,
        audience: this.clientId,
        clockTolerance: this.#options.clockToleranceSec ?? 60,
      });
      if (nonce !== undefined && payload.nonce !== nonce) {
        throw new IdTokenError('the ID token nonce does not match');
      }
      return payload as Record<string, unknown>;
    } catch (cause) {
      if (cause instanceof IdTokenError) throw cause;
      const code = (cause as { code?: unknown } | null)?.code;
      if (code === 'ERR_JWKS_TIMEOUT' || (cause instanceof TypeError && code === undefined)) {
        throw new TransientError(
          'could not fetch the provider JWKS to verify the ID token',
          {},
          { cause },
        );
      }
      throw new IdTokenError(
        `the ID token failed verification: ${cause instanceof Error ? cause.message : 'unknown'}`,
      );
    }
  }
}

/**
 * Sends a token request, turning a network failure or a timeout into a {@link TransientError}
 * (nothing about the grant can be concluded from either).
 *
 * @param send makes the request (an oauth4webapi request function with a timeout signal)
 * @param where the endpoint and timeout, to name them in the message
 * @returns the response, whatever its status
 * @throws {TransientError} when no response came
 */
export async function sendTokenRequest(
  send: () => Promise<Response>,
  where: { endpoint?: string | undefined; timeoutMs?: number | undefined } = {},
): Promise<Response> {
  try {
    return await send();
  } catch (cause) {
    if (cause instanceof OAuthKitError) throw cause;
    const timeout =
      cause instanceof Error && (cause.name === 'TimeoutError' || cause.name === 'AbortError');
    const endpoint = where.endpoint ? `the token endpoint ${where.endpoint}` : 'the token endpoint';
    throw new TransientError(
      timeout
        ? where.timeoutMs !== undefined
          ? `${endpoint} did not answer within ${where.timeoutMs} ms`
          : `${endpoint} did not answer in time`
        : `could not reach ${endpoint}`,
      {},
      { cause: timeout ? undefined : safeCause(cause) },
    );
  }
}

/**
 * Turns whatever oauth4webapi threw while processing a token response into one of oauthkit's
 * typed errors, without keeping anything that could hold a token.
 *
 * @param err what was thrown
 * @returns the typed error
 */
export function classifyTokenError(err: unknown): OAuthKitError {
  if (err instanceof OAuthKitError) return err;
  if (err instanceof oauth.ResponseBodyError) {
    const fields: ServerErrorFields = {
      error: err.error,
      errorDescription: err.error_description,
      status: err.status,
      response: err.response,
    };
    const subtype =
      typeof err.cause?.['error_subtype'] === 'string' ? err.cause['error_subtype'] : '';
    const what = `the token endpoint answered ${err.status} ${err.error}`;
    if (
      err.status >= 500 ||
      err.error === 'temporarily_unavailable' ||
      err.error === 'server_error'
    ) {
      return new TransientError(what, fields);
    }
    if (
      subtype === 'invalid_rapt' ||
      /invalid_rapt/.test(err.error_description ?? '') ||
      ['interaction_required', 'login_required', 'consent_required'].includes(err.error)
    ) {
      return new ReauthRequiredError(what, fields);
    }
    if (err.error === 'invalid_grant') return new GrantRevokedError(what, fields);
    if (err.error === 'invalid_scope' || err.error === 'insufficient_scope') {
      return new InsufficientScopeError(what, fields);
    }
    return new TokenRequestError(what, fields);
  }
  if (err instanceof oauth.WWWAuthenticateChallengeError) {
    const status = err.status;
    const params = err.cause[0]?.parameters;
    const fields: ServerErrorFields = {
      status,
      error: params?.error,
      errorDescription: params?.error_description,
      response: err.response,
    };
    if (status >= 500) return new TransientError(`the token endpoint answered ${status}`, fields);
    return new TokenRequestError(
      `the token endpoint refused the client (${status}${fields.error ? ` ${fields.error}` : ''})`,
      fields,
    );
  }
  if (err instanceof oauth.OperationProcessingError) {
    const status = responseStatus(err);
    if (err.code === oauth.JWT_CLAIM_COMPARISON || err.code === oauth.JWT_TIMESTAMP_CHECK) {
      return new IdTokenError(`the ID token failed validation: ${err.message}`);
    }
    if (status !== undefined && status >= 400 && status < 500 && status !== 429) {
      return new TokenRequestError(`the token endpoint answered ${status} without an OAuth error`, {
        status,
      });
    }
    // A 5xx, a body that is not JSON, a 200 without a token, a 200 carrying "error": none of
    // these is a conforming statement about the grant, so nothing may be marked invalid.
    return new TransientError(`the token endpoint gave an unusable response: ${err.message}`, {
      status,
    });
  }
  if (err instanceof oauth.UnsupportedOperationError) {
    return new TokenRequestError(`the token endpoint response is unsupported: ${err.message}`);
  }
  return new TransientError('the token request failed', {}, { cause: safeCause(err) });
}

function responseStatus(err: oauth.OperationProcessingError): number | undefined {
  const cause = err.cause as { status?: unknown; response?: unknown } | undefined;
  if (typeof cause?.status === 'number') return cause.status;
  if (cause?.response instanceof Response) return cause.response.status;
  return undefined;
}

/**
 * Keeps a thrown value as a `cause` only when it cannot carry protocol values: oauth4webapi's
 * processing errors hold response bodies and parameters (tokens, codes) in their own `cause`.
 *
 * @param err what was thrown
 * @returns something safe to keep as `cause`
 */
function safeCause(err: unknown): unknown {
  if (err instanceof oauth.OperationProcessingError || err instanceof oauth.ResponseBodyError) {
    return new Error(err.message);
  }
  return err;
}

async function readErrorBody(response: Response): Promise<ServerErrorFields> {
  const fields: ServerErrorFields = { status: response.status, response };
  try {
    const body = (await response.clone().json()) as Record<string, unknown>;
    if (typeof body['error'] === 'string') fields.error = body['error'];
    if (typeof body['error_description'] === 'string') {
      fields.errorDescription = body['error_description'];
    }
  } catch {
    // not JSON: the status is all there is
  }
  return fields;
}

function checkPending(pending: PendingAuthorization): void {
  if (
    pending === null ||
    typeof pending !== 'object' ||
    typeof pending.state !== 'string' ||
    typeof pending.codeVerifier !== 'string' ||
    typeof pending.issuer !== 'string' ||
    typeof pending.redirectUri !== 'string' ||
    !Array.isArray(pending.scopes)
  ) {
    throw new AuthorizationResponseError('the pending authorization is malformed');
  }
}

function expiresAt(expiresIn: number | undefined): number | undefined {
  return expiresIn === undefined ? undefined : Date.now() + expiresIn * 1000;
}

function normalizeTokenType(t: string): string {
  // oauth4webapi lowercases token_type; the Authorization header wants the scheme's usual case.
  return t === 'bearer' ? 'Bearer' : t === 'dpop' ? 'DPoP' : t;
}

function audience(claims: Readonly<Record<string, unknown>>): string[] {
  const aud = claims['aud'];
  return (Array.isArray(aud) ? aud : [aud]).map(String).sort();
}
