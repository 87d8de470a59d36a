/**
 * A local stand-in for the Google Tasks API (`tasks v1`): the routes the demo uses, at Google's
 * paths under `/tasks/v1/`, with Google's JSON shapes and error format.
 *
 * - `GET users/@me/lists`, `GET users/@me/lists/{tasklist}`
 * - `GET lists/{tasklist}/tasks` (`showCompleted`, `showHidden`, `maxResults`, `pageToken`)
 * - `POST lists/{tasklist}/tasks`, `GET|PATCH|PUT|DELETE lists/{tasklist}/tasks/{task}`
 *
 * Every user (the token's `sub`) has a default list, "My Tasks", also reachable as `@default`; so
 * does every app calling as itself (a client credentials token, which has no `sub`: keyed by its
 * `client_id`, as user `app:CLIENT_ID`). New tasks go first, as in Google Tasks. Access tokens
 * are checked with the provider's introspection endpoint (results cached briefly); the `tasks`
 * scope allows everything, `tasks.readonly` only reads, and a token with neither gets Google's
 * 403 with `WWW-Authenticate: Bearer error="insufficient_scope"`. Tasks live in SQLite.
 *
 * When `examples/tasks-discovery.json` exists, it is served at Google's discovery path
 * (`/discovery/v1/apis/tasks/v1/rest`) with `rootUrl` and `baseUrl` pointing at this server.
 *
 * @module
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createNodeHandler } from '../src/adapters/node.js';
import { openDatabase, type SqliteDb } from './db.js';
import { listen } from './net.js';
import { TASKS_READONLY_SCOPE, TASKS_SCOPE } from './scopes.js';

/** Options of {@link startTasksApi}. */
export interface TasksApiOptions {
  /** The loopback port (0 or absent: any free one). */
  port?: number | undefined;
  /** The provider whose tokens are accepted (its metadata names the introspection endpoint). */
  issuer: string;
  /** The API's own credentials at the provider, for the introspection endpoint. */
  client: { clientId: string; clientSecret: string };
  /** The SQLite file for tasks; `':memory:'` (the default) keeps nothing. */
  database?: string | undefined;
  /** How long an introspection answer is reused, in milliseconds (default 10 000; 0: never). */
  introspectionCacheMs?: number | undefined;
  /** The discovery document to serve (default `examples/tasks-discovery.json`, when it exists). */
  discoveryFile?: string | undefined;
}

/** What the API has been asked, for tests and the curious. */
export interface TasksApiStats {
  /** How many times the discovery document was served. */
  readonly discoveryFetches: number;
  /** The latest requests (at most 500), as `METHOD /path?query`, oldest first. */
  readonly requests: readonly string[];
}

/** A running Tasks API. */
export interface LocalTasksApi {
  /** `http://127.0.0.1:PORT`; the API is at `${origin}/tasks/v1/`. */
  readonly origin: string;
  /** What it has been asked so far. */
  readonly stats: TasksApiStats;
  /** Stops it and closes its database. */
  close(): Promise<void>;
}

/** Where the discovery document is looked for by default. */
export const DISCOVERY_FILE = fileURLToPath(new URL('./tasks-discovery.json', import.meta.url));

/** Google's discovery path for the Tasks API. */
export const DISCOVERY_PATH = '/discovery/v1/apis/tasks/v1/rest';

/**
 * Starts the Tasks API on loopback.
 *
 * @param options the provider, the API's client credentials, where to keep tasks
 * @returns the running API
 * @example
 * ```ts
 * const api = await startTasksApi({ issuer, client: { clientId: 'tasks-api', clientSecret }, port: 3002 });
 * // GET `${api.origin}/tasks/v1/users/@me/lists` with `Authorization: Bearer …`
 * ```
 */
