import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { createRedisTokenCache } from '../src/service-account/index.js';
import {
  createTestServiceAccount,
  startTokenEndpoint,
  type TestServiceAccount,
  type TestTokenEndpoint,
} from './support/sa-token-endpoint.js';

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const run = promisify(execFile);
const processScript = fileURLToPath(
  new URL('./runtimes/service-account-redis-process.ts', import.meta.url),
);

describe('shared token cache in Redis', () => {
  const prefix = `oauthkit-test:${randomUUID()}:`;
  let redis: Redis;
  let te: TestTokenEndpoint;
  let sa: TestServiceAccount;

  before(async () => {
    redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    te = await startTokenEndpoint();
    sa = await createTestServiceAccount(te.url);
    te.register(sa);
  });
  after(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    await te.close();
  });

  it('createRedisTokenCache() stores with a PX expiry under its prefix, and misses as undefined', async () => {
    const cache = createRedisTokenCache({ client: redis, prefix });
    assert.equal(await cache.get('absent'), undefined);
    await cache.set('k', 'v', 60_000);
    assert.equal(await cache.get('k'), 'v');
    assert.equal(await redis.get(`${prefix}k`), 'v');
    const pttl = await redis.pttl(`${prefix}k`);
    assert.ok(pttl > 0 && pttl <= 60_000, `pttl ${pttl}`);
    await cache.set('short', 'v', 0.4);
    assert.ok((await redis.pttl(`${prefix}short`)) <= 1, 'a sub-millisecond TTL still expires');
  });

  it('two processes share one minted token through Redis', async () => {
    const config = {
      keyFile: sa.keyFile,
      tokenUri: te.url,
      redisUrl: REDIS_URL,
      prefix,
      scopes: ['https://www.googleapis.com/auth/tasks'],
    };
    const spawnInstance = async () => {
      const { stdout } = await run(process.execPath, ['--import', 'tsx', processScript], {
        env: { ...process.env, SA_PROCESS_CONFIG: JSON.stringify(config) },
        timeout: 20_000,
      });
      return JSON.parse(stdout) as { token: string; expiresAt: number };
    };
    const first = await spawnInstance();
    assert.equal(te.mints, 1);
    const second = await spawnInstance();
    assert.equal(second.token, first.token);
    assert.equal(second.expiresAt, first.expiresAt);
    assert.equal(te.mints, 1, 'the second process minted nothing');

    const keys = await redis.keys(`${prefix}*`);
    const key = keys.find((k) => k.includes(sa.email));
    assert.ok(key, 'keyed by the account');
    const pttl = await redis.pttl(key);
    assert.ok(pttl > 0 && pttl <= 3600_000 - 300_000, 'the entry expires ahead of the token');
  });
});
