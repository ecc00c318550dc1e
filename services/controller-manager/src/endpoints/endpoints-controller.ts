/**
 * The Endpoints controller (upstream pkg/controller/endpoint): one Endpoints object per
 * Service with a selector, named like the Service, listing the addresses of the pods it
 * selects.
 *
 * reconcile(namespace/name of a Service):
 *  - Service gone: delete the Endpoints of that name (not found is fine).
 *  - type ExternalName or no selector: leave the Endpoints alone (they are written out of band).
 *  - Otherwise every selected pod that is not finished and has an IP (terminating pods only
 *    with publishNotReadyAddresses) contributes an address: the pod IP of the Service's
 *    first IP family, nodeName, targetRef (kind Pod, namespace, name, uid) and hostname (when
 *    the pod's subdomain is the Service's name), as a ready address when the pod is Ready or
 *    the Service publishes not-ready addresses, else as a not-ready address. Each service port
 *    is resolved on the pod (numeric targetPort as is, named targetPort by container port
 *    name and protocol; unresolvable ports are skipped for that pod); a headless Service
 *    without ports gets port-less addresses. The result is repacked into the canonical
 *    layout (addresses grouped by identical port sets, everything sorted).
 *  - The Endpoints carry the Service's labels (plus `service.kubernetes.io/headless` for a
 *    Service without cluster IP), `endpoints.kubernetes.io/last-change-trigger-time`
 *    (util/endpoints.ts TriggerTimeTracker), and at most 1000 addresses: beyond that they are
 *    truncated (ready addresses first, proportionally per subset) and annotated
 *    `endpoints.kubernetes.io/over-capacity: truncated`.
 *  - Nothing is written when subsets, labels and the capacity annotation already agree. After
 *    an update, a cache still showing the old resourceVersion is treated as stale (retried).
 * At start every existing Endpoints object is queued once, so Endpoints whose Service went
 * away while the controller was down are deleted (except leader-election records).
 *
 * Events (on the Endpoints): FailedToCreateEndpoint, FailedToUpdateEndpoint. Not modelled:
 * the endpoint-updates batch period (--endpoint-updates-batch-period, default 0 upstream).
 */
import {
  isApiError, jsonEqual, objectKey, splitKey,
  type EndpointAddress, type EndpointPort, type EndpointSubset, type Endpoints, type Pod, type Service,
} from '@tskube/api';
import { Resources, WorkQueue, clone, type Client, type DeepReadonly, type EventRecorder, type Informer, type InformerFactory, type ReconcileResult } from '@tskube/client';
import type { Logger } from '@tskube/log';
import { runWorkers, type Controller } from '../controller.js';
import type { ControllerManagerMetrics } from '../metrics.js';
import { errorMessage, hasStatusCause } from '../util/errors.js';
import {
  HEADLESS_LABEL, LAST_CHANGE_TRIGGER_TIME, TriggerTimeTracker, findPort, isIPv6, isServiceIPSet, podIPs, rfc3339Nano,
  selectorMatches, selectorOf, servicesForLabels, servicesToUpdateOnPodChange, shouldPodBeInEndpoints, shouldSetHostname,
} from '../util/endpoints.js';
import { isPodReady } from '../util/pods.js';

type RoPod = DeepReadonly<Pod>;
type RoService = DeepReadonly<Service>;

/** Upstream maxCapacity: the most addresses one Endpoints object lists. */
export const MAX_CAPACITY = 1000;
export const OVER_CAPACITY_ANNOTATION = 'endpoints.kubernetes.io/over-capacity';
/** Endpoints used as leader-election records (old clients): never deleted as leftovers. */
const LEADER_ANNOTATION = 'control-plane.alpha.kubernetes.io/leader';

export interface EndpointsControllerOptions {
  client: Client;
  informers: InformerFactory;
  logger: Logger;
  recorder: EventRecorder;
  /** Default: a queue named "endpoint" without metrics. */
  queue?: WorkQueue<string>;
  metrics?: ControllerManagerMetrics;
  /** Upstream --concurrent-endpoint-syncs: 5. */
  workers?: number;
}

