import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  build,
  buildFromDocument,
  createMemoryCache,
  documentOf,
  HttpError,
  type ApiRequest,
  type DiscoveryCache,
  type JsonSchema,
  type RestDescription,
} from '../src/discovery/index.js';
import {
  allMethods,
  fixtureFiles,
  fixturesMissing,
  loadDemoTasksDoc,
  loadFixture,
} from './support/discovery-fixtures.js';
import { sendJson, startServer, type LocalServer } from './support/discovery-server.js';

const noFixtures = { skip: fixturesMissing };
const fixture = (file: string) => buildFromDocument<any>(loadFixture(file));
const path = (r: ApiRequest) => new URL(r.url).pathname;
const query = (r: ApiRequest) => [...new URL(r.url).searchParams];

/** Asserts that `fn` throws a TypeError whose message contains every fragment. */
function throwsTypeError(fn: () => unknown, ...fragments: string[]): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof TypeError, `expected a TypeError, got ${String(err)}`);
    for (const f of fragments) assert.ok(err.message.includes(f), `"${err.message}" lacks "${f}"`);
    return true;
  });
}

describe('buildFromDocument over the fixture documents', noFixtures, () => {
  it('builds every REST description, and refuses the directory list with a clear error', () => {
    const files = fixtureFiles();
    assert.ok(files.length >= 16, `found ${files.length} fixture files`);
    for (const file of files) {
      const doc = loadFixture(file);
      if (file === 'directory.v1.json') {
        throwsTypeError(() => buildFromDocument<any>(doc), 'directory list');
        continue;
      }
      const service = buildFromDocument<any>(doc);
      const top = [...Object.keys(doc.resources ?? {}), ...Object.keys(doc.methods ?? {})];
      assert.deepEqual(Object.keys(service).sort(), [...new Set(top)].sort(), file);
      assert.equal(documentOf(service as object), doc);
    }
  });

  it('builds lazily: no method or sub-resource of a 4 MB document is read until used', () => {
    const doc = loadFixture('compute.v1.json');
    const reads: string[] = [];
    // Record every read of a resource's `methods`/`resources` below the top level.
    const spy = (node: any, where: string): any =>
      new Proxy(node, {
        get(target, key) {
          const value = Reflect.get(target, key);
          if (typeof key !== 'string') return value;
          if (key === 'methods' || key === 'resources') {
            reads.push(`${where}.${key}`);
            return new Proxy(value ?? {}, {
              get: (t, k) =>
                typeof k === 'string' && t[k] ? spy(t[k], `${where}.${k}`) : Reflect.get(t, k),
            });
          }
          return value;
        },
      });
    const service = buildFromDocument<any>(spy(doc, 'doc')) as any;
    assert.deepEqual(
      reads.filter((r) => r !== 'doc.resources' && r !== 'doc.methods'),
      [],
      'nothing below the top level was read by buildFromDocument',
    );
    const request = service.instances.get({ project: 'p', zone: 'z', instance: 'i' });
    assert.equal(path(request), '/compute/v1/projects/p/zones/z/instances/i');
    assert.ok(reads.includes('doc.instances.methods'));
    assert.ok(!reads.some((r) => r.startsWith('doc.disks')), 'other resources stay untouched');
    assert.equal(service.instances, service.instances, 'a resource is built once');
  });

  it('{name} encodes "/" and reserved characters; {+name} keeps them', () => {
    const storage = fixture('storage.v1.json');
    const get = storage.objects.get({ bucket: 'my-bucket', object: 'a/b c.txt' });
    assert.equal(get.url, 'https://storage.googleapis.com/storage/v1/b/my-bucket/o/a%2Fb%20c.txt');
    const sheets = fixture('sheets.v4.json');
    const values = sheets.spreadsheets.values.get({ spreadsheetId: 's1', range: 'Sheet1!A1:B2' });
    assert.equal(path(values), '/v4/spreadsheets/s1/values/Sheet1%21A1%3AB2');
    const pubsub = fixture('pubsub.v1.json');
    const publish = pubsub.projects.topics.publish(
      { topic: 'projects/p/topics/t' },
      { body: { messages: [] } },
    );
    assert.equal(publish.url, 'https://pubsub.googleapis.com/v1/projects/p/topics/t:publish');
  });

  it('expands {+parent}/{collectionId} in one path and {+x} in the middle of a path', () => {
    const firestore = fixture('firestore.v1.json');
    const list = firestore.projects.databases.documents.list({
      parent: 'projects/p/databases/(default)/documents/rooms/r1',
      collectionId: 'messages/x',
    });
    assert.equal(path(list), '/v1/projects/p/databases/(default)/documents/rooms/r1/messages%2Fx');
    const idt = fixture('identitytoolkit.v1.json');
    const create = idt.projects.tenants.accounts(
      { targetProjectId: 'proj-1', tenantId: 't:2' },
      { body: {} },
    );
    // Reserved expansion keeps ":" (simple expansion would send %3A).
    assert.equal(path(create), '/v1/projects/proj-1/tenants/t:2/accounts');
  });

  it('sends parameter names with dots, dashes and "$" exactly as named', () => {
    const analytics = fixture('analytics.v3.json');
    const ga = analytics.data.ga.get({
      ids: 'ga:123',
      'start-date': '2024-01-01',
      'end-date': 'today',
      metrics: 'ga:sessions',
      'max-results': 5,
    });
    assert.deepEqual(new URL(ga.url).searchParams.get('max-results'), '5');
    assert.deepEqual(new URL(ga.url).searchParams.get('start-date'), '2024-01-01');
    assert.ok(ga.url.startsWith('https://analytics.googleapis.com/analytics/v3/data/ga?'));
    const pubsub = fixture('pubsub.v1.json');
    const policy = pubsub.projects.topics.getIamPolicy({
      resource: 'projects/p/topics/t',
      'options.requestedPolicyVersion': 3,
      '$.xgafv': '2',
    });
    assert.equal(path(policy), '/v1/projects/p/topics/t:getIamPolicy');
    assert.deepEqual(query(policy), [
      ['options.requestedPolicyVersion', '3'],
      ['$.xgafv', '2'],
    ]);
  });

  it('sends a repeated parameter as repeated keys, never comma-joined', () => {
    const firestore = fixture('firestore.v1.json');
    const get = firestore.projects.databases.documents.get({
      name: 'projects/p/databases/d/documents/c/doc',
      'mask.fieldPaths': ['a', 'b.c'],
    });
    assert.deepEqual(query(get), [
      ['mask.fieldPaths', 'a'],
      ['mask.fieldPaths', 'b.c'],
    ]);
    assert.ok(get.url.endsWith('?mask.fieldPaths=a&mask.fieldPaths=b.c'));
    const youtube = fixture('youtube.v3.json');
    const videos = youtube.videos.list({ part: ['id', 'snippet'], id: 'v1' });
    assert.deepEqual(new URL(videos.url).searchParams.getAll('part'), ['id', 'snippet']);
  });

  it('makes methods named with reserved words and Function.prototype names callable', () => {
    const drive = fixture('drive.v3.json');
    const del = drive.files.delete({ fileId: 'f1' });
    assert.equal(del.httpMethod, 'DELETE');
    assert.equal(path(del), '/drive/v3/files/f1');
    const exp = drive.files.export({ fileId: 'f1', mimeType: 'text/plain' });
    assert.equal(path(exp), '/drive/v3/files/f1/export');
    const calendar = fixture('calendar.v3.json');
    const imp = calendar.events.import({ calendarId: 'primary' }, { body: { summary: 'x' } });
    assert.equal(path(imp), '/calendar/v3/calendars/primary/events/import');
    const youtube = fixture('youtube.v3.json');
    const bind = youtube.liveBroadcasts.bind({ id: 'b1', part: ['id'] });
    assert.equal(bind.methodId, 'youtube.liveBroadcasts.bind');
    assert.equal(path(bind), '/youtube/v3/liveBroadcasts/bind');
  });

  it('keeps a method callable when a sub-resource shares its name (identitytoolkit)', () => {
    const idt = fixture('identitytoolkit.v1.json');
    const accounts = idt.projects.accounts;
    assert.equal(typeof accounts, 'function');
    const signUp = accounts({ targetProjectId: 'p1' }, { body: { email: 'a@b.c' } });
    assert.equal(signUp.methodId, 'identitytoolkit.projects.accounts');
    assert.equal(path(signUp), '/v1/projects/p1/accounts');
    const del = accounts.delete({ targetProjectId: 'p1' }, { body: { localId: 'u' } });
    assert.equal(del.methodId, 'identitytoolkit.projects.accounts.delete');
    assert.equal(path(del), '/v1/projects/p1/accounts:delete');
    const lookup = idt.projects.tenants.accounts.lookup(
      { targetProjectId: 'p1', tenantId: 't1' },
      { body: {} },
    );
    assert.equal(path(lookup), '/v1/projects/p1/tenants/t1/accounts:lookup');
    assert.ok(Object.keys(idt.projects).includes('accounts'));
  });

  it('puts root-level methods on the service, next to resources (oauth2)', () => {
    const oauth2 = fixture('oauth2.v2.json');
    const info = oauth2.tokeninfo({});
    assert.equal(info.url, 'https://www.googleapis.com/oauth2/v2/tokeninfo');
    assert.equal(info.httpMethod, 'POST');
    const me = oauth2.userinfo.v2.me.get();
    assert.equal(me.url, 'https://www.googleapis.com/userinfo/v2/me');
  });

  it('fills a required path parameter from its default (gmail userId "me")', () => {
    const gmail = fixture('gmail.v1.json');
    assert.equal(path(gmail.users.messages.list()), '/gmail/v1/users/me/messages');
    assert.equal(
      path(gmail.users.messages.list({ userId: 'a@b' })),
      '/gmail/v1/users/a%40b/messages',
    );
  });

  it('sends 64-bit integers as exact decimal strings and Dates as RFC 3339', () => {
    const storage = fixture('storage.v1.json');
    const max = 2n ** 63n - 1n;
    const get = storage.objects.get({ bucket: 'b', object: 'o', generation: max });
    assert.equal(new URL(get.url).searchParams.get('generation'), '9223372036854775807');
    const calendar = fixture('calendar.v3.json');
    const list = calendar.events.list({
      calendarId: 'primary',
      timeMin: new Date(Date.UTC(2024, 0, 2, 3, 4, 5)),
      eventTypes: ['default', 'focusTime'],
    });
    assert.equal(new URL(list.url).searchParams.get('timeMin'), '2024-01-02T03:04:05.000Z');
    assert.deepEqual(new URL(list.url).searchParams.getAll('eventTypes'), ['default', 'focusTime']);
    const body = { size: 12345678901234567890n };
    const ins = storage.buckets.insert({ project: 'p' }, { body });
    assert.equal(ins.toRequest().headers.get('content-type'), 'application/json; charset=UTF-8');
    return ins
      .toRequest()
      .text()
      .then((t: string) => assert.equal(t, '{"size":"12345678901234567890"}'));
  });

  it('builds URLs from rootUrl and servicePath, never baseUrl (analytics)', () => {
    const doc = loadFixture('analytics.v3.json');
    assert.notEqual(doc.baseUrl, doc.rootUrl + doc.servicePath);
    const r = fixture('analytics.v3.json').management.accounts.list();
    assert.equal(r.url, 'https://analytics.googleapis.com/analytics/v3/management/accounts');
  });

  it('keys methods by their place in the tree, whatever their id (storage operations)', () => {
    const storage = fixture('storage.v1.json');
    const r = storage.operations.get({ bucket: 'b', operationId: 'op' });
    assert.equal(r.methodId, 'storage.buckets.operations.get');
    assert.equal(path(r), '/storage/v1/b/b/operations/op');
  });

  it('checks parameters before anything is sent, naming the method and the parameter', () => {
    const tasks = fixture('tasks.v1.json');
    throwsTypeError(() => tasks.tasks.list({}), 'tasks.tasks.list', '"tasklist"', 'required');
    throwsTypeError(
      () => tasks.tasks.list({ tasklist: 'a', nope: 1 }),
      'tasks.tasks.list',
      'unknown parameter "nope"',
    );
    throwsTypeError(
      () => tasks.tasks.list({ tasklist: 'a', maxResults: 'ten' }),
      '"maxResults"',
      'integer',
    );
    throwsTypeError(
      () => tasks.tasks.list({ tasklist: 'a', showCompleted: 'yes' }),
      '"showCompleted"',
      'boolean',
    );
    throwsTypeError(() => tasks.tasks.list({ tasklist: 7 }), '"tasklist"', 'string');
    throwsTypeError(() => tasks.tasks.list({ tasklist: '' }), '"tasklist"', 'empty');
    throwsTypeError(
      () => tasks.tasks.list({ tasklist: 'a', '$.xgafv': '3' }),
      '"$.xgafv"',
      'one of "1", "2"',
    );
    throwsTypeError(
      () => tasks.tasks.list({ tasklist: 'a', maxResults: [1, 2] }),
      '"maxResults"',
      'not repeated',
    );
    throwsTypeError(
      () => tasks.tasks.delete({ tasklist: 'a', task: 'b' }, { body: { x: 1 } }),
      'tasks.tasks.delete',
      'no request body',
    );
    throwsTypeError(() => (tasks.tasks.list as any)('x'), 'plain object');
    const pubsub = fixture('pubsub.v1.json');
    throwsTypeError(
      () => pubsub.projects.topics.get({ topic: 'topics/t' }),
      'pubsub.projects.topics.get',
      '"topic"',
      'must match',
    );
    const compute = fixture('compute.v1.json');
    throwsTypeError(
      () => compute.instances.list({ project: 'p', zone: 'z', maxResults: -1 }),
      '"maxResults"',
      'negative',
    );
    const youtube = fixture('youtube.v3.json');
    throwsTypeError(() => youtube.videos.list({ part: [] }), '"part"', 'required');
  });

  it('refuses tokens as query parameters: they belong in the Authorization header', () => {
    const tasks = fixture('tasks.v1.json');
    for (const name of ['access_token', 'oauth_token']) {
      assert.throws(
        () => tasks.tasklists.list({ [name]: 'ya29.secret-token-value' }),
        (err: Error) =>
          err instanceof TypeError &&
          err.message.includes(name) &&
          !err.message.includes('ya29.secret-token-value'),
      );
    }
  });

  it('checks media against accept and maxSize, and the chunk size', () => {
    const gmail = fixture('gmail.v1.json');
    throwsTypeError(
      () => gmail.users.messages.insert({}, { media: { body: 'x', mimeType: 'image/png' } }),
      'gmail.users.messages.insert',
      'not accepted',
    );
    const ok = gmail.users.messages.insert(
      {},
      { media: { body: 'x', mimeType: 'message/rfc822' } },
    );
    assert.equal(ok.uploadProtocol, 'media');
    const doc = structuredClone(loadFixture('analytics.v3.json'));
    doc.resources!.management!.resources!.uploads!.methods!.uploadData!.mediaUpload!.maxSize =
      '1KB';
    const analytics = buildFromDocument<any>(doc);
    const params = { accountId: '1', webPropertyId: 'UA-1-1', customDataSourceId: 'c' };
    const body = new Uint8Array(1025);
    throwsTypeError(
      () =>
        analytics.management.uploads.uploadData(params, {
          media: { body, mimeType: 'application/octet-stream' },
        }),
      'larger than the method allows (1KB)',
    );
    const fits = analytics.management.uploads.uploadData(params, {
      media: { body: body.subarray(1), mimeType: 'application/octet-stream' },
    });
    assert.equal(new URL(fits.url).searchParams.get('uploadType'), 'media');
    const drive = fixture('drive.v3.json');
    throwsTypeError(
      () =>
        drive.files.create({}, { media: { body: 'x', protocol: 'resumable', chunkSize: 1000 } }),
      'chunkSize',
    );
    throwsTypeError(() => drive.files.list({}, { media: { body: 'x' } }), 'no', 'media');
    const cloudsupport = fixture('cloudsupport.v2.json');
    throwsTypeError(
      () =>
        cloudsupport.media.upload(
          { parent: 'projects/p/cases/c' },
          { media: { body: 'x', protocol: 'resumable' } },
        ),
      'no resumable',
    );
    const simple = cloudsupport.media.upload(
      { parent: 'projects/p/cases/c' },
      { body: { attachment: { filename: 'a.txt' } }, media: { body: 'x', mimeType: 'text/plain' } },
    );
    assert.equal(
      simple.url,
      'https://cloudsupport.googleapis.com/upload/v2/projects/p/cases/c/attachments?uploadType=multipart',
    );
  });

  it('chooses the upload protocol: media without metadata, multipart with, resumable when large', () => {
    const drive = fixture('drive.v3.json');
    const bytes = (n: number) => new Blob([new Uint8Array(n)]);
    assert.equal(drive.files.create({}, { media: { body: 'x' } }).uploadProtocol, 'media');
    const meta = { body: { name: 'a.txt' }, media: { body: 'x' } };
    assert.equal(drive.files.create({}, meta).uploadProtocol, 'multipart');
    const big = drive.files.create({}, { media: { body: bytes(5 * 1024 * 1024 + 1) } });
    assert.equal(big.uploadProtocol, 'resumable');
    assert.equal(big.url, 'https://www.googleapis.com/upload/drive/v3/files?uploadType=resumable');
    const start = big.toRequest();
    assert.equal(start.headers.get('x-upload-content-length'), String(5 * 1024 * 1024 + 1));
    assert.equal(start.headers.get('x-upload-content-type'), 'application/octet-stream');
  });

  it('uses the rootUrl option for calls, uploads and batches, keeping servicePath', () => {
    const drive = buildFromDocument<any>(loadFixture('drive.v3.json'), {
      rootUrl: 'http://127.0.0.1:9/api',
    });
    assert.equal(drive.files.get({ fileId: 'f' }).url, 'http://127.0.0.1:9/api/drive/v3/files/f');
    const up = drive.files.create({}, { media: { body: 'x' } });
    assert.equal(up.url, 'http://127.0.0.1:9/api/upload/drive/v3/files?uploadType=media');
  });

  it('adds the API key as key=, unless the call names its own', () => {
    const tasks = buildFromDocument<any>(loadFixture('tasks.v1.json'), { key: 'AIza-test' });
    assert.deepEqual(query(tasks.tasklists.list()), [['key', 'AIza-test']]);
    assert.deepEqual(query(tasks.tasklists.list({ key: 'other' })), [['key', 'other']]);
  });

  it('gives a service that is not thenable and cannot be changed', async () => {
    const tasks = fixture('tasks.v1.json');
    assert.equal(await Promise.resolve(tasks), tasks);
    assert.equal((tasks as any).then, undefined);
    assert.throws(() => {
      (tasks as any).tasks = 1;
    }, TypeError);
    assert.equal((tasks as any).toString, undefined, 'no Object.prototype names');
    assert.equal((tasks as any).nope, undefined);
    assert.equal('tasks' in tasks, true);
    assert.equal('nope' in tasks, false);
  });

  it('every fixture method appears in Object.keys of its resource', () => {
    for (const file of ['gmail.v1.json', 'firestore.v1.json']) {
      const doc = loadFixture(file);
      const service = buildFromDocument<any>(doc) as any;
      for (const { path: p } of allMethods(doc)) {
        const parent = p.slice(0, -1).reduce((n, k) => n[k], service);
        assert.ok(Object.keys(parent).includes(p.at(-1)!), `${file} ${p.join('.')}`);
      }
    }
  });
});

