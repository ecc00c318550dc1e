/** StatefulSet defaulting and validation (apps/v1; upstream pkg/apis/apps/v1/defaults.go, validation). */
import type { StatefulSet, StatefulSetStatus } from 'kubernetes-types/apps/v1.js';
import type { PersistentVolumeClaim } from 'kubernetes-types/core/v1.js';
import { field, type FieldError } from '../errors.js';
import { jsonEqual } from '../meta.js';
import { isDNS1123Label } from '../validation.js';
import { defaultPodSpec } from './pod.js';
import { intOrPercentValue, nonNegative, notMoreThan100Percent, validateIntOrPercent, validateSelectorAndPodTemplate } from './apps-common.js';
import { collisionCountNotDecremented } from './apps-deployment.js';

/** metadata.name of a StatefulSet: a DNS-1123 label (its pods are named `<name>-<ordinal>`). */
export const isStatefulSetName = isDNS1123Label;

/** A claim template as the PVC defaulting leaves it (volumeMode Filesystem, status Pending). */
function defaultClaimTemplate(pvc: PersistentVolumeClaim): void {
  pvc.spec ??= {};
  pvc.spec.volumeMode ??= 'Filesystem';
  const m = pvc as { status?: { phase?: string } };
  m.status ??= {};
  m.status.phase ??= 'Pending';
}

/**
 * upstream SetDefaults_StatefulSet: podManagementPolicy OrderedReady, updateStrategy
 * RollingUpdate with partition 0, persistentVolumeClaimRetentionPolicy Retain/Retain,
 * replicas 1, revisionHistoryLimit 10.
 */
export function defaultStatefulSet(s: StatefulSet): void {
  s.spec ??= { selector: {}, serviceName: '', template: {} } as StatefulSet['spec'];
  const spec = s.spec!;
  spec.podManagementPolicy ??= 'OrderedReady';
  spec.updateStrategy ??= {};
  const us = spec.updateStrategy;
  if (!us.type) {
    us.type = 'RollingUpdate';
    us.rollingUpdate ??= {};
  }
  if (us.type === 'RollingUpdate' && us.rollingUpdate) us.rollingUpdate.partition ??= 0;
  spec.persistentVolumeClaimRetentionPolicy ??= {};
  spec.persistentVolumeClaimRetentionPolicy.whenDeleted ||= 'Retain';
  spec.persistentVolumeClaimRetentionPolicy.whenScaled ||= 'Retain';
  spec.replicas ??= 1;
  spec.revisionHistoryLimit ??= 10;
  for (const t of spec.volumeClaimTemplates ?? []) defaultClaimTemplate(t);
  if (spec.template?.spec) defaultPodSpec(spec.template.spec);
}

const RETENTION = ['Retain', 'Delete'];

