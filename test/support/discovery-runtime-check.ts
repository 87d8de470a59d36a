// Runs in Node, Bun, Deno and workerd: Web APIs only, no node: imports. Builds tasks v1 from a
// local discovery URL, executes calls, pages, a batch with one failing call, and an error.
import {
  build,
  buildFromDocument,
  createBatch,
  createMemoryCache,
  HttpError,
} from '../../src/discovery/index.js';

export interface RuntimeReport {
  titles: string[];
  created: string;
  pagedTitles: string[];
  batch: string[];
  errorStatus: number;
  errorIsHttpError: boolean;
  errorReasons: string[];
  validation: string;
  uploadType: string;
}

export async function runChecks(origin: string): Promise<RuntimeReport> {
  const service = await build<any>('tasks', 'v1', {
    discoveryUrl: `${origin}/discovery/v1/apis/{api}/{apiVersion}/rest`,
    cache: createMemoryCache(),
  });
  const list = (await service.tasks.list({ tasklist: '@default' }).execute()) as {
    items: { title: string }[];
  };
  const created = (await service.tasks
    .insert({ tasklist: '@default' }, { body: { title: 'made in this runtime' } })
    .execute()) as { title: string };
  const pagedTitles: string[] = [];
  for await (const task of service.tasks.list({ tasklist: '@default', maxResults: 1 }).items()) {
    pagedTitles.push((task as { title: string }).title);
  }
  const batch = createBatch(service);
  batch.add(service.tasks.get({ tasklist: '@default', task: 't1' }));
  batch.add(service.tasks.get({ tasklist: '@default', task: 'missing' }));
  const settled = await batch.execute();
  let error: unknown;
  try {
    await service.tasks.get({ tasklist: '@default', task: 'missing' }).execute();
  } catch (err) {
    error = err;
  }
  let validation = '';
  try {
    service.tasks.list({ tasklist: '@default', maxResults: 'many' });
  } catch (err) {
    validation = (err as Error).constructor.name;
  }
  // Multipart bodies use Blob and crypto.randomUUID: build one without sending it.
  const files = buildFromDocument<any>({
    rootUrl: `${origin}/`,
    servicePath: '',
    resources: {
      files: {
        methods: {
          create: {
            httpMethod: 'POST',
            path: 'files',
            request: { $ref: 'File' },
            supportsMediaUpload: true,
            mediaUpload: { protocols: { simple: { multipart: true, path: '/upload/files' } } },
          },
        },
      },
    },
  });
  const upload = files.files.create({}, { body: { name: 'a' }, media: { body: 'bytes' } });
  const text = await upload.toRequest().text();
  return {
    titles: list.items.map((i) => i.title),
    created: created.title,
    pagedTitles,
    batch: settled.map((s) => s.status),
    errorStatus: (error as HttpError).status,
    errorIsHttpError: error instanceof HttpError,
    errorReasons: [...(error as HttpError).reasons],
    validation,
    uploadType: `${new URL(upload.url).searchParams.get('uploadType')}:${text.includes('bytes')}`,
  };
}
