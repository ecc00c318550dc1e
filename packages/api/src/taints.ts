/**
 * Taints and tolerations (upstream core/v1 Toleration.ToleratesTaint and pkg/util/taints),
 * shared by the admission plugins, the scheduler and the node lifecycle controllers. Pure;
 * accepts read-only (cached) objects.
 */

export const TAINT_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_UNREACHABLE = 'node.kubernetes.io/unreachable';
export const TAINT_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';
export const TAINT_MEMORY_PRESSURE = 'node.kubernetes.io/memory-pressure';
export const TAINT_DISK_PRESSURE = 'node.kubernetes.io/disk-pressure';
export const TAINT_NETWORK_UNAVAILABLE = 'node.kubernetes.io/network-unavailable';
export const TAINT_PID_PRESSURE = 'node.kubernetes.io/pid-pressure';

export interface TaintLike { readonly key: string; readonly value?: string; readonly effect: string }
export interface TolerationLike { readonly key?: string; readonly operator?: string; readonly value?: string; readonly effect?: string }

/** Same key and effect: what identifies a taint on a node (upstream MatchTaint). */
export function sameTaint(a: TaintLike, b: TaintLike): boolean {
  return a.key === b.key && a.effect === b.effect;
}

/** Whether one toleration tolerates one taint (upstream Toleration.ToleratesTaint). */
export function toleratesTaint(t: TolerationLike, taint: TaintLike): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  switch (t.operator ?? '') {
    case '':
    case 'Equal':
      return (t.value ?? '') === (taint.value ?? '');
    case 'Exists':
      return true;
    default:
      return false;
  }
}

export function tolerationsTolerateTaint(tolerations: readonly TolerationLike[] | undefined, taint: TaintLike): boolean {
  return (tolerations ?? []).some((t) => toleratesTaint(t, taint));
}

/** The first taint (in the node's order) passing `include` that no toleration tolerates. */
export function findUntoleratedTaint<T extends TaintLike>(
  taints: readonly T[] | undefined, tolerations: readonly TolerationLike[] | undefined, include: (t: T) => boolean = () => true,
): T | undefined {
  return (taints ?? []).find((taint) => include(taint) && !tolerationsTolerateTaint(tolerations, taint));
}