describe('buildFromDocument input checks', () => {
  it('accepts JSON text and rejects what is not a REST description', () => {
    const text = JSON.stringify(loadDemoTasksDoc());
    const service = buildFromDocument<any>(text);
    assert.equal(service.tasks.list({ tasklist: 'a' }).methodId, 'tasks.tasks.list');
    throwsTypeError(() => buildFromDocument<any>('{not json'), 'not valid JSON');
    throwsTypeError(() => buildFromDocument<any>({ kind: 'x' }), '"kind"');
    throwsTypeError(() => buildFromDocument<any>({ servicePath: '' }), '"rootUrl"');
    throwsTypeError(
      () => buildFromDocument<any>(loadDemoTasksDoc(), { rootUrl: 'nope' }),
      'rootUrl',
    );
    throwsTypeError(() => buildFromDocument<any>(loadDemoTasksDoc(), { http: 1 as any }), '"http"');
  });
});

describe("the demo's own Tasks discovery document", () => {
  const demo = loadDemoTasksDoc();

  it('describes the routes the demo uses', () => {
    const ids = allMethods(demo).map((m) => m.method.id);
    assert.deepEqual(ids.sort(), [
      'tasks.tasklists.list',
      'tasks.tasks.delete',
      'tasks.tasks.get',
      'tasks.tasks.insert',
      'tasks.tasks.list',
      'tasks.tasks.patch',
      'tasks.tasks.update',
    ]);
    const service = buildFromDocument<any>(demo, { rootUrl: 'http://127.0.0.1:8124/' });
    const list = service.tasks.list({ tasklist: '@default', maxResults: 2 });
    assert.equal(list.url, 'http://127.0.0.1:8124/tasks/v1/lists/%40default/tasks?maxResults=2');
  });

  it("agrees with Google's published document on every route it has", noFixtures, () => {
    const real = loadFixture('tasks.v1.json');
    const realById = new Map(allMethods(real).map((m) => [m.method.id, m]));
    for (const { path: p, method } of allMethods(demo)) {
      const twin = realById.get(method.id);
      assert.ok(twin, `${method.id} exists in Google's document`);
      assert.deepEqual(twin.path, p, `${method.id}: same place in the tree`);
      assert.equal(method.httpMethod, twin.method.httpMethod, `${method.id}: HTTP method`);
      assert.equal(method.path, twin.method.path, `${method.id}: path`);
      assert.deepEqual(method.request, twin.method.request, `${method.id}: request`);
      assert.deepEqual(method.response, twin.method.response, `${method.id}: response`);
      for (const [name, def] of Object.entries(method.parameters ?? {})) {
        const realDef: JsonSchema | undefined = twin.method.parameters?.[name];
        assert.ok(realDef, `${method.id}: parameter ${name} exists`);
        assert.equal(def.location, realDef.location, `${method.id}.${name} location`);
        assert.equal(def.type, realDef.type, `${method.id}.${name} type`);
        assert.equal(def.required ?? false, realDef.required ?? false, `${method.id}.${name}`);
      }
    }
    assert.equal(demo.rootUrl, real.rootUrl);
    assert.equal(demo.servicePath, real.servicePath);
    assert.equal(demo.batchPath, real.batchPath);
  });
});

