/**
 * What the Endpoints and EndpointSlice controllers share (upstream k8s.io/endpointslice/util):
 * which pods belong in a Service's endpoints, how a service port resolves on a pod, which
 * Services a pod change touches, and the last-change-trigger-time bookkeeping. Pure
 * functions except `TriggerTimeTracker`, which keeps per-Service state.
 */
import { jsonEqual, objectKey, type Pod, type Service, type ServicePort } from '@tskube/api';
import type { DeepReadonly, Lister } from '@tskube/client';
import { isPodReady, podCondition } from './pods.js';

type RoPod = DeepReadonly<Pod>;
type RoService = DeepReadonly<Service>;

/** Annotation with the time of the change that caused the current endpoints (RFC 3339 with nanoseconds). */
export const LAST_CHANGE_TRIGGER_TIME = 'endpoints.kubernetes.io/last-change-trigger-time';
/** Label set on endpoints of headless Services. */
export const HEADLESS_LABEL = 'service.kubernetes.io/headless';

/**
 * Whether a Service gets endpoints from the controllers: a selector, and not type ExternalName.
 * Upstream tests `Selector == nil`; an empty selector decodes to nil from protobuf and to {} from
 * JSON, so both count as "no selector" here (such Services get their endpoints out of band).
 */
export function selectorOf(svc: RoService): Readonly<Record<string, string>> | undefined {
  if (svc.spec?.type === 'ExternalName') return undefined;
  const sel = svc.spec?.selector;
  return sel && Object.keys(sel).length > 0 ? sel : undefined;
}

/** Every label of `selector` is on `labels` (a Service selector is a plain equality map). */
export function selectorMatches(selector: Readonly<Record<string, string>>, labels: Readonly<Record<string, string>> | undefined): boolean {
  for (const [k, v] of Object.entries(selector)) if (labels?.[k] !== v) return false;
  return true;
}

/** Not Succeeded/Failed, has an IP, and not terminating unless `includeTerminating` (upstream ShouldPodBeInEndpoints). */
export function shouldPodBeInEndpoints(pod: RoPod, includeTerminating: boolean): boolean {
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return false;
  if (!pod.status?.podIP && !pod.status?.podIPs?.length) return false;
  return includeTerminating || !pod.metadata?.deletionTimestamp;
}

/** The pod's hostname is published when it sets one and its subdomain is the Service's name (same namespace). */
export function shouldSetHostname(pod: RoPod, svc: RoService): boolean {
  return !!pod.spec?.hostname && pod.spec.subdomain === svc.metadata?.name && pod.metadata?.namespace === svc.metadata?.namespace;
}

/** The pod's IPs: status.podIPs, else status.podIP. */
export function podIPs(pod: RoPod): string[] {
  const ips = (pod.status?.podIPs ?? []).map((p) => p.ip).filter((ip): ip is string => !!ip);
  if (ips.length) return ips;
  return pod.status?.podIP ? [pod.status.podIP] : [];
}

export const isIPv6 = (ip: string): boolean => ip.includes(':');

/**
 * The container port a service port targets on `pod` (upstream FindPort): a numeric
 * targetPort as is (defaulting to `port`), a named one looked up among the containers' (and
 * restartable init containers') ports with the same protocol; undefined when not found.
 */
