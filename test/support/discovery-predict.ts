/**
 * The test's own reading of a discovery document, kept independent of src/discovery: it makes
 * valid parameter values from each parameter's schema (including strings that match its
 * `pattern`), and predicts the HTTP method, URL, query and body a client must send. Nothing here
 * imports the library's expansion, encoding or validation code.
 */
import type { JsonSchema, RestDescription, RestMethod } from '../../src/discovery/index.js';

// ---------------------------------------------------------------------------------------------
// Strings that match a pattern: a small generator for the regex subset discovery documents use
// (literals, escapes \d \w \., classes with ranges and negation, groups, alternation,
// ? * + {m} {m,} {m,n}, lazy quantifiers, anchors).

type Node =
  | { t: 'alt'; options: Node[] }
  | { t: 'seq'; items: Node[] }
  | { t: 'lit'; ch: string }
  | { t: 'class'; negated: boolean; ranges: [number, number][] }
  | { t: 'any' }
  | { t: 'rep'; node: Node; min: number; max: number }
  | { t: 'empty' };

class Unsupported extends Error {}

function parseRegex(source: string): Node {
  let i = 0;
  const peek = () => source[i];
  const classEscape = (c: string): [number, number][] => {
    if (c === 'd') return [[48, 57]];
    if (c === 'w')
      return [
        [48, 57],
        [65, 90],
        [95, 95],
        [97, 122],
      ];
    if (c === 's') return [[32, 32]];
    if (/[A-Za-z]/.test(c)) throw new Unsupported(`escape \\${c}`);
    return [[c.charCodeAt(0), c.charCodeAt(0)]];
  };
  const parseAlt = (): Node => {
    const options = [parseSeq()];
    while (peek() === '|') {
      i++;
      options.push(parseSeq());
    }
    return options.length === 1 ? options[0]! : { t: 'alt', options };
  };
  const parseSeq = (): Node => {
    const items: Node[] = [];
    while (i < source.length && peek() !== '|' && peek() !== ')') {
      let atom = parseAtom();
      atom = parseQuantifier(atom);
      items.push(atom);
    }
    return { t: 'seq', items };
  };
  const parseAtom = (): Node => {
    const c = source[i++]!;
    if (c === '^' || c === '$') return { t: 'empty' };
    if (c === '.') return { t: 'any' };
    if (c === '(') {
      if (source.startsWith('?:', i)) i += 2;
      else if (peek() === '?') throw new Unsupported('group flag');
      const inner = parseAlt();
      if (source[i++] !== ')') throw new Unsupported('unclosed group');
      return inner;
    }
    if (c === '[') {
      let negated = false;
      if (peek() === '^') {
        negated = true;
        i++;
      }
      const ranges: [number, number][] = [];
      let first = true;
      while (i < source.length && (peek() !== ']' || first)) {
        first = false;
        let ch = source[i++]!;
        if (ch === '\\') {
          const e = source[i++]!;
          const r = classEscape(e);
          if (r.length > 1 || r[0]![0] !== r[0]![1]) {
            ranges.push(...r);
            continue;
          }
          ch = String.fromCharCode(r[0]![0]);
        }
        if (peek() === '-' && source[i + 1] !== ']' && source[i + 1] !== undefined) {
          i++;
          let to = source[i++]!;
          if (to === '\\') to = source[i++]!;
          ranges.push([ch.charCodeAt(0), to.charCodeAt(0)]);
        } else ranges.push([ch.charCodeAt(0), ch.charCodeAt(0)]);
      }
      if (source[i++] !== ']') throw new Unsupported('unclosed class');
      return { t: 'class', negated, ranges };
    }
    if (c === '\\') {
      const e = source[i++]!;
      const r = classEscape(e);
      if (r.length === 1 && r[0]![0] === r[0]![1])
        return { t: 'lit', ch: String.fromCharCode(r[0]![0]) };
      return { t: 'class', negated: false, ranges: r };
    }
    if ('*+?{'.includes(c)) throw new Unsupported(`quantifier ${c} without atom`);
    return { t: 'lit', ch: c };
  };
  const parseQuantifier = (node: Node): Node => {
    const c = peek();
    let min: number;
    let max: number;
    if (c === '?') [min, max] = [0, 1];
    else if (c === '*') [min, max] = [0, Infinity];
    else if (c === '+') [min, max] = [1, Infinity];
    else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(source.slice(i));
      if (!m) return node;
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
      i += m[0].length - 1;
    } else return node;
    i++;
    if (peek() === '?') i++; // lazy: same set of strings
    return { t: 'rep', node, min, max };
  };
  const tree = parseAlt();
  if (i !== source.length) throw new Unsupported('trailing input');
  return tree;
}

