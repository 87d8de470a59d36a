import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { withoutProviderNotices } from '../../examples/provider-notices.js';

export interface TestClient {
  client_id: string;
  client_secret: string;
  redirect_uris: string[];
  scope?: string;
}

export interface TestProviderOptions {
  /** Issue a new refresh token on every refresh and invalidate the old one. Default false (Google). */
  rotateRefreshToken?: boolean;
  /** Access token lifetime in seconds. Default 3600. */
  accessTokenTtl?: number;
  /** ID token lifetime in seconds. Default 3600. */
  idTokenTtl?: number;
  /** Registered clients. Default: one `test-client` / `test-secret` client. */
  clients?: TestClient[];
  /**
   * Scopes supported besides openid, offline_access, email and profile. Replaces the default
   * list: the two Google Tasks scopes, `api:read` and `api:write`.
   */
  scopes?: string[];
}

export interface AuthorizeOptions {
  /** Account id to sign in as, if the provider asks for a login. Default `alice`. */
  login?: string;
  /** false: deny at the consent step, so the redirect carries `error=access_denied`. */
  consent?: boolean;
  /** Browser session to use; pass the same jar again to reuse the provider's login session. */
  jar?: CookieJar;
}

export interface TestProvider {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  issuer: string;
  /** The oidc-provider instance. */
  provider: any;
  /** HTTP requests received at the token, revocation and authorization (`/auth`) endpoints. */
  counts: { token: number; revocation: number; auth: number };
  resetCounts(): void;
  /**
   * Loads `authorizationUrl` and drives the dev login and consent pages over plain HTTP until the
   * provider redirects away from the issuer's origin, and returns that redirect URL (normally the
   * client's redirect_uri with `code`, `state` and `iss`) without following it.
   */
  authorize(authorizationUrl: string | URL, opts?: AuthorizeOptions): Promise<URL>;
  /**
   * Destroys every grant `accountId` consented to, along with the access tokens, refresh tokens and
   * authorization codes issued under them, directly through the provider's storage adapter (the
   * equivalent of the user removing the app's access in their account settings). Refreshing
   * afterwards fails with `invalid_grant`; the account's login session is kept.
   */
  revokeAllFor(accountId: string): Promise<void>;
  close(): Promise<void>;
}

export const DEFAULT_CLIENT: TestClient = {
  client_id: 'test-client',
  client_secret: 'test-secret',
  redirect_uris: ['http://127.0.0.1:8123/oauth2callback'],
};

export const DEFAULT_SCOPES = [
  'https://www.googleapis.com/auth/tasks',
  'https://www.googleapis.com/auth/tasks.readonly',
  'api:read',
  'api:write',
];

const ROUTES = {
  authorization: '/auth',
  token: '/token',
  revocation: '/token/revocation',
  introspection: '/token/introspection',
  userinfo: '/me',
  jwks: '/jwks',
};

const DAY = 24 * 60 * 60;

export async function startTestProvider(opts: TestProviderOptions = {}): Promise<TestProvider> {
  const { default: Provider } = await withoutProviderNotices(() => import('oidc-provider'));

  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const issuer = `http://127.0.0.1:${port}`;

  const provider = await withoutProviderNotices(() => new Provider(issuer, configuration(opts)));

  // The in-memory adapter cannot list grants by account, so remember them as they are saved.
  const grantAccounts = new Map<string, string>();
  provider.on('grant.saved', (grant: { jti: string; accountId: string }) => {
    grantAccounts.set(grant.jti, grant.accountId);
  });

  const counts = { token: 0, revocation: 0, auth: 0 };
  const callback = provider.callback();
  server.on('request', (req, res) => {
    const { pathname } = new URL(req.url ?? '/', issuer);
    if (pathname === ROUTES.token) counts.token++;
    else if (pathname === ROUTES.revocation) counts.revocation++;
    else if (pathname === ROUTES.authorization) counts.auth++;
    callback(req, res);
  });

  return {
    issuer,
    provider,
    counts,
    resetCounts() {
      counts.token = 0;
      counts.revocation = 0;
      counts.auth = 0;
    },
    authorize: (authorizationUrl, authorizeOpts) =>
      authorize(issuer, authorizationUrl, authorizeOpts),
    async revokeAllFor(accountId) {
      for (const [grantId, owner] of grantAccounts) {
        if (owner !== accountId) continue;
        // The memory adapter indexes every token of a grant together, so this drops codes too.
        await provider.AccessToken.revokeByGrantId(grantId);
        await provider.RefreshToken.revokeByGrantId(grantId);
        await provider.Grant.adapter.destroy(grantId);
        grantAccounts.delete(grantId);
      }
    },
    async close() {
      const closed = new Promise<void>((resolve, reject) =>
        server.close((err) => (err ? reject(err) : resolve())),
      );
      server.closeAllConnections();
      await closed;
    },
  };
}