export function findPort(pod: RoPod, sp: DeepReadonly<ServicePort>): number | undefined {
  const target = sp.targetPort ?? sp.port;
  if (typeof target === 'number') return target;
  const proto = sp.protocol ?? 'TCP';
  const containers = [
    ...(pod.spec?.containers ?? []),
    ...(pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always'),
  ];
  for (const c of containers) {
    for (const p of c.ports ?? []) {
      if (p.name === target && (p.protocol ?? 'TCP') === proto) return p.containerPort;
    }
  }
  return undefined;
}

/** Whether the Service has a cluster IP (not headless). */
export function isServiceIPSet(svc: RoService): boolean {
  const ip = svc.spec?.clusterIP;
  return !!ip && ip !== 'None';
}

/** Keys (namespace/name) of the Services in `namespace` whose selector matches `labels`. */
export function servicesForLabels(services: Lister<Service>, namespace: string, labels: Readonly<Record<string, string>> | undefined): Set<string> {
  const out = new Set<string>();
  for (const svc of services.listNamespace(namespace)) {
    const sel = svc.spec?.selector;
    // A Service without a selector selects nothing (not everything).
    if (sel && selectorMatches(sel, labels)) out.add(objectKey(svc));
  }
  return out;
}

/**
 * The Services to sync after a pod changed (upstream GetServicesToUpdateOnPodChange):
 * nothing for a resync; the pod's Services when something endpoints show changed
 * (deletion, readiness, IPs); when labels (or hostname/subdomain) changed, the union of old
 * and new Services if the pod changed too, else only the Services it joined or left.
 */
export function servicesToUpdateOnPodChange(services: Lister<Service>, old: RoPod, cur: RoPod): Set<string> {
  if (old.metadata?.resourceVersion === cur.metadata?.resourceVersion) return new Set();
  const labelsChanged = !jsonEqual(old.metadata?.labels ?? {}, cur.metadata?.labels ?? {})
    || old.spec?.hostname !== cur.spec?.hostname || old.spec?.subdomain !== cur.spec?.subdomain;
  const podChanged = old.metadata?.deletionTimestamp !== cur.metadata?.deletionTimestamp
    || isPodReady(old) !== isPodReady(cur)
    || !jsonEqual(podIPs(old), podIPs(cur));
  if (!podChanged && !labelsChanged) return new Set();
  const ns = cur.metadata?.namespace ?? '';
  const now = servicesForLabels(services, ns, cur.metadata?.labels);
  if (!labelsChanged) return now;
  const before = servicesForLabels(services, ns, old.metadata?.labels);
  if (podChanged) return new Set([...now, ...before]);
  return new Set([...[...now].filter((k) => !before.has(k)), ...[...before].filter((k) => !now.has(k))]);
}

/** RFC 3339 with nanoseconds as Go's time.RFC3339Nano prints it (trailing zeros dropped). */
export function rfc3339Nano(ms: number): string {
  const iso = new Date(ms).toISOString(); // 2025-01-01T00:00:00.120Z
  const [head, frac = ''] = iso.slice(0, -1).split('.');
  const trimmed = frac.replace(/0+$/, '');
  return `${head}${trimmed ? `.${trimmed}` : ''}Z`;
}

interface ServiceState {
  serviceTime: number;
  podTimes: Map<string, number>;
}

/**
 * Computes the `endpoints.kubernetes.io/last-change-trigger-time` value (upstream
 * TriggerTimeTracker): for a Service seen for the first time, its creation time; afterwards
 * the earliest of the pod Ready-condition transitions (and Service creation) that changed
 * since the previous call for that Service, or undefined when none did (then the annotation
 * is removed). Not safe for concurrent calls for the same Service (the work queue ensures that).
 */
export class TriggerTimeTracker {
  private readonly states = new Map<string, ServiceState>();

  compute(svc: RoService, pods: readonly RoPod[]): number | undefined {
    const key = objectKey(svc);
    const state = this.states.get(key);
    let min: number | undefined;
    const podTimes = new Map<string, number>();
    for (const pod of pods) {
      const t = Date.parse(podCondition(pod.status, 'Ready')?.lastTransitionTime ?? '');
      if (Number.isNaN(t)) continue;
      const name = pod.metadata?.name ?? '';
      podTimes.set(name, t);
      if (t > (state?.podTimes.get(name) ?? -Infinity)) min = min === undefined ? t : Math.min(min, t);
    }
    const created = Date.parse(svc.metadata?.creationTimestamp ?? '');
    const serviceTime = Number.isNaN(created) ? 0 : created;
    if (serviceTime > (state?.serviceTime ?? 0)) min = min === undefined ? serviceTime : Math.min(min, serviceTime);
    this.states.set(key, { serviceTime, podTimes });
    if (!state) return Number.isNaN(created) ? undefined : created;
    return min;
  }

  delete(key: string): void {
    this.states.delete(key);
  }
}
