/**
 * `npm start`: the demo, with nothing to configure.
 *
 * Environment (all optional):
 * - `PORT` the web app's port (default 3000); the local provider takes `PORT + 1` and the local
 *   Tasks API `PORT + 2`, unless `PROVIDER_PORT` / `API_PORT` say otherwise.
 * - `DATA_DIR` where the demo keeps its secret, credentials, grants and tasks (default `.data`).
 * - `CLIENT_SECRETS` a Google `client_secrets.json`: run against Google and the real Tasks API.
 * - `GCE_METADATA_HOST` with `CLIENT_SECRETS`: the metadata server for the service-account page
 *   (`metadata.google.internal` on Google Cloud); the local demo runs a stand-in of its own.
 *
 * @module
 */
import { startDemo } from './app.js';

function port(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    console.error(`${name} must be a port number (0-65535), not ${JSON.stringify(raw)}`);
    process.exit(2);
  }
  return n;
}

try {
  const demo = await startDemo({
    port: port('PORT'),
    providerPort: port('PROVIDER_PORT'),
    apiPort: port('API_PORT'),
    dataDir: process.env.DATA_DIR || undefined,
    clientSecrets: process.env.CLIENT_SECRETS || undefined,
    metadataHost: process.env.GCE_METADATA_HOST || undefined,
  });
  let stopping = false;
  const shutdown = () => {
    if (stopping) process.exit(130);
    stopping = true;
    demo.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
} catch (err) {
  const e = err as { code?: string; port?: number; message?: string };
  if (e.code === 'EADDRINUSE') {
    console.error(
      `Port ${e.port ?? ''} is already in use. Start on other ports, e.g. PORT=4000 npm start (uses 4000-4002).`,
    );
  } else {
    console.error('The demo could not start:', e.message ?? err);
  }
  process.exit(1);
}
