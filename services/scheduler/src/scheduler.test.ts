// The whole scheduler over the in-memory FakeClient: informers, queue, cache, plugins, binding, events.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry as MetricsRegistry } from 'prom-client';
import { conflict, type Event, type Node, type Pod } from '@tskube/api';
import { FakeClient, Resources } from '@tskube/client';
import { nullLogger } from '@tskube/log';
import { buildScheduler, type SchedulerDeps } from './scheduler.js';
import type { BindPlugin, CycleState } from './framework/interface.js';
import { defaultProfile } from './framework/registry.js';
import type { ReadonlyPod } from './framework/types.js';
import { inTreeRegistry } from './plugins/index.js';
import { DefaultBinder } from './plugins/default-binder.js';
import { makeNode, makePod, notReadyTaint, type PodOptions } from './testing/builders.js';

async function waitFor<T>(what: string, f: () => Promise<T | undefined> | T | undefined, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

interface Env {
  client: FakeClient;
  healthPort: number | undefined;
  metrics: MetricsRegistry;
  stop(): Promise<void>;
  createPod(name: string, o?: PodOptions): Promise<void>;
  pod(name: string): Promise<Pod>;
  events(reason: string, name?: string): Promise<Event[]>;
}

async function start(nodes: Node[], extra: Partial<SchedulerDeps> = {}, setup?: (c: FakeClient) => Promise<void>): Promise<Env> {
  const client = new FakeClient();
  for (const n of nodes) await client.resource(Resources.nodes).create(n);
  await setup?.(client);
  const metrics = new MetricsRegistry();
  const ac = new AbortController();
  // Short backoffs keep the tests fast; their timing is unit-tested in the queue.
  const sched = buildScheduler({
    client, logger: nullLogger(), leaderElect: false, metrics,
    queue: { initialBackoffMs: 50, maxBackoffMs: 200, backoffFlushIntervalMs: 20 }, ...extra,
  });
  const running = sched.start(ac.signal);
  await waitFor('informer sync', () => sched.isReady());
  return {
    client, metrics, get healthPort() { return sched.healthPort; },
    async stop() { ac.abort(); assert.equal(await running, 'shutdown'); },
    async createPod(name, o) { await client.resource(Resources.pods).create('default', makePod(name, o) as Pod); },
    pod: (name) => client.resource(Resources.pods).get('default', name),
    async events(reason, name) {
      const all = (await client.resource(Resources.events).list({ namespace: 'default' })).items;
      return all.filter((e) => e.reason === reason && (!name || e.involvedObject.name === name));
    },
  };
}

const n = (name: string, o: Parameters<typeof makeNode>[1] = {}) => makeNode(name, { cpu: '2', memory: '4Gi', ...o }) as Node;

test('pods bind only to untainted nodes, with a Scheduled event', async () => {
  const env = await start([n('a'), n('b'), n('c', { taints: [notReadyTaint] })]);
  try {
    for (let i = 0; i < 6; i++) await env.createPod(`p${i}`, { cpu: '100m' });
    for (let i = 0; i < 6; i++) {
      const node = await waitFor(`p${i} bound`, async () => (await env.pod(`p${i}`)).spec?.nodeName);
      assert.ok(node === 'a' || node === 'b', `p${i} on ${node}`);
      const [ev] = await waitFor(`p${i} event`, async () => { const e = await env.events('Scheduled', `p${i}`); return e.length ? e : undefined; });
      assert.equal(ev!.message, `Successfully assigned default/p${i} to ${node}`);
      assert.equal(ev!.type, 'Normal');
      assert.equal(ev!.source?.component, 'default-scheduler');
      assert.equal(ev!.reportingComponent, 'default-scheduler');
    }
    const text = await env.metrics.metrics();
    assert.match(text, /scheduler_schedule_attempts_total\{result="scheduled",profile="default-scheduler"\} 6/);
  } finally {
    await env.stop();
  }
});

test('a pod that fits nowhere: FailedScheduling, PodScheduled=False written once, then scheduled when a node is added', async () => {
  const env = await start([n('a'), n('b'), n('c', { taints: [notReadyTaint] })]);
  try {
    await env.createPod('huge', { cpu: '100' });
    const want = '0/3 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, 2 Insufficient cpu. '
      + 'preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.';
    const [ev] = await waitFor('FailedScheduling', async () => { const e = await env.events('FailedScheduling', 'huge'); return e.length ? e : undefined; });
    assert.equal(ev!.message, want);
    assert.equal(ev!.type, 'Warning');
    const cond = await waitFor('condition', async () => (await env.pod('huge')).status?.conditions?.find((c) => c.type === 'PodScheduled'));
    assert.deepEqual({ status: cond.status, reason: cond.reason, message: cond.message }, { status: 'False', reason: 'Unschedulable', message: want });

    // A cluster change retries it (an assigned pod goes away), the message stays: the condition is not rewritten.
    const statusWrites = () => env.client.actions.filter((a) => a.subresource === 'status' && a.name === 'huge').length;
    assert.equal(statusWrites(), 1);
    await env.createPod('small', { cpu: '100m' });
    await waitFor('small bound', async () => (await env.pod('small')).spec?.nodeName);
    await env.client.resource(Resources.pods).delete('default', 'small', { gracePeriodSeconds: 0 });
    await waitFor('second attempt', async () => (await env.metrics.getSingleMetricAsString('scheduler_schedule_attempts_total')).includes('result="unschedulable",profile="default-scheduler"} 2'), 8000);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(statusWrites(), 1, 'unchanged condition is not written again');

    // A big enough node appears: the pod is retried because of the node event, without any pod update.
    await env.client.resource(Resources.nodes).create(n('big', { cpu: '128' }));
    const node = await waitFor('huge bound', async () => (await env.pod('huge')).spec?.nodeName, 8000);
    assert.equal(node, 'big');
  } finally {
    await env.stop();
  }
});

test('back-to-back decisions never overcommit a node: assumed pods count before their binding is seen', async () => {
  // Bindings wait on a gate, so every decision is taken before any binding reaches the informer.
  let open!: () => void;
  const gate = new Promise<void>((r) => { open = r; });
  let waiting = 0;
  const registry = inTreeRegistry();
  registry.register('GatedBinder', (h) => {
    const inner = new DefaultBinder(h);
    return {
      name: 'GatedBinder',
      bind: async (state: CycleState, pod: ReadonlyPod, nodeName: string) => { waiting++; await gate; return inner.bind(state, pod, nodeName); },
    } satisfies BindPlugin;
  });
  const profile = defaultProfile();
  const env = await start([n('a', { cpu: '1' }), n('b', { cpu: '1' })], {
    registry, profile: { ...profile, plugins: [...profile.plugins.filter((p) => p.name !== 'DefaultBinder'), { name: 'GatedBinder' }] },
  });
  try {
    await Promise.all(['x', 'y', 'z'].map((name) => env.createPod(name, { cpu: '1' })));
    await waitFor('one failure', async () => ((await env.events('FailedScheduling')).length > 0 ? true : undefined));
    assert.equal(waiting, 2, 'two decisions, both waiting to bind');
    open();
    await waitFor('two bound', async () => {
      const pods = await Promise.all(['x', 'y', 'z'].map((name) => env.pod(name)));
      const nodes = pods.map((p) => p.spec?.nodeName).filter(Boolean).sort();
      return nodes.length === 2 ? nodes : undefined;
    }).then((nodes) => assert.deepEqual(nodes, ['a', 'b']));
    const [fail] = await env.events('FailedScheduling');
    assert.equal(fail!.message, '0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.');
  } finally {
    await env.stop();
  }
});

test('a binding conflict drops the pod silently; other API errors retry it', async () => {
  const env = await start([n('a')]);
  try {
    let failWith: 'conflict' | 'error' | undefined = 'conflict';
    env.client.addReactor((a) => {
      if (a.subresource !== 'binding' || !failWith) return;
      if (failWith === 'conflict') throw conflict({ group: '', resource: 'pods/binding' }, a.name ?? '', 'pod is already assigned');
      failWith = undefined;
      throw new Error('apiserver on fire');
    });
    await env.createPod('c');
    await waitFor('binding attempt', () => (env.client.actions.some((a) => a.subresource === 'binding') ? true : undefined));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal((await env.events('FailedScheduling', 'c')).length, 0);
    assert.equal((await env.pod('c')).spec?.nodeName, undefined);

    failWith = 'error';
    await env.createPod('e');
    const [ev] = await waitFor('error event', async () => { const e = await env.events('FailedScheduling', 'e'); return e.length ? e : undefined; });
    assert.match(ev!.message ?? '', /^running Bind plugin "DefaultBinder": apiserver on fire/);
    const cond = (await env.pod('e')).status?.conditions?.find((c) => c.type === 'PodScheduled');
    assert.equal(cond?.reason, 'SchedulerError');
    assert.equal(await waitFor('e bound after backoff', async () => (await env.pod('e')).spec?.nodeName, 5000), 'a');
  } finally {
    await env.stop();
  }
});

test('pods of other schedulers and pods being deleted are not scheduled', async () => {
  const env = await start([n('a')], {}, async (client) => {
    await client.resource(Resources.pods).create('default', { ...makePod('going'), metadata: { name: 'going', namespace: 'default', finalizers: ['x/y'] } } as Pod);
    await client.resource(Resources.pods).delete('default', 'going');
  });
  try {
    assert.ok((await env.pod('going')).metadata?.deletionTimestamp);
    await env.createPod('other', { schedulerName: 'my-scheduler' });
    await env.createPod('mine');
    await waitFor('mine bound', async () => (await env.pod('mine')).spec?.nodeName);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal((await env.pod('other')).spec?.nodeName, undefined);
    assert.equal((await env.pod('going')).spec?.nodeName, undefined);
    assert.equal(env.client.actions.filter((a) => a.subresource === 'binding').length, 1);
  } finally {
    await env.stop();
  }
});

test('with leader election only the Lease holder schedules, on kube-system/kube-scheduler', async () => {
  const env = await start([n('a')], { leaderElect: true, identity: 'me_1', leaderElection: { leaseDurationMs: 1500, renewDeadlineMs: 1000, retryPeriodMs: 200 } });
  try {
    await env.createPod('p');
    await waitFor('bound', async () => (await env.pod('p')).spec?.nodeName);
    const lease = await env.client.resource(Resources.leases).get('kube-system', 'kube-scheduler');
    assert.equal(lease.spec?.holderIdentity, 'me_1');
  } finally {
    await env.stop();
  }
});

test('a pod deleted after it failed leaves the queue; assigned pod deletion frees room', async () => {
  const env = await start([n('a', { cpu: '1' })]);
  try {
    await env.createPod('first', { cpu: '1' });
    await waitFor('first bound', async () => (await env.pod('first')).spec?.nodeName);
    await env.createPod('second', { cpu: '1' });
    await waitFor('second fails', async () => ((await env.events('FailedScheduling', 'second')).length ? true : undefined));
    await env.client.resource(Resources.pods).delete('default', 'first', { gracePeriodSeconds: 0 });
    assert.equal(await waitFor('second bound', async () => (await env.pod('second')).spec?.nodeName, 5000), 'a');
  } finally {
    await env.stop();
  }
});

test('a high-priority pod preempts: victim marked and deleted, preemptor nominated, then bound; debug view', async () => {
  const env = await start([n('a', { cpu: '1' })], { healthPort: 0 });
  try {
    await env.createPod('low', { cpu: '1', priority: 1 });
    await waitFor('low bound', async () => (await env.pod('low')).spec?.nodeName);
    const lowUid = (await env.pod('low')).metadata?.uid;
    await env.createPod('high', { cpu: '1', priority: 100 });
    const highUid = (await env.pod('high')).metadata?.uid;
    // The victim is marked and gets a graceful deletion (a bound pod: 30 s, nobody finishes it here).
    const victim = await waitFor('victim deleting', async () => { const p = await env.pod('low'); return p.metadata?.deletionTimestamp ? p : undefined; });
    assert.equal(victim.metadata?.uid, lowUid);
    const nominated = await waitFor('nominatedNodeName', async () => (await env.pod('high')).status?.nominatedNodeName);
    assert.equal(nominated, 'a');
    const [ev] = await waitFor('Preempted event', async () => { const e = await env.events('Preempted', 'low'); return e.length ? e : undefined; });
    assert.equal(ev!.message, `Preempted by pod ${highUid} on node a`);
    assert.equal(ev!.type, 'Normal');
    const [failed] = await env.events('FailedScheduling', 'high');
    assert.equal(failed!.message, '0/1 nodes are available: 1 Insufficient cpu.');
    assert.equal((await env.pod('high')).spec?.nodeName, undefined, 'waits for the victim to go');
    // The "kubelet" finishes the deletion; the deletion event retries the preemptor.
    await env.client.resource(Resources.pods).delete('default', 'low', { gracePeriodSeconds: 0 });
    assert.equal(await waitFor('high bound', async () => (await env.pod('high')).spec?.nodeName, 5000), 'a');
  } finally {
    await env.stop();
  }
});

test('the debug endpoint shows each node\'s filter verdict and scores of the latest attempt', async () => {
  const env = await start([n('a'), n('b', { taints: [notReadyTaint] }), n('c')], { healthPort: 0 });
  try {
    await env.createPod('web', { cpu: '100m' });
    await waitFor('bound', async () => (await env.pod('web')).spec?.nodeName);
    await env.createPod('huge', { cpu: '100' });
    await waitFor('failed', async () => ((await env.events('FailedScheduling', 'huge')).length ? true : undefined));
    const port = env.healthPort!;
    const get = async (path: string) => { const r = await fetch(`http://127.0.0.1:${port}${path}`); return { status: r.status, body: await r.json() as Record<string, unknown> }; };
    const ok = await get('/debug/pods/default/web');
    assert.equal(ok.status, 200);
    assert.equal(ok.body.result, 'scheduled');
    const nodes = ok.body.nodes as { node: string; filter: string; plugin?: string; reasons?: string[]; score?: { total: number; plugins: Record<string, number> } }[];
    assert.deepEqual(nodes.map((x) => [x.node, x.filter]), [['a', 'passed'], ['b', 'rejected'], ['c', 'passed']]);
    assert.equal(nodes[1]!.plugin, 'TaintToleration');
    assert.deepEqual(nodes[1]!.reasons, ['node(s) had untolerated taint {node.kubernetes.io/not-ready: }']);
    assert.ok(nodes[0]!.score && 'NodeResourcesFit' in nodes[0]!.score.plugins && 'TaintToleration' in nodes[0]!.score.plugins, JSON.stringify(nodes[0]));
    assert.equal(nodes[0]!.score!.total, Object.values(nodes[0]!.score!.plugins).reduce((s, v) => s + v, 0));
    const pending = await get('/debug/pods/default/huge');
    assert.equal(pending.body.result, 'unschedulable');
    assert.equal(pending.body.pending, true);
    assert.match(String(pending.body.message), /^0\/3 nodes are available: 1 node\(s\) had untolerated taint/);
    assert.deepEqual((pending.body.nodes as { node: string; plugin?: string; reasons?: string[] }[]).map((x) => [x.node, x.plugin, x.reasons?.join()]),
      [['a', 'NodeResourcesFit', 'Insufficient cpu'], ['b', 'TaintToleration', 'node(s) had untolerated taint {node.kubernetes.io/not-ready: }'], ['c', 'NodeResourcesFit', 'Insufficient cpu']]);
    assert.equal((await get('/debug/pods/default/nope')).status, 404);
    assert.equal((await get('/debug/pods/default')).status, 400);
  } finally {
    await env.stop();
  }
});
