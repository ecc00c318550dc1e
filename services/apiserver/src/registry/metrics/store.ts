/**
 * The metrics API's memory of kubelet summaries, one entry per node, kept the way
 * metrics-server keeps its storage (pkg/storage: the last and the previous point of every
 * container and node):
 *
 * - `put` (a scrape of the node succeeded) replaces the node's entry; pods and containers
 *   missing from the new summary are gone with it, as in metrics-server.
 * - A failed scrape does not touch the entry: the node's previous good points keep being
 *   served until a scrape succeeds again, the entry is older than `maxStaleMs`, or the node
 *   leaves the Ready set (`retain`). Deviation: metrics-server drops a node's points at the
 *   next scrape it fails; here one slow kubelet answer does not blank its pods.
 * - CPU rates: the kubelet's `usageNanoCores` when the summary has it (its window is the
 *   time since the kubelet's previous sample, normally our previous scrape). A container (or
 *   node) the kubelet gives no rate for (it has no previous reading of it: a kubelet restart,
 *   a reading it missed) gets metrics-server's rate: Δ`usageCoreNanoSeconds` / Δtime between
 *   the new point and the stored one before it; usable when the stored point is older and
 *   the counter did not decrease (a restarted container starts again from 0; metrics-server
 *   also compares start times, but the kubelet's container startTime falls back to the
 *   sample time when it does not know the pod, so it is not used here). Such a rate carries
 *   its window (`windowMs`). The Summary API's times have one-second precision, so over a
 *   10 s scrape interval this rate is within about 10 %.
 *
 * Not safe for concurrent mutation from several places; the one source (source.ts) owns it.
 */
import type { NodeSummary, SummaryContainer, SummaryCpu, SummaryPod } from './convert.js';

/** A cumulative CPU reading as stored. */
interface CpuPoint { timeMs: number; cumulativeNs: number }
/** The last and previous readings of one container or node (metrics-server's last/prev). */
interface Series { last?: CpuPoint; prev?: CpuPoint }

interface PodEntry { uid?: string; containers: Map<string, Series> }
interface NodeEntry {
  /** When the summary was stored (ms, the store's clock). */
  storedAt: number;
  /** The summary with the rates this store could fill in (see the module doc). */
  summary: NodeSummary;
  node: Series;
  pods: Map<string, PodEntry>;
}

const podKey = (p: { podRef: { namespace: string; name: string } }): string => `${p.podRef.namespace}/${p.podRef.name}`;

function pointOf(cpu: SummaryCpu | undefined): CpuPoint | undefined {
  const timeMs = cpu?.time ? Date.parse(cpu.time) : NaN;
  if (!Number.isFinite(timeMs) || cpu?.usageCoreNanoSeconds === undefined) return undefined;
  return { timeMs, cumulativeNs: cpu.usageCoreNanoSeconds };
}

/**
 * The series after `cpu` is read, and the rate since the stored point before it (if usable).
 * A newer point moves the last one to prev; a point no newer than the last keeps prev when prev
 * is older (metrics-server's rule); a decreasing counter (a new container) starts over.
 */
export function advance(old: Series | undefined, cpu: SummaryCpu | undefined):
  { series: Series; rate?: { nanoCores: number; windowMs: number } } {
  const p = pointOf(cpu);
  if (!p) return { series: {} };
  const { last, prev } = old ?? {};
  let series: Series;
  if (!last) series = { last: p };
  else if (p.timeMs > last.timeMs) series = { last: p, prev: last };
  else series = { last: p, ...(prev && prev.timeMs < p.timeMs ? { prev } : {}) };
  const base = series.prev;
  if (!base) return { series };
  if (p.cumulativeNs < base.cumulativeNs) return { series: { last: p } };
  const windowMs = p.timeMs - base.timeMs;
  return { series, rate: { nanoCores: Math.round(((p.cumulativeNs - base.cumulativeNs) * 1000) / windowMs), windowMs } };
}

/** `cpu` with a rate: the kubelet's, else the computed one (with its window), else none. */
function withRate(cpu: SummaryCpu | undefined, rate: { nanoCores: number; windowMs: number } | undefined): SummaryCpu | undefined {
  if (!cpu) return undefined;
  const out: SummaryCpu = { ...cpu };
  delete out.windowMs; // only ever set here, whatever a kubelet sent
  if (out.usageNanoCores === undefined && rate) Object.assign(out, { usageNanoCores: rate.nanoCores, windowMs: rate.windowMs });
  return out;
}

export class MetricsStore {
  private readonly nodes = new Map<string, NodeEntry>();

  constructor(private readonly o: { maxStaleMs: number }) {}

  /** Stores a node's fresh summary (a successful scrape at `now`). */
  put(nodeName: string, s: NodeSummary, now: number): void {
    const old = this.nodes.get(nodeName);
    const node = advance(old?.node, s.node.cpu);
    const pods = new Map<string, PodEntry>();
    const outPods: SummaryPod[] = [];
    for (const p of s.pods ?? []) {
      const key = podKey(p);
      if (pods.has(key)) continue; // a duplicate entry: the first one counts
      const before = old?.pods.get(key);
      // Same pod only when the UIDs agree (or one side has none).
      const same = before && (!before.uid || !p.podRef.uid || before.uid === p.podRef.uid) ? before : undefined;
      const containers = new Map<string, Series>();
      const outContainers: SummaryContainer[] = [];
      for (const c of p.containers ?? []) {
        if (containers.has(c.name)) continue;
        const r = advance(same?.containers.get(c.name), c.cpu);
        containers.set(c.name, r.series);
        const cpu = withRate(c.cpu, r.rate);
        outContainers.push({ ...c, ...(cpu ? { cpu } : {}) });
      }
      pods.set(key, { ...(p.podRef.uid ? { uid: p.podRef.uid } : {}), containers });
      outPods.push({ ...p, containers: outContainers });
    }
    const nodeCpu = withRate(s.node.cpu, node.rate);
    this.nodes.set(nodeName, {
      storedAt: now, node: node.series, pods,
      summary: { node: { ...s.node, ...(nodeCpu ? { cpu: nodeCpu } : {}) }, pods: outPods },
    });
  }

  /** Forgets every node not in `names` (deleted, or no longer Ready). */
  retain(names: ReadonlySet<string>): void {
    for (const n of [...this.nodes.keys()]) if (!names.has(n)) this.nodes.delete(n);
  }

  /** The stored summaries no older than `maxStaleMs` at `now`, by node name. */
  summaries(now: number): Map<string, NodeSummary> {
    const out = new Map<string, NodeSummary>();
    for (const [name, e] of this.nodes) if (now - e.storedAt <= this.o.maxStaleMs) out.set(name, e.summary);
    return out;
  }

  /** When the node's entry was stored; undefined without one. */
  storedAt(nodeName: string): number | undefined {
    return this.nodes.get(nodeName)?.storedAt;
  }
}
