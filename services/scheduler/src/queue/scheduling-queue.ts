/**
 * The scheduling queue (upstream backend/queue/scheduling_queue.go, PriorityQueue).
 *
 * Pending pods live in exactly one of three places, or are "in flight" (popped, being scheduled):
 *
 *   activeQ        heap in QueueSort order (priority, then time queued): what `pop()` hands out
 *   backoffQ       heap by backoff expiry: pods that failed and wait 1 s, 2 s, 4 s … (max 10 s)
 *                  after their last failure; moved to activeQ once their backoff is over
 *   unschedulable  pods that no node fitted: they wait for a cluster event one of the plugins
 *                  that rejected them registered for (node added, node taints/labels/
 *                  allocatable changed, assigned pod deleted …) whose QueueingHint says it may
 *                  help; a pod waiting longer than 5 min is retried anyway
 *
 * Contracts:
 * - One entry per pod (key namespace/name). Adding a pod already queued updates it in place;
 *   an update of a queued pod replaces the queued copy; a delete removes it wherever it is.
 * - An update of an unschedulable pod that changes anything but status and bookkeeping
 *   metadata moves it out (to backoffQ while backing off, else activeQ).
 * - A pod that fails while a registered cluster event arrived during its attempt (moveRequestCycle), or
 *   that was updated during it, or that failed for an internal error (no rejecting plugin),
 *   goes to backoffQ rather than unschedulable, so that no event is lost.
 * - Time comes from the injected clock; the periodic flushes (`flushBackoffQCompleted` every
 *   1 s, `flushUnschedulablePodsLeftover` every 30 s) run while `run()` runs, and can be called
 *   directly by tests.
 */
import type { Logger } from '@tskube/log';
import { objectKey } from '@tskube/api';
import type { ClusterEventWithHint, QueueSortPlugin } from '../framework/interface.js';
import type { ReadonlyPod } from '../framework/types.js';
import { Events, isPodUpdated, type ClusterChange } from './events.js';
import { KeyedHeap } from './heap.js';
import { Nominator } from './nominator.js';

export const DEFAULT_POD_INITIAL_BACKOFF_MS = 1_000;
export const DEFAULT_POD_MAX_BACKOFF_MS = 10_000;
export const DEFAULT_POD_MAX_IN_UNSCHEDULABLE_MS = 5 * 60_000;
export const BACKOFF_FLUSH_INTERVAL_MS = 1_000;
export const UNSCHEDULABLE_FLUSH_INTERVAL_MS = 30_000;

/** A pod in the queue with its scheduling history (upstream QueuedPodInfo). */
export interface QueuedPodInfo {
  /** The latest version of the pod the queue has seen. */
  pod: ReadonlyPod;
  readonly key: string;
  /** When the pod was last added to the queue (ms): QueueSort order and backoff start. */
  timestamp: number;
  /** When the pod was first popped (ms), for metrics. */
  initialAttemptTimestamp?: number;
  /** How many times it was popped. */
  attempts: number;
  /** Plugins that rejected it in its last attempt: only their events can make it schedulable. */
  unschedulablePlugins: Set<string>;
  /** Tie-breaker: insertion order. */
  seq: number;
}

export interface QueueLengths {
  active: number;
  backoff: number;
  unschedulable: number;
}

export interface SchedulingQueueOptions {
  logger: Logger;
  /** The profile's QueueSort plugin; without one the queue is FIFO. */
  queueSort?: QueueSortPlugin;
  /** Plugin name → events it registered (Framework.eventsToRegister()). */
  pluginEvents?: ReadonlyMap<string, readonly ClusterEventWithHint[]>;
  now?: () => number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  maxInUnschedulableMs?: number;
  /** How often `run()` moves pods whose backoff expired (default 1 s). */
  backoffFlushIntervalMs?: number;
}

interface InFlight {
  /** uid of the pod that was popped. */
  uid: string;
  /** The latest version seen while in flight. */
  pod?: ReadonlyPod;
  updated: boolean;
  deleted: boolean;
  /** Deleted and created again under the same name (a new uid) while in flight. */
  recreated: boolean;
}