export async function startTasksApi(options: TasksApiOptions): Promise<LocalTasksApi> {
  const listening = await listen(options.port ?? 0);
  const db = openDatabase(options.database ?? ':memory:');
  const handler = createTasksApiHandler({ ...options, db, origin: listening.origin });
  let discoveryFetches = 0;
  const requests: string[] = [];
  const counted = (request: Request) => {
    const url = new URL(request.url);
    if (request.method === 'GET' && url.pathname === DISCOVERY_PATH) discoveryFetches++;
    requests.push(`${request.method} ${url.pathname}${url.search}`);
    if (requests.length > 500) requests.shift();
    return handler(request);
  };
  listening.handle(createNodeHandler(counted, { origin: listening.origin }));
  return {
    origin: listening.origin,
    stats: {
      get discoveryFetches() {
        return discoveryFetches;
      },
      get requests() {
        return [...requests];
      },
    },
    async close() {
      await listening.close();
      db.close();
    },
  };
}

/** A task as stored. */
interface TaskRow {
  id: string;
  list_id: string;
  title: string;
  notes: string | null;
  status: string;
  due: string | null;
  completed: string | null;
  updated: string;
  position: number;
}

interface ListRow {
  id: string;
  title: string;
  updated: string;
}

interface Caller {
  /** Whose tasks: a user's `sub`, or `app:CLIENT_ID` for an app calling as itself. */
  owner: string;
  scopes: Set<string>;
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  413: 'INVALID_ARGUMENT',
  503: 'UNAVAILABLE',
};

/**
 * The API as a Web-standard handler, on an open database.
 *
 * @param options as for {@link startTasksApi}, plus the database and the public origin
 * @returns `(request) => Promise<Response>`
 */
export function createTasksApiHandler(
  options: TasksApiOptions & { db: SqliteDb; origin: string },
): (request: Request) => Promise<Response> {
  const { db, origin, issuer } = options;
  const store = createTaskStore(db);
  const checkToken = createTokenChecker(options);
  const discovery = loadDiscovery(options.discoveryFile ?? DISCOVERY_FILE, origin);

  return async (request) => {
    const url = new URL(request.url);
    try {
      if (url.pathname === DISCOVERY_PATH && discovery !== undefined) {
        if (request.method !== 'GET') throw new ApiError(405, 'methodNotAllowed', 'Use GET.');
        return new Response(discovery, {
          headers: { 'content-type': 'application/json; charset=utf-8' },
        });
      }
      if (!url.pathname.startsWith('/tasks/v1/')) throw notFound();
      const caller = await authenticate(request, checkToken, issuer);
      const segments = url.pathname
        .slice('/tasks/v1/'.length)
        .split('/')
        .map((s) => {
          try {
            return decodeURIComponent(s);
          } catch {
            throw new ApiError(400, 'invalid', 'Invalid path.');
          }
        });
      const route = resolveRoute(request.method, segments);
      if (route === undefined) throw notFound();
      // Like Google: `tasks` allows everything, `tasks.readonly` allows reading only.
      const allowed =
        caller.scopes.has(TASKS_SCOPE) || (route.read && caller.scopes.has(TASKS_READONLY_SCOPE));
      if (!allowed) {
        throw new ApiError(
          403,
          'insufficientPermissions',
          'Request had insufficient authentication scopes.',
          {
            'www-authenticate': `Bearer realm="${issuer}", error="insufficient_scope", scope="${route.read ? `${TASKS_SCOPE} ${TASKS_READONLY_SCOPE}` : TASKS_SCOPE}"`,
          },
        );
      }
      const body = route.body ? await readJson(request) : undefined;
      const result = route.run(store, caller.owner, origin, url.searchParams, body);
      if (result === null) return new Response(null, { status: 204 });
      return Response.json(result, { headers: { 'cache-control': 'private, no-store' } });
    } catch (err) {
      if (err instanceof ApiError) return errorResponse(err);
      console.error('tasks-api: unexpected error:', err instanceof Error ? err.message : err);
      return errorResponse(new ApiError(500, 'backendError', 'Backend Error'));
    }
  };
}

