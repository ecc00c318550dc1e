/**
 * TaintToleration (upstream plugins/tainttoleration):
 * - Filter: a node with a NoSchedule or NoExecute taint the pod does not tolerate is
 *   UnschedulableAndUnresolvable, reason `node(s) had untolerated taint {<key>: <value>}`
 *   naming the first such taint in the node's order. This is what keeps pods off nodes that
 *   are not ready: the node lifecycle controller and registering kubelets put
 *   `node.kubernetes.io/not-ready` / `unreachable` NoSchedule taints on them.
 * - Score: fewer untolerated PreferNoSchedule taints is better (normalised, reversed).
 * - Requeue: when a node is added or its taints change so that none is untolerated any more.
 */
import {
  ActionType, CycleState, MAX_NODE_SCORE, defaultNormalizeScore, nodeEvent, stateKey,
  type ClusterEventWithHint, type EnqueueExtensions, type FilterPlugin, type NodeScore, type PreScorePlugin, type ScorePlugin,
} from '../framework/interface.js';
import type { NodeInfo } from '../framework/node-info.js';
import { Status } from '../framework/status.js';
import type { ReadonlyPod, ReadonlyTaint, ReadonlyToleration } from '../framework/types.js';
import { Names } from './names.js';
import { findUntoleratedTaint, tolerationsTolerateTaint } from '@tskube/api';

export { toleratesTaint, tolerationsTolerateTaint } from '@tskube/api';

/** Taints that keep pods away: NoSchedule and NoExecute (upstream DoNotScheduleTaintsFilterFunc). */
export function isDoNotScheduleTaint(t: ReadonlyTaint): boolean {
  return t.effect === 'NoSchedule' || t.effect === 'NoExecute';
}

/** The first taint (in the node's order) passing `include` that no toleration tolerates. */
export function findMatchingUntoleratedTaint(
  taints: readonly ReadonlyTaint[] | undefined,
  tolerations: readonly ReadonlyToleration[] | undefined,
  include: (t: ReadonlyTaint) => boolean,
): ReadonlyTaint | undefined {
  return findUntoleratedTaint(taints, tolerations, include);
}

export function untoleratedTaintReason(t: ReadonlyTaint): string {
  return `node(s) had untolerated taint {${t.key}: ${t.value ?? ''}}`;
}

const PRE_SCORE_KEY = stateKey<readonly ReadonlyToleration[]>(`PreScore${Names.TaintToleration}`);

export class TaintToleration implements FilterPlugin, PreScorePlugin, ScorePlugin, EnqueueExtensions {
  readonly name = Names.TaintToleration;

  filter(_state: CycleState, pod: ReadonlyPod, nodeInfo: NodeInfo): Status | undefined {
    const node = nodeInfo.node;
    if (!node) return Status.fromError(new Error('invalid nodeInfo'));
    const taint = findMatchingUntoleratedTaint(node.spec?.taints, pod.spec?.tolerations, isDoNotScheduleTaint);
    return taint ? Status.unresolvable(untoleratedTaintReason(taint)) : undefined;
  }

  preScore(state: CycleState, pod: ReadonlyPod, nodes: readonly NodeInfo[]): Status | undefined {
    if (nodes.length === 0) return Status.skip();
    const prefer = (pod.spec?.tolerations ?? []).filter((t) => !t.effect || t.effect === 'PreferNoSchedule');
    state.write(PRE_SCORE_KEY, prefer);
    return undefined;
  }

  /** The number of PreferNoSchedule taints the pod does not tolerate (lower is better). */
  score(state: CycleState, pod: ReadonlyPod, nodeInfo: NodeInfo): { score: number; status?: Status } {
    const tolerations = state.read(PRE_SCORE_KEY) ?? (pod.spec?.tolerations ?? []).filter((t) => !t.effect || t.effect === 'PreferNoSchedule');
    let n = 0;
    for (const taint of nodeInfo.node?.spec?.taints ?? []) {
      if (taint.effect === 'PreferNoSchedule' && !tolerationsTolerateTaint(tolerations, taint)) n++;
    }
    return { score: n };
  }

  normalizeScore(_state: CycleState, _pod: ReadonlyPod, scores: NodeScore[]): Status | undefined {
    defaultNormalizeScore(MAX_NODE_SCORE, true, scores);
    return undefined;
  }

  eventsToRegister(): readonly ClusterEventWithHint[] {
    return [
      nodeEvent(ActionType.Add | ActionType.UpdateNodeTaint, (pod, oldObj, newObj) => {
        const was = oldObj ? findMatchingUntoleratedTaint(oldObj.spec?.taints, pod.spec?.tolerations, isDoNotScheduleTaint) !== undefined : true;
        const is = findMatchingUntoleratedTaint(newObj?.spec?.taints, pod.spec?.tolerations, isDoNotScheduleTaint) !== undefined;
        return was && !is ? 'Queue' : 'QueueSkip';
      }),
    ];
  }
}
