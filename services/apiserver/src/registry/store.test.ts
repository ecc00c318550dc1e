import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError, type KubeObject } from '@tskube/api';
import { MemoryStorage, StorageError } from '@tskube/storage';
import { nullLogger } from '@tskube/log';
import { AdmissionChain } from '../admission/admission.js';
import { NamespaceLifecycle } from '../admission/namespace-lifecycle.js';
import { KubeletClient } from '../kubelet-client.js';
import { buildRegistry, namespaceGetter, systemContext, type ApiRegistry } from './index.js';
import type { Store } from './store.js';

function setup(): { reg: ApiRegistry; pods: Store; rs: Store; ns: Store; storage: MemoryStorage } {
  const storage = new MemoryStorage();
  let reg!: ApiRegistry;
  const admission = new AdmissionChain([], [new NamespaceLifecycle(namespaceGetter(() => reg, nullLogger()))]);
  reg = buildRegistry({ storage, admission, kubelets: new KubeletClient(), logger: nullLogger() });
  return { reg, pods: reg.store('Pod'), rs: reg.store('ReplicaSet', 'apps'), ns: reg.store('Namespace'), storage };
}

const ctx = (namespace = 'default', dryRun = false) => ({ ...systemContext(nullLogger(), namespace), dryRun });
const pod = (name: string, extra: Record<string, unknown> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'c', image: 'i:1' }] }, ...extra });
const code = (e: unknown) => (e instanceof ApiError ? `${e.code} ${e.reason}` : String(e));

