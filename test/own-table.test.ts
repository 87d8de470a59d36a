import assert from 'node:assert/strict';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import Database from 'libsql';
import { CredentialsInvalidError, StoreError } from '../src/core/errors.js';
import { generateEncryptionKey, reencryptAll } from '../src/storage/encryption.js';
import {
  createPostgresOwnTableStore,
  type PostgresOwnTableStoreOptions,
} from '../src/storage/postgres-own-table.js';
import {
  createSqliteOwnTableStore,
  type SqliteOwnTableStoreOptions,
} from '../src/storage/sqlite-own-table.js';
import { createPool, createSchema } from './support/databases.js';
import { storeSuite, testCredentials as creds } from './support/store-suite.js';

const pool = createPool();
const otherPool = createPool({ max: 4 });
after(async () => {
  await pool.end();
  await otherPool.end();
});
const KEYS = [{ id: 'k1', key: generateEncryptionKey() }];

/** An app's users table with columns of its own beside the credentials column. */
const USERS_PG = (schema: string, keyType = 'TEXT') => `
  CREATE TABLE "${schema}".users (
    id ${keyType} PRIMARY KEY,
    email TEXT NOT NULL DEFAULT 'unknown@example.com',
    name TEXT,
    plan TEXT NOT NULL DEFAULT 'free',
    profile JSONB,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    google_credentials TEXT
  )`;

for (const encrypted of [false, true]) {
  storeSuite(
    `postgres own-table${encrypted ? ' (encrypted)' : ''}`,
    async ({ codec } = {}) => {
      const { schema, drop } = await createSchema(pool);
      await pool.query(USERS_PG(schema));
      const options = (db: typeof pool): PostgresOwnTableStoreOptions => ({
        db,
        schema,
        table: 'users',
        keyColumn: 'id',
        credentialsColumn: 'google_credentials',
        createMissingRows: true,
        codec,
        encryptionKeys: encrypted ? KEYS : undefined,
      });
      return {
        store: createPostgresOwnTableStore(options(pool)),
        twin: () => createPostgresOwnTableStore(options(otherPool)),
        cleanup: drop,
      };
    },
    { lock: true, listing: true },
  );
}

storeSuite(
  'sqlite own-table',
  async ({ codec } = {}) => {
    const db = new Database(':memory:');
    db.exec(
      "CREATE TABLE users (id TEXT PRIMARY KEY, email TEXT NOT NULL DEFAULT 'x', plan TEXT, google_credentials TEXT)",
    );
    return {
      store: createSqliteOwnTableStore({
        database: db,
        table: 'users',
        keyColumn: 'id',
        credentialsColumn: 'google_credentials',
        createMissingRows: true,
        codec,
      }),
      cleanup: async () => void db.close(),
    };
  },
  { listing: true },
);

