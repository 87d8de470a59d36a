/**
 * Cold start of the discovery client beside googleapis, @googleapis/tasks and a bare fetch.
 *
 *   npm run build                     # the bench measures the built dist/, as users run it
 *   (cd bench && npm install)         # googleapis, @googleapis/tasks (bench only)
 *   node --import tsx bench/discovery-cold-start.ts [--rounds 11]
 *
 * Goal (issue 6): oauthkit's cold start within 30 ms and 10 MB of the floor.
 *
 * What is measured, and why it is fair:
 * - Every sample is a fresh `node` process that makes the same one call
 *   (`GET tasks/v1/lists/@default/tasks`) to the same local server and reads the JSON answer:
 *   - `empty`: `node -e ""`, for reference only;
 *   - `floor`: the runtime's global `fetch`, nothing else;
 *   - `oauthkit`: imports `dist/discovery/index.js`, reads and parses the local discovery
 *     document (examples/tasks-discovery.json), `buildFromDocument`, `tasks.list().execute()`;
 *   - `googleapis`: `google.tasks({ version: 'v1', rootUrl })` (its generated client; what
 *     apps use) and `tasks.list()`;
 *   - `@googleapis/tasks`: the same from the single-API package.
 * - Wall time is measured by this process from spawn to exit. Peak memory is the child's own
 *   `process.resourceUsage().maxRSS` read just before it exits (the same figure
 *   `/usr/bin/time -v` reports as "Maximum resident set size" for a single process).
 * - Variants alternate within each round and the order rotates every round; round 0 is a
 *   warm-up (disk cache) and is not counted. The table gives medians.
 * - The local server runs in this process, so the machine's two cores are shared; compare
 *   deltas and ratios within one run, not absolute figures across machines.
 *
 * Then `compute v1` (the 4 MB fixture, when ../shared/fixtures/discovery is present): import,
 * read + JSON.parse, buildFromDocument, and the first call, each timed inside fresh processes.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = new URL('../dist/discovery/index.js', import.meta.url);
const demoDoc = fileURLToPath(new URL('../examples/tasks-discovery.json', import.meta.url));
const computeDoc = fileURLToPath(
  new URL('../../shared/fixtures/discovery/compute.v1.json', import.meta.url),
);
const benchRequire = createRequire(new URL('./package.json', import.meta.url));

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const ROUNDS = arg('--rounds', 11);

function resolveBench(specifier: string): string | undefined {
  try {
    return pathToFileURL(benchRequire.resolve(specifier)).href;
  } catch {
    return undefined;
  }
}

// What every child does last: print the peak RSS (kB) so the parent can read it.
const REPORT = `process.stdout.write('\\nMAXRSS ' + process.resourceUsage().maxRSS + '\\n');`;

interface Variant {
  name: string;
  code: (origin: string) => string;
}

const variants: Variant[] = [
  { name: 'empty', code: () => REPORT },
  {
    name: 'floor',
    code: (o) => `
      const res = await fetch(${JSON.stringify(`${o}/tasks/v1/lists/%40default/tasks`)});
      const body = await res.json();
      if (!body.items) throw new Error('bad answer');
      ${REPORT}`,
  },
  {
    name: 'oauthkit',
    code: (o) => `
      const { readFileSync } = await import('node:fs');
      const { buildFromDocument } = await import(${JSON.stringify(dist.href)});
      const doc = JSON.parse(readFileSync(${JSON.stringify(demoDoc)}, 'utf8'));
      const service = buildFromDocument(doc, { rootUrl: ${JSON.stringify(`${o}/`)} });
      const body = await service.tasks.list({ tasklist: '@default' }).execute();
      if (!body.items) throw new Error('bad answer');
      ${REPORT}`,
  },
];
const googleapis = resolveBench('googleapis');
const googleTasks = resolveBench('@googleapis/tasks');
if (googleapis) {
  variants.push({
    name: 'googleapis',
    code: (o) => `
      const { google } = await import(${JSON.stringify(googleapis)});
      const service = google.tasks({ version: 'v1', rootUrl: ${JSON.stringify(`${o}/`)} });
      const res = await service.tasks.list({ tasklist: '@default' });
      if (!res.data.items) throw new Error('bad answer');
      ${REPORT}`,
  });
}
if (googleTasks) {
  variants.push({
    name: '@googleapis/tasks',
    code: (o) => `
      const { tasks } = await import(${JSON.stringify(googleTasks)});
      const service = tasks({ version: 'v1', rootUrl: ${JSON.stringify(`${o}/`)} });
      const res = await service.tasks.list({ tasklist: '@default' });
      if (!res.data.items) throw new Error('bad answer');
      ${REPORT}`,
  });
}

function runChild(code: string): Promise<{ ms: number; rssKb: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (status) => {
      const ms = performance.now() - start;
      const rss = /MAXRSS (\d+)/.exec(stdout);
      if (status !== 0 || !rss)
        reject(new Error(`child failed (${status}): ${stderr.slice(-800)}`));
      else resolve({ ms, rssKb: Number(rss[1]), stdout });
    });
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function main(): Promise<void> {
  if (!existsSync(dist)) {
    console.error('dist/discovery/index.js is missing: run `npm run build` first.');
    process.exitCode = 1;
    return;
  }
  if (!googleapis || !googleTasks) {
    console.log(
      '(googleapis or @googleapis/tasks not installed in bench/: run `cd bench && npm install`)',
    );
  }
  const tasksBody = JSON.stringify({
    kind: 'tasks#tasks',
    items: [{ kind: 'tasks#task', id: 't1', title: 'Write the README', status: 'needsAction' }],
  });
  const server = createServer((req, res) => {
    const body = req.url?.includes('/instances')
      ? '{"kind":"compute#instanceList","items":[]}'
      : tasksBody;
    res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8' });
    res.end(body);
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  console.log(
    `node ${process.version}; ${ROUNDS - 1} counted rounds (+1 warm-up); variants alternate, order rotates`,
  );
  const samples = new Map<string, { ms: number[]; rss: number[] }>(
    variants.map((v) => [v.name, { ms: [], rss: [] }]),
  );
  for (let round = 0; round < ROUNDS; round++) {
    const order = variants.map((_, i) => variants[(i + round) % variants.length]!);
    for (const v of order) {
      const { ms, rssKb } = await runChild(v.code(origin));
      if (round === 0) continue;
      samples.get(v.name)!.ms.push(ms);
      samples.get(v.name)!.rss.push(rssKb / 1024);
    }
  }

  const floor = samples.get('floor')!;
  const floorMs = median(floor.ms);
  const floorRss = median(floor.rss);
  const rows = variants.map((v) => {
    const s = samples.get(v.name)!;
    const ms = median(s.ms);
    const rss = median(s.rss);
    return {
      variant: v.name,
      'wall ms (median)': ms.toFixed(0),
      'peak RSS MB (median)': rss.toFixed(1),
      'Δ ms vs floor': (ms - floorMs).toFixed(0),
      'Δ MB vs floor': (rss - floorRss).toFixed(1),
      '× floor time': (ms / floorMs).toFixed(2),
      '× floor RSS': (rss / floorRss).toFixed(2),
    };
  });
  console.table(rows);
  const ours = samples.get('oauthkit')!;
  const dMs = median(ours.ms) - floorMs;
  const dMb = median(ours.rss) - floorRss;
  console.log(
    `goal (within 30 ms and 10 MB of the floor): ${dMs <= 30 && dMb <= 10 ? 'met' : 'NOT met'} (+${dMs.toFixed(0)} ms, +${dMb.toFixed(1)} MB)`,
  );

  if (!existsSync(computeDoc)) {
    console.log(`compute v1: skipped (${computeDoc} not found)`);
  } else {
    const code = `
      const t0 = performance.now();
      const { readFileSync } = await import('node:fs');
      const { buildFromDocument } = await import(${JSON.stringify(dist.href)});
      const t1 = performance.now();
      const doc = JSON.parse(readFileSync(${JSON.stringify(computeDoc)}, 'utf8'));
      const t2 = performance.now();
      const service = buildFromDocument(doc, { rootUrl: ${JSON.stringify(`${origin}/`)} });
      const t3 = performance.now();
      const body = await service.instances.list({ project: 'p', zone: 'europe-west1-b' }).execute();
      const t4 = performance.now();
      if (body.kind !== 'compute#instanceList') throw new Error('bad answer');
      process.stdout.write('TIMES ' + JSON.stringify([t1 - t0, t2 - t1, t3 - t2, t4 - t3]) + '\\n');
      ${REPORT}`;
    const times: number[][] = [[], [], [], []];
    const total: number[] = [];
    const rss: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const out = await runChild(code);
      if (round === 0) continue;
      const t = JSON.parse(/TIMES (.+)/.exec(out.stdout)![1]!) as number[];
      t.forEach((x, i) => times[i]!.push(x));
      total.push(out.ms);
      rss.push(out.rssKb / 1024);
    }
    console.log('compute v1 (4.15 MB document, 710 methods), medians inside fresh processes:');
    console.table({
      'import dist/discovery': `${median(times[0]!).toFixed(1)} ms`,
      'read + JSON.parse document': `${median(times[1]!).toFixed(1)} ms`,
      buildFromDocument: `${median(times[2]!).toFixed(2)} ms`,
      'first call (instances.list)': `${median(times[3]!).toFixed(1)} ms`,
      'whole process (wall)': `${median(total).toFixed(0)} ms`,
      'peak RSS': `${median(rss).toFixed(1)} MB`,
    });
    if (googleapis) {
      const g = `
        const t0 = performance.now();
        const { google } = await import(${JSON.stringify(googleapis)});
        const service = google.compute({ version: 'v1', rootUrl: ${JSON.stringify(`${origin}/`)} });
        const t1 = performance.now();
        const res = await service.instances.list({ project: 'p', zone: 'europe-west1-b' });
        const t2 = performance.now();
        if (res.data.kind !== 'compute#instanceList') throw new Error('bad answer');
        process.stdout.write('TIMES ' + JSON.stringify([t1 - t0, t2 - t1]) + '\\n');
        ${REPORT}`;
      const gt: number[][] = [[], []];
      const gTotal: number[] = [];
      const gRss: number[] = [];
      for (let round = 0; round < Math.min(ROUNDS, 6); round++) {
        const out = await runChild(g);
        if (round === 0) continue;
        const t = JSON.parse(/TIMES (.+)/.exec(out.stdout)![1]!) as number[];
        t.forEach((x, i) => gt[i]!.push(x));
        gTotal.push(out.ms);
        gRss.push(out.rssKb / 1024);
      }
      console.log('for comparison, googleapis google.compute("v1") (generated client):');
      console.table({
        'import + google.compute()': `${median(gt[0]!).toFixed(1)} ms`,
        'first call (instances.list)': `${median(gt[1]!).toFixed(1)} ms`,
        'whole process (wall)': `${median(gTotal).toFixed(0)} ms`,
        'peak RSS': `${median(gRss).toFixed(1)} MB`,
      });
    }
  }
  await new Promise<void>((r) => {
    server.closeAllConnections();
    server.close(() => r());
  });
}

await main();
