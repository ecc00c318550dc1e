/**
 * The HorizontalPodAutoscaler controller (upstream pkg/controller/podautoscaler/horizontal.go,
 * 1.32; component `horizontal-pod-autoscaler`): every HPA is reconciled once per sync period
 * (--horizontal-pod-autoscaler-sync-period, 15 s): informer events and every reconcile,
 * successful or not, queue the key again after that period (upstream's fixed-interval rate
 * limiter); a deleted HPA is forgotten.
 *
 * reconcile(namespace/name):
 *  1. Read the target's `scale` subresource (Deployments, ReplicaSets, StatefulSets,
 *     ReplicationControllers: any kind of the resource table with that group; the first that
 *     answers wins). Failure: AbleToScale False FailedGetScale and a FailedGetScale event.
 *  2. The target's replicas decide: 0 (with minReplicas > 0) disables scaling (ScalingActive
 *     False ScalingDisabled); above maxReplicas / below minReplicas it is clamped; otherwise
 *     every metric proposes a count (replica-calculator.ts) and the largest wins. Metrics that
 *     fail leave an empty status entry, a Warning event with their reason (FailedGetResourceMetric,
 *     FailedGetPodsMetric, …) and, when all fail or a scale-down would follow from the rest,
 *     ScalingActive False with that reason and a FailedComputeMetricsReplicas event; otherwise
 *     ScalingActive True ValidMetricFound. The status selector must be set, valid, and select
 *     no pod another HPA selects (SelectorRequired / InvalidSelector / AmbiguousSelector).
 *  3. normalize.ts applies stabilization, the scaling limits and behavior (AbleToScale
 *     ReadyForNewScale / ScaleUpStabilized / ScaleDownStabilized, ScalingLimited
 *     DesiredWithinRange / TooManyReplicas / TooFewReplicas / ScaleUpLimit / ScaleDownLimit).
 *  4. A changed count is written to the scale subresource: AbleToScale True SucceededRescale
 *     and a SuccessfulRescale event "New size: 3; reason: cpu resource utilization (percentage
 *     of request) above target" (FailedRescale / FailedUpdateScale on failure).
 *  5. Status (currentReplicas, desiredReplicas, currentMetrics in spec order, lastScaleTime,
 *     conditions) is written through /status only when it changed (FailedUpdateStatus).
 * Errors are thrown after the status write (the queue logs them and retries after the sync
 * period). Messages and reasons are upstream's.
 *
 * Left out: the HPA metrics of upstream's monitor package, scale-to-zero (alpha), the
 * configurable tolerance field of behavior (alpha in 1.33), pod-level resources.
 */
import {
  RESOURCES, canonicalQuantity, fromLabelSelector, jsonEqual, matches, milliValue, objectKey, parseSelector, rfc3339, splitKey,
  type LabelSelector, type Pod, type ResourceDef, type Selector,
} from '@tskube/api';
import {
  Resources, WorkQueue, clone, namespacedType, resourcePath, type DeepReadonly, type Informer,
  type RateLimiter, type ReconcileResult,
} from '@tskube/client';
import type { Logger } from '@tskube/log';
import { runWorkers, type Controller, type ControllerOptions } from '../controller.js';
import { errorMessage } from '../util/errors.js';
import { RestMetricsSource, type MetricsSource } from './metrics-source.js';
import { ScalingHistory, type Normalized } from './normalize.js';
import { ReplicaCalculator, goLabelSelector, type PodSelector } from './replica-calculator.js';
import {
  HPA_RESOURCE, type ConditionStatus, type ConditionType, type CrossVersionObjectReference, type HPA, type HPAStatus, type MetricSpec,
  type MetricStatus, type MetricValueStatus, type Scale,
} from './types.js';

/** Tunables, upstream's --horizontal-pod-autoscaler-* flags. */
export interface HPASettings {
  /** --horizontal-pod-autoscaler-sync-period (15 s). */
  syncPeriodMs: number;
  /** --horizontal-pod-autoscaler-downscale-stabilization (5 min). */
  downscaleStabilizationMs: number;
  /** --horizontal-pod-autoscaler-tolerance (0.1). */
  tolerance: number;
  /** --horizontal-pod-autoscaler-cpu-initialization-period (5 min). */
  cpuInitializationPeriodMs: number;
  /** --horizontal-pod-autoscaler-initial-readiness-delay (30 s). */
  initialReadinessDelayMs: number;
}

