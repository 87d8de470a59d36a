/**
 * Batch requests: several calls in one `multipart/mixed` HTTP request to the API's `batchPath`.
 *
 * @module
 */
import { HttpError, httpErrorFrom, httpErrorFromText } from './errors.js';
import { parseBody, requestParts, type ApiRequest, type ServiceContext } from './request.js';
import { sendWithRetry, type HttpClient } from './transport.js';

/**
 * The most calls one batch may carry (Google's limit; some APIs allow fewer).
 *
 * @example
 * ```ts
 * for (let i = 0; i < calls.length; i += MAX_BATCH_SIZE) await send(calls.slice(i, i + MAX_BATCH_SIZE));
 * ```
 */
export const MAX_BATCH_SIZE = 1000;

/** Options of {@link createBatch}. */
export interface BatchOptions {
  /** The client that sends the batch; the service's by default. */
  http?: HttpClient;
  /** Ends the batch request when aborted. */
  signal?: AbortSignal;
}

/**
 * A batch of calls to one service, sent as one HTTP request. Each `add()` returns a promise for
 * that call's own result or {@link HttpError}; `execute()` sends them all.
 */
export interface Batch {
  /**
   * Adds a call. The returned promise settles after `execute()`; a rejection left unobserved is
   * not reported as unhandled.
   *
   * @param request a request made by a method of the batch's service (no media)
   * @returns the call's parsed response
   */
  add<T>(request: ApiRequest<T>): Promise<T>;
  /** How many calls have been added. */
  readonly size: number;
  /**
   * Sends the batch. Resolves, once every call has settled, to one settled result per call in
   * the order added; rejects only when the batch request itself fails (then every call rejects
   * with the same error).
   *
   * @param http the client to send with; the batch's or the service's by default
   * @returns the settled result of each call
   */
  execute(http?: HttpClient): Promise<PromiseSettledResult<unknown>[]>;
}

/**
 * The shared context of each built service, registered by the service builder (internal).
 *
 * @example
 * ```ts
 * const ctx = serviceContexts.get(service);
 * ```
 */
export const serviceContexts = new WeakMap<object, ServiceContext>();

interface Entry {
  request: ApiRequest<unknown>;
  resolve: (value: unknown) => void;
  reject: (reason: unknown) => void;
  promise: Promise<unknown>;
}

const CRLF = '\r\n';

/** Splits `head\r\n\r\nbody` (or with bare `\n`) at the first blank line. */
function splitHead(text: string): [string, string] {
  const m = /\r?\n\r?\n/.exec(text);
  return m ? [text.slice(0, m.index), text.slice(m.index + m[0].length)] : [text, ''];
}

