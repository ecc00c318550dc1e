import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ApiError, type Pod, type ReplicaSet } from '@tskube/api';
import { Resources, type FakeAction } from '@tskube/client';
import { eventually, harness, settle, type Harness } from '../testing.js';
import { ReplicaSetController, slowStartBatch } from './replicaset-controller.js';

const RS_DEF = { group: 'apps', plural: 'replicasets' };
const POD_DEF = { group: '', plural: 'pods' };

function replicaSet(name: string, replicas: number, extra: Partial<ReplicaSet['spec']> = {}): ReplicaSet {
  return {
    apiVersion: 'apps/v1', kind: 'ReplicaSet',
    metadata: { name, namespace: 'default', generation: 1 },
    spec: {
      replicas, selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name, tier: 'web' }, annotations: { note: 'x' } }, spec: { containers: [{ name: 'c', image: 'busybox:1' }] } },
      ...extra,
    },
  };
}

function pod(name: string, labels: Record<string, string>, extra: { owner?: ReplicaSet; deleting?: boolean; nodeName?: string } = {}): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      name, namespace: 'default', labels,
      ...(extra.owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: extra.owner.metadata!.name!, uid: extra.owner.metadata!.uid!, controller: true, blockOwnerDeletion: true }] } : {}),
      ...(extra.deleting ? { deletionTimestamp: '2025-01-01T00:00:00Z', deletionGracePeriodSeconds: 30 } : {}),
    },
    spec: { containers: [{ name: 'c', image: 'busybox:1' }], ...(extra.nodeName ? { nodeName: extra.nodeName } : {}) },
    status: { phase: 'Pending' },
  };
}

const creates = (a: readonly FakeAction[]) => a.filter((x) => x.verb === 'create' && x.resource === 'pods').length;
const deletes = (a: readonly FakeAction[]) => a.filter((x) => x.verb === 'delete' && x.resource === 'pods').map((x) => x.name);

