/**
 * The ReplicaSet controller (upstream pkg/controller/replicaset): keeps `spec.replicas`
 * active pods for every ReplicaSet and reports them in its status.
 *
 * reconcile(namespace/name):
 *  1. Claim pods (upstream PodControllerRefManager): owned pods that still match the
 *     selector are kept, owned pods that stopped matching are released (their controller
 *     reference removed), orphans that match are adopted (after a live GET proves the
 *     ReplicaSet is neither gone nor being deleted). A ReplicaSet being deleted adopts and
 *     releases nothing.
 *  2. Unless its expectations are pending or it is being deleted, create or delete the
 *     difference: creates in slow-start batches (1, 2, 4, …; at most `burstReplicas` per
 *     round) with generateName `<rs>-`, the template's labels/annotations/finalizers/spec and
 *     a controller reference; deletions pick victims in upstream's order (ranking.ts).
 *  3. Write the status through /status when it changed.
 * Safe to run twice: expectations stop a second round before the informer has shown the
 * first one's pods, so a slow watch never causes duplicates.
 *
 * Events (on the ReplicaSet): SuccessfulCreate "Created pod: <name>", FailedCreate
 * "Error creating: <err>", SuccessfulDelete "Deleted pod: <name>", FailedDelete
 * "Error deleting: <err>". Pods being deleted or finished do not count as replicas.
 *
 * One implementation serves ReplicaSets and ReplicationControllers (upstream builds the
 * replication manager from this controller with RC↔RS adapters): the `kind` option says
 * which resource is reconciled and how its objects look as ReplicaSets (see
 * ../replication/replication-controller.ts); the default is ReplicaSets as they are.
 */
import {
  isApiError, jsonEqual, matches, objectKey, splitKey,
  type Pod, type ReplicaSet, type ReplicaSetStatus,
} from '@tskube/api';
import {
  Resources, WorkQueue, clone, type ApiObject, type DeepReadonly, type Informer, type ReconcileResult, type ResourceType,
} from '@tskube/client';
import type { Logger } from '@tskube/log';
import { runWorkers, type Controller, type ControllerOptions } from '../controller.js';
import { claimPods } from '../util/claim.js';
import { Expectations } from '../util/expectations.js';
import { errorMessage, hasStatusCause } from '../util/errors.js';
import { controllerOf, groupOf, newControllerRef } from '../util/owners.js';
import { isPodActive, isPodReady, podKey } from '../util/pods.js';
import { podsToDelete } from './ranking.js';
import { calculateStatus, statusChanged } from './status.js';
import { selectorOf } from '../util/selector.js';

type RoRS = DeepReadonly<ReplicaSet>;
type RoPod = DeepReadonly<Pod>;

/**
 * The kind a ReplicaSetController manages. The controller works on ReplicaSet-shaped views
 * of its objects: `toReplicaSet` gives that view (keeping the object's own apiVersion and
 * kind, so events and logs name it correctly; read-only, so it may be cached per object),
 * `fromReplicaSet` the object to PUT back to /status.
 */
export interface ReplicaSetKind {
  /** Upstream controller name: logs and reconcile metrics. */
  controllerName: string;
  resource: ResourceType<ApiObject, true>;
  /** Controller references of owned pods. */
  gvk: { apiVersion: string; kind: string };
  toReplicaSet(obj: DeepReadonly<ApiObject>): RoRS;
  fromReplicaSet(rs: ReplicaSet): ApiObject;
}

/** ReplicaSets themselves: the identity view. */
export const REPLICA_SET_KIND: ReplicaSetKind = {
  controllerName: 'replicaset-controller',
  resource: Resources.replicaSets,
  gvk: { apiVersion: 'apps/v1', kind: 'ReplicaSet' },
  toReplicaSet: (obj) => obj as RoRS,
  fromReplicaSet: (rs) => rs,
};
/** Upstream BurstReplicas: the most pods created or deleted in one round. */
export const BURST_REPLICAS = 500;
/** Upstream SlowStartInitialBatchSize. */
const SLOW_START_INITIAL_BATCH = 1;

