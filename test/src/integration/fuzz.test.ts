// Bad input, generated: whatever a client sends, the apiserver answers with a Kubernetes
// Status carrying a 4xx code (or accepts it), never a 500, a crash or a hang, and keeps
// serving. fast-check generates the inputs; the seed is fixed so failures reproduce
// (TSKUBE_FUZZ_SEED and TSKUBE_FUZZ_RUNS override).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { startApiServer, type TestApiServer } from '../support/apiserver.js';
import { credsFromKubeconfig, request, type Creds, type Resp } from '../support/http.js';

const SEED = Number(process.env.TSKUBE_FUZZ_SEED ?? 20261121);
const RUNS = Number(process.env.TSKUBE_FUZZ_RUNS ?? 150);
let api: TestApiServer;
let c: Creds;

before(async () => { api = await startApiServer(); c = credsFromKubeconfig(api.kubeconfig); });
after(async () => { await api?.stop(); });

/** Every answer is either a success or a Status with a 4xx code matching the HTTP status. */
function assertWellFormed(r: Resp, what: string): void {
  assert.ok(r.status < 500, `${what} → ${r.status}: ${r.body.slice(0, 400)}`);
  if (r.status >= 400) {
    let s: { kind?: string; code?: number; status?: string };
    try { s = r.json(); } catch { assert.fail(`${what} → ${r.status} with a non-JSON body: ${r.body.slice(0, 200)}`); }
    assert.equal(s.kind, 'Status', `${what}: ${r.body.slice(0, 200)}`);
    assert.equal(s.code, r.status, what);
    assert.equal(s.status, 'Failure', what);
  }
}

const validPod = () => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name: 'fuzz', labels: { app: 'x' } },
  spec: { containers: [{ name: 'c', image: 'busybox:1', ports: [{ containerPort: 80 }], resources: { requests: { cpu: '100m' } } }] },
});

/** Paths into the valid pod where a mutation lands. */
const PATHS: (string | number)[][] = [
  [], ['apiVersion'], ['kind'], ['metadata'], ['metadata', 'name'], ['metadata', 'labels'], ['metadata', 'labels', 'app'],
  ['metadata', 'namespace'], ['metadata', 'ownerReferences'], ['spec'], ['spec', 'containers'], ['spec', 'containers', 0],
  ['spec', 'containers', 0, 'name'], ['spec', 'containers', 0, 'image'], ['spec', 'containers', 0, 'ports'],
  ['spec', 'containers', 0, 'ports', 0, 'containerPort'], ['spec', 'containers', 0, 'resources', 'requests', 'cpu'],
  ['spec', 'restartPolicy'], ['spec', 'nodeSelector'], ['spec', 'tolerations'], ['spec', 'volumes'], ['spec', 'unknownField'],
  ['status'],
];

function setPath(obj: Record<string, unknown>, path: (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value;
  let cur: Record<string | number, unknown> = obj;
  for (const k of path.slice(0, -1)) {
    if (typeof cur[k] !== 'object' || cur[k] === null) cur[k] = typeof k === 'number' ? [] : {};
    cur = cur[k] as Record<string | number, unknown>;
  }
  cur[path[path.length - 1]!] = value;
  return obj;
}

const nasty = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  fc.string({ maxLength: 300 }),
  fc.constantFrom('', ' ', 'Bad_Name', '-x-', 'a'.repeat(300), '../etc', 'x/y', '%2F', '\u0000', '☃', '1e400', 'NaN', '-1', '0x10'),
  fc.double(), fc.integer({ min: -(2 ** 40), max: 2 ** 40 }), fc.boolean(), fc.constant(null),
  fc.array(fc.string(), { maxLength: 5 }),
);

test('mutated pods get 201, 400, 409 or 422, never a 500', async () => {
  let n = 0;
  await fc.assert(fc.asyncProperty(fc.constantFrom(...PATHS), nasty, fc.constantFrom('Strict', 'Warn', 'Ignore'), async (path, value, fv) => {
    const obj = setPath(validPod(), path, value) as { metadata?: { name?: unknown } };
    const name = `fuzz-${n++}`;
    if (obj && typeof obj === 'object' && obj.metadata && typeof obj.metadata === 'object' && path.join('.') !== 'metadata.name') obj.metadata.name = name;
    const r = await request(c, 'POST', `/api/v1/namespaces/default/pods?fieldValidation=${fv}`, { body: JSON.stringify(obj) });
    assertWellFormed(r, `POST pod with ${JSON.stringify(path)} = ${JSON.stringify(value)?.slice(0, 80)}`);
    assert.ok([201, 400, 409, 422].includes(r.status), `unexpected ${r.status} for ${JSON.stringify(path)}: ${r.body.slice(0, 200)}`);
  }), { seed: SEED, numRuns: RUNS });
});

