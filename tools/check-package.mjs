// Packs the package, installs the tarball into an empty folder, and imports every subpath
// export, checking that each exposes what its docs promise. Run: npm run test:package
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const run = (cmd, args, cwd) =>
  execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'] }).toString();

// What each subpath must export (a few names each; the type-check covers the rest).
const expected = {
  '.': [
    'OAuthClient',
    'Credentials',
    'TokenManager',
    'createAuthorizedFetch',
    'OAuthKitError',
    'GOOGLE',
  ],
  './storage/memory': ['createMemoryStore'],
  './storage/sqlite': ['createSqliteStore'],
  './storage/postgres': ['createPostgresStore', 'postgresStoreMigration'],
  './storage/redis': ['createRedisStore'],
  './storage/encryption': [
    'createEncryptingCodec',
    'generateEncryptionKey',
    'parseEncryptionKeys',
    'reencryptAll',
  ],
  './storage/postgres-own-table': ['createPostgresOwnTableStore'],
  './storage/sqlite-own-table': ['createSqliteOwnTableStore'],
  './storage/credentials-column': ['createCredentialsColumn'],
  './storage/oauth2client': ['importOAuth2ClientRows'],
  './flow-store/redis': ['createRedisFlowStore'],
  './flow-store/sql': ['createPostgresFlowStore', 'createSqliteFlowStore'],
  './node': ['loadClientSecrets', 'createNodeHandler'],
  './fetch': ['withOAuth'],
  './hono': ['honoOAuth'],
  './express': ['expressOAuth'],
  './fastify': ['fastifyOAuth'],
  './discovery': ['build', 'buildFromDocument', 'createBatch', 'HttpError', 'ApiRequest'],
  './service-account': [
    'AppAssertionCredentials',
    'ServiceAccountCredentials',
    'applicationDefault',
    'createRedisTokenCache',
  ],
  './service-account/node': ['applicationDefault', 'loadServiceAccountCredentials'],
};

const work = mkdtempSync(join(tmpdir(), 'oauthkit-pack-'));
let failures = 0;
try {
  run('npm', ['run', 'build'], root);
  const tarball = run('npm', ['pack', '--silent', '--pack-destination', work], root)
    .trim()
    .split('\n')
    .pop();
  writeFileSync(
    join(work, 'package.json'),
    JSON.stringify({ name: 'pack-check', private: true, type: 'module' }),
  );
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(work, tarball)], work);

  const subpaths = Object.keys(pkg.exports).filter((s) => s !== './package.json');
  for (const subpath of subpaths) {
    const spec = subpath === '.' ? 'oauthkit' : `oauthkit/${subpath.slice(2)}`;
    const want = expected[subpath];
    if (!want) {
      console.log(`not ok - ${spec}: no expected exports listed in tools/check-package.mjs`);
      failures++;
      continue;
    }
    const script = `const m = await import(${JSON.stringify(spec)}); const missing = ${JSON.stringify(want)}.filter((n) => !(n in m)); if (missing.length) { console.error('missing: ' + missing.join(', ')); process.exit(1); }`;
    try {
      execFileSync(process.execPath, ['--input-type=module', '-e', script], {
        cwd: work,
        stdio: 'pipe',
      });
      console.log(`ok - ${spec} imports from the packed tarball (${want.join(', ')})`);
    } catch (err) {
      console.log(`not ok - ${spec}: ${err.stderr?.toString().trim()}`);
      failures++;
    }
    const entry = pkg.exports[subpath];
    const types = entry.types ?? entry.node?.types ?? entry.default?.types;
    try {
      readFileSync(join(work, 'node_modules', 'oauthkit', types));
    } catch {
      console.log(`not ok - ${spec}: declaration file ${types} missing from the tarball`);
      failures++;
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
if (failures) {
  console.log(`package check: ${failures} failed`);
  process.exit(1);
}
console.log('package check: all subpaths import from the packed tarball');
