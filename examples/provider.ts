/**
 * A local OpenID Connect provider that stands in for Google's (`accounts.google.com`) in the
 * demo: `oidc-provider` on loopback, with its own small sign-in and consent pages that accept any
 * name, and Google's habits where they matter to a client: a refresh token on every code exchange
 * of a client allowed to refresh, PKCE, revocation, the ID token carrying the email claims.
 * Introspection is enabled for the local Tasks API, which checks access tokens with it. Apps that
 * act as themselves (the demo's service account, through the metadata-server stand-in) get
 * tokens by the client credentials grant.
 *
 * Grants, tokens and sign-in sessions live in SQLite (`.data/provider.sqlite` in the demo) so
 * that a restarted demo still knows the tokens it issued.
 *
 * @module
 */
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { openDatabase, type SqliteDb } from './db.js';
import { html, Html } from './html.js';
import { listen, readBody } from './net.js';
import { withoutProviderNotices } from './provider-notices.js';
import { describeScope, TASKS_READONLY_SCOPE, TASKS_SCOPE } from './scopes.js';

/** A client app registered with the provider (the demo app). */
export interface ProviderClient {
  /** `client_id` */
  clientId: string;
  /** `client_secret` (sent with HTTP Basic or in the body). */
  clientSecret: string;
  /** Shown on the consent page. */
  name: string;
  /** The exact redirect URIs it may use. */
  redirectUris: string[];
}

/** A resource server (the Tasks API): it may introspect any access token, and do nothing else. */
export interface ProviderResourceServer {
  /** Its `client_id` for the introspection endpoint. */
  clientId: string;
  /** Its `client_secret`. */
  clientSecret: string;
}

/**
 * An app acting as itself, with no user (the demo's service account): it may use the client
 * credentials grant (RFC 6749 section 4.4), for its scopes, and nothing else.
 */
export interface ProviderServiceClient {
  /** `client_id` */
  clientId: string;
  /** `client_secret`, sent with HTTP Basic. */
  clientSecret: string;
  /** The scopes it may ask for. */
  scopes: readonly string[];
}

/** Options of {@link startProvider}. */
export interface ProviderOptions {
  /** The loopback port (0 or absent: any free one). */
  port?: number | undefined;
  /** The SQLite file for grants, tokens and sessions; `':memory:'` (the default) keeps nothing. */
  database?: string | undefined;
  /** The registered client apps. */
  clients: ProviderClient[];
  /** The resource servers allowed to introspect tokens. */
  resourceServers?: ProviderResourceServer[] | undefined;
  /** Apps that get tokens for themselves by the client credentials grant. */
  serviceClients?: ProviderServiceClient[] | undefined;
  /** Keys for the provider's signed cookies; random when absent (sign-ins then end on restart). */
  cookieKeys?: string[] | undefined;
  /** Access token lifetime in seconds (default 3600, as Google's). */
  accessTokenTtl?: number | undefined;
}

/** A running provider. */
export interface LocalProvider {
  /** The issuer, `http://127.0.0.1:PORT`, no trailing slash. */
  readonly issuer: string;
  /** Stops it and closes its database. */
  close(): Promise<void>;
}

const DAY = 24 * 60 * 60;
const GRANTABLE = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'PreAuthorizedCode',
]);

/**
 * Starts the provider on loopback.
 *
 * @param options the clients, the resource servers, where to keep state
 * @returns the running provider
 * @example
 * ```ts
 * const provider = await startProvider({
 *   port: 3001,
 *   clients: [{ clientId: 'demo', clientSecret: 's3cret', name: 'Demo', redirectUris: ['http://127.0.0.1:3000/oauth2callback'] }],
 * });
 * console.log(`${provider.issuer}/.well-known/openid-configuration`);
 * ```
 */