describe('ReplicaSetController', () => {
  let h: Harness;
  let c: ReplicaSetController;
  beforeEach(() => {
    h = harness();
    c = new ReplicaSetController({ client: h.fake, informers: h.informers, logger: h.logger, recorder: h.recorder, now: h.clock.now });
  });
  afterEach(async () => { await h.stop(); });

  async function listPods(): Promise<Pod[]> {
    return (await h.fake.resource(Resources.pods).list({ namespace: 'default' })).items;
  }

  it('creates missing pods from the template with a controller reference, then reports them in status', async () => {
    const rs = h.fake.seed(RS_DEF, replicaSet('web', 3)) as unknown as ReplicaSet;
    await h.start();
    const run = c.run(h.signal);
    await eventually(async () => {
      const got = await h.fake.resource(Resources.replicaSets).get('default', 'web');
      assert.equal(got.status?.replicas, 3);
      assert.equal(got.status?.fullyLabeledReplicas, 3);
      assert.equal(got.status?.observedGeneration, 1);
    });
    const pods = await listPods();
    assert.equal(pods.length, 3);
    for (const p of pods) {
      assert.match(p.metadata!.name!, /^web-[a-z0-9]{5}$/);
      assert.equal(p.metadata!.generateName, 'web-');
      assert.deepEqual(p.metadata!.labels, { app: 'web', tier: 'web' });
      assert.deepEqual(p.metadata!.annotations, { note: 'x' });
      assert.deepEqual(p.metadata!.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: rs.metadata!.uid, controller: true, blockOwnerDeletion: true }]);
    }
    assert.deepEqual(h.recorder.events.filter((e) => e.reason === 'SuccessfulCreate').map((e) => e.message).sort(),
      pods.map((p) => `Created pod: ${p.metadata!.name}`).sort());
    await h.stop();
    await run;
  });

  it('creates in slow-start batches and stops at the first failing batch', async () => {
    const cases: { count: number; failAt?: number; calls: number; successes: number }[] = [
      { count: 7, calls: 7, successes: 7 },          // 1 + 2 + 4
      { count: 7, failAt: 2, calls: 3, successes: 2 }, // batch 1 ok, batch 2 has the failing call
      { count: 0, calls: 0, successes: 0 },
    ];
    for (const tc of cases) {
      let calls = 0;
      const r = await slowStartBatch(tc.count, 1, async () => {
        calls++;
        if (tc.failAt !== undefined && calls === tc.failAt + 1) throw new Error('quota');
      });
      assert.equal(calls, tc.calls, JSON.stringify(tc));
      assert.equal(r.successes, tc.successes);
      assert.equal(r.error !== undefined, tc.failAt !== undefined);
    }
  });

  it('expectations stop a second round while the informer has not shown the first one\'s pods', async () => {
    h.fake.seed(RS_DEF, replicaSet('web', 3));
    await h.start();
    await h.freezeCaches();   // the pod watch "lags" forever from here on
    await c.reconcile('default/web');
    await c.reconcile('default/web');
    await c.reconcile('default/web');
    assert.equal(creates(h.fake.actions), 3, 'no duplicates while the cache shows no pods');
    assert.deepEqual(c.expectations.pending('default/web'), { add: 3, del: 0 });
    // Five minutes later the expectations expire and the (still stale) cache is trusted again.
    h.clock.advance(5 * 60_000 + 1);
    await c.reconcile('default/web');
    assert.equal(creates(h.fake.actions), 6);
  });

  it('observing the created pods satisfies the expectations', async () => {
    h.fake.seed(RS_DEF, replicaSet('web', 2));
    await h.start();
    await c.reconcile('default/web');
    await eventually(() => assert.equal(c.expectations.satisfied('default/web'), true));
    await c.reconcile('default/web');
    assert.equal(creates(h.fake.actions), 2);
  });

  it('a failed create is reported, counted out of the expectations and retried', async () => {
    h.fake.seed(RS_DEF, replicaSet('web', 3));
    await h.start();
    let n = 0;
    h.fake.addReactor((a) => {
      if (a.verb === 'create' && a.resource === 'pods' && ++n === 2) throw new ApiError(403, 'Forbidden', 'pods "web-" is forbidden: exceeded quota');
    });
    await assert.rejects(c.reconcile('default/web'), /unable to create pods: pods "web-" is forbidden: exceeded quota/);
    assert.equal(creates(h.fake.actions), 3, 'batch 1 (1 pod) then batch 2 (2 pods, one failing), no batch 3');
    assert.deepEqual(h.recorder.events.filter((e) => e.type === 'Warning').map((e) => [e.reason, e.message]),
      [['FailedCreate', 'Error creating: pods "web-" is forbidden: exceeded quota']]);
    await eventually(() => assert.equal(c.expectations.satisfied('default/web'), true));
    const rs = await h.fake.resource(Resources.replicaSets).get('default', 'web');
    const cond = rs.status?.conditions?.find((x) => x.type === 'ReplicaFailure');
    assert.equal(cond?.reason, 'FailedCreate');
    await c.reconcile('default/web');
    assert.equal((await listPods()).length, 3);
  });

  it('a terminating namespace stops creation quietly', async () => {
    h.fake.seed(RS_DEF, replicaSet('web', 2));
    await h.start();
    h.fake.addReactor((a) => {
      if (a.verb === 'create' && a.resource === 'pods') {
        throw new ApiError(403, 'Forbidden', 'pods "web-" is forbidden: unable to create new content in namespace default because it is being terminated',
          { causes: [{ reason: 'NamespaceTerminating', message: 'namespace default is being terminated', field: 'metadata.namespace' }] });
      }
    });
    await c.reconcile('default/web');
    assert.deepEqual(h.recorder.reasons(), []);
    assert.equal(c.expectations.satisfied('default/web'), true);
  });

  it('scales down, deleting victims in upstream order', async () => {
    const rs = h.fake.seed(RS_DEF, replicaSet('web', 2)) as unknown as ReplicaSet;
    const running = (p: Pod, ready: boolean): Pod => ({
      ...p, status: { phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: '2024-12-31T00:00:00Z' }] },
    });
    h.fake.seed(POD_DEF, running(pod('ready-a', { app: 'web' }, { owner: rs, nodeName: 'n1' }), true));
    h.fake.seed(POD_DEF, pod('pending', { app: 'web' }, { owner: rs, nodeName: 'n2' }));
    h.fake.seed(POD_DEF, pod('unassigned', { app: 'web' }, { owner: rs }));
    h.fake.seed(POD_DEF, running(pod('not-ready', { app: 'web' }, { owner: rs, nodeName: 'n3' }), false));
    h.fake.seed(POD_DEF, running(pod('ready-b', { app: 'web' }, { owner: rs, nodeName: 'n4' }), true));
    await h.start();
    await c.reconcile('default/web');
    assert.deepEqual(deletes(h.fake.actions).sort(), ['not-ready', 'pending', 'unassigned']);
    assert.deepEqual(h.recorder.events.filter((e) => e.reason === 'SuccessfulDelete').map((e) => e.message).sort(),
      ['Deleted pod: not-ready', 'Deleted pod: pending', 'Deleted pod: unassigned']);
    await eventually(() => assert.equal(c.expectations.satisfied('default/web'), true));
    h.fake.clearActions();
    await c.reconcile('default/web');
    assert.deepEqual(deletes(h.fake.actions), []);
  });

  it('pods being deleted do not count: a replacement is created', async () => {
    const rs = h.fake.seed(RS_DEF, replicaSet('web', 1)) as unknown as ReplicaSet;
    h.fake.seed(POD_DEF, pod('going', { app: 'web' }, { owner: rs, deleting: true, nodeName: 'n1' }));
    await h.start();
    await c.reconcile('default/web');
    assert.equal(creates(h.fake.actions), 1);
  });

  it('adopts matching orphans and releases owned pods that stopped matching', async () => {
    const rs = h.fake.seed(RS_DEF, replicaSet('web', 2)) as unknown as ReplicaSet;
    h.fake.seed(POD_DEF, pod('orphan', { app: 'web' }));
    h.fake.seed(POD_DEF, pod('stray', { app: 'other' }, { owner: rs }));
    h.fake.seed(POD_DEF, pod('unrelated', { app: 'other' }));
    await h.start();
    await c.reconcile('default/web');
    const pods = await h.fake.resource(Resources.pods).list({ namespace: 'default' });
    const byName = new Map(pods.items.map((p) => [p.metadata!.name!, p]));
    assert.equal(byName.get('orphan')!.metadata!.ownerReferences?.[0]?.uid, rs.metadata!.uid);
    assert.equal(byName.get('orphan')!.metadata!.ownerReferences?.[0]?.controller, true);
    assert.equal(byName.get('stray')!.metadata!.ownerReferences, undefined, 'released');
    assert.equal(byName.get('unrelated')!.metadata!.ownerReferences, undefined);
    assert.equal(creates(h.fake.actions), 1, 'the adopted orphan counts as one of the two replicas');
  });

  it('does not adopt while the ReplicaSet is being deleted', async () => {
    const r = replicaSet('web', 2);
    h.fake.seed(RS_DEF, { ...r, metadata: { ...r.metadata, deletionTimestamp: '2025-01-01T00:00:00Z', finalizers: ['orphan'] } });
    h.fake.seed(POD_DEF, pod('orphan', { app: 'web' }));
    await h.start();
    await c.reconcile('default/web');
    const p = await h.fake.resource(Resources.pods).get('default', 'orphan');
    assert.equal(p.metadata!.ownerReferences, undefined);
    assert.equal(creates(h.fake.actions), 0);
  });

  it('writes the status only when it changed', async () => {
    h.fake.seed(RS_DEF, replicaSet('web', 0));
    await h.start();
    await c.reconcile('default/web');
    await settle();
    await eventually(async () => assert.equal((await h.fake.resource(Resources.replicaSets).get('default', 'web')).status?.observedGeneration, 1));
    await settle();
    h.fake.clearActions();
    await c.reconcile('default/web');
    assert.deepEqual(h.fake.actions.filter((a) => a.verb === 'update'), []);
  });

  it('converges under a burst of scale changes without ever exceeding the largest request', async () => {
    h.fake.seed(RS_DEF, replicaSet('web', 3));
    await h.start();
    let max = 0;
    const rsClient = h.fake.resource(Resources.replicaSets);
    const w = await h.fake.resource(Resources.pods).watch({ namespace: 'default' });
    const live = new Set<string>();
    const watching = (async () => {
      for await (const ev of w) {
        if (ev.type === 'ADDED') live.add(ev.object.metadata!.name!);
        if (ev.type === 'DELETED') live.delete(ev.object.metadata!.name!);
        max = Math.max(max, live.size);
      }
    })();
    const run = c.run(h.signal);
    for (const n of [5, 1, 7, 2, 4]) {
      const cur = await rsClient.get('default', 'web');
      await rsClient.update({ ...cur, spec: { ...cur.spec!, replicas: n } });
      await new Promise((r) => setTimeout(r, 3));
    }
    await eventually(async () => {
      assert.equal((await listPods()).length, 4);
      assert.equal((await rsClient.get('default', 'web')).status?.replicas, 4);
    });
    assert.ok(max <= 7, `at most 7 pods at once, saw ${max}`);
    w.close();
    await watching;
    await h.stop();
    await run;
  });
});
