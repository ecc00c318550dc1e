/**
 * The EndpointSlice controller (upstream pkg/controller/endpointslice with the reconciler of
 * k8s.io/endpointslice): EndpointSlices for every Service with a selector.
 *
 * reconcile(namespace/name of a Service):
 *  - Service gone: forget it (its slices carry a controller reference to it, so the garbage
 *    collector removes them). type ExternalName or no selector: nothing (slices for those are
 *    written out of band, or mirrored from Endpoints by another controller).
 *  - Slices considered: the Service's (labels `kubernetes.io/service-name=<svc>` and
 *    `endpointslice.kubernetes.io/managed-by=endpointslice-controller.k8s.io`), minus those
 *    being deleted. If the cache does not yet show what this controller last wrote (older
 *    generation, or a slice it deleted), the sync fails and is retried (upstream
 *    EndpointSliceTracker).
 *  - Per address type of the Service (spec.ipFamilies; else the cluster IP's family; else
 *    both): desired endpoints from the selected pods that are not finished and have an IP
 *    (terminating pods included): addresses (pod IPs of that family), conditions
 *    (serving = pod Ready, terminating = being deleted, ready = publishNotReadyAddresses or
 *    serving and not terminating), nodeName, zone (the node's `topology.kubernetes.io/zone`),
 *    hostname (pod subdomain = Service name), targetRef; grouped by their resolved ports. A
 *    pod whose node is not cached is left out (and the sync retried) unless the Service
 *    publishes not-ready addresses.
 *  - Per port group, as upstream reconcileByPortMapping: existing slices keep the endpoints
 *    still desired (updated in place when an attribute changed, deleted when none is left,
 *    relabelled when the Service's labels changed); leftover endpoints first fill the slices
 *    being updated (fullest first), then the one unchanged slice they would fill closest to
 *    full, then new slices; at most `maxEndpointsPerSlice` (100) endpoints per slice. Slices
 *    of port groups or address types no longer wanted are deleted, and creates are turned into
 *    updates of slices that would otherwise be deleted. A Service without endpoints keeps one
 *    empty placeholder slice.
 *  - New slices: generateName `<service>-`, the Service's labels plus the two above (and
 *    `service.kubernetes.io/headless` without cluster IP), a controller reference to the
 *    Service, `endpoints.kubernetes.io/last-change-trigger-time`. None are created for a
 *    Service being deleted.
 * Events (on the Service): FailedToUpdateEndpointSlices. Not modelled: topology hints,
 * trafficDistribution, the endpoint-updates batch period and the slice metrics.
 */
import {
  isApiError, jsonEqual, objectKey, splitKey,
  type EndpointSlice, type Node, type ObjectReference, type OwnerReference, type Pod, type Service, type SliceEndpoint, type SliceEndpointPort,
} from '@tskube/api';
import {
  Resources, WorkQueue, clone, type Client, type DeepReadonly, type EventRecorder, type Informer, type InformerFactory, type ReconcileResult,
} from '@tskube/client';
import type { Logger } from '@tskube/log';
import { runWorkers, type Controller } from '../controller.js';
import type { ControllerManagerMetrics } from '../metrics.js';
import { aggregate, errorMessage, hasStatusCause } from '../util/errors.js';
import {
  HEADLESS_LABEL, LAST_CHANGE_TRIGGER_TIME, TriggerTimeTracker, findPort, isIPv6, isServiceIPSet, podIPs, rfc3339Nano,
  selectorMatches, selectorOf, servicesForLabels, servicesToUpdateOnPodChange, shouldPodBeInEndpoints, shouldSetHostname,
} from '../util/endpoints.js';
import { newControllerRef } from '../util/owners.js';
import { isPodReady } from '../util/pods.js';

type RoPod = DeepReadonly<Pod>;
type RoService = DeepReadonly<Service>;
type RoSlice = DeepReadonly<EndpointSlice>;
type AddressType = 'IPv4' | 'IPv6';

