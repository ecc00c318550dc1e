import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import { fieldErrorString } from '../errors.js';
import { validatePodDisruptionBudget, validatePodDisruptionBudgetStatus } from './policy-pdb.js';

const pdb = (spec: Record<string, unknown>) => ({ metadata: { name: 'p' }, spec } as PodDisruptionBudget);

test('pdb validation: minAvailable xor maxUnavailable, int or percent, selector, eviction policy', () => {
  const sel = { matchLabels: { app: 'web' } };
  const cases: [string, Record<string, unknown>, string[]][] = [
    ['minAvailable', { minAvailable: 2, selector: sel }, []],
    ['maxUnavailable percent', { maxUnavailable: '30%', selector: sel }, []],
    ['both', { minAvailable: 1, maxUnavailable: 1, selector: sel }, ['spec: Invalid value: {"minAvailable":1,"maxUnavailable":1,"selector":{"matchLabels":{"app":"web"}}}: minAvailable and maxUnavailable cannot be both set']],
    ['negative and over 100%', { minAvailable: -1 }, ['spec.minAvailable: Invalid value: -1: must be greater than or equal to 0']],
    ['over 100%', { maxUnavailable: '120%' }, ['spec.maxUnavailable: Invalid value: "120%": must not be greater than 100%']],
    ['selector operator', { minAvailable: 1, selector: { matchExpressions: [{ key: 'a', operator: 'Near' }] } },
      ['spec.selector.matchExpressions[0].operator: Unsupported value: "Near": supported values: "In", "NotIn", "Exists", "DoesNotExist"']],
    ['eviction policy', { minAvailable: 1, unhealthyPodEvictionPolicy: 'Never' }, ['spec.unhealthyPodEvictionPolicy: Unsupported value: "Never": supported values: "AlwaysAllow", "IfHealthyBudget"']],
  ];
  for (const [name, spec, want] of cases) assert.deepEqual(validatePodDisruptionBudget(pdb(spec)).map(fieldErrorString), want, name);
  const st = { ...pdb({}), status: { disruptionsAllowed: -1, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 } } as PodDisruptionBudget;
  assert.deepEqual(validatePodDisruptionBudgetStatus(st).map(fieldErrorString), ['status.disruptionsAllowed: Invalid value: -1: must be greater than or equal to 0']);
});
