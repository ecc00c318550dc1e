// The controller-manager in-process against the real apiserver (real etcd): ReplicaSets,
// garbage collection, node lifecycle and namespace deletion end to end. No scheduler or
// kubelet runs here, so pods stay Pending and unbound (their deletion is immediate).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isApiError, microTime, type Lease, type Node, type Pod, type ReplicaSet, type Toleration } from '@tskube/api';
import { Resources, type RestClient } from '@tskube/client';
import type { ControllerManager } from '@tskube/controller-manager';
import { startControlPlane, type ControlPlane } from '../support/kubelet-stack.js';
import { untilPasses } from '../support/kubectl.js';

let plane: ControlPlane | undefined;
let admin: RestClient;
let cm: ControllerManager;

const GRACE_SECONDS = 2;

const eventually = (what: string, fn: () => Promise<void> | void, timeoutMs = 15_000): Promise<void> => untilPasses(what, fn, timeoutMs, 100);

function replicaSet(name: string, namespace: string, replicas: number): ReplicaSet {
  return {
    apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name, namespace },
    spec: {
      replicas, selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'busybox:1' }] } },
    },
  };
}

async function podsOf(namespace: string, app: string): Promise<Pod[]> {
  return (await admin.resource(Resources.pods).list({ namespace, labelSelector: `app=${app}` })).items;
}

async function scale(namespace: string, name: string, replicas: number): Promise<void> {
  await admin.resource(Resources.replicaSets).patch(namespace, name, { spec: { replicas } }, 'merge');
}

async function converged(namespace: string, name: string, replicas: number): Promise<void> {
  await eventually(`${name} at ${replicas} replicas`, async () => {
    const pods = await podsOf(namespace, name);
    assert.equal(pods.length, replicas);
    const rs = await admin.resource(Resources.replicaSets).get(namespace, name);
    assert.equal(rs.status?.replicas, replicas);
    assert.equal(rs.status?.observedGeneration, rs.metadata?.generation);
  });
}

before(async () => {
  // every controller, leader-elected, node grace periods of GRACE_SECONDS
  plane = await startControlPlane({ name: 'controller-manager-it', controllerManager: { nodeGraceSeconds: GRACE_SECONDS } });
  admin = plane.admin;
  cm = plane.controllerManager!.component;
});

after(async () => {
  const reason = await plane?.controllerManager?.stop();
  await plane?.stop();
  if (plane) assert.equal(reason, 'shutdown');
});

