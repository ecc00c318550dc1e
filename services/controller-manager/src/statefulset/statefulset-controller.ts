/**
 * The StatefulSet controller (upstream pkg/controller/statefulset): pods with stable
 * ordinal identities and storage.
 *
 * reconcile(namespace/name):
 *  1. Adopt orphaned ControllerRevisions matching the selector; claim pods that match the
 *     selector and whose name is `<set>-<ordinal>` (adopt/release as the ReplicaSet does).
 *  2. Revisions (upstream getStatefulSetRevisions): the update revision is the stored one
 *     whose data equals the current template (the newest one, or an older one renumbered to
 *     the next revision number: a rollback), else a new `<set>-<hash>` revision (collisionCount
 *     bumped on a name taken by other data). The current revision is status.currentRevision,
 *     or the update revision when none.
 *  3. Pods (upstream updateStatefulSet): ordinals [start, start+replicas) are replicas, other
 *     ordinals are condemned. Missing replicas are created at the current revision's template
 *     below the partition (or below status.currentReplicas without rollingUpdate) and at the
 *     update revision's above it: name `<set>-<i>`, labels `statefulset.kubernetes.io/pod-name`,
 *     `apps.kubernetes.io/pod-index`, `controller-revision-hash: <revision name>`, hostname =
 *     name, subdomain = serviceName, volumes for the volumeClaimTemplates from claims
 *     `<claim>-<set>-<i>` created first (labels: the claim template's plus the selector's).
 *     Failed or succeeded replicas are deleted (and recreated in a later round). Replicas
 *     whose identity or storage drifted are updated. Condemned pods are deleted.
 *     OrderedReady (monotonic): one step at a time in ordinal order; nothing is created while
 *     a lower ordinal is not Running, Ready and available (minReadySeconds), nothing is
 *     deleted while any replica is unhealthy (except the first unhealthy pod itself), and
 *     scale-down deletes the highest ordinal first, waiting for it to terminate. Parallel:
 *     creations and deletions in slow-start batches without waiting.
 *  4. RollingUpdate (after scaling settled): from the highest ordinal down to the partition,
 *     delete the first pod not at the update revision (it comes back at the update revision),
 *     waiting for each lower one to be healthy first. OnDelete: nothing.
 *  5. Status via /status when it changed: replicas, readyReplicas, currentReplicas,
 *     updatedReplicas, availableReplicas, currentRevision, updateRevision, collisionCount,
 *     observedGeneration; a finished RollingUpdate makes the update revision current.
 *  6. Non-live revisions (not current, update, or used by a pod) beyond revisionHistoryLimit
 *     (default 10) are deleted, oldest first.
 * With minReadySeconds the set is looked at again after that long while not all replicas are
 * available.
 *
 * persistentVolumeClaimRetentionPolicy: claims get owner references as upstream
 * (whenDeleted=Delete: the set controls them; whenScaled=Delete: a scaled-away pod controls
 * its claims), so the garbage collector removes them; ordinal stale-claim checks are left out.
 *
 * Events (on the StatefulSet, upstream wording): SuccessfulCreate "create Pod web-0 in
 * StatefulSet web successful", FailedCreate "create Pod web-0 in StatefulSet web failed
 * error: …", SuccessfulDelete / FailedDelete, SuccessfulUpdate / FailedUpdate, and for
 * claims SuccessfulCreate "create Claim data-web-0 Pod web-0 in StatefulSet web success" /
 * FailedCreate "create Claim … for Pod … in StatefulSet … failed error: …".
 * Leaves out: maxUnavailable rolling updates (alpha upstream) and status conditions.
 */
import {
  isApiError, jsonEqual, matches, objectKey, splitKey,
  type ControllerRevision, type PersistentVolumeClaim, type Pod, type PodTemplateSpec, type Selector, type StatefulSet, type StatefulSetStatus,
} from '@tskube/api';
import {
  Resources, WorkQueue, clone, type DeepReadonly, type Informer, type ReconcileResult,
} from '@tskube/client';
import type { Logger } from '@tskube/log';
import { runWorkers, type Controller, type ControllerOptions } from '../controller.js';
import {
  ControllerHistory, findEqualRevisions, newControllerRevision, nextRevision, revisionsToPrune, sortRevisions,
  templateOfRevision, templatePatch, equalRevision, type RoRevision,
} from '../history/history.js';
import { claimPods } from '../util/claim.js';
import { aggregate, errorMessage } from '../util/errors.js';
import { controllerOf, groupOf } from '../util/owners.js';
import { isPodReady } from '../util/pods.js';
import {
  STS_GVK, claimOwnerRefs, claimOwnerUpToDate, claimsFor, endOrdinal, identityMatches, inOrdinalRange, isHealthy,
  isMemberOf, isRunningAndAvailable, isRunningAndReady, isTerminating, newStatefulSetPod, ordinalOf, podRevision,
  replicasOf, setPodRevision, startOrdinal, storageMatches, updateIdentity, updateStorage,
} from './util.js';
import { selectorOf } from '../util/selector.js';

