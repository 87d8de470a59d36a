import { readFileSync } from 'node:fs';
import { googleError, startServer, type LocalServer, type Recorded } from './discovery-server.js';

/** A task as the local API keeps it. */
export interface StoredTask {
  kind: 'tasks#task';
  id: string;
  title: string;
  status: 'needsAction' | 'completed';
  notes?: string;
  updated: string;
}

export interface TasksApiOptions {
  /** The discovery document to serve (its rootUrl is replaced by the server's origin). */
  document?: Record<string, unknown>;
  /**
   * Checks a bearer token (undefined when none was sent); resolve to false to answer 401.
   * Every request is accepted when this is absent.
   */
  checkToken?: (token: string | undefined) => boolean | Promise<boolean>;
  /** Tasks to put in the default list at start. */
  seed?: number;
}

export interface TasksApi {
  origin: string;
  /** The discovery URL template to pass as `discoveryUrl`. */
  discoveryUrl: string;
  server: LocalServer;
  /** Tasks of the default list. */
  tasks: StoredTask[];
  /** Bearer tokens seen, one per HTTP request (batch parts not counted). */
  seen: (string | undefined)[];
  close(): Promise<void>;
}

interface Answer {
  status: number;
  body?: unknown;
}

const DEMO_DOC = new URL('../../examples/tasks-discovery.json', import.meta.url);

/**
 * A local Tasks API speaking the `tasks v1` routes (task lists, tasks list/get/insert/update/
 * patch/delete, pagination with `maxResults`/`pageToken`, and `/batch` in multipart/mixed), that
 * serves its discovery document at `/discovery/v1/apis/tasks/v1/rest` as Google does.
 */
