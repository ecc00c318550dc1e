/**
 * The Node this kubelet registers and the status it reports (upstream
 * kubelet_node_status.go and nodestatus/setters.go), as pure functions of the node's facts,
 * the runtime's health and the previous status:
 * - labels kubernetes.io/hostname, kubernetes.io/os, kubernetes.io/arch and their beta.* twins;
 * - registered with the taint node.kubernetes.io/not-ready:NoSchedule (the node lifecycle
 *   controller removes it once the node is Ready);
 * - capacity: cpu, memory, pods (110), ephemeral-storage; allocatable: capacity minus system
 *   and kube reservations and the hard eviction thresholds (eviction/allocatable.ts; by
 *   default memory.available 100Mi, nodefs.available 10%);
 * - addresses InternalIP and Hostname; daemonEndpoints.kubeletEndpoint.Port; nodeInfo;
 * - images: the runtime's images, largest first, at most 50 (upstream nodeStatusMaxImages),
 *   each named by its repo digests then repo tags, at most 5 names (MaxNamesPerImageInNodeStatus);
 * - conditions MemoryPressure, DiskPressure, PIDPressure (True while the eviction manager
 *   reports them, else False) and Ready (True once the runtime answers), each with
 *   lastHeartbeatTime (now) and lastTransitionTime (kept while the status stays the same).
 */
import type { Node, NodeCondition, NodeStatus } from '@tskube/api';
import type { Image } from '../cri/proto.js';
import { formatKi, jsonEqual, parseQuantity, rfc3339 } from '@tskube/api';
import type { DeepReadonly } from '@tskube/client';
import { nodeAllocatable } from '../eviction/allocatable.js';
import type { PressureCondition, Reservations } from '../eviction/thresholds.js';

