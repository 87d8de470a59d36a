import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { posix, win32 } from 'node:path';
import { ConfigurationError } from '../core/errors.js';
import {
  AppAssertionCredentials,
  applicationDefault as coreApplicationDefault,
  ServiceAccountCredentials,
  type AppAssertionCredentialsOptions,
  type ApplicationDefaultCredentials,
  type ApplicationDefaultOptions,
  type Env,
  type ServiceAccountCredentialsOptions,
} from '../service-account/index.js';

/**
 * Where `gcloud auth application-default login` saves credentials: in `$CLOUDSDK_CONFIG`, else
 * `%APPDATA%\gcloud` on Windows and `~/.config/gcloud` elsewhere.
 *
 * @param env the environment (default `process.env`)
 * @param platform the platform (default `process.platform`)
 * @param home the home directory (default `os.homedir()`)
 * @returns the file's path
 * @example
 * ```ts
 * gcloudWellKnownFile(); // '/home/me/.config/gcloud/application_default_credentials.json'
 * ```
 */
export function gcloudWellKnownFile(
  env: Env = process.env,
  platform: NodeJS.Platform = process.platform,
  home: string = homedir(),
): string {
  const path = platform === 'win32' ? win32 : posix;
  const file = 'application_default_credentials.json';
  const configured = env['CLOUDSDK_CONFIG'];
  if (configured) return path.join(configured, file);
  if (platform === 'win32') {
    return path.join(env['APPDATA'] ?? path.join(home, 'AppData', 'Roaming'), 'gcloud', file);
  }
  return path.join(home, '.config', 'gcloud', file);
}

/**
 * Reads a credentials file: its text, or `undefined` when it does not exist.
 *
 * @param path the file's path
 * @returns the text, or `undefined` for a missing file
 * @throws {ConfigurationError} when it exists but cannot be read (names the path and the reason)
 * @example
 * ```ts
 * const text = await readCredentialsFile('/secrets/key.json');
 * ```
 */
export async function readCredentialsFile(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (cause) {
    const code = (cause as { code?: string }).code;
    if (code === 'ENOENT') return undefined;
    throw new ConfigurationError(`${path} cannot be read (${code ?? 'unknown error'})`, { cause });
  }
}

/**
 * {@link coreApplicationDefault} for Node: reads `process.env`, files through `fs`, and the
 * gcloud well-known file at its usual place.
 *
 * @param options scopes, and anything the core `applicationDefault` takes
 * @returns the first credentials found
 * @throws {ApplicationDefaultError} nothing found, or a named file unusable; lists what was tried
 * @example
 * ```ts
 * import { applicationDefault } from 'oauthkit/service-account/node';
 * const credentials = await applicationDefault({ scopes: ['https://www.googleapis.com/auth/tasks'] });
 * ```
 */
export function applicationDefault(
  options: ApplicationDefaultOptions = {},
): Promise<ApplicationDefaultCredentials> {
  const env = options.env ?? process.env;
  return coreApplicationDefault({
    readFile: readCredentialsFile,
    wellKnownFile: gcloudWellKnownFile(env),
    ...options,
    env,
  });
}

/**
 * Reads a service-account key file from disk and imports its key.
 *
 * @param path the key file's path
 * @param options scopes, subject, and anything `ServiceAccountCredentials` takes
 * @returns the credentials
 * @throws {ConfigurationError} the file is missing, unreadable, malformed, or names a foreign `token_uri`
 * @example
 * ```ts
 * const credentials = await loadServiceAccountCredentials('/secrets/key.json', {
 *   scopes: ['https://www.googleapis.com/auth/tasks'],
 * });
 * ```
 */
export async function loadServiceAccountCredentials(
  path: string,
  options: ServiceAccountCredentialsOptions = {},
): Promise<ServiceAccountCredentials> {
  if (typeof path !== 'string' || path.length === 0) {
    throw new TypeError('"path" must be a non-empty string');
  }
  const text = await readCredentialsFile(path);
  if (text === undefined) throw new ConfigurationError(`the key file ${path} does not exist`);
  return ServiceAccountCredentials.fromKeyFile(text, { source: path, ...options });
}

/**
 * `new AppAssertionCredentials(...)` that honours `GCE_METADATA_HOST` from `process.env`.
 *
 * @param options scopes, service account, and anything `AppAssertionCredentials` takes
 * @returns the credentials
 * @example
 * ```ts
 * const credentials = createAppAssertionCredentials({ scopes: ['https://www.googleapis.com/auth/tasks'] });
 * ```
 */
export function createAppAssertionCredentials(
  options: AppAssertionCredentialsOptions = {},
): AppAssertionCredentials {
  return new AppAssertionCredentials({ env: process.env, ...options });
}
