/**
 * One client watch served by a WatchCache (upstream's cacheWatcher). The cache offers every
 * change of its resource in revision order; the watcher applies its key range and predicate
 * (with filterEvent's ADDED/DELETED-on-transition semantics) and queues what is due.
 *
 * - Initial events (the current state as ADDED, or the retained changes after the requested
 *   revision) are computed once at registration and do not count towards the backlog limit.
 * - Live events queued and not yet taken by the consumer are the backlog; a watcher whose
 *   backlog exceeds `maxPending` is terminated (its queue dropped, the watch ends without an
 *   error, like upstream), so one slow client cannot hold the cache's memory.
 * - Objects are shared with the cache: they are cloned when handed to the consumer.
 */
import type { StoredObject } from '@tskube/api';
import type { Predicate, StorageEvent, StorageWatch } from './interface.js';
import type { CacheEvent } from './event-history.js';
import { copyJson, filterEvent } from './util.js';

export type WatcherEndReason = 'stopped' | 'slow' | 'terminated';

export interface CacheWatcherOptions {
  /** A prefix ending with '/' or one exact key. */
  key: string;
  predicate?: Predicate;
  allowBookmarks: boolean;
  /**
   * Live changes at or below this revision are not sent: the client asked to start after a
   * revision the cache had not reached yet (0 otherwise). Several changes may share one
   * revision (etcd deletes all keys of an expired lease at once), so live changes are
   * otherwise never skipped by revision: registration is synchronous with the cache.
   */
  skipThrough: number;
  /** The revision the client already knows (bookmarks must be newer to be worth sending). */
  told: number;
  initial: StorageEvent[];
  maxPending: number;
  /** When the caller ends the watch (ms since the epoch), if known. */
  deadline?: number;
  /** Called once, when the watcher ends for any reason. */
  onEnd(w: CacheWatcher, why: WatcherEndReason): void;
}

function clone(ev: StorageEvent): StorageEvent {
  if (ev.type === 'BOOKMARK') return ev;
  return { type: ev.type, object: copyJson(ev.object), ...(ev.key !== undefined ? { key: ev.key } : {}) };
}

export class CacheWatcher implements StorageWatch {
  readonly allowBookmarks: boolean;
  readonly deadline: number | undefined;
  /** When the cache should offer the next bookmark (ms); maintained by the cache. */
  nextBookmarkAt = 0;
  readonly done: Promise<void>;
  private readonly key: string;
  private readonly exact: boolean;
  private readonly predicate: Predicate | undefined;
  private readonly maxPending: number;
  private readonly onEnd: CacheWatcherOptions['onEnd'];
  private initial: StorageEvent[];
  private initialPos = 0;
  private pending: StorageEvent[] = [];
  private pendingPos = 0;
  private waiter: ((e: StorageEvent | null) => void) | null = null;
  private ended = false;
  private readonly skipThrough: number;
  private told: number;
  private resolveDone!: () => void;
  private rejectDone!: (e: unknown) => void;

  constructor(o: CacheWatcherOptions) {
    this.key = o.key;
    this.exact = !o.key.endsWith('/');
    this.predicate = o.predicate;
    this.allowBookmarks = o.allowBookmarks;
    this.deadline = o.deadline;
    this.skipThrough = o.skipThrough;
    this.told = o.told;
    this.initial = o.initial;
    this.maxPending = o.maxPending;
    this.onEnd = o.onEnd;
    this.done = new Promise<void>((res, rej) => { this.resolveDone = res; this.rejectDone = rej; });
    this.done.catch(() => undefined); // consumers that never look at `done` must not crash the process
  }

  get isEnded(): boolean { return this.ended; }
  /** Live events queued and not yet taken. */
  get backlog(): number { return this.pending.length - this.pendingPos; }

  matchesKey(key: string): boolean {
    return this.exact ? key === this.key : key.startsWith(this.key);
  }

  /** A change of the resource, offered in revision order. May throw if the predicate does. */
  offer(ev: CacheEvent): void {
    if (this.ended || ev.rv <= this.skipThrough || !this.matchesKey(ev.key)) return;
    const out = filterEvent(ev.type, ev.object, ev.type === 'put' ? ev.prev : undefined, this.predicate);
    if (!out) return;
    this.told = Math.max(this.told, ev.rv);
    this.enqueue({ ...out, key: ev.key });
  }

  /**
   * The cache has offered every change up to `rv` to this watcher: tell the client, if it
   * wants bookmarks and does not know a revision that new already. The bookmark is queued
   * behind every event it covers.
   */
  offerBookmark(rv: number): void {
    if (this.ended || !this.allowBookmarks || rv <= this.told) return;
    this.told = rv;
    const object: StoredObject = { metadata: { resourceVersion: String(rv) } };
    this.enqueue({ type: 'BOOKMARK', object });
  }

  private enqueue(ev: StorageEvent): void {
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w(clone(ev));
      return;
    }
    this.pending.push(ev);
    if (this.backlog > this.maxPending) this.terminate('slow');
  }

  next(): Promise<StorageEvent | null> {
    if (this.initialPos < this.initial.length) {
      const ev = this.initial[this.initialPos++]!;
      if (this.initialPos === this.initial.length) { this.initial = []; this.initialPos = 0; }
      return Promise.resolve(clone(ev));
    }
    if (this.pendingPos < this.pending.length) {
      const ev = this.pending[this.pendingPos++]!;
      if (this.pendingPos === this.pending.length) { this.pending = []; this.pendingPos = 0; }
      else if (this.pendingPos >= 1024) { this.pending = this.pending.slice(this.pendingPos); this.pendingPos = 0; }
      return Promise.resolve(clone(ev));
    }
    if (this.ended) return Promise.resolve(null);
    return new Promise((res) => { this.waiter = res; });
  }

  /**
   * Ends the watch: queued events are dropped, `next()` answers null, `done` rejects with
   * `err` if given. Idempotent.
   */
  terminate(why: WatcherEndReason, err?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.initial = [];
    this.pending = [];
    this.initialPos = 0;
    this.pendingPos = 0;
    if (err) this.rejectDone(err); else this.resolveDone();
    if (this.waiter) { const w = this.waiter; this.waiter = null; w(null); }
    this.onEnd(this, why);
  }

  stop(): void { this.terminate('stopped'); }

  async *[Symbol.asyncIterator](): AsyncIterator<StorageEvent> {
    for (;;) {
      const e = await this.next();
      if (!e) return;
      yield e;
    }
  }
}
