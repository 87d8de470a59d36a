import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import Database from 'libsql';
import { StoreError } from '../src/core/errors.js';
import { createPostgresFlowStore, createSqliteFlowStore } from '../src/decorator/flow-store-sql.js';
import { HttpBrowser } from './support/app.js';
import { createPool, randomSuffix } from './support/databases.js';
import { startDecoratorApp } from './support/decorator-app.js';
import { FLOW_SECRET, flowRecord, flowStoreSuite } from './support/flow-store-suite.js';

const pool = createPool();
after(() => pool.end());

flowStoreSuite('postgres', async (options = {}) => {
  const schema = `oauthkit_test_${randomSuffix()}`;
  const make = (o: typeof options) =>
    createPostgresFlowStore({ db: pool, schema, secret: FLOW_SECRET, ...o });
  const store = make(options);
  await pool.query(`CREATE SCHEMA "${schema}"`);
  return {
    store,
    sibling: make,
    async entries() {
      const { rows } = await pool
        .query(`SELECT id, value FROM "${schema}".oauthkit_flows`)
        .catch(() => ({ rows: [] as { id: string; value: string }[] }));
      return rows.map((r) => [r.id, r.value] as [string, string]);
    },
    async write(id, text) {
      await pool.query(
        `INSERT INTO "${schema}".oauthkit_flows (id, value, expires_at) VALUES ($1, $2, now() + interval '1 minute')
         ON CONFLICT (id) DO UPDATE SET value = excluded.value`,
        [id, text],
      );
    },
    cleanup: () => pool.query(`DROP SCHEMA "${schema}" CASCADE`).then(() => {}),
  };
});

flowStoreSuite('sqlite', async (options = {}) => {
  const db = new Database(':memory:');
  const make = (o: typeof options) =>
    createSqliteFlowStore({ database: db, secret: FLOW_SECRET, ...o });
  const store = make(options);
  return {
    store,
    sibling: make,
    async entries() {
      try {
        return (
          db.prepare('SELECT id, value FROM oauthkit_flows').all() as {
            id: string;
            value: string;
          }[]
        ).map((r) => [r.id, r.value] as [string, string]);
      } catch {
        return [];
      }
    },
    async write(id, text) {
      db.prepare(
        'INSERT INTO oauthkit_flows (id, value, expires_at) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET value = excluded.value',
      ).run(id, text, Date.now() + 60_000);
    },
    cleanup: async () => void db.close(),
  };
});

describe('sql flow stores', () => {
  it('postgres: purgeExpired() deletes expired records only', async () => {
    const schema = `oauthkit_test_${randomSuffix()}`;
    await pool.query(`CREATE SCHEMA "${schema}"`);
    try {
      let clock = Date.now();
      const store = createPostgresFlowStore({
        db: pool,
        schema,
        secret: FLOW_SECRET,
        now: () => clock,
      });
      await store.save(flowRecord({ expiresAt: clock + 1000 }));
      const live = await store.save(flowRecord({ expiresAt: clock + 600_000 }));
      clock += 2000;
      await store.purgeExpired();
      const { rows } = await pool.query(
        `SELECT count(*)::int AS n FROM "${schema}".oauthkit_flows`,
      );
      assert.equal(rows[0].n, 1);
      assert.ok(await store.take(live));
    } finally {
      await pool.query(`DROP SCHEMA "${schema}" CASCADE`);
    }
  });

  it('sqlite: purgeExpired() deletes expired records only', async () => {
    const db = new Database(':memory:');
    let clock = Date.now();
    const store = createSqliteFlowStore({ database: db, secret: FLOW_SECRET, now: () => clock });
    await store.save(flowRecord({ expiresAt: clock + 1000 }));
    const live = await store.save(flowRecord({ expiresAt: clock + 600_000 }));
    clock += 2000;
    await store.purgeExpired();
    assert.equal(
      (db.prepare('SELECT count(*) AS n FROM oauthkit_flows').get() as { n: number }).n,
      1,
    );
    assert.ok(await store.take(live));
    db.close();
  });

  it('a failing database is a StoreError, the driver’s reason kept', async () => {
    const failure = Object.assign(new Error('connection terminated'), { code: '57P01' });
    const store = createPostgresFlowStore({
      db: { query: () => Promise.reject(failure) },
      secret: FLOW_SECRET,
      createTable: false,
    });
    await assert.rejects(
      store.save(flowRecord()),
      (err: unknown) =>
        err instanceof StoreError && (err.cause as { code?: string }).code === '57P01',
    );
  });

  it('checks its options with TypeErrors naming them', () => {
    for (const [make, name] of [
      [() => createPostgresFlowStore({ db: {} as never, secret: FLOW_SECRET }), '"db"'],
      [() => createPostgresFlowStore({ db: pool, secret: FLOW_SECRET, table: 'a-b' }), '"table"'],
      [() => createPostgresFlowStore({ db: pool, secret: FLOW_SECRET, schema: '1' }), '"schema"'],
      [() => createSqliteFlowStore({ database: {} as never, secret: FLOW_SECRET }), '"database"'],
      [
        () =>
          createSqliteFlowStore({
            database: new Database(':memory:'),
            secret: FLOW_SECRET,
            table: 'sqlite_x',
          }),
        '"table"',
      ],
    ] as const) {
      assert.throws(make, (err: unknown) => err instanceof TypeError && err.message.includes(name));
    }
  });

  it('the decorator signs in with the PostgreSQL flow store, and refuses a replay', async () => {
    const schema = `oauthkit_test_${randomSuffix()}`;
    await pool.query(`CREATE SCHEMA "${schema}"`);
    const app = await startDecoratorApp({
      decorator: { flowStore: createPostgresFlowStore({ db: pool, schema, secret: FLOW_SECRET }) },
    });
    try {
      const browser = new HttpBrowser(app.provider, 'lea');
      const first = await browser.request(`${app.origin}/tasks`);
      const cookie = first.headers
        .getSetCookie()
        .find((c) => /flow-/.test(c))!
        .split(';')[0]!;
      const callback = await app.provider.authorize(first.headers.get('location')!, {
        login: 'lea',
        jar: browser.providerJar,
      });
      const done = await fetch(callback, { headers: { cookie }, redirect: 'manual' });
      assert.equal(done.status, 303);
      app.provider.resetCounts();
      const replay = await fetch(callback, { headers: { cookie }, redirect: 'manual' });
      assert.equal(replay.status, 400);
      assert.equal(app.provider.counts.token, 0);
      const { rows } = await pool.query(
        `SELECT count(*)::int AS n FROM "${schema}".oauthkit_flows`,
      );
      assert.equal(rows[0].n, 0);
    } finally {
      await app.close();
      await pool.query(`DROP SCHEMA "${schema}" CASCADE`);
    }
  });
});
