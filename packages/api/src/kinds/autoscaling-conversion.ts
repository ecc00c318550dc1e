/**
 * autoscaling/v1 ↔ autoscaling/v2 HorizontalPodAutoscaler conversion (v2 is stored), the way
 * upstream converts v1 through the internal version (pkg/apis/autoscaling/v1/conversion.go):
 *
 * - v1 `spec.targetCPUUtilizationPercentage` ↔ the first v2 `Resource` metric for `cpu` with a
 *   `Utilization` target; v1 `status.currentCPUUtilizationPercentage` ↔ that metric's status.
 * - everything else v1 cannot express travels in annotations, in v1's (formerly alpha) metric
 *   shapes: `autoscaling.alpha.kubernetes.io/metrics` (other metric specs),
 *   `…/current-metrics` (all metric statuses), `…/conditions` (status conditions) and
 *   `…/behavior` (spec.behavior). Reading v1 from v2 writes them; writing v1 reads and removes them.
 * - a v1 object with neither a CPU target nor other metrics gets the 80 % CPU default.
 *
 * Deviation, for a lossless round trip: upstream fills an unset Object/External `targetValue`
 * (and current values) with a zero quantity; here unset stays unset in both directions.
 * Neither direction mutates its input.
 */
import type * as v1 from 'kubernetes-types/autoscaling/v1.js';
import type * as v2 from 'kubernetes-types/autoscaling/v2.js';
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import { badRequest } from '../errors.js';
import { defaultCpuMetric } from './autoscaling-hpa.js';

export const METRIC_SPECS_ANNOTATION = 'autoscaling.alpha.kubernetes.io/metrics';
export const METRIC_STATUSES_ANNOTATION = 'autoscaling.alpha.kubernetes.io/current-metrics';
export const CONDITIONS_ANNOTATION = 'autoscaling.alpha.kubernetes.io/conditions';
export const BEHAVIOR_ANNOTATION = 'autoscaling.alpha.kubernetes.io/behavior';
const ROUND_TRIP = [METRIC_SPECS_ANNOTATION, METRIC_STATUSES_ANNOTATION, CONDITIONS_ANNOTATION, BEHAVIOR_ANNOTATION];

type Q = string;
type Obj = Record<string, unknown>;

/** v1's (alpha) metric shapes, as they appear in the annotations. */
interface V1MetricSpec {
  type: string;
  object?: { target: v1.CrossVersionObjectReference; metricName: string; targetValue?: Q; selector?: LabelSelector; averageValue?: Q };
  pods?: { metricName: string; targetAverageValue?: Q; selector?: LabelSelector };
  resource?: { name: string; targetAverageUtilization?: number; targetAverageValue?: Q };
  containerResource?: { name: string; container: string; targetAverageUtilization?: number; targetAverageValue?: Q };
  external?: { metricName: string; metricSelector?: LabelSelector; targetValue?: Q; targetAverageValue?: Q };
}
interface V1MetricStatus {
  type: string;
  object?: { target: v1.CrossVersionObjectReference; metricName: string; currentValue?: Q; selector?: LabelSelector; averageValue?: Q };
  pods?: { metricName: string; currentAverageValue?: Q; selector?: LabelSelector };
  resource?: { name: string; currentAverageUtilization?: number; currentAverageValue?: Q };
  containerResource?: { name: string; container: string; currentAverageUtilization?: number; currentAverageValue?: Q };
  external?: { metricName: string; metricSelector?: LabelSelector; currentValue?: Q; currentAverageValue?: Q };
}

/** Copies only the defined entries (JSON has no undefined). */
function def<T extends Obj>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

const ref = (r: { kind?: string; name?: string; apiVersion?: string } | undefined) => def({ kind: r?.kind ?? '', name: r?.name ?? '', apiVersion: r?.apiVersion });

// ---- metric specs -------------------------------------------------------------------------

function specToV1(m: v2.MetricSpec): V1MetricSpec {
  const out: V1MetricSpec = { type: m.type };
  if (m.object) out.object = def({ target: ref(m.object.describedObject), metricName: m.object.metric?.name ?? '', targetValue: m.object.target?.value, selector: m.object.metric?.selector, averageValue: m.object.target?.averageValue });
  if (m.pods) out.pods = def({ metricName: m.pods.metric?.name ?? '', targetAverageValue: m.pods.target?.averageValue, selector: m.pods.metric?.selector });
  if (m.resource) out.resource = def({ name: m.resource.name, targetAverageUtilization: m.resource.target?.averageUtilization, targetAverageValue: m.resource.target?.averageValue });
  if (m.containerResource) out.containerResource = def({ name: m.containerResource.name, container: m.containerResource.container, targetAverageUtilization: m.containerResource.target?.averageUtilization, targetAverageValue: m.containerResource.target?.averageValue });
  if (m.external) out.external = def({ metricName: m.external.metric?.name ?? '', metricSelector: m.external.metric?.selector, targetValue: m.external.target?.value, targetAverageValue: m.external.target?.averageValue });
  return out;
}

