import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { Credentials } from '../../src/core/credentials.js';
import { CredentialsInvalidError, StoreError } from '../../src/core/errors.js';
import { jsonCodec } from '../../src/core/store.js';
import type { CredentialStore, CredentialsCodec } from '../../src/core/store.js';

/** A store under test and how to get rid of what it created. */
export interface StoreFixture {
  /** A store with nothing in it. */
  store: CredentialStore;
  /** Removes whatever the store created (a file, a table, a key prefix). */
  cleanup(): Promise<void>;
  /**
   * Optional: another store on the same backing storage, with its own connection where the
   * driver allows (what another process would see). The capability tests use it when given.
   */
  twin?(): CredentialStore;
}

/** Optional capabilities a store claims, and whose tests {@link storeSuite} then runs. */
export interface StoreCapabilities {
  /** `lock(key, fn, { leaseMs })`: cross-process refresh coordination. */
  lock?: boolean;
  /** `keys()`, `readText()`, `replaceText()` and `codec`: what key rotation needs. */
  listing?: boolean;
}

/** What {@link storeSuite} asks of a fixture. */
export interface StoreFixtureOptions {
  /** The codec the store must use instead of its default. */
  codec?: CredentialsCodec;
}

/**
 * Registers the tests every {@link CredentialStore} must pass, as one `describe` block.
 *
 * `createStore` is called once per test and must return an empty store. Some tests pass
 * `{ codec }`: the store must then encode and decode through that codec (a factory that ignores
 * it fails those tests, as it should). Tests that read or write a store's raw storage belong in
 * the store's own test file.
 *
 * @param name the store's name, shown in test output
 * @param createStore makes a fresh, empty store
 * @example
 * ```ts
 * storeSuite('memory', async ({ codec } = {}) => ({
 *   store: createMemoryStore({ codec }),
 *   cleanup: async () => {},
 * }));
 * ```
 */