export class SchedulingQueue {
  private readonly activeQ: KeyedHeap<QueuedPodInfo>;
  private readonly backoffQ: KeyedHeap<QueuedPodInfo>;
  private readonly unschedulable = new Map<string, QueuedPodInfo>();
  /** Pods nominated to nodes by preemption (see nominator.ts). */
  readonly nominator = new Nominator();
  private readonly inFlight = new Map<string, InFlight>();
  private readonly waiters = new Set<() => void>();
  private readonly now: () => number;
  private readonly initialBackoff: number;
  private readonly maxBackoff: number;
  private readonly maxInUnschedulable: number;
  private readonly log: Logger;
  private cycle = 0;
  private moveRequestCycle = -1;
  private seq = 0;
  private closed = false;

  constructor(private readonly opts: SchedulingQueueOptions) {
    this.now = opts.now ?? Date.now;
    this.initialBackoff = opts.initialBackoffMs ?? DEFAULT_POD_INITIAL_BACKOFF_MS;
    this.maxBackoff = opts.maxBackoffMs ?? DEFAULT_POD_MAX_BACKOFF_MS;
    this.maxInUnschedulable = opts.maxInUnschedulableMs ?? DEFAULT_POD_MAX_IN_UNSCHEDULABLE_MS;
    this.log = opts.logger;
    const sort = opts.queueSort;
    const before = (a: QueuedPodInfo, b: QueuedPodInfo): boolean => {
      if (sort) {
        if (sort.less(a, b)) return true;
        if (sort.less(b, a)) return false;
      } else if (a.timestamp !== b.timestamp) {
        return a.timestamp < b.timestamp;
      }
      return a.seq < b.seq;
    };
    this.activeQ = new KeyedHeap((p) => p.key, before);
    this.backoffQ = new KeyedHeap((p) => p.key, (a, b) => {
      const ea = this.backoffExpiry(a);
      const eb = this.backoffExpiry(b);
      return ea !== eb ? ea < eb : a.seq < b.seq;
    });
  }

  /** The number of pods popped so far (each pop starts a scheduling cycle). */
  get schedulingCycle(): number { return this.cycle; }

  lengths(): QueueLengths {
    return { active: this.activeQ.size, backoff: this.backoffQ.size, unschedulable: this.unschedulable.size };
  }

  /** Where a pod is: 'active' | 'backoff' | 'unschedulable' | 'inFlight' | undefined. */
  where(key: string): 'active' | 'backoff' | 'unschedulable' | 'inFlight' | undefined {
    if (this.activeQ.has(key)) return 'active';
    if (this.backoffQ.has(key)) return 'backoff';
    if (this.unschedulable.has(key)) return 'unschedulable';
    if (this.inFlight.has(key)) return 'inFlight';
    return undefined;
  }

  /** A new pending pod (informer add). An already known pod is treated as an update. */
  add(pod: ReadonlyPod): void {
    const key = objectKey(pod);
    const known = this.findQueued(key);
    if (known || this.inFlight.has(key)) {
      this.update(known?.pod, pod);
      return;
    }
    this.nominator.add(pod);
    this.pushActive(this.newInfo(pod));
  }

  /** A pending pod changed (informer update): the queued copy is replaced; see the module doc. */
  update(oldPod: ReadonlyPod | undefined, newPod: ReadonlyPod): void {
    const key = objectKey(newPod);
    this.nominator.update(oldPod, newPod);
    const flight = this.inFlight.get(key);
    if (flight) {
      if (flight.deleted || (newPod.metadata?.uid ?? '') !== flight.uid) flight.recreated = true;
      flight.deleted = false;
      flight.updated ||= !oldPod || isPodUpdated(oldPod, newPod);
      flight.pod = newPod;
      return;
    }
    for (const q of [this.activeQ, this.backoffQ]) {
      const p = q.get(key);
      if (p) {
        p.pod = newPod;
        q.push(p);
        return;
      }
    }
    const u = this.unschedulable.get(key);
    if (u) {
      const prev = u.pod;
      u.pod = newPod;
      if (isPodUpdated(oldPod ?? prev, newPod)) {
        this.unschedulable.delete(key);
        this.requeue(u, 'UnscheduledPodUpdate');
        this.wake();
      }
      return;
    }
    this.pushActive(this.newInfo(newPod));
  }

