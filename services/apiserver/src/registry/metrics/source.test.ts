import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { RESOURCES, type Node } from '@tskube/api';
import { nullLogger } from '@tskube/log';
import { systemContext } from '../index.js';
import type { NodeSummary } from './convert.js';
import { PodMetricsRest } from './rest.js';
import { KubeletSummarySource } from './source.js';

function response(status: number, body: string): IncomingMessage {
  return Object.assign(Readable.from([Buffer.from(body)]), { statusCode: status }) as unknown as IncomingMessage;
}

const T = '2025-03-01T12:00:00Z';
const summaryOf = (node: string): NodeSummary => ({
  node: { nodeName: node, cpu: { time: T, usageNanoCores: 1e9, usageCoreNanoSeconds: 9e12 }, memory: { time: T, workingSetBytes: 1024 } },
  pods: [{ podRef: { name: `${node}-pod`, namespace: 'default' }, containers: [{ name: 'main', cpu: { time: T, usageNanoCores: 5e6, usageCoreNanoSeconds: 1e9 }, memory: { time: T, workingSetBytes: 4096 } }] }],
});
const nodeOf = (name: string, ready = true): Node => ({ metadata: { name }, status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] } });

type Behaviour = 'ok' | 'refused' | '500' | 'hang' | 'deferred';

/** Kubelets whose answers the test sets per node; 'hang' answers only by failing when the request is aborted. */
function kubelets(behaviour: Record<string, Behaviour>) {
  const calls: string[] = [];
  const deferred = new Map<string, () => void>();
  return {
    calls,
    /** Lets a 'deferred' node answer (200). */
    release: (node: string) => { deferred.get(node)?.(); deferred.delete(node); },
    get: async (n: Node, _path: string, signal?: AbortSignal): Promise<IncomingMessage> => {
      const name = n.metadata?.name ?? '';
      calls.push(name);
      switch (behaviour[name]) {
        case 'refused': throw new Error('connection refused');
        case '500': return response(500, 'boom');
        case 'hang': return new Promise((_r, reject) => signal?.addEventListener('abort', () => reject(new Error('The operation was aborted due to timeout'))));
        case 'deferred': return new Promise((resolve) => deferred.set(name, () => resolve(response(200, JSON.stringify(summaryOf(name))))));
        default: return response(200, JSON.stringify(summaryOf(name)));
      }
    },
  };
}

const flush = async (): Promise<void> => { for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r)); };

test('KubeletSummarySource: Ready nodes only, concurrent, failures skipped, one round per resolution', async () => {
  let t = 0;
  const k = kubelets({ down: 'refused', bad: '500' });
  const src = new KubeletSummarySource({
    listNodes: async () => [nodeOf('good'), nodeOf('down'), nodeOf('bad'), nodeOf('notready', false)],
    kubelets: k, logger: nullLogger(), now: () => t,
  });
  const [a, b] = await Promise.all([src.scrape(), src.scrape()]);
  assert.deepEqual([...a.summaries.keys()], ['good']);
  assert.deepEqual([...b.summaries.keys()], ['good']);
  assert.deepEqual([...k.calls].sort(), ['bad', 'down', 'good'], 'one round for both requests; the NotReady node is not asked');
  t = 9_999;
  assert.deepEqual([...(await src.scrape()).summaries.keys()], ['good']);
  assert.equal(k.calls.length, 3, 'within the resolution: the stored figures');
  t = 10_000;
  await src.scrape();
  assert.equal(k.calls.length, 6, 'a new round after it');
});

test('KubeletSummarySource: a failed or timed-out scrape keeps that node\'s previous points and never blanks the others', async () => {
  let t = 0;
  const behaviour: Record<string, Behaviour> = { n1: 'ok', n2: 'ok', n3: 'ok' };
  const k = kubelets(behaviour);
  const src = new KubeletSummarySource({
    listNodes: async () => [nodeOf('n1'), nodeOf('n2'), nodeOf('n3')],
    kubelets: k, logger: nullLogger(), now: () => t, timeoutMs: 20, maxStaleMs: 30_000,
  });
  assert.deepEqual([...(await src.scrape()).summaries.keys()], ['n1', 'n2', 'n3']);
  behaviour.n1 = '500';
  behaviour.n2 = 'hang'; // times out after 20 ms
  t = 10_000;
  const second = await src.scrape();
  assert.deepEqual([...second.summaries.keys()].sort(), ['n1', 'n2', 'n3'], 'n1 and n2 failed: their previous points are still served');
  assert.equal(second.summaries.get('n2')?.pods?.[0]?.podRef.name, 'n2-pod');
  t = 30_000;
  assert.deepEqual([...(await src.scrape()).summaries.keys()].sort(), ['n1', 'n2', 'n3'], 'still within maxStaleMs of their last success');
  t = 40_000;
  assert.deepEqual([...(await src.scrape()).summaries.keys()], ['n3'], 'too old now: dropped');
  behaviour.n1 = 'ok';
  t = 50_000;
  assert.deepEqual([...(await src.scrape()).summaries.keys()].sort(), ['n1', 'n3'], 'back with its next successful scrape');
});

