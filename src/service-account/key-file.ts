import { ConfigurationError } from '../core/errors.js';
import { parseEndpoint } from '../core/provider.js';

/** A Google service-account key file (`"type": "service_account"`), as the Cloud console gives it. */
export interface ServiceAccountKeyFile {
  type: 'service_account';
  /** The service account's email: the assertion's `iss`. */
  client_email: string;
  /** The PEM private key (PKCS#8). */
  private_key: string;
  /** The id of the key: the assertion's `kid`. */
  private_key_id: string;
  /** Where to send the assertion; Google's token endpoint when absent. */
  token_uri?: string | undefined;
  project_id?: string | undefined;
  client_id?: string | undefined;
  quota_project_id?: string | undefined;
  universe_domain?: string | undefined;
  [field: string]: unknown;
}

/** The user credentials `gcloud auth application-default login` saves (`"type": "authorized_user"`). */
export interface AuthorizedUserFile {
  type: 'authorized_user';
  client_id: string;
  client_secret: string;
  refresh_token: string;
  /** Where to refresh; Google's token endpoint when absent. */
  token_uri?: string | undefined;
  quota_project_id?: string | undefined;
  [field: string]: unknown;
}

/** Google's token endpoint, where key files send their assertions by default. */
export const GOOGLE_TOKEN_URI = 'https://oauth2.googleapis.com/token';

/**
 * The `token_uri` values Google has written into key files over the years. Any other value is
 * refused unless the app lists it in `allowedTokenUris`: a hostile key file must not receive a
 * signed assertion.
 */
export const GOOGLE_TOKEN_URIS: readonly string[] = Object.freeze([
  GOOGLE_TOKEN_URI,
  'https://accounts.google.com/o/oauth2/token',
  'https://www.googleapis.com/oauth2/v4/token',
]);

/**
 * Reads a Google credentials file of type `service_account` or `authorized_user`, checking every
 * field it needs. Error messages name the source and the field, never a field's value.
 *
 * @param input the file's text, or the parsed object
 * @param source where it came from (a path, or `"object"` / `"string"`), for error messages
 * @returns the key file
 * @throws {ConfigurationError} when it is not JSON, of another type, or a field is missing
 * @example
 * ```ts
 * const file = parseCredentialsFile(await readFile('key.json', 'utf8'), 'key.json');
 * if (file.type === 'service_account') console.log(file.client_email);
 * ```
 */
export function parseCredentialsFile(
  input: string | object,
  source: string = typeof input === 'string' ? 'string' : 'object',
): ServiceAccountKeyFile | AuthorizedUserFile {
  let data: unknown = input;
  if (typeof input === 'string') {
    try {
      data = JSON.parse(input);
    } catch {
      throw new ConfigurationError(`the credentials in ${source} are not valid JSON`);
    }
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new ConfigurationError(`the credentials in ${source} must be a JSON object`);
  }
  const o = data as Record<string, unknown>;
  const type = o['type'];
  if (type === 'service_account') {
    for (const field of ['client_email', 'private_key', 'private_key_id'] as const) {
      requireString(o, field, source);
    }
    for (const field of ['token_uri', 'project_id', 'client_id', 'quota_project_id'] as const) {
      optionalString(o, field, source);
    }
    return o as ServiceAccountKeyFile;
  }
  if (type === 'authorized_user') {
    for (const field of ['client_id', 'client_secret', 'refresh_token'] as const) {
      requireString(o, field, source);
    }
    for (const field of ['token_uri', 'quota_project_id'] as const) {
      optionalString(o, field, source);
    }
    return o as AuthorizedUserFile;
  }
  const what = typeof type === 'string' ? `"${type.slice(0, 40)}"` : 'missing';
  throw new ConfigurationError(
    `the credentials in ${source} have type ${what}; oauthkit reads "service_account" and "authorized_user"`,
  );
}

/**
 * Decides where a key file's assertion or refresh token may be sent: Google's token endpoints,
 * or one the app itself listed.
 *
 * @param tokenUri the file's `token_uri`, or `undefined` for Google's
 * @param allowed further endpoints the app accepts (exact URLs)
 * @param allowHttpLoopback whether loopback `http:` is allowed (tests only)
 * @param source where the file came from, for error messages
 * @returns the endpoint to use
 * @throws {ConfigurationError} when the endpoint is neither Google's nor allowed
 * @example
 * ```ts
 * checkTokenUri(file.token_uri, ['https://sts.internal.example/token'], false, 'key.json');
 * ```
 */
export function checkTokenUri(
  tokenUri: string | undefined,
  allowed: readonly string[] | undefined,
  allowHttpLoopback: boolean | undefined,
  source: string,
): string {
  if (tokenUri === undefined || tokenUri === '') return GOOGLE_TOKEN_URI;
  if (GOOGLE_TOKEN_URIS.includes(tokenUri)) return tokenUri;
  if (allowed?.includes(tokenUri)) {
    parseEndpoint(tokenUri, 'token_uri', allowHttpLoopback);
    return tokenUri;
  }
  let where = 'an unparsable URL';
  if (URL.canParse(tokenUri)) where = new URL(tokenUri).origin;
  throw new ConfigurationError(
    `the "token_uri" in ${source} points to ${where}, not to Google's token endpoint; refusing to send it a signed assertion (list it in "allowedTokenUris" if it is yours)`,
  );
}

function requireString(o: Record<string, unknown>, field: string, source: string): void {
  if (typeof o[field] !== 'string' || (o[field] as string).length === 0) {
    throw new ConfigurationError(`the credentials in ${source} lack "${field}"`);
  }
}

function optionalString(o: Record<string, unknown>, field: string, source: string): void {
  const v = o[field];
  if (v !== undefined && v !== null && typeof v !== 'string') {
    throw new ConfigurationError(`"${field}" in ${source} must be a string`);
  }
}
