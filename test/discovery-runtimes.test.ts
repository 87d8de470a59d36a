// The discovery core runs on Node, Bun, Deno and workerd: each runtime runs the same script
// (test/support/discovery-runtime-check.ts: build tasks v1 from a discovery URL, execute, page,
// batch, error, validation, a multipart body) against a local Tasks API. Each check is bounded
// in time, and skipped with a printed reason when the runtime's binary is missing.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { runChecks, type RuntimeReport } from './support/discovery-runtime-check.js';
import { startTasksApi } from './support/discovery-tasks-api.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = (name: string) => join(root, 'node_modules', '.bin', name);
const support = (name: string) => join(root, 'test', 'support', name);
const TIME_LIMIT_MS = 30_000;

const expected: RuntimeReport = {
  titles: ['seeded 1', 'seeded 2'],
  created: 'made in this runtime',
  pagedTitles: ['seeded 1', 'seeded 2', 'made in this runtime'],
  batch: ['fulfilled', 'rejected'],
  errorStatus: 404,
  errorIsHttpError: true,
  errorReasons: ['notFound'],
  validation: 'TypeError',
  uploadType: 'multipart:true',
};

/** Runs a command with a time limit; never throws, reports what happened. */
function run(
  command: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string; timedOut: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: root,
      env: { ...process.env, NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, TIME_LIMIT_MS);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: -1, stdout, stderr: stderr + String(err), timedOut });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut });
    });
  });
}

function reportFrom(stdout: string, stderr: string): RuntimeReport {
  const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
  assert.ok(line, `no RESULT line; stdout: ${stdout.slice(-2000)} stderr: ${stderr.slice(-2000)}`);
  return JSON.parse(line.slice('RESULT '.length)) as RuntimeReport;
}

describe('the discovery core on four runtimes', () => {
  it('runs on Node', async () => {
    const api = await startTasksApi({ seed: 2 });
    try {
      assert.deepEqual(await runChecks(api.origin), expected);
    } finally {
      await api.close();
    }
  });

  it('runs on Bun (importing the TypeScript sources directly)', async (t) => {
    if (!existsSync(bin('bun'))) return t.skip(`bun not found at ${bin('bun')}`);
    const api = await startTasksApi({ seed: 2 });
    try {
      const out = await run(bin('bun'), [support('discovery-runtime-entry.ts'), api.origin]);
      assert.equal(out.timedOut, false, 'bun finished in time');
      assert.equal(out.code, 0, out.stderr);
      assert.deepEqual(reportFrom(out.stdout, out.stderr), expected);
    } finally {
      await api.close();
    }
  });

  it('runs on Deno (importing the TypeScript sources directly)', async (t) => {
    if (!existsSync(bin('deno'))) return t.skip(`deno not found at ${bin('deno')}`);
    const api = await startTasksApi({ seed: 2 });
    try {
      const host = new URL(api.origin).host;
      const out = await run(
        bin('deno'),
        [
          'run',
          '--sloppy-imports',
          '--no-config',
          '--no-lock',
          '--no-prompt',
          `--allow-net=${host}`,
          `--allow-read=${root}`,
          support('discovery-runtime-entry.ts'),
          api.origin,
        ],
        { DENO_NO_UPDATE_CHECK: '1' },
      );
      assert.equal(out.timedOut, false, 'deno finished in time');
      assert.equal(out.code, 0, out.stderr);
      assert.deepEqual(reportFrom(out.stdout, out.stderr), expected);
    } finally {
      await api.close();
    }
  });

  it('runs on workerd (bundled with esbuild, run by `workerd test`)', async (t) => {
    if (!existsSync(bin('workerd'))) return t.skip(`workerd not found at ${bin('workerd')}`);
    let esbuild: typeof import('esbuild');
    try {
      esbuild = await import('esbuild');
    } catch {
      return t.skip('esbuild is not installed; cannot bundle the worker');
    }
    const dir = mkdtempSync(join(tmpdir(), 'oauthkit-workerd-'));
    const api = await startTasksApi({ seed: 2 });
    try {
      await esbuild.build({
        entryPoints: [support('discovery-runtime-worker.ts')],
        bundle: true,
        format: 'esm',
        platform: 'neutral',
        target: 'es2022',
        outfile: join(dir, 'worker.mjs'),
        logLevel: 'silent',
      });
      writeFileSync(
        join(dir, 'config.capnp'),
        `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    (name = "internet", network = (allow = ["local"])),
  ],
);
const worker :Workerd.Worker = (
  modules = [(name = "worker", esModule = embed "worker.mjs")],
  compatibilityDate = "2025-01-01",
  bindings = [(name = "ORIGIN", text = ${JSON.stringify(api.origin)})],
);
`,
      );
      const out = await run(bin('workerd'), ['test', join(dir, 'config.capnp')]);
      assert.equal(out.timedOut, false, 'workerd finished in time');
      assert.equal(out.code, 0, `${out.stdout}\n${out.stderr}`);
      const posted = api.server.requests.find((r) => r.method === 'POST' && r.path === '/report');
      assert.ok(posted, `the worker reported nothing; ${out.stdout}\n${out.stderr}`);
      assert.deepEqual(JSON.parse(posted.body.toString()), expected);
    } finally {
      await api.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
