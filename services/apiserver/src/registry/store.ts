/**
 * The generic store (design habit 2): one implementation of create/get/list/watch/update/
 * delete for every resource, owning the order of operations; a Strategy supplies the
 * per-kind hooks. Storage errors are translated into API errors here, at one boundary
 * (habit 4).
 *
 * Create: system metadata → defaults → mutating admission → prepareForCreate → validate →
 *         validating admission → storage.
 * Update: (inside guaranteedUpdate, pure and re-runnable) new object from UpdatedObjectInfo →
 *         resourceVersion check → system metadata carried over → prepareForUpdate →
 *         generation → validate → admission → storage.
 */
import { randomUUID, randomInt } from 'node:crypto';
import {
  ApiError, alreadyExists, badRequest, deepCopy, conflict, field, internalError, invalid, jsonEqual, mutableMeta, notFound,
  parseFieldSelector, parseSelector, fieldsMatch, matches, rfc3339, resourceExpired, requestEntityTooLarge,
  serviceUnavailable, validateObjectMeta, validateObjectMetaUpdate, apiVersionOf, isDNS1123Subdomain,
  type FieldError, type KubeList, type KubeObject, type ResourceDef, type StoredObject, type FieldSelector, type Selector,
  type NameValidator,
} from '@tskube/api';
import { isStorageError, type Storage, type Predicate, type StorageWatch } from '@tskube/storage';
import type { AdmissionChain } from '../admission/admission.js';
import type { Strategy } from './strategy.js';
import type { Conversion } from './module.js';
import type {
  ApiWatch, CollectionDeleter, Creater, DeleteOptions, Deleter, Getter, ListQuery, Lister, RequestContext,
  UpdatedObjectInfo, UpdateOptions, Updater, WatchQuery,
} from './rest.js';

export interface StoreOptions {
  def: ResourceDef;
  strategy: Strategy;
  storage: Storage;
  admission: AdmissionChain;
  /** Name rules for metadata.name (default: DNS-1123 subdomain). */
  nameValidator?: NameValidator;
  /** Root of all keys, '/registry' like upstream. */
  keyRoot?: string;
  /** Subresource this store serves ('' for the main resource, 'status' for /status). */
  subresource?: string;
  /** Stored in another version than served: converted on every read and write. */
  conversion?: Conversion;
  now?: () => Date;
}

/** Characters upstream's SimpleNameGenerator draws from (no vowels: no accidental words). */
const NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** Upstream maxNameGenerationCreateAttempts. */
export const MAX_NAME_GENERATION_CREATE_ATTEMPTS = 8;

export function generateName(base: string): string {
  const trimmed = base.length > 58 ? base.slice(0, 58) : base;
  let s = '';
  for (let i = 0; i < 5; i++) s += NAME_ALPHABET[randomInt(NAME_ALPHABET.length)];
  return trimmed + s;
}

export class Store implements Getter, Lister, Creater, Updater, Deleter, CollectionDeleter {
  readonly def: ResourceDef;
  readonly kind: { group: string; version: string; kind: string };
  readonly strategy: Strategy;
  readonly table;
  private readonly storage: Storage;
  private readonly admission: AdmissionChain;
  private readonly nameValidator: NameValidator;
  private readonly root: string;
  private readonly subresource: string;
  private readonly now: () => Date;
  private readonly conversion: Conversion | undefined;

  constructor(o: StoreOptions) {
    this.conversion = o.conversion;
    this.def = o.def;
    this.kind = { group: o.def.group, version: o.def.version, kind: o.def.kind };
    this.strategy = o.strategy;
    this.table = o.strategy.table;
    this.storage = o.storage;
    this.admission = o.admission;
    this.nameValidator = o.nameValidator ?? isDNS1123Subdomain;
    this.root = o.keyRoot ?? '/registry';
    this.subresource = o.subresource ?? '';
    this.now = o.now ?? (() => new Date());
  }

  /** The same resource with another strategy, e.g. for /status. */
  withStrategy(strategy: Strategy, subresource: string): Store {
    return new Store({
      def: this.def, strategy, storage: this.storage, admission: this.admission, nameValidator: this.nameValidator,
      keyRoot: this.root, subresource, now: this.now, ...(this.conversion ? { conversion: this.conversion } : {}),
    });
  }

