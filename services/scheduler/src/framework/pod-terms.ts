/**
 * What the scheduler derives once from a pod's spec (upstream framework.PodInfo's parsed
 * parts): its inter-pod affinity terms with parsed selectors, and the host ports it uses.
 *
 * Selector semantics follow upstream metav1.LabelSelectorAsSelector: a missing selector
 * matches nothing (`null`), an empty one (`{}`) matches everything (`[]`).
 */
import { fromLabelSelector, matches, type LabelSelector, type Labels, type Selector } from '@tskube/api';
import type { DeepReadonly } from '@tskube/client';
import type { PodAffinityTerm, ReadonlyPod, WeightedPodAffinityTerm } from './types.js';

/** A parsed PodAffinityTerm (upstream framework.AffinityTerm). */
export interface AffinityTerm {
  /** Namespaces named by the term (the pod's own when neither namespaces nor namespaceSelector is set). */
  readonly namespaces: ReadonlySet<string>;
  /** Pods the term selects; null = none. */
  readonly selector: Selector | null;
  readonly topologyKey: string;
  /** Namespaces (by their labels) the term selects; null = none, [] = all. */
  readonly namespaceSelector: Selector | null;
}

export interface WeightedAffinityTerm extends AffinityTerm {
  readonly weight: number;
}

/** A label selector of a (read-only) spec; throws a 400 ApiError on an unknown operator. */
export function selectorOf(ls: DeepReadonly<LabelSelector> | undefined | null): Selector | null {
  // fromLabelSelector only reads its argument.
  return fromLabelSelector(ls as LabelSelector | undefined | null);
}

/**
 * Parses one term of `pod`. matchLabelKeys / mismatchLabelKeys add `key in (v)` /
 * `key notin (v)` for the pod's own label values (what upstream's apiserver merges into the
 * selector at creation; merging again is harmless).
 */
export function newAffinityTerm(pod: ReadonlyPod, term: PodAffinityTerm): AffinityTerm {
  let selector = selectorOf(term.labelSelector);
  const labels = pod.metadata?.labels ?? {};
  if (selector && (term.matchLabelKeys?.length || term.mismatchLabelKeys?.length)) {
    const extra = [...selector];
    for (const k of term.matchLabelKeys ?? []) if (k in labels) extra.push({ key: k, op: 'in', values: [labels[k]!] });
    for (const k of term.mismatchLabelKeys ?? []) if (k in labels) extra.push({ key: k, op: 'notin', values: [labels[k]!] });
    selector = extra;
  }
  const namespaces = new Set<string>();
  if ((term.namespaces?.length ?? 0) === 0 && !term.namespaceSelector) namespaces.add(pod.metadata?.namespace ?? '');
  else for (const n of term.namespaces ?? []) namespaces.add(n);
  return { namespaces, selector, topologyKey: term.topologyKey, namespaceSelector: selectorOf(term.namespaceSelector) };
}

/**
 * Whether `term` selects `pod` (upstream AffinityTerm.Matches): the pod's namespace is named or
 * matched by the namespace selector (against `nsLabels`, the pod's namespace labels), and the
 * label selector matches the pod's labels.
 */
export function affinityTermMatches(term: AffinityTerm, pod: ReadonlyPod, nsLabels: Labels): boolean {
  const inNamespace = term.namespaces.has(pod.metadata?.namespace ?? '')
    || (term.namespaceSelector !== null && matches(term.namespaceSelector, nsLabels ?? {}));
  return inNamespace && term.selector !== null && matches(term.selector, pod.metadata?.labels ?? {});
}

export interface ParsedAffinity {
  readonly requiredAffinityTerms: readonly AffinityTerm[];
  readonly requiredAntiAffinityTerms: readonly AffinityTerm[];
  readonly preferredAffinityTerms: readonly WeightedAffinityTerm[];
  readonly preferredAntiAffinityTerms: readonly WeightedAffinityTerm[];
  /** The first selector that failed to parse (its term is left out). */
  readonly parseError?: string;
}

const NO_AFFINITY: ParsedAffinity = { requiredAffinityTerms: [], requiredAntiAffinityTerms: [], preferredAffinityTerms: [], preferredAntiAffinityTerms: [] };

/** The pod's inter-pod affinity terms, parsed. */
export function parsePodAffinity(pod: ReadonlyPod): ParsedAffinity {
  const a = pod.spec?.affinity;
  if (!a?.podAffinity && !a?.podAntiAffinity) return NO_AFFINITY;
  let parseError: string | undefined;
  const req = (terms: readonly PodAffinityTerm[] | undefined): AffinityTerm[] => {
    const out: AffinityTerm[] = [];
    for (const t of terms ?? []) {
      try {
        out.push(newAffinityTerm(pod, t));
      } catch (e) {
        parseError ??= e instanceof Error ? e.message : String(e);
      }
    }
    return out;
  };
  const pref = (terms: readonly WeightedPodAffinityTerm[] | undefined): WeightedAffinityTerm[] => {
    const out: WeightedAffinityTerm[] = [];
    for (const t of terms ?? []) {
      try {
        out.push({ ...newAffinityTerm(pod, t.podAffinityTerm), weight: t.weight });
      } catch (e) {
        parseError ??= e instanceof Error ? e.message : String(e);
      }
    }
    return out;
  };
  return {
    requiredAffinityTerms: req(a.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution),
    requiredAntiAffinityTerms: req(a.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution),
    preferredAffinityTerms: pref(a.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution),
    preferredAntiAffinityTerms: pref(a.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution),
    ...(parseError ? { parseError } : {}),
  };
}

/** A host port a pod uses: hostIP defaults to 0.0.0.0 (all addresses), protocol to TCP. */
export interface HostPort {
  readonly ip: string;
  readonly protocol: string;
  readonly port: number;
}

export const DEFAULT_BIND_ALL_HOST_IP = '0.0.0.0';

/**
 * The host ports of the pod's containers and restartable (sidecar) init containers, as
 * upstream's NodePorts plugin and NodeInfo.UsedPorts collect them.
 */
export function podHostPorts(pod: ReadonlyPod): HostPort[] {
  const out: HostPort[] = [];
  const spec = pod.spec;
  const containers = [...(spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always'), ...(spec?.containers ?? [])];
  for (const c of containers) {
    for (const p of c.ports ?? []) {
      if (!p.hostPort || p.hostPort <= 0) continue;
      out.push({ ip: p.hostIP || DEFAULT_BIND_ALL_HOST_IP, protocol: p.protocol || 'TCP', port: p.hostPort });
    }
  }
  return out;
}

/** Whether two host ports collide: same protocol and port, and same address or either is 0.0.0.0. */
export function hostPortsConflict(a: HostPort, b: HostPort): boolean {
  if (a.port !== b.port || a.protocol !== b.protocol) return false;
  return a.ip === b.ip || a.ip === DEFAULT_BIND_ALL_HOST_IP || b.ip === DEFAULT_BIND_ALL_HOST_IP;
}
