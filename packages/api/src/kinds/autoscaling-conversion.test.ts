import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as v1 from 'kubernetes-types/autoscaling/v1.js';
import type * as v2 from 'kubernetes-types/autoscaling/v2.js';
import {
  BEHAVIOR_ANNOTATION, CONDITIONS_ANNOTATION, METRIC_SPECS_ANNOTATION, METRIC_STATUSES_ANNOTATION, hpaV1ToV2, hpaV2ToV1,
} from './autoscaling-conversion.js';

const ref = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' };
const meta = { name: 'web', namespace: 'default', labels: { a: 'b' }, annotations: { note: 'kept' } };

/** Stored (v2) objects that must survive v2 → v1 → v2 unchanged. */
const V2_CASES: [string, v2.HorizontalPodAutoscaler][] = [
  ['cpu only', {
    apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: meta,
    spec: { scaleTargetRef: ref, minReplicas: 1, maxReplicas: 5, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }] },
    status: { currentReplicas: 2, desiredReplicas: 3, currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 40, averageValue: '120m' } } }] },
  }],
  ['every metric source, behavior and conditions', {
    apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: meta,
    spec: {
      scaleTargetRef: ref, minReplicas: 2, maxReplicas: 10,
      metrics: [
        { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '500Mi' } } },
        { type: 'Pods', pods: { metric: { name: 'qps', selector: { matchLabels: { x: 'y' } } }, target: { type: 'AverageValue', averageValue: '10' } } },
        { type: 'Object', object: { describedObject: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name: 'main' }, metric: { name: 'rps' }, target: { type: 'Value', value: '2k' } } },
        { type: 'External', external: { metric: { name: 'queue' }, target: { type: 'AverageValue', averageValue: '30' } } },
        { type: 'ContainerResource', containerResource: { name: 'cpu', container: 'app', target: { type: 'Utilization', averageUtilization: 60 } } },
        { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } },
      ],
      behavior: { scaleDown: { stabilizationWindowSeconds: 60, selectPolicy: 'Min', policies: [{ type: 'Pods', value: 1, periodSeconds: 30 }] } },
    },
    status: {
      observedGeneration: 4, lastScaleTime: '2024-01-01T00:00:00Z', currentReplicas: 3, desiredReplicas: 4,
      currentMetrics: [
        { type: 'Resource', resource: { name: 'memory', current: { averageValue: '400Mi' } } },
        { type: 'External', external: { metric: { name: 'queue' }, current: { averageValue: '12' } } },
      ],
      conditions: [{ type: 'AbleToScale', status: 'True', reason: 'ReadyForNewScale', message: 'ok', lastTransitionTime: '2024-01-01T00:00:00Z' }],
    },
  }],
];

test('v2 → v1 → v2 is lossless (the CPU utilization metric moves last, as upstream)', () => {
  for (const [name, h] of V2_CASES) {
    const before = structuredClone(h);
    const back = hpaV1ToV2(hpaV2ToV1(h));
    assert.deepEqual(h, before, `${name}: the input is not mutated`);
    assert.deepEqual(back, h, name);
  }
});

test('v2 → v1: targetCPUUtilizationPercentage and the alpha annotations', () => {
  const [, h] = V2_CASES[1]!;
  const out = hpaV2ToV1(h);
  assert.equal(out.apiVersion, 'autoscaling/v1');
  assert.equal(out.spec!.targetCPUUtilizationPercentage, 70);
  assert.equal(out.spec!.minReplicas, 2);
  assert.deepEqual(out.status, { observedGeneration: 4, lastScaleTime: '2024-01-01T00:00:00Z', currentReplicas: 3, desiredReplicas: 4 });
  const ann = out.metadata!.annotations!;
  assert.equal(ann.note, 'kept');
  assert.deepEqual(JSON.parse(ann[METRIC_SPECS_ANNOTATION]!)[0], { type: 'Resource', resource: { name: 'memory', targetAverageValue: '500Mi' } });
  assert.deepEqual(JSON.parse(ann[METRIC_SPECS_ANNOTATION]!)[2], {
    type: 'Object', object: { target: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name: 'main' }, metricName: 'rps', targetValue: '2k' },
  });
  assert.deepEqual(JSON.parse(ann[METRIC_STATUSES_ANNOTATION]!)[1], { type: 'External', external: { metricName: 'queue', currentAverageValue: '12' } });
  assert.equal(JSON.parse(ann[CONDITIONS_ANNOTATION]!)[0].type, 'AbleToScale');
  assert.equal(JSON.parse(ann[BEHAVIOR_ANNOTATION]!).scaleDown.selectPolicy, 'Min');
});

test('v1 → v2: the CPU target becomes a Resource metric; no target means the 80 % default; stale annotations are dropped', () => {
  const base = (spec: Partial<v1.HorizontalPodAutoscalerSpec>, annotations?: Record<string, string>): v1.HorizontalPodAutoscaler => ({
    apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name: 'web', ...(annotations ? { annotations } : {}) },
    spec: { scaleTargetRef: ref, maxReplicas: 3, ...spec },
  });
  const cpu = (n: number) => ({ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: n } } });
  assert.deepEqual(hpaV1ToV2(base({ targetCPUUtilizationPercentage: 50 })).spec!.metrics, [cpu(50)]);
  assert.deepEqual(hpaV1ToV2(base({})).spec!.metrics, [cpu(80)]);
  const withOthers = hpaV1ToV2(base({ targetCPUUtilizationPercentage: 50 }, {
    [METRIC_SPECS_ANNOTATION]: JSON.stringify([{ type: 'Pods', pods: { metricName: 'qps', targetAverageValue: '5' } }]),
  }));
  assert.deepEqual(withOthers.spec!.metrics, [{ type: 'Pods', pods: { metric: { name: 'qps' }, target: { type: 'AverageValue', averageValue: '5' } } }, cpu(50)]);
  assert.equal(withOthers.metadata!.annotations, undefined, 'round-trip annotations never reach storage');
  assert.throws(() => hpaV1ToV2(base({}, { [METRIC_SPECS_ANNOTATION]: '{not json' })), /invalid value for annotation autoscaling.alpha.kubernetes.io\/metrics/);
  // reading v1 again rewrites the annotations from the stored object instead of keeping stale ones
  const stale = hpaV2ToV1({ ...V2_CASES[0]![1], metadata: { name: 'web', annotations: { [METRIC_SPECS_ANNOTATION]: '[]' } } });
  assert.equal(stale.metadata!.annotations![METRIC_SPECS_ANNOTATION], undefined);
});