// ---- authentication --------------------------------------------------------------------------

interface Introspection {
  active: boolean;
  sub?: string;
  client_id?: string;
  scope?: string;
  exp?: number;
  token_type?: string;
}

function createTokenChecker(options: TasksApiOptions): (token: string) => Promise<Introspection> {
  const cacheMs = options.introspectionCacheMs ?? 10_000;
  const cache = new Map<string, { value: Introspection; until: number }>();
  let endpoint: Promise<string> | undefined;
  const basic = Buffer.from(
    // RFC 6749 section 2.3.1: form-encode both parts before joining them.
    `${encodeURIComponent(options.client.clientId)}:${encodeURIComponent(options.client.clientSecret)}`,
  ).toString('base64');

  const findEndpoint = async () => {
    const res = await fetch(`${options.issuer}/.well-known/openid-configuration`);
    if (!res.ok) throw new Error(`provider metadata: ${res.status}`);
    const meta = (await res.json()) as { introspection_endpoint?: string };
    if (!meta.introspection_endpoint) throw new Error('the provider has no introspection endpoint');
    return meta.introspection_endpoint;
  };

  return async (token) => {
    // Keyed by a hash: the cache never holds a usable token.
    const key = createHash('sha256').update(token).digest('base64url');
    const now = Date.now();
    const hit = cache.get(key);
    if (hit && hit.until > now) return hit.value;
    endpoint ??= findEndpoint().catch((err: unknown) => {
      endpoint = undefined;
      throw err;
    });
    let value: Introspection;
    try {
      const res = await fetch(await endpoint, {
        method: 'POST',
        headers: {
          authorization: `Basic ${basic}`,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: new URLSearchParams({ token, token_type_hint: 'access_token' }),
        signal: AbortSignal.timeout(5000),
      });
      if (!res.ok) throw new Error(`introspection: ${res.status}`);
      value = (await res.json()) as Introspection;
    } catch (err) {
      console.error('tasks-api: cannot check tokens:', err instanceof Error ? err.message : err);
      throw new ApiError(503, 'backendError', 'The token could not be checked. Try again.');
    }
    if (cacheMs > 0) {
      // Never past the token's own expiry; a bounded cache, oldest entries first out.
      const until = Math.min(now + cacheMs, value.exp ? value.exp * 1000 : Infinity);
      if (cache.size >= 1000) cache.delete(cache.keys().next().value as string);
      cache.set(key, { value, until });
    }
    return value;
  };
}

async function authenticate(
  request: Request,
  check: (token: string) => Promise<Introspection>,
  issuer: string,
): Promise<Caller> {
  const header = request.headers.get('authorization');
  const realm = `Bearer realm="${issuer}"`;
  // RFC 6750 section 3.1: no error code when the request carried no credentials at all.
  if (header === null) {
    throw new ApiError(
      401,
      'required',
      'Request is missing required authentication credential. Expected OAuth 2 access token.',
      { 'www-authenticate': realm },
    );
  }
  const m = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header);
  const info = m ? await check(m[1]!) : { active: false };
  const expired = info.exp !== undefined && info.exp * 1000 <= Date.now();
  const isAccessToken = info.token_type === undefined || /^bearer$/i.test(info.token_type);
  const owner = info.active && !expired && isAccessToken ? ownerOf(info) : undefined;
  if (owner === undefined) {
    throw new ApiError(
      401,
      'authError',
      'Request had invalid authentication credentials. Expected OAuth 2 access token.',
      { 'www-authenticate': `${realm}, error="invalid_token"` },
    );
  }
  return { owner, scopes: new Set((info.scope ?? '').split(' ').filter(Boolean)) };
}

/**
 * Whose tasks a token reaches. A user's token names the user (`sub`); a client credentials token
 * has no `sub` and is the app's own: `app:CLIENT_ID`. A user whose `sub` itself starts with
 * `app:` or `user:` (the local provider takes any name) is kept as `user:SUB`, so that no user
 * can reach an app's tasks, or the other way round.
 */
