import { createAuthorizedFetch, type AuthorizedFetch } from '../core/authorized-fetch.js';
import { OAuthClient } from '../core/client.js';
import { parseClientSecrets, type ClientSecrets } from '../core/client-secrets.js';
import type { Credentials } from '../core/credentials.js';
import {
  AuthorizationDeniedError,
  ConfigurationError,
  CredentialsInvalidError,
  GrantRevokedError,
  InsufficientScopeError,
  OAuthKitError,
  ReauthRequiredError,
  StoreError,
  TransientError,
} from '../core/errors.js';
import type { ProviderMetadata } from '../core/provider.js';
import type { CredentialStore } from '../core/store.js';
import { TokenManager } from '../core/token-manager.js';
import {
  cookieNames,
  cookiePolicy,
  readCookie,
  serializeCookie,
  type CookiePolicy,
} from './cookies.js';
import { createSealedCookieFlowStore, type FlowRecord, type FlowStore } from './flow-store.js';
import { htmlPage, setSecurityHeaders } from './pages.js';
import { safeReturnPath } from './return-to.js';
import { createAsyncContext, runtime, type AsyncContext } from './runtime.js';
import { createSealer, MIN_SECRET_LENGTH, randomId, type Sealer } from './seal.js';

/** Resolves the app's own user id from a request (the role of App Engine's `users.get_current_user()`). */
export type UserResolver = (
  request: Request,
) => string | null | undefined | Promise<string | null | undefined>;

/** Options of {@link OAuth2Decorator}. */
export interface OAuth2DecoratorOptions {
  /** The OAuth client id. */
  clientId: string;
  /** The client secret. */
  clientSecret?: string | undefined;
  /** The scopes every decorated route needs (a space-separated string or an array). */
  scopes: string | readonly string[];
  /** Any OpenID Connect / RFC 8414 provider, by issuer (metadata discovery). Google by default. */
  issuer?: string | undefined;
  /** Provider endpoints given by hand. Google by default. */
  provider?: ProviderMetadata | undefined;
  /**
   * The exact redirect URI registered with the provider. Give this or `baseUrl`; neither is ever
   * taken from the request's `Host` or `X-Forwarded-*` headers.
   */
  redirectUri?: string | undefined;
  /** The app's public base URL (`https://app.example`); the redirect URI is this + `callbackPath`. */
  baseUrl?: string | undefined;
  /** The path of the callback (default `/oauth2callback`). */
  callbackPath?: string | undefined;
  /**
   * The secret that keys oauthkit's cookies (at least 32 characters), or several for rotation:
   * the first seals, all unseal.
   */
  secret: string | readonly string[];
  /** Where credentials live. Default: a SQLite file, `.data/oauthkit.sqlite` (Node, Bun, Deno). */
  storage?: CredentialStore | undefined;
  /** Where pending flows wait. Default: sealed cookies, no server state. */
  flowStore?: FlowStore | undefined;
  /**
   * Your app's user id for a request. Without it, oauthkit keeps its own signed session and the
   * user is whoever authorized (their OpenID Connect `iss` + `sub`).
   */
  user?: UserResolver | undefined;
  /** Where to send a visitor `user` resolves to nobody; `return_to` is appended. */
  loginUrl?: string | undefined;
  /** Extra authorization request parameters (e.g. `{ hd: 'example.com' }`). */
  authorizationParams?: Record<string, string> | undefined;
  /** What end users see while the app is misconfigured (the seed's `message`). */
  message?: string | undefined;
  /** Allow plain-http loopback URLs: tests and local demos only. */
  allowHttpLoopback?: boolean | undefined;
  /** The fetch to reach the provider with. */
  fetch?: typeof fetch | undefined;
  /** Origins `http()` may send tokens to (e.g. `['https://www.googleapis.com']`); any when absent. */
  allowedOrigins?: readonly string[] | undefined;
  /**
   * How long usable credentials read from the store are reused for later requests of the same
   * user in this process, in milliseconds (default 1000; 0 turns it off). A revocation made by
   * another instance is seen within this time.
   */
  cacheTtlMs?: number | undefined;
  /**
   * Whether `decorator.http()`, `credentials()`, `hasCredentials()` and `authorizeUrl()` find the
   * current request through `AsyncLocalStorage` (default `true` where the runtime has it). On
   * Node 20 an active `AsyncLocalStorage` makes every promise in the process a little slower;
   * apps that only use the handler's `oauth` argument (or `c.var.oauth`, `req.oauth`) can turn it
   * off.
   */
  asyncContext?: boolean | undefined;
  /** Lifetime of the built-in session, in seconds (default 14 days). */
  sessionMaxAgeSec?: number | undefined;
  /** Lifetime of a pending flow, in seconds (default 600). */
  flowMaxAgeSec?: number | undefined;
  /** Where oauthkit reports what to fix and failed callbacks (default `console`). */
  logger?: Pick<Console, 'error' | 'warn'> | undefined;
}

/** Options of {@link OAuth2Decorator.fromClientSecrets}. */
export interface FromClientSecretsOptions extends Omit<
  OAuth2DecoratorOptions,
  'clientId' | 'clientSecret' | 'provider'
> {}

/** Per-route options of `oauthRequired` and `oauthAware`. */
export interface RouteOptions {
  /** Scopes this route needs beyond the decorator's (incremental authorization). */
  scopes?: string | readonly string[] | undefined;
}

/** What a decorated handler can ask for (also reachable as `decorator.http()` & co. in the handler). */
export interface OAuthContext {
  /** The store key of the current user, when there is one. */
  readonly user: string | undefined;
  /** The current user's stored credentials, when there are any. */
  readonly credentials: Credentials | undefined;
  /** @returns whether the user has usable credentials with every scope this route needs */
  hasCredentials(): boolean;
  /**
   * @param options where to come back to (default: this page) and extra scopes
   * @returns a same-origin URL that starts the flow and comes back here
   */
  authorizeUrl(options?: { returnTo?: string; scopes?: string | readonly string[] }): string;
  /** @returns the authorized HTTP client (fetch-compatible) for this user */
  http(): AuthorizedFetch;
  /** Revokes the grant at the provider and deletes the stored credentials. */
  revoke(): Promise<void>;
}

