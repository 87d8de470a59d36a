import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { CookieJar, startTestProvider, type TestProvider } from './support/provider.js';

const CLIENT = {
  client_id: 'harness-client',
  client_secret: 'harness-secret',
  redirect_uris: ['http://127.0.0.1:8123/oauth2callback'],
};
const REDIRECT_URI = CLIENT.redirect_uris[0]!;
const SCOPE = 'openid email https://www.googleapis.com/auth/tasks';

interface EndpointResponse {
  access_token?: string;
  refresh_token?: string;
  id_token?: string;
  token_type?: string;
  expires_in?: number;
  scope?: string;
  error?: string;
  active?: boolean;
}

async function pkcePair() {
  const verifier = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url');
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return { verifier, challenge: Buffer.from(digest).toString('base64url') };
}

function authorizationUrl(
  issuer: string,
  params: { state: string; challenge?: string; scope?: string },
): URL {
  const url = new URL('/auth', issuer);
  url.search = new URLSearchParams({
    client_id: CLIENT.client_id,
    redirect_uri: REDIRECT_URI,
    response_type: 'code',
    scope: params.scope ?? SCOPE,
    state: params.state,
    ...(params.challenge && { code_challenge: params.challenge, code_challenge_method: 'S256' }),
  }).toString();
  return url;
}

