import assert from 'node:assert/strict';
import { after, afterEach, describe, it } from 'node:test';
import { createRedisFlowStore } from '../src/decorator/flow-store-redis.js';
import { HttpBrowser } from './support/app.js';
import {
  createRedis,
  deleteKeys,
  redisKeys,
  redisPrefix,
  unreachableRedis,
} from './support/databases.js';
import { startDecoratorApp, type DecoratorApp } from './support/decorator-app.js';
import { FLOW_SECRET, flowRecord, flowStoreSuite } from './support/flow-store-suite.js';

const redis = createRedis();
after(() => redis.disconnect());

flowStoreSuite('redis', async (options = {}) => {
  const prefix = redisPrefix();
  const make = (o: typeof options) =>
    createRedisFlowStore({ client: redis, prefix, secret: FLOW_SECRET, ...o });
  const store = make(options);
  return {
    store,
    sibling: make,
    async entries() {
      const keys = await redisKeys(redis, `${prefix}flow:`);
      return Promise.all(
        keys.map(
          async (k) =>
            [k.slice(`${prefix}flow:`.length), (await redis.get(k))!] as [string, string],
        ),
      );
    },
    async write(id, text) {
      await redis.set(`${prefix}flow:${id}`, text, 'PX', 60_000);
    },
    cleanup: () => deleteKeys(redis, prefix),
  };
});

