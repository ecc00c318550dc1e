import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, request, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { buildOpenApi, RESOURCES, type OpenApiSchema } from '@tskube/api';
import protobuf, { type Reader } from 'protobufjs';
import { OpenApiV2, OPENAPI_V2_PROTOBUF_ACCEPT, OPENAPI_V2_PROTOBUF_TYPE, swaggerSchema, type SwaggerSchema } from './openapi-v2.js';

const built = buildOpenApi(RESOURCES);
const v2 = new OpenApiV2(built);
const doc = v2.document;

// ---- v3 → v2 schema rules ------------------------------------------------------------------

test('swaggerSchema: allOf $ref wrappers become $ref with description and extensions; refs point at #/definitions', () => {
  const s: OpenApiSchema = {
    type: 'object',
    properties: {
      metadata: { allOf: [{ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' }], description: 'meta' },
      containers: { type: 'array', items: { $ref: '#/components/schemas/io.k8s.api.core.v1.Container' }, 'x-kubernetes-patch-merge-key': 'name', 'x-kubernetes-patch-strategy': 'merge' },
      labels: { type: 'object', additionalProperties: { type: 'string' } },
    },
    required: ['containers'],
  };
  assert.deepEqual(swaggerSchema(s), {
    type: 'object',
    properties: {
      metadata: { $ref: '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', description: 'meta' },
      containers: { type: 'array', items: { $ref: '#/definitions/io.k8s.api.core.v1.Container' }, 'x-kubernetes-patch-merge-key': 'name', 'x-kubernetes-patch-strategy': 'merge' },
      labels: { type: 'object', additionalProperties: { type: 'string' } },
    },
    required: ['containers'],
  });
});

test('swaggerSchema: oneOf (IntOrString, Quantity) becomes a string, as upstream v2 has it', () => {
  assert.deepEqual(swaggerSchema({ format: 'int-or-string', oneOf: [{ type: 'integer' }, { type: 'string' }] }), { type: 'string', format: 'int-or-string' });
  assert.equal(doc.definitions['io.k8s.apimachinery.pkg.api.resource.Quantity']?.type, 'string');
});

/**
 * The rules kube-openapi's proto.NewOpenAPIData enforces when kubectl 1.27/1.28 parse the
 * document (any violation fails every create/apply/explain there).
 */
function kubeOpenApiProblems(d: typeof doc): string[] {
  const problems: string[] = [];
  const visit = (s: SwaggerSchema, path: string): void => {
    if (s.$ref) {
      if (!s.$ref.startsWith('#/definitions/')) problems.push(`${path}: reference outside definitions ${s.$ref}`);
      else if (!d.definitions[s.$ref.slice('#/definitions/'.length)]) problems.push(`${path}: unknown model ${s.$ref}`);
      if (s.type || s.properties) problems.push(`${path}: a reference with a type or properties`);
      return;
    }
    if (s.type === 'array') {
      if (!s.items) problems.push(`${path}: array without items`);
      else visit(s.items, `${path}[]`);
    } else if (s.type === 'object' || (!s.type && s.properties)) {
      for (const [k, v] of Object.entries(s.properties ?? {})) visit(v, `${path}.${k}`);
      if (typeof s.additionalProperties === 'object') visit(s.additionalProperties, `${path}{}`);
    } else if (s.type && !['string', 'number', 'integer', 'boolean'].includes(s.type)) {
      problems.push(`${path}: unknown primitive type ${s.type}`);
    }
    if ((s as Record<string, unknown>).allOf || (s as Record<string, unknown>).oneOf) problems.push(`${path}: allOf/oneOf left in a v2 schema`);
  };
  for (const [name, s] of Object.entries(d.definitions)) visit(s, name);
  for (const [p, item] of Object.entries(d.paths)) {
    for (const [m, op] of Object.entries(item)) {
      for (const param of op?.parameters ?? []) if (param.schema) visit(param.schema, `${m} ${p} body`);
      for (const [code, r] of Object.entries(op?.responses ?? {})) if (r.schema) visit(r.schema, `${m} ${p} ${code}`);
    }
  }
  return problems;
}

test('the document satisfies kube-openapi\'s parser (every $ref resolves, arrays have items, known primitive types)', () => {
  assert.deepEqual(kubeOpenApiProblems(doc), []);
  assert.equal(doc.swagger, '2.0');
  assert.ok(Object.keys(doc.definitions).length > 100);
});

test('every resource of the table has its definition with x-kubernetes-group-version-kind', () => {
  for (const r of RESOURCES) {
    const def = doc.definitions[r.schema];
    assert.ok(def, r.schema);
    const gvks = def['x-kubernetes-group-version-kind'] as { group: string; version: string; kind: string }[] | undefined;
    assert.ok(gvks?.some((g) => g.group === r.group && g.version === r.version && g.kind === r.kind), `${r.schema} gvk`);
  }
});

test('every PATCH operation declares the fieldValidation query parameter with its GVK (kubectl 1.27 probe)', () => {
  let patches = 0;
  for (const [p, item] of Object.entries(doc.paths)) {
    const op = item.patch;
    if (!op) continue;
    patches++;
    assert.ok(op['x-kubernetes-group-version-kind'], `${p} has a GVK`);
    assert.ok(op.parameters.some((x) => x.in === 'query' && x.name === 'fieldValidation'), `${p} declares fieldValidation`);
    assert.ok(op.parameters.some((x) => x.in === 'body' && x.required), `${p} takes a body`);
    assert.ok(op.consumes?.includes('application/strategic-merge-patch+json'), `${p} consumes SMP`);
  }
  assert.ok(patches >= RESOURCES.length);
  const podPatch = doc.paths['/api/v1/namespaces/{namespace}/pods/{name}']?.patch;
  assert.deepEqual(podPatch?.['x-kubernetes-group-version-kind'], { group: '', version: 'v1', kind: 'Pod' });
  assert.equal(podPatch?.['x-kubernetes-action'], 'patch');
  assert.ok(podPatch?.parameters.some((x) => x.in === 'path' && x.name === 'namespace' && x.required && x.type === 'string'));
});

test('patch metadata survives for strategic merge (PodSpec.containers merge by name)', () => {
  const containers = doc.definitions['io.k8s.api.core.v1.PodSpec']?.properties?.containers;
  assert.equal(containers?.['x-kubernetes-patch-merge-key'], 'name');
  assert.equal(containers?.['x-kubernetes-patch-strategy'], 'merge');
});

// ---- the protobuf bytes, checked against gnostic's field numbers independently of our .proto --

/** Reads one message's fields by number: number → list of raw values (bytes for length-delimited). */
function fields(bytes: Uint8Array): Map<number, (Uint8Array | number)[]> {
  const r: Reader = protobuf.Reader.create(bytes);
  const out = new Map<number, (Uint8Array | number)[]>();
  while (r.pos < r.len) {
    const tag = r.uint32();
    const id = tag >>> 3;
    const wt = tag & 7;
    const list = out.get(id) ?? [];
    out.set(id, list);
    if (wt === 2) list.push(r.bytes());
    else if (wt === 0) list.push(r.uint32());
    else throw new Error(`unexpected wire type ${wt}`);
  }
  return out;
}
const str = (b: Uint8Array | number | undefined): string => Buffer.from(b as Uint8Array).toString('utf8');
const one = (m: Map<number, (Uint8Array | number)[]>, id: number): Uint8Array => m.get(id)![0] as Uint8Array;

test('protobuf: gnostic numbering (Document.paths 8 / definitions 9, Operation.parameters 8, vendor_extension 13, Any.yaml 2)', () => {
  const body = (v2 as unknown as { proto: { body: Buffer } }).proto.body;
  const d = fields(body);
  assert.equal(str(d.get(1)![0]), '2.0', 'swagger = 1');
  // the Pod PATCH operation: fieldValidation and the GVK extension, where kubectl 1.27 looks
  const paths = fields(one(d, 8)).get(2)!.map((b) => fields(b as Uint8Array));
  const pod = paths.find((np) => str(np.get(1)![0]) === '/api/v1/namespaces/{namespace}/pods/{name}');
  assert.ok(pod, 'NamedPathItem name = 1');
  const patch = fields(one(fields(one(pod, 2)), 8));
  // ParametersItem.parameter 1 → Parameter.non_body_parameter 2 → .query_parameter_sub_schema 3 → .name 4
  const params = patch.get(8)!.map((pi) => fields(one(fields(pi as Uint8Array), 1)));
  assert.ok(params.some((p) => p.has(1)), 'the body parameter (Parameter.body_parameter = 1)');
  const queryNames = params.filter((p) => p.has(2)).map((p) => fields(one(p, 2)))
    .filter((nb) => nb.has(3)).map((nb) => str(one(fields(one(nb, 3)), 4)));
  assert.ok(queryNames.includes('fieldValidation'), `query parameters: ${queryNames.join(',')}`);
  const ext = patch.get(13)!.map((na) => fields(na as Uint8Array)).map((na) => [str(na.get(1)![0]), str(one(fields(one(na, 2)), 2))]);
  const gvk = ext.find(([n]) => n === 'x-kubernetes-group-version-kind');
  assert.deepEqual(JSON.parse(gvk![1]!), { group: '', version: 'v1', kind: 'Pod' });
  // definitions: Pod with type object (TypeItem.value) and its properties (Schema.properties 25)
  const defs = fields(one(d, 9)).get(1)!.map((b) => fields(b as Uint8Array));
  const podDef = fields(one(defs.find((ns) => str(ns.get(1)![0]) === 'io.k8s.api.core.v1.Pod')!, 2));
  assert.equal(str(one(fields(one(podDef, 22)), 1)), 'object', 'Schema.type = 22');
  const props = fields(one(podDef, 25)).get(1)!.map((b) => str(fields(b as Uint8Array).get(1)![0]));
  assert.deepEqual(props.sort(), ['apiVersion', 'kind', 'metadata', 'spec', 'status']);
  const specRef = fields(one(fields(one(podDef, 25)).get(1)!.map((b) => fields(b as Uint8Array)).find((ns) => str(ns.get(1)![0]) === 'spec')!, 2));
  assert.equal(str(one(specRef, 1)), '#/definitions/io.k8s.api.core.v1.PodSpec', 'Schema._ref = 1');
});

// ---- the endpoint ---------------------------------------------------------------------------

async function withServer(fn: (get: (headers: Record<string, string>, method?: string, path?: string) => Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }>) => Promise<void>): Promise<void> {
  const server = createServer((req, res) => {
    if (!v2.handle(req, res, new URL(req.url ?? '/', 'http://x').pathname)) { res.statusCode = 404; res.end(); }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  try {
    await fn((headers, method = 'GET', path = '/openapi/v2') => new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      });
      req.on('error', reject);
      req.end();
    }));
  } finally {
    server.close();
  }
}

