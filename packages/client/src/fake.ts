/**
 * In-memory fake of the client for unit tests of controllers, the scheduler and the kubelet.
 * It implements the same `Client` interface and passes the same conformance suite
 * (conformance.ts) as the REST client against a real apiserver.
 *
 * Behaves like the apiserver's generic store where tests can tell the difference:
 * - one resourceVersion counter for all resources (like etcd's revision), uid and
 *   creationTimestamp on create, `generateName`, generation bumped on spec changes;
 * - AlreadyExists / NotFound / Conflict (stale resourceVersion, failed preconditions) as
 *   ApiErrors with upstream wording; a no-op update does not bump the resourceVersion;
 * - the status split for resources with a status subresource (an update of the main
 *   resource keeps the stored status; /status keeps everything but status);
 * - label selectors and field selectors (metadata.name, metadata.namespace, and per resource
 *   the common upstream ones such as spec.nodeName and status.phase; others are rejected);
 * - watches with ADDED/MODIFIED/DELETED (and DELETED/ADDED when an object stops/starts
 *   matching a selector), resume from a resourceVersion, 410 Expired once it is older than
 *   the kept history (`historyLimit`, or everything after `compact()`), bookmarks on demand;
 * - merge patch (RFC 7386), JSON patch (RFC 6902, via fast-json-patch); 'strategic' and
 *   'apply' are approximated by a merge patch (lists are replaced, no merge keys);
 * - pods/binding (sets spec.nodeName and the PodScheduled condition; 409 if already bound),
 *   graceful deletion of bound pods (deletionTimestamp, removed by a delete with grace 0)
 *   and finalizers (deletionTimestamp until the last finalizer is removed).
 * Not modelled: namespace existence, defaulting/validation, admission, garbage collection,
 * field managers, list snapshots at a resourceVersion.
 */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import jsonpatch from 'fast-json-patch';
import {
  ApiError, RESOURCES, ResourceRegistry, alreadyExists, badRequest, conflict, field, fieldsMatch, invalid,
  isObject, jsonEqual, matches, methodNotSupported, notFound, objectKey, parseFieldSelector, parseSelector,
  resourceExpired, rfc3339, type FieldSelector, type Mutable, type ObjectMeta, type ResourceDef, type Selector,
  type StoredObject,
} from '@tskube/api';
import { BaseClient, type ResourceRef } from './client.js';
import { applyMergePatch } from './merge-patch.js';
import type {
  DeleteOptions, GetOptions, ListOptions, ListResult, PatchOptions, PatchType, RawOptions, RequestOptions,
  WatchOptions, WriteOptions,
} from './types.js';
import { PushWatchStream, type WatchStream } from './watch.js';

/** One call the fake received, for assertions (like client-go fake's Actions()). */
export interface FakeAction {
  verb: 'get' | 'list' | 'create' | 'update' | 'patch' | 'delete' | 'watch';
  /** Plural, e.g. "pods". */
  resource: string;
  group: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  /** The object or patch sent, if any (a copy). */
  body?: unknown;
  patchType?: PatchType;
}

/** Runs before every action; throwing (e.g. an ApiError) makes the call fail with that error. */
export type FakeReactor = (action: FakeAction) => void;

export interface FakeClientOptions {
  /** Resource table (default: @tskube/api RESOURCES). */
  resources?: readonly ResourceDef[];
  userAgent?: string;
  /** How many change events are kept for watch resume; older resourceVersions get 410. Default 1000. */
  historyLimit?: number;
  now?: () => Date;
}

/** A stored object: the fake owns system metadata, so its metadata is mutable here. */
interface Obj {
  apiVersion?: string;
  kind?: string;
  metadata: Mutable<ObjectMeta>;
  [field: string]: unknown;
}

interface HistoryEntry {
  rv: number;
  res: string;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  obj: Obj;
  /** For MODIFIED: the state before (to tell selector transitions). */
  old?: Obj;
}

interface Watcher {
  res: string;
  namespace?: string;
  labels: Selector;
  fields: FieldSelector;
  fieldsOf: (o: Obj) => Record<string, string>;
  bookmarks: boolean;
  kind: string;
  apiVersion: string;
  stream: PushWatchStream<unknown>;
}

