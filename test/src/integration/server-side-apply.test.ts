// Field management and apply through the real kubectl 1.32 against a real apiserver on a real
// etcd: server-side apply (create, conflict after `kubectl scale`, --force-conflicts), client-side
// apply (twice, a removed field), the client-side → server-side migration kubectl performs,
// `kubectl diff` both ways, and managedFields as `get --show-managed-fields` shows them
// (kubectl-contract §5 apply --server-side / CSA→SSA / diff, §10 the SSA 409).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApiServer, type TestApiServer } from '../support/apiserver.js';
import { basename } from 'node:path';
import { Kubectl } from '../support/kubectl.js';
import { credsFromKubeconfig, request, type Creds } from '../support/http.js';

const NS = 'ssa';
let api: TestApiServer;
let k: Kubectl;
let creds: Creds;
/** Requests without ?fieldManager are attributed to the User-Agent's program: the binary's name (`kubectl.1.32`). */
let uaManager: string;

interface Entry { manager: string; operation: string; apiVersion: string; subresource?: string; time?: string; fieldsV1: Record<string, unknown> }
interface Obj { metadata: { labels?: Record<string, string>; annotations?: Record<string, string>; managedFields?: Entry[]; resourceVersion: string }; spec: { replicas: number; template: { spec: { containers: { name: string; image: string; env?: { name: string }[] }[] } } } }

function rs(name: string, replicas: number, opts: { containers?: string[]; labels?: Record<string, string> } = {}): string {
  const containers = (opts.containers ?? ['app']).map((c) => ({ name: c, image: `local/busybox:1`, command: ['sleep', '3600'] }));
  return JSON.stringify({
    apiVersion: 'apps/v1', kind: 'ReplicaSet',
    metadata: { name, namespace: NS, labels: opts.labels ?? { app: name } },
    spec: { replicas, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers } } },
  });
}

async function getRs(name: string): Promise<Obj> {
  return JSON.parse(await k.ok(['get', '-n', NS, 'rs', name, '-o', 'json', '--show-managed-fields'])) as Obj;
}

const managers = (o: Obj) => (o.metadata.managedFields ?? []).map((e) => `${e.manager}/${e.operation}${e.subresource ? `/${e.subresource}` : ''}`);

before(async () => {
  api = await startApiServer();
  k = new Kubectl(api.kubeconfig, undefined, '1.32');
  creds = credsFromKubeconfig(api.kubeconfig);
  uaManager = basename(k.bin);
  await k.ok(['create', 'namespace', NS]);
});
after(async () => { await api?.stop(); });

test('apply --server-side: 201 then 200, conflict after kubectl scale, --force-conflicts', async () => {
  // -v=6 logs each request's status line: the first apply creates
  const first = await k.run(['apply', '--server-side', '-f', '-', '-v=6'], { input: rs('web', 2) });
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /^replicaset\.apps\/web serverside-applied$/m);
  assert.match(first.stderr, /PATCH https:\/\/\S+\/apis\/apps\/v1\/namespaces\/ssa\/replicasets\/web\?fieldManager=kubectl&fieldValidation=Strict&force=false 201 Created/);
  const second = await k.run(['apply', '--server-side', '-f', '-', '-v=6'], { input: rs('web', 2) });
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /^replicaset\.apps\/web serverside-applied$/m);
  assert.match(second.stderr, /replicasets\/web\?fieldManager=kubectl&fieldValidation=Strict&force=false 200 OK/);
  let live = await getRs('web');
  assert.deepEqual(managers(live), ['kubectl/Apply']);

  // kubectl scale is an Update through /scale (manager from the User-Agent): it takes .spec.replicas
  assert.match(await k.ok(['scale', '-n', NS, 'rs/web', '--replicas=4']), /replicaset\.apps\/web scaled/);
  live = await getRs('web');
  assert.equal(live.spec.replicas, 4);
  assert.deepEqual(managers(live), ['kubectl/Apply', `${uaManager}/Update/scale`]);
  const scaleEntry = live.metadata.managedFields!.find((e) => e.subresource === 'scale')!;
  assert.equal(scaleEntry.apiVersion, 'apps/v1');
  assert.deepEqual(scaleEntry.fieldsV1, { 'f:spec': { 'f:replicas': {} } });

  // applying another value conflicts with the upstream message and kubectl's advice
  const conflict = await k.run(['apply', '--server-side', '-f', '-'], { input: rs('web', 3) });
  assert.equal(conflict.code, 1);
  assert.ok(conflict.stderr.startsWith(`error: Apply failed with 1 conflict: conflict with "${uaManager}" with subresource "scale" using apps/v1: .spec.replicas\n`), conflict.stderr);
  assert.match(conflict.stderr, /Please review the fields above--they currently have other managers\./);
  assert.match(conflict.stderr, /command with the `--force-conflicts` flag\./);
  assert.equal((await getRs('web')).spec.replicas, 4, 'nothing changed');

  // the same on the wire: 409 Conflict with FieldManagerConflict causes
  const raw = await request(creds, 'PATCH', `/apis/apps/v1/namespaces/${NS}/replicasets/web?fieldManager=kubectl`, { body: rs('web', 3), contentType: 'application/apply-patch+yaml' });
  assert.equal(raw.status, 409);
  const status = raw.json<{ reason: string; message: string; details: { causes: unknown[] } }>();
  assert.equal(status.reason, 'Conflict');
  assert.deepEqual(status.details.causes, [{ reason: 'FieldManagerConflict', message: `conflict with "${uaManager}" with subresource "scale" using apps/v1`, field: '.spec.replicas' }]);

  const forced = await k.run(['apply', '--server-side', '--force-conflicts', '-f', '-'], { input: rs('web', 3) });
  assert.equal(forced.code, 0, forced.stderr);
  live = await getRs('web');
  assert.equal(live.spec.replicas, 3);
  assert.deepEqual(managers(live), ['kubectl/Apply'], 'forcing took .spec.replicas from the scale manager');

  // dry-run=server changes nothing
  const dry = await k.ok(['apply', '--server-side', '--dry-run=server', '-f', '-'], { input: rs('web', 7) });
  assert.match(dry, /serverside-applied \(server dry run\)/);
  assert.equal((await getRs('web')).spec.replicas, 3);

  // a field dropped from the configuration goes when only the applier owned it
  const ok = await k.run(['apply', '--server-side', '-f', '-'], { input: rs('web', 3, { labels: { app: 'web', tier: 'fe' }, containers: ['app', 'side'] }) });
  assert.equal(ok.code, 0, ok.stderr);
  await k.ok(['apply', '--server-side', '-f', '-'], { input: rs('web', 3) });
  live = await getRs('web');
  assert.deepEqual(live.metadata.labels, { app: 'web' });
  assert.deepEqual(live.spec.template.spec.containers.map((c) => c.name), ['app']);
});