test('endpoint: content negotiation, ETag, 304, gzip, HEAD, 406', async () => {
  await withServer(async (get) => {
    const json = await get({ Accept: 'application/json' });
    assert.equal(json.status, 200);
    assert.equal(json.headers['content-type'], 'application/json');
    assert.equal(json.headers.vary, 'Accept');
    const etag = `"${createHash('sha512').update(json.body).digest('hex').toUpperCase()}"`;
    assert.equal(json.headers.etag, etag, 'ETag = quoted upper-case SHA-512 of the JSON');
    assert.deepEqual(JSON.parse(json.body.toString()), doc);

    const proto = await get({ Accept: OPENAPI_V2_PROTOBUF_ACCEPT });
    assert.equal(proto.headers['content-type'], OPENAPI_V2_PROTOBUF_TYPE);
    assert.equal(proto.headers.etag, etag);
    assert.notEqual(proto.body[0], '{'.charCodeAt(0));
    const newer = await get({ Accept: 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf' });
    assert.deepEqual(newer.body, proto.body);

    assert.equal((await get({})).headers['content-type'], 'application/json', 'no Accept: JSON');
    assert.equal((await get({ Accept: 'text/html, */*;q=0.1' })).headers['content-type'], 'application/json');
    assert.equal((await get({ Accept: `application/json;q=0.5, ${OPENAPI_V2_PROTOBUF_ACCEPT}` })).headers['content-type'], OPENAPI_V2_PROTOBUF_TYPE, 'q-values');
    assert.equal((await get({ Accept: 'text/html' })).status, 406);

    const cached = await get({ Accept: OPENAPI_V2_PROTOBUF_ACCEPT, 'If-None-Match': etag });
    assert.equal(cached.status, 304);
    assert.equal(cached.body.length, 0);
    assert.equal((await get({ Accept: 'application/json', 'If-None-Match': '"other"' })).status, 200);

    const gz = await get({ Accept: OPENAPI_V2_PROTOBUF_ACCEPT, 'Accept-Encoding': 'gzip' });
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.deepEqual(gunzipSync(gz.body), proto.body);

    const head = await get({ Accept: 'application/json' }, 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(Number(head.headers['content-length']), json.body.length);
    assert.equal((await get({}, 'GET', '/openapi/v2x')).status, 404, 'other paths are not ours');
    assert.equal((await get({}, 'POST')).status, 404, 'only GET and HEAD');
  });
});
