import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CookieJar, type TestProvider } from './provider.js';

/** Serves a Node request listener on a loopback port. */
export async function listen(
  listener: Parameters<typeof createServer>[1],
  port = 0,
): Promise<{ origin: string; server: Server; close(): Promise<void> }> {
  const server = createServer(listener);
  server.keepAliveTimeout = 1000;
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  const { port: actual } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${actual}`,
    server,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A free loopback port (so the redirect URI can be registered before the app starts). */
export async function freePort(): Promise<number> {
  const s = await listen(() => {});
  const port = Number(new URL(s.origin).port);
  await s.close();
  return port;
}

export interface Visit {
  /** The final response (not a redirect). */
  response: Response;
  /** Its URL. */
  url: URL;
  /** Every URL visited, in order. */
  history: URL[];
  /** How many times the provider's authorization endpoint was visited. */
  providerVisits: number;
}

/**
 * A browser made of fetch and cookie jars: follows redirects by hand, and when sent to the
 * provider, drives its login and consent pages (as `login`, or denying consent).
 */
export class HttpBrowser {
  readonly providerJar = new CookieJar();
  /** @param jar the app's cookies: pass another browser's to act as the same browser signed in elsewhere at the provider */
  constructor(
    readonly provider: TestProvider,
    public login = 'alice',
    readonly jar = new CookieJar(),
  ) {}

  async visit(
    start: string | URL,
    options: { consent?: boolean; method?: string; headers?: Record<string, string> } = {},
  ): Promise<Visit> {
    let url = new URL(start);
    const history: URL[] = [];
    let providerVisits = 0;
    let method = options.method ?? 'GET';
    for (let hop = 0; hop < 20; hop++) {
      history.push(url);
      if (url.origin === this.provider.issuer) {
        providerVisits++;
        url = await this.provider.authorize(url, {
          login: this.login,
          consent: options.consent,
          jar: this.providerJar,
        });
        method = 'GET';
        continue;
      }
      const headers = new Headers(options.headers);
      const cookie = this.jar.header(url);
      if (cookie) headers.set('cookie', cookie);
      const response = await fetch(url, { method, headers, redirect: 'manual' });
      this.jar.store(url, response);
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location) {
        await response.body?.cancel();
        url = new URL(location, url);
        method = 'GET';
        continue;
      }
      return { response, url, history, providerVisits };
    }
    throw new Error(`too many redirects from ${start}`);
  }

  /** Sends one request without following redirects. */
  async request(url: string | URL, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    const cookie = this.jar.header(url);
    if (cookie) headers.set('cookie', cookie);
    const response = await fetch(url, { ...init, headers, redirect: 'manual' });
    this.jar.store(url, response);
    return response;
  }
}
