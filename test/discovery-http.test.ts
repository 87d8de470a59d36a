// The discovery client against a local HTTP server: execute, errors, retries, media download,
// the three upload protocols (a resumable upload interrupted and resumed), pagination, batches.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  build,
  buildFromDocument,
  createBatch,
  createMemoryCache,
  HttpError,
  type RetryOptions,
} from '../src/discovery/index.js';
import {
  googleError,
  sendJson,
  startServer,
  type LocalServer,
} from './support/discovery-server.js';
import { startTasksApi, type TasksApi } from './support/discovery-tasks-api.js';
import { filesDocument } from './support/discovery-test-doc.js';

let server: LocalServer;
let delays: number[];
/** Retry options that record the waits instead of waiting. */
const fastRetry = (extra: RetryOptions = {}): RetryOptions => ({
  sleep: async (ms) => void delays.push(ms),
  random: () => 0.5,
  ...extra,
});
const service = (extra: RetryOptions = {}) =>
  buildFromDocument<any>(filesDocument(`${server.origin}/`), { retry: fastRetry(extra) });

before(async () => {
  server = await startServer((_, res) => sendJson(res, 500, {}));
});
after(() => server.close());
beforeEach(() => {
  server.requests.length = 0;
  delays = [];
});

describe('execute()', () => {
  it('sends the call and resolves to the parsed JSON response', async () => {
    server.handler = (req, res) => sendJson(res, 200, { id: 'f1', got: req.url });
    const result = await service().files.get({ fileId: 'a b' }).execute();
    assert.deepEqual(result, { id: 'f1', got: '/files/v1/files/a%20b' });
    assert.equal(server.requests[0]!.headers.accept, 'application/json');
  });

  it('sends the JSON body of a POST, and resolves an empty 204 to undefined', async () => {
    server.handler = (req, res) =>
      req.method === 'DELETE'
        ? sendJson(res, 204, undefined)
        : sendJson(res, 200, req.body.toString());
    const files = service().files;
    const echoed = await files.create({}, { body: { name: 'n', size: 5n } }).execute();
    assert.equal(echoed, '{"name":"n","size":"5"}');
    assert.equal(server.requests[0]!.headers['content-type'], 'application/json; charset=UTF-8');
    assert.equal(await files.delete({ fileId: 'x' }).execute(), undefined);
  });

  it("uses the service's http, and the one given to execute() over it", async () => {
    server.handler = (req, res) => sendJson(res, 200, { auth: req.headers.authorization });
    const tagged = (tag: string) => (input: Request) => {
      const headers = new Headers(input.headers);
      headers.set('authorization', `Bearer ${tag}`);
      return fetch(new Request(input, { headers }));
    };
    const files = buildFromDocument<any>(filesDocument(`${server.origin}/`), {
      http: tagged('svc'),
    }).files;
    assert.deepEqual(await files.get({ fileId: 'a' }).execute(), { auth: 'Bearer svc' });
    assert.deepEqual(await files.get({ fileId: 'a' }).execute(tagged('call')), {
      auth: 'Bearer call',
    });
  });
});

describe('credentials as the http option', () => {
  it('calls authorize() once and sends every call through the client it returns', async () => {
    server.handler = (req, res) => sendJson(res, 200, { auth: req.headers.authorization });
    let made = 0;
    const credentials = {
      authorize: () => {
        made++;
        return (request: Request) => {
          const headers = new Headers(request.headers);
          headers.set('authorization', 'Bearer from-credentials');
          return fetch(new Request(request, { headers }));
        };
      },
    };
    const files = buildFromDocument<any>(filesDocument(`${server.origin}/`), {
      http: credentials,
    }).files;
    assert.deepEqual(await files.get({ fileId: 'a' }).execute(), {
      auth: 'Bearer from-credentials',
    });
    assert.deepEqual(await files.list().execute(), { auth: 'Bearer from-credentials' });
    assert.equal(made, 1);
  });

  it('never sends a request that is only awaited: execute() is explicit', async () => {
    const request = service().files.list();
    assert.equal('then' in request, false);
    assert.equal(await Promise.resolve(request), request);
    assert.equal(server.requests.length, 0);
  });
});

