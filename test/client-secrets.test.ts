import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClientSecretsError, parseClientSecrets } from '../src/index.js';
import { loadClientSecrets } from '../src/adapters/node.js';

const web = {
  client_id: '123.apps.googleusercontent.com',
  client_secret: 'shh',
  redirect_uris: ['https://app.example/oauth2callback'],
  auth_uri: 'https://accounts.google.com/o/oauth2/auth',
  token_uri: 'https://oauth2.googleapis.com/token',
};

function fails(input: unknown, field: string | undefined, message: RegExp, source?: string) {
  assert.throws(
    () => parseClientSecrets(input, source),
    (err: unknown) => {
      assert.ok(err instanceof ClientSecretsError, 'a ClientSecretsError');
      assert.equal(err.code, 'client_secrets_invalid');
      assert.equal(err.field, field);
      assert.match(err.message, message);
      return true;
    },
  );
}

describe('parseClientSecrets', () => {
  it('reads the web format from an object and from a string', () => {
    for (const input of [{ web }, JSON.stringify({ web })]) {
      const s = parseClientSecrets(input);
      assert.equal(s.type, 'web');
      assert.equal(s.clientId, web.client_id);
      assert.equal(s.clientSecret, 'shh');
      assert.deepEqual(s.redirectUris, web.redirect_uris);
      assert.equal(s.tokenUri, web.token_uri);
      assert.equal(s.revokeUri, undefined);
    }
  });

  it('reads the installed format and an optional revoke_uri', () => {
    const s = parseClientSecrets({
      installed: { ...web, revoke_uri: 'https://oauth2.googleapis.com/revoke' },
    });
    assert.equal(s.type, 'installed');
    assert.equal(s.revokeUri, 'https://oauth2.googleapis.com/revoke');
  });

  it('names the field that is missing, empty, or not a URL', () => {
    const { client_secret: _omit, ...noSecret } = web;
    fails({ web: noSecret }, 'web.client_secret', /"web.client_secret" is missing/);
    fails({ web: { ...web, client_id: '' } }, 'web.client_id', /non-empty string/);
    fails({ web: { ...web, token_uri: 'not a url' } }, 'web.token_uri', /not a URL/);
    fails({ web: { ...web, redirect_uris: ['ok', 5] } }, 'web.redirect_uris[0]', /not a URL/);
    fails({ web: { ...web, redirect_uris: 'https://x' } }, 'web.redirect_uris', /array/);
  });

  it('detects unfilled placeholders', () => {
    fails(
      { web: { ...web, client_id: '[[INSERT CLIENT ID HERE]]' } },
      'web.client_id',
      /placeholder/,
    );
    fails(
      { web: { ...web, client_secret: '[[INSERT CLIENT SECRET HERE]]' } },
      'web.client_secret',
      /placeholder/,
    );
  });

  it('refuses documents without exactly one web or installed section', () => {
    fails({}, undefined, /found none/);
    fails({ web, installed: web }, undefined, /exactly one/);
    fails({ other: web }, undefined, /"other"/);
    fails('{oops', undefined, /not valid JSON/);
    fails([], undefined, /JSON object/);
  });

  it('names the source in every message', () => {
    fails({}, undefined, /\/etc\/app\/client_secrets.json/, '/etc/app/client_secrets.json');
  });
});

describe('loadClientSecrets (oauthkit/node)', () => {
  it('reads a file, and names the file when it is missing or malformed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'oauthkit-secrets-'));
    try {
      const good = join(dir, 'client_secrets.json');
      writeFileSync(good, JSON.stringify({ web }));
      assert.equal((await loadClientSecrets(good)).clientId, web.client_id);

      const missing = join(dir, 'nope.json');
      await assert.rejects(loadClientSecrets(missing), (err: unknown) => {
        assert.ok(err instanceof ClientSecretsError);
        assert.equal(err.source, missing);
        assert.match(err.message, /does not exist/);
        return true;
      });

      const bad = join(dir, 'bad.json');
      writeFileSync(
        bad,
        JSON.stringify({ web: { ...web, client_id: '[[INSERT CLIENT ID HERE]]' } }),
      );
      await assert.rejects(loadClientSecrets(bad), (err: unknown) => {
        assert.ok(err instanceof ClientSecretsError);
        assert.equal(err.field, 'web.client_id');
        assert.ok(err.message.includes(bad));
        return true;
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
