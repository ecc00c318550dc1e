import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HorizontalPodAutoscaler } from 'kubernetes-types/autoscaling/v2.js';
import { fieldErrorString } from '../errors.js';
import { defaultHPAv2, validateHPAStatus, validateHPAv2, validateHPAv2Update } from './autoscaling-hpa.js';

const hpa = (spec: Record<string, unknown> = {}): HorizontalPodAutoscaler => {
  const h = { metadata: { name: 'web' }, spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, maxReplicas: 5, ...spec } } as HorizontalPodAutoscaler;
  defaultHPAv2(h);
  return h;
};
const cpu = (target: Record<string, unknown>) => ({ type: 'Resource', resource: { name: 'cpu', target } });

test('v2 defaults: minReplicas 1, 80 % CPU, behavior filled only when given', () => {
  const h = hpa();
  assert.equal(h.spec!.minReplicas, 1);
  assert.deepEqual(h.spec!.metrics, [cpu({ type: 'Utilization', averageUtilization: 80 })]);
  assert.equal(h.spec!.behavior, undefined);
  const b = hpa({ behavior: { scaleDown: { stabilizationWindowSeconds: 60 } } });
  assert.deepEqual(b.spec!.behavior, {
    scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }] },
    scaleDown: { stabilizationWindowSeconds: 60, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] },
  });
});

test('v2 validation', () => {
  const cases: [string, Record<string, unknown>, string[]][] = [
    ['valid', {}, []],
    ['replica bounds', { minReplicas: 0, maxReplicas: 0 }, [
      'spec.minReplicas: Invalid value: 0: must be greater than or equal to 1',
      'spec.maxReplicas: Invalid value: 0: must be greater than 0',
      'spec.metrics: Forbidden: must specify at least one Object or External metric to support scaling to zero replicas',
    ]],
    ['max below min', { minReplicas: 6 }, ['spec.maxReplicas: Invalid value: 5: must be greater than or equal to `minReplicas`']],
    ['target ref', { scaleTargetRef: { name: 'a/b' } }, ['spec.scaleTargetRef.kind: Required value', "spec.scaleTargetRef.name: Invalid value: \"a/b\": may not contain '/'"]],
    ['utilization', { metrics: [cpu({ type: 'Utilization', averageUtilization: 0 })] }, [
      'spec.metrics[0].resource.target.averageUtilization: Invalid value: 0: must be greater than 0',
    ]],
    ['both targets', { metrics: [cpu({ type: 'Utilization', averageUtilization: 50, averageValue: '100m' })] }, [
      'spec.metrics[0].resource.target.averageValue: Forbidden: may not set both a target raw value and a target utilization',
    ]],
    ['wrong source', { metrics: [{ type: 'Pods', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 5 } } }] }, [
      'spec.metrics[0].pods: Required value: must populate information for the given metric source',
    ]],
    ['pods needs averageValue', { metrics: [{ type: 'Pods', pods: { metric: { name: 'qps' }, target: { type: 'Value', value: '-1' } } }] }, [
      'spec.metrics[0].pods.target.value: Invalid value: "-1": must be positive',
      'spec.metrics[0].pods.target.averageValue: Required value: must specify a positive target averageValue',
    ]],
    ['behavior', { behavior: { scaleUp: { selectPolicy: 'Sometimes', policies: [{ type: 'Pods', value: 0, periodSeconds: 3600 }] } } }, [
      'spec.behavior.scaleUp.selectPolicy: Unsupported value: "Sometimes": supported values: "Disabled", "Max", "Min"',
      'spec.behavior.scaleUp.policies[0].value: Invalid value: 0: must be greater than zero',
      'spec.behavior.scaleUp.policies[0].periodSeconds: Invalid value: 3600: must be less than or equal to 1800',
    ]],
  ];
  for (const [name, spec, want] of cases) assert.deepEqual(validateHPAv2(hpa(spec)).map(fieldErrorString), want, name);
  const zero = hpa({ minReplicas: 0, metrics: [{ type: 'External', external: { metric: { name: 'q' }, target: { type: 'Value', value: '1' } } }] });
  assert.deepEqual(validateHPAv2Update(zero, zero), [], 'an object already at minReplicas 0 may keep it');
  assert.deepEqual(validateHPAStatus({ status: { currentReplicas: -1, desiredReplicas: 1 } }).map(fieldErrorString), ['status.currentReplicas: Invalid value: -1: must be greater than or equal to 0']);
});
