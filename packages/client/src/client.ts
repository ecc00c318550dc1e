/**
 * The client interface every non-apiserver component programs against, implemented by the
 * REST client (rest.ts) and the in-memory fake (fake.ts).
 *
 * Resource access is typed and scope-aware:
 *
 *   const pods = client.resource(Resources.pods);        // ResourceClient<Pod>
 *   await pods.get('default', 'web');                    // namespace first
 *   await pods.namespace('default').get('web');          // or bind the namespace once
 *   const nodes = client.resource(Resources.nodes);      // ClusterResourceClient<Node>
 *   await nodes.get('n1');                               // no namespace at all
 *
 * Every method either resolves with what the server returned or rejects with an `ApiError`
 * (the server's Status), a timeout `Error` (name "TimeoutError") or an `AbortError`.
 * Objects passed in are never modified; objects returned belong to the caller.
 */
import type { Readable } from 'node:stream';
import type {
  ApiObject, DeleteOptions, GetOptions, ListOptions, ListResult, PatchBody, PatchOptions, PatchType,
  RawOptions, RequestOptions, ResourceType, WatchOptions, WriteOptions,
} from './types.js';
import { apiVersionOfType } from './types.js';
import type { WatchStream } from './watch.js';

/** Namespace-first accessor: namespaced resources, or any resource whose scope is only known at run time. */
export interface ResourceClient<T extends ApiObject> {
  readonly type: ResourceType<T>;
  /** Rejects with NotFound when absent. */
  get(namespace: string, name: string, opts?: GetOptions): Promise<T>;
  /** One page (all of it unless `limit`); `opts.namespace` omitted = all namespaces. */
  list(opts?: ListOptions): Promise<ListResult<T>>;
  /** POST; AlreadyExists (409) when the name is taken. `metadata.generateName` works. */
  create(namespace: string, obj: T, opts?: WriteOptions): Promise<T>;
  /**
   * PUT of the main resource, namespace and name from `obj.metadata`. With
   * `metadata.resourceVersion` set it is a compare-and-swap: Conflict (409) when stale.
   * Status changes are ignored by the server for resources with a status subresource.
   */
  update(obj: T, opts?: WriteOptions): Promise<T>;
  /** PUT …/status: only the status is taken from `obj`. */
  updateStatus(obj: T, opts?: WriteOptions): Promise<T>;
  /** PATCH with the given patch type ('merge' is RFC 7386, 'json' RFC 6902). */
  patch<P extends PatchType>(namespace: string, name: string, patch: PatchBody<P>, type: P, opts?: PatchOptions): Promise<T>;
  patchStatus<P extends PatchType>(namespace: string, name: string, patch: PatchBody<P>, type: P, opts?: PatchOptions): Promise<T>;
  /** Rejects with NotFound when absent, Conflict when a precondition fails. */
  delete(namespace: string, name: string, opts?: DeleteOptions): Promise<void>;
  /** POST to a subresource, e.g. `createSubresource(ns, pod, 'binding', binding)`. */
  createSubresource<R = unknown>(namespace: string, name: string, subresource: string, body: unknown, opts?: WriteOptions): Promise<R>;
  getSubresource<R = unknown>(namespace: string, name: string, subresource: string, opts?: GetOptions): Promise<R>;
  /** Resolves once the server accepted the watch (HTTP 200); an HTTP 410 rejects with an expired ApiError. */
  watch(opts?: WatchOptions): Promise<WatchStream<T>>;
  /** The same verbs with the namespace bound ("" = cluster scope, for run-time-scoped resources). */
  namespace(namespace: string): ScopedResourceClient<T>;
}

