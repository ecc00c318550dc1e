/**
 * PodTopologySpread (upstream plugins/podtopologyspread): spreads matching pods evenly over
 * topology domains (nodes with equal values of `topologyKey`).
 *
 * Constraints: the pod's `topologySpreadConstraints`; a pod without any gets upstream's system
 * defaults when a Service, ReplicationController, ReplicaSet or StatefulSet selects/owns it:
 * `kubernetes.io/hostname` maxSkew 3 and `topology.kubernetes.io/zone` maxSkew 5, both
 * ScheduleAnyway, with a selector built from those objects (upstream helper.DefaultSelector).
 * Per constraint: the labelSelector (missing = matches nothing) plus `key in (value)` for each
 * `matchLabelKeys` key the pod has; minDomains (default 1); nodeAffinityPolicy (default Honor:
 * only nodes matching the pod's nodeSelector/required node affinity count) and
 * nodeTaintsPolicy (default Ignore; Honor leaves out nodes with untolerated
 * NoSchedule/NoExecute taints). Only pods of the incoming pod's namespace that are not being
 * deleted are counted.
 *
 * - PreFilter (DoNotSchedule constraints; Skip without): counts matching pods per domain over
 *   all nodes that have every constraint's topology key and pass the inclusion policies.
 * - Filter: a node without a constraint's topology key is UnschedulableAndUnresolvable
 *   (`node(s) didn't match pod topology spread constraints (missing required label)`); a node
 *   where count(domain) + (1 if the pod matches the selector) − global minimum > maxSkew is
 *   Unschedulable (`node(s) didn't match pod topology spread constraints`). The global minimum
 *   is 0 while there are fewer eligible domains than minDomains.
 * - PreFilterExtensions: dry runs (preemption, nominated pods) adjust the counts.
 * - Score (ScheduleAnyway constraints): per constraint, count(domain) × log(domains + 2) +
 *   (maxSkew − 1), summed and rounded; normalised so the fewest matching pods scores 100
 *   (100 × (max + min − s) / max); nodes missing a topology key score 0 (explicit
 *   constraints only; system defaults tolerate a missing zone label).
 * - Requeue: assigned pods added/updated/deleted that match a constraint; nodes added or
 *   relabelled.
 */
import { jsonEqual, matches, type Labels, type Selector } from '@tskube/api';
import {
  ActionType, MAX_NODE_SCORE, assignedPodEvent, nodeEvent, stateKey,
  type ClusterEventWithHint, type CycleState, type EnqueueExtensions, type FilterPlugin, type NodeScore, type PreFilterOutput,
  type PreFilterPlugin, type PreScorePlugin, type ScorePlugin, type StateData,
} from '../framework/interface.js';
import type { NodeInfo, PodInfo } from '../framework/node-info.js';
import { selectorOf } from '../framework/pod-terms.js';
import type { ClusterListers, Handle } from '../framework/registry.js';
import { Status } from '../framework/status.js';
import {
  LABEL_HOSTNAME, LABEL_TOPOLOGY_ZONE, type ReadonlyNode, type ReadonlyPod, type TopologySpreadConstraint,
} from '../framework/types.js';
import { Names } from './names.js';
import { requiredNodeAffinityMatches } from './node-affinity.js';
import { findMatchingUntoleratedTaint, isDoNotScheduleTaint } from './taint-toleration.js';

export const ERR_REASON_CONSTRAINTS_NOT_MATCH = "node(s) didn't match pod topology spread constraints";
export const ERR_REASON_NODE_LABEL_NOT_MATCH = `${ERR_REASON_CONSTRAINTS_NOT_MATCH} (missing required label)`;

type Action = 'DoNotSchedule' | 'ScheduleAnyway';

/** Upstream systemDefaultConstraints. */
export const SYSTEM_DEFAULT_CONSTRAINTS: readonly { topologyKey: string; maxSkew: number; whenUnsatisfiable: Action }[] = [
  { topologyKey: LABEL_HOSTNAME, whenUnsatisfiable: 'ScheduleAnyway', maxSkew: 3 },
  { topologyKey: LABEL_TOPOLOGY_ZONE, whenUnsatisfiable: 'ScheduleAnyway', maxSkew: 5 },
];