  /** A pending pod is gone (deleted, bound elsewhere, being deleted, or no longer ours). */
  delete(pod: ReadonlyPod): void {
    const key = objectKey(pod);
    this.nominator.delete(pod);
    this.activeQ.remove(key);
    this.backoffQ.remove(key);
    this.unschedulable.delete(key);
    const flight = this.inFlight.get(key);
    if (flight) flight.deleted = true;
  }

  /**
   * Waits for the highest-priority active pod and hands it out; it is then in flight until
   * `done` or `addUnschedulableIfNotPresent`. Resolves undefined once closed or `signal` aborts.
   */
  async pop(signal?: AbortSignal): Promise<QueuedPodInfo | undefined> {
    for (;;) {
      if (this.closed || signal?.aborted) return undefined;
      const p = this.activeQ.pop();
      if (p) {
        this.cycle++;
        p.attempts++;
        p.initialAttemptTimestamp ??= this.now();
        // Whatever rejected it last time is recorded afresh by this attempt.
        p.unschedulablePlugins = new Set();
        this.inFlight.set(p.key, { uid: p.pod.metadata?.uid ?? '', updated: false, deleted: false, recreated: false });
        return p;
      }
      await new Promise<void>((resolve) => {
        const wake = () => { this.waiters.delete(wake); signal?.removeEventListener('abort', wake); resolve(); };
        this.waiters.add(wake);
        signal?.addEventListener('abort', wake, { once: true });
      });
    }
  }

  /**
   * The attempt for `key` is over (bound, or given up): it is no longer in flight. A pod that
   * was deleted and created again under the same name meanwhile is queued as the new pod.
   */
  done(key: string): void {
    const flight = this.inFlight.get(key);
    this.inFlight.delete(key);
    if (flight?.recreated && flight.pod && !this.findQueued(key)) this.pushActive(this.newInfo(flight.pod));
  }

  /**
   * Puts a pod whose attempt failed back: to backoffQ when a move request came in since
   * `podSchedulingCycle`, when it was updated in flight, or when no plugin rejected it (an
   * error); to the unschedulable set otherwise. A pod deleted in flight is dropped ('dropped';
   * one recreated under its name is queued afresh instead). Returns where it went.
   */
  addUnschedulableIfNotPresent(pInfo: QueuedPodInfo, podSchedulingCycle: number): 'backoff' | 'unschedulable' | 'dropped' {
    const flight = this.inFlight.get(pInfo.key);
    if (flight?.deleted || flight?.recreated) {
      this.done(pInfo.key); // the new pod, if any, starts afresh
      return 'dropped';
    }
    this.inFlight.delete(pInfo.key);
    if (this.findQueued(pInfo.key)) {
      this.log.error('pod is already queued', { pod: pInfo.key });
      return 'dropped';
    }
    if (flight?.pod) pInfo.pod = flight.pod;
    pInfo.timestamp = this.now();
    if (this.moveRequestCycle >= podSchedulingCycle || flight?.updated || pInfo.unschedulablePlugins.size === 0) {
      this.backoffQ.push(pInfo);
      return 'backoff';
    }
    this.unschedulable.set(pInfo.key, pInfo);
    return 'unschedulable';
  }

  /**
   * A cluster change happened: unschedulable pods rejected by a plugin that registered for it
   * (and whose hint says Queue) move to backoffQ (still backing off) or activeQ.
   */
  moveAllToActiveOrBackoffQueue(change: ClusterChange): number {
    // An event no plugin registered for cannot make any pod schedulable: ignore it entirely,
    // so that frequent irrelevant events (assigned pod status updates) do not count as move requests.
    if (!this.isRegistered(change)) return 0;
    let moved = 0;
    for (const p of [...this.unschedulable.values()]) {
      if (!this.isPodWorthRequeuing(p, change)) continue;
      this.unschedulable.delete(p.key);
      this.requeue(p, change.event.label);
      moved++;
    }
    this.moveRequestCycle = this.cycle;
    if (moved > 0) this.wake();
    return moved;
  }

  /** Moves pods whose backoff has expired to activeQ. */
  flushBackoffQCompleted(): number {
    let n = 0;
    const now = this.now();
    for (let p = this.backoffQ.peek(); p && this.backoffExpiry(p) <= now; p = this.backoffQ.peek()) {
      this.backoffQ.pop();
      this.pushActive(p, false);
      n++;
    }
    if (n > 0) this.wake();
    return n;
  }

