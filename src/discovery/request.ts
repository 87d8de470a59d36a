/**
 * A call to one method: built (and checked) when the method is called, sent by `execute()`.
 *
 * @module
 */
import type { RestDescription, RestMethod, JsonSchema } from './document.js';
import { HttpError, httpErrorFrom } from './errors.js';
import {
  CHUNK_GRANULARITY,
  DEFAULT_CHUNK_SIZE,
  RESUMABLE_THRESHOLD,
  checkMedia,
  mediaBlob,
  multipartRelated,
  runResumableUpload,
  type MediaOptions,
  type UploadProtocol,
} from './media.js';
import { prepareParams, type Params } from './params.js';
import {
  IDEMPOTENT_METHODS,
  resolveRetry,
  sendWithRetry,
  type HttpClient,
  type ResolvedRetry,
  type RetryOptions,
} from './transport.js';
import { expandPath } from './uri-template.js';

/** What every call of one built service shares. */
export interface ServiceContext {
  /** The discovery document. */
  readonly document: RestDescription;
  /** The root URL in use (the document's, or the `rootUrl` option), ending in `/`. */
  readonly rootUrl: string;
  /** The default HTTP client. */
  readonly http: HttpClient | undefined;
  /** The API key sent as `key=`, when one is set. */
  readonly key: string | undefined;
  /** Retry options. */
  readonly retry: ResolvedRetry;
}

/** The second argument of every method: the request body, media and per-call options. */
export interface CallOptions<Body = unknown> {
  /** The JSON request body, for methods that declare one (`request` in the document). */
  body?: Body;
  /** Media to upload, for methods with `supportsMediaUpload`. */
  media?: MediaOptions;
  /** Extra headers for this call; they win over the client's own. */
  headers?: HeadersInit;
  /** Ends the call (and its retries) when aborted. */
  signal?: AbortSignal;
  /** Retry options for this call, over the service's; `false` for none. */
  retry?: RetryOptions | false;
}

/** The pieces of a request that batches need. */
export interface RequestParts {
  ctx: ServiceContext;
  httpMethod: string;
  url: string;
  headers: Headers;
  body: string | undefined;
  upload: boolean;
}

const internals = new WeakMap<ApiRequest<unknown>, RequestParts>();

/**
 * Gives a batch the pieces of a request (internal).
 *
 * @param request a request made by a service method
 * @returns what a batch needs to send it as one part
 * @example
 * ```ts
 * const parts = requestParts(service.tasks.get({ tasklist: 'a', task: 'b' }));
 * ```
 */
export function requestParts(request: ApiRequest<unknown>): RequestParts | undefined {
  return internals.get(request);
}

/**
 * JSON.stringify that writes bigints (64-bit integers) as decimal strings.
 *
 * @param value the value
 * @returns its JSON text
 * @example
 * ```ts
 * toJson({ size: 12345678901234567890n }); // '{"size":"12345678901234567890"}'
 * ```
 */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

