import express, { type ErrorRequestHandler } from 'express';
import Fastify, { type FastifyError } from 'fastify';
import { Hono } from 'hono';
import {
  OAuth2Decorator,
  type CredentialStore,
  type OAuth2DecoratorOptions,
  type OAuthContext,
} from '../../src/index.node.js';
import { expressOAuth } from '../../src/adapters/express.js';
import { fastifyOAuth } from '../../src/adapters/fastify.js';
import { withOAuth } from '../../src/adapters/fetch.js';
import { honoOAuth } from '../../src/adapters/hono.js';
import { createNodeHandler } from '../../src/adapters/node.js';
import { createMemoryStore } from '../../src/storage/memory.js';
import { startTestApi, type TestApi } from './api.js';
import { freePort, listen } from './app.js';
import { startTestProvider, type TestProvider } from './provider.js';

export const SECRET = 'adapter-test-secret-that-is-at-least-32-characters';

/** What a mount function gets: a configured decorator, where the API is, where to listen. */
export interface AppSpec {
  decorator: OAuth2Decorator;
  apiOrigin: string;
  /** `http://127.0.0.1:PORT`, the decorator's configured origin. */
  origin: string;
  port: number;
}

/**
 * Serves the same small app through one framework adapter:
 * - `GET /tasks` (required): calls the API with `decorator.http()` and with the framework's
 *   context form, answers JSON `{ page, sub, contextSub, user, query }`
 * - `GET /` (aware): JSON `{ page, has, contextHas, url }`
 * - `GET /home` (aware): an HTML page with a "Connect" link (for the browser)
 * - `GET /write` (required, extra scope `api:write`): JSON `{ page, scopes, sub }`
 * - `GET /connect-write` (aware, extra scope `api:write`): JSON `{ page, has, url }`
 * - `GET /boom` (required): throws `RangeError('boom')`, which the framework's own error
 *   handling answers with 500 `error handler: RangeError: boom`
 * - `GET /login`: a plain page (the `loginUrl` of the app-users variant)
 */
export type Mount = (spec: AppSpec) => Promise<{ close(): Promise<void> }>;

interface Echo {
  sub: string;
}

async function echo(http: (url: string) => Promise<Response>, apiOrigin: string): Promise<Echo> {
  const res = await http(`${apiOrigin}/echo`);
  if (res.status !== 200) throw new Error(`the API answered ${res.status}`);
  return (await res.json()) as Echo;
}

async function tasksBody(spec: AppSpec, oauth: OAuthContext, url: string) {
  // decorator.http() first: it finds the request's context through AsyncLocalStorage.
  const viaDecorator = await echo(spec.decorator.http(), spec.apiOrigin);
  const viaContext = await echo(oauth.http(), spec.apiOrigin);
  return {
    page: 'tasks',
    sub: viaDecorator.sub,
    contextSub: viaContext.sub,
    user: spec.decorator.credentials()?.subject?.sub,
    query: new URL(url, spec.origin).search,
  };
}

function homeBody(spec: AppSpec, oauth: OAuthContext) {
  return {
    page: 'home',
    has: spec.decorator.hasCredentials(),
    contextHas: oauth.hasCredentials(),
    url: spec.decorator.authorizeUrl(),
  };
}

function homeHtml(spec: AppSpec, oauth: OAuthContext): string {
  const connected = spec.decorator.hasCredentials() && oauth.hasCredentials();
  return `<!doctype html><title>home</title><p id="status">${connected ? 'connected' : 'not connected'}</p><a id="connect" href="${oauth.authorizeUrl()}">Connect</a>`;
}

async function writeBody(spec: AppSpec, oauth: OAuthContext) {
  const { sub } = await echo(spec.decorator.http(), spec.apiOrigin);
  return { page: 'write', scopes: oauth.credentials?.scopes, sub };
}

function connectWriteBody(oauth: OAuthContext) {
  return { page: 'connect-write', has: oauth.hasCredentials(), url: oauth.authorizeUrl() };
}

function boom(): never {
  throw new RangeError('boom');
}

const errorText = (err: unknown) =>
  `error handler: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`;

