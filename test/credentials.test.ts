import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { SignJWT } from 'jose';
import { Credentials, CredentialsInvalidError, DEFAULT_EXPIRY_MARGIN_MS } from '../src/index.js';

const NOW = Date.UTC(2026, 10, 26, 12, 0, 0);

describe('Credentials', () => {
  it('isUsable() is true for an unexpired access token and for a refresh token alone', () => {
    assert.equal(
      new Credentials({ accessToken: 'a', expiresAt: NOW + 3600_000 }).isUsable(NOW),
      true,
    );
    assert.equal(new Credentials({ refreshToken: 'r' }).isUsable(NOW), true);
    assert.equal(new Credentials({ accessToken: 'a', expiresAt: NOW - 1 }).isUsable(NOW), false);
    assert.equal(new Credentials({}).isUsable(NOW), false);
  });

  it('isUsable() is false once marked invalid, whatever the tokens', () => {
    const c = new Credentials({
      accessToken: 'a',
      refreshToken: 'r',
      expiresAt: NOW + 3600_000,
      invalid: true,
    });
    assert.equal(c.isUsable(NOW), false);
  });

  it('isExpired() applies the clock-skew margin', () => {
    const c = new Credentials({
      accessToken: 'a',
      expiresAt: NOW + DEFAULT_EXPIRY_MARGIN_MS + 1000,
    });
    assert.equal(c.isExpired(NOW), false);
    assert.equal(c.isExpired(NOW + 1000), true, 'inside the margin counts as expired');
    assert.equal(c.isExpired(NOW, 0), false);
    assert.equal(new Credentials({ accessToken: 'a' }).isExpired(NOW), false, 'unknown expiry');
  });

  it('keeps granted scopes sorted and deduplicated, and hasScopes() checks all of them', () => {
    const c = new Credentials({ scopes: ['b', 'a', 'b'] });
    assert.deepEqual(c.scopes, ['a', 'b']);
    assert.equal(c.hasScopes(['a']), true);
    assert.equal(c.hasScopes(['a', 'c']), false);
  });

  it('hasScopes() knows the names Google grants email and profile under', () => {
    const c = new Credentials({
      scopes: ['openid', 'https://www.googleapis.com/auth/userinfo.email', 'profile'],
    });
    assert.equal(c.hasScopes(['email', 'openid']), true);
    assert.equal(c.hasScopes(['https://www.googleapis.com/auth/userinfo.profile']), true);
    assert.equal(c.hasScopes(['constructor']), false);
  });

  it('toJSON/fromJSON round-trips every field', () => {
    const c = new Credentials({
      accessToken: 'at',
      refreshToken: 'rt',
      expiresAt: NOW,
      scopes: ['openid', 'email'],
      idToken: 'x.y.z',
      idTokenClaims: { iss: 'https://issuer.test', sub: '42', aud: 'c' },
      tokenType: 'DPoP',
      invalid: true,
    });
    const json = JSON.parse(JSON.stringify(c));
    assert.equal(json.v, 1);
    assert.equal(json.expires_at, new Date(NOW).toISOString());
    assert.equal(json.scope, 'email openid');
    const back = Credentials.fromJSON(JSON.stringify(c));
    assert.deepEqual(back.toJSON(), c.toJSON());
    assert.deepEqual(back.subject, { iss: 'https://issuer.test', sub: '42' });
  });

  it('with() returns a changed copy and leaves the original alone', () => {
    const c = new Credentials({ accessToken: 'a', refreshToken: 'r' });
    const d = c.with({ invalid: true });
    assert.equal(c.invalid, false);
    assert.equal(d.invalid, true);
    assert.equal(d.refreshToken, 'r');
    assert.ok(Object.isFrozen(c));
  });

  it('inspect() redacts tokens', () => {
    const c = new Credentials({ accessToken: 'secret-access', refreshToken: 'secret-refresh' });
    const shown = inspect(c);
    assert.doesNotMatch(shown, /secret-access|secret-refresh/);
    assert.match(shown, /redacted/);
  });

  it('fromJSON rejects non-JSON, non-objects, unknown formats and future versions', () => {
    assert.throws(() => Credentials.fromJSON('{'), CredentialsInvalidError);
    assert.throws(() => Credentials.fromJSON('[]'), CredentialsInvalidError);
    assert.throws(() => Credentials.fromJSON('{"hello":1}'), CredentialsInvalidError);
    assert.throws(() => Credentials.fromJSON('{"v":2}'), /version 2/);
    assert.throws(
      () => Credentials.fromJSON('{"v":1,"expires_at":"soon"}'),
      CredentialsInvalidError,
    );
    assert.throws(
      () => Credentials.fromJSON('{"v":1,"access_token":7}'),
      /non-string "access_token"/,
    );
  });
});

