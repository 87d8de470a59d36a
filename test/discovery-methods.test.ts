// Table-driven: for every method of every fixture document, a request built from generated
// valid parameters has the HTTP method, URL, query and body that the test's own reading of the
// document predicts (test/support/discovery-predict.ts, independent of src/discovery).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildFromDocument, type ApiRequest } from '../src/discovery/index.js';
import {
  allMethods,
  fixtureFiles,
  fixturesMissing,
  loadFixture,
  reach,
} from './support/discovery-fixtures.js';
import { acceptedType, generateCall, predict, sortPairs } from './support/discovery-predict.js';

function splitUrl(url: string): [string, [string, string][]] {
  const i = url.indexOf('?');
  if (i < 0) return [url, []];
  return [url.slice(0, i), sortPairs([...new URLSearchParams(url.slice(i + 1))])];
}

/** Reads a multipart/related body the way an upload server would. */
function readMultipart(text: string, contentType: string): { type: string; body: string }[] {
  const boundary = /boundary=([^;]+)/.exec(contentType)?.[1];
  assert.ok(boundary, `no boundary in ${contentType}`);
  const parts = text.split(`--${boundary}`);
  assert.equal(parts.at(-1)!.trim(), '--', 'the body ends with the closing delimiter');
  return parts.slice(1, -1).map((part) => {
    const sep = part.indexOf('\r\n\r\n');
    const head = part.slice(0, sep);
    return {
      type: /content-type:\s*([^\r\n]+)/i.exec(head)?.[1] ?? '',
      body: part.slice(sep + 4).replace(/\r\n$/, ''),
    };
  });
}

const files = fixtureFiles().filter((f) => f !== 'directory.v1.json');
const skipped: { file: string; id: string; reason: string }[] = [];
let checked = 0;
let uploadsChecked = 0;
let downloadsChecked = 0;

describe('every method of every fixture document', { skip: fixturesMissing }, () => {
  for (const file of files) {
    it(`${file}: each request matches the independent prediction`, async () => {
      const doc = loadFixture(file);
      const service = buildFromDocument<any>(doc);
      const methods = allMethods(doc);
      assert.ok(methods.length > 0);
      for (const { path, method } of methods) {
        const id = method.id ?? path.join('.');
        const call = generateCall(doc, method);
        if ('skip' in call) {
          skipped.push({ file, id, reason: call.skip });
          continue;
        }
        const fn = reach(service, path);
        assert.equal(typeof fn, 'function', `${id} is callable`);
        const body = method.request ? { probe: id, count: 2 } : undefined;
        const request: ApiRequest = fn(call.params, body ? { body } : undefined);
        const expected = predict(doc, method, call);
        assert.equal(request.methodId, id);
        assert.equal(request.httpMethod, expected.httpMethod, `${id}: HTTP method`);
        const [base, query] = splitUrl(request.url);
        assert.equal(base, expected.base, `${id}: URL`);
        assert.deepEqual(query, expected.query, `${id}: query`);

        const sent = request.toRequest();
        assert.equal(sent.method, expected.httpMethod, `${id}: Request method`);
        assert.equal(sent.url, request.url, `${id}: Request URL`);
        assert.equal(sent.headers.get('authorization'), null);
        if (body) {
          assert.match(sent.headers.get('content-type') ?? '', /^application\/json/);
          assert.deepEqual(JSON.parse(await sent.text()), body, `${id}: body`);
        } else {
          assert.equal(sent.body, null, `${id}: no body`);
        }

        if (method.mediaUpload?.protocols?.simple) {
          const mimeType = acceptedType(method.mediaUpload.accept);
          const simple = method.mediaUpload.protocols.simple.path;
          const upload: ApiRequest = fn(call.params, {
            media: { body: 'media bytes', mimeType, protocol: 'media' },
          });
          const up = predict(doc, method, call, {
            template: simple,
            extraQuery: [['uploadType', 'media']],
          });
          const [upBase, upQuery] = splitUrl(upload.url);
          assert.equal(upBase, up.base, `${id}: upload URL`);
          assert.deepEqual(upQuery, up.query, `${id}: upload query`);
          const upReq = upload.toRequest();
          assert.equal(upReq.headers.get('content-type'), mimeType);
          assert.equal(await upReq.text(), 'media bytes');
          if (method.request) {
            const multi = fn(call.params, {
              body,
              media: { body: 'media bytes', mimeType, protocol: 'multipart' },
            }).toRequest() as Request;
            const type = multi.headers.get('content-type') ?? '';
            assert.match(type, /^multipart\/related; boundary=/);
            assert.equal(new URL(multi.url).searchParams.get('uploadType'), 'multipart');
            const parts = readMultipart(await multi.text(), type);
            assert.equal(parts.length, 2);
            assert.match(parts[0]!.type, /^application\/json/);
            assert.deepEqual(JSON.parse(parts[0]!.body), body);
            assert.equal(parts[1]!.type, mimeType);
            assert.equal(parts[1]!.body, 'media bytes');
          }
          uploadsChecked++;
        }

        if (method.supportsMediaDownload) {
          let captured: Request | undefined;
          const response = await request.download(async (r: Request) => {
            captured = r;
            return new Response('bytes');
          });
          assert.equal(await response.text(), 'bytes');
          const down = predict(doc, method, call);
          const [dBase, dQuery] = splitUrl(captured!.url);
          assert.equal(dBase, down.base, `${id}: download URL`);
          const withoutAlt = down.query.filter(([k]) => k !== 'alt');
          assert.deepEqual(dQuery, sortPairs([...withoutAlt, ['alt', 'media']]));
          downloadsChecked++;
        }
        checked++;
      }
    });
  }

  it('checked every method but a few whose patterns the generator cannot satisfy', () => {
    const total = files.reduce((n, f) => n + allMethods(loadFixture(f)).length, 0);
    console.log(
      `table-driven: ${checked} of ${total} methods checked (${uploadsChecked} uploads, ${downloadsChecked} downloads), ${skipped.length} skipped`,
    );
    for (const s of skipped) console.log(`  skipped ${s.file} ${s.id}: ${s.reason}`);
    assert.equal(checked + skipped.length, total);
    assert.ok(total > 1300, `expected over 1300 methods, found ${total}`);
    assert.ok(skipped.length <= total * 0.01, `${skipped.length} skipped is more than 1%`);
  });
});
