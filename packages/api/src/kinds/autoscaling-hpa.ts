/**
 * HorizontalPodAutoscaler defaulting and validation (autoscaling/v2, the stored version;
 * upstream pkg/apis/autoscaling/v2/defaults.go and pkg/apis/autoscaling/validation). autoscaling/v1
 * objects are validated by converting them to v2 first (./autoscaling-conversion.ts), as upstream
 * validates the internal version: v1 errors then name v2 paths like `spec.metrics[0]…`.
 */
import type { HPAScalingRules, HorizontalPodAutoscaler, MetricSpec, MetricTarget } from 'kubernetes-types/autoscaling/v2.js';
import type { CrossVersionObjectReference } from 'kubernetes-types/autoscaling/v2.js';
import { field, type FieldError } from '../errors.js';
import { parseQuantity } from '../quantity.js';
import { isDNS1123Label } from '../validation.js';
import { nonNegative } from './apps-common.js';
export type {
  HorizontalPodAutoscaler as HorizontalPodAutoscalerV2, MetricSpec as HPAMetricSpec, MetricStatus as HPAMetricStatus,
} from 'kubernetes-types/autoscaling/v2.js';
export type { HorizontalPodAutoscaler as HorizontalPodAutoscalerV1 } from 'kubernetes-types/autoscaling/v1.js';

export const DEFAULT_CPU_UTILIZATION = 80;
const MAX_PERIOD_SECONDS = 1800;
const MAX_STABILIZATION_WINDOW_SECONDS = 3600;

const defaultScaleUp = (): HPAScalingRules => ({
  stabilizationWindowSeconds: 0, selectPolicy: 'Max',
  policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }],
});
// stabilizationWindowSeconds stays unset: the controller's --horizontal-pod-autoscaler-downscale-stabilization decides
const defaultScaleDown = (): HPAScalingRules => ({ selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] });

function fillRules(from: HPAScalingRules | undefined, to: HPAScalingRules): HPAScalingRules {
  if (!from) return to;
  if (from.selectPolicy !== undefined) to.selectPolicy = from.selectPolicy;
  if (from.stabilizationWindowSeconds !== undefined) to.stabilizationWindowSeconds = from.stabilizationWindowSeconds;
  if (from.policies !== undefined) to.policies = from.policies;
  const tol = (from as { tolerance?: unknown }).tolerance;
  if (tol !== undefined) (to as { tolerance?: unknown }).tolerance = tol;
  return to;
}

/** The default v2 metric: 80 % average CPU utilization. */
export function defaultCpuMetric(utilization = DEFAULT_CPU_UTILIZATION): MetricSpec {
  return { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: utilization } } };
}

/**
 * upstream v2 SetDefaults_HorizontalPodAutoscaler: minReplicas 1, metrics [80 % CPU] when none,
 * and when behavior is given, every unset scaling rule field from the defaults (scale up:
 * window 0, Max of 4 pods / 100 % per 15 s; scale down: Max of 100 % per 15 s).
 */
export function defaultHPAv2(h: HorizontalPodAutoscaler): void {
  h.spec ??= { maxReplicas: 0, scaleTargetRef: { kind: '', name: '' } };
  const spec = h.spec;
  spec.minReplicas ??= 1;
  if (!spec.metrics?.length) spec.metrics = [defaultCpuMetric()];
  if (spec.behavior) {
    spec.behavior.scaleUp = fillRules(spec.behavior.scaleUp, defaultScaleUp());
    spec.behavior.scaleDown = fillRules(spec.behavior.scaleDown, defaultScaleDown());
  }
}

/** upstream IsValidPathSegmentName (names that become URL path segments). */
export function isValidPathSegmentName(name: string): string[] {
  if (name === '.' || name === '..') return [`may not be '${name}'`];
  const errs: string[] = [];
  if (name.includes('/')) errs.push("may not contain '/'");
  if (name.includes('%')) errs.push("may not contain '%'");
  return errs;
}

export function validateCrossVersionObjectReference(ref: Partial<CrossVersionObjectReference> | undefined, p: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!ref?.kind) errs.push(field.required(`${p}.kind`));
  else for (const m of isValidPathSegmentName(ref.kind)) errs.push(field.invalid(`${p}.kind`, ref.kind, m));
  if (!ref?.name) errs.push(field.required(`${p}.name`));
  else for (const m of isValidPathSegmentName(ref.name)) errs.push(field.invalid(`${p}.name`, ref.name, m));
  return errs;
}

function positive(q: string | number | undefined): boolean {
  if (q === undefined) return true;
  try { return parseQuantity(q) > 0; } catch { return false; }
}

