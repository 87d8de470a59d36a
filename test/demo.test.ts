/**
 * The demo (`npm start`): its local Tasks API over HTTP (and through `build('tasks', 'v1')`), the
 * whole app in Chromium (the service-account page included), and the start command itself.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { SERVICE_ACCOUNT_EMAIL, startDemo, type RunningDemo } from '../examples/app.js';
import { clientCredentialsTokenSource } from '../examples/metadata-server.js';
import { startProvider, type LocalProvider } from '../examples/provider.js';
import { TASKS_READONLY_SCOPE, TASKS_SCOPE } from '../examples/scopes.js';
import {
  DISCOVERY_FILE,
  DISCOVERY_PATH,
  startTasksApi,
  type LocalTasksApi,
} from '../examples/tasks-api.js';
import { discoveryUrlAt, type TasksService } from '../examples/tasks-client.js';
import { build, createMemoryCache, HttpError } from '../src/discovery/index.js';
import {
  createAuthorizedFetch,
  InsufficientScopeError,
  OAuthClient,
  TokenManager,
  type Credentials,
} from '../src/index.node.js';
import { AppAssertionCredentials } from '../src/service-account/index.js';
import { createMemoryStore } from '../src/storage/memory.js';
import { launchChromium } from './support/browser.js';
import { CookieJar } from './support/provider.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

// ---- the local Tasks API, over HTTP, with real tokens from the local provider ----------------

describe('local Tasks API', () => {
  const app = { clientId: 'api-test-app', clientSecret: 'api-test-app-secret-0123456789abcdef' };
  const service = {
    clientId: 'api-test-service',
    clientSecret: 'api-test-service-secret-0123456789abcdef',
  };
  const redirectUri = 'http://127.0.0.1:9/oauth2callback';
  let provider: LocalProvider;
  let api: LocalTasksApi;

  before(async () => {
    provider = await startProvider({
      clients: [{ ...app, name: 'API test app', redirectUris: [redirectUri] }],
      resourceServers: [
        { clientId: 'tasks-api', clientSecret: 'tasks-api-secret-0123456789abcdef' },
      ],
      serviceClients: [{ ...service, scopes: [TASKS_SCOPE] }],
    });
    api = await startTasksApi({
      issuer: provider.issuer,
      client: { clientId: 'tasks-api', clientSecret: 'tasks-api-secret-0123456789abcdef' },
      database: ':memory:',
      // Every request asks the provider: a revoked token is refused at once.
      introspectionCacheMs: 0,
    });
  });
  after(async () => {
    await api?.close();
    await provider?.close();
  });

  const client = () =>
    new OAuthClient({ ...app, redirectUri, issuer: provider.issuer, allowHttpLoopback: true });

  /** Signs `login` in at the provider, consents, and exchanges the code: real tokens. */
  async function obtain(login: string, scopes: string[]): Promise<Credentials> {
    const oauth = client();
    const { url, pending } = await oauth.buildAuthorizationUrl({ scopes });
    const jar = new CookieJar();
    let next = url;
    let body: URLSearchParams | undefined;
    for (let step = 0; step < 12; step++) {
      const cookie = jar.header(next);
      const res = await fetch(next, {
        method: body ? 'POST' : 'GET',
        body,
        headers: cookie ? { cookie } : {},
        redirect: 'manual',
      });
      jar.store(next, res);
      body = undefined;
      const location = res.headers.get('location');
      if (location) {
        await res.body?.cancel();
        const target = new URL(location, next);
        if (target.origin !== provider.issuer)
          return oauth.exchangeCode(target.searchParams, pending);
        next = target;
        continue;
      }
      const page = await res.text();
      const action = /action="([^"]*\/(login|confirm))"/.exec(page);
      assert.ok(
        action,
        `expected a sign-in or consent form, got ${res.status}: ${page.slice(0, 300)}`,
      );
      next = new URL(action[1]!.replaceAll('&amp;', '&'), next);
      body = new URLSearchParams(action[2] === 'login' ? { login } : {});
    }
    throw new Error('the provider never redirected back');
  }

  const call = (token: string | undefined, method: string, path: string, json?: unknown) =>
    fetch(`${api.origin}/tasks/v1/${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(json === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: json === undefined ? undefined : JSON.stringify(json),
    });

  test('answers 401 with a Bearer challenge without a token, and invalid_token for an unknown one', async () => {
    const none = await call(undefined, 'GET', 'users/@me/lists');
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer realm="/);
    assert.doesNotMatch(none.headers.get('www-authenticate') ?? '', /error=/);
    const body = (await none.json()) as { error: { code: number; status: string } };
    assert.equal(body.error.code, 401);
    assert.equal(body.error.status, 'UNAUTHENTICATED');

    const bogus = await call('not-a-token-the-provider-issued', 'GET', 'users/@me/lists');
    assert.equal(bogus.status, 401);
    assert.match(bogus.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
  });

  test('answers 403 insufficientPermissions to a real token without a tasks scope', async () => {
    const { accessToken } = await obtain('dora', ['openid', 'email']);
    const res = await call(accessToken, 'GET', 'users/@me/lists');
    assert.equal(res.status, 403);
    assert.match(res.headers.get('www-authenticate') ?? '', /error="insufficient_scope"/);
    const body = (await res.json()) as { error: { errors: { reason: string }[] } };
    assert.equal(body.error.errors[0]?.reason, 'insufficientPermissions');
  });

  test('lets tasks.readonly read but not write', async () => {
    const { accessToken } = await obtain('rita', ['openid', TASKS_READONLY_SCOPE]);
    const read = await call(accessToken, 'GET', 'lists/@default/tasks');
    assert.equal(read.status, 200);
    assert.equal(((await read.json()) as { kind: string }).kind, 'tasks#tasks');
    const write = await call(accessToken, 'POST', 'lists/@default/tasks', { title: 'nope' });
    assert.equal(write.status, 403);
    const after = (await (await call(accessToken, 'GET', 'lists/@default/tasks')).json()) as {
      items: unknown[];
    };
    assert.deepEqual(after.items, []);
  });

  test('lists, inserts, completes and deletes tasks in Google shapes', async () => {
    const { accessToken } = await obtain('alice', ['openid', TASKS_SCOPE]);
    const lists = (await (await call(accessToken, 'GET', 'users/@me/lists')).json()) as {
      kind: string;
      items: { kind: string; id: string; title: string }[];
    };
    assert.equal(lists.kind, 'tasks#taskLists');
    assert.equal(lists.items.length, 1);
    assert.equal(lists.items[0]!.kind, 'tasks#taskList');
    assert.equal(lists.items[0]!.title, 'My Tasks');
    const listId = lists.items[0]!.id;
    assert.notEqual(listId, '@default');

    const first = await call(accessToken, 'POST', 'lists/@default/tasks', { title: 'first' });
    assert.equal(first.status, 200);
    const a = (await first.json()) as { kind: string; id: string; status: string; updated: string };
    assert.equal(a.kind, 'tasks#task');
    assert.equal(a.status, 'needsAction');
    assert.ok(!Number.isNaN(Date.parse(a.updated)));
    const b = (await (
      await call(accessToken, 'POST', `lists/${listId}/tasks`, { title: 'second' })
    ).json()) as {
      id: string;
    };

    // The real id and @default are the same list; new tasks go first, as in Google Tasks.
    const listed = (await (await call(accessToken, 'GET', 'lists/@default/tasks')).json()) as {
      kind: string;
      items: { id: string; title: string }[];
    };
    assert.equal(listed.kind, 'tasks#tasks');
    assert.deepEqual(
      listed.items.map((t) => t.title),
      ['second', 'first'],
    );

    const patched = await call(accessToken, 'PATCH', `lists/@default/tasks/${a.id}`, {
      status: 'completed',
    });
    assert.equal(patched.status, 200);
    const done = (await patched.json()) as { status: string; completed?: string; title: string };
    assert.equal(done.status, 'completed');
    assert.equal(done.title, 'first');
    assert.ok(done.completed && !Number.isNaN(Date.parse(done.completed)));
    const open = (await (
      await call(accessToken, 'GET', `lists/${listId}/tasks?showCompleted=false`)
    ).json()) as { items: { id: string }[] };
    assert.deepEqual(
      open.items.map((t) => t.id),
      [b.id],
    );

    const removed = await call(accessToken, 'DELETE', `lists/@default/tasks/${a.id}`);
    assert.equal(removed.status, 204);
    const gone = await call(accessToken, 'GET', `lists/@default/tasks/${a.id}`);
    assert.equal(gone.status, 404);
    assert.equal(
      ((await gone.json()) as { error: { errors: { reason: string }[] } }).error.errors[0]?.reason,
      'notFound',
    );

    const bad = await call(accessToken, 'PATCH', `lists/@default/tasks/${b.id}`, {
      status: 'done',
    });
    assert.equal(bad.status, 400);
  });

  test("keeps each user's tasks apart", async () => {
    const alice = await obtain('ann', ['openid', TASKS_SCOPE]);
    const bob = await obtain('bob', ['openid', TASKS_SCOPE]);
    const created = (await (
      await call(alice.accessToken, 'POST', 'lists/@default/tasks', { title: "ann's" })
    ).json()) as { id: string };
    const bobs = (await (await call(bob.accessToken, 'GET', 'lists/@default/tasks')).json()) as {
      items: unknown[];
    };
    assert.deepEqual(bobs.items, []);
    assert.equal(
      (await call(bob.accessToken, 'DELETE', `lists/@default/tasks/${created.id}`)).status,
      404,
    );
    assert.equal(
      (await call(alice.accessToken, 'GET', `lists/@default/tasks/${created.id}`)).status,
      200,
    );
  });

  test("accepts an app's client credentials token, keyed by its client id, apart from every user", async () => {
    const mint = clientCredentialsTokenSource({
      tokenEndpoint: `${provider.issuer}/token`,
      ...service,
    });
    const { access_token: token } = await mint([TASKS_SCOPE]);
    const created = await call(token, 'POST', 'lists/@default/tasks', { title: "the app's" });
    assert.equal(created.status, 200);
    const mine = (await (await call(token, 'GET', 'lists/@default/tasks')).json()) as {
      items: { title: string }[];
    };
    assert.deepEqual(
      mine.items.map((t) => t.title),
      ["the app's"],
    );
    // A user who signs in under the name the app's tasks are kept as sees none of them.
    const lookalike = await obtain(`app:${service.clientId}`, ['openid', TASKS_SCOPE]);
    const theirs = (await (
      await call(lookalike.accessToken, 'GET', 'lists/@default/tasks')
    ).json()) as { items: unknown[] };
    assert.deepEqual(theirs.items, []);
    // An app token without the tasks scope is refused as a user's is.
    const { access_token: bare } = await mint([]);
    const refused = await call(bare, 'GET', 'lists/@default/tasks');
    assert.equal(refused.status, 403);
    assert.match(refused.headers.get('www-authenticate') ?? '', /error="insufficient_scope"/);
  });

  test("build('tasks','v1'): execute() passes the authorized fetch's InsufficientScopeError through unchanged", async () => {
    const tasks = await build<TasksService>('tasks', 'v1', {
      discoveryUrl: discoveryUrlAt(api.origin),
      cache: createMemoryCache(),
    });
    const credentials = await obtain('erin', ['openid', 'email']);
    const store = createMemoryStore();
    await store.put('erin', credentials);
    const http = createAuthorizedFetch({
      tokens: new TokenManager({ client: client(), store }),
      key: 'erin',
      allowedOrigins: [api.origin],
    });
    const sent = () =>
      api.stats.requests.filter((r) => r === 'GET /tasks/v1/users/@me/lists').length;
    const before = sent();
    await assert.rejects(tasks.tasklists.list().execute(http), (err: unknown) => {
      assert.ok(err instanceof InsufficientScopeError, `got ${String(err)}`);
      assert.ok(!(err instanceof HttpError));
      assert.equal(err.error, 'insufficient_scope');
      assert.ok(err.error_description?.split(' ').includes(TASKS_SCOPE));
      return true;
    });
    // Not retried: an error of the client itself would fail the same way again.
    assert.equal(sent(), before + 1);

    // Without the library's authorized fetch, the same answer is the API's error: HttpError.
    const bearer = (request: Request) => {
      const headers = new Headers(request.headers);
      headers.set('authorization', `Bearer ${credentials.accessToken}`);
      return fetch(new Request(request, { headers }));
    };
    await assert.rejects(tasks.tasklists.list().execute(bearer), (err: unknown) => {
      assert.ok(err instanceof HttpError);
      assert.equal(err.status, 403);
      assert.deepEqual(err.reasons, ['insufficientPermissions']);
      return true;
    });
  });

  test('refuses an access token once its grant is revoked at the provider', async () => {
    const credentials = await obtain('rob', ['openid', TASKS_SCOPE]);
    assert.equal((await call(credentials.accessToken, 'GET', 'users/@me/lists')).status, 200);
    await client().revoke(credentials);
    const res = await call(credentials.accessToken, 'GET', 'users/@me/lists');
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
  });

  test('serves the discovery document only when examples/tasks-discovery.json exists', async () => {
    const res = await fetch(`${api.origin}${DISCOVERY_PATH}`);
    if (existsSync(DISCOVERY_FILE)) {
      assert.equal(res.status, 200);
      const doc = (await res.json()) as { rootUrl: string; name?: string };
      assert.equal(doc.rootUrl, `${api.origin}/`);
    } else {
      assert.equal(res.status, 404);
      await res.body?.cancel();
    }
  });
});

// ---- the demo app in Chromium --------------------------------------------------------------------

describe('demo app in Chromium', () => {
  let demo: RunningDemo;
  let dataDir: string;
  let browser: Browser;
  let origin: string;

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'oauthkit-demo-'));
    demo = await startDemo({ port: 0, dataDir, quiet: true });
    origin = new URL(demo.url).origin;
    browser = await launchChromium({ loopbackOnly: false });
  });
  after(async () => {
    await browser?.close();
    await demo?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  const statusOf = (page: Page) => page.locator('.status').innerText();

  test(
    'connect, add, complete and delete a task, see the account, disconnect',
    { timeout: 90_000 },
    async () => {
      const context = await browser.newContext();
      const page = await context.newPage();
      page.setDefaultTimeout(15_000);
      try {
        // oauthAware home page: explains, offers authorizeUrl().
        await page.goto(demo.url);
        assert.equal(await statusOf(page), 'Not connected');
        assert.match(
          await page.locator('main').innerText(),
          /Create, edit, organize, and delete all your tasks/,
        );

        // The provider: any name signs in, then consent.
        await page.getByRole('link', { name: 'Connect your tasks' }).click();
        await page.waitForURL((u) => u.origin === demo.issuer);
        await page.getByLabel('Your name').fill('alice');
        await page.getByRole('button', { name: 'Next' }).click();
        await page.getByRole('button', { name: 'Allow' }).waitFor();
        assert.match(
          await page.locator('h1').innerText(),
          /oauthkit Tasks demo wants to access your account/,
        );
        assert.match(
          await page.locator('main').innerText(),
          new RegExp(TASKS_SCOPE.replaceAll('.', '\\.')),
        );
        await page.getByRole('button', { name: 'Allow' }).click();

        // Back on the page that started the flow, now connected.
        await page.waitForURL(demo.url);
        assert.equal(await statusOf(page), 'Connected as alice@example.test');
        assert.match(await page.locator('main').innerText(), /Nothing to do/);

        // oauthRequired tasks page.
        await page.getByRole('link', { name: 'Open your tasks' }).click();
        await page.waitForURL(`${origin}/tasks`);
        assert.equal(await page.locator('h1').innerText(), 'My Tasks');
        assert.match(await page.locator('main').innerText(), /No open tasks/);

        // Add: POST, redirect, GET; the title shows as text, not markup.
        const title = 'Buy milk <b>& bread</b>';
        await page.getByLabel('New task').fill(title);
        await page.getByRole('button', { name: 'Add', exact: true }).click();
        await page.waitForURL(`${origin}/tasks?done=added`);
        const item = page.locator('li.task', { hasText: title });
        assert.equal(await item.locator('.title').innerText(), title);
        assert.equal(await item.getAttribute('data-status'), 'needsAction');
        assert.equal(await page.locator('li.task b').count(), 0);
        const taskId = await item.getAttribute('data-id');
        assert.ok(taskId);

        // CSRF: a page on another origin of the same site (the provider's) posts a delete form.
        // The session cookie is SameSite=Lax, which does not stop a same-site request; the
        // Origin check does.
        await page.goto(`${demo.issuer}/.well-known/openid-configuration`);
        const [forged] = await Promise.all([
          page.waitForResponse(
            (r) => r.url() === `${origin}/tasks` && r.request().method() === 'POST',
          ),
          page.evaluate(
            ({ target, id }) => {
              const form = document.createElement('form');
              form.method = 'post';
              form.setAttribute('action', target);
              for (const [name, value] of Object.entries({ action: 'delete', task: id })) {
                const input = document.createElement('input');
                input.name = name;
                input.value = value;
                form.append(input);
              }
              document.body.append(form);
              form.submit();
            },
            { target: `${origin}/tasks`, id: taskId },
          ),
        ]);
        await page.waitForURL(`${origin}/tasks`);
        assert.equal(forged.status(), 403);
        assert.equal(await page.locator('h1').innerText(), 'Request refused');
        assert.match((await forged.request().allHeaders()).cookie ?? '', /oauthkit-session=/);
        await page.goto(`${origin}/tasks`);
        assert.equal(await page.locator(`li.task[data-id="${taskId}"]`).count(), 1);

        // Complete.
        await page
          .locator(`li.task[data-id="${taskId}"]`)
          .getByRole('button', { name: `Complete ${title}` })
          .click();
        await page.waitForURL(`${origin}/tasks?done=completed`);
        assert.equal(
          await page.locator(`li.task[data-id="${taskId}"]`).getAttribute('data-status'),
          'completed',
        );
        assert.match(await page.locator('main').innerText(), /Completed \(1\)/);

        // Delete.
        await page
          .locator(`li.task[data-id="${taskId}"]`)
          .getByRole('button', { name: `Delete ${title}` })
          .click();
        await page.waitForURL(`${origin}/tasks?done=deleted`);
        assert.equal(await page.locator('li.task').count(), 0);
        assert.match(await page.locator('main').innerText(), /No open tasks/);

        // The account page: the ID token's claims, the scopes, the expiry.
        await page.getByRole('link', { name: 'Account', exact: true }).click();
        await page.waitForURL(`${origin}/account`);
        const facts = await page.locator('dl.facts').innerText();
        assert.match(facts, /alice@example\.test \(verified\)/);
        assert.match(facts, /Subject \(sub\)\s+alice/);
        assert.match(facts, new RegExp(TASKS_SCOPE.replaceAll('.', '\\.')));
        assert.match(facts, /Expires in \d+ min/);
        assert.match(facts, /Kept on the server/);

        // Disconnect: revoke, back home, not connected.
        await page.getByRole('button', { name: 'Disconnect' }).click();
        await page.waitForURL(`${origin}/?done=disconnected`);
        assert.equal(await statusOf(page), 'Not connected');
        assert.match(await page.locator('[role=status]').innerText(), /no longer has access/);

        // The grant is gone: the oauthRequired page sends the user to consent again.
        await page.goto(`${origin}/tasks`);
        await page.waitForURL((u) => u.origin === demo.issuer);
        await page.getByRole('button', { name: 'Allow' }).waitFor();
      } finally {
        await context.close();
      }
    },
  );

  test(
    'a restarted demo keeps the user connected and their tasks',
    { timeout: 60_000 },
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'oauthkit-demo-restart-'));
      let first: RunningDemo | undefined = await startDemo({ port: 0, dataDir: dir, quiet: true });
      let second: RunningDemo | undefined;
      const context = await browser.newContext();
      try {
        const page = await context.newPage();
        page.setDefaultTimeout(15_000);
        const at = new URL(first.url).origin;
        await page.goto(`${at}/tasks`);
        await page.getByLabel('Your name').fill('carol');
        await page.getByRole('button', { name: 'Next' }).click();
        await page.getByRole('button', { name: 'Allow' }).click();
        await page.waitForURL(`${at}/tasks`);
        await page.getByLabel('New task').fill('survive a restart');
        await page.getByRole('button', { name: 'Add', exact: true }).click();
        await page.waitForURL(`${at}/tasks?done=added`);

        const ports = {
          port: Number(new URL(first.url).port),
          providerPort: Number(new URL(first.issuer).port),
          apiPort: Number(new URL(first.tasksApi).port),
        };
        await first.close();
        first = undefined;
        second = await startDemo({ ...ports, dataDir: dir, quiet: true });

        // Same secret, same stored credentials, same grant at the provider: no sign-in, no consent.
        const visited: string[] = [];
        page.on('request', (r) => visited.push(new URL(r.url()).origin));
        await page.goto(`${at}/tasks`);
        assert.equal(page.url(), `${at}/tasks`);
        assert.equal(await page.locator('li.task .title').innerText(), 'survive a restart');
        assert.ok(!visited.includes(second.issuer), 'no visit to the provider');
      } finally {
        await context.close();
        await first?.close();
        await second?.close();
        await rm(dir, { recursive: true, force: true });
      }
    },
  );

  test(
    "the tasks pages call the API through build('tasks','v1'): one discovery fetch, at start",
    { timeout: 60_000 },
    async () => {
      const api = demo.local!.api;
      // Built when the demo started, before any page was served.
      assert.equal(api.stats.discoveryFetches, 1);
      const context = await browser.newContext();
      try {
        const page = await context.newPage();
        page.setDefaultTimeout(15_000);
        await page.goto(`${origin}/tasks`);
        await page.getByLabel('Your name').fill('dave');
        await page.getByRole('button', { name: 'Next' }).click();
        await page.getByRole('button', { name: 'Allow' }).click();
        await page.waitForURL(`${origin}/tasks`);
        await page.getByLabel('New task').fill('water the plants');
        await page.getByRole('button', { name: 'Add', exact: true }).click();
        await page.waitForURL(`${origin}/tasks?done=added`);
        await page.getByRole('button', { name: 'Complete water the plants' }).click();
        await page.waitForURL(`${origin}/tasks?done=completed`);
        await page.goto(demo.url);
        assert.match(await statusOf(page), /Connected as dave@example\.test/);
      } finally {
        await context.close();
      }
      assert.equal(api.stats.discoveryFetches, 1);
      const requests = api.stats.requests;
      const discovery = requests.indexOf(`GET ${DISCOVERY_PATH}`);
      const firstCall = requests.findIndex((r) => / \/tasks\/v1\//.test(r));
      assert.ok(discovery >= 0 && discovery < firstCall, requests.join('\n'));
      // The document's methods, expanded by the discovery client ({tasklist}: @ is %40).
      assert.ok(requests.includes('GET /tasks/v1/users/@me/lists'), requests.join('\n'));
      assert.ok(requests.includes('POST /tasks/v1/lists/%40default/tasks'), requests.join('\n'));
      assert.ok(
        requests.some((r) => /^PATCH \/tasks\/v1\/lists\/%40default\/tasks\/[\w-]+$/.test(r)),
        requests.join('\n'),
      );
      assert.ok(
        requests.some((r) => r.startsWith('GET /tasks/v1/lists/%40default/tasks?')),
        requests.join('\n'),
      );
    },
  );

  test(
    "the service-account page shows the app's own identity and task list, with no sign-in",
    { timeout: 60_000 },
    async () => {
      const { metadata } = demo.local!;
      // Something else running as the app (a scheduled job, say) adds a task to the app's list,
      // with the same metadata server and the app's Tasks service.
      const job = new AppAssertionCredentials({
        scopes: [TASKS_SCOPE],
        env: { GCE_METADATA_HOST: metadata.host },
      });
      const tasks = await demo.app.tasksService();
      await tasks.tasks
        .insert({ tasklist: '@default' }, { body: { title: 'Send the weekly report' } })
        .execute(job.authorize({ allowedOrigins: [demo.tasksApi] }));

      const context = await browser.newContext();
      try {
        const page = await context.newPage();
        page.setDefaultTimeout(15_000);
        const visited: string[] = [];
        page.on('request', (r) => visited.push(new URL(r.url()).origin));
        await page.goto(demo.url);
        await page.getByRole('link', { name: 'Service account' }).click();
        await page.waitForURL(`${origin}/service-account`);
        assert.equal(await statusOf(page), 'Running as the app');
        const facts = await page.locator('dl.facts').innerText();
        assert.match(facts, new RegExp(SERVICE_ACCOUNT_EMAIL.replaceAll('.', '\\.')));
        assert.ok(facts.includes(metadata.url), facts);
        assert.match(facts, new RegExp(TASKS_SCOPE.replaceAll('.', '\\.')));
        assert.match(facts, /Expires in \d+ min/);
        // The app's own list: the job's task, none of the users' tasks.
        assert.deepEqual(await page.locator('li.task .title').allInnerTexts(), [
          'Send the weekly report',
        ]);
        assert.equal(await page.locator('nav a[aria-current=page]').innerText(), 'Service account');
        assert.ok(!visited.includes(demo.issuer), 'no visit to the sign-in provider');
        // The job and the app share the metadata server's token: one minted.
        assert.equal(metadata.mints, 1);
      } finally {
        await context.close();
      }
    },
  );

  test('refuses a form POST that carries neither Origin nor Sec-Fetch-Site', async () => {
    const res = await fetch(`${origin}/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'action=add&title=forged',
      redirect: 'manual',
    });
    assert.equal(res.status, 403);
    await res.body?.cancel();
    const same = await fetch(`${origin}/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin },
      body: 'action=add&title=ok',
      redirect: 'manual',
    });
    // Same origin passes the check; with no session the decorator starts the flow (303).
    assert.equal(same.status, 303);
    assert.equal(new URL(same.headers.get('location') ?? '').origin, demo.issuer);
  });

  test('sends a visit under another host name to the configured origin, and only there', async () => {
    const port = new URL(origin).port;
    const get = (path: string) =>
      new Promise<{ status: number; location: string | undefined }>((resolve, reject) => {
        const req = httpRequest(
          { host: '127.0.0.1', port, path, headers: { host: `localhost:${port}` } },
          (r) => {
            r.resume();
            resolve({ status: r.statusCode ?? 0, location: r.headers.location });
          },
        );
        req.on('error', reject);
        req.end();
      });
    const plain = await get('/tasks?x=1');
    assert.equal(plain.status, 308);
    assert.equal(plain.location, `${origin}/tasks?x=1`);
    // A path that looks like another host must not turn the redirect into an open one.
    const tricky = await get('//elsewhere.example/x');
    assert.equal(tricky.status, 308);
    assert.equal(new URL(tricky.location ?? '', origin).origin, origin);
  });
});

// ---- against Google, given a client_secrets.json (Google is never contacted) ------------------

describe('demo app against Google (CLIENT_SECRETS)', () => {
  const realFetch = globalThis.fetch;
  const outside: string[] = [];
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'oauthkit-demo-google-'));
    // Anything leaving loopback is recorded and refused: the tests must not reach Google.
    globalThis.fetch = (input, init) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      if (url.hostname !== '127.0.0.1' && url.hostname !== 'localhost') {
        outside.push(url.origin);
        return Promise.reject(new TypeError('no network in tests'));
      }
      return realFetch(input, init);
    };
  });
  after(async () => {
    globalThis.fetch = realFetch;
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('sends users to Google with the Tasks scope, PKCE and the registered redirect URI', async () => {
    const port = await freePortRun(1);
    const redirectUri = `http://127.0.0.1:${port}/oauth2callback`;
    const file = join(dir, 'client_secrets.json');
    await writeFile(
      file,
      JSON.stringify({
        web: {
          client_id: '1234-demo.apps.googleusercontent.com',
          client_secret: 'GOCSPX-not-a-real-secret',
          redirect_uris: ['https://app.example/other', redirectUri],
          auth_uri: 'https://accounts.google.com/o/oauth2/auth',
          token_uri: 'https://oauth2.googleapis.com/token',
        },
      }),
    );
    const demo = await startDemo({ clientSecrets: file, dataDir: dir, quiet: true });
    try {
      assert.equal(demo.mode, 'google');
      assert.equal(demo.url, `http://127.0.0.1:${port}/`);
      assert.equal(demo.tasksApi, 'https://tasks.googleapis.com');
      const home = await realFetch(demo.url);
      assert.equal(home.status, 200);
      const text = await home.text();
      assert.match(text, /Not connected/);
      const href = /href="(\/oauth2callback\/start[^"]*)"/.exec(text)?.[1];
      assert.ok(href, 'the home page links to authorizeUrl()');
      const start = await realFetch(new URL(decodeEntities(href), demo.url), {
        redirect: 'manual',
      });
      assert.equal(start.status, 302);
      const to = new URL(start.headers.get('location') ?? '');
      assert.equal(`${to.origin}${to.pathname}`, 'https://accounts.google.com/o/oauth2/auth');
      assert.equal(to.searchParams.get('client_id'), '1234-demo.apps.googleusercontent.com');
      assert.equal(to.searchParams.get('redirect_uri'), redirectUri);
      assert.deepEqual(
        to.searchParams.get('scope')?.split(' ').sort(),
        ['email', 'openid', TASKS_SCOPE].sort(),
      );
      assert.equal(to.searchParams.get('code_challenge_method'), 'S256');
      // No GCE_METADATA_HOST given: the service-account page explains, and contacts nothing.
      const sa = await realFetch(`${demo.url}service-account`);
      assert.equal(sa.status, 200);
      const explained = await sa.text();
      assert.match(explained, /No service account here/);
      assert.match(explained, /GCE_METADATA_HOST/);
      assert.equal(demo.app.credentials, undefined);
      // Nothing left loopback: not the discovery document (built on first use), not a
      // metadata server.
      assert.deepEqual(outside, []);
    } finally {
      await demo.close();
    }
  });

  test('serves its message with a 500, and logs what to fix, while client_secrets.json is missing', async () => {
    const port = await freePortRun(1);
    const logs: string[] = [];
    const logger = { error: (m: string) => logs.push(m), warn: (m: string) => logs.push(m) };
    const demo = await startDemo({
      clientSecrets: join(dir, 'missing.json'),
      port,
      dataDir: dir,
      quiet: true,
      logger,
    });
    try {
      const res = await realFetch(`${demo.url}tasks`);
      assert.equal(res.status, 500);
      assert.match(await res.text(), /This demo is not configured yet/);
      assert.ok(
        logs.some((l) => /missing\.json does not exist/.test(l)),
        `logs say what to fix: ${logs.join(' | ')}`,
      );
      assert.deepEqual(outside, []);
    } finally {
      await demo.close();
    }
  });
});

