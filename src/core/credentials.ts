import { decodeJwt } from 'jose';
import { CredentialsInvalidError } from './errors.js';

/**
 * How long before its expiry an access token already counts as expired, so that a token is
 * never sent in its last seconds (clock skew between us, the provider and the API).
 */
export const DEFAULT_EXPIRY_MARGIN_MS = 60_000;

/**
 * Scopes Google grants under another name: asked for as `email`, granted as
 * `https://www.googleapis.com/auth/userinfo.email`, and the other way round.
 */
const SCOPE_ALIASES: Readonly<Record<string, string>> = Object.freeze({
  __proto__: null,
  email: 'https://www.googleapis.com/auth/userinfo.email',
  'https://www.googleapis.com/auth/userinfo.email': 'email',
  profile: 'https://www.googleapis.com/auth/userinfo.profile',
  'https://www.googleapis.com/auth/userinfo.profile': 'profile',
} as unknown as Record<string, string>);

/** The current version of oauthkit's stored credentials JSON. */
export const CREDENTIALS_JSON_VERSION = 1;

/** What a {@link Credentials} is made of. */
export interface CredentialsInit {
  /** The access token. */
  accessToken?: string | undefined;
  /** The refresh token, when the provider issued one. */
  refreshToken?: string | undefined;
  /** When the access token expires; `undefined` when the provider did not say. */
  expiresAt?: Date | number | undefined;
  /** The scopes the provider **granted** (not the ones requested). */
  scopes?: readonly string[] | undefined;
  /** The raw ID token (a JWT), as last received. */
  idToken?: string | undefined;
  /** The validated claims of the ID token. */
  idTokenClaims?: Readonly<Record<string, unknown>> | undefined;
  /** The token type; `Bearer` unless the provider says otherwise. */
  tokenType?: string | undefined;
  /** Set once the provider said the grant is gone (`invalid_grant`). */
  invalid?: boolean | undefined;
}

/** oauthkit's stored JSON form of {@link Credentials} (version 1). */
export interface CredentialsJSON {
  v: 1;
  access_token?: string;
  refresh_token?: string;
  /** ISO 8601 */
  expires_at?: string;
  /** Granted scopes, space-separated as in RFC 6749. */
  scope?: string;
  id_token?: string;
  id_token_claims?: Record<string, unknown>;
  token_type?: string;
  invalid?: boolean;
}

/**
 * A user's OAuth 2.0 credentials: immutable; every change makes a new object.
 *
 * There is one definition of "usable" ({@link Credentials.isUsable}) and one of "expired"
 * ({@link Credentials.isExpired}), both with a clock-skew margin.
 *
 * @example
 * ```ts
 * const creds = new Credentials({ accessToken: 'ya29...', expiresAt: Date.now() + 3600_000 });
 * creds.isUsable(); // true
 * const stored = JSON.stringify(creds); // oauthkit's versioned JSON
 * Credentials.fromJSON(stored).accessToken === creds.accessToken; // true
 * ```
 */
export class Credentials {
  readonly accessToken: string | undefined;
  readonly refreshToken: string | undefined;
  /** Expiry in milliseconds since the epoch, or `undefined` when unknown. */
  readonly expiresAt: number | undefined;
  readonly scopes: readonly string[];
  readonly idToken: string | undefined;
  readonly idTokenClaims: Readonly<Record<string, unknown>> | undefined;
  readonly tokenType: string;
  readonly invalid: boolean;

  /** @param init the parts; all optional */
  constructor(init: CredentialsInit = {}) {
    this.accessToken = nonEmpty(init.accessToken);
    this.refreshToken = nonEmpty(init.refreshToken);
    const exp = init.expiresAt instanceof Date ? init.expiresAt.getTime() : init.expiresAt;
    this.expiresAt = typeof exp === 'number' && Number.isFinite(exp) ? exp : undefined;
    this.scopes = Object.freeze([...new Set(init.scopes ?? [])].filter(Boolean).sort());
    this.idToken = nonEmpty(init.idToken);
    this.idTokenClaims =
      init.idTokenClaims !== undefined ? Object.freeze({ ...init.idTokenClaims }) : undefined;
    this.tokenType = nonEmpty(init.tokenType) ?? 'Bearer';
    this.invalid = init.invalid === true;
    Object.freeze(this);
  }

  /**
   * Whether the access token is missing or expires within `marginMs`.
   *
   * A token with no known expiry counts as unexpired: the 401 retry of the authorized fetch
   * catches the case where it is not.
   *
   * @param now the current time in milliseconds
   * @param marginMs how early a token counts as expired
   * @returns `true` when a new access token is needed
   */
  isExpired(now: number = Date.now(), marginMs: number = DEFAULT_EXPIRY_MARGIN_MS): boolean {
    if (this.accessToken === undefined) return true;
    if (this.expiresAt === undefined) return false;
    return this.expiresAt - marginMs <= now;
  }

