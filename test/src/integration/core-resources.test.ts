// The core/v1 resources beyond pods and nodes (services with ClusterIP/NodePort allocation,
// endpoints, configmaps, secrets, serviceaccounts and their tokens, limitranges,
// resourcequotas, persistentvolumes(claims), replicationcontrollers), pods/eviction and the
// events.k8s.io view of core Events, through the real kubectl against the real apiserver on a
// real etcd.
//
// kubectl 1.32 sends protobuf bodies for `create <generator>` and `create token`; those commands
// use kubectl 1.31 (JSON) here until protobuf request decoding lands.
import { test, before, after } from 'node:test';
import { stringify } from 'yaml';
import assert from 'node:assert/strict';
import { startApiServer, type TestApiServer } from '../support/apiserver.js';
import { Kubectl, eventually } from '../support/kubectl.js';
import { credsFromKubeconfig, request, type Creds } from '../support/http.js';

let api: TestApiServer;
let k: Kubectl;
let k131: Kubectl;
let c: Creds;

const NS = 'core';
const y = (objs: unknown[]) => objs.map((o) => stringify(o)).join('---\n');
const headerOf = (out: string) => out.split('\n')[0]!.trim().split(/\s{2,}/);
const b64 = (s: string) => Buffer.from(s).toString('base64');

const MANIFESTS = [
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { type: 'NodePort', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }, { name: 'dns', port: 53, protocol: 'UDP' }] } },
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'fixed' }, spec: { clusterIP: '10.96.0.42', ports: [{ port: 443 }] } },
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'headless' }, spec: { clusterIP: 'None', selector: { app: 'db' }, ports: [{ port: 5432 }] } },
  { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'manual' }, subsets: [{ addresses: [{ ip: '10.1.2.3' }, { ip: '10.1.2.4' }], ports: [{ port: 80 }] }] },
  { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'files' }, data: { 'app.properties': 'a=1' }, binaryData: { 'logo.bin': b64('\u0001\u0002') } },
  { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'tls' }, type: 'kubernetes.io/tls', stringData: { 'tls.crt': 'cert', 'tls.key': 'key' } },
  { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'robot' } },
  { apiVersion: 'v1', kind: 'LimitRange', metadata: { name: 'limits' }, spec: { limits: [{ type: 'Container', max: { cpu: '2' }, min: { cpu: '100m' } }] } },
  { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'quota' }, spec: { hard: { pods: '10', 'requests.cpu': '4', 'limits.memory': '8Gi' } } },
  { apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'pv-core' }, spec: { capacity: { storage: '5Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/data/pv-core' }, storageClassName: 'manual' } },
  { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'manual' } },
  { apiVersion: 'v1', kind: 'ReplicationController', metadata: { name: 'legacy' }, spec: { replicas: 2, template: { metadata: { labels: { app: 'legacy' } }, spec: { containers: [{ name: 'main', image: 'busybox:1' }] } } } },
  {
    apiVersion: 'v1', kind: 'Event', metadata: { name: 'legacy.1' }, involvedObject: { kind: 'ReplicationController', name: 'legacy', namespace: NS },
    reason: 'SuccessfulCreate', message: 'Created pod: legacy-abcde', type: 'Normal', source: { component: 'replication-controller' }, count: 1,
    firstTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), lastTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
  },
];

before(async () => {
  api = await startApiServer();
  k = new Kubectl(api.kubeconfig, undefined, '1.32');
  k131 = new Kubectl(api.kubeconfig, undefined, '1.31');
  c = credsFromKubeconfig(api.kubeconfig);
  await k.ok(['create', 'namespace', NS]).catch(() => k131.ok(['create', 'namespace', NS]));
});
after(async () => { await api?.stop(); });

test('the kubernetes Service gets the first IP of the range at bootstrap', async () => {
  const svc = await eventually('kubernetes service', async () => {
    const r = await k.run(['get', 'service', 'kubernetes', '-n', 'default', '-o', 'json']);
    return r.code === 0 ? JSON.parse(r.stdout) as { spec: { clusterIP: string; ports: { port: number; targetPort: number }[] } } : undefined;
  }, 15_000, 200);
  assert.equal(svc.spec.clusterIP, '10.96.0.1');
  assert.equal(svc.spec.ports[0]!.port, 443);
  assert.equal(svc.spec.ports[0]!.targetPort, api.port);
});