function parseHeaders(head: string): Headers {
  const headers = new Headers();
  for (const line of head.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) headers.append(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  return headers;
}

/** One response of a `multipart/mixed` batch answer, keyed by its Content-ID. */
interface PartResponse {
  id: string;
  status: number;
  statusText: string;
  contentType: string | null;
  body: string;
}

/**
 * Parses a `multipart/mixed` batch response body into its parts.
 *
 * @param text the body
 * @param boundary the boundary from the response's content type
 * @returns the parts that carry an HTTP response
 * @example
 * ```ts
 * const parts = parseBatchResponse(await response.text(), 'batch_abc');
 * ```
 */
export function parseBatchResponse(text: string, boundary: string): PartResponse[] {
  const out: PartResponse[] = [];
  const chunks = text.split(`--${boundary}`);
  // Before the first delimiter is the preamble; after the closing `--` the epilogue.
  for (const raw of chunks.slice(1)) {
    if (raw.startsWith('--')) break;
    const [partHead, http] = splitHead(raw.replace(/^\r?\n/, ''));
    const id = parseHeaders(partHead).get('content-id') ?? '';
    const [responseHead, body] = splitHead(http);
    const [statusLine = '', ...headerLines] = responseHead.split(/\r?\n/);
    const m = /^HTTP\/\d(?:\.\d)?\s+(\d{3})\s*(.*)$/.exec(statusLine.trim());
    if (!m) continue;
    const headers = parseHeaders(headerLines.join('\n'));
    out.push({
      id,
      status: Number(m[1]),
      statusText: m[2] ?? '',
      contentType: headers.get('content-type'),
      body: body.replace(/\r?\n$/, ''),
    });
  }
  return out;
}

/**
 * Creates a batch for a built service. The calls go in one `multipart/mixed` POST to
 * `rootUrl + batchPath`; the outer request's authorization covers every call, so no token is
 * written into the parts. Media uploads and downloads cannot be batched.
 *
 * @param service a service from `build()` or `buildFromDocument()`
 * @param options the default client, an abort signal
 * @returns an empty batch
 * @throws {TypeError} when `service` is not a built service, or the API has no `batchPath`
 * @example
 * ```ts
 * const batch = createBatch(service);
 * const a = batch.add(service.tasks.get({ tasklist: '@default', task: 'a' }));
 * const b = batch.add(service.tasks.get({ tasklist: '@default', task: 'b' }));
 * await batch.execute(http);
 * console.log((await a).title, (await b).title);
 * ```
 */
export function createBatch(service: object, options: BatchOptions = {}): Batch {
  const ctx = serviceContexts.get(service);
  if (ctx === undefined) throw new TypeError('"service" must be a service made by build()');
  const batchPath = ctx.document.batchPath;
  if (!batchPath) throw new TypeError(`${ctx.document.id ?? 'this API'} has no batchPath`);
  const url = ctx.rootUrl + batchPath.replace(/^\//, '');
  const entries: Entry[] = [];
  let sent = false;

  return {
    get size() {
      return entries.length;
    },
    add<T>(request: ApiRequest<T>): Promise<T> {
      if (sent) throw new TypeError('batch.add(): this batch was already executed');
      const parts = requestParts(request as ApiRequest<unknown>);
      if (parts === undefined) throw new TypeError('batch.add(): "request" must be an ApiRequest');
      if (parts.ctx !== ctx) {
        throw new TypeError('batch.add(): the request belongs to another service');
      }
      if (parts.upload) throw new TypeError('batch.add(): media uploads cannot be batched');
      if (entries.length >= MAX_BATCH_SIZE) {
        throw new TypeError(`batch.add(): a batch holds at most ${MAX_BATCH_SIZE} calls`);
      }
      let resolve!: (value: unknown) => void;
      let reject!: (reason: unknown) => void;
      const promise = new Promise<unknown>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      // Callers often await only after execute(): mark the rejection handled meanwhile.
      promise.catch(() => {});
      entries.push({ request: request as ApiRequest<unknown>, resolve, reject, promise });
      return promise as Promise<T>;
    },
    async execute(http?: HttpClient): Promise<PromiseSettledResult<unknown>[]> {
      if (sent) throw new TypeError('batch.execute(): this batch was already executed');
      sent = true;
      if (entries.length === 0) return [];
      const client = http ?? options.http ?? ctx.http ?? ((request: Request) => fetch(request));
      const boundary = `batch_${crypto.randomUUID().replace(/-/g, '')}`;
      const batchId = crypto.randomUUID();
      let body = '';
      entries.forEach((entry, i) => {
        const parts = requestParts(entry.request)!;
        const target = new URL(parts.url);
        body += `--${boundary}${CRLF}content-type: application/http${CRLF}`;
        body += `content-id: <${batchId}+${i}>${CRLF}${CRLF}`;
        body += `${parts.httpMethod} ${target.pathname}${target.search} HTTP/1.1${CRLF}`;
        parts.headers.forEach((value, name) => {
          body += `${name}: ${value}${CRLF}`;
        });
        body += CRLF;
        if (parts.body !== undefined) body += parts.body;
        body += CRLF;
      });
      body += `--${boundary}--${CRLF}`;

      let response: Response;
      try {
        response = await sendWithRetry(
          () =>
            new Request(url, {
              method: 'POST',
              headers: { 'content-type': `multipart/mixed; boundary=${boundary}` },
              body,
              signal: options.signal ?? null,
            }),
          { http: client, retry: ctx.retry, retryable: false, signal: options.signal },
        );
        if (!response.ok) throw await httpErrorFrom(response, 'batch');
      } catch (err) {
        for (const entry of entries) entry.reject(err);
        throw err;
      }
      const type = response.headers.get('content-type') ?? '';
      const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(type);
      const text = await response.text();
      const parts = m ? parseBatchResponse(text, m[1] ?? m[2]!) : [];
      const byIndex = new Map<number, PartResponse>();
      for (const part of parts) {
        // Google echoes `<response-ID+N>`; match loosely on the trailing `+N`.
        const n = /\+(\d+)>?\s*$/.exec(part.id);
        if (n) byIndex.set(Number(n[1]), part);
      }
      entries.forEach((entry, i) => {
        const { methodId } = entry.request;
        const part = byIndex.get(i);
        if (part === undefined) {
          entry.reject(
            new HttpError({
              status: response.status,
              message: `${methodId}: the batch response has no answer for this call`,
              methodId,
            }),
          );
        } else if (part.status < 200 || part.status >= 300) {
          entry.reject(httpErrorFromText(part.status, part.statusText, part.body, methodId));
        } else {
          try {
            entry.resolve(parseBody(part.status, part.contentType, part.body, methodId));
          } catch (err) {
            entry.reject(err);
          }
        }
      });
      return Promise.allSettled(entries.map((e) => e.promise));
    },
  };
}
