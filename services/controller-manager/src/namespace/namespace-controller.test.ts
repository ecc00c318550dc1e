import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ApiError, type Namespace, type Pod } from '@tskube/api';
import { Resources } from '@tskube/client';
import { harness, type Harness } from '../testing.js';
import { failingConditions, updateConditions } from './conditions.js';
import { NamespaceController, namespacedContentResources } from './namespace-controller.js';

const NS_DEF = { group: '', plural: 'namespaces' };
const POD_DEF = { group: '', plural: 'pods' };

function ns(name: string): Namespace {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } };
}
function pod(name: string, namespace: string, extra: Partial<Pod['spec']> = {}, finalizers?: string[]): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace, ...(finalizers ? { finalizers } : {}) }, spec: { containers: [{ name: 'c', image: 'i' }], ...extra }, status: { phase: 'Running' } };
}

describe('namespace conditions', () => {
  it('reports remaining content and finalizers, and the ok variants otherwise', () => {
    const now = '2025-01-01T00:00:00Z';
    const failing = failingConditions({
      errors: ['b failed', 'a failed'],
      remaining: new Map([['pods.', 2], ['replicasets.apps', 1]]),
      finalizers: new Map([['example.com/x', 1]]),
    }, now);
    const conds = updateConditions(undefined, failing, now)!;
    const by = Object.fromEntries(conds.map((c) => [c.type, c]));
    assert.equal(conds.length, 5);
    assert.equal(by.NamespaceDeletionContentFailure?.message, 'Failed to delete all resource types, 2 remaining: a failed, b failed');
    assert.equal(by.NamespaceContentRemaining?.message, 'Some resources are remaining: pods. has 2 resource instances, replicasets.apps has 1 resource instances');
    assert.equal(by.NamespaceFinalizersRemaining?.message, 'Some finalizers are remaining: example.com/x in 1 resource instances');
    assert.equal(by.NamespaceDeletionDiscoveryFailure?.status, 'False');
    assert.equal(by.NamespaceDeletionDiscoveryFailure?.reason, 'ResourcesDiscovered');
    assert.equal(updateConditions(conds, failing, '2025-01-01T00:01:00Z'), undefined, 'unchanged');
    const cleared = updateConditions(conds, [], '2025-01-01T00:02:00Z')!;
    const rem = cleared.find((c) => c.type === 'NamespaceContentRemaining')!;
    assert.deepEqual([rem.status, rem.reason, rem.message, rem.lastTransitionTime], ['False', 'ContentRemoved', 'All content successfully removed', '2025-01-01T00:02:00Z']);
  });

  it('empties every namespaced resource that can be listed and deleted, once per group and resource', () => {
    const got = namespacedContentResources().map((d) => `${d.group}/${d.plural}`);
    for (const want of ['/pods', '/events', 'apps/replicasets', 'coordination.k8s.io/leases']) assert.ok(got.includes(want), want);
    assert.ok(!got.includes('/nodes') && !got.includes('/namespaces'), 'cluster-scoped resources are not namespace content');
    assert.equal(new Set(got).size, got.length, 'no resource twice');
  });
});

