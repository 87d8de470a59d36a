/**
 * A stand-in for Google's metadata server, for the demo: it answers the requests
 * `AppAssertionCredentials` makes (token, email, identity, project id) on loopback, minting
 * access tokens from any token source, e.g. the local OpenID Connect provider by the client
 * credentials grant. Point the app at it with `GCE_METADATA_HOST=<host>`.
 *
 * Like the real one, it requires `Metadata-Flavor: Google` on every request, sends it on every
 * response, refuses requests that went through a proxy (`X-Forwarded-For`), and hands out the
 * same token until it nears expiry.
 *
 * @module
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A minted access token, as a token endpoint returns it. */
export interface SourceToken {
  access_token: string;
  /** Lifetime in seconds. */
  expires_in: number;
}

/** Mints an access token for the given scopes (the instance's default scopes when empty). */
export type TokenSource = (scopes: readonly string[]) => Promise<SourceToken>;

/** Options of {@link startMetadataServer}. */
export interface MetadataServerOptions {
  /** The port (default 0: any free one). */
  port?: number | undefined;
  /** The loopback address to listen on (default `127.0.0.1`). */
  host?: string | undefined;
  /** Where access tokens come from. */
  tokenSource: TokenSource;
  /** Scopes used when a token request names none. */
  defaultScopes?: readonly string[] | undefined;
  /** The `default` service account's email. */
  email?: string | undefined;
  /** The project id it reports. */
  projectId?: string | undefined;
  /** Where ID tokens come from; without it, `identity` answers 404. */
  idTokenSource?: ((audience: string) => Promise<string>) | undefined;
}

/** A running metadata-server stand-in. */
export interface MetadataServer {
  /** `127.0.0.1:PORT`: the value for `GCE_METADATA_HOST`. */
  readonly host: string;
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  /** Tokens minted from the source so far. */
  readonly mints: number;
  /** Stops it and drops open connections. */
  close(): Promise<void>;
}

const ACCOUNTS = '/computeMetadata/v1/instance/service-accounts/';

/**
 * Starts a metadata-server stand-in on loopback.
 *
 * @param options the port, the token source, the account's email
 * @returns the running server; give its `host` to the app as `GCE_METADATA_HOST`
 * @example
 * ```ts
 * const metadata = await startMetadataServer({
 *   tokenSource: clientCredentialsTokenSource({
 *     tokenEndpoint: `${issuer}/token`,
 *     clientId: 'demo-service-account',
 *     clientSecret: 'demo-service-account-secret',
 *   }),
 *   email: 'demo-app@demo-project.iam.gserviceaccount.com',
 * });
 * const credentials = new AppAssertionCredentials({ scopes, env: { GCE_METADATA_HOST: metadata.host } });
 * ```
 */
