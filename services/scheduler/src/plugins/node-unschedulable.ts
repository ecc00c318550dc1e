/**
 * NodeUnschedulable (upstream plugins/nodeunschedulable): a cordoned node
 * (`spec.unschedulable: true`) takes no new pods, unless the pod tolerates the
 * `node.kubernetes.io/unschedulable:NoSchedule` taint. UnschedulableAndUnresolvable,
 * reason `node(s) were unschedulable`. Requeue: a node added or uncordoned.
 */
import { ActionType, nodeEvent, type ClusterEventWithHint, type CycleState, type EnqueueExtensions, type FilterPlugin } from '../framework/interface.js';
import type { NodeInfo } from '../framework/node-info.js';
import { Status } from '../framework/status.js';
import type { ReadonlyPod } from '../framework/types.js';
import { Names } from './names.js';
import { tolerationsTolerateTaint } from './taint-toleration.js';

export const ERR_REASON_UNSCHEDULABLE = 'node(s) were unschedulable';
export const ERR_REASON_UNKNOWN_CONDITION = 'node(s) had unknown conditions';
export const TAINT_NODE_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';

function toleratesUnschedulable(pod: ReadonlyPod): boolean {
  return tolerationsTolerateTaint(pod.spec?.tolerations, { key: TAINT_NODE_UNSCHEDULABLE, effect: 'NoSchedule' });
}

export class NodeUnschedulable implements FilterPlugin, EnqueueExtensions {
  readonly name = Names.NodeUnschedulable;

  filter(_state: CycleState, pod: ReadonlyPod, nodeInfo: NodeInfo): Status | undefined {
    const node = nodeInfo.node;
    if (!node) return Status.unresolvable(ERR_REASON_UNKNOWN_CONDITION);
    if (node.spec?.unschedulable && !toleratesUnschedulable(pod)) return Status.unresolvable(ERR_REASON_UNSCHEDULABLE);
    return undefined;
  }

  eventsToRegister(): readonly ClusterEventWithHint[] {
    return [
      nodeEvent(ActionType.Add | ActionType.UpdateNodeTaint, (pod, _old, node) =>
        (node && (!node.spec?.unschedulable || toleratesUnschedulable(pod)) ? 'Queue' : 'QueueSkip')),
    ];
  }
}