export const LABEL_SERVICE_NAME = 'kubernetes.io/service-name';
export const LABEL_MANAGED_BY = 'endpointslice.kubernetes.io/managed-by';
export const CONTROLLER_NAME = 'endpointslice-controller.k8s.io';
export const LABEL_TOPOLOGY_ZONE = 'topology.kubernetes.io/zone';
/** Upstream --max-endpoints-per-slice default. */
export const MAX_ENDPOINTS_PER_SLICE = 100;
/** Upstream endpointSliceChangeMinSyncDelay: slice events are batched for a second. */
const SLICE_CHANGE_MIN_SYNC_DELAY_MS = 1000;
const SERVICE_INDEX = 'endpointslice.service';
const SERVICE_GVK = { apiVersion: 'v1', kind: 'Service' };

export interface EndpointSliceControllerOptions {
  client: Client;
  informers: InformerFactory;
  logger: Logger;
  recorder: EventRecorder;
  /** Default: a queue named "endpoint_slice" without metrics. */
  queue?: WorkQueue<string>;
  metrics?: ControllerManagerMetrics;
  /** Upstream --concurrent-service-endpoint-syncs: 5. */
  workers?: number;
  maxEndpointsPerSlice?: number;
  /** Delay before syncing a Service after one of its slices changed (default 1 s). */
  sliceChangeDelayMs?: number;
}

const DELETION_EXPECTED = -1;

/**
 * The generations of slices this controller wrote, per Service (upstream
 * EndpointSliceTracker), to tell its own writes from others' and a lagging cache from a
 * current one.
 */
export class EndpointSliceTracker {
  private readonly byService = new Map<string, Map<string, number>>();

  private gens(slice: RoSlice): Map<string, number> | undefined {
    const svc = slice.metadata?.labels?.[LABEL_SERVICE_NAME];
    return svc ? this.byService.get(`${slice.metadata?.namespace ?? ''}/${svc}`) : undefined;
  }

  has(slice: RoSlice): boolean {
    return this.gens(slice)?.has(slice.metadata?.uid ?? '') ?? false;
  }

  /** A slice changed by someone else (newer generation than written here, or unknown). */
  shouldSync(slice: RoSlice): boolean {
    const g = this.gens(slice)?.get(slice.metadata?.uid ?? '');
    return g === undefined || (slice.metadata?.generation ?? 0) > g;
  }

  /** The cache lags behind this controller's writes for the Service. */
  stale(serviceKey: string, slices: readonly RoSlice[]): boolean {
    const gens = this.byService.get(serviceKey);
    if (!gens) return false;
    const seen = new Set<string>();
    for (const s of slices) {
      const uid = s.metadata?.uid ?? '';
      seen.add(uid);
      const g = gens.get(uid);
      if (g !== undefined && (g === DELETION_EXPECTED || g > (s.metadata?.generation ?? 0))) return true;
    }
    for (const [uid, g] of gens) if (g !== DELETION_EXPECTED && !seen.has(uid)) return true;
    return false;
  }

  update(slice: RoSlice): void {
    const svc = slice.metadata?.labels?.[LABEL_SERVICE_NAME];
    if (!svc) return;
    const key = `${slice.metadata?.namespace ?? ''}/${svc}`;
    let gens = this.byService.get(key);
    if (!gens) this.byService.set(key, gens = new Map());
    gens.set(slice.metadata?.uid ?? '', slice.metadata?.generation ?? 0);
  }

  expectDeletion(slice: RoSlice): void {
    this.update(slice);
    this.gens(slice)?.set(slice.metadata?.uid ?? '', DELETION_EXPECTED);
  }

  /** Forgets a deleted slice; true when this controller deleted it. */
  handleDeletion(slice: RoSlice): boolean {
    const gens = this.gens(slice);
    const uid = slice.metadata?.uid ?? '';
    const g = gens?.get(uid);
    if (g === undefined) return false;
    gens!.delete(uid);
    return g === DELETION_EXPECTED;
  }

  deleteService(key: string): void {
    this.byService.delete(key);
  }
}

/** The address types a Service's slices use (upstream getAddressTypesForService). */
export function addressTypesFor(svc: RoService): AddressType[] {
  const fams = svc.spec?.ipFamilies ?? [];
  const out = new Set<AddressType>();
  for (const f of fams) if (f === 'IPv4' || f === 'IPv6') out.add(f);
  if (out.size) return [...out];
  const cip = svc.spec?.clusterIP;
  if (cip && cip !== 'None') return [isIPv6(cip) ? 'IPv6' : 'IPv4'];
  return ['IPv4', 'IPv6'];
}

