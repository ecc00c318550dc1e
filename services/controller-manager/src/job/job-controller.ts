/**
 * The Job controller (upstream pkg/controller/job, 1.32 defaults): runs pods for a Job until
 * enough succeed or it fails, and reports progress in its status.
 *
 * reconcile(namespace/name), skipped for finished Jobs and Jobs with another spec.managedBy:
 *  1. Claim pods (util/claim.ts; adoption adds the tracking finalizer).
 *  2. Count: active (not finished, not being deleted), ready, terminating (being deleted, not
 *     finished), and newly finished pods that still carry `batch.kubernetes.io/job-tracking`.
 *     A pod is failed when its phase is Failed or, unless only failed pods are replaced
 *     (podReplacementPolicy Failed / a podFailurePolicy), when it is being deleted without
 *     having succeeded.
 *  3. Decide: failed > backoffLimit (or, for restartPolicy OnFailure, container restarts ≥
 *     backoffLimit) → BackoffLimitExceeded "Job has reached the specified backoff limit";
 *     activeDeadlineSeconds passed since startTime → DeadlineExceeded "Job was active longer
 *     than specified deadline" (otherwise a resync is queued for the deadline); enough
 *     successes and nothing active → success. A failing Job first records FailureTarget and
 *     deletes its active pods, a succeeding one SuccessCriteriaMet (reason CompletionsReached);
 *     the terminal Failed/Complete condition (and completionTime) follows once no pod is
 *     terminating or uncounted, as upstream does with JobManagedBy/JobPodReplacementPolicy on.
 *  4. Otherwise (expectations satisfied, Job not being deleted) manage pods: a suspended Job
 *     loses its active pods (Suspended condition, event "Suspended"; resuming resets
 *     startTime, event "Resumed"); surplus pods are deleted; missing ones are created in
 *     slow-start batches after the pod failure backoff (10 s doubling per failure since the
 *     last success, capped at 10 min as upstream's MaxJobPodFailureBackOff), from the
 *     template plus the tracking finalizer, generateName `<job>-` and a controller reference.
 *     Indexed Jobs create the lowest pending indexes with the completion-index annotation and
 *     label, hostname `<job>-<index>`, generateName `<job>-<index>-` and JOB_COMPLETION_INDEX.
 *  5. Track (upstream trackJobStatusAndRemoveFinalizers): finished pods' uids go to
 *     status.uncountedTerminatedPods first (status written), then their finalizers are
 *     removed, then the uids move into status.succeeded/failed. Finalizer removals are
 *     expected until the informer shows them, so a stale cache never counts a pod twice.
 * Pods whose Job is gone or finished, or orphans, lose the finalizer through a second queue.
 *
 * Events: SuccessfulCreate "Created pod: <name>", FailedCreate "Error creating: <err>",
 * SuccessfulDelete "Deleted pod: <name>", FailedDelete, Completed "Job completed",
 * BackoffLimitExceeded / DeadlineExceeded (Warning, with the condition's message),
 * TooManySucceededPods, Suspended, Resumed.
 * Left out: podFailurePolicy rules, backoffLimitPerIndex/maxFailedIndexes, successPolicy,
 * the job_* metrics.
 */
import {
  isApiError, matches, objectKey, rfc3339, splitKey, type Job, type JobCondition, type Pod,
} from '@tskube/api';
import {
  Resources, WorkQueue, clone, type DeepReadonly, type Informer, type ReconcileResult,
} from '@tskube/client';
import type { Logger } from '@tskube/log';
import { runWorkers, type Controller, type ControllerOptions } from '../controller.js';
import { podsToDelete } from '../replicaset/ranking.js';
import { slowStartBatch } from '../replicaset/replicaset-controller.js';
import { claimPods } from '../util/claim.js';
import { errorMessage, hasStatusCause } from '../util/errors.js';
import { Expectations } from '../util/expectations.js';
import { controllerOf, newControllerRef } from '../util/owners.js';
import { removeFinalizerPatch } from '../util/patches.js';
import { isPodActive, isPodReady, podKey } from '../util/pods.js';
import {
  JOB_COMPLETION_INDEX_ANNOTATION, JOB_COMPLETION_INDEX_ENV, JOB_CONTROLLER_NAME, JOB_TRACKING_FINALIZER,
  completionIndex, ensureCondition, findCondition, formatIndexes, hasTrackingFinalizer, isJobFinished, newCondition,
  nextBackoffRecord, parseIndexes, remainingBackoffMs, type BackoffRecord,
} from './util.js';
import { selectorOf } from '../util/selector.js';

type RoJob = DeepReadonly<Job>;
type RoPod = DeepReadonly<Pod>;

const JOB_GVK = { apiVersion: 'batch/v1', kind: 'Job' };
/** Upstream MaxUncountedPods / MaxPodCreateDeletePerSync. */
const MAX_UNCOUNTED_PODS = 500;
const MAX_POD_CREATE_DELETE_PER_SYNC = 500;

export interface JobControllerOptions extends ControllerOptions {
  orphanQueue?: WorkQueue<string>;
  /** Parallel workers (upstream --concurrent-job-syncs: 5). */
  workers?: number;
  /** Pod events and status changes are batched this long per Job (upstream syncJobBatchPeriod: 1 s). */
  syncBatchMs?: number;
  /** Pod failure backoff (upstream 10 s, at most 10 min). */
  podBackoffInitialMs?: number;
  podBackoffMaxMs?: number;
}