type RoSet = DeepReadonly<StatefulSet>;
type RoPod = DeepReadonly<Pod>;

/** Upstream MaxBatchSize: the most pods in flight in one Parallel batch. */
const MAX_BATCH = 500;

export interface StatefulSetControllerOptions extends ControllerOptions {
  /** Parallel workers (upstream --concurrent-statefulset-syncs: 5). */
  workers?: number;
}

/**
 * Runs `fn(0..n-1)` in slow-start batches (1, 2, 4, … at most MAX_BATCH) and stops after a
 * batch with a failure, throwing its errors (upstream slowStartBatch of the StatefulSet).
 */
async function burst(n: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  for (let size = Math.min(1, n); size > 0 && next < n; size = Math.min(size * 2, n - next, MAX_BATCH)) {
    const batch = Array.from({ length: size }, (_, k) => next + k);
    next += size;
    const results = await Promise.allSettled(batch.map((i) => fn(i)));
    const errs = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as unknown);
    const err = aggregate(errs);
    if (err) throw err;
  }
}

/** One round's view: the set, its two revisions and their templates applied. */
interface Round {
  set: RoSet;
  current: RoRevision;
  update: RoRevision;
  currentSet: RoSet;
  updateSet: RoSet;
  /** Pods built in memory this round (not created yet): upstream's "phase is empty". */
  fresh: Set<RoPod>;
  now: Date;
}

export class StatefulSetController {
  readonly queue: WorkQueue<string>;
  private readonly setInformer: Informer<StatefulSet>;
  private readonly podInformer: Informer<Pod>;
  private readonly revInformer: Informer<ControllerRevision>;
  private readonly pvcInformer: Informer<PersistentVolumeClaim>;
  private readonly history: ControllerHistory;
  private readonly log: Logger;
  private readonly now: () => Date;

  constructor(private readonly o: StatefulSetControllerOptions) {
    this.log = o.logger;
    this.now = o.now ?? (() => new Date());
    this.queue = o.queue ?? new WorkQueue<string>({ name: 'statefulset' });
    this.setInformer = o.informers.informer(Resources.statefulSets);
    this.podInformer = o.informers.informer(Resources.pods);
    this.revInformer = o.informers.informer(Resources.controllerRevisions);
    this.pvcInformer = o.informers.informer(Resources.persistentVolumeClaims);
    this.history = new ControllerHistory(o.client, this.revInformer);

    this.setInformer.addEventHandler({
      onAdd: (s) => this.enqueue(s),
      onUpdate: (_old, s) => this.enqueue(s),
      onDelete: (s) => this.enqueue(s),
    });
    this.podInformer.addEventHandler({
      onAdd: (pod) => this.podChanged(undefined, pod),
      onUpdate: (old, pod) => this.podChanged(old, pod),
      onDelete: (pod) => {
        const set = this.owner(pod);
        if (set) this.enqueue(set);
      },
    });
    const revisionChanged = (rev: DeepReadonly<ControllerRevision>) => {
      const ref = controllerOf(rev);
      const set = ref && this.resolve(rev.metadata?.namespace ?? '', ref);
      if (set) this.enqueue(set);
    };
    this.revInformer.addEventHandler({ onAdd: revisionChanged, onUpdate: (_o, r) => revisionChanged(r), onDelete: revisionChanged });
  }

  run(signal: AbortSignal): Promise<void> {
    return runWorkers({
      name: 'statefulset-controller', queue: this.queue, workers: this.o.workers ?? 5, logger: this.log, signal,
      metrics: this.o.metrics, reconcile: (key) => this.reconcile(key),
    });
  }

  // ---- event handlers ----

  private enqueue(set: RoSet): void {
    this.queue.add(objectKey(set));
  }

