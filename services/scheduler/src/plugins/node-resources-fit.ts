/**
 * NodeResourcesFit (upstream plugins/noderesources/fit.go, scoring strategy LeastAllocated):
 *
 * - PreFilter: computes what the pod requests (max(sum of containers, largest init step) +
 *   overhead; see resources.ts) once per cycle.
 * - Filter: the node must have room for one more pod (`Too many pods`) and for every resource
 *   the pod requests (`Insufficient cpu`, `Insufficient memory`,
 *   `Insufficient ephemeral-storage`, `Insufficient <extended resource>`), counting the
 *   requests of the pods already there (bound and assumed). All shortfalls are reported. The
 *   status is Unschedulable (preemption could free room), or UnschedulableAndUnresolvable when
 *   a request exceeds the node's whole allocatable amount.
 * - Score (LeastAllocated): the share of cpu and memory left free after placing the pod,
 *   averaged with weight 1 each; unset requests count as 100m cpu / 200Mi memory.
 * - Requeue: a node added (if the pod would fit it empty), a node whose allocatable grew, an
 *   assigned pod deleted.
 */
import {
  ActionType, MAX_NODE_SCORE, assignedPodEvent, nodeEvent, stateKey,
  type ClusterEventWithHint, type CycleState, type EnqueueExtensions, type FilterPlugin, type PreFilterOutput,
  type PreFilterPlugin, type PreScorePlugin, type ScorePlugin,
} from '../framework/interface.js';
import { NodeInfo } from '../framework/node-info.js';
import {
  CPU, DEFAULT_MEMORY_REQUEST, DEFAULT_MILLI_CPU_REQUEST, EPHEMERAL_STORAGE, MEMORY, Resource, podRequests,
} from '../framework/resources.js';
import { Status } from '../framework/status.js';
import type { ReadonlyNode, ReadonlyPod } from '../framework/types.js';
import { Names } from './names.js';

export interface InsufficientResource {
  resourceName: string;
  reason: string;
  requested: number;
  used: number;
  capacity: number;
  /** The request exceeds the node's allocatable: no preemption can help. */
  unresolvable: boolean;
}

const PRE_FILTER_KEY = stateKey<Resource>(`PreFilter${Names.NodeResourcesFit}`);
const PRE_SCORE_KEY = stateKey<readonly number[]>(`PreScore${Names.NodeResourcesFit}`);

/** The pod's request as a Resource (what PreFilter stores). */
export function computePodResourceRequest(pod: ReadonlyPod): Resource {
  return Resource.fromList(podRequests(pod));
}

/** Every resource the node lacks for `req` (empty = fits). Upstream fitsRequest. */
export function fitsRequest(req: Resource, nodeInfo: NodeInfo): InsufficientResource[] {
  const out: InsufficientResource[] = [];
  const alloc = nodeInfo.allocatable;
  const used = nodeInfo.requested;
  if (nodeInfo.podCount + 1 > alloc.allowedPodNumber) {
    out.push({ resourceName: 'pods', reason: 'Too many pods', requested: 1, used: nodeInfo.podCount, capacity: alloc.allowedPodNumber, unresolvable: false });
  }
  if (req.milliCPU === 0 && req.memory === 0 && req.ephemeralStorage === 0 && req.scalar.size === 0) return out;
  const check = (name: string, reason: string, want: number, have: number, capacity: number) => {
    if (want > 0 && want > capacity - have) out.push({ resourceName: name, reason, requested: want, used: have, capacity, unresolvable: want > capacity });
  };
  check(CPU, 'Insufficient cpu', req.milliCPU, used.milliCPU, alloc.milliCPU);
  check(MEMORY, 'Insufficient memory', req.memory, used.memory, alloc.memory);
  check(EPHEMERAL_STORAGE, 'Insufficient ephemeral-storage', req.ephemeralStorage, used.ephemeralStorage, alloc.ephemeralStorage);
  for (const [name, want] of [...req.scalar].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    check(name, `Insufficient ${name}`, want, used.scalar.get(name) ?? 0, alloc.scalar.get(name) ?? 0);
  }
  return out;
}

/** Whether the pod fits the node when nothing else runs there (for requeueing decisions). */
export function fitsEmptyNode(pod: ReadonlyPod, node: ReadonlyNode): boolean {
  return fitsRequest(computePodResourceRequest(pod), new NodeInfo(node)).length === 0;
}

