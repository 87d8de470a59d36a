/**
 * `build()` and `buildFromDocument()`: a discovery document to a service object whose resources
 * and methods are built lazily, on first access.
 *
 * @module
 */
import { serviceContexts } from './batch.js';
import { defaultCache, type DiscoveryCache } from './cache.js';
import {
  assertRestDescription,
  type RestDescription,
  type RestMethod,
  type RestResource,
} from './document.js';
import { httpErrorFrom } from './errors.js';
import type { Params } from './params.js';
import { ApiRequest, type CallOptions, type ServiceContext } from './request.js';
import { resolveRetry, sendWithRetry, type HttpClient, type RetryOptions } from './transport.js';

/**
 * The discovery URLs `build()` tries in order: the V1 directory URL, then the per-API one.
 *
 * @example
 * ```ts
 * await build('tasks', 'v1', { discoveryUrl: [mirror, ...DEFAULT_DISCOVERY_URLS] });
 * ```
 */
export const DEFAULT_DISCOVERY_URLS: readonly string[] = [
  'https://www.googleapis.com/discovery/v1/apis/{api}/{apiVersion}/rest',
  'https://{api}.googleapis.com/$discovery/rest?version={apiVersion}',
];

/** Options of {@link buildFromDocument}. */
export interface ServiceOptions {
  /**
   * The HTTP client `execute()` uses when given none: an authorized fetch
   * (`createAuthorizedFetch()`, `decorator.http()`, a service account's `authorize()`), or
   * credentials with an `authorize()` method, which is called once. The global `fetch` by
   * default, which sends no credentials.
   */
  http?: HttpClient | Authorizable;
  /** Replaces the document's `rootUrl` (keeping `servicePath`), e.g. a local test server. */
  rootUrl?: string;
  /** An API key, sent as the `key` query parameter on every call. */
  key?: string;
  /** Retry options for every call; `false` for none. */
  retry?: RetryOptions | false;
}

/** Credentials that make an authorized HTTP client, such as oauthkit's service-account credentials. */
export interface Authorizable {
  /** @returns a fetch-compatible function that authorizes each request */
  authorize(): HttpClient;
}

/** Options of {@link build}. */
export interface BuildOptions extends ServiceOptions {
  /**
   * Where the document is: a URL template with `{api}` and `{apiVersion}`, or several tried in
   * order while they answer 404. Google's two discovery URLs by default.
   */
  discoveryUrl?: string | readonly string[];
  /** The fetch used to get the document (public; no credentials). The global `fetch` by default. */
  fetch?: HttpClient;
  /** Where fetched documents are kept; a process-wide memory cache by default. */
  cache?: DiscoveryCache;
}

/** A method of an untyped service: call it with parameters and options to get a request. */
export interface DynamicMethod {
  (params?: Params, options?: CallOptions): ApiRequest<any>;
}

/**
 * An untyped resource or method: callable when it is a method, and holding its sub-resources and
 * methods as properties. Generate types with `tools/gen-discovery-types.ts` for a typed service.
 */
export interface DynamicNode extends DynamicMethod {
  readonly [name: string]: DynamicNode;
}

/** An untyped service: its top-level resources and methods by name. */
export interface DynamicService {
  readonly [name: string]: DynamicNode;
}

function hasOwn<T>(
  record: Record<string, T> | undefined,
  key: string,
): record is Record<string, T> {
  return record !== undefined && Object.hasOwn(record, key);
}

function makeMethod(ctx: ServiceContext, method: RestMethod, path: string): DynamicMethod {
  if (typeof method !== 'object' || method === null || typeof method.path !== 'string') {
    throw new TypeError(`${path}: the document's method has no "path"`);
  }
  if (typeof method.httpMethod !== 'string') {
    throw new TypeError(`${path}: the document's method has no "httpMethod"`);
  }
  const methodId = method.id ?? path;
  return (params?: Params, options?: CallOptions) =>
    new ApiRequest(ctx, method, methodId, params, options);
}

/**
 * A resource as a read-only Proxy over a null-prototype object: members are made on first
 * access and kept. No `then`, `constructor` or prototype names leak in from Object.prototype.
 */
