/**
 * The replica count a metric asks for (upstream pkg/controller/podautoscaler/replica_calculator.go,
 * 1.32): usage ratio = current / target; within `tolerance` (0.1) of 1 nothing changes; otherwise
 * ceil(ratio × pods counted). Which pods count:
 *
 * - pods being deleted or Failed are ignored; Pending pods count as unready;
 * - pods with no sample are "missing": on a scale-down they are assumed to use 100 % of their
 *   request (plain metrics: exactly the target), on a scale-up 0 %;
 * - for cpu, a pod is also unready when it has no Ready condition or start time, or, within
 *   `cpuInitializationPeriodMs` (5 min) of its start, when it is not Ready or its sample is
 *   older than one window after the Ready transition; after that only when it is not Ready and
 *   has never been Ready (the transition is within `delayOfInitialReadinessStatusMs`, 30 s, of
 *   the start). Unready pods are left out, and on a scale-up count as using 0 %.
 *
 * When missing or unready pods were filled in, the ratio is computed again; if the result is
 * within tolerance or would reverse the direction of the change, the current count stays.
 *
 * Every method is pure apart from the metrics source and the pod lister (cached pods, read-only)
 * and rejects with upstream's error wording.
 */
import { matches, milliValue, type LabelSelector, type Pod, type Selector } from '@tskube/api';
import type { DeepReadonly } from '@tskube/client';
import { errorMessage } from '../util/errors.js';
import { isPodReady, podCondition } from '../util/pods.js';
import type { MetricsSource, PodMetricsInfo } from './metrics-source.js';
import type { CrossVersionObjectReference } from './types.js';

type RoPod = DeepReadonly<Pod>;

export interface ReplicaCalculatorOptions {
  metrics: MetricsSource;
  /** Cached pods of a namespace (read-only). */
  listPods(namespace: string): readonly RoPod[];
  /** upstream --horizontal-pod-autoscaler-tolerance (0.1). */
  tolerance: number;
  /** upstream --horizontal-pod-autoscaler-cpu-initialization-period (5 min). */
  cpuInitializationPeriodMs: number;
  /** upstream --horizontal-pod-autoscaler-initial-readiness-delay (30 s). */
  delayOfInitialReadinessStatusMs: number;
  now: () => Date;
}

/** The pods a scale target's selector picks: `sel` parsed, `str` as sent to the metrics API. */
export interface PodSelector {
  sel: Selector;
  str: string;
}

export interface ResourceReplicas {
  replicas: number;
  /** Average utilization, % of request (integer, truncated). */
  utilization: number;
  /** Average usage per counted pod, milli-units. */
  rawUtilization: number;
  timestamp: Date;
}

export interface UsageReplicas {
  replicas: number;
  /** milli-units. */
  usage: number;
  timestamp: Date;
}

const ZERO_TIME = new Date(0);

/** Go integer division (truncates toward zero). */
const idiv = (a: number, b: number): number => Math.trunc(a / b);

/**
 * upstream metrics.GetResourceUtilizationRatio: metrics of pods without a request are
 * ignored; throws when no metric matched a known pod.
 */
export function resourceUtilizationRatio(metrics: PodMetricsInfo, requests: ReadonlyMap<string, number>, targetUtilization: number): { ratio: number; utilization: number; rawAverage: number } {
  let metricsTotal = 0;
  let requestsTotal = 0;
  let entities = 0;
  for (const [pod, m] of metrics) {
    const request = requests.get(pod);
    if (request === undefined) continue;
    metricsTotal += m.value;
    requestsTotal += request;
    entities++;
  }
  if (requestsTotal === 0) throw new Error('no metrics returned matched known pods');
  const utilization = idiv(metricsTotal * 100, requestsTotal);
  return { ratio: utilization / targetUtilization, utilization, rawAverage: idiv(metricsTotal, entities) };
}

/** upstream metrics.GetMetricUsageRatio. */
export function metricUsageRatio(metrics: PodMetricsInfo, targetUsage: number): { ratio: number; usage: number } {
  let total = 0;
  for (const m of metrics.values()) total += m.value;
  const usage = idiv(total, metrics.size);
  return { ratio: usage / targetUsage, usage };
}

/**
 * A pod's request for `resource` in milli-units: the sum over its containers and restartable
 * init containers, or only `container` (upstream calculatePodRequests). Throws when one lacks
 * the request or the container does not exist.
 */
export function podRequest(pod: RoPod, container: string, resource: string): number {
  const containers = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always')];
  let request = 0;
  for (const c of containers) {
    if (container === '' || container === c.name) {
      const q = c.resources?.requests?.[resource];
      if (q === undefined) throw new Error(`missing request for ${resource} in container ${c.name} of Pod ${pod.metadata?.name ?? ''}`);
      request += milliValue(q);
    }
    if (container === c.name) return request;
  }
  if (container !== '') throw new Error(`container ${container} not found in Pod ${pod.metadata?.name ?? ''}`);
  return request;
}