describe('Credentials.fromJSON with oauth2client JSON', () => {
  // Exactly what oauth2client's OAuth2Credentials.to_json() writes (field order and all).
  const record = async () => {
    const key = new TextEncoder().encode('k'.repeat(32));
    const idTokenJwt = await new SignJWT({ email: 'ada@example.test' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('https://accounts.google.com')
      .setSubject('1234567890')
      .setAudience('client.apps.googleusercontent.com')
      .sign(key);
    return {
      access_token: 'ya29.legacy',
      client_id: 'client.apps.googleusercontent.com',
      client_secret: 'legacy-secret',
      refresh_token: '1/legacy-refresh',
      token_expiry: '2026-11-26T12:00:00Z',
      token_uri: 'https://oauth2.googleapis.com/token',
      user_agent: null,
      revoke_uri: 'https://oauth2.googleapis.com/revoke',
      id_token: {
        iss: 'https://accounts.google.com',
        sub: '1234567890',
        aud: 'client.apps.googleusercontent.com',
        email: 'ada@example.test',
      },
      id_token_jwt: idTokenJwt,
      token_response: {
        access_token: 'ya29.legacy',
        expires_in: 3599,
        scope: 'https://www.googleapis.com/auth/tasks openid',
        token_type: 'Bearer',
      },
      scopes: [
        'https://www.googleapis.com/auth/tasks',
        'openid',
        'https://www.googleapis.com/auth/calendar',
      ],
      token_info_uri: 'https://oauth2.googleapis.com/tokeninfo',
      invalid: false,
      _class: 'OAuth2Credentials',
      _module: 'oauth2client.client',
    };
  };

  it('reads tokens, expiry (UTC), granted scopes from token_response, and the ID token', async () => {
    const c = Credentials.fromJSON(JSON.stringify(await record()));
    assert.equal(c.accessToken, 'ya29.legacy');
    assert.equal(c.refreshToken, '1/legacy-refresh');
    assert.equal(c.expiresAt, NOW);
    assert.deepEqual(c.scopes, ['https://www.googleapis.com/auth/tasks', 'openid']);
    assert.deepEqual(c.subject, { iss: 'https://accounts.google.com', sub: '1234567890' });
    assert.ok(c.idToken?.split('.').length === 3);
    assert.equal(c.invalid, false);
  });

  it('falls back to the requested scopes when no token_response was kept', async () => {
    const r = { ...(await record()), token_response: null };
    const c = Credentials.fromJSON(r);
    assert.deepEqual(c.scopes, [
      'https://www.googleapis.com/auth/calendar',
      'https://www.googleapis.com/auth/tasks',
      'openid',
    ]);
  });

  it('reads a null token_expiry and invalid: true', async () => {
    const c = Credentials.fromJSON({ ...(await record()), token_expiry: null, invalid: true });
    assert.equal(c.expiresAt, undefined);
    assert.equal(c.invalid, true);
    assert.equal(c.isUsable(), false);
  });

  it('never uses _class or _module to load anything', async () => {
    // A hostile record naming a module with side effects: only data fields are read.
    const hostile = { ...(await record()), _module: 'child_process', _class: 'exec' };
    const c = Credentials.fromJSON(hostile);
    assert.equal(c.accessToken, 'ya29.legacy');
    assert.ok(!('_module' in c.toJSON()));
  });

  it('saves in oauthkit format, without the client secret', async () => {
    const json = Credentials.fromJSON(await record()).toJSON();
    assert.equal(json.v, 1);
    assert.doesNotMatch(JSON.stringify(json), /legacy-secret|_class|client_secret/);
  });

  it('rejects an unreadable token_expiry', async () => {
    assert.throws(
      () => Credentials.fromJSON({ _class: 'OAuth2Credentials', token_expiry: 'tomorrow' }),
      /token_expiry/,
    );
  });
});