/** A Web-standard handler that a decorator wraps; it also receives the {@link OAuthContext}. */
export type DecoratedHandler<A extends unknown[] = unknown[]> = (
  request: Request,
  oauth: OAuthContext,
  ...rest: A
) => Response | Promise<Response>;

/** What {@link OAuth2Decorator.evaluate} decided. */
export type Evaluation =
  | { kind: 'respond'; response: Response }
  | { kind: 'proceed'; context: OAuthContext; setCookies: string[] };

interface Ready {
  client: OAuthClient;
  tokens: TokenManager;
  store: CredentialStore;
  flows: FlowStore;
  session: Sealer;
  origin: string;
  policy: CookiePolicy;
  scopes: string[];
  redirectUri: string;
}

interface Session {
  sid: string;
  user: string;
  exp: number;
}

const NOBODY = Symbol('nobody');
const NO_SCOPES: string[] = [];
const DEFAULT_MESSAGE = 'This application is not configured correctly. Please try again later.';
const REAUTH_CODES = new Set([
  'grant_revoked',
  'reauth_required',
  'insufficient_scope',
  'credentials_missing',
  // Stored credentials that cannot be read (tampered with, or under a retired key): the new
  // grant replaces them.
  'credentials_invalid',
]);

/**
 * The seed's `OAuth2Decorator`: one object, configured once, that completes the whole OAuth 2.0
 * flow for any route it wraps, keeps each user's credentials in a store, and gives the handler
 * an authorized HTTP client.
 *
 * A misconfigured decorator never throws at import: it logs what to fix and serves `message`
 * with a 500 status on every decorated route. Call {@link OAuth2Decorator.ready} to fail fast.
 *
 * @example
 * ```ts
 * const decorator = new OAuth2Decorator({
 *   clientId: process.env.CLIENT_ID!,
 *   clientSecret: process.env.CLIENT_SECRET,
 *   scopes: ['https://www.googleapis.com/auth/calendar'],
 *   baseUrl: 'https://app.example',
 *   secret: process.env.OAUTHKIT_SECRET!,
 * });
 * export const handler = decorator.oauthRequired(async (request) => {
 *   const res = await decorator.http()('https://www.googleapis.com/calendar/v3/calendars/primary/events');
 *   return new Response(await res.text());
 * });
 * ```
 */
export class OAuth2Decorator {
  /** The path the provider redirects back to (mount {@link OAuth2Decorator.callbackHandler} there). */
  readonly callbackPath: string;
  /** The path that starts a flow (`authorizeUrl()` points there); served by the callback handler. */
  readonly startPath: string;
  /**
   * The app's public origin, from `baseUrl` or `redirectUri` (`undefined` when it comes from a
   * client secrets file, until that is read). Adapters use it to form `request.url`; it is never
   * taken from `Host`.
   */
  readonly origin: string | undefined;
  readonly #options: OAuth2DecoratorOptions;
  readonly #logger: Pick<Console, 'error' | 'warn'>;
  readonly #knownScopes = new Set<string>();
  #configError: ConfigurationError | undefined;
  #ready: Promise<Ready> | undefined;
  #readyValue: Ready | undefined;
  /**
   * Usable credentials recently read, per user: most requests then need no store read. Only
   * positive results are kept (a user just back from the callback on another instance is never
   * sent round again), and only for `cacheTtlMs`; everything that changes credentials here
   * drops the entry.
   */
  readonly #recent = new Map<string, { credentials: Credentials; until: number }>();
  #secrets: Promise<ClientSecrets> | undefined;
  #als: AsyncContext<OAuthContext> | undefined | null = null;
  readonly #sessions = new Map<string, Session>();

  /**
   * @param options client, scopes, where the app lives, the secret, and optional store, user
   *   resolver and provider
   */
  constructor(options: OAuth2DecoratorOptions) {
    this.#options = options ?? ({} as OAuth2DecoratorOptions);
    this.#logger = this.#options.logger ?? console;
    this.callbackPath = this.#options.callbackPath ?? '/oauth2callback';
    this.startPath = `${this.callbackPath.replace(/\/$/, '')}/start`;
    const configured = this.#options.redirectUri ?? this.#options.baseUrl;
    this.origin =
      typeof configured === 'string' && URL.canParse(configured)
        ? new URL(configured).origin
        : undefined;
    try {
      this.#validate();
    } catch (err) {
      this.#fail(err);
    }
  }

  /**
   * The seed's `OAuth2DecoratorFromClientSecrets`: a decorator from Google's
   * `client_secrets.json`, given as an object, its JSON text, or a file path (read on first use;
   * paths need the Node, Bun or Deno entry). A missing or unfilled file does not throw: end users
   * see `message`, the log says what to fix.
   *
   * @param pathOrObject the file path, JSON text or parsed object
   * @param options scopes, message, secret and the other decorator options
   * @returns the decorator
   * @example
   * ```ts
   * const decorator = OAuth2Decorator.fromClientSecrets('client_secrets.json', {
   *   scopes: ['https://www.googleapis.com/auth/tasks'],
   *   message: 'Please configure client_secrets.json',
   *   secret: process.env.OAUTHKIT_SECRET!,
   * });
   * ```
   */
  static fromClientSecrets(
    pathOrObject: string | object,
    options: FromClientSecretsOptions,
  ): OAuth2Decorator {
    const isPath = typeof pathOrObject === 'string' && !pathOrObject.trimStart().startsWith('{');
    let secrets: Promise<ClientSecrets>;
    if (isPath) {
      const read = runtime.readTextFile;
      secrets = read
        ? read(pathOrObject).then(
            (text) => parseClientSecrets(text, pathOrObject),
            (cause: unknown) => {
              const code = (cause as { code?: string }).code;
              throw new ConfigurationError(
                `client secrets file ${pathOrObject} ${code === 'ENOENT' ? 'does not exist' : 'cannot be read'}; download it from the Google Cloud console (APIs & Services > Credentials)`,
                { cause },
              );
            },
          )
        : Promise.reject(
            new ConfigurationError(
              'fromClientSecrets(path) needs a runtime that can read files (Node, Bun, Deno); pass the parsed object instead',
            ),
          );
    } else {
      try {
        secrets = Promise.resolve(parseClientSecrets(pathOrObject));
      } catch (err) {
        secrets = Promise.reject(err);
      }
    }
    secrets.catch(() => {});
    const d = new OAuth2Decorator({ ...options, clientId: 'from-client-secrets' });
    d.#secrets = secrets;
    return d;
  }

