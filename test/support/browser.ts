import { chromium, type Browser, type Page, type Request as PwRequest } from 'playwright-core';

/** Debian's Chromium (`apt-get install chromium`); playwright-core downloads nothing. */
export const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

/** Chromium's flags for these tests: headless, no sandbox (containers), nothing in the background. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Launches headless Chromium, one per test file; give each test `browser.newContext()`.
 *
 * @param options `loopbackOnly: false` to let host names resolve (default: only 127.0.0.1 does)
 */
export function launchChromium(options: { loopbackOnly?: boolean } = {}): Promise<Browser> {
  const args = [...CHROMIUM_ARGS];
  // No internet here: the provider's dev pages import a web font; fail that at once.
  if (options.loopbackOnly !== false)
    args.push('--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1');
  return chromium.launch({ executablePath: CHROMIUM_PATH, args });
}

/** Records the page's top-level navigations, redirects included (one entry per hop). */
export function recordNavigations(page: Page): URL[] {
  const urls: URL[] = [];
  page.on('request', (request: PwRequest) => {
    if (request.isNavigationRequest() && request.frame() === page.mainFrame()) {
      urls.push(new URL(request.url()));
    }
  });
  return urls;
}

/** On oidc-provider's dev login page: any login, any password. */
export async function signIn(page: Page, login: string): Promise<void> {
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('any password');
  await page.locator('button[type="submit"]').click();
}

/** On oidc-provider's dev consent page: "Continue", or "[ Cancel ]" to deny. */
export async function answerConsent(page: Page, allow: boolean): Promise<void> {
  await page.locator('input[name="prompt"][value="consent"]').waitFor({ state: 'attached' });
  if (allow) await page.locator('button[type="submit"]', { hasText: 'Continue' }).click();
  else await page.locator('a', { hasText: 'Cancel' }).click();
}

/** The JSON a page shows (Chromium renders a JSON response as text in a `<pre>`). */
export async function pageJson(page: Page): Promise<Record<string, unknown>> {
  const text = await page.locator('pre').first().textContent();
  return JSON.parse(text ?? 'null') as Record<string, unknown>;
}
