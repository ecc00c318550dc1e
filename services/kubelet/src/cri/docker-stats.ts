/**
 * Container usage from Docker's stats API (`GET /containers/{id}/stats?stream=false&one-shot=true`:
 * one reading, no second sample, so it answers at once).
 *
 * - CPU: `cpu_stats.cpu_usage.total_usage`, cumulative ns on cgroup v1 and v2 alike.
 * - Working set, as cadvisor (and so upstream's kubelet) computes it: `memory_stats.usage`
 *   minus inactive file cache (`stats.total_inactive_file` on cgroup v1,
 *   `stats.inactive_file` on v2), floored at 0. `usage` stays the raw figure (cache included).
 * - RSS: `total_rss` (v1) or `anon` (v2); page faults: `pgfault` / `pgmajfault`.
 * - No limit is reported (available_bytes absent): Docker shows the host's memory as the
 *   limit of an unlimited container, which cannot be told apart here.
 * - Docker answers a container it cannot read (not running, or gone from containerd) with an
 *   empty frame: zero `read` time and zero figures. That is no reading at all
 *   ({@link isEmptyDockerStats}); taken as usage it would look like a CPU counter reset to 0.
 * - Timing (Docker 20.10, API 1.41): even a one-shot call subscribes to the engine's stats
 *   collector and waits for its next round, which runs once a second. Every call therefore
 *   takes up to ~1 s, and calls made one after another cost a round each: read what is needed
 *   concurrently.
 */
import { nowNanos, parseRfc3339Nano } from './semantics.js';
import type { RawUsage } from './stats.js';

function obj(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {};
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** True for Docker's empty frame (zero or missing `read` time): the container could not be read. */
export function isEmptyDockerStats(raw: unknown): boolean {
  const read = obj(raw).read;
  return typeof read !== 'string' || parseRfc3339Nano(read) === 0;
}

/** Converts one Docker stats reading (its JSON, unchecked) into usage; missing figures read as 0. */
export function usageFromDockerStats(raw: unknown, fallbackNow: number = nowNanos()): RawUsage {
  const r = obj(raw);
  const cpu = obj(obj(r.cpu_stats).cpu_usage);
  const mem = obj(r.memory_stats);
  const st = obj(mem.stats);
  const usage = num(mem.usage) ?? 0;
  // cgroup v1 reports hierarchical totals (total_*); v2 has only the plain names.
  const inactiveFile = num(st.total_inactive_file) ?? num(st.inactive_file) ?? 0;
  const read = typeof r.read === 'string' ? parseRfc3339Nano(r.read) : 0;
  const rss = num(st.total_rss) ?? num(st.rss) ?? num(st.anon);
  const faults = num(st.total_pgfault) ?? num(st.pgfault);
  const majorFaults = num(st.total_pgmajfault) ?? num(st.pgmajfault);
  return {
    timestamp: read > 0 ? read : fallbackNow,
    cpuCoreNanoSeconds: num(cpu.total_usage) ?? 0,
    workingSetBytes: Math.max(0, usage - inactiveFile),
    usageBytes: usage,
    ...(rss !== undefined ? { rssBytes: rss } : {}),
    ...(faults !== undefined ? { pageFaults: faults } : {}),
    ...(majorFaults !== undefined ? { majorPageFaults: majorFaults } : {}),
  };
}