function makeNode(ctx: ServiceContext, def: RestResource, path: string, root: boolean): object {
  const members = new Map<string, unknown>();
  const methods = def.methods;
  const resources = def.resources;
  const names = () => [
    ...new Set([...Object.keys(methods ?? {}), ...Object.keys(resources ?? {})]),
  ];
  const member = (name: string): unknown => {
    if (members.has(name)) return members.get(name);
    const where = path ? `${path}.${name}` : name;
    let value: unknown;
    const method = hasOwn(methods, name) ? methods[name] : undefined;
    const resource = hasOwn(resources, name) ? resources[name] : undefined;
    if (method && resource) {
      // A method and a sub-resource share the name (identitytoolkit `projects.accounts`): the
      // method stays callable and the sub-resource's members are its properties, ahead of
      // Function.prototype's (`bind`, `call`, `apply`).
      const fn = makeMethod(ctx, method, where);
      const sub = makeNode(ctx, resource, where, false) as Record<string, unknown>;
      value = new Proxy(fn, {
        get: (target, p, receiver) =>
          typeof p === 'string' && p in sub ? sub[p] : Reflect.get(target, p, receiver),
        has: (target, p) => (typeof p === 'string' && p in sub) || Reflect.has(target, p),
        set: () => false,
        defineProperty: () => false,
        deleteProperty: () => false,
      });
    } else if (method) value = makeMethod(ctx, method, where);
    else if (resource) value = makeNode(ctx, resource, where, false);
    members.set(name, value);
    return value;
  };
  const target = Object.create(null) as object;
  return new Proxy(target, {
    get: (_, p) => {
      if (typeof p !== 'string') return undefined;
      // A service is returned from an async function: never look like a thenable.
      if (root && p === 'then') return undefined;
      return member(p);
    },
    has: (_, p) => typeof p === 'string' && (hasOwn(methods, p) || hasOwn(resources, p)),
    ownKeys: () => names(),
    getOwnPropertyDescriptor: (_, p) =>
      typeof p === 'string' && (hasOwn(methods, p) || hasOwn(resources, p))
        ? { value: member(p), enumerable: true, configurable: true, writable: false }
        : undefined,
    set: () => false,
    defineProperty: () => false,
    deleteProperty: () => false,
    setPrototypeOf: () => false,
  });
}

function resolveRootUrl(doc: RestDescription, override: string | undefined): string {
  const root = override ?? doc.rootUrl;
  if (typeof root !== 'string' || !URL.canParse(root)) {
    throw new TypeError('"rootUrl" must be an absolute URL');
  }
  return root.endsWith('/') ? root : `${root}/`;
}

/**
 * Makes a service from a discovery document already at hand (parsed, or its JSON text). Nothing
 * is fetched. Resources and methods are built on first access, so a large document (compute's
 * 4 MB) costs little until used.
 *
 * @typeParam S the service's type (generated by `tools/gen-discovery-types.ts`), untyped by default
 * @param document the discovery document, or its JSON text
 * @param options the default HTTP client, `rootUrl`, API `key`, retry options
 * @returns the service: `service.tasks.list({ tasklist: '@default' })` makes a request
 * @throws {TypeError} when the document is not a REST description or an option is invalid
 * @example
 * ```ts
 * import doc from './tasks-discovery.json' with { type: 'json' };
 * const service = buildFromDocument(doc, { http: decorator.http() });
 * const tasks = await service.tasks.list({ tasklist: '@default' }).execute();
 * ```
 */
export function buildFromDocument<S = DynamicService>(
  document: object | string,
  options: ServiceOptions = {},
): S {
  let value: unknown = document;
  if (typeof document === 'string') {
    try {
      value = JSON.parse(document);
    } catch {
      throw new TypeError('"document" is not valid JSON');
    }
  }
  const doc = assertRestDescription(value, '"document"');
  let http = options.http;
  if (typeof http === 'object' && http !== null && typeof http.authorize === 'function') {
    http = http.authorize();
  }
  if (http !== undefined && typeof http !== 'function') {
    throw new TypeError('"http" must be a fetch-compatible function or have an authorize() method');
  }
  if (options.key !== undefined && (typeof options.key !== 'string' || options.key === '')) {
    throw new TypeError('"key" must be a non-empty string');
  }
  const ctx: ServiceContext = {
    document: doc,
    rootUrl: resolveRootUrl(doc, options.rootUrl),
    http,
    key: options.key,
    retry: resolveRetry(options.retry),
  };
  const service = makeNode(ctx, doc, '', true);
  serviceContexts.set(service, ctx);
  return service as S;
}

/**
 * Gives the discovery document behind a built service (its title, scopes, schemas).
 *
 * @param service a service from `build()` or `buildFromDocument()`
 * @returns the document
 * @throws {TypeError} when `service` is not a built service
 * @example
 * ```ts
 * const scopes = Object.keys(documentOf(service).auth?.oauth2?.scopes ?? {});
 * ```
 */
export function documentOf(service: object): RestDescription {
  const ctx = serviceContexts.get(service);
  if (ctx === undefined) throw new TypeError('"service" must be a service made by build()');
  return ctx.document;
}

