import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isApiError, matches, parseSelector, type Node, type Pod, type ResourceDef, RESOURCES } from '@tskube/api';
import { nullLogger } from '@tskube/log';
import { systemContext } from '../index.js';
import { cpuQuantity, goDuration, memoryQuantity, nodeMetricsOf, podMetricsOf, type NodeSummary } from './convert.js';
import { NodeMetricsRest, PodMetricsRest, type MetricsObjects } from './rest.js';
import type { Scrape, SummarySource } from './source.js';

test('cpuQuantity / memoryQuantity: canonical quantities as metrics-server writes them', () => {
  const cpu: [number, string][] = [[0, '0'], [12345, '12345n'], [250_000_000, '250m'], [1_500_000, '1500u'], [2e9, '2'], [1234.6, '1235n']];
  for (const [n, want] of cpu) assert.equal(cpuQuantity(n), want, `cpu ${n}`);
  const mem: [number, string][] = [[0, '0'], [1000, '1k'], [4096, '4Ki'], [1536 * 1024, '1536Ki'], [4 * 1024 * 1024, '4Mi'], [1025, '1025']];
  for (const [n, want] of mem) assert.equal(memoryQuantity(n), want, `memory ${n}`);
});

test('goDuration: Go duration strings', () => {
  const cases: [number, string][] = [[0, '0s'], [10_000, '10s'], [1500, '1.5s'], [65_000, '1m5s'], [3_600_000, '1h0m0s'], [10_250, '10.25s']];
  for (const [ms, want] of cases) assert.equal(goDuration(ms), want);
});

const NOW = new Date('2025-03-01T12:00:10Z');
const T = '2025-03-01T12:00:00Z';
const summary = (node: string, pods: { ns: string; name: string; uid?: string; containers: [string, number | undefined, number][] }[]): NodeSummary => ({
  node: { nodeName: node, cpu: { time: T, usageNanoCores: 1_500_000_000, usageCoreNanoSeconds: 9e12 }, memory: { time: T, workingSetBytes: 2 * 1024 ** 3 } },
  pods: pods.map((p) => ({
    podRef: { name: p.name, namespace: p.ns, ...(p.uid ? { uid: p.uid } : {}) },
    containers: p.containers.map(([name, nano, ws]) => ({ name, cpu: { time: T, ...(nano === undefined ? {} : { usageNanoCores: nano }) }, memory: { time: T, workingSetBytes: ws } })),
  })),
});
const node = (name: string, labels: Record<string, string> = {}): Node => ({ metadata: { name, labels } });
const pod = (ns: string, name: string, nodeName: string, labels: Record<string, string> = {}, uid = `uid-${name}`): Pod =>
  ({ metadata: { namespace: ns, name, labels, uid }, spec: { nodeName, containers: [] } });

test('nodeMetricsOf / podMetricsOf: metrics-server shapes; incomplete figures give nothing', () => {
  const s = summary('n1', [
    { ns: 'default', name: 'web', uid: 'uid-web', containers: [['side', 1_000_000, 4096], ['main', 250_000_000, 1536 * 1024]] },
    { ns: 'default', name: 'new', containers: [['main', undefined, 4096]] },
  ]);
  assert.deepEqual(nodeMetricsOf(node('n1', { zone: 'a' }), s, { windowMs: 10_000, now: NOW }), {
    kind: 'NodeMetrics', apiVersion: 'metrics.k8s.io/v1beta1',
    metadata: { name: 'n1', creationTimestamp: '2025-03-01T12:00:10Z', labels: { zone: 'a' } },
    timestamp: T, window: '10s', usage: { cpu: '1500m', memory: '2Gi' },
  });
  assert.deepEqual(podMetricsOf(pod('default', 'web', 'n1', { app: 'web' }), s, { windowMs: 10_000, now: NOW }), {
    kind: 'PodMetrics', apiVersion: 'metrics.k8s.io/v1beta1',
    metadata: { name: 'web', namespace: 'default', creationTimestamp: '2025-03-01T12:00:10Z', labels: { app: 'web' } },
    timestamp: T, window: '10s',
    containers: [{ name: 'main', usage: { cpu: '250m', memory: '1536Ki' } }, { name: 'side', usage: { cpu: '1m', memory: '4Ki' } }],
  });
  assert.equal(podMetricsOf(pod('default', 'new', 'n1'), s, { windowMs: 1, now: NOW }), undefined, 'no CPU rate yet');
  assert.equal(podMetricsOf(pod('default', 'web', 'n1', {}, 'other-uid'), s, { windowMs: 1, now: NOW }), undefined, 'a different pod of the same name');
  assert.equal(podMetricsOf(pod('other', 'web', 'n1'), s, { windowMs: 1, now: NOW }), undefined);
});