function configuration(opts: TestProviderOptions) {
  const clients = opts.clients ?? [DEFAULT_CLIENT];
  return {
    clients: clients.map((client) => ({
      ...client,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    })),
    clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
    responseTypes: ['code'],
    scopes: ['openid', 'offline_access', 'email', 'profile', ...(opts.scopes ?? DEFAULT_SCOPES)],
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name'],
    },
    // Like Google: the ID token carries the scope's claims even though an access token is issued.
    conformIdTokenClaims: false,
    // Like Google: redirect_uri is always required, even with a single registered one.
    allowOmittingSingleRegisteredRedirectUri: false,
    async findAccount(_ctx: unknown, sub: string) {
      return {
        accountId: sub,
        async claims() {
          return { sub, email: `${sub}@example.test`, email_verified: true, name: sub };
        },
      };
    },
    // oidc-provider only issues refresh tokens for offline_access (and only with prompt=consent);
    // Google issues one on every code exchange of a client allowed to refresh.
    issueRefreshToken: async (_ctx: unknown, client: any) =>
      client.grantTypeAllowed('refresh_token'),
    // Tokens outlive the browser session, as Google's do.
    expiresWithSession: async () => false,
    rotateRefreshToken: opts.rotateRefreshToken ?? false,
    // The default only requires PKCE for public clients; require it for everyone.
    pkce: { required: () => true },
    routes: ROUTES,
    features: {
      devInteractions: { enabled: true },
      revocation: { enabled: true, allowedPolicy: sameClient },
      introspection: { enabled: true, allowedPolicy: sameClient },
    },
    // Every function below is the default minus the "you SHOULD change this" notice it prints.
    ttl: {
      AccessToken: opts.accessTokenTtl ?? 3600,
      AuthorizationCode: 60,
      IdToken: opts.idTokenTtl ?? 3600,
      RefreshToken: 14 * DAY,
      Interaction: 3600,
      Session: 14 * DAY,
      Grant: 14 * DAY,
    },
    clientBasedCORS: () => true,
    async renderError(ctx: any, out: Record<string, string>) {
      ctx.type = 'json';
      ctx.body = out;
    },
  };
}

async function sameClient(_ctx: unknown, client: any, token: any) {
  return token.clientId === client.clientId;
}

async function authorize(
  issuer: string,
  authorizationUrl: string | URL,
  { login = 'alice', consent = true, jar = new CookieJar() }: AuthorizeOptions = {},
): Promise<URL> {
  const issuerOrigin = new URL(issuer).origin;
  let url = new URL(authorizationUrl);
  let body: URLSearchParams | undefined;

  for (let step = 0; step < 20; step++) {
    const cookie = jar.header(url);
    const res = await fetch(url, {
      method: body ? 'POST' : 'GET',
      body,
      headers: cookie ? { cookie } : {},
      redirect: 'manual',
    });
    jar.store(url, res);
    body = undefined;

    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      await res.body?.cancel();
      const next = new URL(location, url);
      if (next.origin !== issuerOrigin) return next;
      url = next;
      continue;
    }

    const html = await res.text();
    const prompt = /name="prompt" value="([^"]+)"/.exec(html)?.[1];
    const action = /<form[^>]* action="([^"]+)"/.exec(html)?.[1];
    const abort = /href="([^"]+\/abort)"/.exec(html)?.[1];
    if (res.status !== 200 || !prompt || !action || !abort) {
      throw new Error(`authorize: unexpected ${res.status} response from ${url}: ${html}`);
    }

    if (prompt === 'consent' && !consent) {
      url = new URL(unescapeHtml(abort), url);
    } else if (prompt === 'login' || prompt === 'consent') {
      url = new URL(unescapeHtml(action), url);
      body = new URLSearchParams(
        prompt === 'login' ? { prompt, login, password: 'any password' } : { prompt },
      );
    } else {
      throw new Error(`authorize: unsupported interaction prompt ${prompt}`);
    }
  }
  throw new Error('authorize: too many steps without leaving the provider');
}

function unescapeHtml(value: string): string {
  return value.replaceAll('&amp;', '&').replaceAll('&quot;', '"').replaceAll('&#39;', "'");
}

interface StoredCookie {
  name: string;
  value: string;
  path: string;
}

/**
 * A minimal cookie jar for one loopback "browser": honours Path, Max-Age and Expires, ignores
 * Domain, Secure and SameSite.
 */
export class CookieJar {
  readonly #cookies = new Map<string, StoredCookie>();

  /** Records the Set-Cookie headers of `response`, the answer to a request for `url`. */
  store(url: string | URL, response: Response): void {
    const requestPath = new URL(url).pathname;
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const cookie = {
        name: pair.slice(0, eq).trim(),
        value: pair.slice(eq + 1).trim(),
        path: defaultPath(requestPath),
      };
      let expired = false;
      for (const attribute of attributes) {
        const [key = '', value = ''] = attribute.split('=', 2).map((part) => part.trim());
        switch (key.toLowerCase()) {
          case 'path':
            if (value.startsWith('/')) cookie.path = value;
            break;
          case 'max-age':
            expired ||= Number(value) <= 0;
            break;
          case 'expires':
            expired ||= Date.parse(value) <= Date.now();
            break;
        }
      }
      const key = `${cookie.path} ${cookie.name}`;
      if (expired) this.#cookies.delete(key);
      else this.#cookies.set(key, cookie);
    }
  }

  /** The Cookie header for a request to `url`, or undefined when no cookie applies. */
  header(url: string | URL): string | undefined {
    const requestPath = new URL(url).pathname;
    const matching = [...this.#cookies.values()]
      .filter(({ path }) => pathMatches(requestPath, path))
      .sort((a, b) => b.path.length - a.path.length);
    return matching.length
      ? matching.map(({ name, value }) => `${name}=${value}`).join('; ')
      : undefined;
  }

  get size(): number {
    return this.#cookies.size;
  }

  clear(): void {
    this.#cookies.clear();
  }
}

// RFC 6265 section 5.1.4.
function defaultPath(requestPath: string): string {
  const lastSlash = requestPath.lastIndexOf('/');
  return lastSlash <= 0 ? '/' : requestPath.slice(0, lastSlash);
}

function pathMatches(requestPath: string, cookiePath: string): boolean {
  return (
    requestPath === cookiePath ||
    (requestPath.startsWith(cookiePath) &&
      (cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/'))
  );
}
