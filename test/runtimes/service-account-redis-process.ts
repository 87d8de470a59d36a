// One app instance for the shared-cache test: gets a token for a service account through a
// Redis-backed token cache and prints it. Config comes in SA_PROCESS_CONFIG (JSON).
import { Redis } from 'ioredis';
import {
  createRedisTokenCache,
  ServiceAccountCredentials,
} from '../../src/service-account/index.js';

const config = JSON.parse(process.env['SA_PROCESS_CONFIG'] ?? '{}') as {
  keyFile: Record<string, unknown>;
  tokenUri: string;
  redisUrl: string;
  prefix: string;
  scopes: string[];
};
const redis = new Redis(config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
try {
  await redis.connect();
  const credentials = await ServiceAccountCredentials.fromKeyFile(config.keyFile, {
    scopes: config.scopes,
    allowedTokenUris: [config.tokenUri],
    allowHttpLoopback: true,
    cache: createRedisTokenCache({ client: redis, prefix: config.prefix }),
    onCacheError: (err) => {
      throw err;
    },
  });
  const { token, expiresAt } = await credentials.getAccessToken();
  process.stdout.write(JSON.stringify({ token, expiresAt }));
} finally {
  redis.disconnect();
}
