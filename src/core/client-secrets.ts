import { ClientSecretsError } from './errors.js';

/** A parsed Google `client_secrets.json`. */
export interface ClientSecrets {
  /** `web` for web apps, `installed` for installed apps. */
  type: 'web' | 'installed';
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
  authUri: string;
  tokenUri: string;
  revokeUri: string | undefined;
}

// Google's sample client_secrets.json files ship with "[[INSERT CLIENT ID HERE]]" and the like;
// oauth2client happily used them and failed at the provider with a cryptic message.
const PLACEHOLDER = /\[\[.*\]\]|^<.*>$|^(?:YOUR|INSERT)[_ -]/i;

/**
 * Reads Google's `client_secrets.json` format (a `web` or an `installed` section) from an object
 * or a JSON string, with errors that name the source and the field.
 *
 * For a file path, use `loadClientSecrets` from `oauthkit/node`, which reads the file and calls
 * this function.
 *
 * @param input the parsed document or its JSON text
 * @param source what to call the input in errors (a file path, say); `"object"` or `"string"` by default
 * @returns the client's id, secret and endpoints
 * @throws {ClientSecretsError} naming the source and the field at fault
 * @see https://github.com/googleapis/google-api-python-client/blob/main/docs/client-secrets.md
 * @example
 * ```ts
 * const secrets = parseClientSecrets({
 *   web: {
 *     client_id: '123.apps.googleusercontent.com',
 *     client_secret: 's3cret',
 *     redirect_uris: ['https://app.example/oauth2callback'],
 *     auth_uri: 'https://accounts.google.com/o/oauth2/auth',
 *     token_uri: 'https://oauth2.googleapis.com/token',
 *   },
 * });
 * ```
 */
export function parseClientSecrets(input: unknown, source?: string): ClientSecrets {
  const from = source ?? (typeof input === 'string' ? 'string' : 'object');
  let doc: unknown = input;
  if (typeof input === 'string') {
    try {
      doc = JSON.parse(input);
    } catch (cause) {
      throw new ClientSecretsError(`client secrets (${from}) are not valid JSON`, from, undefined, {
        cause,
      });
    }
  }
  if (!isObject(doc)) {
    throw new ClientSecretsError(`client secrets (${from}) must be a JSON object`, from);
  }
  const keys = Object.keys(doc);
  const type = keys.includes('web') ? 'web' : keys.includes('installed') ? 'installed' : undefined;
  if (type === undefined || keys.length !== 1) {
    throw new ClientSecretsError(
      `client secrets (${from}) must have exactly one top-level section, "web" or "installed"; found ${
        keys.length ? keys.map((k) => JSON.stringify(k)).join(', ') : 'none'
      }`,
      from,
    );
  }
  const section = doc[type];
  if (!isObject(section)) {
    throw new ClientSecretsError(
      `client secrets (${from}): "${type}" must be an object`,
      from,
      type,
    );
  }

  const str = (field: string, required: boolean): string | undefined => {
    const path = `${type}.${field}`;
    const value = section[field];
    if (value === undefined || value === null) {
      if (!required) return undefined;
      throw new ClientSecretsError(`client secrets (${from}): "${path}" is missing`, from, path);
    }
    if (typeof value !== 'string' || value.trim() === '') {
      throw new ClientSecretsError(
        `client secrets (${from}): "${path}" must be a non-empty string`,
        from,
        path,
      );
    }
    if (PLACEHOLDER.test(value)) {
      throw new ClientSecretsError(
        `client secrets (${from}): "${path}" still holds a placeholder; fill in the value from the Google Cloud console`,
        from,
        path,
      );
    }
    return value;
  };
  const url = (field: string, required: boolean): string | undefined => {
    const value = str(field, required);
    if (value !== undefined && !URL.canParse(value)) {
      const path = `${type}.${field}`;
      throw new ClientSecretsError(`client secrets (${from}): "${path}" is not a URL`, from, path);
    }
    return value;
  };

  const clientId = str('client_id', true) as string;
  const clientSecret = str('client_secret', true) as string;
  const authUri = url('auth_uri', true) as string;
  const tokenUri = url('token_uri', true) as string;
  const revokeUri = url('revoke_uri', false);

  const rawRedirects = section['redirect_uris'];
  let redirectUris: string[] = [];
  if (rawRedirects !== undefined) {
    if (!Array.isArray(rawRedirects)) {
      throw new ClientSecretsError(
        `client secrets (${from}): "${type}.redirect_uris" must be an array of URLs`,
        from,
        `${type}.redirect_uris`,
      );
    }
    redirectUris = rawRedirects.map((u, i) => {
      const path = `${type}.redirect_uris[${i}]`;
      if (typeof u !== 'string' || !URL.canParse(u) || PLACEHOLDER.test(u)) {
        throw new ClientSecretsError(
          `client secrets (${from}): "${path}" is not a URL`,
          from,
          path,
        );
      }
      return u;
    });
  }
  return { type, clientId, clientSecret, redirectUris, authUri, tokenUri, revokeUri };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