  /**
   * The one definition of valid credentials: not marked invalid, and either an unexpired access
   * token or a refresh token to get one.
   *
   * @param now the current time in milliseconds
   * @param marginMs how early a token counts as expired
   * @returns `true` when an API call can be authorized with these credentials
   */
  isUsable(now: number = Date.now(), marginMs: number = DEFAULT_EXPIRY_MARGIN_MS): boolean {
    if (this.invalid) return false;
    return !this.isExpired(now, marginMs) || this.refreshToken !== undefined;
  }

  /**
   * Whether every scope given was granted.
   *
   * @param scopes the scopes a route needs
   * @returns `true` when all are among {@link Credentials.scopes}
   */
  hasScopes(scopes: Iterable<string>): boolean {
    for (const s of scopes) {
      if (this.scopes.includes(s)) continue;
      const alias = SCOPE_ALIASES[s];
      if (alias === undefined || !this.scopes.includes(alias)) return false;
    }
    return true;
  }

  /**
   * The person who authorized, as the ID token's `iss` and `sub`, when an ID token was received.
   *
   * @returns `{ iss, sub }` or `undefined`
   */
  get subject(): { iss: string; sub: string } | undefined {
    const iss = this.idTokenClaims?.['iss'];
    const sub = this.idTokenClaims?.['sub'];
    return typeof iss === 'string' && typeof sub === 'string' ? { iss, sub } : undefined;
  }