/** Name-only accessor: a cluster-scoped resource, or a namespaced one bound to a namespace. */
export interface ScopedResourceClient<T extends ApiObject> {
  readonly type: ResourceType<T>;
  /** The bound namespace; undefined for cluster-scoped resources. */
  readonly boundNamespace: string | undefined;
  get(name: string, opts?: GetOptions): Promise<T>;
  list(opts?: Omit<ListOptions, 'namespace'>): Promise<ListResult<T>>;
  create(obj: T, opts?: WriteOptions): Promise<T>;
  update(obj: T, opts?: WriteOptions): Promise<T>;
  updateStatus(obj: T, opts?: WriteOptions): Promise<T>;
  patch<P extends PatchType>(name: string, patch: PatchBody<P>, type: P, opts?: PatchOptions): Promise<T>;
  patchStatus<P extends PatchType>(name: string, patch: PatchBody<P>, type: P, opts?: PatchOptions): Promise<T>;
  delete(name: string, opts?: DeleteOptions): Promise<void>;
  createSubresource<R = unknown>(name: string, subresource: string, body: unknown, opts?: WriteOptions): Promise<R>;
  getSubresource<R = unknown>(name: string, subresource: string, opts?: GetOptions): Promise<R>;
  watch(opts?: Omit<WatchOptions, 'namespace'>): Promise<WatchStream<T>>;
}

export type ClusterResourceClient<T extends ApiObject> = ScopedResourceClient<T>;

export interface Client {
  /** The User-Agent sent with every request, e.g. "tskube-scheduler/0.1.0". */
  readonly userAgent: string;
  /**
   * Typed access to a resource whose scope is known statically (`Resources.pods`,
   * `namespacedType<Pod>(def)`, or a literal with `namespaced: true|false`).
   */
  resource<T extends ApiObject>(rt: ResourceType<T, true>): ResourceClient<T>;
  resource<T extends ApiObject>(rt: ResourceType<T, false>): ClusterResourceClient<T>;
  /**
   * The namespace-first accessor for any resource, whatever its static scope (generic code
   * such as the informer, or a `ResourceDef` from the table): cluster-scoped resources take
   * "" as namespace; a wrong scope throws before any request is sent.
   */
  dynamic<T extends ApiObject = ApiObject>(rt: ResourceType<T>): ResourceClient<T>;
  /**
   * Any request; resolves with the parsed JSON body (a string for non-JSON responses,
   * undefined for an empty one). Non-2xx rejects with an ApiError.
   */
  raw<R = unknown>(method: string, path: string, opts?: RawOptions): Promise<R>;
  /** GET whose body is returned as a stream (e.g. `pods/<name>/log?follow=true`); destroy it to stop. */
  getStream(path: string, query?: RawOptions['query'], opts?: RequestOptions): Promise<Readable>;
  /** Releases connections. Outstanding watches/streams are destroyed. */
  close(): void;
}

// ---- what an implementation provides ----

/** Where a request goes: resource, namespace ("" or undefined = none), name, subresource. */
export interface ResourceRef {
  rt: ResourceType;
  namespace?: string;
  name?: string;
  subresource?: string;
}

/**
 * The verbs an implementation provides with explicit addressing; `BaseClient` builds the
 * typed, scope-checked accessors on top. Implementations must not keep references to
 * objects passed in or handed out.
 */
export interface ResourceBackend {
  get(ref: ResourceRef, opts?: GetOptions): Promise<unknown>;
  list(ref: ResourceRef, opts?: ListOptions): Promise<ListResult<unknown>>;
  create(ref: ResourceRef, obj: unknown, opts?: WriteOptions): Promise<unknown>;
  update(ref: ResourceRef, obj: unknown, opts?: WriteOptions): Promise<unknown>;
  patch(ref: ResourceRef, patch: unknown, type: PatchType, opts?: PatchOptions): Promise<unknown>;
  delete(ref: ResourceRef, opts?: DeleteOptions): Promise<void>;
  watch(ref: ResourceRef, opts?: WatchOptions): Promise<WatchStream<unknown>>;
}

function scopeError(rt: ResourceType, ns: string | undefined): Error | undefined {
  const what = rt.group ? `${rt.plural}.${rt.group}` : rt.plural;
  if (rt.namespaced && !ns) return new Error(`${what} is namespaced: a namespace is required`);
  if (!rt.namespaced && ns) return new Error(`${what} is cluster-scoped: no namespace may be given (got "${ns}")`);
  return undefined;
}

function metaOf(obj: unknown): { namespace?: string; name?: string } {
  const m = (obj as ApiObject | undefined)?.metadata;
  return { namespace: m?.namespace, name: m?.name };
}

class ResourceClientImpl<T extends ApiObject> implements ResourceClient<T> {
  constructor(private readonly b: ResourceBackend, readonly type: ResourceType<T>) {}

