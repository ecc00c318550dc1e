/**
 * NodeAffinity (upstream plugins/nodeaffinity and component-helpers nodeaffinity):
 * - Filter: the node's labels match `spec.nodeSelector` (every key/value) AND, when the pod has
 *   required node affinity, at least one of its nodeSelectorTerms (terms are ORed; inside a
 *   term every matchExpression and matchField must hold; an empty term matches nothing; a
 *   malformed term is ignored). UnschedulableAndUnresolvable, reason
 *   `node(s) didn't match Pod's node affinity/selector`.
 * - PreFilter: Skip when the pod has neither; narrows the candidates to node names when
 *   every term pins `metadata.name In (...)`.
 * - Score: sum of the weights of the preferred terms a node matches, normalised to [0, 100].
 * - Requeue: a node added or relabelled that now matches.
 * The matching rules themselves are @tskube/api's node-affinity (shared with the DaemonSet controller).
 */
import { NODE_FIELD_NAME, nodeSelectorTermMatches, requiredNodeAffinityMatches as specMatches } from '@tskube/api';
import {
  ActionType, MAX_NODE_SCORE, defaultNormalizeScore, nodeEvent, stateKey,
  type ClusterEventWithHint, type CycleState, type EnqueueExtensions, type FilterPlugin, type NodeScore, type PreFilterOutput,
  type PreFilterPlugin, type PreScorePlugin, type ScorePlugin,
} from '../framework/interface.js';
import type { NodeInfo } from '../framework/node-info.js';
import { Status } from '../framework/status.js';
import type {
  PreferredSchedulingTerm, ReadonlyNode, ReadonlyPod,
} from '../framework/types.js';
import { Names } from './names.js';

export const ERR_REASON_POD = "node(s) didn't match Pod's node affinity/selector";
export const ERR_REASON_CONFLICT = 'pod affinity terms conflict';
/** The pod's hard node constraints: nodeSelector AND required node affinity (upstream RequiredNodeAffinity.Match). */
export function requiredNodeAffinityMatches(pod: ReadonlyPod, node: ReadonlyNode): boolean {
  return specMatches(pod.spec, node);
}

const PRE_SCORE_KEY = stateKey<readonly PreferredSchedulingTerm[]>(`PreScore${Names.NodeAffinity}`);

export class NodeAffinity implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin, EnqueueExtensions {
  readonly name = Names.NodeAffinity;

  preFilter(_state: CycleState, pod: ReadonlyPod): PreFilterOutput | undefined {
    const required = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
    if (!required && !pod.spec?.nodeSelector) return { status: Status.skip() };
    const terms = required?.nodeSelectorTerms ?? [];
    if (terms.length === 0) return undefined;
    // When every term pins node names, only those nodes can match.
    let union: Set<string> | undefined;
    for (const t of terms) {
      let inTerm: Set<string> | undefined;
      for (const f of t.matchFields ?? []) {
        if (f.key !== NODE_FIELD_NAME || f.operator !== 'In') continue;
        const s = new Set(f.values ?? []);
        inTerm = inTerm ? new Set([...inTerm].filter((n) => s.has(n))) : s;
      }
      if (!inTerm) return undefined; // this term may match any node
      union = new Set([...(union ?? []), ...inTerm]);
    }
    if (union && union.size === 0) return { status: Status.unresolvable(ERR_REASON_CONFLICT) };
    return union ? { result: { nodeNames: union } } : undefined;
  }

  filter(_state: CycleState, pod: ReadonlyPod, nodeInfo: NodeInfo): Status | undefined {
    const node = nodeInfo.node;
    if (!node) return Status.fromError(new Error('node not found'));
    return requiredNodeAffinityMatches(pod, node) ? undefined : Status.unresolvable(ERR_REASON_POD);
  }

  preScore(state: CycleState, pod: ReadonlyPod): Status | undefined {
    const preferred = pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
    if (preferred.length === 0) return Status.skip();
    state.write(PRE_SCORE_KEY, preferred);
    return undefined;
  }

  score(state: CycleState, pod: ReadonlyPod, nodeInfo: NodeInfo): { score: number; status?: Status } {
    const node = nodeInfo.node;
    if (!node) return { score: 0, status: Status.fromError(new Error('node not found')) };
    const preferred = state.read(PRE_SCORE_KEY) ?? pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
    let sum = 0;
    for (const p of preferred) if (p.weight !== 0 && nodeSelectorTermMatches(p.preference, node)) sum += p.weight;
    return { score: sum };
  }

  normalizeScore(_state: CycleState, _pod: ReadonlyPod, scores: NodeScore[]): Status | undefined {
    defaultNormalizeScore(MAX_NODE_SCORE, false, scores);
    return undefined;
  }

  eventsToRegister(): readonly ClusterEventWithHint[] {
    return [
      nodeEvent(ActionType.Add | ActionType.UpdateNodeLabel, (pod, oldNode, newNode) => {
        if (!newNode || !requiredNodeAffinityMatches(pod, newNode)) return 'QueueSkip';
        if (!oldNode) return 'Queue';
        return requiredNodeAffinityMatches(pod, oldNode) ? 'QueueSkip' : 'Queue';
      }),
    ];
  }
}
