import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { createFlowRecordMac, type FlowRejection } from '../../src/decorator/flow-record-mac.js';
import type { FlowRecord, FlowStore } from '../../src/decorator/flow-store.js';

export const FLOW_SECRET = 'flow-store-mac-secret-of-at-least-32-chars';

/** What a server-side flow store test needs besides the store: raw access to its records. */
export interface FlowStoreFixture {
  store: FlowStore;
  /** Every stored record: its storage id and stored text. */
  entries(): Promise<[id: string, text: string][]>;
  /** Overwrites (or creates) the stored text under an id. */
  write(id: string, text: string): Promise<void>;
  /** Another store on the same backend and namespace, with other options. */
  sibling(options: FlowFixtureOptions): FlowStore;
  cleanup(): Promise<void>;
}

export interface FlowFixtureOptions {
  secret?: string | string[];
  now?: () => number;
  onReject?: (reason: FlowRejection) => void;
}

/** A pending flow as the decorator makes one. */
export function flowRecord(overrides: Partial<FlowRecord> = {}): FlowRecord {
  return {
    id: 'flow-id-0123456789',
    pending: {
      state: 'state-0123456789abcdef0123',
      codeVerifier: 'verifier-0123456789abcdef0123456789abcdef01234',
      nonce: 'nonce-0123456789',
      issuer: 'https://issuer.example',
      redirectUri: 'https://app.example/oauth2callback',
      scopes: ['openid', 'api:read'],
      createdAt: Date.now(),
    },
    returnTo: '/tasks?list=1',
    user: 'user-1',
    expiresAt: Date.now() + 600_000,
    ...overrides,
  };
}

/**
 * The tests every server-side flow store passes: single use (also under concurrency), expiry,
 * MAC'd records that are refused when edited, moved or forged in the backend, secret rotation.
 */
