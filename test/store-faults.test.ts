/**
 * Outages of the shared stores seen from the app: PostgreSQL going down in the middle of a
 * callback, Redis unreachable. PostgreSQL is "stopped" by cutting a TCP proxy in front of it
 * (every connection dropped, new ones refused), never the shared server itself.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { StoreError } from '../src/core/errors.js';
import { createPostgresStore } from '../src/storage/postgres.js';
import { createRedisStore } from '../src/storage/redis.js';
import { HttpBrowser } from './support/app.js';
import { DATABASE_URL, createPool, createSchema, unreachableRedis } from './support/databases.js';
import { startDecoratorApp } from './support/decorator-app.js';
import { startTcpProxy } from './support/tcp-proxy.js';

const direct = createPool({ max: 2 });
after(() => direct.end());

describe('PostgreSQL stopped during a callback', () => {
  it('answers a 503 page, stores no partial row, and the next attempt after the restart signs in', async () => {
    const target = new URL(DATABASE_URL);
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    const viaProxy = new URL(DATABASE_URL);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    const pool = createPool({ connectionString: viaProxy.href, connectionTimeoutMillis: 2000 });
    const { schema, drop } = await createSchema(direct);
    let stopBeforeWrite = false;
    const db = {
      async query(text: string, values?: unknown[]) {
        if (stopBeforeWrite && /^INSERT INTO .*oauthkit_credentials"? /.test(text)) {
          stopBeforeWrite = false;
          await proxy.stop();
        }
        return pool.query(text, values);
      },
    };
    const app = await startDecoratorApp({
      decorator: { storage: createPostgresStore({ db, schema }) },
    });
    try {
      const browser = new HttpBrowser(app.provider, 'pat');
      const start = await browser.request(`${app.origin}/tasks`);
      assert.equal(start.status, 302);
      const callback = await app.provider.authorize(start.headers.get('location')!, {
        login: 'pat',
        jar: browser.providerJar,
      });
      stopBeforeWrite = true;
      const res = await browser.request(callback);
      assert.equal(stopBeforeWrite, false, 'PostgreSQL went down during the callback');
      assert.equal(res.status, 503);
      assert.match(await res.text(), /Temporarily unavailable/);
      assert.ok(
        app.logs.some((l) => /store_failed: postgres store: writing to .* failed/.test(l)),
        app.logs.join('\n'),
      );
      const rows = await direct.query(`SELECT key FROM "${schema}".oauthkit_credentials`);
      assert.equal(rows.rows.length, 0, 'no partial row');

      await proxy.start();
      const again = await browser.visit(`${app.origin}/tasks`);
      assert.equal(again.response.status, 200);
      assert.equal(again.providerVisits, 1);
      assert.equal(((await again.response.json()) as { sub: string }).sub, 'pat');
      const after = await direct.query(`SELECT key FROM "${schema}".oauthkit_credentials`);
      assert.equal(after.rows.length, 1);
    } finally {
      await app.close();
      await pool.end().catch(() => {});
      await proxy.close();
      await drop();
    }
  });

  it('a PostgreSQL that refuses connections is a StoreError naming the table, with the driver’s code', async () => {
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: 5432 });
    const port = proxy.port;
    await proxy.close();
    const pool = createPool({ connectionString: `postgres://postgres@127.0.0.1:${port}/test` });
    try {
      const store = createPostgresStore({ db: pool, createTables: false });
      await assert.rejects(
        store.get('user-1'),
        (err: unknown) =>
          err instanceof StoreError &&
          /^postgres store: reading from "oauthkit_credentials" failed$/.test(err.message) &&
          (err.cause as { code?: string }).code === 'ECONNREFUSED',
      );
    } finally {
      await pool.end();
    }
  });
});

describe('Redis unreachable', () => {
  it('the credential store fails with a clear StoreError; routes that do not need it keep serving', async () => {
    const dead = await unreachableRedis();
    const store = createRedisStore({ client: dead });
    await assert.rejects(
      store.get('user-1'),
      (err: unknown) => err instanceof StoreError && err.message === 'redis store: GET failed',
    );
    const app = await startDecoratorApp({ withUser: true, decorator: { storage: store } });
    try {
      const login = await fetch(`${app.origin}/login`);
      assert.equal(login.status, 200);
      assert.equal(await login.text(), 'login page');
      const home = await fetch(`${app.origin}/`, { headers: { 'x-user': 'quinn' } });
      assert.equal(home.status, 503);
      assert.match(await home.text(), /Temporarily unavailable/);
      assert.ok(app.logs.some((l) => /store_failed: redis store: GET failed/.test(l)));
      const stillUp = await fetch(`${app.origin}/nowhere`);
      assert.equal(stillUp.status, 404);
    } finally {
      await app.close();
      dead.disconnect();
    }
  });
});
