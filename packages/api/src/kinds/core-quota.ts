/**
 * LimitRange and ResourceQuota defaulting and validation (upstream SetDefaults_LimitRangeItem,
 * ValidateLimitRange, ValidateResourceQuota*). Enforcement (the LimitRanger and ResourceQuota
 * admission plugins, the quota controller) is not part of this module.
 */
import type { LimitRange, LimitRangeItem, ResourceQuota } from 'kubernetes-types/core/v1.js';
import { field, type FieldError } from '../errors.js';
import { jsonEqual } from '../meta.js';
import {
  FIELD_IMMUTABLE, qualifiedName, quantityValue, validateContainerResourceName, validateQuotaResourceName,
  validateResourceName, validateResourceQuantity,
} from './core-common.js';

export type { LimitRange, ResourceQuota };

type ResourceList = Record<string, string>;

/** upstream SetDefaults_LimitRangeItem: container defaults come from max, requests from defaults or min. */
export function defaultLimitRange(lr: LimitRange): void {
  for (const item of lr.spec?.limits ?? []) {
    if (item.type !== 'Container') continue;
    const def: ResourceList = { ...(item.default ?? {}) };
    const req: ResourceList = { ...(item.defaultRequest ?? {}) };
    for (const [k, v] of Object.entries(item.max ?? {})) if (!(k in def)) def[k] = v;
    for (const [k, v] of Object.entries(def)) if (!(k in req)) req[k] = v;
    for (const [k, v] of Object.entries(item.min ?? {})) if (!(k in req)) req[k] = v;
    if (Object.keys(def).length) item.default = def;
    if (Object.keys(req).length) item.defaultRequest = req;
  }
}

const STANDARD_LIMIT_TYPES = ['Pod', 'Container', 'PersistentVolumeClaim'];
/** Resources that may not be overcommitted (upstream IsOvercommitAllowed is false for them). */
const noOvercommit = (k: string) => k.startsWith('hugepages-') || (k.includes('/') && !k.includes('kubernetes.io/'));

function limitTypeErrors(path: string, t: string | undefined): FieldError[] {
  const v = t ?? '';
  const errs = qualifiedName(path, v);
  if (errs.length) return errs;
  if (!v.includes('/') && !STANDARD_LIMIT_TYPES.includes(v)) return [field.invalid(path, v, 'must be a standard limit type or fully qualified')];
  return [];
}

function resourceNameErrors(type: string | undefined, path: string, name: string): FieldError[] {
  return type === 'Pod' || type === 'Container' ? validateContainerResourceName(path, name) : validateResourceName(path, name);
}

