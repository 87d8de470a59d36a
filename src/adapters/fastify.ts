import type {
  FastifyInstance,
  FastifyPluginAsync,
  FastifyReply,
  FastifyRequest,
  preHandlerHookHandler,
  RouteHandlerMethod,
} from 'fastify';
import { isReauthError } from '../decorator/decorator.js';
import type { OAuth2Decorator, OAuthContext, RouteOptions } from '../decorator/decorator.js';
import { isThenable, publicOrigin, toWebRequest } from './node-request.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** oauthkit's `required()` / `aware()` preHandlers, added by the {@link fastifyOAuth} plugin. */
    oauth: FastifyOAuth;
  }
  interface FastifyRequest {
    /** The user's OAuth context, set by oauthkit's `required()` / `aware()`; `null` elsewhere. */
    oauth: OAuthContext | null;
  }
}

/** Options of the {@link fastifyOAuth} plugin. */
export interface FastifyOAuthOptions {
  /** The decorator whose callback the plugin serves and whose decisions it applies. */
  decorator: OAuth2Decorator;
  /**
   * The app's public origin (`https://app.example`), used only to form the `request.url` your
   * `user` resolver sees. It is never taken from `Host` or `X-Forwarded-*`, and oauthkit derives
   * nothing from it: the redirect URI and cookies come from the decorator's configuration.
   * Default: the decorator's configured origin (`baseUrl` / `redirectUri`), else `http://localhost`.
   */
  origin?: string | undefined;
}

/** What the plugin adds to the instance as `fastify.oauth`. */
export interface FastifyOAuth {
  /** The decorator. */
  readonly decorator: OAuth2Decorator;
  /**
   * The seed's `oauth_required` as a `preHandler`: every OAuth step is done before the handler
   * runs, which finds the context in `request.oauth` and `decorator.http()`. A grant found
   * revoked while the handler runs sends the user through the flow again.
   *
   * @param options extra scopes this route needs (incremental authorization)
   * @returns the preHandler hook
   */
  required(options?: RouteOptions): preHandlerHookHandler;
  /**
   * The seed's `oauth_aware` as a `preHandler`: the handler always runs, and decides with
   * `request.oauth.hasCredentials()` and `request.oauth.authorizeUrl()`.
   *
   * @param options extra scopes this route needs
   * @returns the preHandler hook
   */
  aware(options?: RouteOptions): preHandlerHookHandler;
}

const WRAPPED = Symbol('oauthkit.wrapped');

