/**
 * Every error oauthkit throws on purpose is an {@link OAuthKitError} with a stable `code`.
 *
 * Messages never contain a token, code, secret or assertion. Errors from an authorization
 * server keep the parsed `error` / `error_description` / `status`; the raw response is held in
 * a non-enumerable field so that logging the error never dumps it.
 */

/** The stable codes of {@link OAuthKitError}; match on these, not on messages. */
export type OAuthKitErrorCode =
  | 'configuration_invalid'
  | 'client_secrets_invalid'
  | 'authorization_response_invalid'
  | 'authorization_denied'
  | 'id_token_invalid'
  | 'grant_revoked'
  | 'reauth_required'
  | 'insufficient_scope'
  | 'token_request_failed'
  | 'transient'
  | 'credentials_missing'
  | 'credentials_invalid'
  | 'revocation_failed'
  | 'origin_not_allowed'
  | 'store_failed'
  | 'http_error';

/** Options every oauthkit error accepts. */
export interface OAuthKitErrorOptions {
  /** The underlying error, kept as `cause`. */
  cause?: unknown;
}

/**
 * The base class of every oauthkit error.
 *
 * @example
 * ```ts
 * try {
 *   await http('https://tasks.googleapis.com/tasks/v1/users/@me/lists');
 * } catch (err) {
 *   if (err instanceof OAuthKitError && err.code === 'grant_revoked') {
 *     // send the user through the flow again
 *   }
 * }
 * ```
 */
export class OAuthKitError extends Error {
  /** A stable, machine-readable code. */
  readonly code: OAuthKitErrorCode;

  /**
   * @param code the stable code
   * @param message a human-readable message, free of secrets
   * @param options `cause`
   */
  constructor(code: OAuthKitErrorCode, message: string, options?: OAuthKitErrorOptions) {
    super(message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.code = code;
    this.name = new.target.name;
  }
}

/** The app is configured in a way that cannot work; the message says what to fix. */
export class ConfigurationError extends OAuthKitError {
  /** @param message what to fix @param options `cause` */
  constructor(message: string, options?: OAuthKitErrorOptions) {
    super('configuration_invalid', message, options);
  }
}

/** A `client_secrets.json` document is missing, malformed or unfilled. */
export class ClientSecretsError extends OAuthKitError {
  /** Where the document came from (a file path, or `"object"` / `"string"`). */
  readonly source: string;
  /** The field at fault, as a dotted path (`web.client_id`), when one is. */
  readonly field: string | undefined;

  /**
   * @param message what is wrong
   * @param source the file path or kind of input
   * @param field the dotted path of the field at fault
   * @param options `cause`
   */
  constructor(message: string, source: string, field?: string, options?: OAuthKitErrorOptions) {
    super('client_secrets_invalid', message, options);
    this.source = source;
    this.field = field;
  }
}

/**
 * The redirect back from the authorization server is not one this app may accept: missing or
 * wrong `state`, wrong `iss`, or no `code`. No token request was made.
 */
export class AuthorizationResponseError extends OAuthKitError {
  /** @param message what is wrong @param options `cause` */
  constructor(message: string, options?: OAuthKitErrorOptions) {
    super('authorization_response_invalid', message, options);
  }
}

/** Fields an authorization server reports on an error (RFC 6749 section 5.2). */
export interface ServerErrorFields {
  /** The `error` code the server sent. */
  error?: string | undefined;
  /** The `error_description` the server sent. */
  errorDescription?: string | undefined;
  /** The HTTP status of the response, when there was one. */
  status?: number | undefined;
  /** The raw response, kept non-enumerable. */
  response?: Response | undefined;
}

/** Base for errors that carry what an authorization server said. */
export class ServerError extends OAuthKitError {
  /** The `error` code the server sent. */
  readonly error: string | undefined;
  /** The `error_description` the server sent. */
  readonly error_description: string | undefined;
  /** The HTTP status, when there was a response. */
  readonly status: number | undefined;
  /** The raw response (non-enumerable, so logs never dump it). */
  declare readonly response: Response | undefined;

