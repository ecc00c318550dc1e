/**
 * ReplicationController defaulting and validation (upstream SetDefaults_ReplicationController,
 * ValidateReplicationController*). RC selectors are plain label maps.
 */
import type { ReplicationController } from 'kubernetes-types/core/v1.js';
import { field, type FieldError } from '../errors.js';
import { validateAnnotations, validateLabels } from '../validation.js';
import { defaultPodSpec, validatePodSpec } from './pod.js';
import { NEGATIVE, nonNegativeField } from './core-common.js';

export type { ReplicationController };

/** Selector and labels default to the template's labels; replicas to 1. */
export function defaultReplicationController(rc: ReplicationController): void {
  rc.spec ??= {};
  const labels = rc.spec.template?.metadata?.labels;
  if (labels) {
    if (!rc.spec.selector || !Object.keys(rc.spec.selector).length) rc.spec.selector = { ...labels };
    rc.metadata ??= {};
    if (!rc.metadata.labels || !Object.keys(rc.metadata.labels).length) rc.metadata.labels = { ...labels };
  }
  rc.spec.replicas ??= 1;
  if (rc.spec.template?.spec) defaultPodSpec(rc.spec.template.spec);
}

function selectorMatches(selector: Record<string, string>, labels: Record<string, string> | undefined): boolean {
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

export function validateReplicationController(rc: ReplicationController): FieldError[] {
  const errs: FieldError[] = [];
  const s = rc.spec ?? {};
  errs.push(...nonNegativeField('spec.minReadySeconds', s.minReadySeconds));
  const selector = s.selector ?? {};
  if (!Object.keys(selector).length) errs.push(field.required('spec.selector'));
  else errs.push(...validateLabels(selector, 'spec.selector'));
  if (s.replicas !== undefined && s.replicas < 0) errs.push(field.invalid('spec.replicas', s.replicas, NEGATIVE));
  const t = s.template;
  if (!t) {
    errs.push(field.required('spec.template'));
    return errs;
  }
  if (Object.keys(selector).length && !selectorMatches(selector, t.metadata?.labels)) {
    errs.push(field.invalid('spec.template.metadata.labels', t.metadata?.labels ?? {}, '`selector` does not match template `labels`'));
  }
  errs.push(...validateLabels(t.metadata?.labels, 'spec.template.labels'));
  errs.push(...validateAnnotations(t.metadata?.annotations, 'spec.template.annotations'));
  errs.push(...validatePodSpec(t.spec, 'spec.template.spec'));
  if (t.spec?.restartPolicy !== undefined && t.spec.restartPolicy !== 'Always') {
    errs.push(field.notSupported('spec.template.spec.restartPolicy', t.spec.restartPolicy, ['Always']));
  }
  if (t.spec?.activeDeadlineSeconds !== undefined) {
    errs.push(field.forbidden('spec.template.spec.activeDeadlineSeconds', 'activeDeadlineSeconds in ReplicationController is not Supported'));
  }
  return errs;
}

export function validateReplicationControllerStatus(rc: ReplicationController): FieldError[] {
  const s = rc.status;
  if (!s) return [];
  const errs: FieldError[] = [];
  for (const k of ['replicas', 'fullyLabeledReplicas', 'readyReplicas', 'availableReplicas', 'observedGeneration'] as const) {
    errs.push(...nonNegativeField(`status.${k}`, s[k]));
  }
  const msg = 'cannot be greater than status.replicas';
  const replicas = s.replicas ?? 0;
  if ((s.fullyLabeledReplicas ?? 0) > replicas) errs.push(field.invalid('status.fullyLabeledReplicas', s.fullyLabeledReplicas, msg));
  if ((s.readyReplicas ?? 0) > replicas) errs.push(field.invalid('status.readyReplicas', s.readyReplicas, msg));
  if ((s.availableReplicas ?? 0) > replicas) errs.push(field.invalid('status.availableReplicas', s.availableReplicas, msg));
  if ((s.availableReplicas ?? 0) > (s.readyReplicas ?? 0)) errs.push(field.invalid('status.availableReplicas', s.availableReplicas, 'cannot be greater than readyReplicas'));
  return errs;
}
