#!/usr/bin/env -S node --import tsx
/**
 * Generates a TypeScript declaration file for one API from its discovery document, so that
 * `build<Tasks>('tasks', 'v1')` is fully typed: every resource and method, each method's
 * parameters, request body and response, and every schema.
 *
 * Usage:
 *   node --import tsx tools/gen-discovery-types.ts <document.json> [--name Tasks]
 *     [--import oauthkit/discovery] > tasks.d.ts
 *
 * Output for documents the project does not own is not committed: generate it in your app.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type {
  JsonSchema,
  RestDescription,
  RestMethod,
  RestResource,
} from '../src/discovery/index.js';

/** Options of {@link generateTypes}. */
export interface GenerateOptions {
  /** The name of the service interface and its namespace; from the document by default. */
  name?: string;
  /** Where `ApiRequest` and `CallOptions` come from (`oauthkit/discovery` by default). */
  importFrom?: string;
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;
// Names that cannot be a type's name (TypeScript keywords and predefined types).
const RESERVED_TYPE_NAMES = new Set([
  'any',
  'boolean',
  'never',
  'number',
  'object',
  'string',
  'symbol',
  'undefined',
  'unknown',
  'void',
  'null',
  'bigint',
  'this',
  'break',
  'case',
  'catch',
  'class',
  'const',
  'continue',
  'debugger',
  'default',
  'delete',
  'do',
  'else',
  'enum',
  'export',
  'extends',
  'false',
  'finally',
  'for',
  'function',
  'if',
  'import',
  'in',
  'instanceof',
  'new',
  'return',
  'super',
  'switch',
  'throw',
  'true',
  'try',
  'typeof',
  'var',
  'while',
  'with',
  'Array',
  'Date',
  'Promise',
  'Record',
]);
// Tokens are refused as parameters at run time (they belong in the Authorization header).
const TOKEN_PARAMS = new Set(['access_token', 'oauth_token', 'bearer_token']);

const key = (name: string) => (IDENTIFIER.test(name) ? name : JSON.stringify(name));

function typeName(schemaName: string): string {
  const cleaned = schemaName.replace(/[^\w$]/g, '_');
  const safe = /^[0-9]/.test(cleaned) ? `_${cleaned}` : cleaned;
  return RESERVED_TYPE_NAMES.has(safe) ? `${safe}_` : safe;
}

function pascal(name: string): string {
  const words = name.split(/[^A-Za-z0-9]+/).filter(Boolean);
  const joined = words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
  return /^[0-9]/.test(joined) ? `Api${joined}` : joined || 'Api';
}

/** A JSDoc block from a description, or nothing. */
function doc(description: string | undefined, indent: string, extra: string[] = []): string {
  const lines = [
    ...(description ?? '')
      .replace(/\*\//g, '*\\/')
      .split('\n')
      .map((l) => l.trimEnd())
      .filter((l, i, all) => l !== '' || (i > 0 && i < all.length - 1)),
    ...extra,
  ];
  if (lines.length === 0) return '';
  if (lines.length === 1) return `${indent}/** ${lines[0]} */\n`;
  return `${indent}/**\n${lines.map((l) => `${indent} * ${l}`.trimEnd()).join('\n')}\n${indent} */\n`;
}

/**
 * Generates the declaration file of one API.
 *
 * @param document the discovery document
 * @param options the interface's name, where to import the client types from
 * @returns the text of a `.d.ts` file
 * @example
 * ```ts
 * const dts = generateTypes(JSON.parse(readFileSync('tasks.v1.json', 'utf8')), { name: 'Tasks' });
 * ```
 */
export function generateTypes(document: RestDescription, options: GenerateOptions = {}): string {
  const ns = options.name ?? pascal(document.canonicalName ?? document.name ?? 'Api');
  if (!IDENTIFIER.test(ns) || RESERVED_TYPE_NAMES.has(ns)) {
    throw new TypeError(`"name" must be a TypeScript identifier, got ${JSON.stringify(ns)}`);
  }
  const from = options.importFrom ?? 'oauthkit/discovery';
  const schemas = document.schemas ?? {};
  const ref = (name: string) =>
    schemas[name] ? `${ns}.${typeName(name)}` : 'unknown /* missing schema */';

  /** The type of a schema, inline. */
  const schemaType = (s: JsonSchema | undefined, indent: string): string => {
    if (!s) return 'unknown';
    if (s.$ref) return ref(s.$ref);
    if (s.enum && s.enum.length > 0 && (s.type ?? 'string') === 'string') {
      return s.enum.map((e) => JSON.stringify(e)).join(' | ');
    }
    switch (s.type) {
      case 'string':
        return 'string';
      case 'integer':
      case 'number':
        return 'number';
      case 'boolean':
        return 'boolean';
      case 'null':
        return 'null';
      case 'any':
        return 'unknown';
      case 'array': {
        const item = schemaType(s.items, indent);
        return /^[\w$.]+$/.test(item) ? `${item}[]` : `Array<${item}>`;
      }
      case 'object':
      case undefined: {
        const parts: string[] = [];
        if (s.properties) parts.push(objectType(s.properties, indent));
        if (s.additionalProperties) {
          parts.push(`{ [key: string]: ${schemaType(s.additionalProperties, indent)} }`);
        }
        if (parts.length === 0)
          return s.type === 'object' ? '{ [key: string]: unknown }' : 'unknown';
        return parts.join(' & ');
      }
      default:
        return 'unknown';
    }
  };

  const objectType = (props: Record<string, JsonSchema>, indent: string): string => {
    const inner = `${indent}  `;
    const lines = Object.keys(props)
      .sort()
      .map((name) => {
        const p = props[name]!;
        const notes = [
          ...(p.readOnly ? ['Output only.'] : []),
          ...(p.format ? [`Format: ${p.format}.`] : []),
          ...(p.deprecated ? ['@deprecated'] : []),
        ];
        return `${doc(p.description, inner, notes)}${inner}${key(name)}?: ${schemaType(p, inner)};\n`;
      });
    return `{\n${lines.join('')}${indent}}`;
  };

  /** The type a parameter accepts, as the client serialises it. */
  const paramType = (p: JsonSchema): string => {
    let t: string;
    if (p.enum && p.enum.length > 0) t = p.enum.map((e) => JSON.stringify(e)).join(' | ');
    else if (p.type === 'integer' || p.type === 'number') t = 'number';
    else if (p.type === 'boolean') t = 'boolean';
    else if (p.format === 'int64' || p.format === 'uint64') t = 'string | number | bigint';
    else if (p.format === 'date-time' || p.format === 'google-datetime') t = 'string | Date';
    else t = 'string';
    if (p.repeated && p.location !== 'path') {
      return t.includes(' ') ? `(${t}) | readonly (${t})[]` : `${t} | readonly ${t}[]`;
    }
    return t;
  };

  const paramsType = (m: RestMethod, indent: string): { type: string; optional: boolean } => {
    const params = m.parameters ?? {};
    const inner = `${indent}  `;
    let optional = true;
    const names = Object.keys(params).sort((a, b) => {
      const order = m.parameterOrder ?? [];
      const ia = order.indexOf(a);
      const ib = order.indexOf(b);
      if (ia >= 0 || ib >= 0) return (ia < 0 ? 1e9 : ia) - (ib < 0 ? 1e9 : ib);
      return a < b ? -1 : a > b ? 1 : 0;
    });
    const lines = names.map((name) => {
      const p = params[name]!;
      const required = (p.required || p.location === 'path') && p.default === undefined;
      if (required) optional = false;
      const notes = [
        ...(p.default !== undefined ? [`Default: ${p.default}.`] : []),
        ...(p.deprecated ? ['@deprecated'] : []),
      ];
      return `${doc(p.description, inner, notes)}${inner}${key(name)}${required ? '' : '?'}: ${paramType(p)};\n`;
    });
    const own = lines.length ? `{\n${lines.join('')}${indent}}` : '{}';
    return { type: own === '{}' ? `${ns}.GlobalParams` : `${own} & ${ns}.GlobalParams`, optional };
  };

  const signature = (m: RestMethod, indent: string): string => {
    const { type, optional } = paramsType(m, indent);
    const body = m.request?.$ref ? ref(m.request.$ref) : 'never';
    const response = m.response?.$ref ? ref(m.response.$ref) : 'void';
    return `(params${optional ? '?' : ''}: ${type}, options?: CallOptions<${body}>): ApiRequest<${response}>`;
  };

  const resourceType = (r: RestResource, indent: string): string => {
    const inner = `${indent}  `;
    const names = [
      ...new Set([...Object.keys(r.methods ?? {}), ...Object.keys(r.resources ?? {})]),
    ].sort();
    const lines = names.map((name) => {
      const m = r.methods?.[name];
      const sub = r.resources?.[name];
      const comment = m
        ? doc(m.description, inner, m.id ? [`Method: ${m.id} (${m.httpMethod} ${m.path})`] : [])
        : '';
      if (m && sub) {
        // A method and a sub-resource with one name: callable, with the sub-resource's members.
        const members = resourceType(sub, inner)
          .slice(1, -1 - inner.length)
          .trimEnd();
        return `${comment}${inner}${key(name)}: {\n${inner}  ${signature(m, `${inner}  `)};${members ? `\n${members}` : ''}\n${inner}};\n`;
      }
      if (m) return `${comment}${inner}${key(name)}${signature(m, inner)};\n`;
      return `${inner}${key(name)}: ${resourceType(sub!, inner)};\n`;
    });
    return `{\n${lines.join('')}${indent}}`;
  };

  const globals = document.parameters ?? {};
  const globalLines = Object.keys(globals)
    .sort()
    .filter((name) => !TOKEN_PARAMS.has(name))
    .map((name) => {
      const p = globals[name]!;
      // `alt=media` goes through request.download().
      const t = name === 'alt' && p.enum ? p.enum.filter((e) => e !== 'media') : undefined;
      const type = t
        ? t.length
          ? t.map((e) => JSON.stringify(e)).join(' | ')
          : 'never'
        : paramType(p);
      return `${doc(p.description, '    ')}    ${key(name)}?: ${type};\n`;
    });

  const schemaDecls = Object.keys(schemas)
    .sort()
    .map((name) => {
      const s = schemas[name]!;
      const t = schemaType({ ...s, $ref: undefined }, '  ');
      const comment = doc(s.description, '  ');
      return t.startsWith('{\n') && !t.includes('} & {')
        ? `${comment}  export interface ${typeName(name)} ${t}\n`
        : `${comment}  export type ${typeName(name)} = ${t};\n`;
    });

  const header = [
    `// Generated by oauthkit tools/gen-discovery-types.ts from ${document.id ?? document.name ?? 'a discovery document'}`,
    `// (revision ${document.revision ?? 'unknown'}). Do not edit; generate again instead.`,
    `import type { ApiRequest, CallOptions } from ${JSON.stringify(from)};`,
    '',
  ].join('\n');
  return (
    `${header}\n` +
    doc(
      `${document.title ?? ns}${document.version ? ` ${document.version}` : ''}: the service \`build<${ns}>()\` returns.`,
      '',
    ) +
    `export interface ${ns} ${resourceType(document, '')}\n\n` +
    `export declare namespace ${ns} {\n` +
    `  /** Parameters every method takes. */\n` +
    `  export interface GlobalParams {\n${globalLines.join('')}  }\n\n` +
    schemaDecls.join('\n') +
    `}\n`
  );
}

function main(argv: string[]): void {
  const args = [...argv];
  let name: string | undefined;
  let importFrom: string | undefined;
  const files: string[] = [];
  while (args.length) {
    const a = args.shift()!;
    if (a === '--name') name = args.shift();
    else if (a === '--import') importFrom = args.shift();
    else if (a === '--help' || a === '-h') {
      console.log('usage: gen-discovery-types <document.json> [--name Name] [--import specifier]');
      return;
    } else files.push(a);
  }
  if (files.length !== 1) {
    console.error('usage: gen-discovery-types <document.json> [--name Name] [--import specifier]');
    process.exitCode = 2;
    return;
  }
  const document = JSON.parse(readFileSync(files[0]!, 'utf8')) as RestDescription;
  if ((document as { kind?: string }).kind !== 'discovery#restDescription') {
    console.error(`${files[0]}: not a discovery REST description`);
    process.exitCode = 1;
    return;
  }
  process.stdout.write(generateTypes(document, { name, importFrom }));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2));
}
