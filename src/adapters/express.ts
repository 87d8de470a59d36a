import type {
  ErrorRequestHandler,
  NextFunction,
  Request as ExpressRequest,
  RequestHandler,
  Response as ExpressResponse,
} from 'express';
import { isReauthError } from '../decorator/decorator.js';
import type { OAuth2Decorator, OAuthContext, RouteOptions } from '../decorator/decorator.js';
import { isThenable, publicOrigin, requestTarget, toWebRequest } from './node-request.js';

declare global {
  // Express's own way to type what middleware adds to `req` and `res.locals`.
  namespace Express {
    interface Request {
      /** The user's OAuth context, set by oauthkit's `required()` / `aware()`. */
      oauth?: OAuthContext;
    }
    interface Locals {
      /** The user's OAuth context, set by oauthkit's `required()` / `aware()` (for views). */
      oauth?: OAuthContext;
    }
  }
}

/** Options of {@link expressOAuth}. */
export interface ExpressOAuthOptions {
  /**
   * The app's public origin (`https://app.example`), used only to form the `request.url` your
   * `user` resolver sees. It is never taken from `Host` or `X-Forwarded-*`, and oauthkit derives
   * nothing from it: the redirect URI and cookies come from the decorator's configuration.
   * Default: the decorator's configured origin (`baseUrl` / `redirectUri`), else `http://localhost`.
   */
  origin?: string | undefined;
}

/** The forms of {@link ExpressOAuth.required} and {@link ExpressOAuth.aware}. */
export interface ExpressOAuthMiddleware {
  /**
   * @param options extra scopes this route needs (incremental authorization)
   * @returns middleware for `app.get(path, oauth.required(), handler)`
   */
  (options?: RouteOptions): RequestHandler;
  /**
   * @param handler the route's handler, wrapped: it runs only once every OAuth step is done
   * @returns the wrapped handler, which needs no error-handling middleware
   */
  (handler: RequestHandler): RequestHandler;
  /**
   * @param options extra scopes this route needs
   * @param handler the route's handler, wrapped
   * @returns the wrapped handler
   */
  (options: RouteOptions, handler: RequestHandler): RequestHandler;
}

/** What {@link expressOAuth} gives: the callback routes, the middleware, the error handler. */
export interface ExpressOAuth {
  /**
   * Answers `decorator.callbackPath` (finishes a flow) and `decorator.startPath` (starts one);
   * passes every other request on. Use as `app.use(oauth.router)`.
   */
  readonly router: RequestHandler;
  /**
   * `app.use(oauth.router)`.
   *
   * @param app the Express app or router
   * @returns the same app
   */
  mount<A extends { use(handler: RequestHandler): unknown }>(app: A): A;
  /**
   * The seed's `oauth_required`: every OAuth step is done before the handler runs, which finds
   * the context in `req.oauth` (and `res.locals.oauth`) and `decorator.http()`.
   *
   * As middleware (`app.get('/x', oauth.required(), handler)`), a grant found revoked while the
   * handler runs reaches Express's error handling: add `app.use(oauth.errorHandler)` after your
   * routes to send the user through the flow again. Wrapping the handler
   * (`app.get('/x', oauth.required(handler))`) does that itself.
   */
  readonly required: ExpressOAuthMiddleware;
  /**
   * The seed's `oauth_aware`: the handler always runs, and decides with
   * `req.oauth.hasCredentials()` and `req.oauth.authorizeUrl()`. Same forms as `required`.
   */
  readonly aware: ExpressOAuthMiddleware;
  /**
   * Error-handling middleware: turns an error meaning "the grant is gone or lacks a scope",
   * thrown by a handler behind `required()`, into the redirect through the flow; passes every
   * other error on unchanged. Add it after your routes, before your own error handlers.
   */
  readonly errorHandler: ErrorRequestHandler;
}

/**
 * Express glue for an {@link OAuth2Decorator}: the callback routes, `required()` / `aware()`
 * middleware that set `req.oauth` and make `decorator.http()` work in the handler, and an error
 * handler for reauthorization. All decisions are the decorator's.
 *
 * @param decorator the decorator
 * @param options the app's public origin
 * @returns the router, middleware and error handler
 * @example
 * ```ts
 * import express from 'express';
 * import { expressOAuth } from 'oauthkit/express';
 *
 * const app = express();
 * const oauth = expressOAuth(decorator, { origin: 'https://app.example' });
 * oauth.mount(app);
 * app.get('/tasks', oauth.required(), async (req, res) => {
 *   const r = await req.oauth!.http()('https://tasks.googleapis.com/tasks/v1/users/@me/lists');
 *   res.json(await r.json());
 * });
 * app.use(oauth.errorHandler);
 * ```
 */
