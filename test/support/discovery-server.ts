import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the local server received, body read in full. */
export interface Recorded {
  method: string;
  /** Path and query as sent (`/tasks/v1/lists/%40default/tasks?maxResults=2`). */
  url: string;
  /** The path, still percent-encoded. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export type Handler = (req: Recorded, res: ServerResponse) => void | Promise<void>;

export interface LocalServer {
  /** `http://127.0.0.1:PORT` */
  origin: string;
  /** Every request received, in order. */
  requests: Recorded[];
  /** Answers requests; replace it per test. */
  handler: Handler;
  close(): Promise<void>;
}

/** A loopback HTTP server that records what it receives and answers through `handler`. */
export async function startServer(handler: Handler): Promise<LocalServer> {
  const state: LocalServer = {
    origin: '',
    requests: [],
    handler,
    close: async () => {},
  };
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const recorded: Recorded = {
      method: req.method ?? 'GET',
      url,
      path: q < 0 ? url : url.slice(0, q),
      query: new URLSearchParams(q < 0 ? '' : url.slice(q + 1)),
      headers: req.headers,
      body: Buffer.concat(chunks),
    };
    state.requests.push(recorded);
    try {
      await state.handler(recorded, res);
    } catch (err) {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(err));
    }
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  state.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return state;
}

/** Sends a JSON answer. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', ...headers });
  res.end(body === undefined ? '' : JSON.stringify(body));
}

/** A Google-style (AIP-193) error body. */
export function googleError(code: number, message: string, reason: string, status = 'ERROR') {
  return {
    error: {
      code,
      message,
      status,
      errors: [{ message, domain: 'global', reason }],
      details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: reason }],
    },
  };
}
