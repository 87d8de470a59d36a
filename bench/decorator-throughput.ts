/**
 * Requests per second of a handler behind `oauthRequired` (stored credentials in the SQLite
 * store, the built-in signed session) as a ratio to (a) the same handler bare and (b) behind a
 * do-nothing middleware, for Hono and for Express, with express + express-session + passport as
 * the peer baseline. Each server runs in a process of its own (bench/decorator-servers.ts), the
 * load (autocannon) in this one; variants alternate, several rounds, medians reported.
 *
 * Goals (issue 3): oauthRequired >= 0.90 of (b) and >= 0.75 of (a).
 *
 * Run: node --import tsx bench/decorator-throughput.ts [seconds per run = 3] [rounds = 3]
 * (needs `cd bench && npm install` for autocannon, express-session, passport, @hono/node-server)
 */
import { spawn, type ChildProcess } from 'node:child_process';
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

async function startServer(
  variant: string,
  port = 0,
): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      new URL('./decorator-servers.ts', import.meta.url).pathname,
      variant,
      provider.issuer,
      dataDir,
      secret,
      String(port),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const actual = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (line) => resolve(Number(line)));
    child.once('exit', (code) => reject(new Error(`${variant} exited with ${code}`)));
  });
  return { port: actual, child };
}
const names = [
  'honoBare',
  'honoNoop',
  'honoOAuth',
  'honoOAuthNoAls',
  'expressBare',
  'expressNoop',
  'expressOAuth',
  'expressOAuthNoAls',
  'expressPassport',
];
const ports: Record<string, number> = {};
const children: ChildProcess[] = [];
for (const name of names) {
  const { port, child } = await startServer(name, name === 'honoOAuth' ? honoPort : 0);
  ports[name] = port;
  children.push(child);
}
const url = (name: string, path = '/') => `http://127.0.0.1:${ports[name]}${path}`;

// Sign in once through the real flow; the session cookie then serves both oauthkit variants.
const browser = new HttpBrowser(provider, 'bench');
const signedIn = await browser.visit(url('honoOAuth'));
if (signedIn.response.status !== 200)
  throw new Error(`sign-in failed: ${signedIn.response.status}`);
const oauthCookie = browser.jar.header(url('honoOAuth'))!;
for (const name of ['honoOAuth', 'honoOAuthNoAls', 'expressOAuth', 'expressOAuthNoAls']) {
  const r = await fetch(url(name), { headers: { cookie: oauthCookie }, redirect: 'manual' });
  if (r.status !== 200) throw new Error(`${name} does not accept the session (${r.status})`);
}
const login = await fetch(url('expressPassport', '/login'));
const passportCookie = login.headers.getSetCookie()[0]!.split(';')[0]!;

// Every variant gets the same request (with a session cookie), so only the server's work differs.
const variants: Array<[string, string, string | undefined]> = [
  ['hono bare', 'honoBare', oauthCookie],
  ['hono + do-nothing middleware', 'honoNoop', oauthCookie],
  ['hono + oauthRequired', 'honoOAuth', oauthCookie],
  ['hono + oauthRequired, asyncContext off', 'honoOAuthNoAls', oauthCookie],
  ['express bare', 'expressBare', oauthCookie],
  ['express + do-nothing middleware', 'expressNoop', oauthCookie],
  ['express + oauthRequired', 'expressOAuth', oauthCookie],
  ['express + oauthRequired, asyncContext off', 'expressOAuthNoAls', oauthCookie],
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
const ratios: Array<[string, string, string, string]> = [
  [
    'hono oauthRequired / do-nothing middleware',
    'hono + oauthRequired',
    'hono + do-nothing middleware',
    '>= 0.90',
  ],
  ['hono oauthRequired / bare', 'hono + oauthRequired', 'hono bare', '>= 0.75'],
  [
    'hono oauthRequired, asyncContext off / do-nothing',
    'hono + oauthRequired, asyncContext off',
    'hono + do-nothing middleware',
    '>= 0.90',
  ],
  [
    'hono oauthRequired, asyncContext off / bare',
    'hono + oauthRequired, asyncContext off',
    'hono bare',
    '>= 0.75',
  ],
  [
    'express oauthRequired / do-nothing middleware',
    'express + oauthRequired',
    'express + do-nothing middleware',
    '>= 0.90',
  ],
  ['express oauthRequired / bare', 'express + oauthRequired', 'express bare', '>= 0.75'],
  [
    'express oauthRequired, asyncContext off / do-nothing',
    'express + oauthRequired, asyncContext off',
    'express + do-nothing middleware',
    '>= 0.90',
  ],
  [
    'express-session + passport / express bare (peer)',
    'express + express-session + passport',
    'express bare',
    '-',
  ],
];
for (const [label, a, b, goal] of ratios) console.log(`| ${label} | ${ratio(a, b)} | ${goal} |`);

for (const c of children) c.kill();
await provider.close();
rmSync(dataDir, { recursive: true, force: true });
