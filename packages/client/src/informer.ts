/**
 * Shared informers: keep an indexed, read-only cache of one resource in sync with the
 * server and tell handlers what changed.
 *
 * Protocol (as client-go's reflector): list (paged) and take the list's resourceVersion;
 * watch from it with bookmarks; every event updates the cache and the last-seen version.
 * - The watch ends normally (server timeout): watch again from the last-seen version.
 * - The watch fails (network, 5xx): watch again from the last-seen version after a capped
 *   exponential backoff (100 ms doubling to 30 s, with jitter; reset by a healthy watch).
 * - The version expired (HTTP 410 or an ERROR event with code 410): relist. The relist is
 *   diffed against the cache: new objects → onAdd, changed resourceVersion → onUpdate,
 *   objects that vanished → onDelete with `finalStateUnknown: true` and the last known state
 *   (client-go's DeletedFinalStateUnknown).
 *
 * Handlers run synchronously, in event order, after the cache has been updated, so a lister
 * read inside a handler sees the new state. They should only compute keys and enqueue them
 * (habit 5); an exception from a handler is logged and does not stop the informer.
 */
import { objectKey } from '@tskube/api';
import type { Logger } from '@tskube/log';
import { Backoff, sleep } from './backoff.js';
import type { Client, ResourceClient } from './client.js';
import { isExpired } from './errors.js';
import { Store, type IndexFunc, type Lister } from './store.js';
import { apiVersionOfType, type ApiObject, type DeepReadonly, type ResourceType } from './types.js';
import type { WatchStream } from './watch.js';

export interface EventHandlers<T> {
  /** A new object. `initialList` is true for objects of the informer's first list (and replays to late handlers). */
  onAdd?(obj: DeepReadonly<T>, initialList: boolean): void;
  /** An object changed (the cache already holds `obj`). */
  onUpdate?(old: DeepReadonly<T>, obj: DeepReadonly<T>): void;
  /**
   * An object is gone. With `finalStateUnknown`, the deletion was noticed by a relist and
   * `obj` is the last state the cache had, not the state at deletion.
   */
  onDelete?(obj: DeepReadonly<T>, info: { finalStateUnknown: boolean }): void;
}

export interface InformerOptions<T extends ApiObject> {
  client: Client;
  resource: ResourceType<T>;
  logger: Logger;
  /** Only this namespace (default: all). */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  indexers?: Readonly<Record<string, IndexFunc<T>>>;
  /** List page size; 0 lists in one request. Default 500. */
  pageSize?: number;
  /** Watch requests ask for timeoutSeconds in [min, 2·min); default 300 (client-go). */
  minWatchTimeoutSeconds?: number;
  /** Reconnect backoff; default 100 ms → 30 s. */
  backoff?: { initialMs?: number; maxMs?: number };
  /** Deep-freeze cached objects (tests). */
  freeze?: boolean;
}

export class Informer<T extends ApiObject> {
  private readonly store: Store<T>;
  private readonly rc: ResourceClient<T>;
  private readonly log: Logger;
  private readonly handlers = new Set<EventHandlers<T>>();
  private readonly syncWaiters = new Set<() => void>();
  private synced = false;
  private running = false;
  private rv = '';
  private readonly freeze: boolean;

  constructor(private readonly opts: InformerOptions<T>) {
    this.store = new Store<T>({ indexers: opts.indexers, freeze: opts.freeze });
    this.freeze = opts.freeze ?? false;
    this.rc = opts.client.dynamic(opts.resource);
    this.log = opts.logger.child({ informer: opts.resource.group ? `${opts.resource.plural}.${opts.resource.group}` : opts.resource.plural });
  }

  /** Read-only view of the cache. Empty until `hasSynced()`. */
  get lister(): Lister<T> { return this.store; }

  get resource(): ResourceType<T> { return this.opts.resource; }

  /** The resourceVersion of the last list, event or bookmark seen. */
  get lastSyncResourceVersion(): string { return this.rv; }

  /**
   * Registers handlers; returns a function that unregisters them. Objects already cached
   * are replayed to the new handlers as adds (initialList = true), synchronously.
   */
  addEventHandler(h: EventHandlers<T>): () => void {
    this.handlers.add(h);
    if (h.onAdd) for (const o of this.store.list()) this.call(() => h.onAdd!(o, true));
    return () => { this.handlers.delete(h); };
  }

  /** Adds indexes to the cache (existing objects are indexed at once). Throws if a name is taken. */
  addIndexers(indexers: Readonly<Record<string, IndexFunc<T>>>): void {
    this.store.addIndexers(indexers);
  }

