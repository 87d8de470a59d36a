import { OAuthClient, type Credentials } from '../../src/index.js';
import { faultyFetch, type FaultyFetch } from './faults.js';
import { startTestProvider, type TestProvider, type TestProviderOptions } from './provider.js';

export const REDIRECT_URI = 'http://127.0.0.1:8123/oauth2callback';
export const SCOPES = ['openid', 'email', 'api:read'];

export interface OAuthSetup {
  provider: TestProvider;
  client: OAuthClient;
  /** The fetch the client reaches the provider with; set `.fault` to inject one. */
  fetch: FaultyFetch;
  /** Runs the whole authorization-code flow for `login` and returns the credentials. */
  login(login?: string, scopes?: string[]): Promise<Credentials>;
  close(): Promise<void>;
}

/** A real oidc-provider on loopback and an OAuthClient registered with it. */
export async function setupOAuth(options: TestProviderOptions = {}): Promise<OAuthSetup> {
  const provider = await startTestProvider({
    clients: [
      { client_id: 'test-client', client_secret: 'test-secret', redirect_uris: [REDIRECT_URI] },
    ],
    ...options,
  });
  const fetch = faultyFetch();
  const client = new OAuthClient({
    clientId: 'test-client',
    clientSecret: 'test-secret',
    redirectUri: REDIRECT_URI,
    issuer: provider.issuer,
    allowHttpLoopback: true,
    fetch,
    timeoutMs: 2000,
  });
  return {
    provider,
    client,
    fetch,
    async login(login = 'alice', scopes = SCOPES) {
      const { url, pending } = await client.buildAuthorizationUrl({ scopes });
      const callback = await provider.authorize(url, { login });
      return client.exchangeCode(callback.searchParams, pending);
    },
    close: () => provider.close(),
  };
}