describe('postgres own-table store in an app table with other columns', () => {
  let schema: string;
  let drop: () => Promise<void>;
  let sql: string[];
  const recording = {
    query: (text: string, values?: unknown[]) => {
      sql.push(text);
      return pool.query(text, values);
    },
  };
  beforeEach(async () => {
    ({ schema, drop } = await createSchema(pool));
    sql = [];
    await pool.query(USERS_PG(schema, 'INTEGER'));
    await pool.query(
      `INSERT INTO "${schema}".users (id, email, name, plan, profile, created_at) VALUES
       (1, 'ada@example.com', 'Ada', 'pro', '{"theme":"dark"}', '2020-01-01T00:00:00Z'),
       (2, 'bob@example.com', NULL, 'free', NULL, '2021-06-01T12:00:00Z'),
       (3, 'cy@example.com', 'Cy', 'team', '[1,2]', '2022-02-02T02:02:02Z')`,
    );
  });
  afterEach(() => drop());

  const others = async () =>
    (
      await pool.query(
        `SELECT id, email, name, plan, profile, created_at, xmin::text AS version FROM "${schema}".users ORDER BY id`,
      )
    ).rows.map(({ version, ...row }) => ({ ...row, touched: version }));
  const options = (extra: Partial<PostgresOwnTableStoreOptions> = {}) => ({
    db: recording,
    schema,
    table: 'users',
    keyColumn: 'id',
    credentialsColumn: 'google_credentials',
    ...extra,
  });

  it('reads and writes only its column, in the row of its key; every other column and row stays as it was', async () => {
    const store = createPostgresOwnTableStore(options());
    const before = await others();
    await store.put('2', creds('bob'));
    assert.equal((await store.get('2'))?.accessToken, 'ya29.secret-access-bob');
    assert.equal(await store.get('1'), undefined, 'a row with NULL credentials has none');
    const after = await others();
    assert.deepEqual(
      after.map(({ touched, ...row }) => row),
      before.map(({ touched, ...row }) => row),
      'no other column changed',
    );
    assert.deepEqual(
      after.filter((r, i) => r.touched !== before[i]!.touched).map((r) => r.id),
      [2],
      'only the key’s row was written',
    );
    for (const text of sql) {
      assert.doesNotMatch(text, /email|name|plan|profile|created_at/, text);
    }
  });

  it('delete() clears the column and keeps the row', async () => {
    const store = createPostgresOwnTableStore(options());
    await store.put('3', creds('cy'));
    await store.delete('3');
    assert.equal(await store.get('3'), undefined);
    const { rows } = await pool.query(
      `SELECT email, google_credentials FROM "${schema}".users WHERE id = 3`,
    );
    assert.deepEqual(rows, [{ email: 'cy@example.com', google_credentials: null }]);
  });

  it('put() for a key with no row fails with a StoreError and creates nothing (unless createMissingRows)', async () => {
    const store = createPostgresOwnTableStore(options());
    await assert.rejects(
      store.put('4', creds('x')),
      (err: unknown) =>
        err instanceof StoreError && /no row of .*users.* has this "id"/.test(err.message),
    );
    assert.equal((await pool.query(`SELECT 1 FROM "${schema}".users WHERE id = 4`)).rows.length, 0);
    await createPostgresOwnTableStore(options({ createMissingRows: true })).put('4', creds('x'));
    const { rows } = await pool.query(`SELECT email, plan FROM "${schema}".users WHERE id = 4`);
    assert.deepEqual(
      rows,
      [{ email: 'unknown@example.com', plan: 'free' }],
      'defaults for the rest',
    );
  });

  it('with encryption, a value copied to another user’s row fails closed', async () => {
    const store = createPostgresOwnTableStore(options({ encryptionKeys: KEYS }));
    await store.put('1', creds('ada'));
    await pool.query(
      `UPDATE "${schema}".users SET google_credentials = (SELECT google_credentials FROM "${schema}".users WHERE id = 1) WHERE id = 2`,
    );
    await assert.rejects(store.get('2'), CredentialsInvalidError);
    assert.equal((await store.get('1'))?.accessToken, 'ya29.secret-access-ada');
  });

  it('lists integer keys page by page and re-encrypts them', async () => {
    const old = createPostgresOwnTableStore(options({ encryptionKeys: KEYS }));
    await old.put('1', creds('1'));
    await old.put('3', creds('3'));
    const rotated = createPostgresOwnTableStore(
      options({ encryptionKeys: [{ id: 'k2', key: generateEncryptionKey() }, ...KEYS] }),
    );
    const report = await reencryptAll(rotated);
    assert.deepEqual([report.scanned, report.reencrypted], [2, 2]);
    assert.match((await rotated.readText('1'))!, /^enc\.v1\.k2\./);
  });

  it('a JSONB credentials column works with the JSON codec', async () => {
    await pool.query(`ALTER TABLE "${schema}".users ADD COLUMN creds_json JSONB`);
    const store = createPostgresOwnTableStore(options({ credentialsColumn: 'creds_json' }));
    await store.put('1', creds('j'));
    assert.equal((await store.get('1'))?.refreshToken, '1//secret-refresh-j');
    const { rows } = await pool.query(`SELECT creds_json FROM "${schema}".users WHERE id = 1`);
    assert.equal(rows[0].creds_json.v, 1);
    const text = (await store.readText('1'))!;
    assert.equal(await store.replaceText('1', text, JSON.stringify(creds('k'))), true);
    assert.equal((await store.get('1'))?.accessToken, 'ya29.secret-access-k');
  });

  it('keeps its refresh leases in oauthkit_locks, made on first lock(); lockTable: false means no lock', async () => {
    const store = createPostgresOwnTableStore(options());
    const tables = async () =>
      (
        await pool.query(
          'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1',
          [schema],
        )
      ).rows.map((r) => r.table_name);
    assert.deepEqual(await tables(), ['users']);
    await store.lock!(
      '1',
      async () => {
        const { rows } = await pool.query(`SELECT key FROM "${schema}".oauthkit_locks`);
        assert.deepEqual(rows, [{ key: 'users.google_credentials:1' }]);
      },
      { leaseMs: 5000 },
    );
    assert.deepEqual(await tables(), ['oauthkit_locks', 'users']);
    assert.equal(createPostgresOwnTableStore(options({ lockTable: false })).lock, undefined);
  });

  for (const [extra, name] of [
    [{ table: 'users; --' }, '"table"'],
    [{ keyColumn: '' }, '"keyColumn"'],
    [{ credentialsColumn: 'a b' }, '"credentialsColumn"'],
    [{ credentialsColumn: 'id' }, '"credentialsColumn"'],
    [{ lockTable: 'x-y' }, '"lockTable"'],
    [{ db: null }, '"db"'],
  ] as const) {
    it(`throws a TypeError naming ${name} for ${JSON.stringify(extra)}`, () => {
      assert.throws(
        () =>
          createPostgresOwnTableStore({ ...options(), ...extra } as PostgresOwnTableStoreOptions),
        (err: unknown) => err instanceof TypeError && err.message.includes(name),
      );
    });
  }
});

