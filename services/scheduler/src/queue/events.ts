/**
 * The cluster events the scheduler reacts to (upstream framework/events.go): which node
 * changes may make a pod schedulable, and the fixed events of the queue itself.
 */
import { jsonEqual } from '@tskube/api';
import { ALL_ACTIONS, ActionType, type ClusterEvent } from '../framework/interface.js';
import type { ReadonlyNode, ReadonlyPod } from '../framework/types.js';

export const Events = {
  NodeAdd: { resource: 'Node', actionType: ActionType.Add, label: 'NodeAdd' },
  NodeSpecUnschedulableChange: { resource: 'Node', actionType: ActionType.UpdateNodeTaint, label: 'NodeSpecUnschedulableChange' },
  NodeAllocatableChange: { resource: 'Node', actionType: ActionType.UpdateNodeAllocatable, label: 'NodeAllocatableChange' },
  NodeLabelChange: { resource: 'Node', actionType: ActionType.UpdateNodeLabel, label: 'NodeLabelChange' },
  NodeTaintChange: { resource: 'Node', actionType: ActionType.UpdateNodeTaint, label: 'NodeTaintChange' },
  NodeConditionChange: { resource: 'Node', actionType: ActionType.UpdateNodeCondition, label: 'NodeConditionChange' },
  NodeAnnotationChange: { resource: 'Node', actionType: ActionType.UpdateNodeAnnotation, label: 'NodeAnnotationChange' },
  AssignedPodAdd: { resource: 'AssignedPod', actionType: ActionType.Add, label: 'AssignedPodAdd' },
  AssignedPodUpdate: { resource: 'AssignedPod', actionType: ActionType.UpdatePod, label: 'AssignedPodUpdate' },
  AssignedPodDelete: { resource: 'AssignedPod', actionType: ActionType.Delete, label: 'AssignedPodDelete' },
  /** A pod waited in the unschedulable set longer than the limit: retried whatever rejected it. */
  UnschedulableTimeout: { resource: '*', actionType: ALL_ACTIONS, label: 'UnschedulableTimeout' },
} as const satisfies Record<string, ClusterEvent>;

/** A cluster change as the queue receives it, with the objects a QueueingHint needs. */
export type ClusterChange =
  | { resource: 'Node'; event: ClusterEvent; oldObj?: ReadonlyNode; newObj?: ReadonlyNode }
  | { resource: 'AssignedPod'; event: ClusterEvent; oldObj?: ReadonlyPod; newObj?: ReadonlyPod }
  | { resource: '*'; event: ClusterEvent };

export function nodeChange(event: ClusterEvent, oldObj: ReadonlyNode | undefined, newObj: ReadonlyNode | undefined): ClusterChange {
  return { resource: 'Node', event, oldObj, newObj };
}

export function assignedPodChange(event: ClusterEvent, oldObj: ReadonlyPod | undefined, newObj: ReadonlyPod | undefined): ClusterChange {
  return { resource: 'AssignedPod', event, oldObj, newObj };
}

function conditionStatuses(n: ReadonlyNode): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of n.status?.conditions ?? []) out[c.type] = c.status;
  return out;
}

/**
 * The scheduling-relevant differences between two versions of a node (upstream
 * nodeSchedulingPropertiesChange). Heartbeat-only updates yield nothing.
 */
export function nodeSchedulingPropertiesChange(newNode: ReadonlyNode, oldNode: ReadonlyNode): ClusterEvent[] {
  const out: ClusterEvent[] = [];
  if (Boolean(newNode.spec?.unschedulable) !== Boolean(oldNode.spec?.unschedulable)) out.push(Events.NodeSpecUnschedulableChange);
  if (!jsonEqual(newNode.status?.allocatable ?? {}, oldNode.status?.allocatable ?? {})
    || (!newNode.status?.allocatable && !jsonEqual(newNode.status?.capacity ?? {}, oldNode.status?.capacity ?? {}))) {
    out.push(Events.NodeAllocatableChange);
  }
  if (!jsonEqual(newNode.metadata?.labels ?? {}, oldNode.metadata?.labels ?? {})) out.push(Events.NodeLabelChange);
  if (!jsonEqual(newNode.spec?.taints ?? [], oldNode.spec?.taints ?? [])) out.push(Events.NodeTaintChange);
  if (!jsonEqual(conditionStatuses(newNode), conditionStatuses(oldNode))) out.push(Events.NodeConditionChange);
  if (!jsonEqual(newNode.metadata?.annotations ?? {}, oldNode.metadata?.annotations ?? {})) out.push(Events.NodeAnnotationChange);
  return out;
}

/**
 * Whether an update of an unscheduled pod may change its scheduling (upstream isPodUpdated):
 * anything but resourceVersion, generation, managedFields, finalizers and status.
 */
export function isPodUpdated(oldPod: ReadonlyPod, newPod: ReadonlyPod): boolean {
  const strip = (p: ReadonlyPod) => {
    const { resourceVersion: _rv, generation: _g, managedFields: _m, finalizers: _f, ...meta } = p.metadata ?? {};
    return { metadata: meta, spec: p.spec };
  };
  return !jsonEqual(strip(oldPod), strip(newPod));
}
