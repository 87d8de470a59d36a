/**
 * Starts the whole demo on loopback: the local OpenID Connect provider (standing in for
 * Google's), the local Tasks API (standing in for `tasks.googleapis.com`), a metadata-server
 * stand-in (the app's own service account, minting tokens from the local provider) and the demo
 * web app; or, given a `client_secrets.json`, only the web app, against Google.
 *
 * @module
 */
import { createHmac, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createNodeHandler, loadClientSecrets } from '../src/adapters/node.js';
import { openDefaultSqliteStore } from '../src/index.node.js';
import {
  clientCredentialsTokenSource,
  startMetadataServer,
  type MetadataServer,
} from './metadata-server.js';
import { listen, type Listening } from './net.js';
import { startProvider, type LocalProvider } from './provider.js';
import { TASKS_SCOPE } from './scopes.js';
import { discoveryUrlAt } from './tasks-client.js';
import { startTasksApi, type LocalTasksApi } from './tasks-api.js';
import { createDemoApp, type DemoApp } from './web-app.js';

/** Options of {@link startDemo}. */
export interface DemoOptions {
  /** The web app's port (default 3000; 0: any free port, and the peers' too). */
  port?: number | undefined;
  /** The local provider's port (default: `port + 1`). */
  providerPort?: number | undefined;
  /** The local Tasks API's port (default: `port + 2`). */
  apiPort?: number | undefined;
  /** Where the secret, the credentials, the provider's grants and the tasks live (default `.data`). */
  dataDir?: string | undefined;
  /** A Google `client_secrets.json`: run against Google instead of the local peers. */
  clientSecrets?: string | undefined;
  /**
   * Against Google: the metadata server's `host:port` (`GCE_METADATA_HOST`) for the
   * service-account page; without it the page explains. The local demo starts its own stand-in.
   */
  metadataHost?: string | undefined;
  /** Print nothing (tests). */
  quiet?: boolean | undefined;
  /** Where oauthkit logs what to fix (default `console`). */
  logger?: Pick<Console, 'error' | 'warn'> | undefined;
}

/** A running demo. */
export interface RunningDemo {
  /** The URL to open, `http://127.0.0.1:3000/`. */
  readonly url: string;
  /** `local` (the stand-ins) or `google`. */
  readonly mode: 'local' | 'google';
  /** The sign-in provider's issuer. */
  readonly issuer: string;
  /** The Tasks API's origin. */
  readonly tasksApi: string;
  /** The demo app (its decorator, its handler). */
  readonly app: DemoApp;
  /** The local stand-ins (local mode only). */
  readonly local?: LocalPeers | undefined;
  /** Stops everything. */
  close(): Promise<void>;
}

/** The stand-ins the local demo runs. */
export interface LocalPeers {
  /** The OpenID Connect provider. */
  readonly provider: LocalProvider;
  /** The Tasks API. */
  readonly api: LocalTasksApi;
  /** The metadata server; `host` is the app's `GCE_METADATA_HOST`. */
  readonly metadata: MetadataServer;
}

/** The client id the demo app has at the local provider. */
export const DEMO_CLIENT_ID = 'oauthkit-demo';
/** The client id the local Tasks API uses for introspection. */
export const API_CLIENT_ID = 'tasks-api';
/** The client id behind the app's service account: the metadata stand-in mints with it. */
export const SERVICE_ACCOUNT_CLIENT_ID = 'demo-service-account';
/** The service account's email, as the metadata stand-in reports it. */
export const SERVICE_ACCOUNT_EMAIL = 'tasks-demo@oauthkit-demo.iam.gserviceaccount.com';
const GOOGLE_TASKS_API = 'https://tasks.googleapis.com';

/**
 * Starts the demo.
 *
 * @param options ports, the data folder, and optionally a Google `client_secrets.json`
 * @returns the running demo
 * @example
 * ```ts
 * const demo = await startDemo({ port: 0, dataDir: await mkdtemp(join(tmpdir(), 'demo-')), quiet: true });
 * console.log(demo.url);
 * await demo.close();
 * ```
 */