export function storeSuite(
  name: string,
  createStore: (options?: StoreFixtureOptions) => Promise<StoreFixture>,
  capabilities: StoreCapabilities = {},
): void {
  describe(`${name} store`, () => {
    let fixture: StoreFixture;
    let store: CredentialStore;

    beforeEach(async () => {
      fixture = await createStore();
      store = fixture.store;
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    /** Runs `fn` against a second store built with `codec`, cleaned up afterwards. */
    async function withCodec(
      codec: CredentialsCodec,
      fn: (s: CredentialStore) => Promise<void>,
    ): Promise<void> {
      const other = await createStore({ codec });
      try {
        await fn(other.store);
      } finally {
        await other.cleanup();
      }
    }

    it('get() of a key never stored resolves to undefined', async () => {
      assert.equal(await store.get('nobody'), undefined);
    });

    it('put() then get() round-trips every field', async () => {
      const put = fullCredentials('1');
      await store.put('user-1', put);
      const got = await store.get('user-1');
      assert.ok(got instanceof Credentials);
      assert.equal(got.accessToken, 'ya29.access-1');
      assert.equal(got.refreshToken, '1//refresh-1');
      assert.equal(got.expiresAt, EXPIRES_AT, 'expiry keeps its milliseconds');
      assert.deepEqual(got.scopes, ['email', 'https://www.googleapis.com/auth/tasks', 'openid']);
      assert.equal(got.idToken, 'eyJhbGciOiJSUzI1NiJ9.id-1.sig');
      assert.deepEqual(got.idTokenClaims, put.idTokenClaims);
      assert.deepEqual(got.subject, { iss: 'https://accounts.example', sub: 'sub-1' });
      assert.equal(got.tokenType, 'DPoP');
      assert.equal(got.invalid, true);
      assert.deepEqual(got.toJSON(), put.toJSON());
    });

    it('put() then get() round-trips sparse credentials with their defaults', async () => {
      await store.put('user-1', new Credentials({ refreshToken: '1//only-refresh' }));
      const got = await store.get('user-1');
      assert.ok(got instanceof Credentials);
      assert.equal(got.accessToken, undefined);
      assert.equal(got.refreshToken, '1//only-refresh');
      assert.equal(got.expiresAt, undefined);
      assert.deepEqual(got.scopes, []);
      assert.equal(got.idToken, undefined);
      assert.equal(got.idTokenClaims, undefined);
      assert.equal(got.tokenType, 'Bearer');
      assert.equal(got.invalid, false);
    });

    it('put() replaces the whole value, dropping fields the new one lacks', async () => {
      await store.put('user-1', fullCredentials('old'));
      await store.put('user-1', new Credentials({ accessToken: 'ya29.new' }));
      const got = await store.get('user-1');
      assert.equal(got?.accessToken, 'ya29.new');
      assert.equal(got?.refreshToken, undefined, 'no field of the old value survives');
      assert.equal(got?.idTokenClaims, undefined);
      assert.equal(got?.invalid, false);
    });

    it('delete() removes the credentials', async () => {
      await store.put('user-1', fullCredentials('1'));
      await store.delete('user-1');
      assert.equal(await store.get('user-1'), undefined);
      await store.put('user-1', fullCredentials('again'));
      assert.equal((await store.get('user-1'))?.accessToken, 'ya29.access-again');
    });

    it('delete() of a key never stored resolves and touches nothing else', async () => {
      await store.put('user-1', fullCredentials('1'));
      await store.delete('nobody');
      assert.equal((await store.get('user-1'))?.accessToken, 'ya29.access-1');
    });

    it('keys are independent of each other', async () => {
      await store.put('user-1', fullCredentials('1'));
      await store.put('user-2', fullCredentials('2'));
      assert.equal((await store.get('user-1'))?.accessToken, 'ya29.access-1');
      assert.equal((await store.get('user-2'))?.accessToken, 'ya29.access-2');
      await store.put('user-1', fullCredentials('1b'));
      assert.equal((await store.get('user-2'))?.accessToken, 'ya29.access-2');
      await store.delete('user-2');
      assert.equal((await store.get('user-1'))?.accessToken, 'ya29.access-1b');
      assert.equal(await store.get('user-2'), undefined);
    });

    it('unusual keys are stored and read back exactly, each apart from the others', async () => {
      const keys = [
        'ユーザー/😀',
        `quote"s and 'apostrophes'`,
        "'; DROP TABLE oauthkit_credentials; --",
        'user:%_*?[',
        'user',
        'User',
        'user ',
        ' user',
        'k'.repeat(512),
        'é', // precomposed
        'e\u0301', // decomposed: a different key
      ];
      for (const [i, key] of keys.entries()) await store.put(key, fullCredentials(String(i)));
      for (const [i, key] of keys.entries()) {
        assert.equal((await store.get(key))?.accessToken, `ya29.access-${i}`, `key ${i}`);
      }
      assert.equal(await store.get('k'.repeat(511)), undefined, 'no prefix match');
    });

    for (const [label, key] of [
      ['an empty key', ''],
      ['a 513-character key', 'k'.repeat(513)],
      ['a non-string key', 42],
    ] as const) {
      it(`get(), put() and delete() reject ${label} with a TypeError naming "key"`, async () => {
        const bad = key as unknown as string;
        const namesKey = (err: unknown) => err instanceof TypeError && /"key"/.test(err.message);
        await assert.rejects(() => store.get(bad), namesKey);
        await assert.rejects(() => store.put(bad, fullCredentials('1')), namesKey);
        await assert.rejects(() => store.delete(bad), namesKey);
      });
    }

    it('get() returns a new object each time, never the one that was put', async () => {
      const put = fullCredentials('1');
      await store.put('user-1', put);
      const a = await store.get('user-1');
      const b = await store.get('user-1');
      assert.ok(a && b);
      assert.notEqual(a, put);
      assert.notEqual(a, b);
      assert.notEqual(a.idTokenClaims, b.idTokenClaims);
      assert.deepEqual(a.toJSON(), put.toJSON());
      assert.deepEqual(b.toJSON(), put.toJSON());
    });

    it('100 concurrent put() calls to different keys all land', async () => {
      const ids = Array.from({ length: 100 }, (_, i) => String(i));
      await Promise.all(ids.map((id) => store.put(`user-${id}`, fullCredentials(id))));
      const got = await Promise.all(ids.map((id) => store.get(`user-${id}`)));
      assert.deepEqual(
        got.map((c) => c?.accessToken),
        ids.map((id) => `ya29.access-${id}`),
      );
    });

    it('concurrent put() calls to one key leave one written value, whole', async () => {
      const ids = Array.from({ length: 20 }, (_, i) => String(i));
      const written = ids.map((id) =>
        id === '0' ? new Credentials({ accessToken: 'ya29.access-0' }) : fullCredentials(id),
      );
      await Promise.all(written.map((c) => store.put('user-1', c)));
      const got = await store.get('user-1');
      assert.ok(got);
      const match = written.find((c) => c.accessToken === got.accessToken);
      assert.ok(match, 'the stored access token is one that was written');
      assert.deepEqual(got.toJSON(), match.toJSON(), 'every field comes from the same put()');
    });

    it('put() and get() go through the codec, passing the key', async () => {
      const calls: string[] = [];
      const codec: CredentialsCodec = {
        async encode(key, credentials) {
          calls.push(`encode ${key}`);
          return `sealed:${key}:${await jsonCodec.encode(key, credentials)}`;
        },
        async decode(key, text) {
          calls.push(`decode ${key}`);
          const prefix = `sealed:${key}:`;
          if (!text.startsWith(prefix)) throw new CredentialsInvalidError('not sealed for key');
          return jsonCodec.decode(key, text.slice(prefix.length));
        },
      };
      await withCodec(codec, async (s) => {
        await s.put('user-1', fullCredentials('1'));
        const got = await s.get('user-1');
        assert.deepEqual(got?.toJSON(), fullCredentials('1').toJSON());
        assert.equal(await s.get('user-2'), undefined);
      });
      assert.deepEqual(calls, ['encode user-1', 'decode user-1']);
    });

    it('get() of corrupt stored text rejects with CredentialsInvalidError; other keys work', async () => {
      // Writes garbage for one key, as a torn write or a hand edit would leave it, and reads
      // everything back with the default JSON decoding.
      const codec: CredentialsCodec = {
        encode: (key, credentials) =>
          key === 'corrupt' ? '{"v":1,"access_token":' : jsonCodec.encode(key, credentials),
        decode: jsonCodec.decode,
      };
      await withCodec(codec, async (s) => {
        await s.put('corrupt', fullCredentials('1'));
        await s.put('user-2', fullCredentials('2'));
        await assert.rejects(() => s.get('corrupt'), CredentialsInvalidError);
        assert.equal((await s.get('user-2'))?.accessToken, 'ya29.access-2');
        await s.delete('corrupt');
        assert.equal(await s.get('corrupt'), undefined);
      });
    });

    it('a codec failure that is not CredentialsInvalidError rejects with StoreError', async () => {
      const outage = new Error('key service unreachable');
      const codec: CredentialsCodec = {
        encode: (key, credentials) =>
          key === 'user-1' ? Promise.reject(outage) : jsonCodec.encode(key, credentials),
        decode: () => Promise.reject(outage),
      };
      await withCodec(codec, async (s) => {
        const isOutage = (err: unknown) => err instanceof StoreError && err.cause === outage;
        await assert.rejects(() => s.put('user-1', fullCredentials('1')), isOutage);
        await s.put('user-2', fullCredentials('2'));
        await assert.rejects(() => s.get('user-2'), isOutage);
      });
    });

    if (capabilities.lock) lockTests(() => ({ store, twin: fixture.twin?.() ?? store }));
    if (capabilities.listing) listingTests(() => store as ListingStore);
  });
}

/** The optional listing capability, as the PostgreSQL, Redis and own-table stores have it. */
interface ListingStore extends CredentialStore {
  readonly codec: CredentialsCodec;
  keys(): AsyncIterable<string>;
  readText(key: string): Promise<string | undefined>;
  replaceText(key: string, expected: string, text: string): Promise<boolean>;
}

type Lock = NonNullable<CredentialStore['lock']>;

function lockOf(s: CredentialStore): Lock {
  assert.equal(typeof s.lock, 'function', 'the store claims lock() but has none');
  return s.lock!.bind(s) as Lock;
}

function deferred(): { promise: Promise<void>; resolve(): void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

function lockTests(current: () => { store: CredentialStore; twin: CredentialStore }): void {
  describe('lock()', () => {
    it('runs fn and resolves to what it returns; a rejection passes through and frees the key', async () => {
      const lock = lockOf(current().store);
      assert.equal(await lock('user-1', async () => 42, { leaseMs: 5000 }), 42);
      const failure = new Error('refresh failed');
      await assert.rejects(
        lock('user-1', () => Promise.reject(failure), { leaseMs: 5000 }),
        (err) => err === failure,
      );
      // Freed at once: otherwise this waits out the 5 s lease and then its own wait bound.
      assert.equal(await lock('user-1', async () => 'again', { leaseMs: 5000 }), 'again');
    });

    it('runs the holders of one key one at a time, across two store instances', async () => {
      const { store, twin } = current();
      const locks = [lockOf(store), lockOf(twin)];
      let inside = 0;
      let most = 0;
      const ran: number[] = [];
      await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          locks[i % 2]!(
            'user-1',
            async () => {
              inside++;
              most = Math.max(most, inside);
              await tick(5);
              ran.push(i);
              inside--;
            },
            { leaseMs: 10_000 },
          ),
        ),
      );
      assert.equal(most, 1, 'never two holders at once');
      assert.deepEqual(
        [...ran].sort((a, b) => a - b),
        [0, 1, 2, 3, 4, 5, 6, 7],
      );
    });

    it('holders of different keys do not wait for each other', async () => {
      const lock = lockOf(current().store);
      const a = deferred();
      const b = deferred();
      // Each holder waits for the other to be inside too: if one key blocked the other, this
      // would only end when a lock() gave up waiting, and reject.
      await Promise.all([
        lock('user-a', async () => (a.resolve(), b.promise), { leaseMs: 3000 }),
        lock('user-b', async () => (b.resolve(), a.promise), { leaseMs: 3000 }),
      ]);
    });

    it('a holder that never finishes blocks the key no longer than its lease, and cannot free the next holder', async () => {
      const { store, twin } = current();
      const stuck = deferred();
      const events: string[] = [];
      const first = lockOf(store)(
        'user-1',
        async () => {
          events.push('stuck holder in');
          await stuck.promise;
          events.push('stuck holder out');
        },
        { leaseMs: 200 },
      );
      while (events.length === 0) await tick(5);
      let third: Promise<void> | undefined;
      // Taken once the stuck holder's 200 ms lease runs out (otherwise this lock() gives up).
      await lockOf(twin)(
        'user-1',
        async () => {
          events.push('second in');
          // The stuck holder wakes up and gives back "its" lease, which is no longer its own.
          stuck.resolve();
          await first;
          third = lockOf(store)('user-1', async () => void events.push('third in'), {
            leaseMs: 5000,
          });
          // Time for the third holder to get in, which it may only do once this one is out.
          await tick(150);
          events.push('second out');
        },
        { leaseMs: 10_000 },
      );
      await third;
      assert.deepEqual(events, [
        'stuck holder in',
        'second in',
        'stuck holder out',
        'second out',
        'third in',
      ]);
    });

    it('a waiter re-reads what the holder saved', async () => {
      const { store, twin } = current();
      await store.put('user-1', fullCredentials('old'));
      const holderInside = deferred();
      const release = deferred();
      const holder = lockOf(store)(
        'user-1',
        async () => {
          holderInside.resolve();
          await release.promise;
          await store.put('user-1', fullCredentials('new'));
        },
        { leaseMs: 10_000 },
      );
      await holderInside.promise;
      const waiter = lockOf(twin)('user-1', async () => (await twin.get('user-1'))?.accessToken, {
        leaseMs: 10_000,
      });
      release.resolve();
      await holder;
      assert.equal(await waiter, 'ya29.access-new');
    });

    it('checks its arguments with TypeErrors naming them', async () => {
      const lock = lockOf(current().store);
      const names = (name: string) => (err: unknown) =>
        err instanceof TypeError && err.message.includes(`"${name}"`);
      await assert.rejects(async () => lock('', async () => 1, { leaseMs: 1000 }), names('key'));
      await assert.rejects(
        async () => lock('user-1', 'nope' as unknown as () => Promise<number>, { leaseMs: 1000 }),
        names('fn'),
      );
      for (const leaseMs of [0, -1, Number.NaN, Infinity, '1000']) {
        await assert.rejects(
          async () => lock('user-1', async () => 1, { leaseMs: leaseMs as number }),
          names('leaseMs'),
        );
      }
      await assert.rejects(
        async () => lock('user-1', async () => 1, undefined as unknown as { leaseMs: number }),
        names('leaseMs'),
      );
    });
  });
}

function listingTests(current: () => ListingStore): void {
  describe('listing (keys, readText, replaceText)', () => {
    const listed = async (s: ListingStore) => {
      const out = new Set<string>();
      for await (const k of s.keys()) out.add(k);
      return out;
    };

    it('keys() lists every stored key exactly, unusual ones too, and no deleted one', async () => {
      const store = current();
      assert.deepEqual(await listed(store), new Set());
      const keys = ['user-1', 'ユーザー/😀', 'user:%_*?[', "'; --", 'k'.repeat(512), 'gone'];
      for (const key of keys) await store.put(key, fullCredentials(key.slice(0, 4)));
      await store.delete('gone');
      assert.deepEqual(await listed(store), new Set(keys.filter((k) => k !== 'gone')));
    });

    it('keys() goes through more keys than one page holds', async () => {
      const store = current();
      const ids = Array.from({ length: 1100 }, (_, i) => `user-${String(i).padStart(4, '0')}`);
      const one = await store.codec.encode('x', new Credentials({ accessToken: 'ya29.x' }));
      assert.equal(typeof one, 'string');
      for (let i = 0; i < ids.length; i += 100) {
        await Promise.all(
          ids.slice(i, i + 100).map((id) => store.put(id, new Credentials({ accessToken: id }))),
        );
      }
      assert.deepEqual([...(await listed(store))].sort(), ids);
    });

    it('readText() gives the text the codec wrote; replaceText() swaps it only while unchanged', async () => {
      const store = current();
      assert.equal(await store.readText('user-1'), undefined);
      assert.equal(await store.replaceText('user-1', 'anything', 'x'), false, 'nothing stored');
      await store.put('user-1', fullCredentials('1'));
      const text = await store.readText('user-1');
      assert.equal(typeof text, 'string');
      assert.deepEqual(
        (await store.codec.decode('user-1', text!)).toJSON(),
        fullCredentials('1').toJSON(),
      );
      const next = await store.codec.encode('user-1', fullCredentials('2'));
      assert.equal(await store.replaceText('user-1', 'not what is stored', next), false);
      assert.equal((await store.get('user-1'))?.accessToken, 'ya29.access-1');
      assert.equal(await store.replaceText('user-1', text!, next), true);
      assert.equal((await store.get('user-1'))?.accessToken, 'ya29.access-2');
      assert.equal(await store.replaceText('user-1', text!, text!), false, 'no longer current');
    });
  });
}

/** An expiry with milliseconds, so that a store rounding to seconds fails. */
const EXPIRES_AT = Date.UTC(2031, 0, 2, 3, 4, 5, 678);

/** Credentials with every field set to something other than its default, tagged with `id`. */
function fullCredentials(id: string): Credentials {
  return new Credentials({
    accessToken: `ya29.access-${id}`,
    refreshToken: `1//refresh-${id}`,
    expiresAt: EXPIRES_AT,
    scopes: ['openid', 'https://www.googleapis.com/auth/tasks', 'email'],
    idToken: `eyJhbGciOiJSUzI1NiJ9.id-${id}.sig`,
    idTokenClaims: {
      iss: 'https://accounts.example',
      sub: `sub-${id}`,
      email: `user-${id}@example.com`,
      email_verified: true,
      nested: { groups: ['a', 'b'], n: 1 },
    },
    tokenType: 'DPoP',
    invalid: true,
  });
}

/**
 * Credentials whose tokens are easy to spot (`ya29.secret-access-<id>`), for tests that check
 * what a store wrote and that no token leaks into an error.
 */
export function testCredentials(id: string): Credentials {
  return new Credentials({
    accessToken: `ya29.secret-access-${id}`,
    refreshToken: `1//secret-refresh-${id}`,
    expiresAt: Date.UTC(2031, 0, 1),
    scopes: ['openid'],
  });
}

/** Everything an error would show in a log line: message, stack, enumerable fields, cause. */
export function shownInLog(err: unknown): string {
  const e = err as Error & { cause?: Error };
  return `${e.message}\n${e.stack}\n${JSON.stringify(e)}\n${e.cause?.message}\n${e.cause?.stack}\n${JSON.stringify(e.cause)}`;
}