/** The address family the Service's endpoints use (upstream podToEndpointAddressForService). */
function wantsIPv6(svc: RoService, pod: RoPod): boolean {
  const families = svc.spec?.ipFamilies;
  if (families?.length) return families[0] === 'IPv6';
  const cip = svc.spec?.clusterIP;
  if (cip && cip !== 'None') return isIPv6(cip);
  return isIPv6(pod.status?.podIP ?? '');
}

/** A stable order for ports (upstream sorts by hash; any stable order gives the same canonical form). */
function portKey(p: EndpointPort): string {
  return JSON.stringify([p.name ?? '', p.port, p.protocol ?? '', p.appProtocol ?? '']);
}

function compareAddresses(a: EndpointAddress, b: EndpointAddress): number {
  if (a.ip !== b.ip) return a.ip < b.ip ? -1 : 1;
  const ua = a.targetRef?.uid ?? '';
  const ub = b.targetRef?.uid ?? '';
  return ua < ub ? -1 : ua > ub ? 1 : 0;
}

interface Entry { address: EndpointAddress; ready: boolean; port?: EndpointPort }

/**
 * The canonical layout of `entries` (upstream RepackSubsets): one subset per distinct set
 * of addresses, carrying every port those addresses share; an address listed not-ready for
 * a port stays not-ready there; addresses, ports and subsets sorted. Port-less entries form
 * subsets without ports.
 */
