/**
 * Rules the runtimes share for the CRI stats calls (see the contract in runtime.ts):
 * filters, the empty usage of a container that is not running, and summing container usage
 * into a sandbox's.
 */
import type * as m from './proto.js';
import { byCreation } from './semantics.js';

/** A proto UInt64Value; negative or non-finite input becomes 0 (the wire type is unsigned). */
export function u64(n: number): m.UInt64Value {
  return { value: Number.isFinite(n) && n > 0 ? Math.floor(n) : 0 };
}

/** One container's usage as a runtime reads it, before it becomes CRI messages. */
export interface RawUsage {
  /** Unix ns of the reading. */
  timestamp: number;
  /** Cumulative CPU time, ns. */
  cpuCoreNanoSeconds: number;
  workingSetBytes: number;
  usageBytes: number;
  rssBytes?: number;
  /** Memory limit in bytes; 0 or absent: none (available_bytes is then absent). */
  limitBytes?: number;
  pageFaults?: number;
  majorPageFaults?: number;
}

export function cpuUsage(u: RawUsage): m.CpuUsage {
  return { timestamp: u.timestamp, usage_core_nano_seconds: u64(u.cpuCoreNanoSeconds), usage_nano_cores: null };
}

export function memoryUsage(u: RawUsage): m.MemoryUsage {
  const opt = (n: number | undefined): m.UInt64Value | null => (n === undefined ? null : u64(n));
  return {
    timestamp: u.timestamp,
    working_set_bytes: u64(u.workingSetBytes),
    available_bytes: u.limitBytes && u.limitBytes > 0 ? u64(u.limitBytes - u.workingSetBytes) : null,
    usage_bytes: u64(u.usageBytes),
    rss_bytes: opt(u.rssBytes),
    page_faults: opt(u.pageFaults),
    major_page_faults: opt(u.majorPageFaults),
  };
}

/** The stats of a container with this usage (undefined usage: zero, for a container not running). */
export function containerStatsOf(attributes: m.ContainerAttributes, usage: RawUsage): m.ContainerStats {
  return { attributes, cpu: cpuUsage(usage), memory: memoryUsage(usage) };
}

export function zeroUsage(timestamp: number): RawUsage {
  return { timestamp, cpuCoreNanoSeconds: 0, workingSetBytes: 0, usageBytes: 0 };
}

/** Sum of several usages (a pod's), timestamped with the latest reading. */
export function sumUsage(usages: readonly RawUsage[], fallbackTimestamp: number): RawUsage {
  const out = zeroUsage(0);
  for (const u of usages) {
    out.timestamp = Math.max(out.timestamp, u.timestamp);
    out.cpuCoreNanoSeconds += u.cpuCoreNanoSeconds;
    out.workingSetBytes += u.workingSetBytes;
    out.usageBytes += u.usageBytes;
  }
  if (out.timestamp === 0) out.timestamp = fallbackTimestamp;
  return out;
}

function labelsMatch(selector: m.StringMap | undefined, labels: m.StringMap): boolean {
  return Object.entries(selector ?? {}).every(([k, v]) => labels[k] === v);
}

/** ListContainerStats filter: ANDed; IDs by prefix, labels by equality. */
export function matchesContainerStatsFilter(f: m.ContainerStatsFilter | null | undefined, c: { id: string; sandboxId: string; labels: m.StringMap }): boolean {
  if (!f) return true;
  if (f.id && !c.id.startsWith(f.id)) return false;
  if (f.pod_sandbox_id && !c.sandboxId.startsWith(f.pod_sandbox_id)) return false;
  return labelsMatch(f.label_selector, c.labels);
}

/** ListPodSandboxStats filter: ANDed; ID by prefix, labels by equality. */
export function matchesSandboxStatsFilter(f: m.PodSandboxStatsFilter | null | undefined, s: { id: string; labels: m.StringMap }): boolean {
  if (!f) return true;
  if (f.id && !s.id.startsWith(f.id)) return false;
  return labelsMatch(f.label_selector, s.labels);
}

/** A sandbox's stats from its own usage (if it has a process of its own) and its containers'. */
export function sandboxStatsOf(attributes: m.PodSandboxAttributes, own: RawUsage | undefined,
  containers: readonly { stats: m.ContainerStats; usage: RawUsage }[], now: number): m.PodSandboxStats {
  const total = sumUsage([...(own ? [own] : []), ...containers.map((c) => c.usage)], now);
  return {
    attributes,
    linux: { cpu: cpuUsage(total), memory: memoryUsage(total), containers: containers.map((c) => c.stats) },
  };
}

/** Oldest first by the creation times a runtime knows; stats messages carry none themselves. */
export function sortByCreation<T>(items: { item: T; created_at: number; id: string }[]): T[] {
  return items.sort(byCreation).map((x) => x.item);
}