export async function startDemo(options: DemoOptions = {}): Promise<RunningDemo> {
  const dataDir = options.dataDir ?? '.data';
  const secret = await loadOrCreateSecret(join(dataDir, 'demo-secret'));
  const storage = await openDefaultSqliteStore(join(dataDir, 'oauthkit.sqlite'));
  const stops: (() => Promise<void>)[] = [async () => storage.close?.()];
  const stop = async () => {
    // Last started, first stopped; each once.
    for (let s = stops.pop(); s !== undefined; s = stops.pop()) await s().catch(() => {});
  };
  try {
    if (options.clientSecrets !== undefined) {
      return await startAgainstGoogle(options, options.clientSecrets, secret, storage, stops, stop);
    }
    const port = options.port ?? 3000;
    const app = await listen(port);
    stops.push(() => app.close());
    const provider = await startProvider({
      port: options.providerPort ?? (port === 0 ? 0 : port + 1),
      database: join(dataDir, 'provider.sqlite'),
      clients: [
        {
          clientId: DEMO_CLIENT_ID,
          clientSecret: derive(secret, 'client-secret:demo'),
          name: 'oauthkit Tasks demo',
          redirectUris: [`${app.origin}/oauth2callback`],
        },
      ],
      resourceServers: [
        { clientId: API_CLIENT_ID, clientSecret: derive(secret, 'client-secret:api') },
      ],
      serviceClients: [
        {
          clientId: SERVICE_ACCOUNT_CLIENT_ID,
          clientSecret: derive(secret, 'client-secret:service-account'),
          scopes: [TASKS_SCOPE],
        },
      ],
      // Stable keys: a restarted demo keeps the provider's sign-in sessions.
      cookieKeys: [derive(secret, 'provider-cookies')],
    });
    stops.push(() => provider.close());
    const api = await startTasksApi({
      port: options.apiPort ?? (port === 0 ? 0 : port + 2),
      issuer: provider.issuer,
      client: { clientId: API_CLIENT_ID, clientSecret: derive(secret, 'client-secret:api') },
      database: join(dataDir, 'tasks-api.sqlite'),
    });
    stops.push(() => api.close());
    // The app's service account: a metadata server on any free port, as on Google Cloud, minting
    // the app's tokens from the local provider by the client credentials grant.
    const metadata = await startMetadataServer({
      tokenSource: clientCredentialsTokenSource({
        tokenEndpoint: `${provider.issuer}/token`,
        clientId: SERVICE_ACCOUNT_CLIENT_ID,
        clientSecret: derive(secret, 'client-secret:service-account'),
      }),
      defaultScopes: [TASKS_SCOPE],
      email: SERVICE_ACCOUNT_EMAIL,
      projectId: 'oauthkit-demo',
    });
    stops.push(() => metadata.close());

    const demo = createDemoApp({
      baseUrl: app.origin,
      tasksApi: api.origin,
      // The API serves its own discovery document, at Google's path.
      discoveryUrl: discoveryUrlAt(api.origin),
      metadataHost: metadata.host,
      secret,
      storage,
      logger: options.logger,
      provider: {
        kind: 'local',
        issuer: provider.issuer,
        clientId: DEMO_CLIENT_ID,
        clientSecret: derive(secret, 'client-secret:demo'),
      },
    });
    // Fail now, not on the first visit, if something is wrong: the provider, and the API's
    // discovery document (`build('tasks', 'v1')`, once for the app's lifetime).
    await Promise.all([demo.decorator.ready(), demo.tasksService()]);
    app.handle(createNodeHandler(demo.fetch));
    const url = `${app.origin}/`;
    if (!options.quiet) printLocalBanner(url, provider, api, metadata, dataDir);
    return {
      url,
      mode: 'local',
      issuer: provider.issuer,
      tasksApi: api.origin,
      app: demo,
      local: { provider, api, metadata },
      close: stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function startAgainstGoogle(
  options: DemoOptions,
  path: string,
  secret: string,
  storage: Awaited<ReturnType<typeof openDefaultSqliteStore>>,
  stops: (() => Promise<void>)[],
  stop: () => Promise<void>,
): Promise<RunningDemo> {
  // Serve where Google will send users back: the redirect URI registered for /oauth2callback.
  let redirectUri: string | undefined;
  try {
    const secrets = await loadClientSecrets(path);
    redirectUri = secrets.redirectUris.find((u) => new URL(u).pathname === '/oauth2callback');
  } catch {
    // The decorator reports what is wrong with the file, and users see its message.
  }
  const target = redirectUri ? new URL(redirectUri) : undefined;
  const loopback = target && ['localhost', '127.0.0.1', '[::1]'].includes(target.hostname);
  const port = loopback ? Number(target.port || 80) : (options.port ?? 3000);
  const host = loopback && target.hostname !== '[::1]' ? target.hostname : '127.0.0.1';
  const app: Listening = await listen(port, host);
  stops.push(() => app.close());
  const baseUrl = loopback ? target.origin : app.origin;
  const demo = createDemoApp({
    baseUrl,
    tasksApi: GOOGLE_TASKS_API,
    // Google's discovery document, fetched on the first Tasks call, not at start: the app starts
    // without reaching Google.
    discoveryUrl: undefined,
    // Only a metadata server the process was configured with; never the default address.
    metadataHost: options.metadataHost,
    secret,
    storage,
    provider: {
      kind: 'google',
      clientSecrets: path,
      redirectUri,
      allowHttpLoopback: loopback && target.protocol === 'http:',
    },
    logger: options.logger,
  });
  app.handle(createNodeHandler(demo.fetch));
  const ready = await demo.decorator.ready().then(
    () => true,
    () => false,
  );
  if (!options.quiet) {
    console.log(`\noauthkit demo, against Google (client secrets: ${path})\n`);
    console.log(`  Open ${baseUrl}/\n`);
    if (!ready) {
      console.log(
        '  Not configured yet: see the message above. Users see a "not configured" page.\n',
      );
    } else if (!loopback) {
      console.log(`  Listening on ${app.origin}; ${baseUrl} must reach it.\n`);
    }
    if (options.metadataHost === undefined) {
      console.log(
        '  The service-account page needs GCE_METADATA_HOST (e.g. metadata.google.internal on Google Cloud).\n',
      );
    }
    console.log('Press Ctrl+C to stop.');
  }
  return {
    url: `${baseUrl}/`,
    mode: 'google',
    issuer: 'https://accounts.google.com',
    tasksApi: GOOGLE_TASKS_API,
    app: demo,
    close: stop,
  };
}

function printLocalBanner(
  url: string,
  provider: LocalProvider,
  api: LocalTasksApi,
  metadata: MetadataServer,
  dataDir: string,
) {
  console.log(`
oauthkit demo: a Google Tasks app built with OAuth2Decorator, everything on loopback.

  Open ${url}

  Sign-in    ${provider.issuer}  local OpenID Connect provider standing in for Google;
             any name signs you in
  Tasks API  ${api.origin}/tasks/v1/  local stand-in for tasks.googleapis.com
             (discovery document: ${api.origin}/discovery/v1/apis/tasks/v1/rest)
  Metadata   ${metadata.url}  local stand-in for the metadata server: the app's own
             service account (${SERVICE_ACCOUNT_EMAIL})
  Data       ${dataDir}/  (delete it to start over)

Against Google instead: CLIENT_SECRETS=path/to/client_secrets.json npm start
Press Ctrl+C to stop.`);
}

/**
 * The secret that keys oauthkit's cookies: made once and kept, so that sessions survive a
 * restart. The file is created exclusively, so two demos starting at once agree on one.
 */
async function loadOrCreateSecret(file: string): Promise<string> {
  try {
    const text = (await readFile(file, 'utf8')).trim();
    if (text.length < 32) {
      throw new Error(`${file} holds less than 32 characters; delete it and start again`);
    }
    return text;
  } catch (err) {
    if ((err as { code?: string }).code !== 'ENOENT') throw err;
  }
  await mkdir(join(file, '..'), { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  try {
    await writeFile(file, `${secret}\n`, { flag: 'wx', mode: 0o600 });
    return secret;
  } catch (err) {
    if ((err as { code?: string }).code === 'EEXIST') return loadOrCreateSecret(file);
    throw err;
  }
}

/** A value derived from the demo secret for one purpose (client secrets, cookie keys). */
function derive(secret: string, purpose: string): string {
  return createHmac('sha256', secret).update(`oauthkit-demo:${purpose}`).digest('base64url');
}
