import assert from 'node:assert/strict';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import { CredentialsInvalidError, StoreError } from '../src/core/errors.js';
import { generateEncryptionKey } from '../src/storage/encryption.js';
import {
  createPostgresStore,
  postgresStoreMigration,
  type PostgresClient,
  type PostgresStoreOptions,
} from '../src/storage/postgres.js';
import { createPool, createSchema } from './support/databases.js';
import {
  storeSuite,
  testCredentials as creds,
  shownInLog as shown,
} from './support/store-suite.js';

const pool = createPool();
// A second pool: the twin store talks over other connections, as another process would.
const otherPool = createPool({ max: 4 });
after(async () => {
  await pool.end();
  await otherPool.end();
});

const KEYS = [{ id: 'k1', key: generateEncryptionKey() }];

for (const encrypted of [false, true]) {
  storeSuite(
    encrypted ? 'postgres (encrypted)' : 'postgres',
    async ({ codec } = {}) => {
      const { schema, drop } = await createSchema(pool);
      const options = (db: PostgresClient): PostgresStoreOptions => ({
        db,
        schema,
        codec,
        encryptionKeys: encrypted ? KEYS : undefined,
      });
      return {
        store: createPostgresStore(options(pool)),
        twin: () => createPostgresStore(options(otherPool)),
        cleanup: drop,
      };
    },
    { lock: true, listing: true },
  );
}

