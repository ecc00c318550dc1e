/**
 * The watch cache of one resource prefix (upstream's Cacher + watchCache for one resource):
 * one underlying list+watch keeps an in-memory copy of every object under the prefix and a
 * window of recent changes (EventHistory), and every client watch, `resourceVersion=0` read
 * and not-older-than read of the resource is answered from it.
 *
 * Life cycle: `start()` lists (in pages; at a given revision when the first request asked
 * to resume from it, else the latest), becomes ready, then watches the underlying storage
 * from the list's revision. A watch that ends is resumed from the last revision seen, so
 * clients notice nothing; when the underlying storage no longer has those changes
 * (`Expired`, e.g. compaction overtook the watch) the cache goes unready, terminates every
 * client watch with `Expired` (they relist, 410) and lists again.
 *
 * Consistency: the cache applies changes in revision order and hands each one to every
 * registered watcher synchronously, so a watcher registered at cache revision C gets
 * exactly the changes after C, a bookmark at the cache's revision never skips a change the
 * watcher has not been offered, and a list answered at revision C shows the state at C.
 * Objects in the cache are never mutated; callers get clones.
 */
import type { StoredObject } from '@tskube/api';
import type { Logger } from '@tskube/log';
import type { ListResult, Predicate, Storage, StorageEvent, StorageWatch, WatchOptions } from './interface.js';
import { StorageError, expired, isStorageError, notFound, tooLargeResourceVersion } from './errors.js';
import { EventHistory, type CacheEvent, type EventHistoryOptions } from './event-history.js';
import { CacheWatcher, type WatcherEndReason } from './cache-watcher.js';
import { copyJson, filterEvent } from './util.js';

export interface WatchCacheConfig {
  /** The resource prefix, ending with '/'. */
  prefix: string;
  storage: Storage;
  log: Logger;
  /** The storage key of an object, for underlying storages whose events carry none. */
  keyOf(prefix: string, obj: StoredObject): string;
  history: EventHistoryOptions;
  /** How long a read waits for the cache to reach the revision it asked for. */
  freshnessTimeoutMs: number;
  /** How often a watcher that allows bookmarks gets one. */
  bookmarkIntervalMs: number;
  /** A watcher with more undelivered live events than this is terminated. */
  maxPendingEvents: number;
  /** How long a request waits for an unready cache (starting, relisting) before 503. */
  readyTimeoutMs: number;
  /** Page size of the cache's own lists of the underlying storage. */
  listPageSize: number;
  retry: { initialMs: number; maxMs: number };
  now(): number;
}

export interface WatchCacheInfo {
  prefix: string;
  ready: boolean;
  /** The revision the cache reflects. */
  resourceVersion: number;
  /** Watches can resume from this revision on; older ones are Expired. */
  oldestResumable: number;
  historyLength: number;
  historyCapacity: number;
  watchers: number;
  /** Underlying lists (initial and relists) and watches (initial and resumed) so far. */
  lists: number;
  watches: number;
}

/** How long before a watch's deadline its last bookmark is sent (upstream: 2 s). */
const PRE_DEADLINE_BOOKMARK_MS = 2_000;

export class WatchCache {
  private objects = new Map<string, StoredObject>();
  /** The keys of `objects`, sorted; rebuilt lazily after a key was added or removed. */
  private sortedKeys: string[] | null = null;
  private readonly history: EventHistory;
  /** The revision the cache reflects: the last change (or list, or progress notice) seen. */
  private rv = 0;
  private compacted = 0;
  private ready = false;
  private stopped = false;
  private readonly readyWaiters = new Set<() => void>();
  private readonly freshWaiters = new Set<() => void>();
  private readonly watchers = new Set<CacheWatcher>();
  private upstream: StorageWatch | null = null;
  private wakeSleep: (() => void) | null = null;
  private bookmarkTimer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private lists = 0;
  private watches = 0;
  private readonly log: Logger;

  constructor(private readonly c: WatchCacheConfig) {
    this.history = new EventHistory(c.history);
    this.log = c.log.child({ cache: c.prefix });
  }

  get isReady(): boolean { return this.ready; }

  /** Starts the list+watch loop; `atRevision`: list at that revision first (falls back to the latest). */
  start(atRevision?: number): void {
    this.running ??= this.run(atRevision).catch((e: unknown) => {
      this.log.error('watch cache stopped unexpectedly', { err: e });
    });
  }