/** `(capacity - requested) * 100 / capacity`, 0 when over capacity (integer arithmetic, as upstream). */
export function leastRequestedScore(requested: number, capacity: number): number {
  if (capacity === 0 || requested > capacity) return 0;
  return Math.trunc(((capacity - requested) * MAX_NODE_SCORE) / capacity);
}

/** The pod's [cpu, memory] requests with scoring defaults for containers that set none. */
function nonZeroRequests(pod: ReadonlyPod): number[] {
  const r = podRequests(pod, { nonMissing: { cpu: DEFAULT_MILLI_CPU_REQUEST, memory: DEFAULT_MEMORY_REQUEST } });
  return [r.get(CPU) ?? 0, r.get(MEMORY) ?? 0];
}

/** LeastAllocated over cpu and memory (weight 1 each), skipping resources the node has none of. */
export function leastAllocatedScore(podNonZero: readonly number[], nodeInfo: NodeInfo): number {
  const requested = [nodeInfo.nonZeroRequested.milliCPU + podNonZero[0]!, nodeInfo.nonZeroRequested.memory + podNonZero[1]!];
  const allocatable = [nodeInfo.allocatable.milliCPU, nodeInfo.allocatable.memory];
  let score = 0;
  let weights = 0;
  for (let i = 0; i < requested.length; i++) {
    if (allocatable[i] === 0) continue;
    score += leastRequestedScore(requested[i]!, allocatable[i]!);
    weights += 1;
  }
  return weights === 0 ? 0 : Math.trunc(score / weights);
}

export class NodeResourcesFit implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin, EnqueueExtensions {
  readonly name = Names.NodeResourcesFit;

  preFilter(state: CycleState, pod: ReadonlyPod): PreFilterOutput | undefined {
    state.write(PRE_FILTER_KEY, computePodResourceRequest(pod));
    return undefined;
  }

  filter(state: CycleState, _pod: ReadonlyPod, nodeInfo: NodeInfo): Status | undefined {
    const req = state.read(PRE_FILTER_KEY);
    if (!req) return Status.fromError(new Error(`error reading "PreFilter${Names.NodeResourcesFit}" from cycleState: not found`));
    const insufficient = fitsRequest(req, nodeInfo);
    if (insufficient.length === 0) return undefined;
    const reasons = insufficient.map((r) => r.reason);
    return insufficient.some((r) => r.unresolvable) ? Status.unresolvable(...reasons) : Status.unschedulable(...reasons);
  }

  preScore(state: CycleState, pod: ReadonlyPod): Status | undefined {
    state.write(PRE_SCORE_KEY, nonZeroRequests(pod));
    return undefined;
  }

  score(state: CycleState, pod: ReadonlyPod, nodeInfo: NodeInfo): { score: number; status?: Status } {
    return { score: leastAllocatedScore(state.read(PRE_SCORE_KEY) ?? nonZeroRequests(pod), nodeInfo) };
  }

  eventsToRegister(): readonly ClusterEventWithHint[] {
    return [
      // Any assigned pod that goes away frees room somewhere.
      assignedPodEvent(ActionType.Delete, (_pod, deleted) => (deleted?.spec?.nodeName ? 'Queue' : 'QueueSkip')),
      nodeEvent(ActionType.Add | ActionType.UpdateNodeAllocatable, (pod, oldNode, newNode) => {
        if (!newNode || !fitsEmptyNode(pod, newNode)) return 'QueueSkip';
        if (!oldNode) return 'Queue';
        const before = new NodeInfo(oldNode).allocatable;
        const after = new NodeInfo(newNode).allocatable;
        const req = computePodResourceRequest(pod);
        if (after.allowedPodNumber > before.allowedPodNumber) return 'Queue';
        const grew = (name: string, want: number) => want > 0 && after.get(name) > before.get(name);
        if (grew(CPU, req.milliCPU) || grew(MEMORY, req.memory) || grew(EPHEMERAL_STORAGE, req.ephemeralStorage)) return 'Queue';
        for (const [name, want] of req.scalar) if (grew(name, want)) return 'Queue';
        return 'QueueSkip';
      }),
    ];
  }
}
