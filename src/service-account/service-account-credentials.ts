import * as oauth from 'oauth4webapi';
import { classifyTokenError, sendTokenRequest } from '../core/client.js';
import { ConfigurationError } from '../core/errors.js';
import { requestOptions } from '../core/provider.js';
import {
  createBearerAssertion,
  importPrivateKey,
  JWT_BEARER_GRANT_TYPE,
  MAX_ASSERTION_LIFETIME_SEC,
  signJwt,
} from './jwt.js';
import { checkTokenUri, parseCredentialsFile, type ServiceAccountKeyFile } from './key-file.js';
import {
  checkScopes,
  defaultSleep,
  nonNegative,
  TokenCredentials,
  withRetry,
  type MintedToken,
  type TokenCredentialsOptions,
} from './token-credentials.js';

/** Options of {@link ServiceAccountCredentials}. */
export interface ServiceAccountCredentialsOptions extends TokenCredentialsOptions {
  /** The scopes to ask for, e.g. `['https://www.googleapis.com/auth/tasks']`. */
  scopes?: readonly string[] | undefined;
  /** The user to act as, by domain-wide delegation (the assertion's `sub`). */
  subject?: string | undefined;
  /**
   * Skip the token endpoint: sign the access token itself (a self-signed JWT), which Google APIs
   * accept. `true` puts the scopes in a `scope` claim; `{ audience }` names the API instead
   * (e.g. `https://tasks.googleapis.com/`). Not possible with `subject`.
   */
  selfSignedJwt?: boolean | { audience: string } | undefined;
  /**
   * `token_uri` values accepted besides Google's. A key file naming any other endpoint is
   * refused, so that a hostile key file cannot collect a signed assertion.
   */
  allowedTokenUris?: readonly string[] | undefined;
  /** Allow a loopback `http:` token endpoint that is in `allowedTokenUris` (tests only). */
  allowHttpLoopback?: boolean | undefined;
  /** Timeout of each token request in milliseconds (default 10 s). */
  timeoutMs?: number | undefined;
  /** Extra attempts after a transient failure (5xx, timeout, network), default 1. */
  retries?: number | undefined;
  /** Where the key file came from (e.g. its path), for error messages. */
  source?: string | undefined;
}

/** A key file as text (JSON), as the parsed object, or as {@link ServiceAccountKeyFile}. */
export type ServiceAccountKeyInput = string | ServiceAccountKeyFile | Record<string, unknown>;

/** What copies made by `withScopes()` / `withSubject()` share with the original. */
interface Shared {
  file: {
    client_email: string;
    private_key_id: string;
    project_id?: string | undefined;
    quota_project_id?: string | undefined;
  };
  source: string;
  key: Promise<CryptoKey>;
  tokenUri: string;
}

const DERIVE: unique symbol = Symbol('derive');

/**
 * Credentials of a service account from its key file: access tokens by the JWT bearer grant
 * (RFC 7523) or self-signed, domain-wide delegation, and `signBlob()`, on Web Crypto only.
 *
 * The private key is imported once, non-extractable, and is never kept as text; it and the
 * assertions and tokens never appear in errors, logs, `toJSON()` or inspection.
 *
 * @example
 * ```ts
 * const credentials = await ServiceAccountCredentials.fromKeyFile(keyFileJson, {
 *   scopes: ['https://www.googleapis.com/auth/tasks'],
 * });
 * const http = credentials.authorize();
 * const res = await http('https://tasks.googleapis.com/tasks/v1/users/@me/lists');
 * ```
 */