const NAME_CHARS = 'bcdfghjklmnpqrstvwxz2456789';

function str(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return '';
}

function at(obj: Obj, path: string): unknown {
  let cur: unknown = obj;
  for (const p of path.split('.')) {
    if (!isObject(cur)) return undefined;
    cur = cur[p];
  }
  return cur;
}

/** Selectable fields per resource beyond metadata.name/namespace (upstream's per-resource GetAttrs). */
const FIELDS: Readonly<Record<string, readonly string[]>> = {
  '/pods': ['spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName', 'spec.hostNetwork',
    'status.phase', 'status.podIP', 'status.nominatedNodeName'],
  '/nodes': ['spec.unschedulable'],
  '/namespaces': ['status.phase'],
  '/events': ['involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid',
    'involvedObject.apiVersion', 'involvedObject.resourceVersion', 'involvedObject.fieldPath', 'reason',
    'reportingComponent', 'source', 'type'],
  'apps/replicasets': ['status.replicas'],
};

function fieldsFor(res: string): (o: Obj) => Record<string, string> {
  const extra = FIELDS[res] ?? [];
  return (o) => {
    const out: Record<string, string> = { 'metadata.name': o.metadata.name ?? '', 'metadata.namespace': o.metadata.namespace ?? '' };
    for (const f of extra) out[f] = f === 'source' ? str(at(o, 'source.component')) : str(at(o, f));
    return out;
  };
}

export class FakeClient extends BaseClient {
  readonly userAgent: string;
  /** Every call received, in order. */
  readonly actions: FakeAction[] = [];
  private readonly registry: ResourceRegistry;
  private readonly objects = new Map<string, Map<string, Obj>>();
  private history: HistoryEntry[] = [];
  private compactedRv = 0;
  private rv = 0;
  private readonly watchers = new Set<Watcher>();
  private readonly reactors: FakeReactor[] = [];
  private readonly logs = new Map<string, string>();
  private readonly historyLimit: number;
  private readonly now: () => Date;

  constructor(opts: FakeClientOptions = {}) {
    super();
    this.registry = new ResourceRegistry(opts.resources ?? RESOURCES);
    this.userAgent = opts.userAgent ?? 'tskube-fake/0.1.0';
    this.historyLimit = opts.historyLimit ?? 1000;
    this.now = opts.now ?? (() => new Date());
  }

  // ---- test hooks ----

  /** Adds a reactor that runs before every action (throw to fail the call). */
  addReactor(r: FakeReactor): () => void {
    this.reactors.push(r);
    return () => { const i = this.reactors.indexOf(r); if (i >= 0) this.reactors.splice(i, 1); };
  }

  clearActions(): void { this.actions.length = 0; }

  /** The current resourceVersion (of the last write). */
  get resourceVersion(): string { return String(this.rv); }

  /** Forgets the change history: watches from any earlier resourceVersion now get 410 Expired. */
  compact(): void {
    this.history = [];
    this.compactedRv = this.rv;
  }

  /** Sends a BOOKMARK with the current resourceVersion to every watch that allows bookmarks. */
  bookmark(): void {
    for (const w of this.watchers) {
      if (!w.bookmarks) continue;
      w.stream.push({ type: 'BOOKMARK', object: { kind: w.kind, apiVersion: w.apiVersion, metadata: { resourceVersion: String(this.rv) } } });
    }
  }

  /** Ends every open watch normally, as a server closing them at timeoutSeconds would. */
  closeWatches(): void {
    for (const w of [...this.watchers]) w.stream.end();
    this.watchers.clear();
  }

  /** Sends an ERROR event with 410 Expired to every open watch (which then ends). */
  expireWatches(): void {
    for (const w of [...this.watchers]) {
      w.stream.push({ type: 'ERROR', object: resourceExpired(`too old resource version: ${this.rv}`).status });
    }
    this.watchers.clear();
  }

  /** Number of open watches. */
  get watchCount(): number { return this.watchers.size; }

