/**
 * Refresh single-flight: how many token requests 1,000 concurrent authorized calls cause when the
 * stored access token has expired, against a real oidc-provider on loopback (with and without
 * refresh-token rotation). The baseline is what a client without single-flight does: every call
 * that finds the token expired refreshes on its own.
 *
 * Run: node --import tsx bench/refresh-single-flight.ts [calls=1000] [rounds=5]
 */
import { performance } from 'node:perf_hooks';
import { TokenManager, createAuthorizedFetch, type Credentials } from '../src/index.js';
import { createMemoryStore } from '../src/storage/memory.js';
import { startTestApi } from '../test/support/api.js';
import { setupOAuth } from '../test/support/oauth.js';

const calls = Number(process.argv[2] ?? 1000);
const rounds = Number(process.argv[3] ?? 5);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

const rows: string[][] = [];
for (const rotate of [false, true]) {
  const t = await setupOAuth({ rotateRefreshToken: rotate });
  const api = await startTestApi(t.provider);
  const store = createMemoryStore();
  const tokens = new TokenManager({ client: t.client, store });
  await store.put('u', await t.login('bench'));

  for (let round = 0; round < rounds; round++) {
    const current = (await store.get('u')) as Credentials;
    await store.put('u', current.with({ expiresAt: Date.now() - 1000 }));
    t.provider.resetCounts();
    const http = createAuthorizedFetch({ tokens, key: 'u' });
    const latencies: number[] = [];
    const started = performance.now();
    const statuses = await Promise.all(
      Array.from({ length: calls }, async () => {
        const t0 = performance.now();
        const res = await http(`${api.origin}/echo`);
        await res.body?.cancel();
        latencies.push(performance.now() - t0);
        return res.status;
      }),
    );
    const wall = performance.now() - started;
    latencies.sort((a, b) => a - b);
    rows.push([
      rotate ? 'oauthkit, rotating' : 'oauthkit',
      String(round + 1),
      String(calls),
      String(t.provider.counts.token),
      String(statuses.filter((s) => s !== 200).length),
      percentile(latencies, 50).toFixed(1),
      percentile(latencies, 99).toFixed(1),
      wall.toFixed(0),
    ]);
  }

  // Baseline (no rotation only: with rotation, concurrent refreshes with one token kill the grant).
  if (!rotate) {
    const creds = (await store.get('u')) as Credentials;
    t.provider.resetCounts();
    const started = performance.now();
    const results = await Promise.allSettled(
      Array.from({ length: calls }, () =>
        t.client.refresh(creds.with({ expiresAt: Date.now() - 1000 })),
      ),
    );
    rows.push([
      'baseline: refresh per call',
      '1',
      String(calls),
      String(t.provider.counts.token),
      String(results.filter((r) => r.status === 'rejected').length),
      '-',
      '-',
      (performance.now() - started).toFixed(0),
    ]);
  }
  await api.close();
  await t.close();
}

const header = [
  'variant',
  'round',
  'calls',
  'token requests',
  'failed calls',
  'p50 ms',
  'p99 ms',
  'wall ms',
];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
console.log(line(header));
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
for (const r of rows) console.log(line(r));
