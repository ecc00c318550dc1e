import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Pod } from '@tskube/api';
import { podMetricsOf, type NodeSummary, type SummaryCpu } from './convert.js';
import { advance, MetricsStore } from './store.js';

const at = (s: number): string => new Date(Date.UTC(2025, 2, 1, 12, 0, s)).toISOString().replace(/\.000Z$/, 'Z');
const cpu = (s: number, cumulative: number, nano?: number): SummaryCpu =>
  ({ time: at(s), usageCoreNanoSeconds: cumulative, ...(nano !== undefined ? { usageNanoCores: nano } : {}) });

test('advance: metrics-server rate rules between the stored point and the new one', () => {
  const cases: { name: string; steps: SummaryCpu[]; want: { nanoCores: number; windowMs: number } | undefined }[] = [
    { name: 'first point: no rate', steps: [cpu(0, 0)], want: undefined },
    { name: 'quarter core over 10 s', steps: [cpu(0, 1e9), cpu(10, 3.5e9)], want: { nanoCores: 250_000_000, windowMs: 10_000 } },
    { name: 'the same reading again keeps the previous point', steps: [cpu(0, 0), cpu(10, 5e9), cpu(10, 5e9)], want: { nanoCores: 500_000_000, windowMs: 10_000 } },
    { name: 'counter went back (container replaced): start over', steps: [cpu(0, 9e9), cpu(10, 1e9)], want: undefined },
    { name: 'a point no newer than the last: the previous one stays the base', steps: [cpu(0, 0), cpu(10, 1e9), cpu(5, 1e9)], want: { nanoCores: 200_000_000, windowMs: 5000 } },
    { name: 'no cumulative figure: nothing stored', steps: [{ time: at(0) }, cpu(10, 2e9)], want: undefined },
  ];
  for (const c of cases) {
    let series: Parameters<typeof advance>[0];
    let rate: ReturnType<typeof advance>['rate'];
    for (const p of c.steps) ({ series, rate } = advance(series, p));
    assert.deepEqual(rate, c.want, c.name);
  }
});

const summary = (s: number, containers: [string, number, number | undefined][], uid = 'u1'): NodeSummary => ({
  node: { nodeName: 'n1', cpu: cpu(s, s * 2e9), memory: { time: at(s), workingSetBytes: 1024 } },
  pods: [{ podRef: { namespace: 'default', name: 'web', uid }, containers: containers.map(([name, cum, nano]) => ({ name, cpu: cpu(s, cum, nano), memory: { time: at(s), workingSetBytes: 4096 } })) }],
});
const WEB: Pod = { metadata: { namespace: 'default', name: 'web', uid: 'u1' }, spec: { nodeName: 'n1', containers: [] } };
const NOW = new Date('2025-03-01T12:01:00Z');

test('MetricsStore: a pod whose kubelet lost its previous reading keeps being served, from cumulative deltas', () => {
  const store = new MetricsStore({ maxStaleMs: 30_000 });
  store.put('n1', summary(0, [['main', 10e9, 300_000_000]]), 0);
  const first = podMetricsOf(WEB, store.summaries(0).get('n1')!, { windowMs: 10_000, now: NOW });
  assert.deepEqual(first && (first as { containers: unknown }).containers, [{ name: 'main', usage: { cpu: '300m', memory: '4Ki' } }], "the kubelet's rate");
  // The kubelet restarted: figures, but no usageNanoCores (no previous reading of its own).
  store.put('n1', summary(10, [['main', 12e9, undefined]]), 10_000);
  const s = store.summaries(10_000).get('n1')!;
  const m = podMetricsOf(WEB, s, { windowMs: 10_000, now: NOW }) as { containers: unknown; window: string } | undefined;
  assert.ok(m, 'served, not dropped');
  assert.deepEqual(m.containers, [{ name: 'main', usage: { cpu: '200m', memory: '4Ki' } }], '2 s of CPU over 10 s');
  assert.equal(m.window, '10s');
  assert.equal(s.node.cpu?.usageNanoCores, 2e9, 'the node likewise');
});

test('MetricsStore: a computed rate reports its own window', () => {
  const store = new MetricsStore({ maxStaleMs: 60_000 });
  store.put('n1', summary(0, [['main', 0, undefined]]), 0);
  store.put('n1', summary(25, [['main', 5e9, undefined]]), 25_000);
  const m = podMetricsOf(WEB, store.summaries(25_000).get('n1')!, { windowMs: 10_000, now: NOW }) as { window: string; containers: unknown };
  assert.equal(m.window, '25s');
  assert.deepEqual(m.containers, [{ name: 'main', usage: { cpu: '200m', memory: '4Ki' } }]);
});

test('MetricsStore: no usable previous point, no rate (a new container, another pod of the same name)', () => {
  const store = new MetricsStore({ maxStaleMs: 60_000 });
  store.put('n1', summary(0, [['main', 1e9, 100]]), 0);
  store.put('n1', summary(10, [['main', 2e9, 100], ['side', 1e9, undefined]]), 10_000);
  assert.equal(podMetricsOf(WEB, store.summaries(10_000).get('n1')!, { windowMs: 1, now: NOW }), undefined, 'side has no rate yet');
  store.put('n1', summary(20, [['main', 3e9, undefined]], 'u2'), 20_000);
  const recreated = store.summaries(20_000).get('n1')!;
  assert.equal(recreated.pods?.[0]?.containers?.[0]?.cpu?.usageNanoCores, undefined, 'a new pod (new UID) does not inherit points');
});

test('MetricsStore: entries expire after maxStaleMs and go with their node', () => {
  const store = new MetricsStore({ maxStaleMs: 30_000 });
  store.put('n1', summary(0, [['main', 1e9, 100]]), 0);
  store.put('n2', summary(0, [['main', 1e9, 100]]), 0);
  assert.deepEqual([...store.summaries(30_000).keys()], ['n1', 'n2']);
  assert.deepEqual([...store.summaries(30_001).keys()], []);
  store.retain(new Set(['n2']));
  assert.deepEqual([...store.summaries(0).keys()], ['n2']);
});

test('MetricsStore: a windowMs sent by a kubelet is not taken', () => {
  const store = new MetricsStore({ maxStaleMs: 30_000 });
  const s = summary(0, [['main', 1e9, 100]]);
  s.pods![0]!.containers![0]!.cpu!.windowMs = 99;
  store.put('n1', s, 0);
  assert.equal(store.summaries(0).get('n1')?.pods?.[0]?.containers?.[0]?.cpu?.windowMs, undefined);
});
