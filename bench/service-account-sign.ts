/**
 * Service-account assertions: how fast oauthkit signs them compared with google-auth-library,
 * and how many API calls one minted token serves in steady state.
 *
 *   (cd bench && npm install)   # once: google-auth-library lives in bench/ only
 *   node --import tsx bench/service-account-sign.ts [seconds-per-variant=1] [rounds=7]
 *
 * Goal (from issue 5): oauthkit assertions/s ÷ google-auth-library assertions/s ≥ 1.0, judged
 * on the median per-round ratio of the sequential variants.
 *
 * Part 1, what is compared, and why it is fair:
 * - Both sign the same thing: the JWT bearer assertion of one token mint (RS256, the same
 *   2048-bit key, claims iss/scope/aud/iat/exp; oauthkit's header also carries `typ` and `kid`).
 * - Each side runs exactly the function its library runs per mint, nothing more: oauthkit's
 *   `createBearerAssertion` (what `ServiceAccountCredentials` calls; Web Crypto with the key
 *   imported once, as the credentials hold it), and google-auth-library's `getJwsSign` from
 *   `build/src/gtoken/jwsSign.js` (what its `JWT` client calls via `GoogleToken.getToken`;
 *   `jws.sign` with the PEM string, as the client holds it). Neither variant makes a request.
 * - Sequential: one assertion at a time (oauthkit awaits each; google-auth-library is
 *   synchronous). A second oauthkit row runs 8 at once: Web Crypto signs off the main thread,
 *   so concurrent mints use the other core; google-auth-library's signing blocks the event loop,
 *   so it has no such row. The goal is judged on the sequential rows only.
 * - Variants alternate within each round and swap order every round; round 0 is a warm-up and
 *   is not counted. Every variant's output is verified with the public key once.
 *
 * Part 2, API calls per minted token in steady state (oauthkit only; no peer has a comparable
 * shared cache): a local token endpoint (the tests' one, verifying each assertion), the API
 * answered in-process so that the loop measures the token layer, and a simulated clock shared by
 * the endpoint and the credentials:
 * - one instance, 5 s of real time at full speed;
 * - a simulated day at 1 call/s per instance, for one instance and for a fleet of 4 instances,
 *   each fleet member with its own credentials object, with and without the shared Redis cache
 *   (REDIS_URL, default 127.0.0.1:6379; the in-memory cache if Redis does not answer).
 */
import { createRequire } from 'node:module';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { exportPKCS8, generateKeyPair, importPKCS8, jwtVerify } from 'jose';
import { createBearerAssertion } from '../src/service-account/jwt.js';
import {
  createMemoryTokenCache,
  createRedisTokenCache,
  ServiceAccountCredentials,
  type TokenCache,
} from '../src/service-account/index.js';
import { createTestServiceAccount, startTokenEndpoint } from '../test/support/sa-token-endpoint.js';

const seconds = Number(process.argv[2] ?? 1);
const rounds = Number(process.argv[3] ?? 7);
const require = createRequire(import.meta.url);

type GetJwsSign = (o: { iss: string; scope: string; key: string; sub?: string }) => string;
let getJwsSign: GetJwsSign | undefined;
try {
  getJwsSign = (
    require('google-auth-library/build/src/gtoken/jwsSign.js') as {
      getJwsSign: GetJwsSign;
    }
  ).getJwsSign;
} catch {
  console.log(
    'google-auth-library is not installed in bench/ (cd bench && npm install): oauthkit only',
  );
}

const EMAIL = 'bench@bench-project.iam.gserviceaccount.com';
const SCOPE = 'https://www.googleapis.com/auth/cloud-platform';
const AUD = 'https://oauth2.googleapis.com/token';

const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
const pem = await exportPKCS8(privateKey);
// Imported once, non-extractable: as ServiceAccountCredentials holds it.
const key = await importPKCS8(pem, 'RS256', { extractable: false });
const claims = () => ({
  issuer: EMAIL,
  keyId: 'bench-kid',
  audience: AUD,
  scopes: [SCOPE],
  nowSec: Math.floor(Date.now() / 1000),
});

// Sanity: both produce assertions that verify with the public key and carry the same claims.
for (const [name, jwt] of [
  ['oauthkit', await createBearerAssertion(key, claims())],
  ...(getJwsSign
    ? [['google-auth-library', getJwsSign({ iss: EMAIL, scope: SCOPE, key: pem })]]
    : []),
] as const) {
  const { payload } = await jwtVerify(jwt, publicKey, { issuer: EMAIL, audience: AUD });
  if (payload['scope'] !== SCOPE || payload.exp! - payload.iat! !== 3600) {
    throw new Error(`${name}: unexpected claims`);
  }
}

interface Variant {
  name: string;
  run(deadline: number): Promise<number>;
}

const variants: Variant[] = [
  {
    name: 'oauthkit, sequential',
    async run(deadline) {
      let n = 0;
      while (performance.now() < deadline) {
        await createBearerAssertion(key, claims());
        n++;
      }
      return n;
    },
  },
  {
    name: 'oauthkit, 8 in flight',
    async run(deadline) {
      let n = 0;
      const worker = async () => {
        while (performance.now() < deadline) {
          await createBearerAssertion(key, claims());
          n++;
        }
      };
      await Promise.all(Array.from({ length: 8 }, worker));
      return n;
    },
  },
];
if (getJwsSign) {
  const sign = getJwsSign;
  variants.push({
    name: 'google-auth-library, sequential',
    async run(deadline) {
      let n = 0;
      while (performance.now() < deadline) {
        sign({ iss: EMAIL, scope: SCOPE, key: pem });
        n++;
      }
      return n;
    },
  });
}

