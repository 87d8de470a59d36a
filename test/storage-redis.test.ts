import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { CredentialsInvalidError, StoreError } from '../src/core/errors.js';
import { generateEncryptionKey } from '../src/storage/encryption.js';
import {
  createRedisStore,
  type RedisClient,
  type RedisStoreOptions,
} from '../src/storage/redis.js';
import { createRedis, deleteKeys, redisKeys, redisPrefix } from './support/databases.js';
import {
  storeSuite,
  testCredentials as creds,
  shownInLog as shown,
} from './support/store-suite.js';

const redis = createRedis();
const otherRedis = createRedis();
after(() => {
  redis.disconnect();
  otherRedis.disconnect();
});

/** A node-redis-shaped client (`sendCommand([name, ...args])`) over ioredis. */
const nodeRedisShaped = (client: Redis): RedisClient => ({
  sendCommand: (args: string[]) => client.call(args[0]!, ...args.slice(1)),
});

const KEYS = [{ id: 'k1', key: generateEncryptionKey() }];

for (const [label, encrypted, shape] of [
  ['redis', false, 'ioredis'],
  ['redis (encrypted)', true, 'ioredis'],
  ['redis (node-redis sendCommand shape)', false, 'node-redis'],
] as const) {
  storeSuite(
    label,
    async ({ codec } = {}) => {
      const prefix = redisPrefix();
      const options = (client: Redis): RedisStoreOptions => ({
        client: shape === 'ioredis' ? client : nodeRedisShaped(client),
        prefix,
        codec,
        encryptionKeys: encrypted ? KEYS : undefined,
      });
      return {
        store: createRedisStore(options(redis)),
        twin: () => createRedisStore(options(otherRedis)),
        cleanup: () => deleteKeys(redis, prefix),
      };
    },
    { lock: true, listing: true },
  );
}

describe('redis store', () => {
  let prefix: string;
  beforeEach(() => {
    prefix = redisPrefix();
  });
  afterEach(() => deleteKeys(redis, prefix));

  it('keeps credentials at <prefix>cred:<key> as versioned JSON, with no expiry', async () => {
    const store = createRedisStore({ client: redis, prefix });
    await store.put('user-1', creds('1'));
    assert.deepEqual(await redisKeys(redis, prefix), [`${prefix}cred:user-1`]);
    const json = JSON.parse((await redis.get(`${prefix}cred:user-1`))!);
    assert.equal(json.v, 1);
    assert.equal(json.refresh_token, '1//secret-refresh-1');
    assert.equal(await redis.pttl(`${prefix}cred:user-1`), -1);
  });

  it('holds a lease at <prefix>lock:<key> with a random token and an expiry, and deletes it after', async () => {
    const store = createRedisStore({ client: redis, prefix });
    await store.lock(
      'user-1',
      async () => {
        assert.match((await redis.get(`${prefix}lock:user-1`))!, /^[0-9a-f]{32}$/);
        const ttl = await redis.pttl(`${prefix}lock:user-1`);
        assert.ok(ttl > 0 && ttl <= 7000, `lease ttl ${ttl}`);
      },
      { leaseMs: 7000 },
    );
    assert.equal(await redis.exists(`${prefix}lock:user-1`), 0);
  });

  it('stores with different prefixes share nothing; the default prefix is oauthkit:', async () => {
    const a = createRedisStore({ client: redis, prefix: `${prefix}a:` });
    const b = createRedisStore({ client: redis, prefix: `${prefix}b:` });
    await a.put('user-1', creds('a'));
    assert.equal(await b.get('user-1'), undefined);
    const keysOf = async (s: typeof a) => {
      const out: string[] = [];
      for await (const k of s.keys()) out.push(k);
      return out;
    };
    assert.deepEqual(await keysOf(b), []);
    assert.deepEqual(await keysOf(a), ['user-1']);
    const key = `oauthkit:cred:default-prefix-${prefix}`;
    const plain = createRedisStore({ client: redis });
    await plain.put(`default-prefix-${prefix}`, creds('d'));
    try {
      assert.equal(await redis.exists(key), 1);
    } finally {
      await redis.del(key);
    }
  });

  it('a prefix with glob characters lists only its own keys', async () => {
    const star = createRedisStore({ client: redis, prefix: `${prefix}*:` });
    const other = createRedisStore({ client: redis, prefix: `${prefix}x:` });
    await star.put('user-1', creds('1'));
    await other.put('user-2', creds('2'));
    const out: string[] = [];
    for await (const k of star.keys()) out.push(k);
    assert.deepEqual(out, ['user-1']);
  });

  it('get() rejects with CredentialsInvalidError for a garbage value; other keys keep working', async () => {
    const store = createRedisStore({ client: redis, prefix });
    await store.put('user-1', creds('1'));
    await store.put('user-2', creds('2'));
    await redis.set(`${prefix}cred:user-1`, '{"v":1,"acc');
    await assert.rejects(() => store.get('user-1'), CredentialsInvalidError);
    assert.equal((await store.get('user-2'))?.accessToken, 'ya29.secret-access-2');
  });

  it('a key of the wrong Redis type is a StoreError with the driver’s message', async () => {
    const store = createRedisStore({ client: redis, prefix });
    await redis.rpush(`${prefix}cred:user-1`, 'x');
    await assert.rejects(
      () => store.get('user-1'),
      (err: unknown) =>
        err instanceof StoreError &&
        err.message === 'redis store: GET failed' &&
        /WRONGTYPE/.test((err.cause as Error).message),
    );
  });

  for (const [label, options] of [
    ['"client"', { client: undefined }],
    ['"client"', { client: {} }],
    ['"prefix"', { prefix: 42 }],
    ['"timeoutMs"', { timeoutMs: 0 }],
    ['"lockWaitMs"', { lockWaitMs: -5 }],
    ['"codec"', { codec: {} }],
    ['"keys"', { encryptionKeys: 'k1:abc' }],
  ] as const) {
    it(`throws a TypeError naming ${label} for ${JSON.stringify(options)}`, () => {
      assert.throws(
        () => createRedisStore({ client: redis, ...options } as unknown as RedisStoreOptions),
        (err: unknown) => err instanceof TypeError && err.message.includes(label),
      );
    });
  }
});

