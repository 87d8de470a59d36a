/**
 * The demo web app, written the way the seed's App Engine examples are: one `OAuth2Decorator`,
 * configured once, and handlers wrapped in `oauthAware` or `oauthRequired` that call the API
 * with `decorator.http()`.
 *
 * - `/` (`oauthAware`): explains why the app needs access and links to `authorizeUrl()`; once
 *   connected, shows the next open tasks.
 * - `/tasks` (`oauthRequired`): lists the tasks of "My Tasks"; forms add, complete, reopen and
 *   delete them (POST, then redirect back: POST-redirect-GET).
 * - `/account` (`oauthRequired`): the connected account, the granted scopes, the token's expiry,
 *   and a Disconnect button that revokes the grant.
 * - `/service-account` (no decorator): the app's own identity, the seed's
 *   `AppAssertionCredentials(scope=...)`: the service account's email and token expiry from the
 *   metadata server, and the app's own task list, called with `credentials.authorize()`.
 *
 * Every Tasks API call goes through `build('tasks', 'v1')` (`oauthkit/discovery`).
 *
 * In your own app the imports are `oauthkit`, `oauthkit/fetch`, `oauthkit/discovery` and
 * `oauthkit/service-account`.
 *
 * @module
 */
import { withOAuth } from '../src/adapters/fetch.js';
import { HttpError } from '../src/discovery/index.js';
import {
  OAuth2Decorator,
  OAuthKitError,
  RevocationError,
  type CredentialStore,
  type Credentials,
} from '../src/index.node.js';
import { AppAssertionCredentials } from '../src/service-account/index.js';
import { html, type Html } from './html.js';
import { renderPage, STYLE_PATH, styleSheet, type PageOptions, type Site } from './pages.js';
import { DEMO_SCOPES, describeScope, TASKS_SCOPE } from './scopes.js';
import { isTaskId, tasksServiceOnce, type Task, type TasksService } from './tasks-client.js';

/** The local stand-in provider, by issuer, with the demo's client registration. */
export interface LocalProviderConfig {
  kind: 'local';
  issuer: string;
  clientId: string;
  clientSecret: string;
}

/** Google, from a `client_secrets.json` downloaded from the Google Cloud console. */
export interface GoogleConfig {
  kind: 'google';
  /** The path of `client_secrets.json`. */
  clientSecrets: string;
  /** One of its `redirect_uris` (default: the one ending in `/oauth2callback`). */
  redirectUri?: string | undefined;
  /** The app runs on plain-http loopback (`http://localhost:8080/oauth2callback`, say). */
  allowHttpLoopback?: boolean | undefined;
}

/** Options of {@link createDemoApp}. */
export interface DemoAppOptions {
  /** The app's public URL, `http://127.0.0.1:3000`: the redirect URI is built from it. */
  baseUrl: string;
  /** The Tasks API's origin: the local stand-in, or `https://tasks.googleapis.com`. */
  tasksApi: string;
  /**
   * Where `build('tasks', 'v1')` finds the discovery document, a URL template with `{api}` and
   * `{apiVersion}` (default: Google's discovery URLs).
   */
  discoveryUrl?: string | undefined;
  /**
   * The metadata server the app's own identity comes from, as `host:port` (the value of
   * `GCE_METADATA_HOST`): the demo's local stand-in, or Google's on a Google Cloud runtime.
   * Without it the service-account page explains what it would show.
   */
  metadataHost?: string | undefined;
  /** The secret that keys oauthkit's cookies (kept in `.data/demo-secret`). */
  secret: string;
  /** Where credentials live (default: oauthkit's SQLite file, `.data/oauthkit.sqlite`). */
  storage?: CredentialStore | undefined;
  /** Who signs users in. */
  provider: LocalProviderConfig | GoogleConfig;
  /** Where oauthkit logs what to fix (default `console`). */
  logger?: Pick<Console, 'error' | 'warn'> | undefined;
}

/** The demo app. */
export interface DemoApp {
  /** The decorator (e.g. to `await decorator.ready()`). */
  decorator: OAuth2Decorator;
  /** The whole app as a Web-standard handler. */
  fetch: (request: Request) => Promise<Response>;
  /**
   * The Tasks service from `build('tasks', 'v1')`: built on the first call (the demo calls it
   * at start against the local API), shared afterwards.
   */
  tasksService: () => Promise<TasksService>;
  /** The app's own credentials (`AppAssertionCredentials`), when a metadata server is given. */
  credentials: AppAssertionCredentials | undefined;
}