/** What one sync works with (upstream syncJobCtx). */
interface SyncCtx {
  job: Job;
  pods: RoPod[];
  active: RoPod[];
  ready: number;
  terminating: number;
  succeeded: number;
  failed: number;
  uncountedSucceeded: Set<string>;
  uncountedFailed: Set<string>;
  expectedRm: Set<string>;
  finished?: JobCondition;
  prevSucceededIndexes: number[];
  succeededIndexes: number[];
  backoff: BackoffRecord;
}

const isIndexed = (job: RoJob) => job.spec?.completionMode === 'Indexed';
const suspended = (job: RoJob) => job.spec?.suspend === true;
/** Only replace pods once they are Failed (upstream onlyReplaceFailedPods). */
const onlyReplaceFailed = (job: RoJob) => job.spec?.podReplacementPolicy === 'Failed' || job.spec?.podFailurePolicy !== undefined;
const managedElsewhere = (job: RoJob) => job.spec?.managedBy !== undefined && job.spec.managedBy !== JOB_CONTROLLER_NAME;

/** Upstream isPodFailed. */
export function isPodFailed(pod: RoPod, job: RoJob): boolean {
  if (pod.status?.phase === 'Failed') return true;
  if (onlyReplaceFailed(job)) return false;
  return !!pod.metadata?.deletionTimestamp && pod.status?.phase !== 'Succeeded';
}

/** Being deleted and not finished (upstream CountTerminatingPods). */
function isTerminating(pod: RoPod): boolean {
  return !!pod.metadata?.deletionTimestamp && pod.status?.phase !== 'Failed' && pod.status?.phase !== 'Succeeded';
}

export class JobController {
  readonly queue: WorkQueue<string>;
  readonly orphanQueue: WorkQueue<string>;
  readonly expectations: Expectations;
  /** Job key → pod uids whose finalizer removal was sent but not yet observed. */
  private readonly rmFinalizers = new Map<string, Set<string>>();
  private readonly backoffs = new Map<string, BackoffRecord>();
  private readonly jobInformer: Informer<Job>;
  private readonly podInformer: Informer<Pod>;
  private readonly log: Logger;
  private readonly now: () => Date;
  private readonly batchMs: number;

  constructor(private readonly o: JobControllerOptions) {
    this.log = o.logger;
    this.now = o.now ?? (() => new Date());
    this.batchMs = o.syncBatchMs ?? 1000;
    this.expectations = new Expectations({ now: () => this.now().getTime() });
    this.queue = o.queue ?? new WorkQueue<string>({ name: 'job' });
    this.orphanQueue = o.orphanQueue ?? new WorkQueue<string>({ name: 'job_orphan_pod' });
    this.jobInformer = o.informers.informer(Resources.jobs);
    this.podInformer = o.informers.informer(Resources.pods);
    this.jobInformer.addEventHandler({
      onAdd: (job) => this.queue.add(objectKey(job)),
      onUpdate: (old, job) => this.jobUpdated(old, job),
      onDelete: (job) => {
        this.queue.add(objectKey(job));
        this.cleanupPodFinalizers(job);
      },
    });
    this.podInformer.addEventHandler({
      onAdd: (pod) => this.podAdded(pod),
      onUpdate: (old, pod) => this.podUpdated(old, pod),
      onDelete: (pod) => this.podDeleted(pod, true),
    });
  }

  /** Runs the workers (and the orphan-pod worker) until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    await Promise.all([
      runWorkers({
        name: 'job-controller', queue: this.queue, workers: this.o.workers ?? 5, logger: this.log, signal,
        metrics: this.o.metrics, reconcile: (key) => this.reconcile(key),
      }),
      runWorkers({
        name: 'job-controller-orphan-pods', queue: this.orphanQueue, workers: 1, logger: this.log, signal,
        metrics: this.o.metrics, reconcile: (key) => this.syncOrphanPod(key),
      }),
    ]);
  }

  // ---- event handlers ----

  private enqueueBatched(job: RoJob, delayMs = this.batchMs): void {
    const key = objectKey(job);
    if (delayMs > 0) this.queue.addAfter(key, delayMs);
    else this.queue.add(key);
  }

  private jobUpdated(old: RoJob, job: RoJob): void {
    const key = objectKey(job);
    if (old.metadata?.uid !== job.metadata?.uid) {
      this.expectations.delete(key);
      this.rmFinalizers.delete(key);
    }
    if (old.metadata?.generation === job.metadata?.generation) this.enqueueBatched(job);
    else this.queue.add(key);
    if (isJobFinished(job)) this.cleanupPodFinalizers(job);
    const ads = job.spec?.activeDeadlineSeconds;
    const start = job.status?.startTime;
    if (start && ads !== undefined && old.spec?.activeDeadlineSeconds !== ads) {
      this.queue.addAfter(key, Math.max(0, Date.parse(start) + ads * 1000 - this.now().getTime()));
    }
  }

  /** Pods of a gone or finished Job keep no finalizer: hand them to the orphan queue. */
  private cleanupPodFinalizers(job: RoJob): void {
    for (const pod of this.podInformer.lister.listNamespace(job.metadata?.namespace ?? '')) {
      if (controllerOf(pod)?.uid === job.metadata?.uid && hasTrackingFinalizer(pod)) this.orphanQueue.add(podKey(pod));
    }
  }

