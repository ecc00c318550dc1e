/**
 * Why a pod fits no node, and the message users read in `kubectl describe pod`
 * (upstream framework/types.go: NodeToStatus, Diagnosis, FitError).
 *
 *   0/3 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: },
 *   2 Insufficient cpu. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.
 *
 * Every reason of every node's status is counted; the "<count> <reason>" strings are sorted as
 * plain strings (Go's sort.Strings, so "10 x" sorts before "2 y") and joined with ", ".
 */
import type { NodeToStatusReader } from './interface.js';
import type { NodeInfo } from './node-info.js';
import { Code, Status } from './status.js';

export const NO_NODE_AVAILABLE_MSG = (n: number): string => `0/${n} nodes are available`;

/** Filter outcomes per node, plus one status for nodes that were never evaluated. */
export class NodeToStatus implements NodeToStatusReader {
  private readonly map = new Map<string, Status>();
  /** Status of nodes absent from the map (filtered out by a PreFilterResult, or all nodes when PreFilter failed). */
  absentNodesStatus: Status = Status.unresolvable();

  set(nodeName: string, status: Status): void { this.map.set(nodeName, status); }
  get(nodeName: string): Status { return this.map.get(nodeName) ?? this.absentNodesStatus; }
  /** The status recorded for the node itself, without the absent-nodes fallback. */
  getExplicit(nodeName: string): Status | undefined { return this.map.get(nodeName); }
  get size(): number { return this.map.size; }
  entries(): IterableIterator<[string, Status]> { return this.map.entries(); }

  nodesForStatusCode(all: readonly NodeInfo[], code: Code): NodeInfo[] {
    return all.filter((n) => this.get(n.name).code === code);
  }
}

export interface Diagnosis {
  nodeToStatus: NodeToStatus;
  /** Plugins that rejected the pod (for queueing: which cluster events may help). */
  unschedulablePlugins: Set<string>;
  /** The PreFilter rejection message, when PreFilter turned the pod down. */
  preFilterMsg: string;
  /** The PostFilter (preemption) message. */
  postFilterMsg: string;
}

export function newDiagnosis(): Diagnosis {
  return { nodeToStatus: new NodeToStatus(), unschedulablePlugins: new Set(), preFilterMsg: '', postFilterMsg: '' };
}

/** The pod fits none of `numAllNodes` nodes: a value, not an exception. */
export class FitError {
  constructor(readonly numAllNodes: number, readonly diagnosis: Diagnosis) {}

  /** The upstream message; reads the diagnosis at call time (PostFilter adds to it after construction). */
  message(): string { return fitErrorMessage(this.numAllNodes, this.diagnosis); }
}

/** "0/N nodes are available: <PreFilterMsg>. <counted filter reasons>. <PostFilterMsg>" */
export function fitErrorMessage(numAllNodes: number, d: Pick<Diagnosis, 'nodeToStatus' | 'preFilterMsg' | 'postFilterMsg'>): string {
  let msg = `${NO_NODE_AVAILABLE_MSG(numAllNodes)}:`;
  if (d.preFilterMsg !== '') {
    // PreFilter gave every node the same status: counting them would only repeat it.
    msg += ` ${d.preFilterMsg}.`;
  } else {
    const counts = new Map<string, number>();
    for (const [, s] of d.nodeToStatus.entries()) for (const r of s.reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
    const absent = numAllNodes - d.nodeToStatus.size;
    if (absent > 0) for (const r of d.nodeToStatus.absentNodesStatus.reasons) counts.set(r, (counts.get(r) ?? 0) + absent);
    const histogram = [...counts].map(([r, n]) => `${n} ${r}`).sort(byteOrder);
    if (histogram.length > 0) msg += ` ${histogram.join(', ')}.`;
  }
  if (d.postFilterMsg !== '') msg += ` ${d.postFilterMsg}`;
  return msg;
}

/** Go's string order (bytewise); equal to UTF-16 order for the ASCII reasons used here. */
function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