describe('redis flow store', () => {
  it('keeps each record at <prefix>flow:<id> with a TTL until the flow expires', async () => {
    const prefix = redisPrefix();
    try {
      const store = createRedisFlowStore({ client: redis, prefix, secret: FLOW_SECRET });
      await store.save(flowRecord({ expiresAt: Date.now() + 120_000 }));
      const [key] = await redisKeys(redis, prefix);
      assert.match(
        key!,
        new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}flow:[A-Za-z0-9_-]{43}$`),
      );
      const ttl = await redis.pttl(key!);
      assert.ok(ttl > 100_000 && ttl <= 120_000, `ttl ${ttl}`);
      assert.match((await redis.get(key!))!, /^v1\.[A-Za-z0-9_-]{8}\.[A-Za-z0-9_-]{43}\.\{/);
    } finally {
      await deleteKeys(redis, prefix);
    }
  });

  it('checks its options with TypeErrors naming them', () => {
    for (const [options, name] of [
      [{ client: {} }, '"client"'],
      [{ client: redis, secret: undefined }, '"secret"'],
      [{ client: redis, prefix: 1 }, '"prefix"'],
      [{ client: redis, timeoutMs: -1 }, '"timeoutMs"'],
    ] as const) {
      assert.throws(
        () => createRedisFlowStore({ secret: FLOW_SECRET, ...options } as never),
        (err: unknown) => err instanceof TypeError && err.message.includes(name),
      );
    }
  });
});

describe('the decorator with the Redis flow store', () => {
  let app: DecoratorApp;
  let prefix: string;
  const flowKeys = () => redisKeys(redis, `${prefix}flow:`);

  const start = async (withUser = false) => {
    prefix = redisPrefix();
    app = await startDecoratorApp({
      withUser,
      decorator: {
        flowStore: createRedisFlowStore({ client: redis, prefix, secret: FLOW_SECRET }),
      },
    });
  };
  afterEach(async () => {
    await app?.close();
    await deleteKeys(redis, prefix);
  });

  /** Starts a flow and answers at the provider: the callback URL and the flow cookie. */
  async function pendingCallback(browser: HttpBrowser, headers: Record<string, string> = {}) {
    const first = await browser.request(`${app.origin}/tasks`, { headers });
    assert.equal(first.status, 302);
    const flowCookie = first.headers
      .getSetCookie()
      .find((c) => /flow-/.test(c))!
      .split(';')[0]!;
    const callback = await app.provider.authorize(first.headers.get('location')!, {
      login: browser.login,
      jar: browser.providerJar,
    });
    return { callback, cookie: flowCookie };
  }

  it('signs in: the record lives in Redis during the flow, under an id the cookie does not show, and is gone after', async () => {
    await start();
    const browser = new HttpBrowser(app.provider, 'fay');
    const { callback, cookie } = await pendingCallback(browser);
    const keys = await flowKeys();
    assert.equal(keys.length, 1);
    const handle = cookie.split('=')[1]!;
    assert.ok(!keys[0]!.includes(handle));
    assert.ok(!(await redis.get(keys[0]!))!.includes(handle));
    const done = await browser.request(callback);
    assert.equal(done.status, 303);
    assert.equal(done.headers.get('location'), '/tasks');
    assert.deepEqual(await flowKeys(), []);
    const page = await browser.visit(`${app.origin}/tasks`);
    assert.equal(page.response.status, 200);
    assert.equal(((await page.response.json()) as { sub: string }).sub, 'fay');
  });

  it('a replayed callback is refused before any token request', async () => {
    await start();
    const browser = new HttpBrowser(app.provider, 'gus');
    const { callback, cookie } = await pendingCallback(browser);
    assert.equal((await fetch(callback, { headers: { cookie }, redirect: 'manual' })).status, 303);
    app.provider.resetCounts();
    const replay = await fetch(callback, { headers: { cookie }, redirect: 'manual' });
    assert.equal(replay.status, 400);
    assert.match(await replay.text(), /already been used/);
    assert.equal(app.provider.counts.token, 0);
  });

  it('ten concurrent identical callbacks: one code exchange, one sign-in, nine refusals', async () => {
    await start();
    const browser = new HttpBrowser(app.provider, 'hal');
    const { callback, cookie } = await pendingCallback(browser);
    app.provider.resetCounts();
    const statuses = await Promise.all(
      Array.from({ length: 10 }, () =>
        fetch(callback, { headers: { cookie }, redirect: 'manual' }).then(async (r) => {
          await r.body?.cancel();
          return r.status;
        }),
      ),
    );
    assert.deepEqual(statuses.sort(), [303, 400, 400, 400, 400, 400, 400, 400, 400, 400]);
    assert.equal(app.provider.counts.token, 1);
  });

  it('a flow started by one app user and finished by another is refused before any token request', async () => {
    await start(true);
    const browser = new HttpBrowser(app.provider, 'ida');
    const { callback, cookie } = await pendingCallback(browser, { 'x-user': 'alice' });
    app.provider.resetCounts();
    const res = await fetch(callback, {
      headers: { cookie, 'x-user': 'bob' },
      redirect: 'manual',
    });
    assert.equal(res.status, 403);
    assert.equal(app.provider.counts.token, 0);
    assert.deepEqual(await flowKeys(), [], 'the record was used up all the same');
  });

  it('a record altered in Redis sends back a 400 and makes no token request', async () => {
    await start();
    const browser = new HttpBrowser(app.provider, 'jo');
    const { callback, cookie } = await pendingCallback(browser);
    const [key] = await flowKeys();
    const text = (await redis.get(key!))!;
    await redis.set(key!, text.replace('"returnTo":"/tasks"', '"returnTo":"/admin"'), 'KEEPTTL');
    assert.notEqual(await redis.get(key!), text, 'the edit took');
    app.provider.resetCounts();
    const res = await fetch(callback, { headers: { cookie }, redirect: 'manual' });
    assert.equal(res.status, 400);
    assert.equal(app.provider.counts.token, 0);
  });

  it('with Redis unreachable, a sign-in is a 503 page while routes that need no flow keep working', async () => {
    const dead = await unreachableRedis();
    prefix = redisPrefix();
    app = await startDecoratorApp({
      withUser: true,
      decorator: { flowStore: createRedisFlowStore({ client: dead, secret: FLOW_SECRET }) },
    });
    try {
      const res = await fetch(`${app.origin}/tasks`, {
        headers: { 'x-user': 'kim' },
        redirect: 'manual',
      });
      assert.equal(res.status, 503);
      assert.match(await res.text(), /Temporarily unavailable/);
      assert.ok(
        app.logs.some((l) => /store_failed: redis flow store: SET failed/.test(l)),
        app.logs.join('\n'),
      );
      const login = await fetch(`${app.origin}/login`);
      assert.equal(login.status, 200);
      assert.equal(await login.text(), 'login page');
    } finally {
      dead.disconnect();
    }
  });
});
