/**
 * The parts of the Google API Discovery format (`discovery#restDescription`) that a run-time
 * client reads. The format describes itself in `discovery.v1`'s `RestDescription`,
 * `RestResource`, `RestMethod` and `JsonSchema` schemas; every field here is optional in
 * practice except where the client cannot work without it (`rootUrl`, `servicePath`).
 *
 * @module
 */

/** A JSON Schema as discovery documents write it (`type`, `$ref`, `properties`, ...). */
export interface JsonSchema {
  /** The schema's name, equal to its key in `schemas`. */
  id?: string;
  /** `object`, `array`, `string`, `integer`, `number`, `boolean`, `null` or `any`. */
  type?: string;
  /** The name of another schema in the same document. */
  $ref?: string;
  /** A refinement of `type`: `int32`, `int64`, `date-time`, `byte`, ... */
  format?: string;
  /** The schema's description, for docs and generated types. */
  description?: string;
  /** Fixed properties of an object. */
  properties?: Record<string, JsonSchema>;
  /** The values of a map. */
  additionalProperties?: JsonSchema;
  /** The elements of an array. */
  items?: JsonSchema;
  /** The allowed values. */
  enum?: string[];
  /** One description per value of `enum`. */
  enumDescriptions?: string[];
  /** The server's default, always as a string. */
  default?: string;
  /** A Java-style regular expression the value must match. */
  pattern?: string;
  /** The smallest allowed value, as a string. */
  minimum?: string;
  /** The largest allowed value, as a string. */
  maximum?: string;
  /** Whether the value is an array of values (parameters only). */
  repeated?: boolean;
  /** Whether the parameter is required. */
  required?: boolean;
  /** Where a parameter goes: `path` or `query`. */
  location?: string;
  /** Output-only property. */
  readOnly?: boolean;
  /** Deprecated parameter or property. */
  deprecated?: boolean;
}

/** One upload protocol of a method (`simple` or `resumable`). */
export interface MediaUploadProtocol {
  /** Whether the protocol accepts metadata and media in one `multipart/related` request. */
  multipart?: boolean;
  /** The upload path, relative to `rootUrl`, starting with `/`. */
  path: string;
}

/** A method's `mediaUpload` section. */
export interface MediaUpload {
  /** MIME ranges the upload accepts (`*\/*`, `image/*`, `message/rfc822`). */
  accept?: string[];
  /** The largest upload, as a byte count or with a `KB`/`MB`/`GB`/`TB` suffix. */
  maxSize?: string;
  /** The protocols this method supports. */
  protocols?: { simple?: MediaUploadProtocol; resumable?: MediaUploadProtocol };
}

/** A method of a discovery document (`RestMethod`). */
export interface RestMethod {
  /** A dotted id such as `tasks.tasks.list`, for display only. */
  id?: string;
  /** The RFC 6570 path template, relative to `rootUrl + servicePath`. */
  path: string;
  /** A level-1 variant of `path`; its variables are not parameters. */
  flatPath?: string;
  /** `GET`, `POST`, `PUT`, `PATCH` or `DELETE`. */
  httpMethod: string;
  /** The method's parameters, by name. */
  parameters?: Record<string, JsonSchema>;
  /** Required parameters in signature order. */
  parameterOrder?: string[];
  /** The request body's schema. */
  request?: { $ref?: string; parameterName?: string };
  /** The response body's schema. */
  response?: { $ref?: string };
  /** Scopes that each allow this method. */
  scopes?: string[];
  /** What the method does. */
  description?: string;
  /** Whether the method accepts media uploads. */
  supportsMediaUpload?: boolean;
  /** Upload details, when `supportsMediaUpload`. */
  mediaUpload?: MediaUpload;
  /** Whether `alt=media` returns the raw bytes. */
  supportsMediaDownload?: boolean;
  /** Informational; the plain method URL with `alt=media` works. */
  useMediaDownloadService?: boolean;
  /** Marks watch-style methods. */
  supportsSubscription?: boolean;
  /** Sent as `x-goog-api-version` when present. */
  apiVersion?: string;
  /** Whether the method is deprecated. */
  deprecated?: boolean;
}

/** A resource: methods and sub-resources, nested to any depth (`RestResource`). */
export interface RestResource {
  /** Methods by name. */
  methods?: Record<string, RestMethod>;
  /** Sub-resources by name. */
  resources?: Record<string, RestResource>;
}

/** A whole discovery document (`discovery#restDescription`). */
export interface RestDescription extends RestResource {
  /** Always `discovery#restDescription`. */
  kind?: string;
  /** `tasks:v1`. */
  id?: string;
  /** The API name, `tasks`. */
  name?: string;
  /** The API version, `v1`. */
  version?: string;
  /** The revision date of the document. */
  revision?: string;
  /** The API's title. */
  title?: string;
  /** The API's description. */
  description?: string;
  /** The root of every URL, ending in `/`: `https://tasks.googleapis.com/`. */
  rootUrl: string;
  /** The path under `rootUrl` that method paths are relative to; often empty. */
  servicePath: string;
  /** The batch endpoint, relative to `rootUrl`. */
  batchPath?: string;
  /** Deprecated; never used to build URLs. */
  baseUrl?: string;
  /** Deprecated; never used to build URLs. */
  basePath?: string;
  /** The root URL for mutual TLS. */
  mtlsRootUrl?: string;
  /** Parameters every method takes (`fields`, `alt`, `quotaUser`, ...). */
  parameters?: Record<string, JsonSchema>;
  /** Named schemas. */
  schemas?: Record<string, JsonSchema>;
  /** OAuth 2.0 scopes the API defines. */
  auth?: { oauth2?: { scopes?: Record<string, { description?: string }> } };
  /** A readable name, used for generated types. */
  canonicalName?: string;
}

/**
 * Checks that a value is a discovery REST description and returns it typed.
 *
 * @param value a parsed JSON value
 * @param source where it came from, for the message (a URL or `"document"`)
 * @returns the same value, typed
 * @throws {TypeError} when the value is not a REST description (a directory list, say)
 * @example
 * ```ts
 * const doc = assertRestDescription(JSON.parse(text), 'tasks-discovery.json');
 * ```
 */
export function assertRestDescription(value: unknown, source: string): RestDescription {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`${source}: a discovery document must be a JSON object`);
  }
  const doc = value as Record<string, unknown>;
  if (doc.kind === 'discovery#directoryList') {
    throw new TypeError(
      `${source}: this is a discovery directory list, not a REST description of one API`,
    );
  }
  if (doc.kind !== undefined && doc.kind !== 'discovery#restDescription') {
    throw new TypeError(`${source}: "kind" must be "discovery#restDescription"`);
  }
  if (typeof doc.rootUrl !== 'string' || !URL.canParse(doc.rootUrl)) {
    throw new TypeError(`${source}: "rootUrl" must be an absolute URL`);
  }
  if (typeof doc.servicePath !== 'string') {
    throw new TypeError(`${source}: "servicePath" must be a string`);
  }
  return value as RestDescription;
}