  /** Retries pods that have waited in the unschedulable set longer than the limit (5 min). */
  flushUnschedulablePodsLeftover(): number {
    const now = this.now();
    const stale = [...this.unschedulable.values()].filter((p) => now - p.timestamp > this.maxInUnschedulable);
    for (const p of stale) {
      this.unschedulable.delete(p.key);
      this.requeue(p, Events.UnschedulableTimeout.label);
    }
    if (stale.length > 0) this.wake();
    return stale.length;
  }

  /** Runs the periodic flushes until `signal` aborts, then closes the queue. */
  run(signal: AbortSignal): void {
    const backoff = setInterval(() => this.flushBackoffQCompleted(), this.opts.backoffFlushIntervalMs ?? BACKOFF_FLUSH_INTERVAL_MS);
    const leftover = setInterval(() => this.flushUnschedulablePodsLeftover(), UNSCHEDULABLE_FLUSH_INTERVAL_MS);
    const stop = () => { clearInterval(backoff); clearInterval(leftover); this.close(); };
    if (signal.aborted) stop();
    else signal.addEventListener('abort', stop, { once: true });
  }

  /** Wakes waiting `pop` calls, which then resolve undefined. */
  close(): void {
    this.closed = true;
    this.wake();
  }

  /** How long a pod waits after its latest failure: 1 s doubling per attempt, at most 10 s; 0 before any attempt. */
  backoffDuration(p: Pick<QueuedPodInfo, 'attempts'>): number {
    if (p.attempts === 0) return 0;
    let d = this.initialBackoff;
    for (let i = 1; i < p.attempts; i++) {
      if (d > this.maxBackoff - d) return this.maxBackoff;
      d += d;
    }
    return Math.min(d, this.maxBackoff);
  }

  backoffExpiry(p: Pick<QueuedPodInfo, 'attempts' | 'timestamp'>): number {
    return p.timestamp + this.backoffDuration(p);
  }

  private isBackingOff(p: QueuedPodInfo): boolean {
    return this.backoffExpiry(p) > this.now();
  }

  private requeue(p: QueuedPodInfo, event: string): void {
    if (this.isBackingOff(p)) this.backoffQ.push(p);
    else this.pushActive(p, false);
    this.log.debug('pod requeued', { pod: p.key, event, queue: this.activeQ.has(p.key) ? 'active' : 'backoff' });
  }

  private isRegistered(change: ClusterChange): boolean {
    if (change.resource === '*') return true;
    for (const regs of this.opts.pluginEvents?.values() ?? []) {
      for (const reg of regs) if (reg.resource === change.resource && (reg.actionType & change.event.actionType) !== 0) return true;
    }
    return false;
  }

  private isPodWorthRequeuing(p: QueuedPodInfo, change: ClusterChange): boolean {
    if (change.resource === '*') return true;
    if (p.unschedulablePlugins.size === 0) return true;
    for (const plugin of p.unschedulablePlugins) {
      for (const reg of this.opts.pluginEvents?.get(plugin) ?? []) {
        if (reg.resource !== change.resource || (reg.actionType & change.event.actionType) === 0) continue;
        if (!reg.hint) return true;
        try {
          let hint;
          if (reg.resource === 'Node' && change.resource === 'Node') hint = reg.hint(p.pod, change.oldObj, change.newObj);
          else if (reg.resource === 'AssignedPod' && change.resource === 'AssignedPod') hint = reg.hint(p.pod, change.oldObj, change.newObj);
          if (hint === 'Queue') return true;
        } catch (e) {
          this.log.error('queueing hint failed', { plugin, pod: p.key, event: change.event.label, err: e });
          return true;
        }
      }
    }
    return false;
  }

  private findQueued(key: string): QueuedPodInfo | undefined {
    return this.activeQ.get(key) ?? this.backoffQ.get(key) ?? this.unschedulable.get(key);
  }

  private newInfo(pod: ReadonlyPod): QueuedPodInfo {
    return { pod, key: objectKey(pod), timestamp: this.now(), attempts: 0, unschedulablePlugins: new Set(), seq: this.seq++ };
  }

  private pushActive(p: QueuedPodInfo, wake = true): void {
    this.activeQ.push(p);
    if (wake) this.wake();
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }
}