/** Go's %+v of a *metav1.LabelSelector (its generated String()), for upstream's messages. */
export function goLabelSelector(ls: DeepReadonly<LabelSelector> | undefined): string {
  if (!ls) return 'nil';
  const labels = Object.keys(ls.matchLabels ?? {}).sort().map((k) => `${k}: ${ls.matchLabels![k]},`).join('');
  const exprs = (ls.matchExpressions ?? []).map((e) => `LabelSelectorRequirement{Key:${e.key},Operator:${e.operator},Values:[${(e.values ?? []).join(' ')}],},`).join('');
  return `&LabelSelector{MatchLabels:map[string]string{${labels}},MatchExpressions:[]LabelSelectorRequirement{${exprs}},}`;
}

interface PodGroups {
  readyPodCount: number;
  unready: Set<string>;
  missing: Set<string>;
  ignored: Set<string>;
}

export class ReplicaCalculator {
  constructor(private readonly o: ReplicaCalculatorOptions) {}

  private within(ratio: number): boolean {
    return Math.abs(1.0 - ratio) <= this.o.tolerance;
  }

  private pods(namespace: string, selector: Selector): RoPod[] {
    return this.o.listPods(namespace).filter((p) => matches(selector, p.metadata?.labels));
  }

  /** upstream groupPods. */
  groupPods(pods: readonly RoPod[], metrics: PodMetricsInfo, resource: string): PodGroups {
    const g: PodGroups = { readyPodCount: 0, unready: new Set(), missing: new Set(), ignored: new Set() };
    const now = this.o.now().getTime();
    for (const pod of pods) {
      const name = pod.metadata?.name ?? '';
      if (pod.metadata?.deletionTimestamp || pod.status?.phase === 'Failed') { g.ignored.add(name); continue; }
      if (pod.status?.phase === 'Pending') { g.unready.add(name); continue; }
      const metric = metrics.get(name);
      if (!metric) { g.missing.add(name); continue; }
      if (resource === 'cpu') {
        const cond = podCondition(pod.status, 'Ready');
        const start = pod.status?.startTime ? Date.parse(pod.status.startTime) : undefined;
        let unready: boolean;
        if (!cond || start === undefined) {
          unready = true;
        } else {
          const transition = cond.lastTransitionTime ? Date.parse(cond.lastTransitionTime) : 0;
          if (start + this.o.cpuInitializationPeriodMs > now) {
            // still initialising: ignore the sample if unready or not one full window after turning ready
            unready = cond.status === 'False' || metric.timestamp.getTime() < transition + metric.windowMs;
          } else {
            // ignore only pods that are unready and have never been ready
            unready = cond.status === 'False' && start + this.o.delayOfInitialReadinessStatusMs > transition;
          }
        }
        if (unready) { g.unready.add(name); continue; }
      }
      g.readyPodCount++;
    }
    return g;
  }

  /** Desired replicas for a target utilization (% of request) of `resource` (upstream GetResourceReplicas). */
  async getResourceReplicas(currentReplicas: number, targetUtilization: number, resource: string, namespace: string, selector: PodSelector, container: string): Promise<ResourceReplicas> {
    let metrics: PodMetricsInfo;
    let timestamp: Date;
    try {
      ({ metrics, timestamp } = await this.o.metrics.getResourceMetric(resource, namespace, selector.str, container));
    } catch (e) {
      throw new Error(`unable to get metrics for resource ${resource}: ${errorMessage(e)}`, { cause: e });
    }
    const pods = this.pods(namespace, selector.sel);
    if (pods.length === 0) throw new Error('no pods returned by selector while calculating replica count');
    const g = this.groupPods(pods, metrics, resource);
    for (const n of [...g.ignored, ...g.unready]) metrics.delete(n);
    if (metrics.size === 0) throw new Error('did not receive metrics for targeted pods (pods might be unready)');

    const requests = new Map<string, number>();
    for (const p of pods) requests.set(p.metadata?.name ?? '', podRequest(p, container, resource));

    const { ratio, utilization, rawAverage } = resourceUtilizationRatio(metrics, requests, targetUtilization);
    const scaleUpWithUnready = g.unready.size > 0 && ratio > 1.0;
    if (!scaleUpWithUnready && g.missing.size === 0) {
      if (this.within(ratio)) return { replicas: currentReplicas, utilization, rawUtilization: rawAverage, timestamp };
      return { replicas: Math.ceil(ratio * g.readyPodCount), utilization, rawUtilization: rawAverage, timestamp };
    }
    if (g.missing.size > 0) {
      // scale-down: missing pods use 100 % of their request; scale-up: 0 %
      for (const n of g.missing) {
        if (ratio < 1.0) metrics.set(n, { timestamp: ZERO_TIME, windowMs: 0, value: requests.get(n) ?? 0 });
        else if (ratio > 1.0) metrics.set(n, { timestamp: ZERO_TIME, windowMs: 0, value: 0 });
      }
    }
    if (scaleUpWithUnready) for (const n of g.unready) metrics.set(n, { timestamp: ZERO_TIME, windowMs: 0, value: 0 });

    const again = resourceUtilizationRatio(metrics, requests, targetUtilization).ratio;
    const keep = { replicas: currentReplicas, utilization, rawUtilization: rawAverage, timestamp };
    if (this.within(again) || (ratio < 1.0 && again > 1.0) || (ratio > 1.0 && again < 1.0)) return keep;
    const replicas = Math.ceil(again * metrics.size);
    if ((again < 1.0 && replicas > currentReplicas) || (again > 1.0 && replicas < currentReplicas)) return keep;
    return { replicas, utilization, rawUtilization: rawAverage, timestamp };
  }

