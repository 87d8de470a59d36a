/**
 * Checking call parameters against a method's definition and turning them into path values and
 * query pairs.
 *
 * @module
 */
import type { JsonSchema, RestMethod } from './document.js';

/** A value a parameter accepts; arrays for repeated parameters. */
export type ParamValue =
  | string
  | number
  | bigint
  | boolean
  | Date
  | readonly (string | number | bigint | boolean | Date)[]
  | null
  | undefined;

/** Parameters of one call, keyed exactly as the document names them (`max-results`, `$.xgafv`). */
export type Params = Readonly<Record<string, ParamValue>>;

/** Parameters split by location and serialised. */
export interface PreparedParams {
  /** Path values, by name, not yet encoded. */
  path: Record<string, string>;
  /** Query pairs in order, not yet encoded; a repeated parameter gives several pairs. */
  query: [string, string][];
}

// Tokens travel in the Authorization header only: a URL ends up in logs, proxies and Referer.
const TOKEN_PARAMS = new Set(['access_token', 'oauth_token', 'bearer_token']);

const patterns = new Map<string, RegExp | null>();

/**
 * Compiles a discovery `pattern` the way Python's `re.match` uses it (anchored at the start), or
 * `null` when JavaScript cannot compile it; patterns are advisory, so those are skipped.
 */
function compilePattern(source: string): RegExp | null {
  let re = patterns.get(source);
  if (re !== undefined) return re;
  let body = source;
  let flags = 'u';
  if (body.startsWith('(?i)')) {
    body = body.slice(4);
    flags += 'i';
  }
  try {
    re = new RegExp(`^(?:${body})`, flags);
  } catch {
    try {
      re = new RegExp(`^(?:${body})`, flags.replace('u', ''));
    } catch {
      re = null;
    }
  }
  patterns.set(source, re);
  return re;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' &&
  v !== null &&
  (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null);

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Date) return 'a Date';
  return typeof value;
}

function checkRange(where: string, def: JsonSchema, value: string): void {
  // minimum/maximum are strings in discovery documents; compare as BigInt to keep 64-bit exact.
  if (!/^-?\d+$/.test(value)) return;
  const n = BigInt(value);
  if (def.minimum !== undefined && /^-?\d+$/.test(def.minimum) && n < BigInt(def.minimum)) {
    throw new TypeError(`${where} must be at least ${def.minimum}, got ${value}`);
  }
  if (def.maximum !== undefined && /^-?\d+$/.test(def.maximum) && n > BigInt(def.maximum)) {
    throw new TypeError(`${where} must be at most ${def.maximum}, got ${value}`);
  }
}

/** Turns one (non-array) value into its wire string, checking it against the definition. */
function serialise(where: string, def: JsonSchema, value: unknown): string {
  const type = def.type ?? 'string';
  const format = def.format;
  let out: string;
  if (type === 'integer' || format === 'int64' || format === 'uint64') {
    if (typeof value === 'number' && Number.isInteger(value)) out = String(value);
    else if (typeof value === 'bigint') out = value.toString();
    else if (typeof value === 'string' && /^-?\d+$/.test(value)) out = value;
    else throw new TypeError(`${where} must be an integer, got ${describe(value)}`);
    if ((format === 'uint32' || format === 'uint64') && out.startsWith('-')) {
      throw new TypeError(`${where} must not be negative`);
    }
    checkRange(where, def, out);
  } else if (type === 'number') {
    if (typeof value === 'number' && Number.isFinite(value)) out = String(value);
    else if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) {
      out = value;
    } else throw new TypeError(`${where} must be a number, got ${describe(value)}`);
  } else if (type === 'boolean') {
    if (typeof value === 'boolean') out = String(value);
    else if (value === 'true' || value === 'false') out = value;
    else throw new TypeError(`${where} must be a boolean, got ${describe(value)}`);
  } else if (value instanceof Date && (format === 'date-time' || format === 'google-datetime')) {
    if (Number.isNaN(value.getTime())) throw new TypeError(`${where} is an invalid Date`);
    out = value.toISOString();
  } else if (typeof value === 'string') {
    out = value;
  } else {
    throw new TypeError(`${where} must be a string, got ${describe(value)}`);
  }
  if (def.enum && !def.enum.includes(out)) {
    throw new TypeError(
      `${where} must be one of ${def.enum.map((e) => JSON.stringify(e)).join(', ')}, got ${JSON.stringify(out)}`,
    );
  }
  if (def.pattern && type === 'string') {
    const re = compilePattern(def.pattern);
    if (re && !re.test(out)) {
      throw new TypeError(`${where} must match /${def.pattern}/, got ${JSON.stringify(out)}`);
    }
  }
  return out;
}