test('arbitrary bytes under every content type are refused cleanly', async () => {
  const types = ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf', 'application/merge-patch+json',
    'application/strategic-merge-patch+json', 'application/json-patch+json', 'application/apply-patch+yaml', 'text/plain', 'application/x-garbage'];
  await request(c, 'POST', '/api/v1/namespaces/default/pods', { body: JSON.stringify({ ...validPod(), metadata: { name: 'patchme' } }) });
  await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 512 }), fc.constantFrom(...types), fc.constantFrom('POST', 'PUT', 'PATCH'), async (bytes, ct, method) => {
    const path = method === 'POST' ? '/api/v1/namespaces/default/pods' : '/api/v1/namespaces/default/pods/patchme';
    const r = await request(c, method, path, { body: Buffer.from(bytes), contentType: ct });
    assertWellFormed(r, `${method} ${ct} ${Buffer.from(bytes).toString('hex').slice(0, 40)}`);
  }), { seed: SEED, numRuns: RUNS });
});

test('deeply nested, huge and duplicate-key bodies', async () => {
  const deep = `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`;
  const cases: [string, string, number[]][] = [
    ['deep object', deep, [400, 422]],
    ['deep array in a field', JSON.stringify({ ...validPod(), metadata: { name: 'deep', annotations: { x: JSON.stringify(JSON.parse(`${'['.repeat(900)}${']'.repeat(900)}`)) } } }), [201, 400, 422]],
    ['huge string', JSON.stringify({ ...validPod(), metadata: { name: 'huge', annotations: { x: 'y'.repeat(300 * 1024) } } }), [422]],
    ['over 3 MiB', JSON.stringify({ ...validPod(), metadata: { name: 'big', annotations: { x: 'y'.repeat(3.2 * 1024 * 1024) } } }), [413]],
    ['duplicate keys', '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"dup","name":"dup2"},"spec":{"containers":[{"name":"c","image":"i"}]}}', [201, 400]],
    ['not an object', '[1,2,3]', [400]],
    ['empty body', '', [400]],
  ];
  for (const [what, body, codes] of cases) {
    const r = await request(c, 'POST', '/api/v1/namespaces/default/pods?fieldValidation=Strict', { body });
    assertWellFormed(r, what);
    assert.ok(codes.includes(r.status), `${what}: ${r.status} ${r.body.slice(0, 200)}`);
  }
});

test('garbage query parameters and unknown paths', async () => {
  const params = fc.record({
    limit: fc.oneof(fc.constant(undefined), fc.string({ maxLength: 8 }), fc.integer({ min: -5, max: 5 }).map(String)),
    labelSelector: fc.oneof(fc.constant(undefined), fc.string({ maxLength: 30 })),
    fieldSelector: fc.oneof(fc.constant(undefined), fc.string({ maxLength: 30 }), fc.constantFrom('spec.nodeName=x', 'metadata.name!=y', 'bogus=1')),
    resourceVersion: fc.oneof(fc.constant(undefined), fc.string({ maxLength: 10 }), fc.constantFrom('0', '1', '999999999999')),
    resourceVersionMatch: fc.oneof(fc.constant(undefined), fc.constantFrom('Exact', 'NotOlderThan', 'Sometimes')),
    continue: fc.oneof(fc.constant(undefined), fc.base64String({ maxLength: 40 }), fc.string({ maxLength: 20 })),
    timeoutSeconds: fc.oneof(fc.constant(undefined), fc.constantFrom('-1', '0', '1', 'x')),
    watch: fc.oneof(fc.constant(undefined), fc.constantFrom('true', 'false', '1', 'x')),
  });
  await fc.assert(fc.asyncProperty(params, fc.constantFrom('/api/v1/pods', '/api/v1/namespaces/default/pods', '/api/v1/nodes', '/apis/apps/v1/replicasets'), async (p, path) => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(p)) if (v !== undefined) q.set(k, v);
    // a watch that is accepted would stay open: cap it
    if (q.get('watch') === 'true' || q.get('watch') === '1') q.set('timeoutSeconds', '1');
    const r = await request(c, 'GET', `${path}?${q}`);
    assertWellFormed(r, `GET ${path}?${q}`);
  }), { seed: SEED, numRuns: RUNS });
  for (const path of ['/api/v2/pods', '/apis/nope/v1/things', '/api/v1/namespaces/default/widgets/x', '/api/v1/namespaces/default/pods/x/nonsense', '/%', '/api/v1/namespaces//pods']) {
    const r = await request(c, 'GET', path);
    assertWellFormed(r, path);
    assert.equal(r.status, 404, `${path}: ${r.status} ${r.body.slice(0, 100)}`);
  }
});

test('the apiserver is still ready after all of it', async () => {
  assert.equal((await request(c, 'GET', '/readyz')).status, 200);
  const list = await request(c, 'GET', '/api/v1/namespaces/default/pods');
  assert.equal(list.status, 200);
});
