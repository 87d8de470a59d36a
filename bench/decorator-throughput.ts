/**
 * Requests per second of a handler behind `oauthRequired` (stored credentials in the SQLite
 * store, the built-in signed session) as a ratio to (a) the same handler bare and (b) behind a
 * do-nothing middleware, for Hono and for Express, with express + express-session + passport as
 * the peer baseline. The servers run in one child process (bench/decorator-servers.ts), the load
 * (autocannon) in this one; variants alternate, several rounds, medians reported.
 *
 * Goals (issue 3): oauthRequired >= 0.90 of (b) and >= 0.75 of (a).
 *
 * Run: node --import tsx bench/decorator-throughput.ts [seconds per run = 3] [rounds = 3]
 * (needs `cd bench && npm install` for autocannon, express-session, passport, @hono/node-server)
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import { freePort, HttpBrowser } from '../test/support/app.js';
import { startTestProvider } from '../test/support/provider.js';

const seconds = Number(process.argv[2] ?? 3);
const rounds = Number(process.argv[3] ?? 3);
const secret = 'bench-secret-that-is-at-least-32-characters-long';
const dataDir = mkdtempSync(join(tmpdir(), 'oauthkit-bench-'));

const honoPort = await freePort();
const provider = await startTestProvider({
  clients: [
    {
      client_id: 'bench-client',
      client_secret: 'bench-secret',
      redirect_uris: [`http://127.0.0.1:${honoPort}/oauth2callback`],
    },
  ],
});

const child = spawn(
  process.execPath,
  [
    '--import',
    'tsx',
    new URL('./decorator-servers.ts', import.meta.url).pathname,
    provider.issuer,
    dataDir,
    secret,
    String(honoPort),
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
const ports = await new Promise<Record<string, number>>((resolve, reject) => {
  createInterface({ input: child.stdout! }).once('line', (line) => resolve(JSON.parse(line)));
  child.once('exit', (code) => reject(new Error(`servers exited with ${code}`)));
});
const url = (name: string, path = '/') => `http://127.0.0.1:${ports[name]}${path}`;

// Sign in once through the real flow; the session cookie then serves both oauthkit variants.
const browser = new HttpBrowser(provider, 'bench');
const signedIn = await browser.visit(url('honoOAuth'));
if (signedIn.response.status !== 200)
  throw new Error(`sign-in failed: ${signedIn.response.status}`);
const oauthCookie = browser.jar.header(url('honoOAuth'))!;
for (const name of ['honoOAuth', 'expressOAuth']) {
  const r = await fetch(url(name), { headers: { cookie: oauthCookie }, redirect: 'manual' });
  if (r.status !== 200) throw new Error(`${name} does not accept the session (${r.status})`);
}
const login = await fetch(url('expressPassport', '/login'));
const passportCookie = login.headers.getSetCookie()[0]!.split(';')[0]!;

const variants: Array<[string, string, string | undefined]> = [
  ['hono bare', 'honoBare', undefined],
  ['hono + do-nothing middleware', 'honoNoop', undefined],
  ['hono + oauthRequired', 'honoOAuth', oauthCookie],
  ['express bare', 'expressBare', undefined],
  ['express + do-nothing middleware', 'expressNoop', undefined],
  ['express + oauthRequired', 'expressOAuth', oauthCookie],
  ['express + express-session + passport', 'expressPassport', passportCookie],
];

async function load(target: string, cookie: string | undefined): Promise<number> {
  const result = await autocannon({
    url: target,
    connections: 32,
    duration: seconds,
    headers: cookie ? { cookie } : {},
  });
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`${target}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  }
  return result.requests.average;
}

const samples = new Map<string, number[]>(variants.map(([label]) => [label, []]));
for (const [, name, cookie] of variants) await load(url(name), cookie).catch(() => 0); // warm-up
for (let round = 0; round < rounds; round++) {
  const order = round % 2 === 0 ? variants : [...variants].reverse();
  for (const [label, name, cookie] of order)
    samples.get(label)!.push(await load(url(name), cookie));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const m = (label: string) => median(samples.get(label)!);
const rows: string[][] = variants.map(([label]) => [
  label,
  m(label).toFixed(0),
  samples
    .get(label)!
    .map((x) => x.toFixed(0))
    .join(' '),
]);
console.log(`| variant | median req/s | runs (req/s) |\n|---|---|---|`);
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
console.log('');
console.log(`| ratio | value | goal |\n|---|---|---|`);
const ratio = (a: string, b: string) => (m(a) / m(b)).toFixed(2);
console.log(
  `| hono oauthRequired / do-nothing middleware | ${ratio('hono + oauthRequired', 'hono + do-nothing middleware')} | >= 0.90 |`,
);
console.log(
  `| hono oauthRequired / bare | ${ratio('hono + oauthRequired', 'hono bare')} | >= 0.75 |`,
);
console.log(
  `| express oauthRequired / do-nothing middleware | ${ratio('express + oauthRequired', 'express + do-nothing middleware')} | >= 0.90 |`,
);
console.log(
  `| express oauthRequired / bare | ${ratio('express + oauthRequired', 'express bare')} | >= 0.75 |`,
);
console.log(
  `| express-session + passport / express bare (peer) | ${ratio('express + express-session + passport', 'express bare')} | - |`,
);

child.kill();
await provider.close();
rmSync(dataDir, { recursive: true, force: true });
