/**
 * DefaultPreemption, evaluation only (upstream plugins/defaultpreemption + framework/preemption).
 *
 * Runs when no node fits and explains whether preemption could help, producing upstream's
 * suffix of the FailedScheduling message:
 *
 *   preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.
 *
 * - A pod with `preemptionPolicy: Never` is not eligible.
 * - Only nodes that rejected the pod as Unschedulable (not ...AndUnresolvable) are candidates.
 * - On a candidate node, every pod with lower priority is a potential victim; with none, the
 *   node gets "No preemption victims found for incoming pod"; otherwise the filters run again
 *   on a copy of the node without those pods, and a node that still does not fit keeps the
 *   filter's status.
 * - The message counts those statuses over all nodes; nodes that were no candidate count as
 *   "Preemption is not helpful for scheduling".
 *
 * Not implemented yet (see docs): evicting victims and nominating a node. When some node would
 * fit after preemption, this plugin reports nothing (upstream would preempt and report nothing
 * too) and logs that preemption was skipped; the pod waits for a cluster event as usual.
 */
import { Names } from './names.js';
import { Code, Status } from '../framework/status.js';
import { NodeToStatus, fitErrorMessage } from '../framework/fit-error.js';
import type { CycleState, NodeToStatusReader, PostFilterOutput, PostFilterPlugin } from '../framework/interface.js';
import type { NodeInfo } from '../framework/node-info.js';
import { podKey } from '../framework/node-info.js';
import type { Handle } from '../framework/registry.js';
import { podPriority, podRef, type ReadonlyPod } from '../framework/types.js';

export const MSG_NOT_HELPFUL = 'Preemption is not helpful for scheduling';
export const MSG_NO_VICTIMS = 'No preemption victims found for incoming pod';
export const MSG_POLICY_NEVER = 'not eligible due to preemptionPolicy=Never.';

export class DefaultPreemption implements PostFilterPlugin {
  readonly name = Names.DefaultPreemption;

  constructor(private readonly handle: Handle) {}

  postFilter(state: CycleState, pod: ReadonlyPod, filtered: NodeToStatusReader, nodes: readonly NodeInfo[]): PostFilterOutput {
    if (pod.spec?.preemptionPolicy === 'Never') return { status: Status.unschedulable(`preemption: ${MSG_POLICY_NEVER}`) };
    const potential = filtered.nodesForStatusCode(nodes, Code.Unschedulable);
    const statuses = new NodeToStatus();
    statuses.absentNodesStatus = Status.unresolvable(MSG_NOT_HELPFUL);
    const candidates: string[] = [];
    for (const n of potential) {
      const s = this.selectVictimsOnNode(state, pod, n);
      if (s.isSuccess()) candidates.push(n.name);
      else statuses.set(n.name, s);
    }
    if (candidates.length > 0) {
      this.handle.logger.debug('preemption skipped: not implemented', { pod: podRef(pod), candidates: candidates.length });
      return { status: Status.unschedulable() };
    }
    const msg = fitErrorMessage(nodes.length, { nodeToStatus: statuses, preFilterMsg: '', postFilterMsg: '' });
    return { status: Status.unschedulable(`preemption: ${msg}`) };
  }

  /** Success when the pod would fit `nodeInfo` once every lower-priority pod is gone. */
  private selectVictimsOnNode(state: CycleState, pod: ReadonlyPod, nodeInfo: NodeInfo): Status {
    const prio = podPriority(pod);
    const victims = nodeInfo.pods.filter((p) => podPriority(p.pod) < prio);
    if (victims.length === 0) return Status.unresolvable(MSG_NO_VICTIMS);
    const copy = nodeInfo.clone();
    for (const v of victims) copy.removePod(podKey(v.pod));
    return this.handle.framework.runFilterPlugins(state.clone(), pod, copy);
  }
}
