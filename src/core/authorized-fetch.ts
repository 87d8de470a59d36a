import type { Credentials } from './credentials.js';
import { InsufficientScopeError, OriginNotAllowedError } from './errors.js';
import type { TokenManager } from './token-manager.js';
import { assertStoreKey } from './store.js';

/**
 * A fetch-compatible function that authorizes each request with a user's access token.
 * `credentials()` gives the credentials it would use now (refreshed when needed).
 */
export interface AuthorizedFetch {
  (input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
  /** The store key of the credentials this client uses. */
  readonly key: string;
  /** @returns the credentials a request would carry now, refreshed and saved when needed */
  credentials(): Promise<Credentials>;
}

/** Options of {@link createAuthorizedFetch}. */
export interface AuthorizedFetchOptions {
  /** Keeps the credentials fresh and saved. */
  tokens: TokenManager;
  /** The store key of the user's credentials. */
  key: string;
  /**
   * The origins the token may be sent to (e.g. `https://www.googleapis.com`). When given, a
   * request to any other origin is refused before anything is sent.
   */
  allowedOrigins?: readonly string[] | undefined;
  /** The fetch that sends the requests; the global one by default. */
  fetch?: typeof fetch | undefined;
}

/**
 * Makes the authorized HTTP client of the seed's `decorator.http()`: it adds
 * `Authorization: Bearer …`, refreshes ahead of expiry, and on a 401 refreshes once and sends
 * the request again (body included). What it refreshes is saved in the store. The token only
 * ever travels in the `Authorization` header, never in a URL.
 *
 * Concurrent calls share one refresh (see {@link TokenManager.refresh}).
 *
 * @param options the token manager, the store key, and an optional origin allowlist
 * @returns a fetch-compatible function
 * @throws {GrantRevokedError} from a call, when the grant is gone
 * @throws {ReauthRequiredError} from a call, when the user must authorize again
 * @throws {OriginNotAllowedError} from a call to an origin outside `allowedOrigins`
 * @throws {InsufficientScopeError} from a call the API refused with `error="insufficient_scope"`
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-2.1
 * @example
 * ```ts
 * const http = createAuthorizedFetch({ tokens, key: userId, allowedOrigins: ['https://tasks.googleapis.com'] });
 * const res = await http('https://tasks.googleapis.com/tasks/v1/users/@me/lists');
 * ```
 */
export function createAuthorizedFetch(options: AuthorizedFetchOptions): AuthorizedFetch {
  const { tokens } = options;
  const key = assertStoreKey(options.key);

  // The credentials this client last used: most calls need no store read at all.
  let current: Credentials | undefined;

  const credentials = async (): Promise<Credentials> => {
    if (current !== undefined && !tokens.isExpired(current)) return current;
    current = await tokens.getFresh(key);
    return current;
  };

  const authorized = createBearerFetch({
    getToken: async (rejected) => {
      current =
        rejected === undefined
          ? await credentials()
          : await tokens.refresh(key, { rejectedAccessToken: rejected });
      // getFresh() and refresh() only return credentials that have an access token.
      return { token: current.accessToken as string, tokenType: current.tokenType };
    },
    allowedOrigins: options.allowedOrigins,
    fetch: options.fetch,
  });

  return Object.assign(authorized, { key, credentials }) as AuthorizedFetch;
}

/** A token for {@link createBearerFetch} to send. */
export interface BearerToken {
  /** The access token. */
  token: string;
  /** The `Authorization` scheme; `Bearer` by default. */
  tokenType?: string | undefined;
}

/** Options of {@link createBearerFetch}. */
export interface BearerFetchOptions {
  /**
   * Gives the token to send. Called with no argument before each request, and once more with the
   * token the API refused (a 401), to get a different one.
   */
  getToken(rejected?: string): Promise<BearerToken>;
  /**
   * The origins the token may be sent to (e.g. `https://www.googleapis.com`). When given, a
   * request to any other origin is refused before anything is sent.
   */
  allowedOrigins?: readonly string[] | undefined;
  /** The fetch that sends the requests; the global one by default. */
  fetch?: typeof fetch | undefined;
  /** Headers every request gets unless it already has them (e.g. a quota project). */
  headers?: Readonly<Record<string, string>> | undefined;
  /**
   * What a 403 with `error="insufficient_scope"` does: `'throw'` (default) an
   * {@link InsufficientScopeError}, or `'return'` it like any other response.
   */
  insufficientScope?: 'throw' | 'return' | undefined;
}

/**
 * Makes a fetch-compatible function that sends each request with `Authorization: <type> <token>`
 * from `getToken()`, and on a 401 asks for another token once and sends the request again (body
 * included). The building block of {@link createAuthorizedFetch} and of service-account
 * credentials' `authorize()`; use it to authorize requests with tokens from anywhere else.
 *
 * @param options `getToken`, and optionally `allowedOrigins`, `fetch`, `headers`,
 *   `insufficientScope`
 * @returns a fetch-compatible function
 * @throws {TypeError} naming `allowedOrigins` when an origin in it is not a URL
 * @throws {OriginNotAllowedError} from a call to an origin outside `allowedOrigins`
 * @throws {InsufficientScopeError} from a call the API refused with `error="insufficient_scope"`
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-2.1
 * @example
 * ```ts
 * const http = createBearerFetch({
 *   getToken: async () => ({ token: await myTokenSource() }),
 *   allowedOrigins: ['https://tasks.googleapis.com'],
 * });
 * const res = await http('https://tasks.googleapis.com/tasks/v1/users/@me/lists');
 * ```
 */
export function createBearerFetch(
  options: BearerFetchOptions,
): (input: RequestInfo | URL, init?: RequestInit) => Promise<Response> {
  const { getToken } = options;
  const send = options.fetch ?? ((input: Request) => fetch(input));
  const allowed =
    options.allowedOrigins === undefined
      ? undefined
      : new Set(
          options.allowedOrigins.map((o) => {
            if (typeof o !== 'string' || !URL.canParse(o)) {
              throw new TypeError(
                `"allowedOrigins" contains an invalid origin: ${JSON.stringify(o)}`,
              );
            }
            return new URL(o).origin;
          }),
        );
  const extra = Object.entries(options.headers ?? {});
  const scopeCheck =
    options.insufficientScope === 'return'
      ? (response: Response) => response
      : (response: Response) => (response.status === 403 ? checkScope(response) : response);

  return async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    const origin = new URL(request.url).origin;
    if (allowed !== undefined && !allowed.has(origin)) {
      throw new OriginNotAllowedError(
        `refusing to send an access token to ${origin}: not in allowedOrigins`,
      );
    }
    // Read the body once so that it can be sent again with a new token.
    const body = request.body === null ? undefined : await request.arrayBuffer();
    const attempt = ({ token, tokenType }: BearerToken): Promise<Response> => {
      const headers = new Headers(request.headers);
      for (const [name, value] of extra) {
        if (!headers.has(name)) headers.set(name, value);
      }
      headers.set('authorization', `${tokenType ?? 'Bearer'} ${token}`);
      return send(
        new Request(request.url, {
          method: request.method,
          headers,
          body,
          redirect: request.redirect,
          signal: request.signal,
        }),
      );
    };

    const first = await getToken();
    const response = await attempt(first);
    if (response.status !== 401) return scopeCheck(response);
    // The API refused a token we thought valid (revoked early, clock skew): one new token, one
    // retry.
    await response.body?.cancel();
    return scopeCheck(await attempt(await getToken(first.token)));
  };
}

/**
 * A 403 whose `WWW-Authenticate` says `error="insufficient_scope"` (RFC 6750 section 3.1; Google
 * APIs send it) means the grant lacks a scope: throw, so that `oauthRequired` asks for it. Any
 * other 403 is the API's answer and is returned as is.
 *
 * @param response a 403 response
 * @returns the same response, when it is not about scopes
 * @throws {InsufficientScopeError} naming the scope the API asked for, when it did
 */
async function checkScope(response: Response): Promise<Response> {
  const challenge = response.headers.get('www-authenticate') ?? '';
  if (!/^\s*bearer\b/i.test(challenge) || !/error\s*=\s*"?insufficient_scope"?/i.test(challenge)) {
    return response;
  }
  await response.body?.cancel();
  const scope = /scope\s*=\s*"([^"]*)"/i.exec(challenge)?.[1];
  throw new InsufficientScopeError(
    `the API refused the request for lack of a scope${scope ? ` (it asks for: ${scope})` : ''}`,
    { status: 403, error: 'insufficient_scope', errorDescription: scope },
  );
}