  private ref(namespace: string | undefined, name?: string, subresource?: string): ResourceRef {
    const err = scopeError(this.type, namespace);
    if (err) throw err;
    if (name !== undefined && name === '') throw new Error(`a resource name is required (${this.type.plural})`);
    return { rt: this.type, namespace: namespace || undefined, name, subresource };
  }

  private objRef(obj: T, subresource?: string): ResourceRef {
    const m = metaOf(obj);
    if (!m.name) throw new Error(`update of ${this.type.plural}: object has no metadata.name`);
    return this.ref(this.type.namespaced ? m.namespace : undefined, m.name, subresource);
  }

  async get(namespace: string, name: string, opts?: GetOptions): Promise<T> {
    return (await this.b.get(this.ref(namespace, name), opts)) as T;
  }

  async list(opts?: ListOptions): Promise<ListResult<T>> {
    if (!this.type.namespaced && opts?.namespace) throw scopeError(this.type, opts.namespace)!;
    const res = (await this.b.list({ rt: this.type, namespace: opts?.namespace || undefined }, opts)) as ListResult<T>;
    res.items ??= [];
    res.metadata ??= {};
    // Real servers omit kind/apiVersion on list items; fill them in so every object is self-describing.
    if (this.type.kind) {
      const apiVersion = apiVersionOfType(this.type);
      for (const it of res.items as ApiObject[]) {
        if (!it.kind) it.kind = this.type.kind;
        if (!it.apiVersion) it.apiVersion = apiVersion;
      }
    }
    return res;
  }

  async create(namespace: string, obj: T, opts?: WriteOptions): Promise<T> {
    return (await this.b.create(this.ref(namespace), obj, opts)) as T;
  }

  async update(obj: T, opts?: WriteOptions): Promise<T> {
    return (await this.b.update(this.objRef(obj), obj, opts)) as T;
  }

  async updateStatus(obj: T, opts?: WriteOptions): Promise<T> {
    return (await this.b.update(this.objRef(obj, 'status'), obj, opts)) as T;
  }

  async patch<P extends PatchType>(namespace: string, name: string, patch: PatchBody<P>, type: P, opts?: PatchOptions): Promise<T> {
    return (await this.b.patch(this.ref(namespace, name), patch, type, opts)) as T;
  }

  async patchStatus<P extends PatchType>(namespace: string, name: string, patch: PatchBody<P>, type: P, opts?: PatchOptions): Promise<T> {
    return (await this.b.patch(this.ref(namespace, name, 'status'), patch, type, opts)) as T;
  }

  async delete(namespace: string, name: string, opts?: DeleteOptions): Promise<void> {
    await this.b.delete(this.ref(namespace, name), opts);
  }

  async createSubresource<R = unknown>(namespace: string, name: string, subresource: string, body: unknown, opts?: WriteOptions): Promise<R> {
    return (await this.b.create(this.ref(namespace, name, subresource), body, opts)) as R;
  }

  async getSubresource<R = unknown>(namespace: string, name: string, subresource: string, opts?: GetOptions): Promise<R> {
    return (await this.b.get(this.ref(namespace, name, subresource), opts)) as R;
  }

  async watch(opts?: WatchOptions): Promise<WatchStream<T>> {
    if (!this.type.namespaced && opts?.namespace) throw scopeError(this.type, opts.namespace)!;
    return (await this.b.watch({ rt: this.type, namespace: opts?.namespace || undefined }, opts)) as WatchStream<T>;
  }

  namespace(namespace: string): ScopedResourceClient<T> {
    const err = scopeError(this.type, namespace);
    if (err) throw err;
    return new ScopedResourceClientImpl(this, namespace || undefined);
  }
}

