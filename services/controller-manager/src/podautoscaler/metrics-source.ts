/**
 * Where the HorizontalPodAutoscaler controller reads metrics (upstream
 * pkg/controller/podautoscaler/metrics): one narrow interface, `MetricsSource`, with the REST
 * implementation the controller-manager uses and a map-backed fake for unit tests.
 *
 * - Resource metrics (cpu, memory) come from `metrics.k8s.io/v1beta1` PodMetrics, listed with
 *   the scale target's selector (tskube's apiserver serves that API itself from the kubelets'
 *   Summary API). A pod's value is the sum over its containers (milli-units); a pod with a
 *   container lacking the resource is left out (then "missing" to the calculator); for a
 *   ContainerResource metric the named container must be in every pod's metrics.
 * - Pods and Object metrics need the custom metrics API (custom.metrics.k8s.io) and External
 *   metrics the external metrics API (external.metrics.k8s.io). tskube has neither (no API
 *   aggregation), so `RestMetricsSource` rejects them with the errors upstream's clients give
 *   when those APIs are not registered: "unable to fetch metrics from custom metrics API: no
 *   custom metrics API (custom.metrics.k8s.io) registered" and "unable to fetch metrics from
 *   external metrics API: the server could not find the requested resource".
 *
 * Every method rejects with an Error whose message is upstream's wording (the controller puts
 * it into conditions and events as it is).
 */
import { RESOURCES, matches, milliValue, parseSelector, type LabelSelector } from '@tskube/api';
import { namespacedType, type ApiObject, type Client, type DeepReadonly } from '@tskube/client';
import { errorMessage } from '../util/errors.js';
import type { CrossVersionObjectReference } from './types.js';

/** One pod's sample (upstream metrics.PodMetric). */
export interface PodMetric {
  /** When the sample was taken. */
  timestamp: Date;
  /** The sample window, ms. */
  windowMs: number;
  /** milli-units (millicores, milli-bytes), as upstream MilliValue. */
  value: number;
}

/** pod name → its sample (upstream PodMetricsInfo). */
export type PodMetricsInfo = Map<string, PodMetric>;

/** The caller owns every returned map and array (the calculator fills in and removes entries). */
export interface MetricsSource {
  /**
   * Resource usage of the pods matching `selector` (a label selector string) in `namespace`:
   * per pod the sum over its containers, or only `container` when it is not "". The
   * timestamp is the first item's. Rejects when nothing came back.
   */
  getResourceMetric(resource: string, namespace: string, selector: string, container: string): Promise<{ metrics: PodMetricsInfo; timestamp: Date }>;
  /** A per-pod custom metric (Pods metrics). */
  getRawMetric(metricName: string, namespace: string, selector: string, metricSelector: DeepReadonly<LabelSelector> | undefined): Promise<{ metrics: PodMetricsInfo; timestamp: Date }>;
  /** A custom metric of one object (Object metrics), milli-units. */
  getObjectMetric(metricName: string, namespace: string, objectRef: DeepReadonly<CrossVersionObjectReference>, metricSelector: DeepReadonly<LabelSelector> | undefined): Promise<{ value: number; timestamp: Date }>;
  /** Every value of an external metric matching `metricSelector`, milli-units. */
  getExternalMetric(metricName: string, namespace: string, metricSelector: DeepReadonly<LabelSelector> | undefined): Promise<{ values: number[]; timestamp: Date }>;
}

/** The wire shape of metrics.k8s.io/v1beta1 PodMetrics (the part read here). */
export interface PodMetricsObject extends ApiObject {
  timestamp?: string;
  window?: string;
  containers?: { name: string; usage?: Record<string, string> }[];
}

const PODMETRICS_DEF = RESOURCES.find((r) => r.group === 'metrics.k8s.io' && r.kind === 'PodMetrics');
if (!PODMETRICS_DEF) throw new Error('resource table has no metrics.k8s.io PodMetrics');
const PODMETRICS = namespacedType<PodMetricsObject>(PODMETRICS_DEF);

/** The error upstream's custom metrics client gives when custom.metrics.k8s.io is not registered. */
export const NO_CUSTOM_METRICS_API = 'unable to fetch metrics from custom metrics API: no custom metrics API (custom.metrics.k8s.io) registered';
/** What upstream's external metrics client gives when external.metrics.k8s.io is not served (a 404 on its path). */
export const NO_EXTERNAL_METRICS_API = 'unable to fetch metrics from external metrics API: the server could not find the requested resource';

/**
 * A Go duration string ("10s", "1m0s", "1.5s", "500ms") in ms; 0 when unparseable.
 * Hand-written: the metrics API's only duration field, not worth a dependency.
 */
