/**
 * Media uploads: the body types accepted, `accept` and `maxSize` checks, the `multipart/related`
 * body, and the resumable session (chunks, status queries, resume after an interruption).
 *
 * @module
 */
import type { MediaUpload } from './document.js';
import { HttpError, httpErrorFrom } from './errors.js';
import {
  backoffDelay,
  isNetworkError,
  parseRetryAfter,
  type HttpClient,
  type ResolvedRetry,
} from './transport.js';

/** The upload protocols, as the `uploadType` query parameter names them. */
export type UploadProtocol = 'media' | 'multipart' | 'resumable';

/** Media to upload with a call, for methods with `supportsMediaUpload`. */
export interface MediaOptions {
  /**
   * The bytes. A `Blob` is read lazily, slice by slice, so a large file need not be in memory
   * (`fs.openAsBlob(path)` on Node, `Bun.file(path)` on Bun).
   */
  body: Blob | ArrayBuffer | ArrayBufferView | string;
  /** The media's type; the Blob's own type, else `application/octet-stream`. */
  mimeType?: string;
  /**
   * `media` (bytes only), `multipart` (metadata and bytes in one request) or `resumable`
   * (a session, sent in chunks). By default: resumable above 5 MiB when the method supports
   * it, else multipart when there is a request body, else media.
   */
  protocol?: UploadProtocol;
  /** Bytes per resumable chunk: a multiple of 256 KiB (8 MiB by default). */
  chunkSize?: number;
  /** Continues an earlier resumable session (from `onSession`) instead of starting one. */
  sessionUri?: string;
  /**
   * Called with a new resumable session's URI, before any byte is sent. Keep it to resume
   * after a crash; treat it as a secret, since it allows uploading without a token.
   */
  onSession?: (sessionUri: string) => void | Promise<void>;
  /** Called after each resumable chunk with the bytes the server has and the total. */
  onProgress?: (sent: number, total: number) => void;
}

/**
 * The resumable chunk granularity Google's upload servers require: 256 KiB.
 *
 * @example
 * ```ts
 * const media = { body: blob, protocol: 'resumable', chunkSize: 16 * CHUNK_GRANULARITY } as const;
 * ```
 */
export const CHUNK_GRANULARITY = 256 * 1024;
/** Default resumable chunk size. */
export const DEFAULT_CHUNK_SIZE = 32 * CHUNK_GRANULARITY;
/** Above this size, uploads are resumable by default when the method allows it. */
export const RESUMABLE_THRESHOLD = 5 * 1024 * 1024;

/**
 * Turns the accepted body types into one Blob of the given type.
 *
 * @param media the caller's media options
 * @param where the method and option, for messages
 * @returns the Blob and its type
 * @throws {TypeError} when the body is none of the accepted types
 * @example
 * ```ts
 * const { blob, mimeType } = mediaBlob({ body: 'hello', mimeType: 'text/plain' }, 'm');
 * ```
 */
export function mediaBlob(media: MediaOptions, where: string): { blob: Blob; mimeType: string } {
  if (typeof media !== 'object' || media === null) {
    throw new TypeError(`${where}: "media" must be an object with a "body"`);
  }
  const { body } = media;
  const mimeType =
    media.mimeType ?? (body instanceof Blob && body.type ? body.type : 'application/octet-stream');
  if (typeof mimeType !== 'string' || !/^[\w.+-]+\/[\w.+-]+/.test(mimeType)) {
    throw new TypeError(`${where}: "media.mimeType" must be a MIME type such as "text/plain"`);
  }
  let blob: Blob;
  if (body instanceof Blob) blob = body;
  else if (typeof body === 'string' || body instanceof ArrayBuffer || ArrayBuffer.isView(body)) {
    blob = new Blob([body as BlobPart]);
  } else {
    throw new TypeError(
      `${where}: "media.body" must be a Blob, an ArrayBuffer, a typed array or a string`,
    );
  }
  return { blob, mimeType };
}

