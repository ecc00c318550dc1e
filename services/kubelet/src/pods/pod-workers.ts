/**
 * One serial worker per pod UID (upstream pod_workers.go): updates from the informer, the
 * PLEG and timers never run a pod's steps concurrently, and the latest update wins: while a
 * step runs, further updates only replace the pod the next step sees and mark the worker
 * dirty; the step then runs once more.
 *
 * Lifecycle per UID: sync → terminating → terminated → done.
 * - sync: `syncPod` until it reports the pod terminal, or until termination is requested
 *   (deletionTimestamp, gone from the API, a terminal phase already in the API, or
 *   `terminate()` on node shutdown).
 * - terminating: `syncTerminatingPod` once, with the grace period: the pod's
 *   deletionGracePeriodSeconds, else spec.terminationGracePeriodSeconds (else 30), at least 1,
 *   or the override given to `terminate()`.
 * - terminated: `syncTerminatedPod` on every update until it says done (the pod was deleted
 *   and cleaned up); then the worker is dropped. A completed pod stays here, idle.
 * A failed step is logged once here (where it is handled) and retried after
 * `errorBackoffMs` with jitter; the worker stays in its state.
 */
import type { Pod } from '@tskube/api';
import { jsonEqual } from '@tskube/api';
import type { DeepReadonly } from '@tskube/client';
import type { Logger } from '@tskube/log';
import { errorMessage, podRef } from '../format.js';
import type { SyncResult, TerminatedOptions, TerminatingOptions } from './sync.js';

type ReadonlyPod = DeepReadonly<Pod>;

export interface PodWorkerHandler {
  syncPod(pod: ReadonlyPod): Promise<SyncResult>;
  syncTerminatingPod(pod: ReadonlyPod, opts: TerminatingOptions): Promise<void>;
  syncTerminatedPod(pod: ReadonlyPod, opts: TerminatedOptions): Promise<boolean>;
}

export type WorkerState = 'sync' | 'terminating' | 'terminated' | 'done';
export type SyncOperation = 'create' | 'update' | 'sync';

export interface PodWorkersOptions {
  handler: PodWorkerHandler;
  logger: Logger;
  /** Sync a healthy pod again after this long even without events (upstream syncFrequency 1 min). */
  resyncMs: number;
  /** Retry a failed step after this long (× 1–1.5 jitter; upstream 10 s). */
  errorBackoffMs: number;
  /** Duration of every step, by operation. */
  onStep?: (operation: SyncOperation, seconds: number) => void;
}

export interface TerminateRequest {
  /** Upper bound: a pod whose own grace period is shorter gets that. */
  gracePeriodSeconds: number;
  reason?: TerminatingOptions['reason'];
  /** Remove the containers once stopped (node shutdown). */
  removeContainers?: boolean;
  /** Refused at admission before anything ran: the final status is upstream rejectPod's (see TerminatingOptions). */
  rejected?: boolean;
}

interface Worker {
  uid: string;
  pod: ReadonlyPod;
  deleted: boolean;
  state: WorkerState;
  dirty: boolean;
  running: boolean;
  timer: NodeJS.Timeout | undefined;
  /** The pod object changed since the last step. */
  updated: boolean;
  synced: boolean;
  request?: TerminateRequest;
  stateWaiters: Array<() => void>;
}

function isTerminalPhase(p: string | undefined): boolean {
  return p === 'Succeeded' || p === 'Failed';
}

/**
 * Whether a pod update matters to the pod worker (upstream config.go podsDifferSemantically):
 * spec, labels, annotations, UID or deletion fields changed.
 */
export function podsDifferSemantically(a: ReadonlyPod, b: ReadonlyPod): boolean {
  const am = a.metadata;
  const bm = b.metadata;
  return am?.uid !== bm?.uid
    || am?.deletionTimestamp !== bm?.deletionTimestamp
    || am?.deletionGracePeriodSeconds !== bm?.deletionGracePeriodSeconds
    || !jsonEqual(am?.labels ?? {}, bm?.labels ?? {})
    || !jsonEqual(am?.annotations ?? {}, bm?.annotations ?? {})
    || !jsonEqual(a.spec, b.spec);
}

/** The grace period a terminating pod gets (upstream calculateEffectiveGracePeriod). */
export function effectiveGracePeriod(pod: ReadonlyPod): number {
  let grace = pod.metadata?.deletionGracePeriodSeconds ?? 0;
  if (grace === 0) grace = pod.spec?.terminationGracePeriodSeconds ?? 30;
  return Math.max(1, grace);
}

export class PodWorkers {
  private readonly workers = new Map<string, Worker>();
  private readonly log: Logger;
  private stopped = false;

  constructor(private readonly o: PodWorkersOptions) {
    this.log = o.logger.child({ subsystem: 'pod-workers' });
  }

  /**
   * Delivers the latest state of a pod (or its last state once deleted from the API). A
   * change only to what the kubelet does not act on (status, resourceVersion; see
   * {@link podsDifferSemantically}) is stored for the next step but does not trigger one,
   * as upstream's pod config does not pass such updates on: the kubelet is the source of
   * the status, and its own status writes would otherwise re-sync the pod at once.
   * `terminate` (a pod the kubelet refuses to run: admission) goes straight to termination
   * with that request, before any sync step.
   */
  update(pod: ReadonlyPod, opts: { deleted?: boolean; terminate?: TerminateRequest } = {}): void {
    if (this.stopped) return;
    const uid = pod.metadata?.uid;
    if (!uid) return;
    let w = this.workers.get(uid);
    if (!w) {
      w = {
        uid, pod, deleted: false, state: 'sync', dirty: false, running: false, timer: undefined,
        updated: false, synced: false, stateWaiters: [],
      };
      this.workers.set(uid, w);
      if (opts.terminate) w.request = opts.terminate;
    } else if (!opts.deleted && !w.deleted && !podsDifferSemantically(w.pod, pod)) {
      w.pod = pod;
      return;
    } else if (w.pod !== pod) {
      w.updated = true;
    }
    w.pod = pod;
    if (opts.deleted) w.deleted = true;
    this.kick(w);
  }