export const DEFAULT_HPA_SETTINGS: Readonly<HPASettings> = {
  syncPeriodMs: 15_000, downscaleStabilizationMs: 300_000, tolerance: 0.1, cpuInitializationPeriodMs: 300_000, initialReadinessDelayMs: 30_000,
};

/** Every retry after the same delay (upstream NewDefaultHPARateLimiter: a fixed item interval). */
export class FixedIntervalRateLimiter<T> implements RateLimiter<T> {
  private readonly counts = new Map<T, number>();
  constructor(private readonly intervalMs: number) {}
  when(item: T): number {
    this.counts.set(item, (this.counts.get(item) ?? 0) + 1);
    return this.intervalMs;
  }
  forget(item: T): void { this.counts.delete(item); }
  numRequeues(item: T): number { return this.counts.get(item) ?? 0; }
}

export interface HorizontalControllerOptions extends ControllerOptions {
  /** Default: RestMetricsSource over `client`. */
  metricsSource?: MetricsSource;
  settings?: Partial<HPASettings>;
  /** Parallel workers (upstream --concurrent-horizontal-pod-autoscaler-syncs: 5). */
  workers?: number;
}

type RoHPA = DeepReadonly<HPA>;
type RoPod = DeepReadonly<Pod>;

/** A metric that could not be computed: the error and the ScalingActive condition it implies. */
interface MetricFailure {
  error: Error;
  condition: { reason: string; message: string };
}

interface MetricProposal {
  replicas: number;
  metric: string;
  timestamp: Date;
  status: MetricStatus;
}

interface MetricsResult {
  /** -1: nothing can be done (all metrics failed, or some failed and the rest would scale down). */
  replicas: number;
  metric: string;
  statuses: MetricStatus[] | undefined;
  error?: Error;
}

/** "<value>m" canonicalized, as upstream resource.NewMilliQuantity(v, DecimalSI).String(). */
export function milliQuantity(milli: number): string {
  return canonicalQuantity(`${Math.trunc(milli)}m`);
}

/** A scale target whose group and kind the resource table does not know. */
class MappingError extends Error {}
/** A scale target reference whose apiVersion does not parse. */
class ApiVersionError extends Error {}

/** The group of an apiVersion ("apps/v1" → "apps", "v1" → ""); throws on more than one "/" (upstream ParseGroupVersion). */
function groupOfApiVersion(apiVersion: string | undefined): string {
  const v = apiVersion ?? '';
  const parts = v.split('/');
  if (parts.length > 2) throw new ApiVersionError(`unexpected GroupVersion string: ${v}`);
  return parts.length === 2 ? parts[0]! : '';
}

export class HorizontalController {
  readonly queue: WorkQueue<string>;
  readonly history: ScalingHistory;
  private readonly settings: HPASettings;
  private readonly hpaInformer: Informer<HPA>;
  private readonly podInformer: Informer<Pod>;
  private readonly calc: ReplicaCalculator;
  private readonly log: Logger;
  private readonly now: () => Date;
  /** HPA key → the selector of its target's pods, from its last reconcile (upstream hpaSelectors); null = selects nothing yet. */
  private readonly selectors = new Map<string, Selector | null>();

