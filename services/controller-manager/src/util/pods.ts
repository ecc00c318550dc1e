/**
 * Pod predicates the controllers share (upstream pkg/api/v1/pod and pkg/controller's
 * controller_utils). All functions are pure and never modify their arguments.
 */
import type { Pod, PodCondition, PodStatus } from '@tskube/api';
import type { DeepReadonly } from '@tskube/client';

type PodLike = Pod | DeepReadonly<Pod>;

/** `namespace/name`: the key expectations and queues use for a pod. */
export function podKey(pod: PodLike): string {
  return `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
}

/** Not finished and not being deleted (upstream IsPodActive). */
export function isPodActive(pod: PodLike): boolean {
  const phase = pod.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed' && !pod.metadata?.deletionTimestamp;
}

export function podCondition(status: PodLike['status'], type: string): DeepReadonly<PodCondition> | undefined {
  return status?.conditions?.find((c) => c.type === type);
}

/** The Ready condition is True (upstream IsPodReady). */
export function isPodReady(pod: PodLike): boolean {
  return podCondition(pod.status, 'Ready')?.status === 'True';
}

/** When the Ready condition last turned True; undefined when not ready or unknown. */
export function podReadySince(pod: PodLike): Date | undefined {
  const c = podCondition(pod.status, 'Ready');
  if (c?.status !== 'True' || !c.lastTransitionTime) return undefined;
  return new Date(c.lastTransitionTime);
}

/**
 * Ready for at least `minReadySeconds` (upstream IsPodAvailable): with 0 any ready pod is
 * available; otherwise the Ready condition must have turned True more than
 * `minReadySeconds` before `now`.
 */
export function isPodAvailable(pod: PodLike, minReadySeconds: number, now: Date): boolean {
  if (!isPodReady(pod)) return false;
  if (minReadySeconds <= 0) return true;
  const since = podReadySince(pod);
  return since !== undefined && since.getTime() + minReadySeconds * 1000 < now.getTime();
}

/** Highest restart count of the pod's containers. */
export function maxContainerRestarts(pod: PodLike): number {
  let max = 0;
  for (const c of pod.status?.containerStatuses ?? []) max = Math.max(max, c.restartCount ?? 0);
  return max;
}

/**
 * Sets `cond` in `status` (which the caller owns) as upstream UpdatePodCondition does:
 * lastTransitionTime moves to `now` only when the status changes. Returns whether anything
 * changed.
 */
export function updatePodCondition(status: PodStatus, cond: PodCondition, now: string): boolean {
  const conds = (status.conditions ??= []);
  const i = conds.findIndex((c) => c.type === cond.type);
  if (i < 0) {
    conds.push({ ...cond, lastTransitionTime: now });
    return true;
  }
  const old = conds[i]!;
  const next: PodCondition = { ...cond, lastTransitionTime: old.status === cond.status ? old.lastTransitionTime : now };
  const same = old.status === next.status && old.reason === next.reason && old.message === next.message
    && old.lastProbeTime === next.lastProbeTime && old.lastTransitionTime === next.lastTransitionTime;
  conds[i] = next;
  return !same;
}