function validateSpec(s: StatefulSet): FieldError[] {
  const spec = s.spec;
  if (!spec) return [field.required('spec')];
  const p = 'spec';
  const errs: FieldError[] = [];
  const pmp = spec.podManagementPolicy;
  if (!pmp) errs.push(field.required(`${p}.podManagementPolicy`));
  else if (pmp !== 'OrderedReady' && pmp !== 'Parallel') errs.push(field.invalid(`${p}.podManagementPolicy`, pmp, "must be 'OrderedReady' or 'Parallel'"));
  const us = spec.updateStrategy ?? {};
  switch (us.type) {
    case undefined: case '':
      errs.push(field.required(`${p}.updateStrategy`)); break;
    case 'OnDelete':
      if (us.rollingUpdate) errs.push(field.invalid(`${p}.updateStrategy.rollingUpdate`, us.rollingUpdate, "only allowed for updateStrategy 'RollingUpdate'"));
      break;
    case 'RollingUpdate': {
      const ru = us.rollingUpdate;
      if (ru) {
        const rp = `${p}.updateStrategy.rollingUpdate`;
        errs.push(...nonNegative(ru.partition, `${rp}.partition`));
        if (ru.maxUnavailable !== undefined) {
          errs.push(...validateIntOrPercent(ru.maxUnavailable, `${rp}.maxUnavailable`));
          if (intOrPercentValue(ru.maxUnavailable) === 0) errs.push(field.invalid(`${rp}.maxUnavailable`, ru.maxUnavailable, 'cannot be 0'));
          errs.push(...notMoreThan100Percent(ru.maxUnavailable, `${rp}.maxUnavailable`));
        }
      }
      break;
    }
    default:
      errs.push(field.invalid(`${p}.updateStrategy`, us, "must be 'RollingUpdate' or 'OnDelete'"));
  }
  const rp = spec.persistentVolumeClaimRetentionPolicy;
  if (rp) {
    for (const k of ['whenDeleted', 'whenScaled'] as const) {
      const v = rp[k];
      if (v !== undefined && !RETENTION.includes(v)) errs.push(field.notSupported(`${p}.persistentVolumeClaimRetentionPolicy.${k}`, v, RETENTION));
    }
  }
  errs.push(...nonNegative(spec.replicas, `${p}.replicas`));
  errs.push(...nonNegative(spec.minReadySeconds, `${p}.minReadySeconds`));
  if (spec.ordinals) errs.push(...nonNegative(spec.ordinals.start, `${p}.ordinals.start`));
  const claimNames: string[] = [];
  (spec.volumeClaimTemplates ?? []).forEach((t, i) => {
    const name = t.metadata?.name;
    if (!name) errs.push(field.required(`${p}.volumeClaimTemplates[${i}].metadata.name`, 'name or generateName is required'));
    else claimNames.push(name);
    if (!t.spec?.accessModes?.length) errs.push(field.required(`${p}.volumeClaimTemplates[${i}].spec.accessModes`, 'at least 1 access mode is required'));
    if (!t.spec?.resources?.requests?.storage) errs.push(field.required(`${p}.volumeClaimTemplates[${i}].spec.resources[storage]`));
  });
  errs.push(...validateSelectorAndPodTemplate({
    selector: spec.selector, template: spec.template, path: p, noun: 'statefulset', restartPolicies: ['Always'],
    kindForDeadline: 'StatefulSet', extraVolumes: claimNames,
  }));
  return errs;
}

export function validateStatefulSet(s: StatefulSet): FieldError[] {
  return validateSpec(s);
}

const MUTABLE = ['replicas', 'template', 'updateStrategy', 'minReadySeconds', 'ordinals', 'persistentVolumeClaimRetentionPolicy'] as const;

/** upstream ValidateStatefulSetUpdate: only replicas, ordinals, template, updateStrategy, retention policy and minReadySeconds may change. */
export function validateStatefulSetUpdate(next: StatefulSet, old: StatefulSet): FieldError[] {
  const errs = validateSpec(next);
  const strip = (s: StatefulSet) => {
    const copy: Record<string, unknown> = { ...(s.spec ?? {}) };
    for (const k of MUTABLE) delete copy[k];
    return copy;
  };
  if (!jsonEqual(strip(next), strip(old))) {
    errs.push(field.forbidden('spec', "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"));
  }
  return errs;
}

/** upstream ValidateStatefulSetStatusUpdate. */
export function validateStatefulSetStatus(next: StatefulSet, old?: StatefulSet): FieldError[] {
  const s: StatefulSetStatus = next.status ?? { replicas: 0 };
  const errs: FieldError[] = [];
  for (const k of ['replicas', 'readyReplicas', 'currentReplicas', 'updatedReplicas', 'availableReplicas', 'observedGeneration', 'collisionCount'] as const) {
    errs.push(...nonNegative(s[k], `status.${k}`));
  }
  const msg = 'cannot be greater than status.replicas';
  const replicas = s.replicas ?? 0;
  for (const k of ['readyReplicas', 'currentReplicas', 'updatedReplicas', 'availableReplicas'] as const) {
    if ((s[k] ?? 0) > replicas) errs.push(field.invalid(`status.${k}`, s[k], msg));
  }
  if ((s.availableReplicas ?? 0) > (s.readyReplicas ?? 0)) errs.push(field.invalid('status.availableReplicas', s.availableReplicas, 'cannot be greater than status.readyReplicas'));
  errs.push(...collisionCountNotDecremented(s.collisionCount, old?.status?.collisionCount));
  return errs;
}