  private resolve(namespace: string, ref: DeepReadonly<{ kind: string; name: string; uid: string }>): RoJob | undefined {
    if (ref.kind !== 'Job') return undefined;
    const job = this.jobInformer.lister.getByName(namespace, ref.name);
    return job && job.metadata?.uid === ref.uid ? job : undefined;
  }

  private jobsFor(pod: RoPod): RoJob[] {
    return this.jobInformer.lister.listNamespace(pod.metadata?.namespace ?? '').filter((j) => {
      const sel = selectorOf(j);
      return sel !== null && sel.length > 0 && matches(sel, pod.metadata?.labels);
    });
  }

  private observeFinalizerRemoved(job: RoJob, pod: RoPod): void {
    this.rmFinalizers.get(objectKey(job))?.delete(pod.metadata?.uid ?? '');
  }

  private podAdded(pod: RoPod): void {
    if (pod.metadata?.deletionTimestamp) {
      this.podDeleted(pod, false);
      return;
    }
    const ref = controllerOf(pod);
    if (ref) {
      const job = this.resolve(pod.metadata?.namespace ?? '', ref);
      if (!job) return;
      this.expectations.creationObserved(objectKey(job));
      this.enqueueBatched(job);
      return;
    }
    if (hasTrackingFinalizer(pod)) this.orphanQueue.add(podKey(pod));
    for (const job of this.jobsFor(pod)) this.enqueueBatched(job);
  }

  private podUpdated(old: RoPod, pod: RoPod): void {
    if (old.metadata?.resourceVersion === pod.metadata?.resourceVersion) return;
    if (pod.metadata?.deletionTimestamp) {
      this.podDeleted(pod, false);
      return;
    }
    const removed = !hasTrackingFinalizer(pod);
    const ref = controllerOf(pod);
    const oldRef = controllerOf(old);
    const refChanged = JSON.stringify(ref) !== JSON.stringify(oldRef);
    const ns = pod.metadata?.namespace ?? '';
    if (refChanged && oldRef) {
      const job = this.resolve(ns, oldRef);
      if (job) {
        if (removed) this.observeFinalizerRemoved(job, pod);
        this.enqueueBatched(job);
      }
    }
    if (ref) {
      const job = this.resolve(ns, ref);
      if (!job) return;
      if (removed) this.observeFinalizerRemoved(job, pod);
      this.enqueueBatched(job);
      return;
    }
    if (hasTrackingFinalizer(pod)) this.orphanQueue.add(podKey(pod));
    const labelsChanged = JSON.stringify(old.metadata?.labels) !== JSON.stringify(pod.metadata?.labels);
    if (labelsChanged || refChanged) for (const job of this.jobsFor(pod)) this.enqueueBatched(job);
  }

  /** `final`: the pod is gone (not just marked for deletion). */
  private podDeleted(pod: RoPod, final: boolean): void {
    const ref = controllerOf(pod);
    const fin = hasTrackingFinalizer(pod);
    if (!ref) {
      if (fin && !final) this.orphanQueue.add(podKey(pod));
      return;
    }
    const job = this.resolve(pod.metadata?.namespace ?? '', ref);
    if (!job || isJobFinished(job)) {
      if (fin && !final) this.orphanQueue.add(podKey(pod));
      return;
    }
    const key = objectKey(job);
    this.expectations.deletionObserved(key, podKey(pod));
    if (final || !fin) this.observeFinalizerRemoved(job, pod);
    this.enqueueBatched(job);
  }

  // ---- orphan pods ----

  /** Removes the tracking finalizer from a pod no unfinished Job of ours controls. */
  async syncOrphanPod(key: string): Promise<ReconcileResult> {
    const { namespace, name } = splitKey(key);
    const pod = this.podInformer.lister.getByName(namespace, name);
    if (!pod) return;
    const ref = controllerOf(pod);
    if (ref) {
      if (ref.kind !== 'Job' || ref.apiVersion !== 'batch/v1') return;
      const job = this.resolve(namespace, ref);
      if (job && (managedElsewhere(job) || !isJobFinished(job))) return;
    }
    const patch = removeFinalizerPatch(pod.metadata, JOB_TRACKING_FINALIZER);
    if (!patch) return;
    try {
      await this.o.client.resource(Resources.pods).patch(namespace, name, patch, 'json');
    } catch (e) {
      if (!isApiError(e, 'NotFound')) throw e;
    }
  }

  // ---- reconcile ----

