import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Credentials } from '../src/core/credentials.js';
import { createMemoryStore } from '../src/storage/memory.js';
import { storeSuite } from './support/store-suite.js';

storeSuite('memory', async ({ codec } = {}) => ({
  store: createMemoryStore({ codec }),
  cleanup: async () => {},
}));

describe('memory store', () => {
  it('two memory stores share nothing', async () => {
    const a = createMemoryStore();
    const b = createMemoryStore();
    await a.put('user-1', new Credentials({ accessToken: 'ya29.a' }));
    assert.equal(await b.get('user-1'), undefined);
    assert.equal((await a.get('user-1'))?.accessToken, 'ya29.a');
  });

  it('offers no lock, since it cannot coordinate with other processes', () => {
    assert.equal(createMemoryStore().lock, undefined);
  });
});
