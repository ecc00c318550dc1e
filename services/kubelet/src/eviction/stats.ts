/**
 * What the eviction manager observes, behind one narrow interface so unit tests drive it with
 * fakes (host-stats-source.ts reads the real machine). Upstream reads the same figures from
 * its Summary API (cadvisor + CRI stats).
 */
import type { Pod } from '@tskube/api';
import type { DeepReadonly } from '@tskube/client';

/** A filesystem as statfs sees it (bytes and inodes). */
export interface FsStats {
  capacityBytes: number;
  availableBytes: number;
  inodes: number;
  inodesFree: number;
}

/** Disk use of a pod's local volumes. */
export interface LocalStorage {
  bytes: number;
  inodes: number;
}

export interface ContainerUsage {
  name: string;
  memoryWorkingSetBytes: number;
}

export interface PodUsage {
  uid: string;
  /** The pod's memory working set (its sandbox's, i.e. the sum of its containers). */
  memoryWorkingSetBytes: number;
  containers: ContainerUsage[];
  /** Processes in the pod, when the source can count them. */
  processes?: number;
}

export interface NodeSignalsStats {
  /** Node memory as upstream's root cgroup: working set and capacity − working set. */
  memory?: { workingSetBytes: number; availableBytes: number };
  /** The filesystem of the kubelet root directory (pod volumes, logs). */
  nodeFs?: FsStats;
  /** The runtime's image filesystem, when the source can see it. */
  imageFs?: FsStats;
  /** System-wide task limit and tasks in use. */
  pids?: { max: number; running: number };
}

export interface EvictionStats {
  /** Clock ms of the reading (observations older than the previous one do not evict). */
  time: number;
  node: NodeSignalsStats;
  /** Usage of the pods that have running containers, by UID. */
  pods: PodUsage[];
}

/** The source the manager reads every monitoring interval. */
export interface EvictionStatsSource {
  /** One reading of the node signals and the running pods' memory. Rejects when it cannot read. */
  observe(): Promise<EvictionStats>;
  /**
   * The pod's local ephemeral storage (emptyDir volumes not backed by memory, and configMap
   * volumes: upstream's local volumes), measured on demand when ranking for a disk signal;
   * undefined when unknown.
   */
  podLocalStorage(pod: DeepReadonly<Pod>): Promise<LocalStorage | undefined>;
}
