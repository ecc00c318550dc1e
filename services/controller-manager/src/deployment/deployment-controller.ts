/**
 * The Deployment controller (upstream pkg/controller/deployment): rolls a Deployment's pod
 * template out through ReplicaSets named `<deployment>-<pod-template-hash>`.
 *
 * reconcile(namespace/name), as upstream syncDeployment:
 *  1. An empty selector selects everything: Warning SelectingAll, only observedGeneration moves.
 *  2. Claim ReplicaSets (adopt matching orphans after a live GET of the Deployment, release
 *     owned ones that stopped matching) and group the pods by ReplicaSet.
 *  3. Being deleted: status only. Paused: Progressing Unknown/DeploymentPaused (and
 *     DeploymentResumed on resume), then scale only (no new ReplicaSet). A changed
 *     spec.replicas (desired-replicas annotation mismatch): scale only, proportionally
 *     over the active ReplicaSets during a rollout (max-replicas annotation).
 *  4. Otherwise roll out: RollingUpdate (new ReplicaSet up to replicas + maxSurge, old ones
 *     down while at least replicas − maxUnavailable are available, unhealthy old replicas
 *     first) or Recreate (old ReplicaSets to 0, wait until their pods are gone, then the new
 *     one to full size). Complete rollouts delete old ReplicaSets with 0 replicas beyond
 *     revisionHistoryLimit.
 *  5. Status: counters from the ReplicaSets, Available (MinimumReplicasAvailable /
 *     MinimumReplicasUnavailable), Progressing (NewReplicaSetCreated, FoundNewReplicaSet,
 *     ReplicaSetUpdated, NewReplicaSetAvailable, ProgressDeadlineExceeded, ReplicaSetCreateError),
 *     ReplicaFailure copied from the ReplicaSets; a rollout without progress is looked at
 *     again when its progressDeadlineSeconds would run out.
 * The new ReplicaSet gets revision max(old)+1 (`deployment.kubernetes.io/revision`; a
 * ReplicaSet brought back by `kubectl rollout undo` moves its old number to
 * `revision-history`), the Deployment's annotations (e.g. kubernetes.io/change-cause) and
 * desired/max-replicas annotations; the Deployment gets its new ReplicaSet's revision.
 * A hash collision (the name taken by a ReplicaSet with another template) bumps
 * status.collisionCount, which changes the hash. Safe to run twice: every write is
 * computed from the current state and ReplicaSet updates carry their resourceVersion.
 *
 * Events (on the Deployment): ScalingReplicaSet "Scaled up replica set <rs> from 0 to <n>" /
 * "Scaled <up|down> replica set <rs> from <a> to <b>", Warning ReplicaSetCreateError,
 * Warning SelectingAll.
 *
 * Left out: the deprecated rollback annotation (`deprecated.deployment.rollback.to`;
 * `kubectl rollout undo` works client-side), the alpha podReplacementPolicy /
 * terminatingReplicas.
 */
import {
  isApiError, jsonEqual, matches, objectKey, splitKey,
  type Deployment, type DeploymentCondition, type DeploymentStatus, type Pod, type ReplicaSet, type Selector,
} from '@tskube/api';
import {
  Resources, WorkQueue, clone, type DeepReadonly, type Informer, type ReconcileResult,
} from '@tskube/client';
import type { Logger } from '@tskube/log';
import { runWorkers, type Controller, type ControllerOptions } from '../controller.js';
import { aggregate, errorMessage, hasStatusCause } from '../util/errors.js';
import { controllerOf, groupOf, newControllerRef } from '../util/owners.js';
import { removeOwnerRefsPatch } from '../util/patches.js';
import { POD_TEMPLATE_HASH_LABEL, computeHash, equalIgnoreHash } from '../util/hash.js';
import {
  REVISION_ANNOTATION, Reason, actualReplicas, availableReplicas, byCreation, byRevision, bySizeNewer, bySizeOlder, calculateStatus,
  deploymentComplete, deploymentProgressing, deploymentTimedOut, desiredReplicasAnnotation, filterActive,
  findActiveOrLatest, findNewReplicaSet, findOldReplicaSets, getCondition, hasProgressDeadline, isRollingUpdate, isSaturated, maxRevision,
  maxSurge, maxUnavailable, newCondition, newRSNewReplicas, normalStatus, proportion, removeCondition,
  replicasAnnotationsNeedUpdate, replicasOf, setCondition, setDeploymentRevision, setNewReplicaSetAnnotations,
  setReplicasAnnotations, specReplicas,
} from './util.js';
import { selectorOf } from '../util/selector.js';

type RoD = DeepReadonly<Deployment>;
type RoRS = DeepReadonly<ReplicaSet>;
type RoPod = DeepReadonly<Pod>;

const DEPLOYMENT_GVK = { apiVersion: 'apps/v1', kind: 'Deployment' };

export interface DeploymentControllerOptions extends ControllerOptions {
  /** Parallel workers (upstream --concurrent-deployment-syncs: 5). */
  workers?: number;
}

