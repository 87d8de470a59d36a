import type { OAuth2Decorator } from '../decorator/decorator.js';

/** A Web-standard handler: Workers, Bun, Deno, Next.js route handlers. */
export type FetchHandler<A extends unknown[] = unknown[]> = (
  request: Request,
  ...rest: A
) => Response | Promise<Response>;

/**
 * Mounts the decorator's callback and start paths in front of a Web-standard app: requests to
 * those paths are answered by the decorator, everything else goes to `app`. Wrap the app's
 * routes with `decorator.oauthRequired` / `decorator.oauthAware` as usual.
 *
 * @param decorator the decorator
 * @param app the app's own handler
 * @returns a handler for the whole app
 * @example
 * ```ts
 * export default {
 *   fetch: withOAuth(decorator, decorator.oauthRequired(async (request, oauth) => {
 *     const res = await oauth.http()('https://tasks.googleapis.com/tasks/v1/users/@me/lists');
 *     return new Response(await res.text());
 *   })),
 * };
 * ```
 */
export function withOAuth<A extends unknown[]>(
  decorator: OAuth2Decorator,
  app: FetchHandler<A>,
): (request: Request, ...rest: A) => Promise<Response> {
  const callback = decorator.callbackHandler();
  return async (request, ...rest) => {
    const path = new URL(request.url).pathname;
    if (path === decorator.callbackPath || path === decorator.startPath) return callback(request);
    return app(request, ...rest);
  };
}