  info(): WatchCacheInfo {
    return {
      prefix: this.c.prefix, ready: this.ready, resourceVersion: this.rv, oldestResumable: this.oldestResumable(),
      historyLength: this.history.length, historyCapacity: this.history.capacity, watchers: this.watchers.size,
      lists: this.lists, watches: this.watches,
    };
  }

  private oldestResumable(): number {
    return Math.max(this.history.oldestResumable(), this.compacted);
  }

  /** The underlying storage was compacted at `revision`: resuming below it is Expired here too. */
  compact(revision: number): void {
    this.compacted = Math.max(this.compacted, revision);
  }

  // ---- the list+watch loop ------------------------------------------------------------

  private async run(atRevision: number | undefined): Promise<void> {
    let exactAt = atRevision;
    let delay = this.c.retry.initialMs;
    const backoff = async () => {
      await this.sleep(delay * (0.75 + Math.random() / 2));
      delay = Math.min(delay * 2, this.c.retry.maxMs);
    };
    while (!this.stopped) {
      try {
        await this.relist(exactAt);
      } catch (e) {
        if (this.stopped) return;
        if (exactAt !== undefined) {
          // That revision is gone (or not there yet): start from the latest state instead.
          this.log.debug('cannot list at the requested revision; listing the latest', { revision: exactAt, err: e });
          exactAt = undefined;
          continue;
        }
        this.log.warn('watch cache list failed', { err: e });
        await backoff();
        continue;
      }
      exactAt = undefined;
      delay = this.c.retry.initialMs;
      // Watch from the cache's revision; resume there after the watch ends.
      for (;;) {
        if (this.stopped) return;
        const startedAt = this.c.now();
        let err: unknown;
        try {
          const w = await this.c.storage.watch(this.c.prefix, { resourceVersion: String(this.rv), allowBookmarks: true });
          this.watches++;
          if (this.stopped) { w.stop(); return; }
          this.upstream = w;
          err = await this.consume(w);
          this.upstream = null;
        } catch (e) {
          err = e;
        }
        if (this.stopped) return;
        if (isStorageError(err, 'Expired')) break;
        if (this.c.now() - startedAt > 1_000) delay = this.c.retry.initialMs;
        this.log.warn('watch cache lost its watch; resuming', { resourceVersion: this.rv, err });
        await backoff();
      }
      // The changes after this.rv are gone from the underlying storage: start over.
      this.log.info('watch cache relisting', { resourceVersion: this.rv });
      this.ready = false;
      const rv = this.rv;
      for (const w of [...this.watchers]) {
        w.terminate('terminated', new StorageError('Expired', this.c.prefix,
          `too old resource version: the watch cache of ${this.c.prefix} lost the changes after ${rv}; list again`));
      }
    }
  }

  private async relist(exactAt: number | undefined): Promise<void> {
    const objects = new Map<string, StoredObject>();
    let rv: string | undefined;
    let cont: string | undefined;
    do {
      const page: ListResult = await this.c.storage.list(this.c.prefix, {
        limit: this.c.listPageSize,
        ...(cont ? { continue: cont } : exactAt !== undefined ? { resourceVersion: String(exactAt), resourceVersionMatch: 'Exact' as const } : {}),
      });
      page.items.forEach((o, i) => objects.set(page.keys?.[i] ?? this.c.keyOf(this.c.prefix, o), o));
      rv ??= page.resourceVersion;
      cont = page.continue;
    } while (cont && !this.stopped);
    this.lists++;
    this.objects = objects;
    this.sortedKeys = null;
    this.rv = Number(rv);
    this.history.reset(this.rv);
    this.ready = true;
    this.log.debug('watch cache ready', { resourceVersion: this.rv, objects: objects.size });
    wakeAll(this.readyWaiters);
    wakeAll(this.freshWaiters);
  }

  /** Applies the underlying watch's events until it ends; answers the error that ended it, if any. */
  private async consume(w: StorageWatch): Promise<unknown> {
    for (;;) {
      const ev = await w.next();
      if (!ev) {
        try {
          await w.done;
          return undefined;
        } catch (e) {
          return e;
        }
      }
      this.apply(ev);
    }
  }