describe('postgres store', () => {
  let schema: string;
  let drop: () => Promise<void>;
  beforeEach(async () => {
    ({ schema, drop } = await createSchema(pool));
  });
  afterEach(async () => {
    await drop();
  });

  const tablesIn = async (s: string) =>
    (
      await pool.query(
        'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1',
        [s],
      )
    ).rows.map((r) => r.table_name as string);

  it('creates its two tables on first use, not when the store is created', async () => {
    const store = createPostgresStore({ db: pool, schema });
    assert.deepEqual(await tablesIn(schema), []);
    assert.equal(await store.get('user-1'), undefined);
    assert.deepEqual(await tablesIn(schema), [
      'oauthkit_credentials',
      'oauthkit_credentials_locks',
    ]);
    const columns = await pool.query(
      `SELECT column_name, data_type, is_nullable, collation_name FROM information_schema.columns
       WHERE table_schema = $1 AND table_name = 'oauthkit_credentials' ORDER BY ordinal_position`,
      [schema],
    );
    assert.deepEqual(columns.rows, [
      { column_name: 'key', data_type: 'text', is_nullable: 'NO', collation_name: 'C' },
      { column_name: 'value', data_type: 'text', is_nullable: 'NO', collation_name: null },
      {
        column_name: 'updated_at',
        data_type: 'timestamp with time zone',
        is_nullable: 'NO',
        collation_name: null,
      },
    ]);
  });

  it('twenty stores using a new schema at once all create the tables without error', async () => {
    const stores = Array.from({ length: 20 }, () => createPostgresStore({ db: pool, schema }));
    await Promise.all(stores.map((s, i) => s.put(`user-${i}`, creds(String(i)))));
    for (const [i, s] of stores.entries()) {
      assert.equal((await s.get(`user-${i}`))?.accessToken, `ya29.secret-access-${i}`);
    }
  });

  it('with createTables: false, uses the tables the exported migration made', async () => {
    const store = createPostgresStore({ db: pool, schema, table: 'creds', createTables: false });
    await assert.rejects(() => store.get('user-1'), StoreError, 'no table yet');
    const migration = postgresStoreMigration({ schema, table: 'creds' });
    await pool.query(migration);
    await pool.query(migration); // idempotent
    assert.deepEqual(await tablesIn(schema), ['creds', 'creds_locks']);
    await store.put('user-1', creds('1'));
    assert.equal((await store.get('user-1'))?.accessToken, 'ya29.secret-access-1');
    assert.equal(await store.lock('user-1', async () => 'locked', { leaseMs: 1000 }), 'locked');
  });

  it('migrate() creates the tables now', async () => {
    await createPostgresStore({ db: pool, schema, table: 'early' }).migrate();
    assert.deepEqual(await tablesIn(schema), ['early', 'early_locks']);
  });

  it('keeps stores on different tables apart', async () => {
    const a = createPostgresStore({ db: pool, schema, table: 'a' });
    const b = createPostgresStore({ db: pool, schema, table: 'b' });
    await a.put('user-1', creds('a'));
    assert.equal(await b.get('user-1'), undefined);
    assert.equal((await a.get('user-1'))?.accessToken, 'ya29.secret-access-a');
  });

  it('stores one row of versioned JSON with its write time, and no _class or _module', async () => {
    const store = createPostgresStore({ db: pool, schema });
    await store.put('user-1', creds('1'));
    const { rows } = await pool.query(
      `SELECT key, value, updated_at FROM "${schema}".oauthkit_credentials`,
    );
    assert.equal(rows.length, 1);
    assert.equal(rows[0].key, 'user-1');
    const json = JSON.parse(rows[0].value);
    assert.equal(json.v, 1);
    assert.equal(json.access_token, 'ya29.secret-access-1');
    assert.equal('_class' in json || '_module' in json, false);
    assert.ok(rows[0].updated_at instanceof Date);
    assert.ok(Math.abs(rows[0].updated_at.getTime() - Date.now()) < 60_000);
  });

  it('get() rejects with CredentialsInvalidError for a garbage row; other keys keep working', async () => {
    const store = createPostgresStore({ db: pool, schema });
    await store.put('user-1', creds('1'));
    await store.put('user-2', creds('2'));
    await pool.query(`UPDATE "${schema}".oauthkit_credentials SET value = $1 WHERE key = $2`, [
      '{"v":1,"acc',
      'user-1',
    ]);
    await assert.rejects(() => store.get('user-1'), CredentialsInvalidError);
    assert.equal((await store.get('user-2'))?.accessToken, 'ya29.secret-access-2');
    await store.put('user-1', creds('1b'));
    assert.equal((await store.get('user-1'))?.accessToken, 'ya29.secret-access-1b');
  });

  it('reads a row of oauth2client JSON, as copied from the Python library', async () => {
    const store = createPostgresStore({ db: pool, schema });
    await store.migrate();
    await pool.query(`INSERT INTO "${schema}".oauthkit_credentials (key, value) VALUES ($1, $2)`, [
      'user-1',
      JSON.stringify({
        access_token: 'ya29.from-python',
        refresh_token: '1//from-python',
        token_expiry: '2031-01-01T00:00:00Z',
        token_response: { scope: 'openid email' },
        _class: 'OAuth2Credentials',
        _module: 'oauth2client.client',
      }),
    ]);
    const got = await store.get('user-1');
    assert.equal(got?.refreshToken, '1//from-python');
    assert.deepEqual(got?.scopes, ['email', 'openid']);
  });

  it('gives back the lease row when fn settles', async () => {
    const store = createPostgresStore({ db: pool, schema });
    await store.lock(
      'user-1',
      async () => {
        const held = await pool.query(
          `SELECT key, token, expires_at > clock_timestamp() AS live FROM "${schema}".oauthkit_credentials_locks`,
        );
        assert.equal(held.rows.length, 1);
        assert.equal(held.rows[0].key, 'user-1');
        assert.match(held.rows[0].token, /^[0-9a-f]{32}$/);
        assert.equal(held.rows[0].live, true);
      },
      { leaseMs: 10_000 },
    );
    const left = await pool.query(`SELECT 1 FROM "${schema}".oauthkit_credentials_locks`);
    assert.equal(left.rows.length, 0);
  });

  it('a waiter gives up with a StoreError after lockWaitMs while another holds the lease', async () => {
    const holder = createPostgresStore({ db: pool, schema });
    const waiter = createPostgresStore({ db: otherPool, schema, lockWaitMs: 100 });
    let ran = false;
    await holder.lock(
      'user-1',
      async () => {
        await assert.rejects(
          waiter.lock('user-1', async () => (ran = true), { leaseMs: 10_000 }),
          (err: unknown) => err instanceof StoreError && /gave up/.test(err.message),
        );
      },
      { leaseMs: 10_000 },
    );
    assert.equal(ran, false);
  });

  for (const [label, options] of [
    ['"table"', { table: 'x"; DROP TABLE y; --' }],
    ['"table"', { table: '1table' }],
    ['"table"', { table: 't'.repeat(58) }],
    ['"table"', { table: 42 }],
    ['"schema"', { schema: 'a.b' }],
    ['"schema"', { schema: '' }],
    ['"db"', { db: undefined }],
    ['"db"', { db: {} }],
    ['"codec"', { codec: { encode() {} } }],
    ['"lockWaitMs"', { lockWaitMs: 0 }],
    ['"keys"', { encryptionKeys: [] }],
    ['"keys[0].key"', { encryptionKeys: [{ id: 'k', key: 'c2hvcnQ=' }] }],
  ] as const) {
    it(`throws a TypeError naming ${label} for ${JSON.stringify(options)}`, () => {
      assert.throws(
        () => createPostgresStore({ db: pool, ...options } as unknown as PostgresStoreOptions),
        (err: unknown) => err instanceof TypeError && err.message.includes(label),
      );
    });
  }

  it('accepts a 57-character table name (its lease table takes the 63 PostgreSQL allows)', async () => {
    const table = 't'.repeat(57);
    await createPostgresStore({ db: pool, schema, table }).put('user-1', creds('1'));
    assert.deepEqual(await tablesIn(schema), [table, `${table}_locks`]);
  });

  it('works with a postgres.js-shaped client (sql.unsafe(text, values) resolving to rows)', async () => {
    const queries: string[] = [];
    const sql = {
      unsafe: async (text: string, values?: unknown[]) => {
        queries.push(text);
        return (await pool.query(text, values)).rows;
      },
    };
    const store = createPostgresStore({ db: sql, schema });
    await store.put('user-1', creds('1'));
    assert.equal((await store.get('user-1'))?.accessToken, 'ya29.secret-access-1');
    assert.equal(await store.lock('user-1', async () => 7, { leaseMs: 1000 }), 7);
    await store.delete('user-1');
    assert.equal(await store.get('user-1'), undefined);
    assert.ok(queries.some((q) => /ON CONFLICT/.test(q)));
  });
});