const ident = (name: string, selector: LabelSelector | undefined): v2.MetricIdentifier => def({ name, selector });

function specFromV1(m: V1MetricSpec): v2.MetricSpec {
  const out: v2.MetricSpec = { type: m.type };
  if (m.object) {
    const o = m.object;
    out.object = { describedObject: ref(o.target), metric: ident(o.metricName, o.selector), target: def({ type: o.averageValue === undefined ? 'Value' : 'AverageValue', value: o.targetValue, averageValue: o.averageValue }) };
  }
  if (m.pods) out.pods = { metric: ident(m.pods.metricName, m.pods.selector), target: def({ type: 'AverageValue', averageValue: m.pods.targetAverageValue }) };
  if (m.resource) {
    const r = m.resource;
    out.resource = { name: r.name, target: def({ type: r.targetAverageUtilization === undefined ? 'AverageValue' : 'Utilization', averageUtilization: r.targetAverageUtilization, averageValue: r.targetAverageValue }) };
  }
  if (m.containerResource) {
    const r = m.containerResource;
    out.containerResource = { name: r.name, container: r.container, target: def({ type: r.targetAverageUtilization === undefined ? 'AverageValue' : 'Utilization', averageUtilization: r.targetAverageUtilization, averageValue: r.targetAverageValue }) };
  }
  if (m.external) {
    const e = m.external;
    out.external = { metric: ident(e.metricName, e.metricSelector), target: def({ type: e.targetValue === undefined ? 'AverageValue' : 'Value', value: e.targetValue, averageValue: e.targetAverageValue }) };
  }
  return out;
}

// ---- metric statuses ----------------------------------------------------------------------

function statusToV1(m: v2.MetricStatus): V1MetricStatus {
  const out: V1MetricStatus = { type: m.type };
  if (m.object) out.object = def({ target: ref(m.object.describedObject), metricName: m.object.metric?.name ?? '', currentValue: m.object.current?.value, selector: m.object.metric?.selector, averageValue: m.object.current?.averageValue });
  if (m.pods) out.pods = def({ metricName: m.pods.metric?.name ?? '', currentAverageValue: m.pods.current?.averageValue, selector: m.pods.metric?.selector });
  if (m.resource) out.resource = def({ name: m.resource.name, currentAverageUtilization: m.resource.current?.averageUtilization, currentAverageValue: m.resource.current?.averageValue });
  if (m.containerResource) out.containerResource = def({ name: m.containerResource.name, container: m.containerResource.container, currentAverageUtilization: m.containerResource.current?.averageUtilization, currentAverageValue: m.containerResource.current?.averageValue });
  if (m.external) out.external = def({ metricName: m.external.metric?.name ?? '', metricSelector: m.external.metric?.selector, currentValue: m.external.current?.value, currentAverageValue: m.external.current?.averageValue });
  return out;
}

function statusFromV1(m: V1MetricStatus): v2.MetricStatus {
  const out: v2.MetricStatus = { type: m.type };
  if (m.object) out.object = { describedObject: ref(m.object.target), metric: ident(m.object.metricName, m.object.selector), current: def({ value: m.object.currentValue, averageValue: m.object.averageValue }) };
  if (m.pods) out.pods = { metric: ident(m.pods.metricName, m.pods.selector), current: def({ averageValue: m.pods.currentAverageValue }) };
  if (m.resource) out.resource = { name: m.resource.name, current: def({ averageUtilization: m.resource.currentAverageUtilization, averageValue: m.resource.currentAverageValue }) };
  if (m.containerResource) out.containerResource = { name: m.containerResource.name, container: m.containerResource.container, current: def({ averageUtilization: m.containerResource.currentAverageUtilization, averageValue: m.containerResource.currentAverageValue }) };
  if (m.external) out.external = { metric: ident(m.external.metricName, m.external.metricSelector), current: def({ value: m.external.currentValue, averageValue: m.external.currentAverageValue }) };
  return out;
}

// ---- objects -------------------------------------------------------------------------------

const isCpuUtilization = (m: v2.MetricSpec) => m.type === 'Resource' && m.resource?.name === 'cpu' && m.resource.target?.averageUtilization !== undefined;

