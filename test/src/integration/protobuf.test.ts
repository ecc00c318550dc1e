// Protobuf request bodies from the real kubectl 1.32 (typed clients: `create <generator>`,
// `auth`, `create token`, `drain`) and OpenAPI v2 for kubectl 1.27/1.28, against a real
// apiserver on a real etcd (kubectl-contract S3, S4, §9).
//
// Generators whose resource the server does not serve yet are expected to fail with the
// server's 404 (`the server could not find the requested resource`); each such case is
// reported as a test diagnostic, so a newly served resource turns into a real assertion
// without editing this file.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApiServer, type TestApiServer } from '../support/apiserver.js';
import { credsFromKubeconfig, request, type Creds } from '../support/http.js';
import { Kubectl, eventually } from '../support/kubectl.js';

let api: TestApiServer;
let c: Creds;
let k132: Kubectl;
let dir: string;
const PB = 'application/vnd.kubernetes.protobuf';

before(async () => {
  api = await startApiServer();
  c = credsFromKubeconfig(api.kubeconfig);
  k132 = new Kubectl(api.kubeconfig, undefined, '1.32');
  dir = mkdtempSync(join(tmpdir(), 'protobuf-it-'));
});
after(async () => {
  await api?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Resource names of a group version from legacy discovery (`pods`, `serviceaccounts/token`). */
async function servedNames(group: string, version: string): Promise<Set<string>> {
  const r = await request(c, 'GET', group ? `/apis/${group}/${version}` : `/api/${version}`);
  if (r.status !== 200) return new Set();
  return new Set(r.json<{ resources: { name: string }[] }>().resources.map((x) => x.name));
}

async function served(needs: readonly [string, string, string][]): Promise<boolean> {
  for (const [g, v, name] of needs) if (!(await servedNames(g, v)).has(name)) return false;
  return true;
}

// ---- hand-made protobuf bytes (independent of the server's .proto files) ---------------------

function varint(n: number): Buffer {
  const out: number[] = [];
  let v = n;
  while (v > 0x7f) { out.push((v & 0x7f) | 0x80); v = Math.floor(v / 128); }
  out.push(v);
  return Buffer.from(out);
}
const bytesField = (id: number, b: Buffer) => Buffer.concat([varint((id << 3) | 2), varint(b.length), b]);
const strField = (id: number, s: string) => bytesField(id, Buffer.from(s));
const intField = (id: number, n: number) => Buffer.concat([varint(id << 3), varint(n)]);
/** `k8s\0` + runtime.Unknown{typeMeta{apiVersion 1, kind 2} 1, raw 2}. */
const envelope = (apiVersion: string, kind: string, raw: Buffer) =>
  Buffer.concat([Buffer.from([0x6b, 0x38, 0x73, 0x00]), bytesField(1, Buffer.concat([strField(1, apiVersion), strField(2, kind)])), bytesField(2, raw)]);
/** An object with only ObjectMeta{name 1} in field 1 (every kind's metadata). */
const named = (name: string, rest: Buffer = Buffer.alloc(0)) => Buffer.concat([bytesField(1, strField(1, name)), rest]);

/** DELETE with a body (support/http's request sends DELETE bodies without a Content-Length). */
function rawDelete(path: string, body: Buffer): Promise<number> {
  const u = new URL(path, c.server);
  return new Promise((resolve, reject) => {
    const req = https.request({ host: u.hostname, port: u.port, path: u.pathname, method: 'DELETE', ca: c.ca, cert: c.cert, key: c.key,
      headers: { 'Content-Type': PB, 'Content-Length': body.length } }, (res) => { res.resume(); resolve(res.statusCode ?? 0); });
    req.on('error', reject);
    req.end(body);
  });
}

describe('protobuf bodies over raw HTTPS', () => {
  test('a protobuf Namespace is created and answered in JSON', async () => {
    const r = await request(c, 'POST', '/api/v1/namespaces', { body: envelope('v1', 'Namespace', named('pb-raw')), contentType: PB, accept: `${PB}, application/json` });
    assert.equal(r.status, 201, r.body);
    assert.match(String(r.headers['content-type']), /^application\/json/);
    assert.equal(r.json<{ metadata: { name: string } }>().metadata.name, 'pb-raw');
  });

  test('a served kind without a protobuf definition gets 415 UnsupportedMediaType', async () => {
    const names = await servedNames('apps', 'v1');
    const group = names.has('statefulsets') ? 'apps' : '';
    const path = group ? '/apis/apps/v1/namespaces/default/statefulsets' : '/api/v1/nodes';
    const body = group ? envelope('apps/v1', 'StatefulSet', named('s')) : envelope('v1', 'Node', named('n'));
    const r = await request(c, 'POST', path, { body, contentType: PB });
    assert.equal(r.status, 415, r.body);
    const s = r.json<{ kind: string; reason: string; code: number; message: string }>();
    assert.equal(s.kind, 'Status');
    assert.equal(s.reason, 'UnsupportedMediaType');
    assert.match(s.message, /accepted media types include: application\/json, application\/yaml/);
  });

  test('malformed protobuf is a 400 and the server keeps serving', async () => {
    for (const body of [Buffer.from('not protobuf'), Buffer.from([0x6b, 0x38, 0x73, 0x00, 0x0a, 0xff]), envelope('v1', 'Namespace', Buffer.from([0x0a, 0x05, 0x0a]))]) {
      const r = await request(c, 'POST', '/api/v1/namespaces', { body, contentType: PB });
      assert.equal(r.status, 400, r.body);
      assert.equal(r.json<{ reason: string }>().reason, 'BadRequest');
    }
    assert.equal((await request(c, 'GET', '/api/v1/namespaces/default')).status, 200);
  });

  test('a kind mismatch between envelope and endpoint is a 400, as for JSON', async () => {
    const r = await request(c, 'POST', '/api/v1/namespaces', { body: envelope('v1', 'ConfigMap', named('x')), contentType: PB });
    assert.equal(r.status, 400, r.body);
  });

  test('protobuf DeleteOptions: gracePeriodSeconds 0 is kept (an explicit zero, not unset)', async () => {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'pb-del' }, spec: { nodeName: 'nowhere', containers: [{ name: 'c', image: 'busybox' }] } };
    assert.equal((await request(c, 'POST', '/api/v1/namespaces/default/pods', { body: JSON.stringify(pod) })).status, 201);
    const status = await rawDelete('/api/v1/namespaces/default/pods/pb-del', envelope('v1', 'DeleteOptions', intField(1, 0)));
    assert.equal(status, 200);
    // a bound pod with the default grace period would wait for its kubelet; 0 deletes it now
    assert.equal((await request(c, 'GET', '/api/v1/namespaces/default/pods/pb-del')).status, 404);
  });
});