  hasIndex(name: string): boolean { return this.store.hasIndex(name); }

  /** True once the first list has been applied to the cache and delivered to handlers. */
  hasSynced(): boolean { return this.synced; }

  /** Resolves true once synced, or false if `signal` aborts first. */
  waitForSync(signal?: AbortSignal): Promise<boolean> {
    if (this.synced) return Promise.resolve(true);
    if (signal?.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = () => { this.syncWaiters.delete(done); signal?.removeEventListener('abort', abort); resolve(true); };
      const abort = () => { this.syncWaiters.delete(done); resolve(false); };
      this.syncWaiters.add(done);
      signal?.addEventListener('abort', abort, { once: true });
    });
  }

  /** Runs until `signal` aborts; resolves once stopped. Call once. Never rejects. */
  async run(signal: AbortSignal): Promise<void> {
    if (this.running) throw new Error('informer is already running');
    this.running = true;
    const backoff = new Backoff(this.opts.backoff?.initialMs ?? 100, this.opts.backoff?.maxMs ?? 30_000);
    let needList = true;
    try {
      while (!signal.aborted) {
        if (needList) {
          try {
            await this.listAndReplace(signal);
            needList = false;
          } catch (e) {
            if (signal.aborted) break;
            const wait = backoff.next();
            this.log.warn('list failed', { err: e, retryInMs: Math.round(wait) });
            await sleep(wait, signal);
            continue;
          }
        }
        const started = Date.now();
        let events = 0;
        try {
          events = await this.watchOnce(signal);
        } catch (e) {
          if (signal.aborted) break;
          if (isExpired(e)) {
            this.log.info('watch expired, relisting', { resourceVersion: this.rv, err: e });
            needList = true;
            continue;
          }
          const wait = backoff.next();
          this.log.warn('watch failed', { err: e, resourceVersion: this.rv, retryInMs: Math.round(wait) });
          await sleep(wait, signal);
          continue;
        }
        // A clean end. A watch that lasted or delivered something was healthy: re-watch at once.
        // One that closed immediately and empty counts as a failure, so a bad server is not hammered.
        if (events > 0 || Date.now() - started >= 1000) {
          backoff.reset();
        } else {
          await sleep(backoff.next(), signal);
        }
      }
    } finally {
      this.running = false;
    }
  }

  private async listAndReplace(signal: AbortSignal): Promise<void> {
    const { items, rv } = await this.listAll(signal);
    const diff = this.store.replace(items);
    this.rv = rv;
    const initial = !this.synced;
    for (const o of diff.added) this.emit((h) => h.onAdd?.(o, initial));
    for (const u of diff.updated) this.emit((h) => h.onUpdate?.(u.old, u.obj));
    for (const o of diff.deleted) this.emit((h) => h.onDelete?.(o, { finalStateUnknown: true }));
    if (!this.synced) {
      this.synced = true;
      for (const w of [...this.syncWaiters]) w();
    }
  }

  private async listAll(signal: AbortSignal): Promise<{ items: T[]; rv: string }> {
    const pageSize = this.opts.pageSize ?? 500;
    const base = { namespace: this.opts.namespace, labelSelector: this.opts.labelSelector, fieldSelector: this.opts.fieldSelector, signal };
    const items: T[] = [];
    let cont: string | undefined;
    let rv = '';
    try {
      do {
        const page = await this.rc.list({ ...base, limit: pageSize > 0 ? pageSize : undefined, continue: cont });
        items.push(...page.items);
        cont = page.metadata.continue || undefined;
        if (page.metadata.resourceVersion) rv = page.metadata.resourceVersion;
      } while (cont);
    } catch (e) {
      // The continue token expired between pages: fall back to one unpaged list (as client-go's pager).
      if (!(cont && isExpired(e))) throw e;
      const all = await this.rc.list(base);
      return { items: all.items, rv: all.metadata.resourceVersion ?? '' };
    }
    return { items, rv };
  }

  /** One watch from `this.rv`; resolves with the number of events when it ends normally. */
  private async watchOnce(signal: AbortSignal): Promise<number> {
    const min = this.opts.minWatchTimeoutSeconds ?? 300;
    const timeoutSeconds = Math.floor(min * (1 + Math.random()));
    const w: WatchStream<T> = await this.rc.watch({
      namespace: this.opts.namespace, labelSelector: this.opts.labelSelector, fieldSelector: this.opts.fieldSelector,
      resourceVersion: this.rv, allowWatchBookmarks: true, timeoutSeconds, signal,
    });
    // Guard against a connection that died silently: the server should have closed by now.
    const guard = setTimeout(() => w.close(), (timeoutSeconds + 30) * 1000);
    let n = 0;
    try {
      for await (const ev of w) {
        n++;
        const obj = ev.object;
        const rv = obj.metadata?.resourceVersion;
        if (ev.type === 'BOOKMARK') {
          if (rv) this.rv = rv;
          continue;
        }
        this.fillTypeMeta(obj);
        if (this.freeze) deepFreezeObj(obj);
        if (ev.type === 'DELETED') {
          this.store.remove(objectKey(obj));
          const ro = obj as DeepReadonly<T>;
          this.emit((h) => h.onDelete?.(ro, { finalStateUnknown: false }));
        } else {
          const r = this.store.upsert(obj);
          const old = r.old;
          if (old) this.emit((h) => h.onUpdate?.(old, r.obj));
          else this.emit((h) => h.onAdd?.(r.obj, false));
        }
        if (rv) this.rv = rv;
      }
    } finally {
      clearTimeout(guard);
      w.close();
    }
    return n;
  }

  private fillTypeMeta(obj: T): void {
    const rt = this.opts.resource;
    if (!rt.kind || Object.isFrozen(obj)) return;
    if (!obj.kind) obj.kind = rt.kind;
    if (!obj.apiVersion) obj.apiVersion = apiVersionOfType(rt);
  }

  private emit(f: (h: EventHandlers<T>) => void): void {
    for (const h of this.handlers) this.call(() => f(h));
  }

  private call(f: () => void): void {
    try {
      f();
    } catch (e) {
      this.log.error('event handler failed', { err: e });
    }
  }
}