/**
 * Parses a `maxSize` string: a byte count, or a number with a `KB`, `MB`, `GB` or `TB` suffix
 * (powers of 1024, as the reference client reads them).
 *
 * @param value the `maxSize` string
 * @returns the size in bytes, or `undefined` when it cannot be read
 * @example
 * ```ts
 * parseMaxSize('1GB'); // 1073741824
 * ```
 */
export function parseMaxSize(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)B?\s*$/i.exec(value);
  if (!m) return undefined;
  const power = ' KMGT'.indexOf((m[2] || ' ').toUpperCase());
  return Number(m[1]) * 1024 ** power;
}

/**
 * Whether a MIME type is in a list of MIME ranges (`*\/*`, `image/*`, `image/png`).
 *
 * @param mimeType the media's type; parameters such as `; charset=` are ignored
 * @param accept the ranges
 * @returns true when one range matches
 * @example
 * ```ts
 * mimeMatches('image/png', ['image/*']); // true
 * ```
 */
export function mimeMatches(mimeType: string, accept: readonly string[]): boolean {
  const [type = '', sub = ''] = mimeType.split(';')[0]!.trim().toLowerCase().split('/');
  return accept.some((range) => {
    const [rt = '', rs = ''] = range.split(';')[0]!.trim().toLowerCase().split('/');
    return (rt === '*' || rt === type) && (rs === '*' || rs === sub);
  });
}

/**
 * Checks media against a method's `mediaUpload` section.
 *
 * @param where the method, for messages
 * @param upload the method's `mediaUpload`
 * @param blob the media
 * @param mimeType its type
 * @returns nothing; it throws when the media does not fit
 * @throws {TypeError} when the type is not accepted or the media is too large
 * @example
 * ```ts
 * checkMedia('drive.files.create', method.mediaUpload!, blob, 'text/plain');
 * ```
 */
export function checkMedia(where: string, upload: MediaUpload, blob: Blob, mimeType: string): void {
  if (upload.accept && upload.accept.length > 0 && !mimeMatches(mimeType, upload.accept)) {
    throw new TypeError(
      `${where}: "media.mimeType" ${JSON.stringify(mimeType)} is not accepted (accepts ${upload.accept.join(', ')})`,
    );
  }
  const max = parseMaxSize(upload.maxSize);
  if (max !== undefined && blob.size > max) {
    throw new TypeError(
      `${where}: media of ${blob.size} bytes is larger than the method allows (${upload.maxSize})`,
    );
  }
}

/**
 * Builds a `multipart/related` body: the JSON metadata, then the media.
 *
 * @param json the metadata, already serialised
 * @param blob the media
 * @param mimeType the media's type
 * @returns the body and its content type (with the boundary)
 * @example
 * ```ts
 * const { body, contentType } = multipartRelated('{"name":"a.txt"}', blob, 'text/plain');
 * ```
 */
export function multipartRelated(
  json: string,
  blob: Blob,
  mimeType: string,
): { body: Blob; contentType: string } {
  const boundary = `oauthkit_${crypto.randomUUID().replace(/-/g, '')}`;
  const body = new Blob([
    `--${boundary}\r\ncontent-type: application/json; charset=UTF-8\r\n\r\n`,
    json,
    `\r\n--${boundary}\r\ncontent-type: ${mimeType}\r\n\r\n`,
    blob,
    `\r\n--${boundary}--\r\n`,
  ]);
  return { body, contentType: `multipart/related; boundary=${boundary}` };
}

/** What {@link runResumableUpload} needs. */
export interface ResumableUploadOptions {
  /** The method, for errors. */
  methodId: string;
  /** Sends each request. */
  http: HttpClient;
  /** Retry options; each interruption uses one retry. */
  retry: ResolvedRetry;
  /** Builds the request that starts the session; not called when `sessionUri` is given. */
  start: () => Request;
  /** An existing session to continue. */
  sessionUri?: string | undefined;
  /** The media. */
  blob: Blob;
  /** Bytes per chunk. */
  chunkSize: number;
  /** Told the session URI of a new session. */
  onSession?: ((uri: string) => void | Promise<void>) | undefined;
  /** Told the progress after each chunk. */
  onProgress?: ((sent: number, total: number) => void) | undefined;
  /** Ends the upload. */
  signal?: AbortSignal | undefined;
}