  /** Desired replicas for a target average usage (milli-units) of `resource` (upstream GetRawResourceReplicas). */
  async getRawResourceReplicas(currentReplicas: number, targetUsage: number, resource: string, namespace: string, selector: PodSelector, container: string): Promise<UsageReplicas> {
    let metrics: PodMetricsInfo;
    let timestamp: Date;
    try {
      ({ metrics, timestamp } = await this.o.metrics.getResourceMetric(resource, namespace, selector.str, container));
    } catch (e) {
      throw new Error(`unable to get metrics for resource ${resource}: ${errorMessage(e)}`, { cause: e });
    }
    return { ...this.plainMetricReplicas(metrics, currentReplicas, targetUsage, namespace, selector.sel, resource), timestamp };
  }

  /** Desired replicas for a per-pod custom metric (upstream GetMetricReplicas). */
  async getMetricReplicas(currentReplicas: number, targetUsage: number, metricName: string, namespace: string, selector: PodSelector, metricSelector: DeepReadonly<LabelSelector> | undefined): Promise<UsageReplicas> {
    let metrics: PodMetricsInfo;
    let timestamp: Date;
    try {
      ({ metrics, timestamp } = await this.o.metrics.getRawMetric(metricName, namespace, selector.str, metricSelector));
    } catch (e) {
      throw new Error(`unable to get metric ${metricName}: ${errorMessage(e)}`, { cause: e });
    }
    return { ...this.plainMetricReplicas(metrics, currentReplicas, targetUsage, namespace, selector.sel, ''), timestamp };
  }

  /** upstream calcPlainMetricReplicas: the same grouping, missing pods at exactly the target on a scale-down. */
  private plainMetricReplicas(metrics: PodMetricsInfo, currentReplicas: number, targetUsage: number, namespace: string, selector: Selector, resource: string): { replicas: number; usage: number } {
    const pods = this.pods(namespace, selector);
    if (pods.length === 0) throw new Error('no pods returned by selector while calculating replica count');
    const g = this.groupPods(pods, metrics, resource);
    for (const n of [...g.ignored, ...g.unready]) metrics.delete(n);
    if (metrics.size === 0) throw new Error('did not receive metrics for targeted pods (pods might be unready)');
    const { ratio, usage } = metricUsageRatio(metrics, targetUsage);
    const scaleUpWithUnready = g.unready.size > 0 && ratio > 1.0;
    if (!scaleUpWithUnready && g.missing.size === 0) {
      if (this.within(ratio)) return { replicas: currentReplicas, usage };
      return { replicas: Math.ceil(ratio * g.readyPodCount), usage };
    }
    for (const n of g.missing) {
      if (ratio < 1.0) metrics.set(n, { timestamp: ZERO_TIME, windowMs: 0, value: targetUsage });
      else if (ratio > 1.0) metrics.set(n, { timestamp: ZERO_TIME, windowMs: 0, value: 0 });
    }
    if (scaleUpWithUnready) for (const n of g.unready) metrics.set(n, { timestamp: ZERO_TIME, windowMs: 0, value: 0 });
    const again = metricUsageRatio(metrics, targetUsage).ratio;
    if (this.within(again) || (ratio < 1.0 && again > 1.0) || (ratio > 1.0 && again < 1.0)) return { replicas: currentReplicas, usage };
    const replicas = Math.ceil(again * metrics.size);
    if ((again < 1.0 && replicas > currentReplicas) || (again > 1.0 && replicas < currentReplicas)) return { replicas: currentReplicas, usage };
    return { replicas, usage };
  }

  /** Running and Ready pods the selector picks; throws when it picks none (upstream getReadyPodsCount). */
  private readyPodsCount(namespace: string, selector: Selector): number {
    const pods = this.pods(namespace, selector);
    if (pods.length === 0) throw new Error('no pods returned by selector while calculating replica count');
    return pods.filter((p) => p.status?.phase === 'Running' && isPodReady(p)).length;
  }

