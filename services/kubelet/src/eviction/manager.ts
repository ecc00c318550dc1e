/**
 * The eviction manager (upstream pkg/kubelet/eviction/eviction_manager.go synchronize/Start/
 * Admit), one per real node; simulated nodes have none (they have no real usage).
 *
 * Every monitoring interval (10 s) `synchronize`:
 *  1. observes the signals (EvictionStatsSource) and finds the thresholds met; a threshold
 *     met before stays met until its signal is back above threshold + minimum reclaim;
 *  2. node conditions (MemoryPressure, DiskPressure, PIDPressure) are those raised by a met
 *     threshold within the last pressure transition period (5 min): True at once, False only
 *     once the signal stayed clear that long. The NodeManager reports them; `admit` uses them;
 *  3. thresholds met for their grace period (hard: at once) whose signal has a new reading
 *     may evict: the one to reclaim first is chosen (memory before the others), a Warning
 *     `EvictionThresholdMet` "Attempting to reclaim <resource>" is recorded on the node, and
 *     for disk signals dead containers are collected first (`reclaim`); if that is enough,
 *     nobody is evicted;
 *  4. otherwise the active pods are ranked for the resource (ranking.ts) and the first one
 *     that is not critical is evicted: a Warning `Evicted` event with upstream's message, then
 *     the PodTerminator stops it (grace 0 for a hard threshold, at most
 *     maxPodGracePeriodSeconds for a soft one; phase Failed, reason Evicted, a DisruptionTarget
 *     condition) and waits for its cleanup. At most one pod per round; after an eviction the
 *     next round starts at once, else after the interval.
 * A failed observation is logged and skipped (no conditions change, nobody is evicted).
 * Only `run`'s loop mutates the state; `conditions()` and `admit()` read the last round's.
 */
import type { Pod, PodCondition } from '@tskube/api';
import { sleep, type DeepReadonly } from '@tskube/client';
import type { Logger } from '@tskube/log';
import type { Clock } from '../clock.js';
import { Reason, type KubeletEvents } from '../events.js';
import { errorMessage, podRef } from '../format.js';
import { admitPod, type AdmitResult } from './admission.js';
import { EVICTED_REASON, evictionMessage } from './messages.js';
import { isCriticalPod, rankDiskPressure, rankMemoryPressure, rankPIDPressure } from './ranking.js';
import {
  makeObservations, mergeThresholds, nodeConditionsLastObservedAt, nodeConditionsObservedSince, nodeConditionsOf,
  reclaimableThreshold, thresholdsFirstObservedAt, thresholdsMet, thresholdsMetGracePeriod, thresholdsUpdatedStats,
  type ConditionsObservedAt, type Observations, type ThresholdsObservedAt,
} from './signals.js';
import type { EvictionStats, EvictionStatsSource, LocalStorage, PodUsage } from './stats.js';
import { isHardThreshold, type EvictionConfig, type PressureCondition, type Signal, type StarvedResource, type Threshold } from './thresholds.js';

type ReadonlyPod = DeepReadonly<Pod>;

/** upstream podCleanupTimeout: how long an eviction waits for the pod to be stopped and cleaned up. */
export const POD_CLEANUP_TIMEOUT_MS = 30_000;

export interface EvictOptions {
  /** 0 for a hard threshold (kill at once); an upper bound for a soft one. */
  gracePeriodSeconds: number;
  reason: string;
  message: string;
  condition: PodCondition;
}

/** Stops an evicted pod (the kubelet's pod workers); resolves once it is terminated or the wait timed out. */
export interface PodTerminator {
  evict(pod: ReadonlyPod, o: EvictOptions): Promise<void>;
}