/** What end users see while `client_secrets.json` is missing or unfilled (the seed's `message`). */
const MESSAGE =
  'This demo is not configured yet: the client_secrets.json given in CLIENT_SECRETS is missing or incomplete. The server log says what to fix.';

/** Handler errors that mean "this user has to authorize (again)". */
const REAUTH = new Set([
  'grant_revoked',
  'reauth_required',
  'insufficient_scope',
  'credentials_missing',
]);

/**
 * Builds the demo app.
 *
 * @param options where the app lives, the provider, the Tasks API, the secret and the store
 * @returns the decorator and the app's handler
 * @example
 * ```ts
 * const { fetch } = createDemoApp({ baseUrl, tasksApi, secret, provider: { kind: 'local', issuer, clientId, clientSecret } });
 * createServer(createNodeHandler(fetch)).listen(3000, '127.0.0.1');
 * ```
 */
export function createDemoApp(options: DemoAppOptions): DemoApp {
  const { provider, tasksApi } = options;
  const base = new URL(options.baseUrl);

  // ---- the decorator: configured once, like the seed's module-level `decorator = ...` ----------
  const decorator =
    provider.kind === 'google'
      ? OAuth2Decorator.fromClientSecrets(provider.clientSecrets, {
          scopes: DEMO_SCOPES,
          message: MESSAGE,
          secret: options.secret,
          storage: options.storage,
          redirectUri: provider.redirectUri,
          // Google's endpoints are https whatever this says; it lets the app itself be local.
          allowHttpLoopback: provider.allowHttpLoopback,
          allowedOrigins: [tasksApi],
          logger: options.logger,
        })
      : new OAuth2Decorator({
          clientId: provider.clientId,
          clientSecret: provider.clientSecret,
          issuer: provider.issuer,
          scopes: DEMO_SCOPES,
          baseUrl: options.baseUrl,
          secret: options.secret,
          storage: options.storage,
          // The tokens only ever go to the Tasks API.
          allowedOrigins: [tasksApi],
          message: MESSAGE,
          logger: options.logger,
          // The local provider speaks plain http on loopback. Never set this against a real one.
          allowHttpLoopback: true,
        });

  const site: Site =
    provider.kind === 'google'
      ? {
          providerName: 'Google',
          providerOrigin: 'https://accounts.google.com',
          tasksApi,
          local: false,
        }
      : {
          providerName: 'Local Accounts (stand-in for Google)',
          providerOrigin: new URL(provider.issuer).origin,
          tasksApi,
          local: true,
        };
  const page = (o: PageOptions) => renderPage(site, o);

  // ---- the Tasks API from its discovery document: the seed's `service = build('tasks', 'v1')` --
  // Built once. Against Google it is built on first use rather than at start, so the app starts
  // without reaching Google, and uses Google's current document for the real API.
  const tasksService = tasksServiceOnce(options.discoveryUrl);

  // ---- the app's own identity: the seed's module-level `credentials = AppAssertionCredentials(...)`
  // Only GCE_METADATA_HOST is read, from the options (demo.ts passes the process's own): without
  // one the page explains instead of probing the default metadata address.
  const credentials =
    options.metadataHost === undefined
      ? undefined
      : new AppAssertionCredentials({
          scopes: [TASKS_SCOPE],
          env: { GCE_METADATA_HOST: options.metadataHost },
        });
  // Like `credentials.authorize(httplib2.Http(memcache))`; its token only ever goes to the API.
  const appHttp = credentials?.authorize({ allowedOrigins: [tasksApi] });

  // ---- / (oauthAware) ---------------------------------------------------------------------------
  const home = decorator.oauthAware(async (request) => {
    const notice = noticeFor(request);
    if (!decorator.hasCredentials()) {
      return page({
        title: 'Home',
        active: 'home',
        notice,
        body: connectPrompt(site, decorator.authorizeUrl()),
      });
    }
    const account = accountName(decorator.credentials());
    let next: Task[];
    try {
      const service = await tasksService();
      const list = await service.tasks
        .list({ tasklist: '@default', showCompleted: false, maxResults: 5 })
        .execute(decorator.http());
      next = list.items ?? [];
    } catch (err) {
      // oauthAware never redirects: a grant revoked at the provider shows the prompt again.
      if (err instanceof OAuthKitError && REAUTH.has(err.code)) {
        return page({
          title: 'Home',
          active: 'home',
          notice:
            'Your access has ended (it was revoked or has expired). Connect again to continue.',
          body: connectPrompt(site, decorator.authorizeUrl()),
        });
      }
      throw err;
    }
    return page({
      title: 'Home',
      active: 'home',
      account,
      notice,
      body: html`<section class="card">
        <p class="status on">Connected as ${account}</p>
        <h1>Next up</h1>
        ${
          next.length === 0
            ? html`<p class="empty">Nothing to do. Enjoy your day.</p>`
            : html`<ul class="tasks">
                ${next.map((t) => html`<li class="task" data-status="${t.status}"><span class="title">${t.title || '(no title)'}</span></li>`)}
              </ul>`
        }
        <div class="actions">
          <a class="button" href="/tasks">Open your tasks</a><a href="/account">Account</a>
        </div>
      </section>`,
    });
  });

  // ---- /tasks (oauthRequired) -------------------------------------------------------------------
  const tasksPage = decorator.oauthRequired(async (request) => {
    const service = await tasksService();
    const http = decorator.http();
    const [lists, tasks] = await Promise.all([
      service.tasklists.list().execute(http),
      service.tasks
        .list({ tasklist: '@default', showCompleted: true, maxResults: 100 })
        .execute(http),
    ]);
    const items = tasks.items ?? [];
    // Google lists the default list first.
    const list = { title: lists.items?.[0]?.title ?? 'My Tasks' };
    const open = items.filter((t) => t.status !== 'completed');
    const done = items.filter((t) => t.status === 'completed');
    return page({
      title: list.title,
      active: 'tasks',
      account: accountName(decorator.credentials()),
      notice: noticeFor(request),
      body: html`<section class="card">
        <h1>${list.title}</h1>
        <form class="add" method="post" action="/tasks">
          <input type="hidden" name="action" value="add" />
          <label class="sr" for="title">New task</label>
          <input
            id="title"
            name="title"
            required
            maxlength="1024"
            placeholder="Add a task"
            autocomplete="off"
          />
          <button type="submit">Add</button>
        </form>
        ${
          open.length === 0
            ? html`<p class="empty">No open tasks. Add one above.</p>`
            : html`<ul class="tasks" aria-label="Open tasks">
                ${open.map(taskItem)}
              </ul>`
        }
        ${
          done.length > 0
            ? html`<h2>Completed (${done.length})</h2>
                <ul class="tasks" aria-label="Completed tasks">
                  ${done.map(taskItem)}
                </ul>`
            : ''
        }
      </section>`,
    });
  });

  const tasksAction = decorator.oauthRequired(async (request) => {
    const form = await readForm(request);
    const action = form.get('action');
    const task = form.get('task') ?? '';
    const onTask = action === 'complete' || action === 'reopen' || action === 'delete';
    if (onTask && !isTaskId(task)) return seeOther('/tasks?done=missing');
    const service = await tasksService();
    const http = decorator.http();
    const where = { tasklist: '@default', task };
    try {
      switch (action) {
        case 'add': {
          const title = (form.get('title') ?? '').trim();
          if (title.length === 0) return seeOther('/tasks?done=empty');
          await service.tasks
            .insert({ tasklist: '@default' }, { body: { title: title.slice(0, 1024) } })
            .execute(http);
          return seeOther('/tasks?done=added');
        }
        case 'complete':
          await service.tasks.patch(where, { body: { status: 'completed' } }).execute(http);
          return seeOther('/tasks?done=completed');
        case 'reopen':
          await service.tasks
            .patch(where, { body: { status: 'needsAction', completed: null } })
            .execute(http);
          return seeOther('/tasks?done=reopened');
        case 'delete':
          await service.tasks.delete(where).execute(http);
          return seeOther('/tasks?done=deleted');
        default:
          return page({
            title: 'Unknown action',
            status: 400,
            body: html`<p>This form asked for something the app does not do.</p>
              <p><a href="/tasks">Back to your tasks</a></p>`,
          });
      }
    } catch (err) {
      // Deleted in another tab, or on another device: say so instead of failing.
      if (err instanceof HttpError && err.status === 404) return seeOther('/tasks?done=missing');
      throw err;
    }
  });

  // ---- /account (oauthRequired) -----------------------------------------------------------------
  const account = decorator.oauthRequired(async (request) => {
    const credentials = decorator.credentials();
    const claims = credentials?.idTokenClaims ?? {};
    const str = (k: string) => (typeof claims[k] === 'string' ? (claims[k] as string) : undefined);
    return page({
      title: 'Account',
      active: 'account',
      account: accountName(credentials),
      notice: noticeFor(request),
      body: html`<section class="card">
        <h1>Connected account</h1>
        <dl class="facts">
          ${
            str('name')
              ? html`<dt>Name</dt>
                  <dd>${str('name')}</dd>`
              : ''
          }
          <dt>Email</dt>
          <dd>${str('email') ?? '—'}${claims.email_verified === true ? ' (verified)' : ''}</dd>
          <dt>Subject (<code>sub</code>)</dt>
          <dd><code>${str('sub') ?? '—'}</code></dd>
          <dt>Issuer (<code>iss</code>)</dt>
          <dd><code>${str('iss') ?? '—'}</code></dd>
          <dt>Access granted</dt>
          <dd>
            <ul class="scopes">
              ${(credentials?.scopes ?? []).map((s) => html`<li>${describeScope(s)} <code>${s}</code></li>`)}
            </ul>
          </dd>
          <dt>Access token</dt>
          <dd>${expiry(credentials)}</dd>
          <dt>Refresh token</dt>
          <dd>
            ${
              credentials?.refreshToken !== undefined
                ? 'Kept on the server, never sent to your browser: the app renews access by itself.'
                : 'None: you will be asked again when the access token expires.'
            }
          </dd>
        </dl>
        <form class="actions" method="post" action="/account/disconnect">
          <button class="danger" type="submit">Disconnect</button>
          <span class="hint"
            >Revokes the app's access at ${site.providerName} and deletes the stored tokens.</span
          >
        </form>
      </section>`,
    });
  });

  // oauthAware, not oauthRequired: disconnecting must never send anyone to the provider.
  const disconnect = decorator.oauthAware(async (_request, oauth) => {
    try {
      await oauth.revoke();
    } catch (err) {
      if (!(err instanceof RevocationError)) throw err;
      return page({
        title: 'Could not disconnect',
        status: 502,
        body: html`<section class="card">
          <h1>Could not disconnect</h1>
          <p>
            ${site.providerName} could not be reached or refused the request, so the app still has
            access. Please try again.
          </p>
          <p><a href="/account">Back to your account</a></p>
        </section>`,
      });
    }
    return seeOther('/?done=disconnected');
  });

  // ---- /service-account (no decorator: the app, not a user, is the caller) ----------------------
  const serviceAccount = async (): Promise<Response> => {
    const title = "The app's own account";
    if (credentials === undefined || appHttp === undefined) {
      return page({ title, active: 'service-account', body: noMetadataServer() });
    }
    let email: string;
    let token: Credentials;
    let items: Task[];
    try {
      const service = await tasksService();
      let tasks: { items?: Task[] };
      [email, token, tasks] = await Promise.all([
        credentials.getEmail(),
        credentials.getCredentials(),
        service.tasks
          .list({ tasklist: '@default', showCompleted: true, maxResults: 100 })
          .execute(appHttp),
      ]);
      items = tasks.items ?? [];
    } catch (err) {
      // The metadata server or the API failed (oauthkit's messages never carry a token).
      if (!(err instanceof OAuthKitError)) throw err;
      console.error(`demo: GET /service-account failed: ${err.name}: ${err.message}`);
      return page({
        title,
        active: 'service-account',
        status: 502,
        body: html`<section class="card">
          <p class="status off">Not available</p>
          <h1>${title}</h1>
          <p>The app could not call the Tasks API as itself: ${err.message}</p>
          <p><a href="/service-account">Try again</a></p>
        </section>`,
      });
    }
    const standIn = site.local
      ? 'Here it is a local stand-in, minting them from the local provider.'
      : '';
    return page({
      title,
      active: 'service-account',
      body: html`<section class="card">
        <p class="status on">Running as the app</p>
        <h1>${title}</h1>
        <p>
          This page calls the Tasks API as the app itself, not as you: no sign-in, no consent. The
          app gets its access tokens from the metadata server of the platform it runs on, as apps on
          App Engine, Cloud Run and Compute Engine do. ${standIn} The tokens stay on the server.
        </p>
        <dl class="facts">
          <dt>Service account</dt>
          <dd>${email}</dd>
          <dt>Metadata server</dt>
          <dd><code>${credentials.metadataUrl}</code>${site.local ? ' (local stand-in)' : ''}</dd>
          <dt>Access granted</dt>
          <dd>
            <ul class="scopes">
              ${credentials.scopes.map((s) => html`<li>${describeScope(s)} <code>${s}</code></li>`)}
            </ul>
          </dd>
          <dt>Access token</dt>
          <dd>${expiry(token)}</dd>
        </dl>
        <h2>The app's tasks</h2>
        ${
          items.length === 0
            ? html`<p class="empty">
                None yet. Anything that runs as the app (a scheduled job, another instance) adds
                them with the same credentials.
              </p>`
            : html`<ul class="tasks" aria-label="The app's tasks">
                ${items.map((t) => html`<li class="task" data-status="${t.status}"><span class="title">${t.title || '(no title)'}</span></li>`)}
              </ul>`
        }
      </section>`,
    });
  };

  // ---- routes -------------------------------------------------------------------------------------
  const router = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    const route = `${request.method} ${url.pathname}`;
    if (request.method === 'POST' && !isSameOrigin(request, base.origin)) {
      return page({
        title: 'Request refused',
        status: 403,
        body: html`<section class="card">
          <h1>Request refused</h1>
          <p>This form was not sent from this app's own pages, so it was not carried out.</p>
          <p><a href="/">Go to the home page</a></p>
        </section>`,
      });
    }
    switch (route) {
      case 'GET /':
        return home(request);
      case 'GET /tasks':
        return tasksPage(request);
      case 'POST /tasks':
        return tasksAction(request);
      case 'GET /account':
        return account(request);
      case 'POST /account/disconnect':
        return disconnect(request);
      case 'GET /service-account':
        return serviceAccount();
      case `GET ${STYLE_PATH}`:
        return styleSheet();
      default:
        return page({
          title: 'Not found',
          status: 404,
          body: html`<section class="card">
            <h1>Not found</h1>
            <p><a href="/">Go to the home page</a></p>
          </section>`,
        });
    }
  };

  const app = withOAuth(decorator, router);
  return {
    decorator,
    tasksService,
    credentials,
    async fetch(request) {
      const url = new URL(request.url);
      // Opened as http://localhost:3000 while configured as http://127.0.0.1:3000 (or the other
      // way round): oauthkit's cookies belong to the configured origin, so go there first.
      if (url.host !== base.host && (request.method === 'GET' || request.method === 'HEAD')) {
        // Concatenated, not resolved: a path like `//elsewhere` must stay on this origin.
        return seeOther(`${base.origin}${url.pathname}${url.search}`, 308);
      }
      try {
        return await app(request);
      } catch (err) {
        const api = err instanceof HttpError;
        console.error(
          `demo: ${request.method} ${url.pathname} failed:`,
          err instanceof Error ? `${err.name}: ${err.message}` : err,
        );
        return page({
          title: 'Something went wrong',
          status: api ? 502 : 500,
          body: html`<section class="card">
            <h1>Something went wrong</h1>
            <p>
              ${api ? `The Tasks API answered: ${(err as Error).message}` : 'The app hit an unexpected error.'}
            </p>
            <p><a href="${url.pathname}">Try again</a></p>
          </section>`,
        });
      }
    },
  };
}

