/**
 * The servers of bench/decorator-throughput.ts, in their own process so that the load generator
 * and the servers never share an event loop. Prints one JSON line with the ports when ready.
 *
 * argv: issuer, data dir, secret
 */
import { serve } from '@hono/node-server';
import express from 'express';
import session from 'express-session';
import passport from 'passport';
import { Hono, type MiddlewareHandler } from 'hono';
import Database from 'libsql';
import { OAuth2Decorator } from '../src/index.node.js';
import { honoOAuth } from '../src/adapters/hono.js';
import { expressOAuth } from '../src/adapters/express.js';
import { createSqliteStore } from '../src/storage/sqlite.js';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';

const [issuer, dataDir, secret, honoPortArg] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
];
const storage = createSqliteStore({
  database: new Database(`${dataDir}/bench.sqlite`, { timeout: 5000 }),
});

const listenExpress = (app: express.Express) =>
  new Promise<number>((resolve) => {
    const server: Server = app.listen(0, '127.0.0.1', () =>
      resolve((server.address() as AddressInfo).port),
    );
    server.keepAliveTimeout = 5000;
  });
const listenHono = (app: Hono, port = 0) =>
  new Promise<number>((resolve) => {
    serve({ fetch: app.fetch, port, hostname: '127.0.0.1' }, (info) => resolve(info.port));
  });

function decoratorFor(port: number) {
  return new OAuth2Decorator({
    clientId: 'bench-client',
    clientSecret: 'bench-secret',
    issuer,
    scopes: ['api:read'],
    baseUrl: `http://127.0.0.1:${port}`,
    secret,
    storage,
    allowHttpLoopback: true,
  });
}

const HELLO = 'hello world';
const noop: MiddlewareHandler = async (_c, next) => {
  await next();
};

// Hono: bare, behind a do-nothing middleware, behind oauthRequired.
const honoBare = new Hono().get('/', (c) => c.text(HELLO));
const honoNoop = new Hono().use(noop).get('/', (c) => c.text(HELLO));
const honoOAuthPort = Number(honoPortArg);
const honoDecorator = decoratorFor(honoOAuthPort);
const honoKit = honoOAuth(honoDecorator);
const honoProtected = honoKit.mount(new Hono()).get('/', honoKit.required(), (c) => c.text(HELLO));

// Express: bare, do-nothing middleware, oauthRequired, and express-session + passport (the peer).
const exBare = express().get('/', (_req, res) => void res.send(HELLO));
const exNoop = express()
  .use((_req, _res, next) => next())
  .get('/', (_req, res) => void res.send(HELLO));
const exPassport = express();
const users = new Map([['bench-user', { id: 'bench-user', name: 'Bench' }]]);
passport.serializeUser((user: Express.User, done) => done(null, (user as { id: string }).id));
passport.deserializeUser((id: string, done) => done(null, users.get(id) ?? false));
exPassport.use(session({ secret, resave: false, saveUninitialized: false }));
exPassport.use(passport.session());
exPassport.get('/login', (req, res, next) =>
  req.login(users.get('bench-user')!, (err) => (err ? next(err) : res.send('ok'))),
);
exPassport.get('/', (req, res) => {
  if (!req.user) return void res.status(401).send('no user');
  res.send(HELLO);
});

const ports = {
  honoBare: await listenHono(honoBare),
  honoNoop: await listenHono(honoNoop),
  honoOAuth: await listenHono(honoProtected, honoOAuthPort),
  expressBare: await listenExpress(exBare),
  expressNoop: await listenExpress(exNoop),
  expressOAuth: 0,
  expressPassport: await listenExpress(exPassport),
};
// The Express decorator needs its own port in its base URL; the session cookie works across both
// because it is sealed with the same secret and names a user in the same store.
{
  const app = express();
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const port = (server.address() as AddressInfo).port;
  const kit = expressOAuth(decoratorFor(port), { origin: `http://127.0.0.1:${port}` });
  kit.mount(app);
  app.get('/', kit.required(), (_req, res) => void res.send(HELLO));
  server.keepAliveTimeout = 5000;
  ports.expressOAuth = port;
}
console.log(JSON.stringify(ports));
