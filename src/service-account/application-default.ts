import { ConfigurationError, OAuthKitError, type OAuthKitErrorOptions } from '../core/errors.js';
import {
  AppAssertionCredentials,
  detectMetadataServer,
  type Env,
} from './app-assertion-credentials.js';
import { AuthorizedUserCredentials } from './authorized-user-credentials.js';
import { parseCredentialsFile } from './key-file.js';
import {
  ServiceAccountCredentials,
  type ServiceAccountCredentialsOptions,
} from './service-account-credentials.js';

/** What {@link applicationDefault} can return. */
export type ApplicationDefaultCredentials =
  ServiceAccountCredentials | AuthorizedUserCredentials | AppAssertionCredentials;

/** Options of {@link applicationDefault}. */
export interface ApplicationDefaultOptions extends Omit<
  ServiceAccountCredentialsOptions,
  'subject' | 'selfSignedJwt'
> {
  /**
   * Process configuration: `GOOGLE_APPLICATION_CREDENTIALS`, `GCE_METADATA_HOST` and
   * `METADATA_SERVER_DETECTION` (`none` skips the metadata server, `assume-present` skips the
   * check) are read from it. The Node adapter passes `process.env`.
   */
  env?: Env | undefined;
  /**
   * Reads a file: its text, or `undefined` when it does not exist (other failures throw). The
   * Node adapter passes one built on `fs`; without it, no file is read.
   */
  readFile?: ((path: string) => Promise<string | undefined>) | undefined;
  /** The gcloud well-known file's path; the Node adapter works it out. */
  wellKnownFile?: string | undefined;
  /** How long to wait for the metadata server when checking for it (default 1 s). */
  detectTimeoutMs?: number | undefined;
  /** Timeout of each metadata-server request, once found (default 3 s). */
  metadataTimeoutMs?: number | undefined;
}

/** One source {@link applicationDefault} tried, and what happened. */
export interface ApplicationDefaultAttempt {
  /** Which source. */
  source: 'GOOGLE_APPLICATION_CREDENTIALS' | 'gcloud well-known file' | 'metadata server';
  /** What happened. */
  detail: string;
}

/**
 * {@link applicationDefault} found no credentials, or a source it had to use was unusable. The
 * message lists every source tried, in order, and why each failed.
 *
 * @example
 * ```ts
 * try {
 *   await applicationDefault({ scopes, env });
 * } catch (err) {
 *   if (err instanceof ApplicationDefaultError) console.error(err.tried);
 * }
 * ```
 */
export class ApplicationDefaultError extends ConfigurationError {
  /** The sources tried, in order. */
  readonly tried: readonly ApplicationDefaultAttempt[];

  /**
   * @param message the summary
   * @param tried the sources tried
   * @param options `cause`
   */
  constructor(
    message: string,
    tried: readonly ApplicationDefaultAttempt[],
    options?: OAuthKitErrorOptions,
  ) {
    super(message, options);
    this.tried = Object.freeze([...tried]);
  }
}

/**
 * Finds the app's Google credentials the way every Google client library does: the key file
 * named by `GOOGLE_APPLICATION_CREDENTIALS`, then the gcloud well-known file (`authorized_user`
 * or `service_account`), then the metadata server (checked with a short timeout).
 *
 * This is the Web-API core: pass `env` and `readFile`, or use `applicationDefault` from
 * `oauthkit/service-account/node`, which passes `process.env`, `fs` and the gcloud path.
 *
 * @param options scopes, env, readFile, the well-known file's path, and what the credentials take
 * @returns the first credentials found
 * @throws {ApplicationDefaultError} nothing found, or a named file unusable; lists what was tried
 * @example
 * ```ts
 * const credentials = await applicationDefault({ scopes: ['https://www.googleapis.com/auth/tasks'], env });
 * const http = credentials.authorize();
 * ```
 */