  constructor(private readonly o: HorizontalControllerOptions) {
    this.log = o.logger;
    this.now = o.now ?? (() => new Date());
    this.settings = { ...DEFAULT_HPA_SETTINGS, ...o.settings };
    this.queue = o.queue ?? new WorkQueue<string>({ name: 'horizontalpodautoscaler', rateLimiter: new FixedIntervalRateLimiter(this.settings.syncPeriodMs) });
    this.history = new ScalingHistory(this.now, this.settings.downscaleStabilizationMs);
    this.hpaInformer = o.informers.informer(HPA_RESOURCE);
    this.podInformer = o.informers.informer(Resources.pods);
    this.calc = new ReplicaCalculator({
      metrics: o.metricsSource ?? new RestMetricsSource(o.client),
      listPods: (ns) => this.podInformer.lister.listNamespace(ns),
      tolerance: this.settings.tolerance,
      cpuInitializationPeriodMs: this.settings.cpuInitializationPeriodMs,
      delayOfInitialReadinessStatusMs: this.settings.initialReadinessDelayMs,
      now: this.now,
    });
    this.hpaInformer.addEventHandler({
      onAdd: (h) => this.enqueue(h),
      onUpdate: (_old, h) => this.enqueue(h),
      onDelete: (h) => {
        const key = objectKey(h);
        this.queue.forget(key);
        this.selectors.delete(key);
      },
    });
  }

  /** Runs the workers until `signal` aborts. Call after the informers synced. */
  run(signal: AbortSignal): Promise<void> {
    return runWorkers({
      name: 'horizontal-pod-autoscaler-controller', queue: this.queue, workers: this.o.workers ?? 5, logger: this.log, signal,
      metrics: this.o.metrics, reconcile: (key) => this.reconcile(key),
    });
  }

  /** Every request waits a sync period (upstream enqueueHPA: AddRateLimited); the HPA selects nothing until reconciled. */
  private enqueue(h: RoHPA): void {
    const key = objectKey(h);
    this.queue.addRateLimited(key);
    if (!this.selectors.has(key)) this.selectors.set(key, null);
  }

  /**
   * Reconciles the HPA `key` (namespace/name) and asks to be called again after the sync
   * period; throws (also retried after the sync period) when the HPA could not act. A gone HPA
   * is forgotten.
   */
  async reconcile(key: string): Promise<ReconcileResult> {
    const { namespace, name } = splitKey(key);
    const cached = this.hpaInformer.lister.getByName(namespace, name);
    if (!cached) {
      this.log.info('horizontal pod autoscaler has been deleted', { key });
      this.history.forget(key);
      return;
    }
    await this.reconcileAutoscaler(cached, key);
    return { requeueAfter: this.settings.syncPeriodMs };
  }

  // ---- conditions and status ----

  private setCondition(hpa: HPA, type: ConditionType, status: ConditionStatus, reason: string, message: string): void {
    const st = (hpa.status ??= { desiredReplicas: 0 });
    const conds = (st.conditions ??= []);
    let c = conds.find((x) => x.type === type);
    if (!c) {
      c = { type, status: '' };
      conds.push(c);
    }
    if (c.status !== status) c.lastTransitionTime = rfc3339(this.now());
    c.status = status;
    c.reason = reason;
    c.message = message;
  }

  /** upstream setStatus: current/desired replicas and metrics replaced, lastScaleTime moved on a rescale. */
  private setStatus(hpa: HPA, current: number, desired: number, statuses: MetricStatus[] | undefined, rescale: boolean): void {
    const old = hpa.status;
    const next: HPAStatus = { currentReplicas: current, desiredReplicas: desired };
    const lastScaleTime = rescale ? rfc3339(this.now()) : old?.lastScaleTime;
    if (lastScaleTime) next.lastScaleTime = lastScaleTime;
    if (statuses?.length) next.currentMetrics = statuses;
    if (old?.conditions?.length) next.conditions = old.conditions;
    hpa.status = next;
  }

  private setCurrentReplicasAndMetrics(hpa: HPA, current: number, statuses: MetricStatus[] | undefined): void {
    this.setStatus(hpa, current, hpa.status?.desiredReplicas ?? 0, statuses, false);
  }

  /** Writes the status when it differs from `original`; throws (with a FailedUpdateStatus event) on failure. */
  private async updateStatusIfNeeded(original: HPAStatus | undefined, hpa: HPA): Promise<void> {
    if (jsonEqual(original ?? {}, hpa.status ?? {})) return;
    try {
      await this.o.client.resource(HPA_RESOURCE).updateStatus(hpa);
    } catch (e) {
      this.o.recorder.event(hpa, 'Warning', 'FailedUpdateStatus', errorMessage(e));
      throw new Error(`failed to update status for ${hpa.metadata?.name ?? ''}: ${errorMessage(e)}`, { cause: e });
    }
    this.log.debug('successfully updated status', { hpa: objectKey(hpa) });
  }