/**
 * CSRF protection for the POST forms: a POST is carried out only when the browser says it
 * comes from this app's own origin (`Origin`, or `Sec-Fetch-Site: same-origin` where a browser
 * leaves `Origin` out). Every current browser sends one of them with a form POST, so a request
 * with neither is refused. The session cookie is already `SameSite=Lax`, but a "site" ignores
 * ports: any other page on 127.0.0.1 or localhost (the local provider, other dev servers) is
 * same-site and would get the cookie sent. The origin is the configured one, never `Host`.
 */
function isSameOrigin(request: Request, origin: string): boolean {
  const sent = request.headers.get('origin');
  if (sent !== null) return sent === origin;
  return request.headers.get('sec-fetch-site') === 'same-origin';
}

function connectPrompt(site: Site, authorizeUrl: string): Html {
  return html`<section class="card">
    <p class="status off">Not connected</p>
    <h1>Your tasks, in this app</h1>
    <p>
      This demo shows and changes the tasks in your <strong>My Tasks</strong> list. For that it
      needs your permission to:
    </p>
    <ul class="scopes">
      ${DEMO_SCOPES.filter((s) => s !== 'openid').map((s) => html`<li>${describeScope(s)}</li>`)}
    </ul>
    <p>
      You will sign in at <strong>${site.providerName}</strong> and approve there; this app never
      sees your password. It keeps its access token on the server, never in your browser, and you
      can disconnect at any time.
    </p>
    <div class="actions"><a class="button" href="${authorizeUrl}">Connect your tasks</a></div>
  </section>`;
}