describe('errors', () => {
  it('throws an HttpError with status, message, reasons and details; the response stays hidden', async () => {
    server.handler = (_, res) =>
      sendJson(res, 404, googleError(404, 'File not found: f9.', 'notFound', 'NOT_FOUND'));
    const files = buildFromDocument<any>(filesDocument(`${server.origin}/`), {
      key: 'AIza-secret-key',
    }).files;
    const err = await files
      .get({ fileId: 'f9' })
      .execute()
      .then(
        () => assert.fail('no error'),
        (e: unknown) => e,
      );
    assert.ok(err instanceof HttpError);
    assert.equal(err.code, 'http_error');
    assert.equal(err.name, 'HttpError');
    assert.equal(err.status, 404);
    assert.equal(err.message, 'File not found: f9.');
    assert.deepEqual(err.reasons, ['notFound']);
    assert.equal(err.apiStatus, 'NOT_FOUND');
    assert.equal((err.details[0] as { reason: string }).reason, 'notFound');
    assert.equal(err.methodId, 'files.files.get');
    assert.ok(err.response instanceof Response);
    assert.equal(err.response.status, 404);
    assert.ok(!Object.keys(err).includes('response'), 'response is not enumerable');
    const logged = JSON.stringify(err) + String(err.stack);
    assert.ok(!logged.includes('AIza-secret-key'), 'the API key (in the URL) is never logged');
    assert.ok(!logged.includes('127.0.0.1'), 'the URL is not in the error');
  });

  it('reads an OAuth-style error body and a body that is not JSON', async () => {
    server.handler = (_, res) =>
      sendJson(res, 401, { error: 'invalid_token', error_description: 'expired' });
    const files = service().files;
    await assert.rejects(files.get({ fileId: 'a' }).execute(), {
      status: 401,
      message: 'invalid_token: expired',
    });
    server.handler = (_, res) => {
      res.writeHead(400, { 'content-type': 'text/html' });
      res.end('<html>bad</html>');
    };
    await assert.rejects(files.get({ fileId: 'a' }).execute(), (e: HttpError) => {
      assert.equal(e.status, 400);
      assert.match(e.message, /files\.files\.get failed with HTTP 400/);
      assert.deepEqual(e.reasons, []);
      return true;
    });
  });
});