/** A constraint with its selector parsed and defaults applied (upstream topologySpreadConstraint). */
export interface SpreadConstraint {
  maxSkew: number;
  topologyKey: string;
  /** null = matches no pod. */
  selector: Selector | null;
  minDomains: number;
  nodeAffinityPolicy: 'Honor' | 'Ignore';
  nodeTaintsPolicy: 'Honor' | 'Ignore';
}

function selectorMatches(sel: Selector | null, labels: Labels): boolean {
  return sel !== null && matches(sel, labels ?? {});
}

/** The pod's explicit constraints for `action`, parsed; throws on a malformed selector. */
export function explicitConstraints(pod: ReadonlyPod, action: Action): SpreadConstraint[] {
  const out: SpreadConstraint[] = [];
  const labels = pod.metadata?.labels ?? {};
  for (const c of pod.spec?.topologySpreadConstraints ?? []) {
    if (c.whenUnsatisfiable !== action) continue;
    let selector = selectorOf(c.labelSelector);
    const extra = (c.matchLabelKeys ?? []).filter((k) => k in labels);
    if (selector && extra.length > 0) selector = [...extra.map((k) => ({ key: k, op: 'in' as const, values: [labels[k]!] })), ...selector];
    out.push(parse(c, selector));
  }
  return out;
}

function parse(c: TopologySpreadConstraint, selector: Selector | null): SpreadConstraint {
  return {
    maxSkew: c.maxSkew, topologyKey: c.topologyKey, selector,
    minDomains: c.minDomains ?? 1,
    nodeAffinityPolicy: c.nodeAffinityPolicy === 'Ignore' ? 'Ignore' : 'Honor',
    nodeTaintsPolicy: c.nodeTaintsPolicy === 'Honor' ? 'Honor' : 'Ignore',
  };
}

/**
 * Upstream helper.DefaultSelector: the union of the selectors of the Services selecting the
 * pod and of its controller (ReplicationController, ReplicaSet, StatefulSet). Empty = none.
 */
export function defaultSelector(pod: ReadonlyPod, listers: ClusterListers): Selector {
  const ns = pod.metadata?.namespace ?? '';
  const labels = pod.metadata?.labels ?? {};
  const set: Record<string, string> = {};
  for (const svc of listers.services(ns)) {
    const sel = svc.spec?.selector;
    if (!sel) continue; // a nil selector selects nothing
    if (Object.entries(sel).every(([k, v]) => labels[k] === v)) Object.assign(set, sel);
  }
  const owner = pod.metadata?.ownerReferences?.find((r) => r.controller);
  let extra: Selector = [];
  if (owner) {
    const group = owner.apiVersion.includes('/') ? owner.apiVersion.split('/')[0] : '';
    try {
      if (group === '' && owner.kind === 'ReplicationController') {
        Object.assign(set, listers.replicationController(ns, owner.name)?.spec?.selector ?? {});
      } else if (group === 'apps' && owner.kind === 'ReplicaSet') {
        extra = selectorOf(listers.replicaSet(ns, owner.name)?.spec?.selector) ?? [];
      } else if (group === 'apps' && owner.kind === 'StatefulSet') {
        extra = selectorOf(listers.statefulSet(ns, owner.name)?.spec?.selector) ?? [];
      }
    } catch {
      extra = [];
    }
  }
  return [...Object.entries(set).map(([k, v]) => ({ key: k, op: '=' as const, values: [v] })), ...extra];
}

function hasAllTopologyKeys(node: ReadonlyNode, constraints: readonly SpreadConstraint[]): boolean {
  const labels = node.metadata?.labels ?? {};
  for (const c of constraints) if (!Object.prototype.hasOwnProperty.call(labels, c.topologyKey)) return false;
  return true;
}

