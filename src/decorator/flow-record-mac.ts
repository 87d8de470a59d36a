/**
 * What the server-side flow stores (Redis, SQL) share: the random handle the browser holds, the
 * storage id derived from it, and the MAC that makes a stored record tamper-evident.
 *
 * The browser's cookie holds a 256-bit random handle; the record is stored under a hash of it,
 * so whoever can read the store still cannot present a flow as theirs. Each record is stored as
 * `v1.<key id>.<HMAC-SHA-256>.<JSON>`: the MAC covers the JSON and the storage id, under a key
 * derived (HKDF) from the app's secret, which is configuration and never stored beside the
 * records. A record that was edited, moved under another id, or written without the key is
 * refused; the JSON is parsed with no `__proto__`, `constructor` or `prototype` keys and checked
 * against the flow record's shape.
 *
 * @module
 */
import type { FlowRecord } from './flow-store.js';
import { isFlowRecord } from './flow-store.js';
import { MIN_SECRET_LENGTH, b64u } from './seal.js';

/** Why a stored flow record was refused. */
export type FlowRejection =
  'malformed' | 'unknown-key' | 'mac' | 'json' | 'shape' | 'expired' | 'bad-handle';

/** The MAC and handles of one server-side flow store. */
export interface FlowRecordMac {
  /** @returns a new handle for the cookie, and the id to store the record under */
  newHandle(): Promise<{ handle: string; id: string }>;
  /**
   * @param handle what the cookie held
   * @returns the storage id, or `undefined` when the handle is not one this store made
   */
  idOf(handle: unknown): Promise<string | undefined>;
  /**
   * @param id the storage id
   * @param record the flow
   * @returns the text to store
   */
  seal(id: string, record: FlowRecord): Promise<string>;
  /**
   * @param id the storage id the text was found under
   * @param text the stored text
   * @param now the current time (ms)
   * @returns the record, or why it was refused
   */
  open(id: string, text: unknown, now: number): Promise<FlowRecord | FlowRejection>;
}

const encoder = new TextEncoder();
const HANDLE = /^[A-Za-z0-9_-]{43}$/;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const MAX_TEXT = 16_384;

/**
 * Checks the `secret` option of a flow store: one string of at least 32 characters, or several
 * (newest first: the first signs, all verify).
 *
 * @param secret the candidate
 * @returns the secrets as a list
 * @throws {TypeError} naming `secret`
 */
export function checkFlowSecrets(secret: unknown): string[] {
  const list = typeof secret === 'string' ? [secret] : secret;
  if (
    !Array.isArray(list) ||
    list.length === 0 ||
    !list.every((s) => typeof s === 'string' && s.length >= MIN_SECRET_LENGTH)
  ) {
    throw new TypeError(
      `"secret" must be a string of at least ${MIN_SECRET_LENGTH} characters, or a non-empty array of them (newest first)`,
    );
  }
  return list as string[];
}

/**
 * Derives the MAC keys of a flow store from its secrets.
 *
 * @param secrets the secrets, newest first ({@link checkFlowSecrets})
 * @returns the MAC and handle functions
 */
export function createFlowRecordMac(secrets: readonly string[]): FlowRecordMac {
  const keys = Promise.all(
    secrets.map(async (secret) => {
      const base = await crypto.subtle.importKey('raw', encoder.encode(secret), 'HKDF', false, [
        'deriveKey',
      ]);
      const key = await crypto.subtle.deriveKey(
        {
          name: 'HKDF',
          hash: 'SHA-256',
          salt: new Uint8Array(0),
          info: encoder.encode('oauthkit flow-store mac v1'),
        },
        base,
        { name: 'HMAC', hash: 'SHA-256', length: 256 },
        false,
        ['sign', 'verify'],
      );
      // The key id is a MAC of a constant: it names the key without telling anything about it.
      const kid = b64u(
        new Uint8Array(await crypto.subtle.sign('HMAC', key, encoder.encode('key id'))).slice(0, 6),
      );
      return { kid, key };
    }),
  );
  keys.catch(() => {});
  const input = (kid: string, id: string, body: string) =>
    encoder.encode(`oauthkit flow v1\n${kid}\n${id}\n${body}`);
  const idOf = async (handle: string) =>
    b64u(
      new Uint8Array(
        await crypto.subtle.digest('SHA-256', encoder.encode(`oauthkit flow id\n${handle}`)),
      ),
    );

  return {
    async newHandle() {
      const handle = b64u(crypto.getRandomValues(new Uint8Array(32)));
      return { handle, id: await idOf(handle) };
    },

    async idOf(handle) {
      return typeof handle === 'string' && HANDLE.test(handle) ? idOf(handle) : undefined;
    },

    async seal(id, record) {
      const [{ kid, key }] = (await keys) as [{ kid: string; key: CryptoKey }];
      const body = JSON.stringify(record);
      const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, input(kid, id, body)));
      return `v1.${kid}.${b64u(mac)}.${body}`;
    },

    async open(id, text, now) {
      if (typeof text !== 'string' || text.length > MAX_TEXT) return 'malformed';
      const first = text.indexOf('.');
      const second = text.indexOf('.', first + 1);
      const third = text.indexOf('.', second + 1);
      if (first < 0 || second < 0 || third < 0 || text.slice(0, first) !== 'v1') {
        return 'malformed';
      }
      const kid = text.slice(first + 1, second);
      const mac = fromB64u(text.slice(second + 1, third));
      const body = text.slice(third + 1);
      const entry = (await keys).find((k) => k.kid === kid);
      if (entry === undefined) return 'unknown-key';
      if (mac === undefined || mac.length !== 32) return 'malformed';
      // crypto.subtle.verify compares in constant time.
      if (!(await crypto.subtle.verify('HMAC', entry.key, mac, input(kid, id, body)))) return 'mac';
      let record: unknown;
      try {
        record = JSON.parse(body, (k, v: unknown) => {
          if (FORBIDDEN_KEYS.has(k)) throw new SyntaxError('forbidden key');
          return v;
        });
      } catch {
        return 'json';
      }
      if (!isWellFormed(record)) return 'shape';
      if (record.expiresAt <= now) return 'expired';
      return record;
    },
  };
}

/**
 * A flow record as the decorator writes it, strictly: the shape {@link isFlowRecord} checks, plus
 * string scopes, finite times and a same-origin path.
 *
 * @param value the parsed JSON
 * @returns whether it is usable
 */
function isWellFormed(value: unknown): value is FlowRecord {
  if (!isFlowRecord(value)) return false;
  const p = value.pending as unknown as Record<string, unknown>;
  return (
    Number.isFinite(value.expiresAt) &&
    value.returnTo.startsWith('/') &&
    !value.returnTo.startsWith('//') &&
    !value.returnTo.startsWith('/\\') &&
    (p['scopes'] as unknown[]).every((s) => typeof s === 'string') &&
    (p['createdAt'] === undefined || Number.isFinite(p['createdAt']))
  );
}

function fromB64u(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return undefined;
  const s = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
