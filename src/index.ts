/**
 * oauthkit: the OAuth 2.0 core on Web APIs only (Node, Bun, Deno, Cloudflare Workers).
 *
 * @module
 */
export * from './core/errors.js';
export {
  Credentials,
  DEFAULT_EXPIRY_MARGIN_MS,
  CREDENTIALS_JSON_VERSION,
  splitScopes,
  type CredentialsInit,
  type CredentialsJSON,
} from './core/credentials.js';
export {
  GOOGLE,
  discoverProvider,
  isLoopback,
  type ProviderMetadata,
  type ProviderRequestOptions,
} from './core/provider.js';
export { parseClientSecrets, type ClientSecrets } from './core/client-secrets.js';
export {
  OAuthClient,
  classifyTokenError,
  type OAuthClientOptions,
  type AuthorizationUrlOptions,
  type PendingAuthorization,
} from './core/client.js';
export {
  TokenManager,
  type TokenManagerOptions,
  type RefreshOptions,
} from './core/token-manager.js';
export {
  createAuthorizedFetch,
  createBearerFetch,
  type AuthorizedFetch,
  type AuthorizedFetchOptions,
  type BearerFetchOptions,
  type BearerToken,
} from './core/authorized-fetch.js';
export {
  jsonCodec,
  assertStoreKey,
  type CredentialStore,
  type CredentialsCodec,
} from './core/store.js';
export * from './decorator/index.js';
