import type { RestDescription } from '../../src/discovery/index.js';

/**
 * A small discovery document written for the HTTP tests (a "files" API): paged list with the
 * token in the query, search with the token in a POST body, media download, uploads with simple
 * and resumable protocols, idempotent PUT/DELETE and non-idempotent POST. Independent of the
 * shared fixtures, so these tests run without them.
 */
export function filesDocument(rootUrl: string): RestDescription {
  const fileId = { type: 'string', location: 'path', required: true };
  return {
    kind: 'discovery#restDescription',
    discoveryVersion: 'v1',
    id: 'files:v1',
    name: 'files',
    version: 'v1',
    rootUrl,
    servicePath: 'files/v1/',
    batchPath: 'batch/files/v1',
    parameters: {
      alt: { type: 'string', location: 'query', enum: ['json', 'media'] },
      fields: { type: 'string', location: 'query' },
      key: { type: 'string', location: 'query' },
      uploadType: { type: 'string', location: 'query' },
    },
    schemas: {
      File: {
        id: 'File',
        type: 'object',
        properties: {
          id: { type: 'string' },
          name: { type: 'string' },
          size: { type: 'string', format: 'int64' },
        },
      },
      FileList: {
        id: 'FileList',
        type: 'object',
        properties: {
          nextPageToken: { type: 'string' },
          files: { type: 'array', items: { $ref: 'File' } },
        },
      },
      SearchRequest: {
        id: 'SearchRequest',
        type: 'object',
        properties: { query: { type: 'string' }, pageToken: { type: 'string' } },
      },
      SearchResponse: {
        id: 'SearchResponse',
        type: 'object',
        properties: {
          nextPageToken: { type: 'string' },
          results: { type: 'array', items: { $ref: 'File' } },
        },
      },
    },
    resources: {
      files: {
        methods: {
          list: {
            id: 'files.files.list',
            httpMethod: 'GET',
            path: 'files',
            parameters: {
              pageToken: { type: 'string', location: 'query' },
              pageSize: { type: 'integer', format: 'int32', location: 'query' },
            },
            response: { $ref: 'FileList' },
          },
          get: {
            id: 'files.files.get',
            httpMethod: 'GET',
            path: 'files/{fileId}',
            parameters: { fileId },
            parameterOrder: ['fileId'],
            response: { $ref: 'File' },
            supportsMediaDownload: true,
          },
          create: {
            id: 'files.files.create',
            httpMethod: 'POST',
            path: 'files',
            request: { $ref: 'File' },
            response: { $ref: 'File' },
            supportsMediaUpload: true,
            mediaUpload: {
              accept: ['*/*'],
              maxSize: '10MB',
              protocols: {
                simple: { multipart: true, path: '/upload/files/v1/files' },
                resumable: { multipart: true, path: '/resumable/upload/files/v1/files' },
              },
            },
          },
          update: {
            id: 'files.files.update',
            httpMethod: 'PUT',
            path: 'files/{fileId}',
            parameters: { fileId },
            parameterOrder: ['fileId'],
            request: { $ref: 'File' },
            response: { $ref: 'File' },
          },
          delete: {
            id: 'files.files.delete',
            httpMethod: 'DELETE',
            path: 'files/{fileId}',
            parameters: { fileId },
            parameterOrder: ['fileId'],
          },
          search: {
            id: 'files.files.search',
            httpMethod: 'POST',
            path: 'files:search',
            request: { $ref: 'SearchRequest' },
            response: { $ref: 'SearchResponse' },
          },
        },
      },
    },
  } as RestDescription;
}