/** Upstream compares the selector with an empty LabelSelector: nothing to match on selects everything. */
function selectsEverything(d: RoD): boolean {
  const s = d.spec?.selector;
  return !s || (Object.keys(s.matchLabels ?? {}).length === 0 && (s.matchExpressions ?? []).length === 0);
}

export class DeploymentController {
  readonly queue: WorkQueue<string>;
  private readonly dInformer: Informer<Deployment>;
  private readonly rsInformer: Informer<ReplicaSet>;
  private readonly podInformer: Informer<Pod>;
  private readonly log: Logger;
  private readonly now: () => Date;

  constructor(private readonly o: DeploymentControllerOptions) {
    this.log = o.logger;
    this.now = o.now ?? (() => new Date());
    this.queue = o.queue ?? new WorkQueue<string>({ name: 'deployment' });
    this.dInformer = o.informers.informer(Resources.deployments);
    this.rsInformer = o.informers.informer(Resources.replicaSets);
    this.podInformer = o.informers.informer(Resources.pods);
    this.dInformer.addEventHandler({
      onAdd: (d) => this.enqueue(d),
      onUpdate: (_old, d) => this.enqueue(d),
      onDelete: (d) => this.enqueue(d),
    });
    this.rsInformer.addEventHandler({
      onAdd: (rs) => this.rsAdded(rs),
      onUpdate: (old, rs) => this.rsUpdated(old, rs),
      onDelete: (rs) => this.rsDeleted(rs),
    });
    this.podInformer.addEventHandler({ onDelete: (pod) => this.podDeleted(pod) });
  }

  /** Runs the workers until `signal` aborts. Call after the informers synced. */
  run(signal: AbortSignal): Promise<void> {
    return runWorkers({
      name: 'deployment-controller', queue: this.queue, workers: this.o.workers ?? 5, logger: this.log, signal,
      metrics: this.o.metrics, reconcile: (key) => this.reconcile(key),
    });
  }

  // ---- event handlers: enqueue the Deployments concerned ----

  private enqueue(d: RoD): void {
    this.queue.add(objectKey(d));
  }

  /** The Deployment a controller reference points at, if cached with the same uid. */
  private resolve(namespace: string, ref: DeepReadonly<{ kind: string; apiVersion: string; name: string; uid: string }>): RoD | undefined {
    if (ref.kind !== 'Deployment' || groupOf(ref.apiVersion) !== 'apps') return undefined;
    const d = this.dInformer.lister.getByName(namespace, ref.name);
    return d && d.metadata?.uid === ref.uid ? d : undefined;
  }

  /** Deployments in the ReplicaSet's namespace whose (non-empty) selector matches it (upstream GetDeploymentsForReplicaSet). */
  private deploymentsFor(rs: RoRS): RoD[] {
    return this.dInformer.lister.listNamespace(rs.metadata?.namespace ?? '').filter((d) => {
      const sel = selectorOf(d);
      return sel !== null && sel.length > 0 && matches(sel, rs.metadata?.labels);
    });
  }

  private rsAdded(rs: RoRS): void {
    if (rs.metadata?.deletionTimestamp) {
      this.rsDeleted(rs);
      return;
    }
    const ref = controllerOf(rs);
    if (ref) {
      const d = this.resolve(rs.metadata?.namespace ?? '', ref);
      if (d) this.enqueue(d);
      return;
    }
    for (const d of this.deploymentsFor(rs)) this.enqueue(d);
  }

  private rsUpdated(old: RoRS, rs: RoRS): void {
    if (old.metadata?.resourceVersion === rs.metadata?.resourceVersion) return;
    const ns = rs.metadata?.namespace ?? '';
    const ref = controllerOf(rs);
    const oldRef = controllerOf(old);
    const refChanged = !jsonEqual(ref, oldRef);
    if (refChanged && oldRef) {
      const d = this.resolve(ns, oldRef);
      if (d) this.enqueue(d);
    }
    if (ref) {
      const d = this.resolve(ns, ref);
      if (d) this.enqueue(d);
      return;
    }
    if (refChanged || !jsonEqual(old.metadata?.labels, rs.metadata?.labels)) for (const d of this.deploymentsFor(rs)) this.enqueue(d);
  }

  private rsDeleted(rs: RoRS): void {
    const ref = controllerOf(rs);
    if (!ref) return;
    const d = this.resolve(rs.metadata?.namespace ?? '', ref);
    if (d) this.enqueue(d);
  }

  /** A Recreate rollout waits for the old pods to be gone: look again when a Deployment's last pod went. */
  private podDeleted(pod: RoPod): void {
    const ns = pod.metadata?.namespace ?? '';
    const rsRef = controllerOf(pod);
    if (!rsRef || rsRef.kind !== 'ReplicaSet' || groupOf(rsRef.apiVersion) !== 'apps') return;
    const rs = this.rsInformer.lister.getByName(ns, rsRef.name);
    if (!rs || rs.metadata?.uid !== rsRef.uid) return;
    const dRef = controllerOf(rs);
    const d = dRef ? this.resolve(ns, dRef) : undefined;
    if (!d || isRollingUpdate(d)) return;
    const rsList = this.rsInformer.lister.listNamespace(ns).filter((x) => controllerOf(x)?.uid === d.metadata?.uid);
    const pods = this.podMapFor(d, rsList);
    if ([...pods.values()].every((l) => l.length === 0)) this.enqueue(d);
  }

