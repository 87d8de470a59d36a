/**
 * One server of bench/decorator-throughput.ts, in a process of its own: an active
 * AsyncLocalStorage slows every promise of its process on Node 20, so variants must not share
 * one. Prints the port when ready.
 *
 * argv: variant, issuer, data dir, secret, port (0: any)
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
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

const [variant, issuer, dataDir, secret, portArg] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
];
const port = Number(portArg);
const HELLO = 'hello world';

const decorator = (asyncContext = true) =>
  new OAuth2Decorator({
    clientId: 'bench-client',
    clientSecret: 'bench-secret',
    issuer,
    scopes: ['api:read'],
    baseUrl: `http://127.0.0.1:${port}`,
    secret,
    storage: createSqliteStore({
      database: new Database(`${dataDir}/bench.sqlite`, { timeout: 5000 }),
    }),
    allowHttpLoopback: true,
    asyncContext,
  });

const listenExpress = (app: express.Express) =>
  new Promise<number>((resolve) => {
    const server: Server = app.listen(port, '127.0.0.1', () =>
      resolve((server.address() as AddressInfo).port),
    );
    server.keepAliveTimeout = 5000;
  });
const listenHono = (app: Hono) =>
  new Promise<number>((resolve) => {
    serve({ fetch: app.fetch, port, hostname: '127.0.0.1' }, (info) => resolve(info.port));
  });
const noop: MiddlewareHandler = async (_c, next) => {
  await next();
};

function honoWith(asyncContext: boolean): Hono {
  const kit = honoOAuth(decorator(asyncContext));
  return kit.mount(new Hono()).get('/', kit.required(), (c) => c.text(HELLO));
}

function passportApp(): express.Express {
  const app = express();
  const users = new Map([['bench-user', { id: 'bench-user', name: 'Bench' }]]);
  passport.serializeUser((user, done) => done(null, (user as { id: string }).id));
  passport.deserializeUser((id: string, done) => done(null, users.get(id) ?? false));
  app.use(session({ secret, resave: false, saveUninitialized: false }));
  app.use(passport.session());
  app.get('/login', (req, res, next) =>
    req.login(users.get('bench-user')!, (err) => (err ? next(err) : res.send('ok'))),
  );
  app.get('/', (req, res) => {
    if (!req.user) return void res.status(401).send('no user');
    res.send(HELLO);
  });
  return app;
}

function expressWith(asyncContext: boolean): express.Express {
  const app = express();
  const kit = expressOAuth(decorator(asyncContext));
  kit.mount(app);
  app.get('/', kit.required(), (_req, res) => void res.send(HELLO));
  return app;
}

const servers: Record<string, () => Promise<number>> = {
  honoBare: () => listenHono(new Hono().get('/', (c) => c.text(HELLO))),
  honoNoop: () => listenHono(new Hono().use(noop).get('/', (c) => c.text(HELLO))),
  honoOAuth: () => listenHono(honoWith(true)),
  honoOAuthNoAls: () => listenHono(honoWith(false)),
  expressBare: () => listenExpress(express().get('/', (_req, res) => void res.send(HELLO))),
  expressNoop: () =>
    listenExpress(
      express()
        .use((_req, _res, next) => next())
        .get('/', (_req, res) => void res.send(HELLO)),
    ),
  expressOAuth: () => listenExpress(expressWith(true)),
  expressOAuthNoAls: () => listenExpress(expressWith(false)),
  expressPassport: () => listenExpress(passportApp()),
};
const start = servers[variant];
if (!start) throw new Error(`unknown variant ${variant}`);
console.log(await start());
