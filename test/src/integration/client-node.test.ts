// The official @kubernetes/client-node against tskube: typed CRUD, errors as ApiException with
// Status bodies, list/watch, and its informer (list, watch, relist after a 410).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { startApiServer, type TestApiServer } from '../support/apiserver.js';
import { eventually } from '../support/kubectl.js';

let api: TestApiServer;
let kc: k8s.KubeConfig;
let core: k8s.CoreV1Api;
let apps: k8s.AppsV1Api;

before(async () => {
  // short watch lifetimes, so that informers re-watch (and meet 410s) within the test
  api = await startApiServer({ minRequestTimeoutSeconds: 2 });
  kc = new k8s.KubeConfig();
  kc.loadFromFile(api.kubeconfig);
  core = kc.makeApiClient(k8s.CoreV1Api);
  apps = kc.makeApiClient(k8s.AppsV1Api);
});
after(async () => { await api?.stop(); });

const pod = (name: string, labels: Record<string, string> = { app: 'cn' }): k8s.V1Pod => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, labels }, spec: { containers: [{ name: 'c', image: 'busybox:1' }] },
});

function statusOf(e: unknown): { code?: number; reason?: string; message?: string } {
  assert.ok(e instanceof k8s.ApiException, `expected an ApiException, got ${String(e)}`);
  return JSON.parse(String(e.body)) as { code?: number; reason?: string; message?: string };
}