async function postForm(url: string, params: Record<string, string>) {
  const credentials = Buffer.from(`${CLIENT.client_id}:${CLIENT.client_secret}`).toString('base64');
  const res = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Basic ${credentials}` },
    body: new URLSearchParams(params),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as EndpointResponse };
}

const tokenRequest = (tp: TestProvider, params: Record<string, string>) =>
  postForm(`${tp.issuer}/token`, params);

const refresh = (tp: TestProvider, refreshToken: string) =>
  tokenRequest(tp, { grant_type: 'refresh_token', refresh_token: refreshToken });

/** Authorization code + PKCE, start to finish, as `login`. */
async function signIn(tp: TestProvider, login: string, jar?: CookieJar) {
  const { verifier, challenge } = await pkcePair();
  const redirect = await tp.authorize(authorizationUrl(tp.issuer, { state: login, challenge }), {
    login,
    ...(jar && { jar }),
  });
  const code = redirect.searchParams.get('code');
  assert.ok(code, `no code in ${redirect}`);
  const res = await tokenRequest(tp, {
    grant_type: 'authorization_code',
    code,
    redirect_uri: REDIRECT_URI,
    code_verifier: verifier,
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
}

function jwtPayload(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString());
}

describe('test provider', () => {
  let tp: TestProvider;
  before(async () => {
    tp = await startTestProvider({ clients: [CLIENT] });
  });
  after(() => tp.close());

  it('advertises RFC 9207 iss, S256 PKCE and the endpoints', async () => {
    const res = await fetch(`${tp.issuer}/.well-known/openid-configuration`);
    const discovery = await res.json();
    assert.equal(discovery.issuer, tp.issuer);
    assert.equal(discovery.authorization_response_iss_parameter_supported, true);
    assert.deepEqual(discovery.code_challenge_methods_supported, ['S256']);
    assert.equal(discovery.token_endpoint, `${tp.issuer}/token`);
    assert.equal(discovery.revocation_endpoint, `${tp.issuer}/token/revocation`);
    assert.ok(discovery.scopes_supported.includes('https://www.googleapis.com/auth/tasks'));
  });

  it('completes an authorization code + PKCE round trip and refreshes', async () => {
    tp.resetCounts();
    const { verifier, challenge } = await pkcePair();
    const state = crypto.randomUUID();

    const redirect = await tp.authorize(authorizationUrl(tp.issuer, { state, challenge }), {
      login: 'alice',
    });
    assert.equal(`${redirect.origin}${redirect.pathname}`, REDIRECT_URI);
    assert.equal(redirect.searchParams.get('state'), state);
    assert.equal(redirect.searchParams.get('iss'), tp.issuer);
    const code = redirect.searchParams.get('code');
    assert.ok(code);
    assert.equal(tp.counts.auth, 1);
    assert.equal(tp.counts.token, 0);

    const exchange = await tokenRequest(tp, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      code_verifier: verifier,
    });
    assert.equal(exchange.status, 200, JSON.stringify(exchange.body));
    const tokens = exchange.body;
    assert.ok(tokens.access_token);
    assert.ok(tokens.refresh_token);
    assert.ok(tokens.id_token);
    assert.equal(tokens.token_type, 'Bearer');
    assert.equal(tokens.expires_in, 3600);
    assert.equal(tokens.scope, SCOPE);
    assert.equal(tp.counts.token, 1);

    const claims = jwtPayload(tokens.id_token);
    assert.equal(claims.iss, tp.issuer);
    assert.equal(claims.aud, CLIENT.client_id);
    assert.equal(claims.sub, 'alice');
    assert.equal(claims.email, 'alice@example.test');

    const refreshed = await refresh(tp, tokens.refresh_token);
    assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
    assert.ok(refreshed.body.access_token);
    assert.notEqual(refreshed.body.access_token, tokens.access_token);
    // Without rotation oidc-provider echoes the same refresh token (Google omits it).
    assert.equal(refreshed.body.refresh_token, tokens.refresh_token);
    assert.equal(tp.counts.token, 2);

    // A code is single-use.
    const replay = await tokenRequest(tp, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      code_verifier: verifier,
    });
    assert.equal(replay.status, 400);
    assert.equal(replay.body.error, 'invalid_grant');
  });

  it('requires PKCE from confidential clients', async () => {
    const withoutChallenge = await tp.authorize(authorizationUrl(tp.issuer, { state: 's' }));
    assert.equal(withoutChallenge.searchParams.get('error'), 'invalid_request');

    const { challenge } = await pkcePair();
    const redirect = await tp.authorize(authorizationUrl(tp.issuer, { state: 's', challenge }));
    const wrongVerifier = await tokenRequest(tp, {
      grant_type: 'authorization_code',
      code: redirect.searchParams.get('code')!,
      redirect_uri: REDIRECT_URI,
      code_verifier: (await pkcePair()).verifier,
    });
    assert.equal(wrongVerifier.status, 400);
    assert.equal(wrongVerifier.body.error, 'invalid_grant');
  });

  it('skips login and consent when the cookie jar already holds a session and grant', async () => {
    const jar = new CookieJar();
    await signIn(tp, 'dana', jar);

    // Asking for consent: false and another login proves neither page is shown again.
    const { verifier, challenge } = await pkcePair();
    const url = authorizationUrl(tp.issuer, { state: 'again', challenge });
    const redirect = await tp.authorize(url, { jar, login: 'mallory', consent: false });
    const exchange = await tokenRequest(tp, {
      grant_type: 'authorization_code',
      code: redirect.searchParams.get('code')!,
      redirect_uri: REDIRECT_URI,
      code_verifier: verifier,
    });
    assert.equal(exchange.status, 200, JSON.stringify(exchange.body));
    assert.equal(jwtPayload(exchange.body.id_token!).sub, 'dana');
  });

  it('redirects with access_denied when consent is refused', async () => {
    const { challenge } = await pkcePair();
    const redirect = await tp.authorize(authorizationUrl(tp.issuer, { state: 'no', challenge }), {
      login: 'erin',
      consent: false,
    });
    assert.equal(`${redirect.origin}${redirect.pathname}`, REDIRECT_URI);
    assert.equal(redirect.searchParams.get('error'), 'access_denied');
    assert.equal(redirect.searchParams.get('state'), 'no');
    assert.equal(redirect.searchParams.get('iss'), tp.issuer);
    assert.equal(redirect.searchParams.get('code'), null);
  });

  it('revokeAllFor makes that account refresh fail with invalid_grant', async () => {
    const frank = await signIn(tp, 'frank');
    const grace = await signIn(tp, 'grace');

    await tp.revokeAllFor('frank');

    const revoked = await refresh(tp, frank.refresh_token!);
    assert.equal(revoked.status, 400);
    assert.equal(revoked.body.error, 'invalid_grant');
    const introspection = await postForm(`${tp.issuer}/token/introspection`, {
      token: frank.access_token!,
    });
    assert.deepEqual(introspection.body, { active: false });

    assert.equal((await refresh(tp, grace.refresh_token!)).status, 200);
  });

  it('counts revocation requests', async () => {
    const tokens = await signIn(tp, 'heidi');
    tp.resetCounts();
    const res = await postForm(`${tp.issuer}/token/revocation`, { token: tokens.refresh_token! });
    assert.equal(res.status, 200);
    assert.deepEqual(tp.counts, { token: 0, revocation: 1, auth: 0 });
    assert.equal((await refresh(tp, tokens.refresh_token!)).body.error, 'invalid_grant');
  });
});

describe('test provider with rotateRefreshToken', () => {
  let tp: TestProvider;
  before(async () => {
    tp = await startTestProvider({ clients: [CLIENT], rotateRefreshToken: true });
  });
  after(() => tp.close());

  it('rotates on refresh; reusing the old token fails and revokes the whole grant', async () => {
    const tokens = await signIn(tp, 'ivan');

    const first = await refresh(tp, tokens.refresh_token!);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.ok(first.body.refresh_token);
    assert.notEqual(first.body.refresh_token, tokens.refresh_token);

    const reuse = await refresh(tp, tokens.refresh_token!);
    assert.equal(reuse.status, 400);
    assert.equal(reuse.body.error, 'invalid_grant');

    // oidc-provider treats reuse as theft and drops the grant, so the new token is dead too.
    const next = await refresh(tp, first.body.refresh_token!);
    assert.equal(next.body.error, 'invalid_grant');
  });
});

describe('test provider with a short access token lifetime', () => {
  let tp: TestProvider;
  before(async () => {
    tp = await startTestProvider({ clients: [CLIENT], accessTokenTtl: 2 });
  });
  after(() => tp.close());

  it('expires access tokens after accessTokenTtl seconds', async () => {
    const tokens = await signIn(tp, 'judy');
    assert.equal(tokens.expires_in, 2);
    const introspect = () =>
      postForm(`${tp.issuer}/token/introspection`, { token: tokens.access_token! });

    assert.equal((await introspect()).body.active, true);
    await sleep(2100);
    assert.equal((await introspect()).body.active, false);
  });
});
