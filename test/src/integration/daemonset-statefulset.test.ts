// DaemonSets and StatefulSets end to end: the real apiserver (real etcd), the controller-manager
// in-process with daemonset-controller and statefulset-controller, and the scheduler (it binds
// the DaemonSet pods through their `metadata.name In [node]` affinity, and the StatefulSet
// pods anywhere). The test creates Node objects (Ready, with allocatable) and plays the kubelet:
// bound pods are reported Running and Ready, graceful deletions are finished at once. The
// pinned kubectl 1.32 checks `rollout status` reads the status fields as upstream's do.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ControllerRevision, DaemonSet, Pod, StatefulSet } from '@tskube/api';
import { Resources, type RestClient } from '@tskube/client';
import { fakeNode, startControlPlane, type ControlPlane } from '../support/kubelet-stack.js';
import { untilPasses, type Kubectl } from '../support/kubectl.js';

const NS = 'ds-sts-it';
let plane: ControlPlane | undefined;
let admin: RestClient;
let kubectl: Kubectl;

/** What the fake kubelet saw of StatefulSet `web` pods, in order. */
const firstSeen: { name: string; predecessorReady: boolean }[] = [];
const terminatingSeen: { name: string; others: string[] }[] = [];

const eventually = (what: string, fn: () => Promise<void> | void, timeoutMs = 20_000): Promise<void> => untilPasses(what, fn, timeoutMs, 150);

const runningReady = (p: Pod | undefined) => p?.status?.phase === 'Running' && !!p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

/** One pass of the fake kubelet over the namespace. */
async function drive(): Promise<void> {
  const pods = admin.resource(Resources.pods);
  const list = (await pods.list({ namespace: NS })).items;
  const byName = new Map(list.map((p) => [p.metadata!.name!, p]));
  for (const p of list) {
    const name = p.metadata!.name!;
    const m = /^web-(\d+)$/.exec(name);
    if (m && !firstSeen.some((s) => s.name === name)) {
      const k = Number(m[1]);
      firstSeen.push({ name, predecessorReady: k === 0 || runningReady(byName.get(`web-${k - 1}`)) });
    }
    if (p.metadata?.deletionTimestamp) {
      if (m && !terminatingSeen.some((s) => s.name === name)) terminatingSeen.push({ name, others: [...byName.keys()].filter((n) => n !== name && n.startsWith('web-')).sort() });
      await pods.delete(NS, name, { gracePeriodSeconds: 0 }).catch(() => undefined);
      continue;
    }
    if (!p.spec?.nodeName || p.status?.phase === 'Running') continue;
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    await pods.patchStatus(NS, name, {
      status: {
        phase: 'Running', podIP: '10.0.0.1', startTime: now,
        conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now }, { type: 'ContainersReady', status: 'True', lastTransitionTime: now }],
      },
    }, 'merge').catch(() => undefined);
  }
}

const activePods = async (app: string): Promise<Pod[]> =>
  (await admin.resource(Resources.pods).list({ namespace: NS, labelSelector: `app=${app}` })).items.filter((p) => !p.metadata?.deletionTimestamp);
const imageOf = (p: Pod) => p.spec?.containers[0]?.image;

before(async () => {
  plane = await startControlPlane({
    name: 'ds-sts-it', namespaces: [NS], nodes: ['node-a', 'node-b', 'node-c'].map((n) => fakeNode(n)),
    controllerManager: { controllers: ['daemonset-controller', 'statefulset-controller'] }, scheduler: true,
  });
  ({ admin, kubectl } = plane);
  plane.loop(drive, 100);
});

after(async () => { await plane?.stop(); });

