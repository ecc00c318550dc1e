/**
 * Node allocatable (upstream pkg/kubelet/cm GetNodeAllocatableReservation and
 * hardEvictionReservation, and the MachineInfo node status setter):
 *
 *   allocatable[r] = capacity[r] − systemReserved[r] − kubeReserved[r] − hardEviction[r]
 *
 * for every resource of the capacity, floored at 0. The eviction part counts only hard
 * thresholds: memory.available against the memory capacity and nodefs.available against the
 * ephemeral-storage capacity (a percentage is of that capacity). `pid` reservations have no
 * capacity to come off (upstream uses them for the pods cgroup's pid limit), and `pods` is
 * never reserved. Values are printed as upstream's Quantity would after the subtraction
 * (the capacity's format: "1900m", "8092Mi", "96636764000").
 */
import { parseQuantity } from '@tskube/api';
import { formatOf, formatQuantity } from './quantity.js';
import { DEFAULT_EVICTION_HARD, isHardThreshold, parseThresholdStatements, thresholdQuantity, type Reservations, type Threshold } from './thresholds.js';

let defaultHard: Threshold[] | undefined;

/** The hard thresholds `r` uses (the upstream defaults unless given). */
export function hardThresholds(r: Reservations | undefined): readonly Threshold[] {
  if (r?.evictionHard) return r.evictionHard;
  return (defaultHard ??= parseThresholdStatements(DEFAULT_EVICTION_HARD));
}

/** upstream hardEvictionReservation: what hard thresholds hold back, in base units. */
export function hardEvictionReservation(thresholds: readonly Threshold[], capacity: Readonly<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of thresholds) {
    if (!isHardThreshold(t)) continue;
    if (t.signal === 'memory.available') out.memory = thresholdQuantity(t.value, capacity.memory ?? 0);
    else if (t.signal === 'nodefs.available') out['ephemeral-storage'] = thresholdQuantity(t.value, capacity['ephemeral-storage'] ?? 0);
  }
  return out;
}

/** Allocatable from capacity (quantity strings) and the reservations; see the module doc. */
export function nodeAllocatable(capacity: Readonly<Record<string, string>>, r: Reservations | undefined): Record<string, string> {
  const cap: Record<string, number> = {};
  for (const [k, v] of Object.entries(capacity)) cap[k] = parseQuantity(v);
  const eviction = hardEvictionReservation(hardThresholds(r), cap);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(capacity)) {
    let value = cap[k]!;
    for (const src of [r?.systemReserved, r?.kubeReserved]) {
      const q = src?.[k];
      if (q !== undefined) value -= parseQuantity(q);
    }
    value -= eviction[k] ?? 0;
    // float residue of milli-unit arithmetic (2 − 0.1 − 0.05)
    value = Math.round(value * 1e9) / 1e9;
    out[k] = formatQuantity(Math.max(0, value), formatOf(v));
  }
  return out;
}