export function validateLimitRange(lr: LimitRange): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  (lr.spec?.limits ?? []).forEach((item: LimitRangeItem, i) => {
    const p = `spec.limits[${i}]`;
    errs.push(...limitTypeErrors(`${p}.type`, item.type));
    if (seen.has(item.type)) errs.push(field.duplicate(`${p}.type`, item.type));
    seen.add(item.type);
    const keys = new Set<string>();
    const collect = (what: 'max' | 'min' | 'default' | 'defaultRequest' | 'maxLimitRequestRatio') => {
      for (const k of Object.keys(item[what] ?? {})) {
        errs.push(...resourceNameErrors(item.type, `${p}.${what}[${k}]`, k));
        keys.add(k);
      }
    };
    collect('max');
    collect('min');
    if (item.type === 'Pod') {
      if (Object.keys(item.default ?? {}).length) errs.push(field.forbidden(`${p}.default`, "may not be specified when `type` is 'Pod'"));
      if (Object.keys(item.defaultRequest ?? {}).length) errs.push(field.forbidden(`${p}.defaultRequest`, "may not be specified when `type` is 'Pod'"));
    } else {
      collect('default');
      collect('defaultRequest');
    }
    if (item.type === 'PersistentVolumeClaim' && !(item.min && 'storage' in item.min) && !(item.max && 'storage' in item.max)) {
      errs.push(field.required(`${p}.limits`, 'either minimum or maximum storage value is required, but neither was provided'));
    }
    collect('maxLimitRequestRatio');
    for (const k of keys) {
      const q = (m: ResourceList | undefined) => (m && k in m ? { s: m[k]!, v: quantityValue(m[k]) } : undefined);
      const min = q(item.min); const max = q(item.max); const def = q(item.default); const req = q(item.defaultRequest);
      const ratio = q(item.maxLimitRequestRatio);
      const gt = (a?: { v: number | undefined }, b?: { v: number | undefined }) => !!a && !!b && a.v !== undefined && b.v !== undefined && a.v > b.v;
      if (gt(min, max)) errs.push(field.invalid(`${p}.min[${k}]`, min!.s, `min value ${min!.s} is greater than max value ${max!.s}`));
      if (gt(min, req)) errs.push(field.invalid(`${p}.defaultRequest[${k}]`, req!.s, `min value ${min!.s} is greater than default request value ${req!.s}`));
      if (gt(req, max)) errs.push(field.invalid(`${p}.defaultRequest[${k}]`, req!.s, `default request value ${req!.s} is greater than max value ${max!.s}`));
      if (gt(req, def)) errs.push(field.invalid(`${p}.defaultRequest[${k}]`, req!.s, `default request value ${req!.s} is greater than default limit value ${def!.s}`));
      if (gt(min, def)) errs.push(field.invalid(`${p}.default[${k}]`, min!.s, `min value ${min!.s} is greater than default value ${def!.s}`));
      if (gt(def, max)) errs.push(field.invalid(`${p}.default[${k}]`, max!.s, `default value ${def!.s} is greater than max value ${max!.s}`));
      if (ratio?.v !== undefined && ratio.v < 1) errs.push(field.invalid(`${p}.maxLimitRequestRatio[${k}]`, ratio.s, `ratio ${ratio.s} is less than 1`));
      if (ratio?.v !== undefined && min?.v && max?.v !== undefined) {
        const limit = max.v / min.v;
        if (ratio.v > limit) errs.push(field.invalid(`${p}.maxLimitRequestRatio[${k}]`, ratio.s, `ratio ${ratio.s} is greater than max/min = ${limit.toFixed(6)}`));
      }
      if (noOvercommit(k) && def && req && def.v !== req.v) {
        errs.push(field.invalid(`${p}.defaultRequest[${k}]`, req.s, `default value ${def.s} must equal to defaultRequest value ${req.s} in ${k}`));
      }
    }
  });
  return errs;
}

// ---- ResourceQuota --------------------------------------------------------------------------

const SCOPES = ['Terminating', 'NotTerminating', 'BestEffort', 'NotBestEffort', 'PriorityClass', 'CrossNamespacePodAffinity'];
const POD_OBJECT_COUNT = new Set(['pods', 'count/pods']);
const POD_COMPUTE = new Set(['cpu', 'memory', 'limits.cpu', 'limits.memory', 'requests.cpu', 'requests.memory', 'ephemeral-storage', 'requests.ephemeral-storage', 'limits.ephemeral-storage']);

/** upstream IsResourceQuotaScopeValidForResource, for standard resources. */
function scopeValidFor(scope: string, resource: string): boolean {
  switch (scope) {
    case 'Terminating': case 'NotTerminating': case 'NotBestEffort': case 'PriorityClass':
      return POD_OBJECT_COUNT.has(resource) || POD_COMPUTE.has(resource) || resource.startsWith('hugepages-') || resource.startsWith('requests.hugepages-');
    case 'BestEffort': case 'CrossNamespacePodAffinity':
      return POD_OBJECT_COUNT.has(resource);
    default:
      return false;
  }
}

const isStandardQuotaName = (k: string) => validateQuotaResourceName('x', k).length === 0 && !k.includes('/');