function decodeEntities(text: string): string {
  return text
    .replace(/&#(\d+);/g, (_m, code: string) => String.fromCharCode(Number(code)))
    .replaceAll('&amp;', '&');
}

// ---- npm start -------------------------------------------------------------------------------------

describe('npm start', () => {
  test(
    'starts the demo on PORT, PORT+1 and PORT+2 and prints the URL to open',
    { timeout: 60_000 },
    async () => {
      const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {
        scripts: Record<string, string>;
      };
      assert.equal(pkg.scripts.start, 'node --import tsx examples/demo.ts');
      const port = await freePortRun(3);
      const dataDir = await mkdtemp(join(tmpdir(), 'oauthkit-demo-start-'));
      const child = spawn('npm', ['start'], {
        cwd: ROOT,
        env: { ...process.env, PORT: String(port), DATA_DIR: dataDir },
        stdio: ['ignore', 'pipe', 'pipe'],
        // Its own process group, so that npm, its shell and node stop together.
        detached: true,
      });
      const exited = new Promise<number | null>((resolve) =>
        child.on('exit', (code) => resolve(code)),
      );
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      try {
        const url = await new Promise<string>((resolve, reject) => {
          const timer = setTimeout(
            () => reject(new Error(`no URL printed in 30 s:\n${output}`)),
            30_000,
          );
          const check = () => {
            const m = /Open (http:\/\/\S+)/.exec(output);
            if (m) {
              clearTimeout(timer);
              resolve(m[1]!);
            }
          };
          child.stdout.on('data', check);
          void exited.then(() => reject(new Error(`npm start exited:\n${output}`)));
        });
        assert.equal(url, `http://127.0.0.1:${port}/`);
        const home = await fetch(url);
        assert.equal(home.status, 200);
        assert.match(await home.text(), /Not connected/);
        const meta = await fetch(`http://127.0.0.1:${port + 1}/.well-known/openid-configuration`);
        assert.equal(
          ((await meta.json()) as { issuer: string }).issuer,
          `http://127.0.0.1:${port + 1}`,
        );
        const api = await fetch(`http://127.0.0.1:${port + 2}/tasks/v1/users/@me/lists`);
        assert.equal(api.status, 401);
        await api.body?.cancel();
        const secret = (await readFile(join(dataDir, 'demo-secret'), 'utf8')).trim();
        assert.ok(secret.length >= 32);
      } finally {
        if (child.exitCode === null) process.kill(-child.pid!, 'SIGTERM');
        await exited;
        await rm(dataDir, { recursive: true, force: true });
      }
    },
  );
});

/** The first of `n` consecutive free loopback ports. */
async function freePortRun(n: number): Promise<number> {
  const hold = (port: number) =>
    new Promise<Server | undefined>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(undefined));
      s.listen(port, '127.0.0.1', () => resolve(s));
    });
  const release = (servers: Server[]) =>
    Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  for (let attempt = 0; attempt < 50; attempt++) {
    const first = await hold(0);
    if (!first) continue;
    const base = (first.address() as { port: number }).port;
    const held = [first];
    for (let i = 1; i < n; i++) {
      const s = base + i <= 65535 ? await hold(base + i) : undefined;
      if (!s) break;
      held.push(s);
    }
    await release(held);
    if (held.length === n) return base;
  }
  throw new Error(`no run of ${n} free ports found`);
}