  /** The status write of an error path: its failure is logged, the original error is what is returned. */
  private async updateStatusQuietly(original: HPAStatus | undefined, hpa: HPA): Promise<void> {
    try {
      await this.updateStatusIfNeeded(original, hpa);
    } catch (e) {
      this.log.error('updating the status failed', { hpa: objectKey(hpa), err: e });
    }
  }

  // ---- the scale subresource ----

  /** The target's Scale and the resource that served it (upstream RESTMappings + scaleForResourceMappings). */
  private async getScale(namespace: string, ref: CrossVersionObjectReference): Promise<{ scale: Scale; def: ResourceDef }> {
    const group = groupOfApiVersion(ref.apiVersion);
    const seen = new Set<string>();
    const mappings = RESOURCES.filter((r) => r.group === group && r.kind === ref.kind && r.namespaced && !seen.has(r.plural) && seen.add(r.plural));
    if (!mappings.length) throw new MappingError(`no matches for kind "${ref.kind}" in group "${group}"`);
    let first: unknown;
    for (const def of mappings) {
      try {
        const scale = await this.o.client.dynamic(namespacedType(def)).getSubresource<Scale>(namespace, ref.name, 'scale');
        return { scale, def };
      } catch (e) {
        first ??= e;
      }
    }
    throw first;
  }

  private async updateScale(def: ResourceDef, namespace: string, name: string, scale: Scale): Promise<void> {
    await this.o.client.raw('PUT', resourcePath({ rt: def, namespace, name, subresource: 'scale' }), { body: scale });
  }

  // ---- metrics ----

  /** Records a Warning event with `reason` and returns the ScalingActive condition (upstream getUnableComputeReplicaCountCondition). */
  private unableToCompute(hpa: HPA, reason: string, err: Error): MetricFailure['condition'] {
    this.o.recorder.event(hpa, 'Warning', reason, err.message);
    return { reason, message: `the HPA was unable to compute the replica count: ${err.message}` };
  }

  /**
   * The pods' selector from the scale status (upstream validateAndParseSelector): it must be
   * set and valid, and the pods it picks must be autoscaled by this HPA alone.
   */
  private validateSelector(hpa: HPA, key: string, selector: string | undefined): PodSelector {
    if (!selector) {
      this.o.recorder.event(hpa, 'Warning', 'SelectorRequired', 'selector is required');
      this.setCondition(hpa, 'ScalingActive', 'False', 'InvalidSelector', "the HPA target's scale is missing a selector");
      throw new Error('selector is required');
    }
    let sel: Selector;
    try {
      sel = parseSelector(selector);
    } catch (e) {
      const msg = `couldn't convert selector into a corresponding internal selector object: ${errorMessage(e)}`;
      this.o.recorder.event(hpa, 'Warning', 'InvalidSelector', msg);
      this.setCondition(hpa, 'ScalingActive', 'False', 'InvalidSelector', msg);
      throw new Error(msg, { cause: e });
    }
    if (this.selectors.has(key)) this.selectors.set(key, sel);
    const ns = hpa.metadata?.namespace ?? '';
    const pods = this.podInformer.lister.listNamespace(ns).filter((p) => matches(sel, p.metadata?.labels));
    const controlling = this.hpasSelecting(ns, pods);
    if (controlling.length > 1) {
      const msg = `pods by selector ${selector} are controlled by multiple HPAs: [${controlling.join(' ')}]`;
      this.o.recorder.event(hpa, 'Warning', 'AmbiguousSelector', msg);
      this.setCondition(hpa, 'ScalingActive', 'False', 'AmbiguousSelector', msg);
      throw new Error(msg);
    }
    return { sel, str: selector };
  }

