/**
 * NodePorts (upstream plugins/nodeports): a pod asking for host ports fits a node only if none
 * of them is taken there by a pod already on it (bound, assumed or, in a dry run, nominated).
 *
 * - PreFilter: collects the pod's host ports (containers and sidecar init containers; hostIP
 *   defaults to 0.0.0.0, protocol to TCP); Skip when there are none.
 * - Filter: a port conflicts when protocol and port are equal and the addresses are equal or
 *   either is 0.0.0.0 (all addresses). Unschedulable (preemption may free the port),
 *   reason `node(s) didn't have free ports for the requested pod ports`.
 * - Requeue: an assigned pod using one of those ports deleted; a node added.
 */
import {
  ActionType, assignedPodEvent, nodeEvent, stateKey,
  type ClusterEventWithHint, type CycleState, type EnqueueExtensions, type FilterPlugin, type PreFilterOutput, type PreFilterPlugin,
} from '../framework/interface.js';
import type { NodeInfo } from '../framework/node-info.js';
import { hostPortsConflict, podHostPorts, type HostPort } from '../framework/pod-terms.js';
import { Status } from '../framework/status.js';
import type { ReadonlyPod } from '../framework/types.js';
import { Names } from './names.js';

export const ERR_REASON_PORTS = "node(s) didn't have free ports for the requested pod ports";

const PRE_FILTER_KEY = stateKey<readonly HostPort[]>(`PreFilter${Names.NodePorts}`);

/** Whether any of `wanted` collides with a port used by a pod on `nodeInfo`. */
export function portsConflict(wanted: readonly HostPort[], nodeInfo: NodeInfo): boolean {
  for (const pi of nodeInfo.podInfosIter()) {
    for (const used of pi.hostPorts) for (const w of wanted) if (hostPortsConflict(w, used)) return true;
  }
  return false;
}

export class NodePorts implements PreFilterPlugin, FilterPlugin, EnqueueExtensions {
  readonly name = Names.NodePorts;

  preFilter(state: CycleState, pod: ReadonlyPod): PreFilterOutput | undefined {
    const ports = podHostPorts(pod);
    if (ports.length === 0) return { status: Status.skip() };
    state.write(PRE_FILTER_KEY, ports);
    return undefined;
  }

  filter(state: CycleState, pod: ReadonlyPod, nodeInfo: NodeInfo): Status | undefined {
    const wanted = state.read(PRE_FILTER_KEY) ?? podHostPorts(pod);
    return portsConflict(wanted, nodeInfo) ? Status.unschedulable(ERR_REASON_PORTS) : undefined;
  }

  eventsToRegister(): readonly ClusterEventWithHint[] {
    return [
      assignedPodEvent(ActionType.Delete, (pod, deleted) => {
        const freed = deleted ? podHostPorts(deleted) : [];
        const wanted = podHostPorts(pod);
        return freed.some((f) => wanted.some((w) => hostPortsConflict(w, f))) ? 'Queue' : 'QueueSkip';
      }),
      nodeEvent(ActionType.Add),
    ];
  }
}