/** The v1 view of a stored (v2) HorizontalPodAutoscaler. */
export function hpaV2ToV1(h: v2.HorizontalPodAutoscaler): v1.HorizontalPodAutoscaler {
  const src = structuredClone(h);
  const meta = { ...(src.metadata ?? {}) };
  const ann: Record<string, string> = { ...(meta.annotations ?? {}) };
  for (const k of ROUND_TRIP) delete ann[k];
  const spec = src.spec ?? { maxReplicas: 0, scaleTargetRef: { kind: '', name: '' } };
  const metrics = spec.metrics ?? [];
  const cpu = metrics.find((m) => m.type === 'Resource' && m.resource?.name === 'cpu');
  const others = metrics.filter((m) => !isCpuUtilization(m)).map(specToV1);
  if (others.length) ann[METRIC_SPECS_ANNOTATION] = JSON.stringify(others);
  const status = src.status;
  if (status?.currentMetrics?.length) ann[METRIC_STATUSES_ANNOTATION] = JSON.stringify(status.currentMetrics.map(statusToV1));
  if (status?.conditions?.length) ann[CONDITIONS_ANNOTATION] = JSON.stringify(status.conditions);
  if (spec.behavior) ann[BEHAVIOR_ANNOTATION] = JSON.stringify(spec.behavior);
  if (Object.keys(ann).length) meta.annotations = ann; else delete meta.annotations;
  let currentCPU: number | undefined;
  for (const m of status?.currentMetrics ?? []) {
    if (m.type === 'Resource' && m.resource?.name === 'cpu' && m.resource.current?.averageUtilization !== undefined) currentCPU = m.resource.current.averageUtilization;
  }
  const out: v1.HorizontalPodAutoscaler = {
    apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: meta,
    spec: def({
      scaleTargetRef: ref(spec.scaleTargetRef) as v1.CrossVersionObjectReference,
      minReplicas: spec.minReplicas, maxReplicas: spec.maxReplicas,
      targetCPUUtilizationPercentage: cpu?.resource?.target?.averageUtilization,
    }),
  };
  if (status) {
    out.status = def({
      observedGeneration: status.observedGeneration, lastScaleTime: status.lastScaleTime,
      currentReplicas: status.currentReplicas ?? 0, desiredReplicas: status.desiredReplicas ?? 0, currentCPUUtilizationPercentage: currentCPU,
    });
  }
  return out;
}

function parseAnnotation<T>(ann: Record<string, string>, key: string): T | undefined {
  const raw = ann[key];
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw) as T;
  } catch (e) {
    throw badRequest(`invalid value for annotation ${key}: ${(e as Error).message}`);
  }
}

/** The stored (v2) form of an autoscaling/v1 HorizontalPodAutoscaler. */
export function hpaV1ToV2(h: v1.HorizontalPodAutoscaler): v2.HorizontalPodAutoscaler {
  const src = structuredClone(h);
  const meta = { ...(src.metadata ?? {}) };
  const ann: Record<string, string> = { ...(meta.annotations ?? {}) };
  const spec = src.spec ?? { maxReplicas: 0, scaleTargetRef: { kind: '', name: '' } };
  const cpuTarget: v2.MetricSpec[] = spec.targetCPUUtilizationPercentage !== undefined ? [defaultCpuMetric(spec.targetCPUUtilizationPercentage)] : [];
  const others = parseAnnotation<V1MetricSpec[]>(ann, METRIC_SPECS_ANNOTATION);
  let metrics = others ? [...others.map(specFromV1), ...cpuTarget] : cpuTarget;
  if (!metrics.length) metrics = [defaultCpuMetric()];
  const outSpec: v2.HorizontalPodAutoscalerSpec = def({
    scaleTargetRef: ref(spec.scaleTargetRef) as v2.CrossVersionObjectReference,
    minReplicas: spec.minReplicas, maxReplicas: spec.maxReplicas, metrics,
  });
  const behavior = (() => { try { return parseAnnotation<v2.HorizontalPodAutoscalerBehavior>(ann, BEHAVIOR_ANNOTATION); } catch { return undefined; } })();
  // only well-formed, non-empty behavior moves into the spec (upstream)
  if (behavior && typeof behavior === 'object' && Object.keys(behavior).length) outSpec.behavior = behavior;
  const out: v2.HorizontalPodAutoscaler = { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: meta, spec: outSpec };
  const s = src.status;
  const currentMetrics = parseAnnotation<V1MetricStatus[]>(ann, METRIC_STATUSES_ANNOTATION)?.map(statusFromV1)
    ?? (s?.currentCPUUtilizationPercentage !== undefined
      ? [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: s.currentCPUUtilizationPercentage } } }]
      : undefined);
  const conditions = parseAnnotation<v2.HorizontalPodAutoscalerCondition[]>(ann, CONDITIONS_ANNOTATION);
  if (s || currentMetrics || conditions) {
    out.status = def({
      // v2 omits a zero currentReplicas (omitempty), as the Go types do
      observedGeneration: s?.observedGeneration, lastScaleTime: s?.lastScaleTime, currentReplicas: s?.currentReplicas || undefined,
      desiredReplicas: s?.desiredReplicas ?? 0, currentMetrics, conditions,
    });
  }
  for (const k of ROUND_TRIP) delete ann[k];
  if (Object.keys(ann).length) meta.annotations = ann; else delete meta.annotations;
  return out;
}
