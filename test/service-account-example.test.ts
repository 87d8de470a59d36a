import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AppAssertionCredentials } from '../src/service-account/index.js';
import {
  clientCredentialsTokenSource,
  startMetadataServer,
  type MetadataServer,
} from '../examples/metadata-server.js';

const CLIENT = { client_id: 'demo-service-account', client_secret: 'demo-sa-secret' };
const SCOPE = 'api:read';

/**
 * The demo's service-account page: oidc-provider issues tokens by client credentials, the
 * metadata-server stand-in hands them out, and AppAssertionCredentials gets them.
 */
describe('examples/metadata-server.ts: the demo metadata server minting from a local provider', () => {
  let server: Server;
  let issuer: string;
  let metadata: MetadataServer;
  let provider: any;

  before(async () => {
    const { default: Provider } = await import('oidc-provider');
    server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const { warn, info } = console;
    console.warn = console.info = () => {}; // oidc-provider's development notices
    try {
      provider = new Provider(issuer, {
        clients: [
          {
            ...CLIENT,
            grant_types: ['client_credentials'],
            response_types: [],
            redirect_uris: [],
            scope: SCOPE,
          },
        ],
        scopes: [SCOPE],
        features: {
          clientCredentials: { enabled: true },
          introspection: { enabled: true },
          devInteractions: { enabled: false },
        },
      });
    } finally {
      console.warn = warn;
      console.info = info;
    }
    server.on('request', provider.callback());
    metadata = await startMetadataServer({
      tokenSource: clientCredentialsTokenSource({
        tokenEndpoint: `${issuer}/token`,
        clientId: CLIENT.client_id,
        clientSecret: CLIENT.client_secret,
      }),
      email: 'demo-app@demo-project.iam.gserviceaccount.com',
    });
  });
  after(async () => {
    await metadata.close();
    const closed = new Promise<void>((r) => server.close(() => r()));
    server.closeAllConnections();
    await closed;
  });

  it('AppAssertionCredentials gets a token the provider recognises, and reuses it', async () => {
    const credentials = new AppAssertionCredentials({
      scopes: [SCOPE],
      env: { GCE_METADATA_HOST: metadata.host },
    });
    const { token } = await credentials.getAccessToken();
    assert.equal(await credentials.getEmail(), 'demo-app@demo-project.iam.gserviceaccount.com');

    const res = await fetch(`${issuer}/token/introspection`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${btoa(`${CLIENT.client_id}:${CLIENT.client_secret}`)}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ token }),
    });
    const info = (await res.json()) as { active: boolean; scope?: string; client_id?: string };
    assert.equal(info.active, true);
    assert.equal(info.scope, SCOPE);
    assert.equal(info.client_id, CLIENT.client_id);

    // A second app instance gets the stand-in's cached token, as from the real metadata server.
    const other = new AppAssertionCredentials({
      scopes: [SCOPE],
      env: { GCE_METADATA_HOST: metadata.host },
    });
    assert.equal((await other.getAccessToken()).token, token);
    assert.equal(metadata.mints, 1);
  });

  it('the stand-in refuses requests without Metadata-Flavor: Google, and proxied ones', async () => {
    const path = '/computeMetadata/v1/instance/service-accounts/default/token';
    assert.equal((await fetch(`${metadata.url}${path}`)).status, 403);
    const proxied = await fetch(`${metadata.url}${path}`, {
      headers: { 'metadata-flavor': 'Google', 'x-forwarded-for': '203.0.113.7' },
    });
    assert.equal(proxied.status, 403);
    assert.equal(proxied.headers.get('metadata-flavor'), 'Google');
  });
});