describe('NamespaceController', () => {
  let h: Harness;
  let c: NamespaceController;
  beforeEach(() => {
    h = harness();
    c = new NamespaceController({ client: h.fake, informers: h.informers, logger: h.logger, now: h.clock.now });
  });
  afterEach(async () => { await h.stop(); });

  const nsClient = () => h.fake.resource(Resources.namespaces);
  const names = async (namespace: string) => (await h.fake.resource(Resources.pods).list({ namespace })).items.map((p) => p.metadata?.name).sort();

  it('deletes the content of a terminating namespace, then finalizes it; other namespaces are untouched', async () => {
    h.fake.seed(NS_DEF, ns('doomed'));
    h.fake.seed(NS_DEF, ns('other'));
    h.fake.seed(POD_DEF, pod('a', 'doomed'));
    h.fake.seed(POD_DEF, pod('b', 'doomed'));
    h.fake.seed(POD_DEF, pod('keep', 'other'));
    await h.fake.resource(Resources.events).create('doomed', { metadata: { name: 'ev' }, involvedObject: { kind: 'Pod', name: 'a', namespace: 'doomed' } });
    await h.start();
    assert.equal(await c.reconcile('doomed'), undefined, 'not being deleted: nothing to do');
    assert.deepEqual(await names('doomed'), ['a', 'b']);
    await nsClient().delete('doomed');
    const terminating = await nsClient().get('doomed');
    assert.equal(terminating.status?.phase, 'Terminating');
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(await c.reconcile('doomed'), undefined);
    assert.deepEqual(await names('doomed'), []);
    assert.deepEqual((await h.fake.resource(Resources.events).list({ namespace: 'doomed' })).items, []);
    await assert.rejects(nsClient().get('doomed'), (e: unknown) => e instanceof ApiError && e.code === 404);
    assert.deepEqual(await names('other'), ['keep']);
    const status = h.fake.actions.filter((a) => a.verb === 'update' && a.resource === 'namespaces' && a.subresource === 'status');
    const conds = (status.at(-1)?.body as Namespace).status?.conditions ?? [];
    assert.equal(conds.find((x) => x.type === 'NamespaceContentRemaining')?.status, 'False');
  });

  it('waits for terminating pods (estimate from their grace period) and reports what remains', async () => {
    h.fake.seed(NS_DEF, { ...ns('doomed'), metadata: { name: 'doomed', deletionTimestamp: '2025-01-01T00:00:00Z' }, status: { phase: 'Terminating' } });
    h.fake.seed(POD_DEF, pod('bound', 'doomed', { nodeName: 'n1', terminationGracePeriodSeconds: 30 }));
    await h.start();
    assert.deepEqual(await c.reconcile('doomed'), { requeueAfter: 16_000 });
    const cur = await nsClient().get('doomed');
    const rem = cur.status?.conditions?.find((x) => x.type === 'NamespaceContentRemaining');
    assert.deepEqual([rem?.status, rem?.reason, rem?.message], ['True', 'SomeResourcesRemain', 'Some resources are remaining: pods. has 1 resource instances']);
    assert.deepEqual(cur.spec?.finalizers, ['kubernetes']);
    // The kubelet finishes the pod; the next pass finalizes.
    await h.fake.resource(Resources.pods).delete('doomed', 'bound', { gracePeriodSeconds: 0 });
    assert.equal(await c.reconcile('doomed'), undefined);
    await assert.rejects(nsClient().get('doomed'), (e: unknown) => e instanceof ApiError && e.code === 404);
  });

  it('content held by finalizers waits 15 s and is reported; failed deletes are errors with a condition', async () => {
    h.fake.seed(NS_DEF, { ...ns('doomed'), metadata: { name: 'doomed', deletionTimestamp: '2025-01-01T00:00:00Z' }, status: { phase: 'Terminating' } });
    h.fake.seed(POD_DEF, pod('held', 'doomed', {}, ['example.com/hold']));
    await h.start();
    assert.deepEqual(await c.reconcile('doomed'), { requeueAfter: 8_000 });
    let cur = await nsClient().get('doomed');
    assert.equal(cur.status?.conditions?.find((x) => x.type === 'NamespaceFinalizersRemaining')?.message, 'Some finalizers are remaining: example.com/hold in 1 resource instances');
    h.fake.addReactor((a) => {
      if (a.verb === 'list' && a.resource === 'leases') throw new ApiError(500, 'InternalError', 'etcd is down');
    });
    await assert.rejects(c.reconcile('doomed'), /etcd is down/);
    cur = await nsClient().get('doomed');
    assert.equal(cur.status?.conditions?.find((x) => x.type === 'NamespaceDeletionContentFailure')?.message, 'Failed to delete all resource types, 1 remaining: etcd is down');
  });
});