describe('daemonset controller', () => {
  test('one pod per node, a new node gets one, a tainted node does not, an image update rolls', async () => {
    const ds: DaemonSet = {
      apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'agent', namespace: NS },
      spec: {
        selector: { matchLabels: { app: 'agent' } },
        template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'c', image: 'busybox:1' }] } },
      },
    };
    await admin.resource(Resources.daemonSets).create(NS, ds);
    const onNodes = async () => (await activePods('agent')).map((p) => p.spec?.nodeName ?? '').sort();
    await eventually('a pod bound on each node', async () => assert.deepEqual(await onNodes(), ['node-a', 'node-b', 'node-c']));
    await kubectl.ok(['-n', NS, 'rollout', 'status', 'daemonset/agent', '--timeout=30s']);
    let st = (await admin.resource(Resources.daemonSets).get(NS, 'agent')).status!;
    assert.deepEqual([st.desiredNumberScheduled, st.currentNumberScheduled, st.numberReady, st.updatedNumberScheduled, st.numberAvailable, st.numberMisscheduled],
      [3, 3, 3, 3, 3, 0]);
    for (const p of await activePods('agent')) {
      const terms = p.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
      assert.deepEqual(terms, [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [p.spec!.nodeName!] }] }]);
      assert.ok(p.spec?.tolerations?.some((t) => t.key === 'node.kubernetes.io/unreachable' && t.effect === 'NoExecute' && t.tolerationSeconds === undefined));
    }

    await admin.resource(Resources.nodes).create(fakeNode('node-d'));
    await admin.resource(Resources.nodes).create(fakeNode('node-tainted', { taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] }));
    await eventually('the new node gets a pod, the tainted one none', async () => {
      assert.deepEqual(await onNodes(), ['node-a', 'node-b', 'node-c', 'node-d']);
      assert.equal((await admin.resource(Resources.daemonSets).get(NS, 'agent')).status?.numberReady, 4);
    });

    await kubectl.ok(['-n', NS, 'set', 'image', 'daemonset/agent', 'c=busybox:2']);
    await kubectl.ok(['-n', NS, 'rollout', 'status', 'daemonset/agent', '--timeout=40s']);
    await eventually('every node runs the new image', async () => {
      const pods = await activePods('agent');
      assert.equal(pods.length, 4);
      assert.ok(pods.every((p) => imageOf(p) === 'busybox:2'));
    });
    st = (await admin.resource(Resources.daemonSets).get(NS, 'agent')).status!;
    assert.equal(st.updatedNumberScheduled, 4);
    const revs: ControllerRevision[] = (await admin.resource(Resources.controllerRevisions).list({ namespace: NS, labelSelector: 'app=agent' })).items;
    assert.deepEqual(revs.map((r) => r.revision).sort(), [1, 2]);
    const hash = revs.find((r) => r.revision === 2)!.metadata!.labels!['controller-revision-hash'];
    assert.ok((await activePods('agent')).every((p) => p.metadata?.labels?.['controller-revision-hash'] === hash));
    const history = await kubectl.ok(['-n', NS, 'rollout', 'history', 'daemonset/agent']);
    assert.match(history, /REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>/);
  });
});