  /**
   * @param code the stable code
   * @param message free of secrets
   * @param fields what the server said
   * @param options `cause`
   */
  constructor(
    code: OAuthKitErrorCode,
    message: string,
    fields: ServerErrorFields = {},
    options?: OAuthKitErrorOptions,
  ) {
    super(code, message, options);
    this.error = fields.error;
    this.error_description = fields.errorDescription;
    this.status = fields.status;
    Object.defineProperty(this, 'response', { value: fields.response, enumerable: false });
  }
}

/** The user or the server refused the authorization request (`error=access_denied` and others). */
export class AuthorizationDeniedError extends ServerError {
  /** @param message free of secrets @param fields what the server said */
  constructor(message: string, fields: ServerErrorFields = {}) {
    super('authorization_denied', message, fields);
  }
}

/** An ID token failed signature, claim or nonce validation. */
export class IdTokenError extends OAuthKitError {
  /** @param message what failed @param options `cause` */
  constructor(message: string, options?: OAuthKitErrorOptions) {
    super('id_token_invalid', message, options);
  }
}

/**
 * The grant is gone (`invalid_grant`: revoked, expired, or the refresh token was rotated away).
 * The credentials are marked invalid; the user must authorize again.
 */
export class GrantRevokedError extends ServerError {
  /** @param message free of secrets @param fields what the server said @param options `cause` */
  constructor(message: string, fields: ServerErrorFields = {}, options?: OAuthKitErrorOptions) {
    super('grant_revoked', message, fields, options);
  }
}

/** The server wants the user to sign in again (`invalid_rapt`, `interaction_required`, ...). */
export class ReauthRequiredError extends ServerError {
  /** @param message free of secrets @param fields what the server said @param options `cause` */
  constructor(message: string, fields: ServerErrorFields = {}, options?: OAuthKitErrorOptions) {
    super('reauth_required', message, fields, options);
  }
}

/** The grant lacks a scope the request needs (`invalid_scope`, `insufficient_scope`). */
export class InsufficientScopeError extends ServerError {
  /** @param message free of secrets @param fields what the server said @param options `cause` */
  constructor(message: string, fields: ServerErrorFields = {}, options?: OAuthKitErrorOptions) {
    super('insufficient_scope', message, fields, options);
  }
}

/**
 * A token request failed in a way that says nothing about the grant: a 5xx, a timeout, a network
 * error, a body that is not JSON. Nothing was marked or lost; try again later.
 */
export class TransientError extends ServerError {
  /** @param message free of secrets @param fields what the server said @param options `cause` */
  constructor(message: string, fields: ServerErrorFields = {}, options?: OAuthKitErrorOptions) {
    super('transient', message, fields, options);
  }
}

/**
 * The server refused a token request for a reason that is the app's to fix (`invalid_client`,
 * `unauthorized_client`, `invalid_request`, ...). Nothing was marked invalid.
 */
export class TokenRequestError extends ServerError {
  /** @param message free of secrets @param fields what the server said @param options `cause` */
  constructor(message: string, fields: ServerErrorFields = {}, options?: OAuthKitErrorOptions) {
    super('token_request_failed', message, fields, options);
  }
}

/** No credentials are stored for the key, or they cannot be used (no access or refresh token). */
export class CredentialsMissingError extends OAuthKitError {
  /** @param message what is missing */
  constructor(message: string) {
    super('credentials_missing', message);
  }
}

/** Stored credentials could not be read (corrupt, or an unknown format). */
export class CredentialsInvalidError extends OAuthKitError {
  /** @param message what is wrong @param options `cause` */
  constructor(message: string, options?: OAuthKitErrorOptions) {
    super('credentials_invalid', message, options);
  }
}

/** Revocation failed at the provider; the stored credentials were kept. */
export class RevocationError extends ServerError {
  /** @param message free of secrets @param fields what the server said @param options `cause` */
  constructor(message: string, fields: ServerErrorFields = {}, options?: OAuthKitErrorOptions) {
    super('revocation_failed', message, fields, options);
  }
}

/** The authorized fetch refused to send a token to an origin outside its allowlist. */
export class OriginNotAllowedError extends OAuthKitError {
  /** @param message names the origin */
  constructor(message: string) {
    super('origin_not_allowed', message);
  }
}

/** A credential store failed; what it held is unchanged as far as oauthkit knows. */
export class StoreError extends OAuthKitError {
  /** @param message what failed @param options `cause` */
  constructor(message: string, options?: OAuthKitErrorOptions) {
    super('store_failed', message, options);
  }
}
