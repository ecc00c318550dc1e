/**
 * Node-level usage from the kernel's own counters, /proc/stat and /proc/meminfo.
 *
 * Approximation (documented in docs/kubelet.md): these files are not namespaced, so a
 * kubelet running in a container reads the *host's* figures. Every tskube node on one Docker
 * host therefore reports the same host-wide usage, where upstream reports the node's root
 * cgroup. Nodes that are not real machines (simulated nodes) use the sum of their pods
 * instead (`nodeStats: 'pods'`).
 *
 * - CPU: the `cpu` line of /proc/stat; busy time = user + nice + system + irq + softirq +
 *   steal (idle and iowait excluded; guest time is already inside user), in USER_HZ ticks of
 *   10 ms (Linux's fixed USER_HZ of 100).
 * - Memory: usage = MemTotal − MemFree; working set = usage − Inactive(file), as cadvisor
 *   computes it for the root cgroup; available = MemTotal − working set.
 * - Start time: `btime` of /proc/stat (boot).
 */
import { readFileSync } from 'node:fs';

const NS_PER_TICK = 1e9 / 100;

export interface HostUsage {
  /** Unix ns of the reading. */
  timestamp: number;
  cpuCoreNanoSeconds: number;
  memoryTotalBytes: number;
  usageBytes: number;
  workingSetBytes: number;
  availableBytes: number;
  /** Boot time, Unix ms; undefined if unknown. */
  bootTimeMs?: number;
}

/** Busy CPU time (ns) and boot time (ms) from the text of /proc/stat; undefined if there is no `cpu` line. */
export function parseProcStat(text: string): { cpuCoreNanoSeconds: number; bootTimeMs?: number } | undefined {
  const cpu = /^cpu\s+(.*)$/m.exec(text);
  if (!cpu) return undefined;
  const f = cpu[1]!.trim().split(/\s+/).map(Number);
  const at = (i: number): number => (Number.isFinite(f[i]) ? f[i]! : 0);
  // user nice system idle iowait irq softirq steal guest guest_nice
  const busyTicks = at(0) + at(1) + at(2) + at(5) + at(6) + at(7);
  const btime = /^btime\s+(\d+)$/m.exec(text);
  return { cpuCoreNanoSeconds: busyTicks * NS_PER_TICK, ...(btime ? { bootTimeMs: Number(btime[1]) * 1000 } : {}) };
}

/** Memory figures (bytes) from the text of /proc/meminfo; undefined without MemTotal. */
export function parseMeminfo(text: string): Pick<HostUsage, 'memoryTotalBytes' | 'usageBytes' | 'workingSetBytes' | 'availableBytes'> | undefined {
  const kb = (key: string): number | undefined => {
    const m = new RegExp(`^${key.replace(/[()]/g, '\\$&')}:\\s+(\\d+)\\s*kB`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : undefined;
  };
  const total = kb('MemTotal');
  if (total === undefined) return undefined;
  const usage = Math.max(0, total - (kb('MemFree') ?? 0));
  const workingSet = Math.max(0, usage - (kb('Inactive(file)') ?? 0));
  return { memoryTotalBytes: total, usageBytes: usage, workingSetBytes: workingSet, availableBytes: Math.max(0, total - workingSet) };
}

/** Reads the host's usage now; undefined when /proc is not readable (not Linux). */
export function readHostUsage(nowNs: number, read: (path: string) => string = (p) => readFileSync(p, 'utf8')): HostUsage | undefined {
  try {
    const stat = parseProcStat(read('/proc/stat'));
    const mem = parseMeminfo(read('/proc/meminfo'));
    if (!stat || !mem) return undefined;
    return { timestamp: nowNs, ...stat, ...mem };
  } catch {
    return undefined;
  }
}