describe('statefulset controller', () => {
  test('ordered creation with PVCs, scale down from the top, partitioned rolling update', async () => {
    const sts: StatefulSet = {
      apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'web', namespace: NS },
      spec: {
        replicas: 3, serviceName: 'web', selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { containers: [{ name: 'c', image: 'busybox:1', volumeMounts: [{ name: 'data', mountPath: '/data' }] }] },
        },
        volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
      },
    };
    await admin.resource(Resources.statefulSets).create(NS, sts);
    await kubectl.ok(['-n', NS, 'rollout', 'status', 'statefulset/web', '--timeout=40s']);
    await eventually('three ready replicas', async () => {
      const s = (await admin.resource(Resources.statefulSets).get(NS, 'web')).status!;
      assert.deepEqual([s.replicas, s.readyReplicas, s.currentReplicas, s.updatedReplicas, s.availableReplicas], [3, 3, 3, 3, 3]);
    });
    assert.deepEqual(firstSeen.map((s) => s.name), ['web-0', 'web-1', 'web-2'], 'created in ordinal order');
    assert.ok(firstSeen.every((s) => s.predecessorReady), 'each created only after its predecessor was Running and Ready');
    const pods = await activePods('web');
    for (const p of pods) {
      const n = p.metadata!.name!;
      assert.equal(p.spec?.hostname, n);
      assert.equal(p.spec?.subdomain, 'web');
      assert.equal(p.metadata?.labels?.['statefulset.kubernetes.io/pod-name'], n);
      assert.equal(p.metadata?.labels?.['apps.kubernetes.io/pod-index'], n.slice(4));
      assert.deepEqual(p.spec?.volumes?.find((v) => v.name === 'data')?.persistentVolumeClaim, { claimName: `data-${n}` });
    }
    const pvcs = (await admin.resource(Resources.persistentVolumeClaims).list({ namespace: NS })).items.map((c) => c.metadata!.name).sort();
    assert.deepEqual(pvcs, ['data-web-0', 'data-web-1', 'data-web-2']);
    const events = (await admin.resource(Resources.events).list({ namespace: NS, fieldSelector: 'involvedObject.name=web' })).items.map((e) => e.message);
    assert.ok(events.includes('create Pod web-0 in StatefulSet web successful'), events.join('\n'));
    assert.ok(events.includes('create Claim data-web-0 Pod web-0 in StatefulSet web success'), events.join('\n'));

    // Scale down to 1: web-2 goes first, web-1 only once web-2 is gone.
    await kubectl.ok(['-n', NS, 'scale', 'statefulset/web', '--replicas=1']);
    await eventually('scaled to one', async () => {
      const all = (await admin.resource(Resources.pods).list({ namespace: NS, labelSelector: 'app=web' })).items;
      assert.deepEqual(all.map((p) => p.metadata!.name), ['web-0']);
    });
    assert.deepEqual(terminatingSeen.map((s) => s.name), ['web-2', 'web-1']);
    assert.ok(!terminatingSeen[1]!.others.includes('web-2'), 'web-1 deleted only after web-2 was gone');
    assert.equal((await admin.resource(Resources.persistentVolumeClaims).list({ namespace: NS })).items.length, 3, 'claims are retained');

    // Back to 3, then a partitioned update: only ordinals >= 2 move to the new revision.
    await kubectl.ok(['-n', NS, 'scale', 'statefulset/web', '--replicas=3']);
    await kubectl.ok(['-n', NS, 'rollout', 'status', 'statefulset/web', '--timeout=40s']);
    await admin.resource(Resources.statefulSets).patch(NS, 'web', {
      spec: { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } }, template: { spec: { containers: [{ name: 'c', image: 'busybox:2' }] } } },
    }, 'strategic');
    const out = await kubectl.ok(['-n', NS, 'rollout', 'status', 'statefulset/web', '--timeout=40s']);
    assert.match(out, /partitioned roll out complete: 1 new pods have been updated/);
    await eventually('only web-2 updated', async () => {
      const byName = new Map((await activePods('web')).map((p) => [p.metadata!.name!, imageOf(p)]));
      assert.deepEqual([byName.get('web-0'), byName.get('web-1'), byName.get('web-2')], ['busybox:1', 'busybox:1', 'busybox:2']);
      const s = (await admin.resource(Resources.statefulSets).get(NS, 'web')).status!;
      assert.notEqual(s.currentRevision, s.updateRevision);
      assert.deepEqual([s.updatedReplicas, s.currentReplicas, s.readyReplicas], [1, 2, 3]);
    });

    // Partition 0 finishes the rollout: the update revision becomes current.
    await admin.resource(Resources.statefulSets).patch(NS, 'web', { spec: { updateStrategy: { rollingUpdate: { partition: 0 } } } }, 'strategic');
    await kubectl.ok(['-n', NS, 'rollout', 'status', 'statefulset/web', '--timeout=40s']);
    await eventually('all updated', async () => {
      assert.ok((await activePods('web')).every((p) => imageOf(p) === 'busybox:2'));
      const s = (await admin.resource(Resources.statefulSets).get(NS, 'web')).status!;
      assert.equal(s.currentRevision, s.updateRevision);
      assert.equal(s.currentReplicas, 3);
    });
  });
});
