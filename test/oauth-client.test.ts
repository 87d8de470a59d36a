import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPair, SignJWT, decodeJwt } from 'jose';
import {
  AuthorizationDeniedError,
  AuthorizationResponseError,
  ConfigurationError,
  Credentials,
  GrantRevokedError,
  IdTokenError,
  OAuthClient,
  RevocationError,
  TransientError,
  discoverProvider,
} from '../src/index.js';
import { editJson, hang, to } from './support/faults.js';
import { REDIRECT_URI, SCOPES, setupOAuth, type OAuthSetup } from './support/oauth.js';

describe('OAuthClient against oidc-provider', () => {
  let t: OAuthSetup;
  before(async () => {
    t = await setupOAuth();
  });
  after(() => t.close());

  it('builds an authorization URL with PKCE S256, a fresh state and nonce, access_type=offline', async () => {
    const a = await t.client.buildAuthorizationUrl({
      scopes: SCOPES,
      loginHint: 'ada@example.test',
      includeGrantedScopes: true,
      prompt: 'consent',
    });
    const b = await t.client.buildAuthorizationUrl({ scopes: SCOPES });
    const p = a.url.searchParams;
    assert.equal(a.url.origin, t.provider.issuer);
    assert.equal(p.get('response_type'), 'code');
    assert.equal(p.get('code_challenge_method'), 'S256');
    assert.equal(p.get('redirect_uri'), REDIRECT_URI);
    assert.equal(p.get('access_type'), 'offline');
    assert.equal(p.get('include_granted_scopes'), 'true');
    assert.equal(p.get('login_hint'), 'ada@example.test');
    assert.equal(p.get('prompt'), 'consent');
    assert.equal(p.get('scope'), SCOPES.join(' '));
    assert.ok(
      Buffer.from(a.pending.state, 'base64url').length >= 16,
      'state has at least 128 bits',
    );
    assert.notEqual(a.pending.state, b.pending.state);
    assert.notEqual(a.pending.codeVerifier, b.pending.codeVerifier);
    assert.equal(p.get('nonce'), a.pending.nonce);
    assert.ok(a.pending.nonce);
    const challenge = Buffer.from(
      await crypto.subtle.digest('SHA-256', new TextEncoder().encode(a.pending.codeVerifier)),
    ).toString('base64url');
    assert.equal(p.get('code_challenge'), challenge);
    assert.equal(p.get('code_verifier'), null, 'the verifier never leaves the app');
  });

  it('sends no nonce without openid, and refuses extraParams that would override security parameters', async () => {
    const a = await t.client.buildAuthorizationUrl({
      scopes: ['api:read'],
      extraParams: { hd: 'example.test' },
    });
    assert.equal(a.url.searchParams.get('nonce'), null);
    assert.equal(a.url.searchParams.get('hd'), 'example.test');
    await assert.rejects(
      t.client.buildAuthorizationUrl({ scopes: ['openid'], extraParams: { state: 'mine' } }),
      /may not set "state"/,
    );
    await assert.rejects(t.client.buildAuthorizationUrl({ scopes: [] }), TypeError);
  });

  it('exchanges a code with PKCE and records the granted scopes and validated ID token', async () => {
    t.provider.resetCounts();
    const creds = await t.login('ada');
    assert.equal(t.provider.counts.token, 1);
    assert.ok(creds.accessToken);
    assert.ok(creds.refreshToken);
    assert.ok(creds.expiresAt! > Date.now());
    assert.equal(creds.tokenType, 'Bearer');
    assert.deepEqual(creds.subject, { iss: t.provider.issuer, sub: 'ada' });
    assert.equal(creds.idTokenClaims?.['aud'], 'test-client');
    assert.ok(creds.hasScopes(['openid', 'email', 'api:read']));
  });

  it('records the scopes the server granted, not the ones asked for', async () => {
    t.fetch.fault = (r) =>
      to('/token')(r) ? editJson(r, (b) => ({ ...b, scope: 'openid email' })) : undefined;
    try {
      const creds = await t.login('ada');
      assert.deepEqual(creds.scopes, ['email', 'openid']);
    } finally {
      t.fetch.fault = undefined;
    }
  });

  it('refuses a callback with the wrong state before any token request', async () => {
    const { url, pending } = await t.client.buildAuthorizationUrl({ scopes: SCOPES });
    const callback = await t.provider.authorize(url, { login: 'ada' });
    t.provider.resetCounts();
    const forged = new URLSearchParams(callback.searchParams);
    forged.set('state', 'not-the-state');
    await assert.rejects(t.client.exchangeCode(forged, pending), AuthorizationResponseError);
    forged.delete('state');
    await assert.rejects(t.client.exchangeCode(forged, pending), AuthorizationResponseError);
    assert.equal(t.provider.counts.token, 0);
  });

  it('refuses an iss mismatch, and a missing iss where the provider advertises it (RFC 9207)', async () => {
    const { url, pending } = await t.client.buildAuthorizationUrl({ scopes: SCOPES });
    const callback = await t.provider.authorize(url, { login: 'ada' });
    assert.equal(callback.searchParams.get('iss'), t.provider.issuer);
    t.provider.resetCounts();
    const mixUp = new URLSearchParams(callback.searchParams);
    mixUp.set('iss', 'https://evil.example');
    await assert.rejects(t.client.exchangeCode(mixUp, pending), (err: unknown) => {
      assert.ok(err instanceof AuthorizationResponseError);
      assert.doesNotMatch(String(err.message), new RegExp(callback.searchParams.get('code')!));
      return true;
    });
    const noIss = new URLSearchParams(callback.searchParams);
    noIss.delete('iss');
    await assert.rejects(t.client.exchangeCode(noIss, pending), AuthorizationResponseError);
    assert.equal(t.provider.counts.token, 0);
  });

  it('turns error=access_denied into AuthorizationDeniedError with no token request', async () => {
    const { url, pending } = await t.client.buildAuthorizationUrl({ scopes: SCOPES });
    const callback = await t.provider.authorize(url, { login: 'ada', consent: false });
    t.provider.resetCounts();
    await assert.rejects(t.client.exchangeCode(callback.searchParams, pending), (err: unknown) => {
      assert.ok(err instanceof AuthorizationDeniedError);
      assert.equal(err.error, 'access_denied');
      return true;
    });
    assert.equal(t.provider.counts.token, 0);
  });

  it('fails the exchange when the code was issued for another PKCE verifier', async () => {
    const mine = await t.client.buildAuthorizationUrl({ scopes: SCOPES });
    const theirs = await t.client.buildAuthorizationUrl({ scopes: SCOPES });
    const callback = await t.provider.authorize(theirs.url, { login: 'mallory' });
    const stolen = new URLSearchParams(callback.searchParams);
    stolen.set('state', mine.pending.state);
    await assert.rejects(t.client.exchangeCode(stolen, mine.pending), GrantRevokedError);
  });

  it('rejects an ID token whose payload was tampered with', async () => {
    t.fetch.fault = (r) =>
      to('/token')(r)
        ? editJson(r, (b) => {
            const [h, , s] = String(b['id_token']).split('.');
            const claims = { ...decodeJwt(String(b['id_token'])), sub: 'admin' };
            return {
              ...b,
              id_token: `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`,
            };
          })
        : undefined;
    try {
      await assert.rejects(t.login('ada'), IdTokenError);
    } finally {
      t.fetch.fault = undefined;
    }
  });

  it('rejects an ID token signed by a key that is not in the provider JWKS', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    t.fetch.fault = (r) =>
      to('/token')(r)
        ? editJson(r, async (b) => {
            const claims = decodeJwt(String(b['id_token']));
            return {
              ...b,
              id_token: await new SignJWT(claims)
                .setProtectedHeader({ alg: 'RS256', kid: 'forged' })
                .sign(privateKey),
            };
          })
        : undefined;
    try {
      await assert.rejects(t.login('ada'), IdTokenError);
    } finally {
      t.fetch.fault = undefined;
    }
  });

  it('refresh() gets a new access token and keeps the refresh token when the server omits it', async () => {
    const creds = await t.login('ada');
    t.fetch.fault = (r) =>
      to('/token')(r)
        ? editJson(r, ({ refresh_token: _drop, id_token: _id, ...rest }) => rest)
        : undefined;
    try {
      const fresh = await t.client.refresh(creds);
      assert.notEqual(fresh.accessToken, creds.accessToken);
      assert.equal(fresh.refreshToken, creds.refreshToken);
      assert.equal(fresh.idToken, creds.idToken, 'the ID token is kept when the response has none');
      assert.deepEqual(fresh.subject, creds.subject);
    } finally {
      t.fetch.fault = undefined;
    }
  });

  it('refresh() validates a new ID token and refuses one for another subject', async () => {
    const ada = await t.login('ada');
    const bob = await t.login('bob');
    const fresh = await t.client.refresh(ada);
    assert.deepEqual(fresh.subject, ada.subject);
    // Bob's refresh response presented as Ada's: the ID token names another subject.
    const mixed = new Credentials({
      ...ada,
      refreshToken: bob.refreshToken,
      idTokenClaims: ada.idTokenClaims,
    });
    await assert.rejects(t.client.refresh(mixed), /different "sub"/);
  });

  it('revoke() revokes the grant at the provider: the refresh token stops working', async () => {
    const creds = await t.login('ada');
    t.provider.resetCounts();
    await t.client.revoke(creds);
    assert.equal(t.provider.counts.revocation, 1);
    await assert.rejects(t.client.refresh(creds), GrantRevokedError);
  });

  it('revoke() reports a provider failure as RevocationError', async () => {
    const creds = await t.login('ada');
    t.fetch.fault = (r) =>
      to('/revocation')(r) ? new Response('down', { status: 503 }) : undefined;
    try {
      await assert.rejects(t.client.revoke(creds), (err: unknown) => {
        assert.ok(err instanceof RevocationError);
        assert.equal(err.status, 503);
        return true;
      });
    } finally {
      t.fetch.fault = undefined;
    }
    await t.client.refresh(creds); // still valid: nothing was revoked
  });

  it('a timeout at the token endpoint is a TransientError', async () => {
    const creds = await t.login('ada');
    t.fetch.fault = (r) => (to('/token')(r) ? hang(r) : undefined);
    try {
      await assert.rejects(t.client.refresh(creds), (err: unknown) => {
        assert.ok(err instanceof TransientError);
        assert.match(err.message, /did not answer in time/);
        return true;
      });
    } finally {
      t.fetch.fault = undefined;
    }
  });
});

