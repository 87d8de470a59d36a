import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import {
  decodeProtectedHeader,
  exportPKCS8,
  generateKeyPair,
  jwtVerify,
  type JWTPayload,
  type ProtectedHeaderParameters,
} from 'jose';
import type { ServiceAccountKeyFile } from '../../src/service-account/index.js';

/** A service account made for a test: a fresh RSA key pair, never written to disk. */
export interface TestServiceAccount {
  email: string;
  kid: string;
  /** The key file (it holds the private key; tests only). */
  keyFile: ServiceAccountKeyFile;
  /** The public half, as the token endpoint knows it. */
  publicKey: CryptoKey;
}

/**
 * Makes a service account with a fresh RS256 key pair.
 *
 * @param tokenUri the key file's `token_uri`
 * @param email the account's email
 */
export async function createTestServiceAccount(
  tokenUri: string | undefined,
  email = `sa-${randomUUID().slice(0, 8)}@test-project.iam.gserviceaccount.com`,
): Promise<TestServiceAccount> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = randomUUID().replaceAll('-', '');
  const keyFile: ServiceAccountKeyFile = {
    type: 'service_account',
    project_id: 'test-project',
    private_key_id: kid,
    private_key: await exportPKCS8(privateKey),
    client_email: email,
    client_id: '1234567890',
  };
  if (tokenUri !== undefined) keyFile.token_uri = tokenUri;
  return { email, kid, keyFile, publicKey };
}

/** A verified assertion, as the token endpoint saw it. */
export interface SeenAssertion {
  header: ProtectedHeaderParameters;
  claims: JWTPayload;
  /** The form fields other than `assertion` (values included). */
  params: Record<string, string>;
}

export interface TokenEndpointOptions {
  /** The server's clock (ms); the credentials under test should share it. */
  now?: () => number;
  /** `expires_in` of minted tokens, seconds (default 3600). */
  expiresIn?: number;
}

export interface TestTokenEndpoint {
  /** `http://127.0.0.1:PORT/token` */
  url: string;
  origin: string;
  /** Lets a service account's public key verify its assertions. */
  register(account: TestServiceAccount, options?: { subjects?: string[] }): void;
  /** Accepts `refresh_token` grants for an authorized-user client. */
  registerUser(user: { clientId: string; clientSecret: string; refreshToken: string }): void;
  /** Every POST received. */
  requests: number;
  /** Tokens minted. */
  mints: number;
  /** Verified assertions, in order. */
  assertions: SeenAssertion[];
  /** Why requests were refused, in order. */
  refusals: string[];
  /** When set, every request gets this answer instead. */
  failWith: { status: number; body: unknown } | undefined;
  /** Answers the next N requests with 503. */
  failNext: number;
  /** Access tokens minted, with their expiry (ms). */
  issued: Map<string, number>;
  expiresIn: number;
  close(): Promise<void>;
}

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/**
 * A token endpoint written for the tests: it verifies each JWT bearer assertion (RFC 7523) with
 * the registered public key and checks every header and claim the way Google does, answering
 * `invalid_grant` to anything wrong. It also serves `refresh_token` grants for registered users.
 */