test('typed CRUD on pods, namespaces and replicasets', async () => {
  const created = await core.createNamespacedPod({ namespace: 'default', body: pod('cn-a') });
  assert.equal(created.metadata?.name, 'cn-a');
  assert.equal(created.status?.phase, 'Pending');
  assert.ok(created.metadata?.creationTimestamp instanceof Date, 'client-node parsed the timestamp');
  const got = await core.readNamespacedPod({ name: 'cn-a', namespace: 'default' });
  assert.equal(got.spec?.containers[0]?.imagePullPolicy, 'IfNotPresent');
  const list = await core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=cn' });
  assert.deepEqual(list.items.map((p) => p.metadata?.name), ['cn-a']);
  assert.ok(list.metadata?.resourceVersion);
  got.metadata!.labels = { app: 'cn', v: '2' };
  const replaced = await core.replaceNamespacedPod({ name: 'cn-a', namespace: 'default', body: got });
  assert.equal(replaced.metadata?.labels?.v, '2');
  const patched = await core.patchNamespacedPod({ name: 'cn-a', namespace: 'default', body: { metadata: { labels: { v: '3' } } } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
  assert.equal(patched.metadata?.labels?.v, '3');

  await core.createNamespace({ body: { metadata: { name: 'cn-ns' } } });
  const nss = await core.listNamespace();
  assert.ok(nss.items.some((n) => n.metadata?.name === 'cn-ns' && n.status?.phase === 'Active'));

  const rs = await apps.createNamespacedReplicaSet({ namespace: 'default', body: {
    metadata: { name: 'cn-rs' },
    spec: { replicas: 2, selector: { matchLabels: { app: 'cn-rs' } }, template: { metadata: { labels: { app: 'cn-rs' } }, spec: { containers: [{ name: 'c', image: 'busybox:1' }] } } },
  } });
  assert.equal(rs.metadata?.generation, 1);
  const scale = await apps.readNamespacedReplicaSetScale({ name: 'cn-rs', namespace: 'default' });
  assert.equal(scale.spec?.replicas, 2);
  await core.deleteNamespacedPod({ name: 'cn-a', namespace: 'default' });
});

test('errors arrive as ApiException with Kubernetes Status bodies', async () => {
  await assert.rejects(core.readNamespacedPod({ name: 'missing', namespace: 'default' }), (e) => {
    const s = statusOf(e);
    return s.code === 404 && s.reason === 'NotFound' && s.message === 'pods "missing" not found';
  });
  await core.createNamespacedPod({ namespace: 'default', body: pod('cn-dup') });
  await assert.rejects(core.createNamespacedPod({ namespace: 'default', body: pod('cn-dup') }), (e) => statusOf(e).reason === 'AlreadyExists');
  await assert.rejects(core.createNamespacedPod({ namespace: 'default', body: { ...pod('cn-bad'), spec: { containers: [] } } }), (e) => {
    const s = statusOf(e) as { code?: number; details?: { causes?: { field: string }[] } };
    return s.code === 422 && s.details?.causes?.[0]?.field === 'spec.containers';
  });
  await assert.rejects(core.createNamespacedPod({ namespace: 'nope', body: pod('cn-x') }), (e) => statusOf(e).code === 404);
});

test('watch streams ADDED, MODIFIED and DELETED from a list resourceVersion', async () => {
  const list = await core.listNamespacedPod({ namespace: 'default' });
  const seen: string[] = [];
  const watch = new k8s.Watch(kc);
  const done = new Promise<void>((resolve) => {
    void watch.watch('/api/v1/namespaces/default/pods', { resourceVersion: list.metadata?.resourceVersion, fieldSelector: 'metadata.name=cn-w' },
      (phase) => { seen.push(phase); if (seen.length === 3) resolve(); }, () => resolve()).then((ac) => {
        setTimeout(() => ac.abort(), 15_000);
      });
  });
  await new Promise((r) => setTimeout(r, 200));
  await core.createNamespacedPod({ namespace: 'default', body: pod('cn-w') });
  await core.patchNamespacedPod({ name: 'cn-w', namespace: 'default', body: { metadata: { labels: { x: 'y' } } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
  await core.deleteNamespacedPod({ name: 'cn-w', namespace: 'default' });
  await done;
  assert.deepEqual(seen.slice(0, 3), ['ADDED', 'MODIFIED', 'DELETED']);
});

test('the informer lists, follows watches across server-side timeouts, and relists after a 410', async () => {
  let lists = 0;
  const listFn = () => { lists++; return core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=inf' }); };
  const informer = k8s.makeInformer(kc, '/api/v1/namespaces/default/pods', listFn, 'app=inf');
  const adds: string[] = [];
  const deletes: string[] = [];
  informer.on('add', (p) => adds.push(p.metadata?.name ?? ''));
  informer.on('delete', (p) => deletes.push(p.metadata?.name ?? ''));
  const errors: unknown[] = [];
  informer.on('error', (e) => { errors.push(e); });
  await informer.start();
  try {
    await core.createNamespacedPod({ namespace: 'default', body: pod('inf-1', { app: 'inf' }) });
    await eventually('informer add inf-1', async () => adds.includes('inf-1') || null, 15_000, 100);
    // Watches end every 2–4 s on this server: the informer re-watches from its resourceVersion.
    await new Promise((r) => setTimeout(r, 4500));
    await core.createNamespacedPod({ namespace: 'default', body: pod('inf-2', { app: 'inf' }) });
    await eventually('informer add inf-2 after a re-watch', async () => adds.includes('inf-2') || null, 15_000, 100);
    const listsBefore = lists;
    // Make the informer's resourceVersion too old: it only advances with matching events, so
    // churn on a pod it does not select (more changes than any watch-cache window holds),
    // then compact etcd. Its next re-watch gets a 410 ERROR event and it must relist.
    await core.createNamespacedPod({ namespace: 'default', body: pod('noise', { app: 'noise' }) });
    for (let i = 0; i < 1100; i++) {
      await core.patchNamespacedPod({ name: 'noise', namespace: 'default', body: { metadata: { annotations: { n: String(i) } } } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    }
    await api.storage.compact(await api.storage.currentRevision());
    await eventually('the informer relisted after a 410', async () => lists > listsBefore || null, 20_000, 100);
    await core.deleteNamespacedPod({ name: 'inf-1', namespace: 'default' });
    await core.createNamespacedPod({ namespace: 'default', body: pod('inf-3', { app: 'inf' }) });
    await eventually('informer converged after the relist', async () => {
      const names = informer.list('default').map((p) => p.metadata?.name).sort();
      return JSON.stringify(names) === JSON.stringify(['inf-2', 'inf-3']) || null;
    }, 30_000, 200);
    assert.ok(deletes.includes('inf-1'));
    process.stdout.write(`# informer lists: ${lists} (${lists - listsBefore} after compaction), errors: ${errors.length}\n`);
  } finally {
    await informer.stop();
  }
});
