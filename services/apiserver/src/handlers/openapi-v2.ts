/**
 * /openapi/v2: one Swagger 2.0 document for every group version, derived from the OpenAPI v3
 * documents (`buildOpenApi` of @tskube/api), so both versions always describe the same
 * resources, schemas, operations and extensions.
 *
 * Who needs it: kubectl 1.27 and 1.28 download it eagerly as protobuf for `create -f`,
 * `apply -f`, `replace` and `edit` (client-side validation, the fieldValidation probe,
 * strategic-merge-patch metadata) and for `explain` (kubectl-contract S4); a 404 makes those
 * commands fail. Served as gnostic's `openapi.v2.Document` protobuf
 * (`application/com.github.proto-openapi.spec.v2@v1.0+protobuf` or the newer
 * `...spec.v2.v1.0+protobuf`) or as JSON, like upstream's kube-openapi handler: ETag = quoted
 * upper-case hex SHA-512 of the JSON bytes (the same for both encodings), `Vary: Accept`,
 * If-None-Match → 304, gzip when accepted, 406 for anything else.
 *
 * v3 → v2 mapping: `#/components/schemas/X` → `#/definitions/X`; `allOf: [{$ref}]` wrappers
 * → a `$ref` with the wrapper's description (v2 parsers ignore allOf); `oneOf` (IntOrString,
 * Quantity) → `type: string` (upstream's v2 form); `requestBody` → a `body` parameter plus
 * `consumes`; responses keep their first media type's schema; query/path parameters are
 * flattened (`type` and `uniqueItems` beside `name`/`in`).
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import {
  refName, type BuiltOpenApi, type OpenApiDocument, type OpenApiOperation, type OpenApiParameter, type OpenApiSchema,
} from '@tskube/api';
import type { Type } from 'protobufjs';
import { GNOSTIC_PROTO_FILE, loadProtoRoot, protoDir } from '../protobuf/proto-root.js';
import { parseMediaTypes } from './negotiation.js';

export const OPENAPI_V2_PATH = '/openapi/v2';
/** The media type kubectl ≤ 1.28 asks for, and the one upstream answers with. */
export const OPENAPI_V2_PROTOBUF_ACCEPT = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';
export const OPENAPI_V2_PROTOBUF_TYPE = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';

const DEFINITIONS_PREFIX = '#/definitions/';

export interface SwaggerSchema {
  $ref?: string;
  description?: string;
  type?: string;
  format?: string;
  required?: string[];
  items?: SwaggerSchema;
  properties?: Record<string, SwaggerSchema>;
  additionalProperties?: SwaggerSchema | boolean;
  /** x-kubernetes-* extensions. */
  [extension: `x-${string}`]: unknown;
}

export interface SwaggerParameter {
  name: string;
  in: 'query' | 'path' | 'body';
  description?: string;
  required?: boolean;
  type?: string;
  uniqueItems?: boolean;
  schema?: SwaggerSchema;
}

export interface SwaggerOperation {
  description: string;
  consumes?: string[];
  produces: string[];
  schemes: string[];
  operationId: string;
  parameters: SwaggerParameter[];
  responses: Record<string, { description: string; schema?: SwaggerSchema }>;
  tags: string[];
  'x-kubernetes-action': string;
  'x-kubernetes-group-version-kind'?: { group: string; version: string; kind: string };
}

type Method = 'get' | 'put' | 'post' | 'delete' | 'patch';
const METHODS: readonly Method[] = ['get', 'put', 'post', 'delete', 'patch'];

export interface SwaggerDocument {
  swagger: '2.0';
  info: { title: string; version: string };
  paths: Record<string, Partial<Record<Method, SwaggerOperation>>>;
  definitions: Record<string, SwaggerSchema>;
}

// ---- v3 → v2 -------------------------------------------------------------------------------