const normPort = (p: DeepReadonly<SliceEndpointPort>) => [p.name ?? '', p.port ?? null, p.protocol ?? 'TCP', p.appProtocol ?? ''];
/** Identifies a set of ports regardless of order (upstream PortMapKey). */
export function portMapKey(ports: readonly DeepReadonly<SliceEndpointPort>[] | undefined): string {
  return JSON.stringify((ports ?? []).map(normPort).map((p) => JSON.stringify(p)).sort());
}

/** Identifies an endpoint by addresses, hostname and target (upstream hashEndpoint): other attributes may be updated in place. */
export function endpointKey(ep: DeepReadonly<SliceEndpoint>): string {
  return JSON.stringify([[...ep.addresses].sort(), ep.hostname ?? '', ep.targetRef?.namespace ?? '', ep.targetRef?.name ?? '']);
}

function refWithoutVersion(r: DeepReadonly<ObjectReference> | undefined): unknown {
  if (!r) return undefined;
  const { resourceVersion: _rv, ...rest } = r;
  return rest;
}

/** Equal beyond what the key covers (upstream EndpointsEqualBeyondHash). */
function endpointsEqualBeyondKey(a: DeepReadonly<SliceEndpoint>, b: DeepReadonly<SliceEndpoint>): boolean {
  return a.nodeName === b.nodeName && a.zone === b.zone
    && a.conditions?.ready === b.conditions?.ready && a.conditions?.serving === b.conditions?.serving
    && a.conditions?.terminating === b.conditions?.terminating
    && jsonEqual(refWithoutVersion(a.targetRef), refWithoutVersion(b.targetRef));
}

const isReservedLabel = (k: string) => k === LABEL_SERVICE_NAME || k === LABEL_MANAGED_BY || k === HEADLESS_LABEL;

/** The labels a slice of `svc` must carry, and whether the slice's non-reserved labels differ from the Service's (upstream setEndpointSliceLabels). */
function sliceLabels(slice: RoSlice | undefined, svc: RoService): { labels: Record<string, string>; changed: boolean } {
  const own: Record<string, string> = {};
  for (const [k, v] of Object.entries(slice?.metadata?.labels ?? {})) if (!isReservedLabel(k)) own[k] = v;
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(svc.metadata?.labels ?? {})) if (!isReservedLabel(k)) labels[k] = v;
  const changed = !jsonEqual(own, labels);
  if (!isServiceIPSet(svc)) labels[HEADLESS_LABEL] = '';
  labels[LABEL_SERVICE_NAME] = svc.metadata?.name ?? '';
  labels[LABEL_MANAGED_BY] = CONTROLLER_NAME;
  return { labels, changed };
}

function ownedBy(slice: RoSlice, svc: RoService): boolean {
  return (slice.metadata?.ownerReferences ?? []).some((r) => r.uid === svc.metadata?.uid && r.kind === 'Service' && r.apiVersion === 'v1');
}

function newSlice(svc: RoService, ports: SliceEndpointPort[], addressType: AddressType): EndpointSlice {
  const owner: OwnerReference = newControllerRef(svc, SERVICE_GVK);
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: {
      generateName: `${svc.metadata?.name ?? ''}-`, namespace: svc.metadata?.namespace ?? '',
      labels: sliceLabels(undefined, svc).labels, ownerReferences: [owner],
    },
    addressType, endpoints: [], ports,
  };
}

/** The placeholder slice is already the right one: same address type, no ports or endpoints, same labels and owners. */
function isPlaceholderLike(existing: RoSlice, want: EndpointSlice): boolean {
  return existing.addressType === want.addressType && !existing.endpoints?.length && !existing.ports?.length
    && existing.metadata?.namespace === want.metadata?.namespace
    && jsonEqual(existing.metadata?.labels ?? {}, want.metadata?.labels ?? {})
    && jsonEqual(existing.metadata?.ownerReferences ?? [], want.metadata?.ownerReferences ?? []);
}