  // ---- reconcile ----

  /**
   * Syncs the Deployment `key` (namespace/name): see the file comment. Not-found: nothing.
   * Throws on a failed write (retried with backoff); returns a requeue delay when a rollout
   * without progress should be checked against its deadline.
   */
  async reconcile(key: string): Promise<ReconcileResult> {
    const { namespace, name } = splitKey(key);
    const cached = this.dInformer.lister.getByName(namespace, name);
    if (!cached) {
      this.log.debug('deployment has been deleted', { key });
      return;
    }
    const d = clone(cached) as Deployment;
    if (selectsEverything(d)) {
      this.o.recorder.event(d, 'Warning', 'SelectingAll', 'This deployment is selecting all pods. A non-empty selector is required.');
      if ((d.status?.observedGeneration ?? 0) < (d.metadata?.generation ?? 0)) {
        d.status = { ...d.status, observedGeneration: d.metadata?.generation };
        await this.writeStatus(d);
      }
      return;
    }
    const selector = selectorOf(d);
    if (!selector) {
      this.log.warn('deployment has an invalid selector', { key });
      return;
    }
    const rsList = await this.claimReplicaSets(d, selector);

    if (d.metadata?.deletionTimestamp) return this.syncStatusOnly(d, rsList);
    await this.checkPausedConditions(d);
    if (d.spec?.paused) return this.sync(d, rsList);
    if (await this.isScalingEvent(d, rsList)) return this.sync(d, rsList);
    // Only Recreate looks at pods (upstream builds the map for every Deployment).
    if (!isRollingUpdate(d)) return this.rolloutRecreate(d, rsList, this.podMapFor(d, rsList));
    return this.rolloutRolling(d, rsList);
  }

  // ---- ReplicaSets and pods of a Deployment ----

  /** The ReplicaSets the Deployment controls after adoption and release (upstream ClaimReplicaSets). */
  private async claimReplicaSets(d: Deployment, selector: Selector): Promise<RoRS[]> {
    const claimed: RoRS[] = [];
    const errs: unknown[] = [];
    const deleting = !!d.metadata?.deletionTimestamp;
    let canAdopt: Promise<void> | undefined;
    for (const rs of this.rsInformer.lister.listNamespace(d.metadata?.namespace ?? '')) {
      const ref = controllerOf(rs);
      const match = matches(selector, rs.metadata?.labels);
      try {
        if (ref) {
          if (ref.uid !== d.metadata?.uid) continue;
          if (match) claimed.push(rs);
          else if (!deleting) await this.releaseRS(d, rs);
          continue;
        }
        if (deleting || !match || rs.metadata?.deletionTimestamp) continue;
        canAdopt ??= this.recheck(d);
        await canAdopt;
        claimed.push(await this.adoptRS(d, rs));
      } catch (e) {
        if (!isApiError(e, 'NotFound')) errs.push(e);
      }
    }
    const err = aggregate(errs);
    if (err) throw err;
    return claimed;
  }

  /** Adoption needs a live view: the cached Deployment may be gone or being deleted (upstream RecheckDeletionTimestamp). */
  private async recheck(d: RoD): Promise<void> {
    const ns = d.metadata?.namespace ?? '';
    const name = d.metadata?.name ?? '';
    const fresh = await this.o.client.resource(Resources.deployments).get(ns, name);
    if (fresh.metadata?.uid !== d.metadata?.uid) {
      throw new Error(`original Deployment ${ns}/${name} is gone: got uid ${fresh.metadata?.uid ?? ''}, wanted ${d.metadata?.uid ?? ''}`);
    }
    if (fresh.metadata?.deletionTimestamp) throw new Error(`${ns}/${name} has just been deleted at ${fresh.metadata.deletionTimestamp}`);
  }

  private async adoptRS(d: RoD, rs: RoRS): Promise<RoRS> {
    const refs = [...clone(rs.metadata?.ownerReferences ?? []), newControllerRef(d, DEPLOYMENT_GVK)];
    const patched = await this.o.client.resource(Resources.replicaSets).patch(rs.metadata?.namespace ?? '', rs.metadata?.name ?? '', {
      metadata: { uid: rs.metadata?.uid, resourceVersion: rs.metadata?.resourceVersion, ownerReferences: refs },
    }, 'merge');
    this.log.info('adopted replicaset', { deployment: objectKey(d), replicaset: objectKey(rs) });
    return patched;
  }

  private async releaseRS(d: RoD, rs: RoRS): Promise<void> {
    const patch = removeOwnerRefsPatch(rs.metadata, new Set([d.metadata?.uid ?? '']));
    if (!patch) return;
    await this.o.client.resource(Resources.replicaSets).patch(rs.metadata?.namespace ?? '', rs.metadata?.name ?? '', patch, 'json');
    this.log.info('released replicaset', { deployment: objectKey(d), replicaset: objectKey(rs) });
  }

