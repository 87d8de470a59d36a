/**
 * The seed's `CredentialsProperty` with Kysely: credentials as a column of the app's own `users`
 * table, written and read in the app's own typed queries, encrypted and bound to each row's key.
 * The same rows serve oauthkit through the own-table store.
 *
 * Run: node --import tsx examples/kysely-credentials-column.ts   (uses DATABASE_URL)
 */
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { Credentials } from '../src/index.js';
import { createCredentialsColumn } from '../src/storage/credentials-column.js';
import { generateEncryptionKey, type EncryptionKey } from '../src/storage/encryption.js';
import { createPostgresOwnTableStore } from '../src/storage/postgres-own-table.js';

/** The app's users table, as Kysely sees it. */
export interface UsersTable {
  id: string;
  email: string;
  /** oauthkit's credentials column: TEXT, NULL until the user connects their account. */
  google_credentials: string | null;
}

export interface AppDatabase {
  users: UsersTable;
}

/**
 * Writes a user's credentials with Kysely, reads them back with Kysely and through oauthkit's
 * own-table store, and returns what was read.
 *
 * @param pool a pg Pool
 * @param schema where to make the example's `users` table
 * @param encryptionKeys the keys, newest first
 * @returns the access token read each way
 */
export async function runExample(
  pool: pg.Pool,
  schema: string,
  encryptionKeys: EncryptionKey[],
): Promise<{ viaKysely: string | undefined; viaStore: string | undefined; stored: string | null }> {
  await pool.query(
    `CREATE TABLE "${schema}".users (id TEXT PRIMARY KEY, email TEXT NOT NULL, google_credentials TEXT)`,
  );
  const db = new Kysely<AppDatabase>({ dialect: new PostgresDialect({ pool }) }).withSchema(schema);
  const column = createCredentialsColumn({ encryptionKeys });

  const credentials = new Credentials({
    accessToken: 'ya29.example-access-token',
    refreshToken: '1//example-refresh-token',
    expiresAt: Date.now() + 3600_000,
    scopes: ['https://www.googleapis.com/auth/tasks'],
  });
  await db
    .insertInto('users')
    .values({
      id: 'user-42',
      email: 'ada@example.com',
      google_credentials: await column.toColumn('user-42', credentials),
    })
    .execute();

  const row = await db
    .selectFrom('users')
    .select(['id', 'google_credentials'])
    .where('id', '=', 'user-42')
    .executeTakeFirstOrThrow();
  const viaKysely = (await column.fromColumn(row.id, row.google_credentials))?.accessToken;

  const store = createPostgresOwnTableStore({
    db: pool,
    schema,
    table: 'users',
    keyColumn: 'id',
    credentialsColumn: 'google_credentials',
    encryptionKeys,
  });
  const viaStore = (await store.get('user-42'))?.accessToken;
  return { viaKysely, viaStore, stored: row.google_credentials };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const pool = new pg.Pool({
    connectionString: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  });
  const schema = `oauthkit_example_${Date.now()}`;
  await pool.query(`CREATE SCHEMA "${schema}"`);
  try {
    const out = await runExample(pool, schema, [{ id: 'k1', key: generateEncryptionKey() }]);
    console.log('stored in the column:', `${out.stored?.slice(0, 40)}…`);
    console.log('read with Kysely:    ', out.viaKysely);
    console.log('read by the store:   ', out.viaStore);
  } finally {
    await pool.query(`DROP SCHEMA "${schema}" CASCADE`);
    await pool.end();
  }
}
