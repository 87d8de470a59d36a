import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { readFile } from 'node:fs/promises';
import { parseClientSecrets, type ClientSecrets } from '../core/client-secrets.js';
import { ClientSecretsError } from '../core/errors.js';

/**
 * Reads a Google `client_secrets.json` file (Node only; the core never touches the filesystem).
 *
 * @param path the file's path
 * @returns the parsed client secrets
 * @throws {ClientSecretsError} naming the file (and the field, for a malformed document)
 * @example
 * ```ts
 * import { loadClientSecrets } from 'oauthkit/node';
 * const secrets = await loadClientSecrets(new URL('./client_secrets.json', import.meta.url).pathname);
 * ```
 */
export async function loadClientSecrets(path: string): Promise<ClientSecrets> {
  if (typeof path !== 'string' || path.length === 0) {
    throw new TypeError('"path" must be a non-empty string');
  }
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    const code = (cause as { code?: string }).code;
    const why =
      code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? 'unknown error'})`;
    throw new ClientSecretsError(`client secrets file ${path} ${why}`, path, undefined, { cause });
  }
  return parseClientSecrets(text, path);
}

const HOST = /^(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/** Options of {@link createNodeHandler}. */
export interface NodeHandlerOptions {
  /**
   * The app's public origin (`https://app.example`), used to build each request's URL. oauthkit
   * never relies on it for security (redirect URIs and cookies come from the decorator's
   * configuration), but handlers see it in `request.url`. Default: `http://` + the Host header,
   * which must then be a plain `host[:port]` (anything else gets a 400).
   */
  origin?: string | undefined;
}

/**
 * Serves a Web-standard handler (`(Request) => Promise<Response>`) from Node's `http` server.
 *
 * @param handler the Web-standard handler
 * @param options the public origin
 * @returns a `(req, res)` listener for `http.createServer`
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * createServer(createNodeHandler(withOAuth(decorator, app))).listen(8080);
 * ```
 */
export function createNodeHandler(
  handler: (request: Request) => Response | Promise<Response>,
  options: NodeHandlerOptions = {},
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    void (async () => {
      const host = req.headers.host ?? 'localhost';
      // Only a plain host[:port] may become part of the URL: anything else (`x/admin#`, spaces)
      // would let the Host header rewrite the path handlers see.
      if (options.origin === undefined && !HOST.test(host)) {
        res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' }).end('Bad Request');
        return;
      }
      const origin = options.origin ?? `http://${host}`;
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) {
        if (value === undefined) continue;
        if (Array.isArray(value)) for (const v of value) headers.append(name, v);
        else headers.set(name, value);
      }
      const method = req.method ?? 'GET';
      const hasBody = method !== 'GET' && method !== 'HEAD';
      const target = req.url ?? '/';
      if (!target.startsWith('/')) {
        res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' }).end('Bad Request');
        return;
      }
      // Concatenated, not resolved: a target such as `//evil.example/x` stays a path here.
      const request = new Request(`${origin.replace(/\/$/, '')}${target}`, {
        method,
        headers,
        body: hasBody ? (Readable.toWeb(req) as ReadableStream<Uint8Array>) : undefined,
        ...(hasBody ? { duplex: 'half' } : {}),
      } as RequestInit);
      const response = await handler(request);
      const out: Record<string, string | string[]> = {};
      response.headers.forEach((value, name) => {
        if (name !== 'set-cookie') out[name] = value;
      });
      const cookies = response.headers.getSetCookie();
      if (cookies.length) out['set-cookie'] = cookies;
      res.writeHead(response.status, out);
      if (response.body && method !== 'HEAD') {
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>)
          res.write(chunk);
      }
      res.end();
    })().catch((err: unknown) => {
      // The handler threw: a plain 500, never a stack trace to the browser.
      console.error(
        'oauthkit: unhandled error in handler:',
        err instanceof Error ? err.message : err,
      );
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('Internal Server Error');
    });
  };
}
