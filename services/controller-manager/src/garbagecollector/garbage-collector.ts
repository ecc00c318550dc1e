/**
 * The garbage collector (a simplified upstream pkg/controller/garbagecollector).
 *
 * Upstream keeps a graph of every object's owners and dependents fed by one monitor per
 * resource. Here the graph is the informers themselves: every resource of the resource
 * table that can be listed, watched and deleted (except events, which upstream ignores too)
 * gets an informer with an index of objects by owner uid, so "the dependents of X" is an
 * index lookup across those informers. Everything is rebuilt from the informers' first list
 * after a restart, so no state is lost with the process.
 *
 * reconcile(<resource>|<namespace>/<name>) looks at one object:
 *  - being deleted with the `orphan` finalizer: remove its uid from every dependent's
 *    ownerReferences, then remove the finalizer;
 *  - being deleted with `foregroundDeletion`: have its dependents deleted (they see an owner
 *    "waiting for dependents deletion", below) and remove the finalizer once no dependent
 *    with blockOwnerDeletion=true is left;
 *  - otherwise, if it has owners, classify each: solid (exists), dangling (no object with
 *    that uid: cache, then a live GET), or waiting (exists and is in foreground deletion).
 *    With a solid owner, dangling and waiting references are removed from it. Without one
 *    the object is deleted (after a live GET confirms its current owner references) with
 *    propagation Foreground when an owner waits and it has dependents itself, otherwise as
 *    its own finalizers say (orphan → Orphan, foregroundDeletion → Foreground, else
 *    Background). Deletes carry a uid precondition.
 * Owners of an unknown kind count as solid (they cannot be checked). Not modelled: the cycle
 * breaking of upstream (unblocking owner references of dependents that are themselves in
 * foreground deletion) and its OwnerRefInvalidNamespace events.
 */
import { preferredVersions } from '../util/resources.js';
import {
  RESOURCES, isApiError, jsonEqual, objectKey, splitKey, type OwnerReference, type ResourceDef,
} from '@tskube/api';
import {
  WorkQueue, type ApiObject, type Client, type DeepReadonly, type Informer, type InformerFactory, type ReconcileResult,
} from '@tskube/client';
import type { Logger } from '@tskube/log';
import { runWorkers, type Controller } from '../controller.js';
import type { ControllerManagerMetrics } from '../metrics.js';
import { aggregate } from '../util/errors.js';
import { groupOf, versionOf } from '../util/owners.js';
import { removeFinalizerPatch, removeOwnerRefsPatch } from '../util/patches.js';

export const FINALIZER_ORPHAN = 'orphan';
export const FINALIZER_FOREGROUND = 'foregroundDeletion';
/** Index on every monitored informer: objects by the uids of their owners. */
export const GC_OWNER_INDEX = 'gc.ownerUid';

type Obj = DeepReadonly<ApiObject>;
type Ref = DeepReadonly<OwnerReference>;
type OwnerState = 'solid' | 'dangling' | 'waiting';

/** Resources the collector watches: list + watch + delete, not events (upstream ignoredResources). */
export function collectableResources(all: readonly ResourceDef[] = RESOURCES): ResourceDef[] {
  return preferredVersions(all).filter((d) => ['list', 'watch', 'delete'].every((v) => d.verbs.includes(v as ResourceDef['verbs'][number]))
    && !(d.kind === 'Event' && (d.group === '' || d.group === 'events.k8s.io')));
}

interface Monitor {
  def: ResourceDef;
  /** "pods", "replicasets.apps": the first part of a queue key. */
  id: string;
  informer: Informer<ApiObject>;
}

export interface GarbageCollectorOptions {
  client: Client;
  informers: InformerFactory;
  logger: Logger;
  resources?: readonly ResourceDef[];
  queue?: WorkQueue<string>;
  metrics?: ControllerManagerMetrics;
  /** Upstream --concurrent-gc-syncs: 20. */
  workers?: number;
}

