/**
 * NodeInfo: one node as the scheduler sees it during a cycle (upstream framework.NodeInfo):
 * the Node object, its allocatable resources, the pods on it (bound and assumed), and what
 * those pods request, both as requested and with the scoring defaults for unset requests.
 *
 * The cache owns the live NodeInfos and bumps `generation` on every change; each scheduling
 * cycle works on clones (the snapshot), so a plugin never sees the cache change under it and a
 * dry run (preemption) may add/remove pods on a clone freely.
 */
import {
  DEFAULT_MEMORY_REQUEST, DEFAULT_MILLI_CPU_REQUEST, Resource, podRequests, toResourceList, type ResourceList,
} from './resources.js';
import type { ReadonlyNode, ReadonlyPod } from './types.js';
import { parsePodAffinity, podHostPorts, type HostPort, type ParsedAffinity } from './pod-terms.js';

let generationCounter = 0;
/** A process-wide increasing counter: a changed NodeInfo always gets a generation never seen before. */
export function nextGeneration(): number {
  return ++generationCounter;
}

/** A pod with its requests computed once (upstream framework.PodInfo). */
export interface PodInfo {
  readonly pod: ReadonlyPod;
  /** What the pod requests (resource.PodRequests). */
  readonly requests: ResourceList;
  /** cpu / memory with the scoring defaults for containers that request none. */
  readonly nonZeroCPU: number;
  readonly nonZeroMemory: number;
  /** The pod's inter-pod affinity terms, parsed (empty lists without affinity). */
  readonly affinity: ParsedAffinity;
  /** Host ports its containers bind. */
  readonly hostPorts: readonly HostPort[];
}

export function newPodInfo(pod: ReadonlyPod): PodInfo {
  const nz = podRequests(pod, { nonMissing: { cpu: DEFAULT_MILLI_CPU_REQUEST, memory: DEFAULT_MEMORY_REQUEST } });
  return {
    pod, requests: podRequests(pod), nonZeroCPU: nz.get('cpu') ?? 0, nonZeroMemory: nz.get('memory') ?? 0,
    affinity: parsePodAffinity(pod), hostPorts: podHostPorts(pod),
  };
}

/** Upstream PodInfo "with affinity": any pod (anti-)affinity at all. */
export function hasAffinity(p: PodInfo): boolean {
  const a = p.pod.spec?.affinity;
  return Boolean(a?.podAffinity || a?.podAntiAffinity);
}

export function hasRequiredAntiAffinity(p: PodInfo): boolean {
  return p.affinity.requiredAntiAffinityTerms.length > 0;
}

/** Cache key of a pod: its uid, or namespace/name for objects without one (tests). */
export function podKey(pod: ReadonlyPod): string {
  return pod.metadata?.uid || `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
}

export class NodeInfo {
  private nodeObj: ReadonlyNode | undefined;
  private readonly podInfos = new Map<string, PodInfo>();
  /** Sum of the pods' requests. */
  readonly requested = new Resource();
  /** Sum of the pods' cpu/memory requests with scoring defaults (only milliCPU and memory are used). */
  readonly nonZeroRequested = new Resource();
  allocatable = new Resource();
  generation = nextGeneration();
  /** How many of its pods have pod (anti-)affinity, and required anti-affinity. */
  podsWithAffinity = 0;
  podsWithRequiredAntiAffinity = 0;

  constructor(node?: ReadonlyNode) {
    if (node) this.setNode(node);
  }

  get node(): ReadonlyNode | undefined { return this.nodeObj; }
  get name(): string { return this.nodeObj?.metadata?.name ?? ''; }
  get pods(): readonly PodInfo[] { return [...this.podInfos.values()]; }
  /** The pods without copying the list (do not add or remove pods while iterating). */
  podInfosIter(): IterableIterator<PodInfo> { return this.podInfos.values(); }
  getPod(key: string): PodInfo | undefined { return this.podInfos.get(key); }
  get podCount(): number { return this.podInfos.size; }

  /**
   * Sets the Node object. Allocatable comes from `status.allocatable`; a node that reports
   * only `status.capacity` is taken at capacity, which is what upstream's apiserver defaulting
   * (SetDefaults_NodeStatus) would have stored.
   */
  setNode(node: ReadonlyNode): void {
    this.nodeObj = node;
    this.allocatable = Resource.fromList(toResourceList(node.status?.allocatable ?? node.status?.capacity));
    this.generation = nextGeneration();
  }

  /** Forgets the Node object (it was deleted) but keeps the pods until they are removed too. */
  clearNode(): void {
    this.nodeObj = undefined;
    this.allocatable = new Resource();
    this.generation = nextGeneration();
  }

  hasPod(key: string): boolean { return this.podInfos.has(key); }

  /** Adds (or replaces, by pod key) a pod and its requests. */
  addPod(pod: ReadonlyPod | PodInfo): void {
    const info = 'pod' in pod ? pod : newPodInfo(pod);
    const key = podKey(info.pod);
    this.removePod(key);
    this.podInfos.set(key, info);
    this.account(info, 1);
    this.generation = nextGeneration();
  }

  /** Removes a pod by key; false when it was not there. */
  removePod(key: string): boolean {
    const info = this.podInfos.get(key);
    if (!info) return false;
    this.podInfos.delete(key);
    this.account(info, -1);
    this.generation = nextGeneration();
    return true;
  }

  private account(info: PodInfo, sign: 1 | -1): void {
    this.requested.add(info.requests, sign);
    this.nonZeroRequested.milliCPU += sign * info.nonZeroCPU;
    this.nonZeroRequested.memory += sign * info.nonZeroMemory;
    if (hasAffinity(info)) this.podsWithAffinity += sign;
    if (hasRequiredAntiAffinity(info)) this.podsWithRequiredAntiAffinity += sign;
  }

  /** An independent copy with the same generation (pods are shared: they are read-only). */
  clone(): NodeInfo {
    const c = new NodeInfo();
    c.nodeObj = this.nodeObj;
    c.allocatable = this.allocatable.clone();
    for (const [k, v] of this.podInfos) c.podInfos.set(k, v);
    copyResource(this.requested, c.requested);
    copyResource(this.nonZeroRequested, c.nonZeroRequested);
    c.podsWithAffinity = this.podsWithAffinity;
    c.podsWithRequiredAntiAffinity = this.podsWithRequiredAntiAffinity;
    c.generation = this.generation;
    return c;
  }
}

function copyResource(from: Resource, to: Resource): void {
  to.milliCPU = from.milliCPU;
  to.memory = from.memory;
  to.ephemeralStorage = from.ephemeralStorage;
  to.allowedPodNumber = from.allowedPodNumber;
  to.scalar.clear();
  for (const [k, v] of from.scalar) to.scalar.set(k, v);
}
