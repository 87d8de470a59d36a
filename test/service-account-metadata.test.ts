import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import {
  AppAssertionCredentials,
  createMemoryTokenCache,
  metadataBaseUrl,
  type AppAssertionCredentialsOptions,
} from '../src/service-account/index.js';
import {
  ConfigurationError,
  TokenRequestError,
  TransientError,
  type AuthorizedFetch,
} from '../src/index.js';
import type { HttpClient } from '../src/discovery/index.js';
import { startMetadataServer, type TestMetadataServer } from './support/metadata-server.js';
import { startApi, type TestApiServer } from './support/sa-token-endpoint.js';

const SCOPES = ['https://www.googleapis.com/auth/tasks', 'https://www.googleapis.com/auth/drive'];
const noSleep = async () => {};

describe('AppAssertionCredentials against a local metadata server', () => {
  let clock = Date.now();
  let md: TestMetadataServer;
  let api: TestApiServer;
  const make = (options: AppAssertionCredentialsOptions = {}) =>
    new AppAssertionCredentials({
      scopes: SCOPES,
      env: { GCE_METADATA_HOST: md.host },
      now: () => clock,
      sleep: noSleep,
      ...options,
    });

  before(async () => {
    md = await startMetadataServer({ now: () => clock });
    api = await startApi((token) => (md.issued.get(token) ?? 0) > clock);
  });
  after(async () => {
    await md.close();
    await api.close();
  });
  beforeEach(() => {
    clock = Date.now();
    md.fault = 'none';
    md.failNext = 0;
    md.mints = 0;
    md.idTokenMints = 0;
    md.requests.length = 0;
    md.redirectTargetHits = 0;
    md.expiresIn = 3600;
  });

  it('sends Metadata-Flavor: Google on every request and asks for the scopes, comma-separated', async () => {
    const credentials = make();
    const { token, expiresAt } = await credentials.getAccessToken();
    assert.ok(md.issued.has(token));
    assert.equal(expiresAt, clock + 3600_000);
    assert.equal(await credentials.getEmail(), md.email);
    await credentials.getIdToken('https://other.example');
    assert.equal(md.requests.length, 3);
    for (const r of md.requests) assert.equal(r.flavor, 'Google', `${r.path} without the header`);
    const tokenRequest = md.requests[0]!;
    assert.equal(tokenRequest.path, '/computeMetadata/v1/instance/service-accounts/default/token');
    assert.equal(
      new URLSearchParams(tokenRequest.query).get('scopes'),
      [...SCOPES].sort().join(','),
    );
  });

  it('names a non-default service account in the path', async () => {
    const credentials = make({ serviceAccount: 'worker@test-project.iam.gserviceaccount.com' });
    await credentials.getAccessToken();
    assert.equal(
      md.requests[0]!.path,
      '/computeMetadata/v1/instance/service-accounts/worker%40test-project.iam.gserviceaccount.com/token',
    );
    assert.equal(await credentials.getEmail(), 'worker@test-project.iam.gserviceaccount.com');
  });

  it('rejects a response without Metadata-Flavor: Google and does not use its token', async () => {
    md.fault = 'no-flavor';
    const credentials = make();
    await assert.rejects(credentials.getAccessToken(), (err: unknown) => {
      assert.ok(err instanceof TokenRequestError);
      assert.equal(err.code, 'token_request_failed');
      assert.match(err.message, /without "Metadata-Flavor: Google"/);
      assert.doesNotMatch(err.message, /ya29/);
      return true;
    });
    assert.equal(md.mints, 1, 'the server did mint');
    assert.equal(md.requests.length, 1, 'and the answer was not retried');
  });

  it('does not follow a 302', async () => {
    md.fault = 'redirect';
    await assert.rejects(make().getAccessToken(), (err: unknown) => {
      assert.ok(err instanceof TokenRequestError);
      assert.match(err.message, /answered 302 .*redirects are not followed/);
      assert.equal(err.status, 302);
      return true;
    });
    assert.equal(md.redirectTargetHits, 0);
  });

  it('a server that hangs gives a clear timeout error after a bounded number of attempts', async () => {
    md.fault = 'hang';
    const credentials = make({ timeoutMs: 150, retries: 1 });
    await assert.rejects(credentials.getAccessToken(), (err: unknown) => {
      assert.ok(err instanceof TransientError);
      assert.equal(err.code, 'transient');
      assert.equal(err.message, `the metadata server at ${md.url} did not answer within 150 ms`);
      return true;
    });
    assert.equal(md.requests.length, 2, 'one attempt and one retry, no more');
  });

  it('retries a 503 and then succeeds', async () => {
    md.failNext = 2;
    const { token } = await make().getAccessToken();
    assert.ok(md.issued.has(token));
    assert.equal(md.requests.length, 3);
  });

  it('gives up after the retries on repeated 503s, without caching the failure', async () => {
    md.failNext = 10;
    const credentials = make({ retries: 2 });
    await assert.rejects(credentials.getAccessToken(), TransientError);
    assert.equal(md.requests.length, 3);
    md.failNext = 0;
    assert.ok(
      md.issued.has((await credentials.getAccessToken()).token),
      'a transient failure is not remembered',
    );
  });

  it('renews the token before it expires, not after, and not earlier than the margin', async () => {
    const credentials = make({ renewMarginMs: 300_000 });
    const first = (await credentials.getAccessToken()).token;
    clock += 3600_000 - 300_000 - 1000; // 1 s before the renew point
    assert.equal((await credentials.getAccessToken()).token, first);
    assert.equal(md.mints, 1);
    clock += 2000; // 1 s past the renew point, still 4 minutes before expiry
    const second = (await credentials.getAccessToken()).token;
    assert.notEqual(second, first);
    assert.equal(md.mints, 2);
    assert.ok(md.issued.get(first)! > clock, 'the old token had not expired yet');
  });

  it('a short-lived token is renewed at half its lifetime, not on every call', async () => {
    md.expiresIn = 120; // shorter than twice the 5-minute margin
    const credentials = make();
    const first = (await credentials.getAccessToken()).token;
    clock += 59_000;
    assert.equal((await credentials.getAccessToken()).token, first);
    clock += 2000;
    assert.notEqual((await credentials.getAccessToken()).token, first);
    assert.equal(md.mints, 2);
  });

  it('10,000 calls through authorize() in steady state mint one token', async () => {
    const credentials = make();
    // The API answers in-process (real HTTP for 10,000 calls would only time the loopback); it
    // accepts only tokens the metadata server issued and that are unexpired by the shared clock.
    const seen: string[] = [];
    const apiFetch = async (request: Request) => {
      const token = /^Bearer (\S+)$/.exec(request.headers.get('authorization') ?? '')?.[1] ?? '';
      seen.push(token);
      return new Response(null, { status: (md.issued.get(token) ?? 0) > clock ? 200 : 401 });
    };
    const http = credentials.authorize({ fetch: apiFetch as typeof fetch });
    for (let batch = 0; batch < 100; batch++) {
      const responses = await Promise.all(
        Array.from({ length: 100 }, () =>
          http('https://tasks.googleapis.com/tasks/v1/users/@me/lists'),
        ),
      );
      for (const r of responses) assert.equal(r.status, 200);
      clock += 30_000; // 50 minutes of steady traffic in all, inside the token's renew point
    }
    assert.equal(seen.length, 10_000);
    assert.equal(md.mints, 1);
    assert.equal(new Set(seen).size, 1);
    assert.equal(md.requests.length, 1, 'no other metadata request either');
  });

  it('concurrent first calls share one mint', async () => {
    const credentials = make();
    const tokens = await Promise.all(
      Array.from({ length: 50 }, () => credentials.getAccessToken()),
    );
    assert.equal(new Set(tokens.map((t) => t.token)).size, 1);
    assert.equal(md.mints, 1);
  });

  it('authorize() gets a new token once on a 401 and resends the body, then stops', async () => {
    const credentials = make();
    const http = credentials.authorize();
    const { token: first } = await credentials.getAccessToken();
    md.issued.set(first, 0); // the API now refuses it
    const seenBefore = api.seen.length;
    const res = await http(`${api.origin}/echo`, { method: 'POST', body: 'payload' });
    assert.equal(res.status, 200);
    assert.deepEqual(
      api.seen.slice(seenBefore).map((t) => t === first),
      [true, false],
    );
    assert.deepEqual(api.bodies.slice(seenBefore), ['payload', 'payload']);
    assert.equal(md.mints, 2);

    // An API that refuses every token: one retry, then the 401 is returned, no loop.
    const deny = credentials.authorize({ fetch: async () => new Response(null, { status: 401 }) });
    const denied = await deny('https://api.example/x');
    assert.equal(denied.status, 401);
    assert.equal(md.mints, 3);
  });

  it('authorize() refuses origins outside allowedOrigins before minting or sending', async () => {
    const http = make().authorize({ allowedOrigins: [api.origin] });
    await assert.rejects(http('https://elsewhere.example/'), { code: 'origin_not_allowed' });
    assert.equal(md.mints, 0);
    const ok = await http(`${api.origin}/echo`);
    assert.equal(ok.status, 200);
  });

  it('authorize().credentials() gives core Credentials with the token and scopes', async () => {
    // The same client type as user credentials', and what build(...).execute() takes.
    const http: AuthorizedFetch = make().authorize();
    const forDiscovery: HttpClient = http;
    assert.equal(typeof forDiscovery, 'function');
    const c = await http.credentials();
    assert.ok(md.issued.has(c.accessToken!));
    assert.deepEqual(c.scopes, [...SCOPES].sort());
    assert.equal(c.expiresAt, clock + 3600_000);
    assert.equal(http.key, 'metadata:default');
  });

  it('ID tokens are fetched per audience and cached until near their expiry', async () => {
    const credentials = make();
    const a = await credentials.getIdToken('https://a.example');
    assert.equal(await credentials.getIdToken('https://a.example'), a);
    const b = await credentials.getIdToken('https://b.example', { format: 'full' });
    assert.notEqual(a, b);
    assert.equal(md.idTokenMints, 2);
    const query = new URLSearchParams(md.requests.at(-1)!.query);
    assert.equal(query.get('audience'), 'https://b.example');
    assert.equal(query.get('format'), 'full');
    clock += 3600_000 - 60_000;
    await credentials.getIdToken('https://a.example');
    assert.equal(md.idTokenMints, 3);
  });

  it('withScopes() makes new credentials and leaves the original unchanged', async () => {
    const credentials = make();
    const narrow = credentials.withScopes(['https://www.googleapis.com/auth/tasks.readonly']);
    assert.deepEqual(credentials.scopes, [...SCOPES].sort());
    await narrow.getAccessToken();
    assert.equal(
      new URLSearchParams(md.requests[0]!.query).get('scopes'),
      'https://www.googleapis.com/auth/tasks.readonly',
    );
  });

  it('a shared cache is keyed by the account email, so different accounts never share a token', async () => {
    const cache = createMemoryTokenCache({ now: () => clock });
    const a1 = make({ cache });
    const a2 = make({ cache });
    const other = make({ cache, serviceAccount: 'other@test-project.iam.gserviceaccount.com' });
    const t1 = (await a1.getAccessToken()).token;
    assert.equal((await a2.getAccessToken()).token, t1, 'same account and scopes: shared');
    assert.notEqual((await other.getAccessToken()).token, t1);
    assert.equal(md.mints, 2);
  });

  it('the metadata host comes only from GCE_METADATA_HOST, and must be a bare host[:port]', () => {
    assert.equal(metadataBaseUrl(undefined), 'http://169.254.169.254');
    assert.equal(
      metadataBaseUrl({ GCE_METADATA_HOST: 'metadata.google.internal' }),
      'http://metadata.google.internal',
    );
    assert.equal(metadataBaseUrl({ GCE_METADATA_HOST: '[::1]:8080' }), 'http://[::1]:8080');
    for (const bad of ['http://evil.example', 'evil.example/path', 'user@evil.example', 'a b']) {
      assert.throws(
        () => new AppAssertionCredentials({ env: { GCE_METADATA_HOST: bad } }),
        ConfigurationError,
        bad,
      );
    }
  });

  it('shows no token in JSON or inspection', async () => {
    const credentials = make();
    const { token } = await credentials.getAccessToken();
    assert.ok(!JSON.stringify(credentials).includes(token));
    assert.ok(!inspect(credentials, { depth: 10, showHidden: true }).includes(token));
    assert.deepEqual(Object.keys(JSON.parse(JSON.stringify(credentials))).sort(), [
      'metadata_url',
      'scopes',
      'service_account',
      'type',
    ]);
  });
});
