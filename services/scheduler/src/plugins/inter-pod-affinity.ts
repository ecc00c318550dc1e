/**
 * InterPodAffinity (upstream plugins/interpodaffinity): places a pod relative to the pods
 * already running, by topology domain (nodes with equal values of a term's `topologyKey`).
 *
 * Terms: a term selects pods by labelSelector (missing = none; matchLabelKeys /
 * mismatchLabelKeys merged in) in the namespaces it names, or those matching its
 * namespaceSelector (`{}` = all), or else the pod's own namespace.
 *
 * - PreFilter: counts, per (topologyKey, value), (1) existing pods whose required
 *   anti-affinity selects the incoming pod, (2) existing pods matching all of the incoming
 *   pod's required affinity terms, (3) existing pods matching each of its required
 *   anti-affinity terms. Skip when all of that is empty. A malformed selector in the incoming
 *   pod is UnschedulableAndUnresolvable (`parsing pod: …`).
 * - Filter, in upstream order:
 *   `node(s) didn't match pod affinity rules` (UnschedulableAndUnresolvable) when the node
 *   lacks a term's topology key or the domain has no matching pod; except the first pod of a
 *   group: when no pod anywhere matches and the pod matches all its own affinity terms, it may go
 *   anywhere that has the keys;
 *   `node(s) didn't match pod anti-affinity rules` (Unschedulable) when the node's domain
 *   holds a pod the incoming pod's anti-affinity selects;
 *   `node(s) didn't satisfy existing pods anti-affinity rules` (Unschedulable) when the node
 *   shares a domain with a pod whose anti-affinity selects the incoming pod.
 * - PreFilterExtensions: dry runs (preemption, nominated pods) adjust the counts.
 * - Score: for every existing pod (only those with affinity, unless the incoming pod has
 *   preferred terms), per domain of the existing pod's node: + weight of each incoming
 *   preferred affinity term it matches, − weight of each preferred anti-affinity term; + 1
 *   (hardPodAffinityWeight) for each of its required affinity terms selecting the incoming pod;
 *   ± weight of its own preferred (anti-)affinity terms selecting the incoming pod. A node
 *   scores the sum over the domains it belongs to; normalised min–max to [0, 100].
 * - Requeue: assigned pods added, deleted, relabelled; nodes added or relabelled.
 */
import { jsonEqual, matches, type Labels } from '@tskube/api';
import {
  ActionType, MAX_NODE_SCORE, assignedPodEvent, nodeEvent, stateKey,
  type ClusterEventWithHint, type CycleState, type EnqueueExtensions, type FilterPlugin, type NodeScore, type PreFilterOutput,
  type PreFilterPlugin, type PreScorePlugin, type ScorePlugin, type StateData,
} from '../framework/interface.js';
import type { NodeInfo, PodInfo } from '../framework/node-info.js';
import {
  affinityTermMatches, parsePodAffinity, type AffinityTerm, type ParsedAffinity, type WeightedAffinityTerm,
} from '../framework/pod-terms.js';
import type { ClusterListers, Handle } from '../framework/registry.js';
import { Status } from '../framework/status.js';
import type { ReadonlyNode, ReadonlyPod } from '../framework/types.js';
import { Names } from './names.js';

export const ERR_REASON_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules";
export const ERR_REASON_AFFINITY = "node(s) didn't match pod affinity rules";
export const ERR_REASON_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules";

/** Upstream InterPodAffinityArgs default. */
export const HARD_POD_AFFINITY_WEIGHT = 1;

/** (topologyKey, value) → count; entries that drop to 0 are removed. */
class PairCounts {
  readonly m = new Map<string, number>();

  static key(topologyKey: string, value: string): string { return `${topologyKey}\u0000${value}`; }

  get size(): number { return this.m.size; }
  get(topologyKey: string, value: string): number { return this.m.get(PairCounts.key(topologyKey, value)) ?? 0; }

  update(node: ReadonlyNode, topologyKey: string, delta: number): void {
    const labels = node.metadata?.labels ?? {};
    if (!Object.prototype.hasOwnProperty.call(labels, topologyKey)) return;
    const k = PairCounts.key(topologyKey, labels[topologyKey]!);
    const v = (this.m.get(k) ?? 0) + delta;
    if (v === 0) this.m.delete(k);
    else this.m.set(k, v);
  }

  /** An existing pod counts for affinity only when it matches every term (then for each term's key). */
  updateWithAffinityTerms(terms: readonly AffinityTerm[], pod: ReadonlyPod, node: ReadonlyNode, delta: number): void {
    if (!podMatchesAllAffinityTerms(terms, pod)) return;
    for (const t of terms) this.update(node, t.topologyKey, delta);
  }