describe('build() fetches the document from a discovery URL', () => {
  let server: LocalServer;
  const doc = loadDemoTasksDoc();
  let served: RestDescription;
  before(async () => {
    server = await startServer((req, res) => {
      if (req.path === '/v1/apis/tasks/v1/rest') return sendJson(res, 200, served);
      if (req.path === '/v2/tasks/rest' && req.query.get('version') === 'v1') {
        return sendJson(res, 200, served);
      }
      sendJson(res, 404, { error: { code: 404, message: 'Not found' } });
    });
    served = { ...doc, rootUrl: `${server.origin}/` };
  });
  after(() => server.close());

  it('builds from the first URL, then takes the document from the cache', async () => {
    server.requests.length = 0;
    const cache = createMemoryCache();
    const options = { discoveryUrl: `${server.origin}/v1/apis/{api}/{apiVersion}/rest`, cache };
    const a = await build<any>('tasks', 'v1', options);
    assert.equal(a.tasks.list({ tasklist: 'x' }).url, `${server.origin}/tasks/v1/lists/x/tasks`);
    const b = await build<any>('tasks', 'v1', options);
    assert.equal(b.tasklists.list().methodId, 'tasks.tasklists.list');
    assert.equal(server.requests.length, 1, 'one fetch for two builds');
    assert.equal(server.requests[0]!.headers.authorization, undefined, 'no credentials sent');
  });

  it('falls back to the next URL on a 404, and caches under the URL that answered', async () => {
    server.requests.length = 0;
    const stored = new Map<string, string>();
    const cache: DiscoveryCache = {
      get: async (k) => stored.get(k),
      set: async (k, v) => void stored.set(k, v),
    };
    const discoveryUrl = [
      `${server.origin}/missing/{api}/{apiVersion}`,
      `${server.origin}/v2/{api}/rest?version={apiVersion}`,
    ];
    const service = await build<any>('tasks', 'v1', { discoveryUrl, cache });
    assert.equal(service.tasks.get({ tasklist: 'l', task: 't' }).httpMethod, 'GET');
    assert.deepEqual(
      server.requests.map((r) => r.url),
      ['/missing/tasks/v1', '/v2/tasks/rest?version=v1'],
    );
    assert.deepEqual([...stored.keys()], [`${server.origin}/v2/tasks/rest?version=v1`]);
  });

  it('fetches once for concurrent builds of the same API', async () => {
    server.requests.length = 0;
    const options = {
      discoveryUrl: `${server.origin}/v1/apis/{api}/{apiVersion}/rest`,
      cache: createMemoryCache(),
    };
    const services = await Promise.all([1, 2, 3].map(() => build<any>('tasks', 'v1', options)));
    assert.equal(services.length, 3);
    assert.equal(server.requests.length, 1);
  });

  it('throws an HttpError when no URL has the document, and TypeErrors for bad arguments', async () => {
    const options = { discoveryUrl: `${server.origin}/none/{api}`, cache: createMemoryCache() };
    await assert.rejects(build<any>('tasks', 'v1', options), (err: unknown) => {
      assert.ok(err instanceof HttpError);
      assert.equal(err.status, 404);
      assert.equal(err.methodId, 'discovery');
      return true;
    });
    await assert.rejects(build('../x', 'v1', options), TypeError);
    await assert.rejects(build('tasks', '', options), TypeError);
    await assert.rejects(build<any>('tasks', 'v1', { ...options, discoveryUrl: [] }), TypeError);
  });

  it('still builds when the cache fails', async () => {
    server.requests.length = 0;
    const broken: DiscoveryCache = {
      get: async () => {
        throw new Error('cache down');
      },
      set: async () => {
        throw new Error('cache down');
      },
    };
    const discoveryUrl = `${server.origin}/v1/apis/{api}/{apiVersion}/rest`;
    const service = await build<any>('tasks', 'v1', { discoveryUrl, cache: broken });
    assert.equal(service.tasklists.list().methodId, 'tasks.tasklists.list');
    assert.equal(server.requests.length, 1);
  });

  it('uses the fetch option to get the document', async () => {
    const seen: string[] = [];
    const service = await build<any>('tasks', 'v1', {
      discoveryUrl: 'https://discovery.invalid/{api}/{apiVersion}',
      cache: createMemoryCache(),
      fetch: async (request) => {
        seen.push(request.url);
        return Response.json(doc);
      },
    });
    assert.deepEqual(seen, ['https://discovery.invalid/tasks/v1']);
    assert.equal(
      service.tasklists.list().url,
      'https://tasks.googleapis.com/tasks/v1/users/@me/lists',
    );
  });
});

describe('the memory cache', () => {
  it('expires entries and drops the least recently used', async () => {
    let now = 0;
    const cache = createMemoryCache({ ttlMs: 100, maxEntries: 2, now: () => now });
    await cache.set('a', '1');
    await cache.set('b', '2');
    assert.equal(await cache.get('a'), '1'); // a is now the most recently used
    await cache.set('c', '3');
    assert.equal(await cache.get('b'), undefined);
    assert.equal(await cache.get('a'), '1');
    now = 150;
    assert.equal(await cache.get('c'), undefined);
  });
});