  /**
   * Resolves once the decorator is configured and its store is open; rejects with what to fix.
   * Optional: decorated routes do this themselves.
   *
   * @returns nothing
   * @throws {ConfigurationError} what to fix
   */
  async ready(): Promise<void> {
    await this.#getReady();
  }

  #validate(): void {
    const o = this.#options;
    const secrets = typeof o.secret === 'string' ? [o.secret] : o.secret;
    if (!Array.isArray(secrets) || secrets.length === 0) {
      throw new ConfigurationError(
        `"secret" is required: a random string of at least ${MIN_SECRET_LENGTH} characters (e.g. \`openssl rand -base64 32\`)`,
      );
    }
    for (const s of secrets) {
      if (typeof s !== 'string' || s.length < MIN_SECRET_LENGTH) {
        throw new ConfigurationError(
          `"secret" must be at least ${MIN_SECRET_LENGTH} characters long`,
        );
      }
    }
    if (!this.callbackPath.startsWith('/') || this.callbackPath.startsWith('//')) {
      throw new ConfigurationError('"callbackPath" must be a path starting with a single "/"');
    }
    for (const s of this.#baseScopes()) this.#knownScopes.add(s);
    if (this.#knownScopes.size === 0) {
      throw new ConfigurationError('"scopes" must name at least one scope');
    }
    if (
      o.loginUrl !== undefined &&
      (typeof o.loginUrl !== 'string' ||
        safeReturnPath(o.loginUrl, 'https://app.invalid', '') !== o.loginUrl)
    ) {
      throw new ConfigurationError('"loginUrl" must be a same-origin path starting with "/"');
    }
    if (o.user !== undefined && typeof o.user !== 'function') {
      throw new ConfigurationError('"user" must be a function (request) => user id');
    }
  }

