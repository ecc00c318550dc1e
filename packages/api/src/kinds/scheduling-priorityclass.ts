/** PriorityClass defaulting and validation (scheduling.k8s.io/v1; upstream pkg/apis/scheduling). */
import type { PriorityClass } from 'kubernetes-types/scheduling/v1.js';
import { field, type FieldError } from '../errors.js';
import { immutable } from './apps-common.js';
export type { PriorityClass } from 'kubernetes-types/scheduling/v1.js';

export const HIGHEST_USER_DEFINABLE_PRIORITY = 1000000000;
export const SYSTEM_CRITICAL_PRIORITY = 2 * HIGHEST_USER_DEFINABLE_PRIORITY;

/** The priority classes every cluster has (upstream scheduling.SystemPriorityClasses). */
export const SYSTEM_PRIORITY_CLASSES: readonly PriorityClass[] = [
  {
    apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'system-node-critical' },
    value: SYSTEM_CRITICAL_PRIORITY + 1000, description: 'Used for system critical pods that must not be moved from their current node.',
  },
  {
    apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'system-cluster-critical' },
    value: SYSTEM_CRITICAL_PRIORITY, description: 'Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.',
  },
];

const PREEMPTION = ['Never', 'PreemptLowerPriority'];

/** upstream SetDefaults_PriorityClass: preemptionPolicy PreemptLowerPriority; value is a required int (0 when absent). */
export function defaultPriorityClass(pc: PriorityClass): void {
  pc.preemptionPolicy ??= 'PreemptLowerPriority';
  (pc as { value?: number }).value ??= 0;
}

function knownSystemClassError(pc: PriorityClass): string | undefined {
  const name = pc.metadata?.name ?? '';
  const known = SYSTEM_PRIORITY_CLASSES.find((s) => s.metadata?.name === name);
  if (!known) return `${name} is not a known system priority class`;
  if (known.value !== pc.value) return `value of ${name} PriorityClass must be ${known.value}`;
  if ((known.globalDefault ?? false) !== (pc.globalDefault ?? false)) return `globalDefault of ${name} PriorityClass must be ${known.globalDefault ?? false}`;
  return undefined;
}

/** upstream ValidatePriorityClass: `system-` names are reserved; user classes stay at or below 1e9. */
export function validatePriorityClass(pc: PriorityClass): FieldError[] {
  const errs: FieldError[] = [];
  const name = pc.metadata?.name ?? '';
  if (name.startsWith('system-')) {
    const e = knownSystemClassError(pc);
    if (e) errs.push(field.forbidden('metadata.name', `priority class names with 'system-' prefix are reserved for system use only. error: ${e}`));
  } else if (pc.value > HIGHEST_USER_DEFINABLE_PRIORITY) {
    errs.push(field.forbidden('value', `maximum allowed value of a user defined priority is ${HIGHEST_USER_DEFINABLE_PRIORITY}`));
  }
  if (pc.preemptionPolicy !== undefined && !PREEMPTION.includes(pc.preemptionPolicy)) errs.push(field.notSupported('preemptionPolicy', pc.preemptionPolicy, PREEMPTION));
  return errs;
}

/** upstream ValidatePriorityClassUpdate: value and preemptionPolicy never change. */
export function validatePriorityClassUpdate(next: PriorityClass, old: PriorityClass): FieldError[] {
  const errs: FieldError[] = [];
  if (next.value !== old.value) errs.push(field.forbidden('value', 'may not be changed in an update.'));
  errs.push(...immutable(next.preemptionPolicy, old.preemptionPolicy, 'preemptionPolicy'));
  return errs;
}