const refsOf = (o: Obj | undefined): readonly Ref[] => o?.metadata?.ownerReferences ?? [];
const hasFinalizer = (o: Obj, f: string): boolean => (o.metadata?.finalizers ?? []).includes(f);
const isDeletingWithGcFinalizer = (o: Obj): boolean =>
  !!o.metadata?.deletionTimestamp && (hasFinalizer(o, FINALIZER_ORPHAN) || hasFinalizer(o, FINALIZER_FOREGROUND));

export class GarbageCollector {
  readonly queue: WorkQueue<string>;
  private readonly monitors = new Map<string, Monitor>();
  private readonly byKind = new Map<string, Monitor>();
  /** Uids known not to exist (uids are never reused): saves live GETs for siblings of a deleted owner. */
  private readonly absent = new Set<string>();
  private readonly log: Logger;

  constructor(private readonly o: GarbageCollectorOptions) {
    this.log = o.logger;
    this.queue = o.queue ?? new WorkQueue<string>({ name: 'garbage_collector_attempt_to_delete' });
    for (const def of collectableResources(o.resources)) {
      const informer = o.informers.informer<ApiObject>(def, {
        indexers: { [GC_OWNER_INDEX]: (obj) => refsOf(obj).map((r) => r.uid) },
      });
      const mon: Monitor = { def, id: def.group ? `${def.plural}.${def.group}` : def.plural, informer };
      this.monitors.set(mon.id, mon);
      this.byKind.set(`${def.group}/${def.version}/${def.kind}`, mon);
      informer.addEventHandler({
        onAdd: (obj) => {
          if (refsOf(obj).length || isDeletingWithGcFinalizer(obj)) this.enqueue(mon, obj);
        },
        onUpdate: (old, obj) => {
          const refsChanged = !jsonEqual(refsOf(old), refsOf(obj));
          const deletionChanged = old.metadata?.deletionTimestamp !== obj.metadata?.deletionTimestamp
            || !jsonEqual(old.metadata?.finalizers, obj.metadata?.finalizers);
          if (!refsChanged && !deletionChanged) return;
          if (refsOf(obj).length || isDeletingWithGcFinalizer(obj)) this.enqueue(mon, obj);
          // An owner waiting for this dependent may be unblocked now.
          if (refsChanged) this.enqueueDeletingOwners(obj, [...refsOf(old), ...refsOf(obj)]);
        },
        onDelete: (obj) => {
          for (const d of this.dependentsOf(obj.metadata?.uid ?? '')) this.enqueue(d.mon, d.obj);
          this.enqueueDeletingOwners(obj, refsOf(obj));
        },
      });
    }
  }

  run(signal: AbortSignal): Promise<void> {
    return runWorkers({
      name: 'garbage-collector-controller', queue: this.queue, workers: this.o.workers ?? 10, logger: this.log, signal,
      metrics: this.o.metrics, reconcile: (key) => this.reconcile(key),
    });
  }

  private enqueue(mon: Monitor, obj: Obj): void {
    this.queue.add(`${mon.id}|${objectKey(obj)}`);
  }

  private monitorFor(ref: Ref): Monitor | undefined {
    return this.byKind.get(`${groupOf(ref.apiVersion)}/${versionOf(ref.apiVersion)}/${ref.kind}`);
  }

  /** The cached owner `ref` names (same uid), if any. */
  private cachedOwner(mon: Monitor, namespace: string, ref: Ref): Obj | undefined {
    const owner = mon.informer.lister.getByName(mon.def.namespaced ? namespace : '', ref.name);
    return owner?.metadata?.uid === ref.uid ? owner : undefined;
  }

  private enqueueDeletingOwners(dependent: Obj, refs: readonly Ref[]): void {
    for (const ref of refs) {
      const mon = this.monitorFor(ref);
      const owner = mon && this.cachedOwner(mon, dependent.metadata?.namespace ?? '', ref);
      if (mon && owner?.metadata?.deletionTimestamp) this.enqueue(mon, owner);
    }
  }