  /** Pods matching the Deployment's selector, by the uid of the ReplicaSet in `rsList` controlling them (upstream getPodMapForDeployment). */
  private podMapFor(d: RoD, rsList: readonly RoRS[]): Map<string, RoPod[]> {
    const map = new Map<string, RoPod[]>(rsList.map((rs) => [rs.metadata?.uid ?? '', []]));
    const sel = selectorOf(d);
    if (!sel) return map;
    for (const pod of this.podInformer.lister.listNamespace(d.metadata?.namespace ?? '')) {
      if (!matches(sel, pod.metadata?.labels)) continue;
      const ref = controllerOf(pod);
      if (ref) map.get(ref.uid)?.push(pod);
    }
    return map;
  }

  // ---- writes ----

  /** PUT …/status with `d` (status and annotations, as upstream's status strategy keeps metadata); `d` takes the new resourceVersion. */
  private async writeStatus(d: Deployment): Promise<void> {
    const out = await this.o.client.resource(Resources.deployments).updateStatus(d);
    d.metadata = { ...d.metadata, resourceVersion: out.metadata?.resourceVersion };
  }

  private async updateRS(rs: ReplicaSet): Promise<RoRS> {
    return this.o.client.resource(Resources.replicaSets).update(rs);
  }

  private scalingEvent(d: RoD, message: string): void {
    this.o.recorder.event(d, 'Normal', 'ScalingReplicaSet', message);
  }

  // ---- new and old ReplicaSets (upstream sync.go) ----

  /**
   * The new ReplicaSet (created when `create` and missing) and all old ones; syncs the
   * revision annotations (upstream getAllReplicaSetsAndSyncRevision).
   */
  private async allReplicaSets(d: Deployment, rsList: RoRS[], create: boolean): Promise<{ newRS: RoRS | undefined; oldRSs: RoRS[] }> {
    const { all: oldRSs } = findOldReplicaSets(d, rsList);
    const newRS = await this.newReplicaSet(d, rsList, oldRSs, create);
    return { newRS, oldRSs };
  }

  /** Upstream getNewReplicaSet: see the file comment. */
  private async newReplicaSet(d: Deployment, rsList: RoRS[], oldRSs: readonly RoRS[], create: boolean): Promise<RoRS | undefined> {
    const existing = findNewReplicaSet(d, rsList);
    const newRevision = maxRevision(oldRSs) + 1;
    const now = this.now();
    if (existing) {
      const copy = clone(existing) as ReplicaSet;
      const annotationsUpdated = setNewReplicaSetAnnotations(d, copy, newRevision, true);
      const minReady = d.spec?.minReadySeconds ?? 0;
      if (annotationsUpdated || (copy.spec?.minReadySeconds ?? 0) !== minReady) {
        copy.spec = { ...copy.spec!, minReadySeconds: minReady };
        const updated = await this.updateRS(copy);
        // Later steps of this round look at the list again: let them see this write.
        rsList[rsList.indexOf(existing)] = updated;
        return updated;
      }
      let needsUpdate = setDeploymentRevision(d, copy.metadata?.annotations?.[REVISION_ANNOTATION] ?? '');
      if (hasProgressDeadline(d) && !getCondition(d.status, 'Progressing')) {
        d.status ??= {};
        setCondition(d.status, newCondition('Progressing', 'True', Reason.FoundNewRS, `Found new replica set "${copy.metadata?.name ?? ''}"`, now));
        needsUpdate = true;
      }
      if (needsUpdate) await this.writeStatus(d);
      return copy;
    }
    if (!create) return undefined;

    const template = clone(d.spec!.template);
    const hash = computeHash(d.spec?.template, d.status?.collisionCount);
    template.metadata = { ...template.metadata, labels: { ...template.metadata?.labels, [POD_TEMPLATE_HASH_LABEL]: hash } };
    const selector = clone(d.spec!.selector);
    selector.matchLabels = { ...selector.matchLabels, [POD_TEMPLATE_HASH_LABEL]: hash };
    const ns = d.metadata?.namespace ?? '';
    const rs: ReplicaSet = {
      apiVersion: 'apps/v1', kind: 'ReplicaSet',
      metadata: {
        name: `${d.metadata?.name ?? ''}-${hash}`, namespace: ns, labels: { ...template.metadata.labels },
        ownerReferences: [newControllerRef(d, DEPLOYMENT_GVK)],
      },
      spec: { replicas: 0, minReadySeconds: d.spec?.minReadySeconds ?? 0, selector, template },
    };
    const replicas = newRSNewReplicas(d, [...oldRSs, rs], rs);
    rs.spec!.replicas = replicas;
    setNewReplicaSetAnnotations(d, rs, newRevision, false);

    let created: RoRS;
    let alreadyExists = false;
    try {
      created = await this.o.client.resource(Resources.replicaSets).create(ns, rs);
    } catch (e) {
      if (isApiError(e, 'AlreadyExists')) {
        const name = rs.metadata!.name!;
        const found = this.rsInformer.lister.getByName(ns, name) ?? await this.o.client.resource(Resources.replicaSets).get(ns, name);
        const ref = controllerOf(found);
        if (ref?.uid === d.metadata?.uid && equalIgnoreHash(d.spec?.template, found.spec?.template)) {
          created = found;
          alreadyExists = true;
        } else {
          // A hash collision: another template has this name. A new collisionCount gives a new hash.
          d.status = { ...d.status, collisionCount: (d.status?.collisionCount ?? 0) + 1 };
          try {
            await this.writeStatus(d);
            this.log.info('found a hash collision for deployment - bumping collisionCount to resolve it', {
              deployment: objectKey(d), oldCollisionCount: (d.status.collisionCount ?? 1) - 1, newCollisionCount: d.status.collisionCount,
            });
          } catch (se) {
            this.log.debug('could not record collisionCount', { deployment: objectKey(d), err: errorMessage(se) });
          }
          throw e;
        }
      } else if (hasStatusCause(e, 'NamespaceTerminating')) {
        throw e;
      } else {
        const msg = `Failed to create new replica set "${rs.metadata!.name!}": ${errorMessage(e)}`;
        if (hasProgressDeadline(d)) {
          d.status ??= {};
          setCondition(d.status, newCondition('Progressing', 'False', Reason.FailedRSCreate, msg, now));
          await this.writeStatus(d).catch(() => undefined);
        }
        this.o.recorder.event(d, 'Warning', Reason.FailedRSCreate, msg);
        throw e;
      }
    }
    if (!alreadyExists && replicas > 0) {
      this.scalingEvent(d, `Scaled up replica set ${created.metadata?.name ?? ''} from 0 to ${replicas}`);
    }
    let needsUpdate = setDeploymentRevision(d, String(newRevision));
    if (!alreadyExists && hasProgressDeadline(d)) {
      d.status ??= {};
      setCondition(d.status, newCondition('Progressing', 'True', Reason.NewReplicaSet, `Created new replica set "${created.metadata?.name ?? ''}"`, now));
      needsUpdate = true;
    }
    if (needsUpdate) await this.writeStatus(d);
    return created;
  }

