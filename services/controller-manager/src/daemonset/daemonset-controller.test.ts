import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { ControllerRevision, DaemonSet, Node, Pod, Taint } from '@tskube/api';
import { Resources, type FakeAction } from '@tskube/client';
import { eventually, harness, type Harness } from '../testing.js';
import { POD_REVISION_LABEL } from '../history/history.js';
import { DaemonSetController } from './daemonset-controller.js';
import { nodeShouldRunDaemonPod, replaceNodeNameAffinity, targetNodeName } from './util.js';

const DS_DEF = { group: 'apps', plural: 'daemonsets' };
const NODE_DEF = { group: '', plural: 'nodes' };
const POD_DEF = { group: '', plural: 'pods' };

function node(name: string, labels: Record<string, string> = {}, taints: Taint[] = []): Node {
  return {
    apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name, ...labels } },
    spec: taints.length ? { taints } : {},
    status: { conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

function daemonSet(name: string, extra: Partial<DaemonSet['spec']> = {}, image = 'busybox:1'): DaemonSet {
  return {
    apiVersion: 'apps/v1', kind: 'DaemonSet',
    metadata: { name, namespace: 'default', generation: 1 },
    spec: {
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image }] } },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
      revisionHistoryLimit: 10,
      ...extra,
    },
  };
}

const podCreates = (a: readonly FakeAction[]) => a.filter((x) => x.verb === 'create' && x.resource === 'pods');
const podDeletes = (a: readonly FakeAction[]) => a.filter((x) => x.verb === 'delete' && x.resource === 'pods').map((x) => x.name);

describe('DaemonSet eligibility (nodeShouldRunDaemonPod)', () => {
  const ds = daemonSet('d');
  const cases: { name: string; node: Node; ds?: DaemonSet; run: boolean; stay: boolean }[] = [
    { name: 'plain node', node: node('n'), run: true, stay: true },
    { name: 'untolerated NoSchedule taint: no new pod, existing stays', node: node('n', {}, [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }]), run: false, stay: true },
    { name: 'untolerated NoExecute taint: pod must go', node: node('n', {}, [{ key: 'dedicated', value: 'db', effect: 'NoExecute' }]), run: false, stay: false },
    { name: 'PreferNoSchedule taint is ignored', node: node('n', {}, [{ key: 'x', effect: 'PreferNoSchedule' }]), run: true, stay: true },
    { name: 'unschedulable taint tolerated by default', node: node('n', {}, [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }]), run: true, stay: true },
    { name: 'not-ready NoExecute tolerated by default', node: node('n', {}, [{ key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' }]), run: true, stay: true },
    { name: 'network-unavailable not tolerated without hostNetwork', node: node('n', {}, [{ key: 'node.kubernetes.io/network-unavailable', effect: 'NoSchedule' }]), run: false, stay: true },
    {
      name: 'network-unavailable tolerated with hostNetwork', node: node('n', {}, [{ key: 'node.kubernetes.io/network-unavailable', effect: 'NoSchedule' }]),
      ds: daemonSet('d', { template: { metadata: { labels: { app: 'd' } }, spec: { hostNetwork: true, containers: [{ name: 'c', image: 'i' }] } } }), run: true, stay: true,
    },
    { name: 'tolerated by the template', node: node('n', {}, [{ key: 'dedicated', value: 'db', effect: 'NoExecute' }]),
      ds: daemonSet('d', { template: { metadata: { labels: { app: 'd' } }, spec: { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'db' }], containers: [{ name: 'c', image: 'i' }] } } }), run: true, stay: true },
    { name: 'nodeSelector mismatch', node: node('n'), ds: daemonSet('d', { template: { metadata: { labels: { app: 'd' } }, spec: { nodeSelector: { disk: 'ssd' }, containers: [{ name: 'c', image: 'i' }] } } }), run: false, stay: false },
    { name: 'nodeSelector match', node: node('n', { disk: 'ssd' }), ds: daemonSet('d', { template: { metadata: { labels: { app: 'd' } }, spec: { nodeSelector: { disk: 'ssd' }, containers: [{ name: 'c', image: 'i' }] } } }), run: true, stay: true },
    {
      name: 'required node affinity NotIn', node: node('n', { zone: 'a' }), run: false, stay: false,
      ds: daemonSet('d', { template: { metadata: { labels: { app: 'd' } }, spec: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }] } } }, containers: [{ name: 'c', image: 'i' }] } } }),
    },
    { name: 'template pinned to another nodeName', node: node('n'), ds: daemonSet('d', { template: { metadata: { labels: { app: 'd' } }, spec: { nodeName: 'other', containers: [{ name: 'c', image: 'i' }] } } }), run: false, stay: false },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(nodeShouldRunDaemonPod(c.node, c.ds ?? ds), { shouldRun: c.run, shouldContinueRunning: c.stay });
    });
  }

  it('replaces only the required node affinity and finds the target node again', () => {
    const a = replaceNodeNameAffinity({
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'x', operator: 'Exists' }] }] },
        preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, preference: { matchExpressions: [{ key: 'y', operator: 'Exists' }] } }],
      },
    }, 'n7');
    assert.deepEqual(a.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution, { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n7'] }] }] });
    assert.equal(a.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.length, 1);
    assert.equal(targetNodeName({ spec: { containers: [], affinity: a } }), 'n7');
    assert.equal(targetNodeName({ spec: { containers: [], nodeName: 'n8', affinity: a } }), 'n8');
  });
});

