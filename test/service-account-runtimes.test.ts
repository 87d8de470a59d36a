import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { base64url, decodeJwt, exportSPKI, importSPKI, jwtVerify } from 'jose';
import { startMetadataServer, type TestMetadataServer } from './support/metadata-server.js';
import {
  createTestServiceAccount,
  startApi,
  startTokenEndpoint,
  type TestApiServer,
  type TestServiceAccount,
  type TestTokenEndpoint,
} from './support/sa-token-endpoint.js';
import { runScenario, type ScenarioConfig } from './runtimes/service-account-scenario.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const bin = (name: string) => join(root, 'node_modules', '.bin', name);
const scenarioDir = join(root, 'test', 'runtimes');
const RUN_LIMIT_MS = 30_000;

/** Runs a command with a time limit; resolves with its output whatever the exit status. */
function runBounded(
  cmd: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: root, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_LIMIT_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function lastJsonLine(stdout: string): Record<string, unknown> {
  const line = stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(line) as Record<string, unknown>;
}

describe('service accounts on every runtime (Node, Bun, Deno, workerd)', () => {
  let te: TestTokenEndpoint;
  let md: TestMetadataServer;
  let api: TestApiServer;
  let sa: TestServiceAccount;
  let config: ScenarioConfig;
  const scopes = ['https://www.googleapis.com/auth/tasks'];

  before(async () => {
    te = await startTokenEndpoint();
    md = await startMetadataServer();
    sa = await createTestServiceAccount(undefined);
    const impostor = await createTestServiceAccount(undefined, sa.email);
    // The key files name the local endpoint; the scenario lists it in allowedTokenUris.
    sa.keyFile.token_uri = te.url;
    impostor.keyFile.token_uri = te.url;
    impostor.keyFile.private_key_id = sa.kid;
    te.register(sa, { subjects: ['alice@example.com'] });
    api = await startApi(
      (t) => (te.issued.get(t) ?? 0) > Date.now() || (md.issued.get(t) ?? 0) > Date.now(),
    );
    config = {
      tokenUri: te.url,
      apiOrigin: api.origin,
      metadataHost: md.host,
      keyFile: sa.keyFile,
      impostorKeyFile: impostor.keyFile,
      scopes,
    };
  });
  after(async () => {
    await te.close();
    await md.close();
    await api.close();
  });

  /** What every runtime must have produced, checked against the servers' own records. */
  async function check(
    out: Record<string, unknown>,
    before: { te: number; md: number; refusals: number },
  ): Promise<void> {
    assert.equal(out['crashed'], undefined, String(out['crashed']));
    // This run itself reached the local servers: two grants, one refusal, and two metadata mints
    // (the good one, and the one answered without Metadata-Flavor, which was not used).
    assert.equal(te.mints - before.te, 2, 'token endpoint mints in this run');
    assert.equal(te.refusals.length - before.refusals, 1, 'the impostor key was refused');
    assert.match(te.refusals.at(-1)!, /signature/i);
    assert.equal(md.mints - before.md, 2, 'metadata mints in this run');
    // JWT bearer grant: a token the endpoint minted for a verified assertion, cached, accepted.
    assert.ok(te.issued.has(out['jwtBearerToken'] as string), 'jwt bearer token was minted here');
    assert.equal(out['jwtBearerCached'], true);
    assert.equal(out['jwtBearerApiStatus'], 200);
    assert.ok(te.issued.has(out['delegatedToken'] as string));
    const delegated = te.assertions.filter((a) => a.claims.sub === 'alice@example.com');
    assert.ok(delegated.length > 0, 'the delegated assertion carried sub');
    // Self-signed JWT verifies with the public key.
    const { payload } = await jwtVerify(out['selfSignedToken'] as string, sa.publicKey, {
      issuer: sa.email,
      subject: sa.email,
    });
    assert.equal(payload['scope'], scopes.join(' '));
    // signBlob verifies with the public key.
    const publicKey = await importSPKI(await exportSPKI(sa.publicKey), 'RS256');
    const sig = new Uint8Array(base64url.decode(out['signature'] as string));
    const ok = await crypto.subtle.verify(
      'RSASSA-PKCS1-v1_5',
      publicKey,
      sig,
      new TextEncoder().encode('hello'),
    );
    assert.equal(ok, true, 'signBlob signature verifies');
    assert.ok(!(out['json'] as string).includes('PRIVATE KEY'));
    // Typed errors.
    assert.deepEqual(
      [
        (out['badKey'] as Record<string, unknown>)['name'],
        (out['badKey'] as Record<string, unknown>)['code'],
      ],
      ['GrantRevokedError', 'grant_revoked'],
    );
    assert.ok(!String((out['badKey'] as Record<string, unknown>)['message']).includes('PRIVATE'));
    assert.equal(
      (out['hostileTokenUri'] as Record<string, unknown>)['code'],
      'configuration_invalid',
    );
    // Metadata server.
    assert.ok(md.issued.has(out['metadataToken'] as string));
    assert.equal(out['metadataEmail'], md.email);
    assert.equal(decodeJwt(out['metadataIdToken'] as string).aud, 'https://other.example');
    assert.equal(out['metadataApiStatus'], 200);
    const noFlavor = out['noFlavor'] as Record<string, unknown>;
    assert.equal(noFlavor['code'], 'token_request_failed');
    assert.match(String(noFlavor['message']), /without "Metadata-Flavor: Google"/);
    const redirect = out['redirect'] as Record<string, unknown>;
    assert.equal(redirect['status'], 302);
    assert.match(String(redirect['message']), /redirects are not followed/);
    const hang = out['hang'] as Record<string, unknown>;
    assert.equal(hang['code'], 'transient');
    assert.match(String(hang['message']), /did not answer within 200 ms/);
    assert.equal(md.redirectTargetHits, 0);
  }

  const counts = () => ({ te: te.mints, md: md.mints, refusals: te.refusals.length });

  it('Node', async () => {
    const before = counts();
    await check(await runScenario(config), before);
  });

  it('Bun', async (t) => {
    if (!existsSync(bin('bun'))) return t.skip('bun is not installed in node_modules/.bin');
    const before = counts();
    const r = await runBounded(bin('bun'), ['run', join(scenarioDir, 'service-account-cli.ts')], {
      SA_SCENARIO: JSON.stringify(config),
    });
    assert.equal(r.code, 0, r.stderr);
    await check(lastJsonLine(r.stdout), before);
  });

  it('Deno', async (t) => {
    if (!existsSync(bin('deno'))) return t.skip('deno is not installed in node_modules/.bin');
    const before = counts();
    const r = await runBounded(
      bin('deno'),
      [
        'run',
        '--sloppy-imports', // the sources import './x.js' for ./x.ts, as tsc's nodenext wants
        '--no-lock',
        '--allow-net=127.0.0.1',
        '--allow-env=SA_SCENARIO',
        `--allow-read=${root}`,
        join(scenarioDir, 'service-account-cli.ts'),
      ],
      { SA_SCENARIO: JSON.stringify(config), NO_COLOR: '1' },
    );
    assert.equal(r.code, 0, r.stderr);
    await check(lastJsonLine(r.stdout), before);
  });

  it('workerd (Cloudflare Workers runtime)', async (t) => {
    if (!existsSync(bin('workerd'))) return t.skip('workerd is not installed in node_modules/.bin');
    const dir = await mkdtemp(join(tmpdir(), 'oauthkit-workerd-'));
    try {
      await build({
        entryPoints: [join(scenarioDir, 'service-account-worker.ts')],
        bundle: true,
        format: 'esm',
        platform: 'neutral',
        target: 'es2022',
        conditions: ['workerd', 'worker', 'browser'],
        mainFields: ['module', 'main'],
        outfile: join(dir, 'worker.js'),
        logLevel: 'silent',
      });
      await writeFile(join(dir, 'config.json'), JSON.stringify(config));
      const port = await freePort();
      await writeFile(
        join(dir, 'config.capnp'),
        `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    # Loopback only: the scenario reaches the test's servers and nothing else.
    (name = "loopback", network = (allow = ["local"])),
  ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);
const worker :Workerd.Worker = (
  modules = [ (name = "worker.js", esModule = embed "worker.js") ],
  bindings = [ (name = "SA_SCENARIO", text = embed "config.json") ],
  compatibilityDate = "2025-01-01",
  globalOutbound = "loopback",
);
`,
      );
      const before = counts();
      const child = spawn(bin('workerd'), ['serve', join(dir, 'config.capnp')], { cwd: dir });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      const killer = setTimeout(() => child.kill('SIGKILL'), RUN_LIMIT_MS);
      try {
        let out: Record<string, unknown> | undefined;
        for (let i = 0; i < 100 && out === undefined; i++) {
          try {
            const res = await fetch(`http://127.0.0.1:${port}/`, {
              signal: AbortSignal.timeout(20_000),
            });
            out = (await res.json()) as Record<string, unknown>;
          } catch {
            if (child.exitCode !== null) break;
            await new Promise((r) => setTimeout(r, 100));
          }
        }
        assert.ok(out, `workerd did not answer: ${stderr}`);
        await check(out, before);
      } finally {
        clearTimeout(killer);
        child.kill('SIGTERM');
        await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('close', r)));
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