  /** Sets `rs` to `newScale` replicas (and the replicas annotations), with a ScalingReplicaSet event (upstream scaleReplicaSetAndRecordEvent). */
  private async scaleAndRecord(rs: RoRS, newScale: number, d: RoD): Promise<{ scaled: boolean; rs: RoRS }> {
    if (replicasOf(rs) === newScale) return { scaled: false, rs };
    return this.scaleReplicaSet(rs, newScale, d, replicasOf(rs) < newScale ? 'up' : 'down');
  }

  /** Upstream scaleReplicaSet: writes when the size or the desired/max annotations are off. */
  private async scaleReplicaSet(rs: RoRS, newScale: number, d: RoD, op: string): Promise<{ scaled: boolean; rs: RoRS }> {
    const sizeChanged = replicasOf(rs) !== newScale;
    const desired = replicasOf(d);
    const max = desired + maxSurge(d);
    if (!sizeChanged && !replicasAnnotationsNeedUpdate(rs, desired, max)) return { scaled: false, rs };
    const oldScale = replicasOf(rs);
    const copy = clone(rs) as ReplicaSet;
    copy.spec = { ...copy.spec!, replicas: newScale };
    setReplicasAnnotations(copy, desired, max);
    const out = await this.updateRS(copy);
    if (sizeChanged) this.scalingEvent(d, `Scaled ${op} replica set ${out.metadata?.name ?? ''} from ${oldScale} to ${newScale}`);
    return { scaled: sizeChanged, rs: out };
  }

  /**
   * Scales for a changed spec.replicas (upstream scale): the only active ReplicaSet (or the
   * newest) takes it all; a saturated new ReplicaSet means the old ones go to 0; during a
   * RollingUpdate the difference to replicas + maxSurge is spread over the active
   * ReplicaSets in proportion to their size, leftovers to the largest.
   */
  private async scale(d: RoD, newRS: RoRS | undefined, oldRSs: readonly RoRS[]): Promise<void> {
    const activeOrLatest = findActiveOrLatest(newRS, oldRSs);
    if (activeOrLatest) {
      if (replicasOf(activeOrLatest) === replicasOf(d)) return;
      await this.scaleAndRecord(activeOrLatest, replicasOf(d), d);
      return;
    }
    if (isSaturated(d, newRS)) {
      for (const old of filterActive(oldRSs)) await this.scaleAndRecord(old, 0, d);
      return;
    }
    if (!isRollingUpdate(d)) return;
    const all = filterActive([...oldRSs, newRS]);
    const allowed = replicasOf(d) > 0 ? replicasOf(d) + maxSurge(d) : 0;
    const toAdd = allowed - specReplicas(all);
    let op = '';
    if (toAdd > 0) { all.sort(bySizeNewer); op = 'up'; }
    else if (toAdd < 0) { all.sort(bySizeOlder); op = 'down'; }
    let added = 0;
    const sizes = new Map<string, number>();
    for (const rs of all) {
      const share = toAdd !== 0 ? proportion(rs, d, toAdd, added) : 0;
      sizes.set(rs.metadata?.name ?? '', replicasOf(rs) + share);
      added += share;
    }
    for (const [i, rs] of all.entries()) {
      const name = rs.metadata?.name ?? '';
      if (i === 0 && toAdd !== 0) sizes.set(name, Math.max(0, sizes.get(name)! + toAdd - added));
      await this.scaleReplicaSet(rs, sizes.get(name)!, d, op);
    }
  }

