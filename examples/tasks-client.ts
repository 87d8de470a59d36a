/**
 * The few Google Tasks API calls the demo makes, over any authorized fetch (`decorator.http()`).
 * The same code talks to Google (`https://tasks.googleapis.com`) and to the local stand-in.
 *
 * This is plain authorized fetch for now; once `oauthkit/discovery` lands, these become
 * `build('tasks', 'v1')` calls (`service.tasks.list({ tasklist: '@default' }).execute(http)`).
 *
 * @module
 */
import { InsufficientScopeError } from '../src/index.node.js';

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

/** An error answer from the Tasks API (Google's error format). */
export class TasksApiError extends Error {
  override name = 'TasksApiError';
  /**
   * @param status the HTTP status
   * @param reason Google's `errors[0].reason`, e.g. `notFound`
   * @param message Google's `error.message`
   */
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

/** What a task list's id may look like (Google's ids, or `@default`); anything else is refused. */
const ID = /^(?:@default|[A-Za-z0-9_-]{1,128})$/;

/**
 * A small Tasks API client.
 *
 * @example
 * ```ts
 * const tasks = new TasksClient(decorator.http(), 'https://tasks.googleapis.com');
 * const { items } = await tasks.listTasks('@default');
 * ```
 */
export class TasksClient {
  /**
   * @param http an authorized fetch, e.g. `decorator.http()`
   * @param root the API's origin (`https://tasks.googleapis.com`)
   */
  constructor(
    private readonly http: (input: string, init?: RequestInit) => Promise<Response>,
    private readonly root: string,
  ) {}

  /** @returns the user's task lists */
  async listTaskLists(): Promise<{ items: TaskList[] }> {
    const body = await this.#call<{ items?: TaskList[] }>('GET', 'users/@me/lists');
    return { items: body.items ?? [] };
  }

  /**
   * @param tasklist a list id or `@default`
   * @param options `showCompleted` (default true), `maxResults` (default 100)
   * @returns the list's tasks, in the list's order
   */
  async listTasks(
    tasklist: string,
    options: { showCompleted?: boolean; maxResults?: number } = {},
  ): Promise<{ items: Task[] }> {
    const q = new URLSearchParams({
      maxResults: String(options.maxResults ?? 100),
      showCompleted: String(options.showCompleted ?? true),
    });
    const body = await this.#call<{ items?: Task[] }>('GET', `lists/${id(tasklist)}/tasks?${q}`);
    return { items: body.items ?? [] };
  }

  /**
   * @param tasklist a list id or `@default`
   * @param task the new task's fields
   * @returns the created task
   */
  insertTask(tasklist: string, task: { title: string; notes?: string }): Promise<Task> {
    return this.#call('POST', `lists/${id(tasklist)}/tasks`, task);
  }

  /**
   * @param tasklist a list id or `@default`
   * @param task the task's id
   * @param changes the fields to change (`completed: null` clears the completion time)
   * @returns the updated task
   */
  patchTask(
    tasklist: string,
    task: string,
    changes: Partial<Pick<Task, 'title' | 'notes' | 'status'>> & { completed?: string | null },
  ): Promise<Task> {
    return this.#call('PATCH', `lists/${id(tasklist)}/tasks/${id(task)}`, changes);
  }

  /**
   * @param tasklist a list id or `@default`
   * @param task the task's id
   */
  async deleteTask(tasklist: string, task: string): Promise<void> {
    await this.#call('DELETE', `lists/${id(tasklist)}/tasks/${id(task)}`);
  }

  async #call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.http(`${this.root}/tasks/v1/${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    if (res.ok) return JSON.parse(text) as T;
    let reason = 'unknown';
    let message = `the Tasks API answered ${res.status}`;
    try {
      const e = (
        JSON.parse(text) as { error?: { message?: string; errors?: { reason?: string }[] } }
      ).error;
      reason = e?.errors?.[0]?.reason ?? reason;
      message = e?.message ?? message;
    } catch {
      // Not Google's error format (a proxy's page, say): keep the status.
    }
    // The grant lacks the scope (Google's granular consent lets users untick it): oauthRequired
    // turns this error into a new consent request.
    const challenge = res.headers.get('www-authenticate') ?? '';
    if (
      res.status === 403 &&
      (/insufficient_scope/.test(challenge) || reason === 'insufficientPermissions')
    ) {
      throw new InsufficientScopeError('the Tasks API needs a scope this grant lacks', {
        error: 'insufficient_scope',
        status: 403,
      });
    }
    throw new TasksApiError(res.status, reason, message);
  }
}

function id(value: string): string {
  // Ids go into the URL path: refuse anything that could change the path ("..", "/", "?").
  if (!ID.test(value)) throw new TasksApiError(404, 'notFound', 'No such task or list.');
  return value === '@default' ? value : encodeURIComponent(value);
}