describe('sqlite own-table store in an app table with other columns', () => {
  let db: InstanceType<typeof Database>;
  beforeEach(() => {
    db = new Database(':memory:');
    db.exec(`CREATE TABLE users (
      id INTEGER PRIMARY KEY, email TEXT NOT NULL, plan TEXT NOT NULL DEFAULT 'free',
      created_at INTEGER NOT NULL, google_credentials TEXT)`);
    db.exec(`INSERT INTO users (id, email, plan, created_at) VALUES
      (1, 'ada@example.com', 'pro', 1577836800000), (2, 'bob@example.com', 'free', 1622548800000)`);
  });
  afterEach(() => db.close());
  const options = (
    extra: Partial<SqliteOwnTableStoreOptions> = {},
  ): SqliteOwnTableStoreOptions => ({
    database: db,
    table: 'users',
    keyColumn: 'id',
    credentialsColumn: 'google_credentials',
    ...extra,
  });
  const others = () =>
    db.prepare('SELECT id, email, plan, created_at FROM users ORDER BY id').all();

  it('reads and writes only its column; delete() keeps the row; a missing row is a StoreError', async () => {
    const store = createSqliteOwnTableStore(options());
    const before = others();
    await store.put('2', creds('bob'));
    assert.equal((await store.get('2'))?.accessToken, 'ya29.secret-access-bob');
    assert.equal(await store.get('1'), undefined);
    await store.delete('2');
    assert.equal(await store.get('2'), undefined);
    assert.deepEqual(others(), before);
    await assert.rejects(store.put('3', creds('x')), StoreError);
    assert.equal(others().length, 2);
  });

  it('an app table that does not exist is a StoreError, not a crash', async () => {
    const store = createSqliteOwnTableStore(options({ table: 'accounts' }));
    await assert.rejects(
      store.get('1'),
      (err: unknown) => err instanceof StoreError && /could not prepare/.test(err.message),
    );
  });

  it('with encryption, values are bound to the row: copied to another row, they fail closed', async () => {
    const store = createSqliteOwnTableStore(options({ encryptionKeys: KEYS }));
    await store.put('1', creds('ada'));
    db.exec(
      'UPDATE users SET google_credentials = (SELECT google_credentials FROM users WHERE id = 1) WHERE id = 2',
    );
    await assert.rejects(store.get('2'), CredentialsInvalidError);
    assert.equal((await store.get('1'))?.accessToken, 'ya29.secret-access-ada');
  });

  for (const [extra, name] of [
    [{ table: 'sqlite_master' }, '"table"'],
    [{ keyColumn: '1id' }, '"keyColumn"'],
    [{ credentialsColumn: 'id' }, '"credentialsColumn"'],
    [{ database: {} }, '"database"'],
  ] as const) {
    it(`throws a TypeError naming ${name} for ${JSON.stringify(extra)}`, () => {
      assert.throws(
        () => createSqliteOwnTableStore({ ...options(), ...extra } as SqliteOwnTableStoreOptions),
        (err: unknown) => err instanceof TypeError && err.message.includes(name),
      );
    });
  }
});