describe('postgres store with a failing driver', () => {
  it('rejects with StoreError; the cause keeps the code but not the driver’s copy of the row', async () => {
    const failure = Object.assign(
      new Error('null value in column "x" violates not-null constraint'),
      {
        code: '23502',
        detail: 'Failing row contains (user-1, {"v":1,"access_token":"ya29.secret-access-1"}).',
        where: 'SQL statement with ya29.secret-access-1',
      },
    );
    const store = createPostgresStore({
      db: { query: () => Promise.reject(failure) },
      createTables: false,
    });
    for (const op of [
      () => store.put('user-1', creds('1')),
      () => store.get('user-1'),
      () => store.delete('user-1'),
      () => store.lock('user-1', async () => 1, { leaseMs: 1000 }),
    ]) {
      const err: unknown = await op().then(
        () => assert.fail('resolved'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof StoreError, String(err));
      assert.equal(err.code, 'store_failed');
      assert.match(err.message, /^postgres store: /);
      assert.equal((err.cause as { code?: string }).code, '23502');
      assert.doesNotMatch(shown(err), /secret|ya29|1\/\//);
    }
  });

  it('a failure to create the tables rejects with StoreError, and the next call tries again', async () => {
    let fail = true;
    const { schema, drop } = await createSchema(pool);
    try {
      const store = createPostgresStore({
        db: {
          query: (text: string, values?: unknown[]) =>
            fail && /CREATE TABLE/.test(text)
              ? Promise.reject(Object.assign(new Error('permission denied'), { code: '42501' }))
              : pool.query(text, values),
        },
        schema,
      });
      await assert.rejects(
        () => store.put('user-1', creds('1')),
        (err: unknown) => err instanceof StoreError && /could not create/.test(err.message),
      );
      fail = false;
      await store.put('user-1', creds('1'));
      assert.equal((await store.get('user-1'))?.accessToken, 'ya29.secret-access-1');
    } finally {
      await drop();
    }
  });
});