describe('DaemonSetController', () => {
  let h: Harness;
  let c: DaemonSetController;
  let run: Promise<void> | undefined;
  beforeEach(() => {
    h = harness();
    c = new DaemonSetController({ client: h.fake, informers: h.informers, logger: h.logger, recorder: h.recorder, now: h.clock.now });
    run = undefined;
  });
  afterEach(async () => {
    await h.stop();
    await run;
  });

  async function start(): Promise<void> {
    await h.start();
    run = c.run(h.signal);
  }
  async function pods(): Promise<Pod[]> {
    return (await h.fake.resource(Resources.pods).list({ namespace: 'default' })).items;
  }
  async function podsByNode(): Promise<Record<string, string[]>> {
    const out: Record<string, string[]> = {};
    for (const p of await pods()) if (!p.metadata?.deletionTimestamp) (out[targetNodeName(p) ?? '?'] ??= []).push(p.metadata!.name!);
    return out;
  }
  async function getDs(name = 'd'): Promise<DaemonSet> {
    return h.fake.resource(Resources.daemonSets).get('default', name);
  }
  /** Acts as the kubelet: every pod Running and Ready (since the fake clock's now). */
  async function makeReady(filter: (p: Pod) => boolean = () => true): Promise<void> {
    for (const p of await pods()) {
      if (!filter(p) || p.status?.phase === 'Running' || p.metadata?.deletionTimestamp) continue;
      await h.fake.resource(Resources.pods).patchStatus('default', p.metadata!.name!, {
        status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: h.clock.now().toISOString() }] },
      }, 'merge');
    }
  }

  it('creates one pod per eligible node with the node affinity, default tolerations and revision hash', async () => {
    h.fake.seed(NODE_DEF, node('n1'));
    h.fake.seed(NODE_DEF, node('n2'));
    h.fake.seed(NODE_DEF, node('n3', {}, [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }]));
    h.fake.seed(NODE_DEF, node('n4', {}, [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }]));
    const ds = h.fake.seed(DS_DEF, daemonSet('d')) as unknown as DaemonSet;
    await start();
    await eventually(async () => {
      assert.deepEqual(Object.keys(await podsByNode()).sort(), ['n1', 'n2', 'n4']);
      const st = (await getDs()).status;
      assert.equal(st?.desiredNumberScheduled, 3);
      assert.equal(st?.currentNumberScheduled, 3);
      assert.equal(st?.updatedNumberScheduled, 3);
      assert.equal(st?.numberReady, 0);
      assert.equal(st?.numberUnavailable, 3);
      assert.equal(st?.observedGeneration, 1);
    });
    const revs = (await h.fake.resource(Resources.controllerRevisions).list({ namespace: 'default' })).items;
    assert.equal(revs.length, 1);
    const rev = revs[0]!;
    const hash = rev.metadata!.labels![POD_REVISION_LABEL]!;
    assert.equal(rev.metadata!.name, `d-${hash}`);
    assert.equal(rev.revision, 1);
    assert.deepEqual(rev.metadata!.ownerReferences?.map((r) => [r.kind, r.name, r.controller]), [['DaemonSet', 'd', true]]);
    assert.deepEqual((rev.data as { spec: { template: Record<string, unknown> } }).spec.template.$patch, 'replace');
    for (const p of await pods()) {
      assert.equal(p.metadata!.generateName, 'd-');
      assert.deepEqual(p.metadata!.labels, { app: 'd', [POD_REVISION_LABEL]: hash });
      assert.deepEqual(p.metadata!.ownerReferences?.map((r) => [r.kind, r.uid]), [['DaemonSet', ds.metadata!.uid]]);
      const terms = p.spec!.affinity!.nodeAffinity!.requiredDuringSchedulingIgnoredDuringExecution!.nodeSelectorTerms;
      assert.equal(terms.length, 1);
      assert.equal(terms[0]!.matchFields![0]!.key, 'metadata.name');
      const tol = p.spec!.tolerations!.map((t) => `${t.key}:${t.effect}:${t.operator}:${t.tolerationSeconds ?? '-'}`).sort();
      assert.deepEqual(tol, [
        'node.kubernetes.io/disk-pressure:NoSchedule:Exists:-',
        'node.kubernetes.io/memory-pressure:NoSchedule:Exists:-',
        'node.kubernetes.io/not-ready:NoExecute:Exists:-',
        'node.kubernetes.io/pid-pressure:NoSchedule:Exists:-',
        'node.kubernetes.io/unreachable:NoExecute:Exists:-',
        'node.kubernetes.io/unschedulable:NoSchedule:Exists:-',
      ]);
    }
    assert.equal(h.recorder.events.filter((e) => e.reason === 'SuccessfulCreate' && /^Created pod: d-/.test(e.message)).length, 3);
    // Ready pods show up in status.
    await makeReady();
    await eventually(async () => {
      const st = (await getDs()).status;
      assert.equal(st?.numberReady, 3);
      assert.equal(st?.numberAvailable, 3);
      assert.equal(st?.numberUnavailable, 0);
    });
  });

  it('follows node changes: a new node gets a pod, a label change adds or removes one, a NoExecute taint evicts, a deleted node loses its pending pod', async () => {
    h.fake.seed(NODE_DEF, node('n1', { disk: 'ssd' }));
    h.fake.seed(NODE_DEF, node('n2'));
    h.fake.seed(DS_DEF, daemonSet('d', { template: { metadata: { labels: { app: 'd' } }, spec: { nodeSelector: { disk: 'ssd' }, containers: [{ name: 'c', image: 'i' }] } } }));
    await start();
    await eventually(async () => assert.deepEqual(Object.keys(await podsByNode()), ['n1']));

    h.fake.seed(NODE_DEF, node('n3', { disk: 'ssd' }));
    await eventually(async () => assert.deepEqual(Object.keys(await podsByNode()).sort(), ['n1', 'n3']));

    await h.fake.resource(Resources.nodes).patch('n2', { metadata: { labels: { disk: 'ssd' } } }, 'merge');
    await eventually(async () => assert.deepEqual(Object.keys(await podsByNode()).sort(), ['n1', 'n2', 'n3']));

    await h.fake.resource(Resources.nodes).patch('n1', { metadata: { labels: { disk: null } } }, 'merge');
    await eventually(async () => assert.deepEqual(Object.keys(await podsByNode()).sort(), ['n2', 'n3']));

    // A NoSchedule taint leaves the running pod alone; a NoExecute one removes it.
    await h.fake.resource(Resources.nodes).patch('n2', { spec: { taints: [{ key: 'k', effect: 'NoSchedule' }] } }, 'merge');
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(Object.keys(await podsByNode()).sort(), ['n2', 'n3']);
    await h.fake.resource(Resources.nodes).patch('n2', { spec: { taints: [{ key: 'k', effect: 'NoExecute' }] } }, 'merge');
    await eventually(async () => assert.deepEqual(Object.keys(await podsByNode()), ['n3']));

    await h.fake.resource(Resources.nodes).delete('n3');
    await eventually(async () => assert.deepEqual(await podsByNode(), {}));
    await eventually(async () => {
      const st = (await getDs()).status;
      assert.equal(st?.desiredNumberScheduled, 0);
      assert.equal(st?.numberMisscheduled, 0);
    });
    assert.ok(h.recorder.reasons().includes('SuccessfulDelete'));
  });

  it('deletes extra pods on a node (keeping the oldest) and adopts a matching orphan', async () => {
    h.fake.seed(NODE_DEF, node('n1'));
    h.fake.seed(NODE_DEF, node('n2'));
    // OnDelete: the seeded pods carry no revision hash, which a RollingUpdate would replace.
    const ds = h.fake.seed(DS_DEF, daemonSet('d', { updateStrategy: { type: 'OnDelete' } })) as unknown as DaemonSet;
    const owned = (name: string, nodeName: string, ts: string): Pod => ({
      apiVersion: 'v1', kind: 'Pod',
      metadata: { name, namespace: 'default', labels: { app: 'd' }, creationTimestamp: ts, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'd', uid: ds.metadata!.uid!, controller: true }] },
      spec: { nodeName, containers: [{ name: 'c', image: 'i' }] }, status: { phase: 'Running' },
    });
    h.fake.seed(POD_DEF, owned('old', 'n1', '2024-01-01T00:00:00Z'));
    h.fake.seed(POD_DEF, owned('newer', 'n1', '2024-06-01T00:00:00Z'));
    h.fake.seed(POD_DEF, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'orphan', namespace: 'default', labels: { app: 'd' } }, spec: { nodeName: 'n2', containers: [{ name: 'c', image: 'i' }] }, status: { phase: 'Running' } });
    await start();
    await eventually(async () => {
      const got = await podsByNode();
      assert.deepEqual(got.n1, ['old']);
      assert.deepEqual(got.n2, ['orphan']);
    });
    const orphan = await h.fake.resource(Resources.pods).get('default', 'orphan');
    assert.equal(orphan.metadata!.ownerReferences?.[0]?.uid, ds.metadata!.uid);
    assert.equal(podCreates(h.fake.actions).length, 0);
  });

  it('replaces a failed pod with a FailedDaemonPod event, backing off per node', async () => {
    h.fake.seed(NODE_DEF, node('n1'));
    h.fake.seed(DS_DEF, daemonSet('d'));
    await start();
    const fail = async () => {
      const [p] = (await pods()).filter((x) => x.status?.phase !== 'Failed');
      await h.fake.resource(Resources.pods).patchStatus('default', p!.metadata!.name!, { status: { phase: 'Failed' } }, 'merge');
      return p!.metadata!.name!;
    };
    await eventually(async () => assert.equal((await pods()).length, 1));
    const first = await fail();
    await eventually(async () => {
      const names = (await pods()).map((p) => p.metadata!.name);
      assert.equal(names.length, 1);
      assert.notEqual(names[0], first);
    });
    assert.ok(h.recorder.events.some((e) => e.reason === 'FailedDaemonPod' && e.message === `Found failed daemon pod default/${first} on node n1, will try to kill it`));
    // A second failure within the 1 s backoff is left alone until the clock moves on.
    const second = await fail();
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual((await pods()).map((p) => p.metadata!.name), [second]);
    h.clock.advance(1500);
    c.queue.add('default/d');
    await eventually(async () => assert.ok(!(await pods()).some((p) => p.metadata!.name === second)));
  });

  it('rolls an image update one node at a time (maxUnavailable 1), then prunes history to the limit', async () => {
    for (const n of ['n1', 'n2', 'n3']) h.fake.seed(NODE_DEF, node(n));
    h.fake.seed(DS_DEF, daemonSet('d', { revisionHistoryLimit: 0 }));
    await start();
    await eventually(async () => assert.equal((await pods()).length, 3));
    await makeReady();
    await eventually(async () => assert.equal((await getDs()).status?.numberAvailable, 3));
    const oldNames = new Set((await pods()).map((p) => p.metadata!.name!));

    const cur = await getDs();
    cur.spec!.template.spec!.containers[0]!.image = 'busybox:2';
    await h.fake.resource(Resources.daemonSets).update(cur);
    // One old pod goes and is replaced; nothing more while the replacement is not ready.
    await eventually(async () => {
      const now = await pods();
      assert.equal(now.length, 3);
      assert.equal(now.filter((p) => !oldNames.has(p.metadata!.name!)).length, 1);
    });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(podDeletes(h.fake.actions).length, 1);
    // The "kubelet" makes replacements ready; the rollout completes.
    for (let i = 0; i < 3; i++) {
      await makeReady();
      await eventually(async () => assert.equal(podDeletes(h.fake.actions).length, Math.min(i + 2, 3)), 3000);
    }
    await makeReady();
    await eventually(async () => {
      const st = (await getDs()).status;
      assert.equal(st?.updatedNumberScheduled, 3);
      assert.equal(st?.numberAvailable, 3);
      assert.ok((await pods()).every((p) => p.spec!.containers[0]!.image === 'busybox:2'));
    });
    // revisionHistoryLimit 0: the old revision goes once no pod uses it.
    await eventually(async () => {
      const revs: ControllerRevision[] = (await h.fake.resource(Resources.controllerRevisions).list({ namespace: 'default' })).items;
      assert.deepEqual(revs.map((r) => r.revision), [2]);
    });
  });

  it('surges with maxSurge: the new pod starts next to the old one, which goes once the new one is available', async () => {
    h.fake.seed(NODE_DEF, node('n1'));
    h.fake.seed(DS_DEF, daemonSet('d', { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } } }));
    await start();
    await eventually(async () => assert.equal((await pods()).length, 1));
    await makeReady();
    const [old] = await pods();
    const cur = await getDs();
    cur.spec!.template.spec!.containers[0]!.image = 'busybox:2';
    await h.fake.resource(Resources.daemonSets).update(cur);
    await eventually(async () => assert.equal((await pods()).length, 2));
    await new Promise((r) => setTimeout(r, 50));
    assert.ok((await pods()).some((p) => p.metadata!.name === old!.metadata!.name), 'old pod kept while the new one is not available');
    await makeReady();
    await eventually(async () => {
      const now = await pods();
      assert.equal(now.length, 1);
      assert.equal(now[0]!.spec!.containers[0]!.image, 'busybox:2');
    });
  });

  it('OnDelete leaves old pods alone; a deleted pod comes back at the new revision', async () => {
    h.fake.seed(NODE_DEF, node('n1'));
    h.fake.seed(DS_DEF, daemonSet('d', { updateStrategy: { type: 'OnDelete' } }));
    await start();
    await eventually(async () => assert.equal((await pods()).length, 1));
    const cur = await getDs();
    cur.spec!.template.spec!.containers[0]!.image = 'busybox:2';
    await h.fake.resource(Resources.daemonSets).update(cur);
    await eventually(async () => assert.equal((await h.fake.resource(Resources.controllerRevisions).list({ namespace: 'default' })).items.length, 2));
    await new Promise((r) => setTimeout(r, 50));
    const [p] = await pods();
    assert.equal(p!.spec!.containers[0]!.image, 'busybox:1');
    await h.fake.resource(Resources.pods).delete('default', p!.metadata!.name!);
    await eventually(async () => {
      const now = await pods();
      assert.equal(now.length, 1);
      assert.equal(now[0]!.spec!.containers[0]!.image, 'busybox:2');
    });
  });
});