function ownerOf(info: Introspection): string | undefined {
  if (typeof info.sub === 'string' && info.sub !== '') {
    return /^(?:app|user):/.test(info.sub) ? `user:${info.sub}` : info.sub;
  }
  if (info.sub === undefined && typeof info.client_id === 'string' && info.client_id !== '') {
    return `app:${info.client_id}`;
  }
  return undefined;
}

// ---- routes ------------------------------------------------------------------------------------

interface Route {
  read: boolean;
  body: boolean;
  run(
    store: TaskStore,
    user: string,
    origin: string,
    query: URLSearchParams,
    body: Record<string, unknown> | undefined,
  ): unknown;
}

function resolveRoute(method: string, s: string[]): Route | undefined {
  const [a, b, c, d, ...rest] = s;
  if (rest.length > 0) return undefined;
  // users/@me/lists and users/@me/lists/{tasklist}
  if (a === 'users' && b === '@me' && c === 'lists') {
    if (d === undefined) {
      return only(method, 'GET', {
        read: true,
        body: false,
        run: (store, user, origin, query) => {
          const lists = store.lists(user);
          const { items, next } = page(lists, query, 100);
          return {
            kind: 'tasks#taskLists',
            etag: etagOf(lists.map((l) => l.updated).join()),
            ...(next ? { nextPageToken: next } : {}),
            items: items.map((l) => listJson(l, origin)),
          };
        },
      });
    }
    return only(method, 'GET', {
      read: true,
      body: false,
      run: (store, user, origin) => listJson(store.list(user, d), origin),
    });
  }
  // lists/{tasklist}/tasks and lists/{tasklist}/tasks/{task}
  if (a === 'lists' && b !== undefined && c === 'tasks') {
    if (d === undefined) {
      if (method === 'GET') {
        return {
          read: true,
          body: false,
          run: (store, user, origin, query) => {
            const list = store.list(user, b);
            const showCompleted = query.get('showCompleted') !== 'false';
            const all = store
              .tasks(user, list.id)
              .filter((t) => showCompleted || t.status !== 'completed');
            const { items, next } = page(all, query, 100);
            return {
              kind: 'tasks#tasks',
              etag: etagOf(all.map((t) => t.updated).join()),
              ...(next ? { nextPageToken: next } : {}),
              items: items.map((t) => taskJson(t, origin)),
            };
          },
        };
      }
      return only(method, 'POST', {
        read: false,
        body: true,
        run: (store, user, origin, _q, body) => {
          const list = store.list(user, b);
          const fields = taskFields(body ?? {}, 'insert');
          return taskJson(store.insert(user, list.id, fields), origin);
        },
      });
    }
    switch (method) {
      case 'GET':
        return {
          read: true,
          body: false,
          run: (store, user, origin) =>
            taskJson(store.task(user, store.list(user, b).id, d), origin),
        };
      case 'PATCH':
      case 'PUT':
        return {
          read: false,
          body: true,
          run: (store, user, origin, _q, body) => {
            const list = store.list(user, b);
            const mode = method === 'PUT' ? 'update' : 'patch';
            return taskJson(store.update(user, list.id, d, taskFields(body ?? {}, mode)), origin);
          },
        };
      case 'DELETE':
        return {
          read: false,
          body: false,
          run: (store, user, _origin) => {
            store.remove(user, store.list(user, b).id, d);
            return null;
          },
        };
      default:
        return methodNotAllowed('GET, PATCH, PUT, DELETE');
    }
  }
  return undefined;
}

function only(method: string, allowed: string, route: Route): Route {
  return method === allowed ? route : methodNotAllowed(allowed);
}