export function flowStoreSuite(
  name: string,
  create: (options?: FlowFixtureOptions) => Promise<FlowStoreFixture>,
): void {
  describe(`${name} flow store`, () => {
    const fixtures: FlowStoreFixture[] = [];
    const make = async (options?: FlowFixtureOptions) => {
      const f = await create(options);
      fixtures.push(f);
      return f;
    };
    afterEach(async () => {
      for (const f of fixtures.splice(0)) await f.cleanup();
    });

    it('save() gives a random handle that tells nothing; take() gives the record back', async () => {
      const { store, entries } = await make();
      const record = flowRecord();
      const handle = await store.save(record);
      assert.match(handle, /^[A-Za-z0-9_-]{43}$/);
      assert.notEqual(handle, await store.save(flowRecord()));
      const stored = await entries();
      assert.equal(stored.length, 2);
      for (const [id, text] of stored) {
        assert.ok(!id.includes(handle) && !text.includes(handle), 'the handle is not stored');
      }
      assert.ok(!handle.includes(record.pending.state));
      assert.deepEqual(await store.take(handle), record);
    });

    it('a replayed take() finds nothing', async () => {
      const { store, entries } = await make();
      const handle = await store.save(flowRecord());
      assert.ok(await store.take(handle));
      assert.equal(await store.take(handle), undefined);
      assert.deepEqual(await entries(), [], 'the record is gone');
    });

    it('20 concurrent take() calls of one handle: exactly one gets the record', async () => {
      const { store } = await make();
      const handle = await store.save(flowRecord());
      const got = await Promise.all(Array.from({ length: 20 }, () => store.take(handle)));
      assert.equal(got.filter((r) => r !== undefined).length, 1);
    });

    it('an expired record is refused', async () => {
      let clock = Date.now();
      const reasons: FlowRejection[] = [];
      const { store } = await make({ now: () => clock, onReject: (r) => reasons.push(r) });
      const handle = await store.save(flowRecord({ expiresAt: clock + 60_000 }));
      clock += 60_001;
      assert.equal(await store.take(handle), undefined);
      assert.deepEqual(reasons, ['expired']);
    });

    it('handles it never made are refused without error', async () => {
      const reasons: FlowRejection[] = [];
      const { store } = await make({ onReject: (r) => reasons.push(r) });
      await store.save(flowRecord());
      for (const bad of ['', 'x', 'A'.repeat(43), '../../etc', 'A'.repeat(44), 42]) {
        assert.equal(await store.take(bad as string), undefined);
      }
      assert.deepEqual(reasons, [
        'bad-handle',
        'bad-handle',
        'bad-handle',
        'bad-handle',
        'bad-handle',
      ]);
    });

    it('a store with another secret cannot read the records; one with [new, old] can', async () => {
      const reasons: FlowRejection[] = [];
      const old = await make({ secret: FLOW_SECRET });
      const h1 = await old.store.save(flowRecord());
      const h2 = await old.store.save(flowRecord());
      const other = old.sibling({
        secret: 'another-secret-of-at-least-32-characters',
        onReject: (r) => reasons.push(r),
      });
      const rotated = old.sibling({
        secret: ['a-newer-secret-of-at-least-32-characters', FLOW_SECRET],
      });
      assert.equal(await other.take(h1), undefined);
      assert.deepEqual(reasons, ['unknown-key']);
      assert.ok(await rotated.take(h2));
    });

    it('refuses a bad secret or a non-record with a TypeError naming it', async () => {
      for (const secret of ['short', [], ['ok-secret-of-at-least-32-characters-x', 'short'], 42]) {
        await assert.rejects(
          () => create({ secret: secret as string }),
          (err: unknown) => err instanceof TypeError && /"secret"/.test(err.message),
        );
      }
      const { store } = await make();
      await assert.rejects(
        () => store.save({ id: 'x' } as unknown as FlowRecord),
        (err: unknown) => err instanceof TypeError && /"record"/.test(err.message),
      );
    });

    describe('a record altered in the backend is refused', () => {
      /** Saves a record, edits its stored text, and takes it: the result and the reason. */
      async function tamper(
        edit: (text: string, id: string) => string | Promise<string>,
      ): Promise<{ got: FlowRecord | undefined; reasons: FlowRejection[] }> {
        const reasons: FlowRejection[] = [];
        const { store, entries, write } = await make({ onReject: (r) => reasons.push(r) });
        const handle = await store.save(flowRecord());
        const [[id, text]] = (await entries()) as [[string, string]];
        await write(id, await edit(text, id));
        return { got: await store.take(handle), reasons };
      }
      const body = (text: string) => text.slice(text.split('.', 3).join('.').length + 1);
      const head = (text: string) => text.slice(0, text.length - body(text).length);
      const editJson = (text: string, fn: (r: Record<string, any>) => void) => {
        const record = JSON.parse(body(text));
        fn(record);
        return head(text) + JSON.stringify(record);
      };
      /**
       * Signs a stored text for `json` with the real key, the way the store does: what only a
       * holder of the secret could write.
       */
      const resign = async (id: string, json: string) => {
        const kid = (await createFlowRecordMac([FLOW_SECRET]).seal(id, flowRecord())).split(
          '.',
        )[1]!;
        const enc = new TextEncoder();
        const base = await crypto.subtle.importKey('raw', enc.encode(FLOW_SECRET), 'HKDF', false, [
          'deriveKey',
        ]);
        const key = await crypto.subtle.deriveKey(
          {
            name: 'HKDF',
            hash: 'SHA-256',
            salt: new Uint8Array(0),
            info: enc.encode('oauthkit flow-store mac v1'),
          },
          base,
          { name: 'HMAC', hash: 'SHA-256', length: 256 },
          false,
          ['sign'],
        );
        const sig = await crypto.subtle.sign(
          'HMAC',
          key,
          enc.encode(`oauthkit flow v1\n${kid}\n${id}\n${json}`),
        );
        return `v1.${kid}.${Buffer.from(sig).toString('base64url')}.${json}`;
      };

      it('a changed return path', async () => {
        const { got, reasons } = await tamper((t) =>
          editJson(t, (r) => (r.returnTo = 'https://evil.example/')),
        );
        assert.equal(got, undefined);
        assert.deepEqual(reasons, ['mac']);
      });

      it('a changed PKCE verifier', async () => {
        const { got, reasons } = await tamper((t) =>
          editJson(
            t,
            (r) => (r.pending.codeVerifier = 'attacker-chosen-verifier-0123456789abcdef012'),
          ),
        );
        assert.equal(got, undefined);
        assert.deepEqual(reasons, ['mac']);
      });

      it('a changed owner', async () => {
        const { got, reasons } = await tamper((t) => editJson(t, (r) => (r.user = 'mallory')));
        assert.equal(got, undefined);
        assert.deepEqual(reasons, ['mac']);
      });

      it('__proto__ keys', async () => {
        const { got, reasons } = await tamper(
          (t) => head(t) + body(t).replace('{', '{"__proto__":{"isAdmin":true},'),
        );
        assert.equal(got, undefined);
        assert.deepEqual(reasons, ['mac']);
        assert.equal(({} as Record<string, unknown>)['isAdmin'], undefined);
      });

      it('a body that is not JSON', async () => {
        const { got, reasons } = await tamper((t) => head(t) + 'not json at all');
        assert.equal(got, undefined);
        assert.deepEqual(reasons, ['mac']);
      });

      it('a value that is not a record at all', async () => {
        const { got, reasons } = await tamper(() => '{"id":"x"}');
        assert.equal(got, undefined);
        assert.deepEqual(reasons, ['malformed']);
      });

      it('a flipped bit in the MAC', async () => {
        const { got, reasons } = await tamper((t) => {
          const parts = t.split('.');
          const mac = Buffer.from(parts[2]!, 'base64url');
          mac[0]! ^= 1;
          parts[2] = mac.toString('base64url');
          return parts.join('.');
        });
        assert.equal(got, undefined);
        assert.deepEqual(reasons, ['mac']);
      });

      it('another flow’s record moved under this flow’s id', async () => {
        const reasons: FlowRejection[] = [];
        const { store, entries, write } = await make({ onReject: (r) => reasons.push(r) });
        const mine = await store.save(flowRecord({ returnTo: '/mine' }));
        const before = new Map(await entries());
        await store.save(flowRecord({ returnTo: '/theirs' }));
        const [, theirText] = (await entries()).find(([id]) => !before.has(id))!;
        const [myId] = [...before.keys()] as [string];
        await write(myId, theirText);
        assert.equal(await store.take(mine), undefined);
        assert.deepEqual(reasons, ['mac']);
      });

      // With the real key (a bug, or a leaked key), what the MAC vouches for is still checked.
      it('with a valid MAC: __proto__ keys, non-JSON and a wrong shape are still refused', async () => {
        for (const [json, reason] of [
          [JSON.stringify(flowRecord()).replace('{', '{"__proto__":{"polluted":1},'), 'json'],
          ['{"pending": ', 'json'],
          [JSON.stringify({ ...flowRecord(), returnTo: '//evil.example/' }), 'shape'],
          [JSON.stringify({ ...flowRecord(), expiresAt: '9999999999999' }), 'shape'],
          [
            JSON.stringify({ ...flowRecord(), pending: { ...flowRecord().pending, scopes: [1] } }),
            'shape',
          ],
        ] as const) {
          const { got, reasons } = await tamper((_t, id) => resign(id, json));
          assert.equal(got, undefined, json);
          assert.deepEqual(reasons, [reason], json);
        }
        // The same re-signing of an unaltered record is accepted: the forger above is faithful.
        const { got } = await tamper((_t, id) =>
          resign(id, JSON.stringify(flowRecord({ returnTo: '/ok' }))),
        );
        assert.equal(got?.returnTo, '/ok');
      });
    });
  });
}