  private attrs(ctx: RequestContext, operation: 'CREATE' | 'UPDATE' | 'DELETE', namespace: string, name: string, object?: KubeObject, oldObject?: KubeObject) {
    return {
      operation, resource: this.def, subresource: this.subresource, namespace, name, user: ctx.user, dryRun: ctx.dryRun,
      ...(object ? { object } : {}), ...(oldObject ? { oldObject } : {}),
    };
  }

  private get gr() { return { group: this.def.group, resource: this.def.plural }; }
  private get gk() { return { group: this.def.group, kind: this.def.kind }; }

  keyFor(namespace: string, name: string): string {
    if (!name || name === '.' || name === '..' || name.includes('/') || name.includes('%')) {
      throw badRequest(`invalid resource name "${name}": may not contain '/', '%' or be '.' or '..'`);
    }
    if (this.def.namespaced) {
      if (!namespace) throw badRequest('namespace is required for a namespaced resource');
      return `${this.root}/${this.def.storagePrefix}/${namespace}/${name}`;
    }
    return `${this.root}/${this.def.storagePrefix}/${name}`;
  }

  private prefixFor(namespace: string): string {
    return this.def.namespaced && namespace
      ? `${this.root}/${this.def.storagePrefix}/${namespace}/`
      : `${this.root}/${this.def.storagePrefix}/`;
  }