function noMetadataServer(): Html {
  return html`<section class="card">
    <p class="status off">No service account here</p>
    <h1>The app's own account</h1>
    <p>
      This page calls the Tasks API as the app itself, with no user involved: the seed's
      <code>AppAssertionCredentials</code>. The app's identity comes from the metadata server of the
      Google Cloud runtime it runs on (App Engine, Cloud Run, Cloud Functions, Compute Engine, GKE).
    </p>
    <p>
      No metadata server is configured, so there is nothing to show. On Google Cloud, start the demo
      with <code>GCE_METADATA_HOST=metadata.google.internal</code>; the local demo (without
      <code>CLIENT_SECRETS</code>) runs a stand-in of its own.
    </p>
  </section>`;
}

function taskItem(t: Task): Html {
  const done = t.status === 'completed';
  const label = t.title || '(no title)';
  return html`<li class="task" data-status="${t.status}" data-id="${t.id}">
    <form class="inline" method="post" action="/tasks">
      <input type="hidden" name="task" value="${t.id}" />
      ${
        done
          ? html`<button
              class="check"
              name="action"
              value="reopen"
              aria-label="Reopen ${label}"
              title="Reopen"
            >
              ✓
            </button>`
          : html`<button
              class="check"
              name="action"
              value="complete"
              aria-label="Complete ${label}"
              title="Mark complete"
            ></button>`
      }
    </form>
    <span class="title">${label}</span>
    <span class="meta">${done && t.completed ? `done ${shortDate(t.completed)}` : ''}</span>
    <form class="inline" method="post" action="/tasks">
      <input type="hidden" name="task" value="${t.id}" />
      <button class="quiet" name="action" value="delete" aria-label="Delete ${label}">
        Delete
      </button>
    </form>
  </li>`;
}