test('kubectl create <generator> (1.31, JSON bodies): configmap, secret, service clusterip, serviceaccount', async () => {
  assert.match(await k131.ok(['create', 'configmap', 'gen-cm', '-n', NS, '--from-literal=a=1', '--from-literal=b=2']), /configmap\/gen-cm created/);
  assert.match(await k131.ok(['create', 'secret', 'generic', 'gen-secret', '-n', NS, '--from-literal=password=s3cr3t']), /secret\/gen-secret created/);
  assert.match(await k131.ok(['create', 'service', 'clusterip', 'gen-svc', '-n', NS, '--tcp=80:8080']), /service\/gen-svc created/);
  assert.match(await k131.ok(['create', 'serviceaccount', 'gen-sa', '-n', NS]), /serviceaccount\/gen-sa created/);
  const secret = JSON.parse(await k.ok(['get', 'secret', 'gen-secret', '-n', NS, '-o', 'json'])) as { type: string; data: Record<string, string> };
  assert.equal(secret.type, 'Opaque');
  assert.equal(Buffer.from(secret.data.password!, 'base64').toString(), 's3cr3t');
  const svc = JSON.parse(await k.ok(['get', 'service', 'gen-svc', '-n', NS, '-o', 'json'])) as { spec: { clusterIP: string; ports: { port: number; targetPort: number; protocol: string }[] } };
  assert.match(svc.spec.clusterIP, /^10\.(9[6-9]|10\d|11[01])\.\d+\.\d+$/, 'an IP of 10.96.0.0/12');
  assert.deepEqual(svc.spec.ports.map((p) => [p.port, p.targetPort, p.protocol]), [[80, 8080, 'TCP']]);
});

