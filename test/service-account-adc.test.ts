import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AppAssertionCredentials,
  applicationDefault,
  ApplicationDefaultError,
  AuthorizedUserCredentials,
  ServiceAccountCredentials,
  type ApplicationDefaultOptions,
} from '../src/service-account/index.js';
import * as node from '../src/adapters/node-service-account.js';
import { ConfigurationError, GrantRevokedError } from '../src/index.js';
import { startMetadataServer, type TestMetadataServer } from './support/metadata-server.js';
import {
  createTestServiceAccount,
  startTokenEndpoint,
  type TestServiceAccount,
  type TestTokenEndpoint,
} from './support/sa-token-endpoint.js';

const SCOPES = ['https://www.googleapis.com/auth/tasks'];

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('applicationDefault()', () => {
  let te: TestTokenEndpoint;
  let md: TestMetadataServer;
  let sa: TestServiceAccount;
  let files: Map<string, string>;
  let deadHost: string;
  const user = {
    type: 'authorized_user',
    client_id: 'gcloud-client.apps.googleusercontent.com',
    client_secret: 'gcloud-secret',
    refresh_token: 'saved-refresh-token',
    token_uri: '',
  };
  const readFile = async (path: string) => files.get(path);
  const adc = (options: ApplicationDefaultOptions = {}) =>
    applicationDefault({
      scopes: SCOPES,
      readFile,
      wellKnownFile: '/home/dev/.config/gcloud/application_default_credentials.json',
      allowedTokenUris: [te.url],
      allowHttpLoopback: true,
      ...options,
      env: { GCE_METADATA_HOST: md.host, ...options.env },
    });

  before(async () => {
    te = await startTokenEndpoint();
    md = await startMetadataServer();
    sa = await createTestServiceAccount(te.url);
    te.register(sa);
    user.token_uri = te.url;
    te.registerUser({
      clientId: user.client_id,
      clientSecret: user.client_secret,
      refreshToken: user.refresh_token,
    });
    deadHost = `127.0.0.1:${await closedPort()}`;
  });
  after(async () => {
    await te.close();
    await md.close();
  });
  beforeEach(() => {
    files = new Map();
    md.requests.length = 0;
    md.fault = 'none';
  });

  it('1. GOOGLE_APPLICATION_CREDENTIALS comes first, before the well-known file and the metadata server', async () => {
    files.set('/secrets/key.json', JSON.stringify(sa.keyFile));
    files.set(
      '/home/dev/.config/gcloud/application_default_credentials.json',
      JSON.stringify(user),
    );
    const credentials = await adc({ env: { GOOGLE_APPLICATION_CREDENTIALS: '/secrets/key.json' } });
    assert.ok(credentials instanceof ServiceAccountCredentials);
    assert.equal(credentials.clientEmail, sa.email);
    assert.deepEqual(credentials.scopes, SCOPES);
    assert.ok(te.issued.has((await credentials.getAccessToken()).token));
    assert.equal(md.requests.length, 0, 'the metadata server was not consulted');
  });

  it('1. a GOOGLE_APPLICATION_CREDENTIALS file that does not exist is an error, not a fall-through', async () => {
    files.set(
      '/home/dev/.config/gcloud/application_default_credentials.json',
      JSON.stringify(user),
    );
    await assert.rejects(
      adc({ env: { GOOGLE_APPLICATION_CREDENTIALS: '/secrets/missing.json' } }),
      (err: unknown) => {
        assert.ok(err instanceof ApplicationDefaultError);
        assert.equal(err.code, 'configuration_invalid');
        assert.equal(
          err.message,
          'GOOGLE_APPLICATION_CREDENTIALS names /secrets/missing.json, which does not exist. Tried, in order: (1) GOOGLE_APPLICATION_CREDENTIALS: /secrets/missing.json does not exist',
        );
        assert.equal(err.tried.length, 1);
        return true;
      },
    );
    assert.equal(md.requests.length, 0);
  });

  it('1. a malformed GOOGLE_APPLICATION_CREDENTIALS file names the file and the field', async () => {
    const { private_key: _k, ...noKey } = sa.keyFile;
    files.set('/secrets/key.json', JSON.stringify(noKey));
    await assert.rejects(
      adc({ env: { GOOGLE_APPLICATION_CREDENTIALS: '/secrets/key.json' } }),
      (err: unknown) =>
        err instanceof ApplicationDefaultError &&
        err.message ===
          'the credentials file /secrets/key.json is unusable. Tried, in order: (1) GOOGLE_APPLICATION_CREDENTIALS: the credentials in /secrets/key.json lack "private_key"',
    );
    files.set('/secrets/key.json', JSON.stringify({ type: 'external_account' }));
    await assert.rejects(
      adc({ env: { GOOGLE_APPLICATION_CREDENTIALS: '/secrets/key.json' } }),
      /have type "external_account"; oauthkit reads "service_account" and "authorized_user"/,
    );
  });

  it('1. GOOGLE_APPLICATION_CREDENTIALS without a way to read files says so', async () => {
    await assert.rejects(
      adc({ env: { GOOGLE_APPLICATION_CREDENTIALS: '/k.json' }, readFile: undefined }),
      /set to \/k\.json, but no readFile was given to read it \(on Node, use oauthkit\/service-account\/node\)/,
    );
  });

  it('2. the gcloud well-known file with authorized_user credentials refreshes its refresh token', async () => {
    files.set(
      '/home/dev/.config/gcloud/application_default_credentials.json',
      JSON.stringify(user),
    );
    const credentials = await adc();
    assert.ok(credentials instanceof AuthorizedUserCredentials);
    assert.ok(te.issued.has((await credentials.getAccessToken()).token));
    assert.equal(md.requests.length, 0);
    const json = JSON.stringify(credentials);
    assert.ok(!json.includes(user.refresh_token) && !json.includes(user.client_secret));
  });

  it('2. a revoked gcloud login says to log in again', async () => {
    files.set(
      '/home/dev/.config/gcloud/application_default_credentials.json',
      JSON.stringify({ ...user, refresh_token: 'rt-no-longer-valid-7f3a' }),
    );
    const credentials = await adc();
    await assert.rejects(credentials.getAccessToken(), (err: unknown) => {
      assert.ok(err instanceof GrantRevokedError);
      assert.match(err.message, /run "gcloud auth application-default login" again/);
      assert.equal(err.error, 'invalid_grant');
      assert.ok(
        !JSON.stringify(err).includes('rt-no-longer-valid') && !err.message.includes('rt-no-'),
      );
      return true;
    });
  });

  it('2. the gcloud well-known file may hold a service account key too', async () => {
    files.set(
      '/home/dev/.config/gcloud/application_default_credentials.json',
      JSON.stringify(sa.keyFile),
    );
    const credentials = await adc();
    assert.ok(credentials instanceof ServiceAccountCredentials);
  });

  it('3. then the metadata server, when it answers as one', async () => {
    const credentials = await adc();
    assert.ok(credentials instanceof AppAssertionCredentials);
    assert.equal(credentials.metadataUrl, md.url);
    assert.ok(md.issued.has((await credentials.getAccessToken()).token));
    assert.equal(md.requests[0]!.path, '/computeMetadata/v1/instance/');
    assert.equal(md.requests[0]!.flavor, 'Google');
  });

  it('nothing found: the error lists each source in order with why it failed', async () => {
    await assert.rejects(adc({ env: { GCE_METADATA_HOST: deadHost } }), (err: unknown) => {
      assert.ok(err instanceof ApplicationDefaultError);
      assert.equal(
        err.message,
        'no Google credentials found. Set GOOGLE_APPLICATION_CREDENTIALS to a service-account key file, run "gcloud auth application-default login", or run on Google Cloud. Tried, in order: ' +
          '(1) GOOGLE_APPLICATION_CREDENTIALS: not set; ' +
          '(2) gcloud well-known file: /home/dev/.config/gcloud/application_default_credentials.json does not exist; ' +
          `(3) metadata server: could not reach the metadata server at http://${deadHost}`,
      );
      assert.deepEqual(
        err.tried.map((t) => t.source),
        ['GOOGLE_APPLICATION_CREDENTIALS', 'gcloud well-known file', 'metadata server'],
      );
      return true;
    });
  });

  it('nothing found: a metadata server that is not one, or hangs, is named as such', async () => {
    md.fault = 'no-flavor';
    await assert.rejects(
      adc(),
      /\(3\) metadata server: the metadata server at http:\/\/127\.0\.0\.1:\d+ answered without "Metadata-Flavor: Google"/,
    );
    md.fault = 'hang';
    await assert.rejects(
      adc({ detectTimeoutMs: 100 }),
      /\(3\) metadata server: the metadata server at http:\/\/127\.0\.0\.1:\d+ did not answer within 100 ms$/,
    );
  });

  it('METADATA_SERVER_DETECTION=none skips the metadata server; assume-present skips the check', async () => {
    await assert.rejects(
      adc({ env: { METADATA_SERVER_DETECTION: 'none' } }),
      /\(3\) metadata server: not checked \(METADATA_SERVER_DETECTION=none\)$/,
    );
    assert.equal(md.requests.length, 0);
    const assumed = await adc({
      env: { METADATA_SERVER_DETECTION: 'assume-present', GCE_METADATA_HOST: deadHost },
    });
    assert.ok(assumed instanceof AppAssertionCredentials);
  });

  it('without file access (a Worker), the file sources say so and the metadata server is tried', async () => {
    await assert.rejects(
      adc({ readFile: undefined, wellKnownFile: undefined, env: { GCE_METADATA_HOST: deadHost } }),
      /\(2\) gcloud well-known file: no file access on this runtime \(pass wellKnownFile and readFile\); \(3\)/,
    );
  });
});

