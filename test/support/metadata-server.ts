import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { UnsecuredJWT } from 'jose';

/** How the server misbehaves. */
export type MetadataFault = 'none' | 'no-flavor' | 'redirect' | 'hang' | 'error-503';

export interface TestMetadataServer {
  /** `127.0.0.1:PORT`: the value of GCE_METADATA_HOST. */
  host: string;
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** The fault applied to every request (default none). */
  fault: MetadataFault;
  /** Answers the next N token requests with 503. */
  failNext: number;
  /** `expires_in` of minted tokens, seconds. */
  expiresIn: number;
  /** The `default` account's email. */
  email: string;
  /** Tokens minted. */
  mints: number;
  /** ID tokens minted. */
  idTokenMints: number;
  /** Every request: path and query, and the Metadata-Flavor header it carried. */
  requests: { path: string; query: string; flavor: string | undefined }[];
  /** Requests that reached the redirect target (must stay 0). */
  redirectTargetHits: number;
  /** Access tokens minted, with their expiry (ms). */
  issued: Map<string, number>;
  close(): Promise<void>;
}

export interface MetadataServerOptions {
  /** The server's clock (ms). */
  now?: () => number;
  /** `expires_in` of minted tokens (default 3600). */
  expiresIn?: number;
}

const PREFIX = '/computeMetadata/v1/instance/service-accounts/';

/**
 * A metadata server written for the tests. It requires `Metadata-Flavor: Google` on requests
 * (403 otherwise, as the real one does) and sends it on responses; it can be told to omit it,
 * redirect, hang or fail. An account whose name starts with a fault name (e.g.
 * `no-flavor@x`) gets that fault, so scripts in other runtimes can reach each fault too.
 */
export async function startMetadataServer(
  options: MetadataServerOptions = {},
): Promise<TestMetadataServer> {
  const now = options.now ?? Date.now;
  const hanging = new Set<ServerResponse>();
  const server = createServer((req, res) => handle(req, res));
  server.keepAliveTimeout = 1000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  const state: TestMetadataServer = {
    host: `127.0.0.1:${port}`,
    url,
    fault: 'none',
    failNext: 0,
    expiresIn: options.expiresIn ?? 3600,
    email: 'app@test-project.iam.gserviceaccount.com',
    mints: 0,
    idTokenMints: 0,
    requests: [],
    redirectTargetHits: 0,
    issued: new Map(),
    async close() {
      for (const res of hanging) res.destroy();
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
      await closed;
    },
  };

  function send(
    res: ServerResponse,
    status: number,
    body: string,
    flavor: boolean,
    type = 'text/plain',
  ) {
    const headers: Record<string, string> = { 'content-type': type };
    if (flavor) headers['metadata-flavor'] = 'Google';
    res.writeHead(status, headers).end(body);
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const u = new URL(req.url ?? '/', url);
    const flavor = req.headers['metadata-flavor'] as string | undefined;
    if (u.pathname === '/redirected') {
      state.redirectTargetHits++;
      return send(res, 200, JSON.stringify({ access_token: 'stolen', expires_in: 3600 }), true);
    }
    state.requests.push({ path: u.pathname, query: u.search, flavor });

    let account = '';
    let leaf = '';
    if (u.pathname.startsWith(PREFIX)) {
      [account = '', leaf = ''] = u.pathname.slice(PREFIX.length).split('/');
      account = decodeURIComponent(account);
    }
    const fault =
      (['no-flavor', 'redirect', 'hang', 'error-503'] as const).find((f) =>
        account.startsWith(`${f}@`),
      ) ?? state.fault;

    if (fault === 'hang') {
      hanging.add(res);
      res.on('close', () => hanging.delete(res));
      return;
    }
    if (fault === 'redirect') {
      res.writeHead(302, { location: `${url}/redirected`, 'metadata-flavor': 'Google' }).end();
      return;
    }
    if (fault === 'error-503') return send(res, 503, 'unavailable', true);
    const withFlavor = fault !== 'no-flavor';
    if (flavor !== 'Google')
      return send(res, 403, 'Missing Metadata-Flavor:Google header.', withFlavor);

    if (u.pathname === '/computeMetadata/v1/instance/' || u.pathname === '/computeMetadata/v1/') {
      return send(res, 200, 'attributes/\nhostname\nservice-accounts/\n', withFlavor);
    }
    if (u.pathname === '/computeMetadata/v1/project/project-id') {
      return send(res, 200, 'test-project', withFlavor);
    }
    const email = account === 'default' ? state.email : account;
    if (!account || (account !== 'default' && !account.includes('@'))) {
      return send(res, 404, 'not found', withFlavor);
    }
    if (leaf === 'email') return send(res, 200, email, withFlavor);
    if (leaf === 'token') {
      if (state.failNext > 0) {
        state.failNext--;
        return send(res, 503, 'unavailable', withFlavor);
      }
      state.mints++;
      const token = `ya29.metadata-${randomUUID()}`;
      state.issued.set(token, now() + state.expiresIn * 1000);
      const body = JSON.stringify({
        access_token: token,
        expires_in: state.expiresIn,
        token_type: 'Bearer',
      });
      return send(res, 200, body, withFlavor, 'application/json');
    }
    if (leaf === 'identity') {
      const audience = u.searchParams.get('audience');
      if (!audience) return send(res, 400, 'audience required', withFlavor);
      state.idTokenMints++;
      const iat = Math.floor(now() / 1000);
      const jwt = new UnsecuredJWT({ email, format: u.searchParams.get('format') })
        .setIssuer('https://accounts.google.com')
        .setAudience(audience)
        .setSubject('1234567890')
        .setIssuedAt(iat)
        .setExpirationTime(iat + 3600)
        .encode();
      return send(res, 200, jwt, withFlavor);
    }
    return send(res, 404, 'not found', withFlavor);
  }

  return state;
}
