/**
 * CachedStorage: the watch cache (upstream's k8s.io/apiserver/pkg/storage/cacher) as a
 * Storage decorator over any Storage (etcd in production, memory in unit tests).
 *
 * One WatchCache per resource prefix (e.g. `/registry/pods/`), started lazily by the first
 * request that needs it (at the revision that request listed or resumes from, so that a
 * client's list-then-watch is served), holds the resource's current objects and a window of recent changes
 * fed by ONE underlying watch, however many clients watch. What it serves (as upstream):
 *
 * | call | served by |
 * |---|---|
 * | `watch` (any resourceVersion) | the cache: unset/'0' = current state as ADDED, then changes; 'N' = changes after N if N is in the window, else `Expired` (410) |
 * | `list` with resourceVersion '0' | the cache, any freshness (limit ignored, as upstream) |
 * | `list` with 'N' (NotOlderThan, no limit) | the cache once it reached N (waits up to 3 s, else `ResourceVersionTooLarge`, 504) |
 * | `get` with '0' / 'N' | the same |
 * | `list`/`get` without resourceVersion, `Exact`, `continue`, 'N' with a limit | the underlying storage (quorum read) |
 * | writes, `currentRevision`, `ping` | the underlying storage |
 *
 * Keys outside any resource prefix (see `resourcePrefix`) always go to the underlying storage.
 */
import type { KubeObject, StoredObject } from '@tskube/api';
import type { Logger } from '@tskube/log';
import type {
  DeleteOptions, GetOptions, ListOptions, ListResult, Storage, StorageWatch, TryUpdate, UpdateOptions, WatchOptions,
} from './interface.js';
import { WatchCache, type WatchCacheConfig, type WatchCacheInfo } from './watch-cache.js';
import { parseRevision } from './util.js';

export interface CachedStorageOptions {
  logger: Logger;
  /**
   * The resource prefix (ending with '/') whose cache serves a key or prefix, or undefined to
   * pass the call through. Default: the first two path segments (`/registry/pods/`), which
   * matches the apiserver's `/registry/<resource>/[<namespace>/]<name>` layout.
   */
  resourcePrefix?: (keyOrPrefix: string) => string | undefined;
  /** The storage key of an object, used only when the underlying storage's events carry none. */
  keyOf?: (prefix: string, obj: StoredObject) => string;
  /**
   * The window of recent changes per resource: starts at `min` events, doubles up to `max`
   * while the oldest change is younger than `freshMs` (upstream: 100, 100·1024, 75 s).
   * Default 100, 10 240, 75 s.
   */
  history?: { min?: number; max?: number; freshMs?: number };
  /** How long a not-older-than read waits for the cache (upstream: 3 s). */
  freshnessTimeoutMs?: number;
  /** Periodic bookmarks (upstream: 1 min). */
  bookmarkIntervalMs?: number;
  /** Undelivered live events after which a watcher is terminated. Default 10 000. */
  maxPendingEvents?: number;
  /** How long a request waits for a cache that is (re)initializing. Default 10 s. */
  readyTimeoutMs?: number;
  /** Page size of the cache's lists of the underlying storage. Default 500. */
  listPageSize?: number;
  /** Backoff between attempts to re-establish the underlying watch or list. */
  retry?: { initialMs?: number; maxMs?: number };
  now?: () => number;
}

/** `/registry/pods/ns/name` → `/registry/pods/`; undefined when the key has no such prefix. */
export function defaultResourcePrefix(keyOrPrefix: string): string | undefined {
  return /^\/[^/]+\/[^/]+\//.exec(keyOrPrefix)?.[0];
}

/** `<prefix>[<namespace>/]<name>`, the apiserver's key layout. */
export function defaultKeyOf(prefix: string, obj: StoredObject): string {
  const ns = obj.metadata.namespace;
  return `${prefix}${ns ? `${ns}/` : ''}${obj.metadata.name ?? ''}`;
}

type Compactable = Storage & { compact(revision: number): Promise<void> };
function canCompact(s: Storage): s is Compactable {
  return typeof (s as Partial<Compactable>).compact === 'function';
}

export class CachedStorage implements Storage {
  private readonly caches = new Map<string, WatchCache>();
  private readonly prefixOf: (keyOrPrefix: string) => string | undefined;
  private readonly config: Omit<WatchCacheConfig, 'prefix'>;
  private closed = false;