// ---- kubectl 1.32 generators ------------------------------------------------------------------

interface Scenario {
  name: string;
  args: string[];
  /** [group, version, resource name in discovery] that must be served for the command to work. */
  needs: [string, string, string][];
  /** Extra checks once it succeeded (the stored object shows the decoded fields). */
  verify?: (stdout: string) => Promise<void>;
}

const getJson = async (args: string[]) => JSON.parse(await k132.ok(['get', ...args, '-o', 'json'])) as Record<string, Record<string, unknown>>;

const SCENARIOS: Scenario[] = [
  { name: 'create namespace', args: ['create', 'namespace', 'pb'], needs: [['', 'v1', 'namespaces']],
    verify: async () => { assert.equal((await getJson(['namespace', 'pb'])).metadata!.name, 'pb'); } },
  { name: 'create configmap', args: ['create', 'configmap', 'cm1', '-n', 'pb', '--from-literal=a=b', '--from-literal=empty='], needs: [['', 'v1', 'configmaps']],
    verify: async () => { assert.deepEqual((await getJson(['configmap', 'cm1', '-n', 'pb'])).data, { a: 'b', empty: '' }); } },
  { name: 'create secret generic', args: ['create', 'secret', 'generic', 's1', '-n', 'pb', '--from-literal=user=admin'], needs: [['', 'v1', 'secrets']],
    verify: async () => { assert.deepEqual((await getJson(['secret', 's1', '-n', 'pb'])).data, { user: Buffer.from('admin').toString('base64') }); } },
  { name: 'create serviceaccount', args: ['create', 'serviceaccount', 'sa1', '-n', 'pb'], needs: [['', 'v1', 'serviceaccounts']] },
  { name: 'create token', args: ['create', 'token', 'sa1', '-n', 'pb', '--duration=10m'], needs: [['', 'v1', 'serviceaccounts'], ['', 'v1', 'serviceaccounts/token']],
    verify: async (out) => { assert.match(out.trim(), /^[\w-]+\.[\w-]+\.[\w-]+$/, 'a JWT'); } },
  { name: 'create service clusterip', args: ['create', 'service', 'clusterip', 'svc1', '-n', 'pb', '--tcp=80:8080'], needs: [['', 'v1', 'services']],
    verify: async () => { assert.equal(((await getJson(['service', 'svc1', '-n', 'pb'])).spec!.ports as { targetPort: unknown }[])[0]!.targetPort, 8080); } },
  { name: 'create deployment --replicas=0', args: ['create', 'deployment', 'web', '-n', 'pb', '--image=busybox', '--replicas=0'], needs: [['apps', 'v1', 'deployments']],
    verify: async () => { assert.equal((await getJson(['deployment', 'web', '-n', 'pb'])).spec!.replicas, 0, 'a pointer zero survives'); } },
  { name: 'create job', args: ['create', 'job', 'j1', '-n', 'pb', '--image=busybox', '--', 'echo', 'hi'], needs: [['batch', 'v1', 'jobs']],
    verify: async () => {
      const spec = (await getJson(['job', 'j1', '-n', 'pb'])).spec as { template: { spec: { restartPolicy: string; containers: { command: string[] }[] } } };
      assert.equal(spec.template.spec.restartPolicy, 'Never');
      assert.deepEqual(spec.template.spec.containers[0]!.command, ['echo', 'hi']);
    } },
  { name: 'create cronjob', args: ['create', 'cronjob', 'cj1', '-n', 'pb', '--image=busybox', '--schedule=*/5 * * * *'], needs: [['batch', 'v1', 'cronjobs']],
    verify: async () => { assert.equal((await getJson(['cronjob', 'cj1', '-n', 'pb'])).spec!.schedule, '*/5 * * * *'); } },
  { name: 'create role', args: ['create', 'role', 'r1', '-n', 'pb', '--verb=get,list', '--resource=pods,deployments.apps'], needs: [['rbac.authorization.k8s.io', 'v1', 'roles']],
    verify: async () => {
      const rules = (await getJson(['role', 'r1', '-n', 'pb'])).rules as unknown as { apiGroups: string[]; resources: string[] }[];
      assert.deepEqual(rules.map((r) => [r.apiGroups, r.resources]), [[[''], ['pods']], [['apps'], ['deployments']]]);
    } },
  { name: 'create rolebinding', args: ['create', 'rolebinding', 'rb1', '-n', 'pb', '--role=r1', '--user=alice'], needs: [['rbac.authorization.k8s.io', 'v1', 'rolebindings']] },
  { name: 'create clusterrole', args: ['create', 'clusterrole', 'pb-cr', '--verb=get', '--non-resource-url=/healthz'], needs: [['rbac.authorization.k8s.io', 'v1', 'clusterroles']] },
  { name: 'create poddisruptionbudget --min-available=0', args: ['create', 'poddisruptionbudget', 'pdb1', '-n', 'pb', '--selector=app=web', '--min-available=0'],
    needs: [['policy', 'v1', 'poddisruptionbudgets']],
    verify: async () => { assert.equal((await getJson(['pdb', 'pdb1', '-n', 'pb'])).spec!.minAvailable, 0); } },
  { name: 'create priorityclass', args: ['create', 'priorityclass', 'pb-high', '--value=1000'], needs: [['scheduling.k8s.io', 'v1', 'priorityclasses']] },
  { name: 'create quota', args: ['create', 'quota', 'q1', '-n', 'pb', '--hard=pods=2'], needs: [['', 'v1', 'resourcequotas']] },
  { name: 'autoscale', args: ['autoscale', 'deployment', 'web', '-n', 'pb', '--max=3', '--cpu-percent=70'],
    needs: [['apps', 'v1', 'deployments'], ['apps', 'v1', 'deployments/scale'], ['autoscaling', 'v1', 'horizontalpodautoscalers']],
    verify: async () => { assert.equal((await getJson(['horizontalpodautoscalers.v1.autoscaling', 'web', '-n', 'pb'])).spec!.targetCPUUtilizationPercentage, 70); } },
  { name: 'auth can-i', args: ['auth', 'can-i', 'create', 'pods', '-n', 'pb'], needs: [['authorization.k8s.io', 'v1', 'selfsubjectaccessreviews']],
    verify: async (out) => { assert.equal(out.trim(), 'yes'); } },
  { name: 'auth can-i --list', args: ['auth', 'can-i', '--list', '-n', 'pb'], needs: [['authorization.k8s.io', 'v1', 'selfsubjectrulesreviews']],
    verify: async (out) => { assert.match(out, /Resources\s+Non-Resource URLs/); } },
  { name: 'auth whoami', args: ['auth', 'whoami'], needs: [['authentication.k8s.io', 'v1', 'selfsubjectreviews']],
    verify: async (out) => { assert.match(out, /Username\s+\S+/); } },
];