test('managedFields in get -o yaml only with --show-managed-fields', async () => {
  const plain = await k.ok(['get', '-n', NS, 'rs', 'web', '-o', 'yaml']);
  assert.ok(!plain.includes('managedFields'));
  const shown = await k.ok(['get', '-n', NS, 'rs', 'web', '-o', 'yaml', '--show-managed-fields']);
  assert.match(shown, /managedFields:\n {2}- apiVersion: apps\/v1\n {4}fieldsType: FieldsV1\n {4}fieldsV1:\n {6}f:metadata:\n {8}f:labels:\n {10}f:app: \{\}\n/);
  assert.match(shown, / {6}f:spec:\n {8}f:replicas: \{\}\n {8}f:selector: \{\}\n/);
  assert.match(shown, /k:\{"name":"app"\}:\n {16}\.: \{\}\n/);
  assert.match(shown, /manager: kubectl\n {4}operation: Apply\n {4}time: "\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"\n/);
});

test('client-side apply twice, then with a removed field; kubectl-client-side-apply owns what it wrote', async () => {
  const created = await k.ok(['apply', '-f', '-'], { input: rs('csa', 2, { containers: ['app', 'side'], labels: { app: 'csa', tier: 'fe' } }) });
  assert.match(created, /^replicaset\.apps\/csa created$/m);
  assert.match(await k.ok(['apply', '-f', '-'], { input: rs('csa', 2, { containers: ['app', 'side'], labels: { app: 'csa', tier: 'fe' } }) }), /^replicaset\.apps\/csa unchanged$/m);
  let live = await getRs('csa');
  assert.deepEqual(managers(live), ['kubectl-client-side-apply/Update']);
  const owned = JSON.stringify(live.metadata.managedFields![0]!.fieldsV1);
  for (const f of ['"f:kubectl.kubernetes.io/last-applied-configuration"', '"f:tier"', '"k:{\\"name\\":\\"side\\"}"', '"f:imagePullPolicy"']) {
    assert.ok(owned.includes(f), `owns ${f}: ${owned}`);
  }
  // the 3-way patch removes the label and the container (with $setElementOrder and $patch: delete)
  const changed = await k.ok(['apply', '-f', '-'], { input: rs('csa', 2) });
  assert.match(changed, /^replicaset\.apps\/csa configured$/m);
  live = await getRs('csa');
  assert.deepEqual(live.metadata.labels, { app: 'csa' });
  assert.deepEqual(live.spec.template.spec.containers.map((c) => c.name), ['app']);
  const after2 = JSON.stringify(live.metadata.managedFields![0]!.fieldsV1);
  assert.ok(!after2.includes('f:tier') && !after2.includes('"k:{\\"name\\":\\"side\\"}"'), 'removed fields are owned by nobody');
  // an unknown field in the patched object under fieldValidation=Strict: upstream's 422 on the field "patch"
  const bogus = JSON.parse(rs('csa', 2)) as { spec: Record<string, unknown> };
  bogus.spec.bogus = 1;
  const strict = await k.run(['apply', '-f', '-'], { input: JSON.stringify(bogus) });
  assert.equal(strict.code, 1);
  assert.match(strict.stderr, /strict decoding error: unknown field "spec\.bogus"/);
  const raw = await request(creds, 'PATCH', `/apis/apps/v1/namespaces/${NS}/replicasets/csa?fieldValidation=Strict`, { body: '{"spec":{"bogus":1}}', contentType: 'application/strategic-merge-patch+json' });
  assert.equal(raw.status, 422);
  assert.deepEqual(raw.json<{ details: { causes: unknown[] } }>().details.causes,
    [{ reason: 'FieldValueInvalid', message: 'Invalid value: "map[spec:map[bogus:1]]": strict decoding error: unknown field "spec.bogus"', field: 'patch' }]);
});

