/**
 * The CronJob controller (upstream pkg/controller/cronjob, ControllerV2): creates a Job for
 * each scheduled time and keeps the CronJob's status and history.
 *
 * reconcile(namespace/name) — requeues itself for just after the next activation (no polling):
 *  1. Jobs whose controller reference names the CronJob are its children (upstream matches by
 *     name). Finished children leave status.active (event SawCompletedJob "Saw completed job:
 *     <name>, condition: <Complete|Failed>"), successful ones advance lastSuccessfulTime; an
 *     unfinished child missing from status.active (after a live re-read of the CronJob) gets
 *     an UnexpectedJob warning, as a Job made with `kubectl create job --from=cronjob/x` does;
 *     active entries whose Job is gone (live GET) are dropped (MissingJob).
 *  2. History: finished Jobs beyond successfulJobsHistoryLimit / failedJobsHistoryLimit are
 *     deleted oldest first by startTime (Background propagation; SuccessfulDelete "Deleted job
 *     <name>").
 *  3. Unless being deleted or suspended (or the time zone / schedule is bad: events
 *     UnknownTimeZone, UnparseableSchedule, InvalidSchedule): find the most recent unmet
 *     activation since lastScheduleTime (or creation), within startingDeadlineSeconds; more
 *     than 100 missed → TooManyMissedTimes warning (still starts the latest). Too late for it →
 *     MissSchedule "Missed scheduled time to start a job: <RFC1123Z>". Already started (name in
 *     active or equal lastScheduleTime) → nothing. Forbid with active Jobs → JobAlreadyActive.
 *     Replace → the active Jobs are deleted first. Then create Job `<cronjob>-<minutes since
 *     epoch>` from jobTemplate (labels, annotations, spec, controller reference, annotation
 *     batch.kubernetes.io/cronjob-scheduled-timestamp in the CronJob's zone); AlreadyExists
 *     counts as created when the Job is ours (a lost status update). Event SuccessfulCreate
 *     "Created job <name>"; status.active gains it and lastScheduleTime becomes the time.
 *  4. Status is written once (PUT /status) when anything changed.
 * Schedules with TZ=/CRON_TZ= get an UnsupportedSchedule warning and still run.
 */
import { isApiError, objectKey, splitKey, type CronJob, type Job, type ObjectReference } from '@tskube/api';
import {
  Resources, WorkQueue, clone, type DeepReadonly, type Informer, type ReconcileResult,
} from '@tskube/client';
import type { Logger } from '@tskube/log';
import { runWorkers, type Controller, type ControllerOptions } from '../controller.js';
import { hasStatusCause } from '../util/errors.js';
import { controllerOf, newControllerRef } from '../util/owners.js';
import { finishedCondition, isJobFinished } from '../job/util.js';
import {
  formatInZone, isTimeZone, jobName, mostRecentScheduleTime, nextScheduleDelay, parseSchedule, type Schedule,
} from './schedule.js';

type RoCronJob = DeepReadonly<CronJob>;
type RoJob = DeepReadonly<Job>;

export const SCHEDULED_TIMESTAMP_ANNOTATION = 'batch.kubernetes.io/cronjob-scheduled-timestamp';
const CRONJOB_GVK = { apiVersion: 'batch/v1', kind: 'CronJob' };

export interface CronJobControllerOptions extends ControllerOptions {
  /** Upstream --concurrent-cron-job-syncs: 5. */
  workers?: number;
}

