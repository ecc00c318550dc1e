/**
 * Rate-limited work queue with client-go's semantics (util/workqueue):
 *
 * - One key at a time: a key handed out by `get()` is not handed out again until `done(key)`.
 *   Adding it meanwhile marks it dirty; `done` then queues it again (once).
 * - Adding a key that is already queued is a no-op (deduplication); order is FIFO otherwise.
 * - `addAfter(key, ms)` adds later; several pending delays for one key keep the earliest.
 * - `addRateLimited(key)` = `addAfter(key, limiter.when(key))`; `forget(key)` resets the
 *   key's failure count (call it when a key was processed successfully).
 * - After `shutDown()`, adds are ignored; `get()` still hands out what is queued and then
 *   resolves `undefined` to every caller.
 */

/** Decides how long to wait before retrying an item. */
export interface RateLimiter<T> {
  /** Delay (ms) for the next retry of `item`; counts a failure. */
  when(item: T): number;
  /** Clears `item`'s failure history. */
  forget(item: T): void;
  /** Failures counted for `item` since the last `forget`. */
  numRequeues(item: T): number;
}

/** Per-item exponential backoff: base·2^failures, capped (client-go default 5 ms … 1000 s). */
export class ItemExponentialRateLimiter<T> implements RateLimiter<T> {
  private readonly failures = new Map<T, number>();
  constructor(private readonly baseMs = 5, private readonly maxMs = 1_000_000) {}
  when(item: T): number {
    const n = this.failures.get(item) ?? 0;
    this.failures.set(item, n + 1);
    return Math.min(this.maxMs, this.baseMs * 2 ** Math.min(n, 60));
  }
  forget(item: T): void { this.failures.delete(item); }
  numRequeues(item: T): number { return this.failures.get(item) ?? 0; }
}

/**
 * Overall token bucket (golang.org/x/time/rate reservation semantics): `qps` tokens per
 * second, at most `burst` saved up; each `when` takes one token and returns how long until
 * it is actually available. Not per item: `forget` and `numRequeues` do nothing.
 */
export class BucketRateLimiter<T> implements RateLimiter<T> {
  private tokens: number;
  private last: number;
  constructor(private readonly qps = 10, private readonly burst = 100, private readonly now: () => number = Date.now) {
    this.tokens = burst;
    this.last = now();
  }
  when(): number {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.qps);
    this.last = t;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.qps) * 1000;
  }
  forget(): void {}
  numRequeues(): number { return 0; }
}

/** The longest delay of several limiters; requeues are the most any of them counts. */
export class MaxOfRateLimiter<T> implements RateLimiter<T> {
  private readonly limiters: readonly RateLimiter<T>[];
  constructor(...limiters: RateLimiter<T>[]) { this.limiters = limiters; }
  when(item: T): number { return Math.max(0, ...this.limiters.map((l) => l.when(item))); }
  forget(item: T): void { for (const l of this.limiters) l.forget(item); }
  numRequeues(item: T): number { return Math.max(0, ...this.limiters.map((l) => l.numRequeues(item))); }
}

/** client-go's DefaultControllerRateLimiter: max(per-item 5 ms·2^n ≤ 1000 s, bucket 10 qps / burst 100). */
export function defaultControllerRateLimiter<T = string>(): RateLimiter<T> {
  return new MaxOfRateLimiter<T>(new ItemExponentialRateLimiter<T>(5, 1_000_000), new BucketRateLimiter<T>(10, 100));
}

/**
 * Hooks for exporting queue metrics (e.g. to prom-client gauges/counters/histograms named
 * like client-go's `workqueue_*`). Every hook is optional and must not throw.
 */
export interface WorkQueueMetrics {
  /** Current number of queued (not yet handed out) items: `workqueue_depth`. */
  depth?(queue: string, depth: number): void;
  /** An add that was accepted (not a duplicate, not after shutdown): `workqueue_adds_total`. */
  add?(queue: string): void;
  /** Seconds an item waited between being queued and handed out: `workqueue_queue_duration_seconds`. */
  queueDuration?(queue: string, seconds: number): void;
  /** Seconds between `get()` handing an item out and `done()`: `workqueue_work_duration_seconds`. */
  workDuration?(queue: string, seconds: number): void;
  /** An `addRateLimited` call: `workqueue_retries_total`. */
  retry?(queue: string): void;
}

export interface WorkQueueOptions<T> {
  /** Names the queue in metrics. */
  name?: string;
  rateLimiter?: RateLimiter<T>;
  metrics?: WorkQueueMetrics;
  /** Clock for metrics (ms). */
  now?: () => number;
}