export async function applicationDefault(
  options: ApplicationDefaultOptions = {},
): Promise<ApplicationDefaultCredentials> {
  const { env, readFile, wellKnownFile, detectTimeoutMs, metadataTimeoutMs, ...common } = options;
  const tried: ApplicationDefaultAttempt[] = [];
  const fail = (summary: string, cause?: unknown): never => {
    const list = tried.map((t, i) => `(${i + 1}) ${t.source}: ${t.detail}`).join('; ');
    throw new ApplicationDefaultError(
      `${summary}. Tried, in order: ${list}`,
      tried,
      cause !== undefined ? { cause } : undefined,
    );
  };

  const fromFile = async (
    source: ApplicationDefaultAttempt['source'],
    path: string,
    text: string,
  ): Promise<ApplicationDefaultCredentials> => {
    try {
      const file = parseCredentialsFile(text, path);
      if (file.type === 'service_account') {
        return await ServiceAccountCredentials.fromKeyFile(file, { ...common, source: path });
      }
      return new AuthorizedUserCredentials(file, { ...common, source: path });
    } catch (err) {
      tried.push({ source, detail: err instanceof Error ? err.message : String(err) });
      return fail(`the credentials file ${path} is unusable`, err);
    }
  };

  const read = async (
    source: ApplicationDefaultAttempt['source'],
    path: string,
  ): Promise<string | undefined> => {
    try {
      return await readFile!(path);
    } catch (err) {
      tried.push({ source, detail: `${path} cannot be read` });
      return fail(`the credentials file ${path} cannot be read`, err);
    }
  };

  // 1. GOOGLE_APPLICATION_CREDENTIALS: when set, it must work; falling through to another
  // identity would hide the mistake.
  const named = env?.['GOOGLE_APPLICATION_CREDENTIALS'];
  if (named) {
    if (readFile === undefined) {
      tried.push({
        source: 'GOOGLE_APPLICATION_CREDENTIALS',
        detail: `set to ${named}, but no readFile was given to read it (on Node, use oauthkit/service-account/node)`,
      });
      return fail('GOOGLE_APPLICATION_CREDENTIALS names a file that cannot be read here');
    }
    const text = await read('GOOGLE_APPLICATION_CREDENTIALS', named);
    if (text === undefined) {
      tried.push({ source: 'GOOGLE_APPLICATION_CREDENTIALS', detail: `${named} does not exist` });
      return fail(`GOOGLE_APPLICATION_CREDENTIALS names ${named}, which does not exist`);
    }
    return fromFile('GOOGLE_APPLICATION_CREDENTIALS', named, text);
  }
  tried.push({ source: 'GOOGLE_APPLICATION_CREDENTIALS', detail: 'not set' });

  // 2. The file `gcloud auth application-default login` writes.
  if (wellKnownFile === undefined || readFile === undefined) {
    tried.push({
      source: 'gcloud well-known file',
      detail: 'no file access on this runtime (pass wellKnownFile and readFile)',
    });
  } else {
    const text = await read('gcloud well-known file', wellKnownFile);
    if (text !== undefined) return fromFile('gcloud well-known file', wellKnownFile, text);
    tried.push({ source: 'gcloud well-known file', detail: `${wellKnownFile} does not exist` });
  }

  // 3. The metadata server.
  const detection = env?.['METADATA_SERVER_DETECTION']?.toLowerCase();
  const metadataOptions = {
    ...common,
    env,
    timeoutMs: metadataTimeoutMs,
  };
  if (detection === 'none') {
    tried.push({
      source: 'metadata server',
      detail: 'not checked (METADATA_SERVER_DETECTION=none)',
    });
  } else if (detection === 'assume-present') {
    return new AppAssertionCredentials(metadataOptions);
  } else {
    let found;
    try {
      found = await detectMetadataServer({
        env,
        fetch: common.fetch,
        timeoutMs: detectTimeoutMs ?? 1000,
      });
    } catch (err) {
      if (!(err instanceof OAuthKitError)) throw err;
      tried.push({ source: 'metadata server', detail: err.message });
      return fail('the metadata server address is misconfigured', err);
    }
    if (found.available) return new AppAssertionCredentials(metadataOptions);
    tried.push({ source: 'metadata server', detail: found.detail });
  }

  return fail(
    `no Google credentials found. Set GOOGLE_APPLICATION_CREDENTIALS to a service-account key file, run "gcloud auth application-default login", or run on Google Cloud`,
  );
}