  /** Text served by `getStream('/api/v1/namespaces/<ns>/pods/<name>/log')`. */
  setPodLog(namespace: string, name: string, text: string): void {
    this.logs.set(`${namespace}/${name}`, text);
  }

  /** Stores an object as-is (system metadata filled in when missing), bypassing create semantics. */
  seed(def: ResourceDef | { group: string; plural: string }, obj: unknown): StoredObject {
    const d = this.def({ group: def.group, plural: def.plural });
    const o = structuredClone(obj) as Obj;
    o.metadata ??= {};
    o.apiVersion ??= d.group ? `${d.group}/${d.version}` : d.version;
    o.kind ??= d.kind;
    o.metadata.uid ??= randomUUID();
    o.metadata.creationTimestamp ??= rfc3339(this.now());
    const prev = this.bucket(d).get(objectKey(o));
    o.metadata.resourceVersion = String(++this.rv);
    this.bucket(d).set(objectKey(o), o);
    this.record(d, prev ? 'MODIFIED' : 'ADDED', o, prev);
    return structuredClone(o);
  }

  // ---- Client ----

  close(): void { this.closeWatches(); }

  async raw<R = unknown>(method: string, path: string, opts?: RawOptions): Promise<R> {
    const route = this.route(path);
    const q = opts?.query ?? {};
    const body = typeof opts?.body === 'string' ? JSON.parse(opts.body) as unknown : opts?.body;
    switch (method.toUpperCase()) {
      case 'GET':
        if (route.name) return await this.get(route, { resourceVersion: q.resourceVersion as string | undefined }) as R;
        return await this.list(route, {
          labelSelector: q.labelSelector as string | undefined, fieldSelector: q.fieldSelector as string | undefined,
          limit: q.limit === undefined ? undefined : Number(q.limit), continue: q.continue as string | undefined,
        }) as R;
      case 'POST': return await this.create(route, body) as R;
      case 'PUT': return await this.update(route, body) as R;
      case 'PATCH': {
        const ct = opts?.contentType ?? 'application/merge-patch+json';
        const type: PatchType = ct.includes('json-patch') ? 'json' : ct.includes('strategic') ? 'strategic' : ct.includes('apply') ? 'apply' : 'merge';
        return await this.patch(route, body, type, { fieldManager: q.fieldManager as string | undefined }) as R;
      }
      case 'DELETE': {
        const d = isObject(body) ? body as DeleteOptions : {};
        await this.delete(route, d);
        return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success' } as R;
      }
      default:
        throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
    }
  }

  async getStream(path: string, _query?: RawOptions['query'], _opts?: RequestOptions): Promise<Readable> {
    const r = this.route(path);
    if (r.rt.plural !== 'pods' || r.subresource !== 'log' || !r.name) throw this.generic404();
    this.act({ verb: 'get', resource: 'pods', group: '', subresource: 'log', namespace: r.namespace, name: r.name });
    this.mustGet(this.def(r.rt), r.namespace, r.name);
    return Readable.from([Buffer.from(this.logs.get(`${r.namespace}/${r.name}`) ?? '')]);
  }

