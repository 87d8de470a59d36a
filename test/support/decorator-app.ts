import {
  OAuth2Decorator,
  type CredentialStore,
  type OAuth2DecoratorOptions,
} from '../../src/index.node.js';
import { withOAuth } from '../../src/adapters/fetch.js';
import { createNodeHandler } from '../../src/adapters/node.js';
import { createMemoryStore } from '../../src/storage/memory.js';
import { startTestApi, type TestApi } from './api.js';
import { freePort, listen } from './app.js';
import { startTestProvider, type TestProvider, type TestProviderOptions } from './provider.js';

export const SECRET = 'test-secret-that-is-at-least-32-characters-long';

export interface DecoratorApp {
  provider: TestProvider;
  api: TestApi;
  decorator: OAuth2Decorator;
  store: CredentialStore;
  /** `http://127.0.0.1:PORT` */
  origin: string;
  logs: string[];
  close(): Promise<void>;
}

/**
 * A small app built the way the seed's examples are, served over node:http:
 * - `/tasks` (oauthRequired): calls the API with `decorator.http()` and reports who it is
 * - `/` (oauthAware): reports hasCredentials() and authorizeUrl()
 * - `/write` (oauthRequired, extra scope `api:write`)
 * - `/boom` (oauthRequired): throws a plain Error
 * - `/disconnect` (oauthRequired): revokes
 * - `/api-write` (oauthRequired): calls an API path that answers 403 insufficient_scope without `api:write`
 * - `…/where`: echoes `request.url`
 * With `withUser`, the app's own user comes from the `x-user` header and `/login` is the login page.
 */
export async function startDecoratorApp(
  options: {
    withUser?: boolean;
    provider?: TestProviderOptions;
    decorator?: Partial<OAuth2DecoratorOptions>;
  } = {},
): Promise<DecoratorApp> {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const provider = await startTestProvider({
    clients: [
      {
        client_id: 'test-client',
        client_secret: 'test-secret',
        redirect_uris: [`${origin}/oauth2callback`],
      },
    ],
    ...options.provider,
  });
  const api = await startTestApi(provider);
  const store = createMemoryStore();
  const logs: string[] = [];
  const decorator = new OAuth2Decorator({
    clientId: 'test-client',
    clientSecret: 'test-secret',
    issuer: provider.issuer,
    scopes: ['api:read'],
    baseUrl: origin,
    secret: SECRET,
    storage: store,
    allowHttpLoopback: true,
    logger: { error: (m: string) => logs.push(m), warn: (m: string) => logs.push(m) },
    ...(options.withUser
      ? { user: (req: Request) => req.headers.get('x-user') ?? undefined, loginUrl: '/login' }
      : {}),
    ...options.decorator,
  });

  const tasks = decorator.oauthRequired(async (request) => {
    const res = await decorator.http()(`${api.origin}/echo`);
    const body = (await res.json()) as { sub: string };
    return Response.json({
      page: 'tasks',
      sub: body.sub,
      user: decorator.credentials()?.subject?.sub,
      query: new URL(request.url).search,
    });
  });
  const home = decorator.oauthAware(async () =>
    Response.json({ page: 'home', has: decorator.hasCredentials(), url: decorator.authorizeUrl() }),
  );
  const write = decorator.oauthRequired({ scopes: ['api:write'] })(async (_req, oauth) =>
    Response.json({ page: 'write', scopes: oauth.credentials?.scopes }),
  );
  const boom = decorator.oauthRequired(async () => {
    throw new Error('boom');
  });
  // Calls an API endpoint that wants `api:write`, which no route declares: the API says so.
  const apiWrite = decorator.oauthRequired(async () => {
    const res = await decorator.http()(`${api.origin}/write`);
    return Response.json({
      page: 'api-write',
      status: res.status,
      scopes: decorator.credentials()?.scopes,
    });
  });
  const whereAmI = async (request: Request) => Response.json({ url: request.url });
  const disconnect = decorator.oauthRequired(async (_req, oauth) => {
    await oauth.revoke();
    return Response.json({ page: 'disconnect', revoked: true });
  });
  const app = withOAuth(decorator, async (request: Request) => {
    const path = new URL(request.url).pathname;
    if (path.endsWith('/where')) return whereAmI(request);
    switch (path) {
      case '/tasks':
        return tasks(request);
      case '/':
        return home(request);
      case '/write':
        return write(request);
      case '/boom':
        return boom(request);
      case '/disconnect':
        return disconnect(request);
      case '/api-write':
        return apiWrite(request);
      case '/login':
        return new Response('login page', { status: 200 });
      default:
        return new Response('not found', { status: 404 });
    }
  });
  const server = await listen(createNodeHandler(app, { origin }), port);
  return {
    provider,
    api,
    decorator,
    store,
    origin,
    logs,
    async close() {
      await server.close();
      await api.close();
      await provider.close();
    },
  };
}