const NOTICES: Record<string, string> = {
  added: 'Task added.',
  completed: 'Task completed.',
  reopened: 'Task reopened.',
  deleted: 'Task deleted.',
  missing: 'That task no longer exists.',
  empty: 'Type a title first.',
  disconnected: 'Disconnected: the app no longer has access to your tasks.',
};

function noticeFor(request: Request): string | undefined {
  return NOTICES[new URL(request.url).searchParams.get('done') ?? ''];
}

function accountName(credentials: Credentials | undefined): string | undefined {
  const c = credentials?.idTokenClaims;
  const email = c?.email;
  return typeof email === 'string' ? email : credentials?.subject?.sub;
}

function expiry(credentials: Credentials | undefined): string {
  const at = credentials?.expiresAt;
  if (at === undefined) return 'No expiry given.';
  const minutes = Math.round((at - Date.now()) / 60_000);
  const when = new Date(at).toISOString().slice(11, 16);
  return minutes > 0
    ? `Expires in ${minutes} min (${when} UTC); renewed automatically when needed.`
    : `Expired at ${when} UTC; renewed automatically on the next call.`;
}

function shortDate(iso: string): string {
  return new Date(iso).toISOString().slice(0, 10);
}

async function readForm(request: Request): Promise<URLSearchParams> {
  const text = await request.text();
  return new URLSearchParams(text.length > 16 * 1024 ? '' : text);
}

function seeOther(location: string, status = 303): Response {
  return new Response(null, { status, headers: { location, 'cache-control': 'no-store' } });
}