  /** Parses an API path (/api/v1/namespaces/ns/pods/name/sub) into a reference. Throws 404 when unknown. */
  route(path: string): ResourceRef {
    const segs = path.split('?')[0]!.split('/').filter((s) => s).map(decodeURIComponent);
    let group = '';
    let version: string;
    let rest: string[];
    if (segs[0] === 'api' && segs.length >= 2) { version = segs[1]!; rest = segs.slice(2); }
    else if (segs[0] === 'apis' && segs.length >= 3) { group = segs[1]!; version = segs[2]!; rest = segs.slice(3); }
    else throw this.generic404();
    let namespace: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3) { namespace = rest[1]; rest = rest.slice(2); }
    const def = this.registry.lookup(group, version, rest[0] ?? '');
    if (!def || rest.length > 3) throw this.generic404();
    if (def.namespaced !== (namespace !== undefined) && rest.length > 1) throw this.generic404();
    return { rt: def, namespace, name: rest[1], subresource: rest[2] };
  }

  // ---- ResourceBackend ----

  async get(ref: ResourceRef, _opts?: GetOptions): Promise<unknown> {
    const d = this.def(ref.rt);
    this.act({ verb: 'get', ...this.who(d, ref) });
    if (ref.subresource && ref.subresource !== 'status') throw this.generic404();
    return structuredClone(this.mustGet(d, ref.namespace, ref.name!));
  }

  async list(ref: ResourceRef, opts?: ListOptions): Promise<ListResult<unknown>> {
    const d = this.def(ref.rt);
    this.act({ verb: 'list', ...this.who(d, ref) });
    const labels = parseSelector(opts?.labelSelector);
    const fields = this.parseFields(d, opts?.fieldSelector);
    const fieldsOf = fieldsFor(this.resKey(d));
    let items = [...this.bucket(d).entries()]
      .filter(([, o]) => this.passes(o, ref.namespace, labels, fields, fieldsOf))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    if (opts?.continue) {
      let after: string;
      try {
        after = (JSON.parse(Buffer.from(opts.continue, 'base64url').toString()) as { start: string }).start;
      } catch {
        throw badRequest('continue key is not valid: illegal base64 data');
      }
      items = items.filter(([k]) => k > after);
    }
    const metadata: ListResult<unknown>['metadata'] = { resourceVersion: String(this.rv) };
    if (opts?.limit && opts.limit > 0 && items.length > opts.limit) {
      const rest = items.length - opts.limit;
      items = items.slice(0, opts.limit);
      metadata.continue = Buffer.from(JSON.stringify({ rv: this.rv, start: items[items.length - 1]![0] })).toString('base64url');
      metadata.remainingItemCount = rest;
    }
    return {
      apiVersion: d.group ? `${d.group}/${d.version}` : d.version, kind: d.listKind, metadata,
      items: items.map(([, o]) => structuredClone(o)),
    };
  }

  async create(ref: ResourceRef, obj: unknown, opts?: WriteOptions): Promise<unknown> {
    const d = this.def(ref.rt);
    this.act({ verb: 'create', ...this.who(d, ref), body: structuredClone(obj) });
    if (ref.name) {
      if (ref.subresource === 'binding' && d.plural === 'pods' && !d.group) return this.bind(d, ref.namespace!, ref.name, obj, opts);
      if (ref.subresource) throw this.generic404();
      throw methodNotSupported({ group: d.group, resource: d.plural }, 'create');
    }
    if (!isObject(obj)) throw badRequest('the request body is not an object');
    const o = structuredClone(obj) as Obj;
    o.metadata = isObject(o.metadata) ? o.metadata : {};
    if (d.namespaced) {
      if (o.metadata.namespace && o.metadata.namespace !== ref.namespace) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      o.metadata.namespace = ref.namespace;
    } else {
      delete o.metadata.namespace;
    }
    if (!o.metadata.name && o.metadata.generateName) {
      let suffix = '';
      for (let i = 0; i < 5; i++) suffix += NAME_CHARS[Math.floor(Math.random() * NAME_CHARS.length)];
      o.metadata.name = o.metadata.generateName + suffix;
    }
    if (!o.metadata.name) {
      throw invalid({ group: d.group, kind: d.kind }, '', [field.required('metadata.name', 'name or generateName is required')]);
    }
    const key = objectKey(o);
    if (this.bucket(d).has(key)) throw alreadyExists({ group: d.group, resource: d.plural }, o.metadata.name);
    if (opts?.dryRun) return structuredClone(o);
    o.apiVersion = d.group ? `${d.group}/${d.version}` : d.version;
    o.kind = d.kind;
    o.metadata.uid = randomUUID();
    o.metadata.creationTimestamp = rfc3339(this.now());
    o.metadata.generation = 1;
    delete o.metadata.deletionTimestamp;
    delete o.metadata.deletionGracePeriodSeconds;
    o.metadata.resourceVersion = String(++this.rv);
    this.bucket(d).set(key, o);
    this.record(d, 'ADDED', o);
    return structuredClone(o);
  }

  async update(ref: ResourceRef, obj: unknown, opts?: WriteOptions): Promise<unknown> {
    const d = this.def(ref.rt);
    this.act({ verb: 'update', ...this.who(d, ref), body: structuredClone(obj) });
    if (ref.subresource && ref.subresource !== 'status') throw this.generic404();
    if (!isObject(obj)) throw badRequest('the request body is not an object');
    const cand = structuredClone(obj) as Obj;
    cand.metadata = isObject(cand.metadata) ? cand.metadata : {};
    if (cand.metadata.name && cand.metadata.name !== ref.name) {
      throw badRequest('the name of the object does not match the name on the URL');
    }
    const cur = this.mustGet(d, ref.namespace, ref.name!);
    return structuredClone(this.write(d, cur, cand, ref.subresource, cand.metadata.resourceVersion, opts));
  }

  async patch(ref: ResourceRef, patch: unknown, type: PatchType, opts?: PatchOptions): Promise<unknown> {
    const d = this.def(ref.rt);
    this.act({ verb: 'patch', ...this.who(d, ref), body: structuredClone(patch), patchType: type });
    if (ref.subresource && ref.subresource !== 'status') throw this.generic404();
    if (type === 'apply' && !opts?.fieldManager) {
      throw new ApiError(422, 'Invalid', 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
        { kind: 'PatchOptions', group: 'meta.k8s.io', causes: [{ reason: 'FieldValueRequired', message: 'Required value: is required for apply patch', field: 'fieldManager' }] });
    }
    const existing = this.bucket(d).get(this.key(d, ref.namespace, ref.name!));
    if (!existing && type === 'apply' && !ref.subresource) {
      const obj = applyMergePatch({}, patch) as Obj;
      obj.metadata = { ...obj.metadata, name: ref.name };
      return this.create({ ...ref, name: undefined }, obj, opts);
    }
    const cur = existing ?? this.mustGet(d, ref.namespace, ref.name!);
    let patched: unknown;
    if (type === 'json') {
      if (!Array.isArray(patch)) throw badRequest('json patch must be a list of operations');
      try {
        patched = jsonpatch.applyPatch(structuredClone(cur), patch as jsonpatch.Operation[], true, false).newDocument;
      } catch (e) {
        throw new ApiError(422, 'Invalid', `the server rejected our request due to an error in our request: ${(e as Error).message.split('\n')[0]}`);
      }
    } else {
      if (!isObject(patch)) throw badRequest('patch must be a JSON object');
      patched = applyMergePatch(cur, patch);
    }
    if (!isObject(patched)) throw new ApiError(422, 'Invalid', 'the patched object is not an object');
    const cand = structuredClone(patched) as Obj;
    cand.metadata = isObject(cand.metadata) ? cand.metadata : {};
    // A resourceVersion in the patch is a precondition; otherwise the patch applies to the current version.
    const patchRv = isObject(patch) && isObject(patch.metadata) && typeof patch.metadata.resourceVersion === 'string'
      ? patch.metadata.resourceVersion : undefined;
    return structuredClone(this.write(d, cur, cand, ref.subresource, patchRv, opts));
  }

  async delete(ref: ResourceRef, opts?: DeleteOptions): Promise<void> {
    const d = this.def(ref.rt);
    this.act({ verb: 'delete', ...this.who(d, ref) });
    if (ref.subresource) throw this.generic404();
    const cur = this.mustGet(d, ref.namespace, ref.name!);
    const gr = { group: d.group, resource: d.plural };
    const pre = opts?.preconditions;
    if (pre?.uid && pre.uid !== cur.metadata.uid) {
      throw conflict(gr, cur.metadata.name!, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${cur.metadata.uid ?? ''}`);
    }
    if (pre?.resourceVersion && pre.resourceVersion !== cur.metadata.resourceVersion) {
      throw conflict(gr, cur.metadata.name!, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in meta: ${cur.metadata.resourceVersion ?? ''}`);
    }
    if (opts?.dryRun) return;
    const grace = this.gracePeriod(d, cur, opts);
    if (grace > 0 || (cur.metadata.finalizers?.length ?? 0) > 0) {
      const next = structuredClone(cur);
      const nowMs = this.now().getTime();
      const deadline = rfc3339(new Date(nowMs + grace * 1000));
      const prevGrace = cur.metadata.deletionGracePeriodSeconds;
      if (!cur.metadata.deletionTimestamp || (prevGrace !== undefined && grace < prevGrace)) {
        next.metadata.deletionTimestamp = deadline;
        next.metadata.deletionGracePeriodSeconds = grace;
      }
      if (jsonEqual(next, cur)) return;
      next.metadata.resourceVersion = String(++this.rv);
      this.bucket(d).set(objectKey(next), next);
      this.record(d, 'MODIFIED', next, cur);
      return;
    }
    this.remove(d, cur);
  }

  async watch(ref: ResourceRef, opts?: WatchOptions): Promise<WatchStream<unknown>> {
    const d = this.def(ref.rt);
    this.act({ verb: 'watch', ...this.who(d, ref) });
    const res = this.resKey(d);
    const w: Watcher = {
      res, namespace: ref.namespace,
      labels: parseSelector(opts?.labelSelector),
      fields: this.parseFields(d, opts?.fieldSelector),
      fieldsOf: fieldsFor(res),
      bookmarks: opts?.allowWatchBookmarks ?? false,
      kind: d.kind, apiVersion: d.group ? `${d.group}/${d.version}` : d.version,
      stream: new PushWatchStream<unknown>(() => this.watchers.delete(w)),
    };
    const rvText = opts?.resourceVersion;
    if (rvText && rvText !== '0') {
      const from = Number(rvText);
      if (!Number.isInteger(from) || from < 0) throw badRequest(`invalid resource version: ${rvText}`);
      if (from < this.compactedRv) throw resourceExpired(`too old resource version: ${from} (${this.compactedRv + 1})`);
      for (const h of this.history) if (h.rv > from && h.res === res) this.deliver(w, h);
    } else {
      const current = [...this.bucket(d).entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      for (const [, o] of current) {
        if (this.passes(o, w.namespace, w.labels, w.fields, w.fieldsOf)) w.stream.push({ type: 'ADDED', object: structuredClone(o) });
      }
    }
    this.watchers.add(w);
    opts?.signal?.addEventListener('abort', () => w.stream.close(), { once: true });
    return w.stream;
  }

  // ---- internals ----

  private generic404(): ApiError {
    return new ApiError(404, 'NotFound', 'the server could not find the requested resource');
  }

  private def(rt: { group: string; plural: string; version?: string }): ResourceDef {
    const d = this.registry.all.find((r) => r.group === rt.group && r.plural === rt.plural && (!rt.version || r.version === rt.version));
    if (!d) throw this.generic404();
    return d;
  }

  private resKey(d: ResourceDef): string { return `${d.group}/${d.plural}`; }

  private bucket(d: ResourceDef): Map<string, Obj> {
    const k = this.resKey(d);
    let b = this.objects.get(k);
    if (!b) { b = new Map(); this.objects.set(k, b); }
    return b;
  }

  private key(d: ResourceDef, namespace: string | undefined, name: string): string {
    return d.namespaced ? `${namespace ?? ''}/${name}` : name;
  }

  private mustGet(d: ResourceDef, namespace: string | undefined, name: string): Obj {
    const o = this.bucket(d).get(this.key(d, namespace, name));
    if (!o) throw notFound({ group: d.group, resource: d.plural }, name);
    return o;
  }

  private who(d: ResourceDef, ref: ResourceRef): Omit<FakeAction, 'verb'> {
    const a: Omit<FakeAction, 'verb'> = { resource: d.plural, group: d.group };
    if (ref.subresource) a.subresource = ref.subresource;
    if (ref.namespace) a.namespace = ref.namespace;
    if (ref.name) a.name = ref.name;
    return a;
  }

  private act(a: FakeAction): void {
    this.actions.push(a);
    for (const r of this.reactors) r(a);
  }

  private hasStatus(d: ResourceDef): boolean {
    return d.subresources.some((s) => s.name === 'status');
  }

  private parseFields(d: ResourceDef, sel: string | undefined): FieldSelector {
    const fs = parseFieldSelector(sel);
    const allowed = new Set(['metadata.name', 'metadata.namespace', ...(FIELDS[this.resKey(d)] ?? [])]);
    for (const r of fs) if (!allowed.has(r.field)) throw badRequest(`field label not supported: ${r.field}`);
    return fs;
  }

  private passes(o: Obj, namespace: string | undefined, labels: Selector, fields: FieldSelector,
    fieldsOf: (o: Obj) => Record<string, string>): boolean {
    if (namespace && o.metadata.namespace !== namespace) return false;
    return matches(labels, o.metadata.labels) && (fields.length === 0 || fieldsMatch(fields, fieldsOf(o)));
  }

  private gracePeriod(d: ResourceDef, cur: Obj, opts?: DeleteOptions): number {
    if (d.group !== '' || d.plural !== 'pods') return 0;
    const spec = isObject(cur.spec) ? cur.spec : {};
    const status = isObject(cur.status) ? cur.status : {};
    // Unscheduled and finished pods go at once (upstream pod strategy CheckGracefulDelete).
    if (!spec.nodeName || status.phase === 'Succeeded' || status.phase === 'Failed') return 0;
    if (opts?.gracePeriodSeconds !== undefined) return Math.max(0, opts.gracePeriodSeconds);
    return typeof spec.terminationGracePeriodSeconds === 'number' ? spec.terminationGracePeriodSeconds : 30;
  }

  /**
   * The write path of update and patch: status split, optimistic concurrency, system
   * metadata, no-op detection, finalizer completion.
   */
  private write(d: ResourceDef, cur: Obj, cand: Obj, subresource: string | undefined,
    expectRv: string | undefined, opts?: WriteOptions): Obj {
    const gr = { group: d.group, resource: d.plural };
    const name = cur.metadata.name!;
    if (expectRv && expectRv !== cur.metadata.resourceVersion) throw conflict(gr, name);
    if (cand.metadata.uid && cand.metadata.uid !== cur.metadata.uid) {
      throw conflict(gr, name, `Precondition failed: UID in precondition: ${cand.metadata.uid}, UID in object meta: ${cur.metadata.uid ?? ''}`);
    }
    let next: Obj;
    if (subresource === 'status') {
      next = structuredClone(cur);
      if (cand.status === undefined) delete next.status;
      else next.status = cand.status;
    } else {
      next = cand;
      if (this.hasStatus(d)) {
        if (cur.status === undefined) delete next.status;
        else next.status = structuredClone(cur.status);
      }
      const m = next.metadata;
      const cm = cur.metadata;
      m.name = cm.name;
      m.namespace = cm.namespace;
      m.uid = cm.uid;
      m.creationTimestamp = cm.creationTimestamp;
      m.generation = cm.generation;
      if (cm.deletionTimestamp) { m.deletionTimestamp = cm.deletionTimestamp; m.deletionGracePeriodSeconds = cm.deletionGracePeriodSeconds; }
      else { delete m.deletionTimestamp; delete m.deletionGracePeriodSeconds; }
      if (m.generation !== undefined && !jsonEqual(cur.spec, next.spec)) m.generation = m.generation + 1;
      if (m.generateName === undefined) delete m.generateName;
    }
    next.apiVersion = cur.apiVersion;
    next.kind = cur.kind;
    next.metadata.resourceVersion = cur.metadata.resourceVersion;
    if (jsonEqual(next, cur)) return cur;
    if (opts?.dryRun) return next;
    if (next.metadata.deletionTimestamp && !(next.metadata.finalizers?.length) && this.gracePeriodPending(d, next) === false) {
      this.remove(d, next);
      return next;
    }
    next.metadata.resourceVersion = String(++this.rv);
    this.bucket(d).set(objectKey(next), next);
    this.record(d, 'MODIFIED', next, cur);
    return next;
  }

  /** A deleting object whose last finalizer went away is removed, unless it is a pod still in its grace period. */
  private gracePeriodPending(d: ResourceDef, o: Obj): boolean {
    return d.group === '' && d.plural === 'pods' && (o.metadata.deletionGracePeriodSeconds ?? 0) > 0;
  }

  private remove(d: ResourceDef, cur: Obj): void {
    const gone = structuredClone(cur);
    gone.metadata.resourceVersion = String(++this.rv);
    this.bucket(d).delete(objectKey(cur));
    this.record(d, 'DELETED', gone);
  }

  private bind(d: ResourceDef, namespace: string, name: string, body: unknown, opts?: WriteOptions): unknown {
    const b = isObject(body) ? body : {};
    const target = isObject(b.target) ? b.target : {};
    const node = typeof target.name === 'string' ? target.name : '';
    if (!node) throw invalid({ group: '', kind: 'Binding' }, name, [field.required('target.name', '')]);
    const cur = this.mustGet(d, namespace, name);
    const gr = { group: '', resource: 'pods/binding' };
    const meta = isObject(b.metadata) ? b.metadata : {};
    if (typeof meta.uid === 'string' && meta.uid && meta.uid !== cur.metadata.uid) {
      throw conflict(gr, name, `Precondition failed: UID in precondition: ${meta.uid}, UID in object meta: ${cur.metadata.uid ?? ''}`);
    }
    if (cur.metadata.deletionTimestamp) throw conflict(gr, name, `pod ${name} is being deleted, cannot be assigned to a host`);
    const spec = isObject(cur.spec) ? cur.spec : {};
    if (spec.nodeName) throw conflict(gr, name, `pod ${name} is already assigned to node ${JSON.stringify(spec.nodeName)}`);
    if (opts?.dryRun) return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 };
    const next = structuredClone(cur);
    next.spec = { ...spec, nodeName: node };
    if (isObject(meta.annotations)) {
      next.metadata.annotations = { ...next.metadata.annotations, ...(meta.annotations as Record<string, string>) };
    }
    const status = isObject(next.status) ? next.status : {};
    const conds = Array.isArray(status.conditions) ? (status.conditions as Record<string, unknown>[]) : [];
    const stamp = rfc3339(this.now());
    const i = conds.findIndex((c) => c.type === 'PodScheduled');
    const cond = { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: stamp };
    if (i >= 0) { if (conds[i]!.status !== 'True') conds[i] = cond; } else conds.push(cond);
    next.status = { ...status, conditions: conds };
    next.metadata.resourceVersion = String(++this.rv);
    this.bucket(d).set(objectKey(next), next);
    this.record(d, 'MODIFIED', next, cur);
    return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 };
  }

  private record(d: ResourceDef, type: HistoryEntry['type'], obj: Obj, old?: Obj): void {
    const h: HistoryEntry = { rv: this.rv, res: this.resKey(d), type, obj, old };
    this.history.push(h);
    if (this.history.length > this.historyLimit) {
      const dropped = this.history.splice(0, this.history.length - this.historyLimit);
      this.compactedRv = dropped[dropped.length - 1]!.rv;
    }
    for (const w of this.watchers) if (w.res === h.res) this.deliver(w, h);
  }

  /** Sends `h` to `w` as the watch cache would, turning selector transitions into ADDED/DELETED. */
  private deliver(w: Watcher, h: HistoryEntry): void {
    const pass = (o: Obj) => this.passes(o, w.namespace, w.labels, w.fields, w.fieldsOf);
    const now = pass(h.obj);
    if (h.type !== 'MODIFIED' || !h.old) {
      if (now) w.stream.push({ type: h.type, object: structuredClone(h.obj) });
      return;
    }
    const before = pass(h.old);
    if (now && before) w.stream.push({ type: 'MODIFIED', object: structuredClone(h.obj) });
    else if (now) w.stream.push({ type: 'ADDED', object: structuredClone(h.obj) });
    else if (before) {
      const gone = structuredClone(h.old);
      gone.metadata.resourceVersion = h.obj.metadata.resourceVersion;
      w.stream.push({ type: 'DELETED', object: gone });
    }
  }
}