/** Go's time.RFC1123Z in UTC: "Mon, 02 Jan 2006 15:04:05 +0000". */
export function rfc1123z(ms: number): string {
  const d = new Date(ms);
  const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][d.getUTCDay()]!;
  const mon = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getUTCMonth()]!;
  const p = (n: number) => String(n).padStart(2, '0');
  return `${day}, ${p(d.getUTCDate())} ${mon} ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

function rfc3339s(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** Jobs oldest first by status.startTime (no startTime last), then by name (upstream byJobStartTime). */
function byStartTime(a: RoJob, b: RoJob): number {
  const sa = a.status?.startTime;
  const sb = b.status?.startTime;
  if (!sa || !sb) return (sa ? 0 : 1) - (sb ? 0 : 1) || (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '');
  const d = Date.parse(sa) - Date.parse(sb);
  return d || (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '');
}

function jobRef(job: RoJob): ObjectReference {
  return {
    kind: 'Job', apiVersion: 'batch/v1', namespace: job.metadata?.namespace, name: job.metadata?.name,
    uid: job.metadata?.uid, resourceVersion: job.metadata?.resourceVersion,
  };
}

export class CronJobController {
  readonly queue: WorkQueue<string>;
  private readonly cjInformer: Informer<CronJob>;
  private readonly jobInformer: Informer<Job>;
  private readonly log: Logger;
  private readonly now: () => Date;

  constructor(private readonly o: CronJobControllerOptions) {
    this.log = o.logger;
    this.now = o.now ?? (() => new Date());
    this.queue = o.queue ?? new WorkQueue<string>({ name: 'cronjob' });
    this.cjInformer = o.informers.informer(Resources.cronJobs);
    this.jobInformer = o.informers.informer(Resources.jobs);
    this.cjInformer.addEventHandler({
      onAdd: (cj) => this.queue.add(objectKey(cj)),
      onUpdate: (old, cj) => this.cronJobUpdated(old, cj),
      onDelete: (cj) => this.queue.add(objectKey(cj)),
    });
    const jobChanged = (job: RoJob) => {
      const ref = controllerOf(job);
      if (!ref) return;
      const cj = this.resolve(job.metadata?.namespace ?? '', ref);
      if (cj) this.queue.add(objectKey(cj));
    };
    this.jobInformer.addEventHandler({
      onAdd: jobChanged,
      onUpdate: (old, job) => {
        if (old.metadata?.resourceVersion === job.metadata?.resourceVersion) return;
        if (JSON.stringify(controllerOf(old)) !== JSON.stringify(controllerOf(job))) jobChanged(old);
        jobChanged(job);
      },
      onDelete: jobChanged,
    });
  }

  run(signal: AbortSignal): Promise<void> {
    return runWorkers({
      name: 'cronjob-controller', queue: this.queue, workers: this.o.workers ?? 5, logger: this.log, signal,
      metrics: this.o.metrics, reconcile: (key) => this.reconcile(key),
    });
  }

  private resolve(namespace: string, ref: DeepReadonly<{ kind: string; name: string; uid: string }>): RoCronJob | undefined {
    if (ref.kind !== 'CronJob') return undefined;
    const cj = this.cjInformer.lister.getByName(namespace, ref.name);
    return cj && cj.metadata?.uid === ref.uid ? cj : undefined;
  }

  /** A new schedule or zone: look again at its next activation; any other change: now. */
  private cronJobUpdated(old: RoCronJob, cj: RoCronJob): void {
    const key = objectKey(cj);
    if (old.spec?.schedule === cj.spec?.schedule && old.spec?.timeZone === cj.spec?.timeZone) {
      this.queue.add(key);
      return;
    }
    let sched: Schedule;
    try {
      sched = parseSchedule(this.formatSchedule(cj, false), cj.spec?.timeZone);
    } catch {
      this.o.recorder.event(cj, 'Warning', 'UnParseableCronJobSchedule', `unparseable schedule for cronjob: ${cj.spec?.schedule ?? ''}`);
      return;
    }
    const delay = nextScheduleDelay(this.state(cj), this.now().getTime(), sched);
    if (delay !== undefined) this.queue.addAfter(key, Math.max(0, delay));
  }

  private state(cj: RoCronJob) {
    return {
      creationTimestamp: cj.metadata?.creationTimestamp, lastScheduleTime: cj.status?.lastScheduleTime,
      startingDeadlineSeconds: cj.spec?.startingDeadlineSeconds,
    };
  }

  /** The schedule as given; a TZ prefix earns a warning (upstream formatSchedule). */
  private formatSchedule(cj: RoCronJob, warn: boolean): string {
    const s = cj.spec?.schedule ?? '';
    if (s.includes('TZ') && warn) {
      this.o.recorder.event(cj, 'Warning', 'UnsupportedSchedule',
        `CRON_TZ or TZ used in schedule ${JSON.stringify(s)} is not officially supported, see https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more details`);
    }
    return s;
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const { namespace, name } = splitKey(key);
    const cached = this.cjInformer.lister.getByName(namespace, name);
    if (!cached) return;
    const jobs = this.jobInformer.lister.listNamespace(namespace).filter((j) => controllerOf(j)?.name === name);
    let cj = clone(cached) as CronJob;
    cj.status ??= {};
    const cleaned = await this.cleanupFinishedJobs(cj, jobs);
    let result: { requeueAfter?: number; update: boolean; cj: CronJob };
    let syncError: unknown;
    try {
      result = await this.syncCronJob(cj, jobs);
    } catch (e) {
      syncError = e;
      result = { update: false, cj };
    }
    cj = result.cj;
    if (cleaned || result.update) {
      if (cj.status?.active && !cj.status.active.length) delete cj.status.active;
      await this.o.client.resource(Resources.cronJobs).updateStatus(cj);
    }
    if (syncError !== undefined) throw syncError;
    if (result.requeueAfter !== undefined) return { requeueAfter: Math.max(1, result.requeueAfter) };
  }

  private async syncCronJob(cjIn: CronJob, jobs: readonly RoJob[]): Promise<{ requeueAfter?: number; update: boolean; cj: CronJob }> {
    let cj = cjIn;
    const now = this.now().getTime();
    let update = false;
    const jobClient = this.o.client.resource(Resources.jobs);
    const inActive = (c: CronJob, uid: string | undefined) => (c.status?.active ?? []).some((r) => r.uid === uid);
    const removeActive = (c: CronJob, uid: string | undefined) => {
      c.status!.active = (c.status?.active ?? []).filter((r) => r.uid !== uid);
    };
    const children = new Set<string>();
    for (const j of jobs) {
      children.add(j.metadata?.uid ?? '');
      const found = inActive(cj, j.metadata?.uid);
      const finished = isJobFinished(j);
      if (!found && !finished) {
        const fresh = await this.o.client.resource(Resources.cronJobs).get(cj.metadata?.namespace ?? '', cj.metadata?.name ?? '');
        if (inActive(fresh, j.metadata?.uid)) {
          cj = fresh;
          cj.status ??= {};
          continue;
        }
        this.o.recorder.event(cj, 'Warning', 'UnexpectedJob', `Saw a job that the controller did not create or forgot: ${j.metadata?.name ?? ''}`);
      } else if (finished) {
        if (found) {
          removeActive(cj, j.metadata?.uid);
          this.o.recorder.event(cj, 'Normal', 'SawCompletedJob', `Saw completed job: ${j.metadata?.name ?? ''}, condition: ${finishedCondition(j)?.type ?? ''}`);
          update = true;
        }
        const done = j.status?.completionTime;
        if (finishedCondition(j)?.type === 'Complete' && done) {
          const last = cj.status!.lastSuccessfulTime;
          if (!last || Date.parse(done) > Date.parse(last)) {
            cj.status!.lastSuccessfulTime = done;
            update = true;
          }
        }
      }
    }
    for (const ref of [...(cj.status?.active ?? [])]) {
      if (children.has(ref.uid ?? '')) continue;
      try {
        await jobClient.get(ref.namespace ?? '', ref.name ?? '');
      } catch (e) {
        if (!isApiError(e, 'NotFound')) throw e;
        this.o.recorder.event(cj, 'Normal', 'MissingJob', `Active job went missing: ${ref.name ?? ''}`);
        removeActive(cj, ref.uid);
        update = true;
      }
    }
    if (cj.metadata?.deletionTimestamp) return { update, cj };
    const tz = cj.spec?.timeZone;
    if (tz !== undefined && !isTimeZone(tz)) {
      this.o.recorder.event(cj, 'Warning', 'UnknownTimeZone', `invalid timeZone: ${JSON.stringify(tz)}: unknown time zone ${tz}`);
      return { update, cj };
    }
    if (cj.spec?.suspend) return { update, cj };
    let sched: Schedule;
    try {
      sched = parseSchedule(this.formatSchedule(cj, true), tz);
    } catch (e) {
      this.o.recorder.event(cj, 'Warning', 'UnparseableSchedule', `unparseable schedule: ${JSON.stringify(cj.spec?.schedule ?? '')} : ${(e as Error).message}`);
      return { update, cj };
    }
    let scheduled: number | undefined;
    try {
      const r = mostRecentScheduleTime(this.state(cj), now, sched, true);
      if (r.mostRecent !== undefined && r.mostRecent <= now) {
        scheduled = r.mostRecent;
        if (r.missed === 'many') {
          this.o.recorder.event(cj, 'Warning', 'TooManyMissedTimes', 'too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew');
          this.log.info('too many missed times', { cronjob: objectKey(cj) });
        }
      }
    } catch (e) {
      this.o.recorder.event(cj, 'Warning', 'InvalidSchedule', `invalid schedule: ${cj.spec?.schedule ?? ''} : ${(e as Error).message}`);
      return { update, cj };
    }
    const requeue = () => nextScheduleDelay(this.state(cj), now, sched);
    if (scheduled === undefined) return { update, cj, requeueAfter: requeue() };
    const deadline = cj.spec?.startingDeadlineSeconds;
    if (deadline !== undefined && scheduled + deadline * 1000 < now) {
      this.o.recorder.event(cj, 'Warning', 'MissSchedule', `Missed scheduled time to start a job: ${rfc1123z(scheduled)}`);
      return { update, cj, requeueAfter: requeue() };
    }
    const name = jobName(cj.metadata?.name ?? '', scheduled);
    const last = cj.status?.lastScheduleTime;
    if ((cj.status?.active ?? []).some((r) => r.name === name) || (last !== undefined && Date.parse(last) === scheduled)) {
      return { update, cj, requeueAfter: requeue() };
    }
    if (cj.spec?.concurrencyPolicy === 'Forbid' && (cj.status?.active?.length ?? 0) > 0) {
      this.o.recorder.event(cj, 'Normal', 'JobAlreadyActive', 'Not starting job because prior execution is running and concurrency policy is Forbid');
      return { update, cj, requeueAfter: requeue() };
    }
    if (cj.spec?.concurrencyPolicy === 'Replace') {
      for (const ref of [...(cj.status?.active ?? [])]) {
        let job: Job;
        try {
          job = await jobClient.get(ref.namespace ?? '', ref.name ?? '');
        } catch (e) {
          this.o.recorder.event(cj, 'Warning', 'FailedGet', `Get job: ${(e as Error).message}`);
          throw e;
        }
        if (!(await this.deleteJob(cj, job))) throw new Error(`could not replace job ${ref.namespace ?? ''}/${ref.name ?? ''}`);
        update = true;
      }
    }
    const req = this.jobFromTemplate(cj, scheduled);
    let created: Job;
    try {
      created = await jobClient.create(cj.metadata?.namespace ?? '', req);
      this.o.recorder.event(cj, 'Normal', 'SuccessfulCreate', `Created job ${created.metadata?.name ?? ''}`);
    } catch (e) {
      if (hasStatusCause(e, 'NamespaceTerminating')) throw e;
      if (!isApiError(e, 'AlreadyExists')) {
        this.o.recorder.event(cj, 'Warning', 'FailedCreate', `Error creating job: ${(e as Error).message}`);
        throw e;
      }
      // Created before, but the status update was lost (or someone else made it).
      const existing = await jobClient.get(cj.metadata?.namespace ?? '', name);
      if (controllerOf(existing)?.uid !== cj.metadata?.uid || inActive(cj, existing.metadata?.uid)) return { update, cj };
      this.log.info('job already exists', { cronjob: objectKey(cj), job: name });
      created = existing;
    }
    (cj.status!.active ??= []).push(jobRef(created));
    cj.status!.lastScheduleTime = rfc3339s(scheduled);
    return { update: true, cj, requeueAfter: requeue() };
  }

  /** Upstream getJobFromTemplate2. */
  private jobFromTemplate(cj: CronJob, scheduled: number): Job {
    const t = cj.spec?.jobTemplate;
    return {
      apiVersion: 'batch/v1', kind: 'Job',
      metadata: {
        name: jobName(cj.metadata?.name ?? '', scheduled),
        ...(t?.metadata?.labels ? { labels: clone(t.metadata.labels) } : {}),
        annotations: { ...(t?.metadata?.annotations ?? {}), [SCHEDULED_TIMESTAMP_ANNOTATION]: formatInZone(scheduled, cj.spec?.timeZone) },
        ownerReferences: [newControllerRef(cj, CRONJOB_GVK)],
      },
      spec: clone(t?.spec ?? { template: { spec: { containers: [] } } }),
    };
  }

  /** Deletes finished Jobs beyond the history limits, oldest first. Returns whether the status changed. */
  private async cleanupFinishedJobs(cj: CronJob, jobs: readonly RoJob[]): Promise<boolean> {
    const succ = cj.spec?.successfulJobsHistoryLimit;
    const fail = cj.spec?.failedJobsHistoryLimit;
    if (succ === undefined && fail === undefined) return false;
    const ok = jobs.filter((j) => finishedCondition(j)?.type === 'Complete');
    const failed = jobs.filter((j) => finishedCondition(j)?.type === 'Failed');
    let update = false;
    for (const [list, limit] of [[ok, succ], [failed, fail]] as const) {
      if (limit === undefined || list.length <= limit) continue;
      const victims = [...list].sort(byStartTime).slice(0, list.length - limit);
      for (const j of victims) if (await this.deleteJob(cj, j)) update = true;
    }
    return update;
  }

  /** Deletes a Job (Background) and drops it from status.active; false (and FailedDelete) on error. */
  private async deleteJob(cj: CronJob, job: RoJob): Promise<boolean> {
    try {
      await this.o.client.resource(Resources.jobs).delete(job.metadata?.namespace ?? '', job.metadata?.name ?? '', { propagationPolicy: 'Background' });
    } catch (e) {
      if (!isApiError(e, 'NotFound')) {
        this.o.recorder.event(cj, 'Warning', 'FailedDelete', `Deleted job: ${(e as Error).message}`);
        this.log.error('error deleting job from cronjob', { job: objectKey(job), cronjob: objectKey(cj), err: e });
        return false;
      }
    }
    cj.status!.active = (cj.status?.active ?? []).filter((r) => r.uid !== job.metadata?.uid);
    this.o.recorder.event(cj, 'Normal', 'SuccessfulDelete', `Deleted job ${job.metadata?.name ?? ''}`);
    return true;
  }
}

export const cronJobController: Controller = {
  name: 'cronjob-controller',
  aliases: ['cronjob'],
  async start(ctx) {
    const c = new CronJobController({
      client: ctx.client, informers: ctx.informers, logger: ctx.logger, recorder: ctx.recorder('cronjob-controller'),
      queue: ctx.newQueue('cronjob'), metrics: ctx.metrics, now: ctx.now,
    });
    if (!(await ctx.waitForCacheSync())) return;
    await c.run(ctx.signal);
  },
};