function validateMetricTarget(t: Partial<MetricTarget> | undefined, p: string): FieldError[] {
  const errs: FieldError[] = [];
  const mt = t ?? {};
  if (!mt.type) errs.push(field.required(`${p}.type`, 'must specify a metric target type'));
  if (mt.type !== 'Utilization' && mt.type !== 'Value' && mt.type !== 'AverageValue') {
    errs.push(field.invalid(`${p}.type`, mt.type ?? '', 'must be either Utilization, Value, or AverageValue'));
  }
  if (!positive(mt.value)) errs.push(field.invalid(`${p}.value`, mt.value, 'must be positive'));
  if (!positive(mt.averageValue)) errs.push(field.invalid(`${p}.averageValue`, mt.averageValue, 'must be positive'));
  if (mt.averageUtilization !== undefined && mt.averageUtilization < 1) errs.push(field.invalid(`${p}.averageUtilization`, mt.averageUtilization, 'must be greater than 0'));
  return errs;
}

function validateMetricIdentifier(id: { name?: string } | undefined, p: string): FieldError[] {
  if (!id?.name) return [field.required(`${p}.name`, 'must specify a metric name')];
  return isValidPathSegmentName(id.name).map((m) => field.invalid(`${p}.name`, id.name, m));
}

const METRIC_TYPES = ['ContainerResource', 'External', 'Object', 'Pods', 'Resource'];
const SOURCE_FIELD: Record<string, keyof MetricSpec> = {
  Object: 'object', Pods: 'pods', Resource: 'resource', External: 'external', ContainerResource: 'containerResource',
};

function validateMetricSpec(m: MetricSpec, p: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!m.type) errs.push(field.required(`${p}.type`, 'must specify a metric source type'));
  if (!METRIC_TYPES.includes(m.type)) errs.push(field.notSupported(`${p}.type`, m.type ?? '', METRIC_TYPES));
  const present: string[] = [];
  // the first source present is validated (upstream order: object, external, pods, resource, containerResource)
  if (m.object) {
    present.push('object');
    if (present.length === 1) {
      const o = m.object;
      errs.push(...validateCrossVersionObjectReference(o.describedObject, `${p}.object.describedObject`));
      errs.push(...validateMetricIdentifier(o.metric, `${p}.object.metric`));
      errs.push(...validateMetricTarget(o.target, `${p}.object.target`));
      if (o.target?.value === undefined && o.target?.averageValue === undefined) errs.push(field.required(`${p}.object.target.averageValue`, 'must set either a target value or averageValue'));
    }
  }
  if (m.external) {
    present.push('external');
    if (present.length === 1) {
      const e = m.external;
      errs.push(...validateMetricIdentifier(e.metric, `${p}.external.metric`));
      errs.push(...validateMetricTarget(e.target, `${p}.external.target`));
      if (e.target?.value === undefined && e.target?.averageValue === undefined) errs.push(field.required(`${p}.external.target.averageValue`, 'must set either a target value for metric or a per-pod target'));
      if (e.target?.value !== undefined && e.target?.averageValue !== undefined) errs.push(field.forbidden(`${p}.external.target.value`, 'may not set both a target value for metric and a per-pod target'));
    }
  }
  if (m.pods) {
    present.push('pods');
    if (present.length === 1) {
      errs.push(...validateMetricIdentifier(m.pods.metric, `${p}.pods.metric`));
      errs.push(...validateMetricTarget(m.pods.target, `${p}.pods.target`));
      if (m.pods.target?.averageValue === undefined) errs.push(field.required(`${p}.pods.target.averageValue`, 'must specify a positive target averageValue'));
    }
  }
  for (const key of ['resource', 'containerResource'] as const) {
    const r = m[key];
    if (!r) continue;
    present.push(key);
    if (present.length !== 1) continue;
    const rp = `${p}.${key}`;
    if (!r.name) errs.push(field.required(`${rp}.name`, 'must specify a resource name'));
    if (key === 'containerResource') {
      const c = (r as { container?: string }).container;
      if (!c) errs.push(field.required(`${rp}.container`, 'must specify a container'));
      else for (const msg of isDNS1123Label(c)) errs.push(field.invalid(`${rp}.container`, c, msg));
    }
    errs.push(...validateMetricTarget(r.target, `${rp}.target`));
    if (r.target?.averageUtilization === undefined && r.target?.averageValue === undefined) errs.push(field.required(`${rp}.target.averageUtilization`, 'must set either a target raw value or a target utilization'));
    if (r.target?.averageUtilization !== undefined && r.target?.averageValue !== undefined) errs.push(field.forbidden(`${rp}.target.averageValue`, 'may not set both a target raw value and a target utilization'));
  }
  const expected = SOURCE_FIELD[m.type];
  if (expected && !m[expected]) errs.push(field.required(`${p}.${expected}`, 'must populate information for the given metric source'));
  if (!expected && m.type) errs.push(field.notSupported(`${p}.type`, m.type, METRIC_TYPES));
  if (present.length !== 1) {
    for (const t of present) if (t !== expected) errs.push(field.forbidden(`${p}.${t}`, 'must populate the given metric source only'));
  }
  return errs;
}