// Characters chosen in turn for classes and `.`: some need percent-encoding in a URL.
const PICKS = ['a', 'b', '7', ' ', ':', 'z', '@', 'q', '!', 'x'];

function generate(node: Node, state: { n: number }): string {
  switch (node.t) {
    case 'empty':
      return '';
    case 'lit':
      return node.ch;
    case 'alt':
      return generate(node.options[0]!, state);
    case 'seq':
      return node.items.map((n) => generate(n, state)).join('');
    case 'any':
      return PICKS[state.n++ % PICKS.length]!;
    case 'class': {
      const inClass = (code: number) => node.ranges.some(([a, b]) => code >= a && code <= b);
      const ok = (ch: string) => inClass(ch.charCodeAt(0)) !== node.negated && ch !== '/';
      for (let k = 0; k < PICKS.length; k++) {
        const ch = PICKS[(state.n + k) % PICKS.length]!;
        if (ok(ch)) {
          state.n += k + 1;
          return ch;
        }
      }
      if (!node.negated) return String.fromCharCode(node.ranges[0]![0]);
      throw new Unsupported('no character for class');
    }
    case 'rep': {
      // One repetition where allowed (two for `+`, so `[^/]+` yields more than a letter).
      const count = Math.max(node.min, Math.min(node.max, node.max === Infinity ? 2 : 1));
      let out = '';
      for (let k = 0; k < count; k++) out += generate(node.node, state);
      return out;
    }
  }
}

/**
 * A string that fully matches `pattern`, or `undefined` when the generator cannot make one
 * (unsupported syntax, or the result does not match).
 */
export function stringMatching(pattern: string): string | undefined {
  try {
    const value = generate(parseRegex(pattern), { n: 0 });
    return new RegExp(`^(?:${pattern})$`).test(value) ? value : undefined;
  } catch (err) {
    if (err instanceof Unsupported) return undefined;
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Valid parameters for a method, with their expected wire strings.

/** A generated call: what to pass, and what each parameter must become on the wire. */
export interface GeneratedCall {
  params: Record<string, unknown>;
  /** Wire strings per parameter (several for repeated ones). */
  wire: Record<string, string[]>;
}

const FIXED_DATE = new Date(Date.UTC(2024, 6, 18, 12, 34, 56, 789));
const BIG = 9007199254740993n; // 2^53 + 1: exact only as a string or bigint

function clampInt(def: JsonSchema, preferred: bigint): bigint {
  let v = preferred;
  if (def.minimum !== undefined && v < BigInt(def.minimum)) v = BigInt(def.minimum);
  if (def.maximum !== undefined && v > BigInt(def.maximum)) v = BigInt(def.maximum);
  return v;
}

/** One value and its wire string, or a reason it cannot be made. */
function valueFor(
  name: string,
  def: JsonSchema,
  reserved: boolean,
  second: boolean,
): { value: unknown; wire: string } | { skip: string } {
  if (def.enum && def.enum.length > 0) {
    const e = (second ? def.enum[1] : undefined) ?? def.enum[0]!;
    return { value: e, wire: e };
  }
  if (def.pattern) {
    const s = stringMatching(def.pattern);
    if (s === undefined) return { skip: `no generated match for ${name} /${def.pattern}/` };
    return { value: s, wire: s };
  }
  const type = def.type ?? 'string';
  if (type === 'boolean')
    return second ? { value: 'false', wire: 'false' } : { value: true, wire: 'true' };
  if (type === 'integer') {
    const v = clampInt(def, second ? 8n : 7n);
    return { value: Number(v), wire: v.toString() };
  }
  if (type === 'number') return { value: 1.5, wire: '1.5' };
  if (def.format === 'int64' || def.format === 'uint64') {
    const v = clampInt(def, BIG);
    return second ? { value: v.toString(), wire: v.toString() } : { value: v, wire: v.toString() };
  }
  if (def.format === 'date-time' || def.format === 'google-datetime') {
    return { value: FIXED_DATE, wire: FIXED_DATE.toISOString() };
  }
  if (def.location === 'path') {
    const v = reserved ? `r/${name} 1:ü` : `v/${name} 1:ü@`;
    return { value: v, wire: v };
  }
  const v = second ? `${name}-2` : `q ${name}&=+ü`;
  return { value: v, wire: v };
}

/**
 * Valid parameters for every parameter of a method (required and optional), repeated ones with
 * two values, plus two of the document's global parameters; or the reason the method is skipped.
 */
export function generateCall(
  doc: RestDescription,
  method: RestMethod,
): GeneratedCall | { skip: string } {
  const params: Record<string, unknown> = {};
  const wire: Record<string, string[]> = {};
  const reservedNames = new Set([...method.path.matchAll(/\{\+([^}]+)\}/g)].map((m) => m[1]!));
  for (const [name, def] of Object.entries(method.parameters ?? {})) {
    const first = valueFor(name, def, reservedNames.has(name), false);
    if ('skip' in first) return first;
    if (def.repeated && def.location !== 'path') {
      const second = valueFor(name, def, false, true);
      if ('skip' in second) return second;
      params[name] = [first.value, second.value];
      wire[name] = [first.wire, second.wire];
    } else {
      params[name] = first.value;
      wire[name] = [first.wire];
    }
  }
  const globals = doc.parameters ?? {};
  for (const [name, value] of [
    ['fields', 'kind,items(id)'],
    ['quotaUser', 'user 1'],
    ['$.xgafv', '2'],
  ] as const) {
    if (globals[name] && !(name in params)) {
      params[name] = value;
      wire[name] = [value];
    }
  }
  return { params, wire };
}

// ---------------------------------------------------------------------------------------------
// The prediction of the URL, written differently from the library: encodeURIComponent /
// encodeURI with fix-ups, rather than a character-class scan.

/** RFC 6570 simple expansion: everything but unreserved characters is percent-encoded. */
function simpleEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0'),
  );
}

