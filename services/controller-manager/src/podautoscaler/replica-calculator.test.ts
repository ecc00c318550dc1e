import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSelector, rfc3339, type Pod } from '@tskube/api';
import { FakeMetricsSource, parseGoDuration, type PodMetricsObject } from './metrics-source.js';
import { ReplicaCalculator, goLabelSelector, podRequest } from './replica-calculator.js';

const NOW = Date.parse('2025-01-01T01:00:00Z');
const NS = 'default';
const SELECTOR = { sel: parseSelector('app=web'), str: 'app=web' };
const ago = (s: number) => rfc3339(new Date(NOW - s * 1000));

interface PodOpts {
  phase?: string;
  /** Ready condition status; undefined: no Ready condition. */
  ready?: 'True' | 'False' | undefined;
  startedAgo?: number;
  /** Seconds since the Ready condition last changed. */
  readyAgo?: number;
  deleting?: boolean;
  requests?: Record<string, string>;
  containers?: { name: string; requests?: Record<string, string> }[];
}

function pod(name: string, o: PodOpts = {}): Pod {
  const startedAgo = o.startedAgo ?? 600;
  const ready = 'ready' in o ? o.ready : 'True';
  const containers = o.containers ?? [{ name: 'c', requests: o.requests ?? { cpu: '1', memory: '1Gi' } }];
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: NS, labels: { app: 'web' }, ...(o.deleting ? { deletionTimestamp: ago(1) } : {}) },
    spec: { containers: containers.map((c) => ({ name: c.name, image: 'busybox', resources: c.requests ? { requests: c.requests } : {} })) },
    status: {
      phase: o.phase ?? 'Running', startTime: ago(startedAgo),
      ...(ready ? { conditions: [{ type: 'Ready', status: ready, lastTransitionTime: ago(o.readyAgo ?? startedAgo - 5) }] } : {}),
    },
  };
}

/** PodMetrics of one container `c` using `cpu` millicores (and 100Mi), sampled `sampledAgo` s ago over 30 s. */
function usage(name: string, cpu: number, o: { memory?: string; sampledAgo?: number; containers?: Record<string, number> } = {}): PodMetricsObject {
  const containers = o.containers
    ? Object.entries(o.containers).map(([n, v]) => ({ name: n, usage: { cpu: `${v}m`, memory: '100Mi' } }))
    : [{ name: 'c', usage: { cpu: `${cpu}m`, memory: o.memory ?? '100Mi' } }];
  return {
    kind: 'PodMetrics', apiVersion: 'metrics.k8s.io/v1beta1', metadata: { name, namespace: NS, labels: { app: 'web' } },
    timestamp: ago(o.sampledAgo ?? 0), window: '30s', containers,
  };
}

function calculator(pods: Pod[], metrics: PodMetricsObject[]): { calc: ReplicaCalculator; source: FakeMetricsSource } {
  const source = new FakeMetricsSource();
  source.podMetrics = metrics;
  const calc = new ReplicaCalculator({
    metrics: source, listPods: (ns) => pods.filter((p) => p.metadata?.namespace === ns), tolerance: 0.1,
    cpuInitializationPeriodMs: 300_000, delayOfInitialReadinessStatusMs: 30_000, now: () => new Date(NOW),
  });
  return { calc, source };
}

/** Pods p0…pN-1 with the given options and cpu usage (undefined: no metrics for that pod). */
function cluster(levels: (number | undefined)[], opts: PodOpts[] = []): { pods: Pod[]; metrics: PodMetricsObject[] } {
  const pods = levels.map((_, i) => pod(`p${i}`, opts[i]));
  const metrics = levels.flatMap((l, i) => (l === undefined ? [] : [usage(`p${i}`, l)]));
  return { pods, metrics };
}