  /** Keys of the HPAs in `namespace` whose known selector picks any of `pods`, sorted. */
  private hpasSelecting(namespace: string, pods: readonly RoPod[]): string[] {
    const out: string[] = [];
    for (const [key, sel] of this.selectors) {
      if (!sel || splitKey(key).namespace !== namespace) continue;
      if (pods.some((p) => matches(sel, p.metadata?.labels))) out.push(key);
    }
    return out.sort();
  }

  /** A metric's label selector, or a failure with `reason`. */
  private metricSelector(hpa: HPA, ls: DeepReadonly<LabelSelector> | undefined, reason: string, wrap: string): MetricFailure | undefined {
    try {
      fromLabelSelector(ls as LabelSelector | undefined);
      return undefined;
    } catch (e) {
      const err = new Error(errorMessage(e));
      return { error: new Error(`${wrap}: ${err.message}`), condition: this.unableToCompute(hpa, reason, err) };
    }
  }

  /** One metric's proposal (upstream computeReplicasForMetric). */
  private async computeReplicasForMetric(hpa: HPA, spec: MetricSpec, specReplicas: number, statusReplicas: number, selector: PodSelector): Promise<MetricProposal | MetricFailure> {
    const ns = hpa.metadata?.namespace ?? '';
    const fail = (reason: string, err: Error, wrapped?: string): MetricFailure => ({
      condition: this.unableToCompute(hpa, reason, err), error: wrapped === undefined ? err : new Error(`${wrapped}: ${err.message}`, { cause: err }),
    });
    const asError = (e: unknown): Error => (e instanceof Error ? e : new Error(String(e)));
    switch (spec.type) {
      case 'Object': {
        const o = spec.object!;
        const bad = this.metricSelector(hpa, o.metric.selector, 'FailedGetObjectMetric', 'failed to get object metric value');
        if (bad) return bad;
        const wrap = 'failed to get object metric value';
        if (o.target.type === 'Value' && o.target.value !== undefined) {
          try {
            const r = await this.calc.getObjectMetricReplicas(specReplicas, milliValue(o.target.value), o.metric.name, ns, o.describedObject, selector, o.metric.selector);
            return {
              replicas: r.replicas, timestamp: r.timestamp, metric: `${o.describedObject.kind} metric ${o.metric.name}`,
              status: { type: 'Object', object: { describedObject: o.describedObject, metric: o.metric, current: { value: milliQuantity(r.usage) } } },
            };
          } catch (e) {
            return fail('FailedGetObjectMetric', asError(e), wrap);
          }
        }
        if (o.target.type === 'AverageValue' && o.target.averageValue !== undefined) {
          try {
            const r = await this.calc.getObjectPerPodMetricReplicas(statusReplicas, milliValue(o.target.averageValue), o.metric.name, ns, o.describedObject, o.metric.selector);
            return {
              replicas: r.replicas, timestamp: r.timestamp, metric: `external metric ${o.metric.name}(${goLabelSelector(o.metric.selector)})`,
              status: { type: 'Object', object: { describedObject: o.describedObject, metric: o.metric, current: { averageValue: milliQuantity(r.usage) } } },
            };
          } catch (e) {
            const err = asError(e);
            const f = fail('FailedGetObjectMetric', err);
            return { ...f, error: new Error(`${wrap}: failed to get ${o.metric.name} object metric: ${err.message}`, { cause: err }) };
          }
        }
        return fail('FailedGetObjectMetric', new Error('invalid object metric source: neither a value target nor an average value target was set'), wrap);
      }
      case 'Pods': {
        const p = spec.pods!;
        const wrap = 'failed to get pods metric value';
        const bad = this.metricSelector(hpa, p.metric.selector, 'FailedGetPodsMetric', wrap);
        if (bad) return bad;
        if (p.target.averageValue === undefined) return fail('FailedGetPodsMetric', new Error('invalid pods metric source: no average value target was set'), wrap);
        try {
          const r = await this.calc.getMetricReplicas(specReplicas, milliValue(p.target.averageValue), p.metric.name, ns, selector, p.metric.selector);
          return {
            replicas: r.replicas, timestamp: r.timestamp, metric: `pods metric ${p.metric.name}`,
            status: { type: 'Pods', pods: { metric: p.metric, current: { averageValue: milliQuantity(r.usage) } } },
          };
        } catch (e) {
          return fail('FailedGetPodsMetric', asError(e), wrap);
        }
      }
      case 'Resource':
      case 'ContainerResource': {
        const isContainer = spec.type === 'ContainerResource';
        const src = isContainer ? spec.containerResource! : spec.resource!;
        const container = isContainer ? spec.containerResource!.container : '';
        const reason = isContainer ? 'FailedGetContainerResourceMetric' : 'FailedGetResourceMetric';
        const wrap = isContainer ? `failed to get ${container} container metric value` : `failed to get ${src.name} resource metric value`;
        const target = src.target;
        const statusOf = (current: MetricValueStatus): MetricStatus => (isContainer
          ? { type: 'ContainerResource', containerResource: { name: src.name, container, current } }
          : { type: 'Resource', resource: { name: src.name, current } });
        if (target.averageValue !== undefined) {
          try {
            const r = await this.calc.getRawResourceReplicas(specReplicas, milliValue(target.averageValue), src.name, ns, selector, container);
            return { replicas: r.replicas, timestamp: r.timestamp, metric: `${src.name} resource`, status: statusOf({ averageValue: milliQuantity(r.usage) }) };
          } catch (e) {
            return fail(reason, new Error(`failed to get ${src.name} usage: ${errorMessage(e)}`, { cause: e }), wrap);
          }
        }
        if (target.averageUtilization === undefined) {
          return fail(reason, new Error('invalid resource metric source: neither an average utilization target nor an average value (usage) target was set'), wrap);
        }
        try {
          const r = await this.calc.getResourceReplicas(specReplicas, target.averageUtilization, src.name, ns, selector, container);
          return {
            replicas: r.replicas, timestamp: r.timestamp,
            metric: `${src.name} ${isContainer ? 'container resource' : 'resource'} utilization (percentage of request)`,
            status: statusOf({ averageUtilization: r.utilization, averageValue: milliQuantity(r.rawUtilization) }),
          };
        } catch (e) {
          return fail(reason, new Error(`failed to get ${src.name} utilization: ${errorMessage(e)}`, { cause: e }), wrap);
        }
      }
      case 'External': {
        const x = spec.external!;
        const wrap = `failed to get ${x.metric.name} external metric value`;
        const metricName = `external metric ${x.metric.name}(${goLabelSelector(x.metric.selector)})`;
        if (x.target.averageValue !== undefined) {
          try {
            const r = await this.calc.getExternalPerPodMetricReplicas(statusReplicas, milliValue(x.target.averageValue), x.metric.name, ns, x.metric.selector);
            return { replicas: r.replicas, timestamp: r.timestamp, metric: metricName, status: { type: 'External', external: { metric: x.metric, current: { averageValue: milliQuantity(r.usage) } } } };
          } catch (e) {
            const err = asError(e);
            const f = fail('FailedGetExternalMetric', err);
            return { ...f, error: new Error(`${wrap}: failed to get ${x.metric.name} external metric: ${err.message}`, { cause: err }) };
          }
        }
        if (x.target.value !== undefined) {
          try {
            const r = await this.calc.getExternalMetricReplicas(specReplicas, milliValue(x.target.value), x.metric.name, ns, x.metric.selector, selector);
            return { replicas: r.replicas, timestamp: r.timestamp, metric: metricName, status: { type: 'External', external: { metric: x.metric, current: { value: milliQuantity(r.usage) } } } };
          } catch (e) {
            const err = asError(e);
            const f = fail('FailedGetExternalMetric', err);
            return { ...f, error: new Error(`${wrap}: failed to get external metric ${x.metric.name}: ${err.message}`, { cause: err }) };
          }
        }
        return fail('FailedGetExternalMetric', new Error('invalid external metric source: neither a value target nor an average value target was set'), wrap);
      }
      default:
        return fail('InvalidMetricSourceType', new Error(`unknown metric source type "${spec.type}"`));
    }
  }