export function repackSubsets(entries: readonly Entry[]): EndpointSubset[] {
  const NO_PORT = '';
  const byPort = new Map<string, { port?: EndpointPort; addrs: Map<string, { address: EndpointAddress; ready: boolean }> }>();
  for (const e of entries) {
    const pk = e.port ? portKey(e.port) : NO_PORT;
    let group = byPort.get(pk);
    if (!group) byPort.set(pk, group = { port: e.port, addrs: new Map() });
    const ak = `${e.address.ip}|${e.address.targetRef?.uid ?? ''}`;
    const prev = group.addrs.get(ak);
    // Not ready trumps ready.
    group.addrs.set(ak, { address: prev?.address ?? e.address, ready: (prev?.ready ?? true) && e.ready });
  }
  const bySet = new Map<string, { addrs: { address: EndpointAddress; ready: boolean }[]; ports: EndpointPort[]; portless: boolean }>();
  for (const [pk, group] of byPort) {
    const addrs = [...group.addrs.values()].sort((a, b) => compareAddresses(a.address, b.address));
    const setKey = `${pk === NO_PORT ? 'none' : 'ports'}|${addrs.map((a) => `${a.address.ip}/${a.address.targetRef?.uid ?? ''}/${a.ready}`).join(',')}`;
    let s = bySet.get(setKey);
    if (!s) bySet.set(setKey, s = { addrs, ports: [], portless: pk === NO_PORT });
    if (group.port) s.ports.push(group.port);
  }
  const out: EndpointSubset[] = [];
  for (const s of bySet.values()) {
    const ready = s.addrs.filter((a) => a.ready).map((a) => a.address);
    const notReady = s.addrs.filter((a) => !a.ready).map((a) => a.address);
    const subset: EndpointSubset = {};
    if (ready.length) subset.addresses = ready;
    if (notReady.length) subset.notReadyAddresses = notReady;
    if (!s.portless) subset.ports = s.ports.sort((a, b) => (portKey(a) < portKey(b) ? -1 : portKey(a) > portKey(b) ? 1 : 0));
    out.push(subset);
  }
  return out.sort((a, b) => {
    const ka = JSON.stringify(a);
    const kb = JSON.stringify(b);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
}

/** Total addresses (ready and not) in `subsets`. */
export function countAddresses(subsets: readonly DeepReadonly<EndpointSubset>[] | undefined): number {
  return (subsets ?? []).reduce((n, s) => n + (s.addresses?.length ?? 0) + (s.notReadyAddresses?.length ?? 0), 0);
}

/**
 * Cuts `subsets` (owned by the caller) down to MAX_CAPACITY addresses as upstream
 * truncateEndpoints does: when the ready addresses alone exceed the cap, every subset keeps
 * its proportional share (rounded up, capped by what is left) of ready addresses and no
 * not-ready ones; otherwise all ready addresses stay and the not-ready ones share the rest.
 * Returns whether anything was cut.
 */
export function truncateSubsets(subsets: EndpointSubset[], max = MAX_CAPACITY): boolean {
  let totalReady = 0;
  let totalNotReady = 0;
  for (const s of subsets) {
    totalReady += s.addresses?.length ?? 0;
    totalNotReady += s.notReadyAddresses?.length ?? 0;
  }
  if (totalReady + totalNotReady <= max) return false;
  const truncateReady = totalReady > max;
  const budget = truncateReady ? max : max - totalReady;
  const total = truncateReady ? totalReady : totalNotReady;
  let left = budget;
  for (const s of subsets) {
    const n = truncateReady ? s.addresses?.length ?? 0 : s.notReadyAddresses?.length ?? 0;
    const share = Math.min(Math.ceil((n / total) * budget), left);
    if (truncateReady) {
      if (s.addresses) s.addresses = s.addresses.slice(0, share);
      delete s.notReadyAddresses;
      left -= s.addresses?.length ?? 0;
    } else {
      if (s.notReadyAddresses) s.notReadyAddresses = s.notReadyAddresses.slice(0, share);
      left -= s.notReadyAddresses?.length ?? 0;
    }
    if (s.addresses && !s.addresses.length) delete s.addresses;
    if (s.notReadyAddresses && !s.notReadyAddresses.length) delete s.notReadyAddresses;
  }
  return true;
}

/** Subsets with targetRef.resourceVersion dropped (upstream compares ignoring it). */
function withoutRefVersions(subsets: readonly DeepReadonly<EndpointSubset>[] | undefined): unknown {
  const strip = (a: DeepReadonly<EndpointAddress>) => {
    if (!a.targetRef?.resourceVersion) return a;
    const { resourceVersion: _rv, ...ref } = a.targetRef;
    return { ...a, targetRef: ref };
  };
  return (subsets ?? []).map((s) => ({ ...s, addresses: s.addresses?.map(strip), notReadyAddresses: s.notReadyAddresses?.map(strip) }));
}

function withoutLabel(labels: Readonly<Record<string, string>> | undefined, key: string): Record<string, string> {
  const out = { ...labels };
  delete out[key];
  return out;
}

export class EndpointsController {
  readonly queue: WorkQueue<string>;
  private readonly services: Informer<Service>;
  private readonly pods: Informer<Pod>;
  private readonly endpoints: Informer<Endpoints>;
  private readonly triggers = new TriggerTimeTracker();
  /** Per Service key: the resourceVersion an update replaced; seeing it again in the cache means the cache lags. */
  private readonly staleVersions = new Map<string, string>();
  private readonly log: Logger;

  constructor(private readonly o: EndpointsControllerOptions) {
    this.log = o.logger;
    this.queue = o.queue ?? new WorkQueue<string>({ name: 'endpoint' });
    this.services = o.informers.informer(Resources.services);
    this.pods = o.informers.informer(Resources.pods);
    this.endpoints = o.informers.informer(Resources.endpoints);
    this.services.addEventHandler({
      onAdd: (svc) => this.queue.add(objectKey(svc)),
      onUpdate: (_old, svc) => this.queue.add(objectKey(svc)),
      onDelete: (svc) => this.queue.add(objectKey(svc)),
    });
    this.pods.addEventHandler({
      onAdd: (pod) => this.podMembership(pod),
      onUpdate: (old, pod) => {
        for (const key of servicesToUpdateOnPodChange(this.services.lister, old, pod)) this.queue.add(key);
      },
      onDelete: (pod) => this.podMembership(pod),
    });
    this.endpoints.addEventHandler({ onDelete: (ep) => this.queue.add(objectKey(ep)) });
  }

  private podMembership(pod: RoPod): void {
    for (const key of servicesForLabels(this.services.lister, pod.metadata?.namespace ?? '', pod.metadata?.labels)) this.queue.add(key);
  }

  /** Queues every cached Endpoints once, then runs the workers until `signal` aborts. Call after the informers synced. */
  run(signal: AbortSignal): Promise<void> {
    this.checkLeftoverEndpoints();
    return runWorkers({
      name: 'endpoints-controller', queue: this.queue, workers: this.o.workers ?? 5, logger: this.log, signal,
      metrics: this.o.metrics, reconcile: (key) => this.reconcile(key),
    });
  }

  /** Upstream checkLeftoverEndpoints: Endpoints whose Service disappeared while we were down get deleted. */
  private checkLeftoverEndpoints(): void {
    for (const ep of this.endpoints.lister.list()) {
      if (ep.metadata?.annotations?.[LEADER_ANNOTATION] !== undefined) continue;
      this.queue.add(objectKey(ep));
    }
  }

  /** See the file comment. Throws on failed writes and on a stale cache (retried). */
  async reconcile(key: string): Promise<ReconcileResult> {
    const { namespace, name } = splitKey(key);
    const epClient = this.o.client.resource(Resources.endpoints);
    const svc = this.services.lister.getByName(namespace, name);
    if (!svc) {
      try {
        await epClient.delete(namespace, name);
        this.log.info('deleted endpoints of a deleted service', { service: key });
      } catch (e) {
        if (!isApiError(e, 'NotFound')) throw e;
      }
      this.triggers.delete(key);
      this.staleVersions.delete(key);
      return;
    }
    const selector = selectorOf(svc);
    if (!selector) return;
    const pods = this.pods.lister.listNamespace(namespace).filter((p) => selectorMatches(selector, p.metadata?.labels));
    // Computed before the no-op check so the tracker's state follows every sync.
    const trigger = this.triggers.compute(svc, pods);
    const subsets = this.desiredSubsets(svc, pods);

    const current = this.endpoints.lister.getByName(namespace, name);
    if (current && this.staleVersions.get(key) === current.metadata?.resourceVersion) {
      throw new Error(`endpoints informer cache is out of date, resource version ${current.metadata?.resourceVersion ?? ''} already processed for endpoints ${key}`);
    }
    const svcLabels = svc.metadata?.labels ?? {};
    if (current
      && jsonEqual(withoutRefVersions(current.subsets), withoutRefVersions(subsets))
      && jsonEqual(withoutLabel(current.metadata?.labels, HEADLESS_LABEL), { ...svcLabels })
      && this.capacityAnnotationCorrect(current)) {
      return;
    }
    const next: Endpoints = current
      ? clone(current) as Endpoints
      : { apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace } };
    next.subsets = subsets;
    const annotations = { ...next.metadata?.annotations };
    if (trigger !== undefined) annotations[LAST_CHANGE_TRIGGER_TIME] = rfc3339Nano(trigger);
    else delete annotations[LAST_CHANGE_TRIGGER_TIME];
    if (truncateSubsets(next.subsets)) annotations[OVER_CAPACITY_ANNOTATION] = 'truncated';
    else delete annotations[OVER_CAPACITY_ANNOTATION];
    if (!next.subsets.length) delete next.subsets;
    const labels = { ...svcLabels };
    if (isServiceIPSet(svc)) delete labels[HEADLESS_LABEL];
    else labels[HEADLESS_LABEL] = '';
    next.metadata = { ...next.metadata, labels, annotations };
    if (!Object.keys(annotations).length) delete next.metadata.annotations;

    try {
      if (!current) {
        await epClient.create(namespace, next);
        this.log.debug('created endpoints', { service: key, addresses: countAddresses(next.subsets) });
      } else {
        const updated = await epClient.update(next);
        if (updated.metadata?.resourceVersion !== current.metadata?.resourceVersion) {
          this.staleVersions.set(key, current.metadata?.resourceVersion ?? '');
        }
        this.log.debug('updated endpoints', { service: key, addresses: countAddresses(next.subsets) });
      }
    } catch (e) {
      // A terminating namespace refuses creates for good: nothing to retry.
      if (!current && hasStatusCause(e, 'NamespaceTerminating')) return;
      if (!current) {
        this.o.recorder.event(next, 'Warning', 'FailedToCreateEndpoint', `Failed to create endpoint for service ${key}: ${errorMessage(e)}`);
      } else {
        this.o.recorder.event(next, 'Warning', 'FailedToUpdateEndpoint', `Failed to update endpoint ${key}: ${errorMessage(e)}`);
      }
      throw e;
    }
  }

  /** The over-capacity annotation is right when under capacity and absent (over capacity it always needs a write). */
  private capacityAnnotationCorrect(ep: DeepReadonly<Endpoints>): boolean {
    if (countAddresses(ep.subsets) > MAX_CAPACITY) return false;
    return ep.metadata?.annotations?.[OVER_CAPACITY_ANNOTATION] === undefined;
  }

  private desiredSubsets(svc: RoService, pods: readonly RoPod[]): EndpointSubset[] {
    const publishNotReady = svc.spec?.publishNotReadyAddresses === true;
    const entries: Entry[] = [];
    for (const pod of pods) {
      if (!shouldPodBeInEndpoints(pod, publishNotReady)) continue;
      const v6 = wantsIPv6(svc, pod);
      const ip = podIPs(pod).find((a) => isIPv6(a) === v6);
      if (!ip) {
        this.log.debug('no pod IP of the service family', { service: objectKey(svc), pod: objectKey(pod) });
        continue;
      }
      const address: EndpointAddress = {
        ip,
        ...(pod.spec?.nodeName ? { nodeName: pod.spec.nodeName } : {}),
        targetRef: { kind: 'Pod', namespace: pod.metadata?.namespace ?? '', name: pod.metadata?.name ?? '', uid: pod.metadata?.uid ?? '' },
      };
      if (shouldSetHostname(pod, svc)) address.hostname = pod.spec?.hostname;
      const ready = publishNotReady || isPodReady(pod);
      const ports = svc.spec?.ports ?? [];
      if (!ports.length) {
        // A headless Service may have no ports; others without ports get no addresses.
        if (svc.spec?.clusterIP === 'None') entries.push({ address, ready });
        continue;
      }
      for (const sp of ports) {
        const port = findPort(pod, sp);
        if (port === undefined) {
          this.log.debug('service port not found on pod', { service: objectKey(svc), pod: objectKey(pod), port: sp.name ?? sp.port });
          continue;
        }
        const ep: EndpointPort = { port, protocol: sp.protocol ?? 'TCP' };
        if (sp.name) ep.name = sp.name;
        if (sp.appProtocol) ep.appProtocol = sp.appProtocol;
        entries.push({ address, ready, port: ep });
      }
    }
    return repackSubsets(entries);
  }
}

/** The unit the controller-manager runs. */
export const endpointsController: Controller = {
  name: 'endpoints-controller',
  aliases: ['endpoint'],
  async start(ctx) {
    const c = new EndpointsController({
      client: ctx.client, informers: ctx.informers, logger: ctx.logger, recorder: ctx.recorder('endpoint-controller'),
      queue: ctx.newQueue('endpoint'), metrics: ctx.metrics,
    });
    if (!(await ctx.waitForCacheSync())) return;
    await c.run(ctx.signal);
  },
};