describe('retries', () => {
  it('retries a GET after a 503 and returns the next answer', async () => {
    let n = 0;
    server.handler = (_, res) =>
      ++n === 1
        ? sendJson(res, 503, googleError(503, 'busy', 'backendError'))
        : sendJson(res, 200, { n });
    assert.deepEqual(await service().files.get({ fileId: 'a' }).execute(), { n: 2 });
    assert.equal(server.requests.length, 2);
    // Full jitter: random 0.5 of the first ceiling (500 ms).
    assert.deepEqual(delays, [250]);
  });

  it('waits what Retry-After says on a 429, in seconds or as an HTTP date', async () => {
    let n = 0;
    server.handler = (_, res) => {
      n++;
      if (n === 1)
        return sendJson(res, 429, googleError(429, 'slow down', 'rateLimitExceeded'), {
          'retry-after': '2',
        });
      if (n === 2) {
        const date = new Date(Date.now() + 3000).toUTCString();
        return sendJson(res, 429, {}, { 'retry-after': date });
      }
      sendJson(res, 200, { n });
    };
    assert.deepEqual(await service().files.get({ fileId: 'a' }).execute(), { n: 3 });
    assert.equal(delays[0], 2000);
    assert.ok(delays[1]! > 1000 && delays[1]! <= 3000, `HTTP-date wait ${delays[1]}`);
  });

  it('never retries a non-idempotent POST', async () => {
    server.handler = (_, res) => sendJson(res, 503, googleError(503, 'busy', 'backendError'));
    await assert.rejects(
      service()
        .files.create({}, { body: { name: 'x' } })
        .execute(),
      {
        status: 503,
      },
    );
    assert.equal(server.requests.length, 1);
    assert.deepEqual(delays, []);
  });

  it('retries an idempotent PUT and a GET whose connection dropped', async () => {
    let n = 0;
    server.handler = (req, res) => {
      n++;
      if (n === 1) return void res.socket?.destroy();
      if (n === 2) return sendJson(res, 502, {});
      sendJson(res, 200, { method: req.method, body: req.body.toString() });
    };
    const put = service().files.update({ fileId: 'a' }, { body: { name: 'again' } });
    assert.deepEqual(await put.execute(), { method: 'PUT', body: '{"name":"again"}' });
    assert.equal(server.requests.length, 3);
    assert.equal(delays.length, 2);
  });

  it('gives up after the configured retries with growing backoff ceilings', async () => {
    server.handler = (_, res) => sendJson(res, 500, googleError(500, 'oops', 'backendError'));
    const files = service({
      retries: 4,
      baseDelayMs: 100,
      maxDelayMs: 300,
      random: () => 0.999,
    }).files;
    await assert.rejects(files.list().execute(), { status: 500, message: 'oops' });
    assert.equal(server.requests.length, 5);
    assert.deepEqual(delays, [99, 199, 299, 299]);
  });

  it('does not retry when Retry-After is beyond maxRetryAfterMs, nor when retry is false', async () => {
    server.handler = (_, res) => sendJson(res, 503, {}, { 'retry-after': '3600' });
    await assert.rejects(service().files.list().execute(), { status: 503 });
    assert.equal(server.requests.length, 1);
    server.requests.length = 0;
    server.handler = (_, res) => sendJson(res, 503, {});
    await assert.rejects(service().files.list({}, { retry: false }).execute(), { status: 503 });
    assert.equal(server.requests.length, 1);
    assert.deepEqual(delays, []);
  });

  it('retries a 403 rateLimitExceeded but not a plain 403', async () => {
    let n = 0;
    server.handler = (_, res) =>
      ++n === 1
        ? sendJson(res, 403, googleError(403, 'Rate limit', 'userRateLimitExceeded'))
        : sendJson(res, 200, { n });
    assert.deepEqual(await service().files.list().execute(), { n: 2 });
    server.requests.length = 0;
    server.handler = (_, res) => sendJson(res, 403, googleError(403, 'No access', 'forbidden'));
    await assert.rejects(service().files.list().execute(), { status: 403, reasons: ['forbidden'] });
    assert.equal(server.requests.length, 1);
  });

  it('does not retry an error of the client itself (a refused origin, a revoked grant)', async () => {
    let calls = 0;
    class GrantRevoked extends Error {}
    const failing = async () => {
      calls++;
      throw new GrantRevoked('grant revoked');
    };
    await assert.rejects(service().files.list().execute(failing), GrantRevoked);
    assert.equal(calls, 1);
    assert.deepEqual(delays, []);
  });

  it('stops waiting when the call is aborted', async () => {
    server.handler = (_, res) => sendJson(res, 503, {});
    const controller = new AbortController();
    const files = buildFromDocument<any>(filesDocument(`${server.origin}/`), {
      retry: { baseDelayMs: 60_000, random: () => 0.99 },
    }).files;
    const pending = files.list({}, { signal: controller.signal }).execute();
    setTimeout(() => controller.abort(new Error('user left')), 50);
    await assert.rejects(pending, { message: 'user left' });
    assert.equal(server.requests.length, 1);
  });
});

