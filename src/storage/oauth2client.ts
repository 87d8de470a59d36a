import { Credentials } from '../core/credentials.js';
import { OAuthKitError } from '../core/errors.js';
import type { CredentialStore } from '../core/store.js';

/**
 * One row written by Python's oauth2client: the entity key of a `CredentialsModel` (or the key
 * name given to `StorageByKeyName`) and its `credentials` property, the JSON text
 * `OAuth2Credentials.to_json()` produced (App Engine's `CredentialsProperty` and
 * `CredentialsNDBProperty` both stored exactly that).
 */
export interface OAuth2ClientRow {
  /** The key name (with the App Engine users API, the user's `user_id()`). */
  key: string;
  /** The JSON text (or the parsed object); `null` for an entity without credentials. */
  credentials: string | object | null | undefined;
}

/** Options of {@link importOAuth2ClientRows}. */
export interface ImportOAuth2ClientOptions {
  /**
   * The store key for a row's key, when the new app keys its users differently; return
   * `undefined` to skip the row. Default: the row's key as is.
   */
  mapKey?: ((key: string) => string | undefined) | undefined;
  /** Replace credentials already in the store; default `false` (they are newer). */
  overwrite?: boolean | undefined;
}

/** What {@link importOAuth2ClientRows} did; no token appears in it. */
export interface ImportOAuth2ClientReport {
  /** Rows stored. */
  imported: number;
  /** Rows left out on purpose: the key already has credentials, the row has none, or `mapKey` said so. */
  skipped: { key: string; reason: 'exists' | 'empty' | 'unmapped' }[];
  /** Rows that could not be read (not JSON, a pickled value, an unknown format) or stored. */
  failed: { key: string; reason: string }[];
}

/**
 * Moves an App Engine app's users' grants over from Python: reads rows written by oauth2client's
 * `CredentialsModel` / `StorageByKeyName` (its `to_json()` format: access and refresh tokens,
 * expiry, the granted scopes from `token_response`, the ID token) and stores each one in any
 * oauthkit store, through that store's codec (encrypted, when it encrypts). Only data fields are
 * read: `_class` and `_module` never load code, and the client id and secret that oauth2client
 * copied into every row are dropped. Users keep their grants: the next API call refreshes as
 * usual. Rows are processed one at a time; running it twice imports nothing twice.
 *
 * @param rows the rows, from any iterable (a Datastore export, a SQL query, a JSON-lines file)
 * @param store where the credentials go
 * @param options `mapKey`, `overwrite`
 * @returns what was imported, skipped and failed
 * @throws {TypeError} naming `rows` or `store`
 * @example
 * ```ts
 * // rows exported from Datastore kind CredentialsModel as JSON lines: {"key": …, "credentials": …}
 * const rows = readFileSync('credentials.jsonl', 'utf8').trim().split('\n').map((l) => JSON.parse(l));
 * const report = await importOAuth2ClientRows(rows, store);
 * console.log(`${report.imported} imported, ${report.failed.length} failed`);
 * ```
 */
export async function importOAuth2ClientRows(
  rows: Iterable<OAuth2ClientRow> | AsyncIterable<OAuth2ClientRow>,
  store: CredentialStore,
  options: ImportOAuth2ClientOptions = {},
): Promise<ImportOAuth2ClientReport> {
  if (
    rows === null ||
    typeof rows !== 'object' ||
    (typeof (rows as Iterable<unknown>)[Symbol.iterator] !== 'function' &&
      typeof (rows as AsyncIterable<unknown>)[Symbol.asyncIterator] !== 'function')
  ) {
    throw new TypeError('"rows" must be an iterable of { key, credentials }');
  }
  if (typeof store?.get !== 'function' || typeof store.put !== 'function') {
    throw new TypeError('"store" must be a CredentialStore');
  }
  const mapKey = options.mapKey ?? ((key: string) => key);
  const report: ImportOAuth2ClientReport = { imported: 0, skipped: [], failed: [] };
  for await (const row of rows) {
    const from = typeof row?.key === 'string' ? row.key : String(row?.key);
    const key = mapKey(from);
    if (key === undefined) {
      report.skipped.push({ key: from, reason: 'unmapped' });
      continue;
    }
    const value = row?.credentials;
    if (value === null || value === undefined || value === '') {
      report.skipped.push({ key: from, reason: 'empty' });
      continue;
    }
    if (typeof value === 'string' && !value.trimStart().startsWith('{')) {
      // Django's CredentialsField stored base64 pickles; oauthkit never unpickles.
      report.failed.push({
        key: from,
        reason: 'not JSON (a pickled value?): export it from Python with credentials.to_json()',
      });
      continue;
    }
    try {
      const credentials = Credentials.fromJSON(value);
      if (!options.overwrite && (await store.get(key).catch(() => undefined)) !== undefined) {
        report.skipped.push({ key: from, reason: 'exists' });
        continue;
      }
      await store.put(key, credentials);
      report.imported++;
    } catch (err) {
      if (!(err instanceof OAuthKitError || err instanceof TypeError)) throw err;
      report.failed.push({ key: from, reason: err.message });
    }
  }
  return report;
}
