// Scheduling policies against the real apiserver (etcd, HTTPS, admission) with the scheduler
// in-process: pod anti-affinity, topology spread, a pending pod scheduled when a node joins,
// priority classes and preemption, schedulerName, and the debug endpoint.
// No kubelet runs: nodes are Node objects the test creates; a tiny "kubelet" driver finishes
// graceful deletions of bound pods with grace 0, as a kubelet would once the containers stopped.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { isApiError, type Event, type Node, type Pod, type PodSpec } from '@tskube/api';
import { Resources, type RestClient } from '@tskube/client';
import type { Scheduler } from '@tskube/scheduler';
import type { RunningComponent } from '../support/control-plane.js';
import { fakeNode, startControlPlane, type ControlPlane } from '../support/kubelet-stack.js';
import { eventually } from '../support/kubectl.js';

let plane: ControlPlane | undefined;
let admin: RestClient;
let sched: RunningComponent<Scheduler>;

const node = (name: string, labels: Record<string, string> = {}, cpu = '4'): Node => fakeNode(name, { labels, cpu });

function pod(name: string, o: { labels?: Record<string, string>; cpu?: string; spec?: Partial<PodSpec> } = {}): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels: o.labels ?? {} },
    spec: { containers: [{ name: 'c', image: 'busybox:1', resources: { requests: { cpu: o.cpu ?? '100m' } } }], ...o.spec },
  };
}

const pods = () => admin.resource(Resources.pods);
const get = (name: string) => pods().get('default', name);
const boundTo = (name: string, timeoutMs = 15_000) => eventually(`${name} bound`, async () => (await get(name)).spec?.nodeName, timeoutMs, 100);

async function events(reason: string, name: string): Promise<Event[]> {
  return (await admin.resource(Resources.events).list({ namespace: 'default', fieldSelector: `involvedObject.name=${name},reason=${reason}` })).items;
}

/** Deletes every pod (grace 0) and node, so that each test starts from an empty cluster. */
async function reset(): Promise<void> {
  for (const p of (await pods().list({ namespace: 'default' })).items) await pods().delete('default', p.metadata!.name!, { gracePeriodSeconds: 0 }).catch(() => undefined);
  for (const n of (await admin.resource(Resources.nodes).list()).items) await admin.resource(Resources.nodes).delete(n.metadata!.name!);
  await eventually('cluster empty', async () => (await pods().list({ namespace: 'default' })).items.length === 0, 10_000, 100);
}

/** One pass of the "kubelet": bound pods being deleted are finished with grace 0. */
async function kubeletPass(): Promise<void> {
  for (const p of (await pods().list({ namespace: 'default' })).items) {
    if (p.metadata?.deletionTimestamp && p.spec?.nodeName) await pods().delete('default', p.metadata.name!, { gracePeriodSeconds: 0 }).catch(() => undefined);
  }
}

before(async () => {
  plane = await startControlPlane({ name: 'scheduler-policies-it', scheduler: true });
  admin = plane.admin;
  sched = plane.scheduler!;
  plane.loop(kubeletPass, 200);
});

after(async () => { await plane?.stop(); });

const antiAffinity = (app: string): PodSpec['affinity'] => ({
  podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app } }, topologyKey: 'kubernetes.io/hostname' }] },
});

test('required pod anti-affinity spreads 3 replicas over 3 nodes; a 4th waits with the upstream message; the debug endpoint explains it', async () => {
  await reset();
  for (const n of ['n1', 'n2', 'n3']) await admin.resource(Resources.nodes).create(node(n));
  for (const i of [0, 1, 2]) await pods().create('default', pod(`spread-${i}`, { labels: { app: 'spread' }, spec: { affinity: antiAffinity('spread') } }));
  const nodes = await Promise.all([0, 1, 2].map((i) => boundTo(`spread-${i}`)));
  assert.deepEqual([...nodes].sort(), ['n1', 'n2', 'n3']);

  await pods().create('default', pod('spread-3', { labels: { app: 'spread' }, spec: { affinity: antiAffinity('spread') } }));
  const want = "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules. "
    + 'preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.';
  const [ev] = await eventually('FailedScheduling', async () => { const e = await events('FailedScheduling', 'spread-3'); return e.length ? e : undefined; }, 10_000, 100);
  assert.equal(ev!.message, want);

  const port = sched.component.healthPort!;
  const res = await fetch(`http://127.0.0.1:${port}/debug/pods/default/spread-3`);
  assert.equal(res.status, 200);
  const view = await res.json() as { result: string; pending: boolean; unschedulablePlugins: string[]; nodes: { node: string; filter: string; plugin: string; reasons: string[] }[] };
  assert.equal(view.result, 'unschedulable');
  assert.equal(view.pending, true);
  assert.deepEqual(view.unschedulablePlugins, ['InterPodAffinity']);
  assert.deepEqual(view.nodes.map((x) => [x.node, x.filter, x.plugin, x.reasons.join()]).sort(),
    ['n1', 'n2', 'n3'].map((n) => [n, 'rejected', 'InterPodAffinity', "node(s) didn't match pod anti-affinity rules"]));
  const bound = await (await fetch(`http://127.0.0.1:${port}/debug/pods/default/spread-0`)).json() as { result: string; nodes: { filter: string; score?: { plugins: Record<string, number> } }[] };
  assert.equal(bound.result, 'scheduled');
  assert.ok(bound.nodes.every((x) => x.filter === 'passed'));
  assert.ok(bound.nodes.some((x) => x.score && 'NodeResourcesFit' in x.score.plugins), 'scores per plugin');

  // A fourth node joins: the waiting replica goes there (node add event, no polling).
  await admin.resource(Resources.nodes).create(node('n4'));
  assert.equal(await boundTo('spread-3'), 'n4');
});

