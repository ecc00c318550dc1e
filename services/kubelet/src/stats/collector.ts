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
 * new container), it waits `minWindowMs` and samples once more, so every running object
 * leaves with a rate. Concurrent requests share one sampling. Entries of objects that are
 * gone are dropped at the next sample.
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

export class StatsCollector {
  private last: StatsSample | undefined;
  private inflight: Promise<StatsSample> | undefined;
  /** Previous cumulative CPU per key: `c:<container id>`, `p:<sandbox id>`, `node`. */
  private previous = new Map<string, { timestamp: number; cpuCoreNanoSeconds: number }>();
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
      await this.sleep(this.minWindowMs);
      s = await this.sampleOnce();
    }
    this.last = s;
    return s;
  }

  private lacksRates(s: StatsSample): boolean {
    return s.node.usage.nanoCores === undefined
      || s.pods.some((p) => p.usage.nanoCores === undefined || p.containers.some((c) => c.usage.nanoCores === undefined));
  }

  private async sampleOnce(): Promise<StatsSample> {
    const takenAt = this.o.clock.now();
    const nowNs = takenAt * 1e6;
    const { stats } = await this.o.runtime.listPodSandboxStats({});
    const next = new Map<string, { timestamp: number; cpuCoreNanoSeconds: number }>();
    const withRate = (key: string, p: UsagePoint): UsagePoint => {
      if (p.nanoCores === undefined) {
        const rate = cpuRate(this.previous.get(key), p);
        if (rate !== undefined) p.nanoCores = rate;
      }
      next.set(key, { timestamp: p.timestamp, cpuCoreNanoSeconds: p.cpuCoreNanoSeconds });
      return p;
    };
    // Newest READY sandbox per pod UID (the list is oldest first).
    const byUid = new Map<string, m.PodSandboxStats>();
    for (const s of stats) byUid.set(s.attributes?.metadata?.uid ?? s.attributes?.id ?? '', s);
    const pods: PodSample[] = [];
    for (const s of byUid.values()) {
      const a = s.attributes;
      if (!a?.metadata) continue;
      pods.push({
        sandboxId: a.id, name: a.metadata.name, namespace: a.metadata.namespace, uid: a.metadata.uid,
        usage: withRate(`p:${a.id}`, pointOf(s.linux?.cpu, s.linux?.memory, nowNs)),
        containers: (s.linux?.containers ?? []).map((c) => ({
          id: c.attributes?.id ?? '',
          name: c.attributes?.metadata?.name ?? '',
          usage: withRate(`c:${c.attributes?.id ?? ''}`, pointOf(c.cpu, c.memory, nowNs)),
        })),
      });
    }
    const host = this.o.nodeStats === 'pods' ? undefined : this.readHost(nowNs);
    const nodeUsage: UsagePoint = host
      ? { timestamp: host.timestamp, cpuCoreNanoSeconds: host.cpuCoreNanoSeconds, workingSetBytes: host.workingSetBytes,
        usageBytes: host.usageBytes, availableBytes: host.availableBytes }
      : {
        timestamp: nowNs,
        cpuCoreNanoSeconds: pods.reduce((n, p) => n + p.usage.cpuCoreNanoSeconds, 0),
        workingSetBytes: pods.reduce((n, p) => n + p.usage.workingSetBytes, 0),
        usageBytes: pods.reduce((n, p) => n + (p.usage.usageBytes ?? p.usage.workingSetBytes), 0),
      };
    const node = { usage: withRate('node', nodeUsage), ...(host?.bootTimeMs ? { bootTimeMs: host.bootTimeMs } : {}) };
    this.previous = next;
    return { takenAt, node, pods };
  }
}
