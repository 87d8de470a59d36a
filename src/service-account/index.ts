/**
 * oauthkit/service-account: an app calling APIs with its own identity, on Web APIs only (Node,
 * Bun, Deno, Cloudflare Workers). The metadata server ({@link AppAssertionCredentials}),
 * service-account key files ({@link ServiceAccountCredentials}), application default
 * credentials ({@link applicationDefault}), and a token cache shared through Redis.
 *
 * @example
 * ```ts
 * import { AppAssertionCredentials } from 'oauthkit/service-account';
 * const credentials = new AppAssertionCredentials({ scopes: ['https://www.googleapis.com/auth/tasks'] });
 * const res = await credentials.authorize()('https://tasks.googleapis.com/tasks/v1/users/@me/lists');
 * ```
 *
 * @module
 */
export {
  TokenCredentials,
  DEFAULT_RENEW_MARGIN_MS,
  DEFAULT_FAILURE_BACKOFF_MS,
  type TokenCache,
  type AccessToken,
  type TokenCredentialsOptions,
  type GetAccessTokenOptions,
  type AuthorizeOptions,
  type MintedToken,
} from './token-credentials.js';
export {
  ServiceAccountCredentials,
  type ServiceAccountCredentialsOptions,
  type ServiceAccountKeyInput,
} from './service-account-credentials.js';
export {
  AppAssertionCredentials,
  DEFAULT_METADATA_HOST,
  detectMetadataServer,
  metadataBaseUrl,
  metadataGet,
  type AppAssertionCredentialsOptions,
  type MetadataOptions,
  type MetadataDetection,
  type Env,
} from './app-assertion-credentials.js';
export {
  AuthorizedUserCredentials,
  type AuthorizedUserCredentialsOptions,
} from './authorized-user-credentials.js';
export {
  applicationDefault,
  ApplicationDefaultError,
  type ApplicationDefaultCredentials,
  type ApplicationDefaultOptions,
  type ApplicationDefaultAttempt,
} from './application-default.js';
export {
  parseCredentialsFile,
  GOOGLE_TOKEN_URI,
  GOOGLE_TOKEN_URIS,
  type ServiceAccountKeyFile,
  type AuthorizedUserFile,
} from './key-file.js';
export {
  createRedisTokenCache,
  createMemoryTokenCache,
  type RedisTokenCacheClient,
  type RedisTokenCacheOptions,
  type MemoryTokenCacheOptions,
} from './token-cache.js';