test('a pending pod is scheduled when a matching node joins; pods for another scheduler are left alone', async () => {
  await reset();
  await admin.resource(Resources.nodes).create(node('plain'));
  await pods().create('default', pod('gpu-job', { spec: { nodeSelector: { accelerator: 'gpu' } } }));
  await pods().create('default', pod('foreign', { spec: { schedulerName: 'other-scheduler' } }));
  const [ev] = await eventually('FailedScheduling', async () => { const e = await events('FailedScheduling', 'gpu-job'); return e.length ? e : undefined; }, 10_000, 100);
  assert.equal(ev!.message, "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. "
    + 'preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.');
  await admin.resource(Resources.nodes).create(node('gpu-node', { accelerator: 'gpu' }));
  assert.equal(await boundTo('gpu-job'), 'gpu-node');
  const foreign = await get('foreign');
  assert.equal(foreign.spec?.nodeName, undefined);
  assert.equal(foreign.status?.conditions, undefined, 'no PodScheduled condition from us');
  assert.equal((await events('FailedScheduling', 'foreign')).length, 0);
});

test('topology spread constraints spread pods evenly across zones', async () => {
  await reset();
  for (const [n, z] of [['za', 'a'], ['zb', 'b'], ['zc', 'c']] as const) await admin.resource(Resources.nodes).create(node(n, { 'topology.kubernetes.io/zone': z }));
  const spec: Partial<PodSpec> = {
    topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'zs' } } }],
  };
  for (let i = 0; i < 6; i++) await pods().create('default', pod(`zs-${i}`, { labels: { app: 'zs' }, spec }));
  const placed = await Promise.all(Array.from({ length: 6 }, (_, i) => boundTo(`zs-${i}`)));
  const perNode = placed.reduce<Record<string, number>>((m, n) => ({ ...m, [n]: (m[n] ?? 0) + 1 }), {});
  assert.deepEqual(perNode, { za: 2, zb: 2, zc: 2 });

  // A zone-less node is no use to such a pod.
  await admin.resource(Resources.nodes).create(node('nozone'));
  await pods().create('default', pod('zs-6', { labels: { app: 'zs' }, spec: { ...spec, nodeSelector: { 'kubernetes.io/hostname': 'nozone' } } }));
  const [ev] = await eventually('FailedScheduling', async () => { const e = await events('FailedScheduling', 'zs-6'); return e.length ? e : undefined; }, 10_000, 100);
  assert.match(ev!.message ?? '', /1 node\(s\) didn't match pod topology spread constraints \(missing required label\)/);
});

test('priority classes resolve at admission; a high-priority pod preempts a low-priority one', async () => {
  await reset();
  const classes = admin.resource(Resources.priorityClasses);
  for (const [name, value] of [['tskube-low', 10], ['tskube-high', 1000]] as const) {
    await classes.create({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name }, value }).catch((e: unknown) => { if (!isApiError(e, 'AlreadyExists')) throw e; });
  }
  await assert.rejects(pods().create('default', pod('nope', { spec: { priorityClassName: 'no-such-class' } })),
    (e: unknown) => isApiError(e, 'Forbidden') && (e as Error).message === 'pods "nope" is forbidden: no PriorityClass with name no-such-class was found');

  await admin.resource(Resources.nodes).create(node('small', {}, '1'));
  await pods().create('default', pod('victim', { cpu: '800m', spec: { priorityClassName: 'tskube-low' } }));
  assert.equal(await boundTo('victim'), 'small');
  const victimUid = (await get('victim')).metadata?.uid;
  const created = await pods().create('default', pod('boss', { cpu: '800m', spec: { priorityClassName: 'tskube-high' } }));
  assert.equal(created.spec?.priority, 1000);
  assert.equal(created.spec?.preemptionPolicy, 'PreemptLowerPriority');

  // The preemptor is nominated; the victim is marked, reported and deleted (the driver finishes it).
  const nominated = await eventually('nominatedNodeName', async () => (await get('boss')).status?.nominatedNodeName, 15_000, 100);
  assert.equal(nominated, 'small');
  const [pre] = await eventually('Preempted event', async () => { const e = await events('Preempted', 'victim'); return e.length ? e : undefined; }, 10_000, 100);
  assert.equal(pre!.message, `Preempted by pod ${created.metadata?.uid} on node small`);
  assert.equal(pre!.involvedObject.uid, victimUid);
  assert.equal(await boundTo('boss'), 'small');
  await eventually('victim gone', async () => { try { await get('victim'); return false; } catch (e) { return isApiError(e, 'NotFound'); } }, 10_000, 100);
  const [failed] = await events('FailedScheduling', 'boss');
  assert.equal(failed!.message, '0/1 nodes are available: 1 Insufficient cpu.');
});