test('kubectl create -f of every kind, upstream tables, allocation and defaults', async () => {
  const created = await k.ok(['create', '-n', NS, '-f', '-'], { input: y(MANIFESTS) });
  for (const what of ['service/web', 'service/fixed', 'service/headless', 'endpoints/manual', 'configmap/files', 'secret/tls', 'serviceaccount/robot',
    'limitrange/limits', 'resourcequota/quota', 'persistentvolume/pv-core', 'persistentvolumeclaim/data', 'replicationcontroller/legacy', 'event/legacy.1']) {
    assert.match(created, new RegExp(`${what.replace('.', '\\.')} created`), what);
  }
  const tables: [string[], string[]][] = [
    [['get', 'services'], ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE']],
    [['get', 'svc', '-o', 'wide'], ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE', 'SELECTOR']],
    [['get', 'ep'], ['NAME', 'ENDPOINTS', 'AGE']],
    [['get', 'cm'], ['NAME', 'DATA', 'AGE']],
    [['get', 'secrets'], ['NAME', 'TYPE', 'DATA', 'AGE']],
    [['get', 'sa'], ['NAME', 'SECRETS', 'AGE']],
    [['get', 'limits'], ['NAME', 'CREATED AT']],
    [['get', 'quota'], ['NAME', 'REQUEST', 'LIMIT', 'AGE']],
    [['get', 'pv'], ['NAME', 'CAPACITY', 'ACCESS MODES', 'RECLAIM POLICY', 'STATUS', 'CLAIM', 'STORAGECLASS', 'VOLUMEATTRIBUTESCLASS', 'REASON', 'AGE']],
    [['get', 'pvc'], ['NAME', 'STATUS', 'VOLUME', 'CAPACITY', 'ACCESS MODES', 'STORAGECLASS', 'VOLUMEATTRIBUTESCLASS', 'AGE']],
    [['get', 'rc'], ['NAME', 'DESIRED', 'CURRENT', 'READY', 'AGE']],
  ];
  for (const [args, want] of tables) {
    const out = await k.ok([...args, '-n', NS]);
    assert.deepEqual(headerOf(out), want, args.join(' '));
  }
  const svcs = await k.ok(['get', 'svc', '-n', NS]);
  const web = svcs.split('\n').find((l) => l.startsWith('web '))!.split(/\s+/);
  assert.equal(web[1], 'NodePort');
  const ports = /^80:(\d+)\/TCP,53:(\d+)\/UDP$/.exec(web[4]!);
  assert.ok(ports, `ports cell ${web[4]}`);
  for (const p of [ports[1], ports[2]]) assert.ok(Number(p) >= 30000 && Number(p) <= 32767, `node port ${p}`);
  assert.match(svcs, /^fixed\s+ClusterIP\s+10\.96\.0\.42\s+<none>\s+443\/TCP/m);
  assert.match(svcs, /^headless\s+ClusterIP\s+None\s+<none>\s+5432\/TCP/m);
  assert.match(await k.ok(['get', 'ep', 'manual', '-n', NS]), /10\.1\.2\.3:80,10\.1\.2\.4:80/);
  assert.match(await k.ok(['get', 'pv', 'pv-core']), /pv-core\s+5Gi\s+RWO\s+Retain\s+Pending\s+manual\s+<unset>/);
  assert.match(await k.ok(['get', 'rc', 'legacy', '-n', NS, '-o', 'wide']), /legacy\s+2\s+0\s+0\s+\S+\s+main\s+busybox:1\s+app=legacy/);
  const tls = JSON.parse(await k.ok(['get', 'secret', 'tls', '-n', NS, '-o', 'json'])) as { data: Record<string, string>; stringData?: unknown };
  assert.deepEqual(tls.data, { 'tls.crt': b64('cert'), 'tls.key': b64('key') }, 'stringData merged into data');
  assert.equal(tls.stringData, undefined);
  // field selectors upstream supports
  assert.match(await k.ok(['get', 'svc', '-n', NS, '--field-selector', 'spec.type=NodePort', '-o', 'name']), /^service\/web\s*$/);
  assert.match(await k.ok(['get', 'secrets', '-n', NS, '--field-selector', 'type=kubernetes.io/tls', '-o', 'name']), /^secret\/tls\s*$/);
  // the replication controller scales through autoscaling/v1 Scale
  assert.match(await k.ok(['scale', 'rc', 'legacy', '-n', NS, '--replicas=4']), /scaled/);
  assert.equal(JSON.parse(await k.ok(['get', 'rc', 'legacy', '-n', NS, '-o', 'json'])).spec.replicas, 4);
});

test('a taken or out-of-range ClusterIP is 422 with the upstream message; deleting frees it', async () => {
  const dup = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'dup' }, spec: { clusterIP: '10.96.0.42', ports: [{ port: 80 }] } };
  const r = await k.run(['create', '-n', NS, '-f', '-'], { input: JSON.stringify(dup) });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /The Service "dup" is invalid: spec\.clusterIPs: Invalid value: .*failed to allocate IP 10\.96\.0\.42: provided IP is already allocated/);
  const far = await k.run(['create', '-n', NS, '-f', '-'], { input: JSON.stringify({ ...dup, spec: { clusterIP: '192.168.7.7', ports: [{ port: 80 }] } }) });
  assert.match(far.stderr, /provided IP is not in the valid range\. The range of valid IPs is 10\.96\.0\.0\/12/);
  await k.ok(['delete', 'service', 'fixed', '-n', NS]);
  assert.match(await k.ok(['create', '-n', NS, '-f', '-'], { input: JSON.stringify(dup) }), /service\/dup created/);
});

test('kubectl create token (1.31) returns a service account JWT', async () => {
  const jwt = (await k131.ok(['create', 'token', 'robot', '-n', NS, '--duration=20m'])).trim();
  const parts = jwt.split('.');
  assert.equal(parts.length, 3);
  const header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString()) as { alg: string; kid: string };
  const claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString()) as { sub: string; iss: string; aud: string[]; exp: number; iat: number; 'kubernetes.io': { namespace: string; serviceaccount: { name: string } } };
  assert.equal(header.alg, 'RS256');
  assert.ok(header.kid);
  assert.equal(claims.sub, `system:serviceaccount:${NS}:robot`);
  assert.equal(claims.iss, 'https://kubernetes.default.svc.cluster.local');
  assert.equal(claims['kubernetes.io'].serviceaccount.name, 'robot');
  assert.equal(claims.exp - claims.iat, 1200);
});