function methodNotAllowed(allow: string): Route {
  return {
    read: true,
    body: false,
    run: () => {
      throw new ApiError(405, 'methodNotAllowed', 'Method not allowed.', { allow });
    },
  };
}

function page<T>(all: T[], query: URLSearchParams, max: number): { items: T[]; next?: string } {
  const size = Math.min(max, Math.max(1, Number(query.get('maxResults') ?? 20) || 20));
  const token = query.get('pageToken');
  const start = token === null ? 0 : Number(Buffer.from(token, 'base64url').toString()) || 0;
  const items = all.slice(start, start + size);
  const end = start + items.length;
  return end < all.length
    ? { items, next: Buffer.from(String(end)).toString('base64url') }
    : { items };
}

// ---- JSON shapes -----------------------------------------------------------------------------

function listJson(l: ListRow, origin: string) {
  return {
    kind: 'tasks#taskList',
    id: l.id,
    etag: etagOf(`${l.id}:${l.updated}`),
    title: l.title,
    updated: l.updated,
    selfLink: `${origin}/tasks/v1/users/@me/lists/${l.id}`,
  };
}

function taskJson(t: TaskRow, origin: string) {
  return {
    kind: 'tasks#task',
    id: t.id,
    etag: etagOf(`${t.id}:${t.updated}`),
    title: t.title,
    updated: t.updated,
    selfLink: `${origin}/tasks/v1/lists/${t.list_id}/tasks/${t.id}`,
    position: String(t.position).padStart(20, '0'),
    ...(t.notes !== null ? { notes: t.notes } : {}),
    status: t.status,
    ...(t.due !== null ? { due: t.due } : {}),
    ...(t.completed !== null ? { completed: t.completed } : {}),
    links: [],
  };
}

function etagOf(text: string): string {
  return `"${createHash('sha256').update(text).digest('base64url').slice(0, 27)}"`;
}

/** The writable fields of a task, validated. `undefined` means "leave as is" (patch only). */
interface TaskFields {
  title?: string;
  notes?: string | null;
  status?: 'needsAction' | 'completed';
  due?: string | null;
  completed?: string | null;
}

function taskFields(
  body: Record<string, unknown>,
  mode: 'insert' | 'patch' | 'update',
): TaskFields {
  const out: TaskFields = {};
  const text = (name: 'title' | 'notes', max: number) => {
    const v = body[name];
    if (v === undefined) return undefined;
    if (v === null && name === 'notes') return null;
    if (typeof v !== 'string') throw invalid(`Invalid value for "${name}": expected a string.`);
    if (v.length > max) throw invalid(`"${name}" is longer than ${max} characters.`);
    return v;
  };
  const time = (name: 'due' | 'completed') => {
    const v = body[name];
    if (v === undefined || v === null) return v;
    if (typeof v !== 'string' || Number.isNaN(Date.parse(v))) {
      throw invalid(`Invalid value for "${name}": expected an RFC 3339 timestamp.`);
    }
    return new Date(v).toISOString();
  };
  out.title = text('title', 1024) ?? undefined;
  out.notes = text('notes', 8192);
  const status = body.status;
  if (status !== undefined) {
    if (status !== 'needsAction' && status !== 'completed') {
      throw invalid('Invalid value for "status": expected "needsAction" or "completed".');
    }
    out.status = status;
  }
  const due = time('due');
  // Google keeps only the date of `due`.
  out.due = typeof due === 'string' ? `${due.slice(0, 10)}T00:00:00.000Z` : due;
  out.completed = time('completed');
  if (mode !== 'patch') {
    // insert and update (PUT) set every writable field; what is absent becomes empty.
    out.title ??= '';
    out.notes ??= null;
    out.status ??= 'needsAction';
    out.due ??= null;
    out.completed ??= null;
  }
  return out;
}