export async function startTasksApi(options: TasksApiOptions = {}): Promise<TasksApi> {
  const document =
    options.document ?? (JSON.parse(readFileSync(DEMO_DOC, 'utf8')) as Record<string, unknown>);
  const tasks: StoredTask[] = [];
  let counter = 0;
  const newTask = (title: string, status: StoredTask['status'] = 'needsAction'): StoredTask => ({
    kind: 'tasks#task',
    id: `t${++counter}`,
    title,
    status,
    updated: new Date(Date.UTC(2025, 0, 1, 0, 0, counter)).toISOString(),
  });
  for (let i = 0; i < (options.seed ?? 0); i++) tasks.push(newTask(`seeded ${i + 1}`));
  const seen: (string | undefined)[] = [];

  const notFound = (what: string): Answer => ({
    status: 404,
    body: googleError(404, `${what} not found.`, 'notFound', 'NOT_FOUND'),
  });

  const page = <T>(items: T[], query: URLSearchParams, kind: string) => {
    const max = Number(query.get('maxResults') ?? 20);
    const start = Number(query.get('pageToken') ?? 0);
    const slice = items.slice(start, start + max);
    const next = start + max < items.length ? String(start + max) : undefined;
    return { kind, etag: `"e${start}"`, items: slice, ...(next ? { nextPageToken: next } : {}) };
  };

  /** One call, also used for each part of a batch. */
  const route = (method: string, rawPath: string, query: URLSearchParams, body: string): Answer => {
    const segments = rawPath.split('/').map((s) => decodeURIComponent(s));
    // ['', 'tasks', 'v1', ...]
    if (segments[1] !== 'tasks' || segments[2] !== 'v1') return notFound('Route');
    const rest = segments.slice(3);
    if (method === 'GET' && rest.join('/') === 'users/@me/lists') {
      const lists = [{ kind: 'tasks#taskList', id: 'default-list', title: 'My Tasks' }];
      return { status: 200, body: page(lists, query, 'tasks#taskLists') };
    }
    if (rest[0] !== 'lists' || rest[2] !== 'tasks') return notFound('Route');
    if (rest[1] !== '@default' && rest[1] !== 'default-list') return notFound('Task list');
    const id = rest[3];
    if (id === undefined) {
      if (method === 'GET') return { status: 200, body: page(tasks, query, 'tasks#tasks') };
      if (method === 'POST') {
        const input = JSON.parse(body || '{}') as Partial<StoredTask>;
        if (!input.title) {
          return {
            status: 400,
            body: googleError(400, 'Missing task title.', 'required', 'INVALID_ARGUMENT'),
          };
        }
        const task = newTask(input.title, input.status);
        if (input.notes) task.notes = input.notes;
        tasks.push(task);
        return { status: 200, body: task };
      }
      return { status: 405, body: googleError(405, 'Method not allowed.', 'methodNotAllowed') };
    }
    const index = tasks.findIndex((t) => t.id === id);
    if (index < 0) return notFound('Task');
    const task = tasks[index]!;
    if (method === 'GET') return { status: 200, body: task };
    if (method === 'DELETE') {
      tasks.splice(index, 1);
      return { status: 204 };
    }
    if (method === 'PUT' || method === 'PATCH') {
      const input = JSON.parse(body || '{}') as Partial<StoredTask>;
      const next: StoredTask =
        method === 'PUT'
          ? { ...newTask(input.title ?? ''), id: task.id, ...input, kind: 'tasks#task' }
          : { ...task, ...input, id: task.id, kind: 'tasks#task' };
      next.updated = new Date().toISOString();
      tasks[index] = next;
      return { status: 200, body: next };
    }
    return { status: 405, body: googleError(405, 'Method not allowed.', 'methodNotAllowed') };
  };

  const batch = (req: Recorded): { contentType: string; body: string } => {
    const type = String(req.headers['content-type'] ?? '');
    const boundary = /boundary=([^;]+)/.exec(type)?.[1] ?? '';
    const out = `batch_response_${Date.now()}`;
    let body = '';
    const parts = req.body.toString('utf8').split(`--${boundary}`).slice(1);
    for (const part of parts) {
      if (part.startsWith('--')) break;
      const [partHead, inner] = splitOnce(part.replace(/^\r\n/, ''), '\r\n\r\n');
      const contentId = /content-id:\s*<([^>]*)>/i.exec(partHead)?.[1] ?? '';
      const [innerHead, innerBody] = splitOnce(inner, '\r\n\r\n');
      const [requestLine = ''] = innerHead.split('\r\n');
      const [method = 'GET', target = '/'] = requestLine.split(' ');
      const q = target.indexOf('?');
      const answer = route(
        method,
        q < 0 ? target : target.slice(0, q),
        new URLSearchParams(q < 0 ? '' : target.slice(q + 1)),
        innerBody.replace(/\r\n$/, ''),
      );
      const text = answer.body === undefined ? '' : JSON.stringify(answer.body);
      body += `--${out}\r\nContent-Type: application/http\r\nContent-ID: <response-${contentId}>\r\n\r\n`;
      body += `HTTP/1.1 ${answer.status} ${answer.status < 300 ? 'OK' : 'Error'}\r\n`;
      if (text) body += `Content-Type: application/json; charset=UTF-8\r\n`;
      body += `\r\n${text}\r\n`;
    }
    body += `--${out}--\r\n`;
    return { contentType: `multipart/mixed; boundary=${out}`, body };
  };

  const server = await startServer(async (req, res) => {
    if (req.method === 'GET' && req.path === '/discovery/v1/apis/tasks/v1/rest') {
      res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8' });
      res.end(JSON.stringify({ ...document, rootUrl: `${server.origin}/` }));
      return;
    }
    const auth = /^Bearer (.+)$/i.exec(String(req.headers.authorization ?? ''))?.[1];
    seen.push(auth);
    if (options.checkToken && !(await options.checkToken(auth))) {
      const err = googleError(
        401,
        'Request had invalid authentication credentials.',
        'authError',
        'UNAUTHENTICATED',
      );
      res.writeHead(401, {
        'content-type': 'application/json; charset=UTF-8',
        'www-authenticate': 'Bearer realm="https://accounts.google.com/"',
      });
      res.end(JSON.stringify(err));
      return;
    }
    if (req.method === 'POST' && req.path === '/batch') {
      const out = batch(req);
      res.writeHead(200, { 'content-type': out.contentType });
      res.end(out.body);
      return;
    }
    const answer = route(req.method, req.path, req.query, req.body.toString('utf8'));
    if (answer.body === undefined) {
      res.writeHead(answer.status);
      res.end();
    } else {
      res.writeHead(answer.status, { 'content-type': 'application/json; charset=UTF-8' });
      res.end(JSON.stringify(answer.body));
    }
  });

  return {
    origin: server.origin,
    discoveryUrl: `${server.origin}/discovery/v1/apis/{api}/{apiVersion}/rest`,
    server,
    tasks,
    seen,
    close: () => server.close(),
  };
}

function splitOnce(text: string, separator: string): [string, string] {
  const i = text.indexOf(separator);
  return i < 0 ? [text, ''] : [text.slice(0, i), text.slice(i + separator.length)];
}
