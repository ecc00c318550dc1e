/**
 * The kubelet Summary API (upstream k8s.io/kubelet/pkg/apis/stats/v1alpha1, served at
 * GET /stats/summary): node and per-pod/per-container CPU and memory, in upstream's JSON
 * shape and field names. Only cpu and memory are filled (metrics-server and `kubectl top`
 * need nothing else); network, fs, volumes, rlimit and process stats are left out.
 * `?only_cpu_and_memory=true` (what metrics-server asks for) is therefore the same answer.
 */
import { rfc3339 } from '@tskube/api';
import type { PodSample, StatsSample, UsagePoint } from './collector.js';

export interface CPUStats { time: string; usageNanoCores?: number; usageCoreNanoSeconds?: number }
export interface MemoryStats {
  time: string;
  availableBytes?: number;
  usageBytes?: number;
  workingSetBytes?: number;
  rssBytes?: number;
  pageFaults?: number;
  majorPageFaults?: number;
}
export interface ContainerStats { name: string; startTime: string; cpu?: CPUStats; memory?: MemoryStats }
export interface PodReference { name: string; namespace: string; uid: string }
export interface PodStats { podRef: PodReference; startTime: string; containers: ContainerStats[]; cpu?: CPUStats; memory?: MemoryStats }
export interface NodeStats { nodeName: string; startTime: string; cpu?: CPUStats; memory?: MemoryStats }
export interface Summary { node: NodeStats; pods: PodStats[] }

/** What the API knows about a pod: start times (RFC 3339) of the pod and of its running containers. */
export interface PodTimes { startTime?: string; containers: Record<string, string | undefined> }

export interface SummaryOptions {
  nodeName: string;
  /** When the kubelet started (ms): the node's startTime where boot time is unknown. */
  startedAtMs: number;
  /** Start times for a pod, if the kubelet knows it (undefined: the sample time is used). */
  podTimes?(pod: PodSample): PodTimes | undefined;
}

const timeOf = (ns: number): string => rfc3339(new Date(Math.floor(ns / 1e6)));

export function cpuStats(u: UsagePoint): CPUStats {
  return { time: timeOf(u.timestamp), ...(u.nanoCores !== undefined ? { usageNanoCores: u.nanoCores } : {}), usageCoreNanoSeconds: u.cpuCoreNanoSeconds };
}

export function memoryStats(u: UsagePoint): MemoryStats {
  const out: MemoryStats = { time: timeOf(u.timestamp) };
  if (u.availableBytes !== undefined) out.availableBytes = u.availableBytes;
  if (u.usageBytes !== undefined) out.usageBytes = u.usageBytes;
  out.workingSetBytes = u.workingSetBytes;
  if (u.rssBytes !== undefined) out.rssBytes = u.rssBytes;
  if (u.pageFaults !== undefined) out.pageFaults = u.pageFaults;
  if (u.majorPageFaults !== undefined) out.majorPageFaults = u.majorPageFaults;
  return out;
}

/** Builds the Summary of one sample; pods sorted by namespace/name, containers by name. */
export function buildSummary(sample: StatsSample, o: SummaryOptions): Summary {
  const sampleTime = rfc3339(new Date(sample.takenAt));
  const pods = sample.pods.map((p): PodStats => {
    const times = o.podTimes?.(p);
    return {
      podRef: { name: p.name, namespace: p.namespace, uid: p.uid },
      startTime: times?.startTime ?? sampleTime,
      containers: p.containers
        .map((c): ContainerStats => ({ name: c.name, startTime: times?.containers[c.name] ?? sampleTime, cpu: cpuStats(c.usage), memory: memoryStats(c.usage) }))
        .sort((a, b) => a.name.localeCompare(b.name)),
      cpu: cpuStats(p.usage),
      memory: memoryStats(p.usage),
    };
  }).sort((a, b) => `${a.podRef.namespace}/${a.podRef.name}`.localeCompare(`${b.podRef.namespace}/${b.podRef.name}`));
  return {
    node: {
      nodeName: o.nodeName,
      startTime: rfc3339(new Date(sample.node.bootTimeMs ?? o.startedAtMs)),
      cpu: cpuStats(sample.node.usage),
      memory: memoryStats(sample.node.usage),
    },
    pods,
  };
}

/** The start times a pod's API status gives (pod startTime, running containers' startedAt). */
export function podTimesOf(status: {
  readonly startTime?: string;
  readonly containerStatuses?: readonly { readonly name: string; readonly state?: { readonly running?: { readonly startedAt?: string } } }[];
} | undefined): PodTimes | undefined {
  if (!status) return undefined;
  const containers: Record<string, string | undefined> = {};
  for (const c of status.containerStatuses ?? []) containers[c.name] = c.state?.running?.startedAt;
  return { ...(status.startTime ? { startTime: status.startTime } : {}), containers };
}
