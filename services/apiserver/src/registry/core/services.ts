/**
 * services (+status): the strategy, the REST wrapper that allocates ClusterIPs and NodePorts
 * around the generic store (upstream pkg/registry/core/service/storage: beginCreate,
 * beginUpdate, afterDelete), the `kubernetes` Service bootstrap and the allocation repair loop.
 *
 * Ordering on create: defaults → normalizeClusterIPs → (invalid? the store reports every cause,
 * nothing allocated) → IP families → allocate → store.create → on failure give the values back.
 * On update the allocation runs inside the store's read-modify-write callback (re-run on a
 * conflict: the previous attempt's claims are given back first); values the new object no longer
 * holds are freed after the write succeeds. A deleted Service frees everything it held.
 */
import {
  ApiError, defaultService, dropTypeDependentFields, normalizeClusterIPs, patchAllocatedValues, serviceClusterIPs,
  serviceNodePorts, typed, validateService, validateServiceStatus, validateServiceUpdate, ipFamilyOf, validateNonSpecialIP,
  type KubeList, type KubeObject, type MutableService, type StoredObject,
} from '@tskube/api';
import type { Logger } from '@tskube/log';
import { keepSpec, type Strategy } from '../strategy.js';
import type {
  ApiWatch, CollectionDeleter, Creater, DeleteOptions, Deleter, Getter, ListQuery, Lister, RequestContext, UpdatedObjectInfo,
  UpdateOptions, Updater, WatchQuery,
} from '../rest.js';
import { generateName, type Store } from '../store.js';
import type { BootstrapInfo, ModuleContext } from '../module.js';
import { parentOf } from './service-allocator.js';
import { AllocationTxn, ServiceIPAM } from './service-ipam.js';
import { DEFAULT_NODE_PORT_RANGE, PortRange, parseServiceCIDRs } from './service-ranges.js';
import { serviceTable } from './tables.js';

const svc = (o: KubeObject) => typed<MutableService>(o);

export const serviceStrategy: Strategy = {
  applyDefaults: (o) => defaultService(svc(o)),
  prepareForCreate(o) {
    const s = svc(o);
    s.status = {};
  },
  prepareForUpdate(o, old) {
    const s = svc(o);
    const prev = svc(old);
    if (prev.status === undefined) delete s.status; else s.status = prev.status;
    dropTypeDependentFields(s, prev);
  },
  validate: (o) => validateService(svc(o)),
  validateUpdate: (o, old) => validateServiceUpdate(svc(o), svc(old)),
  hasGeneration: false,
  allowCreateOnUpdate: true,
  allowUnconditionalUpdate: true,
  selectableFields: (o) => ({ 'spec.clusterIP': svc(o).spec?.clusterIP ?? '', 'spec.type': svc(o).spec?.type ?? '' }),
  table: serviceTable,
};

export const serviceStatusStrategy: Strategy = {
  ...serviceStrategy,
  applyDefaults: undefined,
  prepareForUpdate: keepSpec,
  validateUpdate: (o) => validateServiceStatus(svc(o)),
};

/** The allocators of a registry (stateless apart from storage: every claim is a storage record). */
export function serviceIPAM(ctx: ModuleContext): ServiceIPAM {
  return new ServiceIPAM({
    storage: ctx.deps.storage,
    ranges: parseServiceCIDRs(ctx.deps.serviceClusterIPRanges ?? []),
    nodePorts: PortRange.parse(DEFAULT_NODE_PORT_RANGE),
  });
}

const isDeleted = (o: StoredObject) => !!o.metadata.deletionTimestamp && !o.metadata.finalizers?.length && (o.metadata.deletionGracePeriodSeconds ?? 0) === 0;

/** The services endpoint: the generic store plus allocation. */
export class ServiceRest implements Getter, Lister, Creater, Updater, Deleter, CollectionDeleter {
  readonly def;
  readonly kind;
  readonly table;
  constructor(private readonly store: Store, private readonly ipam: ServiceIPAM) {
    this.def = store.def;
    this.kind = store.kind;
    this.table = store.table;
  }

  get(ctx: RequestContext, name: string): Promise<StoredObject> { return this.store.get(ctx, name); }
  list(ctx: RequestContext, q: ListQuery): Promise<KubeList> { return this.store.list(ctx, q); }
  watch(ctx: RequestContext, q: WatchQuery): Promise<ApiWatch> { return this.store.watch(ctx, q); }

  async create(ctx: RequestContext, input: KubeObject): Promise<KubeObject> {
    const obj = structuredClone(input);
    const s = svc(obj);
    s.metadata ??= {};
    if (ctx.namespace) s.metadata.namespace ??= ctx.namespace;
    // the name is needed before the store makes it: allocation records name their Service
    if (!s.metadata.name && s.metadata.generateName) s.metadata.name = generateName(s.metadata.generateName);
    defaultService(s);
    normalizeClusterIPs(s, null);
    // Invalid input allocates nothing; the store reports every cause (metadata included).
    if (validateService(s).length || !s.metadata.name) return this.store.create(ctx, obj);
    const txn = await this.ipam.allocateCreate(s, ctx.dryRun);
    try {
      return await this.store.create(ctx, obj);
    } catch (e) {
      await txn.revert();
      throw e;
    }
  }

