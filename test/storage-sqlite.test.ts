import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import Database from 'libsql';
import { CredentialsInvalidError, StoreError } from '../src/core/errors.js';
import { createSqliteStore } from '../src/storage/sqlite.js';
import type { SqliteDatabase, SqliteStatement } from '../src/storage/sqlite.js';
import { storeSuite, testCredentials as creds } from './support/store-suite.js';

type Db = InstanceType<typeof Database>;

/** A fresh database file in its own temporary folder, removed with the folder. */
async function tempDatabase(): Promise<{ db: Db; file: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'oauthkit-sqlite-'));
  const file = join(dir, 'store.db');
  const db = new Database(file);
  return {
    db,
    file,
    async remove() {
      if (db.open) db.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

storeSuite('sqlite (file)', async ({ codec } = {}) => {
  const temp = await tempDatabase();
  return { store: createSqliteStore({ database: temp.db, codec }), cleanup: temp.remove };
});

storeSuite('sqlite (:memory:)', async ({ codec } = {}) => {
  const db = new Database(':memory:');
  return {
    store: createSqliteStore({ database: db, codec }),
    cleanup: async () => {
      db.close();
    },
  };
});

/** Wraps a database so that every SQL text it is given is recorded. */
function recording(db: Db): { database: SqliteDatabase; sql: string[] } {
  const sql: string[] = [];
  const database: SqliteDatabase = {
    prepare(text) {
      sql.push(text);
      return db.prepare(text);
    },
    exec(text) {
      sql.push(text);
      return db.exec(text);
    },
    memory: db.memory,
  };
  return { database, sql };
}

function tableNames(db: Db): string[] {
  return (
    db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]
  )
    .map((r) => r.name)
    .sort();
}

function journalMode(db: Db): unknown {
  return (db.prepare('PRAGMA journal_mode').get() as { journal_mode: unknown }).journal_mode;
}

describe('sqlite store', () => {
  let temp: Awaited<ReturnType<typeof tempDatabase>>;
  let db: Db;

  beforeEach(async () => {
    temp = await tempDatabase();
    db = temp.db;
  });
  afterEach(async () => {
    await temp.remove();
  });

  it('creates its table on first use, not when the store is created', async () => {
    const store = createSqliteStore({ database: db });
    assert.deepEqual(tableNames(db), []);
    assert.equal(await store.get('user-1'), undefined);
    assert.deepEqual(tableNames(db), ['oauthkit_credentials']);
    const columns = db.prepare('PRAGMA table_info(oauthkit_credentials)').all() as {
      name: string;
      type: string;
      notnull: number;
      pk: number;
    }[];
    assert.deepEqual(
      columns.map(({ name, type, notnull, pk }) => ({ name, type, notnull, pk })),
      [
        { name: 'key', type: 'TEXT', notnull: 0, pk: 1 },
        { name: 'value', type: 'TEXT', notnull: 1, pk: 0 },
        { name: 'updated_at', type: 'INTEGER', notnull: 1, pk: 0 },
      ],
    );
  });

  it('uses a table that already exists and keeps its rows', async () => {
    await createSqliteStore({ database: db }).put('user-1', creds('1'));
    const again = createSqliteStore({ database: db });
    assert.equal((await again.get('user-1'))?.accessToken, 'ya29.secret-access-1');
  });

  it('keeps credentials in the file across reopening the database', async () => {
    await createSqliteStore({ database: db }).put('user-1', creds('1'));
    db.close();
    const reopened = new Database(temp.file);
    try {
      const got = await createSqliteStore({ database: reopened }).get('user-1');
      assert.equal(got?.refreshToken, '1//secret-refresh-1');
    } finally {
      reopened.close();
    }
  });

  it('prepares its statements once', async () => {
    const { database, sql } = recording(db);
    const store = createSqliteStore({ database });
    for (let i = 0; i < 5; i++) {
      await store.put(`user-${i}`, creds(String(i)));
      await store.get(`user-${i}`);
      await store.delete(`user-${i}`);
    }
    assert.equal(sql.filter((s) => /^\s*(SELECT|INSERT|DELETE)/i.test(s)).length, 3);
    assert.equal(sql.filter((s) => /CREATE TABLE/i.test(s)).length, 1);
  });

  it('turns on WAL for a file database', async () => {
    assert.equal(journalMode(db), 'delete');
    await createSqliteStore({ database: db }).get('user-1');
    assert.equal(journalMode(db), 'wal');
  });

  it('leaves the journal mode alone with { wal: false }', async () => {
    await createSqliteStore({ database: db, wal: false }).get('user-1');
    assert.equal(journalMode(db), 'delete');
  });

  it('does not ask for WAL on an in-memory database', async () => {
    const memory = new Database(':memory:');
    try {
      const { database, sql } = recording(memory);
      const store = createSqliteStore({ database });
      await store.put('user-1', creds('1'));
      assert.equal((await store.get('user-1'))?.accessToken, 'ya29.secret-access-1');
      assert.deepEqual(
        sql.filter((s) => /journal_mode/i.test(s)),
        [],
      );
    } finally {
      memory.close();
    }
  });

  it('uses a custom table name, and only that table', async () => {
    const store = createSqliteStore({ database: db, table: 'My_Creds_2' });
    await store.put('user-1', creds('1'));
    assert.deepEqual(tableNames(db), ['My_Creds_2']);
    const row = db.prepare('SELECT key FROM My_Creds_2').get() as { key: string };
    assert.equal(row.key, 'user-1');
    assert.equal((await store.get('user-1'))?.accessToken, 'ya29.secret-access-1');
  });

  it('keeps stores on different tables of one database apart', async () => {
    const a = createSqliteStore({ database: db, table: 'a' });
    const b = createSqliteStore({ database: db, table: 'b' });
    await a.put('user-1', creds('a'));
    assert.equal(await b.get('user-1'), undefined);
  });

  for (const table of [
    'x; drop',
    'x"; DROP TABLE y; --',
    '',
    ' x',
    '1table',
    'a-b',
    'main.creds',
    'sqlite_creds',
    'SQLITE_creds',
    't'.repeat(65),
    42,
  ]) {
    it(`throws a TypeError naming "table" for ${JSON.stringify(table)}`, () => {
      assert.throws(
        () => createSqliteStore({ database: db, table: table as string }),
        (err: unknown) => err instanceof TypeError && /"table"/.test(err.message),
      );
      assert.deepEqual(tableNames(db), []);
    });
  }

  it('accepts a 64-character table name', async () => {
    const table = 't'.repeat(64);
    await createSqliteStore({ database: db, table }).put('user-1', creds('1'));
    assert.deepEqual(tableNames(db), [table]);
  });

  for (const database of [undefined, null, {}, { prepare() {} }]) {
    it(`throws a TypeError naming "database" for ${JSON.stringify(database)}`, () => {
      assert.throws(
        () => createSqliteStore({ database: database as unknown as SqliteDatabase }),
        (err: unknown) => err instanceof TypeError && /"database"/.test(err.message),
      );
    });
  }

  it('stores a row of versioned JSON with no _class or _module, and its write time', async () => {
    const store = createSqliteStore({ database: db });
    const before = Date.now();
    await store.put('user-1', creds('1'));
    const after = Date.now();
    const row = db
      .prepare('SELECT value, updated_at FROM oauthkit_credentials WHERE key = ?')
      .get('user-1') as { value: unknown; updated_at: unknown };
    assert.equal(typeof row.value, 'string');
    assert.match(row.value as string, /"v":1/);
    const json = JSON.parse(row.value as string) as Record<string, unknown>;
    assert.equal(json['v'], 1);
    assert.equal(json['access_token'], 'ya29.secret-access-1');
    assert.equal('_class' in json, false);
    assert.equal('_module' in json, false);
    assert.equal(typeof row.updated_at, 'number');
    assert.ok((row.updated_at as number) >= before && (row.updated_at as number) <= after);
  });

  it('get() rejects with CredentialsInvalidError for a garbage row; other keys keep working', async () => {
    const store = createSqliteStore({ database: db });
    await store.put('user-1', creds('1'));
    await store.put('user-2', creds('2'));
    db.prepare('UPDATE oauthkit_credentials SET value = ? WHERE key = ?').run(
      '{"v":1,"acc',
      'user-1',
    );
    await assert.rejects(() => store.get('user-1'), CredentialsInvalidError);
    assert.equal((await store.get('user-2'))?.accessToken, 'ya29.secret-access-2');
    await store.put('user-3', creds('3'));
    assert.equal((await store.get('user-3'))?.accessToken, 'ya29.secret-access-3');
    // A garbage row can be overwritten by a fresh grant.
    await store.put('user-1', creds('1b'));
    assert.equal((await store.get('user-1'))?.accessToken, 'ya29.secret-access-1b');
  });

  it('get() rejects with CredentialsInvalidError for a row whose value is not text', async () => {
    const store = createSqliteStore({ database: db });
    await store.get('user-1');
    db.prepare('INSERT INTO oauthkit_credentials VALUES (?, ?, ?)').run(
      'user-1',
      Buffer.from([0, 1]),
      0,
    );
    await assert.rejects(() => store.get('user-1'), CredentialsInvalidError);
  });

  it('reads a row of oauth2client JSON, as copied from the Python library', async () => {
    const store = createSqliteStore({ database: db });
    await store.get('user-1');
    const oauth2client = JSON.stringify({
      access_token: 'ya29.from-python',
      refresh_token: '1//from-python',
      token_expiry: '2031-01-01T00:00:00Z',
      token_response: { scope: 'openid email', token_type: 'Bearer' },
      invalid: false,
      _class: 'OAuth2Credentials',
      _module: 'oauth2client.client',
    });
    db.prepare('INSERT INTO oauthkit_credentials VALUES (?, ?, ?)').run('user-1', oauth2client, 0);
    const got = await store.get('user-1');
    assert.equal(got?.refreshToken, '1//from-python');
    assert.equal(got?.expiresAt, Date.UTC(2031, 0, 1));
    assert.deepEqual(got?.scopes, ['email', 'openid']);
  });
});

describe('sqlite store with a failing driver', () => {
  /** A database whose statements all fail the way a full or broken disk makes them fail. */
  function failingDatabase(failure: Error): SqliteDatabase & { execs: number } {
    const statement: SqliteStatement = {
      run() {
        throw failure;
      },
      get() {
        throw failure;
      },
    };
    return {
      execs: 0,
      prepare: () => statement,
      exec() {
        this.execs++;
      },
    };
  }

  /** Everything an error would show in a log line: message, stack and enumerable fields. */
  const shown = (err: unknown) =>
    `${(err as Error).message}\n${(err as Error).stack}\n${JSON.stringify(err)}`;

  it('put() rejects with StoreError, the driver error as cause, and no token in sight', async () => {
    const failure = Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR' });
    const store = createSqliteStore({ database: failingDatabase(failure) });
    const err: unknown = await store.put('user-1', creds('1')).then(
      () => assert.fail('put() resolved'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof StoreError);
    assert.equal(err.code, 'store_failed');
    assert.equal(err.cause, failure);
    assert.doesNotMatch(shown(err), /secret|ya29|1\/\//);
  });

  it('get() and delete() reject with StoreError and the driver error as cause', async () => {
    const failure = new Error('database disk image is malformed');
    const store = createSqliteStore({ database: failingDatabase(failure) });
    const isFailure = (err: unknown) => err instanceof StoreError && err.cause === failure;
    await assert.rejects(() => store.get('user-1'), isFailure);
    await assert.rejects(() => store.delete('user-1'), isFailure);
  });

  it('a failure to create the table rejects with StoreError, and the next call tries again', async () => {
    const failure = new Error('attempt to write a readonly database');
    let fail = true;
    const memory = new Database(':memory:');
    try {
      const store = createSqliteStore({
        database: {
          memory: true,
          prepare: (sql) => memory.prepare(sql),
          exec(sql) {
            if (fail) throw failure;
            return memory.exec(sql);
          },
        },
      });
      await assert.rejects(
        () => store.put('user-1', creds('1')),
        (err: unknown) => err instanceof StoreError && err.cause === failure,
      );
      fail = false;
      await store.put('user-1', creds('1'));
      assert.equal((await store.get('user-1'))?.accessToken, 'ya29.secret-access-1');
    } finally {
      memory.close();
    }
  });
});