  /** Storage errors → API errors (the one translation boundary). */
  private translate(e: unknown, name: string, what: 'get' | 'list' | 'watch' | 'write' = 'write'): unknown {
    if (!isStorageError(e)) return e;
    switch (e.code) {
      case 'KeyNotFound': return notFound(this.gr, name);
      case 'KeyExists': return alreadyExists(this.gr, name);
      case 'Conflict': return conflict(this.gr, name, e.message);
      case 'Expired':
        return what === 'list'
          ? resourceExpired('The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.')
          : resourceExpired(e.message);
      case 'InvalidArgument': return badRequest(e.message);
      case 'TooLarge': return requestEntityTooLarge(`the object is too large to store: ${e.message}`);
      case 'Unreachable': return serviceUnavailable(`storage is unavailable: ${e.message}`);
      // The watch cache did not reach a requested revision in time (upstream NewTooLargeResourceVersionError).
      case 'ResourceVersionTooLarge':
        return new ApiError(504, 'Timeout', `Timeout: ${e.message}`, {
          retryAfterSeconds: 1, causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }],
        });
      case 'Internal': return internalError(e);
    }
  }

  /** A stored object as this endpoint serves it: converted to the served version, with kind and apiVersion. */
  private withKind<T extends KubeObject>(obj: T): T {
    const out = (this.conversion ? this.conversion.fromStorage(obj) : obj) as T;
    out.apiVersion = apiVersionOf(this.def);
    out.kind = this.def.kind;
    return out;
  }

  /** The served object as it is stored. */
  private toStorage(obj: KubeObject): KubeObject {
    return this.conversion ? this.conversion.toStorage(obj) : obj;
  }

  /** Served kind and apiVersion on an object that is already in the served version. */
  private stamp<T extends KubeObject>(obj: T): T {
    obj.apiVersion = apiVersionOf(this.def);
    obj.kind = this.def.kind;
    return obj;
  }

  // ---- selection ---------------------------------------------------------------------

  /** Field values an object exposes to field selectors. */
  fieldsOf(obj: KubeObject): Record<string, string> {
    const base: Record<string, string> = { 'metadata.name': obj.metadata?.name ?? '' };
    if (this.def.namespaced) base['metadata.namespace'] = obj.metadata?.namespace ?? '';
    return { ...base, ...(this.strategy.selectableFields?.(obj) ?? {}) };
  }

  private predicate(labelSelector: string | undefined, fieldSelector: string | undefined): { pred?: Predicate; fields: FieldSelector } {
    const labels: Selector = parseSelector(labelSelector);
    const fields = parseFieldSelector(fieldSelector);
    if (fields.length) {
      // Unsupported field labels are a 400, like upstream.
      const supported = new Set(Object.keys(this.fieldsOf({ metadata: {} })));
      for (const f of fields) {
        if (!supported.has(f.field)) throw badRequest(`field label not supported: ${f.field}`);
      }
    }
    if (!labels.length && !fields.length) return { fields };
    return {
      fields,
      pred: (o: StoredObject) => matches(labels, o.metadata.labels) && fieldsMatch(fields, this.fieldsOf(o)),
    };
  }

  // ---- reads --------------------------------------------------------------------------

  /**
   * Reads one object. `resourceVersion: '0'` accepts any recent state (the watch cache
   * answers); unset reads the latest state from storage.
   */
  async get(ctx: RequestContext, name: string, opts: { resourceVersion?: string } = {}): Promise<StoredObject> {
    try {
      return this.withKind(await this.storage.get(this.keyFor(ctx.namespace, name), opts.resourceVersion ? { resourceVersion: opts.resourceVersion } : {}));
    } catch (e) {
      throw this.translate(e, name, 'get');
    }
  }

  async list(ctx: RequestContext, q: ListQuery): Promise<KubeList> {
    const { pred } = this.predicate(q.labelSelector, q.fieldSelector);
    if (q.limit !== undefined && (!Number.isInteger(q.limit) || q.limit < 0)) throw badRequest(`invalid limit: ${q.limit}`);
    try {
      const res = await this.storage.list(this.prefixFor(ctx.namespace), {
        ...(q.limit ? { limit: q.limit } : {}), ...(q.continue ? { continue: q.continue } : {}),
        ...(q.resourceVersion ? { resourceVersion: q.resourceVersion } : {}),
        ...(q.resourceVersionMatch ? { resourceVersionMatch: q.resourceVersionMatch } : {}),
        ...(pred ? { predicate: pred } : {}),
      });
      return {
        apiVersion: apiVersionOf(this.def), kind: this.def.listKind,
        metadata: {
          resourceVersion: res.resourceVersion,
          ...(res.continue ? { continue: res.continue } : {}),
          ...(res.remainingItemCount !== undefined ? { remainingItemCount: res.remainingItemCount } : {}),
        },
        items: res.items.map((o) => this.withKind(o)),
      };
    } catch (e) {
      throw this.translate(e, '', 'list');
    }
  }

  async watch(ctx: RequestContext, q: WatchQuery): Promise<ApiWatch> {
    const { pred, fields } = this.predicate(q.labelSelector, q.fieldSelector);
    // metadata.name=x narrows the etcd watch to one key.
    const byName = fields.find((f) => f.field === 'metadata.name' && f.op === '=');
    const prefix = byName && (ctx.namespace || !this.def.namespaced) ? this.keyFor(ctx.namespace, byName.value) : this.prefixFor(ctx.namespace);
    const rv = q.resourceVersion === '0' ? undefined : q.resourceVersion;
    let w: StorageWatch;
    try {
      w = await this.storage.watch(prefix, {
        ...(rv ? { resourceVersion: rv } : {}), ...(pred ? { predicate: pred } : {}),
        ...(q.allowWatchBookmarks ? { allowBookmarks: true } : {}),
      });
    } catch (e) {
      throw this.translate(e, '', 'watch');
    }
    let failed: unknown;
    w.done.catch((e: unknown) => { failed = this.translate(e, '', 'watch'); });
    return {
      next: async () => {
        const ev = await w.next();
        if (ev?.type === 'BOOKMARK') {
          return { type: 'BOOKMARK', object: { kind: this.def.kind, apiVersion: apiVersionOf(this.def), metadata: { resourceVersion: ev.object.metadata.resourceVersion } } };
        }
        if (ev) return { type: ev.type, object: this.withKind(ev.object) };
        await w.done.catch(() => undefined);
        if (failed instanceof ApiError) return { type: 'ERROR', object: { ...failed.status } as KubeObject };
        return null;
      },
      stop: () => w.stop(),
    };
  }

  // ---- create -------------------------------------------------------------------------

  /**
   * Creates `input`. A name made from `metadata.generateName` that collides with an existing
   * object is generated again and the whole create (admission included) retried, up to 8
   * attempts in all (upstream RetryGenerateName, GA in 1.32: at tens of thousands of pods a
   * 5-character suffix collides now and then); after the last the client gets the retryable 409.
   */
  async create(ctx: RequestContext, input: KubeObject): Promise<StoredObject> {
    const generated = !input.metadata?.name && !!input.metadata?.generateName;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.createOnce(ctx, input);
      } catch (e) {
        if (!generated || attempt >= MAX_NAME_GENERATION_CREATE_ATTEMPTS || !(e instanceof ApiError) || e.status.reason !== 'AlreadyExists') throw e;
      }
    }
  }

  private async createOnce(ctx: RequestContext, input: KubeObject): Promise<StoredObject> {
    const obj = deepCopy(input);
    const meta = mutableMeta(obj);
    this.checkNamespace(ctx, obj);
    if (!meta.name && meta.generateName) meta.name = generateName(meta.generateName);
    this.fillCreateMeta(obj);
    this.strategy.applyDefaults?.(obj);
    await this.admission.admit(this.attrs(ctx, 'CREATE', meta.namespace ?? '', meta.name ?? '', obj));
    this.strategy.prepareForCreate(obj);
    this.validateCreate(obj);
    await this.admission.validate(this.attrs(ctx, 'CREATE', meta.namespace ?? '', meta.name ?? '', obj));
    this.stamp(obj);
    if (ctx.dryRun) return obj as StoredObject;
    try {
      return this.withKind(await this.storage.create(this.keyFor(meta.namespace ?? '', meta.name!), this.toStorage(obj), this.ttlOption()));
    } catch (e) {
      if (isStorageError(e, 'KeyExists') && input.metadata?.generateName && !input.metadata.name) {
        // upstream: a generated name that collided is a retryable 409 for the client
        throw new ApiError(409, 'AlreadyExists', `${this.def.plural} "${meta.name}" already exists, the server was not able to generate a unique name for the object`,
          { name: meta.name, kind: this.def.plural, group: this.def.group || undefined, retryAfterSeconds: 1 });
      }
      throw this.translate(e, meta.name!);
    }
  }

  private checkNamespace(ctx: RequestContext, obj: KubeObject): void {
    const meta = mutableMeta(obj);
    if (this.def.namespaced) {
      if (meta.namespace && ctx.namespace && meta.namespace !== ctx.namespace) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      meta.namespace = ctx.namespace || meta.namespace;
    } else if (meta.namespace) {
      // upstream clears namespace on cluster-scoped objects
      delete meta.namespace;
    }
  }

  private fillCreateMeta(obj: KubeObject): void {
    const meta = mutableMeta(obj);
    meta.uid = randomUUID();
    meta.creationTimestamp = rfc3339(this.now());
    delete meta.resourceVersion;
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    delete meta.selfLink;
    if (this.strategy.hasGeneration) meta.generation = 1; else delete meta.generation;
  }

  private validateCreate(obj: KubeObject): void {
    const errs: FieldError[] = [
      ...validateObjectMeta(obj.metadata, { namespaced: this.def.namespaced, nameValidator: this.nameValidator }),
      ...this.strategy.validate(obj),
    ];
    if (errs.length) throw invalid(this.gk, obj.metadata?.name ?? '', errs);
  }

  // ---- update -------------------------------------------------------------------------

  async update(ctx: RequestContext, name: string, info: UpdatedObjectInfo, opts: UpdateOptions = {}): Promise<{ object: StoredObject; created: boolean }> {
    const mayCreate = this.strategy.allowCreateOnUpdate || opts.createIfMissing === true;
    const key = this.keyFor(ctx.namespace, name);
    let created = false;
    let dryRunResult: StoredObject | undefined;
    try {
      const out = await this.storage.guaranteedUpdate(key, async (stored) => {
        created = false;
        // the live object in the served version (stored objects may be in another version)
        const existing = stored ? this.withKind(stored) : null;
        const next = deepCopy(await info(existing));
        const meta = mutableMeta(next);
        if (meta.name && meta.name !== name) {
          throw badRequest(`the name of the object (${meta.name}) does not match the name on the URL (${name})`);
        }
        meta.name = name;
        this.checkNamespace(ctx, next);
        if (!existing) {
          if (!mayCreate) throw notFound(this.gr, name);
          // PUT that creates: the create path, inside the same transaction.
          created = true;
          this.fillCreateMeta(next);
          this.strategy.applyDefaults?.(next);
          await this.admission.admit(this.attrs(ctx, 'CREATE', ctx.namespace, name, next));
          this.strategy.prepareForCreate(next);
          this.validateCreate(next);
          await this.admission.validate(this.attrs(ctx, 'CREATE', ctx.namespace, name, next));
          this.stamp(next);
          if (ctx.dryRun) { dryRunResult = next as StoredObject; throw new DryRunDone(); }
          return this.toStorage(next);
        }
        this.checkPreconditions(next, existing, name);
        this.carryOverMeta(next, existing);
        this.strategy.applyDefaults?.(next);
        await this.admission.admit(this.attrs(ctx, 'UPDATE', ctx.namespace, name, next, existing));
        this.strategy.prepareForUpdate(next, existing);
        if (this.strategy.hasGeneration && this.specChanged(next, existing)) {
          meta.generation = (existing.metadata.generation ?? 0) + 1;
        }
        const errs = [...validateObjectMetaUpdate(next.metadata!, existing.metadata), ...this.strategy.validateUpdate(next, existing)];
        if (errs.length) throw invalid(this.gk, name, errs);
        await this.admission.validate(this.attrs(ctx, 'UPDATE', ctx.namespace, name, next, existing));
        this.stamp(next);
        if (ctx.dryRun) {
          dryRunResult = { ...next, metadata: { ...next.metadata, resourceVersion: existing.metadata.resourceVersion } } as StoredObject;
          throw new DryRunDone();
        }
        return this.toStorage(next);
      }, { ignoreNotFound: mayCreate, ...this.ttlOption() });
      const stored = this.withKind(out);
      // The last finalizer of an object being deleted is gone: finish the deletion
      // (upstream ShouldDeleteDuringUpdate: no finalizers and a zero grace period).
      const m = stored.metadata;
      if (m.deletionTimestamp && !(m.finalizers?.length) && (m.deletionGracePeriodSeconds ?? 0) === 0) {
        await this.storage.delete(key, { preconditions: { uid: stored.metadata.uid! } }).catch((e: unknown) => {
          if (!isStorageError(e, 'KeyNotFound')) throw e;
        });
      }
      return { object: stored, created };
    } catch (e) {
      if (e instanceof DryRunDone && dryRunResult) return { object: dryRunResult, created };
      throw this.translate(e, name);
    }
  }

  private ttlOption(): { ttlSeconds?: number } {
    return this.strategy.ttlSeconds ? { ttlSeconds: this.strategy.ttlSeconds } : {};
  }

  private checkPreconditions(next: KubeObject, existing: StoredObject, name: string): void {
    const rv = next.metadata?.resourceVersion;
    if (!rv) {
      if (!this.strategy.allowUnconditionalUpdate) {
        throw invalid(this.gk, name, [field.invalid('metadata.resourceVersion', 0, 'must be specified for an update')]);
      }
    } else if (rv !== existing.metadata.resourceVersion) {
      throw conflict(this.gr, name);
    }
    const uid = next.metadata?.uid;
    if (uid && uid !== existing.metadata.uid) {
      throw conflict(this.gr, name, `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${existing.metadata.uid}`);
    }
  }

  /** System metadata is the server's: clients cannot change it with an update. */
  private carryOverMeta(next: KubeObject, existing: StoredObject): void {
    const meta = mutableMeta(next);
    const old = existing.metadata;
    meta.uid = old.uid;
    meta.creationTimestamp = old.creationTimestamp;
    meta.namespace = old.namespace;
    if (old.deletionTimestamp) meta.deletionTimestamp = old.deletionTimestamp; else delete meta.deletionTimestamp;
    if (old.deletionGracePeriodSeconds !== undefined) meta.deletionGracePeriodSeconds = old.deletionGracePeriodSeconds;
    else delete meta.deletionGracePeriodSeconds;
    if (old.generation !== undefined) meta.generation = old.generation; else delete meta.generation;
    if (!old.namespace) delete meta.namespace;
    delete meta.resourceVersion;
  }

  private specChanged(next: KubeObject, old: KubeObject): boolean {
    const strip = (o: KubeObject) => {
      const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = o;
      return rest;
    };
    return !jsonEqual(strip(next), strip(old));
  }

  // ---- delete -------------------------------------------------------------------------

  async delete(ctx: RequestContext, name: string, opts: DeleteOptions): Promise<{ object: StoredObject; deleted: boolean }> {
    const key = this.keyFor(ctx.namespace, name);
    let existing: StoredObject;
    try {
      existing = this.withKind(await this.storage.get(key));
    } catch (e) {
      throw this.translate(e, name);
    }
    const pre = opts.preconditions ?? {};
    if (pre.uid && pre.uid !== existing.metadata.uid) {
      throw conflict(this.gr, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${existing.metadata.uid}`);
    }
    if (pre.resourceVersion && pre.resourceVersion !== existing.metadata.resourceVersion) {
      throw conflict(this.gr, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${existing.metadata.resourceVersion}`);
    }
    await this.admission.validate(this.attrs(ctx, 'DELETE', ctx.namespace, name, undefined, existing));

    const policy = opts.propagationPolicy ?? (opts.orphanDependents === true ? 'Orphan' : opts.orphanDependents === false ? 'Background' : undefined);
    const addFinalizer = policy === 'Orphan' ? 'orphan' : policy === 'Foreground' ? 'foregroundDeletion' : undefined;
    const grace = this.strategy.gracePeriodSeconds?.(existing, opts.gracePeriodSeconds) ?? 0;
    // Orphan and Foreground are exclusive: the requested one wins.
    const finalizers = new Set(existing.metadata.finalizers ?? []);
    if (addFinalizer) finalizers.add(addFinalizer);

    if (finalizers.size > 0 || grace > 0) {
      // Graceful: mark the object; whoever owns the finalizers (or the kubelet) removes it.
      const mark = (cur: StoredObject): StoredObject => {
        const obj = deepCopy(cur);
        const meta = mutableMeta(obj);
        const fins = new Set(meta.finalizers ?? []);
        if (addFinalizer) fins.add(addFinalizer);
        if (policy === 'Orphan') fins.delete('foregroundDeletion');
        if (policy === 'Foreground') fins.delete('orphan');
        meta.finalizers = [...fins];
        if (!meta.finalizers.length) delete meta.finalizers;
        // A shorter grace period may replace a longer one; never extend.
        if (!meta.deletionTimestamp || (meta.deletionGracePeriodSeconds ?? 0) > grace) {
          meta.deletionTimestamp = rfc3339(new Date(this.now().getTime() + grace * 1000));
          meta.deletionGracePeriodSeconds = grace;
        }
        return obj;
      };
      if (ctx.dryRun) return { object: mark(existing), deleted: false };
      try {
        const marked = await this.storage.guaranteedUpdate(key, (cur) => mark(cur!), { preconditions: { uid: existing.metadata.uid! } });
        return { object: this.withKind(marked), deleted: false };
      } catch (e) {
        throw this.translate(e, name);
      }
    }
    if (ctx.dryRun) return { object: existing, deleted: true };
    try {
      const gone = await this.storage.delete(key, { preconditions: { uid: existing.metadata.uid!, ...(pre.resourceVersion ? { resourceVersion: pre.resourceVersion } : {}) } });
      return { object: this.withKind(gone), deleted: true };
    } catch (e) {
      throw this.translate(e, name);
    }
  }

  /**
   * Read-modify-write of the stored object outside the strategy, for subresources with their
   * own rules (binding, scale, finalize). `fn` must be pure: it may run more than once.
   */
  async mutate(ctx: RequestContext, name: string, fn: (cur: StoredObject) => KubeObject | Promise<KubeObject>): Promise<StoredObject> {
    try {
      const out = await this.storage.guaranteedUpdate(this.keyFor(ctx.namespace, name), async (cur) => {
        const next = this.stamp(await fn(this.withKind(cur!)));
        if (ctx.dryRun) throw new DryRunDone(JSON.stringify(next));
        return this.toStorage(next);
      });
      return this.withKind(out);
    } catch (e) {
      if (e instanceof DryRunDone) return JSON.parse(e.message) as StoredObject;
      throw this.translate(e, name);
    }
  }

  /** Removes an object now, ignoring grace periods (the kubelet's final delete, gracePeriodSeconds=0). */
  async deleteNow(ctx: RequestContext, name: string, uid?: string): Promise<StoredObject> {
    try {
      return this.withKind(await this.storage.delete(this.keyFor(ctx.namespace, name), uid ? { preconditions: { uid } } : {}));
    } catch (e) {
      throw this.translate(e, name);
    }
  }

  async deleteCollection(ctx: RequestContext, opts: DeleteOptions, q: ListQuery): Promise<KubeList> {
    const list = await this.list(ctx, { ...q, limit: 0 });
    const items: KubeObject[] = [];
    for (const o of list.items) {
      try {
        const r = await this.delete({ ...ctx, namespace: o.metadata?.namespace ?? ctx.namespace }, o.metadata!.name!, { ...opts, preconditions: { uid: o.metadata!.uid! } });
        items.push(r.object);
      } catch (e) {
        if (e instanceof ApiError && (e.code === 404 || e.code === 409)) continue;
        throw e;
      }
    }
    return { ...list, items };
  }
}

/** Thrown inside a dry-run transaction to abort it after computing the result. */
export class DryRunDone extends Error {}
