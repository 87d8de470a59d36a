import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'libsql';
import {
  Credentials,
  GrantRevokedError,
  InsufficientScopeError,
  OriginNotAllowedError,
  ReauthRequiredError,
  TokenManager,
  TokenRequestError,
  TransientError,
  createAuthorizedFetch,
  type CredentialStore,
} from '../src/index.js';
import { createMemoryStore } from '../src/storage/memory.js';
import { createSqliteStore } from '../src/storage/sqlite.js';
import { startTestApi, type TestApi } from './support/api.js';
import { hang, to } from './support/faults.js';
import { setupOAuth, type OAuthSetup } from './support/oauth.js';

const KEY = 'user-1';

/** Stored credentials whose access token has expired (the refresh token is real). */
const expired = (c: Credentials) => c.with({ expiresAt: Date.now() - 1000 });

describe('authorized fetch and TokenManager against oidc-provider', () => {
  let t: OAuthSetup;
  let api: TestApi;
  let store: CredentialStore;
  let tokens: TokenManager;
  before(async () => {
    t = await setupOAuth();
    api = await startTestApi(t.provider);
  });
  after(async () => {
    await api.close();
    await t.close();
  });
  beforeEach(() => {
    store = createMemoryStore();
    tokens = new TokenManager({ client: t.client, store });
    api.seen.length = 0;
    t.fetch.fault = undefined;
  });

  it('sends the stored access token as a Bearer header, and reads the store once', async () => {
    const creds = await t.login('ada');
    await store.put(KEY, creds);
    let reads = 0;
    const counted: CredentialStore = { ...store, get: (k) => (reads++, store.get(k)) };
    const http = createAuthorizedFetch({
      tokens: new TokenManager({ client: t.client, store: counted }),
      key: KEY,
    });
    t.provider.resetCounts();
    for (let i = 0; i < 3; i++) {
      const res = await http(`${api.origin}/echo`);
      assert.equal(res.status, 200);
      assert.equal(((await res.json()) as { sub: string }).sub, 'ada');
    }
    assert.deepEqual(api.seen, [creds.accessToken, creds.accessToken, creds.accessToken]);
    assert.equal(t.provider.counts.token, 0);
    assert.equal(reads, 1);
  });

  it('refreshes an expired access token before the call and saves it', async () => {
    const creds = await t.login('ada');
    await store.put(KEY, expired(creds));
    t.provider.resetCounts();
    const http = createAuthorizedFetch({ tokens, key: KEY });
    const res = await http(`${api.origin}/echo`);
    assert.equal(res.status, 200);
    assert.equal(t.provider.counts.token, 1);
    const saved = await store.get(KEY);
    assert.notEqual(saved?.accessToken, creds.accessToken);
    assert.equal(api.seen[0], saved?.accessToken);
    assert.equal(saved?.refreshToken, creds.refreshToken);
    assert.equal(saved?.isExpired(), false);
  });

  it('answers a 401 with one refresh and one retry, re-sending the body', async () => {
    const creds = await t.login('ada');
    // An access token the API does not know but we think valid (revoked early, say).
    await store.put(KEY, creds.with({ accessToken: 'stale-token' }));
    t.provider.resetCounts();
    const http = createAuthorizedFetch({ tokens, key: KEY });
    const res = await http(`${api.origin}/echo`, { method: 'POST', body: 'hello body' });
    assert.equal(res.status, 200);
    const out = (await res.json()) as { body: string; method: string };
    assert.equal(out.body, 'hello body');
    assert.equal(out.method, 'POST');
    assert.equal(t.provider.counts.token, 1);
    assert.equal(api.seen.length, 2);
    assert.equal(api.seen[0], 'stale-token');
    assert.equal(api.seen[1], (await store.get(KEY))?.accessToken);
  });

  it('retries a 401 only once: a second 401 is returned to the caller', async () => {
    const creds = await t.login('ada');
    await store.put(KEY, creds);
    const http = createAuthorizedFetch({ tokens, key: KEY });
    t.provider.resetCounts();
    const res = await http(`${api.origin}/deny`);
    assert.equal(res.status, 401);
    assert.equal(api.seen.length, 2, 'the first try and one retry');
    assert.equal(t.provider.counts.token, 1, 'one refresh');
    assert.notEqual(api.seen[1], api.seen[0]);
  });

  it('a 403 with error="insufficient_scope" raises InsufficientScopeError naming the scope', async () => {
    await store.put(KEY, await t.login('ada'));
    const http = createAuthorizedFetch({ tokens, key: KEY });
    await assert.rejects(http(`${api.origin}/write`), (err: unknown) => {
      assert.ok(err instanceof InsufficientScopeError);
      assert.equal(err.status, 403);
      assert.equal(err.error_description, 'api:write');
      return true;
    });
    assert.equal((await http(`${api.origin}/echo`)).status, 200, 'other calls are unaffected');
  });

  it('1,000 concurrent calls with an expired token cause exactly one token request', async () => {
    const creds = await t.login('ada');
    await store.put(KEY, expired(creds));
    const http = createAuthorizedFetch({ tokens, key: KEY });
    t.provider.resetCounts();
    const results = await Promise.all(
      Array.from({ length: 1000 }, () =>
        http(`${api.origin}/echo`).then((r) => (r.body?.cancel(), r.status)),
      ),
    );
    assert.equal(t.provider.counts.token, 1);
    assert.ok(results.every((s) => s === 200));
    const fresh = await store.get(KEY);
    assert.notEqual(fresh?.accessToken, creds.accessToken);
    assert.equal(api.seen.length, 1000);
    assert.ok(
      api.seen.every((tok) => tok === fresh?.accessToken),
      'every call carried the new token',
    );
  });

  it('refuses to send the token outside allowedOrigins, before sending anything', async () => {
    await store.put(KEY, await t.login('ada'));
    const http = createAuthorizedFetch({ tokens, key: KEY, allowedOrigins: [api.origin] });
    assert.equal((await http(`${api.origin}/echo`)).status, 200);
    await assert.rejects(http('http://127.0.0.2:9/echo'), OriginNotAllowedError);
    assert.equal(api.seen.length, 1);
  });

  it('invalid_grant marks the stored credentials invalid and raises GrantRevokedError', async () => {
    await store.put(KEY, expired(await t.login('grace')));
    await t.provider.revokeAllFor('grace');
    const http = createAuthorizedFetch({ tokens, key: KEY });
    await assert.rejects(http(`${api.origin}/echo`), GrantRevokedError);
    const saved = await store.get(KEY);
    assert.equal(saved?.invalid, true);
    assert.ok(saved?.refreshToken, 'kept for the record, not erased');
    assert.equal(tokens.isUsable(saved), false);
    t.provider.resetCounts();
    await assert.rejects(http(`${api.origin}/echo`), GrantRevokedError);
    assert.equal(t.provider.counts.token, 0, 'an invalid grant is not tried again');
  });

  it('an expired token and no refresh token asks for re-authorization', async () => {
    const creds = await t.login('ada');
    await store.put(
      KEY,
      new Credentials({ accessToken: creds.accessToken, expiresAt: Date.now() - 1 }),
    );
    await assert.rejects(
      createAuthorizedFetch({ tokens, key: KEY })(`${api.origin}/echo`),
      ReauthRequiredError,
    );
  });

  describe('faults at the token endpoint never mark or lose a credential', () => {
    const faults: Array<
      [
        string,
        (r: Request) => Response | Promise<Response> | undefined,
        new (...a: never[]) => Error,
      ]
    > = [
      ['a 500', () => new Response('oops', { status: 500 }), TransientError],
      [
        'a 503 with an OAuth error body',
        () => Response.json({ error: 'temporarily_unavailable' }, { status: 503 }),
        TransientError,
      ],
      ['a timeout', (r) => hang(r), TransientError],
      [
        'HTML instead of JSON',
        () =>
          new Response('<html>proxy error</html>', {
            status: 200,
            headers: { 'content-type': 'text/html' },
          }),
        TransientError,
      ],
      ['200 {}', () => Response.json({}), TransientError],
      [
        '200 {"error":"invalid_grant"}',
        () => Response.json({ error: 'invalid_grant' }),
        TransientError,
      ],
      [
        '400 invalid_client',
        () => Response.json({ error: 'invalid_client' }, { status: 400 }),
        TokenRequestError,
      ],
    ];
    for (const [name, answer, type] of faults) {
      it(`${name} → ${type.name}, stored credentials unchanged`, async () => {
        const creds = expired(await t.login('ada'));
        await store.put(KEY, creds);
        const before = JSON.stringify(await store.get(KEY));
        t.fetch.fault = (r) => (to('/token')(r) ? answer(r) : undefined);
        try {
          await assert.rejects(
            createAuthorizedFetch({ tokens, key: KEY })(`${api.origin}/echo`),
            (err: unknown) => {
              assert.ok(err instanceof type, `expected ${type.name}, got ${String(err)}`);
              assert.ok(!String((err as Error).message).includes(creds.refreshToken!));
              assert.ok(!JSON.stringify(err).includes(creds.refreshToken!));
              return true;
            },
          );
        } finally {
          t.fetch.fault = undefined;
        }
        assert.equal(JSON.stringify(await store.get(KEY)), before);
        assert.equal(t.fetch.injected > 0, true);
        // The grant survives: the next call works.
        assert.equal(
          (await createAuthorizedFetch({ tokens, key: KEY })(`${api.origin}/echo`)).status,
          200,
        );
      });
    }
  });

  it('revoke() revokes at the provider and only then deletes the stored credentials', async () => {
    await store.put(KEY, await t.login('ada'));
    t.fetch.fault = (r) => (to('/revocation')(r) ? new Response('', { status: 502 }) : undefined);
    await assert.rejects(tokens.revoke(KEY));
    assert.ok(await store.get(KEY), 'kept when revocation failed');
    t.fetch.fault = undefined;
    const stored = (await store.get(KEY))!;
    assert.equal(await tokens.revoke(KEY), true);
    assert.equal(await store.get(KEY), undefined);
    await assert.rejects(t.client.refresh(stored), GrantRevokedError);
    assert.equal(await tokens.revoke(KEY), false);
  });
});