/** One schema in its v2 form (a new object; the v3 input is shared and left untouched). */
export function swaggerSchema(s: OpenApiSchema): SwaggerSchema {
  const out: SwaggerSchema = {};
  const ref = refName(s);
  if (ref !== undefined) {
    out.$ref = `${DEFINITIONS_PREFIX}${ref}`;
    if (s.description) out.description = s.description;
    copyExtensions(s, out);
    return out;
  }
  if (s.description) out.description = s.description;
  if (s.type) out.type = s.type;
  else if (s.oneOf) out.type = 'string'; // IntOrString, Quantity: upstream's v2 form
  if (s.format) out.format = s.format;
  if (s.required?.length) out.required = [...s.required];
  if (s.items) out.items = swaggerSchema(s.items);
  if (s.properties) {
    out.properties = {};
    for (const [k, v] of Object.entries(s.properties)) out.properties[k] = swaggerSchema(v);
  }
  if (s.additionalProperties !== undefined) {
    out.additionalProperties = typeof s.additionalProperties === 'boolean' ? s.additionalProperties : swaggerSchema(s.additionalProperties);
  }
  copyExtensions(s, out);
  return out;
}

function copyExtensions(from: OpenApiSchema, to: SwaggerSchema): void {
  for (const [k, v] of Object.entries(from)) if (k.startsWith('x-')) to[k as `x-${string}`] = v;
}

function swaggerParameter(p: OpenApiParameter): SwaggerParameter {
  return {
    name: p.name, in: p.in, description: p.description,
    ...(p.required ? { required: true } : {}),
    type: p.schema.type, uniqueItems: p.schema.uniqueItems,
  };
}

const KUBE_OUTPUT_TYPES = ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'];

function swaggerOperation(op: OpenApiOperation): SwaggerOperation {
  const parameters: SwaggerParameter[] = [];
  let consumes: string[] | undefined;
  if (op.requestBody) {
    const types = Object.keys(op.requestBody.content);
    consumes = types;
    const first = op.requestBody.content[types[0]!];
    parameters.push({ name: 'body', in: 'body', required: true, ...(first ? { schema: swaggerSchema(first.schema) } : {}) });
  }
  parameters.push(...op.parameters.map(swaggerParameter));
  const produced = new Set<string>();
  const responses: SwaggerOperation['responses'] = {};
  for (const [code, r] of Object.entries(op.responses)) {
    const content = 'content' in r ? r.content : undefined;
    const types = Object.keys(content ?? {});
    for (const t of types) {
      if (t === 'application/json') KUBE_OUTPUT_TYPES.forEach((x) => produced.add(x));
      else if (t === 'application/json;stream=watch') ['application/json;stream=watch', 'application/vnd.kubernetes.protobuf;stream=watch'].forEach((x) => produced.add(x));
      else produced.add(t);
    }
    const first = content?.[types[0] ?? ''];
    responses[code] = { description: r.description, ...(first ? { schema: swaggerSchema(first.schema) } : {}) };
  }
  return {
    description: op.description,
    ...(consumes ? { consumes } : {}),
    produces: [...produced],
    schemes: ['https'],
    operationId: op.operationId,
    parameters,
    responses,
    tags: op.tags,
    'x-kubernetes-action': op['x-kubernetes-action'],
    ...(op['x-kubernetes-group-version-kind'] ? { 'x-kubernetes-group-version-kind': op['x-kubernetes-group-version-kind'] } : {}),
  };
}

/**
 * The Swagger 2.0 document of all `documents` (one per group version): their paths and the
 * union of their component schemas, keys sorted (deterministic bytes, stable ETag).
 */
