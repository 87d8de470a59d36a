/**
 * A tiny HTML template tag for the demo's pages: every interpolated value is escaped unless it
 * is itself the result of `html`, so a page cannot forget to escape a task title or a claim.
 *
 * @module
 */
import { escapeHtml } from '../src/index.node.js';

/** Markup produced by {@link html}: inserted into another template as is. */
export class Html {
  /** @param value markup that is already safe */
  constructor(readonly value: string) {}

  /** @returns the markup */
  toString(): string {
    return this.value;
  }
}

/**
 * Builds markup from a template literal; strings, numbers and anything else are escaped, arrays
 * are joined, `null`, `undefined` and `false` render nothing. Attribute values must be quoted in
 * the template.
 *
 * @param strings the literal parts
 * @param values the interpolated values
 * @returns the markup
 * @example
 * ```ts
 * const item = html`<li title="${task.title}">${task.title}</li>`;
 * ```
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) out += render(values[i]) + (strings[i + 1] ?? '');
  return new Html(out);
}

function render(value: unknown): string {
  if (value instanceof Html) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(String(value));
}