test('client-side → server-side apply: no conflict for what client-side apply set; kubectl migrates the managers', async () => {
  await k.ok(['apply', '-f', '-'], { input: rs('mig', 2) });
  const out = await k.run(['apply', '--server-side', '-f', '-'], { input: rs('mig', 5) });
  assert.equal(out.code, 0, out.stderr);
  assert.equal(out.stderr.trim(), '', 'no migration warnings');
  const live = await getRs('mig');
  assert.equal(live.spec.replicas, 5);
  // kubectl re-applied after moving kubectl-client-side-apply's fields into its own Apply entry
  assert.deepEqual(managers(live).sort(), ['kubectl-last-applied/Apply', 'kubectl/Apply']);
  const lastApplied = JSON.parse(live.metadata.annotations!['kubectl.kubernetes.io/last-applied-configuration']!) as { spec: { replicas: number } };
  assert.equal(lastApplied.spec.replicas, 5, 'the server keeps last-applied in step with kubectl server-side applies');
  // and back to client-side apply: works from the annotation
  assert.match(await k.ok(['apply', '-f', '-'], { input: rs('mig', 6) }), /^replicaset\.apps\/mig configured$/m);
  assert.equal((await getRs('mig')).spec.replicas, 6);
});

test('kubectl diff: client-side (strategic merge dry run) and --server-side (apply dry run)', async () => {
  const same = await k.run(['diff', '-f', '-'], { input: rs('csa', 2) });
  assert.equal(same.code, 0, same.stderr);
  assert.equal(same.stdout, '');
  const changed = await k.run(['diff', '-f', '-'], { input: rs('csa', 5) });
  assert.equal(changed.code, 1, changed.stderr);
  assert.match(changed.stdout, /^-\s+replicas: 2$/m);
  assert.match(changed.stdout, /^\+\s+replicas: 5$/m);
  assert.match(changed.stdout, /^\+\s+generation: \d+$/m, 'generation bumps in the dry run');

  const ssaSame = await k.run(['diff', '--server-side', '-f', '-'], { input: rs('web', 3) });
  assert.equal(ssaSame.code, 0, ssaSame.stderr + ssaSame.stdout);
  const ssaChanged = await k.run(['diff', '--server-side', '-f', '-'], { input: rs('web', 3, { labels: { app: 'web', env: 'prod' } }) });
  assert.equal(ssaChanged.code, 1, ssaChanged.stderr);
  assert.match(ssaChanged.stdout, /^\+\s+env: prod$/m);
  // nothing was persisted
  assert.equal((await getRs('csa')).spec.replicas, 2);
  assert.deepEqual((await getRs('web')).metadata.labels, { app: 'web' });
});

test('apply input errors: missing fieldManager, kind and name', async () => {
  const path = `/apis/apps/v1/namespaces/${NS}/replicasets/other`;
  const noManager = await request(creds, 'PATCH', path, { body: rs('other', 1), contentType: 'application/apply-patch+yaml' });
  assert.equal(noManager.status, 422);
  const noKind = await request(creds, 'PATCH', `${path}?fieldManager=x`, { body: JSON.stringify({ metadata: { name: 'other' } }), contentType: 'application/apply-patch+yaml' });
  assert.equal(noKind.status, 400);
  assert.equal(noKind.json<{ message: string }>().message, 'invalid object type: /, Kind=');
  const noName = await request(creds, 'PATCH', `${path}?fieldManager=x`, { body: 'apiVersion: apps/v1\nkind: ReplicaSet\nspec:\n  replicas: 1\n', contentType: 'application/apply-patch+yaml' });
  assert.equal(noName.status, 400);
  assert.equal(noName.json<{ message: string }>().message, 'the name of the object () does not match the name on the URL (other)');
  const created = await request(creds, 'PATCH', `${path}?fieldManager=x`, { body: rs('other', 1), contentType: 'application/apply-patch+yaml' });
  assert.equal(created.status, 201, created.body);
});
