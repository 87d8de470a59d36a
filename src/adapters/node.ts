import { readFile } from 'node:fs/promises';
import { parseClientSecrets, type ClientSecrets } from '../core/client-secrets.js';
import { ClientSecretsError } from '../core/errors.js';

/**
 * Reads a Google `client_secrets.json` file (Node only; the core never touches the filesystem).
 *
 * @param path the file's path
 * @returns the parsed client secrets
 * @throws {ClientSecretsError} naming the file (and the field, for a malformed document)
 * @example
 * ```ts
 * import { loadClientSecrets } from 'oauthkit/node';
 * const secrets = await loadClientSecrets(new URL('./client_secrets.json', import.meta.url).pathname);
 * ```
 */
export async function loadClientSecrets(path: string): Promise<ClientSecrets> {
  if (typeof path !== 'string' || path.length === 0) {
    throw new TypeError('"path" must be a non-empty string');
  }
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    const code = (cause as { code?: string }).code;
    const why =
      code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? 'unknown error'})`;
    throw new ClientSecretsError(`client secrets file ${path} ${why}`, path, undefined, { cause });
  }
  return parseClientSecrets(text, path);
}
