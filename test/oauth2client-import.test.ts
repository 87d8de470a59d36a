import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Credentials } from '../src/core/credentials.js';
import { TokenManager } from '../src/core/token-manager.js';
import { generateEncryptionKey } from '../src/storage/encryption.js';
import { createMemoryStore } from '../src/storage/memory.js';
import { importOAuth2ClientRows, type OAuth2ClientRow } from '../src/storage/oauth2client.js';
import { createPostgresStore } from '../src/storage/postgres.js';
import { createPool, createSchema } from './support/databases.js';
import { setupOAuth, type OAuthSetup } from './support/oauth.js';

/** A CredentialsModel row as oauth2client's to_json() wrote it, for credentials we hold. */
function pythonRow(key: string, real: Credentials, issuer: string): OAuth2ClientRow {
  return {
    key,
    credentials: JSON.stringify({
      access_token: real.accessToken,
      client_id: 'test-client',
      client_secret: 'test-secret',
      refresh_token: real.refreshToken,
      token_expiry: '2020-01-01T00:00:00Z',
      token_uri: `${issuer}/token`,
      user_agent: null,
      revoke_uri: `${issuer}/token/revocation`,
      id_token: real.idTokenClaims,
      id_token_jwt: real.idToken,
      token_response: {
        access_token: real.accessToken,
        expires_in: 3600,
        scope: 'openid email api:read',
        token_type: 'Bearer',
      },
      scopes: ['openid', 'email', 'api:read', 'api:write'],
      token_info_uri: null,
      invalid: false,
      _class: 'OAuth2Credentials',
      _module: 'oauth2client.client',
    }),
  };
}

describe('importing credentials rows from Python oauth2client', () => {
  let t: OAuthSetup;
  const pool = createPool({ max: 4 });
  before(async () => {
    t = await setupOAuth();
  });
  after(async () => {
    await t.close();
    await pool.end();
  });

  it('imports CredentialsModel rows into an encrypted PostgreSQL store; the grants keep working', async () => {
    const { schema, drop } = await createSchema(pool);
    try {
      const store = createPostgresStore({
        db: pool,
        schema,
        encryptionKeys: [{ id: 'k1', key: generateEncryptionKey() }],
      });
      const ada = await t.login('ada');
      const bob = await t.login('bob');
      async function* exported(): AsyncIterable<OAuth2ClientRow> {
        yield pythonRow('185804764220139124118', ada, t.provider.issuer);
        yield pythonRow('114463525464758402336', bob, t.provider.issuer);
        yield { key: '999', credentials: null };
        yield {
          key: '998',
          credentials: 'gAJjb2F1dGgyY2xpZW50LmNsaWVudApPQXV0aDJDcmVkZW50aWFscwpxACmBcQF9',
        };
        yield { key: '997', credentials: '{"access_token": 1' };
      }
      const report = await importOAuth2ClientRows(exported(), store, {
        mapKey: (key) => `google:${key}`,
      });
      assert.equal(report.imported, 2);
      assert.deepEqual(report.skipped, [{ key: '999', reason: 'empty' }]);
      assert.deepEqual(
        report.failed.map((f) => f.key),
        ['998', '997'],
      );
      assert.match(report.failed[0]!.reason, /pickled/);
      assert.doesNotMatch(JSON.stringify(report), /secret|1\/\/|ya29|eyJ/);

      const stored = await store.get('google:185804764220139124118');
      assert.equal(stored?.refreshToken, ada.refreshToken);
      assert.deepEqual(stored?.scopes, ['api:read', 'email', 'openid'], 'granted, not requested');
      assert.deepEqual(stored?.subject, ada.subject);
      const { rows } = await pool.query(`SELECT value FROM "${schema}".oauthkit_credentials`);
      for (const row of rows) {
        assert.match(row.value, /^enc\.v1\.k1\./);
        assert.doesNotMatch(row.value, /_class|client_secret|test-secret/);
      }

      // The expired token is refreshed with the imported refresh token, as on the next API call.
      const tokens = new TokenManager({ client: t.client, store });
      t.provider.resetCounts();
      const fresh = await tokens.getFresh('google:114463525464758402336');
      assert.equal(t.provider.counts.token, 1);
      assert.notEqual(fresh.accessToken, bob.accessToken);
    } finally {
      await drop();
    }
  });

  it('leaves credentials already in the store alone unless told to overwrite', async () => {
    const store = createMemoryStore();
    const ada = await t.login('ada');
    const newer = ada.with({ accessToken: 'ya29.newer' });
    await store.put('u1', newer);
    const row = pythonRow('u1', ada, t.provider.issuer);
    const first = await importOAuth2ClientRows([row], store);
    assert.deepEqual(first.skipped, [{ key: 'u1', reason: 'exists' }]);
    assert.equal((await store.get('u1'))?.accessToken, 'ya29.newer');
    const second = await importOAuth2ClientRows([row], store, { overwrite: true });
    assert.equal(second.imported, 1);
    assert.equal((await store.get('u1'))?.accessToken, ada.accessToken);
    const again = await importOAuth2ClientRows(
      [row, { key: 'x', credentials: row.credentials }],
      store,
      {
        mapKey: (k) => (k === 'x' ? undefined : k),
      },
    );
    assert.deepEqual(again.skipped, [
      { key: 'u1', reason: 'exists' },
      { key: 'x', reason: 'unmapped' },
    ]);
  });

  it('checks its arguments with TypeErrors naming them', async () => {
    await assert.rejects(
      importOAuth2ClientRows(42 as never, createMemoryStore()),
      (err: unknown) => err instanceof TypeError && /"rows"/.test(err.message),
    );
    await assert.rejects(
      importOAuth2ClientRows([], {} as never),
      (err: unknown) => err instanceof TypeError && /"store"/.test(err.message),
    );
  });
});
