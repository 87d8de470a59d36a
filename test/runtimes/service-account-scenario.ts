// The service-account scenario every runtime runs (Node, Bun, Deno, workerd): Web APIs only.
// It talks to the token endpoint, metadata server and API the Node test started on loopback,
// and returns what it saw; the Node test checks the results and the servers' own records.
import { base64url } from 'jose';
import {
  AppAssertionCredentials,
  ServiceAccountCredentials,
} from '../../src/service-account/index.js';

export interface ScenarioConfig {
  tokenUri: string;
  apiOrigin: string;
  metadataHost: string;
  keyFile: Record<string, unknown>;
  /** The same account and kid with another private key: the endpoint must refuse it. */
  impostorKeyFile: Record<string, unknown>;
  scopes: string[];
}

function describeError(err: unknown): Record<string, unknown> {
  const e = err as { name?: string; code?: string; message?: string; status?: number };
  return { name: e.name, code: e.code, message: e.message, status: e.status };
}

async function settle(p: Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    await p;
    return { ok: true };
  } catch (err) {
    return describeError(err);
  }
}

export async function runScenario(config: ScenarioConfig): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const local = { allowedTokenUris: [config.tokenUri], allowHttpLoopback: true, retries: 0 };

  // ServiceAccountCredentials: the JWT bearer grant against the local token endpoint.
  const sa = await ServiceAccountCredentials.fromKeyFile(config.keyFile, {
    scopes: config.scopes,
    ...local,
  });
  const first = await sa.getAccessToken();
  const again = await sa.getAccessToken();
  out['jwtBearerToken'] = first.token;
  out['jwtBearerCached'] = first.token === again.token;
  const res = await sa.authorize()(`${config.apiOrigin}/echo`, { method: 'POST', body: 'x' });
  out['jwtBearerApiStatus'] = res.status;
  await res.body?.cancel();
  out['delegatedToken'] = (await sa.withSubject('alice@example.com').getAccessToken()).token;
  out['signature'] = base64url.encode(await sa.signBlob('hello'));
  out['json'] = JSON.stringify(sa);

  // Self-signed JWT: no token endpoint.
  const selfSigned = await ServiceAccountCredentials.fromKeyFile(config.keyFile, {
    scopes: config.scopes,
    selfSignedJwt: true,
    ...local,
  });
  out['selfSignedToken'] = (await selfSigned.getAccessToken()).token;

  // A key the endpoint does not accept, and a hostile token_uri.
  const impostor = await ServiceAccountCredentials.fromKeyFile(config.impostorKeyFile, {
    scopes: config.scopes,
    ...local,
  });
  out['badKey'] = await settle(impostor.getAccessToken());
  out['hostileTokenUri'] = await settle(
    Promise.resolve().then(
      () =>
        new ServiceAccountCredentials(
          { ...config.keyFile, token_uri: 'https://evil.example/token' },
          { scopes: config.scopes },
        ),
    ),
  );

  // AppAssertionCredentials against the local metadata server.
  const env = { GCE_METADATA_HOST: config.metadataHost };
  const md = new AppAssertionCredentials({ scopes: config.scopes, env });
  out['metadataToken'] = (await md.getAccessToken()).token;
  out['metadataEmail'] = await md.getEmail();
  out['metadataIdToken'] = await md.getIdToken('https://other.example');
  const mdRes = await md.authorize()(`${config.apiOrigin}/echo`);
  out['metadataApiStatus'] = mdRes.status;
  await mdRes.body?.cancel();
  const faulty = (serviceAccount: string, timeoutMs = 3000) =>
    new AppAssertionCredentials({ env, serviceAccount, retries: 0, timeoutMs }).getAccessToken();
  out['noFlavor'] = await settle(faulty('no-flavor@test'));
  out['redirect'] = await settle(faulty('redirect@test'));
  out['hang'] = await settle(faulty('hang@test', 200));
  return out;
}