describe('oauthkit/service-account/node', () => {
  let dir: string;
  let te: TestTokenEndpoint;
  let sa: TestServiceAccount;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'oauthkit-sa-'));
    te = await startTokenEndpoint();
    sa = await createTestServiceAccount(te.url);
    te.register(sa);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
    await te.close();
  });

  it('gcloudWellKnownFile() follows CLOUDSDK_CONFIG, APPDATA on Windows, ~/.config elsewhere', () => {
    assert.equal(
      node.gcloudWellKnownFile({}, 'linux', '/home/dev'),
      '/home/dev/.config/gcloud/application_default_credentials.json',
    );
    assert.equal(
      node.gcloudWellKnownFile({ CLOUDSDK_CONFIG: '/etc/gcloud' }, 'linux', '/home/dev'),
      '/etc/gcloud/application_default_credentials.json',
    );
    assert.equal(
      node.gcloudWellKnownFile(
        { APPDATA: 'C:\\Users\\dev\\AppData\\Roaming' },
        'win32',
        'C:\\Users\\dev',
      ),
      'C:\\Users\\dev\\AppData\\Roaming\\gcloud\\application_default_credentials.json',
    );
  });

  it('readCredentialsFile() gives undefined for a missing file and an error naming an unreadable one', async () => {
    assert.equal(await node.readCredentialsFile(join(dir, 'missing.json')), undefined);
    await assert.rejects(node.readCredentialsFile(dir), (err: unknown) => {
      assert.ok(err instanceof ConfigurationError);
      assert.equal(err.message, `${dir} cannot be read (EISDIR)`);
      return true;
    });
  });

  it('loadServiceAccountCredentials() reads a key file and names it in errors', async () => {
    const path = join(dir, 'key.json');
    await writeFile(path, JSON.stringify(sa.keyFile), { mode: 0o600 });
    const credentials = await node.loadServiceAccountCredentials(path, {
      scopes: SCOPES,
      allowedTokenUris: [te.url],
      allowHttpLoopback: true,
    });
    assert.ok(te.issued.has((await credentials.getAccessToken()).token));
    await assert.rejects(
      node.loadServiceAccountCredentials(join(dir, 'nope.json')),
      new RegExp(`the key file ${join(dir, 'nope.json')} does not exist`),
    );
    await assert.rejects(node.loadServiceAccountCredentials(path), (err: unknown) => {
      assert.ok(err instanceof ConfigurationError);
      assert.match(
        err.message,
        new RegExp(`the "token_uri" in ${path} points to http://127.0.0.1`),
      );
      return true;
    });
  });

  it('applicationDefault() reads GOOGLE_APPLICATION_CREDENTIALS and the gcloud file from disk', async () => {
    const path = join(dir, 'named.json');
    await writeFile(path, JSON.stringify(sa.keyFile));
    const options = { scopes: SCOPES, allowedTokenUris: [te.url], allowHttpLoopback: true };
    const named = await node.applicationDefault({
      ...options,
      env: { GOOGLE_APPLICATION_CREDENTIALS: path },
    });
    assert.ok(named instanceof ServiceAccountCredentials);

    const config = join(dir, 'gcloud');
    await mkdir(config);
    await writeFile(
      join(config, 'application_default_credentials.json'),
      JSON.stringify(sa.keyFile),
    );
    const wellKnown = await node.applicationDefault({
      ...options,
      env: { CLOUDSDK_CONFIG: config, METADATA_SERVER_DETECTION: 'none' },
    });
    assert.ok(wellKnown instanceof ServiceAccountCredentials);
  });

  it('createAppAssertionCredentials() honours GCE_METADATA_HOST from process.env', () => {
    const saved = process.env['GCE_METADATA_HOST'];
    process.env['GCE_METADATA_HOST'] = '127.0.0.1:9';
    try {
      assert.equal(node.createAppAssertionCredentials().metadataUrl, 'http://127.0.0.1:9');
    } finally {
      if (saved === undefined) delete process.env['GCE_METADATA_HOST'];
      else process.env['GCE_METADATA_HOST'] = saved;
    }
  });
});