async function readJson(request: Request): Promise<Record<string, unknown>> {
  if (Number(request.headers.get('content-length') ?? 0) > 64 * 1024) {
    throw new ApiError(413, 'invalid', 'Request payload is too large.');
  }
  const text = await request.text();
  if (text.length > 64 * 1024) throw new ApiError(413, 'invalid', 'Request payload is too large.');
  let value: unknown;
  try {
    value = text.trim() === '' ? {} : JSON.parse(text);
  } catch {
    throw new ApiError(400, 'parseError', 'Invalid JSON payload received.');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ApiError(400, 'parseError', 'Invalid JSON payload received: expected an object.');
  }
  return value as Record<string, unknown>;
}

function invalid(message: string): ApiError {
  return new ApiError(400, 'invalid', message);
}

function notFound(): ApiError {
  return new ApiError(404, 'notFound', 'Requested entity was not found.');
}

/** Google's error format: `{ error: { code, message, errors: [{ message, domain, reason }], status } }`. */
function errorResponse(err: ApiError): Response {
  return Response.json(
    {
      error: {
        code: err.status,
        message: err.message,
        errors: [{ message: err.message, domain: 'global', reason: err.reason }],
        status: STATUS_NAMES[err.status] ?? 'INTERNAL',
      },
    },
    { status: err.status, headers: { ...err.headers, 'cache-control': 'no-store' } },
  );
}

function loadDiscovery(file: string, origin: string): string | undefined {
  if (!existsSync(file)) return undefined;
  const doc = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  // Clients build request URLs from these: point them here instead of at Google.
  doc.rootUrl = `${origin}/`;
  doc.baseUrl = `${origin}/${typeof doc.servicePath === 'string' ? doc.servicePath : ''}`;
  delete doc.mtlsRootUrl;
  return JSON.stringify(doc);
}

// ---- storage ---------------------------------------------------------------------------------

interface TaskStore {
  lists(user: string): ListRow[];
  /** The list, by id or `@default`; 404 when the user has none by that id. */
  list(user: string, id: string): ListRow;
  tasks(user: string, listId: string): TaskRow[];
  task(user: string, listId: string, id: string): TaskRow;
  insert(user: string, listId: string, fields: TaskFields): TaskRow;
  update(user: string, listId: string, id: string, fields: TaskFields): TaskRow;
  remove(user: string, listId: string, id: string): void;
}

const TOP = 1e12;