  /** upstream getUsageRatioReplicaCount: with 0 replicas, ceil(ratio) (scale from zero). */
  private usageRatioReplicaCount(currentReplicas: number, ratio: number, namespace: string, selector: Selector): number {
    if (currentReplicas === 0) return Math.ceil(ratio);
    if (this.within(ratio)) return currentReplicas;
    let ready: number;
    try {
      ready = this.readyPodsCount(namespace, selector);
    } catch (e) {
      throw new Error(`unable to calculate ready pods: ${errorMessage(e)}`, { cause: e });
    }
    return Math.ceil(ratio * ready);
  }

  /** Desired replicas for an Object metric with a Value target (upstream GetObjectMetricReplicas). */
  async getObjectMetricReplicas(currentReplicas: number, targetUsage: number, metricName: string, namespace: string, objectRef: DeepReadonly<CrossVersionObjectReference>, selector: PodSelector, metricSelector: DeepReadonly<LabelSelector> | undefined): Promise<UsageReplicas> {
    let usage: number;
    try {
      ({ value: usage } = await this.o.metrics.getObjectMetric(metricName, namespace, objectRef, metricSelector));
    } catch (e) {
      // (upstream's argument order, kept for its wording)
      throw new Error(`unable to get metric ${metricName}: ${objectRef.kind} on ${namespace} ${objectRef.name}/${errorMessage(e)}`, { cause: e });
    }
    const replicas = this.usageRatioReplicaCount(currentReplicas, usage / targetUsage, namespace, selector.sel);
    return { replicas, usage, timestamp: ZERO_TIME };
  }

  /** Desired replicas for an Object metric with an AverageValue target (upstream GetObjectPerPodMetricReplicas). */
  async getObjectPerPodMetricReplicas(statusReplicas: number, targetAverageUsage: number, metricName: string, namespace: string, objectRef: DeepReadonly<CrossVersionObjectReference>, metricSelector: DeepReadonly<LabelSelector> | undefined): Promise<UsageReplicas> {
    let usage: number;
    let timestamp: Date;
    try {
      ({ value: usage, timestamp } = await this.o.metrics.getObjectMetric(metricName, namespace, objectRef, metricSelector));
    } catch (e) {
      throw new Error(`unable to get metric ${metricName}: ${objectRef.kind} on ${namespace} ${objectRef.name}/${errorMessage(e)}`, { cause: e });
    }
    let replicas = statusReplicas;
    const ratio = usage / (targetAverageUsage * replicas);
    if (!this.within(ratio)) replicas = Math.ceil(usage / targetAverageUsage);
    return { replicas, usage: Math.ceil(usage / statusReplicas), timestamp };
  }

  /** Desired replicas for an External metric with a Value target (upstream GetExternalMetricReplicas). */
  async getExternalMetricReplicas(currentReplicas: number, targetUsage: number, metricName: string, namespace: string, metricSelector: DeepReadonly<LabelSelector> | undefined, podSelector: PodSelector): Promise<UsageReplicas> {
    let values: number[];
    try {
      ({ values } = await this.o.metrics.getExternalMetric(metricName, namespace, metricSelector));
    } catch (e) {
      throw new Error(`unable to get external metric ${namespace}/${metricName}/${goLabelSelector(metricSelector)}: ${errorMessage(e)}`, { cause: e });
    }
    const usage = values.reduce((a, b) => a + b, 0);
    const replicas = this.usageRatioReplicaCount(currentReplicas, usage / targetUsage, namespace, podSelector.sel);
    return { replicas, usage, timestamp: ZERO_TIME };
  }

  /** Desired replicas for an External metric with an AverageValue target (upstream GetExternalPerPodMetricReplicas). */
  async getExternalPerPodMetricReplicas(statusReplicas: number, targetUsagePerPod: number, metricName: string, namespace: string, metricSelector: DeepReadonly<LabelSelector> | undefined): Promise<UsageReplicas> {
    let values: number[];
    let timestamp: Date;
    try {
      ({ values, timestamp } = await this.o.metrics.getExternalMetric(metricName, namespace, metricSelector));
    } catch (e) {
      throw new Error(`unable to get external metric ${namespace}/${metricName}/${goLabelSelector(metricSelector)}: ${errorMessage(e)}`, { cause: e });
    }
    const usage = values.reduce((a, b) => a + b, 0);
    let replicas = statusReplicas;
    const ratio = usage / (targetUsagePerPod * replicas);
    if (!this.within(ratio)) replicas = Math.ceil(usage / targetUsagePerPod);
    return { replicas, usage: Math.ceil(usage / statusReplicas), timestamp };
  }
}