  /**
   * A copy with some parts replaced.
   *
   * @param changes the parts to replace
   * @returns a new {@link Credentials}
   */
  with(changes: CredentialsInit): Credentials {
    return new Credentials({ ...this.#init(), ...changes });
  }

  /** @returns the parts of this object, as accepted by the constructor */
  #init(): CredentialsInit {
    return {
      accessToken: this.accessToken,
      refreshToken: this.refreshToken,
      expiresAt: this.expiresAt,
      scopes: this.scopes,
      idToken: this.idToken,
      idTokenClaims: this.idTokenClaims,
      tokenType: this.tokenType,
      invalid: this.invalid,
    };
  }

  /**
   * oauthkit's versioned JSON form, for storage. It contains the tokens: store it, never log it.
   *
   * @returns {@link CredentialsJSON}
   */
  toJSON(): CredentialsJSON {
    const out: CredentialsJSON = { v: CREDENTIALS_JSON_VERSION };
    if (this.accessToken !== undefined) out.access_token = this.accessToken;
    if (this.refreshToken !== undefined) out.refresh_token = this.refreshToken;
    if (this.expiresAt !== undefined) out.expires_at = new Date(this.expiresAt).toISOString();
    if (this.scopes.length > 0) out.scope = this.scopes.join(' ');
    if (this.idToken !== undefined) out.id_token = this.idToken;
    if (this.idTokenClaims !== undefined) out.id_token_claims = { ...this.idTokenClaims };
    if (this.tokenType !== 'Bearer') out.token_type = this.tokenType;
    if (this.invalid) out.invalid = true;
    return out;
  }

  /**
   * A redacted view for `console.log` and `util.inspect`: tokens never reach a log by accident.
   *
   * @returns a plain object without token values
   */
  [Symbol.for('nodejs.util.inspect.custom')](): Record<string, unknown> {
    return {
      accessToken: this.accessToken === undefined ? undefined : '[redacted]',
      refreshToken: this.refreshToken === undefined ? undefined : '[redacted]',
      expiresAt: this.expiresAt === undefined ? undefined : new Date(this.expiresAt).toISOString(),
      scopes: this.scopes,
      subject: this.subject,
      tokenType: this.tokenType,
      invalid: this.invalid,
    };
  }

  /**
   * Reads stored credentials: oauthkit's JSON ({@link CredentialsJSON}) or the JSON that Python's
   * oauth2client wrote with `OAuth2Credentials.to_json()`.
   *
   * The `_class` and `_module` fields of oauth2client's format are never used to load code; only
   * the data fields are read.
   *
   * @param input a JSON string or an already-parsed object
   * @returns the credentials
   * @throws {CredentialsInvalidError} when the input is not JSON or in neither format
   * @example
   * ```ts
   * const creds = Credentials.fromJSON(row.credentials); // from oauth2client's CredentialsModel
   * ```
   */
  static fromJSON(input: string | object): Credentials {
    let data: unknown = input;
    if (typeof input === 'string') {
      try {
        data = JSON.parse(input);
      } catch (cause) {
        throw new CredentialsInvalidError('stored credentials are not valid JSON', { cause });
      }
    }
    if (data === null || typeof data !== 'object' || Array.isArray(data)) {
      throw new CredentialsInvalidError('stored credentials must be a JSON object');
    }
    const o = data as Record<string, unknown>;
    if (o['v'] === CREDENTIALS_JSON_VERSION) return fromV1(o);
    if ('v' in o) {
      throw new CredentialsInvalidError(
        `stored credentials have version ${JSON.stringify(o['v'])}; this oauthkit reads version ${CREDENTIALS_JSON_VERSION}`,
      );
    }
    if ('_class' in o || 'token_expiry' in o || 'token_uri' in o) return fromOAuth2Client(o);
    throw new CredentialsInvalidError(
      'stored credentials are in an unknown format (neither oauthkit nor oauth2client JSON)',
    );
  }
}

function fromV1(o: Record<string, unknown>): Credentials {
  const expires = optString(o, 'expires_at');
  const expiresAt = expires === undefined ? undefined : Date.parse(expires);
  if (expiresAt !== undefined && Number.isNaN(expiresAt)) {
    throw new CredentialsInvalidError('stored credentials have an unreadable "expires_at"');
  }
  const claims = o['id_token_claims'];
  if (claims !== undefined && !isPlainObject(claims)) {
    throw new CredentialsInvalidError('stored credentials have a malformed "id_token_claims"');
  }
  return new Credentials({
    accessToken: optString(o, 'access_token'),
    refreshToken: optString(o, 'refresh_token'),
    expiresAt,
    scopes: splitScopes(optString(o, 'scope')),
    idToken: optString(o, 'id_token'),
    idTokenClaims: claims as Record<string, unknown> | undefined,
    tokenType: optString(o, 'token_type'),
    invalid: o['invalid'] === true,
  });
}

/** oauth2client wrote `token_expiry` with `strftime('%Y-%m-%dT%H:%M:%SZ')`, in UTC. */
const OAUTH2CLIENT_EXPIRY = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?Z$/;

function fromOAuth2Client(o: Record<string, unknown>): Credentials {
  let expiresAt: number | undefined;
  const rawExpiry = o['token_expiry'];
  if (typeof rawExpiry === 'string') {
    const m = OAUTH2CLIENT_EXPIRY.exec(rawExpiry);
    if (!m) {
      throw new CredentialsInvalidError(
        'oauth2client credentials have an unreadable "token_expiry"',
      );
    }
    const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    expiresAt = Date.UTC(y, mo - 1, d, h, mi, s);
  } else if (rawExpiry !== null && rawExpiry !== undefined) {
    throw new CredentialsInvalidError('oauth2client credentials have an unreadable "token_expiry"');
  }

  // The granted scopes are in the token response when oauth2client kept it; its `scopes` field
  // holds what was requested, which is only a fallback.
  const tokenResponse = isPlainObject(o['token_response'])
    ? (o['token_response'] as Record<string, unknown>)
    : undefined;
  const granted = tokenResponse !== undefined ? optString(tokenResponse, 'scope') : undefined;
  let scopes: string[] = splitScopes(granted);
  if (granted === undefined) {
    const requested = o['scopes'];
    if (Array.isArray(requested))
      scopes = requested.filter((s): s is string => typeof s === 'string');
    else if (typeof requested === 'string') scopes = splitScopes(requested);
  }

  const idTokenJwt = optString(o, 'id_token_jwt');
  let claims = isPlainObject(o['id_token'])
    ? (o['id_token'] as Record<string, unknown>)
    : undefined;
  if (claims === undefined && idTokenJwt !== undefined) {
    try {
      claims = decodeJwt(idTokenJwt);
    } catch {
      claims = undefined;
    }
  }

  return new Credentials({
    accessToken: optString(o, 'access_token'),
    refreshToken: optString(o, 'refresh_token'),
    expiresAt,
    scopes,
    idToken: idTokenJwt,
    idTokenClaims: claims,
    tokenType: tokenResponse !== undefined ? optString(tokenResponse, 'token_type') : undefined,
    invalid: o['invalid'] === true,
  });
}

function optString(o: Record<string, unknown>, key: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') {
    throw new CredentialsInvalidError(`stored credentials have a non-string "${key}"`);
  }
  return v;
}

function nonEmpty(v: string | undefined): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

function isPlainObject(v: unknown): boolean {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * Splits a space-separated scope string (RFC 6749 section 3.3).
 *
 * @param scope the `scope` value
 * @returns the scopes, empty when none
 */
export function splitScopes(scope: string | undefined): string[] {
  return scope === undefined ? [] : scope.split(' ').filter(Boolean);
}