  /** Every cached object with an owner reference to `uid`. */
  private dependentsOf(uid: string): { mon: Monitor; obj: Obj }[] {
    if (!uid) return [];
    return [...this.monitors.values()].flatMap((mon) => mon.informer.lister.byIndex(GC_OWNER_INDEX, uid).map((obj) => ({ mon, obj })));
  }

  private markAbsent(uid: string): void {
    if (this.absent.size >= 4096) this.absent.delete(this.absent.values().next().value!);
    this.absent.add(uid);
  }

  /** See the file comment. Not found: nothing to do. Throws on failed writes (retried). */
  async reconcile(key: string): Promise<ReconcileResult> {
    const bar = key.indexOf('|');
    const mon = this.monitors.get(key.slice(0, bar));
    if (!mon || bar < 0) return;
    const { namespace, name } = splitKey(key.slice(bar + 1));
    const obj = mon.informer.lister.getByName(namespace, name);
    if (!obj) return;
    if (obj.metadata?.deletionTimestamp) {
      if (hasFinalizer(obj, FINALIZER_ORPHAN)) await this.orphanDependents(mon, obj);
      else if (hasFinalizer(obj, FINALIZER_FOREGROUND)) await this.processDeletingDependents(mon, obj);
      return;
    }
    if (refsOf(obj).length) await this.attemptToDelete(mon, obj);
  }

  private async ownerState(dependent: Obj, depNamespaced: boolean, ref: Ref): Promise<OwnerState> {
    const mon = this.monitorFor(ref);
    if (!mon) return 'solid';
    // A cluster-scoped object cannot be owned by a namespaced one: such a reference resolves to nothing (as upstream).
    if (mon.def.namespaced && !depNamespaced) return 'dangling';
    if (this.absent.has(ref.uid)) return 'dangling';
    const ns = mon.def.namespaced ? dependent.metadata?.namespace ?? '' : '';
    let owner: Obj | undefined = this.cachedOwner(mon, ns, ref);
    if (!owner) {
      try {
        owner = await this.o.client.dynamic(mon.def).get(ns, ref.name);
      } catch (e) {
        if (!isApiError(e, 'NotFound')) throw e;
      }
      if (owner?.metadata?.uid !== ref.uid) {
        this.markAbsent(ref.uid);
        return 'dangling';
      }
    }
    return owner.metadata?.deletionTimestamp && hasFinalizer(owner, FINALIZER_FOREGROUND) ? 'waiting' : 'solid';
  }

  private async classify(dependent: Obj, depNamespaced: boolean): Promise<Record<OwnerState, Ref[]>> {
    const out: Record<OwnerState, Ref[]> = { solid: [], dangling: [], waiting: [] };
    for (const ref of refsOf(dependent)) out[await this.ownerState(dependent, depNamespaced, ref)].push(ref);
    return out;
  }