export function swaggerDocument(documents: Iterable<OpenApiDocument>, version = 'v1.32.0'): SwaggerDocument {
  const paths: SwaggerDocument['paths'] = {};
  const schemas = new Map<string, OpenApiSchema>();
  for (const doc of documents) {
    for (const [path, item] of Object.entries(doc.paths)) {
      const out: Partial<Record<Method, SwaggerOperation>> = {};
      for (const m of METHODS) {
        const op = item[m];
        if (op) out[m] = swaggerOperation(op);
      }
      paths[path] = out;
    }
    for (const [name, s] of Object.entries(doc.components.schemas)) schemas.set(name, s);
  }
  const definitions: Record<string, SwaggerSchema> = {};
  for (const name of [...schemas.keys()].sort()) definitions[name] = swaggerSchema(schemas.get(name)!);
  const sortedPaths: SwaggerDocument['paths'] = {};
  for (const p of Object.keys(paths).sort()) sortedPaths[p] = paths[p]!;
  return { swagger: '2.0', info: { title: 'Kubernetes', version }, paths: sortedPaths, definitions };
}

// ---- Swagger JSON → gnostic openapi.v2.Document ------------------------------------------------

type Obj = Record<string, unknown>;

/** Vendor extensions as gnostic NamedAny entries; values as YAML text (JSON is YAML). */
function vendorExtensions(o: object): Obj[] {
  return Object.entries(o).filter(([k]) => k.startsWith('x-')).map(([name, v]) => ({ name, value: { yaml: JSON.stringify(v) } }));
}

function gnosticSchema(s: SwaggerSchema): Obj {
  const out: Obj = {};
  if (s.$ref) out._ref = s.$ref;
  if (s.description) out.description = s.description;
  if (s.type) out.type = { value: [s.type] };
  if (s.format) out.format = s.format;
  if (s.required) out.required = s.required;
  if (s.items) out.items = { schema: [gnosticSchema(s.items)] };
  if (s.properties) out.properties = { additional_properties: Object.entries(s.properties).map(([name, v]) => ({ name, value: gnosticSchema(v) })) };
  if (s.additionalProperties !== undefined) {
    out.additional_properties = typeof s.additionalProperties === 'boolean' ? { boolean: s.additionalProperties } : { schema: gnosticSchema(s.additionalProperties) };
  }
  const ext = vendorExtensions(s);
  if (ext.length) out.vendor_extension = ext;
  return out;
}

function gnosticParameter(p: SwaggerParameter): Obj {
  if (p.in === 'body') {
    return { parameter: { body_parameter: { name: p.name, in: p.in, required: p.required ?? false, ...(p.schema ? { schema: gnosticSchema(p.schema) } : {}) } } };
  }
  const sub: Obj = { name: p.name, in: p.in, description: p.description ?? '', type: p.type ?? '', unique_items: p.uniqueItems ?? false, required: p.required ?? false };
  return { parameter: { non_body_parameter: p.in === 'query' ? { query_parameter_sub_schema: sub } : { path_parameter_sub_schema: sub } } };
}

function gnosticOperation(op: SwaggerOperation): Obj {
  return {
    tags: op.tags,
    description: op.description,
    operation_id: op.operationId,
    produces: op.produces,
    ...(op.consumes ? { consumes: op.consumes } : {}),
    parameters: op.parameters.map(gnosticParameter),
    responses: {
      response_code: Object.entries(op.responses).map(([name, r]) => ({
        name, value: { response: { description: r.description, ...(r.schema ? { schema: { schema: gnosticSchema(r.schema) } } : {}) } },
      })),
    },
    schemes: op.schemes,
    vendor_extension: vendorExtensions(op),
  };
}

/** The plain object of a gnostic `openapi.v2.Document` for `doc` (protobufjs field names). */
export function gnosticDocument(doc: SwaggerDocument): Obj {
  return {
    swagger: doc.swagger,
    info: { title: doc.info.title, version: doc.info.version },
    paths: {
      path: Object.entries(doc.paths).map(([name, item]) => {
        const value: Obj = {};
        for (const m of METHODS) { const op = item[m]; if (op) value[m] = gnosticOperation(op); }
        return { name, value };
      }),
    },
    definitions: { additional_properties: Object.entries(doc.definitions).map(([name, s]) => ({ name, value: gnosticSchema(s) })) },
  };
}

