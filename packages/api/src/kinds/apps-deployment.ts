/** Deployment defaulting and validation (apps/v1; upstream pkg/apis/apps/v1/defaults.go, validation). */
import type { Deployment, DeploymentStatus } from 'kubernetes-types/apps/v1.js';
export type {
  ControllerRevision, DaemonSet, DaemonSetSpec, DaemonSetStatus, Deployment, DeploymentSpec, DeploymentStatus, StatefulSet, StatefulSetSpec, StatefulSetStatus,
} from 'kubernetes-types/apps/v1.js';
import { field, type FieldError } from '../errors.js';
import { defaultPodSpec } from './pod.js';
import {
  immutable, intOrPercentValue, nonNegative, notMoreThan100Percent, validateIntOrPercent, validateSelectorAndPodTemplate,
} from './apps-common.js';

/** upstream SetDefaults_Deployment: replicas 1, RollingUpdate 25%/25%, revisionHistoryLimit 10, progressDeadlineSeconds 600. */
export function defaultDeployment(d: Deployment): void {
  d.spec ??= { selector: {}, template: {} } as Deployment['spec'];
  const spec = d.spec!;
  spec.replicas ??= 1;
  spec.strategy ??= {};
  const st = spec.strategy;
  if (!st.type) st.type = 'RollingUpdate';
  if (st.type === 'RollingUpdate') {
    st.rollingUpdate ??= {};
    st.rollingUpdate.maxUnavailable ??= '25%';
    st.rollingUpdate.maxSurge ??= '25%';
  }
  spec.revisionHistoryLimit ??= 10;
  spec.progressDeadlineSeconds ??= 600;
  if (spec.template?.spec) defaultPodSpec(spec.template.spec);
}

function validateStrategy(d: Deployment): FieldError[] {
  const st = d.spec?.strategy ?? {};
  const p = 'spec.strategy';
  const errs: FieldError[] = [];
  switch (st.type) {
    case 'Recreate':
      if (st.rollingUpdate) errs.push(field.forbidden(`${p}.rollingUpdate`, "may not be specified when strategy `type` is 'Recreate'"));
      break;
    case 'RollingUpdate': {
      const ru = st.rollingUpdate;
      if (!ru) { errs.push(field.required(`${p}.rollingUpdate`, 'this should be defaulted and never be nil')); break; }
      errs.push(...validateIntOrPercent(ru.maxUnavailable, `${p}.rollingUpdate.maxUnavailable`));
      errs.push(...validateIntOrPercent(ru.maxSurge, `${p}.rollingUpdate.maxSurge`));
      if (intOrPercentValue(ru.maxUnavailable) === 0 && intOrPercentValue(ru.maxSurge) === 0) {
        errs.push(field.invalid(`${p}.rollingUpdate.maxUnavailable`, ru.maxUnavailable ?? 0, 'may not be 0 when `maxSurge` is 0'));
      }
      errs.push(...notMoreThan100Percent(ru.maxUnavailable, `${p}.rollingUpdate.maxUnavailable`));
      break;
    }
    default:
      errs.push(field.notSupported(p, st, ['Recreate', 'RollingUpdate']));
  }
  return errs;
}

/** upstream ValidateDeploymentSpec (every cause, upstream paths and wording). */
export function validateDeployment(d: Deployment): FieldError[] {
  const spec = d.spec;
  if (!spec) return [field.required('spec')];
  const errs: FieldError[] = [...nonNegative(spec.replicas, 'spec.replicas')];
  errs.push(...validateSelectorAndPodTemplate({
    selector: spec.selector, template: spec.template, path: 'spec', noun: 'deployment', restartPolicies: ['Always'], kindForDeadline: 'ReplicaSet',
  }));
  errs.push(...validateStrategy(d));
  errs.push(...nonNegative(spec.minReadySeconds, 'spec.minReadySeconds'));
  errs.push(...nonNegative(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit'));
  if (spec.progressDeadlineSeconds !== undefined) {
    errs.push(...nonNegative(spec.progressDeadlineSeconds, 'spec.progressDeadlineSeconds'));
    if (spec.progressDeadlineSeconds <= (spec.minReadySeconds ?? 0)) {
      errs.push(field.invalid('spec.progressDeadlineSeconds', spec.progressDeadlineSeconds, 'must be greater than minReadySeconds'));
    }
  }
  return errs;
}

/** Updates: the spec rules, and apps/v1 forbids changing the selector. */
export function validateDeploymentUpdate(next: Deployment, old: Deployment): FieldError[] {
  return [...validateDeployment(next), ...immutable(next.spec?.selector, old.spec?.selector, 'spec.selector')];
}

/** upstream ValidateDeploymentStatusUpdate. */
export function validateDeploymentStatus(next: Deployment, old?: Deployment): FieldError[] {
  const s: DeploymentStatus = next.status ?? {};
  const p = 'status';
  const errs: FieldError[] = [];
  for (const k of ['observedGeneration', 'replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas', 'unavailableReplicas', 'collisionCount'] as const) {
    errs.push(...nonNegative(s[k], `${p}.${k}`));
  }
  const msg = 'cannot be greater than status.replicas';
  const replicas = s.replicas ?? 0;
  if ((s.updatedReplicas ?? 0) > replicas) errs.push(field.invalid(`${p}.updatedReplicas`, s.updatedReplicas, msg));
  if ((s.readyReplicas ?? 0) > replicas) errs.push(field.invalid(`${p}.readyReplicas`, s.readyReplicas, msg));
  if ((s.availableReplicas ?? 0) > replicas) errs.push(field.invalid(`${p}.availableReplicas`, s.availableReplicas, msg));
  if ((s.availableReplicas ?? 0) > (s.readyReplicas ?? 0)) errs.push(field.invalid(`${p}.availableReplicas`, s.availableReplicas, 'cannot be greater than readyReplicas'));
  errs.push(...collisionCountNotDecremented(s.collisionCount, old?.status?.collisionCount));
  return errs;
}

/** upstream IsDecremented on status.collisionCount. */
export function collisionCountNotDecremented(next: number | undefined, old: number | undefined): FieldError[] {
  if (old === undefined) return [];
  if (next === undefined || next < old) return [field.invalid('status.collisionCount', next ?? 0, 'cannot be decremented')];
  return [];
}