export const KUBELET_VERSION = 'v1.32.0-tskube';
export const NOT_READY_TAINT = { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' } as const;

export interface NodeFacts {
  nodeName: string;
  nodeIP: string;
  hostname: string;
  kubeletPort: number;
  cpuCores: number;
  memoryBytes: number;
  ephemeralStorageBytes: number;
  /** Overrides of capacity (TSKUBE_NODE_CPU / TSKUBE_NODE_MEMORY), as quantities. */
  cpuOverride?: string;
  memoryOverride?: string;
  maxPods: number;
  /** System/kube reservations and hard eviction thresholds; undefined: upstream's default thresholds only. */
  reservations?: Reservations;
  /** Extra labels registered with the node (e.g. a zone); the defaults below win on a clash. */
  labels?: Readonly<Record<string, string>>;
  nodeInfo: {
    machineID: string;
    systemUUID: string;
    bootID: string;
    kernelVersion: string;
    osImage: string;
    architecture: string;
    /** "docker://27.3.1" or "fake://0.1.0". */
    containerRuntimeVersion: string;
  };
}

export interface RuntimeHealth {
  ready: boolean;
  /** Why not, in upstream wording ("container runtime is down", …). */
  message?: string;
}

export function nodeLabels(f: NodeFacts): Record<string, string> {
  const arch = f.nodeInfo.architecture;
  return {
    ...f.labels,
    'beta.kubernetes.io/arch': arch,
    'beta.kubernetes.io/os': 'linux',
    'kubernetes.io/arch': arch,
    'kubernetes.io/hostname': f.nodeName,
    'kubernetes.io/os': 'linux',
  };
}

export function nodeCapacity(f: NodeFacts): { capacity: Record<string, string>; allocatable: Record<string, string> } {
  const memory = f.memoryOverride ? parseQuantity(f.memoryOverride) : f.memoryBytes;
  const capacity: Record<string, string> = {
    cpu: f.cpuOverride ?? String(f.cpuCores),
    'ephemeral-storage': formatKi(f.ephemeralStorageBytes),
    memory: f.memoryOverride ?? formatKi(memory),
    pods: String(f.maxPods),
  };
  return { capacity, allocatable: nodeAllocatable(capacity, f.reservations) };
}

interface ConditionSpec {
  type: string;
  status: 'True' | 'False';
  reason: string;
  message: string;
}

function conditionSpecs(health: RuntimeHealth, pressure: readonly PressureCondition[]): ConditionSpec[] {
  const has = (c: PressureCondition): boolean => pressure.includes(c);
  return [
    has('MemoryPressure')
      ? { type: 'MemoryPressure', status: 'True', reason: 'KubeletHasInsufficientMemory', message: 'kubelet has insufficient memory available' }
      : { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', message: 'kubelet has sufficient memory available' },
    has('DiskPressure')
      ? { type: 'DiskPressure', status: 'True', reason: 'KubeletHasDiskPressure', message: 'kubelet has disk pressure' }
      : { type: 'DiskPressure', status: 'False', reason: 'KubeletHasNoDiskPressure', message: 'kubelet has no disk pressure' },
    has('PIDPressure')
      ? { type: 'PIDPressure', status: 'True', reason: 'KubeletHasInsufficientPID', message: 'kubelet has insufficient PID available' }
      : { type: 'PIDPressure', status: 'False', reason: 'KubeletHasSufficientPID', message: 'kubelet has sufficient PID available' },
    health.ready
      ? { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' }
      : { type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: health.message ?? 'container runtime is down' },
  ];
}

/**
 * The status to report now; lastTransitionTime is kept from `previous` while a condition's
 * status holds. `pressure`: the pressure conditions the eviction manager holds True.
 */
export type ContainerImage = NonNullable<NodeStatus['images']>[number];

export const MAX_IMAGES_IN_NODE_STATUS = 50;
export const MAX_NAMES_PER_IMAGE_IN_NODE_STATUS = 5;

/**
 * `status.images` from the runtime's image list (upstream nodestatus Images setter). An image
 * with neither digest nor tag (dangling) has no name to report and is left out.
 */
export function nodeImages(images: readonly Pick<Image, 'repo_digests' | 'repo_tags' | 'size'>[]): ContainerImage[] {
  return images
    .map((i) => ({ names: [...i.repo_digests, ...i.repo_tags].slice(0, MAX_NAMES_PER_IMAGE_IN_NODE_STATUS), sizeBytes: Number(i.size) }))
    .filter((i) => i.names.length > 0)
    .sort((a, b) => b.sizeBytes - a.sizeBytes)
    .slice(0, MAX_IMAGES_IN_NODE_STATUS);
}

export function nodeStatus(
  f: NodeFacts, health: RuntimeHealth, previous: DeepReadonly<NodeStatus> | undefined, now: number, pressure: readonly PressureCondition[] = [],
  images?: readonly ContainerImage[],
): NodeStatus {
  const at = rfc3339(new Date(now));
  const conditions: NodeCondition[] = conditionSpecs(health, pressure).map((c) => {
    const prev = previous?.conditions?.find((x) => x.type === c.type);
    return {
      ...c,
      lastHeartbeatTime: at,
      lastTransitionTime: prev && prev.status === c.status && prev.lastTransitionTime ? prev.lastTransitionTime : at,
    };
  });
  const { capacity, allocatable } = nodeCapacity(f);
  return {
    capacity,
    allocatable,
    conditions,
    addresses: [
      { type: 'InternalIP', address: f.nodeIP },
      { type: 'Hostname', address: f.nodeName },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: f.kubeletPort } },
    ...(images ? { images: [...images] } : {}),
    nodeInfo: {
      ...f.nodeInfo,
      kubeletVersion: KUBELET_VERSION,
      kubeProxyVersion: '',
      operatingSystem: 'linux',
    },
  };
}

/** The Node to create at registration. */
export function initialNode(
  f: NodeFacts, health: RuntimeHealth, now: number, pressure: readonly PressureCondition[] = [], images?: readonly ContainerImage[],
): Node {
  return {
    apiVersion: 'v1', kind: 'Node',
    metadata: {
      name: f.nodeName,
      labels: nodeLabels(f),
      annotations: { 'volumes.kubernetes.io/controller-managed-attach-detach': 'true' },
    },
    spec: { taints: [{ ...NOT_READY_TAINT }] },
    status: nodeStatus(f, health, undefined, now, pressure, images),
  };
}

function withoutHeartbeats(s: DeepReadonly<NodeStatus> | undefined): unknown {
  if (!s) return undefined;
  return { ...s, conditions: (s.conditions ?? []).map(({ lastHeartbeatTime: _h, ...rest }) => rest) };
}

/** True when the statuses differ in anything but heartbeat times. */
export function nodeStatusChanged(a: DeepReadonly<NodeStatus> | undefined, b: DeepReadonly<NodeStatus> | undefined): boolean {
  return !jsonEqual(withoutHeartbeats(a), withoutHeartbeats(b));
}

/** Condition types whose status flipped from `prev` to `next` (for node events). */
export function conditionTransitions(prev: DeepReadonly<NodeStatus> | undefined, next: NodeStatus): NodeCondition[] {
  return (next.conditions ?? []).filter((c) => prev?.conditions?.find((x) => x.type === c.type)?.status !== c.status);
}