  /** Deletes the oldest alive old ReplicaSets beyond revisionHistoryLimit that have no replicas left (upstream cleanupDeployment). */
  private async cleanupDeployment(oldRSs: readonly RoRS[], d: RoD): Promise<void> {
    const limit = d.spec?.revisionHistoryLimit;
    if (limit === undefined || limit === null) return;
    const cleanable = oldRSs.filter((rs) => !rs.metadata?.deletionTimestamp).sort(byRevision);
    const diff = cleanable.length - limit;
    for (let i = 0; i < diff; i++) {
      const rs = cleanable[i]!;
      if ((rs.status?.replicas ?? 0) !== 0 || replicasOf(rs) !== 0
        || (rs.metadata?.generation ?? 0) > (rs.status?.observedGeneration ?? 0) || rs.metadata?.deletionTimestamp) continue;
      this.log.debug('trying to cleanup replica set for deployment', { replicaset: objectKey(rs), deployment: objectKey(d) });
      try {
        await this.o.client.resource(Resources.replicaSets).delete(rs.metadata?.namespace ?? '', rs.metadata?.name ?? '');
      } catch (e) {
        if (!isApiError(e, 'NotFound')) throw e;
      }
    }
  }

  /** Scale and status only (paused Deployments and scaling events) (upstream sync). */
  private async sync(d: Deployment, rsList: RoRS[]): Promise<ReconcileResult> {
    const { newRS, oldRSs } = await this.allReplicaSets(d, rsList, false);
    await this.scale(d, newRS, oldRSs);
    if (d.spec?.paused) await this.cleanupDeployment(oldRSs, d);
    await this.syncDeploymentStatus([...oldRSs, newRS], newRS, d);
  }

  private async syncStatusOnly(d: Deployment, rsList: RoRS[]): Promise<ReconcileResult> {
    const { newRS, oldRSs } = await this.allReplicaSets(d, rsList, false);
    await this.syncDeploymentStatus([...oldRSs, newRS], newRS, d);
  }

  private async syncDeploymentStatus(allRSs: readonly (RoRS | undefined)[], newRS: RoRS | undefined, d: Deployment): Promise<void> {
    const status = calculateStatus(allRSs, newRS, d, this.now());
    if (jsonEqual(normalStatus(d.status), status)) return;
    d.status = status;
    await this.writeStatus(d);
  }

  /** A spec.replicas change not yet handed to the active ReplicaSets (upstream isScalingEvent). */
  private async isScalingEvent(d: Deployment, rsList: RoRS[]): Promise<boolean> {
    const { newRS, oldRSs } = await this.allReplicaSets(d, rsList, false);
    return filterActive([...oldRSs, newRS]).some((rs) => {
      const desired = desiredReplicasAnnotation(rs);
      return desired !== undefined && desired !== replicasOf(d);
    });
  }

  /** Progressing Unknown with DeploymentPaused / DeploymentResumed (upstream checkPausedConditions); a timed-out rollout keeps its condition. */
  private async checkPausedConditions(d: Deployment): Promise<void> {
    if (!hasProgressDeadline(d)) return;
    const cond = getCondition(d.status, 'Progressing');
    if (cond?.reason === Reason.TimedOut) return;
    const pausedCond = cond?.reason === Reason.Paused;
    let c: DeploymentCondition | undefined;
    if (d.spec?.paused && !pausedCond) c = newCondition('Progressing', 'Unknown', Reason.Paused, 'Deployment is paused', this.now());
    else if (!d.spec?.paused && pausedCond) c = newCondition('Progressing', 'Unknown', Reason.Resumed, 'Deployment is resumed', this.now());
    if (!c) return;
    d.status ??= {};
    setCondition(d.status, c);
    await this.writeStatus(d);
  }

  // ---- RollingUpdate (upstream rolling.go) ----

  private async rolloutRolling(d: Deployment, rsList: RoRS[]): Promise<ReconcileResult> {
    const { newRS, oldRSs } = await this.allReplicaSets(d, rsList, true);
    const nrs = newRS!;
    const allRSs = [...oldRSs, nrs];
    if (await this.reconcileNewReplicaSet(allRSs, nrs, d)) return this.syncRolloutStatus(allRSs, nrs, d);
    if (await this.reconcileOldReplicaSets(allRSs, filterActive(oldRSs), nrs, d)) return this.syncRolloutStatus(allRSs, nrs, d);
    if (deploymentComplete(d, d.status ?? {})) await this.cleanupDeployment(oldRSs, d);
    return this.syncRolloutStatus(allRSs, nrs, d);
  }

