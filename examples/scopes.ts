/**
 * The Google scopes the demo uses, and how Google's consent screen words them.
 *
 * @module
 */

/** `https://www.googleapis.com/auth/tasks`: create, edit, organize and delete tasks. */
export const TASKS_SCOPE = 'https://www.googleapis.com/auth/tasks';

/** `https://www.googleapis.com/auth/tasks.readonly`: view tasks. */
export const TASKS_READONLY_SCOPE = 'https://www.googleapis.com/auth/tasks.readonly';

/** What the demo app asks for: who you are (for its session and the account page) and your tasks. */
export const DEMO_SCOPES = ['openid', 'email', TASKS_SCOPE] as const;

const DESCRIPTIONS: Record<string, string> = {
  openid: 'Associate you with your personal info',
  email: 'See your primary email address',
  profile: "See your personal info, including any personal info you've made publicly available",
  [TASKS_SCOPE]: 'Create, edit, organize, and delete all your tasks',
  [TASKS_READONLY_SCOPE]: 'View your tasks',
};

/**
 * @param scope a scope
 * @returns what it lets the app do, in the words of Google's consent screen (or the scope itself)
 */
export function describeScope(scope: string): string {
  return DESCRIPTIONS[scope] ?? scope;
}