export async function startMetadataServer(options: MetadataServerOptions): Promise<MetadataServer> {
  if (typeof options?.tokenSource !== 'function') {
    throw new TypeError('"tokenSource" must be a function');
  }
  const email = options.email ?? 'app@local-project.iam.gserviceaccount.com';
  const projectId = options.projectId ?? 'local-project';
  const defaultScopes = options.defaultScopes ?? [];
  const cache = new Map<string, { token: string; expiresAt: number }>();
  const pending = new Map<string, Promise<{ token: string; expiresAt: number }>>();
  let mints = 0;

  const token = async (scopes: readonly string[]) => {
    const key = [...scopes].sort().join(' ');
    const cached = cache.get(key);
    if (cached && cached.expiresAt - Date.now() > 5 * 60_000) return cached;
    let p = pending.get(key);
    if (!p) {
      p = (async () => {
        try {
          const t = await options.tokenSource(scopes.length > 0 ? scopes : defaultScopes);
          mints++;
          const entry = { token: t.access_token, expiresAt: Date.now() + t.expires_in * 1000 };
          cache.set(key, entry);
          return entry;
        } finally {
          pending.delete(key);
        }
      })();
      pending.set(key, p);
    }
    return p;
  };

  const send = (res: ServerResponse, status: number, body: string, type = 'text/plain') => {
    res.writeHead(status, { 'content-type': type, 'metadata-flavor': 'Google' }).end(body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    if (req.headers['metadata-flavor'] !== 'Google' || req.headers['x-forwarded-for']) {
      return send(res, 403, 'Missing Metadata-Flavor:Google header.');
    }
    const url = new URL(req.url ?? '/', 'http://metadata');
    const path = url.pathname;
    if (
      path === '/' ||
      path === '/computeMetadata/v1/' ||
      path === '/computeMetadata/v1/instance/'
    ) {
      return send(res, 200, 'instance/\nproject/\n');
    }
    if (path === '/computeMetadata/v1/project/project-id') return send(res, 200, projectId);
    if (!path.startsWith(ACCOUNTS)) return send(res, 404, 'Not Found');
    const [rawAccount = '', leaf = ''] = path.slice(ACCOUNTS.length).split('/');
    const account = decodeURIComponent(rawAccount);
    if (account !== 'default' && account !== email) return send(res, 404, 'Not Found');
    if (leaf === 'email') return send(res, 200, email);
    if (leaf === 'token') {
      const scopes = (url.searchParams.get('scopes') ?? '').split(',').filter(Boolean);
      try {
        const t = await token(scopes);
        const body = JSON.stringify({
          access_token: t.token,
          expires_in: Math.floor((t.expiresAt - Date.now()) / 1000),
          token_type: 'Bearer',
        });
        return send(res, 200, body, 'application/json');
      } catch (err) {
        return send(res, 503, `token source failed: ${(err as Error).message}`);
      }
    }
    if (leaf === 'identity' && options.idTokenSource) {
      const audience = url.searchParams.get('audience');
      if (!audience) return send(res, 400, 'non-empty audience parameter required');
      return send(res, 200, await options.idTokenSource(audience));
    }
    return send(res, 404, 'Not Found');
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => send(res, 500, 'internal error'));
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const hostPort = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  return {
    host: hostPort,
    url: `http://${hostPort}`,
    get mints() {
      return mints;
    },
    async close() {
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
      await closed;
    },
  };
}

/** Options of {@link clientCredentialsTokenSource}. */
export interface ClientCredentialsSourceOptions {
  /** The provider's token endpoint, e.g. `http://127.0.0.1:4000/token`. */
  tokenEndpoint: string;
  /** A client allowed the `client_credentials` grant. */
  clientId: string;
  clientSecret: string;
  /** The fetch to use; the global one by default. */
  fetch?: typeof fetch | undefined;
}

/**
 * A token source that mints by the client credentials grant (RFC 6749 section 4.4), with
 * `client_secret_basic`: how the demo's stand-in gets tokens from the local provider.
 *
 * @param options the token endpoint and the client's id and secret
 * @returns the token source
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.4
 * @example
 * ```ts
 * const source = clientCredentialsTokenSource({ tokenEndpoint, clientId, clientSecret });
 * const { access_token } = await source(['api:read']);
 * ```
 */
export function clientCredentialsTokenSource(options: ClientCredentialsSourceOptions): TokenSource {
  const send = options.fetch ?? fetch;
  const basic = btoa(
    `${encodeURIComponent(options.clientId)}:${encodeURIComponent(options.clientSecret)}`,
  );
  return async (scopes) => {
    const body = new URLSearchParams({ grant_type: 'client_credentials' });
    if (scopes.length > 0) body.set('scope', scopes.join(' '));
    const res = await send(options.tokenEndpoint, {
      method: 'POST',
      headers: {
        authorization: `Basic ${basic}`,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body,
      signal: AbortSignal.timeout(10_000),
    });
    const json = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    if (!res.ok || typeof json['access_token'] !== 'string') {
      throw new Error(`the token endpoint answered ${res.status} ${String(json['error'] ?? '')}`);
    }
    return {
      access_token: json['access_token'],
      expires_in: typeof json['expires_in'] === 'number' ? json['expires_in'] : 3600,
    };
  };
}
