/**
 * The few HTML pages oauthkit itself shows end users: a failed or forged callback, a
 * misconfigured app. Everything echoed is escaped.
 */

/**
 * Escapes text for HTML element content and attribute values.
 *
 * @param text untrusted text
 * @returns the escaped text
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`=]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** What a page says. */
export interface PageOptions {
  /** The HTTP status. */
  status: number;
  /** The heading. */
  title: string;
  /** One or two sentences for the end user (escaped). */
  message: string;
  /** A detail from the provider, such as `error_description` (escaped). */
  detail?: string | undefined;
  /** Where "try again" leads (a same-origin path); no link when absent. */
  retryHref?: string | undefined;
  /** Extra headers (Set-Cookie to clear a flow, say). */
  headers?: Headers | undefined;
}

/**
 * Renders a small, self-contained HTML page, with the headers every oauthkit page carries:
 * no caching, no referrer, no framing, no scripts.
 *
 * @param options what the page says
 * @returns the response
 */
export function htmlPage(options: PageOptions): Response {
  const headers = options.headers ?? new Headers();
  headers.set('content-type', 'text/html; charset=utf-8');
  setSecurityHeaders(headers);
  headers.set(
    'content-security-policy',
    "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
  );
  const detail = options.detail ? `<p class="detail">${escapeHtml(options.detail)}</p>` : '';
  const retry = options.retryHref
    ? `<p><a href="${escapeHtml(options.retryHref)}">Try again</a></p>`
    : '';
  const body = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(options.title)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#222}h1{font-size:1.4rem}.detail{color:#666;font-size:.9rem}a{color:#0b57d0}</style>
</head><body><h1>${escapeHtml(options.title)}</h1><p>${escapeHtml(options.message)}</p>${detail}${retry}</body></html>`;
  return new Response(body, { status: options.status, headers });
}

/**
 * Sets the headers every response of the OAuth flow carries: nothing cached, no referrer
 * (the callback URL holds a code), no framing.
 *
 * @param headers the headers to change
 * @returns the same headers
 */
export function setSecurityHeaders(headers: Headers): Headers {
  headers.set('cache-control', 'no-store');
  headers.set('referrer-policy', 'no-referrer');
  headers.set('x-frame-options', 'DENY');
  return headers;
}
