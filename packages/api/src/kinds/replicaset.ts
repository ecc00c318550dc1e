/** ReplicaSet defaulting and validation (apps/v1). */
import type { ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import type { PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import { field, type FieldError } from '../errors.js';
import { fromLabelSelector, matches } from '../labels.js';
import { jsonEqual } from '../meta.js';
import { validateLabels, validateAnnotations } from '../validation.js';
import { defaultPodSpec, validatePodSpec } from './pod.js';

export function defaultReplicaSet(rs: ReplicaSet): void {
  rs.spec ??= { selector: {} } as ReplicaSet['spec'];
  rs.spec!.replicas ??= 1;
  if (rs.spec!.template?.spec) defaultPodSpec(rs.spec!.template.spec);
}

const SELECTOR_OPS = ['In', 'NotIn', 'Exists', 'DoesNotExist'];

export function validateLabelSelector(sel: LabelSelector | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!sel) return errs;
  errs.push(...validateLabels(sel.matchLabels, `${path}.matchLabels`));
  (sel.matchExpressions ?? []).forEach((e, i) => {
    const p = `${path}.matchExpressions[${i}]`;
    if (!SELECTOR_OPS.includes(e.operator)) errs.push(field.notSupported(`${p}.operator`, e.operator, SELECTOR_OPS));
    if ((e.operator === 'In' || e.operator === 'NotIn') && !(e.values?.length)) errs.push(field.required(`${p}.values`, 'must be specified when `operator` is \'In\' or \'NotIn\''));
    if ((e.operator === 'Exists' || e.operator === 'DoesNotExist') && e.values?.length) errs.push(field.forbidden(`${p}.values`, 'may not be specified when `operator` is \'Exists\' or \'DoesNotExist\''));
  });
  return errs;
}

/** A workload's selector must be non-empty and select its own template (upstream ValidatePodTemplateSpecForReplicaSet). */
export function validateSelectorAndTemplate(selector: LabelSelector | undefined, template: PodTemplateSpec | undefined, path: string, restartPolicies: string[]): FieldError[] {
  const errs: FieldError[] = [];
  if (!selector) errs.push(field.required(`${path}.selector`));
  else {
    errs.push(...validateLabelSelector(selector, `${path}.selector`));
    if (!Object.keys(selector.matchLabels ?? {}).length && !(selector.matchExpressions?.length)) {
      errs.push(field.invalid(`${path}.selector`, selector, 'empty selector is invalid for deployment'));
    }
  }
  if (!template) { errs.push(field.required(`${path}.template`)); return errs; }
  const labels = template.metadata?.labels ?? {};
  errs.push(...validateLabels(template.metadata?.labels, `${path}.template.metadata.labels`));
  errs.push(...validateAnnotations(template.metadata?.annotations, `${path}.template.metadata.annotations`));
  const sel = selector ? fromLabelSelector(selector) : null;
  if (sel && sel.length && !matches(sel, labels)) {
    errs.push(field.invalid(`${path}.template.metadata.labels`, labels, '`selector` does not match template `labels`'));
  }
  errs.push(...validatePodSpec(template.spec, `${path}.template.spec`));
  const rp = template.spec?.restartPolicy;
  if (rp !== undefined && !restartPolicies.includes(rp)) errs.push(field.notSupported(`${path}.template.spec.restartPolicy`, rp, restartPolicies));
  if (template.spec?.activeDeadlineSeconds !== undefined) errs.push(field.forbidden(`${path}.template.spec.activeDeadlineSeconds`, 'activeDeadlineSeconds in ReplicaSet is not Supported'));
  return errs;
}

export function validateReplicaSet(rs: ReplicaSet): FieldError[] {
  const errs: FieldError[] = [];
  const spec = rs.spec;
  if (!spec) return [field.required('spec')];
  if (spec.replicas !== undefined && spec.replicas < 0) errs.push(field.invalid('spec.replicas', spec.replicas, 'must be greater than or equal to 0'));
  if (spec.minReadySeconds !== undefined && spec.minReadySeconds < 0) errs.push(field.invalid('spec.minReadySeconds', spec.minReadySeconds, 'must be greater than or equal to 0'));
  errs.push(...validateSelectorAndTemplate(spec.selector, spec.template, 'spec', ['Always']));
  return errs;
}

export function validateReplicaSetUpdate(next: ReplicaSet, old: ReplicaSet): FieldError[] {
  const errs = validateReplicaSet(next);
  if (!jsonEqual(next.spec?.selector, old.spec?.selector)) errs.push(field.invalid('spec.selector', next.spec?.selector, 'field is immutable'));
  return errs;
}

export function validateReplicaSetStatus(rs: ReplicaSet): FieldError[] {
  const errs: FieldError[] = [];
  const s = rs.status;
  if (!s) return errs;
  for (const k of ['replicas', 'fullyLabeledReplicas', 'readyReplicas', 'availableReplicas', 'observedGeneration'] as const) {
    const v = s[k];
    if (v !== undefined && v < 0) errs.push(field.invalid(`status.${k}`, v, 'must be greater than or equal to 0'));
  }
  if ((s.readyReplicas ?? 0) > (s.replicas ?? 0)) errs.push(field.invalid('status.readyReplicas', s.readyReplicas, 'cannot be greater than status.replicas'));
  if ((s.availableReplicas ?? 0) > (s.readyReplicas ?? 0)) errs.push(field.invalid('status.availableReplicas', s.availableReplicas, 'cannot be greater than readyReplicas'));
  return errs;
}
