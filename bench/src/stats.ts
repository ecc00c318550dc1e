/** Percentiles and medians for benchmark samples (nearest-rank, like most load tools). */
export function percentile(samples: readonly number[], p: number): number {
  if (!samples.length) return NaN;
  const s = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * s.length);
  return s[Math.min(s.length - 1, Math.max(0, rank - 1))]!;
}

export const median = (xs: readonly number[]) => percentile(xs, 50);

export function fmtMs(ms: number): string {
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}

/** Prints a line to stdout and flushes (progress for long runs). */
export function say(line: string): void {
  process.stdout.write(`${line}\n`);
}