function fixedSource(summaries: Record<string, NodeSummary>): SummarySource {
  const scrape: Scrape = { at: 0, summaries: new Map(Object.entries(summaries)) };
  return { resolutionMs: 10_000, scrape: async () => scrape };
}

function objects(nodes: Node[], pods: Pod[]): MetricsObjects {
  const sel = (s?: string) => parseSelector(s);
  const nf = (resource: string, name: string) => Object.assign(new Error(`${resource} "${name}" not found`), { code: 404 });
  return {
    getNode: async (name) => { const n = nodes.find((x) => x.metadata?.name === name); if (!n) throw nf('nodes', name); return n; },
    listNodes: async (s) => nodes.filter((n) => matches(sel(s), n.metadata?.labels ?? {})),
    getPod: async (ns, name) => { const p = pods.find((x) => x.metadata?.namespace === ns && x.metadata?.name === name); if (!p) throw nf('pods', name); return p; },
    listPods: async (ns, s) => pods.filter((p) => (!ns || p.metadata?.namespace === ns) && matches(sel(s), p.metadata?.labels ?? {})),
  };
}

const def = (kind: string): ResourceDef => RESOURCES.find((r) => r.group === 'metrics.k8s.io' && r.kind === kind)!;

test('NodeMetricsRest / PodMetricsRest: list by label selector, get, NotFound without metrics, tables', async () => {
  const src = fixedSource({
    n1: summary('n1', [
      { ns: 'default', name: 'web', containers: [['main', 250_000_000, 8192]] },
      { ns: 'default', name: 'db', containers: [['main', 5e8, 8192], ['log', 1e6, 4096]] },
      { ns: 'kube-system', name: 'dns', containers: [['main', 1e6, 4096]] },
    ]),
  });
  const objs = objects([node('n1', { role: 'a' }), node('n2', { role: 'b' })], [
    pod('default', 'web', 'n1', { app: 'web' }), pod('default', 'db', 'n1', { app: 'db' }), pod('kube-system', 'dns', 'n1', { app: 'dns' }),
    pod('default', 'pending', ''),
  ]);
  const ctx = (namespace: string) => ({ ...systemContext(nullLogger()), namespace });
  const nodesRest = new NodeMetricsRest(def('NodeMetrics'), src, objs, () => NOW);
  const podsRest = new PodMetricsRest(def('PodMetrics'), src, objs, () => NOW);

  assert.deepEqual((await nodesRest.list(ctx(''), {})).items.map((o) => o.metadata?.name), ['n1'], 'n2 has no metrics');
  assert.deepEqual((await nodesRest.list(ctx(''), { labelSelector: 'role=b' })).items, []);
  assert.equal((await nodesRest.get(ctx(''), 'n1')).kind, 'NodeMetrics');
  await assert.rejects(nodesRest.get(ctx(''), 'n2'), (e: unknown) => isApiError(e) && e.code === 404 && /nodes.metrics.k8s.io "n2" not found/.test(e.message));

  const list = await podsRest.list(ctx('default'), {});
  assert.equal(list.kind, 'PodMetricsList');
  assert.deepEqual(list.items.map((o) => o.metadata?.name), ['db', 'web']);
  assert.deepEqual((await podsRest.list(ctx(''), {})).items.map((o) => `${o.metadata?.namespace}/${o.metadata?.name}`), ['default/db', 'default/web', 'kube-system/dns']);
  assert.deepEqual((await podsRest.list(ctx('default'), { labelSelector: 'app in (web,dns)' })).items.map((o) => o.metadata?.name), ['web']);
  assert.equal((await podsRest.get(ctx('default'), 'web')).metadata?.name, 'web');
  await assert.rejects(podsRest.get(ctx('default'), 'pending'), (e: unknown) => isApiError(e) && e.code === 404);
  await assert.rejects(podsRest.watch(ctx('default'), {}), (e: unknown) => isApiError(e) && e.code === 405);

  const db = list.items[0]!;
  assert.deepEqual(podsRest.table.cells(db, NOW), ['db', '501m', '12Ki', '10s'], 'pod table sums containers');
  assert.deepEqual(podsRest.table.columns.map((c) => c.name), ['Name', 'cpu', 'memory', 'Window']);
  assert.deepEqual(nodesRest.table.cells((await nodesRest.get(ctx(''), 'n1')), NOW), ['n1', '1500m', '2Gi', '10s']);
});