export interface ReplicaSetControllerOptions extends ControllerOptions {
  burstReplicas?: number;
  /** Parallel workers (upstream --concurrent-replicaset-syncs: 5). */
  workers?: number;
  expectationsTtlMs?: number;
  /** What is reconciled (default ReplicaSets). */
  kind?: ReplicaSetKind;
}

/** Runs `fn` `count` times in batches of 1, 2, 4, …; stops after the first batch with a failure (upstream slowStartBatch). */
export async function slowStartBatch(count: number, initial: number, fn: () => Promise<void>): Promise<{ successes: number; error?: unknown }> {
  let remaining = count;
  let successes = 0;
  for (let batch = Math.min(remaining, initial); batch > 0; batch = Math.min(2 * batch, remaining)) {
    const results = await Promise.allSettled(Array.from({ length: batch }, () => fn()));
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    successes += batch - failed.length;
    if (failed.length) return { successes, error: failed[0]!.reason };
    remaining -= batch;
  }
  return { successes };
}

export class ReplicaSetController {
  readonly queue: WorkQueue<string>;
  readonly expectations: Expectations;
  private readonly kind: ReplicaSetKind;
  private readonly ownerInformer: Informer<ApiObject>;
  private readonly podInformer: Informer<Pod>;
  private readonly log: Logger;
  private readonly now: () => Date;
  private readonly burst: number;

  constructor(private readonly o: ReplicaSetControllerOptions) {
    this.log = o.logger;
    this.now = o.now ?? (() => new Date());
    this.burst = o.burstReplicas ?? BURST_REPLICAS;
    this.expectations = new Expectations({ now: () => this.now().getTime(), ttlMs: o.expectationsTtlMs });
    this.queue = o.queue ?? new WorkQueue<string>({ name: 'replicaset' });
    this.kind = o.kind ?? REPLICA_SET_KIND;
    this.ownerInformer = o.informers.informer(this.kind.resource);
    this.podInformer = o.informers.informer(Resources.pods);
    this.ownerInformer.addEventHandler({
      onAdd: (rs) => this.enqueue(rs),
      onUpdate: (old, rs) => {
        if (old.metadata?.uid !== rs.metadata?.uid) this.expectations.delete(objectKey(old));
        this.enqueue(rs);
      },
      onDelete: (rs) => {
        this.expectations.delete(objectKey(rs));
        this.enqueue(rs);
      },
    });
    this.podInformer.addEventHandler({
      onAdd: (pod) => this.podAdded(pod),
      onUpdate: (old, pod) => this.podUpdated(old, pod),
      onDelete: (pod) => this.podDeleted(pod),
    });
  }

  /** Runs the workers until `signal` aborts. Call after the informers synced. */
  run(signal: AbortSignal): Promise<void> {
    return runWorkers({
      name: this.kind.controllerName, queue: this.queue, workers: this.o.workers ?? 5, logger: this.log, signal,
      metrics: this.o.metrics, reconcile: (key) => this.reconcile(key),
    });
  }

  // ---- event handlers: bookkeeping of expectations, then enqueue ----

  private enqueue(rs: DeepReadonly<ApiObject>): void {
    this.queue.add(objectKey(rs));
  }

  /** The ReplicaSet a controller reference points at, if it is cached with the same uid. */
  private resolve(namespace: string, ref: { kind: string; apiVersion: string; name: string; uid: string }): RoRS | undefined {
    if (ref.kind !== this.kind.gvk.kind || groupOf(ref.apiVersion) !== groupOf(this.kind.gvk.apiVersion)) return undefined;
    const rs = this.ownerInformer.lister.getByName(namespace, ref.name);
    return rs && rs.metadata?.uid === ref.uid ? this.kind.toReplicaSet(rs) : undefined;
  }

  private listOwners(namespace: string): RoRS[] {
    return this.ownerInformer.lister.listNamespace(namespace).map((o) => this.kind.toReplicaSet(o));
  }

