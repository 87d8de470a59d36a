/**
 * The demo app's shared layout and style sheet.
 *
 * @module
 */
import { html, Html } from './html.js';

/** What every page says about where the demo runs. */
export interface Site {
  /** Who signs users in, e.g. "Local Accounts (stand-in for Google)" or "Google". */
  providerName: string;
  /** The sign-in provider's origin (forms may redirect there). */
  providerOrigin: string;
  /** The Tasks API's origin. */
  tasksApi: string;
  /** Whether the provider and the API are the local stand-ins. */
  local: boolean;
}

/** What a page shows. */
export interface PageOptions {
  /** The page title (and `<title>`). */
  title: string;
  /** The main content. */
  body: Html;
  /** Which navigation entry is current. */
  active?: (typeof NAV)[number]['id'] | undefined;
  /** The connected account's email, shown in the header. */
  account?: string | undefined;
  /** A one-line message about what just happened. */
  notice?: string | undefined;
  /** The HTTP status (default 200). */
  status?: number | undefined;
}

const NAV = [
  { id: 'home', href: '/', label: 'Home' },
  { id: 'tasks', href: '/tasks', label: 'Tasks' },
  { id: 'account', href: '/account', label: 'Account' },
  { id: 'service-account', href: '/service-account', label: 'Service account' },
] as const;

/** The path of the style sheet. */
export const STYLE_PATH = '/static/style.css';

/**
 * Renders a page in the shared layout, with headers for a page that shows a user's data: not
 * cached, not framed, no scripts, forms only to this app and the sign-in provider.
 *
 * @param site where the demo runs
 * @param options the page
 * @returns the response
 */
export function renderPage(site: Site, options: PageOptions): Response {
  const nav = NAV.map(
    (n) =>
      html`<a href="${n.href}" ${options.active === n.id ? new Html(' aria-current="page"') : ''}
        >${n.label}</a
      >`,
  );
  const doc = html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${options.title} · oauthkit Tasks demo</title>
        <link rel="stylesheet" href="${STYLE_PATH}" />
        <link rel="icon" href="data:," />
      </head>
      <body>
        <header class="top">
          <a class="brand" href="/">Tasks demo <small>oauthkit</small></a>
          <nav>${nav}</nav>
          ${options.account ? html`<span class="who">${options.account}</span>` : ''}
        </header>
        <main>
          ${options.notice ? html`<p class="notice" role="status">${options.notice}</p>` : ''}
          ${options.body}
        </main>
        <footer>
          ${
            site.local
              ? html`Sign-in:
                  <a href="${site.providerOrigin}/.well-known/openid-configuration"
                    >${site.providerName}</a
                  >
                  at ${site.providerOrigin}. Tasks API: local stand-in at
                  ${site.tasksApi}/tasks/v1/.`
              : html`Sign-in: Google. Tasks API: ${site.tasksApi}.`
          }
          Built with oauthkit's <code>OAuth2Decorator</code>.
        </footer>
      </body>
    </html>`;
  return new Response(doc.value, {
    status: options.status ?? 200,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      // Not `no-referrer`: under it a browser sends `Origin: null` with the page's own form
      // POSTs, and the CSRF check (web-app.ts) would refuse them.
      'referrer-policy': 'same-origin',
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      // A POST to an oauthRequired route may be redirected to the provider: allow it as a
      // form target, nothing else.
      'content-security-policy': [
        "default-src 'none'",
        "style-src 'self'",
        'img-src data:',
        `form-action 'self' ${site.providerOrigin}`,
        "frame-ancestors 'none'",
        "base-uri 'none'",
      ].join('; '),
    },
  });
}

/** @returns the style sheet */
export function styleSheet(): Response {
  return new Response(CSS, {
    headers: {
      'content-type': 'text/css; charset=utf-8',
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
    },
  });
}

const CSS = `
:root{--fg:#1f1f1f;--muted:#5f6368;--line:#e3e3e3;--accent:#0b57d0;--ok:#146c2e;--bg:#f8fafd;--warn:#b3261e}
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg)}
a{color:var(--accent)}
.top{display:flex;align-items:center;gap:1.5rem;padding:.75rem 1.5rem;background:#fff;border-bottom:1px solid var(--line)}
.brand{font-weight:600;text-decoration:none;color:var(--fg)}.brand small{color:var(--muted);font-weight:400}
nav{display:flex;gap:1rem}nav a{text-decoration:none;color:var(--muted)}nav a[aria-current=page]{color:var(--accent);font-weight:600}
.who{margin-left:auto;color:var(--muted);font-size:.9rem}
main{max-width:44rem;margin:2rem auto;padding:0 1.5rem}
h1{font-size:1.6rem;font-weight:500;margin:.5rem 0 1rem}h2{font-size:1.15rem;font-weight:500;margin:2rem 0 .5rem}
.card{background:#fff;border:1px solid var(--line);border-radius:1rem;padding:1.5rem}
.status{display:inline-block;padding:.15rem .7rem;border-radius:1rem;font-size:.9rem;margin:0 0 1rem}
.status.off{background:#fce8e6;color:var(--warn)}.status.on{background:#e6f4ea;color:var(--ok)}
.notice{background:#e8f0fe;border-radius:.5rem;padding:.6rem 1rem}
.button,button{display:inline-block;font:inherit;border:0;border-radius:1.25rem;padding:.5rem 1.25rem;background:var(--accent);color:#fff;text-decoration:none;cursor:pointer}
button.quiet{background:none;color:var(--muted);padding:.25rem .6rem}button.quiet:hover{color:var(--warn)}
button.danger{background:var(--warn)}
button.check{background:#fff;color:var(--ok);border:2px solid var(--muted);border-radius:50%;width:1.6rem;height:1.6rem;padding:0;line-height:1}
button.check:hover{border-color:var(--ok)}
form.inline{display:flex;margin:0}
form.add{display:flex;gap:.5rem;margin-bottom:1rem}form.add input{flex:1;font:inherit;padding:.55rem .8rem;border:1px solid var(--line);border-radius:.5rem}
ul.tasks{list-style:none;margin:0;padding:0}
li.task{display:flex;align-items:center;gap:.75rem;padding:.6rem 0;border-bottom:1px solid var(--line)}
li.task .title{flex:1;overflow-wrap:anywhere}
li.task[data-status=completed] .title{text-decoration:line-through;color:var(--muted)}
.meta,.hint{color:var(--muted);font-size:.85rem}
.empty{color:var(--muted)}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.4rem 1.5rem;margin:0}dl.facts dt{color:var(--muted)}dl.facts dd{margin:0;overflow-wrap:anywhere}
ul.scopes{margin:0;padding-left:1.2rem}ul.scopes code{display:block;color:var(--muted);font-size:.8rem}
.actions{display:flex;gap:.75rem;align-items:center;margin-top:1.5rem}
footer{max-width:44rem;margin:3rem auto;padding:0 1.5rem;color:var(--muted);font-size:.8rem}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
`;