// Parsed documents by cache key, so that building the same API again skips JSON.parse (20 ms
// for compute) while the cache returns the very same text.
const parsed = new Map<string, { text: string; doc: RestDescription }>();
// Fetches in flight by URL: concurrent builds of one API fetch it once.
const inflight = new Map<string, Promise<string | undefined>>();

function parseCached(key: string, text: string): RestDescription {
  const hit = parsed.get(key);
  if (hit && hit.text === text) return hit.doc;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new TypeError(`the discovery document at ${key} is not valid JSON`);
  }
  const doc = assertRestDescription(value, key);
  parsed.delete(key);
  parsed.set(key, { text, doc });
  if (parsed.size > 32) parsed.delete(parsed.keys().next().value!);
  return doc;
}

const NAME = /^[A-Za-z0-9_.-]+$/;

/**
 * Fetches an API's discovery document (or takes it from the cache) and makes its service: the
 * seed's `build('calendar', 'v3')`. Tries each discovery URL in order while they answer 404.
 *
 * @typeParam S the service's type (generated by `tools/gen-discovery-types.ts`), untyped by default
 * @param api the API's name, `tasks`
 * @param version its version, `v1`
 * @param options the default HTTP client, `discoveryUrl`, `cache`, `fetch`, `rootUrl`, API
 *   `key`, retry options
 * @returns the service
 * @throws {TypeError} when an argument is invalid or the document is not a REST description
 * @throws {HttpError} when no discovery URL gives the document
 * @example
 * ```ts
 * const service = await build('calendar', 'v3');
 * const events = await service.events.list({ calendarId: 'primary' }).execute(decorator.http());
 * ```
 */
export async function build<S = DynamicService>(
  api: string,
  version: string,
  options: BuildOptions = {},
): Promise<S> {
  if (typeof api !== 'string' || !NAME.test(api)) {
    throw new TypeError('build(): "api" must be an API name such as "tasks"');
  }
  if (typeof version !== 'string' || !NAME.test(version)) {
    throw new TypeError('build(): "version" must be an API version such as "v1"');
  }
  const templates =
    options.discoveryUrl === undefined
      ? DEFAULT_DISCOVERY_URLS
      : typeof options.discoveryUrl === 'string'
        ? [options.discoveryUrl]
        : options.discoveryUrl;
  if (templates.length === 0 || templates.some((t) => typeof t !== 'string')) {
    throw new TypeError('build(): "discoveryUrl" must be a URL template or a list of them');
  }
  const urls = templates.map((t) =>
    t
      .replaceAll('{api}', encodeURIComponent(api))
      .replaceAll('{apiVersion}', encodeURIComponent(version))
      .replaceAll('{version}', encodeURIComponent(version)),
  );
  for (const url of urls) {
    if (!URL.canParse(url)) throw new TypeError(`build(): "discoveryUrl" gives an invalid URL`);
  }
  if (options.fetch !== undefined && typeof options.fetch !== 'function') {
    throw new TypeError('build(): "fetch" must be a fetch-compatible function');
  }
  const cache = options.cache ?? defaultCache;
  const send = options.fetch ?? ((request: Request) => fetch(request));
  const retry = resolveRetry(options.retry);

  for (const url of urls) {
    // A cache that fails (Redis down, say) must not stop the app: fetch the document instead.
    const text = await cache.get(url).catch(() => undefined);
    if (typeof text === 'string') return buildFromDocument<S>(parseCached(url, text), options);
  }
  for (const [i, url] of urls.entries()) {
    let pending = inflight.get(url);
    if (pending === undefined) {
      pending = (async () => {
        const response = await sendWithRetry(
          () => new Request(url, { headers: { accept: 'application/json' } }),
          { http: send, retry, retryable: true },
        );
        // The next URL may have it: the V1 directory lacks many newer APIs.
        if (response.status === 404 && i < urls.length - 1) {
          await response.body?.cancel().catch(() => {});
          return undefined;
        }
        if (!response.ok) throw await httpErrorFrom(response, 'discovery');
        const body = await response.text();
        parseCached(url, body);
        await cache.set(url, body).catch(() => {});
        return body;
      })();
      inflight.set(url, pending);
      pending.then(
        () => inflight.delete(url),
        () => inflight.delete(url),
      );
    }
    const text = await pending;
    if (text !== undefined) return buildFromDocument<S>(parseCached(url, text), options);
  }
  // Unreachable: the last URL either returns a document or throws.
  throw new TypeError('build(): no discovery URL to try');
}
