/**
 * The Tasks API as the demo calls it: `build('tasks', 'v1')` from `oauthkit/discovery`, the
 * seed's `service = build('tasks', 'v1')`, then
 * `service.tasks.list({ tasklist: '@default' }).execute(decorator.http())`.
 *
 * The service is made at run time from the API's discovery document: Google's, or the one the
 * local Tasks API serves at Google's discovery path. This module only adds types for the few
 * methods the demo calls (`tools/gen-discovery-types.ts` generates them for a whole API).
 *
 * Errors come as they are: `HttpError` (from `oauthkit/discovery`) for an error answer of the
 * API, and the authorized fetch's own errors unchanged (`InsufficientScopeError` for a 403
 * with `WWW-Authenticate: Bearer error="insufficient_scope"`, `GrantRevokedError`, ...).
 *
 * @module
 */
import {
  build,
  createMemoryCache,
  type ApiRequest,
  type CallOptions,
} from '../src/discovery/index.js';

/** A task, as the Tasks API returns it (the fields the demo shows). */
export interface Task {
  kind: 'tasks#task';
  id: string;
  title: string;
  status: 'needsAction' | 'completed';
  updated: string;
  notes?: string;
  due?: string;
  completed?: string;
}

/** A task list. */
export interface TaskList {
  kind: 'tasks#taskList';
  id: string;
  title: string;
  updated: string;
}

/** The fields a patch may change (`completed: null` clears the completion time). */
export type TaskChanges = Partial<Pick<Task, 'title' | 'notes' | 'status'>> & {
  completed?: string | null;
};

/** The `tasks v1` methods the demo calls, typed. */
export interface TasksService {
  tasklists: {
    list(params?: { maxResults?: number }): ApiRequest<{ items?: TaskList[] }>;
  };
  tasks: {
    list(params: {
      tasklist: string;
      maxResults?: number;
      showCompleted?: boolean;
    }): ApiRequest<{ items?: Task[]; nextPageToken?: string }>;
    insert(
      params: { tasklist: string },
      options: CallOptions<{ title: string; notes?: string }>,
    ): ApiRequest<Task>;
    patch(
      params: { tasklist: string; task: string },
      options: CallOptions<TaskChanges>,
    ): ApiRequest<Task>;
    delete(params: { tasklist: string; task: string }): ApiRequest<void>;
  };
}

/**
 * The discovery URL template of an API that serves its own document at Google's path, as the
 * local Tasks API does.
 *
 * @param origin the API's origin, `http://127.0.0.1:3002`
 * @returns `${origin}/discovery/v1/apis/{api}/{apiVersion}/rest`
 */
export function discoveryUrlAt(origin: string): string {
  return `${origin}/discovery/v1/apis/{api}/{apiVersion}/rest`;
}

/**
 * Makes the Tasks service, once: the first call fetches the discovery document (from
 * `discoveryUrl`, Google's by default) and later calls share the result. A failed fetch is not
 * kept, so the next call tries again.
 *
 * @param discoveryUrl where the document is (a URL template); Google's discovery URLs by default
 * @returns a function giving the service
 * @example
 * ```ts
 * const tasksService = tasksServiceOnce();
 * const service = await tasksService();
 * const { items } = await service.tasks.list({ tasklist: '@default' }).execute(decorator.http());
 * ```
 */
export function tasksServiceOnce(discoveryUrl?: string): () => Promise<TasksService> {
  // Its own document cache: what a demo on the same port fetched earlier in this process (tests
  // start several) never stands in for this API's document.
  const cache = createMemoryCache();
  let service: Promise<TasksService> | undefined;
  return () => {
    service ??= build<TasksService>('tasks', 'v1', { discoveryUrl, cache }).catch(
      (err: unknown) => {
        service = undefined;
        throw err;
      },
    );
    return service;
  };
}

/** What a task id from a form may look like; anything else is treated as a task that is gone. */
const TASK_ID = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * Whether a task id from a form looks like one. The discovery client escapes `/`, `?` and `#` in
 * `{task}`, but `.` and `..` are left as they are (RFC 6570) and would change the URL's path.
 *
 * @param id the id
 * @returns true when it may be sent
 */
export function isTaskId(id: string): boolean {
  return TASK_ID.test(id);
}