describe('ReplicaCalculator.getResourceReplicas (cpu utilization)', () => {
  const unreadyInInit: PodOpts = { ready: 'False', startedAgo: 60, readyAgo: 60 };
  const cases: { name: string; current: number; target: number; levels: (number | undefined)[]; opts?: PodOpts[]; extra?: Pod[]; want: number; utilization?: number; raw?: number }[] = [
    { name: 'scales up by the usage ratio', current: 3, target: 30, levels: [300, 500, 700], want: 5, utilization: 50, raw: 500 },
    { name: 'scales down by the usage ratio', current: 5, target: 50, levels: [100, 300, 500, 250, 250], want: 3, utilization: 28, raw: 280 },
    { name: 'stays within the 0.1 tolerance', current: 3, target: 100, levels: [1010, 1030, 1020], want: 3, utilization: 102 },
    { name: 'just outside the tolerance scales', current: 3, target: 100, levels: [1200, 1200, 1200], want: 4, utilization: 120 },
    { name: 'unready pods count as 0 % on a scale-up', current: 3, target: 30, levels: [300, 500, 700], opts: [unreadyInInit], want: 4, utilization: 60 },
    { name: 'unready pods are left out of a scale-down', current: 3, target: 50, levels: [100, 100, 100], opts: [unreadyInInit], want: 1, utilization: 10 },
    { name: 'failed and deleted pods are ignored', current: 4, target: 30, levels: [500, 700, undefined, undefined], opts: [{}, {}, { phase: 'Failed' }, { deleting: true }], want: 4, utilization: 60 },
    { name: 'pending pods count as unready', current: 3, target: 30, levels: [500, 700, undefined], opts: [{}, {}, { phase: 'Pending', ready: undefined }], want: 4, utilization: 60 },
    { name: 'missing metrics count as 100 % of the request on a scale-down', current: 4, target: 50, levels: [100, 100, 100, undefined], want: 3, utilization: 10 },
    { name: 'missing metrics count as 0 % on a scale-up', current: 4, target: 50, levels: [900, 900, 900, undefined], want: 6, utilization: 90 },
    { name: 'missing metrics that reverse the direction keep the count', current: 2, target: 50, levels: [400, undefined], want: 2, utilization: 40 },
    {
      name: 'a cpu sample within one window of turning ready is ignored (initialization period)',
      current: 3, target: 50, levels: [1000, 200, 200], opts: [{ startedAgo: 60, readyAgo: 5 }], want: 1, utilization: 20,
    },
    {
      name: 'a cpu sample one window after turning ready counts',
      current: 3, target: 50, levels: [1000, 200, 200], opts: [{ startedAgo: 120, readyAgo: 60 }], want: 3, utilization: 46,
    },
    {
      name: 'after the initialization period a pod that was ready once counts while unready',
      current: 3, target: 50, levels: [1000, 200, 200], opts: [{ ready: 'False', startedAgo: 600, readyAgo: 120 }], want: 3, utilization: 46,
    },
    {
      name: 'after the initialization period a pod never ready is unready',
      current: 3, target: 50, levels: [1000, 200, 200], opts: [{ ready: 'False', startedAgo: 600, readyAgo: 590 }], want: 1, utilization: 20,
    },
    {
      name: 'a pod without a Ready condition is unready for cpu',
      current: 3, target: 50, levels: [1000, 200, 200], opts: [{ ready: undefined }], want: 1, utilization: 20,
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const { pods, metrics } = cluster(c.levels, c.opts);
      const { calc } = calculator(pods, metrics);
      const r = await calc.getResourceReplicas(c.current, c.target, 'cpu', NS, SELECTOR, '');
      assert.equal(r.replicas, c.want);
      if (c.utilization !== undefined) assert.equal(r.utilization, c.utilization);
      if (c.raw !== undefined) assert.equal(r.rawUtilization, c.raw);
    });
  }

  it('memory ignores readiness', async () => {
    const pods = [pod('p0', { ready: 'False', startedAgo: 30, readyAgo: 30 }), pod('p1')];
    const metrics = [usage('p0', 0, { memory: '1Gi' }), usage('p1', 0, { memory: '1Gi' })];
    const { calc } = calculator(pods, metrics);
    const r = await calc.getResourceReplicas(2, 50, 'memory', NS, SELECTOR, '');
    assert.deepEqual([r.replicas, r.utilization], [4, 100]);
  });

  it('a ContainerResource metric reads one container against its request', async () => {
    const containers = [{ name: 'app', requests: { cpu: '100m' } }, { name: 'sidecar', requests: { cpu: '900m' } }];
    const pods = [pod('p0', { containers }), pod('p1', { containers })];
    const metrics = [usage('p0', 0, { containers: { app: 100, sidecar: 0 } }), usage('p1', 0, { containers: { app: 100, sidecar: 0 } })];
    const { calc, source } = calculator(pods, metrics);
    const r = await calc.getResourceReplicas(2, 50, 'cpu', NS, SELECTOR, 'app');
    assert.deepEqual([r.replicas, r.utilization, r.rawUtilization], [4, 100, 100]);
    assert.deepEqual(source.calls, ['resource cpu default app=web app']);
    await assert.rejects(calc.getResourceReplicas(2, 50, 'cpu', NS, SELECTOR, 'nope'),
      { message: 'unable to get metrics for resource cpu: failed to get container metrics: container nope not present in metrics for pod default/p0' });
  });

  const errors: { name: string; pods: Pod[]; metrics: PodMetricsObject[]; message: string }[] = [
    { name: 'no metrics', pods: [pod('p0')], metrics: [], message: 'unable to get metrics for resource cpu: no metrics returned from resource metrics API' },
    { name: 'no pods', pods: [], metrics: [usage('p0', 100)], message: 'no pods returned by selector while calculating replica count' },
    {
      name: 'only unready pods', pods: [pod('p0', { ready: 'False', startedAgo: 10, readyAgo: 10 })], metrics: [usage('p0', 100)],
      message: 'did not receive metrics for targeted pods (pods might be unready)',
    },
    { name: 'a container without a request', pods: [pod('p0', { requests: {} })], metrics: [usage('p0', 100)], message: 'missing request for cpu in container c of Pod p0' },
  ];
  for (const e of errors) {
    it(`fails on ${e.name}`, async () => {
      const { calc } = calculator(e.pods, e.metrics);
      await assert.rejects(calc.getResourceReplicas(1, 50, 'cpu', NS, SELECTOR, ''), { message: e.message });
    });
  }
});

