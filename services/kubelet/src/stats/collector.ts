/**
 * Samples resource usage for the kubelet's stats endpoints (upstream: cadvisor plus the CRI
 * stats provider). One sample = one ListPodSandboxStats call (every READY sandbox of this
 * node with its running containers) plus the node's own figures (host-stats.ts, or the sum
 * of the pods).
 *
 * CPU rates (usageNanoCores) come from two samples: the collector keeps the previous
 * cumulative CPU time of every container, pod and the node, and reports
 * Δcpu / Δtime between the previous sample and this one. Sampling is on demand: a request
 * reuses the latest sample when it is younger than `minWindowMs` (default 1 s), else takes a
 * new one; when the new sample has objects without a previous reading (the first request, a
 * new container), it samples once more, no sooner than `minWindowMs` after the first sample
 * began (a slow runtime, like Docker's one stats round a second, has used that time up
 * already), so every object that was in both samples leaves with a rate. Concurrent requests
 * share one sampling.
 *
 * Latency matters: the apiserver's metrics API scrapes /stats/summary with a timeout, and a
 * summary that misses it costs all of this node's pods their metrics. A first request costs
 * two samples (~2 s on Docker), a later one one sample (~1 s).
 *
 * A previous reading survives samples that miss its object (a container Docker could not read
 * once) for {@link PREVIOUS_READING_TTL_MS}, as upstream's CRI stats provider keeps its CPU
 * usage cache, so one missed reading does not force the slow two-sample path next time.
 */
import type { Logger } from '@tskube/log';
import type { Clock } from '../clock.js';
import type * as m from '../cri/proto.js';
import type { RuntimeService } from '../cri/runtime.js';
import { readHostUsage, type HostUsage } from './host-stats.js';

/** Usage of one object at one time; CPU figures in ns, memory in bytes. */
export interface UsagePoint {
  /** Unix ns. */
  timestamp: number;
  cpuCoreNanoSeconds: number;
  /** Average over the last sample window; undefined without a previous sample. */
  nanoCores?: number;
  workingSetBytes: number;
  usageBytes?: number;
  rssBytes?: number;
  availableBytes?: number;
  pageFaults?: number;
  majorPageFaults?: number;
}

export interface ContainerSample { id: string; name: string; usage: UsagePoint }
export interface PodSample {
  sandboxId: string;
  name: string;
  namespace: string;
  uid: string;
  usage: UsagePoint;
  containers: ContainerSample[];
}
export interface StatsSample {
  /** Clock ms when the sample was taken. */
  takenAt: number;
  node: { usage: UsagePoint; bootTimeMs?: number };
  pods: PodSample[];
}

/** Where node-level figures come from: the host's kernel counters, or the sum of the pods. */
export type NodeStatsSource = 'host' | 'pods';

export interface StatsCollectorOptions {
  runtime: Pick<RuntimeService, 'listPodSandboxStats'>;
  clock: Clock;
  logger: Logger;
  /** Default 'host' (falls back to 'pods' where /proc cannot be read). */
  nodeStats?: NodeStatsSource;
  /** Default 1000. */
  minWindowMs?: number;
  /** Host reader (tests); default {@link readHostUsage}. */
  readHost?: (nowNs: number) => HostUsage | undefined;
  /** Waits between the two first samples (tests pass a fake). */
  sleep?: (ms: number) => Promise<void>;
}

/** nano cores between two cumulative readings; undefined when there is no usable previous one. */
export function cpuRate(prev: { timestamp: number; cpuCoreNanoSeconds: number } | undefined,
  cur: { timestamp: number; cpuCoreNanoSeconds: number }): number | undefined {
  if (!prev || cur.timestamp <= prev.timestamp || cur.cpuCoreNanoSeconds < prev.cpuCoreNanoSeconds) return undefined;
  return Math.round(((cur.cpuCoreNanoSeconds - prev.cpuCoreNanoSeconds) * 1e9) / (cur.timestamp - prev.timestamp));
}

const opt = (v: m.UInt64Value | null | undefined): number | undefined => (v ? v.value : undefined);