  /** ReplicaSets in the pod's namespace whose (non-empty) selector matches it. */
  private replicaSetsFor(pod: RoPod): RoRS[] {
    return this.listOwners(pod.metadata?.namespace ?? '').filter((rs) => {
      const sel = selectorOf(rs);
      return sel !== null && sel.length > 0 && matches(sel, pod.metadata?.labels);
    });
  }

  private podAdded(pod: RoPod): void {
    if (pod.metadata?.deletionTimestamp) {
      // Seen for the first time while already being deleted (e.g. after a restart).
      this.podDeleted(pod);
      return;
    }
    const ref = controllerOf(pod);
    if (ref) {
      const rs = this.resolve(pod.metadata?.namespace ?? '', ref);
      if (!rs) return;
      this.expectations.creationObserved(objectKey(rs));
      this.enqueue(rs);
      return;
    }
    for (const rs of this.replicaSetsFor(pod)) this.enqueue(rs);
  }

  private podUpdated(old: RoPod, pod: RoPod): void {
    if (old.metadata?.resourceVersion === pod.metadata?.resourceVersion) return;
    const labelsChanged = !jsonEqual(old.metadata?.labels, pod.metadata?.labels);
    if (pod.metadata?.deletionTimestamp) {
      // A graceful deletion started: count it now rather than when the kubelet finishes.
      this.podDeleted(pod);
      if (labelsChanged) this.podDeleted(old);
      return;
    }
    const ref = controllerOf(pod);
    const oldRef = controllerOf(old);
    const refChanged = !jsonEqual(ref, oldRef);
    const ns = pod.metadata?.namespace ?? '';
    if (refChanged && oldRef) {
      const rs = this.resolve(ns, oldRef);
      if (rs) this.enqueue(rs);
    }
    if (ref) {
      const rs = this.resolve(ns, ref);
      if (!rs) return;
      this.enqueue(rs);
      const minReady = rs.spec?.minReadySeconds ?? 0;
      // Available minReadySeconds after turning ready: look again then (plus a second of clock slack, as upstream).
      if (minReady > 0 && !isPodReady(old) && isPodReady(pod)) this.queue.addAfter(objectKey(rs), (minReady + 1) * 1000);
      return;
    }
    if (labelsChanged || refChanged) for (const rs of this.replicaSetsFor(pod)) this.enqueue(rs);
  }

  private podDeleted(pod: RoPod): void {
    const ref = controllerOf(pod);
    if (!ref) return;
    const rs = this.resolve(pod.metadata?.namespace ?? '', ref);
    if (!rs) return;
    const key = objectKey(rs);
    this.expectations.deletionObserved(key, podKey(pod));
    this.queue.add(key);
  }

  // ---- reconcile ----

  /**
   * Brings the ReplicaSet `key` (namespace/name) to its desired replicas and writes its
   * status. Not-found: forgets its expectations. Throws on any failed write (retried).
   */
  async reconcile(key: string): Promise<ReconcileResult> {
    const { namespace, name } = splitKey(key);
    const cached = this.ownerInformer.lister.getByName(namespace, name);
    if (!cached) {
      this.expectations.delete(key);
      return;
    }
    const rs = this.kind.toReplicaSet(cached);
    const needsSync = this.expectations.satisfied(key);
    const selector = selectorOf(rs);
    if (!selector) {
      this.log.warn('replicaset has an invalid selector', { key });
      return;
    }
    const active = this.podInformer.lister.listNamespace(namespace).filter(isPodActive);
    const pods = await claimPods({
      client: this.o.client, owner: rs, gvk: this.kind.gvk, selector, pods: active,
      recheck: () => this.recheck(rs), logger: this.log,
    });

    let manageError: unknown;
    if (needsSync && !rs.metadata?.deletionTimestamp) {
      try {
        await this.manageReplicas(key, rs, pods);
      } catch (e) {
        manageError = e;
      }
    }
    const status = calculateStatus(rs, pods, manageError, this.now());
    const updated = await this.updateStatus(rs, status);
    if (manageError !== undefined) throw manageError;
    const minReady = updated.spec?.minReadySeconds ?? 0;
    const replicas = updated.spec?.replicas ?? 1;
    // A last line of defence against clock skew: look again once the ready pods should be available.
    if (minReady > 0 && updated.status?.readyReplicas === replicas && updated.status?.availableReplicas !== replicas) {
      return { requeueAfter: minReady * 1000 };
    }
  }