/** RFC 6570 reserved expansion: reserved characters stay (encodeURI keeps all but `[`, `]`). */
function reservedEncode(value: string): string {
  return encodeURI(value).replace(/%5B/g, '[').replace(/%5D/g, ']');
}

/** The predicted request: URL without query, the query as sorted pairs, and the body. */
export interface Prediction {
  httpMethod: string;
  base: string;
  query: [string, string][];
}

/** Predicts a method's URL from the document alone. */
export function predict(
  doc: RestDescription,
  method: RestMethod,
  call: GeneratedCall,
  options: { template?: string; root?: string; extraQuery?: [string, string][] } = {},
): Prediction {
  const pathParams = new Set(
    Object.entries(method.parameters ?? {})
      .filter(([, d]) => d.location === 'path')
      .map(([n]) => n),
  );
  const template = options.template ?? doc.servicePath + method.path;
  const expanded = template.replace(/\{(\+?)([^}]+)\}/g, (_, plus: string, name: string) => {
    const value = call.wire[name]![0]!;
    return plus ? reservedEncode(value) : simpleEncode(value);
  });
  const root = options.root ?? doc.rootUrl;
  const base = expanded.startsWith('/') ? root.replace(/\/$/, '') + expanded : root + expanded;
  const query: [string, string][] = [...(options.extraQuery ?? [])];
  for (const [name, values] of Object.entries(call.wire)) {
    if (pathParams.has(name)) continue;
    for (const v of values) query.push([name, v]);
  }
  return { httpMethod: method.httpMethod, base, query: sortPairs(query) };
}

export function sortPairs(pairs: [string, string][]): [string, string][] {
  return [...pairs].sort((a, b) =>
    a[0] === b[0] ? (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0) : a[0] < b[0] ? -1 : 1,
  );
}

/** A MIME type a method's `accept` list allows. */
export function acceptedType(accept: readonly string[] | undefined): string {
  const first = accept?.[0] ?? '*/*';
  if (first === '*/*') return 'application/octet-stream';
  if (first.endsWith('/*')) return `${first.slice(0, -2)}/x-test`;
  return first;
}