/** A UsagePoint from CRI cpu/memory messages (no rate yet unless the runtime gave one). */
export function pointOf(cpu: m.CpuUsage | null | undefined, mem: m.MemoryUsage | null | undefined, fallbackNs: number): UsagePoint {
  const p: UsagePoint = {
    timestamp: cpu?.timestamp || mem?.timestamp || fallbackNs,
    cpuCoreNanoSeconds: opt(cpu?.usage_core_nano_seconds) ?? 0,
    workingSetBytes: opt(mem?.working_set_bytes) ?? 0,
  };
  const rate = opt(cpu?.usage_nano_cores);
  if (rate !== undefined) p.nanoCores = rate;
  const fields: [keyof UsagePoint, m.UInt64Value | null | undefined][] = [
    ['usageBytes', mem?.usage_bytes], ['rssBytes', mem?.rss_bytes], ['availableBytes', mem?.available_bytes],
    ['pageFaults', mem?.page_faults], ['majorPageFaults', mem?.major_page_faults],
  ];
  for (const [k, v] of fields) if (v) p[k] = v.value;
  return p;
}

/** How long a previous CPU reading is kept for an object absent from later samples (upstream: 10 min). */
export const PREVIOUS_READING_TTL_MS = 10 * 60_000;

/**
 * A previous cumulative CPU reading, with the rate computed when it was taken; for a pod,
 * also the containers its sum covered (`members`).
 */
interface Reading { timestamp: number; cpuCoreNanoSeconds: number; nanoCores?: number; members?: string }