describe('media download', () => {
  it('streams the bytes of alt=media', async () => {
    const chunks = ['first chunk|', 'second chunk|', 'third'];
    server.handler = async (req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      for (const c of chunks) {
        res.write(c);
        await new Promise((r) => setTimeout(r, 5));
      }
      res.end();
    };
    const response = await service().files.get({ fileId: 'f1', fields: 'id' }).download();
    assert.equal(response.headers.get('content-type'), 'application/octet-stream');
    const reader = response.body!.getReader();
    const parts: Uint8Array[] = [];
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
    }
    assert.ok(parts.length >= 1);
    assert.equal(Buffer.concat(parts).toString(), chunks.join(''));
    const req = server.requests[0]!;
    assert.equal(req.path, '/files/v1/files/f1');
    assert.deepEqual(
      [...req.query],
      [
        ['fields', 'id'],
        ['alt', 'media'],
      ],
    );
  });

  it('throws an HttpError for an error status, and a TypeError where there is no download', async () => {
    server.handler = (_, res) => sendJson(res, 404, googleError(404, 'gone', 'notFound'));
    await assert.rejects(service().files.get({ fileId: 'f' }).download(), { status: 404 });
    await assert.rejects(service().files.list().download(), TypeError);
  });
});

describe('media upload', () => {
  const bytes = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + 3) % 251);

  it('simple: sends the raw bytes with their type (uploadType=media)', async () => {
    server.handler = (req, res) => sendJson(res, 200, { id: 'u1', size: String(req.body.length) });
    const data = bytes(1000);
    const result = await service()
      .files.create({}, { media: { body: data, mimeType: 'image/png' } })
      .execute();
    assert.deepEqual(result, { id: 'u1', size: '1000' });
    const req = server.requests[0]!;
    assert.equal(req.method, 'POST');
    assert.equal(req.path, '/upload/files/v1/files');
    assert.equal(req.query.get('uploadType'), 'media');
    assert.equal(req.headers['content-type'], 'image/png');
    assert.deepEqual(new Uint8Array(req.body), data);
  });

  it('multipart: sends metadata and bytes in one multipart/related request', async () => {
    server.handler = (_, res) => sendJson(res, 200, { id: 'u2' });
    const data = bytes(300);
    await service()
      .files.create(
        {},
        { body: { name: 'photo.png' }, media: { body: new Blob([data], { type: 'image/png' }) } },
      )
      .execute();
    const req = server.requests[0]!;
    assert.equal(req.query.get('uploadType'), 'multipart');
    const type = String(req.headers['content-type']);
    const boundary = /^multipart\/related; boundary=(.+)$/.exec(type)?.[1];
    assert.ok(boundary);
    const raw = req.body;
    const delimiter = Buffer.from(`--${boundary}`);
    const segments: Buffer[] = [];
    let at = raw.indexOf(delimiter);
    while (at >= 0) {
      const next = raw.indexOf(delimiter, at + delimiter.length);
      if (next < 0) break;
      segments.push(raw.subarray(at + delimiter.length + 2, next - 2));
      at = next;
    }
    assert.equal(segments.length, 2);
    const [meta, media] = segments.map((s) => {
      const sep = s.indexOf('\r\n\r\n');
      return { head: s.subarray(0, sep).toString(), body: s.subarray(sep + 4) };
    });
    assert.match(meta!.head, /content-type: application\/json/i);
    assert.deepEqual(JSON.parse(meta!.body.toString()), { name: 'photo.png' });
    assert.match(media!.head, /content-type: image\/png/i);
    assert.deepEqual(new Uint8Array(media!.body), data);
    assert.ok(
      raw
        .subarray(-(boundary.length + 6))
        .toString()
        .startsWith(`--${boundary}--`),
    );
  });

  /** A resumable upload server that can lose part of a chunk and drop the connection. */
  function resumableServer(options: { dropOnChunk?: number; keep?: number } = {}) {
    const state = { received: Buffer.alloc(0), total: -1, chunks: 0, dropped: 0, meta: '' };
    server.handler = (req, res) => {
      if (req.method === 'POST' && req.path === '/upload/files/v1/files') {
        assert.equal(req.query.get('uploadType'), 'resumable');
        state.total = Number(req.headers['x-upload-content-length']);
        state.meta = req.body.toString();
        res.writeHead(200, { location: `${server.origin}/upload/session/abc?upload_id=xyz` });
        return void res.end();
      }
      if (req.method === 'PUT' && req.path === '/upload/session/abc') {
        const range = String(req.headers['content-range']);
        const status = /^bytes \*\/(\d+)$/.exec(range);
        const chunk = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(range);
        if (chunk) {
          assert.equal(
            Number(chunk[1]),
            state.received.length,
            'chunks continue where the server is',
          );
          assert.equal(Number(chunk[2]) - Number(chunk[1]) + 1, req.body.length);
          state.chunks++;
          if (state.chunks === options.dropOnChunk && state.dropped === 0) {
            // Part of the chunk arrived, then the connection died.
            state.dropped++;
            state.received = Buffer.concat([
              state.received,
              req.body.subarray(0, options.keep ?? 0),
            ]);
            return void res.socket?.destroy();
          }
          state.received = Buffer.concat([state.received, req.body]);
        } else if (!status) {
          return sendJson(res, 400, googleError(400, 'bad range', 'badRequest'));
        }
        if (state.received.length === state.total) {
          return sendJson(res, 201, { id: 'big', size: String(state.total) });
        }
        const headers: Record<string, string> = {};
        if (state.received.length > 0) headers.range = `bytes=0-${state.received.length - 1}`;
        res.writeHead(308, headers);
        return void res.end();
      }
      sendJson(res, 404, {});
    };
    return state;
  }

  it('resumable: starts a session and sends the media in chunks', async () => {
    const state = resumableServer();
    const data = bytes(600 * 1024);
    const progress: number[] = [];
    const sessions: string[] = [];
    const result = await service()
      .files.create(
        {},
        {
          body: { name: 'big.bin' },
          media: {
            body: data,
            protocol: 'resumable',
            chunkSize: 256 * 1024,
            onSession: (uri: string) => void sessions.push(uri),
            onProgress: (sent: number) => void progress.push(sent),
          },
        },
      )
      .execute();
    assert.deepEqual(result, { id: 'big', size: String(data.length) });
    assert.equal(state.meta, '{"name":"big.bin"}');
    assert.deepEqual(new Uint8Array(state.received), data);
    assert.deepEqual(sessions, [`${server.origin}/upload/session/abc?upload_id=xyz`]);
    assert.deepEqual(progress, [256 * 1024, 512 * 1024]);
    const ranges = server.requests
      .filter((r) => r.method === 'PUT')
      .map((r) => r.headers['content-range']);
    assert.deepEqual(ranges, [
      'bytes 0-262143/614400',
      'bytes 262144-524287/614400',
      'bytes 524288-614399/614400',
    ]);
    assert.equal(server.requests[0]!.headers['x-upload-content-type'], 'application/octet-stream');
  });

  it('resumable: after an interruption, asks the server where it is and resumes from there', async () => {
    const state = resumableServer({ dropOnChunk: 2, keep: 1000 });
    const data = bytes(600 * 1024);
    const result = await service()
      .files.create({}, { media: { body: data, protocol: 'resumable', chunkSize: 256 * 1024 } })
      .execute();
    assert.deepEqual(result, { id: 'big', size: String(data.length) });
    assert.equal(state.dropped, 1);
    assert.deepEqual(new Uint8Array(state.received), data, 'every byte once, in order');
    const ranges = server.requests
      .filter((r) => r.method === 'PUT')
      .map((r) => r.headers['content-range']);
    assert.deepEqual(ranges, [
      'bytes 0-262143/614400',
      'bytes 262144-524287/614400', // dropped after 1000 bytes
      'bytes */614400', // where are we?
      `bytes ${262144 + 1000}-${262144 + 1000 + 262143}/614400`,
      `bytes ${262144 + 1000 + 262144}-614399/614400`,
    ]);
    assert.equal(delays.length, 1, 'one backoff before asking');
  });

  it('resumable: continues a session from an earlier process with sessionUri', async () => {
    const state = resumableServer({ dropOnChunk: 2, keep: 0 });
    const data = bytes(600 * 1024);
    let session = '';
    const first = service({ retries: 0 }).files.create(
      {},
      {
        media: {
          body: data,
          protocol: 'resumable',
          chunkSize: 256 * 1024,
          onSession: (uri: string) => void (session = uri),
        },
      },
    );
    await assert.rejects(first.execute(), TypeError); // fetch failed: the connection dropped
    assert.equal(state.received.length, 256 * 1024);
    const posts = server.requests.filter((r) => r.method === 'POST').length;
    // A new request (a new process, say) picks the session up where the server has it.
    const result = await service()
      .files.create(
        {},
        {
          media: { body: data, protocol: 'resumable', chunkSize: 256 * 1024, sessionUri: session },
        },
      )
      .execute();
    assert.deepEqual(result, { id: 'big', size: String(data.length) });
    assert.deepEqual(new Uint8Array(state.received), data);
    assert.equal(
      server.requests.filter((r) => r.method === 'POST').length,
      posts,
      'no new session',
    );
  });

  it('resumable: a session the server no longer knows is an HttpError', async () => {
    server.handler = (req, res) =>
      req.method === 'PUT'
        ? sendJson(res, 404, googleError(404, 'No such upload', 'notFound'))
        : sendJson(res, 500, {});
    const data = bytes(10);
    const upload = service().files.create(
      {},
      { media: { body: data, protocol: 'resumable', sessionUri: `${server.origin}/upload/gone` } },
    );
    await assert.rejects(upload.execute(), { status: 404, message: 'No such upload' });
  });
});