describe('kubectl 1.32 sends protobuf bodies', () => {
  for (const s of SCENARIOS) {
    test(`kubectl ${s.args.join(' ')}`, async (t) => {
      const isServed = await served(s.needs);
      const r = await k132.run(s.args);
      if (!isServed) {
        t.diagnostic(`${s.needs.map((n) => n.join('/')).join(', ')} not served yet: expecting the server's 404`);
        assert.notEqual(r.code, 0);
        assert.match(r.stderr, /could not find the requested resource|NotFound/, r.stderr);
        assert.doesNotMatch(r.stderr, /UnsupportedMediaType/);
        return;
      }
      assert.equal(r.code, 0, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
      await s.verify?.(r.stdout);
    });
  }

  test('kubectl drain --grace-period=0 deletes with a protobuf DeleteOptions', async () => {
    const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'pb-node' } };
    assert.equal((await request(c, 'POST', '/api/v1/nodes', { body: JSON.stringify(node) })).status, 201);
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'pb-drained' }, spec: { nodeName: 'pb-node', containers: [{ name: 'c', image: 'busybox' }] } };
    assert.equal((await request(c, 'POST', '/api/v1/namespaces/default/pods', { body: JSON.stringify(pod) })).status, 201);
    // --disable-eviction: the DELETE fallback kubectl-contract S12 describes; grace 0 must arrive as 0
    const r = await k132.run(['drain', 'pb-node', '--force', '--disable-eviction', '--grace-period=0', '--timeout=40s']);
    assert.equal(r.code, 0, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
    assert.match(r.stdout, /pod\/pb-drained deleted/);
    assert.match(r.stdout, /node\/pb-node drained/);
    assert.equal((await request(c, 'GET', '/api/v1/namespaces/default/pods/pb-drained')).status, 404);
    const n = await request(c, 'GET', '/api/v1/nodes/pb-node');
    assert.equal(n.json<{ spec: { unschedulable?: boolean } }>().spec.unschedulable, true);
  });
});

