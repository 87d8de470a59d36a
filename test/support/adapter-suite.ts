import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { HttpBrowser } from './app.js';
import { startAdapterEnv, type AdapterEnv, type AppUnderTest, type Mount } from './adapter-apps.js';

type Json = Record<string, unknown>;

async function json(visit: { response: Response }): Promise<Json> {
  return (await visit.response.json()) as Json;
}

/** The flow cookie a start response set: its name and the `Cookie` header pair. */
function flowCookieOf(response: Response): { name: string; pair: string } {
  const line = response.headers.getSetCookie().find((c) => c.startsWith('oauthkit-flow-'));
  assert.ok(line, 'the start of a flow sets a flow cookie');
  const pair = line.split(';')[0]!;
  return { name: pair.slice(0, pair.indexOf('=')), pair };
}

/** Whether `response` deletes the cookie `name` (Max-Age=0). */
function clears(response: Response | { setCookie: string[] }, name: string): boolean {
  const lines = response instanceof Response ? response.headers.getSetCookie() : response.setCookie;
  return lines.some((c) => c.startsWith(`${name}=;`) && /;\s*Max-Age=0(;|$)/i.test(c));
}

/** The name of the flow cookie the decorator keys by a given state. */
function flowCookieFor(state: string): string {
  return `oauthkit-flow-${state.slice(0, 16)}`;
}

