/**
 * The watch cache's window of recent changes of one resource: a ring buffer of events in
 * revision order, sized like upstream's watchCache. It starts at `minCapacity`, doubles (up
 * to `maxCapacity`) while the oldest event it would drop is younger than `freshMs`, and
 * halves (down to `minCapacity`) when even the newest quarter is older than that; so a burst
 * of writes stays resumable for at least `freshMs` and a quiet resource holds little.
 *
 * Contract: events are pushed in strictly increasing revision order by one owner (the
 * WatchCache); `since(rv)` answers every retained event after `rv`, provided
 * `rv >= oldestResumable()`.
 */
import type { StoredObject } from '@tskube/api';

/** One change as the cache saw it. Objects are shared with the cache's store: never mutate them. */
export interface CacheEvent {
  /** The revision of the change (the object's resourceVersion; for deletions, the deletion revision). */
  rv: number;
  key: string;
  type: 'put' | 'delete';
  /** put: the new state; delete: the last state, with resourceVersion = the deletion revision. */
  object: StoredObject;
  /** put: the previous state, if the key existed. */
  prev?: StoredObject;
  /** When the cache recorded it (ms), for sizing. */
  at: number;
}

export interface EventHistoryOptions {
  minCapacity: number;
  maxCapacity: number;
  freshMs: number;
}

export class EventHistory {
  private buf: (CacheEvent | undefined)[];
  private start = 0;
  private size = 0;
  /** A watch may resume from any revision >= this one (every later event is retained). */
  private floor = 0;

  constructor(private readonly opts: EventHistoryOptions) {
    if (opts.minCapacity < 1 || opts.maxCapacity < opts.minCapacity) throw new Error('invalid event history capacity');
    this.buf = new Array<CacheEvent | undefined>(opts.minCapacity);
  }

  get capacity(): number { return this.buf.length; }
  get length(): number { return this.size; }

  /** Forgets everything: the cache was (re)listed at `rv`, so resuming works from `rv` on. */
  reset(rv: number): void {
    this.buf = new Array<CacheEvent | undefined>(this.opts.minCapacity);
    this.start = 0;
    this.size = 0;
    this.floor = rv;
  }

  /** The oldest revision a watch can resume from. */
  oldestResumable(): number { return this.floor; }

  private at(i: number): CacheEvent { return this.buf[(this.start + i) % this.buf.length]!; }

  push(ev: CacheEvent): void {
    this.resizeFor(ev.at);
    if (this.size === this.buf.length) this.dropOldest();
    this.buf[(this.start + this.size) % this.buf.length] = ev;
    this.size++;
  }

  private dropOldest(): void {
    const old = this.at(0);
    this.buf[this.start] = undefined;
    this.start = (this.start + 1) % this.buf.length;
    this.size--;
    this.floor = Math.max(this.floor, old.rv);
  }

  private resizeFor(now: number): void {
    const cap = this.buf.length;
    if (this.size < cap) return;
    if (now - this.at(0).at < this.opts.freshMs) {
      if (cap < this.opts.maxCapacity) this.resize(Math.min(cap * 2, this.opts.maxCapacity));
      return;
    }
    if (cap > this.opts.minCapacity && now - this.at(this.size - Math.max(1, Math.floor(cap / 4))).at > this.opts.freshMs) {
      this.resize(Math.max(Math.floor(cap / 2), this.opts.minCapacity));
    }
  }

  /** Copies the newest events that fit into a buffer of `capacity` (dropping the older ones). */
  private resize(capacity: number): void {
    while (this.size > capacity) this.dropOldest();
    const next = new Array<CacheEvent | undefined>(capacity);
    for (let i = 0; i < this.size; i++) next[i] = this.at(i);
    this.buf = next;
    this.start = 0;
  }

  /** Retained events with a revision greater than `rv`, oldest first. */
  since(rv: number): CacheEvent[] {
    // Binary search for the first event after rv.
    let lo = 0;
    let hi = this.size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.at(mid).rv > rv) hi = mid; else lo = mid + 1;
    }
    const out: CacheEvent[] = [];
    for (let i = lo; i < this.size; i++) out.push(this.at(i));
    return out;
  }
}