  private apply(ev: StorageEvent): void {
    const rv = Number(ev.object.metadata.resourceVersion);
    if (ev.type === 'BOOKMARK') {
      // A progress notice: every change up to rv has been delivered.
      if (rv > this.rv) { this.rv = rv; wakeAll(this.freshWaiters); }
      return;
    }
    // Several changes can share a revision (one etcd transaction); older ones are replays.
    if (!(rv >= this.rv)) return;
    const key = ev.key ?? this.c.keyOf(this.c.prefix, ev.object);
    if (!key.startsWith(this.c.prefix)) return;
    const prev = this.objects.get(key);
    let ce: CacheEvent;
    if (ev.type === 'DELETED') {
      if (prev) { this.objects.delete(key); this.sortedKeys = null; }
      ce = { rv, key, type: 'delete', object: ev.object, at: this.c.now() };
    } else {
      if (!prev) this.sortedKeys = null;
      this.objects.set(key, ev.object);
      ce = { rv, key, type: 'put', object: ev.object, ...(prev ? { prev } : {}), at: this.c.now() };
    }
    this.rv = rv;
    this.history.push(ce);
    for (const w of this.watchers) {
      try {
        w.offer(ce);
      } catch (e) {
        this.log.warn('watch predicate failed; event skipped for this watcher', { key, err: e });
      }
    }
    wakeAll(this.freshWaiters);
  }

  // ---- serving ------------------------------------------------------------------------

  private async waitReady(key: string): Promise<void> {
    const deadline = this.c.now() + this.c.readyTimeoutMs;
    while (!this.ready) {
      if (this.stopped) throw new StorageError('Unreachable', key, 'storage is closed');
      const left = deadline - this.c.now();
      if (left <= 0) throw new StorageError('Unreachable', key, `the watch cache of ${this.c.prefix} is not ready (initializing from etcd)`);
      await waitSignal(this.readyWaiters, left);
    }
  }

  /**
   * Waits until the cache reflects revision `wanted` (upstream: waitUntilFreshAndBlock, 3 s).
   * A revision the underlying storage has not reached either fails at once.
   */
  private async waitFresh(key: string, wanted: number): Promise<void> {
    if (this.rv >= wanted) return;
    const current = await this.c.storage.currentRevision();
    if (wanted > current && this.rv < wanted) throw tooLargeResourceVersion(key, wanted, this.rv);
    const deadline = this.c.now() + this.c.freshnessTimeoutMs;
    while (this.rv < wanted) {
      if (this.stopped) throw new StorageError('Unreachable', key, 'storage is closed');
      const left = deadline - this.c.now();
      if (left <= 0) throw tooLargeResourceVersion(key, wanted, this.rv);
      await waitSignal(this.freshWaiters, left);
    }
  }

