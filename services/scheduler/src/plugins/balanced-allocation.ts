/**
 * NodeResourcesBalancedAllocation (upstream plugins/noderesources/balanced_allocation.go):
 * prefers nodes whose cpu and memory would be used in similar proportions after placing the
 * pod. For each resource, fraction = (requested on node + pod's request) / allocatable, capped
 * at 1; score = trunc((1 - std) * 100), where std of two fractions is |f1 - f2| / 2. Uses the
 * actual requests (no scoring defaults); best-effort pods are not scored (PreScore Skip), so
 * they do not all pile onto one node.
 */
import {
  MAX_NODE_SCORE, stateKey, type CycleState, type PreScorePlugin, type ScorePlugin,
} from '../framework/interface.js';
import type { NodeInfo } from '../framework/node-info.js';
import { CPU, MEMORY, podRequests } from '../framework/resources.js';
import { Status } from '../framework/status.js';
import type { ReadonlyPod } from '../framework/types.js';
import { Names } from './names.js';

const PRE_SCORE_KEY = stateKey<readonly number[]>(`PreScore${Names.NodeResourcesBalancedAllocation}`);

function requestList(pod: ReadonlyPod): number[] {
  const r = podRequests(pod);
  return [r.get(CPU) ?? 0, r.get(MEMORY) ?? 0];
}

/** The standard-deviation score over the given requested/allocatable pairs (allocatable 0 = skipped). */
export function balancedResourceScore(requested: readonly number[], allocatable: readonly number[]): number {
  const fractions: number[] = [];
  let total = 0;
  for (let i = 0; i < requested.length; i++) {
    if (allocatable[i] === 0) continue;
    const f = Math.min(requested[i]! / allocatable[i]!, 1);
    total += f;
    fractions.push(f);
  }
  let std = 0;
  if (fractions.length === 2) {
    std = Math.abs((fractions[0]! - fractions[1]!) / 2);
  } else if (fractions.length > 2) {
    const mean = total / fractions.length;
    std = Math.sqrt(fractions.reduce((s, f) => s + (f - mean) * (f - mean), 0) / fractions.length);
  }
  return Math.trunc((1 - std) * MAX_NODE_SCORE);
}

export class BalancedAllocation implements PreScorePlugin, ScorePlugin {
  readonly name = Names.NodeResourcesBalancedAllocation;

  preScore(state: CycleState, pod: ReadonlyPod): Status | undefined {
    const reqs = requestList(pod);
    if (reqs.every((r) => r === 0)) return Status.skip();
    state.write(PRE_SCORE_KEY, reqs);
    return undefined;
  }

  score(state: CycleState, pod: ReadonlyPod, nodeInfo: NodeInfo): { score: number; status?: Status } {
    const reqs = state.read(PRE_SCORE_KEY) ?? requestList(pod);
    if (reqs.every((r) => r === 0)) return { score: 0 };
    const requested = [nodeInfo.requested.milliCPU + reqs[0]!, nodeInfo.requested.memory + reqs[1]!];
    const allocatable = [nodeInfo.allocatable.milliCPU, nodeInfo.allocatable.memory];
    return { score: balancedResourceScore(requested, allocatable) };
  }
}
