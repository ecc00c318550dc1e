/**
 * NodeName (upstream plugins/nodename): a pod that names a node (`spec.nodeName`) fits only
 * that node. UnschedulableAndUnresolvable, reason `node(s) didn't match the requested node name`.
 * (The queue never holds pods with a nodeName; the filter matters for dry runs and profiles
 * that schedule such pods.)
 */
import { ActionType, nodeEvent, type ClusterEventWithHint, type CycleState, type EnqueueExtensions, type FilterPlugin } from '../framework/interface.js';
import type { NodeInfo } from '../framework/node-info.js';
import { Status } from '../framework/status.js';
import type { ReadonlyPod } from '../framework/types.js';
import { Names } from './names.js';

export const ERR_REASON_NODE_NAME = "node(s) didn't match the requested node name";

function fits(pod: ReadonlyPod, nodeName: string | undefined): boolean {
  return !pod.spec?.nodeName || pod.spec.nodeName === nodeName;
}

export class NodeName implements FilterPlugin, EnqueueExtensions {
  readonly name = Names.NodeName;

  filter(_state: CycleState, pod: ReadonlyPod, nodeInfo: NodeInfo): Status | undefined {
    if (!nodeInfo.node) return Status.fromError(new Error('node not found'));
    return fits(pod, nodeInfo.name) ? undefined : Status.unresolvable(ERR_REASON_NODE_NAME);
  }

  eventsToRegister(): readonly ClusterEventWithHint[] {
    return [nodeEvent(ActionType.Add, (pod, _old, node) => (fits(pod, node?.metadata?.name) ? 'Queue' : 'QueueSkip'))];
  }
}