  updateWithAntiAffinityTerms(terms: readonly AffinityTerm[], pod: ReadonlyPod, nsLabels: Labels, node: ReadonlyNode, delta: number): void {
    for (const t of terms) if (affinityTermMatches(t, pod, nsLabels)) this.update(node, t.topologyKey, delta);
  }

  clone(): PairCounts {
    const c = new PairCounts();
    for (const [k, v] of this.m) c.m.set(k, v);
    return c;
  }
}

function podMatchesAllAffinityTerms(terms: readonly AffinityTerm[], pod: ReadonlyPod): boolean {
  if (terms.length === 0) return false;
  for (const t of terms) if (!affinityTermMatches(t, pod, undefined)) return false;
  return true;
}

/** Replaces a non-empty namespaceSelector by the namespaces it selects now (upstream mergeAffinityTermNamespacesIfNotEmpty). */
function mergeNamespaces<T extends AffinityTerm>(t: T, listers: ClusterListers): T {
  if (t.namespaceSelector === null || t.namespaceSelector.length === 0) return t;
  const namespaces = new Set(t.namespaces);
  for (const ns of listers.namespaces()) if (matches(t.namespaceSelector, ns.metadata?.labels ?? {})) namespaces.add(ns.metadata?.name ?? '');
  return { ...t, namespaces, namespaceSelector: null };
}

interface IncomingTerms {
  readonly pod: ReadonlyPod;
  readonly requiredAffinityTerms: readonly AffinityTerm[];
  readonly requiredAntiAffinityTerms: readonly AffinityTerm[];
}

class PreFilterState implements StateData {
  constructor(
    readonly incoming: IncomingTerms,
    readonly namespaceLabels: Labels,
    readonly existingAntiAffinityCounts: PairCounts,
    readonly affinityCounts: PairCounts,
    readonly antiAffinityCounts: PairCounts,
  ) {}

  clone(): PreFilterState {
    return new PreFilterState(this.incoming, this.namespaceLabels, this.existingAntiAffinityCounts.clone(), this.affinityCounts.clone(), this.antiAffinityCounts.clone());
  }

  updateWithPod(pi: PodInfo, node: ReadonlyNode, delta: number): void {
    this.existingAntiAffinityCounts.updateWithAntiAffinityTerms(pi.affinity.requiredAntiAffinityTerms, this.incoming.pod, this.namespaceLabels, node, delta);
    this.affinityCounts.updateWithAffinityTerms(this.incoming.requiredAffinityTerms, pi.pod, node, delta);
    this.antiAffinityCounts.updateWithAntiAffinityTerms(this.incoming.requiredAntiAffinityTerms, pi.pod, undefined, node, delta);
  }
}

interface PreScoreState {
  /** topologyKey → value → score. */
  topologyScore: Map<string, Map<string, number>>;
}

const PRE_FILTER_KEY = stateKey<PreFilterState>(`PreFilter${Names.InterPodAffinity}`);
const PRE_SCORE_KEY = stateKey<PreScoreState>(`PreScore${Names.InterPodAffinity}`);

function addScore(m: Map<string, Map<string, number>>, term: AffinityTerm, weight: number, pod: ReadonlyPod, nsLabels: Labels, node: ReadonlyNode, sign: number): void {
  if (!affinityTermMatches(term, pod, nsLabels)) return;
  const labels = node.metadata?.labels ?? {};
  if (!Object.prototype.hasOwnProperty.call(labels, term.topologyKey)) return;
  let byValue = m.get(term.topologyKey);
  if (!byValue) m.set(term.topologyKey, (byValue = new Map()));
  const v = labels[term.topologyKey]!;
  byValue.set(v, (byValue.get(v) ?? 0) + weight * sign);
}

export class InterPodAffinity implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin, EnqueueExtensions {
  readonly name = Names.InterPodAffinity;

  constructor(private readonly handle: Pick<Handle, 'snapshot' | 'listers'>) {}