describe('TokenManager with a rotating provider', () => {
  let t: OAuthSetup;
  let api: TestApi;
  before(async () => {
    t = await setupOAuth({ rotateRefreshToken: true });
    api = await startTestApi(t.provider);
  });
  after(async () => {
    await api.close();
    await t.close();
  });

  it('saves every rotated refresh token: 20 rounds of 50 concurrent calls never lose the grant', async () => {
    const store = createMemoryStore();
    const tokens = new TokenManager({ client: t.client, store });
    await store.put(KEY, expired(await t.login('ada')));
    t.provider.resetCounts();
    for (let round = 0; round < 20; round++) {
      const http = createAuthorizedFetch({ tokens, key: KEY });
      const statuses = await Promise.all(
        Array.from({ length: 50 }, () =>
          http(`${api.origin}/echo`).then((r) => (r.body?.cancel(), r.status)),
        ),
      );
      assert.ok(statuses.every((s) => s === 200));
      await store.put(KEY, expired((await store.get(KEY))!));
    }
    assert.equal(t.provider.counts.token, 20, 'one refresh per round');
    const last = (await store.get(KEY))!;
    assert.ok((await t.client.refresh(last)).accessToken, 'the stored refresh token still works');
  });
});

describe('oauth2client JSON in a store', () => {
  let t: OAuthSetup;
  before(async () => {
    t = await setupOAuth();
  });
  after(() => t.close());

  it('a record in its exact format loads, refreshes, and is saved back in oauthkit format', async () => {
    const real = await t.login('ada');
    const db = new Database(':memory:');
    const store = createSqliteStore({ database: db });
    await store.put('warm-up', real); // creates the table
    const legacy = {
      access_token: real.accessToken,
      client_id: 'test-client',
      client_secret: 'test-secret',
      refresh_token: real.refreshToken,
      token_expiry: '2020-01-01T00:00:00Z',
      token_uri: `${t.provider.issuer}/token`,
      user_agent: null,
      revoke_uri: `${t.provider.issuer}/token/revocation`,
      id_token: real.idTokenClaims,
      id_token_jwt: real.idToken,
      token_response: {
        access_token: real.accessToken,
        expires_in: 3600,
        scope: 'openid email api:read',
        token_type: 'Bearer',
      },
      scopes: ['openid', 'email', 'api:read'],
      token_info_uri: null,
      invalid: false,
      _class: 'OAuth2Credentials',
      _module: 'oauth2client.client',
    };
    db.prepare('INSERT INTO oauthkit_credentials (key, value, updated_at) VALUES (?, ?, ?)').run(
      'legacy',
      JSON.stringify(legacy),
      Date.now(),
    );
    const tokens = new TokenManager({ client: t.client, store });
    const fresh = await tokens.getFresh('legacy');
    assert.notEqual(fresh.accessToken, real.accessToken);
    assert.equal(fresh.refreshToken, real.refreshToken);
    assert.deepEqual(fresh.subject, real.subject);
    const row = db
      .prepare('SELECT value FROM oauthkit_credentials WHERE key = ?')
      .get('legacy') as { value: string };
    const saved = JSON.parse(row.value);
    assert.equal(saved.v, 1);
    assert.equal(saved._class, undefined);
    assert.equal(saved.client_secret, undefined);
    assert.equal(saved.access_token, fresh.accessToken);
    db.close();
  });
});
