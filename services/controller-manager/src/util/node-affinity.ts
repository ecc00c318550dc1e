/**
 * A pod's hard node constraints against a node (upstream component-helpers
 * nodeaffinity.GetRequiredNodeAffinity(pod).Match): every `spec.nodeSelector` key/value
 * AND, when set, at least one required nodeSelectorTerm (terms ORed; inside a term every
 * matchExpression and matchField must hold; an empty or malformed term matches nothing).
 * Pure; accepts read-only objects.
 *
 * The scheduler's NodeAffinity plugin has the same rules; services do not import each other,
 * so the controller-manager keeps this copy (a candidate for @tskube/api).
 */
import type { Node, PodSpec } from '@tskube/api';
import type { DeepReadonly } from '@tskube/client';

type Labels = Readonly<Record<string, string>>;
type NodeSelectorTerm = NonNullable<NonNullable<NonNullable<PodSpec['affinity']>['nodeAffinity']>['requiredDuringSchedulingIgnoredDuringExecution']>['nodeSelectorTerms'][number];
type NodeSelectorRequirement = NonNullable<NodeSelectorTerm['matchFields']>[number];
type RoNode = Node | DeepReadonly<Node>;
type RoReq = DeepReadonly<NodeSelectorRequirement>;

const OBJECT_NAME_FIELD = 'metadata.name';

function int64(s: string): number | undefined {
  return /^[+-]?\d+$/.test(s) ? Number(s) : undefined;
}

/** One matchExpression; undefined when malformed. */
function expressionMatches(r: RoReq, labels: Labels): boolean | undefined {
  const has = Object.prototype.hasOwnProperty.call(labels, r.key);
  const v = has ? labels[r.key] : undefined;
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In': return values.length ? has && values.includes(v!) : undefined;
    case 'NotIn': return values.length ? !has || !values.includes(v!) : undefined;
    case 'Exists': return values.length ? undefined : has;
    case 'DoesNotExist': return values.length ? undefined : !has;
    case 'Gt':
    case 'Lt': {
      if (values.length !== 1) return undefined;
      const want = int64(values[0]!);
      if (want === undefined) return undefined;
      const got = has ? int64(v!) : undefined;
      if (got === undefined) return false;
      return r.operator === 'Gt' ? got > want : got < want;
    }
    default: return undefined;
  }
}

/** One matchField (metadata.name In/NotIn with one value); undefined when malformed. */
function fieldMatches(r: RoReq, node: RoNode): boolean | undefined {
  const values = r.values ?? [];
  if (r.key !== OBJECT_NAME_FIELD || values.length !== 1) return undefined;
  const name = node.metadata?.name ?? '';
  if (r.operator === 'In') return name === values[0];
  if (r.operator === 'NotIn') return name !== values[0];
  return undefined;
}

export function nodeSelectorTermMatches(term: DeepReadonly<NodeSelectorTerm>, node: RoNode): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (!exprs.length && !fields.length) return false;
  const labels: Labels = node.metadata?.labels ?? {};
  return exprs.every((e) => expressionMatches(e, labels) === true) && fields.every((f) => fieldMatches(f, node) === true);
}

/** nodeSelector AND required node affinity of `spec` hold for `node`. */
export function requiredNodeAffinityMatches(spec: PodSpec | DeepReadonly<PodSpec> | undefined, node: RoNode): boolean {
  const labels: Labels = node.metadata?.labels ?? {};
  for (const [k, v] of Object.entries(spec?.nodeSelector ?? {})) if (labels[k] !== v) return false;
  const required = spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (!required) return true;
  return required.nodeSelectorTerms.some((t) => nodeSelectorTermMatches(t, node));
}