  /** Scales the new ReplicaSet up within the surge room (or down to spec.replicas). Returns whether it scaled. */
  private async reconcileNewReplicaSet(allRSs: readonly RoRS[], newRS: RoRS, d: RoD): Promise<boolean> {
    const want = replicasOf(d);
    if (replicasOf(newRS) === want) return false;
    if (replicasOf(newRS) > want) return (await this.scaleAndRecord(newRS, want, d)).scaled;
    return (await this.scaleAndRecord(newRS, newRSNewReplicas(d, allRSs, newRS), d)).scaled;
  }

  /**
   * Scales old ReplicaSets down as far as availability allows: replicas − maxUnavailable must
   * stay available, counting the new ReplicaSet's unavailable pods; unhealthy old replicas go
   * first (upstream reconcileOldReplicaSets). Returns whether anything was scaled down.
   */
  private async reconcileOldReplicaSets(allRSs: readonly RoRS[], oldRSs: readonly RoRS[], newRS: RoRS, d: RoD): Promise<boolean> {
    if (specReplicas(oldRSs) === 0) return false;
    const minAvailable = replicasOf(d) - maxUnavailable(d);
    const newUnavailable = replicasOf(newRS) - (newRS.status?.availableReplicas ?? 0);
    const maxScaledDown = specReplicas(allRSs) - minAvailable - newUnavailable;
    if (maxScaledDown <= 0) return false;
    const { oldRSs: cleaned, count: cleanedUp } = await this.cleanupUnhealthyReplicas(oldRSs, d, maxScaledDown);
    const scaledDown = await this.scaleDownOldReplicaSetsForRollingUpdate([...cleaned, newRS], cleaned, d);
    return cleanedUp + scaledDown > 0;
  }

  /** Scales old ReplicaSets down by their unavailable replicas, oldest first, at most `maxCleanup` in all. */
  private async cleanupUnhealthyReplicas(oldRSs: readonly RoRS[], d: RoD, maxCleanup: number): Promise<{ oldRSs: RoRS[]; count: number }> {
    const out = [...oldRSs].sort(byCreation);
    let total = 0;
    for (const [i, rs] of out.entries()) {
      if (total >= maxCleanup) break;
      const replicas = replicasOf(rs);
      const available = rs.status?.availableReplicas ?? 0;
      // A status that still counts pods of a larger, earlier size (available > replicas) has
      // nothing unhealthy to clean up; upstream errors and requeues here, which under load only
      // spins until the ReplicaSet's status catches up.
      if (replicas === 0 || available >= replicas) continue;
      const n = Math.min(maxCleanup - total, replicas - available);
      out[i] = (await this.scaleAndRecord(rs, replicas - n, d)).rs;
      total += n;
    }
    return { oldRSs: out, count: total };
  }

  /** Scales old ReplicaSets down, oldest first, by what is available beyond replicas − maxUnavailable. */
  private async scaleDownOldReplicaSetsForRollingUpdate(allRSs: readonly RoRS[], oldRSs: readonly RoRS[], d: RoD): Promise<number> {
    const minAvailable = replicasOf(d) - maxUnavailable(d);
    const available = availableReplicas(allRSs);
    if (available <= minAvailable) return 0;
    const budget = available - minAvailable;
    let total = 0;
    for (const rs of [...oldRSs].sort(byCreation)) {
      if (total >= budget) break;
      if (replicasOf(rs) === 0) continue;
      const n = Math.min(replicasOf(rs), budget - total);
      await this.scaleAndRecord(rs, replicasOf(rs) - n, d);
      total += n;
    }
    return total;
  }

  // ---- Recreate (upstream recreate.go) ----

  private async rolloutRecreate(d: Deployment, rsList: RoRS[], podMap: ReadonlyMap<string, readonly RoPod[]>): Promise<ReconcileResult> {
    let { newRS, oldRSs } = await this.allReplicaSets(d, rsList, false);
    let allRSs: (RoRS | undefined)[] = [...oldRSs, newRS];
    let scaledDown = false;
    for (const rs of filterActive(oldRSs)) {
      if ((await this.scaleAndRecord(rs, 0, d)).scaled) scaledDown = true;
    }
    if (scaledDown) return this.syncRolloutStatus(allRSs, newRS, d);
    if (oldPodsRunning(newRS, oldRSs, podMap)) return this.syncRolloutStatus(allRSs, newRS, d);
    if (!newRS) {
      ({ newRS, oldRSs } = await this.allReplicaSets(d, rsList, true));
      allRSs = [...oldRSs, newRS];
    }
    await this.scaleAndRecord(newRS!, replicasOf(d), d);
    if (deploymentComplete(d, d.status ?? {})) await this.cleanupDeployment(oldRSs, d);
    return this.syncRolloutStatus(allRSs, newRS, d);
  }

  // ---- progress (upstream progress.go) ----