describe('redis store when Redis fails', () => {
  let server: Server;
  let port: number;
  beforeEach(async () => {
    // A port that accepts connections and never answers: a hung Redis.
    server = createServer(() => {});
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
  });
  afterEach(async () => {
    server.close();
  });

  it('an unanswered command fails with a StoreError after timeoutMs, naming the command', async () => {
    const hung = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: null });
    hung.on('error', () => {});
    try {
      const store = createRedisStore({ client: hung, prefix: 'x:', timeoutMs: 200 });
      const err: unknown = await store.put('user-1', creds('1')).then(
        () => assert.fail('resolved'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof StoreError);
      assert.match(
        err.message,
        /^redis store: SET failed \(no reply within 200 ms; is Redis reachable\?\)$/,
      );
      assert.doesNotMatch(shown(err), /secret|ya29|1\/\//);
      await assert.rejects(() => store.get('user-1'), StoreError);
      await assert.rejects(
        () => store.lock('user-1', async () => 1, { leaseMs: 1000 }),
        StoreError,
      );
    } finally {
      hung.disconnect();
    }
  });

  it('a refused connection fails at once with the driver’s reason as cause', async () => {
    await new Promise<void>((r) => server.close(() => r()));
    const down = new Redis({
      port,
      host: '127.0.0.1',
      enableOfflineQueue: false,
      retryStrategy: () => null,
      lazyConnect: true,
    });
    down.on('error', () => {});
    try {
      const store = createRedisStore({ client: down, prefix: 'x:' });
      await assert.rejects(
        () => store.get('user-1'),
        (err: unknown) =>
          err instanceof StoreError &&
          err.message === 'redis store: GET failed' &&
          err.cause instanceof Error &&
          err.cause.message.length > 0,
      );
    } finally {
      down.disconnect();
    }
  });

  it('the driver’s copy of the command (with the value) is not kept in the cause', async () => {
    const failure = Object.assign(new Error('OOM command not allowed'), {
      command: { name: 'set', args: ['x:cred:user-1', '{"access_token":"ya29.secret-access-1"}'] },
    });
    const store = createRedisStore({
      client: { call: () => Promise.reject(failure) },
      prefix: 'x:',
    });
    const err: unknown = await store.put('user-1', creds('1')).then(
      () => assert.fail('resolved'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof StoreError);
    assert.equal((err.cause as Error).message, 'OOM command not allowed');
    assert.equal('command' in (err.cause as object), false);
    assert.doesNotMatch(shown(err), /secret|ya29/);
  });
});