/** Whether `node` counts for `c` under its nodeAffinityPolicy / nodeTaintsPolicy. */
function nodeIncluded(c: SpreadConstraint, pod: ReadonlyPod, node: ReadonlyNode): boolean {
  if (c.nodeAffinityPolicy === 'Honor' && !requiredNodeAffinityMatches(pod, node)) return false;
  if (c.nodeTaintsPolicy === 'Honor' && findMatchingUntoleratedTaint(node.spec?.taints, pod.spec?.tolerations, isDoNotScheduleTaint)) return false;
  return true;
}

function countMatching(nodeInfo: NodeInfo, selector: Selector | null, namespace: string): number {
  if (selector === null) return 0;
  let n = 0;
  for (const pi of nodeInfo.podInfosIter()) {
    const p = pi.pod;
    if (p.metadata?.deletionTimestamp || (p.metadata?.namespace ?? '') !== namespace) continue;
    if (matches(selector, p.metadata?.labels ?? {})) n++;
  }
  return n;
}

function topologyValue(node: ReadonlyNode, key: string): string {
  return node.metadata?.labels?.[key] ?? '';
}

/** Matching pods per domain, per constraint; the minimum is recomputed lazily after changes. */
class PreFilterState implements StateData {
  private mins: (number | undefined)[];

  constructor(readonly constraints: readonly SpreadConstraint[], readonly counts: Map<string, number>[]) {
    this.mins = constraints.map(() => undefined);
  }

  clone(): PreFilterState {
    return new PreFilterState(this.constraints, this.counts.map((m) => new Map(m)));
  }

  /** The global minimum for constraint `i`, 0 while there are fewer domains than minDomains. */
  minMatch(i: number): number {
    const m = this.counts[i]!;
    if (m.size < this.constraints[i]!.minDomains) return 0;
    let min = this.mins[i];
    if (min === undefined) {
      min = Number.MAX_SAFE_INTEGER;
      for (const v of m.values()) if (v < min) min = v;
      this.mins[i] = min;
    }
    return min;
  }

  add(i: number, value: string, delta: number): void {
    const m = this.counts[i]!;
    m.set(value, (m.get(value) ?? 0) + delta);
    this.mins[i] = undefined;
  }
}

interface PreScoreState {
  constraints: readonly SpreadConstraint[];
  ignoredNodes: Set<string>;
  /** Per constraint (not hostname): matching pods per domain value. */
  counts: Map<string, number>[];
  weights: number[];
}

const PRE_FILTER_KEY = stateKey<PreFilterState>(`PreFilter${Names.PodTopologySpread}`);
const PRE_SCORE_KEY = stateKey<PreScoreState>(`PreScore${Names.PodTopologySpread}`);

export class PodTopologySpread implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin, EnqueueExtensions {
  readonly name = Names.PodTopologySpread;

  constructor(private readonly handle: Pick<Handle, 'snapshot' | 'listers'>) {}

  /** The constraints for `action`: explicit ones, or the system defaults (with the default selector). */
  constraints(pod: ReadonlyPod, action: Action): SpreadConstraint[] {
    if ((pod.spec?.topologySpreadConstraints?.length ?? 0) > 0) return explicitConstraints(pod, action);
    const defaults = SYSTEM_DEFAULT_CONSTRAINTS.filter((c) => c.whenUnsatisfiable === action);
    if (defaults.length === 0) return [];
    const selector = defaultSelector(pod, this.handle.listers);
    if (selector.length === 0) return [];
    return defaults.map((c) => parse(c, selector));
  }

  preFilter(state: CycleState, pod: ReadonlyPod, nodes: readonly NodeInfo[]): PreFilterOutput | undefined {
    let constraints: SpreadConstraint[];
    try {
      constraints = this.constraints(pod, 'DoNotSchedule');
    } catch (e) {
      return { status: Status.fromError(new Error(`get constraints from pod: ${e instanceof Error ? e.message : String(e)}`)) };
    }
    if (constraints.length === 0) return { status: Status.skip() };
    const ns = pod.metadata?.namespace ?? '';
    const counts = constraints.map(() => new Map<string, number>());
    for (const ni of nodes) {
      const node = ni.node;
      if (!node || !hasAllTopologyKeys(node, constraints)) continue;
      constraints.forEach((c, i) => {
        if (!nodeIncluded(c, pod, node)) return;
        const v = topologyValue(node, c.topologyKey);
        counts[i]!.set(v, (counts[i]!.get(v) ?? 0) + countMatching(ni, c.selector, ns));
      });
    }
    state.write(PRE_FILTER_KEY, new PreFilterState(constraints, counts));
    return undefined;
  }

