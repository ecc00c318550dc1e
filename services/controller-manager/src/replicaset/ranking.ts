/**
 * Which pods a ReplicaSet deletes first when it scales down: upstream's ActivePodsWithRanks
 * ordering (pkg/controller/controller_utils.go) with the default feature gates
 * (PodDeletionCost and LogarithmicScaleDown on). Earlier in the order = deleted first:
 *
 *  1. unassigned < assigned
 *  2. Pending < Unknown < Running
 *  3. not ready < ready
 *  4. lower controller.kubernetes.io/pod-deletion-cost < higher
 *  5. more active pods of the same owner on its node (rank) < fewer
 *  6. both ready: ready for a shorter time < longer (log2 buckets of the age, then uid)
 *  7. more container restarts < fewer
 *  8. newer < older (log2 buckets of the age, then uid)
 */
import type { Pod } from '@tskube/api';
import type { DeepReadonly } from '@tskube/client';
import { isPodActive, isPodReady, maxContainerRestarts, podReadySince } from '../util/pods.js';

type RoPod = DeepReadonly<Pod>;

export const POD_DELETION_COST = 'controller.kubernetes.io/pod-deletion-cost';

const PHASE_ORDINAL: Readonly<Record<string, number>> = { Pending: 0, Unknown: 1, Running: 2 };

function deletionCost(p: RoPod): number {
  const v = p.metadata?.annotations?.[POD_DELETION_COST];
  if (v === undefined || !/^-?\d+$/.test(v)) return 0;
  const n = Number(v);
  return n >= -2147483648 && n <= 2147483647 ? n : 0;
}

/** Zero (missing) times first, otherwise the later time first (upstream afterOrZero). Negative: a first. */
function afterOrZero(a: number | undefined, b: number | undefined): number {
  if (!a || !b) return (a ? 1 : 0) - (b ? 1 : 0);
  return b - a;
}

/** floor(log2(age in ns)) of two times relative to `now`, compared (upstream logarithmicRankDiff). */
function logRankDiff(a: number, b: number, now: number): number {
  const r = (t: number) => {
    const ns = (now - t) * 1e6;
    return ns > 0 ? Math.floor(Math.log2(ns)) : -1;
  };
  return r(a) - r(b);
}

function compareTimes(a: number | undefined, b: number | undefined, now: number, pa: RoPod, pb: RoPod): number {
  if (!now || !a || !b) return afterOrZero(a, b);
  const d = logRankDiff(a, b, now);
  if (d !== 0) return d;
  const ua = pa.metadata?.uid ?? '';
  const ub = pb.metadata?.uid ?? '';
  return ua < ub ? -1 : ua > ub ? 1 : 0;
}

function time(s: string | undefined): number | undefined {
  if (!s) return undefined;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : t;
}

/** Compares two pods with their ranks; negative when `a` should be deleted before `b`. */
export function comparePodsForDeletion(a: RoPod, rankA: number, b: RoPod, rankB: number, now: Date): number {
  const na = a.spec?.nodeName ?? '';
  const nb = b.spec?.nodeName ?? '';
  if (na !== nb && (!na || !nb)) return na ? 1 : -1;
  const pa = PHASE_ORDINAL[a.status?.phase ?? ''] ?? 0;
  const pb = PHASE_ORDINAL[b.status?.phase ?? ''] ?? 0;
  if (pa !== pb) return pa - pb;
  const ra = isPodReady(a);
  const rb = isPodReady(b);
  if (ra !== rb) return ra ? 1 : -1;
  const ca = deletionCost(a);
  const cb = deletionCost(b);
  if (ca !== cb) return ca - cb;
  if (rankA !== rankB) return rankB - rankA;
  const nowMs = now.getTime();
  if (ra && rb) {
    const ta = podReadySince(a)?.getTime();
    const tb = podReadySince(b)?.getTime();
    if (ta !== tb) {
      const c = compareTimes(ta, tb, nowMs, a, b);
      if (c !== 0) return c;
    }
  }
  const xa = maxContainerRestarts(a);
  const xb = maxContainerRestarts(b);
  if (xa !== xb) return xb - xa;
  const ka = time(a.metadata?.creationTimestamp);
  const kb = time(b.metadata?.creationTimestamp);
  if (ka !== kb) return compareTimes(ka, kb, nowMs, a, b);
  return 0;
}

/**
 * The `count` pods to delete: all of them when `count` covers the list, otherwise the first
 * `count` in deletion order, where a pod's rank is the number of active pods of `related` on
 * its node (the controller passes the pods of all ReplicaSets sharing its owner, none for a
 * ReplicaSet without one; the default is `pods` itself). Does not modify `pods`.
 */
export function podsToDelete(pods: readonly RoPod[], count: number, now: Date, related: readonly RoPod[] = pods): RoPod[] {
  if (count >= pods.length) return [...pods];
  const onNode = new Map<string, number>();
  for (const p of related) {
    if (isPodActive(p)) onNode.set(p.spec?.nodeName ?? '', (onNode.get(p.spec?.nodeName ?? '') ?? 0) + 1);
  }
  const ranked = pods.map((p) => ({ p, rank: onNode.get(p.spec?.nodeName ?? '') ?? 0 }));
  ranked.sort((x, y) => comparePodsForDeletion(x.p, x.rank, y.p, y.rank, now));
  return ranked.slice(0, count).map((x) => x.p);
}