export async function startProvider(options: ProviderOptions): Promise<LocalProvider> {
  const { default: Provider } = await withoutProviderNotices(() => import('oidc-provider'));
  const listening = await listen(options.port ?? 0);
  const issuer = listening.origin;
  const db = openDatabase(options.database ?? ':memory:');
  const resourceServers = new Set((options.resourceServers ?? []).map((r) => r.clientId));

  const configuration = {
    clients: [
      ...options.clients.map((c) => ({
        client_id: c.clientId,
        client_secret: c.clientSecret,
        client_name: c.name,
        redirect_uris: c.redirectUris,
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      })),
      // A resource server is registered as a client that can obtain nothing, only introspect.
      ...(options.resourceServers ?? []).map((r) => ({
        client_id: r.clientId,
        client_secret: r.clientSecret,
        redirect_uris: [],
        grant_types: [],
        response_types: [],
        token_endpoint_auth_method: 'client_secret_basic',
      })),
      ...(options.serviceClients ?? []).map((c) => ({
        client_id: c.clientId,
        client_secret: c.clientSecret,
        redirect_uris: [],
        grant_types: ['client_credentials'],
        response_types: [],
        scope: c.scopes.join(' '),
        token_endpoint_auth_method: 'client_secret_basic',
      })),
    ],
    clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
    responseTypes: ['code'],
    scopes: ['openid', 'email', 'profile', TASKS_SCOPE, TASKS_READONLY_SCOPE],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    // Like Google: the ID token carries the email claims even though an access token is issued.
    conformIdTokenClaims: false,
    // Like Google: redirect_uri is always required.
    allowOmittingSingleRegisteredRedirectUri: false,
    async findAccount(_ctx: unknown, sub: string) {
      return { accountId: sub, claims: async () => accountClaims(sub) };
    },
    // oidc-provider issues refresh tokens only for offline_access with prompt=consent; Google
    // issues one on every code exchange of a client allowed to refresh.
    issueRefreshToken: async (_ctx: unknown, client: { grantTypeAllowed(t: string): boolean }) =>
      client.grantTypeAllowed('refresh_token'),
    // Like Google: tokens outlive the sign-in session and refresh tokens do not rotate.
    expiresWithSession: async () => false,
    rotateRefreshToken: false,
    pkce: { required: () => true },
    adapter: sqliteAdapter(db),
    jwks: { keys: [signingKey()] },
    cookies: { keys: options.cookieKeys ?? [randomBytes(32).toString('base64url')] },
    interactions: {
      url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}`,
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      revocation: {
        enabled: true,
        // A client may revoke only its own tokens.
        allowedPolicy: async (
          _ctx: unknown,
          client: { clientId: string },
          token: { clientId?: string },
        ) => token.clientId === client.clientId,
      },
      introspection: {
        enabled: true,
        // The Tasks API may ask about any token; a client only about its own.
        allowedPolicy: async (
          _ctx: unknown,
          client: { clientId: string },
          token: { clientId?: string },
        ) => resourceServers.has(client.clientId) || token.clientId === client.clientId,
      },
    },
    ttl: {
      AccessToken: options.accessTokenTtl ?? 3600,
      ClientCredentials: options.accessTokenTtl ?? 3600,
      AuthorizationCode: 60,
      IdToken: 3600,
      RefreshToken: 180 * DAY,
      Grant: 180 * DAY,
      Session: 14 * DAY,
      Interaction: 3600,
    },
    clientBasedCORS: () => false,
    async renderError(ctx: { type: string; body: string; status: number }, out: ErrorOut) {
      ctx.type = 'html';
      ctx.body = page(
        'Something went wrong',
        html`<p>The sign-in service could not handle this request.</p>
          <p class="detail">
            <code>${out.error}</code
            >${out.error_description ? html`: ${out.error_description}` : ''}
          </p>`,
      ).value;
    },
  };
  const provider = await withoutProviderNotices(() => new Provider(issuer, configuration));
  const callback = provider.callback() as (req: IncomingMessage, res: ServerResponse) => void;

  listening.handle((req, res) => {
    const path = new URL(req.url ?? '/', issuer).pathname;
    if (path.startsWith('/interaction/')) {
      interaction(provider, req, res, path).catch((err: unknown) => {
        console.error('provider: interaction failed:', err instanceof Error ? err.message : err);
        if (!res.headersSent)
          send(
            res,
            500,
            page('Something went wrong', html`<p>Please go back to the app and try again.</p>`),
          );
        else res.end();
      });
      return;
    }
    callback(req, res);
  });

  return {
    issuer,
    async close() {
      await listening.close();
      db.close();
    },
  };
}

interface ErrorOut {
  error: string;
  error_description?: string;
}

/** The claims of an account: whatever name was typed at sign-in is the account. */
function accountClaims(sub: string) {
  const local = sub.replace(/[^a-z0-9._-]+/g, '.').replace(/^\.+|\.+$/g, '') || 'user';
  return { sub, name: sub, email: `${local}@example.test`, email_verified: true };
}

function signingKey() {
  const jwk = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
    format: 'jwk',
  });
  const kid = createHash('sha256').update(String(jwk.n)).digest('base64url').slice(0, 16);
  return { ...jwk, kid, use: 'sig', alg: 'RS256' };
}

// ---- sign-in and consent pages ------------------------------------------------------------

// Deliberately loose: oidc-provider's objects, only the members used here.
// biome-ignore lint: oidc-provider ships no types.
type AnyProvider = any;

interface InteractionDetails {
  uid: string;
  prompt: {
    name: string;
    details: {
      missingOIDCScope?: string[];
      missingOIDCClaims?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
  };
  params: { client_id: string; scope?: string };
  session?: { accountId: string };
  grantId?: string;
}

async function interaction(
  provider: AnyProvider,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
): Promise<void> {
  const m = /^\/interaction\/([A-Za-z0-9_-]{1,64})(?:\/(login|confirm|abort))?$/.exec(path);
  if (!m) return send(res, 404, page('Not found', html`<p>There is nothing here.</p>`));
  const action = m[2];
  let details: InteractionDetails;
  try {
    details = await provider.interactionDetails(req, res);
  } catch {
    return send(
      res,
      400,
      page(
        'This sign-in has expired',
        html`<p>It was completed already or took too long. Go back to the app and start again.</p>`,
      ),
    );
  }
  if (details.uid !== m[1])
    return send(res, 400, page('Wrong sign-in', html`<p>Start again from the app.</p>`));
  const client = await provider.Client.find(details.params.client_id);
  const clientName = String(client?.clientName ?? details.params.client_id);
  const base = `/interaction/${details.uid}`;
  const method = req.method ?? 'GET';

  if (action === undefined && method === 'GET') {
    if (details.prompt.name === 'login') return send(res, 200, loginPage(base, clientName));
    if (details.prompt.name === 'consent') {
      return send(res, 200, consentPage(base, clientName, details));
    }
    return send(res, 400, page('Unsupported step', html`<p>${details.prompt.name}</p>`));
  }
  if (method !== 'POST') return send(res, 405, page('Method not allowed', html``));
  const form = new URLSearchParams(await readBody(req));

  if (action === 'abort') {
    return provider.interactionFinished(
      req,
      res,
      { error: 'access_denied', error_description: 'The user did not grant access' },
      { mergeWithLastSubmission: false },
    );
  }
  if (action === 'login' && details.prompt.name === 'login') {
    const name = (form.get('login') ?? '').trim().toLowerCase().replace(/\s+/g, ' ');
    if (name.length === 0 || name.length > 64) {
      return send(res, 400, loginPage(base, clientName, 'Type a name of 1 to 64 characters.'));
    }
    return provider.interactionFinished(
      req,
      res,
      { login: { accountId: name } },
      { mergeWithLastSubmission: false },
    );
  }
  if (action === 'confirm' && details.prompt.name === 'consent') {
    const { accountId } = details.session ?? {};
    let grant = details.grantId ? await provider.Grant.find(details.grantId) : undefined;
    grant ??= new provider.Grant({ accountId, clientId: details.params.client_id });
    const missing = details.prompt.details;
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    const grantId = await grant.save();
    return provider.interactionFinished(
      req,
      res,
      { consent: { grantId } },
      { mergeWithLastSubmission: true },
    );
  }
  return send(
    res,
    400,
    page('This step is over', html`<p>Go back to the app and start again.</p>`),
  );
}

function loginPage(base: string, clientName: string, error?: string): Html {
  return page(
    'Sign in',
    html`<p>to continue to <strong>${clientName}</strong></p>
      ${error ? html`<p class="error" role="alert">${error}</p>` : ''}
      <form method="post" action="${base}/login" autocomplete="off">
        <label for="login">Your name</label>
        <input id="login" name="login" required maxlength="64" autofocus placeholder="e.g. alice" />
        <p class="hint">
          This is a local stand-in for Google Accounts: any name signs you in, no password. The same
          name is the same account.
        </p>
        <button type="submit">Next</button>
      </form>
      <form method="post" action="${base}/abort">
        <button class="link" type="submit">Cancel</button>
      </form>`,
  );
}

function consentPage(base: string, clientName: string, details: InteractionDetails): Html {
  const account = details.session?.accountId ?? '';
  const requested = (details.params.scope ?? '').split(' ').filter(Boolean);
  const missing = details.prompt.details.missingOIDCScope ?? [];
  const shown = missing.length > 0 ? missing : requested;
  return page(
    `${clientName} wants to access your account`,
    html`<p class="account">
        Signed in as <strong>${account}</strong> (${accountClaims(account).email})
      </p>
      <p>This will allow <strong>${clientName}</strong> to:</p>
      <ul class="scopes">
        ${shown.map((s) => html`<li>${describeScope(s)} <code>${s}</code></li>`)}
      </ul>
      <p class="hint">You can remove this access at any time from the app's Account page.</p>
      <div class="actions">
        <form method="post" action="${base}/abort">
          <button class="secondary" type="submit">Cancel</button>
        </form>
        <form method="post" action="${base}/confirm"><button type="submit">Allow</button></form>
      </div>`,
  );
}

const PROVIDER_CSS = `
body{font:16px/1.5 system-ui,sans-serif;background:#f0f4f9;color:#1f1f1f;margin:0}
main{max-width:28rem;margin:3rem auto;background:#fff;border-radius:1.5rem;padding:2rem 2.5rem}
.brand{font-weight:600;color:#0b57d0;margin:0}.brand small{color:#5f6368;font-weight:400}
h1{font-size:1.5rem;font-weight:500;margin:.5rem 0}
label{display:block;font-size:.9rem;margin-top:1rem}
input{width:100%;box-sizing:border-box;font:inherit;padding:.7rem;border:1px solid #747775;border-radius:.3rem}
button{font:inherit;border:0;border-radius:1.2rem;padding:.5rem 1.4rem;background:#0b57d0;color:#fff;cursor:pointer}
button.secondary,button.link{background:none;color:#0b57d0}
.actions{display:flex;justify-content:flex-end;gap:.5rem;margin-top:1.5rem}.actions form{margin:0}
.hint,.detail{color:#5f6368;font-size:.85rem}.error{color:#b3261e}
.scopes{padding-left:1.2rem}.scopes code{display:block;color:#5f6368;font-size:.75rem}
`;

function page(title: string, body: Html): Html {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title} – Local Accounts</title>
        <style>
          ${new Html(PROVIDER_CSS)}
        </style>
      </head>
      <body>
        <main>
          <p class="brand">Local Accounts <small>stand-in for Google</small></p>
          <h1>${title}</h1>
          ${body}
        </main>
      </body>
    </html>`;
}

function send(res: ServerResponse, status: number, body: Html): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'x-frame-options': 'DENY',
    'content-security-policy':
      "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
  });
  res.end(body.value);
}

// ---- storage --------------------------------------------------------------------------------

/**
 * oidc-provider's storage adapter on SQLite: one table, one row per model instance, with the
 * grant id, user code and session uid pulled out for the lookups the provider makes.
 */
function sqliteAdapter(db: SqliteDb) {
  db.exec(`CREATE TABLE IF NOT EXISTS oidc_models (
    model TEXT NOT NULL, id TEXT NOT NULL, payload TEXT NOT NULL,
    grant_id TEXT, user_code TEXT, uid TEXT, expires_at INTEGER,
    PRIMARY KEY (model, id))`);
  db.exec('CREATE INDEX IF NOT EXISTS oidc_models_grant ON oidc_models (grant_id)');
  db.exec('CREATE INDEX IF NOT EXISTS oidc_models_uid ON oidc_models (uid)');
  db.prepare('DELETE FROM oidc_models WHERE expires_at <= ?').run(Date.now());
  const live = '(expires_at IS NULL OR expires_at > ?)';
  const q = {
    upsert: db.prepare(
      `INSERT INTO oidc_models (model, id, payload, grant_id, user_code, uid, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (model, id) DO UPDATE SET payload = excluded.payload,
         grant_id = excluded.grant_id, user_code = excluded.user_code, uid = excluded.uid,
         expires_at = excluded.expires_at`,
    ),
    find: db.prepare(`SELECT payload FROM oidc_models WHERE model = ? AND id = ? AND ${live}`),
    byUid: db.prepare(`SELECT payload FROM oidc_models WHERE model = ? AND uid = ? AND ${live}`),
    byUserCode: db.prepare(
      `SELECT payload FROM oidc_models WHERE model = ? AND user_code = ? AND ${live}`,
    ),
    consume: db.prepare(
      `UPDATE oidc_models SET payload = json_set(payload, '$.consumed', ?) WHERE model = ? AND id = ?`,
    ),
    destroy: db.prepare('DELETE FROM oidc_models WHERE model = ? AND id = ?'),
    revoke: db.prepare('DELETE FROM oidc_models WHERE model = ? AND grant_id = ?'),
  };
  const parse = (row: unknown) =>
    row ? (JSON.parse((row as { payload: string }).payload) as object) : undefined;

  return class SqliteAdapter {
    constructor(readonly model: string) {}

    async upsert(id: string, payload: Record<string, unknown>, expiresIn?: number) {
      const grantId = GRANTABLE.has(this.model)
        ? (payload.grantId as string | undefined)
        : undefined;
      q.upsert.run(
        this.model,
        id,
        JSON.stringify(payload),
        grantId ?? null,
        (payload.userCode as string | undefined) ?? null,
        (payload.uid as string | undefined) ?? null,
        typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : null,
      );
    }
    async find(id: string) {
      return parse(q.find.get(this.model, id, Date.now()));
    }
    async findByUid(uid: string) {
      return parse(q.byUid.get(this.model, uid, Date.now()));
    }
    async findByUserCode(userCode: string) {
      return parse(q.byUserCode.get(this.model, userCode, Date.now()));
    }
    async consume(id: string) {
      q.consume.run(Math.floor(Date.now() / 1000), this.model, id);
    }
    async destroy(id: string) {
      q.destroy.run(this.model, id);
    }
    async revokeByGrantId(grantId: string) {
      q.revoke.run(this.model, grantId);
    }
  };
}
