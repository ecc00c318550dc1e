// The apiserver over real HTTPS on a real etcd: the wire contract kubectl and informers rely on.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startApiServer, type TestApiServer } from '../support/apiserver.js';
import { credsFromKubeconfig, request, watchEvents, type Creds } from '../support/http.js';

let api: TestApiServer;
let c: Creds;
const pod = (name: string, extra: Record<string, unknown> = {}) => JSON.stringify({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: 'web' } },
  spec: { containers: [{ name: 'c', image: 'busybox:1', resources: { requests: { cpu: '100m' } } }] }, ...extra,
});

before(async () => { api = await startApiServer(); c = credsFromKubeconfig(api.kubeconfig); });
after(async () => { await api?.stop(); });

describe('authentication', () => {
  test('anonymous requests get 401 except public info', async () => {
    const anon = { server: c.server, ca: c.ca };
    const r = await request(anon, 'GET', '/api/v1/pods');
    assert.equal(r.status, 401);
    assert.equal(r.json().reason, 'Unauthorized');
    assert.equal((await request(anon, 'GET', '/readyz')).status, 200);
    assert.equal((await request(anon, 'GET', '/version')).json().minor, '32');
  });
});

describe('discovery', () => {
  test('aggregated discovery needs and gets its exact content type', async () => {
    const r = await request(c, 'GET', '/apis', { accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json' });
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-type']), /^application\/json;g=apidiscovery\.k8s\.io;v=v2;as=APIGroupDiscoveryList/);
    const apps = r.json<{ items: { metadata: { name: string }; versions: { resources: { resource: string; subresources?: { subresource: string; responseKind: { group: string; kind: string } }[] }[] }[] }[] }>()
      .items.find((i) => i.metadata.name === 'apps');
    const rs = apps!.versions[0]!.resources.find((x) => x.resource === 'replicasets');
    assert.deepEqual(rs!.subresources!.find((s) => s.subresource === 'scale')!.responseKind, { group: 'autoscaling', version: 'v1', kind: 'Scale' });
    const legacy = await request(c, 'GET', '/api/v1');
    const names = legacy.json<{ resources: { name: string }[] }>().resources.map((x) => x.name);
    for (const n of ['pods', 'pods/status', 'pods/binding', 'pods/log', 'nodes', 'nodes/status', 'namespaces', 'events']) assert.ok(names.includes(n), n);
  });

  test('OpenAPI v3 index and hashed, immutable documents with a PATCH fieldValidation parameter', async () => {
    const idx = await request(c, 'GET', '/openapi/v3');
    const url = idx.json<{ paths: Record<string, { serverRelativeURL: string }> }>().paths['api/v1']!.serverRelativeURL;
    const doc = await request(c, 'GET', url);
    assert.equal(doc.headers['cache-control'], 'public, immutable');
    const d = doc.json<{ paths: Record<string, { patch?: { parameters: { name: string }[]; 'x-kubernetes-group-version-kind': { kind: string } } }> }>();
    const item = d.paths['/api/v1/namespaces/{namespace}/pods/{name}']!;
    assert.equal(item.patch!['x-kubernetes-group-version-kind'].kind, 'Pod');
    assert.ok(item.patch!.parameters.some((p) => p.name === 'fieldValidation'));
  });
});

describe('writes and errors', () => {
  test('create answers 201 with defaults; resourceVersion is the etcd revision', async () => {
    const r = await request(c, 'POST', '/api/v1/namespaces/default/pods', { body: pod('p1') });
    assert.equal(r.status, 201);
    const p = r.json<{ metadata: { resourceVersion: string; uid: string }; spec: { restartPolicy: string; containers: { imagePullPolicy: string }[] }; status: { phase: string } }>();
    assert.equal(p.spec.restartPolicy, 'Always');
    assert.equal(p.spec.containers[0]!.imagePullPolicy, 'IfNotPresent');
    assert.equal(p.status.phase, 'Pending');
    const rev = await api.storage.currentRevision();
    assert.ok(Number(p.metadata.resourceVersion) <= rev && Number(p.metadata.resourceVersion) > 0);
    const stored = await api.storage.get('/registry/pods/default/p1');
    assert.equal(stored.metadata.resourceVersion, p.metadata.resourceVersion);
  });

  test('bad input gets the right Status codes', async () => {
    const cases: [string, string, string | undefined, string | undefined, number, string][] = [
      ['POST', '/api/v1/namespaces/default/pods', pod('p1'), undefined, 409, 'AlreadyExists'],
      ['POST', '/api/v1/namespaces/nope/pods', pod('x'), undefined, 404, 'NotFound'],
      ['POST', '/api/v1/namespaces/default/pods', '{"apiVersion":"v1",', undefined, 400, 'BadRequest'],
      ['POST', '/api/v1/namespaces/default/pods', JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'Bad' }, spec: { containers: [] } }), undefined, 422, 'Invalid'],
      ['POST', '/api/v1/namespaces/default/pods?fieldValidation=Strict', JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'u' }, spec: { foo: 1, containers: [{ name: 'c', image: 'i' }] } }), undefined, 400, 'BadRequest'],
      ['POST', '/api/v1/namespaces/default/pods', pod('x'), 'text/plain', 415, 'UnsupportedMediaType'],
      ['POST', '/api/v1/namespaces/default/pods', JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x' }, spec: { containers: 'nope' } }), undefined, 400, 'BadRequest'],
      ['GET', '/api/v1/namespaces/default/pods/missing', undefined, undefined, 404, 'NotFound'],
      ['GET', '/api/v1/namespaces/default/widgets', undefined, undefined, 404, 'NotFound'],
      ['GET', '/api/v1/pods?labelSelector=a%20in%20(', undefined, undefined, 400, 'BadRequest'],
      ['GET', '/api/v1/pods?fieldSelector=spec.bogus%3Dx', undefined, undefined, 400, 'BadRequest'],
      ['POST', '/api/v1/namespaces/default/pods', 'x'.repeat(4 * 1024 * 1024), undefined, 413, 'RequestEntityTooLarge'],
    ];
    for (const [method, path, body, ct, code, reason] of cases) {
      const r = await request(c, method, path, { ...(body !== undefined ? { body } : {}), ...(ct ? { contentType: ct } : {}) });
      assert.equal(r.status, code, `${method} ${path.slice(0, 60)} ${body?.slice(0, 40)}: ${r.body.slice(0, 300)}`);
      const s = r.json<{ kind: string; reason: string; code: number }>();
      assert.equal(s.kind, 'Status');
      assert.equal(s.reason, reason);
      assert.equal(s.code, code);
    }
    const inv = await request(c, 'POST', '/api/v1/namespaces/default/pods', { body: JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'inv' }, spec: { containers: [{ name: 'c', image: '', ports: [{ containerPort: 0 }] }] } }) });
    const causes = inv.json<{ details: { causes: { field: string; reason: string }[] } }>().details.causes;
    assert.deepEqual(causes.map((x) => x.field).sort(), ['spec.containers[0].image', 'spec.containers[0].ports[0].containerPort']);
  });

  test('an object larger than etcd stores (1.5 MiB) is refused with a clear 413, not a 500', async () => {
    const r = await request(c, 'POST', '/api/v1/namespaces/default/events', { body: JSON.stringify({
      apiVersion: 'v1', kind: 'Event', metadata: { name: 'huge' }, involvedObject: { kind: 'Pod', name: 'p1', namespace: 'default' },
      reason: 'Huge', type: 'Normal', message: 'x'.repeat(2 * 1024 * 1024),
    }) });
    assert.equal(r.status, 413, r.body.slice(0, 300));
    assert.match(r.json<{ message: string }>().message, /too large to store.*etcd accepts at most/);
    assert.equal((await request(c, 'GET', '/readyz')).status, 200);
  });

  test('stale resourceVersion on update is 409 Conflict; status and spec writes stay apart', async () => {
    const cur = (await request(c, 'GET', '/api/v1/namespaces/default/pods/p1')).json<Record<string, unknown> & { metadata: { resourceVersion: string } }>();
    const upd = await request(c, 'PUT', '/api/v1/namespaces/default/pods/p1', { body: JSON.stringify({ ...cur, metadata: { ...cur.metadata, labels: { app: 'web', v: '2' } }, status: { phase: 'Running' } }) });
    assert.equal(upd.status, 200);
    assert.equal(upd.json<{ status: { phase: string } }>().status.phase, 'Pending', 'a PUT of the pod ignores status');
    const stale = await request(c, 'PUT', '/api/v1/namespaces/default/pods/p1', { body: JSON.stringify(cur) });
    assert.equal(stale.status, 409);
    assert.equal(stale.json().reason, 'Conflict');
    const st = await request(c, 'PATCH', '/api/v1/namespaces/default/pods/p1/status', { body: JSON.stringify({ status: { phase: 'Running' }, spec: { nodeName: 'sneaky' } }), contentType: 'application/merge-patch+json' });
    assert.equal(st.status, 200);
    const after = st.json<{ status: { phase: string }; spec: { nodeName?: string } }>();
    assert.equal(after.status.phase, 'Running');
    assert.equal(after.spec.nodeName, undefined, '/status ignores spec');
  });

  test('binding assigns a node once and records PodScheduled', async () => {
    await request(c, 'POST', '/api/v1/namespaces/default/pods', { body: pod('b1') });
    const bind = (node: string) => request(c, 'POST', '/api/v1/namespaces/default/pods/b1/binding', { body: JSON.stringify({ apiVersion: 'v1', kind: 'Binding', metadata: { name: 'b1' }, target: { kind: 'Node', name: node } }) });
    assert.equal((await bind('n1')).status, 201);
    const again = await bind('n2');
    assert.equal(again.status, 409);
    const p = (await request(c, 'GET', '/api/v1/namespaces/default/pods/b1')).json<{ spec: { nodeName: string }; status: { conditions: { type: string; status: string }[] } }>();
    assert.equal(p.spec.nodeName, 'n1');
    assert.deepEqual(p.status.conditions.map((x) => [x.type, x.status]), [['PodScheduled', 'True']]);
  });

  test('generation bumps on spec changes only; scale subresource', async () => {
    const rs = { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'rs1' }, spec: { replicas: 2, selector: { matchLabels: { app: 'rs1' } }, template: { metadata: { labels: { app: 'rs1' } }, spec: { containers: [{ name: 'c', image: 'busybox:1' }] } } } };
    const created = await request(c, 'POST', '/apis/apps/v1/namespaces/default/replicasets', { body: JSON.stringify(rs) });
    assert.equal(created.status, 201, created.body);
    assert.equal(created.json<{ metadata: { generation: number } }>().metadata.generation, 1);
    const label = await request(c, 'PATCH', '/apis/apps/v1/namespaces/default/replicasets/rs1', { body: '{"metadata":{"labels":{"x":"y"}}}', contentType: 'application/merge-patch+json' });
    assert.equal(label.json<{ metadata: { generation: number } }>().metadata.generation, 1);
    const scale = await request(c, 'PATCH', '/apis/apps/v1/namespaces/default/replicasets/rs1/scale', { body: '{"spec":{"replicas":5}}', contentType: 'application/merge-patch+json' });
    assert.equal(scale.status, 200);
    const s = scale.json<{ kind: string; spec: { replicas: number }; status: { selector: string } }>();
    assert.equal(s.kind, 'Scale');
    assert.equal(s.spec.replicas, 5);
    assert.equal(s.status.selector, 'app=rs1');
    const got = (await request(c, 'GET', '/apis/apps/v1/namespaces/default/replicasets/rs1')).json<{ spec: { replicas: number }; metadata: { generation: number } }>();
    assert.equal(got.spec.replicas, 5);
    assert.equal(got.metadata.generation, 2);
    const bad = await request(c, 'POST', '/apis/apps/v1/namespaces/default/replicasets', { body: JSON.stringify({ ...rs, metadata: { name: 'rs2' }, spec: { ...rs.spec, selector: { matchLabels: { app: 'other' } } } }) });
    assert.equal(bad.status, 422);
    assert.match(bad.json<{ message: string }>().message, /selector` does not match template `labels`/);
  });
});

describe('reads', () => {
  test('Table responses carry the upstream pod columns', async () => {
    const r = await request(c, 'GET', '/api/v1/namespaces/default/pods', { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' });
    const t = r.json<{ kind: string; columnDefinitions: { name: string }[]; rows: { cells: unknown[]; object: { kind: string } }[] }>();
    assert.equal(t.kind, 'Table');
    assert.deepEqual(t.columnDefinitions.map((x) => x.name), ['Name', 'Ready', 'Status', 'Restarts', 'Age', 'IP', 'Node', 'Nominated Node', 'Readiness Gates']);
    const p1 = t.rows.find((row) => row.cells[0] === 'p1')!;
    assert.equal(p1.cells[1], '0/1');
    assert.equal(p1.object.kind, 'PartialObjectMetadata');
  });

  test('lists page with limit/continue and select by label and field', async () => {
    for (const n of ['l1', 'l2', 'l3']) await request(c, 'POST', '/api/v1/namespaces/default/pods', { body: pod(n) });
    const p1 = (await request(c, 'GET', '/api/v1/namespaces/default/pods?limit=2')).json<{ items: unknown[]; metadata: { continue: string } }>();
    assert.equal(p1.items.length, 2);
    const p2 = (await request(c, 'GET', `/api/v1/namespaces/default/pods?limit=2&continue=${encodeURIComponent(p1.metadata.continue)}`)).json<{ items: unknown[] }>();
    assert.ok(p2.items.length >= 1);
    const onN1 = (await request(c, 'GET', '/api/v1/pods?fieldSelector=spec.nodeName%3Dn1')).json<{ items: { metadata: { name: string } }[] }>();
    assert.deepEqual(onN1.items.map((p) => p.metadata.name), ['b1']);
    const none = (await request(c, 'GET', '/api/v1/pods?labelSelector=app%3Dnothing')).json<{ items: unknown[] }>();
    assert.equal(none.items.length, 0);
  });

  test('watch resumes from a resourceVersion and streams ADDED/MODIFIED/DELETED', async () => {
    const list = (await request(c, 'GET', '/api/v1/namespaces/default/pods')).json<{ metadata: { resourceVersion: string } }>();
    const events = watchEvents(c, `/api/v1/namespaces/default/pods?watch=true&resourceVersion=${list.metadata.resourceVersion}`, 3);
    await new Promise((r) => setTimeout(r, 200));
    await request(c, 'POST', '/api/v1/namespaces/default/pods', { body: pod('w1') });
    await request(c, 'PATCH', '/api/v1/namespaces/default/pods/w1', { body: '{"metadata":{"labels":{"x":"1"}}}', contentType: 'application/merge-patch+json' });
    await request(c, 'DELETE', '/api/v1/namespaces/default/pods/w1');
    const evs = await events;
    assert.deepEqual(evs.map((e) => e.type), ['ADDED', 'MODIFIED', 'DELETED']);
    // Resume from the ADDED event's version: MODIFIED and DELETED come again.
    const rv = (evs[0]!.object.metadata as { resourceVersion: string }).resourceVersion;
    const again = await watchEvents(c, `/api/v1/namespaces/default/pods?watch=true&resourceVersion=${rv}&fieldSelector=metadata.name%3Dw1`, 2);
    assert.deepEqual(again.map((e) => e.type), ['MODIFIED', 'DELETED']);
  });

  test('a watch from a compacted resourceVersion ends with a 410 Expired ERROR event', async () => {
    const first = (await request(c, 'POST', '/api/v1/namespaces/default/pods', { body: pod('old') })).json<{ metadata: { resourceVersion: string } }>();
    await request(c, 'DELETE', '/api/v1/namespaces/default/pods/old');
    await api.storage.compact(await api.storage.currentRevision());
    const evs = await watchEvents(c, `/api/v1/namespaces/default/pods?watch=true&resourceVersion=${Number(first.metadata.resourceVersion) - 1}`, 1);
    assert.equal(evs[0]?.type, 'ERROR');
    assert.equal((evs[0]!.object as { code: number }).code, 410);
  });
});
