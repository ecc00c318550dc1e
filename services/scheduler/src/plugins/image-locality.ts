/**
 * ImageLocality (upstream plugins/imagelocality): prefers nodes that already have the pod's
 * images (node.status.images), weighing each image by its size and by how widely it has spread
 * (so that one node holding a big image does not attract every pod: "node heating").
 *
 * Per container and init container whose image (normalised: `:latest` appended when there is
 * no tag) the node lists: sizeBytes × (nodes having it / all nodes), truncated; the sum is
 * clamped to [23 MiB, 1000 MiB × number of containers] and mapped linearly to [0, 100]. Image
 * names are compared as the node reports them (no registry or digest normalisation, as
 * upstream).
 */
import { stateKey, type CycleState, type PreScorePlugin, type ScorePlugin } from '../framework/interface.js';
import { MAX_NODE_SCORE } from '../framework/interface.js';
import type { NodeInfo } from '../framework/node-info.js';
import type { Handle } from '../framework/registry.js';
import { Status } from '../framework/status.js';
import type { ReadonlyNode, ReadonlyPod } from '../framework/types.js';
import { Names } from './names.js';

const MB = 1024 * 1024;
export const MIN_THRESHOLD = 23 * MB;
export const MAX_CONTAINER_THRESHOLD = 1000 * MB;

/** `name` with `:latest` when it has no tag (upstream normalizedImageName). */
export function normalizedImageName(name: string): string {
  return name.lastIndexOf(':') <= name.lastIndexOf('/') ? `${name}:latest` : name;
}

/** The score for a sum of scaled image sizes (upstream calculatePriority). */
export function calculatePriority(sumScores: number, numContainers: number): number {
  const maxThreshold = MAX_CONTAINER_THRESHOLD * numContainers;
  const s = Math.min(Math.max(sumScores, MIN_THRESHOLD), maxThreshold);
  return Math.trunc((MAX_NODE_SCORE * (s - MIN_THRESHOLD)) / (maxThreshold - MIN_THRESHOLD));
}

interface PreScoreState {
  /** The pod's normalised image names, one entry per container (repeats count again, as upstream). */
  images: string[];
  /** Image name → number of nodes listing it (only the pod's images). */
  numNodes: Map<string, number>;
  totalNodes: number;
}

const PRE_SCORE_KEY = stateKey<PreScoreState>(`PreScore${Names.ImageLocality}`);

/** The images a node lists: name → size (every name of an entry maps to its size). */
function nodeImages(node: ReadonlyNode | undefined, wanted: ReadonlySet<string>): Map<string, number> {
  const out = new Map<string, number>();
  for (const img of node?.status?.images ?? []) {
    for (const n of img.names ?? []) if (wanted.has(n)) out.set(n, img.sizeBytes ?? 0);
  }
  return out;
}

export class ImageLocality implements PreScorePlugin, ScorePlugin {
  readonly name = Names.ImageLocality;

  constructor(private readonly handle: Pick<Handle, 'snapshot'>) {}

  preScore(state: CycleState, pod: ReadonlyPod, nodes: readonly NodeInfo[]): Status | undefined {
    const images = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].map((c) => normalizedImageName(c.image ?? ''));
    const wanted = new Set(images);
    const all = this.handle.snapshot.list();
    const universe = all.length > 0 ? all : nodes;
    const numNodes = new Map<string, number>();
    for (const ni of universe) for (const name of nodeImages(ni.node, wanted).keys()) numNodes.set(name, (numNodes.get(name) ?? 0) + 1);
    state.write(PRE_SCORE_KEY, { images, numNodes, totalNodes: universe.length });
    return undefined;
  }

  score(state: CycleState, _pod: ReadonlyPod, nodeInfo: NodeInfo): { score: number; status?: Status } {
    const s = state.read(PRE_SCORE_KEY);
    if (!s) return { score: 0, status: Status.fromError(new Error(`reading "PreScore${Names.ImageLocality}" from cycleState: not found`)) };
    if (s.images.length === 0 || s.totalNodes === 0) return { score: 0 };
    const have = nodeImages(nodeInfo.node, new Set(s.images));
    let sum = 0;
    for (const name of s.images) {
      const size = have.get(name);
      if (size === undefined) continue;
      sum += Math.trunc(size * ((s.numNodes.get(name) ?? 1) / s.totalNodes));
    }
    return { score: calculatePriority(sum, s.images.length) };
  }
}