describe('pagination', () => {
  const pages: Record<string, { files: { id: string }[]; nextPageToken?: string }> = {
    '': { files: [{ id: 'a' }, { id: 'b' }], nextPageToken: 'p2' },
    p2: { files: [{ id: 'c' }], nextPageToken: 'p3' },
    p3: { files: [{ id: 'd' }, { id: 'e' }] },
  };

  it('iterates over 3 pages with the token in the query', async () => {
    server.handler = (req, res) => sendJson(res, 200, pages[req.query.get('pageToken') ?? '']);
    const seen = [];
    for await (const page of service().files.list({ pageSize: 2 }).pages()) seen.push(page);
    assert.equal(seen.length, 3);
    assert.deepEqual(
      server.requests.map((r) => r.url),
      [
        '/files/v1/files?pageSize=2',
        '/files/v1/files?pageSize=2&pageToken=p2',
        '/files/v1/files?pageSize=2&pageToken=p3',
      ],
    );
  });

  it('iterates over the items of every page', async () => {
    server.handler = (req, res) => sendJson(res, 200, pages[req.query.get('pageToken') ?? '']);
    const ids = [];
    for await (const file of service().files.list().items()) ids.push((file as { id: string }).id);
    assert.deepEqual(ids, ['a', 'b', 'c', 'd', 'e']);
  });

  it('iterates over 3 pages with the token in a POST body', async () => {
    server.handler = (req, res) => {
      const body = JSON.parse(req.body.toString()) as { pageToken?: string; query: string };
      assert.equal(body.query, 'name contains "x"');
      const page = pages[body.pageToken ?? '']!;
      sendJson(res, 200, { results: page.files, nextPageToken: page.nextPageToken });
    };
    const ids = [];
    const search = service().files.search({}, { body: { query: 'name contains "x"' } });
    for await (const f of search.items()) ids.push((f as { id: string }).id);
    assert.deepEqual(ids, ['a', 'b', 'c', 'd', 'e']);
    assert.deepEqual(
      server.requests.map((r) => [r.method, JSON.parse(r.body.toString()).pageToken]),
      [
        ['POST', undefined],
        ['POST', 'p2'],
        ['POST', 'p3'],
      ],
    );
  });

  it('stops when a page repeats its token, and refuses methods that do not page', async () => {
    server.handler = (_, res) => sendJson(res, 200, { files: [], nextPageToken: 'same' });
    let count = 0;
    for await (const _ of service().files.list().pages()) count++;
    assert.equal(count, 2);
    await assert.rejects(async () => {
      for await (const _ of service().files.get({ fileId: 'a' }).pages());
    }, /does not page/);
  });
});

