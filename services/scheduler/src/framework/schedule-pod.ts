/**
 * Picking a node for one pod (upstream schedule_one.go: schedulePod, findNodesThatFitPod,
 * findNodesThatPassFilters, prioritizeNodes, selectHost, numFeasibleNodesToFind).
 *
 * Pure over its inputs: the node snapshot is not changed, the decision is returned. Assuming
 * the pod on the chosen node, reserving and binding are the caller's job (schedule-one.ts).
 */
import type { CycleState } from './interface.js';
import { FitError, newDiagnosis, type Diagnosis } from './fit-error.js';
import type { Framework, NodePluginScores } from './framework.js';
import type { NodeInfo } from './node-info.js';
import { Code, Status } from './status.js';
import type { ReadonlyPod } from './types.js';

export const ERR_NO_NODES_AVAILABLE = 'no nodes available to schedule pods';

/** Below this many nodes every node is evaluated (upstream minFeasibleNodesToFind). */
export const MIN_FEASIBLE_NODES_TO_FIND = 100;
/** The adaptive percentage never goes below this (upstream minFeasibleNodesPercentageToFind). */
export const MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5;

export type ScheduleResult =
  | {
    kind: 'scheduled'; nodeName: string; evaluatedNodes: number; feasibleNodes: number;
    /** Filter statuses of the nodes that did not fit, and per-node scores (debugging). */
    diagnosis: Diagnosis; scores: readonly NodePluginScores[];
  }
  /** No node fits: `fitError.message()` is the user-facing text. */
  | { kind: 'unschedulable'; fitError: FitError }
  /** Nothing to schedule on (no nodes) or an internal failure. */
  | { kind: 'error'; status: Status };

/** How many feasible nodes to look for before scoring (all of them below 100 nodes). */
export function numFeasibleNodesToFind(percentageOfNodesToScore: number, numAllNodes: number): number {
  if (numAllNodes < MIN_FEASIBLE_NODES_TO_FIND) return numAllNodes;
  let percentage = percentageOfNodesToScore;
  if (percentage <= 0) {
    percentage = 50 - Math.trunc(numAllNodes / 125);
    if (percentage < MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND) percentage = MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND;
  }
  const n = Math.trunc((numAllNodes * percentage) / 100);
  return n < MIN_FEASIBLE_NODES_TO_FIND ? MIN_FEASIBLE_NODES_TO_FIND : n;
}

export interface SchedulePodOptions {
  /** Uniform random in [0, 1): breaks ties between equally scored nodes. */
  random?: () => number;
}

/**
 * Chooses a node. Keeps a rotating start index between calls (as upstream's
 * nextStartNodeIndex) so that, when only a percentage of nodes is evaluated, all nodes get
 * their turn.
 */
export class PodScheduler {
  private nextStartNodeIndex = 0;
  private readonly random: () => number;

  constructor(opts: SchedulePodOptions = {}) {
    this.random = opts.random ?? Math.random;
  }

  schedulePod(fwk: Framework, state: CycleState, pod: ReadonlyPod, allNodes: readonly NodeInfo[]): ScheduleResult {
    if (allNodes.length === 0) return { kind: 'error', status: Status.unresolvable(ERR_NO_NODES_AVAILABLE) };
    const found = this.findNodesThatFitPod(fwk, state, pod, allNodes);
    if ('error' in found) return { kind: 'error', status: found.error };
    const { feasible, diagnosis } = found;
    if (feasible.length === 0) return { kind: 'unschedulable', fitError: new FitError(allNodes.length, diagnosis) };
    const evaluatedNodes = feasible.length + diagnosis.nodeToStatus.size;
    if (feasible.length === 1) {
      return { kind: 'scheduled', nodeName: feasible[0]!.name, evaluatedNodes, feasibleNodes: 1, diagnosis, scores: [] };
    }
    const prio = this.prioritizeNodes(fwk, state, pod, feasible);
    if ('error' in prio) return { kind: 'error', status: prio.error };
    return { kind: 'scheduled', nodeName: this.selectHost(prio.scores), evaluatedNodes, feasibleNodes: feasible.length, diagnosis, scores: prio.scores };
  }

  /**
   * A pod nominated by an earlier preemption tries its nominated node first (upstream
   * evaluateNominatedNode): if it fits there, the other nodes are not considered.
   */
  private evaluateNominatedNode(fwk: Framework, state: CycleState, pod: ReadonlyPod, diagnosis: Diagnosis, nodes: readonly NodeInfo[]): NodeInfo | undefined {
    const name = pod.status?.nominatedNodeName;
    if (!name) return undefined;
    const ni = nodes.find((n) => n.name === name);
    if (!ni) return undefined;
    const s = fwk.runFilterPluginsWithNominatedPods(state, pod, ni);
    if (s.isSuccess()) return ni;
    diagnosis.nodeToStatus.set(ni.name, s);
    if (s.isRejected() && s.plugin) diagnosis.unschedulablePlugins.add(s.plugin);
    return undefined;
  }