export function expressOAuth(
  decorator: OAuth2Decorator,
  options: ExpressOAuthOptions = {},
): ExpressOAuth {
  if (decorator === null || typeof decorator !== 'object' || !('evaluate' in decorator)) {
    throw new TypeError('"decorator" must be an OAuth2Decorator');
  }
  const origin = publicOrigin(options.origin ?? decorator.origin);
  // The extra scopes of each request that went through `required()`: the error handler needs
  // them to ask for the same scopes again.
  const reauthScopes = new WeakMap<ExpressRequest, { scopes: RouteOptions['scopes'] }>();

  const recover = (
    err: unknown,
    req: ExpressRequest,
    res: ExpressResponse,
    next: NextFunction,
  ): void => {
    const route = reauthScopes.get(req);
    if (route === undefined || res.headersSent || !isReauthError(err)) return next(err);
    decorator.reauthResponse(toRequest(req, origin), err, route).then(
      (again) => (again ? send(res, again).catch(next) : next(err)),
      () => next(err),
    );
  };

  const router: RequestHandler = (req, res, next) => {
    const path = pathOf(req);
    if ((req.method !== 'GET' && req.method !== 'HEAD') || !isOAuthPath(decorator, path)) {
      return next();
    }
    decorator
      .handleCallback(toRequest(req, origin))
      .then((response) => send(res, response))
      .catch(next);
  };

  const middleware = (mode: 'required' | 'aware'): ExpressOAuthMiddleware =>
    ((a?: RouteOptions | RequestHandler, b?: RequestHandler): RequestHandler => {
      const handler = typeof a === 'function' ? a : b;
      if (handler !== undefined && typeof handler !== 'function') {
        throw new TypeError('"handler" must be a function');
      }
      const scopes = (typeof a === 'function' ? undefined : a)?.scopes;
      return (req, res, next) => {
        decorator
          .evaluate(toRequest(req, origin), { mode, scopes })
          .then(async (outcome) => {
            if (outcome.kind === 'respond') return send(res, outcome.response);
            req.oauth = outcome.context;
            res.locals.oauth = outcome.context;
            if (mode === 'required') reauthScopes.set(req, { scopes });
            if (outcome.setCookies.length > 0) res.append('Set-Cookie', outcome.setCookies);
            if (handler === undefined) {
              return decorator.runWithContext(outcome.context, () => next());
            }
            const fail = (err: unknown) => recover(err, req, res, next);
            let result: unknown;
            try {
              result = decorator.runWithContext(outcome.context, () =>
                handler(req, res, (err?: unknown) =>
                  err === undefined || err === 'route' || err === 'router' ? next(err) : fail(err),
                ),
              );
            } catch (err) {
              return fail(err);
            }
            if (isThenable(result)) await Promise.resolve(result).catch(fail);
          })
          .catch(next);
      };
    }) as ExpressOAuthMiddleware;

  const errorHandler: ErrorRequestHandler = (err, req, res, next) => recover(err, req, res, next);

  return {
    router,
    mount(app) {
      app.use(router);
      return app;
    },
    required: middleware('required'),
    aware: middleware('aware'),
    errorHandler,
  };
}

function pathOf(req: ExpressRequest): string {
  const target = requestTarget(req.originalUrl || req.url || '/');
  const q = target.indexOf('?');
  return q === -1 ? target : target.slice(0, q);
}

function isOAuthPath(decorator: OAuth2Decorator, path: string): boolean {
  return path === decorator.callbackPath || path === decorator.startPath;
}

function toRequest(req: ExpressRequest, origin: string): Request {
  return toWebRequest(req, req.originalUrl || req.url || '/', origin);
}

/** Writes a decorator Response to Express: status, headers, every Set-Cookie, body. */
async function send(res: ExpressResponse, response: Response): Promise<void> {
  const body = response.body === null ? undefined : Buffer.from(await response.arrayBuffer());
  res.status(response.status);
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') res.setHeader(name, value);
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) res.append('Set-Cookie', cookies);
  res.end(body);
}
