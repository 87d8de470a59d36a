import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt, importSPKI, exportSPKI, jwtVerify } from 'jose';
import {
  createMemoryTokenCache,
  GOOGLE_TOKEN_URI,
  ServiceAccountCredentials,
  type ServiceAccountCredentialsOptions,
  type TokenCache,
} from '../src/service-account/index.js';
import { importPrivateKey } from '../src/service-account/jwt.js';
import {
  ConfigurationError,
  GrantRevokedError,
  TokenRequestError,
  TransientError,
} from '../src/index.js';
import {
  createTestServiceAccount,
  startApi,
  startTokenEndpoint,
  type TestApiServer,
  type TestServiceAccount,
  type TestTokenEndpoint,
} from './support/sa-token-endpoint.js';

const SCOPES = ['https://www.googleapis.com/auth/tasks', 'https://www.googleapis.com/auth/drive'];
const noSleep = async () => {};

describe('ServiceAccountCredentials against a local token endpoint', () => {
  let clock = Date.now();
  let te: TestTokenEndpoint;
  let sa: TestServiceAccount;
  let api: TestApiServer;
  const make = (options: ServiceAccountCredentialsOptions = {}, account = sa) =>
    ServiceAccountCredentials.fromKeyFile(account.keyFile, {
      scopes: SCOPES,
      allowedTokenUris: [te.url],
      allowHttpLoopback: true,
      now: () => clock,
      sleep: noSleep,
      ...options,
    });

  before(async () => {
    te = await startTokenEndpoint({ now: () => clock });
    sa = await createTestServiceAccount(te.url);
    te.register(sa, { subjects: ['alice@example.com'] });
    api = await startApi((token) => (te.issued.get(token) ?? 0) > clock);
  });
  after(async () => {
    await te.close();
    await api.close();
  });
  beforeEach(() => {
    clock = Date.now();
    te.requests = 0;
    te.mints = 0;
    te.assertions.length = 0;
    te.refusals.length = 0;
    te.failWith = undefined;
    te.failNext = 0;
  });

  it('sends an assertion whose every header field and claim the endpoint verifies', async () => {
    const credentials = await make();
    const { token, expiresAt } = await credentials.getAccessToken();
    assert.ok(te.issued.has(token));
    assert.equal(expiresAt, clock + 3600_000);
    assert.deepEqual(te.refusals, []);
    const [seen] = te.assertions;
    assert.ok(seen);
    assert.deepEqual(seen.header, { alg: 'RS256', typ: 'JWT', kid: sa.kid });
    const nowSec = Math.floor(clock / 1000);
    assert.deepEqual(seen.claims, {
      iss: sa.email,
      scope: [...SCOPES].sort().join(' '),
      aud: te.url,
      iat: nowSec,
      exp: nowSec + 3600,
    });
    assert.deepEqual(seen.params, {
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
    });
  });

  it('the endpoint refuses an assertion with a wrong claim (the checks can fail)', async () => {
    // A clock an hour and a half behind the endpoint's: iat is not now and exp is past.
    const credentials = await make({ now: () => clock - 5400_000 });
    await assert.rejects(credentials.getAccessToken(), GrantRevokedError);
    assert.equal(te.mints, 0);
    assert.match(te.refusals[0]!, /exp|iat/);
  });

  it('withSubject() puts sub in the assertion and leaves the original unchanged', async () => {
    const credentials = await make();
    const asAlice = credentials.withSubject('alice@example.com');
    assert.equal(credentials.subject, undefined);
    assert.equal(asAlice.subject, 'alice@example.com');
    assert.equal(asAlice.key, `service-account:${sa.email}:alice@example.com`);
    const a = await asAlice.getAccessToken();
    const b = await credentials.getAccessToken();
    assert.notEqual(a.token, b.token, 'each has its own token');
    assert.equal(te.assertions[0]!.claims.sub, 'alice@example.com');
    assert.equal('sub' in te.assertions[1]!.claims, false);
  });

  it('delegation to a user the account may not act for is a typed refusal', async () => {
    const credentials = (await make()).withSubject('mallory@example.com');
    await assert.rejects(credentials.getAccessToken(), (err: unknown) => {
      assert.ok(err instanceof TokenRequestError);
      assert.equal(err.error, 'unauthorized_client');
      return true;
    });
  });

  it('withScopes() makes new credentials and leaves the original unchanged', async () => {
    const credentials = await make();
    const narrow = credentials.withScopes(['https://www.googleapis.com/auth/tasks.readonly']);
    assert.deepEqual(credentials.scopes, [...SCOPES].sort());
    await narrow.getAccessToken();
    assert.equal(
      te.assertions[0]!.claims['scope'],
      'https://www.googleapis.com/auth/tasks.readonly',
    );
  });

  it('invalid_grant gives a GrantRevokedError, and many calls do not become a retry storm', async () => {
    te.failWith = {
      status: 400,
      body: { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' },
    };
    const credentials = await make();
    const http = credentials.authorize({ allowedOrigins: [api.origin] });
    const seenBefore = api.seen.length;
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, () => http(`${api.origin}/echo`)),
    );
    for (let i = 0; i < 50; i++) await credentials.getAccessToken().catch(() => {});
    for (const r of results) {
      assert.equal(r.status, 'rejected');
      const err = (r as PromiseRejectedResult).reason;
      assert.ok(err instanceof GrantRevokedError);
      assert.equal(err.code, 'grant_revoked');
      assert.equal(err.error, 'invalid_grant');
    }
    assert.equal(te.requests, 1, 'one token request for 100 calls');
    assert.equal(api.seen.length, seenBefore, 'nothing sent to the API');

    // After the back-off, the next call asks again (the key might have been fixed upstream).
    te.failWith = undefined;
    clock += 10_001;
    assert.ok(te.issued.has((await credentials.getAccessToken()).token));
    assert.equal(te.requests, 2);
  });

  it('a key that does not match the registered public key is refused with a typed error', async () => {
    const impostor = await createTestServiceAccount(te.url, sa.email);
    impostor.keyFile.private_key_id = sa.kid; // same account and kid, other private key
    const credentials = await make({}, impostor);
    await assert.rejects(credentials.getAccessToken(), (err: unknown) => {
      assert.ok(err instanceof GrantRevokedError);
      assert.ok(!err.message.includes('PRIVATE KEY'));
      return true;
    });
    assert.match(te.refusals[0]!, /signature/i);
    assert.equal(te.requests, 1);
  });

  it('a key that cannot be imported fails fromKeyFile without showing the key', async () => {
    const lines = sa.keyFile.private_key.trim().split('\n');
    const truncated = [...lines.slice(0, 4), lines.at(-1)].join('\n');
    const broken = { ...sa.keyFile, private_key: truncated };
    await assert.rejects(make({}, { ...sa, keyFile: broken }), (err: unknown) => {
      assert.ok(err instanceof ConfigurationError);
      assert.match(
        err.message,
        /"private_key" in the key file object is not a PKCS#8 RSA private key/,
      );
      assert.ok(!inspect(err).includes(lines[2]!));
      return true;
    });
  });

  it('a malformed key file names the missing field, not its values', () => {
    const { client_email: _e, ...noEmail } = sa.keyFile;
    assert.throws(
      () => new ServiceAccountCredentials(noEmail),
      (err: unknown) =>
        err instanceof ConfigurationError &&
        err.message === 'the credentials in the key file object lack "client_email"',
    );
    assert.throws(() => new ServiceAccountCredentials('{not json'), /not valid JSON/);
    assert.throws(
      () => new ServiceAccountCredentials({ ...sa.keyFile, type: 'external_account' }),
      /type "external_account"/,
    );
  });

  it('a key file pointing token_uri elsewhere is refused before anything is signed or sent', async () => {
    let hits = 0;
    const evil = createServer((_req, res) => {
      hits++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"access_token":"x","token_type":"Bearer","expires_in":3600}');
    });
    await new Promise<void>((r) => evil.listen(0, '127.0.0.1', r));
    const evilUri = `http://127.0.0.1:${(evil.address() as AddressInfo).port}/token`;
    try {
      const hostile = { ...sa.keyFile, token_uri: evilUri };
      for (const options of [{}, { allowHttpLoopback: true }]) {
        assert.throws(
          () => new ServiceAccountCredentials(hostile, { scopes: SCOPES, ...options }),
          (err: unknown) =>
            err instanceof ConfigurationError &&
            /points to http:\/\/127\.0\.0\.1:\d+, not to Google's token endpoint/.test(err.message),
        );
      }
      assert.throws(
        () =>
          new ServiceAccountCredentials({ ...sa.keyFile, token_uri: 'https://evil.example/token' }),
        /points to https:\/\/evil\.example/,
      );
      // Google's own endpoints, and an endpoint the app lists itself, are accepted.
      const google = new ServiceAccountCredentials({ ...sa.keyFile, token_uri: undefined });
      assert.equal(google.tokenUri, GOOGLE_TOKEN_URI);
      const legacy = { ...sa.keyFile, token_uri: 'https://accounts.google.com/o/oauth2/token' };
      assert.equal(new ServiceAccountCredentials(legacy).tokenUri, legacy.token_uri);
      assert.equal(hits, 0);
    } finally {
      await new Promise<void>((r) => evil.close(() => r()));
    }
  });

  it('retries a 503 from the token endpoint once, then succeeds', async () => {
    te.failNext = 1;
    const { token } = await (await make()).getAccessToken();
    assert.ok(te.issued.has(token));
    assert.equal(te.requests, 2);
  });

  it('a token endpoint that keeps failing gives a TransientError after the bounded retry', async () => {
    te.failNext = 5;
    await assert.rejects((await make({ retries: 2 })).getAccessToken(), TransientError);
    assert.equal(te.requests, 3);
  });

  it('renews the token before it expires', async () => {
    const credentials = await make();
    const first = (await credentials.getAccessToken()).token;
    clock += 3600_000 - 300_000 - 1;
    assert.equal((await credentials.getAccessToken()).token, first);
    clock += 2;
    const second = (await credentials.getAccessToken()).token;
    assert.notEqual(second, first);
    assert.equal(te.mints, 2);
    assert.equal(te.assertions[1]!.claims.iat, Math.floor(clock / 1000), 'a fresh assertion');
  });

  it('getAccessToken({ forceRefresh }) mints even when the cached token is good', async () => {
    const credentials = await make();
    const first = (await credentials.getAccessToken()).token;
    const second = (await credentials.getAccessToken({ forceRefresh: true })).token;
    assert.notEqual(first, second);
    assert.equal(te.mints, 2);
  });

  it('authorize() calls the API with the minted token', async () => {
    const http = (await make()).authorize();
    const res = await http(`${api.origin}/echo`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { ok: true });
    assert.ok(te.issued.has(api.seen.at(-1)!));
  });

  it('a quota_project_id in the key file is sent as x-goog-user-project', async () => {
    const account = { ...sa, keyFile: { ...sa.keyFile, quota_project_id: 'billing-project' } };
    const http = (await make({}, account)).authorize();
    await (await http(`${api.origin}/echo`)).body?.cancel();
    assert.equal(api.headers.at(-1)!['x-goog-user-project'], 'billing-project');
  });

  it('a shared cache lets a second credentials object reuse the token; entries expire ahead of it', async () => {
    const sets: { key: string; ttlMs: number }[] = [];
    const memory = createMemoryTokenCache({ now: () => clock });
    const cache: TokenCache = {
      get: (key) => memory.get(key),
      set: (key, value, ttlMs) => {
        sets.push({ key, ttlMs });
        return memory.set(key, value, ttlMs);
      },
    };
    const a = await make({ cache });
    const b = await make({ cache });
    const delegated = a.withSubject('alice@example.com');
    const t = (await a.getAccessToken()).token;
    assert.equal((await b.getAccessToken()).token, t);
    assert.notEqual((await delegated.getAccessToken()).token, t, 'the subject is part of the key');
    assert.equal(te.mints, 2);
    assert.equal(sets.length, 2);
    assert.equal(
      sets[0]!.ttlMs,
      3600_000 - 300_000,
      'the entry expires 5 minutes ahead of the token',
    );
    assert.ok(sets[0]!.key.includes(sa.email) && sets[1]!.key.includes('alice@example.com'));
  });

  it('a failing shared cache does not fail the call', async () => {
    const errors: unknown[] = [];
    const cache: TokenCache = {
      get: async () => {
        throw new Error('cache down');
      },
      set: async () => {
        throw new Error('cache down');
      },
    };
    const credentials = await make({ cache, onCacheError: (e) => errors.push(e) });
    assert.ok(te.issued.has((await credentials.getAccessToken()).token));
    assert.equal(errors.length, 2);
  });

  it('self-signed JWT access tokens need no token endpoint and verify with the public key', async () => {
    const scoped = await make({ selfSignedJwt: true });
    const { token, expiresAt } = await scoped.getAccessToken();
    assert.equal(te.requests, 0);
    const { payload, protectedHeader } = await jwtVerify(token, sa.publicKey, {
      currentDate: new Date(clock),
    });
    assert.deepEqual(protectedHeader, { alg: 'RS256', typ: 'JWT', kid: sa.kid });
    const iat = Math.floor(clock / 1000);
    assert.deepEqual(payload, {
      iss: sa.email,
      sub: sa.email,
      scope: [...SCOPES].sort().join(' '),
      iat,
      exp: iat + 3600,
    });
    assert.equal(expiresAt, (iat + 3600) * 1000);

    const audience = await make({ selfSignedJwt: { audience: 'https://tasks.googleapis.com/' } });
    const claims = decodeJwt((await audience.getAccessToken()).token);
    assert.equal(claims.aud, 'https://tasks.googleapis.com/');
    assert.equal('scope' in claims, false);

    // An API that accepts self-signed JWTs (as Google APIs do) takes it through authorize().
    const jwtApi = await startApi(async (t) => {
      try {
        await jwtVerify(t, sa.publicKey, {
          issuer: sa.email,
          subject: sa.email,
          currentDate: new Date(clock),
        });
        return true;
      } catch {
        return false;
      }
    });
    try {
      const res = await scoped.authorize()(`${jwtApi.origin}/echo`);
      assert.equal(res.status, 200);
      assert.equal(jwtApi.seen[0], token, 'the cached self-signed token is reused');
    } finally {
      await jwtApi.close();
    }
    assert.equal(te.requests, 0);
    assert.throws(
      () =>
        new ServiceAccountCredentials(sa.keyFile, {
          allowedTokenUris: [te.url],
          allowHttpLoopback: true,
          selfSignedJwt: true,
          subject: 'a@b.c',
        }),
      /cannot act as a "subject"/,
    );
  });

  it('signBlob() signs with the private key (RSASSA-PKCS1-v1_5 SHA-256)', async () => {
    const credentials = await make();
    const data = 'GET\n\n\n1700000000\n/bucket/object';
    const signature = await credentials.signBlob(data);
    assert.equal(signature.byteLength, 256);
    const publicKey = await importSPKI(await exportSPKI(sa.publicKey), 'RS256');
    const bytes = new TextEncoder().encode(data);
    assert.equal(
      await crypto.subtle.verify('RSASSA-PKCS1-v1_5', publicKey, signature, bytes),
      true,
    );
    const tampered = new TextEncoder().encode(`${data}x`);
    assert.equal(
      await crypto.subtle.verify('RSASSA-PKCS1-v1_5', publicKey, signature, tampered),
      false,
    );
  });

  it('the private key is imported non-extractable and used only to sign', async () => {
    const key = await importPrivateKey(sa.keyFile.private_key, 'test');
    assert.equal(key.extractable, false);
    assert.deepEqual(key.usages, ['sign']);
    await assert.rejects(crypto.subtle.exportKey('pkcs8', key));
  });

  it('never shows the private key, assertion or token in JSON, inspection, keys or errors', async () => {
    const credentials = await make();
    const { token } = await credentials.getAccessToken();
    const assertionParts = te.assertions.length;
    assert.equal(assertionParts, 1);
    const keyBody = sa.keyFile.private_key.split('\n')[1]!;
    const views = [
      JSON.stringify(credentials),
      inspect(credentials, { depth: 10, showHidden: true }),
      Object.keys(credentials).join(','),
      JSON.stringify(Object.getOwnPropertyDescriptors(credentials)),
      JSON.stringify(credentials.withSubject('alice@example.com')),
    ];
    for (const v of views) {
      assert.ok(!v.includes(keyBody), 'private key');
      assert.ok(!v.includes(token), 'token');
      assert.ok(!v.includes('eyJ'), 'a JWT');
    }
    te.failWith = { status: 400, body: { error: 'invalid_grant' } };
    const err = await credentials.getAccessToken({ forceRefresh: true }).catch((e: unknown) => e);
    assert.ok(err instanceof GrantRevokedError);
    for (const v of [err.message, JSON.stringify(err), inspect(err, { depth: 10 })]) {
      assert.ok(!v.includes(keyBody) && !v.includes('eyJ'), v);
    }
  });

  it('asks for scopes before minting through the token endpoint', async () => {
    const credentials = await make({ scopes: [] });
    await assert.rejects(credentials.getAccessToken(), /no scopes to ask for/);
    assert.equal(te.requests, 0);
    const scoped = credentials.withScopes(['https://www.googleapis.com/auth/tasks']);
    assert.ok(te.issued.has((await scoped.getAccessToken()).token));
  });
});
