/** PodDisruptionBudget validation (policy/v1; upstream pkg/apis/policy/validation). */
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import { field, type FieldError } from '../errors.js';
import { validateLabelSelector } from './replicaset.js';
import { nonNegative, notMoreThan100Percent, validateIntOrPercent } from './apps-common.js';
export type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';

const EVICTION_POLICIES = ['AlwaysAllow', 'IfHealthyBudget'];

/** upstream ValidatePodDisruptionBudgetSpec: minAvailable xor maxUnavailable, each an int or a percent ≤ 100 %. */
export function validatePodDisruptionBudget(pdb: PodDisruptionBudget): FieldError[] {
  const spec = pdb.spec ?? {};
  const errs: FieldError[] = [];
  if (spec.minAvailable !== undefined && spec.maxUnavailable !== undefined) {
    errs.push(field.invalid('spec', spec, 'minAvailable and maxUnavailable cannot be both set'));
  }
  for (const k of ['minAvailable', 'maxUnavailable'] as const) {
    errs.push(...validateIntOrPercent(spec[k], `spec.${k}`), ...notMoreThan100Percent(spec[k], `spec.${k}`));
  }
  errs.push(...validateLabelSelector(spec.selector, 'spec.selector'));
  const p = spec.unhealthyPodEvictionPolicy;
  if (p !== undefined && !EVICTION_POLICIES.includes(p)) errs.push(field.notSupported('spec.unhealthyPodEvictionPolicy', p, EVICTION_POLICIES));
  return errs;
}

/** upstream ValidatePodDisruptionBudgetStatusUpdate (non-negative counters). */
export function validatePodDisruptionBudgetStatus(pdb: PodDisruptionBudget): FieldError[] {
  const s = pdb.status;
  if (!s) return [];
  const errs: FieldError[] = [];
  for (const k of ['disruptionsAllowed', 'currentHealthy', 'desiredHealthy', 'expectedPods', 'observedGeneration'] as const) errs.push(...nonNegative(s[k], `status.${k}`));
  return errs;
}