  #fail(err: unknown): void {
    const error =
      err instanceof ConfigurationError
        ? err
        : new ConfigurationError(err instanceof Error ? err.message : String(err), { cause: err });
    if (this.#configError === undefined) {
      this.#configError = error;
      this.#logger.error(`oauthkit: the OAuth2Decorator is misconfigured: ${error.message}`);
    }
  }

  #getReady(): Promise<Ready> | Ready {
    if (this.#readyValue !== undefined) return this.#readyValue;
    if (this.#configError) return Promise.reject(this.#configError);
    if (this.#ready === undefined) {
      const p = this.#build();
      this.#ready = p;
      p.then(
        (ready) => {
          if (this.#ready === p) this.#readyValue = ready;
        },
        () => {},
      );
      p.catch((err: unknown) => {
        // A configuration problem stays; anything else (a store that could not open yet) is
        // tried again on the next request.
        if (
          err instanceof ConfigurationError ||
          (err instanceof OAuthKitError && err.code === 'client_secrets_invalid')
        ) {
          this.#fail(err);
        } else if (this.#ready === p) {
          this.#ready = undefined;
        }
      });
    }
    return this.#ready;
  }

  async #build(): Promise<Ready> {
    const o = this.#options;
    let clientId = o.clientId;
    let clientSecret = o.clientSecret;
    let provider = o.provider;
    let redirectUri = o.redirectUri;
    if (this.#secrets) {
      const s = await this.#secrets;
      clientId = s.clientId;
      clientSecret = s.clientSecret;
      if (o.issuer === undefined) {
        provider = {
          issuer: 'https://accounts.google.com',
          authorization_endpoint: s.authUri,
          token_endpoint: s.tokenUri,
          revocation_endpoint: s.revokeUri ?? 'https://oauth2.googleapis.com/revoke',
          jwks_uri: 'https://www.googleapis.com/oauth2/v3/certs',
        };
      }
      if (redirectUri === undefined && o.baseUrl === undefined) {
        redirectUri = s.redirectUris.find((u) => new URL(u).pathname === this.callbackPath);
        if (redirectUri === undefined) {
          throw new ConfigurationError(
            `none of the redirect_uris in the client secrets ends in ${this.callbackPath}; add one there, or set "redirectUri"`,
          );
        }
      }
    }
    if (typeof clientId !== 'string' || clientId.length === 0) {
      throw new ConfigurationError('"clientId" is required');
    }
    if (redirectUri === undefined) {
      if (typeof o.baseUrl !== 'string' || !URL.canParse(o.baseUrl)) {
        throw new ConfigurationError(
          'set "baseUrl" (the app\'s public URL) or "redirectUri"; oauthkit never trusts the Host header',
        );
      }
      redirectUri = new URL(this.callbackPath, o.baseUrl).href;
    }
    if (!URL.canParse(redirectUri))
      throw new ConfigurationError('"redirectUri" must be an absolute URL');
    const redirect = new URL(redirectUri);
    if (redirect.pathname !== this.callbackPath) {
      throw new ConfigurationError(
        `the redirect URI's path (${redirect.pathname}) must equal "callbackPath" (${this.callbackPath})`,
      );
    }
    let client: OAuthClient;
    try {
      client = new OAuthClient({
        clientId,
        clientSecret,
        redirectUri,
        issuer: o.issuer,
        provider,
        fetch: o.fetch,
        allowHttpLoopback: o.allowHttpLoopback,
      });
    } catch (err) {
      throw new ConfigurationError(err instanceof Error ? err.message : String(err), {
        cause: err,
      });
    }
    let store = o.storage;
    if (store === undefined) {
      if (!runtime.openDefaultStore) {
        throw new ConfigurationError(
          'no "storage" given, and this runtime has no default (SQLite needs Node, Bun or Deno); pass a store',
        );
      }
      store = await runtime.openDefaultStore();
    }
    const secrets = typeof o.secret === 'string' ? [o.secret] : [...o.secret];
    return {
      client,
      tokens: new TokenManager({ client, store }),
      store,
      flows: o.flowStore ?? createSealedCookieFlowStore({ secrets }),
      session: createSealer(secrets, 'session'),
      origin: redirect.origin,
      policy: cookiePolicy(redirect.protocol === 'https:'),
      scopes: this.#baseScopes(),
      redirectUri,
    };
  }

  /** The scopes every route asks for: the configured ones, plus `openid` for the built-in session. */
  #baseScopes(): string[] {
    const scopes = toScopes(this.#options.scopes);
    if (!this.#options.user && !scopes.includes('openid')) scopes.unshift('openid');
    return scopes;
  }

  // ---- the seed's API ----------------------------------------------------------------------

  /**
   * Wraps a handler so that every OAuth step completes before it runs: no usable credentials, or
   * a missing scope, sends the user to the provider and back. Inside, the handler gets the
   * credentials; a grant found revoked during the handler sends the user through the flow again.
   * Other exceptions propagate unchanged.
   *
   * Usable as `oauthRequired(handler)`, `oauthRequired({ scopes })(handler)`, and as a TC39 method
   * decorator: `@decorator.oauthRequired async get(request) {…}`.
   *
   * @param handlerOrOptions the handler, or per-route options
   * @returns the wrapped handler (or, given options, a wrapper)
   * @example
   * ```ts
   * const page = decorator.oauthRequired(async (request, oauth) => {
   *   const res = await oauth.http()('https://tasks.googleapis.com/tasks/v1/users/@me/lists');
   *   return Response.json(await res.json());
   * });
   * ```
   */
  get oauthRequired(): DecoratorFunction {
    return this.#decoratorFor('required');
  }

  /**
   * Wraps a handler that always runs, never redirected; inside, `hasCredentials()` and
   * `authorizeUrl()` let it explain why access is needed before sending the user to the provider.
   * Same forms as {@link OAuth2Decorator.oauthRequired}.
   *
   * @returns the wrapped handler (or, given options, a wrapper)
   * @example
   * ```ts
   * const home = decorator.oauthAware(async () =>
   *   decorator.hasCredentials()
   *     ? new Response('connected')
   *     : new Response(`<a href="${decorator.authorizeUrl()}">Connect</a>`, { headers: { 'content-type': 'text/html' } }),
   * );
   * ```
   */
  get oauthAware(): DecoratorFunction {
    return this.#decoratorFor('aware');
  }

  #decoratorFor(mode: 'required' | 'aware'): DecoratorFunction {
    const wrap = (handler: Function, scopes: string[]): Function => {
      for (const s of scopes) this.#knownScopes.add(s);
      const self = this;
      return async function (
        this: unknown,
        request: Request,
        ...rest: unknown[]
      ): Promise<Response> {
        if (!(request instanceof Request)) {
          throw new TypeError(
            `decorator.oauth${mode === 'required' ? 'Required' : 'Aware'} wraps handlers whose first argument is a Request; use an adapter (oauthkit/express, oauthkit/fastify, oauthkit/hono) for other frameworks`,
          );
        }
        const outcome = await self.evaluate(request, { mode, scopes });
        if (outcome.kind === 'respond') return outcome.response;
        const ctx = outcome.context;
        let response: Response;
        try {
          response = await self.runWithContext(ctx, () =>
            handler.call(this, request, ctx, ...rest),
          );
        } catch (err) {
          const again =
            mode === 'required' ? await self.reauthResponse(request, err, { scopes }) : undefined;
          if (again) return again;
          throw err;
        }
        return appendCookies(response, outcome.setCookies);
      };
    };
    const fn = (arg: unknown, context?: unknown): unknown => {
      if (typeof arg === 'function') {
        if (context !== undefined && (context as { kind?: unknown }).kind !== 'method') {
          throw new TypeError('decorator.oauthRequired / oauthAware decorate class methods only');
        }
        return wrap(arg, []);
      }
      if (arg === undefined || (typeof arg === 'object' && arg !== null)) {
        const scopes = toScopes((arg as RouteOptions | undefined)?.scopes);
        return (handler: Function, context?: unknown) => {
          if (typeof handler !== 'function') throw new TypeError('expected a handler function');
          if (context !== undefined && (context as { kind?: unknown }).kind !== 'method') {
            throw new TypeError('decorator.oauthRequired / oauthAware decorate class methods only');
          }
          return wrap(handler, scopes);
        };
      }
      throw new TypeError('expected a handler function or route options');
    };
    return fn as DecoratorFunction;
  }

  /**
   * The seed's `decorator.http()`: the authorized HTTP client for the current request's user.
   * Works inside a decorated handler (request-scoped context); the handler's `oauth` argument
   * has the same method, for runtimes without `AsyncLocalStorage`.
   *
   * @returns a fetch-compatible client that adds the user's token and keeps it fresh
   * @throws {TypeError} outside a decorated handler
   * @throws {CredentialsMissingError} when the user has no credentials
   */
  http(): AuthorizedFetch {
    return this.#current('http').http();
  }

  /**
   * @returns the current user's stored credentials, if any (inside a decorated handler)
   */
  credentials(): Credentials | undefined {
    return this.#current('credentials').credentials;
  }

  /**
   * The seed's `has_credentials()`.
   *
   * @returns whether the current user has usable credentials with the route's scopes
   */
  hasCredentials(): boolean {
    return this.#current('hasCredentials').hasCredentials();
  }

  /**
   * The seed's `authorize_url()`: a same-origin URL that starts the flow and comes back to the
   * current page (or `returnTo`).
   *
   * @param options where to come back to, and extra scopes
   * @returns the URL (a path on the app's origin)
   */
  authorizeUrl(options?: { returnTo?: string; scopes?: string | readonly string[] }): string {
    return this.#current('authorizeUrl').authorizeUrl(options);
  }

  /**
   * Inside a decorated handler: revokes the current user's grant at the provider and deletes the
   * stored credentials (the same as the handler's `oauth.revoke()`).
   *
   * @returns nothing
   * @throws {RevocationError} when the provider refused; the credentials are kept
   */
  revoke(): Promise<void> {
    return this.#current('revoke').revoke();
  }

  #current(what: string): OAuthContext {
    const ctx = this.#context()?.getStore();
    if (!ctx) {
      throw new TypeError(
        `decorator.${what}() was called outside a handler wrapped by oauthRequired / oauthAware` +
          (this.#context()
            ? ''
            : this.#options.asyncContext === false
              ? " (asyncContext is off: use the handler's oauth argument)"
              : " (this runtime has no AsyncLocalStorage: use the handler's oauth argument)"),
      );
    }
    return ctx;
  }

  #context(): AsyncContext<OAuthContext> | undefined {
    if (this.#als === null) {
      this.#als =
        this.#options.asyncContext === false ? undefined : createAsyncContext<OAuthContext>();
    }
    return this.#als;
  }

  /**
   * Runs `fn` with `context` as the current request's OAuth context, so that `decorator.http()`
   * and friends find it. For adapters.
   *
   * @param context what {@link OAuth2Decorator.evaluate} gave
   * @param fn the rest of the request's handling
   * @returns what `fn` returns
   */
  runWithContext<R>(context: OAuthContext, fn: () => R): R {
    const als = this.#context();
    return als ? als.run(context, fn) : fn();
  }

  /**
   * The seed's `callback_handler()`: a Web-standard handler for {@link OAuth2Decorator.callbackPath}
   * (finishes the flow) and {@link OAuth2Decorator.startPath} (starts one). Mount it at both
   * paths, or let an adapter do it.
   *
   * @returns `(request) => Promise<Response>`
   */
  callbackHandler(): (request: Request) => Promise<Response> {
    return (request) => this.handleCallback(request);
  }

  // ---- the machinery, for adapters ---------------------------------------------------------------

  /**
   * Decides what a request to a decorated route gets: a response (a redirect to the provider, a
   * login redirect, an error page), or permission to proceed with an {@link OAuthContext}.
   *
   * @param request the request
   * @param route the mode and the route's extra scopes
   * @returns the decision
   */
  async evaluate(
    request: Request,
    route: { mode: 'required' | 'aware'; scopes?: string | readonly string[] | undefined },
  ): Promise<Evaluation> {
    const routeScopes = route.scopes === undefined ? NO_SCOPES : this.#learn(route.scopes);
    let ready: Ready;
    try {
      // Awaiting only when there is something to wait for: this is every request's path.
      ready = this.#readyValue ?? (await this.#getReady());
    } catch (err) {
      return { kind: 'respond', response: this.#errorResponse(err, undefined) };
    }
    const setCookies: string[] = [];
    const found =
      this.#sessionUser(request, ready) ?? (await this.#resolveUser(request, ready, setCookies));
    const user = found === NOBODY ? undefined : found;
    if (user === undefined && this.#options.user && route.mode === 'required') {
      return { kind: 'respond', response: this.#loginResponse(returnPath(request, ready)) };
    }
    const needed = routeScopes.length ? unique([...ready.scopes, ...routeScopes]) : ready.scopes;
    let credentials: Credentials | undefined;
    if (user !== undefined) {
      const recent = this.#recent.get(user);
      // A cached entry only ever says yes: when it lacks a scope this route needs, the store may
      // already hold a newer grant (incremental consent just finished, here or elsewhere).
      if (
        recent !== undefined &&
        recent.until > Date.now() &&
        ready.tokens.isUsable(recent.credentials) &&
        recent.credentials.hasScopes(needed)
      ) {
        credentials = recent.credentials;
      } else {
        try {
          credentials = await ready.store.get(user);
        } catch (err) {
          // Unreadable credentials (corrupt, or under a key no longer configured) are treated as
          // none: the user goes through the flow and the new grant replaces them.
          if (!(err instanceof CredentialsInvalidError)) {
            return {
              kind: 'respond',
              response: this.#errorResponse(err, returnPath(request, ready)),
            };
          }
          this.#logger.warn(
            `oauthkit: stored credentials for a user could not be read (${err.message}); asking again`,
          );
        }
        this.#remember(user, credentials, ready);
      }
    }
    const usable = ready.tokens.isUsable(credentials) && credentials.hasScopes(needed);
    if (!usable && route.mode === 'required') {
      return {
        kind: 'respond',
        response: await this.#startFlow(
          ready,
          user,
          credentials,
          needed,
          returnPath(request, ready),
          request,
        ),
      };
    }
    return {
      kind: 'proceed',
      context: this.#makeContext(ready, user, credentials, needed, request),
      setCookies,
    };
  }

  /** Normalises a route's scopes and remembers them, so the start path accepts them. */
  #learn(scopes: string | readonly string[] | undefined): string[] {
    if (scopes === undefined) return [];
    const list = toScopes(scopes);
    for (const s of list) this.#knownScopes.add(s);
    return list;
  }

  #remember(user: string, credentials: Credentials | undefined, ready: Ready): void {
    const ttl = this.#options.cacheTtlMs ?? 1000;
    if (ttl <= 0 || !ready.tokens.isUsable(credentials)) {
      this.#recent.delete(user);
      return;
    }
    if (this.#recent.size >= 10_000)
      this.#recent.delete(this.#recent.keys().next().value as string);
    this.#recent.set(user, { credentials, until: Date.now() + ttl });
  }

  /**
   * For an error a decorated handler threw: when it means the grant is gone or lacks a scope,
   * the response that sends the user through the flow again; otherwise `undefined`.
   *
   * @param request the request
   * @param error what the handler threw
   * @param route the route's extra scopes
   * @returns a redirect to the provider, or `undefined`
   */
  async reauthResponse(
    request: Request,
    error: unknown,
    route: { scopes?: string | readonly string[] | undefined } = {},
  ): Promise<Response | undefined> {
    if (!isReauthError(error)) return undefined;
    const routeScopes = this.#learn(route.scopes);
    const ready = await this.#getReady();
    const url = new URL(request.url);
    const here = safeReturnPath(url.pathname + url.search, ready.origin);
    const user = await this.#resolveUser(request, ready, []);
    if (user !== undefined) this.#recent.delete(user);
    let credentials: Credentials | undefined;
    try {
      credentials = user === undefined ? undefined : await ready.store.get(user);
    } catch {
      credentials = undefined;
    }
    // An API that names the scope it wants (RFC 6750 `scope=`) gets it asked for, besides what
    // the route and the earlier grant have.
    // Only scopes this app declared (on the decorator or a route) are ever asked for: an API,
    // or anything that answers the handler's calls, must not widen the grant.
    const named =
      error instanceof InsufficientScopeError && error.error === 'insufficient_scope'
        ? toScopes(error.error_description)
        : [];
    const wanted = named.filter((s) => this.#knownScopes.has(s));
    if (named.length > 0 && wanted.length === 0) {
      this.#logger.warn(
        `oauthkit: an API asked for scopes this app does not declare (${named.join(' ')}); add them to "scopes" or the route's scopes`,
      );
      return undefined;
    }
    const needed = unique([...ready.scopes, ...routeScopes, ...wanted]);
    return this.#startFlow(ready, user, credentials, needed, here, request);
  }

  #makeContext(
    ready: Ready,
    user: string | undefined,
    credentials: Credentials | undefined,
    needed: string[],
    request: Request,
  ): OAuthContext {
    let http: AuthorizedFetch | undefined;
    const decorator = this;
    const context: OAuthContext = {
      user,
      credentials,
      hasCredentials: () => ready.tokens.isUsable(credentials) && credentials.hasScopes(needed),
      authorizeUrl(options) {
        const returnTo = safeReturnPath(
          options?.returnTo ?? returnPath(request, ready),
          ready.origin,
        );
        const extra = toScopes(options?.scopes);
        for (const s of extra) decorator.#knownScopes.add(s);
        const q = new URLSearchParams({ return_to: returnTo });
        const scopes = unique([...needed, ...extra]).filter((s) => !ready.scopes.includes(s));
        if (scopes.length) q.set('scope', scopes.join(' '));
        return `${decorator.startPath}?${q}`;
      },
      http() {
        if (user === undefined || credentials === undefined) {
          throw new GrantRevokedError('no credentials for the current user; authorize first');
        }
        http ??= createAuthorizedFetch({
          tokens: ready.tokens,
          key: user,
          allowedOrigins: decorator.#options.allowedOrigins,
        });
        return http;
      },
      async revoke() {
        if (user === undefined) return;
        decorator.#recent.delete(user);
        await ready.tokens.revoke(user);
      },
    };
    // Not enumerable: a context that ends up in JSON (view state, a log line) shows no token.
    Object.defineProperty(context, 'credentials', { enumerable: false });
    return context;
  }

  /**
   * The built-in session's user when it is already known to this process (the common case):
   * no promise, no decryption. `undefined` when the slow path must decide.
   */
  #sessionUser(request: Request, ready: Ready): string | typeof NOBODY | undefined {
    if (this.#options.user) return undefined;
    const raw = readCookie(request.headers.get('cookie'), `${ready.policy.prefix}session`);
    if (raw === undefined) return NOBODY;
    const session = this.#sessions.get(raw);
    return session !== undefined && session.exp > Date.now() ? session.user : undefined;
  }

  async #resolveUser(
    request: Request,
    ready: Ready,
    setCookies: string[],
  ): Promise<string | undefined> {
    if (this.#options.user) {
      const id = await this.#options.user(request);
      return typeof id === 'string' && id.length > 0 ? id : undefined;
    }
    const name = `${ready.policy.prefix}session`;
    const raw = readCookie(request.headers.get('cookie'), name);
    if (raw === undefined) return undefined;
    const now = Date.now();
    let session = this.#sessions.get(raw);
    if (session === undefined) {
      const value = (await ready.session.unseal(raw, name)) as Session | undefined;
      if (
        value &&
        typeof value.user === 'string' &&
        typeof value.exp === 'number' &&
        typeof value.sid === 'string'
      ) {
        session = value;
        // Sealed values are ours, so caching by the exact text is safe; it saves a decryption
        // per request. Bounded: the oldest entries go first.
        if (this.#sessions.size >= 10_000)
          this.#sessions.delete(this.#sessions.keys().next().value as string);
        this.#sessions.set(raw, session);
      }
    }
    if (session === undefined || session.exp <= now) {
      setCookies.push(serializeCookie(ready.policy, name, '', 0));
      return undefined;
    }
    return session.user;
  }

  #loginResponse(here: string): Response {
    const loginUrl = this.#options.loginUrl;
    if (loginUrl) {
      const target = `${loginUrl}${loginUrl.includes('?') ? '&' : '?'}return_to=${encodeURIComponent(here)}`;
      return redirect(target, 302);
    }
    return htmlPage({
      status: 401,
      title: 'Sign in required',
      message: 'Please sign in to this application to continue.',
    });
  }

  async #startFlow(
    ready: Ready,
    user: string | undefined,
    existing: Credentials | undefined,
    needed: string[],
    returnTo: string,
    request: Request,
  ): Promise<Response> {
    // A browser's fetch() or XHR cannot follow a redirect to the provider; it gets a 401 (and no
    // flow cookie) so that the page can send the user to authorizeUrl() itself.
    if (request.headers.get('sec-fetch-dest') === 'empty') {
      const response = htmlPage({
        status: 401,
        title: 'Authorization required',
        message: 'This request needs authorization; open the page in the browser to grant it.',
      });
      response.headers.set('www-authenticate', 'Bearer');
      return response;
    }
    // The return path travels in the flow cookie: a long one is not worth a cookie the browser
    // may refuse or a header the server may reject.
    if (returnTo.length > 512) returnTo = '/';
    const previous = existing && !existing.invalid ? existing : undefined;
    // Incremental authorization: ask again for what was granted before, so the new grant keeps it.
    const scopes = unique([...needed, ...(previous?.scopes ?? [])]);
    // Google only issues a refresh token on consent; ask for consent only when none is stored.
    const prompt = previous?.refreshToken === undefined ? 'consent' : undefined;
    let url: URL;
    let record: FlowRecord;
    try {
      const built = await ready.client.buildAuthorizationUrl({
        scopes,
        includeGrantedScopes: previous !== undefined,
        prompt,
        extraParams: this.#options.authorizationParams,
      });
      url = built.url;
      record = {
        id: randomId(16),
        pending: built.pending,
        returnTo,
        user,
        expiresAt: Date.now() + (this.#options.flowMaxAgeSec ?? 600) * 1000,
      };
    } catch (err) {
      return this.#errorResponse(err, returnTo);
    }
    let cookie: string;
    try {
      cookie = await ready.flows.save(record);
    } catch (err) {
      return this.#errorResponse(err, returnTo);
    }
    const headers = setSecurityHeaders(new Headers({ location: url.href }));
    // One cookie per flow, at most three at a time: the oldest pending flows are dropped, so that
    // abandoned flows never grow the Cookie header past what servers accept.
    const pending = cookieNames(request.headers.get('cookie'), `${ready.policy.prefix}flow-`);
    for (const name of pending.slice(0, Math.max(0, pending.length - 2))) {
      headers.append('set-cookie', serializeCookie(ready.policy, name, '', 0));
    }
    headers.append(
      'set-cookie',
      serializeCookie(
        ready.policy,
        flowCookieName(ready.policy, record.pending.state),
        cookie,
        this.#options.flowMaxAgeSec ?? 600,
      ),
    );
    // 303 after a non-GET so that the browser follows with GET.
    return new Response(null, {
      status: request.method === 'GET' || request.method === 'HEAD' ? 302 : 303,
      headers,
    });
  }

  /**
   * Handles a request to the callback path (finish the flow) or the start path (begin one).
   *
   * The callback checks the pending flow, the state and the issuer **before** any token request,
   * then exchanges the code, stores the credentials under the user, and redirects (303) to the
   * original same-origin path. Every failure is a 4xx (or, for an outage, 5xx) page; nothing is
   * stored and the flow cookie is cleared.
   *
   * @param request the request
   * @returns the response
   */
  async handleCallback(request: Request): Promise<Response> {
    let ready: Ready;
    try {
      ready = await this.#getReady();
    } catch (err) {
      return this.#errorResponse(err, undefined);
    }
    const url = new URL(request.url);
    if (url.pathname === this.startPath) return this.#handleStart(request, ready, url);
    if (url.pathname !== this.callbackPath) {
      return htmlPage({ status: 404, title: 'Not found', message: 'There is nothing here.' });
    }
    const q = url.searchParams;
    const state = q.get('state');
    const headers = new Headers();
    if (state === null || !/^[A-Za-z0-9_-]{16,128}$/.test(state)) {
      return htmlPage({
        status: 400,
        title: 'Sign-in could not be completed',
        message: 'The response from the sign-in service is missing its state. Please start again.',
        retryHref: '/',
        headers,
      });
    }
    const cookieName = flowCookieName(ready.policy, state);
    headers.append('set-cookie', serializeCookie(ready.policy, cookieName, '', 0));
    const raw = readCookie(request.headers.get('cookie'), cookieName);
    let record: FlowRecord | undefined;
    try {
      record = raw === undefined ? undefined : await ready.flows.take(raw);
    } catch (err) {
      return this.#errorResponse(err, '/', headers);
    }
    if (record === undefined || record.pending.state !== state) {
      return htmlPage({
        status: 400,
        title: 'Sign-in could not be completed',
        message:
          'This sign-in response does not belong to a sign-in started in this browser, or it has expired or already been used. Please start again.',
        retryHref: '/',
        headers,
      });
    }
    const returnTo = safeReturnPath(record.returnTo, ready.origin);
    const current = await this.#resolveUser(request, ready, []);
    if (record.user !== undefined && record.user !== current) {
      return htmlPage({
        status: 403,
        title: 'Sign-in could not be completed',
        message:
          'This sign-in was started by another account of this application. Please start again.',
        retryHref: returnTo,
        headers,
      });
    }

    let credentials: Credentials;
    try {
      credentials = await ready.client.exchangeCode(q, record.pending);
    } catch (err) {
      return this.#errorResponse(err, returnTo, headers);
    }
    const key = this.#options.user ? current : subjectKey(credentials);
    if (key === undefined) {
      return this.#errorResponse(
        new ConfigurationError(
          'the provider returned no ID token, so oauthkit cannot tell who authorized; ask for "openid" or set the "user" option',
        ),
        returnTo,
        headers,
      );
    }
    try {
      const existing = await ready.store.get(key).catch((err: unknown) => {
        if (err instanceof CredentialsInvalidError) return undefined;
        throw err;
      });
      // Incremental authorization with Google: the new token response carries no refresh token
      // when one was issued before. Keep it, when it belongs to the same person.
      if (
        credentials.refreshToken === undefined &&
        existing?.refreshToken !== undefined &&
        !existing.invalid &&
        sameSubject(existing, credentials)
      ) {
        credentials = credentials.with({ refreshToken: existing.refreshToken });
      }
      this.#recent.delete(key);
      const save = () => ready.store.put(key, credentials);
      // Under the store's lock when it has one, so a refresh running elsewhere cannot write its
      // result over the grant just made.
      await (ready.store.lock ? ready.store.lock(key, save, { leaseMs: 30_000 }) : save());
      this.#recent.delete(key);
    } catch (err) {
      return this.#errorResponse(err, returnTo, headers);
    }
    if (!this.#options.user) {
      // A new session id on every sign-in: a session fixed before sign-in is never promoted.
      const name = `${ready.policy.prefix}session`;
      const maxAge = this.#options.sessionMaxAgeSec ?? 14 * 24 * 3600;
      const session: Session = { sid: randomId(16), user: key, exp: Date.now() + maxAge * 1000 };
      headers.append(
        'set-cookie',
        serializeCookie(ready.policy, name, await ready.session.seal(session, name), maxAge),
      );
    }
    // A provider may grant less than was asked (per-scope checkboxes, an admin policy). Sending
    // the user back to a page that needs the missing scope would start the flow again, and again.
    const missing = record.pending.scopes.filter((s) => !credentials.hasScopes([s]));
    if (missing.length > 0) {
      this.#logger.warn(`oauthkit: the provider did not grant ${missing.join(' ')}`);
      return htmlPage({
        status: 403,
        title: 'Some access was not granted',
        message:
          'The sign-in service did not grant every permission this page needs, so it cannot be shown. You can try again and allow them.',
        detail: missing.join(' '),
        retryHref: returnTo,
        headers,
      });
    }
    headers.set('location', returnTo);
    setSecurityHeaders(headers);
    return new Response(null, { status: 303, headers });
  }

  async #handleStart(request: Request, ready: Ready, url: URL): Promise<Response> {
    const returnTo = safeReturnPath(url.searchParams.get('return_to'), ready.origin);
    const extra = toScopes(url.searchParams.get('scope') ?? undefined);
    const unknown = extra.filter((s) => !this.#knownScopes.has(s));
    if (unknown.length > 0) {
      return htmlPage({
        status: 400,
        title: 'Unknown permission',
        message: 'This link asks for a permission this application does not use.',
        detail: unknown.join(' '),
        retryHref: returnTo,
      });
    }
    const setCookies: string[] = [];
    const user = await this.#resolveUser(request, ready, setCookies);
    if (user === undefined && this.#options.user) return this.#loginResponse(returnTo);
    let existing: Credentials | undefined;
    try {
      existing = user === undefined ? undefined : await ready.store.get(user);
    } catch (err) {
      if (!(err instanceof CredentialsInvalidError)) return this.#errorResponse(err, returnTo);
    }
    const response = await this.#startFlow(
      ready,
      user,
      existing,
      unique([...ready.scopes, ...extra]),
      returnTo,
      request,
    );
    return appendCookies(response, setCookies);
  }

  #errorResponse(err: unknown, retryHref: string | undefined, headers = new Headers()): Response {
    if (
      err instanceof ConfigurationError ||
      (err instanceof OAuthKitError && err.code === 'client_secrets_invalid')
    ) {
      this.#fail(err);
      return htmlPage({
        status: 500,
        title: 'Application not configured',
        message: this.#options.message ?? DEFAULT_MESSAGE,
        headers,
      });
    }
    if (err instanceof AuthorizationDeniedError) {
      return htmlPage({
        status: 403,
        title: 'Access was not granted',
        message:
          'The sign-in service reported that access was not granted, so this application cannot continue.',
        detail: [err.error, err.error_description].filter(Boolean).join(': '),
        retryHref,
        headers,
      });
    }
    if (
      err instanceof TransientError ||
      err instanceof StoreError ||
      !(err instanceof OAuthKitError)
    ) {
      const known = err instanceof OAuthKitError;
      this.#logger.error(
        `oauthkit: ${known ? `${err.code}: ${err.message}` : `unexpected error: ${err instanceof Error ? err.name : typeof err}`}`,
      );
      return htmlPage({
        status: err instanceof StoreError || !known ? 503 : 502,
        title: 'Temporarily unavailable',
        message: 'Signing in is not possible right now. Please try again in a moment.',
        retryHref,
        headers,
      });
    }
    this.#logger.warn(`oauthkit: sign-in failed: ${err.code}: ${err.message}`);
    return htmlPage({
      status: 400,
      title: 'Sign-in could not be completed',
      message: 'The response from the sign-in service could not be accepted. Please start again.',
      retryHref,
      headers,
    });
  }
}