  private async attemptToDelete(mon: Monitor, cached: Obj): Promise<void> {
    const namespaced = mon.def.namespaced;
    let c = await this.classify(cached, namespaced);
    if (c.solid.length && !c.dangling.length && !c.waiting.length) return;
    // About to change or delete it: decide on its current owner references, not the cached ones.
    const ns = cached.metadata?.namespace ?? '';
    const name = cached.metadata?.name ?? '';
    const dyn = this.o.client.dynamic(mon.def);
    let latest: ApiObject;
    try {
      latest = await dyn.get(ns, name);
    } catch (e) {
      if (isApiError(e, 'NotFound')) return;
      throw e;
    }
    if (latest.metadata?.uid !== cached.metadata?.uid || latest.metadata?.deletionTimestamp || !refsOf(latest).length) return;
    if (!jsonEqual(refsOf(latest), refsOf(cached))) c = await this.classify(latest, namespaced);
    const what = { resource: mon.id, object: objectKey(latest) };
    if (c.solid.length) {
      const gone = new Set([...c.dangling, ...c.waiting].map((r) => r.uid));
      const patch = removeOwnerRefsPatch(latest.metadata, gone);
      if (!patch) return;
      await this.ignoreNotFound(dyn.patch(ns, name, patch, 'json'));
      this.log.info('removed owner references', { ...what, owners: [...gone] });
      return;
    }
    let policy: 'Orphan' | 'Foreground' | 'Background';
    if (c.waiting.length && this.dependentsOf(latest.metadata?.uid ?? '').length) policy = 'Foreground';
    else if (hasFinalizer(latest, FINALIZER_ORPHAN)) policy = 'Orphan';
    else if (hasFinalizer(latest, FINALIZER_FOREGROUND)) policy = 'Foreground';
    else policy = 'Background';
    try {
      await dyn.delete(ns, name, { propagationPolicy: policy, preconditions: { uid: latest.metadata?.uid } });
    } catch (e) {
      if (isApiError(e, 'NotFound') || isApiError(e, 'Conflict')) return;
      throw e;
    }
    this.log.info('deleted object whose owners are gone', { ...what, propagationPolicy: policy });
  }

  private async processDeletingDependents(mon: Monitor, owner: Obj): Promise<void> {
    const uid = owner.metadata?.uid ?? '';
    const deps = this.dependentsOf(uid);
    const blocking = deps.filter((d) => refsOf(d.obj).some((r) => r.uid === uid && r.blockOwnerDeletion === true));
    if (!blocking.length) {
      await this.removeFinalizer(mon, owner, FINALIZER_FOREGROUND);
      return;
    }
    for (const d of deps) {
      if (!d.obj.metadata?.deletionTimestamp) this.enqueue(d.mon, d.obj);
    }
  }

  private async orphanDependents(mon: Monitor, owner: Obj): Promise<void> {
    const uid = owner.metadata?.uid ?? '';
    const errs: unknown[] = [];
    for (const d of this.dependentsOf(uid)) {
      const patch = removeOwnerRefsPatch(d.obj.metadata, new Set([uid]));
      if (!patch) continue;
      try {
        await this.ignoreNotFound(this.o.client.dynamic(d.mon.def).patch(d.obj.metadata?.namespace ?? '', d.obj.metadata?.name ?? '', patch, 'json'));
      } catch (e) {
        errs.push(e);
      }
    }
    const err = aggregate(errs);
    if (err) throw new Error(`failed to orphan dependents of owner ${mon.id} ${objectKey(owner)}: ${err.message}`, { cause: err });
    await this.removeFinalizer(mon, owner, FINALIZER_ORPHAN);
    this.log.info('orphaned dependents', { resource: mon.id, object: objectKey(owner) });
  }

  private async removeFinalizer(mon: Monitor, obj: Obj, finalizer: string): Promise<void> {
    const patch = removeFinalizerPatch(obj.metadata, finalizer);
    if (!patch) return;
    await this.ignoreNotFound(this.o.client.dynamic(mon.def).patch(obj.metadata?.namespace ?? '', obj.metadata?.name ?? '', patch, 'json'));
  }

  private async ignoreNotFound(p: Promise<unknown>): Promise<void> {
    try {
      await p;
    } catch (e) {
      if (!isApiError(e, 'NotFound')) throw e;
    }
  }
}

export const garbageCollectorController: Controller = {
  name: 'garbage-collector-controller',
  aliases: ['garbagecollector'],
  async start(ctx) {
    const gc = new GarbageCollector({
      client: ctx.client, informers: ctx.informers, logger: ctx.logger,
      queue: ctx.newQueue('garbage_collector_attempt_to_delete'), metrics: ctx.metrics,
    });
    if (!(await ctx.waitForCacheSync())) return;
    await gc.run(ctx.signal);
  },
};