/** The Web-standard adapter: `withOAuth` and the decorator's own wrappers, served as Bun would. */
export const mountFetch: Mount = async (spec) => {
  const d = spec.decorator;
  const json = (body: unknown) => Response.json(body);
  const routes: Record<string, (request: Request) => Promise<Response>> = {
    '/tasks': d.oauthRequired(async (request, oauth) =>
      json(await tasksBody(spec, oauth, request.url)),
    ),
    '/': d.oauthAware(async (_request, oauth) => json(homeBody(spec, oauth))),
    '/home': d.oauthAware(
      async (_request, oauth) =>
        new Response(homeHtml(spec, oauth), { headers: { 'content-type': 'text/html' } }),
    ),
    '/write': d.oauthRequired({ scopes: ['api:write'] })(async (_request, oauth) =>
      json(await writeBody(spec, oauth)),
    ),
    '/connect-write': d.oauthAware({ scopes: ['api:write'] })(async (_request, oauth) =>
      json(connectWriteBody(oauth)),
    ),
    '/boom': d.oauthRequired(async () => boom()),
    '/login': async () => new Response('login page'),
  };
  const app = withOAuth(d, async (request: Request) => {
    const route = routes[new URL(request.url).pathname];
    return route ? route(request) : new Response('not found', { status: 404 });
  });
  // The runtime's own error handling (what Workers, Bun and Deno do with a throwing fetch).
  const server = await listen(
    // No `origin`: request.url comes from Host, as on Bun or Deno; oauthkit must not care.
    createNodeHandler(async (request) => {
      try {
        return await app(request);
      } catch (err) {
        return new Response(errorText(err), { status: 500 });
      }
    }),
    spec.port,
  );
  return server;
};

/** Hono, served from node:http through its `fetch` (request.url from Host, as @hono/node-server). */
export const mountHono: Mount = async (spec) => {
  const d = spec.decorator;
  const app = new Hono();
  const oauth = honoOAuth(d);
  oauth.mount(app);
  app.get('/tasks', oauth.required(), async (c) =>
    c.json(await tasksBody(spec, c.var.oauth, c.req.url)),
  );
  app.get('/', oauth.aware(), (c) => c.json(homeBody(spec, c.var.oauth)));
  app.get('/home', oauth.aware(), (c) => c.html(homeHtml(spec, c.var.oauth)));
  app.get('/write', oauth.required({ scopes: ['api:write'] }), async (c) =>
    c.json(await writeBody(spec, c.var.oauth)),
  );
  app.get('/connect-write', oauth.aware({ scopes: 'api:write' }), (c) =>
    c.json(connectWriteBody(c.var.oauth)),
  );
  app.get('/boom', oauth.required(), () => boom());
  app.get('/login', (c) => c.text('login page'));
  app.onError((err, c) => c.text(errorText(err), 500));
  return listen(
    createNodeHandler((request) => app.fetch(request)),
    spec.port,
  );
};

/** Express 5: middleware form on most routes, the wrapping form on `/write`. */
export const mountExpress: Mount = async (spec) => {
  const d = spec.decorator;
  const app = express();
  app.disable('x-powered-by');
  const oauth = expressOAuth(d, { origin: spec.origin });
  oauth.mount(app);
  app.get('/tasks', oauth.required(), async (req, res) => {
    res.json(await tasksBody(spec, req.oauth!, req.originalUrl));
  });
  app.get('/', oauth.aware(), (req, res) => {
    res.json(homeBody(spec, req.oauth!));
  });
  app.get('/home', oauth.aware(), (_req, res) => {
    res.type('html').send(homeHtml(spec, res.locals.oauth!));
  });
  app.get(
    '/write',
    oauth.required({ scopes: ['api:write'] }, async (req, res) => {
      res.json(await writeBody(spec, req.oauth!));
    }),
  );
  app.get('/connect-write', oauth.aware({ scopes: ['api:write'] }), (req, res) => {
    res.json(connectWriteBody(req.oauth!));
  });
  app.get('/boom', oauth.required(), () => boom());
  app.get('/login', (_req, res) => {
    res.send('login page');
  });
  app.use(oauth.errorHandler);
  const onError: ErrorRequestHandler = (err, _req, res, _next) => {
    res.status(500).type('text').send(errorText(err));
  };
  app.use(onError);
  return listen(app, spec.port);
};