test('KubeletSummarySource: a slow kubelet does not hold the request; its late answer is stored for the next one', async () => {
  let t = 0;
  const k = kubelets({ fast: 'ok', slow: 'deferred' });
  const src = new KubeletSummarySource({ listNodes: async () => [nodeOf('fast'), nodeOf('slow')], kubelets: k, logger: nullLogger(), now: () => t, waitMs: 30 });
  const first = await src.scrape();
  assert.deepEqual([...first.summaries.keys()], ['fast'], 'answered after waitMs with what had landed');
  k.release('slow');
  await flush();
  t = 1000;
  assert.deepEqual([...(await src.scrape()).summaries.keys()].sort(), ['fast', 'slow'], 'the late answer, without a new round');
  assert.deepEqual([...k.calls].sort(), ['fast', 'slow']);
});

test('KubeletSummarySource: while a round waits for a slow kubelet, no second round starts', async () => {
  let t = 0;
  const k = kubelets({ a: 'ok', b: 'deferred' });
  const src = new KubeletSummarySource({ listNodes: async () => [nodeOf('a'), nodeOf('b')], kubelets: k, logger: nullLogger(), now: () => t, waitMs: 10 });
  await src.scrape();
  t = 10_000;
  assert.deepEqual([...(await src.scrape()).summaries.keys()], ['a']);
  assert.deepEqual([...k.calls].sort(), ['a', 'b'], 'b asked once, a not asked again meanwhile');
  k.release('b');
  await flush();
  assert.deepEqual([...(await src.scrape()).summaries.keys()].sort(), ['a', 'b'], 'b landed, and the next round started');
  assert.deepEqual([...k.calls].sort(), ['a', 'a', 'b', 'b']);
});

test('KubeletSummarySource: nodes no longer Ready lose their points; a failed node listing is retried, not cached', async () => {
  let t = 0;
  let ready = true;
  let listFails = false;
  const k = kubelets({});
  const src = new KubeletSummarySource({
    listNodes: async () => { if (listFails) throw new Error('etcd down'); return [nodeOf('a'), nodeOf('b', ready)]; },
    kubelets: k, logger: nullLogger(), now: () => t,
  });
  assert.deepEqual([...(await src.scrape()).summaries.keys()].sort(), ['a', 'b']);
  ready = false;
  t = 10_000;
  assert.deepEqual([...(await src.scrape()).summaries.keys()], ['a']);
  listFails = true;
  t = 20_000;
  await assert.rejects(src.scrape(), /etcd down/);
  listFails = false;
  t = 20_001;
  await src.scrape();
  assert.equal(k.calls.length, 4, 'the next request ran a round at once');
});

test('PodMetrics through the source: a node whose scrape times out keeps its pods listed (the HPA never sees an empty list)', async () => {
  let t = 0;
  const behaviour: Record<string, Behaviour> = { n1: 'ok', n2: 'ok' };
  const src = new KubeletSummarySource({
    listNodes: async () => [nodeOf('n1'), nodeOf('n2')], kubelets: kubelets(behaviour), logger: nullLogger(), now: () => t, timeoutMs: 20,
  });
  const pods = ['n1', 'n2'].map((n) => ({ metadata: { namespace: 'default', name: `${n}-pod`, labels: { app: 'web' } }, spec: { nodeName: n, containers: [] } }));
  const rest = new PodMetricsRest(RESOURCES.find((r) => r.group === 'metrics.k8s.io' && r.kind === 'PodMetrics')!, src, {
    getNode: async () => { throw new Error('unused'); }, listNodes: async () => [],
    getPod: async () => { throw new Error('unused'); }, listPods: async () => pods,
  });
  const ctx = { ...systemContext(nullLogger()), namespace: 'default' };
  const names = async () => (await rest.list(ctx, { labelSelector: 'app=web' })).items.map((o) => o.metadata?.name);
  assert.deepEqual(await names(), ['n1-pod', 'n2-pod']);
  behaviour.n1 = 'hang';
  behaviour.n2 = 'hang';
  t = 10_000;
  assert.deepEqual(await names(), ['n1-pod', 'n2-pod'], 'both kubelets timed out: the previous points are served');
});
