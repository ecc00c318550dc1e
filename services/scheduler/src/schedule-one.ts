/**
 * The scheduling loop (upstream schedule_one.go): one pod at a time,
 *
 *   pop → snapshot → schedulePod (filter, score, select) → assume → reserve → [async] bind
 *
 * The decision part is synchronous, so no informer event can slip in between taking the
 * snapshot and assuming the pod; binding runs in the background while the next pod is decided
 * (the assumed pod already counts on its node).
 *
 * Failure handling (upstream handleSchedulingFailure):
 * - no node fits: the pod goes back to the queue (unschedulable set, or backoff), a
 *   `FailedScheduling` Warning event carries the FitError message, and the pod's PodScheduled
 *   condition becomes False/Unschedulable with the same message (written only when it changed);
 * - internal errors: the same, with reason SchedulerError and backoff;
 * - binding conflict (409, already bound) or pod gone (404): dropped silently, the informer
 *   brings the truth;
 * - a pod deleted, bound or being deleted meanwhile is not requeued and gets no event.
 */
import { isApiError, rfc3339, type PodCondition } from '@tskube/api';
import { Resources, type Client, type EventRecorder } from '@tskube/client';
import type { Logger } from '@tskube/log';
import type { SchedulerCache, Snapshot } from './cache/cache.js';
import { CycleState } from './framework/interface.js';
import type { Framework } from './framework/framework.js';
import type { PodScheduler } from './framework/schedule-pod.js';
import { Code, Status } from './framework/status.js';
import { podRef, type ReadonlyPod } from './framework/types.js';
import type { AttemptResult, SchedulerMetrics } from './metrics.js';
import type { QueuedPodInfo, SchedulingQueue } from './queue/scheduling-queue.js';
import type { AttemptRecord, DebugStore } from './debug.js';

/** Upstream's event message limit (noteLengthLimit) and truncation suffix. */
const MESSAGE_SIZE_LIMIT = 1024;

export function truncateMessage(message: string): string {
  if (message.length <= MESSAGE_SIZE_LIMIT) return message;
  const suffix = ' ...';
  return message.slice(0, MESSAGE_SIZE_LIMIT - suffix.length) + suffix;
}

export interface SchedulerLoopDeps {
  framework: Framework;
  podScheduler: PodScheduler;
  queue: SchedulingQueue;
  cache: SchedulerCache;
  client: Client;
  recorder: EventRecorder;
  /** The informer's current version of a pod (read-only), or undefined when it is gone. */
  getPod(namespace: string, name: string): ReadonlyPod | undefined;
  metrics: SchedulerMetrics;
  logger: Logger;
  now?: () => number;
  /** Where each attempt's per-node verdicts and scores are kept for the debug endpoint. */
  debug?: DebugStore;
}

export class SchedulerLoop {
  private readonly snapshot: Snapshot;
  private readonly bindings = new Set<Promise<void>>();
  private readonly statusWrites = new Map<string, Promise<void>>();
  private readonly now: () => number;
  private readonly log: Logger;

  constructor(private readonly d: SchedulerLoopDeps, snapshot: Snapshot) {
    this.snapshot = snapshot;
    this.now = d.now ?? Date.now;
    this.log = d.logger;
  }

  /** Schedules until `signal` aborts; then waits for bindings and status writes in progress. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const p = await this.d.queue.pop(signal);
      if (!p) break;
      this.scheduleOne(p, signal);
      // Let informer events in between two decisions.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    await this.drain();
  }

  /** Resolves when the bindings, status writes and plugin background work (preemption) started so far have finished. */
  async drain(): Promise<void> {
    for (;;) {
      await this.d.framework.drain();
      if (this.bindings.size === 0 && this.statusWrites.size === 0) break;
      await Promise.allSettled([...this.bindings, ...this.statusWrites.values()]);
    }
  }

  private record(pod: ReadonlyPod, start: number, nodes: readonly { name: string }[], r: Omit<AttemptRecord, 'namespace' | 'name' | 'uid' | 'time' | 'nodes'>): void {
    if (!this.d.debug) return;
    this.d.debug.record({
      namespace: pod.metadata?.namespace ?? '', name: pod.metadata?.name ?? '', uid: pod.metadata?.uid ?? '', time: start,
      nodes: nodes.map((n) => n.name), ...r,
    });
  }