describe('ReplicaCalculator: plain metrics (AverageValue, Pods, Object, External)', () => {
  it('a raw resource target divides the average usage by the target', async () => {
    const pods = [pod('p0'), pod('p1'), pod('p2')];
    const metrics = pods.map((p) => usage(p.metadata!.name!, 0, { memory: '600Mi' }));
    const { calc } = calculator(pods, metrics);
    const r = await calc.getRawResourceReplicas(3, 500 * 1024 * 1024 * 1000, 'memory', NS, SELECTOR, '');
    assert.deepEqual([r.replicas, r.usage], [4, 600 * 1024 * 1024 * 1000]);
  });

  it('Pods metrics: missing pods count as the target on a scale-down, 0 on a scale-up', async () => {
    const pods = [pod('p0'), pod('p1'), pod('p2')];
    const { calc, source } = calculator(pods, []);
    source.custom.set('qps', new Map([['p0', 20_000], ['p1', 20_000], ['p2', 20_000]]));
    assert.equal((await calc.getMetricReplicas(3, 10_000, 'qps', NS, SELECTOR, undefined)).replicas, 6);
    source.custom.set('qps', new Map([['p0', 2000], ['p1', 2000]]));
    // (2 + 2 + 10) / 3 / 10 = 0.47 → 2
    assert.equal((await calc.getMetricReplicas(3, 10_000, 'qps', NS, SELECTOR, undefined)).replicas, 2);
    await assert.rejects(calc.getMetricReplicas(3, 10_000, 'rps', NS, SELECTOR, undefined),
      { message: 'unable to get metric rps: unable to fetch metrics from custom metrics API: no custom metrics API (custom.metrics.k8s.io) registered' });
  });

  it('Object metrics: value targets scale the ready pods, average targets the status replicas', async () => {
    const pods = [pod('p0'), pod('p1'), pod('p2', { ready: 'False' })];
    const { calc, source } = calculator(pods, []);
    source.objects.set('requests', 4000);
    const ref = { kind: 'Service', name: 'web', apiVersion: 'v1' };
    assert.equal((await calc.getObjectMetricReplicas(3, 1000, 'requests', NS, ref, SELECTOR, undefined)).replicas, 8, '4 × 2 ready pods');
    assert.equal((await calc.getObjectMetricReplicas(0, 1000, 'requests', NS, ref, SELECTOR, undefined)).replicas, 4, 'from zero: ceil(ratio)');
    assert.equal((await calc.getObjectMetricReplicas(3, 3900, 'requests', NS, ref, SELECTOR, undefined)).replicas, 3, 'within tolerance');
    const avg = await calc.getObjectPerPodMetricReplicas(2, 1000, 'requests', NS, ref, undefined);
    assert.deepEqual([avg.replicas, avg.usage], [4, 2000]);
    await assert.rejects(calc.getObjectMetricReplicas(3, 1000, 'hits', NS, ref, SELECTOR, undefined),
      { message: 'unable to get metric hits: Service on default web/unable to fetch metrics from custom metrics API: no custom metrics API (custom.metrics.k8s.io) registered' });
  });

  it('External metrics: the values are summed', async () => {
    const pods = [pod('p0'), pod('p1')];
    const { calc, source } = calculator(pods, []);
    source.external.set('queue', [3000, 3000]);
    assert.equal((await calc.getExternalMetricReplicas(2, 2000, 'queue', NS, undefined, SELECTOR)).replicas, 6);
    const avg = await calc.getExternalPerPodMetricReplicas(2, 1000, 'queue', NS, undefined);
    assert.deepEqual([avg.replicas, avg.usage], [6, 3000]);
    await assert.rejects(calc.getExternalMetricReplicas(2, 2000, 'jobs', NS, { matchLabels: { q: 'a' } }, SELECTOR), {
      message: 'unable to get external metric default/jobs/&LabelSelector{MatchLabels:map[string]string{q: a,},MatchExpressions:[]LabelSelectorRequirement{},}: '
        + 'unable to fetch metrics from external metrics API: the server could not find the requested resource',
    });
  });
});

