/**
 * oauthkit/discovery: Google API discovery documents to callable services, on Web APIs only
 * (Node, Bun, Deno, Cloudflare Workers). The seed's `build('calendar', 'v3')` and
 * `request.execute(http)`, with typed errors, retries, media, pagination and batches.
 *
 * @example
 * ```ts
 * import { build } from 'oauthkit/discovery';
 *
 * const service = await build('tasks', 'v1');
 * const tasks = await service.tasks.list({ tasklist: '@default' }).execute(decorator.http());
 * ```
 *
 * @module
 */
export {
  build,
  buildFromDocument,
  documentOf,
  DEFAULT_DISCOVERY_URLS,
  type BuildOptions,
  type ServiceOptions,
  type Authorizable,
  type DynamicService,
  type DynamicNode,
  type DynamicMethod,
} from './service.js';
export { ApiRequest, pageTokenLocation, type CallOptions, type ItemOf } from './request.js';
export { createBatch, MAX_BATCH_SIZE, type Batch, type BatchOptions } from './batch.js';
export { createMemoryCache, type DiscoveryCache, type MemoryCacheOptions } from './cache.js';
export { HttpError, type ApiErrorItem, type HttpErrorInit } from './errors.js';
export {
  CHUNK_GRANULARITY,
  parseMaxSize,
  mimeMatches,
  type MediaOptions,
  type UploadProtocol,
} from './media.js';
export type { Params, ParamValue } from './params.js';
export { expandPath, encodeTemplateValue } from './uri-template.js';
export { defaultSleep, parseRetryAfter, type HttpClient, type RetryOptions } from './transport.js';
export type {
  RestDescription,
  RestResource,
  RestMethod,
  JsonSchema,
  MediaUpload,
  MediaUploadProtocol,
} from './document.js';
