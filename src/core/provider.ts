import * as oauth from 'oauth4webapi';
import { ConfigurationError, TransientError } from './errors.js';

/**
 * The endpoints of an OAuth 2.0 / OpenID Connect provider, in RFC 8414 names.
 */
export interface ProviderMetadata {
  /** The issuer identifier; checked against `iss` in authorization responses and ID tokens. */
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  revocation_endpoint?: string | undefined;
  userinfo_endpoint?: string | undefined;
  jwks_uri?: string | undefined;
  /** RFC 9207: when true, an authorization response without `iss` is refused. */
  authorization_response_iss_parameter_supported?: boolean | undefined;
  /** Any other metadata the provider published. */
  [key: string]: unknown;
}

/**
 * Google's OAuth 2.0 and OpenID Connect endpoints, as its discovery document publishes them
 * (https://accounts.google.com/.well-known/openid-configuration).
 */
export const GOOGLE: Readonly<ProviderMetadata> = Object.freeze({
  issuer: 'https://accounts.google.com',
  authorization_endpoint: 'https://accounts.google.com/o/oauth2/v2/auth',
  token_endpoint: 'https://oauth2.googleapis.com/token',
  revocation_endpoint: 'https://oauth2.googleapis.com/revoke',
  userinfo_endpoint: 'https://openidconnect.googleapis.com/v1/userinfo',
  jwks_uri: 'https://www.googleapis.com/oauth2/v3/certs',
});

/** Options for reaching a provider over HTTP. */
export interface ProviderRequestOptions {
  /** The fetch to use; the global one by default. */
  fetch?: typeof fetch | undefined;
  /**
   * Allow plain `http://` to loopback hosts (127.0.0.0/8, `[::1]`, `localhost`), for tests and
   * local demos only. Other `http://` URLs are always refused.
   */
  allowHttpLoopback?: boolean | undefined;
  /** Timeout of each request in milliseconds (default 10 s). */
  timeoutMs?: number | undefined;
}

/**
 * Fetches a provider's metadata (OpenID Connect Discovery, falling back to RFC 8414) and refuses
 * it when its `issuer` is not exactly the one configured.
 *
 * @param issuer the issuer identifier, e.g. `https://accounts.google.com`
 * @param options fetch, loopback and timeout options
 * @returns the provider's metadata
 * @throws {ConfigurationError} when the metadata is missing, malformed or for another issuer
 * @throws {TransientError} when the provider could not be reached
 * @see https://www.rfc-editor.org/rfc/rfc8414#section-3.3
 * @example
 * ```ts
 * const metadata = await discoverProvider('https://accounts.google.com');
 * ```
 */
export async function discoverProvider(
  issuer: string,
  options: ProviderRequestOptions = {},
): Promise<ProviderMetadata> {
  const issuerUrl = parseEndpoint(issuer, 'issuer', options.allowHttpLoopback);
  const attempts: Array<'oidc' | 'oauth2'> = ['oidc', 'oauth2'];
  let lastError: unknown;
  for (const algorithm of attempts) {
    let response: Response;
    try {
      response = await oauth.discoveryRequest(issuerUrl, {
        algorithm,
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
        ...requestOptions(options),
      });
    } catch (cause) {
      throw new TransientError(
        `could not reach the provider at ${issuerUrl.href} for its metadata`,
        {},
        { cause },
      );
    }
    if (response.status === 404 && algorithm === 'oidc') {
      lastError = undefined;
      continue;
    }
    if (response.status >= 500) {
      throw new TransientError(`the provider's metadata endpoint answered ${response.status}`, {
        status: response.status,
      });
    }
    try {
      const as = await oauth.processDiscoveryResponse(issuerUrl, response);
      return checkMetadata(as as ProviderMetadata, options.allowHttpLoopback);
    } catch (cause) {
      if (cause instanceof ConfigurationError) throw cause;
      lastError = cause;
      break;
    }
  }
  throw new ConfigurationError(
    `the metadata published for issuer ${issuerUrl.href} is unusable: ${describe(lastError)}`,
  );
}

/**
 * Checks provider metadata given by hand: the issuer and the authorization and token endpoints
 * are required, every endpoint must be `https:` (or loopback `http:` when allowed).
 *
 * @param metadata the metadata
 * @param allowHttpLoopback whether loopback `http:` is allowed
 * @returns the same metadata
 * @throws {ConfigurationError} naming the field at fault
 */
export function checkMetadata(
  metadata: ProviderMetadata,
  allowHttpLoopback: boolean | undefined,
): ProviderMetadata {
  if (metadata === null || typeof metadata !== 'object') {
    throw new ConfigurationError('provider metadata must be an object');
  }
  parseEndpoint(metadata.issuer, 'issuer', allowHttpLoopback);
  for (const field of [
    'authorization_endpoint',
    'token_endpoint',
    'revocation_endpoint',
    'userinfo_endpoint',
    'jwks_uri',
  ] as const) {
    const value = metadata[field];
    if (value === undefined && field !== 'authorization_endpoint' && field !== 'token_endpoint') {
      continue;
    }
    parseEndpoint(value, field, allowHttpLoopback);
  }
  return metadata;
}

/**
 * Whether a URL's host is a loopback address.
 *
 * @param url the URL
 * @returns `true` for 127.0.0.0/8, `[::1]` and `localhost`
 */
export function isLoopback(url: URL): boolean {
  const host = url.hostname;
  return host === 'localhost' || host === '[::1]' || /^127(?:\.\d{1,3}){3}$/.test(host);
}

/**
 * Parses an endpoint URL and enforces `https:` (loopback `http:` only when allowed).
 *
 * @param value the URL
 * @param name what to call it in errors
 * @param allowHttpLoopback whether loopback `http:` is allowed
 * @returns the parsed URL
 * @throws {ConfigurationError} naming `name`
 */
export function parseEndpoint(
  value: unknown,
  name: string,
  allowHttpLoopback: boolean | undefined,
): URL {
  if (typeof value !== 'string' || value.length === 0) {
    throw new ConfigurationError(`"${name}" must be a non-empty URL string`);
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigurationError(`"${name}" is not a valid URL: ${JSON.stringify(value)}`);
  }
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && isLoopback(url)) {
    if (allowHttpLoopback) return url;
    throw new ConfigurationError(
      `"${name}" uses plain http (${url.origin}); set allowHttpLoopback: true to allow it for local testing`,
    );
  }
  throw new ConfigurationError(`"${name}" must be an https URL, got ${url.protocol}//${url.host}`);
}

/**
 * The oauth4webapi request options that carry our fetch and loopback choices.
 *
 * @param options our request options
 * @returns options for oauth4webapi request functions
 */
export function requestOptions(options: ProviderRequestOptions): {
  [oauth.customFetch]?: typeof fetch;
  [oauth.allowInsecureRequests]?: boolean;
} {
  const out: { [oauth.customFetch]?: typeof fetch; [oauth.allowInsecureRequests]?: boolean } = {};
  if (options.fetch) out[oauth.customFetch] = options.fetch;
  // Only loopback http URLs ever pass parseEndpoint, so allowing insecure requests here cannot
  // reach a non-loopback http endpoint.
  if (options.allowHttpLoopback) out[oauth.allowInsecureRequests] = true;
  return out;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : 'no usable metadata document';
}
