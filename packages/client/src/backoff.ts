/** Small timing helpers shared by the informer and leader election. */

/**
 * Capped exponential backoff with jitter: the n-th delay is `initial * 2^n`, capped at
 * `max`, then multiplied by a random factor in [1, 1 + jitter).
 */
export class Backoff {
  private attempt = 0;
  constructor(
    private readonly initialMs = 100,
    private readonly maxMs = 30_000,
    private readonly jitter = 0.5,
    private readonly random: () => number = Math.random,
  ) {}

  /** The next delay (ms); each call doubles the base. */
  next(): number {
    const base = Math.min(this.maxMs, this.initialMs * 2 ** Math.min(this.attempt, 40));
    this.attempt++;
    return Math.min(this.maxMs, base * (1 + this.jitter * this.random()));
  }

  reset(): void { this.attempt = 0; }

  get attempts(): number { return this.attempt; }
}

/** Resolves after `ms`, or early (without error) when `signal` aborts. Never rejects. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) { resolve(); return; }
    const done = () => { clearTimeout(t); signal?.removeEventListener('abort', done); resolve(); };
    const t = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** `base * (1 + factor * random)`, like client-go's wait.Jitter. */
export function jitter(baseMs: number, factor: number, random: () => number = Math.random): number {
  return baseMs * (1 + factor * random());
}