  private findNodesThatFitPod(fwk: Framework, state: CycleState, pod: ReadonlyPod, allNodes: readonly NodeInfo[]):
    { feasible: NodeInfo[]; diagnosis: Diagnosis } | { error: Status } {
    const diagnosis = newDiagnosis();
    const pre = fwk.runPreFilterPlugins(state, pod, allNodes);
    if (!pre.status.isSuccess()) {
      if (!pre.status.isRejected()) return { error: pre.status };
      // Every node gets the PreFilter's status, so that preemption treats them alike.
      diagnosis.nodeToStatus.absentNodesStatus = pre.status;
      diagnosis.preFilterMsg = pre.status.message;
      if (pre.status.plugin) diagnosis.unschedulablePlugins.add(pre.status.plugin);
      return { feasible: [], diagnosis };
    }
    let nodes: readonly NodeInfo[] = allNodes;
    const names = pre.result?.nodeNames;
    if (names) {
      nodes = allNodes.filter((n) => names.has(n.name));
      diagnosis.nodeToStatus.absentNodesStatus = Status.unresolvable(`node(s) didn't satisfy plugin(s) [${[...pre.pluginsWithNodes].sort().join(' ')}]`);
    }
    const nominated = this.evaluateNominatedNode(fwk, state, pod, diagnosis, nodes);
    if (nominated) return { feasible: [nominated], diagnosis };
    const passed = this.findNodesThatPassFilters(fwk, state, pod, diagnosis, nodes);
    // Always advance the start index, even on error, so every node gets searched eventually.
    const processed = ('error' in passed ? 0 : passed.feasible.length) + diagnosis.nodeToStatus.size;
    this.nextStartNodeIndex = (this.nextStartNodeIndex + processed) % allNodes.length;
    if ('error' in passed) return passed;
    return { feasible: passed.feasible, diagnosis };
  }

  private findNodesThatPassFilters(fwk: Framework, state: CycleState, pod: ReadonlyPod, diagnosis: Diagnosis, nodes: readonly NodeInfo[]):
    { feasible: NodeInfo[] } | { error: Status } {
    const toFind = numFeasibleNodesToFind(fwk.percentageOfNodesToScore, nodes.length);
    const feasible: NodeInfo[] = [];
    if (nodes.length === 0) return { feasible };
    if (!fwk.hasFilterPlugins()) {
      for (let i = 0; i < toFind; i++) feasible.push(nodes[(this.nextStartNodeIndex + i) % nodes.length]!);
      return { feasible };
    }
    for (let i = 0; i < nodes.length && feasible.length < toFind; i++) {
      const n = nodes[(this.nextStartNodeIndex + i) % nodes.length]!;
      const s = fwk.runFilterPluginsWithNominatedPods(state, pod, n);
      if (s.isSuccess()) {
        feasible.push(n);
        continue;
      }
      diagnosis.nodeToStatus.set(n.name, s);
      if (s.isRejected() && s.plugin) diagnosis.unschedulablePlugins.add(s.plugin);
      // A broken filter fails the whole attempt (upstream: the pod is retried with backoff).
      if (s.code === Code.Error) return { error: s };
    }
    return { feasible };
  }

  private prioritizeNodes(fwk: Framework, state: CycleState, pod: ReadonlyPod, nodes: NodeInfo[]): { scores: NodePluginScores[] } | { error: Status } {
    if (!fwk.hasScorePlugins()) return { scores: nodes.map((n) => ({ name: n.name, totalScore: 1, scores: [] })) };
    const pre = fwk.runPreScorePlugins(state, pod, nodes);
    if (!pre.isSuccess()) return { error: pre };
    const r = fwk.runScorePlugins(state, pod, nodes);
    if (!r.status.isSuccess()) return { error: r.status };
    return { scores: r.scores };
  }

  /** The highest total score; ties are broken uniformly at random (reservoir sampling, as upstream). */
  selectHost(scores: readonly NodePluginScores[]): string {
    let best = scores[0]!;
    let ties = 1;
    for (let i = 1; i < scores.length; i++) {
      const s = scores[i]!;
      if (s.totalScore > best.totalScore) {
        best = s;
        ties = 1;
      } else if (s.totalScore === best.totalScore) {
        ties++;
        if (this.random() * ties < 1) best = s;
      }
    }
    return best.name;
  }
}