  constructor(private readonly storage: Storage, opts: CachedStorageOptions) {
    this.prefixOf = opts.resourcePrefix ?? defaultResourcePrefix;
    this.config = {
      storage,
      log: opts.logger,
      keyOf: opts.keyOf ?? defaultKeyOf,
      history: { minCapacity: opts.history?.min ?? 100, maxCapacity: opts.history?.max ?? 10_240, freshMs: opts.history?.freshMs ?? 75_000 },
      freshnessTimeoutMs: opts.freshnessTimeoutMs ?? 3_000,
      bookmarkIntervalMs: opts.bookmarkIntervalMs ?? 60_000,
      maxPendingEvents: opts.maxPendingEvents ?? 10_000,
      readyTimeoutMs: opts.readyTimeoutMs ?? 10_000,
      listPageSize: opts.listPageSize ?? 500,
      retry: { initialMs: opts.retry?.initialMs ?? 100, maxMs: opts.retry?.maxMs ?? 5_000 },
      now: opts.now ?? Date.now,
    };
  }

  /** The cache of a resource prefix, started on first use. */
  private cacheFor(prefix: string, startAt?: number): WatchCache {
    let c = this.caches.get(prefix);
    if (!c) {
      c = new WatchCache({ ...this.config, prefix });
      this.caches.set(prefix, c);
      c.start(startAt);
    }
    return c;
  }

  /** State of every started cache (for tests, metrics and debugging). */
  info(): WatchCacheInfo[] {
    return [...this.caches.values()].map((c) => c.info());
  }

  // ---- writes and quorum reads: the underlying storage -------------------------------

  create(key: string, obj: KubeObject, opts?: { ttlSeconds?: number }): Promise<StoredObject> {
    return this.storage.create(key, obj, opts);
  }

  guaranteedUpdate(key: string, tryUpdate: TryUpdate, opts?: UpdateOptions): Promise<StoredObject> {
    return this.storage.guaranteedUpdate(key, tryUpdate, opts);
  }

  delete(key: string, opts?: DeleteOptions): Promise<StoredObject> {
    return this.storage.delete(key, opts);
  }

  currentRevision(): Promise<number> { return this.storage.currentRevision(); }
  ping(): Promise<void> { return this.storage.ping(); }

  // ---- reads ------------------------------------------------------------------------

  async get(key: string, opts: GetOptions = {}): Promise<StoredObject> {
    const prefix = opts.resourceVersion ? this.prefixOf(key) : undefined;
    if (!prefix || this.closed) return this.storage.get(key, opts);
    const min = parseRevision(key, opts.resourceVersion) ?? 0;
    const cache = this.cacheFor(prefix);
    // Any state will do and the cache is not there yet: ask the storage (upstream does too).
    if (min === 0 && !cache.isReady) return this.storage.get(key, opts);
    return cache.get(key, min);
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    const rv = opts.resourceVersion;
    const delegate = !rv || !!opts.continue || opts.resourceVersionMatch === 'Exact' || (!!opts.limit && rv !== '0');
    const resource = delegate ? undefined : this.prefixOf(prefix);
    if (!resource || this.closed) return this.storage.list(prefix, opts);
    const min = parseRevision(prefix, rv) ?? 0;
    if (min === 0 && !this.caches.has(resource)) {
      // The first read of the resource: answer it from the storage and start the cache at the
      // same revision, so that the client's next step (a watch from that revision) is served.
      const res = await this.storage.list(prefix, opts);
      this.cacheFor(resource, Number(res.resourceVersion));
      return res;
    }
    const cache = this.cacheFor(resource);
    if (min === 0 && !cache.isReady) return this.storage.list(prefix, opts);
    return cache.list(prefix, min, opts.predicate);
  }

  async watch(key: string, opts: WatchOptions = {}): Promise<StorageWatch> {
    const resource = this.prefixOf(key);
    if (!resource || this.closed) return this.storage.watch(key, opts);
    const from = parseRevision(key, opts.resourceVersion) ?? 0;
    // A cache started for a watch that resumes from N lists at N first, so that it can serve it.
    return this.cacheFor(resource, from > 0 ? from : undefined).watch(key, from, opts);
  }

  // ---- maintenance ------------------------------------------------------------------

  /**
   * Compacts the underlying storage (when it can) and makes the caches treat revisions up to
   * `revision` as compacted too, so that resuming below it is Expired as it would be in etcd.
   */
  async compact(revision: number): Promise<void> {
    if (canCompact(this.storage)) await this.storage.compact(revision);
    for (const c of this.caches.values()) c.compact(revision);
  }

  /** Stops every cache (its underlying watch and client watches), then closes the storage. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.caches.values()].map((c) => c.close()));
    this.caches.clear();
    await this.storage.close();
  }
}