  private resolve(namespace: string, ref: { kind: string; apiVersion: string; name: string; uid: string }): RoSet | undefined {
    if (ref.kind !== 'StatefulSet' || groupOf(ref.apiVersion) !== 'apps') return undefined;
    const set = this.setInformer.lister.getByName(namespace, ref.name);
    return set && set.metadata?.uid === ref.uid ? set : undefined;
  }

  private owner(pod: RoPod): RoSet | undefined {
    const ref = controllerOf(pod);
    return ref ? this.resolve(pod.metadata?.namespace ?? '', ref) : undefined;
  }

  private podChanged(old: RoPod | undefined, pod: RoPod): void {
    if (old && old.metadata?.resourceVersion === pod.metadata?.resourceVersion) return;
    const oldOwner = old && this.owner(old);
    const set = this.owner(pod);
    if (oldOwner && oldOwner !== set) this.enqueue(oldOwner);
    if (set) {
      this.enqueue(set);
      const minReady = set.spec?.minReadySeconds ?? 0;
      // Available minReadySeconds after turning ready: look again then (plus a second of slack).
      if (old && minReady > 0 && !isPodReady(old) && isPodReady(pod)) this.queue.addAfter(objectKey(set), (minReady + 1) * 1000);
      return;
    }
    if (controllerOf(pod)) return;
    if (old && jsonEqual(old.metadata?.labels, pod.metadata?.labels) && !controllerOf(old)) return;
    // An orphan: every set that would adopt it looks.
    for (const s of this.setInformer.lister.listNamespace(pod.metadata?.namespace ?? '')) {
      const sel = selectorOf(s);
      if (sel && sel.length > 0 && matches(sel, pod.metadata?.labels)) this.enqueue(s);
    }
  }

  // ---- reconcile ----

  /** Converges the StatefulSet `key`; not-found is done; throws on a failed write (retried). */
  async reconcile(key: string): Promise<ReconcileResult> {
    const { namespace, name } = splitKey(key);
    const set = this.setInformer.lister.getByName(namespace, name);
    if (!set) return;
    const selector = selectorOf(set);
    if (!selector) {
      this.log.warn('statefulset has an invalid selector', { key });
      return;
    }
    const recheck = async () => {
      const fresh = await this.o.client.resource(Resources.statefulSets).get(namespace, name);
      if (fresh.metadata?.uid !== set.metadata?.uid) throw new Error(`original StatefulSet ${key} is gone`);
      if (fresh.metadata?.deletionTimestamp) throw new Error(`${key} has just been deleted at ${fresh.metadata.deletionTimestamp}`);
    };
    const orphans = this.history.list(set, selector).filter((r) => !controllerOf(r));
    if (orphans.length && !set.metadata?.deletionTimestamp) {
      try {
        await recheck();
      } catch (e) {
        throw new Error(`can't adopt ControllerRevisions: ${errorMessage(e)}`, { cause: e });
      }
      for (const r of orphans) await this.history.adopt(set, STS_GVK, r);
    }
    const candidates = this.podInformer.lister.listNamespace(namespace).filter((p) => isMemberOf(set, p) || controllerOf(p)?.uid === set.metadata?.uid);
    const pods = (await claimPods({ client: this.o.client, owner: set, gvk: STS_GVK, selector, pods: candidates, recheck, logger: this.log }))
      .filter((p) => isMemberOf(set, p));

    const status = await this.updateStatefulSet(set, selector, pods);
    const replicas = replicasOf(set);
    if ((set.spec?.minReadySeconds ?? 0) > 0 && status && (status.availableReplicas ?? 0) !== replicas) {
      return { requeueAfter: (set.spec?.minReadySeconds ?? 0) * 1000 };
    }
  }

  /** Revisions, pods, status, history truncation (upstream UpdateStatefulSet). */
  private async updateStatefulSet(set: RoSet, selector: Selector, pods: readonly RoPod[]): Promise<StatefulSetStatus | undefined> {
    const revisions = sortRevisions(this.history.list(set, selector));
    const { current, update, collisionCount } = await this.revisions(set, revisions);
    let status: StatefulSetStatus | undefined;
    let err: unknown;
    try {
      status = await this.updatePods(set, current, update, collisionCount, pods);
    } catch (e) {
      err = e;
      status = (e as { status?: StatefulSetStatus }).status;
    }
    const errs: unknown[] = err !== undefined ? [err] : [];
    if (status) {
      try {
        await this.writeStatus(set, status);
      } catch (e) {
        errs.push(e);
      }
    }
    try {
      await this.truncateHistory(set, pods, revisions, current, update);
    } catch (e) {
      errs.push(e);
    }
    const agg = aggregate(errs);
    if (agg) throw agg;
    return status;
  }

