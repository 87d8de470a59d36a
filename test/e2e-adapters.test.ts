import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { MOUNTS, startAdapterEnv, type AdapterEnv } from './support/adapter-apps.js';
import {
  answerConsent,
  launchChromium,
  pageJson,
  recordNavigations,
  signIn,
} from './support/browser.js';

// One provider, one API, one app per adapter and one Chromium for the whole file; a fresh
// browser context (no cookies) for every test.
describe('end to end in Chromium', () => {
  let env: AdapterEnv;
  let browser: Browser;
  before(async () => {
    [env, browser] = await Promise.all([startAdapterEnv(MOUNTS), launchChromium()]);
  });
  after(async () => {
    await browser?.close();
    await env?.close();
  });

  async function withPage(fn: (page: Page, navigations: URL[]) => Promise<void>): Promise<void> {
    const context: BrowserContext = await browser.newContext();
    context.setDefaultTimeout(15_000);
    try {
      const page = await context.newPage();
      await fn(page, recordNavigations(page));
    } finally {
      await context.close();
    }
  }

  for (const name of Object.keys(MOUNTS)) {
    describe(name, () => {
      const app = () => env.apps[name]!;
      const login = (who: string) => `${name}-${who}`;

      /** Visits `path` logged out, signs in and consents at the provider, lands back on `path`. */
      async function signInThrough(page: Page, path: string, who: string): Promise<void> {
        await page.goto(`${app().origin}${path}`);
        assert.equal(new URL(page.url()).origin, env.provider.issuer, 'at the provider');
        await signIn(page, login(who));
        await answerConsent(page, true);
        await page.waitForURL(`${app().origin}${path}`, { waitUntil: 'domcontentloaded' });
      }

      it('a logged-out visit to a required page: login and consent, back on the page with its query and output; then no provider round trip', async () => {
        await withPage(async (page, navigations) => {
          await signInThrough(page, '/tasks?list=work&n=1', 'alice');
          const body = await pageJson(page);
          assert.equal(body['sub'], login('alice'), 'decorator.http() called the API');
          assert.equal(body['contextSub'], login('alice'), 'and so did the context form');
          assert.equal(body['query'], '?list=work&n=1');
          assert.ok(navigations.some((u) => u.pathname === '/oauth2callback'));

          const authBefore = env.provider.counts.auth;
          navigations.length = 0;
          const second = await page.goto(`${app().origin}/tasks`);
          assert.equal(second?.status(), 200);
          assert.equal(second?.request().redirectedFrom(), null, 'no redirect at all');
          assert.deepEqual(
            navigations.map((u) => u.href),
            [`${app().origin}/tasks`],
          );
          assert.equal(env.provider.counts.auth, authBefore);
          assert.equal((await pageJson(page))['sub'], login('alice'));
        });
      });

      it('an aware page: "not connected" with a Connect link before, "connected" after', async () => {
        await withPage(async (page, navigations) => {
          await page.goto(`${app().origin}/home`);
          assert.equal(await page.locator('#status').textContent(), 'not connected');
          assert.ok(
            navigations.every((u) => u.origin === app().origin),
            'aware never redirects',
          );
          await page.locator('#connect').click();
          await signIn(page, login('bob'));
          await answerConsent(page, true);
          await page.waitForURL(`${app().origin}/home`, { waitUntil: 'domcontentloaded' });
          assert.equal(await page.locator('#status').textContent(), 'connected');
        });
      });

      it('consent denied: a clear page, nothing stored', async () => {
        await withPage(async (page) => {
          const writes = app().store.writes.length;
          await page.goto(`${app().origin}/tasks`);
          await signIn(page, login('dave'));
          const callback = page.waitForResponse((r) =>
            r.url().startsWith(`${app().origin}/oauth2callback`),
          );
          await answerConsent(page, false);
          const response = await callback;
          assert.equal(response.status(), 403);
          assert.equal(await page.locator('h1').textContent(), 'Access was not granted');
          assert.match((await page.locator('body').textContent()) ?? '', /access_denied/);
          assert.deepEqual(app().store.writes.slice(writes), []);
          assert.equal(await app().store.get(app().keyOf(login('dave'))), undefined);
          const cookies = await page.context().cookies(app().origin);
          assert.ok(!cookies.some((c) => c.name.startsWith('oauthkit-')), 'no oauthkit cookie');
        });
      });

      it('a grant revoked at the provider: the next visit goes through consent again', async () => {
        await withPage(async (page) => {
          await signInThrough(page, '/tasks', 'erin');
          const before = await app().store.get(app().keyOf(login('erin')));
          await env.provider.revokeAllFor(login('erin'));
          env.api.forget();

          await page.goto(`${app().origin}/tasks?after=revoke`);
          assert.equal(new URL(page.url()).origin, env.provider.issuer, 'back at the provider');
          // Still signed in at the provider: straight to consent, no login form.
          await answerConsent(page, true);
          await page.waitForURL(`${app().origin}/tasks?after=revoke`, {
            waitUntil: 'domcontentloaded',
          });
          assert.equal((await pageJson(page))['sub'], login('erin'));
          const stored = await app().store.get(app().keyOf(login('erin')));
          assert.notEqual(stored?.accessToken, before?.accessToken);
        });
      });

      it('a route needing an extra scope: incremental consent, the old scopes kept', async () => {
        await withPage(async (page) => {
          await signInThrough(page, '/tasks', 'frank');
          const key = app().keyOf(login('frank'));
          assert.equal((await app().store.get(key))?.hasScopes(['api:write']), false);

          await page.goto(`${app().origin}/write`);
          assert.equal(new URL(page.url()).origin, env.provider.issuer);
          await answerConsent(page, true);
          await page.waitForURL(`${app().origin}/write`, { waitUntil: 'domcontentloaded' });
          const body = await pageJson(page);
          const stored = await app().store.get(key);
          assert.ok(stored?.hasScopes(['openid', 'api:read', 'api:write']));
          assert.deepEqual(body['scopes'], stored?.scopes);
          assert.equal(body['sub'], login('frank'));
        });
      });
    });
  }
});