// ---- kubectl 1.27 / 1.28: OpenAPI v2 -------------------------------------------------------

describe('OpenAPI v2 for kubectl 1.27 and 1.28', () => {
  test('GET /openapi/v2 as gnostic protobuf, with ETag and 304', async () => {
    const accept = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';
    const r = await request(c, 'GET', '/openapi/v2', { accept });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf');
    const etag = String(r.headers.etag);
    assert.match(etag, /^"[0-9A-F]{128}"$/);
    const again = await new Promise<number>((resolve, reject) => {
      const u = new URL('/openapi/v2', c.server);
      const req = https.request({ host: u.hostname, port: u.port, path: u.pathname, ca: c.ca, cert: c.cert, key: c.key, headers: { Accept: accept, 'If-None-Match': etag } },
        (res) => { res.resume(); resolve(res.statusCode ?? 0); });
      req.on('error', reject);
      req.end();
    });
    assert.equal(again, 304);
    const json = await request(c, 'GET', '/openapi/v2', { accept: 'application/json' });
    assert.equal(json.json<{ swagger: string }>().swagger, '2.0');
  });

  for (const version of ['1.27', '1.28']) {
    test(`kubectl ${version}: create -f, apply -f (twice), strict validation, explain, get`, async () => {
      const k = new Kubectl(api.kubeconfig, undefined, version);
      const ns = `v2-${version.replace('.', '-')}`;
      await k.ok(['create', 'namespace', ns]);
      const pod = (name: string, extra = '') => `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}, namespace: ${ns}}\nspec:\n  containers: [{name: c, image: busybox${extra}}]\n`;
      const file = (name: string, text: string) => { const p = join(dir, `${version}-${name}.yaml`); writeFileSync(p, text); return p; };

      assert.match(await k.ok(['create', '-f', file('created', pod('created'))]), /pod\/created created/);
      const applied = file('applied', pod('applied'));
      assert.match(await k.ok(['apply', '-f', applied]), /pod\/applied created/);
      assert.match(await k.ok(['apply', '-f', applied]), /pod\/applied unchanged/);
      writeFileSync(applied, `${pod('applied')}  activeDeadlineSeconds: 600\n`);
      assert.match(await k.ok(['apply', '-f', applied]), /pod\/applied configured/);

      // Default validation (strict): kubectl finds fieldValidation in the OpenAPI and lets the
      // server reject the unknown field (it validates client-side from v2 only for kinds whose
      // PATCH operation lacks fieldValidation).
      for (const verb of ['create', 'apply']) {
        const bad = await k.run([verb, '-f', file(`bad-${verb}`, pod(`bad-${verb}`, ', foo: 1'))]);
        assert.notEqual(bad.code, 0);
        assert.match(bad.stderr, /unknown field "spec\.containers\[0\]\.foo"/, bad.stderr);
      }

      const v3 = await k.ok(['explain', 'pods.spec.containers']);
      assert.match(v3, /FIELD: containers <\[\]Container>/);
      assert.match(v3, /\n {2}image\t<string>/);
      const v2doc = await k.ok(['explain', 'pods.spec.containers', '--output=plaintext-openapiv2']);
      assert.match(v2doc, /RESOURCE: containers <\[\]Object>/);
      assert.match(v2doc, /image\t<string>/);

      const got = await eventually('pods listed', async () => {
        const out = await k.ok(['get', 'pods', '-n', ns]);
        return /created/.test(out) && /applied/.test(out) ? out : undefined;
      }, 10_000, 500);
      assert.match(got, /^NAME\s+READY\s+STATUS/);
    });
  }
});