/** The slice whose endpoints plus `n` come closest to `max` without exceeding it (upstream getSliceToFill). */
function sliceToFill(slices: readonly EndpointSlice[], n: number, max: number): EndpointSlice | undefined {
  let best: EndpointSlice | undefined;
  let bestDiff = max;
  for (const s of slices) {
    const diff = max - (n + s.endpoints.length);
    if (diff >= 0 && diff < bestDiff) {
      best = s;
      bestDiff = diff;
      if (diff === 0) break;
    }
  }
  return best;
}

interface Plan { create: EndpointSlice[]; update: EndpointSlice[]; delete: RoSlice[] }

export class EndpointSliceController {
  readonly queue: WorkQueue<string>;
  readonly tracker = new EndpointSliceTracker();
  private readonly services: Informer<Service>;
  private readonly pods: Informer<Pod>;
  private readonly nodes: Informer<Node>;
  private readonly slices: Informer<EndpointSlice>;
  private readonly triggers = new TriggerTimeTracker();
  private readonly max: number;
  private readonly sliceDelay: number;
  private readonly log: Logger;

  constructor(private readonly o: EndpointSliceControllerOptions) {
    this.log = o.logger;
    this.max = o.maxEndpointsPerSlice ?? MAX_ENDPOINTS_PER_SLICE;
    this.sliceDelay = o.sliceChangeDelayMs ?? SLICE_CHANGE_MIN_SYNC_DELAY_MS;
    this.queue = o.queue ?? new WorkQueue<string>({ name: 'endpoint_slice' });
    this.services = o.informers.informer(Resources.services);
    this.pods = o.informers.informer(Resources.pods);
    this.nodes = o.informers.informer(Resources.nodes);
    this.slices = o.informers.informer(Resources.endpointSlices, {
      indexers: {
        [SERVICE_INDEX]: (s) => {
          const svc = s.metadata?.labels?.[LABEL_SERVICE_NAME];
          return svc && s.metadata?.labels?.[LABEL_MANAGED_BY] === CONTROLLER_NAME ? [`${s.metadata?.namespace ?? ''}/${svc}`] : [];
        },
      },
    });
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
    const managed = (s: RoSlice) => s.metadata?.labels?.[LABEL_MANAGED_BY] === CONTROLLER_NAME;
    this.slices.addEventHandler({
      onAdd: (s) => { if (managed(s) && this.tracker.shouldSync(s)) this.queueForSlice(s); },
      onUpdate: (old, s) => {
        // Users may change the service-name label; generation does not move for labels.
        if (old.metadata?.labels?.[LABEL_SERVICE_NAME] !== s.metadata?.labels?.[LABEL_SERVICE_NAME]) {
          this.queueForSlice(s);
          this.queueForSlice(old);
          return;
        }
        if (managed(old) !== managed(s) || (managed(s) && this.tracker.shouldSync(s))) this.queueForSlice(s);
      },
      onDelete: (s) => {
        if (managed(s) && this.tracker.has(s) && !this.tracker.handleDeletion(s)) this.queueForSlice(s);
      },
    });
  }

  private podMembership(pod: RoPod): void {
    for (const key of servicesForLabels(this.services.lister, pod.metadata?.namespace ?? '', pod.metadata?.labels)) this.queue.add(key);
  }

  private queueForSlice(s: RoSlice): void {
    const svc = s.metadata?.labels?.[LABEL_SERVICE_NAME];
    if (svc) this.queue.addAfter(`${s.metadata?.namespace ?? ''}/${svc}`, this.sliceDelay);
  }

  run(signal: AbortSignal): Promise<void> {
    return runWorkers({
      name: 'endpointslice-controller', queue: this.queue, workers: this.o.workers ?? 5, logger: this.log, signal,
      metrics: this.o.metrics, reconcile: (key) => this.reconcile(key),
    });
  }

