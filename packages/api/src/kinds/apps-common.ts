/**
 * Validation helpers shared by the workload kinds (apps/v1, batch/v1, policy/v1): int-or-percent
 * values, non-negative fields, immutable fields and the selector/template pairing, with
 * upstream's wording (pkg/apis/apps/validation, apimachinery util/validation).
 */
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import type { PodSpec, PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import { field, type FieldError } from '../errors.js';
import { fromLabelSelector, matches } from '../labels.js';
import { jsonEqual } from '../meta.js';
import { validateAnnotations, validateLabels } from '../validation.js';
import { validateLabelSelector } from './replicaset.js';
import { validatePodSpec } from './pod.js';

export type IntOrString = number | string;

const PERCENT = /^[0-9]+%$/;
const PERCENT_MSG = "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')";
export const NEGATIVE_MSG = 'must be greater than or equal to 0';
export const IMMUTABLE_MSG = 'field is immutable';

/** upstream ValidateNonnegativeField (unset values are fine). */
export function nonNegative(v: number | undefined | null, path: string): FieldError[] {
  return typeof v === 'number' && v < 0 ? [field.invalid(path, v, NEGATIVE_MSG)] : [];
}

/** upstream ValidateImmutableField (deep equality; unset equals unset). */
export function immutable(next: unknown, old: unknown, path: string): FieldError[] {
  return jsonEqual(next ?? null, old ?? null) ? [] : [field.invalid(path, next ?? null, IMMUTABLE_MSG)];
}

/** upstream ValidatePositiveIntOrPercent: a non-negative integer or "N%". */
export function validateIntOrPercent(v: IntOrString | undefined, path: string): FieldError[] {
  if (v === undefined) return [];
  if (typeof v === 'string') return PERCENT.test(v) ? [] : [field.invalid(path, v, PERCENT_MSG)];
  if (typeof v === 'number' && Number.isInteger(v)) return nonNegative(v, path);
  return [field.invalid(path, v, "must be an integer or percentage (e.g '5%')")];
}

/** The number in an int-or-percent (percent strings give their percentage; bad strings 0). */
export function intOrPercentValue(v: IntOrString | undefined): number {
  if (v === undefined) return 0;
  if (typeof v === 'number') return v;
  if (PERCENT.test(v)) return Number(v.slice(0, -1));
  return /^-?\d+$/.test(v) ? Number(v) : 0;
}

/** upstream IsNotMoreThan100Percent. */
export function notMoreThan100Percent(v: IntOrString | undefined, path: string): FieldError[] {
  if (typeof v !== 'string' || !PERCENT.test(v)) return [];
  return Number(v.slice(0, -1)) > 100 ? [field.invalid(path, v, 'must not be greater than 100%')] : [];
}

/**
 * A workload's selector: required, valid, non-empty ("empty selector is invalid for <noun>"),
 * and matching the template labels; the template's metadata and pod spec are validated and its
 * restart policy must be one of `restartPolicies`. `extraVolumes` are names the pod spec may
 * mount without declaring them (a StatefulSet's volumeClaimTemplates).
 */
export function validateSelectorAndPodTemplate(o: {
  selector: LabelSelector | undefined; template: PodTemplateSpec | undefined; path: string; noun: string;
  restartPolicies: readonly string[]; kindForDeadline?: string; extraVolumes?: readonly string[];
}): FieldError[] {
  const { path } = o;
  const errs: FieldError[] = [];
  if (!o.selector) errs.push(field.required(`${path}.selector`));
  else {
    errs.push(...validateLabelSelector(o.selector, `${path}.selector`));
    if (!Object.keys(o.selector.matchLabels ?? {}).length && !(o.selector.matchExpressions?.length)) {
      errs.push(field.invalid(`${path}.selector`, o.selector, `empty selector is invalid for ${o.noun}`));
    }
  }
  if (!o.template) { errs.push(field.required(`${path}.template`)); return errs; }
  errs.push(...validatePodTemplate(o.template, o.selector, `${path}.template`, o.extraVolumes));
  const rp = o.template.spec?.restartPolicy;
  if (rp !== undefined && !o.restartPolicies.includes(rp)) errs.push(field.notSupported(`${path}.template.spec.restartPolicy`, rp, o.restartPolicies));
  if (o.kindForDeadline && o.template.spec?.activeDeadlineSeconds !== undefined) {
    errs.push(field.forbidden(`${path}.template.spec.activeDeadlineSeconds`, `activeDeadlineSeconds in ${o.kindForDeadline} is not Supported`));
  }
  return errs;
}

/** The template's labels match the selector (when it is usable), metadata and pod spec are valid. */
export function validatePodTemplate(template: PodTemplateSpec, selector: LabelSelector | undefined, path: string, extraVolumes: readonly string[] = []): FieldError[] {
  const errs: FieldError[] = [];
  const labels = template.metadata?.labels ?? {};
  let sel = null;
  try { sel = fromLabelSelector(selector); } catch { sel = null; }
  if (sel && sel.length && !matches(sel, labels)) {
    errs.push(field.invalid(`${path}.metadata.labels`, labels, '`selector` does not match template `labels`'));
  }
  errs.push(...validateLabels(template.metadata?.labels, `${path}.metadata.labels`));
  errs.push(...validateAnnotations(template.metadata?.annotations, `${path}.metadata.annotations`));
  let spec: PodSpec | undefined = template.spec;
  if (spec && extraVolumes.length) {
    // claim templates become volumes of the pods: mounts may refer to them
    spec = { ...spec, volumes: [...(spec.volumes ?? []), ...extraVolumes.map((name) => ({ name, persistentVolumeClaim: { claimName: name } }))] };
  }
  errs.push(...validatePodSpec(spec, `${path}.spec`).filter((e) => !extraVolumes.length || !/\.volumes\[\d+\]/.test(e.field) || !isExtraVolumeError(e, spec, extraVolumes, path)));
  return errs;
}

function isExtraVolumeError(e: FieldError, spec: PodSpec | undefined, extra: readonly string[], path: string): boolean {
  const m = new RegExp(`^${path.replace(/[.[\]]/g, '\\$&')}\\.spec\\.volumes\\[(\\d+)\\]`).exec(e.field);
  if (!m || !spec?.volumes) return false;
  const i = Number(m[1]);
  return i >= spec.volumes.length - extra.length;
}
