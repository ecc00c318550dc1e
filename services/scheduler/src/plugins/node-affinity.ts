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
 */
import {
  ActionType, MAX_NODE_SCORE, defaultNormalizeScore, nodeEvent, stateKey,
  type ClusterEventWithHint, type CycleState, type EnqueueExtensions, type FilterPlugin, type NodeScore, type PreFilterOutput,
  type PreFilterPlugin, type PreScorePlugin, type ScorePlugin,
} from '../framework/interface.js';
import type { NodeInfo } from '../framework/node-info.js';
import { Status } from '../framework/status.js';
import type {
  NodeSelectorRequirement, NodeSelectorTerm, PreferredSchedulingTerm, ReadonlyNode, ReadonlyPod,
} from '../framework/types.js';
import { Names } from './names.js';

export const ERR_REASON_POD = "node(s) didn't match Pod's node affinity/selector";
export const ERR_REASON_CONFLICT = 'pod affinity terms conflict';
const OBJECT_NAME_FIELD = 'metadata.name';

type Labels = Readonly<Record<string, string>>;

function parseInt64(s: string): number | undefined {
  return /^[+-]?\d+$/.test(s) ? Number(s) : undefined;
}

/** One matchExpression against labels; undefined when malformed (the whole term is then ignored). */
function matchExpression(r: NodeSelectorRequirement, labels: Labels): boolean | undefined {
  const has = Object.prototype.hasOwnProperty.call(labels, r.key);
  const v = has ? labels[r.key]! : undefined;
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In':
      if (values.length === 0) return undefined;
      return has && values.includes(v!);
    case 'NotIn':
      if (values.length === 0) return undefined;
      return !has || !values.includes(v!);
    case 'Exists':
      if (values.length !== 0) return undefined;
      return has;
    case 'DoesNotExist':
      if (values.length !== 0) return undefined;
      return !has;
    case 'Gt':
    case 'Lt': {
      if (values.length !== 1) return undefined;
      const want = parseInt64(values[0]!);
      if (want === undefined) return undefined;
      const got = has ? parseInt64(v!) : undefined;
      if (got === undefined) return false;
      return r.operator === 'Gt' ? got > want : got < want;
    }
    default:
      return undefined;
  }
}

/** One matchField (only metadata.name, In/NotIn with one value, as upstream); undefined when malformed. */
function matchField(r: NodeSelectorRequirement, node: ReadonlyNode): boolean | undefined {
  if (r.key !== OBJECT_NAME_FIELD) return undefined;
  const values = r.values ?? [];
  if (values.length !== 1) return undefined;
  const name = node.metadata?.name ?? '';
  if (r.operator === 'In') return name === values[0];
  if (r.operator === 'NotIn') return name !== values[0];
  return undefined;
}

/** Whether one term matches; empty and malformed terms match nothing. */
export function termMatches(term: NodeSelectorTerm, node: ReadonlyNode): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  const labels: Labels = node.metadata?.labels ?? {};
  for (const e of exprs) if (matchExpression(e, labels) !== true) return false;
  for (const f of fields) if (matchField(f, node) !== true) return false;
  return true;
}

/** The pod's hard node constraints: nodeSelector AND required node affinity (upstream RequiredNodeAffinity.Match). */
export function requiredNodeAffinityMatches(pod: ReadonlyPod, node: ReadonlyNode): boolean {
  const labels: Labels = node.metadata?.labels ?? {};
  for (const [k, v] of Object.entries(pod.spec?.nodeSelector ?? {})) if (labels[k] !== v) return false;
  const required = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (!required) return true;
  return required.nodeSelectorTerms.some((t) => termMatches(t, node));
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
        if (f.key !== OBJECT_NAME_FIELD || f.operator !== 'In') continue;
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
    for (const p of preferred) if (p.weight !== 0 && termMatches(p.preference, node)) sum += p.weight;
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