function deepFreezeObj(v: unknown): void {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreezeObj(x);
  }
}

export interface InformerFactoryOptions {
  client: Client;
  logger: Logger;
  /** Applied to every informer: see InformerOptions. */
  pageSize?: number;
  minWatchTimeoutSeconds?: number;
  backoff?: { initialMs?: number; maxMs?: number };
  freeze?: boolean;
}

export interface InformerSelection<T> {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Added to the shared informer if it lacks an index of that name. */
  indexers?: Readonly<Record<string, IndexFunc<T>>>;
}

/**
 * Hands out one shared informer per (resource, namespace, selectors), so every controller
 * in a process shares one list+watch and one cache per resource.
 */
export class InformerFactory {
  private readonly informers = new Map<string, Informer<ApiObject>>();
  private readonly started = new Set<Informer<ApiObject>>();
  private readonly runs: Promise<void>[] = [];

  constructor(private readonly opts: InformerFactoryOptions) {}

  informer<T extends ApiObject>(rt: ResourceType<T>, sel: InformerSelection<T> = {}): Informer<T> {
    const key = [rt.group, rt.version, rt.plural, sel.namespace ?? '', sel.labelSelector ?? '', sel.fieldSelector ?? ''].join('|');
    let inf = this.informers.get(key) as Informer<T> | undefined;
    if (!inf) {
      inf = new Informer<T>({
        client: this.opts.client, logger: this.opts.logger, resource: rt,
        namespace: sel.namespace, labelSelector: sel.labelSelector, fieldSelector: sel.fieldSelector,
        pageSize: this.opts.pageSize, minWatchTimeoutSeconds: this.opts.minWatchTimeoutSeconds,
        backoff: this.opts.backoff, freeze: this.opts.freeze,
      });
      this.informers.set(key, inf as unknown as Informer<ApiObject>);
    }
    const missing = Object.entries(sel.indexers ?? {}).filter(([name]) => !inf!.hasIndex(name));
    if (missing.length) inf.addIndexers(Object.fromEntries(missing));
    return inf;
  }

  /** Starts every informer not yet started (call again after creating more). */
  start(signal: AbortSignal): void {
    for (const inf of this.informers.values()) {
      if (this.started.has(inf)) continue;
      this.started.add(inf);
      this.runs.push(inf.run(signal));
    }
  }

  /** Resolves true once every informer created so far has synced; false if `signal` aborts first. */
  async waitForSync(signal?: AbortSignal): Promise<boolean> {
    const all = await Promise.all([...this.informers.values()].map((i) => i.waitForSync(signal)));
    return all.every((x) => x);
  }

  /** Resolves when every started informer has stopped (after the start signal aborted). */
  async stopped(): Promise<void> {
    await Promise.all(this.runs);
  }
}