/** A class method a TC39 decorator can wrap: its first argument is the Request. */
// biome-ignore lint: `any` is what lets any `this` and any further parameters through.
type HandlerMethod = (this: any, request: Request, ...rest: any[]) => Response | Promise<Response>;

/** `oauthRequired` / `oauthAware`: a wrapper, a wrapper factory, and a TC39 method decorator. */
export interface DecoratorFunction {
  <A extends unknown[]>(
    handler: DecoratedHandler<A>,
  ): (request: Request, ...rest: A) => Promise<Response>;
  <M extends HandlerMethod>(method: M, context: ClassMethodDecoratorContext): M;
  (options: RouteOptions): {
    <A extends unknown[]>(
      handler: DecoratedHandler<A>,
    ): (request: Request, ...rest: A) => Promise<Response>;
    <M extends HandlerMethod>(method: M, context: ClassMethodDecoratorContext): M;
  };
}

/**
 * Whether an error means the user must go through the flow again: the grant is gone or expired,
 * the provider wants a new sign-in, a scope is missing, or there are no credentials. Adapters
 * use it to decide, without awaiting anything, whether to hand an error to
 * {@link OAuth2Decorator.reauthResponse}.
 *
 * @param error what a handler threw
 * @returns `true` for oauthkit errors with codes `grant_revoked`, `reauth_required`,
 *   `insufficient_scope`, `credentials_missing`, `credentials_invalid`
 * @example
 * ```ts
 * if (isReauthError(err)) return decorator.reauthResponse(request, err);
 * ```
 */
