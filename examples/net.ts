/**
 * Loopback HTTP servers for the demo's three parts. A server listens first and gets its handler
 * later, so that each part can be configured with the others' real URLs (ports chosen by the OS
 * included) before it answers anything.
 *
 * @module
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A Node request listener. */
export type Listener = (req: IncomingMessage, res: ServerResponse) => void;

/** A listening server. */
export interface Listening {
  /** The Node server. */
  readonly server: Server;
  /** `http://127.0.0.1:PORT` (or the host it was given), no trailing slash. */
  readonly origin: string;
  /** Starts answering requests with `listener` (until then: 503). */
  handle(listener: Listener): void;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

/**
 * Listens on a loopback port (0: any free one).
 *
 * @param port the port
 * @param host the loopback host name or address
 * @returns the listening server
 * @example
 * ```ts
 * const app = await listen(3000);
 * app.handle((req, res) => res.end('hello'));
 * ```
 */
export async function listen(port: number, host = '127.0.0.1'): Promise<Listening> {
  let listener: Listener = (_req, res) => {
    res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'retry-after': '1' });
    res.end('Starting, try again in a moment.');
  };
  const server = createServer((req, res) => listener(req, res));
  // Browsers keep idle connections open; a short keep-alive lets the demo stop promptly.
  server.keepAliveTimeout = 2000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const actual = (server.address() as AddressInfo).port;
  const name = host.includes(':') ? `[${host}]` : host;
  return {
    server,
    origin: `http://${name}:${actual}`,
    handle(next) {
      listener = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * Reads a Node request's body as text, up to `limit` bytes.
 *
 * @param req the request
 * @param limit the largest body accepted
 * @returns the body
 * @throws {RangeError} when the body is larger than `limit`
 */
export async function readBody(req: IncomingMessage, limit = 64 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new RangeError('request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
