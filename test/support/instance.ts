/**
 * One app instance of the multi-instance test, in its own process: a decorator-protected page on
 * `port`, whose public origin is the proxy's, sharing the credential store (a SQLite file) and the
 * secret with its siblings. Prints "ready" when it listens.
 *
 * argv: name, port, public origin, issuer, SQLite file, flow store ("cookie" | "redis:<prefix>")
 */
import Database from 'libsql';
import { OAuth2Decorator, type FlowStore } from '../../src/index.node.js';
import { withOAuth } from '../../src/adapters/fetch.js';
import { createNodeHandler } from '../../src/adapters/node.js';
import { createSqliteStore } from '../../src/storage/sqlite.js';
import { listen } from './app.js';

const [name, port, origin, issuer, file, flows] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
  string,
];

let flowStore: FlowStore | undefined;
if (flows.startsWith('redis:')) {
  const { Redis } = await import('ioredis');
  const { createRedisFlowStore } = await import('../../src/decorator/flow-store-redis.js');
  flowStore = createRedisFlowStore({
    client: new Redis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379'),
    prefix: flows.slice('redis:'.length),
    secret: 'multi-instance-flow-mac-key-of-32-characters',
  });
}

const decorator = new OAuth2Decorator({
  clientId: 'test-client',
  clientSecret: 'test-secret',
  issuer,
  scopes: ['api:read'],
  baseUrl: origin,
  secret: 'multi-instance-secret-of-at-least-32-characters',
  storage: createSqliteStore({ database: new Database(file, { timeout: 5000 }) }),
  flowStore,
  allowHttpLoopback: true,
});
const page = decorator.oauthRequired(async (_request, oauth) =>
  Response.json({ instance: name, sub: oauth.credentials?.subject?.sub }),
);
const app = withOAuth(decorator, async (request: Request) => {
  const response = await (new URL(request.url).pathname === '/tasks'
    ? page(request)
    : new Response('not found', { status: 404 }));
  const out = new Response(response.body, response);
  out.headers.set('x-instance', name);
  return out;
});
await listen(createNodeHandler(app, { origin }), Number(port));
console.log('ready');