/** Encodes a query key or value: RFC 3986 unreserved characters stay, the rest is %XX. */
function encodeQuery(s: string): string {
  return encodeURIComponent(s).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function withQuery(base: string, query: readonly (readonly [string, string])[]): string {
  if (query.length === 0) return base;
  return `${base}?${query.map(([k, v]) => `${encodeQuery(k)}=${encodeQuery(v)}`).join('&')}`;
}

/**
 * Reads a response body: `undefined` for 204 or an empty body, parsed JSON for JSON, else text.
 *
 * @param status the status
 * @param contentType the `content-type` header
 * @param text the body
 * @param methodId the method, for errors
 * @returns the result
 * @throws {HttpError} when a JSON response cannot be parsed
 * @example
 * ```ts
 * parseBody(200, 'application/json', '{"a":1}', 'm'); // { a: 1 }
 * ```
 */
export function parseBody(
  status: number,
  contentType: string | null,
  text: string,
  methodId: string,
): unknown {
  if (status === 204 || text === '') return undefined;
  const json = contentType ? /[/+]json\b/i.test(contentType) : /^\s*[{[]/.test(text);
  if (!json) return text;
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError({
      status,
      message: `${methodId}: the response is not valid JSON`,
      methodId,
    });
  }
}

async function readResult(response: Response, methodId: string): Promise<unknown> {
  if (!response.ok) throw await httpErrorFrom(response, methodId);
  const text = await response.text();
  return parseBody(response.status, response.headers.get('content-type'), text, methodId);
}

function schemaOf(doc: RestDescription, ref: string | undefined): JsonSchema | undefined {
  return ref === undefined ? undefined : doc.schemas?.[ref];
}

/**
 * Where a paged method takes its page token: `query` when it has a `pageToken` parameter,
 * `body` when its request schema has one, `undefined` when it does not page. A method pages
 * when its response schema has `nextPageToken` (the rule google-api-python-client follows).
 *
 * @param doc the document
 * @param method the method
 * @returns the token's place, or `undefined`
 * @example
 * ```ts
 * pageTokenLocation(doc, doc.resources!.tasks!.methods!.list!); // 'query'
 * ```
 */
export function pageTokenLocation(
  doc: RestDescription,
  method: RestMethod,
): 'query' | 'body' | undefined {
  const response = schemaOf(doc, method.response?.$ref);
  if (!response?.properties?.nextPageToken) return undefined;
  if (method.parameters?.pageToken) return 'query';
  if (schemaOf(doc, method.request?.$ref)?.properties?.pageToken) return 'body';
  return undefined;
}

function itemsField(doc: RestDescription, method: RestMethod, methodId: string): string {
  const props = schemaOf(doc, method.response?.$ref)?.properties ?? {};
  if (props.items) return 'items';
  const arrays = Object.keys(props).filter(
    (k) => props[k]!.type === 'array' && !['unreachable', 'warnings'].includes(k),
  );
  if (arrays.length === 1) return arrays[0]!;
  throw new TypeError(
    `${methodId}: cannot tell which field holds the items (${arrays.join(', ') || 'no array field'}); pass it to items()`,
  );
}

/**
 * A call to one API method, made by calling the method (`service.tasks.list({...})`). Nothing
 * is sent until {@link ApiRequest.execute}; `url`, `httpMethod`, `body` and `toRequest()` show
 * what would be sent. Parameters were checked when the request was made.
 *
 * @typeParam T the parsed response
 * @example
 * ```ts
 * const request = service.tasks.list({ tasklist: '@default', maxResults: 10 });
 * request.url; // 'https://tasks.googleapis.com/tasks/v1/lists/%40default/tasks?maxResults=10'
 * const tasks = await request.execute(http);
 * ```
 */
export class ApiRequest<T = unknown> {
  /** The method's id, `tasks.tasks.list`. */
  readonly methodId: string;
  /** The HTTP method, `GET`. */
  readonly httpMethod: string;
  /** The URL `execute()` sends to, query included (the upload URL for uploads). */
  readonly url: string;
  /** The JSON request body (the metadata, for uploads), or `undefined`. */
  readonly body: unknown;
  /** The parameters as given. */
  readonly params: Params;
  /** The upload protocol, when the call carries media. */
  readonly uploadProtocol: UploadProtocol | undefined;

  readonly #ctx: ServiceContext;
  readonly #method: RestMethod;
  readonly #options: CallOptions;
  readonly #retry: ResolvedRetry;
  readonly #json: string | undefined;
  readonly #query: [string, string][];
  readonly #methodUrl: string;
  readonly #media: { blob: Blob; mimeType: string } | undefined;

  /**
   * Made by service methods; not meant to be called directly.
   *
   * @param ctx the service's shared settings
   * @param method the method's definition
   * @param methodId its id
   * @param params the call's parameters
   * @param options body, media, headers, signal, retry
   */
  constructor(
    ctx: ServiceContext,
    method: RestMethod,
    methodId: string,
    params: Params | undefined,
    options: CallOptions | undefined,
  ) {
    if (options !== undefined && (typeof options !== 'object' || options === null)) {
      throw new TypeError(`${methodId}: the second argument must be an options object`);
    }
    const opts = options ?? {};
    this.methodId = methodId;
    this.httpMethod = method.httpMethod.toUpperCase();
    this.params = params ?? {};
    this.#ctx = ctx;
    this.#method = method;
    this.#options = opts;
    this.#retry = resolveRetry(opts.retry, ctx.retry);

    const { path, query } = prepareParams(methodId, method, ctx.document.parameters, params);
    if (ctx.key !== undefined && !query.some(([k]) => k === 'key')) query.push(['key', ctx.key]);
    this.#query = query;

    if (opts.body !== undefined) {
      if (!method.request) throw new TypeError(`${methodId}: this method takes no request body`);
      if (typeof opts.body !== 'object' || opts.body === null) {
        throw new TypeError(`${methodId}: "body" must be an object`);
      }
    }
    this.body = opts.body;
    this.#json = opts.body === undefined ? undefined : toJson(opts.body);

    const doc = ctx.document;
    this.#methodUrl = ctx.rootUrl + doc.servicePath + expandPath(method.path, path);

    if (opts.media === undefined) {
      this.#media = undefined;
      this.uploadProtocol = undefined;
      this.url = withQuery(this.#methodUrl, query);
    } else {
      const upload = method.mediaUpload;
      if (!method.supportsMediaUpload || !upload) {
        throw new TypeError(`${methodId}: this method does not accept media uploads`);
      }
      const media = mediaBlob(opts.media, methodId);
      checkMedia(methodId, upload, media.blob, media.mimeType);
      const simple = upload.protocols?.simple;
      const resumable = upload.protocols?.resumable;
      let protocol = opts.media.protocol;
      if (protocol === undefined) {
        if (resumable && media.blob.size > RESUMABLE_THRESHOLD) protocol = 'resumable';
        else protocol = opts.body !== undefined ? 'multipart' : 'media';
      }
      if (!['media', 'multipart', 'resumable'].includes(protocol)) {
        throw new TypeError(`${methodId}: "media.protocol" must be media, multipart or resumable`);
      }
      if (protocol === 'media' && opts.body !== undefined) {
        throw new TypeError(`${methodId}: "media.protocol" media cannot carry a body`);
      }
      if (protocol === 'multipart' && !method.request && simple?.multipart === false) {
        throw new TypeError(`${methodId}: this method takes no metadata; use protocol "media"`);
      }
      if (protocol === 'resumable' && !resumable) {
        throw new TypeError(`${methodId}: this method has no resumable upload protocol`);
      }
      if (protocol !== 'resumable' && opts.media.sessionUri !== undefined) {
        throw new TypeError(`${methodId}: "media.sessionUri" needs protocol "resumable"`);
      }
      const chunk = opts.media.chunkSize;
      if (
        chunk !== undefined &&
        (!Number.isSafeInteger(chunk) || chunk <= 0 || chunk % CHUNK_GRANULARITY !== 0)
      ) {
        throw new TypeError(`${methodId}: "media.chunkSize" must be a positive multiple of 262144`);
      }
      const template = (simple ?? resumable)!.path;
      const base =
        ctx.rootUrl.replace(/\/$/, '') +
        (template.startsWith('/') ? '' : '/') +
        expandPath(template, path);
      this.#media = media;
      this.uploadProtocol = protocol;
      this.url = withQuery(base, [['uploadType', protocol], ...query]);
    }
    internals.set(this, {
      ctx,
      httpMethod: this.httpMethod,
      url: this.url,
      headers: this.#headers('application/json'),
      body: this.#json,
      upload: this.#media !== undefined,
    });
  }

  #headers(accept: string): Headers {
    const headers = new Headers({ accept });
    if (this.#json !== undefined) headers.set('content-type', 'application/json; charset=UTF-8');
    if (this.#method.apiVersion) headers.set('x-goog-api-version', this.#method.apiVersion);
    if (this.#options.headers) {
      new Headers(this.#options.headers).forEach((value, name) => headers.set(name, value));
    }
    return headers;
  }

  #client(http: HttpClient | undefined): HttpClient {
    if (http !== undefined && typeof http !== 'function') {
      throw new TypeError(`${this.methodId}: "http" must be a fetch-compatible function`);
    }
    return http ?? this.#ctx.http ?? ((request: Request) => fetch(request));
  }

  /**
   * Makes the `Request` that `execute()` sends first: the call itself, or for uploads the
   * `media`/`multipart` upload or the request that starts a resumable session. A new `Request`
   * each time, since a body can be read once.
   *
   * @returns a Web `Request`
   * @example
   * ```ts
   * const req = service.tasks.insert({ tasklist: '@default' }, { body: { title: 'x' } }).toRequest();
   * req.method; // 'POST'
   * ```
   */
  toRequest(): Request {
    const signal = this.#options.signal;
    const headers = this.#headers('application/json');
    const media = this.#media;
    let body: BodyInit | undefined = this.#json;
    if (media && this.uploadProtocol === 'resumable') {
      headers.set('x-upload-content-type', media.mimeType);
      headers.set('x-upload-content-length', String(media.blob.size));
    } else if (media && this.uploadProtocol === 'multipart') {
      const multipart = multipartRelated(this.#json ?? '{}', media.blob, media.mimeType);
      headers.set('content-type', multipart.contentType);
      body = multipart.body;
    } else if (media) {
      headers.set('content-type', media.mimeType);
      body = media.blob;
    }
    return new Request(this.url, { method: this.httpMethod, headers, body: body ?? null, signal });
  }

  /**
   * Sends the call and resolves to the parsed JSON response (`undefined` for an empty one).
   * Retries 408, 429 and 5xx answers and network errors, with backoff and jitter and honouring
   * `Retry-After`, for idempotent methods only (never a POST). Uploads media by the chosen
   * protocol; a resumable upload resumes after interruptions.
   *
   * @param http the client to send with (an authorized fetch); the service's by default, else
   *   the global `fetch`
   * @returns the parsed response
   * @throws {HttpError} when the API answers with an error status
   * @example
   * ```ts
   * const lists = await service.tasklists.list().execute(decorator.http());
   * ```
   */
  async execute(http?: HttpClient): Promise<T> {
    const client = this.#client(http);
    const signal = this.#options.signal;
    let response: Response;
    if (this.uploadProtocol === 'resumable') {
      const media = this.#options.media!;
      response = await runResumableUpload({
        methodId: this.methodId,
        http: client,
        retry: this.#retry,
        start: () => this.toRequest(),
        sessionUri: media.sessionUri,
        blob: this.#media!.blob,
        chunkSize: media.chunkSize ?? DEFAULT_CHUNK_SIZE,
        onSession: media.onSession,
        onProgress: media.onProgress,
        signal,
      });
    } else {
      response = await sendWithRetry(() => this.toRequest(), {
        http: client,
        retry: this.#retry,
        retryable: IDEMPOTENT_METHODS.has(this.httpMethod),
        signal,
      });
    }
    return (await readResult(response, this.methodId)) as T;
  }

  /**
   * Downloads the media (`alt=media`) of a method with `supportsMediaDownload`, and resolves to
   * the successful `Response`: read `response.body` as a stream, or use `arrayBuffer()`,
   * `blob()`, `text()`. Pass a `range` header in the call's options for part of the media.
   *
   * @param http the client to send with; as in {@link ApiRequest.execute}
   * @returns the response, status 2xx, body unread
   * @throws {TypeError} when the method has no media download
   * @throws {HttpError} when the API answers with an error status
   * @example
   * ```ts
   * const res = await drive.files.get({ fileId }).download(http);
   * for await (const chunk of res.body!) process(chunk);
   * ```
   */
  async download(http?: HttpClient): Promise<Response> {
    if (!this.#method.supportsMediaDownload) {
      throw new TypeError(`${this.methodId}: this method has no media download`);
    }
    if (this.#media) throw new TypeError(`${this.methodId}: a call cannot upload and download`);
    const client = this.#client(http);
    const query = this.#query.filter(([k]) => k !== 'alt');
    const url = withQuery(this.#methodUrl, [...query, ['alt', 'media']]);
    const signal = this.#options.signal;
    const response = await sendWithRetry(
      () =>
        new Request(url, {
          method: this.httpMethod,
          headers: this.#headers('*/*'),
          body: this.#json ?? null,
          signal,
        }),
      {
        http: client,
        retry: this.#retry,
        retryable: IDEMPOTENT_METHODS.has(this.httpMethod),
        signal,
      },
    );
    if (!response.ok) throw await httpErrorFrom(response, this.methodId);
    return response;
  }

  /** The same call for another page. */
  #withPageToken(token: string, where: 'query' | 'body'): ApiRequest<T> {
    if (where === 'query') {
      return new ApiRequest<T>(
        this.#ctx,
        this.#method,
        this.methodId,
        { ...this.params, pageToken: token },
        this.#options,
      );
    }
    const body = { ...(this.body as Record<string, unknown> | undefined), pageToken: token };
    return new ApiRequest<T>(this.#ctx, this.#method, this.methodId, this.params, {
      ...this.#options,
      body,
    });
  }

  /**
   * Iterates over the pages of a paged method (a `pageToken` in the query or the request body,
   * `nextPageToken` in the response), sending one request per page, lazily. Stops when no
   * token comes back, or the same token comes back twice.
   *
   * @param http the client to send with; as in {@link ApiRequest.execute}
   * @returns an async iterator of parsed pages
   * @throws {TypeError} when the method does not page
   * @example
   * ```ts
   * for await (const page of service.tasks.list({ tasklist: '@default' }).pages(http)) {
   *   console.log(page.items?.length);
   * }
   * ```
   */
  async *pages(http?: HttpClient): AsyncGenerator<T, void, undefined> {
    const where = pageTokenLocation(this.#ctx.document, this.#method);
    if (where === undefined) throw new TypeError(`${this.methodId}: this method does not page`);
    const seen = new Set<string>();
    let request: ApiRequest<T> = this;
    for (;;) {
      const page = await request.execute(http);
      yield page;
      const token = (page as { nextPageToken?: unknown } | undefined)?.nextPageToken;
      if (typeof token !== 'string' || token === '' || seen.has(token)) return;
      seen.add(token);
      request = request.#withPageToken(token, where);
    }
  }

  /**
   * Iterates over the items of every page: the elements of the page's `items` array (or its one
   * other array field), or the `[key, value]` entries when `items` is a map (compute's
   * `aggregatedList`).
   *
   * @param http the client to send with; as in {@link ApiRequest.execute}
   * @param field the field that holds the items, when the schema leaves it unclear
   * @returns an async iterator of items
   * @throws {TypeError} when the method does not page, or the items field is unclear
   * @example
   * ```ts
   * for await (const task of service.tasks.list({ tasklist: '@default' }).items(http)) {
   *   console.log(task.title);
   * }
   * ```
   */
  async *items(http?: HttpClient, field?: string): AsyncGenerator<ItemOf<T>, void, undefined> {
    const name = field ?? itemsField(this.#ctx.document, this.#method, this.methodId);
    for await (const page of this.pages(http)) {
      const value = (page as Record<string, unknown> | undefined)?.[name];
      if (Array.isArray(value)) yield* value as ItemOf<T>[];
      else if (typeof value === 'object' && value !== null) {
        yield* Object.entries(value) as ItemOf<T>[];
      }
    }
  }
}

/** The item type of a page type: the element type of its `items` (or only array) field. */
export type ItemOf<T> = T extends { items?: infer I }
  ? I extends readonly (infer E)[]
    ? E
    : I extends Record<string, infer V>
      ? [string, V]
      : unknown
  : unknown;
