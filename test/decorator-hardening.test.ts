import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { InsufficientScopeError, OAuth2Decorator, TokenManager } from '../src/index.node.js';
import { createNodeHandler } from '../src/adapters/node.js';
import { createMemoryStore } from '../src/storage/memory.js';
import { HttpBrowser, listen } from './support/app.js';
import { SECRET, startDecoratorApp, type DecoratorApp } from './support/decorator-app.js';
import { editJson, faultyFetch, to } from './support/faults.js';
import { setupOAuth } from './support/oauth.js';

// What a security review of the decorator found, each pinned by a test.

describe('the decorator with the app’s own users and a provider that sends no refresh token', () => {
  const fetch = faultyFetch();
  let app: DecoratorApp;
  before(async () => {
    app = await startDecoratorApp({ withUser: true, decorator: { fetch } });
  });
  after(() => app.close());

  it('never grafts a stored refresh token onto a grant that may be another account’s', async () => {
    const browser = new HttpBrowser(app.provider, 'g1');
    const headers = { 'x-user': 'app-user-9' };
    await browser.visit(`${app.origin}/tasks`, { headers });
    const first = (await app.store.get('app-user-9'))!;
    assert.ok(first.refreshToken);
    // Incremental consent, signed in at the provider as another account; like Google, the
    // provider sends no new refresh token. Without an ID token nobody can tell the accounts apart.
    fetch.fault = (r) =>
      to('/token')(r) ? editJson(r, ({ refresh_token: _drop, ...rest }) => rest) : undefined;
    try {
      const other = new HttpBrowser(app.provider, 'g2', browser.jar);
      const done = await other.visit(`${app.origin}/write`, { headers });
      assert.equal(done.response.status, 200);
    } finally {
      fetch.fault = undefined;
    }
    const after = (await app.store.get('app-user-9'))!;
    assert.ok(after.hasScopes(['api:write']));
    assert.notEqual(after.refreshToken, first.refreshToken, 'g1’s refresh token was not kept');
  });
});

describe('the decorator with the built-in session', () => {
  const fetch = faultyFetch();
  let app: DecoratorApp;
  before(async () => {
    app = await startDecoratorApp({ decorator: { fetch } });
  });
  after(() => app.close());

  it('a provider that withholds a scope gets a 403 page, not a redirect loop', async () => {
    const browser = new HttpBrowser(app.provider, 'wes');
    fetch.fault = (r) =>
      to('/token')(r) ? editJson(r, (b) => ({ ...b, scope: 'openid' })) : undefined;
    try {
      const visit = await browser.visit(`${app.origin}/tasks`);
      assert.equal(visit.providerVisits, 1);
      assert.equal(visit.response.status, 403);
      const html = await visit.response.text();
      assert.match(html, /did not grant/);
      assert.match(html, /api:read/);
    } finally {
      fetch.fault = undefined;
    }
  });

  it('a newer grant in the store is found even while an older one is cached', async () => {
    const browser = new HttpBrowser(app.provider, 'xia');
    await browser.visit(`${app.origin}/tasks`);
    assert.equal((await browser.visit(`${app.origin}/`)).response.status, 200); // now cached
    const key = `oidc:${app.provider.issuer}#xia`;
    const stored = (await app.store.get(key))!;
    // Another instance finished incremental consent and saved the wider grant.
    await app.store.put(key, stored.with({ scopes: [...stored.scopes, 'api:write'] }));
    const visit = await browser.visit(`${app.origin}/write`);
    assert.equal(visit.providerVisits, 0);
    assert.equal(visit.response.status, 200);
  });

  it('keeps at most three flow cookies, and answers a script’s fetch with 401', async () => {
    const browser = new HttpBrowser(app.provider, 'yan');
    for (let i = 0; i < 6; i++) {
      const res = await browser.request(`${app.origin}/tasks?i=${i}`);
      assert.equal(res.status, 302);
    }
    const flows = (browser.jar.header(app.origin) ?? '')
      .split(';')
      .filter((c) => c.trim().startsWith('oauthkit-flow-'));
    assert.ok(flows.length <= 3, `${flows.length} flow cookies`);
    const xhr = await browser.request(`${app.origin}/tasks`, {
      headers: { 'sec-fetch-dest': 'empty', 'sec-fetch-mode': 'cors' },
    });
    assert.equal(xhr.status, 401);
    assert.equal(xhr.headers.getSetCookie().length, 0);
  });

  it('an API asking for a scope the app never declared does not widen the grant', async () => {
    const request = new Request(`${app.origin}/tasks`);
    const err = new InsufficientScopeError('needs mail', {
      status: 403,
      error: 'insufficient_scope',
      errorDescription: 'https://mail.google.com/',
    });
    assert.equal(await app.decorator.reauthResponse(request, err), undefined);
    assert.ok(app.logs.some((l) => /does not declare/.test(l)));
  });
});

describe('a refresh that overlaps a new grant', () => {
  it('does not write the old grant’s refresh over what the callback saved meanwhile', async () => {
    const t = await setupOAuth();
    try {
      const store = createMemoryStore();
      const tokens = new TokenManager({ client: t.client, store });
      const old = await t.login('ann');
      const newer = await t.login('ann');
      await store.put('k', old.with({ expiresAt: Date.now() - 1000 }));
      t.fetch.fault = (r) => {
        if (!to('/token')(r)) return undefined;
        // The callback of a new grant lands while this refresh is out.
        return store.put('k', newer).then(() => fetch(r));
      };
      const result = await tokens.getFresh('k');
      t.fetch.fault = undefined;
      assert.equal(result.refreshToken, newer.refreshToken);
      assert.equal((await store.get('k'))?.accessToken, newer.accessToken);
    } finally {
      await t.close();
    }
  });
});

describe('configuration and the Node handler', () => {
  it('refuses a loginUrl that leaves the origin', async () => {
    const d = new OAuth2Decorator({
      clientId: 'c',
      scopes: ['openid'],
      baseUrl: 'https://app.example',
      secret: SECRET,
      storage: createMemoryStore(),
      user: () => undefined,
      loginUrl: '//evil.example/login',
      logger: { error: () => {}, warn: () => {} },
    });
    await assert.rejects(d.ready(), /loginUrl/);
  });

  it('createNodeHandler refuses a Host header that would rewrite the path', async () => {
    const server = await listen(createNodeHandler(async (r) => Response.json({ url: r.url })));
    try {
      const url = new URL(server.origin);
      const get = (host: string) =>
        new Promise<{ status: number; body: string }>((resolve, reject) => {
          httpRequest(
            { host: url.hostname, port: url.port, path: '/public?y=1', headers: { host } },
            (res) => {
              let body = '';
              res.on('data', (c) => (body += c));
              res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
            },
          )
            .on('error', reject)
            .end();
        });
      assert.equal((await get('x/admin#')).status, 400);
      const ok = await get('app.example:8080');
      assert.equal(ok.status, 200);
      assert.equal(JSON.parse(ok.body).url, 'http://app.example:8080/public?y=1');
    } finally {
      await server.close();
    }
  });
});
