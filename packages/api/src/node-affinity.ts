/**
 * Node affinity matching (upstream component-helpers nodeaffinity), shared by the scheduler's
 * NodeAffinity and PodTopologySpread plugins and the DaemonSet controller. Pure; accepts
 * read-only (cached) objects.
 *
 * - A term matches when it has at least one requirement and every matchExpression (labels)
 *   and matchField (only `metadata.name`, In/NotIn with one value) holds; an empty term matches
 *   nothing; a malformed requirement makes its term match nothing.
 * - A pod's hard constraints: every `spec.nodeSelector` key/value AND, when set, at least one
 *   required nodeSelectorTerm (terms ORed).
 */

export interface NodeSelectorRequirementLike {
  readonly key: string;
  readonly operator: string;
  readonly values?: readonly string[];
}
export interface NodeSelectorTermLike {
  readonly matchExpressions?: readonly NodeSelectorRequirementLike[];
  readonly matchFields?: readonly NodeSelectorRequirementLike[];
}
export interface NodeLike {
  readonly metadata?: { readonly name?: string; readonly labels?: Readonly<Record<string, string>> };
}
export interface PodSpecAffinityLike {
  readonly nodeSelector?: Readonly<Record<string, string>>;
  readonly affinity?: {
    readonly nodeAffinity?: {
      readonly requiredDuringSchedulingIgnoredDuringExecution?: { readonly nodeSelectorTerms: readonly NodeSelectorTermLike[] };
    };
  };
}

type Labels = Readonly<Record<string, string>>;

export const NODE_FIELD_NAME = 'metadata.name';

function parseInt64(s: string): number | undefined {
  return /^[+-]?\d+$/.test(s) ? Number(s) : undefined;
}

/** One matchExpression against labels; undefined when malformed. */
export function nodeSelectorRequirementMatches(r: NodeSelectorRequirementLike, labels: Labels): boolean | undefined {
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
      const want = parseInt64(values[0]!);
      if (want === undefined) return undefined;
      const got = has ? parseInt64(v!) : undefined;
      if (got === undefined) return false;
      return r.operator === 'Gt' ? got > want : got < want;
    }
    default: return undefined;
  }
}

/** One matchField (metadata.name In/NotIn with one value, as upstream); undefined when malformed. */
function fieldMatches(r: NodeSelectorRequirementLike, node: NodeLike): boolean | undefined {
  const values = r.values ?? [];
  if (r.key !== NODE_FIELD_NAME || values.length !== 1) return undefined;
  const name = node.metadata?.name ?? '';
  if (r.operator === 'In') return name === values[0];
  if (r.operator === 'NotIn') return name !== values[0];
  return undefined;
}

/** Whether one term matches; empty and malformed terms match nothing. */
export function nodeSelectorTermMatches(term: NodeSelectorTermLike, node: NodeLike): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (!exprs.length && !fields.length) return false;
  const labels: Labels = node.metadata?.labels ?? {};
  return exprs.every((e) => nodeSelectorRequirementMatches(e, labels) === true) && fields.every((f) => fieldMatches(f, node) === true);
}

/** nodeSelector AND required node affinity of a pod spec hold for `node`. */
export function requiredNodeAffinityMatches(spec: PodSpecAffinityLike | undefined, node: NodeLike): boolean {
  const labels: Labels = node.metadata?.labels ?? {};
  for (const [k, v] of Object.entries(spec?.nodeSelector ?? {})) if (labels[k] !== v) return false;
  const required = spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (!required) return true;
  return required.nodeSelectorTerms.some((t) => nodeSelectorTermMatches(t, node));
}