export interface EvictionManagerOptions {
  config: EvictionConfig;
  stats: EvictionStatsSource;
  /** The pods the kubelet runs and has not started terminating. */
  activePods: () => readonly ReadonlyPod[];
  terminator: PodTerminator;
  events: KubeletEvents;
  clock: Clock;
  logger: Logger;
  /** The Node's allocatable memory, for allocatableMemory.available; undefined: not observed. */
  allocatableMemoryBytes?: () => number | undefined;
  /** Node-level reclaim before evicting for a disk signal (upstream: container and image GC). */
  reclaimDisk?: () => Promise<void>;
  /** Called per eviction (metric kubelet_evictions{eviction_signal}). */
  onEviction?: (signal: Signal) => void;
  /** Waits between rounds (tests pass a fake); default a sleep that ends early on abort. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

const DISK_SIGNALS: ReadonlySet<Signal> = new Set(['nodefs.available', 'nodefs.inodesFree', 'imagefs.available', 'imagefs.inodesFree']);

export class EvictionManager {
  private nodeConditions: PressureCondition[] = [];
  private firstObservedAt: ThresholdsObservedAt = new Map();
  private conditionsObservedAt: ConditionsObservedAt = new Map();
  private thresholdsMetLast: Threshold[] = [];
  private lastObservations: Observations = {};
  private readonly log: Logger;
  private readonly unobserved = new Set<Signal>();

  constructor(private readonly o: EvictionManagerOptions) {
    this.log = o.logger.child({ subsystem: 'eviction' });
  }

  /** The pressure conditions now True (report order). */
  conditions(): readonly PressureCondition[] {
    return this.nodeConditions;
  }

  /** Whether a new pod may start under the current conditions (admission.ts). */
  admit(pod: ReadonlyPod): AdmitResult {
    const r = admitPod(pod, this.nodeConditions);
    if (!r.admit) this.log.info('pod rejected under node pressure', { pod: podRef(pod.metadata), conditions: this.nodeConditions });
    return r;
  }

  /** Runs rounds until `signal` aborts (see the module doc). */
  async run(signal: AbortSignal): Promise<void> {
    const wait = this.o.sleep ?? ((ms, s) => sleep(ms, s));
    while (!signal.aborted) {
      let evicted: ReadonlyPod | undefined;
      try {
        evicted = await this.synchronize();
      } catch (err) {
        this.log.warn('eviction round failed', { err: errorMessage(err) });
      }
      if (!evicted) await wait(this.o.config.monitoringIntervalMs, signal);
    }
  }

  private async observe(): Promise<{ stats: EvictionStats; obs: Observations } | undefined> {
    let stats: EvictionStats;
    try {
      stats = await this.o.stats.observe();
    } catch (err) {
      this.log.warn('eviction manager: failed to get summary stats', { err: errorMessage(err) });
      return undefined;
    }
    return { stats, obs: makeObservations(stats, this.o.allocatableMemoryBytes?.()) };
  }

