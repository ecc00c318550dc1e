/**
 * From kubelet Summaries to metrics.k8s.io/v1beta1 objects, in metrics-server's shapes:
 * - NodeMetrics {metadata {name, labels, creationTimestamp}, timestamp, window, usage {cpu, memory}}
 * - PodMetrics {metadata {name, namespace, labels, creationTimestamp}, timestamp, window,
 *   containers [{name, usage {cpu, memory}}]}
 * CPU is the kubelet's usageNanoCores as a nano-scaled quantity, memory the working set in
 * bytes as a BinarySI quantity, both written in canonical form (metrics-server:
 * resource.NewScaledQuantity(n, -9) and resource.NewQuantity(b, BinarySI)), e.g. "12345n",
 * "250m" and "1536Ki".
 */
import { canonicalQuantity, rfc3339, type KubeObject, type Node, type Pod } from '@tskube/api';

/** The subset of the kubelet Summary API (stats/v1alpha1) read here. */
export interface SummaryCpu {
  time?: string;
  usageNanoCores?: number;
  usageCoreNanoSeconds?: number;
  /**
   * Not on the wire: the window (ms) of a rate the metrics store computed itself from two of
   * its scrapes (store.ts); absent for the kubelet's own usageNanoCores.
   */
  windowMs?: number;
}
export interface SummaryMemory { time?: string; workingSetBytes?: number }
export interface SummaryContainer { name: string; cpu?: SummaryCpu; memory?: SummaryMemory }
export interface SummaryPod { podRef: { name: string; namespace: string; uid?: string }; containers?: SummaryContainer[] }
export interface NodeSummary { node: { nodeName?: string; cpu?: SummaryCpu; memory?: SummaryMemory }; pods?: SummaryPod[] }

/** CPU in nano cores as metrics-server writes it: "0", "12345n", "250m", "2". */
export function cpuQuantity(nanoCores: number): string {
  return canonicalQuantity(`${Math.max(0, Math.round(nanoCores))}n`);
}

/** Bytes as a BinarySI quantity: "1536Ki", "4Mi"; below 1024 or not a multiple of 1024 plain ("1k" below 1024, as upstream). */
export function memoryQuantity(bytes: number): string {
  const b = Math.max(0, Math.round(bytes));
  if (b < 1024) return canonicalQuantity(b);
  return b % 1024 === 0 ? canonicalQuantity(`${b / 1024}Ki`) : String(b);
}

/** A Go time.Duration string of whole milliseconds: "10s", "1.5s", "1m5s", "0s". */
export function goDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms));
  if (total === 0) return '0s';
  const h = Math.floor(total / 3_600_000);
  const min = Math.floor((total % 3_600_000) / 60_000);
  const secMs = total % 60_000;
  const sec = secMs % 1000 === 0 ? String(secMs / 1000) : String(secMs / 1000).replace(/0+$/, '');
  if (h > 0) return `${h}h${min}m${sec}s`;
  if (min > 0) return `${min}m${sec}s`;
  return `${sec}s`;
}

function usageOf(cpu: SummaryCpu | undefined, mem: SummaryMemory | undefined): { cpu: string; memory: string } | undefined {
  if (cpu?.usageNanoCores === undefined || mem?.workingSetBytes === undefined) return undefined;
  return { cpu: cpuQuantity(cpu.usageNanoCores), memory: memoryQuantity(mem.workingSetBytes) };
}

export interface ConvertOptions {
  /** Reported sample window (ms) of the kubelet's own rates (a stored rate has its own). */
  windowMs: number;
  /** creationTimestamp of the answer (metrics objects are made per request). */
  now: Date;
}

/** NodeMetrics of a node, or undefined when its summary lacks CPU rate or memory. */
export function nodeMetricsOf(node: Node, s: NodeSummary, o: ConvertOptions): KubeObject | undefined {
  const usage = usageOf(s.node.cpu, s.node.memory);
  if (!usage) return undefined;
  return {
    kind: 'NodeMetrics', apiVersion: 'metrics.k8s.io/v1beta1',
    metadata: { name: node.metadata?.name ?? '', creationTimestamp: rfc3339(o.now), ...(node.metadata?.labels ? { labels: { ...node.metadata.labels } } : {}) },
    timestamp: s.node.cpu?.time ?? rfc3339(o.now),
    window: goDuration(s.node.cpu?.windowMs ?? o.windowMs),
    usage,
  };
}

/**
 * PodMetrics of a pod from its node's summary; undefined when the summary has no entry for it
 * (matched by namespace/name, and by UID when both sides have one) or a container lacks figures
 * (metrics-server drops such pods). The window is the widest of its containers' windows.
 */
export function podMetricsOf(pod: Pod, s: NodeSummary, o: ConvertOptions): KubeObject | undefined {
  const ns = pod.metadata?.namespace ?? '';
  const name = pod.metadata?.name ?? '';
  const uid = pod.metadata?.uid;
  const ps = (s.pods ?? []).find((p) => p.podRef.namespace === ns && p.podRef.name === name && (!uid || !p.podRef.uid || p.podRef.uid === uid));
  if (!ps || !ps.containers?.length) return undefined;
  const containers: { name: string; usage: { cpu: string; memory: string } }[] = [];
  let timestamp = '';
  let windowMs = 0;
  for (const c of [...ps.containers].sort((a, b) => a.name.localeCompare(b.name))) {
    const usage = usageOf(c.cpu, c.memory);
    if (!usage) return undefined;
    containers.push({ name: c.name, usage });
    if ((c.cpu?.time ?? '') > timestamp) timestamp = c.cpu?.time ?? '';
    windowMs = Math.max(windowMs, c.cpu?.windowMs ?? o.windowMs);
  }
  return {
    kind: 'PodMetrics', apiVersion: 'metrics.k8s.io/v1beta1',
    metadata: { name, namespace: ns, creationTimestamp: rfc3339(o.now), ...(pod.metadata?.labels ? { labels: { ...pod.metadata.labels } } : {}) },
    timestamp: timestamp || rfc3339(o.now),
    window: goDuration(windowMs),
    containers,
  };
}

/** Narrows a decoded /stats/summary body; undefined when it is not one. */
export function asNodeSummary(v: unknown): NodeSummary | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const node = (v as { node?: unknown }).node;
  if (typeof node !== 'object' || node === null) return undefined;
  const pods = (v as { pods?: unknown }).pods;
  if (pods !== undefined && pods !== null && !Array.isArray(pods)) return undefined;
  const okPod = (p: unknown): boolean => typeof p === 'object' && p !== null
    && typeof (p as { podRef?: { name?: unknown } }).podRef?.name === 'string';
  return { node: node as NodeSummary['node'], pods: ((pods ?? []) as unknown[]).filter(okPod) as SummaryPod[] };
}