/** The gnostic Document message type, from proto/gnostic (dir defaults to {@link protoDir}). */
export function gnosticDocumentType(dir: string = protoDir()): Type {
  return loadProtoRoot([GNOSTIC_PROTO_FILE], dir).lookupType('openapi.v2.Document');
}

/** `doc` encoded as gnostic protobuf bytes. */
export function encodeGnostic(doc: SwaggerDocument, type: Type = gnosticDocumentType()): Buffer {
  const msg = type.fromObject(gnosticDocument(doc));
  return Buffer.from(type.encode(msg).finish());
}

// ---- the endpoint ------------------------------------------------------------------------------

interface Representation { body: Buffer; contentType: string; gzipped?: Buffer }

/**
 * Serves GET/HEAD /openapi/v2. Built once (the JSON and protobuf bodies are computed in the
 * constructor and never change); safe to share between requests.
 */
export class OpenApiV2 {
  readonly document: SwaggerDocument;
  readonly etag: string;
  private readonly json: Representation;
  private readonly proto: Representation;
  private readonly lastModified = new Date();

  constructor(built: BuiltOpenApi, opts: { protoDir?: string; kubernetesVersion?: string } = {}) {
    this.document = swaggerDocument([...built.documents.values()].map((d) => d.document), opts.kubernetesVersion);
    const jsonBody = Buffer.from(JSON.stringify(this.document));
    this.etag = `"${createHash('sha512').update(jsonBody).digest('hex').toUpperCase()}"`;
    this.json = { body: jsonBody, contentType: 'application/json' };
    this.proto = { body: encodeGnostic(this.document, gnosticDocumentType(opts.protoDir)), contentType: OPENAPI_V2_PROTOBUF_TYPE };
  }

  /** The representation for an Accept header, in the client's preference order; undefined → 406. */
  private choose(accept: string | undefined): Representation | undefined {
    const types = parseMediaTypes(accept || '*/*')
      .map((m, i) => ({ m, i, q: m.params.q === undefined ? 1 : Number(m.params.q) }))
      .filter((x) => x.q > 0)
      .sort((a, b) => b.q - a.q || a.i - b.i);
    for (const { m } of types) {
      const [type, sub] = m.type.split('/');
      if (type !== 'application' && type !== '*') continue;
      if (sub === 'json' || sub === '*') return this.json;
      if (sub === 'com.github.proto-openapi.spec.v2@v1.0+protobuf' || sub === 'com.github.proto-openapi.spec.v2.v1.0+protobuf') return this.proto;
    }
    return undefined;
  }

  /** Answers `/openapi/v2`; false for other paths and methods. */
  handle(req: IncomingMessage, res: ServerResponse, path: string): boolean {
    if (path !== OPENAPI_V2_PATH && path !== `${OPENAPI_V2_PATH}/`) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    res.setHeader('Vary', 'Accept');
    const rep = this.choose(req.headers.accept);
    if (!rep) {
      res.statusCode = 406;
      res.end();
      return true;
    }
    res.setHeader('Content-Type', rep.contentType);
    res.setHeader('Etag', this.etag);
    res.setHeader('Last-Modified', this.lastModified.toUTCString());
    res.setHeader('Cache-Control', 'no-cache, private');
    const inm = req.headers['if-none-match'];
    if (inm && (inm.trim() === '*' || inm.split(',').map((t) => t.trim().replace(/^W\//, '')).includes(this.etag))) {
      res.statusCode = 304;
      res.end();
      return true;
    }
    let body = rep.body;
    if (/\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) {
      rep.gzipped ??= gzipSync(rep.body);
      body = rep.gzipped;
      res.setHeader('Content-Encoding', 'gzip');
    }
    res.statusCode = 200;
    res.setHeader('Content-Length', body.length);
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  }
}