/** Fastify 5: the plugin, and `required()` / `aware()` as route preHandlers. */
export const mountFastify: Mount = async (spec) => {
  const d = spec.decorator;
  const app = Fastify();
  await app.register(fastifyOAuth, { decorator: d, origin: spec.origin });
  app.get('/tasks', { preHandler: app.oauth.required() }, async (request) =>
    tasksBody(spec, request.oauth!, request.url),
  );
  app.get('/', { preHandler: app.oauth.aware() }, async (request) =>
    homeBody(spec, request.oauth!),
  );
  app.get('/home', { preHandler: app.oauth.aware() }, async (request, reply) => {
    reply.type('text/html');
    return homeHtml(spec, request.oauth!);
  });
  app.get('/write', { preHandler: app.oauth.required({ scopes: ['api:write'] }) }, (request) =>
    writeBody(spec, request.oauth!),
  );
  app.get(
    '/connect-write',
    { preHandler: app.oauth.aware({ scopes: ['api:write'] }) },
    async (request) => connectWriteBody(request.oauth!),
  );
  app.get('/boom', { preHandler: app.oauth.required() }, async () => boom());
  app.get('/login', async () => 'login page');
  app.setErrorHandler((err: FastifyError, _request, reply) =>
    reply.code(500).type('text/plain').send(errorText(err)),
  );
  await app.listen({ port: spec.port, host: '127.0.0.1' });
  return { close: () => app.close() };
};

/** Every adapter, by name. */
export const MOUNTS = {
  fetch: mountFetch,
  hono: mountHono,
  express: mountExpress,
  fastify: mountFastify,
} satisfies Record<string, Mount>;

/** A memory store that records every write. */
export interface RecordingStore extends CredentialStore {
  /** `put KEY` / `delete KEY`, in order. */
  readonly writes: string[];
}

export function recordingStore(): RecordingStore {
  const inner = createMemoryStore();
  const writes: string[] = [];
  return {
    writes,
    get: (key) => inner.get(key),
    async put(key, credentials) {
      writes.push(`put ${key}`);
      await inner.put(key, credentials);
    },
    async delete(key) {
      writes.push(`delete ${key}`);
      await inner.delete(key);
    },
  };
}

/** One app served through one adapter. */
export interface AppUnderTest {
  name: string;
  origin: string;
  decorator: OAuth2Decorator;
  store: RecordingStore;
  logs: string[];
  /** The store key of a built-in-session user who signed in as `login`. */
  keyOf(login: string): string;
}

export interface AdapterEnv {
  provider: TestProvider;
  api: TestApi;
  /** Per adapter: the app with oauthkit's built-in session. */
  apps: Record<string, AppUnderTest>;
  /** Per adapter: the app with its own users (`x-user` header, `loginUrl: '/login'`). */
  userApps: Record<string, AppUnderTest>;
  close(): Promise<void>;
}

/**
 * Starts one provider and one API, and for each mount an app with the built-in session and
 * (with `users`) one with the app's own users; all registered as redirect URIs of one client.
 */
export async function startAdapterEnv(
  mounts: Record<string, Mount>,
  options: { users?: boolean; decorator?: Partial<OAuth2DecoratorOptions> } = {},
): Promise<AdapterEnv> {
  const names = Object.keys(mounts);
  const ports = new Map<string, number>();
  for (const name of names) {
    ports.set(`session:${name}`, await freePort());
    if (options.users) ports.set(`users:${name}`, await freePort());
  }
  const provider = await startTestProvider({
    clients: [
      {
        client_id: 'test-client',
        client_secret: 'test-secret',
        redirect_uris: [...ports.values()].map((p) => `http://127.0.0.1:${p}/oauth2callback`),
      },
    ],
  });
  const api = await startTestApi(provider);
  const closers: Array<() => Promise<void>> = [];
  const start = async (name: string, kind: 'session' | 'users'): Promise<AppUnderTest> => {
    const port = ports.get(`${kind}:${name}`)!;
    const origin = `http://127.0.0.1:${port}`;
    const store = recordingStore();
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
      ...(kind === 'users'
        ? {
            user: (request: Request) => request.headers.get('x-user') ?? undefined,
            loginUrl: '/login',
          }
        : {}),
      ...options.decorator,
    });
    const server = await mounts[name]!({ decorator, apiOrigin: api.origin, origin, port });
    closers.push(() => server.close());
    return {
      name,
      origin,
      decorator,
      store,
      logs,
      keyOf: (login) => `oidc:${provider.issuer}#${login}`,
    };
  };
  const apps: Record<string, AppUnderTest> = {};
  const userApps: Record<string, AppUnderTest> = {};
  for (const name of names) {
    apps[name] = await start(name, 'session');
    if (options.users) userApps[name] = await start(name, 'users');
  }
  return {
    provider,
    api,
    apps,
    userApps,
    async close() {
      for (const close of closers) await close();
      await api.close();
      await provider.close();
    },
  };
}