export class WorkQueue<T = string> {
  readonly name: string;
  private readonly queue: T[] = [];
  private readonly dirty = new Set<T>();
  private readonly processing = new Set<T>();
  private readonly waiters: ((item: T | undefined) => void)[] = [];
  /** Pending addAfter timers: item → when it becomes ready. */
  private readonly delayed = new Map<T, { readyAt: number; timer: NodeJS.Timeout }>();
  private readonly queuedAt = new Map<T, number>();
  private readonly startedAt = new Map<T, number>();
  private readonly limiter: RateLimiter<T>;
  private readonly metrics: WorkQueueMetrics | undefined;
  private readonly now: () => number;
  private shuttingDown = false;

  constructor(opts: WorkQueueOptions<T> = {}) {
    this.name = opts.name ?? 'workqueue';
    this.limiter = opts.rateLimiter ?? defaultControllerRateLimiter<T>();
    this.metrics = opts.metrics;
    this.now = opts.now ?? Date.now;
  }

  /** Queues `item` unless it is already queued (or being processed: then it is re-queued on done). */
  add(item: T): void {
    if (this.shuttingDown || this.dirty.has(item)) return;
    this.metrics?.add?.(this.name);
    this.dirty.add(item);
    if (this.processing.has(item)) return;
    this.queue.push(item);
    this.queuedAt.set(item, this.now());
    this.dispatch();
  }

  /** Adds `item` after `delayMs` (at once if ≤ 0). A pending earlier delay for the item wins. */
  addAfter(item: T, delayMs: number): void {
    if (this.shuttingDown) return;
    if (delayMs <= 0) { this.add(item); return; }
    const readyAt = Date.now() + delayMs;
    const pending = this.delayed.get(item);
    if (pending) {
      if (pending.readyAt <= readyAt) return;
      clearTimeout(pending.timer);
    }
    const timer = setTimeout(() => {
      this.delayed.delete(item);
      this.add(item);
    }, delayMs);
    this.delayed.set(item, { readyAt, timer });
  }

  /** Adds `item` after the rate limiter's delay (a failure counts towards its backoff). */
  addRateLimited(item: T): void {
    if (this.shuttingDown) return;
    this.metrics?.retry?.(this.name);
    this.addAfter(item, this.limiter.when(item));
  }

  /** Resets `item`'s backoff. Does not remove it from the queue. */
  forget(item: T): void { this.limiter.forget(item); }

  numRequeues(item: T): number { return this.limiter.numRequeues(item); }

  /**
   * The next item; resolves when one is available. The caller owns it until `done(item)`.
   * Resolves `undefined` once the queue is shut down and empty.
   */
  get(): Promise<T | undefined> {
    if (this.queue.length > 0) return Promise.resolve(this.take());
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => { this.waiters.push(resolve); });
  }

  /** Marks `item` processed; if it was added meanwhile, it is queued again. */
  done(item: T): void {
    if (!this.processing.delete(item)) return;
    const started = this.startedAt.get(item);
    this.startedAt.delete(item);
    if (started !== undefined) this.metrics?.workDuration?.(this.name, (this.now() - started) / 1000);
    if (this.dirty.has(item)) {
      this.queue.push(item);
      this.queuedAt.set(item, this.now());
      this.dispatch();
    }
  }

  /** Stops accepting adds, drops pending delays, and wakes waiting `get()` calls once the queue is empty. */
  shutDown(): void {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    for (const d of this.delayed.values()) clearTimeout(d.timer);
    this.delayed.clear();
    this.dispatch();
  }

  get isShuttingDown(): boolean { return this.shuttingDown; }

  /** Number of queued items (not counting those being processed or delayed). */
  len(): number { return this.queue.length; }

  private take(): T {
    const item = this.queue.shift()!;
    this.dirty.delete(item);
    this.processing.add(item);
    const t = this.now();
    const queued = this.queuedAt.get(item);
    this.queuedAt.delete(item);
    if (queued !== undefined) this.metrics?.queueDuration?.(this.name, (t - queued) / 1000);
    this.startedAt.set(item, t);
    this.metrics?.depth?.(this.name, this.queue.length);
    return item;
  }

  private dispatch(): void {
    while (this.waiters.length > 0 && this.queue.length > 0) this.waiters.shift()!(this.take());
    if (this.shuttingDown && this.queue.length === 0) {
      for (const w of this.waiters.splice(0)) w(undefined);
    }
    this.metrics?.depth?.(this.name, this.queue.length);
  }
}