test('pods/eviction: discovery points at policy/v1 Eviction; a drain-style POST evicts', async () => {
  const v1 = await request(c, 'GET', '/api/v1');
  const ev = v1.json<{ resources: { name: string; group?: string; version?: string; kind: string; verbs: string[] }[] }>().resources.find((x) => x.name === 'pods/eviction');
  assert.deepEqual([ev?.group, ev?.version, ev?.kind, ev?.verbs], ['policy', 'v1', 'Eviction', ['create']]);
  await k.ok(['create', '-n', NS, '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'victim' }, spec: { containers: [{ name: 'c', image: 'busybox:1' }] } }) });
  const body = JSON.stringify({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'victim', namespace: NS }, deleteOptions: {} });
  const r = await request(c, 'POST', `/api/v1/namespaces/${NS}/pods/victim/eviction`, { body });
  assert.equal(r.status, 201, r.body);
  assert.equal(r.json().status, 'Success');
  assert.equal((await request(c, 'GET', `/api/v1/namespaces/${NS}/pods/victim`)).status, 404);
  const gone = await request(c, 'POST', `/api/v1/namespaces/${NS}/pods/victim/eviction`, { body });
  assert.equal(gone.status, 404);
});

test('kubectl drain (1.32) cordons the node and evicts its pods through pods/eviction', async () => {
  await k.ok(['create', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'worker-1' } }) });
  await k.ok(['create', '-n', NS, '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'on-worker' }, spec: { nodeName: 'worker-1', containers: [{ name: 'c', image: 'busybox:1' }] } }) });
  const r = await k.run(['drain', 'worker-1', '--force', '--grace-period=0', '--timeout=20s', '-v=6'], { timeoutMs: 30_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`pod/on-worker evicted[\\s\\S]*node/worker-1 drained`));
  assert.match(r.stderr, new RegExp(`POST \\S+/api/v1/namespaces/${NS}/pods/on-worker/eviction 201`), 'eviction, not the DELETE fallback');
  assert.equal(JSON.parse(await k.ok(['get', 'node', 'worker-1', '-o', 'json'])).spec.unschedulable, true);
});

test('events.k8s.io/v1 serves core Events (and the other way round)', async () => {
  const v1 = JSON.parse(await k.ok(['get', 'events.v1.events.k8s.io', 'legacy.1', '-n', NS, '-o', 'json'])) as Record<string, unknown>;
  assert.equal(v1.apiVersion, 'events.k8s.io/v1');
  assert.deepEqual(v1.regarding, { kind: 'ReplicationController', name: 'legacy', namespace: NS });
  assert.equal(v1.note, 'Created pod: legacy-abcde');
  assert.deepEqual(v1.deprecatedSource, { component: 'replication-controller' });
  assert.equal(v1.deprecatedCount, 1);
  const table = await k.ok(['get', 'events.events.k8s.io', '-n', NS]);
  assert.deepEqual(headerOf(table), ['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE']);
  assert.match(table, /Normal\s+SuccessfulCreate\s+replicationcontroller\/legacy\s+Created pod: legacy-abcde/);
  const fresh = {
    apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: { name: 'synced.1' }, eventTime: new Date().toISOString().replace('Z', '000Z'),
    reportingController: 'example.com/syncer', reportingInstance: 'syncer-0', action: 'Sync', reason: 'Synced', type: 'Normal',
    regarding: { kind: 'ConfigMap', name: 'files', namespace: NS }, note: 'synced the files',
  };
  await k.ok(['create', '-n', NS, '-f', '-'], { input: JSON.stringify(fresh) });
  // plain `events` resolves to the core group
  const core = JSON.parse(await k.ok(['get', 'events', 'synced.1', '-n', NS, '-o', 'json'])) as Record<string, unknown>;
  assert.equal(core.apiVersion, 'v1');
  assert.equal(core.message, 'synced the files');
  assert.equal(core.reportingComponent, 'example.com/syncer');
  assert.deepEqual(core.involvedObject, { kind: 'ConfigMap', name: 'files', namespace: NS });
});