  /**
   * Writes the rollout's status with the Progressing condition moved on (complete, progressing,
   * timed out) and ReplicaFailure copied from the ReplicaSets. When nothing changed and the
   * rollout is neither complete nor timed out, returns the time left until the deadline.
   */
  private async syncRolloutStatus(allRSs: readonly (RoRS | undefined)[], newRS: RoRS | undefined, d: Deployment): Promise<ReconcileResult> {
    const now = this.now();
    const status = calculateStatus(allRSs, newRS, d, now);
    if (!hasProgressDeadline(d)) removeCondition(status, 'Progressing');
    const current = getCondition(d.status, 'Progressing');
    const complete = (status.replicas ?? 0) === (status.updatedReplicas ?? 0) && current?.reason === Reason.NewRSAvailable;
    if (hasProgressDeadline(d) && !complete) {
      const rsName = newRS?.metadata?.name;
      if (deploymentComplete(d, status)) {
        const msg = rsName !== undefined ? `ReplicaSet "${rsName}" has successfully progressed.` : `Deployment "${d.metadata?.name ?? ''}" has successfully progressed.`;
        setCondition(status, newCondition('Progressing', 'True', Reason.NewRSAvailable, msg, now));
      } else if (deploymentProgressing(d, status)) {
        const msg = rsName !== undefined ? `ReplicaSet "${rsName}" is progressing.` : `Deployment "${d.metadata?.name ?? ''}" is progressing.`;
        const cond = newCondition('Progressing', 'True', Reason.ReplicaSetUpdated, msg, now);
        // Progress refreshes lastUpdateTime even with the same reason (the deadline counts from it).
        if (current) {
          if (current.status === 'True') cond.lastTransitionTime = current.lastTransitionTime;
          removeCondition(status, 'Progressing');
        }
        setCondition(status, cond);
      } else if (deploymentTimedOut(d, status, now)) {
        const msg = rsName !== undefined ? `ReplicaSet "${rsName}" has timed out progressing.` : `Deployment "${d.metadata?.name ?? ''}" has timed out progressing.`;
        setCondition(status, newCondition('Progressing', 'False', Reason.TimedOut, msg, now));
      }
    }
    const failure = replicaFailure(allRSs, newRS);
    if (failure) setCondition(status, failure);
    else removeCondition(status, 'ReplicaFailure');
    if (status.conditions?.length === 0) delete status.conditions;

    if (jsonEqual(normalStatus(d.status), status)) return this.requeueStuck(d, status, now);
    d.status = status;
    await this.writeStatus(d);
  }

  /**
   * When a rollout with a deadline made no progress, the time until its Progressing
   * condition's lastUpdateTime + progressDeadlineSeconds (upstream requeueStuckDeployment).
   */
  private requeueStuck(d: RoD, status: DeploymentStatus, now: Date): ReconcileResult {
    const cond = getCondition(d.status, 'Progressing');
    if (!hasProgressDeadline(d) || !cond) return;
    if (deploymentComplete(d, status) || cond.reason === Reason.TimedOut) return;
    const from = cond.lastUpdateTime ? Date.parse(cond.lastUpdateTime) : now.getTime();
    const after = from + (d.spec?.progressDeadlineSeconds ?? 0) * 1000 - now.getTime();
    // Under a second left: come back just after the deadline (upstream: rate-limited requeue).
    return { requeueAfter: after < 1000 ? Math.max(after, 0) + 10 : after };
  }
}

/** Old ReplicaSets still report replicas, or pods of theirs are not finished (upstream oldPodsRunning). */
export function oldPodsRunning(newRS: RoRS | undefined, oldRSs: readonly RoRS[], podMap: ReadonlyMap<string, readonly RoPod[]>): boolean {
  if (actualReplicas(oldRSs) > 0) return true;
  for (const [uid, pods] of podMap) {
    if (newRS && newRS.metadata?.uid === uid) continue;
    if (pods.some((p) => p.status?.phase !== 'Failed' && p.status?.phase !== 'Succeeded')) return true;
  }
  return false;
}

/** The ReplicaFailure condition of the new ReplicaSet, else of the first old one that has it (upstream getReplicaFailures). */
function replicaFailure(allRSs: readonly (RoRS | undefined)[], newRS: RoRS | undefined): DeploymentCondition | undefined {
  const ordered = [newRS, ...allRSs.filter((rs) => rs !== newRS)];
  for (const rs of ordered) {
    const c = rs?.status?.conditions?.find((x) => x.type === 'ReplicaFailure');
    if (c) {
      return {
        type: 'ReplicaFailure', status: c.status, lastUpdateTime: c.lastTransitionTime, lastTransitionTime: c.lastTransitionTime,
        ...(c.reason !== undefined ? { reason: c.reason } : {}), ...(c.message !== undefined ? { message: c.message } : {}),
      };
    }
  }
  return undefined;
}

/** The unit the controller-manager runs. */
export const deploymentController: Controller = {
  name: 'deployment-controller',
  aliases: ['deployment'],
  async start(ctx) {
    const c = new DeploymentController({
      client: ctx.client, informers: ctx.informers, logger: ctx.logger, recorder: ctx.recorder('deployment-controller'),
      queue: ctx.newQueue('deployment'), metrics: ctx.metrics, now: ctx.now,
    });
    if (!(await ctx.waitForCacheSync())) return;
    await c.run(ctx.signal);
  },
};