export function parseGoDuration(s: string | undefined): number {
  if (!s) return 0;
  const unit: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let ms = 0;
  let rest = s;
  while (rest.length) {
    const m = /^(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/.exec(rest);
    if (!m) return 0;
    ms += Number(m[1]) * unit[m[2]!]!;
    rest = rest.slice(m[0].length);
  }
  return ms;
}

function sample(m: PodMetricsObject, value: number): PodMetric {
  return { timestamp: new Date(m.timestamp ?? 0), windowMs: parseGoDuration(m.window), value };
}

/** Per pod the sum over containers; pods with a container lacking `resource` (or none) are left out (upstream getPodMetrics). */
export function podMetricsOf(items: readonly PodMetricsObject[], resource: string): PodMetricsInfo {
  const res: PodMetricsInfo = new Map();
  for (const m of items) {
    const containers = m.containers ?? [];
    let sum = 0;
    let missing = containers.length === 0;
    for (const c of containers) {
      const q = c.usage?.[resource];
      if (q === undefined) { missing = true; break; }
      sum += milliValue(q);
    }
    if (!missing) res.set(m.metadata?.name ?? '', sample(m, sum));
  }
  return res;
}

/** One container's usage per pod; throws when a pod's metrics lack the container (upstream getContainerMetrics). */
export function containerMetricsOf(items: readonly PodMetricsObject[], resource: string, container: string): PodMetricsInfo {
  const res: PodMetricsInfo = new Map();
  for (const m of items) {
    const c = (m.containers ?? []).find((x) => x.name === container);
    if (!c) throw new Error(`container ${container} not present in metrics for pod ${m.metadata?.namespace ?? ''}/${m.metadata?.name ?? ''}`);
    const q = c.usage?.[resource];
    if (q !== undefined) res.set(m.metadata?.name ?? '', sample(m, milliValue(q)));
  }
  return res;
}

/** The controller-manager's source: metrics.k8s.io through the client; no custom or external metrics APIs. */
export class RestMetricsSource implements MetricsSource {
  constructor(private readonly client: Client) {}

  async getResourceMetric(resource: string, namespace: string, selector: string, container: string): Promise<{ metrics: PodMetricsInfo; timestamp: Date }> {
    let items: PodMetricsObject[];
    try {
      items = (await this.client.resource(PODMETRICS).list({ namespace, labelSelector: selector })).items;
    } catch (e) {
      throw new Error(`unable to fetch metrics from resource metrics API: ${errorMessage(e)}`, { cause: e });
    }
    if (items.length === 0) throw new Error('no metrics returned from resource metrics API');
    let metrics: PodMetricsInfo;
    if (container) {
      try {
        metrics = containerMetricsOf(items, resource, container);
      } catch (e) {
        throw new Error(`failed to get container metrics: ${errorMessage(e)}`, { cause: e });
      }
    } else {
      metrics = podMetricsOf(items, resource);
    }
    return { metrics, timestamp: new Date(items[0]!.timestamp ?? 0) };
  }

  async getRawMetric(): Promise<{ metrics: PodMetricsInfo; timestamp: Date }> {
    throw new Error(NO_CUSTOM_METRICS_API);
  }

  async getObjectMetric(): Promise<{ value: number; timestamp: Date }> {
    throw new Error(NO_CUSTOM_METRICS_API);
  }

  async getExternalMetric(): Promise<{ values: number[]; timestamp: Date }> {
    throw new Error(NO_EXTERNAL_METRICS_API);
  }
}

/**
 * A map-backed MetricsSource for unit tests: resource metrics from `podMetrics` (filtered by
 * namespace and selector, converted like the REST source), custom and external metrics from
 * the maps; a metric not in its map rejects like the REST source does. Records every call.
 */
export class FakeMetricsSource implements MetricsSource {
  podMetrics: PodMetricsObject[] = [];
  /** Pods metrics: metric name → pod name → milli-value. */
  readonly custom = new Map<string, Map<string, number>>();
  /** Object metrics: metric name → milli-value. */
  readonly objects = new Map<string, number>();
  /** External metrics: metric name → milli-values. */
  readonly external = new Map<string, number[]>();
  /** Resource metric calls reject with this when set. */
  resourceError?: Error;
  timestamp = new Date(0);
  readonly calls: string[] = [];

  async getResourceMetric(resource: string, namespace: string, selector: string, container: string): Promise<{ metrics: PodMetricsInfo; timestamp: Date }> {
    this.calls.push(`resource ${resource} ${namespace} ${selector} ${container}`);
    if (this.resourceError) throw this.resourceError;
    const sel = parseSelector(selector);
    const items = this.podMetrics.filter((m) => m.metadata?.namespace === namespace && matches(sel, m.metadata?.labels));
    if (items.length === 0) throw new Error('no metrics returned from resource metrics API');
    if (!container) return { metrics: podMetricsOf(items, resource), timestamp: this.timestamp };
    try {
      return { metrics: containerMetricsOf(items, resource, container), timestamp: this.timestamp };
    } catch (e) {
      throw new Error(`failed to get container metrics: ${errorMessage(e)}`, { cause: e });
    }
  }

  async getRawMetric(metricName: string): Promise<{ metrics: PodMetricsInfo; timestamp: Date }> {
    this.calls.push(`custom ${metricName}`);
    const m = this.custom.get(metricName);
    if (!m) throw new Error(NO_CUSTOM_METRICS_API);
    const metrics: PodMetricsInfo = new Map();
    for (const [pod, value] of m) metrics.set(pod, { timestamp: this.timestamp, windowMs: 60_000, value });
    return { metrics, timestamp: this.timestamp };
  }

  async getObjectMetric(metricName: string): Promise<{ value: number; timestamp: Date }> {
    this.calls.push(`object ${metricName}`);
    const value = this.objects.get(metricName);
    if (value === undefined) throw new Error(NO_CUSTOM_METRICS_API);
    return { value, timestamp: this.timestamp };
  }

  async getExternalMetric(metricName: string): Promise<{ values: number[]; timestamp: Date }> {
    this.calls.push(`external ${metricName}`);
    const values = this.external.get(metricName);
    if (!values) throw new Error(NO_EXTERNAL_METRICS_API);
    return { values: [...values], timestamp: this.timestamp };
  }
}