  /** Every metric's proposal; the largest wins (upstream computeReplicasForMetrics). */
  private async computeReplicasForMetrics(hpa: HPA, key: string, scale: Scale, specs: readonly MetricSpec[]): Promise<MetricsResult> {
    const selector = this.validateSelector(hpa, key, scale.status?.selector);
    const specReplicas = scale.spec?.replicas ?? 0;
    const statusReplicas = scale.status?.replicas ?? 0;
    // a failed metric leaves an empty entry, so statuses stay aligned with specs (as upstream)
    const statuses: MetricStatus[] = specs.map(() => ({ type: '' }));
    let invalid = 0;
    let firstFailure: MetricFailure | undefined;
    let replicas = 0;
    let metric = '';
    for (let i = 0; i < specs.length; i++) {
      const r = await this.computeReplicasForMetric(hpa, specs[i]!, specReplicas, statusReplicas, selector);
      if ('error' in r) {
        if (invalid === 0) firstFailure = r;
        invalid++;
        continue;
      }
      statuses[i] = r.status;
      if (replicas === 0 || r.replicas > replicas) {
        replicas = r.replicas;
        metric = r.metric;
      }
    }
    const error = firstFailure
      ? new Error(`invalid metrics (${invalid} invalid out of ${specs.length}), first error is: ${firstFailure.error.message}`, { cause: firstFailure.error })
      : undefined;
    // all metrics failed, or some did and the others would scale down: do nothing
    if (firstFailure && (invalid >= specs.length || replicas < specReplicas)) {
      this.setCondition(hpa, 'ScalingActive', 'False', firstFailure.condition.reason, firstFailure.condition.message);
      return { replicas: -1, metric: '', statuses, error };
    }
    if (!specs.length) return { replicas: -1, metric: '', statuses: undefined, error: new Error('invalid metrics (0 invalid out of 0), first error is: no metrics') };
    this.setCondition(hpa, 'ScalingActive', 'True', 'ValidMetricFound', `the HPA was able to successfully calculate a replica count from ${metric}`);
    return { replicas, metric, statuses, error };
  }