  /**
   * One scheduling attempt. Synchronous up to the assumption; the binding (and any status
   * write) continues in the background and is awaited by `drain()`.
   */
  scheduleOne(pInfo: QueuedPodInfo, signal?: AbortSignal): void {
    const { framework: fwk, cache, queue } = this.d;
    const pod = pInfo.pod;
    const cycle = queue.schedulingCycle;
    if (pod.metadata?.deletionTimestamp || cache.isAssumed(pod)) {
      this.log.debug('skip scheduling pod', { pod: podRef(pod), reason: pod.metadata?.deletionTimestamp ? 'being deleted' : 'assumed' });
      queue.done(pInfo.key);
      return;
    }
    const start = this.now();
    const state = new CycleState();
    cache.updateSnapshot(this.snapshot);
    const nodes = this.snapshot.nodes;
    const r = this.d.podScheduler.schedulePod(fwk, state, pod, nodes);
    if (r.kind === 'error') {
      this.record(pod, start, nodes, { result: 'error', message: r.status.message });
      this.handleFailure(pInfo, r.status, cycle, start);
      return;
    }
    if (r.kind === 'unschedulable') {
      const diag = r.fitError.diagnosis;
      let nominatedNodeName: string | undefined;
      if (fwk.hasPostFilterPlugins()) {
        const pf = fwk.runPostFilterPlugins(state, pod, diag.nodeToStatus, nodes);
        diag.postFilterMsg = pf.status.message;
        nominatedNodeName = pf.nominatedNodeName;
        if (pf.status.code === Code.Error) this.log.error('post filter failed', { pod: podRef(pod), err: pf.status.message });
      }
      pInfo.unschedulablePlugins = new Set(diag.unschedulablePlugins);
      const message = r.fitError.message();
      this.record(pod, start, nodes, { result: 'unschedulable', message, diagnosis: diag, ...(nominatedNodeName !== undefined ? { nominatedNodeName } : {}) });
      this.handleFailure(pInfo, Status.unschedulable(message), cycle, start, nominatedNodeName);
      return;
    }
    this.record(pod, start, nodes, {
      result: 'scheduled', nodeName: r.nodeName, diagnosis: r.diagnosis, scores: r.scores, ...(r.scores.length === 0 ? { feasible: [r.nodeName] } : {}),
    });
    const assumed: ReadonlyPod = { ...pod, spec: { ...pod.spec!, nodeName: r.nodeName } };
    try {
      cache.assume(assumed);
    } catch (e) {
      this.handleFailure(pInfo, Status.fromError(e), cycle, start);
      return;
    }
    // A nominated pod that is now placed no longer holds room on its nominated node.
    queue.nominator.delete(assumed);
    const reserve = fwk.runReservePluginsReserve(state, assumed, r.nodeName);
    if (!reserve.isSuccess()) {
      fwk.runReservePluginsUnreserve(state, assumed, r.nodeName);
      cache.forget(assumed);
      if (reserve.isRejected()) pInfo.unschedulablePlugins = new Set([reserve.plugin]);
      this.handleFailure(pInfo, reserve, cycle, start);
      return;
    }
    const binding = this.bind(state, pInfo, assumed, r.nodeName, cycle, start, { evaluated: r.evaluatedNodes, feasible: r.feasibleNodes }, signal)
      .finally(() => this.bindings.delete(binding));
    this.bindings.add(binding);
  }

  private async bind(
    state: CycleState, pInfo: QueuedPodInfo, assumed: ReadonlyPod, nodeName: string, cycle: number, start: number,
    counts: { evaluated: number; feasible: number }, signal?: AbortSignal,
  ): Promise<void> {
    const { framework: fwk, cache, queue } = this.d;
    const s = await fwk.runBindPlugins(state, assumed, nodeName, signal);
    if (s.isSuccess()) {
      cache.finishBinding(assumed);
      queue.done(pInfo.key);
      this.observe('scheduled', start);
      const ref = podRef(assumed);
      this.d.recorder.event(assumed, 'Normal', 'Scheduled', `Successfully assigned ${ref} to ${nodeName}`);
      this.log.debug('pod bound', { pod: ref, node: nodeName, evaluatedNodes: counts.evaluated, feasibleNodes: counts.feasible, attempts: pInfo.attempts });
      return;
    }
    fwk.runReservePluginsUnreserve(state, assumed, nodeName);
    cache.forget(assumed);
    if (signal?.aborted) {
      queue.done(pInfo.key);
      return;
    }
    if (isApiError(s.error, 'Conflict') || isApiError(s.error, 'NotFound')) {
      // Already bound (by an earlier attempt or someone else) or gone: the informer will tell.
      queue.done(pInfo.key);
      this.observe('error', start);
      this.log.debug('binding dropped', { pod: podRef(assumed), node: nodeName, reason: isApiError(s.error, 'Conflict') ? 'Conflict' : 'NotFound' });
      return;
    }
    const err = s.isSkip() ? new Error('no bind plugin bound the pod') : new Error(`running Bind plugin "${s.plugin}": ${s.message}`);
    this.handleFailure(pInfo, Status.fromError(err), cycle, start);
  }