/** The offset after a `Range: bytes=0-N` header (N + 1), or 0 when the server has nothing. */
function offsetFrom(response: Response): number {
  const m = /bytes=\d+-(\d+)/.exec(response.headers.get('range') ?? '');
  return m ? Number(m[1]) + 1 : 0;
}

/**
 * Runs a resumable upload session: starts it (or continues `sessionUri`), sends the media in
 * chunks with `Content-Range`, follows the server's `Range` on each 308, and after an
 * interruption (a network error, a 5xx, a 429) asks the server how much it has
 * (`Content-Range: bytes *\/total`) and continues from there.
 *
 * @param options the session's settings
 * @returns the final response (200 or 201) with the created resource
 * @throws {HttpError} when the server refuses, or interruptions outlast the retries
 * @see https://cloud.google.com/storage/docs/performing-resumable-uploads
 * @example
 * ```ts
 * const res = await runResumableUpload({ methodId, http, retry, start, blob, chunkSize: 262144 });
 * ```
 */
export async function runResumableUpload(options: ResumableUploadOptions): Promise<Response> {
  const { http, retry, blob, chunkSize, signal, methodId } = options;
  const total = blob.size;
  let uri = options.sessionUri;
  let failures = 0;
  const interrupted = async (cause: unknown, response?: Response): Promise<void> => {
    if (
      signal?.aborted ||
      (response === undefined && !isNetworkError(cause) && !(cause instanceof HttpError))
    ) {
      throw cause;
    }
    if (failures >= retry.retries) {
      if (response) throw await httpErrorFrom(response, methodId);
      throw cause;
    }
    const after = response ? parseRetryAfter(response.headers.get('retry-after')) : undefined;
    await response?.body?.cancel().catch(() => {});
    await retry.sleep(
      after !== undefined ? Math.min(after, retry.maxRetryAfterMs) : backoffDelay(retry, failures),
      signal,
    );
    failures++;
  };
  const transient = (status: number) => status >= 500 || retry.statuses.includes(status);

  while (uri === undefined) {
    const request = options.start();
    let response: Response;
    try {
      response = await http(request);
    } catch (err) {
      await interrupted(err);
      continue;
    }
    if (transient(response.status)) {
      await interrupted(undefined, response);
      continue;
    }
    if (!response.ok) throw await httpErrorFrom(response, methodId);
    const location = response.headers.get('location');
    await response.body?.cancel().catch(() => {});
    if (!location) {
      throw new HttpError({
        status: response.status,
        message: `${methodId}: the server started no upload session (no Location header)`,
        methodId,
        response,
      });
    }
    uri = new URL(location, request.url).href;
    await options.onSession?.(uri);
  }

  // A continued session may be anywhere; a new one starts at 0.
  let offset: number | undefined = options.sessionUri === undefined ? 0 : undefined;
  for (;;) {
    const asking = offset === undefined;
    const start = offset ?? 0;
    const end = Math.min(start + chunkSize, total);
    const range = asking || total === 0 ? `bytes */${total}` : `bytes ${start}-${end - 1}/${total}`;
    let response: Response;
    try {
      response = await http(
        new Request(uri, {
          method: 'PUT',
          headers: { 'content-range': range },
          body: asking ? null : blob.slice(start, end),
          signal,
        }),
      );
    } catch (err) {
      await interrupted(err);
      offset = undefined;
      continue;
    }
    if (response.status === 200 || response.status === 201) return response;
    if (response.status === 308) {
      const next = offsetFrom(response);
      await response.body?.cancel().catch(() => {});
      // Progress resets the retry budget: only consecutive failures count against it.
      if (!asking && next > start) failures = 0;
      else if (!asking) {
        const message = `${methodId}: the upload server kept none of the chunk`;
        await interrupted(new HttpError({ status: 308, message, methodId }));
      }
      offset = next;
      options.onProgress?.(offset, total);
      continue;
    }
    if (transient(response.status)) {
      await interrupted(undefined, response);
      offset = undefined;
      continue;
    }
    throw await httpErrorFrom(response, methodId);
  }
}