export class ServiceAccountCredentials extends TokenCredentials {
  /** The service account's email. */
  readonly clientEmail: string;
  /** The id of the key (the JWT header's `kid`). */
  readonly privateKeyId: string;
  /** The project the key file names, if any. */
  readonly projectId: string | undefined;
  /** The token endpoint assertions go to. */
  readonly tokenUri: string;
  /** The scopes tokens are asked for. */
  readonly scopes: readonly string[];
  /** The user acted as (domain-wide delegation), if any. */
  readonly subject: string | undefined;
  /** A label: `service-account:EMAIL` plus `:SUBJECT` when delegating. */
  readonly key: string;
  readonly #shared: Shared;
  readonly #options: ServiceAccountCredentialsOptions;
  readonly #selfSigned: { audience?: string | undefined } | undefined;

  /**
   * Reads the key file and starts importing the key; a key that cannot be imported fails the
   * first token request. Prefer {@link ServiceAccountCredentials.fromKeyFile}, which fails at once.
   *
   * @param keyFile the key file: JSON text or the parsed object
   * @param options scopes, subject, self-signed JWT, token endpoint allowlist, cache, timing
   * @throws {ConfigurationError} the key file is malformed or its `token_uri` is not allowed
   * @throws {TypeError} naming a malformed option
   */
  constructor(keyFile: ServiceAccountKeyInput, options: ServiceAccountCredentialsOptions = {}) {
    super(options);
    const derived = (keyFile as { [DERIVE]?: Shared })[DERIVE];
    if (derived !== undefined) {
      this.#shared = derived;
    } else {
      const source =
        options.source ??
        (typeof keyFile === 'string' ? 'the key file string' : 'the key file object');
      const file = parseCredentialsFile(keyFile, source);
      if (file.type !== 'service_account') {
        throw new ConfigurationError(`${source} is of type "${file.type}", not "service_account"`);
      }
      this.#shared = ServiceAccountCredentials.#share(file, source, options);
    }
    const { file } = this.#shared;
    this.clientEmail = file.client_email;
    this.privateKeyId = file.private_key_id;
    this.projectId = file.project_id ?? undefined;
    this.tokenUri = this.#shared.tokenUri;
    this.scopes = checkScopes(options.scopes);
    if (
      options.subject !== undefined &&
      (typeof options.subject !== 'string' || !options.subject)
    ) {
      throw new TypeError('"subject" must be a non-empty string');
    }
    this.subject = options.subject;
    const selfSigned = options.selfSignedJwt;
    if (selfSigned === true) {
      this.#selfSigned = {};
    } else if (selfSigned !== undefined && selfSigned !== false) {
      if (
        typeof selfSigned !== 'object' ||
        typeof selfSigned.audience !== 'string' ||
        !URL.canParse(selfSigned.audience)
      ) {
        throw new TypeError('"selfSignedJwt.audience" must be an absolute URL');
      }
      this.#selfSigned = { audience: selfSigned.audience };
    }
    if (this.#selfSigned !== undefined && this.subject !== undefined) {
      throw new TypeError('"selfSignedJwt" cannot act as a "subject"; use the token endpoint');
    }
    nonNegative(options.timeoutMs, 'timeoutMs', 0);
    nonNegative(options.retries, 'retries', 0);
    this.#options = options;
    this.key = `service-account:${this.clientEmail}${this.subject ? `:${this.subject}` : ''}`;
  }

