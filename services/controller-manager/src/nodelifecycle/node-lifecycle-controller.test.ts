import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { microTime, rfc3339, type Lease, type Node, type NodeCondition, type Pod } from '@tskube/api';
import { Resources } from '@tskube/client';
import { eventually, harness, settle, type Harness } from '../testing.js';
import { NodeLifecycleController, desiredTaints, reconcileTaints } from './node-lifecycle-controller.js';

const GRACE = 40_000;
const NODE_DEF = { group: '', plural: 'nodes' };
const LEASE_DEF = { group: 'coordination.k8s.io', plural: 'leases' };
const POD_DEF = { group: '', plural: 'pods' };

function node(name: string, ready: 'True' | 'False' | 'Unknown' | undefined, extra: Partial<Node['spec']> = {}, heartbeat = '2024-12-31T23:59:50Z'): Node {
  const conds: NodeCondition[] = [];
  if (ready) {
    conds.push({ type: 'Ready', status: ready, reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: heartbeat, lastTransitionTime: '2024-12-31T00:00:00Z' });
    conds.push({ type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', lastHeartbeatTime: heartbeat, lastTransitionTime: '2024-12-31T00:00:00Z' });
  }
  return {
    apiVersion: 'v1', kind: 'Node', metadata: { name, creationTimestamp: '2024-12-31T00:00:00Z' },
    spec: { taints: [{ key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' }, { key: 'dedicated', value: 'db', effect: 'NoSchedule' }], ...extra },
    status: { conditions: conds },
  };
}

function lease(name: string, renew: Date): Lease {
  return {
    apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace: 'kube-node-lease' },
    spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: microTime(renew) },
  };
}

function readyPod(name: string, nodeName: string): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' },
    spec: { nodeName, containers: [{ name: 'c', image: 'i' }] },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2024-12-31T12:00:00Z' }] },
  };
}

const taintsOf = (n: Node) => (n.spec?.taints ?? []).map((t) => `${t.key}:${t.effect}`).sort();

describe('desiredTaints / reconcileTaints', () => {
  const cases: { name: string; conds: [string, string][]; unschedulable?: boolean; want: string[] }[] = [
    { name: 'Ready=True: none', conds: [['Ready', 'True']], want: [] },
    { name: 'Ready=False: not-ready both effects', conds: [['Ready', 'False']], want: ['node.kubernetes.io/not-ready:NoExecute', 'node.kubernetes.io/not-ready:NoSchedule'] },
    { name: 'Ready=Unknown: unreachable both effects', conds: [['Ready', 'Unknown']], want: ['node.kubernetes.io/unreachable:NoExecute', 'node.kubernetes.io/unreachable:NoSchedule'] },
    { name: 'pressure conditions', conds: [['Ready', 'True'], ['MemoryPressure', 'True'], ['DiskPressure', 'True'], ['PIDPressure', 'True'], ['NetworkUnavailable', 'True']],
      want: ['node.kubernetes.io/disk-pressure:NoSchedule', 'node.kubernetes.io/memory-pressure:NoSchedule', 'node.kubernetes.io/network-unavailable:NoSchedule', 'node.kubernetes.io/pid-pressure:NoSchedule'] },
    { name: 'unschedulable', conds: [['Ready', 'True']], unschedulable: true, want: ['node.kubernetes.io/unschedulable:NoSchedule'] },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      const n: Node = { metadata: { name: 'n' }, spec: { unschedulable: tc.unschedulable }, status: { conditions: tc.conds.map(([type, status]) => ({ type, status })) } };
      assert.deepEqual(desiredTaints(n).taints.map((t) => `${t.key}:${t.effect}`).sort(), tc.want);
    });
  }

  it('keeps foreign taints and the timeAdded of kept ones; stamps added ones', () => {
    const now = new Date('2025-01-01T00:00:00Z');
    const n: Node = {
      metadata: { name: 'n' },
      spec: { taints: [{ key: 'dedicated', effect: 'NoExecute' }, { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: '2024-01-01T00:00:00Z' }] },
      status: { conditions: [{ type: 'Ready', status: 'Unknown' }] },
    };
    assert.deepEqual(reconcileTaints(n, now), [
      { key: 'dedicated', effect: 'NoExecute' },
      { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: '2024-01-01T00:00:00Z' },
      { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule', timeAdded: '2025-01-01T00:00:00Z' },
    ]);
    const done: Node = { ...n, spec: { taints: reconcileTaints(n, now) } };
    assert.equal(reconcileTaints(done, now), undefined, 'nothing to do the second time');
  });

  it('leaves NoExecute taints alone while there is no Ready condition', () => {
    const n: Node = { metadata: { name: 'n' }, spec: { taints: [{ key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' }] }, status: {} };
    assert.equal(reconcileTaints(n, new Date()), undefined);
  });
});

describe('NodeLifecycleController', () => {
  let h: Harness;
  let c: NodeLifecycleController;
  beforeEach(() => {
    h = harness();
    c = new NodeLifecycleController({
      client: h.fake, informers: h.informers, logger: h.logger, recorder: h.recorder, now: h.clock.now,
      gracePeriodMs: GRACE, startupGracePeriodMs: 60_000,
    });
  });
  afterEach(async () => { await h.stop(); });

  const getNode = (name: string) => h.fake.resource(Resources.nodes).get(name);

  it('removes the registration taint from a Ready node and waits out the grace period', async () => {
    h.fake.seed(NODE_DEF, node('n1', 'True'));
    h.fake.seed(LEASE_DEF, lease('n1', h.clock.now()));
    await h.start();
    const r = await c.reconcile('n1');
    assert.deepEqual(r, { requeueAfter: GRACE + 1 });
    const n = await getNode('n1');
    assert.deepEqual(taintsOf(n), ['dedicated:NoSchedule']);
    assert.equal(n.status?.conditions?.[0]?.status, 'True');
    assert.deepEqual(h.recorder.reasons(), ['RegisteredNode']);
  });

  it('a node whose Lease is not renewed within the grace period turns Unknown, gets the unreachable taints and its pods are marked not ready', async () => {
    h.fake.seed(NODE_DEF, node('n1', 'True'));
    h.fake.seed(LEASE_DEF, lease('n1', h.clock.now()));
    h.fake.seed(POD_DEF, readyPod('p1', 'n1'));
    h.fake.seed(POD_DEF, readyPod('elsewhere', 'n2'));
    await h.start();
    await c.reconcile('n1');
    h.clock.advance(GRACE);
    await settle();
    await c.reconcile('n1');
    assert.equal((await getNode('n1')).status?.conditions?.[0]?.status, 'True', 'exactly the grace period is still fine');
    h.clock.advance(1);
    await settle();
    assert.equal(await c.reconcile('n1'), undefined);
    const n = await getNode('n1');
    const conds = Object.fromEntries((n.status?.conditions ?? []).map((x) => [x.type, x]));
    for (const type of ['Ready', 'MemoryPressure']) {
      assert.equal(conds[type]?.status, 'Unknown');
      assert.equal(conds[type]?.reason, 'NodeStatusUnknown');
      assert.equal(conds[type]?.message, 'Kubelet stopped posting node status.');
      assert.equal(conds[type]?.lastHeartbeatTime, '2024-12-31T23:59:50Z', 'the heartbeat stays the kubelet\'s');
      assert.equal(conds[type]?.lastTransitionTime, rfc3339(h.clock.now()));
    }
    for (const type of ['DiskPressure', 'PIDPressure']) {
      assert.equal(conds[type]?.status, 'Unknown');
      assert.equal(conds[type]?.reason, 'NodeStatusNeverUpdated');
      assert.equal(conds[type]?.message, 'Kubelet never posted node status.');
    }
    await settle();
    await c.reconcile('n1'); // the taints follow the (now cached) status
    const tainted = await getNode('n1');
    assert.deepEqual(taintsOf(tainted), ['dedicated:NoSchedule', 'node.kubernetes.io/unreachable:NoExecute', 'node.kubernetes.io/unreachable:NoSchedule']);
    assert.equal(tainted.spec?.taints?.find((t) => t.effect === 'NoExecute')?.timeAdded, rfc3339(h.clock.now()));
    const p1 = await h.fake.resource(Resources.pods).get('default', 'p1');
    assert.equal(p1.status?.conditions?.find((x) => x.type === 'Ready')?.status, 'False');
    const other = await h.fake.resource(Resources.pods).get('default', 'elsewhere');
    assert.equal(other.status?.conditions?.find((x) => x.type === 'Ready')?.status, 'True');
    assert.deepEqual(h.recorder.events.map((e) => [e.object, e.reason, e.message]), [
      ['n1', 'RegisteredNode', 'Node n1 event: Registered Node n1 in Controller'],
      ['n1', 'NodeNotReady', 'Node n1 status is now: NodeNotReady'],
      ['default/p1', 'NodeNotReady', 'Node is not ready'],
    ]);
  });

  it('a renewed Lease keeps the node healthy past the original deadline', async () => {
    h.fake.seed(NODE_DEF, node('n1', 'True'));
    h.fake.seed(LEASE_DEF, lease('n1', h.clock.now()));
    await h.start();
    await c.reconcile('n1');
    h.clock.advance(30_000);
    const cur = await h.fake.resource(Resources.leases).get('kube-node-lease', 'n1');
    await h.fake.resource(Resources.leases).update({ ...cur, spec: { ...cur.spec, renewTime: microTime(h.clock.now()) } });
    await eventually(() => assert.equal(c.queue.len() > 0, true));
    await c.reconcile('n1');
    h.clock.advance(30_000);
    const r = await c.reconcile('n1');
    assert.deepEqual(r, { requeueAfter: 10_001 });
    assert.equal((await getNode('n1')).status?.conditions?.[0]?.status, 'True');
  });

  it('a node that never posted a Ready condition gets the startup grace period from its creation', async () => {
    const n = node('n1', undefined);
    h.fake.seed(NODE_DEF, { ...n, metadata: { ...n.metadata, creationTimestamp: rfc3339(h.clock.now()) } });
    await h.start();
    assert.deepEqual(await c.reconcile('n1'), { requeueAfter: 60_001 });
    h.clock.advance(60_001);
    await c.reconcile('n1');
    const got = await getNode('n1');
    const ready = got.status?.conditions?.find((x) => x.type === 'Ready');
    assert.equal(ready?.status, 'Unknown');
    assert.equal(ready?.reason, 'NodeStatusNeverUpdated');
  });

  it('Ready=False from the kubelet gives the not-ready taints; Ready=True again removes them', async () => {
    h.fake.seed(NODE_DEF, node('n1', 'False'));
    h.fake.seed(LEASE_DEF, lease('n1', h.clock.now()));
    await h.start();
    await c.reconcile('n1');
    assert.deepEqual(taintsOf(await getNode('n1')), ['dedicated:NoSchedule', 'node.kubernetes.io/not-ready:NoExecute', 'node.kubernetes.io/not-ready:NoSchedule']);
    const cur = await getNode('n1');
    await h.fake.resource(Resources.nodes).updateStatus({ ...cur, status: node('n1', 'True', {}, '2025-01-01T00:00:05Z').status });
    await eventually(() => assert.equal(c.queue.len() > 0, true));
    await settle();
    await c.reconcile('n1');
    assert.deepEqual(taintsOf(await getNode('n1')), ['dedicated:NoSchedule']);
  });

  it('a pod bound to a not-ready node is marked not ready', async () => {
    h.fake.seed(NODE_DEF, node('n1', 'False'));
    h.fake.seed(LEASE_DEF, lease('n1', h.clock.now()));
    await h.start();
    await c.reconcile('n1');
    h.fake.seed(POD_DEF, readyPod('late', 'n1'));
    await eventually(() => assert.equal(c.podQueue.len(), 1));
    await c.reconcilePod('default/late');
    const p = await h.fake.resource(Resources.pods).get('default', 'late');
    assert.equal(p.status?.conditions?.[0]?.status, 'False');
  });
});
