// tools/gen-discovery-types.ts: the generated declarations type-check for every fixture
// document, typed usage of build<Tasks>() compiles, and wrong usage fails to compile.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { generateTypes } from '../tools/gen-discovery-types.js';
import {
  DEMO_TASKS_DOC_URL,
  fixtureFiles,
  fixturesMissing,
  FIXTURES_DIR,
  loadDemoTasksDoc,
  loadFixture,
} from './support/discovery-fixtures.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsc = join(root, 'node_modules', '.bin', 'tsc');

function runTsc(project: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const cwd = dirname(project);
    execFile(tsc, ['-p', project], { cwd, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, output: stdout + stderr });
    });
  });
}

function writeProject(dir: string, name: string, files: string[]): string {
  const path = join(dir, name);
  writeFileSync(
    path,
    JSON.stringify({
      compilerOptions: {
        target: 'es2022',
        module: 'nodenext',
        moduleResolution: 'nodenext',
        lib: ['es2023', 'dom', 'dom.iterable'],
        types: [],
        strict: true,
        noEmit: true,
        skipLibCheck: false,
        paths: { 'oauthkit/discovery': [join(root, 'src/discovery/index.ts')] },
      },
      files,
    }),
  );
  return path;
}

const GOOD = `import { build, buildFromDocument, createBatch } from 'oauthkit/discovery';
import type { Tasks } from './tasks.js';

const service = await build<Tasks>('tasks', 'v1');
const request = service.tasks.list({ tasklist: '@default', maxResults: 10, showCompleted: true });
const page: Tasks.Tasks = await request.execute();
const first: string | undefined = page.items?.[0]?.title;
for await (const task of service.tasks.list({ tasklist: '@default' }).items()) {
  const title: string | undefined = task.title;
  void title;
}
const created: Tasks.Task = await service.tasks
  .insert({ tasklist: '@default' }, { body: { title: 'Write the README', due: '2025-01-01T00:00:00Z' } })
  .execute();
const gone: void = await service.tasks.delete({ tasklist: '@default', task: 't1' }).execute();
service.tasklists.list();
service.tasklists.list({ fields: 'items(id)', quotaUser: 'u1' });
const batch = createBatch(service);
const later: Promise<Tasks.Task> = batch.add(service.tasks.get({ tasklist: 'a', task: 'b' }));
const typedDoc = buildFromDocument<Tasks>({ rootUrl: 'https://x/', servicePath: '' });
void [first, created, gone, later, typedDoc];

// @ts-expect-error: tasklist is required
service.tasks.list({});
// @ts-expect-error: unknown parameter
service.tasks.list({ tasklist: 'a', nope: 1 });
// @ts-expect-error: maxResults is a number
service.tasks.list({ tasklist: 'a', maxResults: 'ten' });
// @ts-expect-error: delete takes no body
service.tasks.delete({ tasklist: 'a', task: 'b' }, { body: { title: 'x' } });
// @ts-expect-error: tokens never go in the query
service.tasklists.list({ access_token: 'ya29' });
// @ts-expect-error: no such method
service.tasks.frobnicate();
`;

const BAD = `import { build } from 'oauthkit/discovery';
import type { Tasks } from './tasks.js';

const service = await build<Tasks>('tasks', 'v1');
service.tasks.get({ tasklist: '@default' });
const wrong: number = (await service.tasks.get({ tasklist: 'a', task: 'b' }).execute()).title;
void wrong;
`;

describe('generated discovery types', { timeout: 120_000 }, () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'oauthkit-types-'));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('generates the service interface, parameters, bodies, responses and schemas', () => {
    const dts = generateTypes(loadDemoTasksDoc(), { name: 'Tasks' });
    assert.match(dts, /^import type \{ ApiRequest, CallOptions \} from "oauthkit\/discovery";$/m);
    assert.match(dts, /export interface Tasks \{/);
    assert.match(
      dts,
      /insert\(params: \{[^]*?tasklist: string;[^]*?\} & Tasks\.GlobalParams, options\?: CallOptions<Tasks\.Task>\): ApiRequest<Tasks\.Task>;/,
    );
    assert.match(dts, /delete\(params: [^]*?CallOptions<never>\): ApiRequest<void>;/);
    assert.match(dts, /status\?: "needsAction" \| "completed";/);
    assert.doesNotMatch(dts, /access_token|oauth_token/);
  });

  it('type-checks typed usage of build<Tasks>(), and rejects wrong usage', async () => {
    // The documented command: node --import tsx tools/gen-discovery-types.ts <doc> > out.d.ts
    const source = fixturesMissing
      ? fileURLToPath(DEMO_TASKS_DOC_URL)
      : join(FIXTURES_DIR, 'tasks.v1.json');
    const dts = await new Promise<string>((resolve, reject) =>
      execFile(
        process.execPath,
        ['--import', 'tsx', join(root, 'tools/gen-discovery-types.ts'), source, '--name', 'Tasks'],
        { cwd: root, timeout: 60_000 },
        (err, stdout, stderr) => (err ? reject(new Error(stderr || String(err))) : resolve(stdout)),
      ),
    );
    assert.match(dts, /^\/\/ Generated by oauthkit tools\/gen-discovery-types\.ts from tasks:v1/);
    writeFileSync(join(dir, 'tasks.d.ts'), dts);
    writeFileSync(join(dir, 'good.ts'), GOOD);
    writeFileSync(join(dir, 'bad.ts'), BAD);

    const good = await runTsc(writeProject(dir, 'tsconfig.good.json', ['tasks.d.ts', 'good.ts']));
    assert.equal(good.code, 0, `good usage should compile:\n${good.output}`);

    const bad = await runTsc(writeProject(dir, 'tsconfig.bad.json', ['tasks.d.ts', 'bad.ts']));
    assert.notEqual(bad.code, 0, 'wrong usage must not compile');
    const errors = bad.output.split('\n').filter((l) => /error TS\d+/.test(l));
    assert.equal(errors.length, 2, bad.output);
    assert.match(errors[0]!, /^bad\.ts\(5,/);
    assert.match(errors[0]!, /task/);
    assert.match(errors[1]!, /^bad\.ts\(6,/);
  });

  it(
    'generates declarations that type-check for every fixture document',
    fixturesMissing ? { skip: fixturesMissing } : {},
    async () => {
      const files = fixtureFiles().filter((f) => f !== 'directory.v1.json');
      const names: string[] = [];
      for (const file of files) {
        const name = `Api_${file.replace(/\.json$/, '').replace(/\W/g, '_')}`;
        const out = `${name}.d.ts`;
        writeFileSync(join(dir, out), generateTypes(loadFixture(file), { name }));
        names.push(out);
      }
      // Each generated interface is usable as build()'s type argument.
      writeFileSync(
        join(dir, 'all.ts'),
        `import { buildFromDocument } from 'oauthkit/discovery';\n` +
          names
            .map(
              (n, i) => `import type { ${n.slice(0, -5)} as T${i} } from './${n.slice(0, -5)}.js';`,
            )
            .join('\n') +
          '\n' +
          names
            .map(
              (_, i) =>
                `export const s${i} = buildFromDocument<T${i}>({ rootUrl: 'https://x/', servicePath: '' });`,
            )
            .join('\n') +
          '\n',
      );
      const all = await runTsc(writeProject(dir, 'tsconfig.all.json', [...names, 'all.ts']));
      assert.equal(all.code, 0, all.output.slice(0, 5000));
      assert.equal(names.length, files.length);
    },
  );
});