  /** Keys under `keyOrPrefix` (a prefix ending with '/' or one exact key), in key order. */
  private keysUnder(keyOrPrefix: string): string[] {
    if (!keyOrPrefix.endsWith('/')) return this.objects.has(keyOrPrefix) ? [keyOrPrefix] : [];
    if (keyOrPrefix === this.c.prefix) return this.sorted();
    const keys = this.sorted();
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (keys[mid]! < keyOrPrefix) lo = mid + 1; else hi = mid;
    }
    const out: string[] = [];
    for (let i = lo; i < keys.length && keys[i]!.startsWith(keyOrPrefix); i++) out.push(keys[i]!);
    return out;
  }

  private sorted(): string[] {
    this.sortedKeys ??= [...this.objects.keys()].sort();
    return this.sortedKeys;
  }

  /** A list from the cache at a revision >= `minRevision` (0: any). Limits do not apply, as upstream. */
  async list(prefix: string, minRevision: number, predicate: Predicate | undefined): Promise<ListResult> {
    await this.waitReady(prefix);
    if (minRevision > this.rv) await this.waitFresh(prefix, minRevision);
    const items: StoredObject[] = [];
    const keys: string[] = [];
    for (const k of this.keysUnder(prefix)) {
      const o = this.objects.get(k)!;
      if (predicate && !predicate(o)) continue;
      items.push(copyJson(o));
      keys.push(k);
    }
    return { items, keys, resourceVersion: String(this.rv) };
  }

  async get(key: string, minRevision: number): Promise<StoredObject> {
    await this.waitReady(key);
    if (minRevision > this.rv) await this.waitFresh(key, minRevision);
    const o = this.objects.get(key);
    if (!o) throw notFound(key);
    return copyJson(o);
  }

  /**
   * A client watch. `fromRevision` 0: the current state as ADDED, then every change; N: every
   * change after N (Expired when N is older than the window; a revision the cache has not
   * reached yet is fine: changes up to it are skipped).
   */
  async watch(key: string, fromRevision: number, opts: WatchOptions): Promise<StorageWatch> {
    await this.waitReady(key);
    // Synchronous from here: no change can come between the initial events and registration.
    const predicate = opts.predicate;
    const initial: StorageEvent[] = [];
    let skipThrough = 0;
    let told = fromRevision;
    const exact = !key.endsWith('/');
    if (fromRevision === 0) {
      for (const k of this.keysUnder(key)) {
        const o = this.objects.get(k)!;
        if (!predicate || predicate(o)) initial.push({ type: 'ADDED', object: o, key: k });
      }
    } else {
      const floor = this.oldestResumable();
      if (fromRevision < floor) throw expired(key, fromRevision, floor);
      if (fromRevision >= this.rv) {
        skipThrough = fromRevision;
      } else {
        for (const ev of this.history.since(fromRevision)) {
          if (exact ? ev.key !== key : !ev.key.startsWith(key)) continue;
          const out = filterEvent(ev.type, ev.object, ev.type === 'put' ? ev.prev : undefined, predicate);
          if (out) { initial.push({ ...out, key: ev.key }); told = ev.rv; }
        }
      }
    }
    const w = new CacheWatcher({
      key, allowBookmarks: opts.allowBookmarks === true, skipThrough, told, initial,
      maxPending: this.c.maxPendingEvents, onEnd: (x, why) => this.forget(x, why),
      ...(predicate ? { predicate } : {}), ...(opts.deadline !== undefined ? { deadline: opts.deadline } : {}),
    });
    this.watchers.add(w);
    if (w.allowBookmarks) {
      w.nextBookmarkAt = this.nextBookmarkAt(w, this.c.now());
      this.ensureBookmarkTimer();
    }
    return w;
  }

  private forget(w: CacheWatcher, why: WatcherEndReason): void {
    this.watchers.delete(w);
    if (why === 'slow') {
      this.log.warn('terminating a watcher that does not keep up', { maxPendingEvents: this.c.maxPendingEvents, resourceVersion: this.rv });
    }
  }

  // ---- bookmarks ----------------------------------------------------------------------

  private nextBookmarkAt(w: CacheWatcher, now: number): number {
    const next = now + this.c.bookmarkIntervalMs;
    if (w.deadline === undefined) return next;
    const beforeDeadline = w.deadline - PRE_DEADLINE_BOOKMARK_MS;
    return beforeDeadline > now && beforeDeadline < next ? beforeDeadline : next;
  }

  private ensureBookmarkTimer(): void {
    if (this.bookmarkTimer) return;
    this.bookmarkTimer = setInterval(() => this.bookmarkTick(), Math.min(1_000, this.c.bookmarkIntervalMs));
    this.bookmarkTimer.unref();
  }

  private bookmarkTick(): void {
    const now = this.c.now();
    let any = false;
    for (const w of this.watchers) {
      if (!w.allowBookmarks) continue;
      any = true;
      if (now < w.nextBookmarkAt) continue;
      if (this.ready) w.offerBookmark(this.rv);
      w.nextBookmarkAt = this.nextBookmarkAt(w, now);
    }
    if (!any && this.bookmarkTimer) { clearInterval(this.bookmarkTimer); this.bookmarkTimer = null; }
  }

  // ---- shutdown -----------------------------------------------------------------------

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => { clearTimeout(t); this.wakeSleep = null; resolve(); };
      const t = setTimeout(done, ms);
      this.wakeSleep = done;
    });
  }

  /** Stops the underlying watch and ends every client watch (without an error). */
  async close(): Promise<void> {
    this.stopped = true;
    this.ready = false;
    this.upstream?.stop();
    this.wakeSleep?.();
    if (this.bookmarkTimer) { clearInterval(this.bookmarkTimer); this.bookmarkTimer = null; }
    for (const w of [...this.watchers]) w.terminate('terminated');
    wakeAll(this.readyWaiters);
    wakeAll(this.freshWaiters);
    await this.running;
  }
}

function wakeAll(set: Set<() => void>): void {
  for (const fn of [...set]) fn();
}

/** Resolves when `set`'s functions are called (wakeAll) or after `ms`, whichever comes first. */
function waitSignal(set: Set<() => void>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const fn = () => { clearTimeout(t); set.delete(fn); resolve(); };
    const t = setTimeout(fn, ms);
    set.add(fn);
  });
}
