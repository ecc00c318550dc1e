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
