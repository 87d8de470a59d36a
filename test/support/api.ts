import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TestApi {
  /** `http://127.0.0.1:PORT` */
  origin: string;
  /** The bearer tokens seen, one entry per request, in order. */
  seen: string[];
  /** Forgets cached introspection results (after a revocation at the provider). */
  forget(): void;
  close(): Promise<void>;
}

/**
 * A protected resource on loopback that checks bearer tokens the way an API does: by asking the
 * provider's introspection endpoint (cached per token). `GET|POST /echo` answers 200 with the
 * token's subject and the request body; a missing or inactive token gets 401, and so does
 * every request to `/deny`; `/write` answers 403 `insufficient_scope` without `api:write`.
 */
export async function startTestApi(
  provider: { issuer: string },
  client = { id: 'test-client', secret: 'test-secret' },
): Promise<TestApi> {
  const active = new Map<string, Promise<{ active: boolean; sub?: string; scope?: string }>>();
  const introspect = (token: string) => {
    let p = active.get(token);
    if (!p) {
      p = fetch(`${provider.issuer}/token/introspection`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${client.id}:${client.secret}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ token }),
      }).then((r) => r.json() as Promise<{ active: boolean; sub?: string; scope?: string }>);
      active.set(token, p);
    }
    return p;
  };
  const seen: string[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const auth = req.headers.authorization ?? '';
    const m = /^Bearer (.+)$/i.exec(auth);
    seen.push(m?.[1] ?? '');
    // `/deny` refuses every token, as an API does for a token it has revoked on its side.
    const info = m && req.url !== '/deny' ? await introspect(m[1]!) : { active: false };
    if (!info.active) {
      res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' }).end();
      return;
    }
    // `/write` needs the `api:write` scope, and says so the way RFC 6750 section 3.1 and Google do.
    if (
      req.url === '/write' &&
      !(info as { scope?: string }).scope?.split(' ').includes('api:write')
    ) {
      res.writeHead(403, {
        'www-authenticate': 'Bearer error="insufficient_scope", scope="api:write"',
        'content-type': 'application/json',
      });
      res.end(JSON.stringify({ error: { code: 403, message: 'Insufficient Permission' } }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({ sub: info.sub, method: req.method, body: Buffer.concat(chunks).toString() }),
    );
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    seen,
    forget: () => active.clear(),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
