/**
 * Connections to the PostgreSQL and Redis servers the tests use (DATABASE_URL and REDIS_URL,
 * defaulting to the local services), and throwaway namespaces in them: every test makes its own
 * schema or key prefix and removes it, so no run depends on another's leftovers.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { Redis, type RedisOptions } from 'ioredis';
import pg from 'pg';

export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A random suffix for names: lower-case hex. */
export const randomSuffix = (bytes = 6) => randomBytes(bytes).toString('hex');

/** A pg Pool on DATABASE_URL; errors of idle clients are ignored (tests kill connections). */
export function createPool(options: pg.PoolConfig = {}): pg.Pool {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 10, ...options });
  pool.on('error', () => {});
  return pool;
}

/** Makes a fresh schema; `drop()` removes it with everything in it. */
export async function createSchema(
  pool: pg.Pool,
): Promise<{ schema: string; drop(): Promise<void> }> {
  const schema = `oauthkit_test_${randomSuffix()}`;
  await pool.query(`CREATE SCHEMA "${schema}"`);
  return { schema, drop: () => pool.query(`DROP SCHEMA "${schema}" CASCADE`).then(() => {}) };
}

/** An ioredis client on REDIS_URL. */
export function createRedis(options: RedisOptions = {}): Redis {
  const client = new Redis(REDIS_URL, options);
  client.on('error', () => {});
  return client;
}

/**
 * An ioredis client for a port nothing listens on, that fails every command at once (no offline
 * queue, no reconnecting): Redis down.
 */
export async function unreachableRedis(): Promise<Redis> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const client = new Redis({
    host: '127.0.0.1',
    port,
    enableOfflineQueue: false,
    retryStrategy: () => null,
    lazyConnect: true,
  });
  client.on('error', () => {});
  return client;
}

/** A fresh key prefix. */
export const redisPrefix = () => `oauthkit-test:${randomSuffix()}:`;

/** Deletes every key under a prefix. */
export async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  const keys = await redisKeys(redis, prefix);
  for (let i = 0; i < keys.length; i += 500) await redis.del(...keys.slice(i, i + 500));
}

/** Every key under a prefix. */
export async function redisKeys(redis: Redis, prefix: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    out.push(...found);
    cursor = next;
  } while (cursor !== '0');
  return [...new Set(out)];
}