/** A GET over node:http, which (unlike fetch) lets a test set `Host`. */
function rawGet(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: IncomingHttpHeaders; setCookie: string[]; body: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: u.hostname, port: u.port, path: u.pathname + u.search, method: 'GET', headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            setCookie: res.headers['set-cookie'] ?? [],
            body: Buffer.concat(chunks).toString(),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/**
 * The scenarios every framework adapter must pass, through real HTTP against a real
 * oidc-provider: the seed's oauthRequired / oauthAware behaviour, the attacks on the callback,
 * open redirects, escaping, header spoofing, and errors reaching the framework.
 *
 * @param name the adapter's name (the describe block's title)
 * @param mount serves the test app (see `adapter-apps.ts`) through the adapter
 */
export function adapterSuite(name: string, mount: Mount): void {
  describe(`the ${name} adapter`, () => {
    let env: AdapterEnv;
    let app: AppUnderTest;
    let users: AppUnderTest;
    before(async () => {
      env = await startAdapterEnv({ [name]: mount }, { users: true });
      app = env.apps[name]!;
      users = env.userApps[name]!;
    });
    after(() => env.close());

    /** Starts a flow at `path` in `browser` and drives the provider; nothing sent to the app yet. */
    async function pendingCallback(browser: HttpBrowser, path = '/tasks', target = app) {
      const start = await browser.request(`${target.origin}${path}`);
      assert.equal(start.status, 302, 'a flow starts with a redirect to the provider');
      const authUrl = new URL(start.headers.get('location')!);
      assert.equal(authUrl.origin, env.provider.issuer);
      const flow = flowCookieOf(start);
      const callback = await env.provider.authorize(authUrl, {
        login: browser.login,
        jar: browser.providerJar,
      });
      assert.equal(callback.pathname, '/oauth2callback');
      return { authUrl, flow, callback, state: authUrl.searchParams.get('state')! };
    }

    /** What every refused callback must show: 4xx, nothing stored, no session, flow cookie gone. */
    function assertRefused(
      response: Response,
      opts: { target?: AppUnderTest; writesBefore: number; tokenRequests?: number; flow?: string },
    ): void {
      const target = opts.target ?? app;
      assert.ok(response.status >= 400 && response.status < 500, `a 4xx, got ${response.status}`);
      assert.equal(
        env.provider.counts.token,
        opts.tokenRequests ?? 0,
        'token endpoint requests during the refused callback',
      );
      assert.deepEqual(target.store.writes.slice(opts.writesBefore), [], 'nothing stored');
      const cookies = response.headers.getSetCookie();
      assert.ok(
        !cookies.some((c) => c.startsWith('oauthkit-session=') && !/Max-Age=0/.test(c)),
        'no session is set',
      );
      if (opts.flow)
        assert.ok(clears(response, opts.flow), `the flow cookie ${opts.flow} is cleared`);
    }

    // ---- the seed's behaviour ----------------------------------------------------------------

    it('a logged-out visit to a required page goes to the provider and back to the page, query kept, with the handler’s output', async () => {
      const browser = new HttpBrowser(env.provider, 'alice');
      const first = await browser.visit(`${app.origin}/tasks?list=work&x=1`);
      assert.equal(first.response.status, 200);
      assert.equal(first.providerVisits, 1);
      assert.equal(first.url.href, `${app.origin}/tasks?list=work&x=1`);
      assert.ok(first.history.some((u) => u.pathname === '/oauth2callback'));
      const body = await json(first);
      assert.equal(body['sub'], 'alice', 'decorator.http() called the API as alice');
      assert.equal(body['contextSub'], 'alice', 'the framework’s context form did too');
      assert.equal(body['user'], 'alice');
      assert.equal(body['query'], '?list=work&x=1');
      assert.equal(app.store.writes.filter((w) => w === `put ${app.keyOf('alice')}`).length, 1);

      env.provider.resetCounts();
      const second = await browser.visit(`${app.origin}/tasks`);
      assert.equal(second.response.status, 200);
      assert.equal(second.providerVisits, 0, 'no provider round trip the second time');
      assert.equal(env.provider.counts.token, 0);
      assert.equal((await json(second))['sub'], 'alice');
    });

    it('an aware page always runs: hasCredentials() and authorizeUrl() before and after', async () => {
      const browser = new HttpBrowser(env.provider, 'bob');
      const before = await browser.visit(`${app.origin}/?tab=1`);
      assert.equal(before.response.status, 200);
      assert.equal(before.providerVisits, 0);
      const b = await json(before);
      assert.equal(b['has'], false);
      assert.equal(b['contextHas'], false);
      const url = new URL(String(b['url']), app.origin);
      assert.equal(url.pathname, app.decorator.startPath);
      assert.equal(url.searchParams.get('return_to'), '/?tab=1');

      const authorized = await browser.visit(url);
      assert.equal(authorized.providerVisits, 1);
      assert.equal(authorized.url.href, `${app.origin}/?tab=1`);
      const a = await json(authorized);
      assert.equal(a['has'], true);
      assert.equal(a['contextHas'], true);
    });

    it('an aware page with an extra scope links to a flow that grants it', async () => {
      const browser = new HttpBrowser(env.provider, 'bea');
      await browser.visit(`${app.origin}/tasks`);
      const page = await json(await browser.visit(`${app.origin}/connect-write`));
      assert.equal(page['has'], false, 'api:write is not granted yet');
      const url = new URL(String(page['url']), app.origin);
      assert.equal(url.searchParams.get('scope'), 'api:write');
      const done = await browser.visit(url);
      assert.equal(done.response.status, 200, 'the start path accepts the route’s scope');
      assert.equal(done.providerVisits, 1);
      assert.equal(done.url.pathname, '/connect-write');
      assert.equal((await json(done))['has'], true);
    });

    it('consent denied: a clear 403 page, nothing stored, the flow cookie cleared', async () => {
      const browser = new HttpBrowser(env.provider, 'dave');
      const writes = app.store.writes.length;
      env.provider.resetCounts();
      const visit = await browser.visit(`${app.origin}/tasks`, { consent: false });
      assert.equal(visit.response.status, 403);
      assert.equal(visit.url.pathname, '/oauth2callback');
      const html = await visit.response.text();
      assert.match(html, /Access was not granted/);
      assert.match(html, /access_denied/);
      assert.equal(env.provider.counts.token, 0);
      assert.deepEqual(app.store.writes.slice(writes), []);
      assert.equal(await app.store.get(app.keyOf('dave')), undefined);
      assert.ok(
        visit.response.headers
          .getSetCookie()
          .some((c) => c.startsWith('oauthkit-flow-') && /Max-Age=0/.test(c)),
      );
    });

    it('a grant revoked at the provider: the handler’s call sends the user through consent again', async () => {
      const browser = new HttpBrowser(env.provider, 'erin');
      assert.equal((await browser.visit(`${app.origin}/tasks`)).providerVisits, 1);
      const before = await app.store.get(app.keyOf('erin'));
      await env.provider.revokeAllFor('erin');
      env.api.forget();

      // Declining at the provider proves it asked for consent again.
      const declined = await browser.visit(`${app.origin}/tasks?again=1`, { consent: false });
      assert.equal(declined.history[1]?.origin, env.provider.issuer, 'redirected to the provider');
      assert.equal(declined.response.status, 403, 'the provider asked for consent again');

      const again = await browser.visit(`${app.origin}/tasks?again=2`);
      assert.equal(again.response.status, 200);
      assert.equal(again.providerVisits, 1);
      assert.equal(again.url.search, '?again=2');
      assert.equal((await json(again))['sub'], 'erin');
      const stored = await app.store.get(app.keyOf('erin'));
      assert.equal(stored?.invalid, false);
      assert.notEqual(stored?.accessToken, before?.accessToken, 'a new grant replaced the old one');
    });

    it('a grant revoked while a route with an extra scope runs: the new flow asks for that scope', async () => {
      const browser = new HttpBrowser(env.provider, 'gwen');
      const first = await browser.visit(`${app.origin}/write`);
      assert.equal(first.response.status, 200);
      await env.provider.revokeAllFor('gwen');
      env.api.forget();
      const start = await browser.request(`${app.origin}/write?n=2`);
      assert.equal(start.status, 302, 'the handler’s call found the grant revoked');
      const auth = new URL(start.headers.get('location')!);
      assert.equal(auth.origin, env.provider.issuer);
      assert.ok(auth.searchParams.get('scope')!.split(' ').includes('api:write'));
      const done = await browser.visit(auth);
      assert.equal(done.response.status, 200);
      assert.equal(done.url.search, '?n=2');
      assert.ok((await app.store.get(app.keyOf('gwen')))?.hasScopes(['api:read', 'api:write']));
    });

    it('cookies the decorator sets while letting a request through reach the response', async () => {
      // A session cookie that is not ours: the decorator deletes it and lets the page run.
      const res = await fetch(`${app.origin}/`, {
        headers: { cookie: 'oauthkit-session=forged.value' },
      });
      assert.equal(res.status, 200);
      assert.equal(((await res.json()) as Json)['has'], false);
      assert.ok(clears(res, 'oauthkit-session'), `${res.headers.getSetCookie()}`);
    });

    it('a route needing an extra scope asks for it incrementally and keeps the old scopes', async () => {
      const browser = new HttpBrowser(env.provider, 'frank');
      await browser.visit(`${app.origin}/tasks`);
      const key = app.keyOf('frank');
      assert.equal((await app.store.get(key))?.hasScopes(['api:write']), false);
      const start = await browser.request(`${app.origin}/write`);
      assert.equal(start.status, 302);
      const auth = new URL(start.headers.get('location')!);
      const asked = auth.searchParams.get('scope')!.split(' ');
      assert.ok(
        ['openid', 'api:read', 'api:write'].every((s) => asked.includes(s)),
        `${asked}`,
      );
      assert.equal(auth.searchParams.get('include_granted_scopes'), 'true');
      const done = await browser.visit(start.headers.get('location')!);
      assert.equal(done.response.status, 200);
      assert.equal(done.url.pathname, '/write');
      const stored = await app.store.get(key);
      assert.ok(stored?.hasScopes(['openid', 'api:read', 'api:write']));
      const body = await json(done);
      assert.deepEqual(body['scopes'], stored?.scopes);
      assert.equal(body['sub'], 'frank');
    });

    it('concurrent requests of different users each see their own credentials', async () => {
      const logins = ['kim', 'lee', 'max'];
      const browsers = logins.map((l) => new HttpBrowser(env.provider, l));
      await Promise.all(browsers.map((b) => b.visit(`${app.origin}/tasks`)));
      const results = await Promise.all(
        Array.from({ length: 24 }, (_, i) =>
          browsers[i % logins.length]!.visit(`${app.origin}/tasks?i=${i}`).then(json),
        ),
      );
      results.forEach((r, i) => {
        const login = logins[i % logins.length];
        assert.equal(r['sub'], login, `request ${i}: decorator.http()`);
        assert.equal(r['contextSub'], login, `request ${i}: the context form`);
        assert.equal(r['query'], `?i=${i}`);
      });
    });

    it('a non-OAuth error thrown by the handler reaches the framework’s own error handling', async () => {
      const browser = new HttpBrowser(env.provider, 'hank');
      await browser.visit(`${app.origin}/tasks`);
      env.provider.resetCounts();
      const res = await browser.visit(`${app.origin}/boom`);
      assert.equal(res.providerVisits, 0, 'not mistaken for a reason to reauthorize');
      assert.equal(res.response.status, 500);
      assert.equal(await res.response.text(), 'error handler: RangeError: boom');
    });

    it('the app’s own users: the resolver sees the request’s headers; credentials stored under its id', async () => {
      const anonymous = await new HttpBrowser(env.provider).request(`${users.origin}/tasks?a=b`);
      assert.equal(anonymous.status, 302);
      assert.equal(anonymous.headers.get('location'), '/login?return_to=%2Ftasks%3Fa%3Db');

      const browser = new HttpBrowser(env.provider, 'paul');
      const visit = await browser.visit(`${users.origin}/tasks`, {
        headers: { 'x-user': 'app-user-7' },
      });
      assert.equal(visit.response.status, 200);
      assert.equal((await json(visit))['sub'], 'paul');
      assert.ok((await users.store.get('app-user-7'))?.hasScopes(['api:read']));
    });

    it('Host, X-Forwarded-Host and X-Forwarded-Proto change neither the redirect URI nor the cookies', async () => {
      const spoof = {
        host: 'evil.example:8443',
        'x-forwarded-host': 'evil.example',
        'x-forwarded-proto': 'https',
        'x-forwarded-port': '443',
        forwarded: 'host=evil.example;proto=https',
      };
      const start = await rawGet(`${app.origin}/tasks?s=1`, spoof);
      assert.equal(start.status, 302);
      const auth = new URL(String(start.headers.location));
      assert.equal(auth.searchParams.get('redirect_uri'), `${app.origin}/oauth2callback`);
      const flow = start.setCookie.find((c) => c.startsWith('oauthkit-flow-'));
      assert.ok(flow, `a plain flow cookie name: ${start.setCookie}`);
      assert.doesNotMatch(flow, /;\s*Secure/i);
      assert.doesNotMatch(flow, /;\s*Domain=/i);

      const callback = await env.provider.authorize(auth, { login: 'sam' });
      assert.equal(callback.origin, app.origin);
      const done = await rawGet(`${app.origin}${callback.pathname}${callback.search}`, {
        ...spoof,
        cookie: flow.split(';')[0]!,
      });
      assert.equal(done.status, 303);
      assert.equal(done.headers.location, '/tasks?s=1', 'a path on the configured origin');
      const session = done.setCookie.find((c) => c.startsWith('oauthkit-session='));
      assert.ok(session, `${done.setCookie}`);
      assert.doesNotMatch(session, /;\s*Secure/i);
      assert.doesNotMatch(session, /;\s*Domain=/i);
      assert.ok(!done.setCookie.some((c) => c.startsWith('__Host-') || c.startsWith('__Secure-')));

      const page = await rawGet(`${app.origin}/tasks?s=1`, {
        ...spoof,
        cookie: session.split(';')[0]!,
      });
      assert.equal(page.status, 200);
      assert.equal((JSON.parse(page.body) as Json)['sub'], 'sam');
    });

    // ---- attacks on the callback ------------------------------------------------------------

    it('attack: a callback with no state and no flow cookie is refused before any token request', async () => {
      const browser = new HttpBrowser(env.provider, 'mallory');
      const writes = app.store.writes.length;
      env.provider.resetCounts();
      const res = await browser.request(
        `${app.origin}/oauth2callback?code=forged-code&iss=${encodeURIComponent(env.provider.issuer)}`,
      );
      assertRefused(res, { writesBefore: writes });
      assert.ok(
        res.headers.getSetCookie().every((c) => /Max-Age=0/.test(c)),
        'no cookie is set',
      );

      // Nor with a pending flow in this browser: no state, no exchange.
      const victim = new HttpBrowser(env.provider, 'vic');
      const { callback } = await pendingCallback(victim);
      callback.searchParams.delete('state');
      env.provider.resetCounts();
      assertRefused(await victim.request(callback), { writesBefore: writes });
    });

    it('attack: a wrong state is refused, nothing exchanged, the flow cookie cleared', async () => {
      const browser = new HttpBrowser(env.provider, 'walt');
      const { callback, state, flow } = await pendingCallback(browser);
      const writes = app.store.writes.length;

      // Same flow cookie (same first 16 characters), different state.
      const tampered = new URL(callback);
      const last = state.at(-1) === 'A' ? 'B' : 'A';
      tampered.searchParams.set('state', state.slice(0, -1) + last);
      env.provider.resetCounts();
      const res = await browser.request(tampered);
      assertRefused(res, { writesBefore: writes, flow: flow.name });

      // An unrelated, well-formed state.
      const other = new URL(callback);
      other.searchParams.set('state', 'Z'.repeat(43));
      const res2 = await browser.request(other);
      assertRefused(res2, { writesBefore: writes, flow: flowCookieFor('Z'.repeat(43)) });
    });

    it('attack: a state from another browser’s flow is refused; that browser’s own callback works', async () => {
      const attacker = new HttpBrowser(env.provider, 'mona');
      const { callback, flow } = await pendingCallback(attacker);
      const victim = new HttpBrowser(env.provider, 'victor');
      await victim.visit(`${app.origin}/`); // a visitor with no flow of this state
      const writes = app.store.writes.length;
      env.provider.resetCounts();
      const res = await victim.request(callback);
      assertRefused(res, { writesBefore: writes, flow: flow.name });
      assert.equal(victim.jar.header(app.origin), undefined, 'the victim got no session');

      // The callback itself was genuine: in the browser that started the flow it completes.
      const own = await attacker.request(callback);
      assert.equal(own.status, 303);
      assert.equal(env.provider.counts.token, 1);
    });

    it('attack: a replayed callback is refused, and two concurrent ones exchange the code once', async () => {
      const browser = new HttpBrowser(env.provider, 'rhea');
      const { callback, flow } = await pendingCallback(browser);
      const cookie = browser.jar.header(app.origin)!;
      assert.ok(cookie.includes(flow.pair));
      env.provider.resetCounts();
      const first = await fetch(callback, { headers: { cookie }, redirect: 'manual' });
      assert.equal(first.status, 303);
      assert.equal(env.provider.counts.token, 1);

      const writes = app.store.writes.length;
      env.provider.resetCounts();
      const replay = await fetch(callback, { headers: { cookie }, redirect: 'manual' });
      assertRefused(replay, { writesBefore: writes, flow: flow.name });

      // Two identical callbacks at once, flow cookie and all.
      const second = await pendingCallback(new HttpBrowser(env.provider, 'rhea'));
      const cookie2 = second.flow.pair;
      const writes2 = app.store.writes.length;
      env.provider.resetCounts();
      const both = await Promise.all(
        [1, 2].map(() =>
          fetch(second.callback, { headers: { cookie: cookie2 }, redirect: 'manual' }),
        ),
      );
      const statuses = both.map((r) => r.status).sort();
      assert.deepEqual(statuses, [303, 400], 'exactly one succeeds');
      assert.equal(env.provider.counts.token, 1, 'one exchange at the token endpoint');
      assert.equal(app.store.writes.length - writes2, 1, 'stored once');
      const refused = both.find((r) => r.status === 400)!;
      assert.ok(clears(refused, second.flow.name));
    });

    it('attack: an iss that is not the provider’s is refused before any token request', async () => {
      const browser = new HttpBrowser(env.provider, 'ivan');
      const { callback, flow } = await pendingCallback(browser);
      const writes = app.store.writes.length;
      const forged = new URL(callback);
      forged.searchParams.set('iss', 'http://127.0.0.1:1');
      env.provider.resetCounts();
      assertRefused(await browser.request(forged), { writesBefore: writes, flow: flow.name });

      const missing = await pendingCallback(browser);
      missing.callback.searchParams.delete('iss');
      assertRefused(await browser.request(missing.callback), {
        writesBefore: writes,
        flow: missing.flow.name,
      });
    });

    it('attack: a code from another user’s flow with this browser’s state fails at PKCE; nothing stored', async () => {
      const attacker = new HttpBrowser(env.provider, 'mick');
      const stolen = await pendingCallback(attacker);
      const victim = new HttpBrowser(env.provider, 'vera');
      const start = await victim.request(`${app.origin}/tasks`);
      const victimState = new URL(start.headers.get('location')!).searchParams.get('state')!;
      const flow = flowCookieOf(start);
      const injected = new URL(stolen.callback);
      injected.searchParams.set('state', victimState);
      const writes = app.store.writes.length;
      env.provider.resetCounts();
      const res = await victim.request(injected);
      assertRefused(res, { writesBefore: writes, tokenRequests: 1, flow: flow.name });
      assert.equal(await app.store.get(app.keyOf('mick')), undefined);
      assert.equal(await app.store.get(app.keyOf('vera')), undefined);
    });

    it('attack: a flow started by user A and completed in user B’s session is refused', async () => {
      const browser = new HttpBrowser(env.provider, 'quinn');
      const start = await browser.request(`${users.origin}/tasks`, {
        headers: { 'x-user': 'user-a' },
      });
      assert.equal(start.status, 302);
      const flow = flowCookieOf(start);
      const callback = await env.provider.authorize(start.headers.get('location')!, {
        login: 'quinn',
        jar: browser.providerJar,
      });
      const writes = users.store.writes.length;
      env.provider.resetCounts();
      const res = await browser.request(callback, { headers: { 'x-user': 'user-b' } });
      assert.equal(res.status, 403);
      assertRefused(res, { target: users, writesBefore: writes, flow: flow.name });
      assert.equal(await users.store.get('user-a'), undefined);
      assert.equal(await users.store.get('user-b'), undefined);
    });

    // ---- open redirects and escaping --------------------------------------------------------

    const evil = [
      '//evil.example',
      '/\\evil.example',
      '\\\\evil.example',
      'https://evil.example',
      'https:evil.example',
      '/%2F%2Fevil.example',
      '/%09/evil.example',
      'javascript:alert(1)',
      `/${'a'.repeat(10 * 1024)}`,
      '/%0d%0aSet-Cookie:x=y',
    ];
    for (const target of evil) {
      const label = target.length > 40 ? `a ${Math.round(target.length / 1024)} kB path` : target;
      it(`open redirect: return_to=${label} ends on the app’s origin`, async () => {
        const browser = new HttpBrowser(env.provider, 'olive');
        // As written (the server decodes it to exactly this string), and pasted raw into the
        // query (percent-escapes in it decode to slashes, tabs, CR LF).
        const queries = [encodeURIComponent(target), target.replaceAll('\\', '%5C')];
        for (const q of queries) {
          const start = await browser.request(
            `${app.origin}${app.decorator.startPath}?return_to=${q}`,
          );
          assert.equal(start.status, 302, `start (${q.slice(0, 40)})`);
          assert.equal(new URL(start.headers.get('location')!).origin, env.provider.issuer);
          const callback = await env.provider.authorize(start.headers.get('location')!, {
            login: 'olive',
            jar: browser.providerJar,
          });
          const done = await browser.request(callback);
          assert.equal(done.status, 303);
          const location = done.headers.get('location')!;
          assert.equal(new URL(location, app.origin).origin, app.origin, `location ${location}`);
          assert.match(location, /^\/(?![/\\])/, 'a plain path');
          assert.doesNotMatch(location, /[\r\n\t]/);
          for (const res of [start, done]) {
            assert.ok(!res.headers.getSetCookie().some((c) => /^x=/.test(c)), 'no header injected');
          }
        }
      });
    }

    it('escaping: error and error_description with HTML are shown escaped', async () => {
      const browser = new HttpBrowser(env.provider, 'esme');
      const start = await browser.request(`${app.origin}/tasks`);
      const state = new URL(start.headers.get('location')!).searchParams.get('state')!;
      const flow = flowCookieOf(start);
      const writes = app.store.writes.length;
      env.provider.resetCounts();
      const q = new URLSearchParams({
        error: 'access_denied',
        error_description: '<img src=x onerror=alert(1)>',
        state,
        iss: env.provider.issuer,
      });
      const res = await browser.request(`${app.origin}/oauth2callback?${q}`);
      assert.equal(res.status, 403);
      assert.match(res.headers.get('content-type')!, /^text\/html/);
      const html = await res.text();
      assert.ok(!html.includes('<img'), 'no markup from the query');
      assert.match(html, /&#60;img src&#61;x onerror&#61;alert\(1\)&#62;/);
      assertRefused(res, { writesBefore: writes, flow: flow.name });

      const start2 = await browser.request(`${app.origin}/tasks`);
      const state2 = new URL(start2.headers.get('location')!).searchParams.get('state')!;
      const q2 = new URLSearchParams({
        error: '<script>alert(2)</script>',
        state: state2,
        iss: env.provider.issuer,
      });
      const res2 = await browser.request(`${app.origin}/oauth2callback?${q2}`);
      assert.ok(res2.status >= 400 && res2.status < 500);
      const html2 = await res2.text();
      assert.ok(!html2.includes('<script'), 'no script from the query');
      assert.match(html2, /&#60;script&#62;alert\(2\)&#60;\/script&#62;/);
    });
  });
}