async function oauthkitPlugin(fastify: FastifyInstance, options: FastifyOAuthOptions) {
  const decorator = options?.decorator;
  if (decorator === null || typeof decorator !== 'object' || !('evaluate' in decorator)) {
    throw new TypeError('"decorator" must be an OAuth2Decorator');
  }
  const origin = publicOrigin(options.origin ?? decorator.origin);
  // The extra scopes of each request that went through `required()`: a reauth-type error from
  // its handler asks for the same scopes again.
  const reauthScopes = new WeakMap<FastifyRequest, { scopes: RouteOptions['scopes'] }>();

  const callback = async (request: FastifyRequest, reply: FastifyReply) =>
    prepare(reply, await decorator.handleCallback(toRequest(request, origin)));
  fastify.get(decorator.callbackPath, callback);
  fastify.get(decorator.startPath, callback);

  fastify.decorateRequest('oauth', null);

  const preHandler =
    (mode: 'required' | 'aware') =>
    (routeOptions?: RouteOptions): preHandlerHookHandler => {
      const scopes = routeOptions?.scopes;
      return function oauthkitPreHandler(request, reply, done) {
        decorator.evaluate(toRequest(request, origin), { mode, scopes }).then((outcome) => {
          if (outcome.kind === 'respond') {
            // Answering from a callback-style hook: send, and do not call done().
            prepare(reply, outcome.response).then((body) => reply.send(body), done);
            return;
          }
          request.oauth = outcome.context;
          if (mode === 'required') reauthScopes.set(request, { scopes });
          for (const cookie of outcome.setCookies) reply.header('set-cookie', cookie);
          // Fastify runs the rest of the hooks and the handler synchronously from done(), so
          // calling it inside runWithContext makes `decorator.http()` work in the handler. (An
          // async hook cannot do this: the handler would run outside the context.)
          decorator.runWithContext(outcome.context, () => done());
        }, done);
      };
    };

  fastify.decorate('oauth', {
    decorator,
    required: preHandler('required'),
    aware: preHandler('aware'),
  } satisfies FastifyOAuth);

  // A route's handler may find the grant revoked; Fastify's error handler belongs to the app, so
  // each handler is wrapped instead: such an error, on a request that went through `required()`,
  // becomes the redirect through the flow. Every other error is rethrown unchanged.
  fastify.addHook('onRoute', (route) => {
    const handler = route.handler as RouteHandlerMethod & { [WRAPPED]?: true };
    if (typeof handler !== 'function' || handler[WRAPPED]) return;
    const wrapped = function (this: FastifyInstance, request: FastifyRequest, reply: FastifyReply) {
      const fail = (err: unknown): Promise<unknown> => {
        const route = reauthScopes.get(request);
        if (route === undefined || reply.sent || !isReauthError(err)) throw err;
        return decorator.reauthResponse(toRequest(request, origin), err, route).then((again) => {
          if (again === undefined) throw err;
          return prepare(reply, again);
        });
      };
      let result: unknown;
      try {
        result = handler.call(this, request, reply);
      } catch (err) {
        return fail(err);
      }
      // Only a promise is chained: a callback-style handler's `undefined` must stay synchronous.
      return isThenable(result) ? Promise.resolve(result).catch(fail) : result;
    } as RouteHandlerMethod & { [WRAPPED]?: true };
    wrapped[WRAPPED] = true;
    route.handler = wrapped;
  });
}

/**
 * The Fastify plugin for an {@link OAuth2Decorator}: serves the callback routes, decorates the
 * request with `oauth`, and adds `fastify.oauth.required()` / `fastify.oauth.aware()` for routes'
 * `preHandler`. It is not encapsulated (like `fastify-plugin`): routes anywhere in the app can
 * use it. All decisions are the decorator's.
 *
 * @example
 * ```ts
 * import Fastify from 'fastify';
 * import { fastifyOAuth } from 'oauthkit/fastify';
 *
 * const app = Fastify();
 * await app.register(fastifyOAuth, { decorator, origin: 'https://app.example' });
 * app.get('/tasks', { preHandler: app.oauth.required() }, async (request) => {
 *   const res = await request.oauth!.http()('https://tasks.googleapis.com/tasks/v1/users/@me/lists');
 *   return res.json();
 * });
 * ```
 */
export const fastifyOAuth: FastifyPluginAsync<FastifyOAuthOptions> = Object.assign(oauthkitPlugin, {
  // What fastify-plugin sets: no encapsulation, a name in errors and for `dependencies`.
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'oauthkit',
  [Symbol.for('plugin-meta')]: { name: 'oauthkit', fastify: '>=5.0.0' },
});

function toRequest(request: FastifyRequest, origin: string): Request {
  return toWebRequest(request, request.raw.url ?? '/', origin);
}

/**
 * Copies a decorator Response's status and headers (every Set-Cookie) onto the reply.
 *
 * @returns the body, for `reply.send()` or for the handler to return
 */
async function prepare(reply: FastifyReply, response: Response): Promise<Buffer | undefined> {
  const body = response.body === null ? undefined : Buffer.from(await response.arrayBuffer());
  reply.code(response.status);
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') reply.header(name, value);
  });
  for (const cookie of response.headers.getSetCookie()) reply.header('set-cookie', cookie);
  return body;
}
