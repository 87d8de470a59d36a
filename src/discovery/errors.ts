import { OAuthKitError } from '../core/errors.js';
/**
 * Errors of the discovery client.
 *
 * @module
 */

/** One entry of a Google error body's `errors` array. */
export interface ApiErrorItem {
  /** A machine-readable reason: `notFound`, `rateLimitExceeded`, ... */
  reason?: string;
  /** A human-readable message. */
  message?: string;
  /** The error domain: `global`, `usageLimits`, ... */
  domain?: string;
  /** Other fields the server sent. */
  [key: string]: unknown;
}

/** What {@link HttpError} is made of. */
export interface HttpErrorInit {
  /** The HTTP status. */
  status: number;
  /** The server's message, or the status text. */
  message: string;
  /** The method that failed (`tasks.tasks.get`), or `discovery` for a document fetch. */
  methodId: string;
  /** The `reason` of each entry of `error.errors`. */
  reasons?: string[];
  /** `error.errors` as sent. */
  errors?: ApiErrorItem[];
  /** `error.details` as sent (AIP-193 details). */
  details?: unknown[];
  /** `error.status` (AIP-193 canonical code, `NOT_FOUND`). */
  apiStatus?: string | undefined;
  /** The raw response, kept non-enumerable. */
  response?: Response | undefined;
}

/**
 * An API answered with an error status. Carries the status, the Google error body's `message`,
 * `reasons` and `details`; the raw response is non-enumerable so that logging the error never
 * dumps it. Neither the message nor any field holds the request URL (which may carry an API key)
 * or a token.
 *
 * @example
 * ```ts
 * try {
 *   await service.tasks.get({ tasklist: '@default', task: 'nope' }).execute(http);
 * } catch (err) {
 *   if (err instanceof HttpError && err.status === 404) {
 *     // gone
 *   }
 * }
 * ```
 */
export class HttpError extends OAuthKitError {
  /** The HTTP status. */
  readonly status: number;
  /** The method that failed (`tasks.tasks.get`), or `discovery` for a document fetch. */
  readonly methodId: string;
  /** The `reason` of each entry of the error body's `errors` array (`notFound`, ...). */
  readonly reasons: readonly string[];
  /** The error body's `errors` array, as sent. */
  readonly errors: readonly ApiErrorItem[];
  /** The error body's `details` array, as sent. */
  readonly details: readonly unknown[];
  /** The canonical status the body names (`NOT_FOUND`), when it names one. */
  readonly apiStatus: string | undefined;
  /** The raw response, non-enumerable; its body has been read. */
  declare readonly response: Response | undefined;

  /**
   * @param init status, message and what the body said
   */
  constructor(init: HttpErrorInit) {
    super('http_error', init.message);
    this.status = init.status;
    this.methodId = init.methodId;
    this.errors = init.errors ?? [];
    this.reasons = init.reasons ?? this.errors.flatMap((e) => (e.reason ? [e.reason] : []));
    this.details = init.details ?? [];
    this.apiStatus = init.apiStatus;
    Object.defineProperty(this, 'response', { value: init.response, enumerable: false });
  }
}

/**
 * Reads an error response and makes the {@link HttpError} that describes it. Understands the
 * Google (AIP-193) body `{ error: { code, message, status, errors, details } }`, a list-wrapped
 * one, and the OAuth-style `{ error, error_description }`.
 *
 * @param response a response whose status is not a success; its body is consumed
 * @param methodId the method that failed, for the error's `methodId`
 * @returns the error to throw
 * @example
 * ```ts
 * if (!response.ok) throw await httpErrorFrom(response, 'tasks.tasks.get');
 * ```
 */
export async function httpErrorFrom(response: Response, methodId: string): Promise<HttpError> {
  let text = '';
  try {
    text = await response.text();
  } catch {
    // A body that cannot be read still leaves the status to report.
  }
  return httpErrorFromText(response.status, response.statusText, text, methodId, response);
}

/**
 * Makes an {@link HttpError} from a status and a body already read (a batch part, say).
 *
 * @param status the HTTP status
 * @param statusText the reason phrase
 * @param text the body
 * @param methodId the method that failed
 * @param response the raw response, when there is one
 * @returns the error
 * @example
 * ```ts
 * const err = httpErrorFromText(404, 'Not Found', '{"error":{"message":"gone"}}', 'tasks.tasks.get');
 * ```
 */
export function httpErrorFromText(
  status: number,
  statusText: string,
  text: string,
  methodId: string,
  response?: Response,
): HttpError {
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (Array.isArray(body)) body = body[0];
  let message: string | undefined;
  let errors: ApiErrorItem[] | undefined;
  let details: unknown[] | undefined;
  let apiStatus: string | undefined;
  const error = (body as { error?: unknown } | undefined)?.error;
  if (typeof error === 'object' && error !== null) {
    const e = error as Record<string, unknown>;
    if (typeof e.message === 'string') message = e.message;
    if (Array.isArray(e.errors)) {
      errors = e.errors.filter((x): x is ApiErrorItem => typeof x === 'object' && x !== null);
    }
    if (Array.isArray(e.details)) details = e.details;
    if (typeof e.status === 'string') apiStatus = e.status;
    if (message === undefined && errors?.length) {
      message = errors.map((x) => x.message ?? x.reason ?? '').join('\n');
    }
  } else if (typeof error === 'string') {
    const description = (body as { error_description?: unknown }).error_description;
    message = typeof description === 'string' ? `${error}: ${description}` : error;
  }
  message ||= `${methodId} failed with HTTP ${status}${statusText ? ` ${statusText}` : ''}`;
  return new HttpError({ status, message, methodId, errors, details, apiStatus, response });
}