export function isReauthError(error: unknown): error is OAuthKitError {
  return error instanceof OAuthKitError && REAUTH_CODES.has(error.code);
}

/** The current request's path and query, as a safe return path. */
function returnPath(request: Request, ready: Ready): string {
  const url = new URL(request.url);
  return safeReturnPath(url.pathname + url.search, ready.origin);
}

function flowCookieName(policy: CookiePolicy, state: string): string {
  // One cookie per flow, named after its state, so that two tabs never clobber each other.
  return `${policy.prefix}flow-${state.slice(0, 16)}`;
}

function subjectKey(credentials: Credentials): string | undefined {
  const s = credentials.subject;
  return s ? `oidc:${s.iss}#${s.sub}` : undefined;
}

function sameSubject(a: Credentials, b: Credentials): boolean {
  // Unknown on either side means unknown: a refresh token is never grafted onto a grant that
  // may belong to another account.
  const x = a.subject;
  const y = b.subject;
  return x !== undefined && y !== undefined && x.iss === y.iss && x.sub === y.sub;
}

function toScopes(scopes: string | readonly string[] | undefined): string[] {
  if (scopes === undefined) return [];
  const list = typeof scopes === 'string' ? scopes.split(/\s+/) : [...scopes];
  return unique(list.filter((s) => typeof s === 'string' && s.length > 0));
}

function unique(list: string[]): string[] {
  return [...new Set(list)];
}

function redirect(location: string, status: number): Response {
  return new Response(null, { status, headers: setSecurityHeaders(new Headers({ location })) });
}

function appendCookies(response: Response, cookies: string[]): Response {
  if (cookies.length === 0) return response;
  const out = new Response(response.body, response);
  for (const c of cookies) out.headers.append('set-cookie', c);
  return out;
}
