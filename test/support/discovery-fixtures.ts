import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { RestDescription, RestMethod, RestResource } from '../../src/discovery/index.js';

/** The shared fixtures folder (real Google discovery documents), outside the repository. */
export const FIXTURES_URL = new URL('../../../shared/fixtures/discovery/', import.meta.url);
export const FIXTURES_DIR = fileURLToPath(FIXTURES_URL);

/** `false`, or the reason tests that need the fixtures are skipped. */
export const fixturesMissing: string | false = existsSync(FIXTURES_DIR)
  ? false
  : `discovery fixtures not found at ${FIXTURES_DIR}; skipping tests that need real documents`;

if (fixturesMissing) console.log(fixturesMissing);

/** File names of every fixture document (`tasks.v1.json`, ...), directory list included. */
export function fixtureFiles(): string[] {
  if (fixturesMissing) return [];
  return readdirSync(FIXTURES_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort();
}

const cache = new Map<string, RestDescription>();

/** A fixture document, parsed (cached per file; do not mutate). */
export function loadFixture(file: string): RestDescription {
  let doc = cache.get(file);
  if (!doc) {
    doc = JSON.parse(readFileSync(new URL(file, FIXTURES_URL), 'utf8')) as RestDescription;
    cache.set(file, doc);
  }
  return doc;
}

/** The demo's own, hand-written Tasks discovery document. */
export const DEMO_TASKS_DOC_URL = new URL('../../examples/tasks-discovery.json', import.meta.url);

export function loadDemoTasksDoc(): RestDescription {
  return JSON.parse(readFileSync(DEMO_TASKS_DOC_URL, 'utf8')) as RestDescription;
}

/** Every method of a document with its place in the tree (`['projects', 'topics', 'get']`). */
export function allMethods(doc: RestResource): { path: string[]; method: RestMethod }[] {
  const out: { path: string[]; method: RestMethod }[] = [];
  const walk = (node: RestResource, prefix: string[]) => {
    for (const [name, method] of Object.entries(node.methods ?? {})) {
      out.push({ path: [...prefix, name], method });
    }
    for (const [name, sub] of Object.entries(node.resources ?? {})) walk(sub, [...prefix, name]);
  };
  walk(doc, []);
  return out;
}

/** Follows a path of property names from a service to a method. */
export function reach(service: unknown, path: readonly string[]): any {
  let node: any = service;
  for (const name of path) node = node[name];
  return node;
}