describe('OAuthClient with a rotating provider', () => {
  let t: OAuthSetup;
  before(async () => {
    t = await setupOAuth({ rotateRefreshToken: true });
  });
  after(() => t.close());

  it('refresh() takes the rotated refresh token; the old one is dead', async () => {
    const creds = await t.login('ada');
    const fresh = await t.client.refresh(creds);
    assert.ok(fresh.refreshToken);
    assert.notEqual(fresh.refreshToken, creds.refreshToken);
    const again = await t.client.refresh(fresh);
    assert.ok(again.accessToken);
    await assert.rejects(t.client.refresh(creds), GrantRevokedError);
  });
});

describe('provider configuration', () => {
  let t: OAuthSetup;
  before(async () => {
    t = await setupOAuth();
  });
  after(() => t.close());

  it('discovers the provider metadata from its issuer', async () => {
    const m = await discoverProvider(t.provider.issuer, { allowHttpLoopback: true });
    assert.equal(m.issuer, t.provider.issuer);
    assert.ok(m.token_endpoint.startsWith(t.provider.issuer));
    assert.equal(m.authorization_response_iss_parameter_supported, true);
  });

  it('refuses metadata whose issuer differs from the configured one', async () => {
    const other = t.provider.issuer.replace('127.0.0.1', 'localhost');
    await assert.rejects(discoverProvider(other, { allowHttpLoopback: true }), ConfigurationError);
  });

  it('refuses plain http unless loopback and allowed, and names the option', () => {
    const base = { clientId: 'c', clientSecret: 's', redirectUri: 'https://app.example/cb' };
    assert.throws(
      () =>
        new OAuthClient({
          ...base,
          provider: {
            issuer: 'http://127.0.0.1:1',
            authorization_endpoint: 'http://127.0.0.1:1/a',
            token_endpoint: 'http://127.0.0.1:1/t',
          },
        }),
      /allowHttpLoopback/,
    );
    assert.throws(
      () =>
        new OAuthClient({
          ...base,
          allowHttpLoopback: true,
          provider: {
            issuer: 'http://idp.example',
            authorization_endpoint: 'http://idp.example/a',
            token_endpoint: 'http://idp.example/t',
          },
        }),
      /must be an https URL/,
    );
    assert.throws(
      () => new OAuthClient({ ...base, clientId: '' }),
      /"clientId" must be a non-empty string/,
    );
    assert.throws(() => new OAuthClient({ ...base, redirectUri: '/cb' }), /"redirectUri"/);
  });

  it('defaults to Google', async () => {
    const c = new OAuthClient({
      clientId: 'c',
      clientSecret: 's',
      redirectUri: 'https://app.example/cb',
    });
    const m = await c.metadata();
    assert.equal(m.issuer, 'https://accounts.google.com');
    assert.equal(m.token_endpoint, 'https://oauth2.googleapis.com/token');
    const { url } = await c.buildAuthorizationUrl({ scopes: ['openid'] });
    assert.equal(url.origin + url.pathname, 'https://accounts.google.com/o/oauth2/v2/auth');
  });
});
