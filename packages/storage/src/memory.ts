/**
 * In-memory Storage for unit tests (design habit 9). Same semantics as etcd: a global
 * revision counter, compare-and-swap writes, an event history for watch resume, and
 * compaction that makes older revisions expire. Passes ./conformance.ts.
 */
import type { KubeObject, StoredObject } from '@tskube/api';
import { mutableMeta } from '@tskube/api';
import type {
  DeleteOptions, GetOptions, ListOptions, ListResult, Storage, StorageWatch, TryUpdate, UpdateOptions, WatchOptions,
} from './interface.js';
import { StorageError, exists, expired, notFound } from './errors.js';
import {
  EventQueue, checkPreconditions, decode, decodeContinue, encode, encodeContinue, filterEvent, parseRevision, sameContent,
} from './util.js';

interface Entry { value: string; createRev: number; modRev: number; expiresAt?: number }
interface HistoryItem { rev: number; key: string; type: 'put' | 'delete'; value: string; prev?: Entry }
interface MemWatcher { prefix: string; exact: boolean; queue: EventQueue; predicate?: WatchOptions['predicate'] }

export interface MemoryStorageOptions {
  /** Events kept for watch resume; older revisions are compacted. */
  historySize?: number;
  now?: () => number;
}

export class MemoryStorage implements Storage {
  private data = new Map<string, Entry>();
  private revision = 1;
  private history: HistoryItem[] = [];
  private compacted = 0;
  private watchers = new Set<MemWatcher>();
  private readonly historySize: number;
  private readonly now: () => number;
  private closed = false;

  constructor(opts: MemoryStorageOptions = {}) {
    this.historySize = opts.historySize ?? 10_000;
    this.now = opts.now ?? Date.now;
  }

  private live(key: string): Entry | undefined {
    const e = this.data.get(key);
    if (e?.expiresAt !== undefined && e.expiresAt <= this.now()) {
      this.write(key, 'delete', e.value);
      return undefined;
    }
    return e;
  }

  private check(): void {
    if (this.closed) throw new StorageError('Unreachable', '', 'storage is closed');
  }

  /** Commits one change and notifies watchers; returns the new revision. */
  private write(key: string, type: 'put' | 'delete', value: string, ttlSeconds?: number): number {
    const rev = ++this.revision;
    const prev = this.data.get(key);
    if (type === 'put') {
      this.data.set(key, {
        value, createRev: prev ? prev.createRev : rev, modRev: rev,
        ...(ttlSeconds ? { expiresAt: this.now() + ttlSeconds * 1000 } : {}),
      });
    } else {
      this.data.delete(key);
    }
    const item: HistoryItem = { rev, key, type, value, ...(prev ? { prev } : {}) };
    this.history.push(item);
    if (this.history.length > this.historySize) {
      const dropped = this.history.splice(0, this.history.length - this.historySize);
      this.compacted = dropped[dropped.length - 1]!.rev;
    }
    for (const w of this.watchers) this.deliver(w, item);
    return rev;
  }

  private deliver(w: MemWatcher, item: HistoryItem): void {
    if (w.exact ? item.key !== w.prefix : !item.key.startsWith(w.prefix)) return;
    if (item.type === 'delete') {
      const ev = filterEvent('delete', decode(item.key, item.value, item.rev), undefined, w.predicate);
      if (ev) w.queue.push({ ...ev, key: item.key });
      return;
    }
    const obj = decode(item.key, item.value, item.rev);
    const before = item.prev ? decode(item.key, item.prev.value, item.prev.modRev) : undefined;
    const ev = filterEvent('put', obj, before, w.predicate);
    if (ev) w.queue.push({ ...ev, key: item.key });
  }

  async create(key: string, obj: KubeObject, opts: { ttlSeconds?: number } = {}): Promise<StoredObject> {
    this.check();
    if (this.live(key)) throw exists(key);
    const rev = this.write(key, 'put', encode(obj), opts.ttlSeconds);
    const out = structuredClone(obj) as StoredObject;
    mutableMeta(out).resourceVersion = String(rev);
    return out;
  }

  async get(key: string, opts: GetOptions = {}): Promise<StoredObject> {
    this.check();
    parseRevision(key, opts.resourceVersion);
    const e = this.live(key);
    if (!e) throw notFound(key);
    return decode(key, e.value, e.modRev);
  }