function createTaskStore(db: SqliteDb): TaskStore {
  db.exec(`CREATE TABLE IF NOT EXISTS tasklists (
    user TEXT NOT NULL, id TEXT NOT NULL, title TEXT NOT NULL, is_default INTEGER NOT NULL,
    updated TEXT NOT NULL, PRIMARY KEY (user, id))`);
  db.exec(`CREATE TABLE IF NOT EXISTS tasks (
    user TEXT NOT NULL, list_id TEXT NOT NULL, id TEXT NOT NULL, title TEXT NOT NULL,
    notes TEXT, status TEXT NOT NULL, due TEXT, completed TEXT, updated TEXT NOT NULL,
    position INTEGER NOT NULL, PRIMARY KEY (user, list_id, id))`);
  const q = {
    lists: db.prepare(
      'SELECT id, title, updated FROM tasklists WHERE user = ? ORDER BY is_default DESC, id',
    ),
    list: db.prepare('SELECT id, title, updated FROM tasklists WHERE user = ? AND id = ?'),
    defaultList: db.prepare(
      'SELECT id, title, updated FROM tasklists WHERE user = ? AND is_default = 1',
    ),
    createList: db.prepare(
      'INSERT INTO tasklists (user, id, title, is_default, updated) VALUES (?, ?, ?, ?, ?)',
    ),
    touchList: db.prepare('UPDATE tasklists SET updated = ? WHERE user = ? AND id = ?'),
    tasks: db.prepare('SELECT * FROM tasks WHERE user = ? AND list_id = ? ORDER BY position, id'),
    task: db.prepare('SELECT * FROM tasks WHERE user = ? AND list_id = ? AND id = ?'),
    top: db.prepare('SELECT MIN(position) AS top FROM tasks WHERE user = ? AND list_id = ?'),
    insert: db.prepare(
      `INSERT INTO tasks (user, list_id, id, title, notes, status, due, completed, updated, position)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    update: db.prepare(
      `UPDATE tasks SET title = ?, notes = ?, status = ?, due = ?, completed = ?, updated = ?
       WHERE user = ? AND list_id = ? AND id = ?`,
    ),
    remove: db.prepare('DELETE FROM tasks WHERE user = ? AND list_id = ? AND id = ?'),
  };
  const row = <T>(r: unknown): T | undefined => (r === undefined ? undefined : (r as T));
  const newId = () => randomBytes(16).toString('base64url');
  const now = () => new Date().toISOString();

  const defaultList = (user: string): ListRow => {
    const found = row<ListRow>(q.defaultList.get(user));
    if (found) return pickList(found);
    const list = { id: newId(), title: 'My Tasks', updated: now() };
    q.createList.run(user, list.id, list.title, 1, list.updated);
    return list;
  };
  const task = (user: string, listId: string, id: string): TaskRow => {
    const found = row<TaskRow>(q.task.get(user, listId, id));
    if (!found) throw notFound();
    return pickTask(found);
  };

  return {
    lists(user) {
      defaultList(user);
      return q.lists.all(user).map((r) => pickList(r as ListRow));
    },
    list(user, id) {
      if (id === '@default') return defaultList(user);
      defaultList(user);
      const found = row<ListRow>(q.list.get(user, id));
      if (!found) throw notFound();
      return pickList(found);
    },
    tasks(user, listId) {
      return q.tasks.all(user, listId).map((r) => pickTask(r as TaskRow));
    },
    task,
    insert(user, listId, f) {
      const top = (q.top.get(user, listId) as { top: number | null }).top;
      const t: TaskRow = {
        id: newId(),
        list_id: listId,
        title: f.title ?? '',
        notes: f.notes ?? null,
        status: f.status ?? 'needsAction',
        due: f.due ?? null,
        completed: f.status === 'completed' ? (f.completed ?? now()) : null,
        updated: now(),
        position: top === null ? TOP : top - 1,
      };
      q.insert.run(
        user,
        listId,
        t.id,
        t.title,
        t.notes,
        t.status,
        t.due,
        t.completed,
        t.updated,
        t.position,
      );
      q.touchList.run(t.updated, user, listId);
      return t;
    },
    update(user, listId, id, f) {
      const t = task(user, listId, id);
      const status = f.status ?? (t.status as 'needsAction' | 'completed');
      const next: TaskRow = {
        ...t,
        title: f.title ?? t.title,
        notes: f.notes === undefined ? t.notes : f.notes,
        status,
        due: f.due === undefined ? t.due : f.due,
        // Completing stamps the time (unless given); reopening clears it.
        completed:
          status === 'completed'
            ? (f.completed ?? (t.status === 'completed' ? t.completed : null) ?? now())
            : null,
        updated: now(),
      };
      q.update.run(
        next.title,
        next.notes,
        next.status,
        next.due,
        next.completed,
        next.updated,
        user,
        listId,
        id,
      );
      q.touchList.run(next.updated, user, listId);
      return next;
    },
    remove(user, listId, id) {
      task(user, listId, id);
      q.remove.run(user, listId, id);
      q.touchList.run(now(), user, listId);
    },
  };
}

// libsql adds a `_metadata` member to rows: copy out only the columns.
function pickList(r: ListRow): ListRow {
  return { id: r.id, title: r.title, updated: r.updated };
}

function pickTask(r: TaskRow): TaskRow {
  return {
    id: r.id,
    list_id: r.list_id,
    title: r.title,
    notes: r.notes,
    status: r.status,
    due: r.due,
    completed: r.completed,
    updated: r.updated,
    position: Number(r.position),
  };
}