  /** Adoption needs a live view: the cached ReplicaSet may already be gone or being deleted (upstream RecheckDeletionTimestamp). */
  private async recheck(rs: RoRS): Promise<void> {
    const ns = rs.metadata?.namespace ?? '';
    const name = rs.metadata?.name ?? '';
    const fresh = await this.o.client.resource(this.kind.resource).get(ns, name);
    if (fresh.metadata?.uid !== rs.metadata?.uid) {
      throw new Error(`original ReplicaSet ${ns}/${name} is gone: got uid ${fresh.metadata?.uid ?? ''}, wanted ${rs.metadata?.uid ?? ''}`);
    }
    if (fresh.metadata?.deletionTimestamp) throw new Error(`${ns}/${name} has just been deleted at ${fresh.metadata.deletionTimestamp}`);
  }

  private async manageReplicas(key: string, rs: RoRS, pods: readonly RoPod[]): Promise<void> {
    const diff = pods.length - (rs.spec?.replicas ?? 1);
    if (diff < 0) {
      const n = Math.min(-diff, this.burst);
      this.expectations.expectCreations(key, n);
      this.log.debug('too few replicas', { key, need: rs.spec?.replicas ?? 1, creating: n });
      const { successes, error } = await slowStartBatch(n, SLOW_START_INITIAL_BATCH, () => this.createPod(rs));
      // Creates that failed or never started will not be observed: stop expecting them.
      for (let i = successes; i < n; i++) this.expectations.creationObserved(key);
      if (error !== undefined) throw error;
    } else if (diff > 0) {
      const n = Math.min(diff, this.burst);
      this.log.debug('too many replicas', { key, need: rs.spec?.replicas ?? 1, deleting: n });
      const victims = podsToDelete(pods, n, this.now(), this.relatedPods(rs));
      this.expectations.expectDeletions(key, victims.map(podKey));
      const results = await Promise.allSettled(victims.map((p) => this.deletePod(rs, p)));
      const errs: unknown[] = [];
      results.forEach((r, i) => {
        if (r.status === 'fulfilled') return;
        // The informer will not see this deletion.
        this.expectations.deletionObserved(key, podKey(victims[i]!));
        if (!isApiError(r.reason, 'NotFound')) errs.push(r.reason);
      });
      if (errs.length) throw errs[0];
    }
  }

  /**
   * Pods of every ReplicaSet with the same controller as `rs` (e.g. all of a Deployment's),
   * for the "doubled up on a node" rank; none for a ReplicaSet without a controller
   * (upstream getIndirectlyRelatedPods).
   */
  private relatedPods(rs: RoRS): RoPod[] {
    const owner = controllerOf(rs);
    if (!owner) return [];
    const ns = rs.metadata?.namespace ?? '';
    const seen = new Set<string>();
    const out: RoPod[] = [];
    for (const sibling of this.listOwners(ns)) {
      if (controllerOf(sibling)?.uid !== owner.uid) continue;
      const sel = selectorOf(sibling);
      if (!sel) continue;
      for (const p of this.podInformer.lister.listNamespace(ns)) {
        const uid = p.metadata?.uid ?? '';
        if (seen.has(uid) || !matches(sel, p.metadata?.labels)) continue;
        seen.add(uid);
        out.push(p);
      }
    }
    return out;
  }

