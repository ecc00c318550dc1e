import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { StatsSample } from './collector.js';
import { renderResourceMetrics } from './resource-metrics.js';
import { buildSummary, podTimesOf } from './summary.js';

const T = Date.parse('2025-03-01T12:00:00Z');
const NS = T * 1e6;
const sample: StatsSample = {
  takenAt: T,
  node: { usage: { timestamp: NS, cpuCoreNanoSeconds: 9e9, nanoCores: 1.5e9, workingSetBytes: 1 << 30, usageBytes: 2 << 30, availableBytes: 3 << 30 } },
  pods: [
    { sandboxId: 's2', name: 'zeta', namespace: 'default', uid: 'u2', usage: { timestamp: NS, cpuCoreNanoSeconds: 0, workingSetBytes: 0 }, containers: [] },
    {
      sandboxId: 's1', name: 'web', namespace: 'default', uid: 'u1',
      usage: { timestamp: NS, cpuCoreNanoSeconds: 2_500_000_000, nanoCores: 1e8, workingSetBytes: 8192, usageBytes: 9000 },
      containers: [
        { id: 'c2', name: 'side', usage: { timestamp: NS, cpuCoreNanoSeconds: 5e8, workingSetBytes: 4096 } },
        { id: 'c1', name: 'main', usage: { timestamp: NS, cpuCoreNanoSeconds: 2e9, nanoCores: 1e8, workingSetBytes: 4096 } },
      ],
    },
  ],
};

test('buildSummary: upstream Summary shape, sorted pods and containers, start times from the API', () => {
  const s = buildSummary(sample, {
    nodeName: 'n1', startedAtMs: T - 60_000,
    podTimes: (p) => (p.uid === 'u1' ? podTimesOf({ startTime: '2025-03-01T11:00:00Z', containerStatuses: [{ name: 'main', state: { running: { startedAt: '2025-03-01T11:00:05Z' } } }] }) : undefined),
  });
  assert.deepEqual(s.node, {
    nodeName: 'n1', startTime: '2025-03-01T11:59:00Z',
    cpu: { time: '2025-03-01T12:00:00Z', usageNanoCores: 1.5e9, usageCoreNanoSeconds: 9e9 },
    memory: { time: '2025-03-01T12:00:00Z', availableBytes: 3 << 30, usageBytes: 2 << 30, workingSetBytes: 1 << 30 },
  });
  assert.deepEqual(s.pods.map((p) => p.podRef), [{ name: 'web', namespace: 'default', uid: 'u1' }, { name: 'zeta', namespace: 'default', uid: 'u2' }]);
  const web = s.pods[0]!;
  assert.equal(web.startTime, '2025-03-01T11:00:00Z');
  assert.deepEqual(web.containers.map((c) => [c.name, c.startTime]), [['main', '2025-03-01T11:00:05Z'], ['side', '2025-03-01T12:00:00Z']]);
  assert.deepEqual(web.containers[0]?.cpu, { time: '2025-03-01T12:00:00Z', usageNanoCores: 1e8, usageCoreNanoSeconds: 2e9 });
  assert.equal(web.containers[1]?.cpu?.usageNanoCores, undefined, 'no rate without a previous sample');
  assert.deepEqual(web.memory, { time: '2025-03-01T12:00:00Z', usageBytes: 9000, workingSetBytes: 8192 });
  assert.equal(s.pods[1]?.startTime, '2025-03-01T12:00:00Z', 'unknown pod: the sample time');
});

test('renderResourceMetrics: upstream families, labels and per-sample timestamps', () => {
  const text = renderResourceMetrics(buildSummary(sample, { nodeName: 'n1', startedAtMs: T }));
  const lines = text.split('\n');
  for (const want of [
    '# TYPE container_cpu_usage_seconds_total counter',
    `container_cpu_usage_seconds_total{container="main",namespace="default",pod="web"} 2 ${T}`,
    `container_cpu_usage_seconds_total{container="side",namespace="default",pod="web"} 0.5 ${T}`,
    `container_memory_working_set_bytes{container="main",namespace="default",pod="web"} 4096 ${T}`,
    `container_start_time_seconds{container="main",namespace="default",pod="web"} ${T / 1000} ${T}`,
    `node_cpu_usage_seconds_total 9 ${T}`,
    `node_memory_working_set_bytes ${1 << 30} ${T}`,
    `pod_cpu_usage_seconds_total{namespace="default",pod="web"} 2.5 ${T}`,
    `pod_memory_working_set_bytes{namespace="default",pod="zeta"} 0 ${T}`,
    'resource_scrape_error 0',
  ]) assert.ok(lines.includes(want), `missing line: ${want}\n${text}`);
  const families = lines.filter((l) => l.startsWith('# TYPE')).map((l) => l.split(' ')[2]);
  assert.deepEqual(families, [...families].sort(), 'families sorted by name');
});
