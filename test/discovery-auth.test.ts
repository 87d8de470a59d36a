// build('tasks', 'v1') with oauthkit's authorized fetch, against a real authorization server
// (oidc-provider) and a local Tasks API that checks each bearer token by introspection.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TokenManager, createAuthorizedFetch } from '../src/index.js';
import { build, createMemoryCache, HttpError } from '../src/discovery/index.js';
import { createMemoryStore } from '../src/storage/memory.js';
import { startTasksApi, type TasksApi } from './support/discovery-tasks-api.js';
import { setupOAuth, type OAuthSetup } from './support/oauth.js';

const TASKS_SCOPE = 'https://www.googleapis.com/auth/tasks';

describe('the discovery client with the authorized fetch', () => {
  let t: OAuthSetup;
  let api: TasksApi;
  const store = createMemoryStore();
  before(async () => {
    t = await setupOAuth();
    const active = new Map<string, Promise<boolean>>();
    api = await startTasksApi({
      seed: 2,
      checkToken: (token) => {
        if (!token) return false;
        let p = active.get(token);
        if (!p) {
          p = fetch(`${t.provider.issuer}/token/introspection`, {
            method: 'POST',
            headers: {
              authorization: `Basic ${btoa('test-client:test-secret')}`,
              'content-type': 'application/x-www-form-urlencoded',
            },
            body: new URLSearchParams({ token }),
          })
            .then((r) => r.json() as Promise<{ active: boolean }>)
            .then((j) => j.active);
          active.set(token, p);
        }
        return p;
      },
    });
  });
  after(async () => {
    await api?.close();
    await t?.close();
  });

  it('lists and inserts tasks with the user token, sent only in the Authorization header', async () => {
    const creds = await t.login('ada', ['openid', 'offline_access', TASKS_SCOPE]);
    await store.put('ada', creds);
    const http = createAuthorizedFetch({
      tokens: new TokenManager({ client: t.client, store }),
      key: 'ada',
      allowedOrigins: [api.origin],
    });
    const service = await build<any>('tasks', 'v1', {
      discoveryUrl: api.discoveryUrl,
      cache: createMemoryCache(),
      http,
    });
    const list = (await service.tasks.list({ tasklist: '@default' }).execute()) as {
      items: { title: string }[];
    };
    assert.deepEqual(
      list.items.map((i) => i.title),
      ['seeded 1', 'seeded 2'],
    );
    const created = (await service.tasks
      .insert({ tasklist: '@default' }, { body: { title: 'Write the README' } })
      .execute()) as { id: string; title: string };
    assert.equal(created.title, 'Write the README');
    assert.deepEqual(api.seen.slice(-2), [creds.accessToken, creds.accessToken]);
    for (const r of api.server.requests) {
      assert.ok(!r.url.includes(creds.accessToken!), 'the token never appears in a URL');
    }
  });

  it('answers a 401 with one refresh and re-sends the POST body', async () => {
    const creds = await store.get('ada');
    await store.put('ada', creds!.with({ accessToken: 'stale-token' }));
    const http = createAuthorizedFetch({
      tokens: new TokenManager({ client: t.client, store }),
      key: 'ada',
    });
    const service = await build<any>('tasks', 'v1', {
      discoveryUrl: api.discoveryUrl,
      cache: createMemoryCache(),
    });
    const before = api.tasks.length;
    const created = (await service.tasks
      .insert({ tasklist: '@default' }, { body: { title: 'after refresh' } })
      .execute(http)) as { title: string };
    assert.equal(created.title, 'after refresh');
    assert.equal(api.tasks.length, before + 1, 'created once');
    assert.equal(api.seen.at(-2), 'stale-token');
    const fresh = await store.get('ada');
    assert.equal(api.seen.at(-1), fresh!.accessToken);
  });

  it('turns the API refusing the call into an HttpError 401 without the token in it', async () => {
    const service = await build<any>('tasks', 'v1', {
      discoveryUrl: api.discoveryUrl,
      cache: createMemoryCache(),
    });
    const anonymous = (request: Request) => {
      const headers = new Headers(request.headers);
      headers.set('authorization', 'Bearer not-a-real-token');
      return fetch(new Request(request, { headers }));
    };
    await assert.rejects(
      service.tasklists.list().execute(anonymous),
      (err: unknown) =>
        err instanceof HttpError &&
        err.status === 401 &&
        err.reasons[0] === 'authError' &&
        !JSON.stringify(err).includes('not-a-real-token') &&
        !err.message.includes('not-a-real-token'),
    );
  });
});
