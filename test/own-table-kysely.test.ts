import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Kysely, PostgresDialect } from 'kysely';
import { Credentials } from '../src/core/credentials.js';
import { CredentialsInvalidError } from '../src/core/errors.js';
import { createCredentialsColumn } from '../src/storage/credentials-column.js';
import { generateEncryptionKey } from '../src/storage/encryption.js';
import { createPostgresOwnTableStore } from '../src/storage/postgres-own-table.js';
import { runExample, type AppDatabase } from '../examples/kysely-credentials-column.js';
import { createPool, createSchema } from './support/databases.js';

const pool = createPool({ max: 4 });
after(() => pool.end());
const KEYS = [{ id: 'k1', key: generateEncryptionKey() }];

describe('the credentials codec as a column type, with Kysely', () => {
  it('the example writes with Kysely and reads back both with Kysely and through the own-table store', async () => {
    const { schema, drop } = await createSchema(pool);
    try {
      const out = await runExample(pool, schema, KEYS);
      assert.equal(out.viaKysely, 'ya29.example-access-token');
      assert.equal(out.viaStore, 'ya29.example-access-token');
      assert.match(out.stored!, /^enc\.v1\.k1\./);
      assert.doesNotMatch(out.stored!, /example-(access|refresh)-token/);
    } finally {
      await drop();
    }
  });

  it('a value the store wrote reads back in a Kysely query; another row’s value does not', async () => {
    const { schema, drop } = await createSchema(pool);
    const db = new Kysely<AppDatabase>({ dialect: new PostgresDialect({ pool }) }).withSchema(
      schema,
    );
    try {
      await pool.query(
        `CREATE TABLE "${schema}".users (id TEXT PRIMARY KEY, email TEXT NOT NULL, google_credentials TEXT)`,
      );
      await db
        .insertInto('users')
        .values([
          { id: 'u1', email: 'a@example.com', google_credentials: null },
          { id: 'u2', email: 'b@example.com', google_credentials: null },
        ])
        .execute();
      const store = createPostgresOwnTableStore({
        db: pool,
        schema,
        table: 'users',
        keyColumn: 'id',
        credentialsColumn: 'google_credentials',
        encryptionKeys: KEYS,
      });
      await store.put('u1', new Credentials({ accessToken: 'ya29.u1', refreshToken: '1//u1' }));
      const column = createCredentialsColumn({ encryptionKeys: KEYS });
      const rows = await db
        .selectFrom('users')
        .select(['id', 'google_credentials'])
        .orderBy('id')
        .execute();
      assert.equal(
        (await column.fromColumn(rows[0]!.id, rows[0]!.google_credentials))?.refreshToken,
        '1//u1',
      );
      assert.equal(await column.fromColumn(rows[1]!.id, rows[1]!.google_credentials), undefined);
      await assert.rejects(
        column.fromColumn('u2', rows[0]!.google_credentials),
        CredentialsInvalidError,
      );
      const email = await db
        .selectFrom('users')
        .select('email')
        .where('id', '=', 'u1')
        .executeTakeFirstOrThrow();
      assert.equal(email.email, 'a@example.com');
    } finally {
      await drop();
    }
  });

  it('fromColumn() reads text, parsed JSONB and bytes, and refuses other values', async () => {
    const column = createCredentialsColumn();
    const creds = new Credentials({ accessToken: 'ya29.x' });
    const text = await column.toColumn('u1', creds);
    assert.equal((await column.fromColumn('u1', text))?.accessToken, 'ya29.x');
    assert.equal((await column.fromColumn('u1', JSON.parse(text)))?.accessToken, 'ya29.x');
    assert.equal(
      (await column.fromColumn('u1', new TextEncoder().encode(text)))?.accessToken,
      'ya29.x',
    );
    assert.equal(await column.fromColumn('u1', null), undefined);
    for (const bad of [42, [1], true, new Uint8Array([0xff, 0xfe])]) {
      await assert.rejects(column.fromColumn('u1', bad), CredentialsInvalidError);
    }
  });
});
