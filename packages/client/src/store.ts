/**
 * The informer's indexed cache and its read-only view, the `Lister`.
 *
 * Keys are `namespace/name` (`name` for cluster-scoped objects; see `objectKey` in
 * @tskube/api). Only the informer that owns a Store mutates it; everyone else reads through
 * `Lister`. JavaScript runs one callback at a time, so a read never sees half an update.
 * Objects handed out are the cached instances: they are typed `DeepReadonly` and must not be
 * changed. `clone()` one before modifying it.
 */
import { objectKey } from '@tskube/api';
import type { ApiObject, DeepReadonly } from './types.js';

/** Values an object is filed under in one index (e.g. its node name). Must be pure. */
export type IndexFunc<T> = (obj: DeepReadonly<T>) => readonly string[];

/** Name of the built-in index: objects by `metadata.namespace` ("" for cluster-scoped). */
export const NAMESPACE_INDEX = 'namespace';

export interface Lister<T> {
  /** The cached object for `namespace/name` (or `name`), or undefined. */
  get(key: string): DeepReadonly<T> | undefined;
  /** Shorthand for `get(namespace ? namespace/name : name)`. */
  getByName(namespace: string | undefined, name: string): DeepReadonly<T> | undefined;
  /** Every cached object, in no particular order. */
  list(): DeepReadonly<T>[];
  listKeys(): string[];
  /** Objects filed under `value` in index `indexName`; throws for an unknown index. */
  byIndex(indexName: string, value: string): DeepReadonly<T>[];
  /** Objects in one namespace (the built-in namespace index). */
  listNamespace(namespace: string): DeepReadonly<T>[];
  readonly size: number;
}

export interface StoreOptions<T> {
  /** User indexes by name, in addition to the built-in `namespace` index. */
  indexers?: Readonly<Record<string, IndexFunc<T>>>;
  /** Deep-freeze objects as they enter the cache (tests use it to catch writes to cached objects). */
  freeze?: boolean;
}

/** What `replace` changed, for the informer to turn into handler calls. */
export interface ReplaceDiff<T> {
  added: DeepReadonly<T>[];
  updated: { old: DeepReadonly<T>; obj: DeepReadonly<T> }[];
  deleted: DeepReadonly<T>[];
}

function deepFreeze<V>(v: V): V {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}

export class Store<T extends ApiObject> implements Lister<T> {
  private readonly items = new Map<string, DeepReadonly<T>>();
  private readonly indexers = new Map<string, IndexFunc<T>>();
  /** index name → value → keys. */
  private readonly indices = new Map<string, Map<string, Set<string>>>();
  private readonly freeze: boolean;

  constructor(opts: StoreOptions<T> = {}) {
    this.freeze = opts.freeze ?? false;
    this.addIndexers({ [NAMESPACE_INDEX]: (o) => [o.metadata?.namespace ?? ''], ...opts.indexers });
  }

  /** Adds indexes (existing objects are indexed at once). Throws if a name is taken. */
  addIndexers(indexers: Readonly<Record<string, IndexFunc<T>>>): void {
    for (const [name, fn] of Object.entries(indexers)) {
      if (this.indexers.has(name)) throw new Error(`indexer "${name}" already exists`);
      this.indexers.set(name, fn);
      const idx = new Map<string, Set<string>>();
      this.indices.set(name, idx);
      for (const [key, obj] of this.items) this.fileUnder(idx, fn, key, obj);
    }
  }

  hasIndex(name: string): boolean { return this.indexers.has(name); }

  get size(): number { return this.items.size; }

  get(key: string): DeepReadonly<T> | undefined { return this.items.get(key); }

  getByName(namespace: string | undefined, name: string): DeepReadonly<T> | undefined {
    return this.items.get(namespace ? `${namespace}/${name}` : name);
  }

  list(): DeepReadonly<T>[] { return [...this.items.values()]; }

  listKeys(): string[] { return [...this.items.keys()]; }

  byIndex(indexName: string, value: string): DeepReadonly<T>[] {
    const idx = this.indices.get(indexName);
    if (!idx) throw new Error(`index "${indexName}" does not exist`);
    const keys = idx.get(value);
    if (!keys) return [];
    const out: DeepReadonly<T>[] = [];
    for (const k of keys) {
      const o = this.items.get(k);
      if (o) out.push(o);
    }
    return out;
  }

  listNamespace(namespace: string): DeepReadonly<T>[] { return this.byIndex(NAMESPACE_INDEX, namespace); }

  // ---- mutation: the owning informer only ----

  /** Inserts or replaces; returns the previous object, if any. The store takes ownership of `obj`. */
  upsert(obj: T): { old: DeepReadonly<T> | undefined; obj: DeepReadonly<T> } {
    const ro = (this.freeze ? deepFreeze(obj) : obj) as DeepReadonly<T>;
    const key = objectKey(obj);
    const old = this.items.get(key);
    if (old) this.unindex(key, old);
    this.items.set(key, ro);
    this.index(key, ro);
    return { old, obj: ro };
  }

  /** Removes by key; returns what was cached, if anything. */
  remove(key: string): DeepReadonly<T> | undefined {
    const old = this.items.get(key);
    if (!old) return undefined;
    this.unindex(key, old);
    this.items.delete(key);
    return old;
  }

  /**
   * Makes the cache equal to `objs` (a fresh list) and reports the difference. An object
   * counts as updated only when its resourceVersion changed.
   */
  replace(objs: readonly T[]): ReplaceDiff<T> {
    const diff: ReplaceDiff<T> = { added: [], updated: [], deleted: [] };
    const seen = new Set<string>();
    for (const o of objs) {
      const key = objectKey(o);
      seen.add(key);
      const prev = this.items.get(key);
      if (prev && prev.metadata?.resourceVersion === o.metadata?.resourceVersion && prev.metadata?.resourceVersion) continue;
      const r = this.upsert(o);
      if (r.old) diff.updated.push({ old: r.old, obj: r.obj });
      else diff.added.push(r.obj);
    }
    for (const key of [...this.items.keys()]) {
      if (!seen.has(key)) diff.deleted.push(this.remove(key)!);
    }
    return diff;
  }

  private fileUnder(idx: Map<string, Set<string>>, fn: IndexFunc<T>, key: string, obj: DeepReadonly<T>): void {
    for (const v of fn(obj)) {
      let keys = idx.get(v);
      if (!keys) { keys = new Set(); idx.set(v, keys); }
      keys.add(key);
    }
  }

  private index(key: string, obj: DeepReadonly<T>): void {
    for (const [name, fn] of this.indexers) this.fileUnder(this.indices.get(name)!, fn, key, obj);
  }

  private unindex(key: string, obj: DeepReadonly<T>): void {
    for (const [name, fn] of this.indexers) {
      const idx = this.indices.get(name)!;
      for (const v of fn(obj)) {
        const keys = idx.get(v);
        if (!keys) continue;
        keys.delete(key);
        if (keys.size === 0) idx.delete(v);
      }
    }
  }
}