  addPod(state: CycleState, podToSchedule: ReadonlyPod, podInfo: PodInfo, nodeInfo: NodeInfo): Status | undefined {
    this.updateWithPod(state, podInfo.pod, podToSchedule, nodeInfo, 1);
    return undefined;
  }

  removePod(state: CycleState, podToSchedule: ReadonlyPod, podInfo: PodInfo, nodeInfo: NodeInfo): Status | undefined {
    this.updateWithPod(state, podInfo.pod, podToSchedule, nodeInfo, -1);
    return undefined;
  }

  private updateWithPod(state: CycleState, changed: ReadonlyPod, preemptor: ReadonlyPod, nodeInfo: NodeInfo, delta: number): void {
    const s = state.read(PRE_FILTER_KEY);
    const node = nodeInfo.node;
    if (!s || !node || changed.metadata?.namespace !== preemptor.metadata?.namespace) return;
    if (!hasAllTopologyKeys(node, s.constraints)) return;
    s.constraints.forEach((c, i) => {
      if (!selectorMatches(c.selector, changed.metadata?.labels) || !nodeIncluded(c, preemptor, node)) return;
      s.add(i, topologyValue(node, c.topologyKey), delta);
    });
  }

  filter(state: CycleState, pod: ReadonlyPod, nodeInfo: NodeInfo): Status | undefined {
    const s = state.read(PRE_FILTER_KEY);
    if (!s) return Status.fromError(new Error(`reading "PreFilter${Names.PodTopologySpread}" from cycleState: not found`));
    const labels = nodeInfo.node?.metadata?.labels ?? {};
    for (let i = 0; i < s.constraints.length; i++) {
      const c = s.constraints[i]!;
      if (!Object.prototype.hasOwnProperty.call(labels, c.topologyKey)) return Status.unresolvable(ERR_REASON_NODE_LABEL_NOT_MATCH);
      const self = selectorMatches(c.selector, pod.metadata?.labels) ? 1 : 0;
      const skew = (s.counts[i]!.get(labels[c.topologyKey]!) ?? 0) + self - s.minMatch(i);
      if (skew > c.maxSkew) return Status.unschedulable(ERR_REASON_CONSTRAINTS_NOT_MATCH);
    }
    return undefined;
  }

  preScore(state: CycleState, pod: ReadonlyPod, filteredNodes: readonly NodeInfo[]): Status | undefined {
    const allNodes = this.handle.snapshot.list();
    if (allNodes.length === 0) return Status.skip();
    const explicit = (pod.spec?.topologySpreadConstraints?.length ?? 0) > 0;
    // Only explicit constraints require every topology key: nodes without a zone label still
    // get hostname spreading from the system defaults.
    const requireAll = explicit;
    let constraints: SpreadConstraint[];
    try {
      constraints = this.constraints(pod, 'ScheduleAnyway');
    } catch (e) {
      return Status.fromError(new Error(`calculating preScoreState: ${e instanceof Error ? e.message : String(e)}`));
    }
    if (constraints.length === 0) return Status.skip();
    const s: PreScoreState = { constraints, ignoredNodes: new Set(), counts: constraints.map(() => new Map()), weights: [] };
    const sizes = constraints.map(() => 0);
    for (const ni of filteredNodes) {
      const node = ni.node!;
      if (requireAll && !hasAllTopologyKeys(node, constraints)) {
        s.ignoredNodes.add(ni.name);
        continue;
      }
      constraints.forEach((c, i) => {
        if (c.topologyKey === LABEL_HOSTNAME) return; // counted per node in Score
        const v = topologyValue(node, c.topologyKey);
        if (!s.counts[i]!.has(v)) {
          s.counts[i]!.set(v, 0);
          sizes[i]!++;
        }
      });
    }
    s.weights = constraints.map((c, i) => Math.log((c.topologyKey === LABEL_HOSTNAME ? filteredNodes.length - s.ignoredNodes.size : sizes[i]!) + 2));
    const ns = pod.metadata?.namespace ?? '';
    for (const ni of allNodes) {
      const node = ni.node;
      if (!node || (requireAll && !hasAllTopologyKeys(node, constraints))) continue;
      constraints.forEach((c, i) => {
        if (!nodeIncluded(c, pod, node)) return;
        const v = topologyValue(node, c.topologyKey);
        const cur = s.counts[i]!.get(v);
        if (cur === undefined) return;
        s.counts[i]!.set(v, cur + countMatching(ni, c.selector, ns));
      });
    }
    state.write(PRE_SCORE_KEY, s);
    return undefined;
  }