  static #share(
    file: ServiceAccountKeyFile,
    source: string,
    options: ServiceAccountCredentialsOptions,
  ): Shared {
    const tokenUri = checkTokenUri(
      file.token_uri ?? undefined,
      options.allowedTokenUris,
      options.allowHttpLoopback,
      source,
    );
    const key = importPrivateKey(file.private_key, source);
    // The failure is reported by the first use (or by fromKeyFile); not an unhandled rejection.
    key.catch(() => {});
    // Keep none of the PEM text: from here on the key lives only in Web Crypto.
    return {
      file: {
        client_email: file.client_email,
        private_key_id: file.private_key_id,
        project_id: file.project_id ?? undefined,
        quota_project_id: file.quota_project_id ?? undefined,
      },
      source,
      key,
      tokenUri,
    };
  }

  /**
   * Reads a key file and imports its private key, failing at once when either is unusable.
   *
   * @param keyFile the key file: JSON text or the parsed object (read files with
   *   `loadServiceAccountCredentials` from `oauthkit/service-account/node`)
   * @param options scopes, subject, self-signed JWT, token endpoint allowlist, cache, timing
   * @returns the credentials
   * @throws {ConfigurationError} malformed key file, unusable key, or a `token_uri` not allowed
   * @example
   * ```ts
   * const credentials = await ServiceAccountCredentials.fromKeyFile(env.SERVICE_ACCOUNT_JSON, {
   *   scopes: ['https://www.googleapis.com/auth/cloud-platform'],
   * });
   * ```
   */
  static async fromKeyFile(
    keyFile: ServiceAccountKeyInput,
    options: ServiceAccountCredentialsOptions = {},
  ): Promise<ServiceAccountCredentials> {
    const credentials = new ServiceAccountCredentials(keyFile, options);
    await credentials.#shared.key;
    return credentials;
  }

  #derive(changes: ServiceAccountCredentialsOptions): ServiceAccountCredentials {
    return new ServiceAccountCredentials({ [DERIVE]: this.#shared } as never, {
      ...this.#options,
      ...changes,
    });
  }

  /**
   * A copy asking for other scopes; the original is unchanged. The key is shared, not re-imported.
   *
   * @param scopes the scopes
   * @returns new credentials with their own token cache
   * @example
   * ```ts
   * const readonly = credentials.withScopes(['https://www.googleapis.com/auth/tasks.readonly']);
   * ```
   */
  withScopes(scopes: readonly string[]): ServiceAccountCredentials {
    return this.#derive({ scopes });
  }

  /**
   * A copy that acts as `subject` through domain-wide delegation (the assertion's `sub`); the
   * original is unchanged.
   *
   * @param subject the email of the user to act as
   * @returns new credentials with their own token cache
   * @see https://developers.google.com/identity/protocols/oauth2/service-account#delegatingauthority
   * @example
   * ```ts
   * const asAlice = credentials.withSubject('alice@example.com');
   * ```
   */
  withSubject(subject: string): ServiceAccountCredentials {
    if (typeof subject !== 'string' || subject.length === 0) {
      throw new TypeError('"subject" must be a non-empty string');
    }
    return this.#derive({ subject, selfSignedJwt: undefined });
  }

  /**
   * The service account's email (what the metadata server's credentials fetch; here, known).
   *
   * @returns the `client_email` of the key file
   * @example
   * ```ts
   * console.log(await credentials.getEmail());
   * ```
   */
  async getEmail(): Promise<string> {
    return this.clientEmail;
  }

  /**
   * Signs bytes with the service account's key (RSASSA-PKCS1-v1_5 with SHA-256), as Google's
   * `signBlob` does: for signed URLs and the like.
   *
   * @param data the bytes, or a string (UTF-8)
   * @returns the signature
   * @throws {ConfigurationError} the key could not be imported
   * @example
   * ```ts
   * const signature = await credentials.signBlob('GET\n\n\n1700000000\n/bucket/object');
   * ```
   */
  async signBlob(data: string | BufferSource): Promise<Uint8Array<ArrayBuffer>> {
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    const key = await this.#shared.key;
    return new Uint8Array(await crypto.subtle.sign('RSASSA-PKCS1-v1_5', key, bytes));
  }

  protected async sharedCacheKey(): Promise<string | undefined> {
    // Self-signed tokens cost one local signature: nothing to gain from sharing them.
    if (this.#selfSigned !== undefined) return undefined;
    return `jwt-bearer|${this.tokenUri}|${this.clientEmail}|${this.subject ?? ''}|${this.scopes.join(' ')}`;
  }

  protected override extraHeaders(): Record<string, string> {
    const quota = this.#shared.file.quota_project_id;
    return typeof quota === 'string' && quota ? { 'x-goog-user-project': quota } : {};
  }

  protected async mintToken(): Promise<MintedToken> {
    const key = await this.#shared.key;
    if (this.#selfSigned !== undefined) return this.#selfSign(key);
    if (this.scopes.length === 0) {
      throw new ConfigurationError(
        'no scopes to ask for: pass "scopes" (or use withScopes()) to get an access token',
      );
    }
    const options = this.#options;
    const as: oauth.AuthorizationServer = {
      issuer: new URL(this.tokenUri).origin,
      token_endpoint: this.tokenUri,
    };
    const client: oauth.Client = { client_id: this.clientEmail };
    // RFC 7523 section 3: the assertion authenticates; nothing else is sent.
    const noClientAuth: oauth.ClientAuth = () => {};
    const timeoutMs = options.timeoutMs ?? 10_000;

    return withRetry(options.retries ?? 1, options.sleep ?? defaultSleep, async () => {
      const started = this.now();
      const assertion = await createBearerAssertion(key, {
        issuer: this.clientEmail,
        keyId: this.privateKeyId,
        audience: this.tokenUri,
        scopes: this.scopes,
        subject: this.subject,
        nowSec: Math.floor(started / 1000),
      });
      const response = await sendTokenRequest(
        () =>
          oauth.genericTokenEndpointRequest(
            as,
            client,
            noClientAuth,
            JWT_BEARER_GRANT_TYPE,
            { assertion },
            { signal: AbortSignal.timeout(timeoutMs), ...requestOptions(options) },
          ),
        { endpoint: this.tokenUri, timeoutMs },
      );
      let result: oauth.TokenEndpointResponse;
      try {
        result = await oauth.processGenericTokenEndpointResponse(as, client, response);
      } catch (err) {
        throw classifyTokenError(err);
      }
      const lifetimeSec = result.expires_in ?? MAX_ASSERTION_LIFETIME_SEC;
      return { token: result.access_token, expiresAt: started + lifetimeSec * 1000 };
    });
  }

  async #selfSign(key: CryptoKey): Promise<MintedToken> {
    const audience = this.#selfSigned?.audience;
    if (audience === undefined && this.scopes.length === 0) {
      throw new ConfigurationError(
        'a self-signed JWT needs "scopes" or "selfSignedJwt: { audience }" to say what it is for',
      );
    }
    const started = this.now();
    const iat = Math.floor(started / 1000);
    const payload: Record<string, unknown> = {
      iss: this.clientEmail,
      sub: this.clientEmail,
      iat,
      exp: iat + MAX_ASSERTION_LIFETIME_SEC,
    };
    if (audience !== undefined) payload['aud'] = audience;
    else payload['scope'] = this.scopes.join(' ');
    const token = await signJwt(key, { typ: 'JWT', kid: this.privateKeyId }, payload);
    return { token, expiresAt: (iat + MAX_ASSERTION_LIFETIME_SEC) * 1000 };
  }

  /**
   * What is safe to show: the account, key id, scopes, subject and token endpoint. Never the key.
   *
   * @returns a plain object without secrets
   * @example
   * ```ts
   * console.log(JSON.stringify(credentials)); // safe to log
   * ```
   */
  toJSON(): Record<string, unknown> {
    return {
      type: 'service_account',
      client_email: this.clientEmail,
      private_key_id: this.privateKeyId,
      project_id: this.projectId,
      token_uri: this.tokenUri,
      scopes: [...this.scopes],
      subject: this.subject,
      self_signed_jwt: this.#selfSigned !== undefined,
    };
  }

  /**
   * A redacted view for `console.log` and `util.inspect`.
   *
   * @returns the same as {@link ServiceAccountCredentials.toJSON}
   */
  [Symbol.for('nodejs.util.inspect.custom')](): Record<string, unknown> {
    return this.toJSON();
  }
}
