/** DaemonSet and ControllerRevision defaulting and validation (apps/v1). */
import type { ControllerRevision, DaemonSet, DaemonSetStatus } from 'kubernetes-types/apps/v1.js';
import { field, type FieldError } from '../errors.js';
import { defaultPodSpec } from './pod.js';
import {
  immutable, intOrPercentValue, nonNegative, notMoreThan100Percent, validateIntOrPercent, validateSelectorAndPodTemplate,
} from './apps-common.js';
import { collisionCountNotDecremented } from './apps-deployment.js';

/** upstream SetDefaults_DaemonSet: RollingUpdate with maxUnavailable 1 / maxSurge 0, revisionHistoryLimit 10. */
export function defaultDaemonSet(ds: DaemonSet): void {
  ds.spec ??= { selector: {}, template: {} } as DaemonSet['spec'];
  const spec = ds.spec!;
  spec.updateStrategy ??= {};
  const us = spec.updateStrategy;
  if (!us.type) us.type = 'RollingUpdate';
  if (us.type === 'RollingUpdate') {
    us.rollingUpdate ??= {};
    us.rollingUpdate.maxUnavailable ??= 1;
    us.rollingUpdate.maxSurge ??= 0;
  }
  spec.revisionHistoryLimit ??= 10;
  if (spec.template?.spec) defaultPodSpec(spec.template.spec);
}

function validateUpdateStrategy(ds: DaemonSet): FieldError[] {
  const us = ds.spec?.updateStrategy ?? {};
  const p = 'spec.updateStrategy';
  const errs: FieldError[] = [];
  switch (us.type) {
    case 'OnDelete': break;
    case 'RollingUpdate': {
      const ru = us.rollingUpdate;
      if (!ru) return [field.required(`${p}.rollingUpdate`)];
      const rp = `${p}.rollingUpdate`;
      errs.push(...validateIntOrPercent(ru.maxUnavailable, `${rp}.maxUnavailable`));
      errs.push(...validateIntOrPercent(ru.maxSurge, `${rp}.maxSurge`));
      errs.push(...notMoreThan100Percent(ru.maxUnavailable, `${rp}.maxUnavailable`));
      errs.push(...notMoreThan100Percent(ru.maxSurge, `${rp}.maxSurge`));
      const hasUnavailable = intOrPercentValue(ru.maxUnavailable) !== 0;
      const hasSurge = intOrPercentValue(ru.maxSurge) !== 0;
      if (hasUnavailable && hasSurge) errs.push(field.invalid(`${rp}.maxSurge`, ru.maxSurge, 'may not be set when maxUnavailable is non-zero'));
      if (!hasUnavailable && !hasSurge) errs.push(field.required(`${rp}.maxUnavailable`, 'cannot be 0 when maxSurge is 0'));
      break;
    }
    default:
      errs.push(field.notSupported(p, us, ['RollingUpdate', 'OnDelete']));
  }
  return errs;
}

/** upstream ValidateDaemonSetSpec. */
export function validateDaemonSet(ds: DaemonSet): FieldError[] {
  const spec = ds.spec;
  if (!spec) return [field.required('spec')];
  const errs = validateSelectorAndPodTemplate({
    selector: spec.selector, template: spec.template, path: 'spec', noun: 'daemonset', restartPolicies: ['Always'], kindForDeadline: 'DaemonSet',
  });
  errs.push(...nonNegative(spec.minReadySeconds, 'spec.minReadySeconds'));
  errs.push(...validateUpdateStrategy(ds));
  errs.push(...nonNegative(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit'));
  return errs;
}

/** apps/v1 DaemonSet updates: the spec rules, and the selector is immutable. */
export function validateDaemonSetUpdate(next: DaemonSet, old: DaemonSet): FieldError[] {
  return [...validateDaemonSet(next), ...immutable(next.spec?.selector, old.spec?.selector, 'spec.selector')];
}

/** upstream ValidateDaemonSetStatusUpdate. */
export function validateDaemonSetStatus(next: DaemonSet, old?: DaemonSet): FieldError[] {
  const s: Partial<DaemonSetStatus> = next.status ?? {};
  const errs: FieldError[] = [];
  for (const k of ['currentNumberScheduled', 'numberMisscheduled', 'desiredNumberScheduled', 'numberReady', 'observedGeneration',
    'updatedNumberScheduled', 'numberAvailable', 'numberUnavailable', 'collisionCount'] as const) {
    errs.push(...nonNegative(s[k], `status.${k}`));
  }
  errs.push(...collisionCountNotDecremented(s.collisionCount, old?.status?.collisionCount));
  return errs;
}

/** upstream ValidateControllerRevision: data is mandatory, revision non-negative. */
export function validateControllerRevision(cr: ControllerRevision): FieldError[] {
  const errs: FieldError[] = [];
  if (cr.data === undefined || cr.data === null) errs.push(field.required('data', 'data is mandatory'));
  errs.push(...nonNegative(cr.revision, 'revision'));
  return errs;
}

/** ControllerRevision data never changes once written. */
export function validateControllerRevisionUpdate(next: ControllerRevision, old: ControllerRevision): FieldError[] {
  return [...validateControllerRevision(next), ...immutable(next.data, old.data, 'data')];
}