export class StatsCollector {
  private last: StatsSample | undefined;
  private inflight: Promise<StatsSample> | undefined;
  /** Previous cumulative CPU per key: `c:<container id>`, `p:<sandbox id>`, `node`. */
  private previous = new Map<string, Reading>();
  private readonly minWindowMs: number;
  private readonly readHost: (nowNs: number) => HostUsage | undefined;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly o: StatsCollectorOptions) {
    this.minWindowMs = o.minWindowMs ?? 1000;
    this.readHost = o.readHost ?? ((ns) => readHostUsage(ns));
    this.sleep = o.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /** A sample no older than `minWindowMs` (see the module doc). Rejects when the runtime fails. */
  latest(): Promise<StatsSample> {
    if (this.inflight) return this.inflight;
    if (this.last && this.o.clock.now() - this.last.takenAt < this.minWindowMs) return Promise.resolve(this.last);
    const p = this.collect().finally(() => { this.inflight = undefined; });
    this.inflight = p;
    return p;
  }

  private async collect(): Promise<StatsSample> {
    let s = await this.sampleOnce();
    if (this.lacksRates(s)) {
      const rest = this.minWindowMs - (this.o.clock.now() - s.takenAt);
      if (rest > 0) await this.sleep(rest);
      s = await this.sampleOnce();
    }
    this.last = s;
    return s;
  }

  /**
   * Whether the node or a container has no rate: what the metrics API needs. A pod's own
   * figure is a sum over whatever was read (pause plus running containers), so it cannot
   * give a rate across a change of its container set; it then falls back to the sum of its
   * containers' rates (see sampleOnce) and does not warrant a second sample.
   */
  private lacksRates(s: StatsSample): boolean {
    return s.node.usage.nanoCores === undefined
      || s.pods.some((p) => p.containers.some((c) => c.usage.nanoCores === undefined));
  }

  private async sampleOnce(): Promise<StatsSample> {
    const takenAt = this.o.clock.now();
    const nowNs = takenAt * 1e6;
    const { stats } = await this.o.runtime.listPodSandboxStats({});
    // Readings of objects this sample misses are kept a while (see the module doc).
    const next = new Map<string, Reading>();
    for (const [key, r] of this.previous) if (nowNs - r.timestamp < PREVIOUS_READING_TTL_MS * 1e6) next.set(key, r);
    /** Sets p's rate from the previous reading of `key`; `members` (pods): the containers p sums. */
    const withRate = (key: string, p: UsagePoint, members?: string, fallback?: () => number | undefined): UsagePoint => {
      if (p.nanoCores === undefined) {
        const prev = this.previous.get(key);
        // The very reading seen before (a runtime serving a cached reading): its rate still holds.
        const same = prev && prev.timestamp === p.timestamp && prev.cpuCoreNanoSeconds === p.cpuCoreNanoSeconds;
        // A sum over another set of containers is not the same counter.
        const comparable = prev && prev.members === members;
        const rate = (same ? prev.nanoCores : comparable ? cpuRate(prev, p) : undefined) ?? fallback?.();
        if (rate !== undefined) p.nanoCores = rate;
      }
      next.set(key, {
        timestamp: p.timestamp, cpuCoreNanoSeconds: p.cpuCoreNanoSeconds,
        ...(p.nanoCores !== undefined ? { nanoCores: p.nanoCores } : {}), ...(members !== undefined ? { members } : {}),
      });
      return p;
    };
    // Newest READY sandbox per pod UID (the list is oldest first).
    const byUid = new Map<string, m.PodSandboxStats>();
    for (const s of stats) byUid.set(s.attributes?.metadata?.uid ?? s.attributes?.id ?? '', s);
    const pods: PodSample[] = [];
    for (const s of byUid.values()) {
      const a = s.attributes;
      if (!a?.metadata) continue;
      const containers = (s.linux?.containers ?? []).map((c) => ({
        id: c.attributes?.id ?? '',
        name: c.attributes?.metadata?.name ?? '',
        usage: withRate(`c:${c.attributes?.id ?? ''}`, pointOf(c.cpu, c.memory, nowNs)),
      }));
      // The pod's own figure sums the pause container and the containers read this time; when
      // that set changed (a container started, restarted or was not read) the sum is no counter
      // to take a rate of, and the containers' rates are summed instead.
      const members = containers.map((c) => c.id).sort().join(',');
      const sumOfContainers = (): number | undefined => (containers.length > 0 && containers.every((c) => c.usage.nanoCores !== undefined)
        ? containers.reduce((n, c) => n + (c.usage.nanoCores ?? 0), 0) : undefined);
      const usage = withRate(`p:${a.id}`, pointOf(s.linux?.cpu, s.linux?.memory, nowNs), members, sumOfContainers);
      pods.push({ sandboxId: a.id, name: a.metadata.name, namespace: a.metadata.namespace, uid: a.metadata.uid, usage, containers });
    }
    // Stamped when /proc is read, after the runtime call (which may take a second or more).
    const readNs = this.o.clock.now() * 1e6;
    const host = this.o.nodeStats === 'pods' ? undefined : this.readHost(readNs);
    const nodeUsage: UsagePoint = host
      ? { timestamp: host.timestamp, cpuCoreNanoSeconds: host.cpuCoreNanoSeconds, workingSetBytes: host.workingSetBytes,
        usageBytes: host.usageBytes, availableBytes: host.availableBytes }
      : {
        timestamp: readNs,
        cpuCoreNanoSeconds: pods.reduce((n, p) => n + p.usage.cpuCoreNanoSeconds, 0),
        workingSetBytes: pods.reduce((n, p) => n + p.usage.workingSetBytes, 0),
        usageBytes: pods.reduce((n, p) => n + (p.usage.usageBytes ?? p.usage.workingSetBytes), 0),
      };
    // Summed from the pods, the node's figure is a counter only while the set of pods stays.
    const nodeUsageRated = host ? withRate('node', nodeUsage) : withRate('node', nodeUsage, pods.map((p) => p.sandboxId).sort().join(','),
      () => (pods.every((p) => p.usage.nanoCores !== undefined) ? pods.reduce((n, p) => n + (p.usage.nanoCores ?? 0), 0) : undefined));
    const node = { usage: nodeUsageRated, ...(host?.bootTimeMs ? { bootTimeMs: host.bootTimeMs } : {}) };
    this.previous = next;
    return { takenAt, node, pods };
  }
}