function validateScalingRules(r: HPAScalingRules | undefined, p: string): FieldError[] {
  if (!r) return [];
  const errs: FieldError[] = [];
  const w = r.stabilizationWindowSeconds;
  if (w !== undefined && w < 0) errs.push(field.invalid(`${p}.stabilizationWindowSeconds`, w, 'must be greater than or equal to zero'));
  if (w !== undefined && w > MAX_STABILIZATION_WINDOW_SECONDS) errs.push(field.invalid(`${p}.stabilizationWindowSeconds`, w, `must be less than or equal to ${MAX_STABILIZATION_WINDOW_SECONDS}`));
  if (r.selectPolicy !== undefined && !['Disabled', 'Max', 'Min'].includes(r.selectPolicy)) errs.push(field.notSupported(`${p}.selectPolicy`, r.selectPolicy, ['Disabled', 'Max', 'Min']));
  if (!r.policies?.length) errs.push(field.required(`${p}.policies`, 'must specify at least one Policy'));
  (r.policies ?? []).forEach((pol, i) => {
    const pp = `${p}.policies[${i}]`;
    if (pol.type !== 'Pods' && pol.type !== 'Percent') errs.push(field.notSupported(`${pp}.type`, pol.type ?? '', ['Percent', 'Pods']));
    if (!(pol.value > 0)) errs.push(field.invalid(`${pp}.value`, pol.value ?? 0, 'must be greater than zero'));
    if (!(pol.periodSeconds > 0)) errs.push(field.invalid(`${pp}.periodSeconds`, pol.periodSeconds ?? 0, 'must be greater than zero'));
    if (pol.periodSeconds > MAX_PERIOD_SECONDS) errs.push(field.invalid(`${pp}.periodSeconds`, pol.periodSeconds, `must be less than or equal to ${MAX_PERIOD_SECONDS}`));
  });
  return errs;
}

/**
 * upstream validateHorizontalPodAutoscalerSpec. `minReplicasLowerBound` is 1 (scale to zero is
 * an alpha feature), or 0 on updates of objects that already have minReplicas 0.
 */
export function validateHPAv2(h: HorizontalPodAutoscaler, minReplicasLowerBound = 1): FieldError[] {
  const spec = h.spec;
  if (!spec) return [field.required('spec')];
  const errs: FieldError[] = [];
  if (spec.minReplicas !== undefined && spec.minReplicas < minReplicasLowerBound) {
    errs.push(field.invalid('spec.minReplicas', spec.minReplicas, `must be greater than or equal to ${minReplicasLowerBound}`));
  }
  if (!(spec.maxReplicas >= 1)) errs.push(field.invalid('spec.maxReplicas', spec.maxReplicas ?? 0, 'must be greater than 0'));
  if (spec.minReplicas !== undefined && (spec.maxReplicas ?? 0) < spec.minReplicas) {
    errs.push(field.invalid('spec.maxReplicas', spec.maxReplicas ?? 0, 'must be greater than or equal to `minReplicas`'));
  }
  errs.push(...validateCrossVersionObjectReference(spec.scaleTargetRef, 'spec.scaleTargetRef'));
  let hasObjectOrExternal = false;
  (spec.metrics ?? []).forEach((m, i) => {
    errs.push(...validateMetricSpec(m, `spec.metrics[${i}]`));
    if (m.type === 'Object' || m.type === 'External') hasObjectOrExternal = true;
  });
  if (spec.minReplicas === 0 && !hasObjectOrExternal) {
    errs.push(field.forbidden('spec.metrics', 'must specify at least one Object or External metric to support scaling to zero replicas'));
  }
  if (spec.behavior) {
    errs.push(...validateScalingRules(spec.behavior.scaleUp, 'spec.behavior.scaleUp'));
    errs.push(...validateScalingRules(spec.behavior.scaleDown, 'spec.behavior.scaleDown'));
  }
  return errs;
}

export function validateHPAv2Update(next: HorizontalPodAutoscaler, old: HorizontalPodAutoscaler): FieldError[] {
  return validateHPAv2(next, old.spec?.minReplicas === 0 ? 0 : 1);
}

/** upstream ValidateHorizontalPodAutoscalerStatusUpdate. */
export function validateHPAStatus(h: { status?: { currentReplicas?: number; desiredReplicas?: number } }): FieldError[] {
  return [...nonNegative(h.status?.currentReplicas, 'status.currentReplicas'), ...nonNegative(h.status?.desiredReplicas, 'status.desiredReplicas')];
}
