import type { Context, Handler, Hono, MiddlewareHandler } from 'hono';
import type { OAuth2Decorator, OAuthContext, RouteOptions } from '../decorator/decorator.js';

/**
 * The Hono environment oauthkit's middleware adds: `c.var.oauth`, the request's
 * {@link OAuthContext}. Routes behind {@link HonoOAuth.required} or {@link HonoOAuth.aware} see
 * it typed.
 */
export interface OAuthEnv {
  Variables: {
    /** The current user's OAuth context: `http()`, `credentials`, `hasCredentials()`, … */
    oauth: OAuthContext;
  };
}

/** What {@link honoOAuth} gives: the callback routes and the two middlewares. */
export interface HonoOAuth {
  /** The handler of `decorator.callbackPath` and `decorator.startPath` (mount it at both). */
  readonly handler: Handler;
  /**
   * Serves `decorator.callbackPath` (finishes a flow) and `decorator.startPath` (starts one) on
   * `app`.
   *
   * @param app the Hono app
   * @returns the same app
   */
  mount<A extends Hono<any, any, any>>(app: A): A;
  /**
   * The seed's `oauth_required` as Hono middleware: every OAuth step is done before the route's
   * handler runs, which finds the context in `c.var.oauth` and `decorator.http()`. A grant found
   * revoked while the handler runs sends the user through the flow again.
   *
   * @param options extra scopes this route needs (incremental authorization)
   * @returns the middleware
   */
  required(options?: RouteOptions): MiddlewareHandler<OAuthEnv>;
  /**
   * The seed's `oauth_aware` as Hono middleware: the handler always runs, and decides with
   * `c.var.oauth.hasCredentials()` and `c.var.oauth.authorizeUrl()`.
   *
   * @param options extra scopes this route needs
   * @returns the middleware
   */
  aware(options?: RouteOptions): MiddlewareHandler<OAuthEnv>;
}

/**
 * Hono glue for an {@link OAuth2Decorator}: the callback routes, and `required()` / `aware()`
 * middleware that put the request's {@link OAuthContext} in `c.var.oauth` and make
 * `decorator.http()` work in the handler. All decisions are the decorator's.
 *
 * @param decorator the decorator
 * @returns the routes and middleware
 * @example
 * ```ts
 * import { Hono } from 'hono';
 * import { honoOAuth } from 'oauthkit/hono';
 *
 * const app = new Hono();
 * const oauth = honoOAuth(decorator);
 * oauth.mount(app);
 * app.get('/tasks', oauth.required(), async (c) => {
 *   const res = await c.var.oauth.http()('https://tasks.googleapis.com/tasks/v1/users/@me/lists');
 *   return c.json(await res.json());
 * });
 * ```
 */
export function honoOAuth(decorator: OAuth2Decorator): HonoOAuth {
  if (decorator === null || typeof decorator !== 'object' || !('evaluate' in decorator)) {
    throw new TypeError('"decorator" must be an OAuth2Decorator');
  }
  const handler: Handler = (c) => decorator.handleCallback(c.req.raw);

  const middleware = (
    mode: 'required' | 'aware',
    options: RouteOptions | undefined,
  ): MiddlewareHandler<OAuthEnv> => {
    const scopes = options?.scopes;
    return async (c: Context<OAuthEnv>, next) => {
      const outcome = await decorator.evaluate(c.req.raw, { mode, scopes });
      if (outcome.kind === 'respond') return outcome.response;
      c.set('oauth', outcome.context);
      await decorator.runWithContext(outcome.context, next);
      // Hono catches what the handler throws, hands it to `app.onError` and leaves it in
      // `c.error`: a reauth-type error replaces that response with the way back through the flow.
      if (mode === 'required' && c.error !== undefined) {
        const again = await decorator.reauthResponse(c.req.raw, c.error, { scopes });
        if (again) {
          // Setting `undefined` first keeps Hono from merging the error response's headers in.
          c.res = undefined;
          c.res = again;
          return;
        }
      }
      for (const cookie of outcome.setCookies) c.header('set-cookie', cookie, { append: true });
    };
  };

  return {
    handler,
    mount(app) {
      app.get(decorator.callbackPath, handler);
      app.get(decorator.startPath, handler);
      return app;
    },
    required: (options) => middleware('required', options),
    aware: (options) => middleware('aware', options),
  };
}