  /** See the file comment. Throws on failed writes, missing nodes and a stale cache (retried). */
  async reconcile(key: string): Promise<ReconcileResult> {
    const { namespace, name } = splitKey(key);
    const svc = this.services.lister.getByName(namespace, name);
    if (!svc) {
      this.triggers.delete(key);
      this.tracker.deleteService(key);
      return;
    }
    const selector = selectorOf(svc);
    if (!selector) return;
    const pods = this.pods.lister.listNamespace(namespace).filter((p) => selectorMatches(selector, p.metadata?.labels));
    const slices = this.slices.lister.byIndex(SERVICE_INDEX, key).filter((s) => !s.metadata?.deletionTimestamp);
    if (this.tracker.stale(key, slices)) throw new Error(`EndpointSlice informer cache is out of date for service ${key}`);
    const trigger = this.triggers.compute(svc, pods);
    try {
      await this.reconcileSlices(svc, pods, slices, trigger);
    } catch (e) {
      this.o.recorder.event(svc, 'Warning', 'FailedToUpdateEndpointSlices', `Error updating Endpoint Slices for Service ${key}: ${errorMessage(e)}`);
      throw e;
    }
  }

  private async reconcileSlices(svc: RoService, pods: readonly RoPod[], existing: readonly RoSlice[], trigger: number | undefined): Promise<void> {
    const types = addressTypesFor(svc);
    const errs: unknown[] = [];
    const toDelete: RoSlice[] = [];
    const byType = new Map<string, RoSlice[]>();
    for (const s of existing) {
      if (!types.includes(s.addressType as AddressType)) { toDelete.push(s); continue; }
      const list = byType.get(s.addressType) ?? [];
      list.push(s);
      byType.set(s.addressType, list);
    }
    for (const t of types) {
      try {
        await this.reconcileAddressType(svc, pods, byType.get(t) ?? [], t, trigger, errs);
      } catch (e) {
        errs.push(e);
      }
    }
    for (const s of toDelete) {
      try {
        await this.deleteSlice(s);
      } catch (e) {
        errs.push(e);
      }
    }
    const err = aggregate(errs);
    if (err) throw err;
  }

  private desiredEndpoints(svc: RoService, pods: readonly RoPod[], addressType: AddressType, errs: unknown[]):
    Map<string, { ports: SliceEndpointPort[]; endpoints: Map<string, SliceEndpoint> }> {
    const out = new Map<string, { ports: SliceEndpointPort[]; endpoints: Map<string, SliceEndpoint> }>();
    const publishNotReady = svc.spec?.publishNotReadyAddresses === true;
    for (const pod of pods) {
      if (!shouldPodBeInEndpoints(pod, true)) continue;
      const ports = this.endpointPorts(svc, pod);
      const pk = portMapKey(ports);
      let group = out.get(pk);
      if (!group) out.set(pk, group = { ports, endpoints: new Map() });
      const nodeName = pod.spec?.nodeName ?? '';
      const node = nodeName ? this.nodes.lister.getByName(undefined, nodeName) : undefined;
      if (!node && !publishNotReady) {
        errs.push(new Error(`skipping Pod ${pod.metadata?.name ?? ''} for Service ${objectKey(svc)}: Node ${nodeName} Not Found`));
        continue;
      }
      const addresses = podIPs(pod).filter((ip) => isIPv6(ip) === (addressType === 'IPv6'));
      if (!addresses.length) continue;
      const serving = isPodReady(pod);
      const terminating = !!pod.metadata?.deletionTimestamp;
      const ep: SliceEndpoint = {
        addresses,
        conditions: { ready: publishNotReady || (serving && !terminating), serving, terminating },
        targetRef: { kind: 'Pod', namespace: pod.metadata?.namespace ?? '', name: pod.metadata?.name ?? '', uid: pod.metadata?.uid ?? '' },
      };
      if (nodeName) ep.nodeName = nodeName;
      const zone = node?.metadata?.labels?.[LABEL_TOPOLOGY_ZONE];
      if (zone) ep.zone = zone;
      if (shouldSetHostname(pod, svc)) ep.hostname = pod.spec?.hostname;
      group.endpoints.set(endpointKey(ep), ep);
    }
    return out;
  }