async function withNamespace(s: ReturnType<typeof setup>, name = 'default') {
  await s.ns.create(ctx(''), { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
}

test('create: system metadata, defaults, status reset; AlreadyExists; missing namespace is 404', async () => {
  const s = setup();
  await withNamespace(s);
  const p = await s.pods.create(ctx(), pod('a', { status: { phase: 'Running' } }));
  assert.match(p.metadata.uid!, /^[0-9a-f-]{36}$/);
  assert.ok(p.metadata.creationTimestamp);
  assert.equal((p.status as { phase: string }).phase, 'Pending');
  assert.equal(p.metadata.namespace, 'default');
  await assert.rejects(s.pods.create(ctx(), pod('a')), (e) => code(e) === '409 AlreadyExists');
  await assert.rejects(s.pods.create(ctx('nope'), pod('b')), (e) => code(e) === '404 NotFound');
  await assert.rejects(s.pods.create(ctx(), pod('c', { metadata: { name: 'c', namespace: 'other' } })), (e) => code(e) === '400 BadRequest');
  const gen = await s.pods.create(ctx(), pod('', { metadata: { generateName: 'web-' } }));
  assert.match(gen.metadata.name!, /^web-[a-z0-9]{5}$/);
  const dry = await s.pods.create(ctx('default', true), pod('dry'));
  assert.equal(dry.metadata.name, 'dry');
  await assert.rejects(s.pods.get(ctx(), 'dry'), (e) => code(e) === '404 NotFound', 'dry run stores nothing');
});

test('update: optimistic concurrency, status split, generation on spec changes only', async () => {
  const s = setup();
  await withNamespace(s);
  const r = await s.rs.create(ctx(), { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'r' }, spec: { replicas: 1, selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i:1' }] } } } });
  assert.equal(r.metadata.generation, 1);
  const labelled = await s.rs.update(ctx(), 'r', (cur) => ({ ...cur!, metadata: { ...cur!.metadata, labels: { x: 'y' } } }));
  assert.equal(labelled.object.metadata!.generation, 1);
  const scaled = await s.rs.update(ctx(), 'r', (cur) => ({ ...cur!, spec: { ...(cur!.spec as object), replicas: 3 }, status: { replicas: 99 } }));
  assert.equal(scaled.object.metadata!.generation, 2);
  assert.deepEqual(scaled.object.status, { replicas: 0 }, 'the main resource ignores status');
  await assert.rejects(s.rs.update(ctx(), 'r', () => r), (e) => code(e) === '409 Conflict', 'stale resourceVersion');
  const status = s.reg.lookup(s.rs.def, 'status')!;
  const st = await status.update!(ctx(), 'r', (cur) => ({ ...cur!, spec: { replicas: 100 }, status: { replicas: 3 } }));
  assert.deepEqual(st.object.status, { replicas: 3 });
  assert.equal((st.object.spec as { replicas: number }).replicas, 3, '/status ignores spec');
  assert.equal(st.object.metadata!.generation, 2);
});

test('delete: finalizers and orphan propagation mark; removing the last finalizer deletes', async () => {
  const s = setup();
  await withNamespace(s);
  await s.pods.create(ctx(), pod('f', { metadata: { name: 'f', finalizers: ['example.com/hold'] } }));
  const marked = await s.pods.delete(ctx(), 'f', {});
  assert.equal(marked.deleted, false);
  assert.ok(marked.object.metadata!.deletionTimestamp);
  await s.pods.update(ctx(), 'f', (cur) => ({ ...cur!, metadata: { ...cur!.metadata, finalizers: [] } }));
  await assert.rejects(s.pods.get(ctx(), 'f'), (e) => code(e) === '404 NotFound');

  await s.pods.create(ctx(), pod('o'));
  const orphan = await s.pods.delete(ctx(), 'o', { propagationPolicy: 'Orphan' });
  assert.deepEqual(orphan.object.metadata!.finalizers, ['orphan']);

  await s.pods.create(ctx(), pod('g'));
  await assert.rejects(s.pods.delete(ctx(), 'g', { preconditions: { uid: 'nope' } }), (e) => code(e) === '409 Conflict');
  const gone = await s.pods.delete(ctx(), 'g', {});
  assert.equal(gone.deleted, true, 'an unscheduled pod goes at once');
});

test('delete: a pod on a node is deleted gracefully until grace 0', async () => {
  const s = setup();
  await withNamespace(s);
  await s.pods.create(ctx(), pod('n', { spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'i:1' }] } }));
  const marked = await s.pods.delete(ctx(), 'n', {});
  assert.equal(marked.deleted, false);
  assert.equal(marked.object.metadata!.deletionGracePeriodSeconds, 30);
  const now = await s.pods.delete(ctx(), 'n', { gracePeriodSeconds: 0 });
  assert.equal(now.deleted, true);
});

test('namespaces: deletion marks Terminating; new objects are refused; finalize removes it', async () => {
  const s = setup();
  await withNamespace(s, 'team');
  await withNamespace(s, 'default');
  await assert.rejects(s.ns.delete(ctx(''), 'default', {}), (e) => code(e) === '403 Forbidden');
  const rest = s.reg.lookup(s.ns.def, '')!;
  const r = await rest.delete!(ctx(''), 'team', {});
  assert.equal(r.deleted, false);
  assert.equal((r.object.status as { phase: string }).phase, 'Terminating');
  await assert.rejects(s.pods.create(ctx('team'), pod('x')), (e) => code(e) === '403 Forbidden');
  const fin = s.reg.lookup(s.ns.def, 'finalize')!;
  await fin.update!(ctx(''), 'team', (cur) => ({ ...cur!, spec: { finalizers: [] } }));
  await assert.rejects(s.ns.get(ctx(''), 'team'), (e) => code(e) === '404 NotFound');
});

test('lists select by label and field; unsupported field labels are 400', async () => {
  const s = setup();
  await withNamespace(s);
  await s.pods.create(ctx(), pod('a', { metadata: { name: 'a', labels: { app: 'x' } } }));
  await s.pods.create(ctx(), pod('b', { spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'i:1' }] } }));
  assert.deepEqual((await s.pods.list(ctx(), { labelSelector: 'app=x' })).items.map((p) => p.metadata!.name), ['a']);
  assert.deepEqual((await s.pods.list(ctx(), { fieldSelector: 'spec.nodeName=n1' })).items.map((p) => p.metadata!.name), ['b']);
  assert.deepEqual((await s.pods.list(ctx(''), { fieldSelector: 'metadata.namespace=default,spec.nodeName!=n1' })).items.map((p) => p.metadata!.name), ['a']);
  await assert.rejects(s.pods.list(ctx(), { fieldSelector: 'spec.image=x' }), (e) => code(e) === '400 BadRequest');
});

