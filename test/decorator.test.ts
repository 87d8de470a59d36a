import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { OAuth2Decorator, Credentials } from '../src/index.node.js';
import { createMemoryStore } from '../src/storage/memory.js';
import { HttpBrowser } from './support/app.js';
import { SECRET, startDecoratorApp, type DecoratorApp } from './support/decorator-app.js';

async function json(visit: { response: Response }): Promise<Record<string, unknown>> {
  return (await visit.response.json()) as Record<string, unknown>;
}

describe('OAuth2Decorator with the built-in session', () => {
  let app: DecoratorApp;
  before(async () => {
    app = await startDecoratorApp();
  });
  after(() => app.close());

  it('oauthRequired: provider round trip, back on the original page with its query, handler output', async () => {
    const browser = new HttpBrowser(app.provider, 'alice');
    const first = await browser.visit(`${app.origin}/tasks?list=work&x=1`);
    assert.equal(first.response.status, 200);
    assert.equal(first.providerVisits, 1);
    assert.equal(first.url.href, `${app.origin}/tasks?list=work&x=1`);
    const body = await json(first);
    assert.equal(body['sub'], 'alice', 'decorator.http() called the API as alice');
    assert.equal(body['user'], 'alice');
    assert.equal(body['query'], '?list=work&x=1');
    assert.ok(first.history.some((u) => u.pathname === '/oauth2callback'));

    app.provider.resetCounts();
    const second = await browser.visit(`${app.origin}/tasks`);
    assert.equal(second.response.status, 200);
    assert.equal(second.providerVisits, 0);
    assert.equal(app.provider.counts.token, 0);
  });

  it('oauthAware: the handler always runs; hasCredentials() and authorizeUrl() before and after', async () => {
    const browser = new HttpBrowser(app.provider, 'bob');
    const before = await browser.visit(`${app.origin}/?tab=1`);
    const b = await json(before);
    assert.equal(before.providerVisits, 0);
    assert.equal(b['has'], false);
    const url = new URL(String(b['url']), app.origin);
    assert.equal(url.pathname, app.decorator.startPath);
    assert.equal(url.searchParams.get('return_to'), '/?tab=1');

    const authorized = await browser.visit(url);
    assert.equal(authorized.providerVisits, 1);
    assert.equal(authorized.url.href, `${app.origin}/?tab=1`);
    assert.equal((await json(authorized))['has'], true);
  });

  it('the callback answers 303 with no-store and no-referrer, and sets a new session on every sign-in', async () => {
    const browser = new HttpBrowser(app.provider, 'carol');
    const start = await browser.request(`${app.origin}/tasks`);
    assert.equal(start.status, 302);
    const flowCookie = start.headers.getSetCookie().find((c) => c.startsWith('oauthkit-flow-'));
    assert.ok(flowCookie);
    assert.match(flowCookie, /HttpOnly/);
    assert.match(flowCookie, /SameSite=Lax/);
    assert.match(flowCookie, /Path=\//);
    assert.doesNotMatch(flowCookie, /Domain/i);
    const callback = await app.provider.authorize(start.headers.get('location')!, {
      login: 'carol',
      jar: browser.providerJar,
    });
    const done = await browser.request(callback);
    assert.equal(done.status, 303);
    assert.equal(done.headers.get('location'), '/tasks');
    assert.equal(done.headers.get('cache-control'), 'no-store');
    assert.equal(done.headers.get('referrer-policy'), 'no-referrer');
    const cookies = done.headers.getSetCookie();
    const session1 = cookies.find((c) => c.startsWith('oauthkit-session='));
    assert.ok(session1, 'a session cookie is set');
    assert.ok(
      cookies.some((c) => c.startsWith('oauthkit-flow-') && /Max-Age=0/.test(c)),
      'the flow cookie is cleared',
    );

    // Signing in again (a new flow) gives a new session value.
    const again = await browser.request(`${app.origin}${app.decorator.startPath}?return_to=/tasks`);
    const cb2 = await app.provider.authorize(again.headers.get('location')!, {
      login: 'carol',
      jar: browser.providerJar,
    });
    const done2 = await browser.request(cb2);
    const session2 = done2.headers.getSetCookie().find((c) => c.startsWith('oauthkit-session='));
    assert.ok(session2);
    assert.notEqual(session2.split(';')[0], session1.split(';')[0]);
  });

  it('consent denied: a clear 403 page, nothing stored, the flow cookie cleared', async () => {
    const browser = new HttpBrowser(app.provider, 'dave');
    const start = await browser.request(`${app.origin}/tasks`);
    const callback = await app.provider.authorize(start.headers.get('location')!, {
      login: 'dave',
      consent: false,
      jar: browser.providerJar,
    });
    app.provider.resetCounts();
    const res = await browser.request(callback);
    assert.equal(res.status, 403);
    const html = await res.text();
    assert.match(html, /Access was not granted/);
    assert.match(html, /access_denied/);
    assert.match(html, /href="\/tasks"/, 'a way to try again');
    assert.equal(app.provider.counts.token, 0);
    assert.equal(await app.store.get(`oidc:${app.provider.issuer}#dave`), undefined);
    assert.ok(
      res.headers.getSetCookie().some((c) => c.startsWith('oauthkit-flow-') && /Max-Age=0/.test(c)),
    );
  });

  it('a grant revoked at the provider sends the next visit through consent again', async () => {
    const browser = new HttpBrowser(app.provider, 'erin');
    assert.equal((await browser.visit(`${app.origin}/tasks`)).providerVisits, 1);
    await app.provider.revokeAllFor('erin');
    app.api.forget();
    const again = await browser.visit(`${app.origin}/tasks`);
    assert.equal(again.providerVisits, 1, 'back through the provider');
    assert.equal(again.response.status, 200);
    assert.equal((await json(again))['sub'], 'erin');
    const stored = await app.store.get(`oidc:${app.provider.issuer}#erin`);
    assert.equal(stored?.invalid, false, 'the new grant replaced the revoked one');
  });

  it('a route that needs an extra scope asks for it and keeps the scopes granted before', async () => {
    const browser = new HttpBrowser(app.provider, 'frank');
    await browser.visit(`${app.origin}/tasks`);
    const key = `oidc:${app.provider.issuer}#frank`;
    const before = await app.store.get(key);
    assert.equal(before?.hasScopes(['api:write']), false);
    const start = await browser.request(`${app.origin}/write`);
    assert.equal(start.status, 302);
    const auth = new URL(start.headers.get('location')!);
    const asked = auth.searchParams.get('scope')!.split(' ');
    assert.ok(
      asked.includes('api:write') && asked.includes('api:read') && asked.includes('openid'),
    );
    assert.equal(auth.searchParams.get('include_granted_scopes'), 'true');
    assert.equal(
      auth.searchParams.get('prompt'),
      null,
      'no forced consent while a refresh token is stored',
    );
    const done = await browser.visit(start.headers.get('location')!);
    assert.equal(done.response.status, 200);
    const after = await app.store.get(key);
    assert.ok(after?.hasScopes(['openid', 'api:read', 'api:write']));
    assert.deepEqual((await json(done))['scopes'], after?.scopes);
  });

  it('asks for prompt=consent when no refresh token is stored', async () => {
    const browser = new HttpBrowser(app.provider, 'gina');
    const start = await browser.request(`${app.origin}/tasks`);
    assert.equal(new URL(start.headers.get('location')!).searchParams.get('prompt'), 'consent');
  });

  it('other exceptions from the handler propagate unchanged', async () => {
    const browser = new HttpBrowser(app.provider, 'hank');
    await browser.visit(`${app.origin}/tasks`);
    const serialized = app.decorator.oauthAware(async (_req, oauth) => {
      assert.ok(oauth.credentials?.accessToken, 'the handler sees the credentials');
      return new Response(JSON.stringify(oauth));
    });
    const text = await (
      await serialized(
        new Request(`${app.origin}/`, { headers: { cookie: browser.jar.header(app.origin)! } }),
      )
    ).text();
    assert.doesNotMatch(text, /access_token|refresh_token/, 'a serialized context holds no token');
    const boom = app.decorator.oauthRequired(async () => {
      throw new RangeError('boom');
    });
    const request = new Request(`${app.origin}/boom`, {
      headers: { cookie: browser.jar.header(app.origin)! },
    });
    await assert.rejects(
      boom(request),
      (err: unknown) => err instanceof RangeError && err.message === 'boom',
    );
  });

  it('disconnect revokes at the provider and deletes the stored credentials', async () => {
    const browser = new HttpBrowser(app.provider, 'ivy');
    await browser.visit(`${app.origin}/tasks`);
    const key = `oidc:${app.provider.issuer}#ivy`;
    const stored = (await app.store.get(key))!;
    const res = await browser.visit(`${app.origin}/disconnect`);
    assert.equal((await json(res))['revoked'], true);
    assert.equal(await app.store.get(key), undefined);
    assert.equal(app.provider.counts.revocation > 0, true);
    await assert.rejects(
      fetch(`${app.provider.issuer}/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${btoa('test-client:test-secret')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: stored.refreshToken!,
        }),
      }).then(async (r) => {
        if (r.status !== 200)
          throw new Error(String(((await r.json()) as { error: string }).error));
      }),
      /invalid_grant/,
    );
  });

  it('reuses usable credentials for cacheTtlMs instead of reading the store on every request', async () => {
    const browser = new HttpBrowser(app.provider, 'uma');
    await browser.visit(`${app.origin}/`);
    await browser.visit(`${app.origin}${app.decorator.startPath}?return_to=/`);
    const original = app.store.get.bind(app.store);
    let reads = 0;
    app.store.get = (k: string) => (reads++, original(k));
    try {
      for (let i = 0; i < 5; i++)
        assert.equal((await json(await browser.visit(`${app.origin}/`)))['has'], true);
      assert.ok(reads <= 1, `${reads} store reads for 5 requests`);
    } finally {
      app.store.get = original;
    }
  });

  it('an API answering 403 insufficient_scope sends the user to consent for that scope', async () => {
    const browser = new HttpBrowser(app.provider, 'vera');
    await browser.visit(`${app.origin}/tasks`);
    const start = await browser.request(`${app.origin}/api-write`);
    assert.equal(start.status, 302, 'the handler’s InsufficientScopeError became a redirect');
    const asked = new URL(start.headers.get('location')!).searchParams.get('scope')!.split(' ');
    assert.ok(asked.includes('api:write') && asked.includes('api:read'), asked.join(' '));
    const done = await browser.visit(start.headers.get('location')!);
    const body = await json(done);
    assert.equal(body['status'], 200);
    assert.ok((body['scopes'] as string[]).includes('api:write'));
  });

  it('a request target starting with // stays a path on the configured origin', async () => {
    const { request } = await import('node:http');
    const url = new URL(app.origin);
    const body = await new Promise<string>((resolve, reject) => {
      request({ host: url.hostname, port: url.port, path: '//evil.example/where' }, (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve(text));
      })
        .on('error', reject)
        .end();
    });
    assert.equal(JSON.parse(body).url, `${app.origin}//evil.example/where`);
  });

  it('decorator.http() outside a decorated handler says so', () => {
    assert.throws(() => app.decorator.http(), /outside a handler wrapped by oauthRequired/);
  });

  it('two concurrent requests of different users never see each other’s credentials', async () => {
    const users = ['kim', 'lee', 'max', 'ned'];
    const browsers = users.map((u) => new HttpBrowser(app.provider, u));
    await Promise.all(browsers.map((b) => b.visit(`${app.origin}/tasks`)));
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        browsers[i % users.length]!.visit(`${app.origin}/tasks?i=${i}`).then(json),
      ),
    );
    results.forEach((r, i) => {
      assert.equal(r['sub'], users[i % users.length], `request ${i} saw its own user's token`);
      assert.equal(r['user'], users[i % users.length]);
    });
  });
});

describe('OAuth2Decorator as a TC39 method decorator', () => {
  let app: DecoratorApp;
  before(async () => {
    app = await startDecoratorApp();
  });
  after(() => app.close());

  it('@decorator.oauthRequired on a class method: redirect first, then the method runs with http()', async () => {
    const decorator = app.decorator;
    const api = app.api.origin;
    class TasksHandler {
      greeting = 'hello';
      @decorator.oauthRequired
      async get(request: Request): Promise<Response> {
        const res = await decorator.http()(`${api}/echo`);
        const { sub } = (await res.json()) as { sub: string };
        return new Response(`${this.greeting} ${sub} ${new URL(request.url).pathname}`);
      }
      @decorator.oauthAware
      async aware(_request: Request): Promise<Response> {
        return new Response(String(decorator.hasCredentials()));
      }
      @decorator.oauthRequired({ scopes: ['api:write'] })
      async write(_request: Request): Promise<Response> {
        return new Response(decorator.credentials()!.scopes.join(' '));
      }
    }
    const handler = new TasksHandler();
    const logout = await handler.get(new Request(`${app.origin}/tasks`));
    assert.equal(logout.status, 302);
    assert.equal(await (await handler.aware(new Request(`${app.origin}/`))).text(), 'false');

    const browser = new HttpBrowser(app.provider, 'olga');
    await browser.visit(`${app.origin}/tasks`);
    const cookie = browser.jar.header(app.origin)!;
    const res = await handler.get(new Request(`${app.origin}/x`, { headers: { cookie } }));
    assert.equal(await res.text(), 'hello olga /x');
    assert.equal(
      await (await handler.aware(new Request(`${app.origin}/`, { headers: { cookie } }))).text(),
      'true',
    );
    assert.equal(
      (await handler.write(new Request(`${app.origin}/`, { headers: { cookie } }))).status,
      302,
      'needs api:write',
    );
  });
});

describe('OAuth2Decorator with the app’s own users', () => {
  let app: DecoratorApp;
  before(async () => {
    app = await startDecoratorApp({ withUser: true });
  });
  after(() => app.close());

  it('sends a visitor with no user to loginUrl with the path to return to', async () => {
    const browser = new HttpBrowser(app.provider);
    const res = await browser.request(`${app.origin}/tasks?a=b`);
    assert.equal(res.status, 302);
    assert.equal(res.headers.get('location'), '/login?return_to=%2Ftasks%3Fa%3Db');
  });

  it('stores the credentials under the app’s user id', async () => {
    const browser = new HttpBrowser(app.provider, 'paul');
    const visit = await browser.visit(`${app.origin}/tasks`, {
      headers: { 'x-user': 'app-user-7' },
    });
    assert.equal(visit.response.status, 200);
    assert.equal((await json(visit))['sub'], 'paul', 'the API saw paul’s grant');
    const stored = await app.store.get('app-user-7');
    assert.ok(stored?.hasScopes(['api:read']));
    assert.equal(stored?.subject, undefined, 'no openid asked for: the app knows its users');
  });

  it('refuses a flow started by user A and completed in user B’s session, before any token request', async () => {
    const browser = new HttpBrowser(app.provider, 'quinn');
    const start = await browser.request(`${app.origin}/tasks`, { headers: { 'x-user': 'user-a' } });
    const callback = await app.provider.authorize(start.headers.get('location')!, {
      login: 'quinn',
      jar: browser.providerJar,
    });
    app.provider.resetCounts();
    const res = await browser.request(callback, { headers: { 'x-user': 'user-b' } });
    assert.equal(res.status, 403);
    assert.equal(app.provider.counts.token, 0);
    assert.equal(await app.store.get('user-a'), undefined);
    assert.equal(await app.store.get('user-b'), undefined);
  });
});

describe('a misconfigured decorator', () => {
  it('serves the configured message with a 500 and logs what to fix, without throwing at import', async () => {
    const logs: string[] = [];
    const decorator = OAuth2Decorator.fromClientSecrets('/nonexistent/client_secrets.json', {
      scopes: ['https://www.googleapis.com/auth/tasks'],
      message: 'Please <configure> client_secrets.json',
      secret: SECRET,
      storage: createMemoryStore(),
      logger: { error: (m: string) => logs.push(m), warn: (m: string) => logs.push(m) },
    });
    const page = decorator.oauthRequired(async () => new Response('never'));
    const res = await page(new Request('https://app.example/tasks'));
    assert.equal(res.status, 500);
    const html = await res.text();
    assert.match(html, /Please &#60;configure&#62; client_secrets.json/);
    assert.ok(
      logs.some((l) => /\/nonexistent\/client_secrets.json does not exist/.test(l)),
      logs.join('\n'),
    );
    await assert.rejects(decorator.ready(), /does not exist/);
  });

  it('names an unfilled placeholder in the log', async () => {
    const logs: string[] = [];
    const decorator = OAuth2Decorator.fromClientSecrets(
      {
        web: {
          client_id: '[[INSERT CLIENT ID HERE]]',
          client_secret: 's',
          redirect_uris: ['https://app.example/oauth2callback'],
          auth_uri: 'https://accounts.google.com/o/oauth2/auth',
          token_uri: 'https://oauth2.googleapis.com/token',
        },
      },
      {
        scopes: ['openid'],
        secret: SECRET,
        storage: createMemoryStore(),
        logger: { error: (m: string) => logs.push(m), warn: () => {} },
      },
    );
    const res = await decorator.callbackHandler()(
      new Request('https://app.example/oauth2callback?state=x'),
    );
    assert.equal(res.status, 500);
    assert.ok(
      logs.some((l) => /web.client_id.*placeholder/.test(l)),
      logs.join('\n'),
    );
  });

  it('a short secret or a missing baseUrl is reported, not thrown', async () => {
    const logs: string[] = [];
    const logger = { error: (m: string) => logs.push(m), warn: () => {} };
    const short = new OAuth2Decorator({
      clientId: 'c',
      scopes: ['openid'],
      secret: 'short',
      baseUrl: 'https://a.example',
      logger,
      storage: createMemoryStore(),
    });
    assert.equal(
      (await short.oauthAware(async () => new Response('x'))(new Request('https://a.example/')))
        .status,
      500,
    );
    const noUrl = new OAuth2Decorator({
      clientId: 'c',
      scopes: ['openid'],
      secret: SECRET,
      logger,
      storage: createMemoryStore(),
    });
    await assert.rejects(noUrl.ready(), /baseUrl/);
    assert.ok(logs.some((l) => /at least 32 characters/.test(l)));
  });

  it('reads a good client_secrets.json and uses its redirect URI', async () => {
    const decorator = OAuth2Decorator.fromClientSecrets(
      {
        web: {
          client_id: '123.apps.googleusercontent.com',
          client_secret: 's',
          redirect_uris: ['https://app.example/other', 'https://app.example/oauth2callback'],
          auth_uri: 'https://accounts.google.com/o/oauth2/auth',
          token_uri: 'https://oauth2.googleapis.com/token',
        },
      },
      {
        scopes: ['https://www.googleapis.com/auth/tasks'],
        secret: SECRET,
        storage: createMemoryStore(),
      },
    );
    await decorator.ready();
    const res = await decorator.oauthRequired(async () => new Response('x'))(
      new Request('https://app.example/t'),
    );
    assert.equal(res.status, 302);
    const url = new URL(res.headers.get('location')!);
    assert.equal(url.origin + url.pathname, 'https://accounts.google.com/o/oauth2/auth');
    assert.equal(url.searchParams.get('client_id'), '123.apps.googleusercontent.com');
    assert.equal(url.searchParams.get('redirect_uri'), 'https://app.example/oauth2callback');
    const cookie = res.headers.getSetCookie()[0]!;
    assert.match(cookie, /^__Host-oauthkit-flow-/);
    assert.match(cookie, /; Secure/);
  });
});

describe('asyncContext: false', () => {
  it('the handler’s oauth argument works; decorator.hasCredentials() says to use it', async () => {
    const decorator = new OAuth2Decorator({
      clientId: 'c',
      scopes: ['openid'],
      baseUrl: 'https://app.example',
      secret: SECRET,
      storage: createMemoryStore(),
      asyncContext: false,
    });
    const page = decorator.oauthAware(async (_request, oauth) => {
      assert.throws(
        () => decorator.hasCredentials(),
        /asyncContext is off: use the handler's oauth argument/,
      );
      return new Response(String(oauth.hasCredentials()));
    });
    assert.equal(await (await page(new Request('https://app.example/'))).text(), 'false');
  });
});

describe('stored credentials that cannot be read', () => {
  let app: DecoratorApp;
  before(async () => {
    app = await startDecoratorApp({ decorator: { cacheTtlMs: 0 } });
  });
  after(() => app.close());

  it('send the user through the flow instead of crashing', async () => {
    const browser = new HttpBrowser(app.provider, 'rita');
    await browser.visit(`${app.origin}/tasks`);
    const key = `oidc:${app.provider.issuer}#rita`;
    const original = app.store.get.bind(app.store);
    let corrupt = true;
    app.store.get = async (k: string) => {
      if (k === key && corrupt) {
        corrupt = false; // the flow's new grant replaces what could not be read
        return Credentials.fromJSON('{"v":1,"expires_at":"garbage"}');
      }
      return original(k);
    };
    try {
      const visit = await browser.visit(`${app.origin}/tasks`);
      assert.equal(visit.providerVisits, 1);
      assert.ok(app.logs.some((l) => /could not be read/.test(l)));
    } finally {
      app.store.get = original;
    }
  });
});