  /** The service ports resolved on `pod` (upstream getEndpointPorts); none for a headless Service without ports. */
  private endpointPorts(svc: RoService, pod: RoPod): SliceEndpointPort[] {
    const out: SliceEndpointPort[] = [];
    for (const sp of svc.spec?.ports ?? []) {
      const port = findPort(pod, sp);
      if (port === undefined) continue;
      const p: SliceEndpointPort = { name: sp.name ?? '', port, protocol: sp.protocol ?? 'TCP' };
      if (sp.appProtocol) p.appProtocol = sp.appProtocol;
      out.push(p);
    }
    return out;
  }

  private async reconcileAddressType(svc: RoService, pods: readonly RoPod[], existing: readonly RoSlice[], addressType: AddressType,
    trigger: number | undefined, errs: unknown[]): Promise<void> {
    const plan: Plan = { create: [], update: [], delete: [] };
    const existingByPorts = new Map<string, RoSlice[]>();
    for (const s of existing) {
      if (!ownedBy(s, svc)) { plan.delete.push(s); continue; }
      const pk = portMapKey(s.ports);
      existingByPorts.set(pk, [...(existingByPorts.get(pk) ?? []), s]);
    }
    const desired = this.desiredEndpoints(svc, pods, addressType, errs);
    for (const [pk, group] of desired) {
      const p = this.reconcilePortGroup(svc, existingByPorts.get(pk) ?? [], group.endpoints, group.ports, addressType);
      plan.create.push(...p.create);
      plan.update.push(...p.update);
      plan.delete.push(...p.delete);
    }
    for (const [pk, slices] of existingByPorts) if (!desired.has(pk)) plan.delete.push(...slices);
    // A Service without endpoints keeps one empty placeholder slice.
    if (existing.length === plan.delete.length && plan.create.length === 0) {
      const placeholder = newSlice(svc, [], addressType);
      if (plan.delete.length === 1 && isPlaceholderLike(plan.delete[0]!, placeholder)) plan.delete = [];
      else plan.create.push(placeholder);
    }
    await this.finalize(svc, plan, trigger);
  }

  /** Upstream reconcileByPortMapping: see the file comment. `desired` is consumed. */
  private reconcilePortGroup(svc: RoService, existing: readonly RoSlice[], desired: Map<string, SliceEndpoint>,
    ports: SliceEndpointPort[], addressType: AddressType): Plan {
    const byName = new Map<string, EndpointSlice>();
    const unchanged = new Set<string>();
    const toUpdate = new Set<string>();
    const toDelete = new Set<string>();
    const originals = new Map<string, RoSlice>();
    for (const s of existing) {
      const name = s.metadata?.name ?? '';
      originals.set(name, s);
      const kept: SliceEndpoint[] = [];
      let changed = false;
      for (const ep of s.endpoints ?? []) {
        const k = endpointKey(ep);
        const want = desired.get(k);
        if (!want) continue;
        kept.push(want);
        if (!endpointsEqualBeyondKey(want, ep)) changed = true;
        desired.delete(k);
      }
      const { labels, changed: labelsChanged } = sliceLabels(s, svc);
      if (changed || kept.length !== (s.endpoints?.length ?? 0)) {
        if (!kept.length) toDelete.add(name);
        else {
          const next = clone(s) as EndpointSlice;
          next.endpoints = kept;
          next.metadata = { ...next.metadata, labels };
          byName.set(name, next);
          toUpdate.add(name);
        }
      } else if (labelsChanged) {
        const next = clone(s) as EndpointSlice;
        next.metadata = { ...next.metadata, labels };
        byName.set(name, next);
        toUpdate.add(name);
      } else {
        unchanged.add(name);
      }
    }
    const pop = (): SliceEndpoint => {
      const [k, ep] = desired.entries().next().value as [string, SliceEndpoint];
      desired.delete(k);
      return ep;
    };
    // Fill the slices being updated anyway, fullest first.
    if (desired.size && toUpdate.size) {
      const slices = [...toUpdate].map((n) => byName.get(n)!).sort((a, b) => b.endpoints.length - a.endpoints.length);
      for (const s of slices) while (desired.size && s.endpoints.length < this.max) s.endpoints.push(pop());
    }
    const create: EndpointSlice[] = [];
    while (desired.size) {
      let fill: EndpointSlice | undefined;
      if (desired.size < this.max && unchanged.size) {
        const candidates = [...unchanged].map((n) => clone(originals.get(n)!) as EndpointSlice);
        fill = sliceToFill(candidates, desired.size, this.max);
        if (fill) byName.set(fill.metadata?.name ?? '', fill);
      }
      fill ??= newSlice(svc, ports, addressType);
      while (desired.size && fill.endpoints.length < this.max) fill.endpoints.push(pop());
      if (fill.metadata?.name) {
        toUpdate.add(fill.metadata.name);
        unchanged.delete(fill.metadata.name);
      } else {
        create.push(fill);
      }
    }
    return {
      create,
      update: [...toUpdate].map((n) => byName.get(n)!),
      delete: [...toDelete].map((n) => originals.get(n)!),
    };
  }