  /** Creates one pod from the template. A namespace being terminated counts as done (it will not be observed). */
  private async createPod(rs: RoRS): Promise<void> {
    const t = rs.spec?.template;
    const labels = t?.metadata?.labels;
    if (!labels || Object.keys(labels).length === 0) throw new Error('unable to create pods, no labels');
    const ns = rs.metadata?.namespace ?? '';
    const pod: Pod = {
      apiVersion: 'v1', kind: 'Pod',
      metadata: {
        generateName: `${rs.metadata?.name ?? ''}-`,
        labels: clone(labels),
        ...(t?.metadata?.annotations ? { annotations: clone(t.metadata.annotations) } : {}),
        ...(t?.metadata?.finalizers ? { finalizers: clone(t.metadata.finalizers) } : {}),
        ownerReferences: [newControllerRef(rs, this.kind.gvk)],
      },
      spec: clone(t?.spec ?? { containers: [] }),
    };
    try {
      const created = await this.o.client.resource(Resources.pods).create(ns, pod);
      this.o.recorder.event(rs, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata?.name ?? ''}`);
    } catch (e) {
      if (hasStatusCause(e, 'NamespaceTerminating')) {
        // Nothing can be created there any more; the namespace controller is removing the ReplicaSet too.
        this.expectations.creationObserved(objectKey(rs));
        return;
      }
      this.o.recorder.event(rs, 'Warning', 'FailedCreate', `Error creating: ${errorMessage(e)}`);
      throw new Error(`unable to create pods: ${errorMessage(e)}`, { cause: e });
    }
  }

  private async deletePod(rs: RoRS, pod: RoPod): Promise<void> {
    const name = pod.metadata?.name ?? '';
    try {
      await this.o.client.resource(Resources.pods).delete(pod.metadata?.namespace ?? '', name);
    } catch (e) {
      if (isApiError(e, 'NotFound')) throw e;
      this.o.recorder.event(rs, 'Warning', 'FailedDelete', `Error deleting: ${errorMessage(e)}`);
      throw new Error(`unable to delete pods: ${errorMessage(e)}`, { cause: e });
    }
    this.o.recorder.event(rs, 'Normal', 'SuccessfulDelete', `Deleted pod: ${name}`);
  }

  /**
   * PUT …/status when something changed (one retry on a conflict, from a fresh GET; a
   * ReplicaSet that is gone is left alone). Returns the newest ReplicaSet known.
   */
  private async updateStatus(rs: RoRS, status: ReplicaSetStatus): Promise<RoRS> {
    if (!statusChanged(rs, status)) return rs;
    const rsClient = this.o.client.resource(this.kind.resource);
    const next: ReplicaSet = { ...clone(rs), status: { ...status, observedGeneration: rs.metadata?.generation } };
    try {
      return this.kind.toReplicaSet(await rsClient.updateStatus(this.kind.fromReplicaSet(next)));
    } catch (e) {
      // Deleted meantime: the informer will say so, and there is nothing left to report on.
      if (isApiError(e, 'NotFound')) return rs;
      if (!isApiError(e, 'Conflict')) throw e;
      const fresh = clone(this.kind.toReplicaSet(await rsClient.get(rs.metadata?.namespace ?? '', rs.metadata?.name ?? '')));
      if (fresh.metadata?.uid !== rs.metadata?.uid) throw e;
      const retry: ReplicaSet = { ...fresh, status: { ...status, observedGeneration: rs.metadata?.generation } };
      return this.kind.toReplicaSet(await rsClient.updateStatus(this.kind.fromReplicaSet(retry)));
    }
  }
}

/** The unit the controller-manager runs. */
export const replicaSetController: Controller = {
  name: 'replicaset-controller',
  aliases: ['replicaset'],
  async start(ctx) {
    const c = new ReplicaSetController({
      client: ctx.client, informers: ctx.informers, logger: ctx.logger, recorder: ctx.recorder('replicaset-controller'),
      queue: ctx.newQueue('replicaset'), metrics: ctx.metrics, now: ctx.now,
    });
    if (!(await ctx.waitForCacheSync())) return;
    await c.run(ctx.signal);
  },
};