  /** One round; resolves with the evicted pod, if any. */
  async synchronize(): Promise<ReadonlyPod | undefined> {
    const cfg = this.o.config;
    if (cfg.thresholds.length === 0) return undefined;
    const observed = await this.observe();
    if (!observed) return undefined;
    const { stats, obs } = observed;
    for (const t of cfg.thresholds) {
      if (obs[t.signal] || this.unobserved.has(t.signal)) continue;
      this.unobserved.add(t.signal);
      this.log.info('eviction manager: no observation found for eviction signal', { signal: t.signal });
    }

    let met = thresholdsMet(cfg.thresholds, obs, false);
    if (this.thresholdsMetLast.length > 0) met = mergeThresholds(met, thresholdsMet(this.thresholdsMetLast, obs, true));
    const now = this.o.clock.now();
    const firstObservedAt = thresholdsFirstObservedAt(met, this.firstObservedAt, now);
    const conditionsObservedAt = nodeConditionsLastObservedAt(nodeConditionsOf(met), this.conditionsObservedAt, now);
    const conditions = nodeConditionsObservedSince(conditionsObservedAt, cfg.pressureTransitionPeriodMs, now);
    const graceMet = thresholdsMetGracePeriod(firstObservedAt, now);

    if (conditions.join() !== this.nodeConditions.join()) this.log.info('node pressure conditions changed', { conditions });
    this.nodeConditions = conditions;
    this.firstObservedAt = firstObservedAt;
    this.conditionsObservedAt = conditionsObservedAt;
    this.thresholdsMetLast = graceMet;
    const thresholds = thresholdsUpdatedStats(graceMet, obs, this.lastObservations);
    this.lastObservations = obs;
    if (thresholds.length === 0) return undefined;

    const pick = reclaimableThreshold(thresholds);
    if (!pick) return undefined;
    const { threshold, resource } = pick;
    this.log.info('eviction manager: attempting to reclaim', { resource, signal: threshold.signal });
    this.o.events.node('Warning', Reason.EvictionThresholdMet, `Attempting to reclaim ${resource}`);

    if (DISK_SIGNALS.has(threshold.signal) && this.o.reclaimDisk && await this.reclaimedEnough()) {
      this.log.info('eviction manager: able to reduce resource pressure without evicting pods', { resource });
      return undefined;
    }

    const pods = this.o.activePods();
    if (pods.length === 0) {
      this.log.warn('eviction manager: eviction thresholds have been met, but no pods are active to evict', { resource });
      return undefined;
    }
    const usage = new Map<string, PodUsage>(stats.pods.map((p) => [p.uid, p]));
    const ranked = await this.rank(threshold.signal, resource, pods, usage);
    for (const pod of ranked) {
      if (isCriticalPod(pod)) {
        this.log.warn('eviction manager: cannot evict a critical pod', { pod: podRef(pod.metadata) });
        continue;
      }
      const message = evictionMessage(resource, pod, usage.get(pod.metadata?.uid ?? ''), thresholds, obs);
      const grace = isHardThreshold(threshold) ? 0 : cfg.maxPodGracePeriodSeconds;
      this.o.events.pod(pod, 'Warning', EVICTED_REASON, message);
      this.log.info('evicting pod', { pod: podRef(pod.metadata), signal: threshold.signal, gracePeriodSeconds: grace });
      this.o.onEviction?.(threshold.signal);
      await this.o.terminator.evict(pod, {
        gracePeriodSeconds: grace, reason: EVICTED_REASON, message,
        condition: { type: 'DisruptionTarget', status: 'True', reason: 'TerminationByKubelet', message },
      });
      return pod;
    }
    this.log.warn('eviction manager: unable to evict any pods from the node', { resource });
    return undefined;
  }

  /** upstream reclaimNodeLevelResources: collect, observe again, done when no threshold (with minimum reclaim) is met. */
  private async reclaimedEnough(): Promise<boolean> {
    try {
      await this.o.reclaimDisk!();
    } catch (err) {
      this.log.info('eviction manager: unexpected error when attempting to reduce resource pressure', { err: errorMessage(err) });
    }
    const again = await this.observe();
    if (!again) return false;
    return thresholdsMet(this.o.config.thresholds, again.obs, true).length === 0;
  }

  private async rank(signal: Signal, resource: StarvedResource, pods: readonly ReadonlyPod[], usage: ReadonlyMap<string, PodUsage>): Promise<readonly ReadonlyPod[]> {
    const uid = (p: ReadonlyPod): string => p.metadata?.uid ?? '';
    if (resource === 'memory') return rankMemoryPressure(pods, (p) => usage.get(uid(p))?.memoryWorkingSetBytes);
    if (resource === 'pids') return rankPIDPressure(pods, (p) => usage.get(uid(p))?.processes);
    const local = new Map<string, LocalStorage | undefined>();
    for (const p of pods) {
      try {
        local.set(uid(p), await this.o.stats.podLocalStorage(p));
      } catch (err) {
        this.log.warn('measuring pod local storage failed', { pod: podRef(p.metadata), signal, err: errorMessage(err) });
        local.set(uid(p), undefined);
      }
    }
    const field = resource === 'inodes' ? 'inodes' : 'bytes';
    return rankDiskPressure(pods, (p) => local.get(uid(p))?.[field]);
  }
}