/**
 * Checks a call's parameters against the method and the document's global parameters, and
 * serialises them: numbers, bigints and 64-bit integers as decimal strings, booleans as
 * `true`/`false`, `Date`s as RFC 3339, repeated parameters as one pair per value. A path
 * parameter that is missing but has a `default` (gmail's `userId: "me"`) gets the default.
 *
 * @param methodId the method's display id, for messages
 * @param method the method's definition
 * @param globals the document's global parameters
 * @param params the caller's parameters (`undefined` and `null` values count as absent)
 * @returns path values and query pairs
 * @throws {TypeError} naming the method and the parameter: unknown, missing, wrong type, not in
 *   the enum, not matching the pattern, out of range, or a token (tokens never go in a URL)
 * @example
 * ```ts
 * prepareParams('tasks.tasks.list', method, doc.parameters, { tasklist: '@default' });
 * // { path: { tasklist: '@default' }, query: [] }
 * ```
 */
export function prepareParams(
  methodId: string,
  method: RestMethod,
  globals: Readonly<Record<string, JsonSchema>> | undefined,
  params: unknown,
): PreparedParams {
  if (params !== undefined && params !== null && !isPlainObject(params)) {
    throw new TypeError(`${methodId}: parameters must be a plain object, got ${describe(params)}`);
  }
  const own = method.parameters ?? {};
  const given = (params ?? {}) as Record<string, unknown>;
  const path: Record<string, string> = {};
  const query: [string, string][] = [];
  for (const name of Object.keys(given)) {
    const value = given[name];
    if (value === undefined || value === null) continue;
    const def = Object.hasOwn(own, name)
      ? own[name]!
      : globals && Object.hasOwn(globals, name)
        ? globals[name]!
        : undefined;
    const where = `${methodId}: parameter "${name}"`;
    if (def === undefined) throw new TypeError(`${methodId}: unknown parameter "${name}"`);
    if (!Object.hasOwn(own, name) && TOKEN_PARAMS.has(name)) {
      throw new TypeError(
        `${where} is refused: tokens go in the Authorization header, never in a URL; pass an authorized fetch as "http"`,
      );
    }
    if (name === 'alt' && value === 'media') {
      throw new TypeError(`${where}: use request.download() for alt=media`);
    }
    if (def.location === 'path') {
      if (Array.isArray(value)) throw new TypeError(`${where} must be a single value`);
      const s = serialise(where, def, value);
      if (s === '') throw new TypeError(`${where} must not be empty`);
      path[name] = s;
    } else if (def.repeated) {
      const values = Array.isArray(value) ? value : [value];
      for (const v of values) query.push([name, serialise(where, def, v)]);
    } else {
      if (Array.isArray(value)) {
        throw new TypeError(`${where} is not repeated and must be a single value`);
      }
      query.push([name, serialise(where, def, value)]);
    }
  }
  for (const name of Object.keys(own)) {
    const def = own[name]!;
    if (def.location === 'path' && path[name] === undefined) {
      if (def.default !== undefined && def.default !== '') path[name] = def.default;
      else throw new TypeError(`${methodId}: parameter "${name}" is required`);
    } else if (def.required && def.location !== 'path') {
      const v = given[name];
      if (v === undefined || v === null || (Array.isArray(v) && v.length === 0)) {
        throw new TypeError(`${methodId}: parameter "${name}" is required`);
      }
    }
  }
  return { path, query };
}