  async update(ctx: RequestContext, name: string, info: UpdatedObjectInfo, opts?: UpdateOptions): Promise<{ object: KubeObject; created: boolean }> {
    let txn: AllocationTxn | undefined;
    const allocating: UpdatedObjectInfo = async (existing) => {
      if (txn) { await txn.revert(); txn = undefined; }
      const next = structuredClone(await info(existing));
      const s = svc(next);
      s.metadata ??= {};
      s.metadata.name ??= name;
      if (ctx.namespace) s.metadata.namespace ??= ctx.namespace;
      defaultService(s);
      if (!existing) {
        normalizeClusterIPs(s, null);
        if (!validateService(s).length) txn = await this.ipam.allocateCreate(s, ctx.dryRun);
        return next;
      }
      const old = svc(existing);
      patchAllocatedValues(s, old);
      normalizeClusterIPs(s, old);
      // what the strategy's prepareForUpdate does, early: validation must see the final shape
      dropTypeDependentFields(s, old);
      if (!validateServiceUpdate(s, old).length) txn = await this.ipam.allocateUpdate(s, old, ctx.dryRun);
      return next;
    };
    let r: { object: StoredObject; created: boolean };
    try {
      r = await this.store.update(ctx, name, allocating, opts);
    } catch (e) {
      await txn?.revert();
      throw e;
    }
    await txn?.commit();
    if (!ctx.dryRun && isDeleted(r.object)) await this.ipam.releaseService(svc(r.object));
    return r;
  }

  async delete(ctx: RequestContext, name: string, opts: DeleteOptions): Promise<{ object: KubeObject; deleted: boolean }> {
    const r = await this.store.delete(ctx, name, opts);
    if (r.deleted && !ctx.dryRun) await this.ipam.releaseService(svc(r.object));
    return r;
  }

  async deleteCollection(ctx: RequestContext, opts: DeleteOptions, q: ListQuery): Promise<KubeList> {
    const list = await this.store.list(ctx, { ...q, limit: 0 });
    const items: KubeObject[] = [];
    for (const o of list.items) {
      try {
        const r = await this.delete({ ...ctx, namespace: o.metadata?.namespace ?? ctx.namespace }, o.metadata!.name!, { ...opts, preconditions: { uid: o.metadata!.uid! } });
        items.push(r.object);
      } catch (e) {
        if (e instanceof ApiError && (e.code === 404 || e.code === 409)) continue;
        throw e;
      }
    }
    return { ...list, items };
  }
}

// ---- repair -------------------------------------------------------------------------------

export interface RepairResult { recorded: string[]; released: string[]; conflicts: string[] }

/**
 * Reconciles allocation records with the Services that exist (upstream's ClusterIP and
 * NodePort repair controllers): a value a Service holds without a record gets one; a record
 * no Service holds is removed once it is older than `graceMs` (younger ones may belong to a
 * create that has claimed but not yet stored its Service).
 */
export async function repairServiceAllocations(ipam: ServiceIPAM, services: readonly KubeObject[], now: Date, graceMs: number, log: Logger): Promise<RepairResult> {
  const out: RepairResult = { recorded: [], released: [], conflicts: [] };
  const heldIPs = new Map<string, { namespace: string; name: string }>();
  const heldPorts = new Map<string, { namespace: string; name: string }>();
  for (const o of services) {
    const s = svc(o);
    const owner = { namespace: s.metadata?.namespace ?? '', name: s.metadata?.name ?? '' };
    for (const ip of serviceClusterIPs(s)) {
      const alloc = ipam.ipAllocators.get(ipFamilyOf(ip) === 6 ? 'IPv6' : 'IPv4');
      if (!alloc || alloc.ipRange.offsetOf(ip) === undefined) continue;
      const key = alloc.ipRange.canonical(ip);
      if (heldIPs.has(key)) { out.conflicts.push(key); log.error('cluster IP held by two services', { ip: key, a: heldIPs.get(key), b: owner }); continue; }
      heldIPs.set(key, owner);
    }
    for (const p of serviceNodePorts(s)) {
      if (ipam.ports.portRange.offsetOf(p) === undefined) continue;
      if (heldPorts.has(String(p))) { out.conflicts.push(String(p)); log.error('node port held by two services', { port: p }); continue; }
      heldPorts.set(String(p), owner);
    }
  }
  const reconcile = async (
    records: StoredObject[], held: Map<string, { namespace: string; name: string }>,
    claim: (v: string, owner: { namespace: string; name: string }) => Promise<unknown>, forget: (name: string, rv: string) => Promise<void>,
  ) => {
    const byName = new Map(records.map((r) => [r.metadata.name!, r]));
    for (const [v, owner] of held) {
      const rec = byName.get(v);
      const p = rec ? parentOf(rec) : undefined;
      if (rec && p?.namespace === owner.namespace && p.name === owner.name) continue;
      if (rec) { out.conflicts.push(v); log.warn('allocation record names another service', { value: v, holder: owner, record: p }); continue; }
      try {
        await claim(v, owner);
        out.recorded.push(v);
        log.warn('recorded an allocation that had no record', { value: v, service: owner });
      } catch { /* claimed concurrently: fine */ }
    }
    for (const rec of records) {
      const v = rec.metadata.name!;
      const p = parentOf(rec);
      const h = held.get(v);
      if (h && p && h.namespace === p.namespace && h.name === p.name) continue;
      const created = Date.parse(rec.metadata.creationTimestamp ?? '') || 0;
      if (now.getTime() - created < graceMs) continue;
      await forget(v, rec.metadata.resourceVersion!);
      out.released.push(v);
      log.info('released a leaked allocation', { value: v, record: p });
    }
  };
  for (const alloc of ipam.ipAllocators.values()) {
    const records = (await alloc.list()).filter((r) => alloc.ipRange.offsetOf(r.metadata.name!) !== undefined);
    const mine = new Map([...heldIPs].filter(([ip]) => alloc.ipRange.offsetOf(ip) !== undefined));
    await reconcile(records, mine, (v, owner) => alloc.claim(v, owner), (n, rv) => alloc.forget(n, rv));
  }
  await reconcile(await ipam.ports.list(), heldPorts, (v, owner) => ipam.ports.claim(Number(v), owner), (n, rv) => ipam.ports.forget(n, rv));
  return out;
}