class ScopedResourceClientImpl<T extends ApiObject> implements ScopedResourceClient<T> {
  readonly type: ResourceType<T>;
  constructor(private readonly rc: ResourceClientImpl<T>, readonly boundNamespace: string | undefined) {
    this.type = rc.type;
  }
  private get ns(): string { return this.boundNamespace ?? ''; }
  /** The object with the bound namespace filled in when it has none (for update/updateStatus addressing). */
  private withNs(obj: T): T {
    if (!this.boundNamespace || obj.metadata?.namespace) return obj;
    return { ...obj, metadata: { ...obj.metadata, namespace: this.boundNamespace } };
  }
  get(name: string, opts?: GetOptions): Promise<T> { return this.rc.get(this.ns, name, opts); }
  list(opts?: Omit<ListOptions, 'namespace'>): Promise<ListResult<T>> {
    return this.rc.list({ ...opts, namespace: this.boundNamespace });
  }
  create(obj: T, opts?: WriteOptions): Promise<T> { return this.rc.create(this.ns, obj, opts); }
  update(obj: T, opts?: WriteOptions): Promise<T> { return this.rc.update(this.withNs(obj), opts); }
  updateStatus(obj: T, opts?: WriteOptions): Promise<T> { return this.rc.updateStatus(this.withNs(obj), opts); }
  patch<P extends PatchType>(name: string, patch: PatchBody<P>, type: P, opts?: PatchOptions): Promise<T> {
    return this.rc.patch(this.ns, name, patch, type, opts);
  }
  patchStatus<P extends PatchType>(name: string, patch: PatchBody<P>, type: P, opts?: PatchOptions): Promise<T> {
    return this.rc.patchStatus(this.ns, name, patch, type, opts);
  }
  delete(name: string, opts?: DeleteOptions): Promise<void> { return this.rc.delete(this.ns, name, opts); }
  createSubresource<R = unknown>(name: string, subresource: string, body: unknown, opts?: WriteOptions): Promise<R> {
    return this.rc.createSubresource<R>(this.ns, name, subresource, body, opts);
  }
  getSubresource<R = unknown>(name: string, subresource: string, opts?: GetOptions): Promise<R> {
    return this.rc.getSubresource<R>(this.ns, name, subresource, opts);
  }
  watch(opts?: Omit<WatchOptions, 'namespace'>): Promise<WatchStream<T>> {
    return this.rc.watch({ ...opts, namespace: this.boundNamespace });
  }
}

/**
 * Base of the REST client and the fake: implements `resource()` over the subclass's
 * `ResourceBackend` methods.
 */
export abstract class BaseClient implements Client, ResourceBackend {
  abstract readonly userAgent: string;

  resource<T extends ApiObject>(rt: ResourceType<T, true>): ResourceClient<T>;
  resource<T extends ApiObject>(rt: ResourceType<T, false>): ClusterResourceClient<T>;
  resource<T extends ApiObject>(rt: ResourceType<T, boolean>): ResourceClient<T> | ClusterResourceClient<T> {
    const rc = new ResourceClientImpl<T>(this, rt);
    return rt.namespaced ? rc : new ScopedResourceClientImpl(rc, undefined);
  }

  dynamic<T extends ApiObject = ApiObject>(rt: ResourceType<T>): ResourceClient<T> {
    return new ResourceClientImpl<T>(this, rt);
  }

  abstract raw<R = unknown>(method: string, path: string, opts?: RawOptions): Promise<R>;
  abstract getStream(path: string, query?: RawOptions['query'], opts?: RequestOptions): Promise<Readable>;
  abstract close(): void;

  abstract get(ref: ResourceRef, opts?: GetOptions): Promise<unknown>;
  abstract list(ref: ResourceRef, opts?: ListOptions): Promise<ListResult<unknown>>;
  abstract create(ref: ResourceRef, obj: unknown, opts?: WriteOptions): Promise<unknown>;
  abstract update(ref: ResourceRef, obj: unknown, opts?: WriteOptions): Promise<unknown>;
  abstract patch(ref: ResourceRef, patch: unknown, type: PatchType, opts?: PatchOptions): Promise<unknown>;
  abstract delete(ref: ResourceRef, opts?: DeleteOptions): Promise<void>;
  abstract watch(ref: ResourceRef, opts?: WatchOptions): Promise<WatchStream<unknown>>;
}

/** URL path of a resource reference: /api/v1/namespaces/ns/pods/name/status. */
export function resourcePath(ref: ResourceRef): string {
  const { rt } = ref;
  let p = rt.group ? `/apis/${rt.group}/${rt.version}` : `/api/${rt.version}`;
  if (ref.namespace) p += `/namespaces/${encodeURIComponent(ref.namespace)}`;
  p += `/${rt.plural}`;
  if (ref.name) p += `/${encodeURIComponent(ref.name)}`;
  if (ref.subresource) p += `/${ref.subresource}`;
  return p;
}