  private async finalize(svc: RoService, plan: Plan, trigger: number | undefined): Promise<void> {
    // Reuse slices about to be deleted for slices about to be created.
    for (let i = 0; i < plan.delete.length && plan.create.length;) {
      const old = plan.delete[i]!;
      const fresh = plan.create[plan.create.length - 1]!;
      if (old.addressType === fresh.addressType && ownedBy(old, svc)) {
        plan.create.pop();
        const reused = clone(old) as EndpointSlice;
        reused.metadata = { ...reused.metadata, labels: fresh.metadata?.labels, ownerReferences: fresh.metadata?.ownerReferences };
        reused.endpoints = fresh.endpoints;
        reused.ports = fresh.ports;
        plan.update.push(reused);
        plan.delete.splice(i, 1);
      } else {
        i++;
      }
    }
    const client = this.o.client.resource(Resources.endpointSlices);
    const ns = svc.metadata?.namespace ?? '';
    // No new slices for a Service being deleted: the garbage collector is removing them.
    if (!svc.metadata?.deletionTimestamp) {
      for (const s of plan.create) {
        setTriggerTime(s, trigger);
        try {
          this.tracker.update(await client.create(ns, s));
        } catch (e) {
          if (hasStatusCause(e, 'NamespaceTerminating')) return;
          throw new Error(`failed to create EndpointSlice for Service ${objectKey(svc)}: ${errorMessage(e)}`, { cause: e });
        }
      }
    }
    for (const s of plan.update) {
      setTriggerTime(s, trigger);
      try {
        this.tracker.update(await client.update(s));
      } catch (e) {
        throw new Error(`failed to update ${s.metadata?.name ?? ''} EndpointSlice for Service ${objectKey(svc)}: ${errorMessage(e)}`, { cause: e });
      }
    }
    for (const s of plan.delete) await this.deleteSlice(s);
    if (plan.create.length || plan.update.length || plan.delete.length) {
      this.log.debug('endpoint slices reconciled', { service: objectKey(svc), created: plan.create.length, updated: plan.update.length, deleted: plan.delete.length });
    }
  }

  private async deleteSlice(s: RoSlice): Promise<void> {
    try {
      await this.o.client.resource(Resources.endpointSlices).delete(s.metadata?.namespace ?? '', s.metadata?.name ?? '');
    } catch (e) {
      if (isApiError(e, 'NotFound')) return;
      throw e;
    }
    this.tracker.expectDeletion(s);
  }
}

function setTriggerTime(s: EndpointSlice, trigger: number | undefined): void {
  const annotations = { ...s.metadata?.annotations };
  if (trigger !== undefined) annotations[LAST_CHANGE_TRIGGER_TIME] = rfc3339Nano(trigger);
  else delete annotations[LAST_CHANGE_TRIGGER_TIME];
  s.metadata = { ...s.metadata, annotations };
  if (!Object.keys(annotations).length) delete s.metadata.annotations;
}

/** The unit the controller-manager runs. */
export const endpointSliceController: Controller = {
  name: 'endpointslice-controller',
  aliases: ['endpointslice'],
  async start(ctx) {
    const c = new EndpointSliceController({
      client: ctx.client, informers: ctx.informers, logger: ctx.logger, recorder: ctx.recorder('endpoint-slice-controller'),
      queue: ctx.newQueue('endpoint_slice'), metrics: ctx.metrics,
    });
    if (!(await ctx.waitForCacheSync())) return;
    await c.run(ctx.signal);
  },
};