const rates = new Map<string, number[]>(variants.map((v) => [v.name, []]));
const ratios: number[] = [];
for (let round = 0; round <= rounds; round++) {
  const order = round % 2 === 0 ? variants : [...variants].reverse();
  const perRound = new Map<string, number>();
  for (const v of order) {
    const start = performance.now();
    const n = await v.run(start + seconds * 1000);
    perRound.set(v.name, n / ((performance.now() - start) / 1000));
  }
  if (round === 0) continue; // warm-up
  for (const [name, rate] of perRound) rates.get(name)!.push(rate);
  const gal = perRound.get('google-auth-library, sequential');
  if (gal) ratios.push(perRound.get('oauthkit, sequential')! / gal);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

console.log(
  `\nRS256 JWT bearer assertions signed per second (median of ${rounds} rounds of ${seconds} s; node ${process.version})`,
);
console.log('| variant | assertions/s (median) | min | max |');
console.log('| --- | ---: | ---: | ---: |');
for (const [name, xs] of rates) {
  console.log(
    `| ${name} | ${Math.round(median(xs))} | ${Math.round(Math.min(...xs))} | ${Math.round(Math.max(...xs))} |`,
  );
}
if (ratios.length) {
  const r = median(ratios);
  console.log(
    `\noauthkit ÷ google-auth-library (sequential), median per-round ratio: ${r.toFixed(2)} (goal ≥ 1.0: ${r >= 1 ? 'met' : 'NOT met'})`,
  );
}

// Part 2: API calls per minted token.
let clock = Date.now();
const endpoint = await startTokenEndpoint({ now: () => clock });
const account = await createTestServiceAccount(endpoint.url);
endpoint.register(account);
const apiFetch = (async (request: Request) => {
  const token = /^Bearer (\S+)$/.exec(request.headers.get('authorization') ?? '')?.[1] ?? '';
  return new Response(null, { status: (endpoint.issued.get(token) ?? 0) > clock ? 200 : 401 });
}) as typeof fetch;
const makeInstance = (cache?: TokenCache) =>
  ServiceAccountCredentials.fromKeyFile(account.keyFile, {
    scopes: [SCOPE],
    allowedTokenUris: [endpoint.url],
    allowHttpLoopback: true,
    now: () => clock,
    cache,
  });

async function drive(
  instances: ServiceAccountCredentials[],
  calls: number,
  stepMs: number,
): Promise<{ calls: number; mints: number; refused: number }> {
  const before = endpoint.mints;
  const https = instances.map((i) => i.authorize({ fetch: apiFetch }));
  let refused = 0;
  for (let c = 0; c < calls; c++) {
    for (const http of https) {
      const res = await http('https://api.example/v1/things');
      if (res.status !== 200) refused++;
    }
    clock += stepMs;
  }
  return { calls: calls * instances.length, mints: endpoint.mints - before, refused };
}

console.log('\nAPI calls per minted token, steady state');
console.log('| scenario | API calls | tokens minted | calls per token | calls refused |');
console.log('| --- | ---: | ---: | ---: | ---: |');
{
  const instance = await makeInstance();
  const http = instance.authorize({ fetch: apiFetch });
  const before = endpoint.mints;
  let calls = 0;
  const deadline = performance.now() + 5000;
  const worker = async () => {
    while (performance.now() < deadline) {
      await http('https://api.example/v1/things');
      calls++;
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  const mints = endpoint.mints - before;
  console.log(
    `| 1 instance, 5 s real time, 16 callers | ${calls} | ${mints} | ${Math.round(calls / mints)} | 0 |`,
  );
}

const DAY_CALLS = 24 * 3600; // 1 call/s per instance for a simulated day
let redis: Redis | undefined;
const redisUrl = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const prefix = `oauthkit-bench:${randomUUID()}:`;
try {
  redis = new Redis(redisUrl, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
  });
  await redis.connect();
} catch {
  redis = undefined;
}
try {
  for (const [label, fleet, shared] of [
    ['1 instance, simulated day at 1 call/s', 1, false],
    ['4 instances, each its own cache', 4, false],
    [`4 instances, shared ${redis ? 'Redis' : 'in-memory'} cache`, 4, true],
  ] as const) {
    clock = Date.now();
    const cache = shared
      ? redis
        ? createRedisTokenCache({ client: redis, prefix })
        : createMemoryTokenCache({ now: () => clock })
      : undefined;
    const instances = await Promise.all(Array.from({ length: fleet }, () => makeInstance(cache)));
    const r = await drive(instances, DAY_CALLS, 1000);
    console.log(
      `| ${label} | ${r.calls} | ${r.mints} | ${Math.round(r.calls / r.mints)} | ${r.refused} |`,
    );
  }
} finally {
  if (redis) {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  }
  await endpoint.close();
}