/** Grace before a record without a Service counts as leaked. */
const REPAIR_GRACE_MS = 60_000;
/** How often the repair pass runs (upstream: every 3 minutes). */
const REPAIR_INTERVAL_MS = 3 * 60_000;

// ---- bootstrap: the kubernetes Service ------------------------------------------------------

const KUBERNETES = 'kubernetes';
/** Signals whose repair loop already runs (the hook may be re-run after a later hook failed). */
const repairing = new WeakSet<AbortSignal>();

/**
 * Creates the `kubernetes` Service in `default` (ClusterIP = the first address of the range,
 * port 443 → the apiserver's port) or fixes its ports; creates its Endpoints when the advertised
 * address is a usable IP. Then repairs allocations and keeps doing so until `info.signal` aborts.
 */
export async function bootstrapServices(ctx: ModuleContext, rest: ServiceRest, ipam: ServiceIPAM, info: BootstrapInfo): Promise<void> {
  const log = ctx.deps.logger.child({ subsystem: 'services' });
  const sys = { ...ctx.system, namespace: 'default' };
  const ports = [{ name: 'https', port: 443, protocol: 'TCP', targetPort: info.securePort }];
  const want: KubeObject = {
    apiVersion: 'v1', kind: 'Service',
    metadata: { name: KUBERNETES, namespace: 'default', labels: { component: 'apiserver', provider: 'kubernetes' } },
    spec: { type: 'ClusterIP', clusterIP: ipam.firstIP(), sessionAffinity: 'None', ports },
  };
  try {
    const cur = svc(await rest.get(sys, KUBERNETES));
    const same = JSON.stringify(cur.spec?.ports?.map((p) => [p.name, p.port, p.protocol, p.targetPort])) === JSON.stringify(ports.map((p) => [p.name, p.port, p.protocol, p.targetPort]));
    if (!same) {
      await rest.update(sys, KUBERNETES, (live) => ({ ...live!, spec: { ...(live!.spec as object), ports } }));
      log.info('updated the kubernetes service ports', { targetPort: info.securePort });
    }
  } catch (e) {
    if (!(e instanceof ApiError && e.code === 404)) throw e;
    try {
      await rest.create(sys, want);
      log.info('created the kubernetes service', { clusterIP: ipam.firstIP() });
    } catch (err) {
      if (err instanceof ApiError && err.code === 422) {
        // e.g. a user's Service holds the first address: report it, do not block startup
        log.error('cannot create the kubernetes service', { err: err.message });
      } else if (!(err instanceof ApiError && err.reason === 'AlreadyExists')) {
        throw err;
      }
    }
  }
  const ip = info.advertiseAddress;
  if (ip && ipFamilyOf(ip) && !validateNonSpecialIP('ip', ip).length) {
    const endpoints = ctx.storeFor('', 'Endpoints');
    const subsets = [{ addresses: [{ ip }], ports: [{ name: 'https', port: info.securePort, protocol: 'TCP' }] }];
    await endpoints.update(sys, KUBERNETES, (live) => ({
      ...(live ?? { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: KUBERNETES, namespace: 'default', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } } }),
      subsets,
    }), { createIfMissing: true });
  }
  const repair = async () => {
    const list = await ctx.store!.list({ ...ctx.system, namespace: '' }, {});
    await repairServiceAllocations(ipam, list.items, new Date(), REPAIR_GRACE_MS, log);
  };
  await repair();
  if (info.signal.aborted || repairing.has(info.signal)) return;
  repairing.add(info.signal);
  const timer = setInterval(() => { repair().catch((e: unknown) => log.warn('service allocation repair failed', { err: e })); }, REPAIR_INTERVAL_MS);
  timer.unref();
  info.signal.addEventListener('abort', () => clearInterval(timer), { once: true });
}
