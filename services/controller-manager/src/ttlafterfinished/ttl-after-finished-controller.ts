/**
 * The TTL-after-finished controller (upstream pkg/controller/ttlafterfinished): deletes a
 * finished Job `spec.ttlSecondsAfterFinished` seconds after it finished (the
 * lastTransitionTime of its Complete/Failed condition).
 *
 * reconcile(namespace/name): a Job that is gone, being deleted, unfinished or without a TTL
 * is left alone; one whose TTL has not expired is looked at again when it will have. When it
 * has, a live GET re-checks the TTL (it may have changed), then DELETE with
 * propagationPolicy Foreground and a uid precondition, as upstream does (the garbage
 * collector removes the pods first, then the Job). A TTL-change update re-enqueues the Job.
 */
import { isApiError, objectKey, splitKey, type Job } from '@tskube/api';
import {
  Resources, WorkQueue, type Client, type DeepReadonly, type Informer, type InformerFactory, type ReconcileResult,
} from '@tskube/client';
import type { Logger } from '@tskube/log';
import { runWorkers, type Controller } from '../controller.js';
import type { ControllerManagerMetrics } from '../metrics.js';
import { finishedCondition } from '../job/util.js';

type RoJob = DeepReadonly<Job>;

export interface TtlAfterFinishedOptions {
  client: Client;
  informers: InformerFactory;
  logger: Logger;
  queue?: WorkQueue<string>;
  metrics?: ControllerManagerMetrics;
  now?: () => Date;
  /** Upstream --concurrent-ttl-after-finished-syncs: 5. */
  workers?: number;
}

/** Milliseconds until `job` expires (≤ 0: expired), or undefined when it needs no clean-up. */
export function ttlRemainingMs(job: RoJob, now: Date): number | undefined {
  const ttl = job.spec?.ttlSecondsAfterFinished;
  if (ttl === undefined || job.metadata?.deletionTimestamp) return undefined;
  const cond = finishedCondition(job);
  if (!cond) return undefined;
  const finishedAt = cond.lastTransitionTime ? Date.parse(cond.lastTransitionTime) : NaN;
  if (Number.isNaN(finishedAt)) throw new Error(`unable to find the time when the Job ${objectKey(job)} finished`);
  return finishedAt + ttl * 1000 - now.getTime();
}

export class TtlAfterFinishedController {
  readonly queue: WorkQueue<string>;
  private readonly jobInformer: Informer<Job>;
  private readonly now: () => Date;

  constructor(private readonly o: TtlAfterFinishedOptions) {
    this.now = o.now ?? (() => new Date());
    this.queue = o.queue ?? new WorkQueue<string>({ name: 'ttl_jobs_to_delete' });
    this.jobInformer = o.informers.informer(Resources.jobs);
    const enqueue = (job: RoJob) => {
      if (!job.metadata?.deletionTimestamp && job.spec?.ttlSecondsAfterFinished !== undefined && finishedCondition(job)) {
        this.queue.add(objectKey(job));
      }
    };
    this.jobInformer.addEventHandler({ onAdd: enqueue, onUpdate: (_old, job) => enqueue(job) });
  }

  run(signal: AbortSignal): Promise<void> {
    return runWorkers({
      name: 'ttl-after-finished-controller', queue: this.queue, workers: this.o.workers ?? 5, logger: this.o.logger, signal,
      metrics: this.o.metrics, reconcile: (key) => this.reconcile(key),
    });
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const { namespace, name } = splitKey(key);
    const job = this.jobInformer.lister.getByName(namespace, name);
    if (!job) return;
    const left = ttlRemainingMs(job, this.now());
    if (left === undefined) return;
    if (left > 0) return { requeueAfter: left };
    const jobs = this.o.client.resource(Resources.jobs);
    let fresh: Job;
    try {
      fresh = await jobs.get(namespace, name);
    } catch (e) {
      if (isApiError(e, 'NotFound')) return;
      throw e;
    }
    const freshLeft = ttlRemainingMs(fresh, this.now());
    if (freshLeft === undefined) return;
    if (freshLeft > 0) return { requeueAfter: freshLeft };
    this.o.logger.info('cleaning up job', { job: key });
    try {
      await jobs.delete(namespace, name, { propagationPolicy: 'Foreground', preconditions: { uid: fresh.metadata?.uid } });
    } catch (e) {
      if (!isApiError(e, 'NotFound')) throw e;
    }
  }
}

export const ttlAfterFinishedController: Controller = {
  name: 'ttl-after-finished-controller',
  aliases: ['ttl-after-finished'],
  async start(ctx) {
    const c = new TtlAfterFinishedController({
      client: ctx.client, informers: ctx.informers, logger: ctx.logger, queue: ctx.newQueue('ttl_jobs_to_delete'),
      metrics: ctx.metrics, now: ctx.now,
    });
    if (!(await ctx.waitForCacheSync())) return;
    await c.run(ctx.signal);
  },
};