  /** Runs the pod's worker again soon (PLEG saw its containers change). */
  wake(uid: string): void {
    const w = this.workers.get(uid);
    if (w) this.kick(w);
  }

  /** Asks a pod to terminate although nobody deleted it (node shutdown). */
  terminate(uid: string, req: TerminateRequest): void {
    const w = this.workers.get(uid);
    if (!w) return;
    w.request = req;
    this.kick(w);
  }

  has(uid: string): boolean {
    return this.workers.has(uid);
  }

  uids(): string[] {
    return [...this.workers.keys()];
  }

  /**
   * The pods still running their sync step with no termination asked for (not deleted, not
   * being deleted, not terminal in the API): the eviction manager's candidates (upstream
   * activePods).
   */
  activePods(): ReadonlyPod[] {
    const out: ReadonlyPod[] = [];
    for (const w of this.workers.values()) {
      if (w.state !== 'sync' || w.deleted || w.request || w.pod.metadata?.deletionTimestamp || isTerminalPhase(w.pod.status?.phase)) continue;
      out.push(w.pod);
    }
    return out;
  }

  state(uid: string): WorkerState | undefined {
    return this.workers.get(uid)?.state;
  }

  /**
   * Resolves true once every given worker has finished a terminated step (or is gone), false
   * if `timeoutMs` passes first.
   */
  async waitTerminated(uids: readonly string[], timeoutMs: number): Promise<boolean> {
    const waits = uids.map((uid) => new Promise<void>((resolve) => {
      const w = this.workers.get(uid);
      if (!w || w.state === 'done') { resolve(); return; }
      w.stateWaiters.push(resolve);
    }));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), timeoutMs); });
    const ok = await Promise.race([Promise.all(waits).then(() => true), timeout]);
    clearTimeout(timer);
    return ok;
  }

  /** Stops scheduling steps; resolves when running steps have finished (or after `graceMs`). */
  async stop(graceMs = 5000): Promise<void> {
    this.stopped = true;
    for (const w of this.workers.values()) clearTimeout(w.timer);
    const deadline = Date.now() + graceMs;
    while ([...this.workers.values()].some((w) => w.running) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  private kick(w: Worker): void {
    if (this.stopped) return;
    clearTimeout(w.timer);
    w.timer = undefined;
    w.dirty = true;
    if (!w.running) void this.run(w);
  }

  private setState(w: Worker, state: WorkerState): void {
    w.state = state;
    if (state === 'done') this.notify(w);
  }

  private notify(w: Worker): void {
    for (const f of w.stateWaiters.splice(0)) f();
  }

  private async run(w: Worker): Promise<void> {
    w.running = true;
    try {
      while (w.dirty && !this.stopped) {
        w.dirty = false;
        let requeue: number | undefined;
        const operation: SyncOperation = !w.synced ? 'create' : w.updated ? 'update' : 'sync';
        w.updated = false;
        const started = process.hrtime.bigint();
        try {
          requeue = await this.step(w);
          w.synced = true;
        } catch (err) {
          this.log.warn('pod sync failed', { pod: podRef(w.pod.metadata), uid: w.uid, state: w.state, err: errorMessage(err) });
          requeue = this.o.errorBackoffMs * (1 + Math.random() * 0.5);
        } finally {
          this.o.onStep?.(operation, Number(process.hrtime.bigint() - started) / 1e9);
        }
        if (w.state === 'done') {
          this.workers.delete(w.uid);
          return;
        }
        if (requeue !== undefined && !w.dirty && !this.stopped) {
          w.timer = setTimeout(() => this.wake(w.uid), requeue);
          w.timer.unref?.();
        }
      }
    } finally {
      w.running = false;
    }
  }

  /** One step of the lifecycle; returns when to run again without an event (undefined: only on events). */
  private async step(w: Worker): Promise<number | undefined> {
    const pod = w.pod;
    if (w.state === 'sync') {
      const requested = w.deleted || Boolean(pod.metadata?.deletionTimestamp) || isTerminalPhase(pod.status?.phase) || w.request !== undefined;
      if (!requested) {
        const r = await this.o.handler.syncPod(pod);
        if (!r.terminal && w.request === undefined && !w.deleted) return r.requeueAfterMs ?? this.o.resyncMs;
      }
      this.setState(w, 'terminating');
    }
    if (w.state === 'terminating') {
      await this.o.handler.syncTerminatingPod(pod, {
        deleted: w.deleted,
        gracePeriodSeconds: w.request ? Math.min(w.request.gracePeriodSeconds, effectiveGracePeriod(pod)) : effectiveGracePeriod(pod),
        ...(w.request ? { reason: w.request.reason, exactGrace: true, ...(w.request.rejected ? { rejected: true } : {}) } : {}),
      });
      this.setState(w, 'terminated');
    }
    if (w.state === 'terminated') {
      const done = await this.o.handler.syncTerminatedPod(pod, { deleted: w.deleted, removeContainers: w.request?.removeContainers ?? false });
      if (done) this.setState(w, 'done');
      else this.notify(w);
    }
    return undefined;
  }
}
