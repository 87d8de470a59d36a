import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'libsql';
import { Credentials, openDefaultSqliteStore } from '../src/index.node.js';
import { generateEncryptionKey } from '../src/storage/encryption.js';

describe('the embedded default store', () => {
  const creds = new Credentials({
    accessToken: 'plain-access-token-value',
    refreshToken: 'plain-refresh-token-value',
  });

  for (const encrypted of [false, true]) {
    it(`is a SQLite file${encrypted ? ', encrypted when OAUTHKIT_ENCRYPTION_KEYS is set' : ''}, and closes`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'oauthkit-default-'));
      const before = process.env['OAUTHKIT_ENCRYPTION_KEYS'];
      if (encrypted) {
        process.env['OAUTHKIT_ENCRYPTION_KEYS'] = `k1:${generateEncryptionKey()}`;
      } else delete process.env['OAUTHKIT_ENCRYPTION_KEYS'];
      try {
        const file = join(dir, 'nested', 'oauthkit.sqlite');
        const store = await openDefaultSqliteStore(file);
        await store.put('u', creds);
        assert.equal((await store.get('u'))?.refreshToken, 'plain-refresh-token-value');
        await store.close?.();
        const db = new Database(file);
        const raw = (
          db.prepare('SELECT value FROM oauthkit_credentials').get() as { value: string }
        ).value;
        db.close();
        if (encrypted) assert.doesNotMatch(raw, /plain-(access|refresh)-token-value/);
        else assert.match(raw, /plain-refresh-token-value/);
      } finally {
        if (before === undefined) delete process.env['OAUTHKIT_ENCRYPTION_KEYS'];
        else process.env['OAUTHKIT_ENCRYPTION_KEYS'] = before;
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