  /** The current and update revisions (upstream getStatefulSetRevisions); may create or renumber one. */
  private async revisions(set: RoSet, revisions: readonly RoRevision[]): Promise<{ current: RoRevision; update: RoRevision; collisionCount: number }> {
    const collision = { count: set.status?.collisionCount ?? 0 };
    const candidate = newControllerRevision(set, STS_GVK, set.spec?.template?.metadata?.labels, templatePatch(set.spec?.template), nextRevision(revisions), collision.count);
    if (set.metadata?.annotations) candidate.metadata!.annotations = { ...clone(set.metadata.annotations) };
    const equal = findEqualRevisions(revisions, candidate);
    const last = revisions[revisions.length - 1];
    let update: RoRevision;
    if (equal.length && last && equalRevision(last, equal[equal.length - 1]!)) {
      update = last; // unchanged
    } else if (equal.length) {
      update = await this.history.renumber(equal[equal.length - 1]!, candidate.revision); // rollback
    } else {
      update = await this.history.create(set, candidate, collision);
    }
    const current = revisions.find((r) => r.metadata?.name === set.status?.currentRevision) ?? update;
    return { current, update, collisionCount: collision.count };
  }

  /** The set with the revision's template (upstream ApplyRevision). */
  private applyRevision(set: RoSet, rev: RoRevision): RoSet {
    const template = templateOfRevision<PodTemplateSpec>(rev);
    if (!template) return set;
    const out = clone(set);
    out.spec = { ...out.spec!, template };
    return out;
  }

  /**
   * Creates, updates and deletes pods for one round (upstream updateStatefulSet) and returns
   * the status to write. A failure throws an Error carrying `status` (the status as far as
   * the round got).
   */
  private async updatePods(set: RoSet, current: RoRevision, update: RoRevision, collisionCount: number, pods: readonly RoPod[]): Promise<StatefulSetStatus> {
    const round: Round = {
      set, current, update, currentSet: this.applyRevision(set, current), updateSet: this.applyRevision(set, update),
      fresh: new Set(), now: this.now(),
    };
    const status: StatefulSetStatus = {
      replicas: 0, observedGeneration: set.metadata?.generation, currentRevision: current.metadata?.name,
      updateRevision: update.metadata?.name, collisionCount,
    };
    const start = startOrdinal(set);
    const replicas: RoPod[] = new Array<RoPod>(replicasOf(set));
    const condemned: RoPod[] = [];
    for (const p of pods) {
      if (inOrdinalRange(p, set)) replicas[ordinalOf(p) - start] = p;
      else if (ordinalOf(p) >= 0) condemned.push(p);
    }
    for (let ord = start; ord <= endOrdinal(set); ord++) {
      if (!replicas[ord - start]) replicas[ord - start] = this.newVersionedPod(round, ord);
    }
    condemned.sort((a, b) => ordinalOf(b) - ordinalOf(a));
    let firstUnhealthy: RoPod | undefined = replicas.find((p) => !isHealthy(p));
    if (!firstUnhealthy) for (let i = condemned.length - 1; i >= 0; i--) if (!isHealthy(condemned[i]!)) { firstUnhealthy = condemned[i]; break; }

    const finish = () => this.computeStatus(status, round, [...replicas, ...condemned]);
    this.computeStatus(status, round, pods);
    if (set.metadata?.deletionTimestamp) return status;

    const monotonic = set.spec?.podManagementPolicy !== 'Parallel';
    const fail = (e: unknown): never => {
      throw Object.assign(e instanceof Error ? e : new Error(String(e)), { status: finish() });
    };
    try {
      if (await this.runForAll(replicas.length, (i) => this.processReplica(round, monotonic, replicas, i), monotonic)) return finish();
      if (await this.runForAll(condemned.length, (i) => this.fixClaims(round, condemned[i]!), monotonic)) return finish();
      if (await this.runForAll(condemned.length, (i) => this.processCondemned(round, firstUnhealthy, monotonic, condemned, i), monotonic)) return finish();
    } catch (e) {
      fail(e);
    }
    finish();
    if (set.spec?.updateStrategy?.type === 'OnDelete') return status;

    // Rolling update: the highest ordinal not at the update revision goes first; wait for health below.
    const partition = set.spec?.updateStrategy?.rollingUpdate?.partition ?? 0;
    for (let target = replicas.length - 1; target >= partition; target--) {
      const p = replicas[target]!;
      if (podRevision(p) !== update.metadata?.name && !isTerminating(p)) {
        this.log.info('pod of statefulset is terminating for update', { statefulset: objectKey(set), pod: p.metadata?.name });
        try {
          await this.deletePod(set, p);
        } catch (e) {
          if (!isApiError(e, 'NotFound')) fail(e);
        }
        status.currentReplicas = (status.currentReplicas ?? 0) - 1;
        return status;
      }
      if (!isHealthy(p)) return status;
    }
    return status;
  }