describe('helpers', () => {
  it('podRequest sums containers and restartable init containers, or reads one container', () => {
    const p = pod('p0', { containers: [{ name: 'a', requests: { cpu: '250m' } }, { name: 'b', requests: { cpu: '0.5' } }] });
    p.spec!.initContainers = [
      { name: 'sidecar', image: 'x', restartPolicy: 'Always', resources: { requests: { cpu: '100m' } } },
      { name: 'init', image: 'x', resources: {} },
    ];
    assert.equal(podRequest(p, '', 'cpu'), 850);
    assert.equal(podRequest(p, 'b', 'cpu'), 500);
    assert.throws(() => podRequest(p, 'zzz', 'cpu'), { message: 'container zzz not found in Pod p0' });
  });

  it('parseGoDuration and goLabelSelector', () => {
    assert.deepEqual(['10s', '1m5s', '1.5s', '500ms', '', 'x'].map(parseGoDuration), [10_000, 65_000, 1500, 500, 0, 0]);
    assert.equal(goLabelSelector(undefined), 'nil');
    assert.equal(goLabelSelector({ matchExpressions: [{ key: 'k', operator: 'In', values: ['a', 'b'] }] }),
      '&LabelSelector{MatchLabels:map[string]string{},MatchExpressions:[]LabelSelectorRequirement{LabelSelectorRequirement{Key:k,Operator:In,Values:[a b],},},}');
  });
});
