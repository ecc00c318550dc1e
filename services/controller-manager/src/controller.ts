/**
 * What a controller is to the controller-manager: a small named unit that starts with a
 * context and runs until the context's signal aborts (upstream kube-controller-manager's
 * controller descriptors; controller-runtime's Runnable).
 *
 *   const unit: Controller = {
 *     name: 'replicaset-controller',
 *     async start(ctx) {
 *       const c = new ReplicaSetController({                          // requests informers, adds handlers
 *         client: ctx.client, informers: ctx.informers, logger: ctx.logger,
 *         recorder: ctx.recorder('replicaset-controller'), queue: ctx.newQueue('replicaset'),
 *       });
 *       if (!(await ctx.waitForCacheSync())) return;                  // starts them, waits for the first list
 *       await c.run(ctx.signal);                                      // workers until the signal aborts
 *     },
 *   };
 *
 * Contract: `start` requests its informers from `ctx.informers` before it calls
 * `ctx.waitForCacheSync()`, resolves once `ctx.signal` aborted and its workers stopped, and
 * never throws for a single failed reconcile (the work queue retries those).
 */
import type { Client, EventRecorder, InformerFactory, ReconcileResult as RunResult } from '@tskube/client';
import { WorkQueue, runController } from '@tskube/client';
import type { Logger } from '@tskube/log';
import type { ControllerManagerMetrics } from './metrics.js';
import type { HPASettings } from './podautoscaler/horizontal-controller.js';

/** Tunables every controller may read (from config.ts). */
export interface ControllerSettings {
  /** A node whose kubelet stopped renewing its Lease for this long turns Unknown (upstream 40 s). */
  nodeMonitorGracePeriodMs: number;
  /** The same for a node that never posted a Ready condition (upstream 60 s). */
  nodeStartupGracePeriodMs: number;
  /** The cluster CA (PEM) the root-ca-cert-publisher puts in every namespace; unset: it publishes nothing. */
  rootCA?: string;
  /** horizontal-pod-autoscaler tunables (upstream --horizontal-pod-autoscaler-*); unset ones take upstream's defaults. */
  hpa?: Partial<HPASettings>;
}

export interface ControllerContext {
  readonly client: Client;
  /** Shared by every controller: one list+watch and one cache per resource. */
  readonly informers: InformerFactory;
  /** Already carries `controller: <name>`. */
  readonly logger: Logger;
  /** Aborts when the controller-manager stops or loses leadership. */
  readonly signal: AbortSignal;
  readonly now: () => Date;
  readonly settings: ControllerSettings;
  readonly metrics: ControllerManagerMetrics;
  /** An event recorder reporting as `component` (e.g. "replicaset-controller"); flushed at stop. */
  recorder(component: string): EventRecorder;
  /** A work queue whose metrics are exported under `name`. */
  newQueue(name: string): WorkQueue<string>;
  /** Starts every informer requested so far; resolves true once all have synced (false if stopped first). */
  waitForCacheSync(): Promise<boolean>;
}

/** What every reconciling controller is built from (each adds its own tunables). */
export interface ControllerOptions {
  client: Client;
  informers: InformerFactory;
  logger: Logger;
  recorder: EventRecorder;
  /** Default: a queue of the controller's own. */
  queue?: WorkQueue<string>;
  metrics?: ControllerManagerMetrics;
  /** Clock for tests; default `new Date()`. */
  now?: () => Date;
}

export interface Controller {
  /** Upstream's controller name, e.g. "replicaset-controller"; used in TSKUBE_CONTROLLERS, logs and metrics. */
  readonly name: string;
  /** Other names TSKUBE_CONTROLLERS accepts (upstream's older short names, e.g. "replicaset"). */
  readonly aliases?: readonly string[];
  start(ctx: ControllerContext): Promise<void>;
}

export interface WorkerOptions {
  /** Names the controller in logs and reconcile metrics. */
  name: string;
  queue: WorkQueue<string>;
  reconcile: (key: string, signal: AbortSignal) => Promise<RunResult>;
  workers: number;
  logger: Logger;
  signal: AbortSignal;
  metrics?: ControllerManagerMetrics;
}

/**
 * `runController` with reconcile outcomes counted (success / error / requeue_after) and timed
 * (controller_runtime_reconcile_time_seconds).
 * Resolves once `signal` aborted and the workers finished the keys in hand.
 */
export function runWorkers(o: WorkerOptions): Promise<void> {
  return runController({
    name: o.name, queue: o.queue, workers: o.workers, logger: o.logger, signal: o.signal,
    reconcile: async (key, signal) => {
      const start = process.hrtime.bigint();
      const seconds = () => Number(process.hrtime.bigint() - start) / 1e9;
      try {
        const r = await o.reconcile(key, signal);
        o.metrics?.reconciled(o.name, r ? 'requeue_after' : 'success', seconds());
        return r;
      } catch (e) {
        o.metrics?.reconciled(o.name, 'error', seconds());
        throw e;
      }
    },
  });
}
