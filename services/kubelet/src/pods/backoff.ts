/**
 * Per-key exponential backoff with the semantics of client-go's flowcontrol.Backoff, which
 * the kubelet uses twice: for restarting crashed containers (CrashLoopBackOff) and for image
 * pulls (ImagePullBackOff). Both start at 10 s and double up to 5 min.
 *
 * - `next(key, eventTime, now)` records a failure: the first one (or one more than 2·max after
 *   the previous update, i.e. after a long healthy run) sets the delay to `initialMs`; every
 *   further one doubles it, capped at `maxMs`.
 * - `isInBackOffSince(key, eventTime, now)`: still waiting, counted from `eventTime` (for
 *   containers: when the last instance finished).
 * - `isInBackOffSinceUpdate(key, now)`: still waiting, counted from the last `next` (pulls).
 *
 * Every method takes the time explicitly, so callers that must stay pure (computePodActions)
 * can consult it through the read-only {@link BackoffView}.
 */

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
}

export const CONTAINER_BACKOFF: BackoffOptions = { initialMs: 10_000, maxMs: 300_000 };
export const IMAGE_BACKOFF: BackoffOptions = { initialMs: 10_000, maxMs: 300_000 };

interface Entry {
  delayMs: number;
  lastUpdate: number;
}

/** What deciding needs, without the power to change anything. */
export interface BackoffView {
  /** The current delay of `key` in ms (0 when it has none). */
  get(key: string): number;
  isInBackOffSince(key: string, eventTime: number, now: number): boolean;
}

export class Backoff implements BackoffView {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly opts: BackoffOptions = CONTAINER_BACKOFF) {}

  get(key: string): number {
    return this.entries.get(key)?.delayMs ?? 0;
  }

  isInBackOffSince(key: string, eventTime: number, now: number): boolean {
    const e = this.entries.get(key);
    if (!e || this.stale(eventTime, e)) return false;
    return now - eventTime < e.delayMs;
  }

  isInBackOffSinceUpdate(key: string, now: number): boolean {
    const e = this.entries.get(key);
    if (!e || this.stale(now, e)) return false;
    return now - e.lastUpdate < e.delayMs;
  }

  next(key: string, eventTime: number, now: number): void {
    const e = this.entries.get(key);
    if (!e || this.stale(eventTime, e)) {
      this.entries.set(key, { delayMs: this.opts.initialMs, lastUpdate: now });
      return;
    }
    e.delayMs = Math.min(e.delayMs * 2, this.opts.maxMs);
    e.lastUpdate = now;
  }

  reset(key: string): void {
    this.entries.delete(key);
  }

  /** Forgets every key starting with `prefix` (a pod's keys when it is gone). */
  forgetPrefix(prefix: string): void {
    for (const k of this.entries.keys()) if (k.startsWith(prefix)) this.entries.delete(k);
  }

  /** Drops entries that are stale at `now`. */
  gc(now: number): void {
    for (const [k, e] of this.entries) if (this.stale(now, e)) this.entries.delete(k);
  }

  get size(): number {
    return this.entries.size;
  }

  /** upstream hasExpired: stable again once the event is more than 2·max after the last update. */
  private stale(eventTime: number, e: Entry): boolean {
    return eventTime - e.lastUpdate > this.opts.maxMs * 2;
  }
}
