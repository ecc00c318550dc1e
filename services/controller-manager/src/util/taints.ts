/** Taint and toleration helpers (upstream pkg/util/taints and core/v1 helpers). Pure. */
import type { Taint, Toleration } from '@tskube/api';
import type { DeepReadonly } from '@tskube/client';

export const TAINT_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_UNREACHABLE = 'node.kubernetes.io/unreachable';
export const TAINT_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';
export const TAINT_MEMORY_PRESSURE = 'node.kubernetes.io/memory-pressure';
export const TAINT_DISK_PRESSURE = 'node.kubernetes.io/disk-pressure';
export const TAINT_NETWORK_UNAVAILABLE = 'node.kubernetes.io/network-unavailable';
export const TAINT_PID_PRESSURE = 'node.kubernetes.io/pid-pressure';

type RoTaint = Taint | DeepReadonly<Taint>;
type RoToleration = Toleration | DeepReadonly<Toleration>;

/** Same key and effect: what identifies a taint on a node (upstream MatchTaint). */
export function sameTaint(a: RoTaint, b: RoTaint): boolean {
  return a.key === b.key && a.effect === b.effect;
}

/** Upstream Toleration.ToleratesTaint. */
export function tolerates(t: RoToleration, taint: RoTaint): boolean {
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