function validateQuotaSpec(rq: ResourceQuota): FieldError[] {
  const errs: FieldError[] = [];
  const hard = rq.spec?.hard ?? {};
  for (const [k, v] of Object.entries(hard)) {
    errs.push(...validateQuotaResourceName(`spec.hard[${k}]`, k), ...validateResourceQuantity(`spec.hard[${k}]`, k, v));
  }
  const scopes = rq.spec?.scopes ?? [];
  const conflicting = (set: Set<string>, path: string, value: unknown) => {
    if ((set.has('BestEffort') && set.has('NotBestEffort')) || (set.has('Terminating') && set.has('NotTerminating'))) {
      errs.push(field.invalid(path, value, 'conflicting scopes'));
    }
  };
  if (scopes.length) {
    for (const s of scopes) {
      if (!SCOPES.includes(s)) errs.push(field.invalid('spec.scopes', scopes, 'unsupported scope'));
      for (const k of Object.keys(hard).sort()) {
        if (isStandardQuotaName(k) && !scopeValidFor(s, k)) errs.push(field.invalid('spec.scopes', scopes, 'unsupported scope applied to resource'));
      }
    }
    conflicting(new Set(scopes), 'spec.scopes', scopes);
  }
  const sel = rq.spec?.scopeSelector;
  if (sel) {
    const p = 'spec.scopeSelector.matchExpressions';
    const names = new Set<string>();
    for (const req of sel.matchExpressions ?? []) {
      if (!SCOPES.includes(req.scopeName)) errs.push(field.invalid(`${p}.scopeName`, req.scopeName, 'unsupported scope'));
      for (const k of Object.keys(hard).sort()) {
        if (isStandardQuotaName(k) && !scopeValidFor(req.scopeName, k)) errs.push(field.invalid(p, sel, 'unsupported scope applied to resource'));
      }
      if (['BestEffort', 'NotBestEffort', 'Terminating', 'NotTerminating', 'CrossNamespacePodAffinity'].includes(req.scopeName) && req.operator !== 'Exists') {
        errs.push(field.invalid(`${p}.operator`, req.operator, "must be 'Exists' when scope is any of ResourceQuotaScopeTerminating, ResourceQuotaScopeNotTerminating, ResourceQuotaScopeBestEffort, ResourceQuotaScopeNotBestEffort or ResourceQuotaScopeCrossNamespacePodAffinity"));
      }
      switch (req.operator) {
        case 'In': case 'NotIn':
          if (!req.values?.length) errs.push(field.required(`${p}.values`, "must be at least one value when `operator` is 'In' or 'NotIn' for scope selector"));
          break;
        case 'Exists': case 'DoesNotExist':
          if (req.values?.length) errs.push(field.invalid(`${p}.values`, req.values, "must be no value when `operator` is 'Exist' or 'DoesNotExist' for scope selector"));
          break;
        default:
          errs.push(field.invalid(`${p}.operator`, req.operator, 'not a valid selector operator'));
      }
      names.add(req.scopeName);
    }
    conflicting(names, p, scopes);
  }
  return errs;
}

function validateQuotaStatus(rq: ResourceQuota): FieldError[] {
  const errs: FieldError[] = [];
  for (const what of ['hard', 'used'] as const) {
    for (const [k, v] of Object.entries(rq.status?.[what] ?? {})) {
      errs.push(...validateQuotaResourceName(`status.${what}[${k}]`, k), ...validateResourceQuantity(`status.${what}[${k}]`, k, v));
    }
  }
  return errs;
}

export function validateResourceQuota(rq: ResourceQuota): FieldError[] {
  return [...validateQuotaSpec(rq), ...validateQuotaStatus(rq)];
}

export function validateResourceQuotaUpdate(next: ResourceQuota, old: ResourceQuota): FieldError[] {
  const errs = validateQuotaSpec(next);
  const a = new Set(next.spec?.scopes ?? []);
  const b = new Set(old.spec?.scopes ?? []);
  if (!jsonEqual([...a].sort(), [...b].sort())) errs.push(field.invalid('spec.scopes', next.spec?.scopes ?? null, FIELD_IMMUTABLE));
  return errs;
}

/** /status writes (upstream also requires metadata.resourceVersion; the generic store checks it when sent). */
export function validateResourceQuotaStatus(rq: ResourceQuota): FieldError[] {
  return validateQuotaStatus(rq);
}