  private observe(result: AttemptResult, start: number): void {
    this.d.metrics.attempt(result, this.d.framework.profileName, Math.max(0, this.now() - start) / 1000);
  }

  /**
   * See the module doc. Never throws; the status write runs in the background.
   * `nominatedNodeName` (from preemption): a node to nominate the pod to, '' to clear its
   * nomination, undefined to leave it.
   */
  private handleFailure(pInfo: QueuedPodInfo, status: Status, cycle: number, start: number, nominatedNodeName?: string): void {
    const rejected = status.isRejected();
    this.observe(rejected ? 'unschedulable' : 'error', start);
    const pod = pInfo.pod;
    const ref = podRef(pod);
    const msg = status.message;
    if (rejected) this.log.info('pod unschedulable', { pod: ref, reason: msg, attempts: pInfo.attempts });
    else this.log.error('scheduling attempt failed', { pod: ref, err: msg, attempts: pInfo.attempts });

    const current = this.d.getPod(pod.metadata?.namespace ?? '', pod.metadata?.name ?? '');
    if (!current || current.spec?.nodeName || current.metadata?.deletionTimestamp) {
      this.d.queue.done(pInfo.key);
      this.log.debug('pod no longer pending, not requeued', { pod: ref, node: current?.spec?.nodeName });
      return;
    }
    pInfo.pod = current;
    const where = this.d.queue.addUnschedulableIfNotPresent(pInfo, cycle);
    if (where === 'dropped') return;
    // A pod recreated under the same name is requeued, but this failure is not its story.
    if (pod.metadata?.uid && current.metadata?.uid !== pod.metadata.uid) return;
    if (nominatedNodeName !== undefined) this.d.queue.nominator.add(current, nominatedNodeName);
    this.d.recorder.event(current, 'Warning', 'FailedScheduling', truncateMessage(msg));
    this.writeCondition(current, {
      type: 'PodScheduled', status: 'False', reason: rejected ? 'Unschedulable' : 'SchedulerError', message: msg,
    }, nominatedNodeName);
  }

  /**
   * Sets the pod's PodScheduled condition through pods/status (strategic merge on
   * `conditions`, keyed by type), unless it already says exactly that. Writes for one pod are
   * serialised; failures are logged once here.
   */
  private writeCondition(pod: ReadonlyPod, cond: Pick<PodCondition, 'type' | 'status' | 'reason' | 'message'>, nominatedNodeName?: string): void {
    const existing = pod.status?.conditions?.find((c) => c.type === cond.type);
    const nominationChanges = nominatedNodeName !== undefined && nominatedNodeName !== (pod.status?.nominatedNodeName ?? '');
    if (!nominationChanges && existing && existing.status === cond.status && existing.reason === cond.reason && existing.message === cond.message) return;
    const lastTransitionTime = existing && existing.status === cond.status && existing.lastTransitionTime ? existing.lastTransitionTime : rfc3339(new Date(this.now()));
    const ns = pod.metadata?.namespace ?? '';
    const name = pod.metadata?.name ?? '';
    const key = `${ns}/${name}`;
    const patch = {
      status: {
        conditions: [{ ...cond, lastProbeTime: null, lastTransitionTime }],
        ...(nominationChanges ? { nominatedNodeName: nominatedNodeName === '' ? null : nominatedNodeName } : {}),
      },
    };
    const prev = this.statusWrites.get(key) ?? Promise.resolve();
    const next: Promise<void> = prev.then(async () => {
      try {
        await this.d.client.resource(Resources.pods).patchStatus(ns, name, patch, 'strategic');
      } catch (e) {
        if (!isApiError(e, 'NotFound')) this.log.warn('pod condition update failed', { pod: key, err: e });
      }
    }).finally(() => {
      if (this.statusWrites.get(key) === next) this.statusWrites.delete(key);
    });
    this.statusWrites.set(key, next);
  }
}