  /**
   * Runs `fn` over 0..n-1: in order, stopping at the first that asks to stop (monotonic), or
   * in slow-start batches (burst). Returns whether the round should end here.
   */
  private async runForAll(n: number, fn: (i: number) => Promise<boolean>, monotonic: boolean): Promise<boolean> {
    if (monotonic) {
      for (let i = 0; i < n; i++) if (await fn(i)) return true;
      return false;
    }
    await burst(n, fn);
    return false;
  }

  /** A pod for `ordinal` at the current revision below the partition, else at the update revision (upstream newVersionedStatefulSetPod). */
  private newVersionedPod(round: Round, ordinal: number): RoPod {
    const cs = round.currentSet;
    const rolling = (cs.spec?.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
    const ru = cs.spec?.updateStrategy?.rollingUpdate;
    const start = startOrdinal(cs);
    const atCurrent = (rolling && !ru && ordinal < start + (cs.status?.currentReplicas ?? 0))
      || (!!ru && ordinal < start + (ru.partition ?? 0));
    const pod = newStatefulSetPod(atCurrent ? cs : round.updateSet, ordinal);
    setPodRevision(pod, (atCurrent ? round.current : round.update).metadata?.name ?? '');
    round.fresh.add(pod);
    return pod;
  }

  private isCreated(round: Round, pod: RoPod): boolean {
    return !round.fresh.has(pod);
  }

  /** One replica's step (upstream processReplica); true ends the round (monotonic). */
  private async processReplica(round: Round, monotonic: boolean, replicas: RoPod[], i: number): Promise<boolean> {
    const { set } = round;
    const pod = replicas[i]!;
    const phase = pod.status?.phase;
    if (phase === 'Failed' || phase === 'Succeeded') {
      // Recreated in a later round, once this one is gone.
      if (!pod.metadata?.deletionTimestamp) await this.deletePod(set, pod);
      return true;
    }
    if (!this.isCreated(round, pod)) {
      await this.createPod(set, pod);
      // OrderedReady waits for this one; a pod built this round already has its identity and storage.
      return monotonic;
    }
    if (phase === 'Pending') await this.createClaims(set, pod);
    if (monotonic && (isTerminating(pod) || !isRunningAndReady(pod) || !isRunningAndAvailable(pod, set.spec?.minReadySeconds ?? 0, round.now))) {
      return true;
    }
    await this.fixClaims(round, pod);
    if (identityMatches(set, pod) && storageMatches(set, pod)) return false;
    await this.updatePod(round.updateSet, pod);
    return false;
  }

  /** One condemned pod's step (upstream processCondemned); true ends the round (monotonic). */
  private async processCondemned(round: Round, firstUnhealthy: RoPod | undefined, monotonic: boolean, condemned: RoPod[], i: number): Promise<boolean> {
    const pod = condemned[i]!;
    if (isTerminating(pod)) return monotonic;
    if (monotonic && pod !== firstUnhealthy
      && (!isRunningAndReady(pod) || !isRunningAndAvailable(pod, round.set.spec?.minReadySeconds ?? 0, round.now))) return true;
    this.log.info('pod of statefulset is terminating for scale down', { statefulset: objectKey(round.set), pod: pod.metadata?.name });
    await this.deletePod(round.set, pod);
    return true;
  }

  /** Counts pods into `status` (upstream updateStatus/computeReplicaStatus); returns it. */
  private computeStatus(status: StatefulSetStatus, round: Round, pods: readonly RoPod[]): StatefulSetStatus {
    let replicas = 0, ready = 0, available = 0, current = 0, updated = 0;
    const minReady = round.set.spec?.minReadySeconds ?? 0;
    for (const p of pods) {
      const created = this.isCreated(round, p);
      if (created) replicas++;
      if (isRunningAndReady(p)) {
        ready++;
        if (isRunningAndAvailable(p, minReady, round.now)) available++;
      }
      if (created && !isTerminating(p)) {
        if (podRevision(p) === round.current.metadata?.name) current++;
        if (podRevision(p) === round.update.metadata?.name) updated++;
      }
    }
    Object.assign(status, { replicas, readyReplicas: ready, availableReplicas: available, currentReplicas: current, updatedReplicas: updated });
    return status;
  }

  // ---- pod and claim writes (upstream StatefulPodControl) ----

  private event(set: RoSet, verb: 'create' | 'update' | 'delete', pod: RoPod, err?: unknown): void {
    const Verb = verb[0]!.toUpperCase() + verb.slice(1);
    const name = pod.metadata?.name ?? '';
    const setName = set.metadata?.name ?? '';
    if (err === undefined) this.o.recorder.event(set, 'Normal', `Successful${Verb}`, `${verb} Pod ${name} in StatefulSet ${setName} successful`);
    else this.o.recorder.event(set, 'Warning', `Failed${Verb}`, `${verb} Pod ${name} in StatefulSet ${setName} failed error: ${errorMessage(err)}`);
  }

  /** Claims first, then the pod; AlreadyExists is returned as an error without an event (upstream CreateStatefulPod). */
  private async createPod(set: RoSet, pod: RoPod): Promise<void> {
    try {
      await this.createClaims(set, pod);
    } catch (e) {
      this.event(set, 'create', pod, e);
      throw e;
    }
    try {
      await this.o.client.resource(Resources.pods).create(set.metadata?.namespace ?? '', clone(pod));
    } catch (e) {
      if (!isApiError(e, 'AlreadyExists')) this.event(set, 'create', pod, e);
      throw e;
    }
    this.event(set, 'create', pod);
  }

  /** Creates the pod's missing claims, owner references per the retention policy (upstream createPersistentVolumeClaims). */
  private async createClaims(set: RoSet, pod: RoPod): Promise<void> {
    const errs: unknown[] = [];
    const pvcs = this.o.client.resource(Resources.persistentVolumeClaims);
    for (const { claim } of claimsFor(set, pod)) {
      const name = claim.metadata!.name!;
      const existing = this.pvcInformer.lister.getByName(claim.metadata?.namespace ?? '', name);
      if (existing) {
        if (existing.metadata?.deletionTimestamp) errs.push(new Error(`pvc ${name} is being deleted`));
        continue;
      }
      const refs = claimOwnerRefs(claim.metadata?.ownerReferences, set, pod);
      if (refs.length) claim.metadata!.ownerReferences = refs;
      try {
        await pvcs.create(claim.metadata?.namespace ?? '', claim);
        this.o.recorder.event(set, 'Normal', 'SuccessfulCreate', `create Claim ${name} Pod ${pod.metadata?.name ?? ''} in StatefulSet ${set.metadata?.name ?? ''} success`);
      } catch (e) {
        if (isApiError(e, 'AlreadyExists')) continue; // the cache is behind: it is there
        errs.push(new Error(`failed to create PVC ${name}: ${errorMessage(e)}`, { cause: e }));
        this.o.recorder.event(set, 'Warning', 'FailedCreate',
          `create Claim ${name} for Pod ${pod.metadata?.name ?? ''} in StatefulSet ${set.metadata?.name ?? ''} failed error: ${errorMessage(e)}`);
      }
    }
    const err = aggregate(errs);
    if (err) throw err;
  }

  /** Patches the owner references of the pod's existing claims to fit the retention policy (upstream UpdatePodClaimForRetentionPolicy). */
  private async fixClaims(round: Round, pod: RoPod): Promise<boolean> {
    const set = round.updateSet;
    for (const { claim } of claimsFor(set, pod)) {
      const existing = this.pvcInformer.lister.getByName(claim.metadata?.namespace ?? '', claim.metadata!.name!);
      if (!existing || claimOwnerUpToDate(existing, set, pod)) continue;
      const refs = claimOwnerRefs(existing.metadata?.ownerReferences, set, pod);
      await this.o.client.resource(Resources.persistentVolumeClaims).patch(existing.metadata?.namespace ?? '', existing.metadata?.name ?? '', {
        metadata: { uid: existing.metadata?.uid, resourceVersion: existing.metadata?.resourceVersion, ownerReferences: refs.length ? refs : null },
      }, 'merge');
    }
    return false;
  }

  /** Restores identity and storage of an existing pod (upstream UpdateStatefulPod; conflicts retried from a fresh read). */
  private async updatePod(set: RoSet, cached: RoPod): Promise<void> {
    const podsClient = this.o.client.resource(Resources.pods);
    let pod = clone(cached) as Pod;
    for (let attempt = 0; ; attempt++) {
      let changed = false;
      if (!identityMatches(set, pod)) { updateIdentity(set, pod); changed = true; }
      if (!storageMatches(set, pod)) {
        updateStorage(set, pod);
        changed = true;
        try {
          await this.createClaims(set, pod);
        } catch (e) {
          this.event(set, 'update', pod, e);
          throw e;
        }
      }
      if (!changed) return;
      try {
        await podsClient.update(pod);
        this.event(set, 'update', pod);
        return;
      } catch (e) {
        if (!isApiError(e, 'Conflict') || attempt >= 4) {
          this.event(set, 'update', pod, e);
          throw e;
        }
        pod = await podsClient.get(pod.metadata?.namespace ?? '', pod.metadata?.name ?? '');
      }
    }
  }

  private async deletePod(set: RoSet, pod: RoPod): Promise<void> {
    try {
      await this.o.client.resource(Resources.pods).delete(pod.metadata?.namespace ?? '', pod.metadata?.name ?? '');
    } catch (e) {
      this.event(set, 'delete', pod, e);
      throw e;
    }
    this.event(set, 'delete', pod);
  }

  // ---- status and history ----

  /** Completes a finished rolling update, then PUTs /status when something changed (upstream updateStatefulSetStatus). */
  private async writeStatus(set: RoSet, status: StatefulSetStatus): Promise<void> {
    if ((set.spec?.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate'
      && status.updatedReplicas === status.replicas && status.readyReplicas === status.replicas) {
      status.currentReplicas = status.updatedReplicas;
      status.currentRevision = status.updateRevision;
    }
    const st = set.status;
    const fields = ['replicas', 'readyReplicas', 'currentReplicas', 'updatedReplicas', 'availableReplicas', 'currentRevision', 'updateRevision', 'collisionCount'] as const;
    const differs = (status.observedGeneration ?? 0) > (st?.observedGeneration ?? 0)
      || fields.some((f) => (status[f] ?? 0) !== (st?.[f] ?? 0));
    if (!differs) return;
    const client = this.o.client.resource(Resources.statefulSets);
    let base: DeepReadonly<StatefulSet> = set;
    for (let attempt = 0; ; attempt++) {
      try {
        await client.updateStatus({ ...clone(base), status: clone(status) });
        return;
      } catch (e) {
        if (isApiError(e, 'NotFound')) return;
        if (!isApiError(e, 'Conflict') || attempt >= 4) throw e;
        base = await client.get(set.metadata?.namespace ?? '', set.metadata?.name ?? '');
        if (base.metadata?.uid !== set.metadata?.uid) return;
      }
    }
  }

  /** Deletes non-live revisions beyond revisionHistoryLimit, oldest first (upstream truncateHistory). */
  private async truncateHistory(set: RoSet, pods: readonly RoPod[], revisions: readonly RoRevision[], current: RoRevision, update: RoRevision): Promise<void> {
    const live = new Set<string>([current.metadata?.name ?? '', update.metadata?.name ?? '', ...pods.map(podRevision)]);
    for (const rev of revisionsToPrune(revisions, live, set.spec?.revisionHistoryLimit ?? 10)) await this.history.delete(rev);
  }
}

/** The unit the controller-manager runs. */
export const statefulSetController: Controller = {
  name: 'statefulset-controller',
  aliases: ['statefulset'],
  async start(ctx) {
    const c = new StatefulSetController({
      client: ctx.client, informers: ctx.informers, logger: ctx.logger, recorder: ctx.recorder('statefulset-controller'),
      queue: ctx.newQueue('statefulset'), metrics: ctx.metrics, now: ctx.now,
    });
    if (!(await ctx.waitForCacheSync())) return;
    await c.run(ctx.signal);
  },
};