  preFilter(state: CycleState, pod: ReadonlyPod, nodes: readonly NodeInfo[]): PreFilterOutput | undefined {
    const parsed = parsePodAffinity(pod);
    if (parsed.parseError) return { status: Status.unresolvable(`parsing pod: ${parsed.parseError}`) };
    const listers = this.handle.listers;
    const incoming: IncomingTerms = {
      pod,
      requiredAffinityTerms: parsed.requiredAffinityTerms.map((t) => mergeNamespaces(t, listers)),
      requiredAntiAffinityTerms: parsed.requiredAntiAffinityTerms.map((t) => mergeNamespaces(t, listers)),
    };
    const nsLabels = listers.namespace(pod.metadata?.namespace ?? '')?.metadata?.labels;
    const existingAnti = new PairCounts();
    for (const ni of nodes) {
      if (ni.podsWithRequiredAntiAffinity === 0 || !ni.node) continue;
      for (const pi of ni.podInfosIter()) {
        if (pi.affinity.requiredAntiAffinityTerms.length > 0) existingAnti.updateWithAntiAffinityTerms(pi.affinity.requiredAntiAffinityTerms, pod, nsLabels, ni.node, 1);
      }
    }
    const affinity = new PairCounts();
    const anti = new PairCounts();
    if (incoming.requiredAffinityTerms.length > 0 || incoming.requiredAntiAffinityTerms.length > 0) {
      for (const ni of nodes) {
        if (!ni.node) continue;
        for (const pi of ni.podInfosIter()) {
          affinity.updateWithAffinityTerms(incoming.requiredAffinityTerms, pi.pod, ni.node, 1);
          anti.updateWithAntiAffinityTerms(incoming.requiredAntiAffinityTerms, pi.pod, undefined, ni.node, 1);
        }
      }
    }
    if (existingAnti.size === 0 && incoming.requiredAffinityTerms.length === 0 && incoming.requiredAntiAffinityTerms.length === 0) {
      return { status: Status.skip() };
    }
    state.write(PRE_FILTER_KEY, new PreFilterState(incoming, nsLabels, existingAnti, affinity, anti));
    return undefined;
  }

  addPod(state: CycleState, _podToSchedule: ReadonlyPod, podInfo: PodInfo, nodeInfo: NodeInfo): Status | undefined {
    if (nodeInfo.node) state.read(PRE_FILTER_KEY)?.updateWithPod(podInfo, nodeInfo.node, 1);
    return undefined;
  }

  removePod(state: CycleState, _podToSchedule: ReadonlyPod, podInfo: PodInfo, nodeInfo: NodeInfo): Status | undefined {
    if (nodeInfo.node) state.read(PRE_FILTER_KEY)?.updateWithPod(podInfo, nodeInfo.node, -1);
    return undefined;
  }

  filter(state: CycleState, _pod: ReadonlyPod, nodeInfo: NodeInfo): Status | undefined {
    const s = state.read(PRE_FILTER_KEY);
    if (!s) return Status.fromError(new Error(`reading "PreFilter${Names.InterPodAffinity}" from cycleState: not found`));
    const node = nodeInfo.node;
    if (!node) return Status.fromError(new Error('node not found'));
    if (!satisfyPodAffinity(s, node)) return Status.unresolvable(ERR_REASON_AFFINITY);
    if (!satisfyPodAntiAffinity(s, node)) return Status.unschedulable(ERR_REASON_ANTI_AFFINITY);
    if (!satisfyExistingPodsAntiAffinity(s, node)) return Status.unschedulable(ERR_REASON_EXISTING_ANTI_AFFINITY);
    return undefined;
  }

  preScore(state: CycleState, pod: ReadonlyPod, nodes: readonly NodeInfo[]): Status | undefined {
    if (nodes.length === 0) return Status.skip();
    const a = pod.spec?.affinity;
    const hasConstraints = (a?.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.length ?? 0) > 0
      || (a?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.length ?? 0) > 0;
    // Without preferred terms of its own, only existing pods with affinity can score.
    const allNodes = hasConstraints ? this.handle.snapshot.list() : this.handle.snapshot.havePodsWithAffinityList();
    const parsed: ParsedAffinity = parsePodAffinity(pod);
    if (parsed.parseError) return Status.fromError(new Error(`parsing pod: ${parsed.parseError}`));
    const listers = this.handle.listers;
    const preferredAffinity: WeightedAffinityTerm[] = parsed.preferredAffinityTerms.map((t) => mergeNamespaces(t, listers));
    const preferredAnti: WeightedAffinityTerm[] = parsed.preferredAntiAffinityTerms.map((t) => mergeNamespaces(t, listers));
    const nsLabels = listers.namespace(pod.metadata?.namespace ?? '')?.metadata?.labels;
    const topologyScore = new Map<string, Map<string, number>>();
    for (const ni of allNodes) {
      const node = ni.node;
      if (!node || Object.keys(node.metadata?.labels ?? {}).length === 0) continue;
      for (const existing of ni.podInfosIter()) {
        const ea = existing.affinity;
        if (!hasConstraints && !existing.pod.spec?.affinity?.podAffinity && !existing.pod.spec?.affinity?.podAntiAffinity) continue;
        for (const t of preferredAffinity) addScore(topologyScore, t, t.weight, existing.pod, undefined, node, 1);
        for (const t of preferredAnti) addScore(topologyScore, t, t.weight, existing.pod, undefined, node, -1);
        if (HARD_POD_AFFINITY_WEIGHT > 0) for (const t of ea.requiredAffinityTerms) addScore(topologyScore, t, HARD_POD_AFFINITY_WEIGHT, pod, nsLabels, node, 1);
        for (const t of ea.preferredAffinityTerms) addScore(topologyScore, t, t.weight, pod, nsLabels, node, 1);
        for (const t of ea.preferredAntiAffinityTerms) addScore(topologyScore, t, t.weight, pod, nsLabels, node, -1);
      }
    }
    if (topologyScore.size === 0) return Status.skip();
    state.write(PRE_SCORE_KEY, { topologyScore });
    return undefined;
  }