describe('batch', () => {
  let api: TasksApi;
  before(async () => {
    api = await startTasksApi({ seed: 3 });
  });
  after(() => api.close());

  it('sends 5 calls in one multipart/mixed request and delivers each result or error', async () => {
    const tasks = await build<any>('tasks', 'v1', {
      discoveryUrl: api.discoveryUrl,
      cache: createMemoryCache(),
    });
    api.server.requests.length = 0;
    const batch = createBatch(tasks);
    const calls = [
      batch.add(tasks.tasks.get({ tasklist: '@default', task: 't1' })),
      batch.add(tasks.tasks.get({ tasklist: '@default', task: 'missing' })),
      batch.add(tasks.tasks.insert({ tasklist: '@default' }, { body: { title: 'from batch' } })),
      batch.add(tasks.tasks.patch({ tasklist: '@default', task: 't2' }, { body: { notes: 'n' } })),
      batch.add(tasks.tasklists.list()),
    ];
    assert.equal(batch.size, 5);
    const settled = await batch.execute(async (request: Request) => {
      const headers = new Headers(request.headers);
      headers.set('authorization', 'Bearer outer-token');
      return fetch(new Request(request, { headers }));
    });
    assert.equal(api.server.requests.length, 1, 'one HTTP request');
    const outer = api.server.requests[0]!;
    assert.equal(outer.method, 'POST');
    assert.equal(outer.path, '/batch');
    assert.match(String(outer.headers['content-type']), /^multipart\/mixed; boundary=/);
    assert.ok(!outer.body.toString().includes('outer-token'), 'no token inside the parts');
    assert.deepEqual(
      settled.map((s) => s.status),
      ['fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled'],
    );
    assert.equal(((await calls[0]) as { title: string }).title, 'seeded 1');
    await assert.rejects(calls[1]!, (err: unknown) => {
      assert.ok(err instanceof HttpError);
      assert.equal(err.status, 404);
      assert.equal(err.message, 'Task not found.');
      assert.deepEqual(err.reasons, ['notFound']);
      assert.equal(err.methodId, 'tasks.tasks.get');
      return true;
    });
    assert.equal(((await calls[2]) as { title: string }).title, 'from batch');
    assert.equal(((await calls[3]) as { notes: string }).notes, 'n');
    assert.equal(((await calls[4]) as { items: unknown[] }).items.length, 1);
    assert.equal(api.tasks.at(-1)!.title, 'from batch');
  });

  it('refuses uploads, requests of another service, and a second execute', async () => {
    const files = service();
    const other = service();
    const batch = createBatch(files);
    assert.throws(() => batch.add(other.files.list()), /another service/);
    assert.throws(() => batch.add(files.files.create({}, { media: { body: 'x' } })), /media/);
    assert.throws(() => createBatch({}), TypeError);
    server.handler = (_, res) => sendJson(res, 500, googleError(500, 'batch down', 'backendError'));
    const p = batch.add(files.files.list());
    await assert.rejects(batch.execute(), { status: 500 });
    await assert.rejects(p, { status: 500 });
    await assert.rejects(batch.execute(), /already executed/);
    assert.equal(server.requests[0]!.path, '/batch/files/v1');
  });
});
