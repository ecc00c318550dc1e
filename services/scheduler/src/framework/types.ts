/**
 * The object shapes the framework hands to plugins. Pods and nodes come from informer caches,
 * so they are read-only (design habit 6): plugins must never change them.
 */
import type { Node, Pod, PodSpec, Taint, Toleration } from '@tskube/api';
import type { DeepReadonly } from '@tskube/client';

export type ReadonlyPod = DeepReadonly<Pod>;
export type ReadonlyNode = DeepReadonly<Node>;
export type ReadonlyTaint = DeepReadonly<Taint>;
export type ReadonlyToleration = DeepReadonly<Toleration>;

type Affinity = NonNullable<PodSpec['affinity']>;
type NodeAffinitySpec = NonNullable<Affinity['nodeAffinity']>;
export type NodeSelector = DeepReadonly<NonNullable<NodeAffinitySpec['requiredDuringSchedulingIgnoredDuringExecution']>>;
export type NodeSelectorTerm = NodeSelector['nodeSelectorTerms'][number];
export type NodeSelectorRequirement = NonNullable<NodeSelectorTerm['matchExpressions']>[number];
export type PreferredSchedulingTerm = DeepReadonly<NonNullable<NodeAffinitySpec['preferredDuringSchedulingIgnoredDuringExecution']>[number]>;

/** `namespace/name` of a pod, for logs and events. */
export function podRef(pod: { readonly metadata?: { readonly namespace?: string; readonly name?: string } }): string {
  return `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
}

/** The pod's priority (spec.priority, 0 when unset), as upstream corev1helpers.PodPriority. */
export function podPriority(pod: ReadonlyPod): number {
  return pod.spec?.priority ?? 0;
}

type PodAffinitySpec = NonNullable<Affinity['podAffinity']>;
export type PodAffinityTerm = DeepReadonly<NonNullable<PodAffinitySpec['requiredDuringSchedulingIgnoredDuringExecution']>[number]>;
export type WeightedPodAffinityTerm = DeepReadonly<NonNullable<PodAffinitySpec['preferredDuringSchedulingIgnoredDuringExecution']>[number]>;
export type TopologySpreadConstraint = DeepReadonly<NonNullable<PodSpec['topologySpreadConstraints']>[number]>;

export const LABEL_HOSTNAME = 'kubernetes.io/hostname';
export const LABEL_TOPOLOGY_ZONE = 'topology.kubernetes.io/zone';

/**
 * Upstream util.MoreImportantPod: higher priority first; at equal priority the pod that started
 * earlier (status.startTime; a pod that has not started counts as starting now).
 */
export function moreImportantPod(a: ReadonlyPod, b: ReadonlyPod, now: number = Date.now()): boolean {
  const pa = podPriority(a);
  const pb = podPriority(b);
  if (pa !== pb) return pa > pb;
  return podStartTime(a, now) < podStartTime(b, now);
}

/** status.startTime in ms, or `now` for a pod that has not started. */
export function podStartTime(pod: ReadonlyPod, now: number = Date.now()): number {
  const t = pod.status?.startTime ? Date.parse(pod.status.startTime) : NaN;
  return Number.isNaN(t) ? now : t;
}