export async function startTokenEndpoint(
  options: TokenEndpointOptions = {},
): Promise<TestTokenEndpoint> {
  const now = options.now ?? Date.now;
  const accounts = new Map<string, { account: TestServiceAccount; subjects: Set<string> }>();
  const users = new Map<string, { clientSecret: string; refreshToken: string }>();

  const server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      res.writeHead(500).end(String(err));
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  const url = `${origin}/token`;

  const state: TestTokenEndpoint = {
    url,
    origin,
    register(account, opts = {}) {
      accounts.set(account.kid, { account, subjects: new Set(opts.subjects ?? []) });
    },
    registerUser(user) {
      users.set(user.clientId, {
        clientSecret: user.clientSecret,
        refreshToken: user.refreshToken,
      });
    },
    requests: 0,
    mints: 0,
    assertions: [],
    refusals: [],
    failWith: undefined,
    failNext: 0,
    issued: new Map(),
    expiresIn: options.expiresIn ?? 3600,
    async close() {
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
      await closed;
    },
  };

  const refuse = (res: ServerResponse, why: string, error = 'invalid_grant', status = 400) => {
    state.refusals.push(why);
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error, error_description: why }));
  };

  const mint = (res: ServerResponse) => {
    state.mints++;
    const token = `ya29.test-${randomUUID()}`;
    state.issued.set(token, now() + state.expiresIn * 1000);
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(
      JSON.stringify({ access_token: token, expires_in: state.expiresIn, token_type: 'Bearer' }),
    );
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (req.method !== 'POST' || new URL(req.url ?? '/', origin).pathname !== '/token') {
      res.writeHead(404).end();
      return;
    }
    state.requests++;
    if (state.failNext > 0) {
      state.failNext--;
      res.writeHead(503, { 'content-type': 'text/plain' }).end('unavailable');
      return;
    }
    if (state.failWith !== undefined) {
      res.writeHead(state.failWith.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(state.failWith.body));
      return;
    }
    if (!/^application\/x-www-form-urlencoded\b/.test(req.headers['content-type'] ?? '')) {
      return refuse(res, 'not a form body', 'invalid_request');
    }
    const form = new URLSearchParams(Buffer.concat(chunks).toString());
    const grantType = form.get('grant_type');

    if (grantType === 'refresh_token') {
      const user = users.get(form.get('client_id') ?? '');
      if (!user || user.clientSecret !== form.get('client_secret')) {
        return refuse(res, 'unknown client', 'invalid_client', 401);
      }
      if (user.refreshToken !== form.get('refresh_token')) {
        return refuse(res, 'Token has been expired or revoked.');
      }
      return mint(res);
    }
    if (grantType !== JWT_BEARER) return refuse(res, 'grant type', 'unsupported_grant_type');

    // RFC 7523 section 2.1: the assertion is the only credential; nothing else may be sent.
    const keys = [...form.keys()].sort();
    if (keys.join(',') !== 'assertion,grant_type') {
      return refuse(res, `unexpected parameters: ${keys.join(',')}`, 'invalid_request');
    }
    const assertion = form.get('assertion') ?? '';
    let header: ProtectedHeaderParameters;
    try {
      header = decodeProtectedHeader(assertion);
    } catch {
      return refuse(res, 'Invalid JWT: not a JWS');
    }
    if (header.alg !== 'RS256') return refuse(res, `alg ${header.alg}`);
    if (header.typ !== 'JWT') return refuse(res, `typ ${header.typ}`);
    const known = typeof header.kid === 'string' ? accounts.get(header.kid) : undefined;
    if (!known) return refuse(res, 'Invalid JWT Signature: unknown kid');

    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(assertion, known.account.publicKey, {
        algorithms: ['RS256'],
        issuer: known.account.email,
        audience: url,
        currentDate: new Date(now()),
        requiredClaims: ['iss', 'aud', 'iat', 'exp', 'scope'],
      }));
    } catch (err) {
      return refuse(res, `Invalid JWT Signature or claims: ${(err as Error).message}`);
    }
    const nowSec = Math.floor(now() / 1000);
    const iat = claims.iat as number;
    const exp = claims.exp as number;
    if (Math.abs(iat - nowSec) > 60) return refuse(res, 'Invalid JWT: iat is not now');
    if (exp - iat > 3600) return refuse(res, 'Invalid JWT: exp more than 1 hour after iat');
    if (exp <= iat) return refuse(res, 'Invalid JWT: exp before iat');
    if (typeof claims['scope'] !== 'string' || !/^\S+( \S+)*$/.test(claims['scope'])) {
      return refuse(res, 'Invalid JWT: scope', 'invalid_scope');
    }
    if (claims.sub !== undefined && !known.subjects.has(claims.sub)) {
      return refuse(
        res,
        'Client is unauthorized to retrieve access tokens using this method',
        'unauthorized_client',
        401,
      );
    }
    const params: Record<string, string> = {};
    for (const [k, v] of form) if (k !== 'assertion') params[k] = v;
    state.assertions.push({ header, claims, params });
    return mint(res);
  }

  return state;
}

export interface TestApiServer {
  origin: string;
  /** Bearer tokens received, one per request. */
  seen: string[];
  /** Request bodies received, one per request. */
  bodies: string[];
  /** Extra headers to record, by name. */
  headers: Record<string, string | undefined>[];
  close(): Promise<void>;
}

/**
 * An API on loopback that answers `200 {"ok":true}` when `accept(token)` says yes, else 401.
 */
export async function startApi(
  accept: (token: string) => boolean | Promise<boolean>,
): Promise<TestApiServer> {
  const seen: string[] = [];
  const bodies: string[] = [];
  const headers: Record<string, string | undefined>[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const m = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
    seen.push(m?.[1] ?? '');
    bodies.push(Buffer.concat(chunks).toString());
    headers.push({
      'x-goog-user-project': req.headers['x-goog-user-project'] as string | undefined,
    });
    if (!m || !(await accept(m[1]!))) {
      res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' }).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    seen,
    bodies,
    headers,
    async close() {
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
      await closed;
    },
  };
}
