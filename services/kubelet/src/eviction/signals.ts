/**
 * From stats to decisions (upstream pkg/kubelet/eviction/helpers.go): signal observations,
 * thresholds met (with minimum reclaim), when they were first observed, which node
 * conditions they raise and how long those are held (the pressure transition period), and
 * which threshold to reclaim first. Pure: times are passed in (clock ms).
 */
import {
  PRESSURE_CONDITIONS, SIGNAL_CONDITION, SIGNAL_RESOURCE, thresholdKey, thresholdQuantity,
  type PressureCondition, type Signal, type StarvedResource, type Threshold,
} from './thresholds.js';
import type { EvictionStats } from './stats.js';

export interface Observation {
  /** Available amount now (bytes, inodes, pids). */
  available: number;
  /** What percentages are taken of. */
  capacity: number;
  /** Clock ms of the reading. */
  time: number;
}

export type Observations = Partial<Record<Signal, Observation>>;

/**
 * upstream makeSignalObservations. `allocatableMemoryBytes` is the Node's allocatable memory:
 * allocatableMemory.available = allocatable − the pods' working sets (upstream observes the
 * pods cgroup, whose limit is allocatable).
 */
export function makeObservations(s: EvictionStats, allocatableMemoryBytes?: number): Observations {
  const o: Observations = {};
  const n = s.node;
  if (n.memory) {
    o['memory.available'] = { available: n.memory.availableBytes, capacity: n.memory.availableBytes + n.memory.workingSetBytes, time: s.time };
  }
  if (allocatableMemoryBytes !== undefined) {
    const used = s.pods.reduce((sum, p) => sum + p.memoryWorkingSetBytes, 0);
    o['allocatableMemory.available'] = { available: allocatableMemoryBytes - used, capacity: allocatableMemoryBytes, time: s.time };
  }
  if (n.nodeFs) {
    o['nodefs.available'] = { available: n.nodeFs.availableBytes, capacity: n.nodeFs.capacityBytes, time: s.time };
    o['nodefs.inodesFree'] = { available: n.nodeFs.inodesFree, capacity: n.nodeFs.inodes, time: s.time };
  }
  if (n.imageFs) {
    o['imagefs.available'] = { available: n.imageFs.availableBytes, capacity: n.imageFs.capacityBytes, time: s.time };
    o['imagefs.inodesFree'] = { available: n.imageFs.inodesFree, capacity: n.imageFs.inodes, time: s.time };
  }
  if (n.pids) o['pid.available'] = { available: n.pids.max - n.pids.running, capacity: n.pids.max, time: s.time };
  return o;
}

/**
 * upstream thresholdsMet: those whose signal's available amount is below the threshold
 * (below threshold + minimum reclaim with `enforceMinReclaim`). A signal without an
 * observation never meets its thresholds.
 */
export function thresholdsMet(thresholds: readonly Threshold[], obs: Observations, enforceMinReclaim: boolean): Threshold[] {
  return thresholds.filter((t) => {
    const o = obs[t.signal];
    if (!o) return false;
    let q = thresholdQuantity(t.value, o.capacity);
    if (enforceMinReclaim && t.minReclaim) q += thresholdQuantity(t.minReclaim, o.capacity);
    return q > o.available;
  });
}

/** upstream mergeThresholds: `a` plus the thresholds of `b` not already in it. */
export function mergeThresholds(a: readonly Threshold[], b: readonly Threshold[]): Threshold[] {
  const keys = new Set(a.map(thresholdKey));
  return [...a, ...b.filter((t) => !keys.has(thresholdKey(t)))];
}

export type ThresholdsObservedAt = Map<string, { threshold: Threshold; at: number }>;

/** upstream thresholdsFirstObservedAt: each met threshold keeps its first time; gone ones are dropped. */
export function thresholdsFirstObservedAt(met: readonly Threshold[], last: ThresholdsObservedAt, now: number): ThresholdsObservedAt {
  const out: ThresholdsObservedAt = new Map();
  for (const t of met) {
    const k = thresholdKey(t);
    out.set(k, { threshold: t, at: last.get(k)?.at ?? now });
  }
  return out;
}

/** upstream thresholdsMetGracePeriod: those held at least their grace period (hard: at once). */
export function thresholdsMetGracePeriod(observedAt: ThresholdsObservedAt, now: number): Threshold[] {
  return [...observedAt.values()].filter((e) => now - e.at >= e.threshold.gracePeriodMs).map((e) => e.threshold);
}

/** upstream nodeConditions: the conditions the thresholds raise, in report order. */
export function nodeConditionsOf(thresholds: readonly Threshold[]): PressureCondition[] {
  const set = new Set(thresholds.map((t) => SIGNAL_CONDITION[t.signal]));
  return PRESSURE_CONDITIONS.filter((c) => set.has(c));
}

export type ConditionsObservedAt = Map<PressureCondition, number>;

/** upstream nodeConditionsLastObservedAt: conditions seen now get `now`, others keep their time. */
export function nodeConditionsLastObservedAt(conds: readonly PressureCondition[], last: ConditionsObservedAt, now: number): ConditionsObservedAt {
  const out: ConditionsObservedAt = new Map(last);
  for (const c of conds) out.set(c, now);
  return out;
}

/** upstream nodeConditionsObservedSince: conditions last observed less than `periodMs` ago. */
export function nodeConditionsObservedSince(observedAt: ConditionsObservedAt, periodMs: number, now: number): PressureCondition[] {
  return PRESSURE_CONDITIONS.filter((c) => {
    const at = observedAt.get(c);
    return at !== undefined && now - at < periodMs;
  });
}

/**
 * upstream thresholdsUpdatedStats: only thresholds whose signal has a reading newer than the
 * one the previous round acted on may evict (stale stats must not evict twice).
 */
export function thresholdsUpdatedStats(thresholds: readonly Threshold[], obs: Observations, last: Observations): Threshold[] {
  return thresholds.filter((t) => {
    const o = obs[t.signal];
    if (!o) return false;
    const prev = last[t.signal];
    return !prev || o.time > prev.time;
  });
}

/**
 * upstream byEvictionPriority + getReclaimableThreshold: memory signals first, then the
 * others in their order; the first one with a resource to reclaim.
 */
export function reclaimableThreshold(thresholds: readonly Threshold[]): { threshold: Threshold; resource: StarvedResource } | undefined {
  const isMemory = (t: Threshold): boolean => t.signal === 'memory.available' || t.signal === 'allocatableMemory.available';
  const sorted = [...thresholds.filter(isMemory), ...thresholds.filter((t) => !isMemory(t))];
  const t = sorted[0];
  return t ? { threshold: t, resource: SIGNAL_RESOURCE[t.signal] } : undefined;
}

/**
 * upstream getThresholdMetInfo: the threshold quantity and the available amount of the first
 * met threshold that starves `resource` (for the eviction message).
 */
export function thresholdMetInfo(resource: StarvedResource, thresholds: readonly Threshold[], obs: Observations): { quantity: number; available: number; threshold: Threshold } | undefined {
  for (const t of thresholds) {
    if (SIGNAL_RESOURCE[t.signal] !== resource) continue;
    const o = obs[t.signal];
    if (o) return { quantity: thresholdQuantity(t.value, o.capacity), available: o.available, threshold: t };
  }
  return undefined;
}
