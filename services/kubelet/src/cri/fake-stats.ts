/**
 * Resource usage of the fake runtime's containers: deterministic figures from a
 * {@link FakeUsage} function, by default {@link DEFAULT_FAKE_USAGE} (10m CPU, 4 MiB working
 * set). CPU time accrues at the given rate from the container's start, so two samples one
 * second apart differ by exactly `nanoCores` (up to the clock's granularity).
 */
import type { RawUsage } from './stats.js';

/** What a usage function is told about a running container. */
export interface FakeUsageInput {
  containerId: string;
  /** Image reference as written in the container config. */
  image: string;
  argv: readonly string[];
  /** Container labels (io.kubernetes.pod.name etc.). */
  labels: Readonly<Record<string, string>>;
}

/** A running container's steady CPU rate (nano cores) and working set (bytes). */
export interface FakeUsageFigures { nanoCores: number; workingSetBytes: number }

export type FakeUsage = (c: FakeUsageInput) => FakeUsageFigures;

export const DEFAULT_FAKE_USAGE: FakeUsage = () => ({ nanoCores: 10_000_000, workingSetBytes: 4 * 1024 * 1024 });

/**
 * Usage of a running container at `now` (Unix ns) that started at `startedAt`: cumulative
 * CPU = rate × running time; usage = working set (a fake has no page cache).
 */
export function fakeUsage(figures: FakeUsageFigures, startedAt: number, now: number): RawUsage {
  const seconds = Math.max(0, now - startedAt) / 1e9;
  return {
    timestamp: now,
    cpuCoreNanoSeconds: Math.round(figures.nanoCores * seconds),
    workingSetBytes: figures.workingSetBytes,
    usageBytes: figures.workingSetBytes,
    rssBytes: figures.workingSetBytes,
  };
}