describe('controller-manager against the apiserver', () => {
  test('leads through the Lease and serves readiness', async () => {
    const lease = await admin.resource(Resources.leases).get('kube-system', 'kube-controller-manager');
    assert.ok(lease.spec?.holderIdentity);
    const ready = await fetch(`http://127.0.0.1:${cm.healthPort}/readyz`);
    assert.equal(ready.status, 200);
  });

  test('a ReplicaSet of 3 gets exactly 3 pods owned by it', async () => {
    const rs = await admin.resource(Resources.replicaSets).create('default', replicaSet('web', 'default', 3));
    await converged('default', 'web', 3);
    await new Promise((r) => setTimeout(r, 500));
    const pods = await podsOf('default', 'web');
    assert.equal(pods.length, 3, 'still exactly 3');
    for (const p of pods) {
      assert.match(p.metadata!.name!, /^web-[a-z0-9]{5}$/);
      assert.deepEqual(p.metadata!.ownerReferences, [{
        apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: rs.metadata!.uid, controller: true, blockOwnerDeletion: true,
      }]);
    }
    await eventually('SuccessfulCreate events', async () => {
      const evs = (await admin.resource(Resources.events).list({ namespace: 'default', fieldSelector: 'involvedObject.name=web,reason=SuccessfulCreate' })).items;
      assert.equal(evs.length, 3);
      assert.match(evs[0]!.message!, /^Created pod: web-/);
    });
  });

  test('scaling to 5, through a burst of changes, and to 1 converges without surplus pods', async () => {
    await scale('default', 'web', 5);
    await converged('default', 'web', 5);
    const w = await admin.resource(Resources.pods).watch({ namespace: 'default', labelSelector: 'app=web' });
    const live = new Set<string>();
    let max = 0;
    const watching = (async () => {
      for await (const ev of w) {
        if (ev.type === 'ADDED') live.add(ev.object.metadata!.name!);
        if (ev.type === 'DELETED') live.delete(ev.object.metadata!.name!);
        max = Math.max(max, live.size);
      }
    })();
    for (const n of [2, 7, 3, 6, 5]) await scale('default', 'web', n);
    await converged('default', 'web', 5);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal((await podsOf('default', 'web')).length, 5, 'stable at 5');
    w.close();
    await watching;
    assert.ok(max <= 7, `never more pods than the largest request (7), saw ${max}`);
    await scale('default', 'web', 1);
    await converged('default', 'web', 1);
  });

  test('deleting the ReplicaSet with background propagation removes its pods', async () => {
    await admin.resource(Resources.replicaSets).delete('default', 'web', { propagationPolicy: 'Background' });
    await eventually('pods of web gone', async () => assert.deepEqual(await podsOf('default', 'web'), []));
  });

  test('deleting with orphan propagation keeps the pods, without owner references', async () => {
    await admin.resource(Resources.replicaSets).create('default', replicaSet('keep', 'default', 2));
    await converged('default', 'keep', 2);
    await admin.resource(Resources.replicaSets).delete('default', 'keep', { propagationPolicy: 'Orphan' });
    await eventually('ReplicaSet keep gone', async () => {
      await assert.rejects(admin.resource(Resources.replicaSets).get('default', 'keep'), (e: unknown) => isApiError(e, 'NotFound'));
    });
    await new Promise((r) => setTimeout(r, 1000));
    const pods = await podsOf('default', 'keep');
    assert.equal(pods.length, 2);
    for (const p of pods) assert.equal(p.metadata?.ownerReferences?.length ?? 0, 0);
    for (const p of pods) await admin.resource(Resources.pods).delete('default', p.metadata!.name!);
  });

  test('a node whose Lease went stale turns Ready=Unknown with the unreachable taints; a renewing one stays Ready', async () => {
    const stale = new Date(Date.now() - 3600_000);
    const node = (name: string): Node => ({
      apiVersion: 'v1', kind: 'Node', metadata: { name },
      spec: { taints: [{ key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' }] },
      status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: '2025-01-01T00:00:00Z', lastTransitionTime: '2025-01-01T00:00:00Z' }] },
    });
    const leases = admin.resource(Resources.leases);
    const lease = (name: string, at: Date): Lease => ({
      apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace: 'kube-node-lease' },
      spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: microTime(at) },
    });
    // Two pods already running there: one tolerates the unreachable taint for 1 s only, the
    // other gets the 300 s default (DefaultTolerationSeconds admission).
    const pods = admin.resource(Resources.pods);
    const onNode = (name: string, tolerations?: Toleration[]): Pod => ({
      apiVersion: 'v1', kind: 'Pod', metadata: { name },
      spec: { nodeName: 'stale-node', containers: [{ name: 'c', image: 'busybox:1' }], ...(tolerations ? { tolerations } : {}) },
    });
    for (const p of [onNode('impatient', [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 1 }]), onNode('patient')]) {
      const created = await pods.create('default', p);
      await pods.updateStatus({ ...created, status: { ...created.status, phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2025-01-01T00:00:00Z' }] } });
    }
    await leases.create('kube-node-lease', lease('stale-node', stale));
    await leases.create('kube-node-lease', lease('live-node', new Date()));
    await admin.resource(Resources.nodes).create(node('stale-node'));
    await admin.resource(Resources.nodes).create(node('live-node'));
    const renewing = setInterval(() => {
      void leases.get('kube-node-lease', 'live-node')
        .then((l) => leases.update({ ...l, spec: { ...l.spec, renewTime: microTime(new Date()) } }))
        .catch(() => undefined);
    }, 400);
    try {
      await eventually('stale-node Unknown and tainted', async () => {
        const n = await admin.resource(Resources.nodes).get('stale-node');
        const ready = n.status?.conditions?.find((c) => c.type === 'Ready');
        assert.equal(ready?.status, 'Unknown');
        assert.equal(ready?.reason, 'NodeStatusUnknown');
        assert.equal(ready?.message, 'Kubelet stopped posting node status.');
        const taints = (n.spec?.taints ?? []).map((t) => `${t.key}:${t.effect}`).sort();
        assert.deepEqual(taints, ['node.kubernetes.io/unreachable:NoExecute', 'node.kubernetes.io/unreachable:NoSchedule']);
        assert.ok(n.spec?.taints?.find((t) => t.effect === 'NoExecute')?.timeAdded);
      }, 15_000);
      const live = await admin.resource(Resources.nodes).get('live-node');
      assert.equal(live.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
      assert.deepEqual(live.spec?.taints ?? [], [], 'the registration taint is gone once Ready');
      await eventually('pods on the lost node marked not ready; the impatient one evicted', async () => {
        const patient = await pods.get('default', 'patient');
        assert.equal(patient.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'False');
        assert.equal(patient.metadata?.deletionTimestamp, undefined, 'tolerates for 300 s');
        const impatient = await pods.get('default', 'impatient');
        assert.ok(impatient.metadata?.deletionTimestamp, 'deleted (gracefully: no kubelet finishes it here)');
        assert.equal(impatient.status?.conditions?.find((c) => c.type === 'DisruptionTarget')?.reason, 'DeletionByTaintManager');
      });
      await eventually('NodeNotReady event', async () => {
        const evs = (await admin.resource(Resources.events).list({ namespace: 'default', fieldSelector: 'involvedObject.name=stale-node,reason=NodeNotReady' })).items;
        assert.equal(evs[0]?.message, 'Node stale-node status is now: NodeNotReady');
      });
    } finally {
      clearInterval(renewing);
      for (const name of ['patient', 'impatient']) await pods.delete('default', name, { gracePeriodSeconds: 0 }).catch(() => undefined);
    }
  });

  test('a deleted namespace is emptied and removed', async () => {
    await admin.resource(Resources.namespaces).create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'doomed' } });
    await admin.resource(Resources.replicaSets).create('doomed', replicaSet('app', 'doomed', 2));
    await admin.resource(Resources.pods).create('doomed', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'bare' }, spec: { containers: [{ name: 'c', image: 'busybox:1' }] } });
    await converged('doomed', 'app', 2);
    await admin.resource(Resources.namespaces).delete('doomed');
    const terminating = await admin.resource(Resources.namespaces).get('doomed').catch(() => undefined);
    if (terminating) assert.equal(terminating.status?.phase, 'Terminating');
    await eventually('namespace doomed removed', async () => {
      await assert.rejects(admin.resource(Resources.namespaces).get('doomed'), (e: unknown) => isApiError(e, 'NotFound'));
    }, 20_000);
    assert.deepEqual((await admin.resource(Resources.pods).list({ namespace: 'doomed' })).items, []);
    assert.deepEqual((await admin.resource(Resources.replicaSets).list({ namespace: 'doomed' })).items, []);
  });

  test('exports the workqueue metrics of every controller that had work', async () => {
    const metrics = await (await fetch(`http://127.0.0.1:${cm.healthPort}/metrics`)).text();
    for (const name of ['replicaset', 'garbage_collector_attempt_to_delete', 'node_lifecycle_controller', 'namespace']) {
      assert.match(metrics, new RegExp(`workqueue_adds_total\\{name="${name}"\\} [1-9]`));
      assert.match(metrics, new RegExp(`workqueue_depth\\{name="${name}"\\} \\d`));
      assert.match(metrics, new RegExp(`workqueue_work_duration_seconds_count\\{name="${name}"\\} [1-9]`));
    }
    assert.match(metrics, /controller_runtime_reconcile_total\{controller="replicaset-controller",result="success"\} [1-9]/);
  });
});