test('events expire after their TTL (1 h); other kinds do not', async () => {
  let now = Date.parse('2026-01-01T00:00:00Z');
  const storage = new MemoryStorage({ now: () => now });
  let reg!: ApiRegistry;
  const admission = new AdmissionChain([], [new NamespaceLifecycle(namespaceGetter(() => reg, nullLogger()))]);
  reg = buildRegistry({ storage, admission, kubelets: new KubeletClient(), logger: nullLogger() });
  await reg.store('Namespace').create(ctx(''), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
  const events = reg.store('Event');
  await events.create(ctx(), { apiVersion: 'v1', kind: 'Event', metadata: { name: 'e1' }, involvedObject: { kind: 'Pod', name: 'p', namespace: 'default' }, reason: 'R', message: 'm', type: 'Normal' });
  await reg.store('Pod').create(ctx(), pod('stays'));
  now += 59 * 60 * 1000;
  await events.get(ctx(), 'e1');
  now += 2 * 60 * 1000;
  await assert.rejects(events.get(ctx(), 'e1'), (e) => code(e) === '404 NotFound');
  await reg.store('Pod').get(ctx(), 'stays');
});

test('create: a generated name that collides is generated again (upstream RetryGenerateName, 8 attempts), then a retryable 409', async () => {
  /** Memory storage whose next `collisions` creates of generated pod names fail as if the name existed. */
  class CollidingStorage extends MemoryStorage {
    collisions = 0;
    readonly tried: string[] = [];
    override async create(key: string, obj: KubeObject, opts?: { ttlSeconds?: number }) {
      if (key.includes('/pods/default/web-')) {
        this.tried.push(key);
        if (this.collisions-- > 0) throw new StorageError('KeyExists', key, `key exists: ${key}`);
      }
      return super.create(key, obj, opts);
    }
  }
  const storage = new CollidingStorage();
  let reg!: ApiRegistry;
  const admission = new AdmissionChain([], [new NamespaceLifecycle(namespaceGetter(() => reg, nullLogger()))]);
  reg = buildRegistry({ storage, admission, kubelets: new KubeletClient(), logger: nullLogger() });
  const s = { reg, pods: reg.store('Pod'), rs: reg.store('ReplicaSet', 'apps'), ns: reg.store('Namespace'), storage };
  await withNamespace(s);
  storage.collisions = 7;
  const p = await s.pods.create(ctx(), pod('', { metadata: { generateName: 'web-' } }));
  assert.equal(storage.tried.length, 8, 'seven collisions, the eighth name is free');
  assert.equal(new Set(storage.tried).size, 8, 'a new name every attempt');
  assert.equal(storage.tried.at(-1), `/registry/pods/default/${p.metadata.name}`);
  storage.tried.length = 0;
  storage.collisions = 8;
  await assert.rejects(s.pods.create(ctx(), pod('', { metadata: { generateName: 'web-' } })), (e) =>
    e instanceof ApiError && e.code === 409 && e.reason === 'AlreadyExists' && /the server was not able to generate a unique name for the object/.test(e.message)
    && e.status.details?.retryAfterSeconds === 1);
  assert.equal(storage.tried.length, 8);
  storage.collisions = 0;
  await s.pods.create(ctx(), pod('web-fixed'));
  await assert.rejects(s.pods.create(ctx(), pod('web-fixed')), (e) => code(e) === '409 AlreadyExists', 'an explicit name is never regenerated');
});