  async reconcile(key: string): Promise<ReconcileResult> {
    const { namespace, name } = splitKey(key);
    const cached = this.jobInformer.lister.getByName(namespace, name);
    if (!cached) {
      this.expectations.delete(key);
      this.rmFinalizers.delete(key);
      this.backoffs.delete(key);
      return;
    }
    if (managedElsewhere(cached)) return;
    if (isJobFinished(cached)) {
      this.backoffs.delete(key);
      return;
    }
    const mode = cached.spec?.completionMode;
    if (mode !== undefined && mode !== 'NonIndexed' && mode !== 'Indexed') {
      this.o.recorder.event(cached, 'Warning', 'UnknownCompletionMode', 'Skipped Job sync because completion mode is unknown');
      return;
    }
    const selector = selectorOf(cached);
    if (!selector) {
      this.log.warn('job has an invalid selector', { key });
      return;
    }
    const job = clone(cached) as Job;
    const status = (job.status ??= {});
    status.uncountedTerminatedPods ??= {};
    const satisfied = this.expectations.satisfied(key);
    const pods = await claimPods({
      client: this.o.client, owner: cached, gvk: JOB_GVK, selector, logger: this.log,
      pods: this.podInformer.lister.listNamespace(namespace), finalizers: [JOB_TRACKING_FINALIZER],
      recheck: () => this.recheck(cached),
    });
    const active = pods.filter(isPodActive);
    const ctx: SyncCtx = {
      job, pods, active,
      ready: active.filter(isPodReady).length,
      terminating: pods.filter(isTerminating).length,
      succeeded: 0, failed: 0,
      uncountedSucceeded: new Set(status.uncountedTerminatedPods.succeeded ?? []),
      uncountedFailed: new Set(status.uncountedTerminatedPods.failed ?? []),
      expectedRm: new Set(this.rmFinalizers.get(key) ?? []),
      prevSucceededIndexes: [], succeededIndexes: [],
      backoff: this.backoffs.get(key) ?? { failuresAfterLastSuccess: 0 },
    };
    let activeCount = active.length;
    const newSucceeded = this.newFinishedPods(ctx, ctx.uncountedSucceeded, (p) => p.status?.phase === 'Succeeded');
    const newFailed = this.newFinishedPods(ctx, ctx.uncountedFailed, (p) => isPodFailed(p, job));
    ctx.succeeded = (status.succeeded ?? 0) + newSucceeded.length + ctx.uncountedSucceeded.size;
    ctx.failed = (status.failed ?? 0) + newFailed.length + ctx.uncountedFailed.size;
    const now = this.now();
    if (!status.startTime && !suspended(job)) status.startTime = rfc3339(now);
    ctx.backoff = nextBackoffRecord(ctx.backoff, newSucceeded, newFailed);

    let requeueAfter: number | undefined;
    const backoffLimit = job.spec?.backoffLimit ?? 6;
    const successMet = findCondition(job, 'SuccessCriteriaMet');
    if (successMet?.status === 'True') ctx.finished = clone(successMet) as JobCondition;
    if (!ctx.finished) {
      const target = findCondition(job, 'FailureTarget');
      if (target?.status === 'True') ctx.finished = newCondition('Failed', 'True', target.reason ?? '', target.message ?? '', now);
    }
    if (!ctx.finished) {
      if (ctx.failed > backoffLimit || this.pastBackoffLimitOnFailure(job, pods)) {
        ctx.finished = newCondition('FailureTarget', 'True', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit', now);
      } else if (this.pastActiveDeadline(job, now)) {
        ctx.finished = newCondition('FailureTarget', 'True', 'DeadlineExceeded', 'Job was active longer than specified deadline', now);
      } else if (job.spec?.activeDeadlineSeconds !== undefined && !suspended(job) && status.startTime) {
        requeueAfter = Date.parse(status.startTime) + job.spec.activeDeadlineSeconds * 1000 - now.getTime();
      }
    }
    if (isIndexed(job)) {
      const completions = job.spec?.completions ?? 0;
      ctx.prevSucceededIndexes = parseIndexes(status.completedIndexes, completions);
      const all = new Set(ctx.prevSucceededIndexes);
      for (const p of pods) {
        const ix = completionIndex(p);
        if (p.status?.phase === 'Succeeded' && ix !== undefined && ix < completions) all.add(ix);
      }
      ctx.succeededIndexes = [...all].sort((a, b) => a - b);
      ctx.succeeded = ctx.succeededIndexes.length;
    }

    let suspendChanged = false;
    let manageError: unknown;
    if (ctx.finished) {
      if (ctx.finished.type !== 'SuccessCriteriaMet') {
        const { deleted, deletedReady, error } = await this.deleteActivePods(job, ctx.active);
        if (deleted !== activeCount || !satisfied) ctx.finished = undefined;
        activeCount -= deleted;
        ctx.terminating += deleted;
        ctx.ready -= deletedReady;
        manageError = error;
      }
    } else {
      let managed = false;
      if (satisfied && !job.metadata?.deletionTimestamp) {
        const r = await this.manageJob(key, job, ctx);
        activeCount = r.active;
        manageError = r.error;
        if (r.requeueAfter !== undefined) requeueAfter = Math.min(requeueAfter ?? Infinity, r.requeueAfter);
        managed = true;
      }
      const completions = job.spec?.completions;
      const complete = completions === undefined ? ctx.succeeded > 0 && activeCount === 0 : ctx.succeeded >= completions && activeCount === 0;
      if (complete) {
        ctx.finished = newCondition('SuccessCriteriaMet', 'True', 'CompletionsReached', 'Reached expected number of succeeded pods', now);
      } else if (managed) {
        const conds = (status.conditions ??= []);
        if (suspended(job)) {
          if (ensureCondition(conds, 'Suspended', 'True', 'JobSuspended', 'Job suspended', now)) {
            suspendChanged = true;
            this.o.recorder.event(job, 'Normal', 'Suspended', 'Job suspended');
          }
        } else if (ensureCondition(conds, 'Suspended', 'False', 'JobResumed', 'Job resumed', now)) {
          suspendChanged = true;
          this.o.recorder.event(job, 'Normal', 'Resumed', 'Job resumed');
          // The deadline counts from the resume, as for a Job created suspended.
          status.startTime = rfc3339(now);
        }
        if (!status.conditions.length) delete status.conditions;
      }
    }
    const needsUpdate = suspendChanged || activeCount !== (cached.status?.active ?? 0) || ctx.ready !== cached.status?.ready
      || ctx.terminating !== cached.status?.terminating || status.startTime !== cached.status?.startTime;
    status.active = activeCount;
    status.ready = ctx.ready;
    status.terminating = ctx.terminating;
    await this.trackStatusAndRemoveFinalizers(key, ctx, needsUpdate);
    if (manageError !== undefined) throw manageError;
    if (requeueAfter !== undefined) return { requeueAfter: Math.max(1, requeueAfter) };
  }

  /** Newly finished pods not yet in the status: they carry the finalizer and are not uncounted (upstream getValidPodsWithFilter). */
  private newFinishedPods(ctx: SyncCtx, uncounted: ReadonlySet<string>, pred: (p: RoPod) => boolean): RoPod[] {
    const completions = ctx.job.spec?.completions ?? 0;
    return ctx.pods.filter((p) => {
      const uid = p.metadata?.uid ?? '';
      if (!hasTrackingFinalizer(p) || uncounted.has(uid) || ctx.expectedRm.has(uid)) return false;
      if (isIndexed(ctx.job)) {
        const ix = completionIndex(p);
        if (ix === undefined || ix >= completions) return false;
      }
      return pred(p);
    });
  }

  private async recheck(job: RoJob): Promise<void> {
    const ns = job.metadata?.namespace ?? '';
    const name = job.metadata?.name ?? '';
    const fresh = await this.o.client.resource(Resources.jobs).get(ns, name);
    if (fresh.metadata?.uid !== job.metadata?.uid) {
      throw new Error(`original Job ${ns}/${name} is gone: got uid ${fresh.metadata?.uid ?? ''}, wanted ${job.metadata?.uid ?? ''}`);
    }
    if (fresh.metadata?.deletionTimestamp) throw new Error(`${ns}/${name} has just been deleted at ${fresh.metadata.deletionTimestamp}`);
  }

  /** restartPolicy OnFailure: container restarts of running/pending pods reached backoffLimit. */
  private pastBackoffLimitOnFailure(job: RoJob, pods: readonly RoPod[]): boolean {
    if (job.spec?.template?.spec?.restartPolicy !== 'OnFailure') return false;
    let restarts = 0;
    for (const p of pods) {
      if (p.status?.phase !== 'Running' && p.status?.phase !== 'Pending') continue;
      for (const c of [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])]) restarts += c.restartCount ?? 0;
    }
    const limit = job.spec?.backoffLimit ?? 6;
    return limit === 0 ? restarts > 0 : restarts >= limit;
  }

  private pastActiveDeadline(job: RoJob, now: Date): boolean {
    const ads = job.spec?.activeDeadlineSeconds;
    const start = job.status?.startTime;
    if (ads === undefined || !start || suspended(job)) return false;
    return now.getTime() - Date.parse(start) >= ads * 1000;
  }

  /** DELETE each active pod, finalizers kept (they are removed once the pod is counted). */
  private async deleteActivePods(job: RoJob, pods: readonly RoPod[]): Promise<{ deleted: number; deletedReady: number; error?: unknown }> {
    let deleted = 0;
    let deletedReady = 0;
    let error: unknown;
    await Promise.all(pods.map(async (p) => {
      try {
        await this.deletePod(job, p);
      } catch (e) {
        if (!isApiError(e, 'NotFound')) { error ??= e; return; }
      }
      deleted++;
      if (isPodReady(p)) deletedReady++;
    }));
    return { deleted, deletedReady, error };
  }

  /** Removes the finalizer (so the pod is never counted) and deletes each pod (upstream deleteJobPods). */
  private async deleteJobPods(key: string, job: RoJob, pods: readonly RoPod[]): Promise<{ deleted: number; deletedReady: number; error?: unknown }> {
    let deleted = 0;
    let deletedReady = 0;
    let error: unknown;
    await Promise.all(pods.map(async (p) => {
      try {
        const patch = removeFinalizerPatch(p.metadata, JOB_TRACKING_FINALIZER);
        if (patch) await this.o.client.resource(Resources.pods).patch(p.metadata?.namespace ?? '', p.metadata?.name ?? '', patch, 'json');
        await this.deletePod(job, p);
        deleted++;
      } catch (e) {
        this.expectations.deletionObserved(key, podKey(p));
        if (!isApiError(e, 'NotFound')) error ??= e;
        else deleted++;
      }
      if (isPodReady(p)) deletedReady++;
    }));
    return { deleted, deletedReady, error };
  }

  private async deletePod(job: RoJob, pod: RoPod): Promise<void> {
    const name = pod.metadata?.name ?? '';
    try {
      await this.o.client.resource(Resources.pods).delete(pod.metadata?.namespace ?? '', name);
    } catch (e) {
      if (!isApiError(e, 'NotFound')) this.o.recorder.event(job, 'Warning', 'FailedDelete', `Error deleting: ${errorMessage(e)}`);
      throw e;
    }
    this.o.recorder.event(job, 'Normal', 'SuccessfulDelete', `Deleted pod: ${name}`);
  }

  /** Upstream manageJob: the number of active pods after creating/deleting. */
  private async manageJob(key: string, job: Job, ctx: SyncCtx): Promise<{ active: number; error?: unknown; requeueAfter?: number }> {
    let active = ctx.active.length;
    const parallelism = job.spec?.parallelism ?? 1;
    if (suspended(job)) {
      const victims = [...ctx.active];
      this.expectations.expectDeletions(key, victims.map(podKey));
      const r = await this.deleteJobPods(key, job, victims);
      ctx.terminating += r.deleted;
      ctx.ready -= r.deletedReady;
      return { active: active - r.deleted, error: r.error };
    }
    const completions = job.spec?.completions;
    let want: number;
    if (completions === undefined) want = ctx.succeeded > 0 ? active : parallelism;
    else want = Math.max(0, Math.min(completions - ctx.succeeded, parallelism));

    const rmAtLeast = Math.max(0, active - want);
    let victims = this.activePodsForRemoval(job, ctx.active, rmAtLeast);
    if (victims.length > MAX_POD_CREATE_DELETE_PER_SYNC) victims = victims.slice(0, MAX_POD_CREATE_DELETE_PER_SYNC);
    if (victims.length) {
      this.expectations.expectDeletions(key, victims.map(podKey));
      this.log.debug('too many pods running for job', { key, deleting: victims.length, target: want });
      const r = await this.deleteJobPods(key, job, victims);
      ctx.terminating += r.deleted;
      ctx.ready -= r.deletedReady;
      return { active: active - r.deleted, error: r.error };
    }

    const terminating = onlyReplaceFailed(job) ? ctx.terminating : 0;
    let diff = want - terminating - active;
    if (diff <= 0) return { active };
    const wait = remainingBackoffMs(ctx.backoff, this.now().getTime(), this.o.podBackoffInitialMs ?? 10_000, this.o.podBackoffMaxMs ?? 600_000);
    if (wait > 0) return { active, requeueAfter: Math.max(wait, this.batchMs) };
    diff = Math.min(diff, MAX_POD_CREATE_DELETE_PER_SYNC);
    let indexes: number[] = [];
    if (isIndexed(job)) {
      indexes = this.firstPendingIndexes(ctx, diff, completions ?? 0);
      diff = indexes.length;
      if (!diff) return { active };
    }
    this.expectations.expectCreations(key, diff);
    this.log.debug('too few pods running for job', { key, need: want, creating: diff });
    let next = 0;
    const { successes, error } = await slowStartBatch(diff, 1, () => this.createPod(key, job, indexes[next++]));
    for (let i = successes; i < diff; i++) this.expectations.creationObserved(key);
    return { active: active + successes, error };
  }

  /** Indexed Jobs: pods with a missing, out-of-range or repeated index go first (upstream activePodsForRemoval). */
  private activePodsForRemoval(job: RoJob, pods: readonly RoPod[], rmAtLeast: number): RoPod[] {
    const rm: RoPod[] = [];
    let left: RoPod[] = [...pods];
    if (isIndexed(job)) {
      const completions = job.spec?.completions ?? 0;
      const byIndex = new Map<number, RoPod[]>();
      left = [];
      for (const p of pods) {
        const ix = completionIndex(p);
        if (ix === undefined || ix >= completions) { rm.push(p); continue; }
        byIndex.set(ix, [...(byIndex.get(ix) ?? []), p]);
      }
      const now = this.now();
      for (const group of byIndex.values()) {
        // Keep the one that would be deleted last.
        const ordered = podsToDelete(group, group.length, now, []);
        rm.push(...ordered.slice(0, -1));
        left.push(ordered[ordered.length - 1]!);
      }
    }
    if (rm.length < rmAtLeast) rm.push(...podsToDelete(left, rmAtLeast - rm.length, this.now(), []));
    return rm;
  }

  /** The lowest indexes neither succeeded nor held by an active pod. */
  private firstPendingIndexes(ctx: SyncCtx, count: number, completions: number): number[] {
    const taken = new Set(ctx.succeededIndexes);
    for (const p of ctx.active) {
      const ix = completionIndex(p);
      if (ix !== undefined) taken.add(ix);
    }
    const out: number[] = [];
    for (let i = 0; i < completions && out.length < count; i++) if (!taken.has(i)) out.push(i);
    return out;
  }

  private async createPod(key: string, job: RoJob, index: number | undefined): Promise<void> {
    const t = job.spec?.template;
    const name = job.metadata?.name ?? '';
    const labels: Record<string, string> = { ...(t?.metadata?.labels ?? {}) };
    const annotations: Record<string, string> = { ...(t?.metadata?.annotations ?? {}) };
    const spec = clone(t?.spec ?? { containers: [] }) as NonNullable<Pod['spec']>;
    let generateName = `${name}-`;
    if (index !== undefined) {
      annotations[JOB_COMPLETION_INDEX_ANNOTATION] = String(index);
      labels[JOB_COMPLETION_INDEX_ANNOTATION] = String(index);
      spec.hostname = `${name}-${index}`;
      generateName = `${name}-${index}-`;
      for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
        if ((c.env ?? []).some((e) => e.name === JOB_COMPLETION_INDEX_ENV)) continue;
        (c.env ??= []).push({ name: JOB_COMPLETION_INDEX_ENV, valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${JOB_COMPLETION_INDEX_ANNOTATION}']` } } });
      }
    }
    const finalizers = [...new Set([...(t?.metadata?.finalizers ?? []), JOB_TRACKING_FINALIZER])];
    const pod: Pod = {
      apiVersion: 'v1', kind: 'Pod',
      metadata: {
        generateName, labels, finalizers, ownerReferences: [newControllerRef(job, JOB_GVK)],
        ...(Object.keys(annotations).length ? { annotations } : {}),
      },
      spec,
    };
    try {
      const created = await this.o.client.resource(Resources.pods).create(job.metadata?.namespace ?? '', pod);
      this.o.recorder.event(job, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata?.name ?? ''}`);
    } catch (e) {
      if (hasStatusCause(e, 'NamespaceTerminating')) {
        this.expectations.creationObserved(key);
        return;
      }
      this.o.recorder.event(job, 'Warning', 'FailedCreate', `Error creating: ${errorMessage(e)}`);
      throw e;
    }
  }

  // ---- status tracking ----

  /** Upstream trackJobStatusAndRemoveFinalizers + flushUncountedAndRemoveFinalizers + enactJobFinished. */
  private async trackStatusAndRemoveFinalizers(key: string, ctx: SyncCtx, needsFlushIn: boolean): Promise<void> {
    let needsFlush = needsFlushIn;
    let job = ctx.job;
    const indexed = isIndexed(job);
    const completions = job.spec?.completions ?? 0;
    const uncounted = (job.status!.uncountedTerminatedPods ??= {});
    const withFinalizer = new Set<string>();
    for (const p of ctx.pods) {
      const uid = p.metadata?.uid ?? '';
      if (hasTrackingFinalizer(p) && !ctx.expectedRm.has(uid)) withFinalizer.add(uid);
    }
    if (countUncountedWithoutFinalizers(job, withFinalizer)) needsFlush = true;
    const toRemove: RoPod[] = [];
    const newIndexes: number[] = [];
    let reachedMax = false;
    const prevIdx = new Set(ctx.prevSucceededIndexes);
    for (const pod of ctx.pods) {
      const uid = pod.metadata?.uid ?? '';
      if (!hasTrackingFinalizer(pod) || ctx.expectedRm.has(uid)) continue;
      const failed = isPodFailed(pod, job);
      const canRemove = !!job.metadata?.deletionTimestamp || ctx.finished !== undefined || pod.status?.phase === 'Succeeded' || failed;
      if (!canRemove) continue;
      toRemove.push(pod);
      const ix = completionIndex(pod);
      if (pod.status?.phase === 'Succeeded' && !ctx.uncountedFailed.has(uid)) {
        if (indexed) {
          if (ix !== undefined && ix < completions && !prevIdx.has(ix)) { newIndexes.push(ix); needsFlush = true; }
        } else if (!ctx.uncountedSucceeded.has(uid)) {
          (uncounted.succeeded ??= []).push(uid);
          needsFlush = true;
        }
      } else if (failed || (ctx.finished !== undefined && ctx.finished.type !== 'SuccessCriteriaMet')) {
        // Once the Job is finishing as failed, every unfinished pod counts as failed.
        if (!ctx.uncountedFailed.has(uid) && (!indexed || (ix !== undefined && ix < completions))) {
          (uncounted.failed ??= []).push(uid);
          needsFlush = true;
        }
      }
      if (newIndexes.length + (uncounted.succeeded?.length ?? 0) + (uncounted.failed?.length ?? 0) >= MAX_UNCOUNTED_PODS) {
        reachedMax = true;
        break;
      }
    }
    if (indexed) {
      const all = [...new Set([...ctx.succeededIndexes, ...newIndexes])].sort((a, b) => a - b);
      const str = formatIndexes(all);
      if (str !== (job.status!.completedIndexes ?? '')) needsFlush = true;
      job.status!.succeeded = all.length;
      job.status!.completedIndexes = str;
    }
    const now = this.now();
    if (ctx.finished?.type === 'FailureTarget') {
      (job.status!.conditions ??= []).push(ctx.finished);
      needsFlush = true;
      ctx.finished = newCondition('Failed', 'True', ctx.finished.reason ?? '', ctx.finished.message ?? '', now);
    }
    if (ctx.finished?.type === 'SuccessCriteriaMet') {
      if (findCondition(job, 'SuccessCriteriaMet')?.status !== 'True') {
        (job.status!.conditions ??= []).push(ctx.finished);
        needsFlush = true;
      }
      ctx.finished = newCondition('Complete', 'True', ctx.finished.reason ?? '', ctx.finished.message ?? '', now);
    }

    // 1. Record the newly finished uids before their finalizers go.
    if (needsFlush) {
      job = await this.writeStatus(job);
      this.backoffs.set(key, ctx.backoff);
      needsFlush = false;
    }
    // 2. Remove the finalizers.
    let rmError: unknown;
    if (toRemove.length) {
      const set = this.rmFinalizers.get(key) ?? new Set<string>();
      this.rmFinalizers.set(key, set);
      for (const p of toRemove) set.add(p.metadata?.uid ?? '');
      await Promise.all(toRemove.map(async (p) => {
        const uid = p.metadata?.uid ?? '';
        const patch = removeFinalizerPatch(p.metadata, JOB_TRACKING_FINALIZER);
        try {
          if (patch) await this.o.client.resource(Resources.pods).patch(p.metadata?.namespace ?? '', p.metadata?.name ?? '', patch, 'json');
          withFinalizer.delete(uid);
        } catch (e) {
          set.delete(uid);
          if (isApiError(e, 'NotFound')) withFinalizer.delete(uid);
          else rmError ??= e;
        }
      }));
    }
    // 3. Count the uids whose pods lost the finalizer.
    if (countUncountedWithoutFinalizers(job, withFinalizer)) needsFlush = true;
    if (rmError !== undefined) {
      if (needsFlush) await this.writeStatus(job);
      throw rmError;
    }
    // 4. The terminal condition, once nothing is uncounted or terminating.
    const finished = !reachedMax && this.enactFinished(job, ctx, now);
    if (finished) needsFlush = true;
    if (needsFlush) {
      job = await this.writeStatus(job);
      if (finished && ctx.finished) this.recordFinished(job, ctx.finished);
    }
  }

  private enactFinished(job: Job, ctx: SyncCtx, now: Date): boolean {
    const cond = ctx.finished;
    if (!cond) return false;
    const u = job.status?.uncountedTerminatedPods;
    if ((u?.succeeded?.length ?? 0) + (u?.failed?.length ?? 0) > 0) return false;
    if (ctx.terminating > 0) return false;
    const conds = (job.status!.conditions ??= []);
    ensureCondition(conds, cond.type, 'True', cond.reason ?? '', cond.message ?? '', now);
    if (cond.type === 'Complete') job.status!.completionTime = conds.find((c) => c.type === 'Complete')?.lastTransitionTime;
    return true;
  }

  private recordFinished(job: RoJob, cond: JobCondition): void {
    if (cond.type === 'Complete') {
      const completions = job.spec?.completions;
      if (completions !== undefined && (job.status?.succeeded ?? 0) > completions) {
        this.o.recorder.event(job, 'Warning', 'TooManySucceededPods', 'Too many succeeded pods running after completion count reached');
      }
      this.o.recorder.event(job, 'Normal', 'Completed', 'Job completed');
    } else {
      this.o.recorder.event(job, 'Warning', cond.reason ?? '', cond.message ?? '');
    }
  }

  /** PUT …/status; returns the stored Job (whose status the caller keeps editing). */
  private async writeStatus(job: Job): Promise<Job> {
    const u = job.status?.uncountedTerminatedPods;
    if (u && !u.succeeded?.length) delete u.succeeded;
    if (u && !u.failed?.length) delete u.failed;
    const stored = await this.o.client.resource(Resources.jobs).updateStatus(job);
    // Keep editing our copy of the status: the server may have dropped empty fields.
    return { ...stored, status: { ...job.status, ...stored.status, uncountedTerminatedPods: stored.status?.uncountedTerminatedPods ?? {} } };
  }
}

/**
 * Moves uids whose pods no longer carry the finalizer from uncountedTerminatedPods into
 * succeeded/failed (upstream cleanUncountedPodsWithoutFinalizers). `job` is owned by the caller.
 */
function countUncountedWithoutFinalizers(job: Job, withFinalizer: ReadonlySet<string>): boolean {
  const status = job.status!;
  const u = (status.uncountedTerminatedPods ??= {});
  let changed = false;
  const keepS = (u.succeeded ?? []).filter((uid) => withFinalizer.has(uid));
  if (keepS.length !== (u.succeeded?.length ?? 0)) {
    status.succeeded = (status.succeeded ?? 0) + (u.succeeded!.length - keepS.length);
    u.succeeded = keepS;
    changed = true;
  }
  const keepF = (u.failed ?? []).filter((uid) => withFinalizer.has(uid));
  if (keepF.length !== (u.failed?.length ?? 0)) {
    status.failed = (status.failed ?? 0) + (u.failed!.length - keepF.length);
    u.failed = keepF;
    changed = true;
  }
  return changed;
}

/** The unit the controller-manager runs. */
export const jobController: Controller = {
  name: 'job-controller',
  aliases: ['job'],
  async start(ctx) {
    const c = new JobController({
      client: ctx.client, informers: ctx.informers, logger: ctx.logger, recorder: ctx.recorder('job-controller'),
      queue: ctx.newQueue('job'), orphanQueue: ctx.newQueue('job_orphan_pod'), metrics: ctx.metrics, now: ctx.now,
    });
    if (!(await ctx.waitForCacheSync())) return;
    await c.run(ctx.signal);
  },
};

