import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Browser } from 'playwright-core';
import { freePort, listen } from './support/app.js';
import { answerConsent, launchChromium, pageJson, signIn } from './support/browser.js';
import { startTestProvider, type TestProvider } from './support/provider.js';

const redisFlowStore = existsSync(new URL('../src/decorator/flow-store-redis.ts', import.meta.url));

/** Two app instances (separate processes) behind a round-robin proxy. */
async function startCluster(provider: TestProvider, origin: string, flows: string, dir: string) {
  const ports = [await freePort(), await freePort()];
  const children: ChildProcess[] = [];
  for (const [i, port] of ports.entries()) {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        new URL('./support/instance.ts', import.meta.url).pathname,
        `instance-${i}`,
        String(port),
        origin,
        provider.issuer,
        join(dir, 'credentials.sqlite'),
        flows,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    children.push(child);
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', () => resolve());
      child.once('exit', (code) => reject(new Error(`instance exited with ${code}`)));
    });
  }
  // Strict round robin: request n goes to instance n % 2.
  let next = 0;
  const served: string[] = [];
  const proxy = await listen(
    (req, res) => {
      const port = ports[next++ % ports.length]!;
      const upstream = httpRequest(
        { host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers },
        (up) => {
          served.push(`${String(up.headers['x-instance'] ?? '?')} ${req.url}`);
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      upstream.on('error', () => res.writeHead(502).end());
      req.pipe(upstream);
    },
    Number(new URL(origin).port),
  );
  return {
    served,
    async close() {
      await proxy.close();
      for (const c of children) c.kill();
    },
  };
}

for (const flows of ['cookie', 'redis']) {
  describe(`a flow started on one instance finishes on another (${flows === 'cookie' ? 'sealed-cookie flows' : 'Redis flow store'})`, () => {
    let provider: TestProvider;
    let browser: Browser;
    let origin: string;
    let dir: string;
    before(async () => {
      origin = `http://127.0.0.1:${await freePort()}`;
      provider = await startTestProvider({
        clients: [
          {
            client_id: 'test-client',
            client_secret: 'test-secret',
            redirect_uris: [`${origin}/oauth2callback`],
          },
        ],
      });
      browser = await launchChromium();
      dir = mkdtempSync(join(tmpdir(), 'oauthkit-multi-'));
    });
    after(async () => {
      await browser?.close();
      await provider?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('in Chromium, through a round-robin proxy', async (t) => {
      if (flows === 'redis' && !redisFlowStore) {
        t.skip('src/decorator/flow-store-redis.ts is not there yet');
        return;
      }
      const cluster = await startCluster(
        provider,
        origin,
        flows === 'cookie' ? 'cookie' : `redis:oauthkit-test-${process.pid}-${Date.now()}:`,
        dir,
      );
      const context = await browser.newContext();
      try {
        const page = await context.newPage();
        await page.goto(`${origin}/tasks?from=multi`);
        await signIn(page, 'zoe');
        await answerConsent(page, true);
        await page.waitForURL(`${origin}/tasks?from=multi`);
        const body = await pageJson(page);
        assert.equal(body['sub'], 'zoe');
        const start = cluster.served.find((s) => s.endsWith('/tasks?from=multi'))!;
        const callback = cluster.served.find((s) => s.includes('/oauth2callback'))!;
        assert.ok(start && callback, cluster.served.join('\n'));
        assert.notEqual(
          start.split(' ')[0],
          callback.split(' ')[0],
          `started and finished on different instances:\n${cluster.served.join('\n')}`,
        );
      } finally {
        await context.close();
        await cluster.close();
      }
    });
  });
}