  score(state: CycleState, _pod: ReadonlyPod, nodeInfo: NodeInfo): { score: number; status?: Status } {
    const s = state.read(PRE_SCORE_KEY);
    if (!s) return { score: 0, status: Status.fromError(new Error(`reading "PreScore${Names.InterPodAffinity}" from cycleState: not found`)) };
    const labels = nodeInfo.node?.metadata?.labels ?? {};
    let score = 0;
    for (const [key, byValue] of s.topologyScore) {
      if (Object.prototype.hasOwnProperty.call(labels, key)) score += byValue.get(labels[key]!) ?? 0;
    }
    return { score };
  }

  normalizeScore(state: CycleState, _pod: ReadonlyPod, scores: NodeScore[]): Status | undefined {
    const s = state.read(PRE_SCORE_KEY);
    if (!s || s.topologyScore.size === 0) return undefined;
    let min = Number.MAX_SAFE_INTEGER;
    let max = Number.MIN_SAFE_INTEGER;
    for (const sc of scores) {
      if (sc.score > max) max = sc.score;
      if (sc.score < min) min = sc.score;
    }
    const diff = max - min;
    for (const sc of scores) sc.score = diff > 0 ? Math.trunc(MAX_NODE_SCORE * ((sc.score - min) / diff)) : 0;
    return undefined;
  }

  eventsToRegister(): readonly ClusterEventWithHint[] {
    return [
      assignedPodEvent(ActionType.Add | ActionType.Delete | ActionType.UpdatePod, (_pod, oldObj, newObj) => {
        if (oldObj && newObj) return jsonEqual(oldObj.metadata?.labels ?? {}, newObj.metadata?.labels ?? {}) ? 'QueueSkip' : 'Queue';
        return 'Queue';
      }),
      nodeEvent(ActionType.Add | ActionType.UpdateNodeLabel),
    ];
  }
}

function satisfyPodAffinity(s: PreFilterState, node: ReadonlyNode): boolean {
  const labels = node.metadata?.labels ?? {};
  let podsExist = true;
  for (const t of s.incoming.requiredAffinityTerms) {
    if (!Object.prototype.hasOwnProperty.call(labels, t.topologyKey)) return false; // every key must exist
    if (s.affinityCounts.get(t.topologyKey, labels[t.topologyKey]!) <= 0) podsExist = false;
  }
  if (podsExist) return true;
  // The first pod of a group with affinity to itself: nothing matches anywhere yet.
  return s.affinityCounts.size === 0 && podMatchesAllAffinityTerms(s.incoming.requiredAffinityTerms, s.incoming.pod);
}

function satisfyPodAntiAffinity(s: PreFilterState, node: ReadonlyNode): boolean {
  if (s.antiAffinityCounts.size === 0) return true;
  const labels = node.metadata?.labels ?? {};
  for (const t of s.incoming.requiredAntiAffinityTerms) {
    if (Object.prototype.hasOwnProperty.call(labels, t.topologyKey) && s.antiAffinityCounts.get(t.topologyKey, labels[t.topologyKey]!) > 0) return false;
  }
  return true;
}

function satisfyExistingPodsAntiAffinity(s: PreFilterState, node: ReadonlyNode): boolean {
  if (s.existingAntiAffinityCounts.size === 0) return true;
  for (const [k, v] of Object.entries(node.metadata?.labels ?? {})) if (s.existingAntiAffinityCounts.get(k, v) > 0) return false;
  return true;
}