  /** The state of `prefix` at revision `rev`, rebuilt from current data and history. */
  private snapshot(prefix: string, rev: number): Map<string, Entry> {
    const snap = new Map<string, Entry>();
    for (const [k, e] of this.data) if (k.startsWith(prefix)) snap.set(k, e);
    for (let i = this.history.length - 1; i >= 0 && this.history[i]!.rev > rev; i--) {
      const h = this.history[i]!;
      if (!h.key.startsWith(prefix)) continue;
      if (h.prev) snap.set(h.key, h.prev); else snap.delete(h.key);
    }
    return snap;
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    this.check();
    let readRev = this.revision;
    let startKey = prefix;
    if (opts.continue) {
      const c = decodeContinue(prefix, opts.continue);
      readRev = c.rv;
      startKey = c.startKey;
    } else if (opts.resourceVersionMatch === 'Exact') {
      const r = parseRevision(prefix, opts.resourceVersion);
      if (!r) throw new StorageError('InvalidArgument', prefix, 'resourceVersionMatch=Exact needs a resourceVersion');
      readRev = r;
    } else {
      parseRevision(prefix, opts.resourceVersion);
    }
    if (readRev > this.revision) throw new StorageError('InvalidArgument', prefix, 'Too large resource version');
    if (readRev < this.revision && readRev <= this.compacted) throw expired(prefix, readRev, this.compacted);
    const snap = this.snapshot(prefix, readRev);
    const keys = [...snap.keys()].filter((k) => k >= startKey).sort();
    const limit = opts.limit && opts.limit > 0 ? opts.limit : 0;
    const items: StoredObject[] = [];
    const itemKeys: string[] = [];
    let consumed = 0;
    for (const k of keys) {
      consumed++;
      const e = snap.get(k)!;
      const obj = decode(k, e.value, e.modRev);
      if (!opts.predicate || opts.predicate(obj)) { items.push(obj); itemKeys.push(k); }
      if (limit && items.length >= limit) break;
    }
    const out: ListResult = { items, keys: itemKeys, resourceVersion: String(readRev) };
    if (limit && consumed < keys.length) {
      out.continue = encodeContinue(readRev, (keys[consumed - 1]! + '\x00').slice(prefix.length));
      if (!opts.predicate) out.remainingItemCount = keys.length - consumed;
    }
    return out;
  }

  async guaranteedUpdate(key: string, tryUpdate: TryUpdate, opts: UpdateOptions = {}): Promise<StoredObject> {
    this.check();
    for (;;) {
      const e = this.live(key);
      const current = e ? decode(key, e.value, e.modRev) : null;
      if (!current && !opts.ignoreNotFound) throw notFound(key);
      if (current) checkPreconditions(key, opts.preconditions, current);
      const next = await tryUpdate(current ? structuredClone(current) : null);
      if (current && sameContent(next, current)) return current;
      // tryUpdate may have awaited: re-check that nobody wrote meanwhile (compare-and-swap).
      const now = this.live(key);
      if ((now?.modRev ?? 0) !== (e?.modRev ?? 0)) continue;
      const rev = this.write(key, 'put', encode(next), opts.ttlSeconds);
      const out = structuredClone(next) as StoredObject;
      mutableMeta(out).resourceVersion = String(rev);
      return out;
    }
  }

  async delete(key: string, opts: DeleteOptions = {}): Promise<StoredObject> {
    this.check();
    for (;;) {
      const e = this.live(key);
      if (!e) throw notFound(key);
      const current = decode(key, e.value, e.modRev);
      checkPreconditions(key, opts.preconditions, current);
      if (opts.validateDeletion) await opts.validateDeletion(current);
      if (this.live(key)?.modRev !== e.modRev) continue;
      const rev = this.write(key, 'delete', e.value);
      mutableMeta(current).resourceVersion = String(rev);
      return current;
    }
  }

  async watch(prefix: string, opts: WatchOptions = {}): Promise<StorageWatch> {
    this.check();
    const fromRev = parseRevision(prefix, opts.resourceVersion);
    const exact = !prefix.endsWith('/');
    const w: MemWatcher = { prefix, exact, queue: new EventQueue(), ...(opts.predicate ? { predicate: opts.predicate } : {}) };
    if (!fromRev) {
      for (const [k, e] of [...this.data].sort(([a], [b]) => (a < b ? -1 : 1))) {
        if (exact ? k !== prefix : !k.startsWith(prefix)) continue;
        const obj = decode(k, e.value, e.modRev);
        if (!opts.predicate || opts.predicate(obj)) w.queue.push({ type: 'ADDED', object: obj, key: k });
      }
    } else {
      if (fromRev < this.compacted) throw expired(prefix, fromRev, this.compacted);
      for (const h of this.history) if (h.rev > fromRev) this.deliver(w, h);
    }
    this.watchers.add(w);
    w.queue.setOnStop(() => this.watchers.delete(w));
    return w.queue;
  }

  async currentRevision(): Promise<number> {
    this.check();
    return this.revision;
  }

  async ping(): Promise<void> {
    this.check();
  }

  /** Drops history up to `revision`: older watches and continue tokens expire. */
  async compact(revision: number): Promise<void> {
    this.history = this.history.filter((h) => h.rev > revision);
    this.compacted = Math.max(this.compacted, revision);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.watchers) w.queue.end(new StorageError('Unreachable', w.prefix, 'storage closed'));
    this.watchers.clear();
  }
}