  // ---- reconcile ----

  private async reconcileAutoscaler(shared: RoHPA, key: string): Promise<void> {
    const hpa = clone(shared) as HPA;
    const original = clone(hpa.status);
    const ns = hpa.metadata?.namespace ?? '';
    const spec = hpa.spec!;
    const ref = spec.scaleTargetRef;
    const reference = `${ref.kind}/${ns}/${ref.name}`;

    let scale: Scale;
    let def: ResourceDef;
    try {
      ({ scale, def } = await this.getScale(ns, ref));
    } catch (e) {
      const msg = errorMessage(e);
      this.o.recorder.event(hpa, 'Warning', 'FailedGetScale', msg);
      this.setCondition(hpa, 'AbleToScale', 'False', 'FailedGetScale', `the HPA controller was unable to get the target's current scale: ${msg}`);
      await this.updateStatusQuietly(original, hpa);
      if (e instanceof MappingError) throw new Error(`unable to determine resource for scale target reference: ${msg}`, { cause: e });
      if (e instanceof ApiVersionError) throw new Error(`invalid API version in scale target reference: ${msg}`, { cause: e });
      throw new Error(`failed to query scale subresource for ${reference}: ${msg}`, { cause: e });
    }
    this.setCondition(hpa, 'AbleToScale', 'True', 'SucceededGetScale', "the HPA controller was able to get the target's current scale");
    const current = scale.spec?.replicas ?? 0;
    this.history.recordInitial(key, current);

    const min = spec.minReplicas ?? 1;
    let desired = 0;
    let reason = '';
    let rescale = true;
    let statuses: MetricStatus[] | undefined;
    let deferred: Error | undefined;

    if (current === 0 && min !== 0) {
      // autoscaling is disabled for this target
      rescale = false;
      this.setCondition(hpa, 'ScalingActive', 'False', 'ScalingDisabled', 'scaling is disabled since the replica count of the target is zero');
    } else if (current > spec.maxReplicas) {
      reason = 'Current number of replicas above Spec.MaxReplicas';
      desired = spec.maxReplicas;
    } else if (current < min) {
      reason = 'Current number of replicas below Spec.MinReplicas';
      desired = min;
    } else {
      let r: MetricsResult;
      try {
        r = await this.computeReplicasForMetrics(hpa, key, scale, spec.metrics ?? []);
      } catch (e) {
        // the selector was refused: nothing could be computed
        r = { replicas: -1, metric: '', statuses: undefined, error: e instanceof Error ? e : new Error(String(e)) };
      }
      statuses = r.statuses;
      if (r.error && r.replicas === -1) {
        this.setCurrentReplicasAndMetrics(hpa, current, statuses);
        await this.updateStatusQuietly(original, hpa);
        this.o.recorder.event(hpa, 'Warning', 'FailedComputeMetricsReplicas', r.error.message);
        throw new Error(`failed to compute desired number of replicas based on listed metrics for ${reference}: ${r.error.message}`, { cause: r.error });
      }
      // some metrics failed but the others decide: scale, then report the error
      deferred = r.error;
      let rescaleMetric = '';
      if (r.replicas > desired) {
        desired = r.replicas;
        rescaleMetric = r.metric;
      }
      if (desired > current) reason = `${rescaleMetric} above target`;
      if (desired < current) reason = 'All metrics below target';
      const args = { key, current, desired, min, max: spec.maxReplicas };
      const n: Normalized = spec.behavior ? this.history.normalizeWithBehavior(args, spec.behavior) : this.history.normalize(args);
      this.setCondition(hpa, 'AbleToScale', 'True', n.ableToScale.reason, n.ableToScale.message);
      this.setCondition(hpa, 'ScalingLimited', n.scalingLimited.status, n.scalingLimited.reason, n.scalingLimited.message);
      desired = n.desired;
      rescale = desired !== current;
    }

    if (rescale) {
      try {
        await this.updateScale(def, ns, ref.name, { ...scale, spec: { ...scale.spec, replicas: desired } });
      } catch (e) {
        const msg = errorMessage(e);
        this.o.recorder.event(hpa, 'Warning', 'FailedRescale', `New size: ${desired}; reason: ${reason}; error: ${msg}`);
        this.setCondition(hpa, 'AbleToScale', 'False', 'FailedUpdateScale', `the HPA controller was unable to update the target scale: ${msg}`);
        this.setCurrentReplicasAndMetrics(hpa, current, statuses);
        await this.updateStatusQuietly(original, hpa);
        throw new Error(`failed to rescale ${reference}: ${msg}`, { cause: e });
      }
      this.setCondition(hpa, 'AbleToScale', 'True', 'SucceededRescale', `the HPA controller was able to update the target scale to ${desired}`);
      this.o.recorder.event(hpa, 'Normal', 'SuccessfulRescale', `New size: ${desired}; reason: ${reason}`);
      this.history.storeScaleEvent(spec.behavior, key, current, desired);
      this.log.info('successfully rescaled', { hpa: key, currentReplicas: current, desiredReplicas: desired, reason });
    } else {
      this.log.debug('decided not to scale', { hpa: key, scaleTarget: reference, desiredReplicas: desired, lastScaleTime: hpa.status?.lastScaleTime });
      desired = current;
    }

    this.setStatus(hpa, current, desired, statuses, rescale);
    await this.updateStatusIfNeeded(original, hpa);
    if (deferred) throw deferred;
  }
}

/** The unit the controller-manager runs. */
export const horizontalPodAutoscalerController: Controller = {
  name: 'horizontal-pod-autoscaler-controller',
  aliases: ['horizontalpodautoscaling'],
  async start(ctx) {
    const settings = { ...DEFAULT_HPA_SETTINGS, ...ctx.settings.hpa };
    const c = new HorizontalController({
      client: ctx.client, informers: ctx.informers, logger: ctx.logger, recorder: ctx.recorder('horizontal-pod-autoscaler'),
      queue: new WorkQueue<string>({ name: 'horizontalpodautoscaler', rateLimiter: new FixedIntervalRateLimiter(settings.syncPeriodMs), metrics: ctx.metrics.queue }),
      metrics: ctx.metrics, now: ctx.now, settings,
    });
    if (!(await ctx.waitForCacheSync())) return;
    await c.run(ctx.signal);
  },
};