  score(state: CycleState, pod: ReadonlyPod, nodeInfo: NodeInfo): { score: number; status?: Status } {
    const s = state.read(PRE_SCORE_KEY);
    if (!s) return { score: 0, status: Status.fromError(new Error(`reading "PreScore${Names.PodTopologySpread}" from cycleState: not found`)) };
    if (s.ignoredNodes.has(nodeInfo.name)) return { score: 0 };
    const labels = nodeInfo.node?.metadata?.labels ?? {};
    let score = 0;
    s.constraints.forEach((c, i) => {
      if (!Object.prototype.hasOwnProperty.call(labels, c.topologyKey)) return;
      const cnt = c.topologyKey === LABEL_HOSTNAME
        ? countMatching(nodeInfo, c.selector, pod.metadata?.namespace ?? '')
        : (s.counts[i]!.get(labels[c.topologyKey]!) ?? 0);
      score += cnt * s.weights[i]! + (c.maxSkew - 1);
    });
    return { score: Math.round(score) };
  }

  normalizeScore(state: CycleState, _pod: ReadonlyPod, scores: NodeScore[]): Status | undefined {
    const s = state.read(PRE_SCORE_KEY);
    if (!s) return undefined;
    let min = Number.MAX_SAFE_INTEGER;
    let max = 0;
    for (const sc of scores) {
      if (s.ignoredNodes.has(sc.name)) continue;
      if (sc.score < min) min = sc.score;
      if (sc.score > max) max = sc.score;
    }
    for (const sc of scores) {
      if (s.ignoredNodes.has(sc.name)) sc.score = 0;
      else if (max === 0) sc.score = MAX_NODE_SCORE;
      else sc.score = Math.trunc((MAX_NODE_SCORE * (max + min - sc.score)) / max);
    }
    return undefined;
  }

  eventsToRegister(): readonly ClusterEventWithHint[] {
    const relevantPod = (pod: ReadonlyPod, other: ReadonlyPod | undefined): boolean => {
      if (!other || other.metadata?.namespace !== pod.metadata?.namespace) return false;
      let cs: SpreadConstraint[];
      try {
        cs = [...this.constraints(pod, 'DoNotSchedule'), ...this.constraints(pod, 'ScheduleAnyway')];
      } catch {
        return true;
      }
      return cs.some((c) => selectorMatches(c.selector, other.metadata?.labels));
    };
    return [
      assignedPodEvent(ActionType.Add | ActionType.Delete | ActionType.UpdatePod, (pod, oldObj, newObj) => {
        // An update matters only when it changed the labels (or started the deletion).
        if (oldObj && newObj && jsonEqual(oldObj.metadata?.labels ?? {}, newObj.metadata?.labels ?? {})
          && Boolean(oldObj.metadata?.deletionTimestamp) === Boolean(newObj.metadata?.deletionTimestamp)) return 'QueueSkip';
        return relevantPod(pod, oldObj) || relevantPod(pod, newObj) ? 'Queue' : 'QueueSkip';
      }),
      nodeEvent(ActionType.Add | ActionType.Delete | ActionType.UpdateNodeLabel),
    ];
  }
}
