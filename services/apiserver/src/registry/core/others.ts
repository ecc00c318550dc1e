/** nodes (+status), namespaces (+status, +finalize), events. */
import {
  defaultNamespace, defaultNode, rfc3339, typed, validateEvent, validateNamespace, validateNode,
  type Event, type KubeObject, type Mutable, type Namespace, type Node, type ResourceDef, type StoredObject,
} from '@tskube/api';
import { eventTable, namespaceTable, nodeTable } from '../../tables/tables.js';
import { keepSpec, keepStatus, plainStrategy, type Strategy } from '../strategy.js';
import type { DeleteOptions, Deleter, Getter, RequestContext, UpdatedObjectInfo, UpdateOptions, Updater } from '../rest.js';
import type { Store } from '../store.js';

export const nodeStrategy: Strategy = {
  applyDefaults: (o) => defaultNode(typed<Node>(o)),
  // Nodes register with their status (the kubelet creates them), so create keeps it.
  prepareForCreate() {},
  prepareForUpdate: keepStatus,
  validate: (o) => validateNode(typed<Node>(o)),
  validateUpdate: (o) => validateNode(typed<Node>(o)),
  hasGeneration: false,
  allowCreateOnUpdate: false,
  allowUnconditionalUpdate: true,
  selectableFields: (o) => ({ 'spec.unschedulable': String(typed<Node>(o).spec?.unschedulable ?? false) }),
  table: nodeTable,
};

export const nodeStatusStrategy: Strategy = { ...nodeStrategy, prepareForUpdate: keepSpec };

export const namespaceStrategy: Strategy = {
  applyDefaults: (o) => defaultNamespace(typed<Namespace>(o)),
  prepareForCreate(o) {
    typed<Mutable<Namespace>>(o).status = { phase: 'Active' };
  },
  prepareForUpdate(o, old) {
    keepStatus(o, old);
    // spec.finalizers change only through /finalize.
    const n = typed<Namespace>(o);
    const prev = typed<Namespace>(old);
    n.spec = { ...n.spec, ...(prev.spec?.finalizers ? { finalizers: prev.spec.finalizers } : {}) };
    if (!prev.spec?.finalizers) delete n.spec.finalizers;
  },
  validate: (o) => validateNamespace(typed<Namespace>(o)),
  validateUpdate: (o) => validateNamespace(typed<Namespace>(o)),
  hasGeneration: false,
  allowCreateOnUpdate: false,
  allowUnconditionalUpdate: true,
  selectableFields: (o) => ({ 'status.phase': typed<Namespace>(o).status?.phase ?? '' }),
  table: namespaceTable,
};

export const namespaceStatusStrategy: Strategy = { ...namespaceStrategy, applyDefaults: undefined, prepareForUpdate: keepSpec };

/**
 * Namespaces are deleted in two steps (upstream namespace REST): DELETE marks the namespace
 * Terminating; the namespace controller empties it and clears spec.finalizers through
 * /finalize; the namespace is removed once no finalizer is left.
 */
export class NamespaceRest {
  constructor(private readonly store: Store) {}

  async delete(ctx: RequestContext, name: string, opts: DeleteOptions): Promise<{ object: KubeObject; deleted: boolean }> {
    const ns = typed<Namespace>(await this.store.get(ctx, name));
    if (!ns.spec?.finalizers?.length && !ns.metadata?.finalizers?.length) return this.store.delete(ctx, name, opts);
    const marked = await this.store.mutate(ctx, name, (cur) => {
      const n = typed<Mutable<Namespace>>(structuredClone(cur));
      if (opts.preconditions?.uid && opts.preconditions.uid !== cur.metadata.uid) return cur;
      const meta = n.metadata as Mutable<NonNullable<Namespace['metadata']>>;
      meta.deletionTimestamp ??= rfc3339();
      meta.deletionGracePeriodSeconds ??= 0;
      n.status = { ...n.status, phase: 'Terminating' };
      return n as unknown as KubeObject;
    });
    return { object: marked, deleted: false };
  }

  /** PUT /finalize: only spec.finalizers is taken from the body. */
  async finalize(ctx: RequestContext, name: string, info: UpdatedObjectInfo): Promise<{ object: KubeObject; created: boolean }> {
    const out = await this.store.mutate(ctx, name, async (cur) => {
      const body = typed<Namespace>(await info(cur));
      const n = typed<Namespace>(structuredClone(cur));
      n.spec = { ...n.spec, finalizers: body.spec?.finalizers ?? [] };
      if (!n.spec.finalizers?.length) delete n.spec.finalizers;
      return n as unknown as KubeObject;
    });
    const n = typed<Namespace>(out);
    if (out.metadata.deletionTimestamp && !n.spec?.finalizers?.length && !out.metadata.finalizers?.length && !ctx.dryRun) {
      await this.store.deleteNow(ctx, name, out.metadata.uid).catch(() => undefined);
    }
    return { object: out, created: false };
  }
}

export function namespaceFinalizeRest(def: ResourceDef, rest: NamespaceRest): Updater {
  return { def, kind: { group: '', version: 'v1', kind: 'Namespace' }, update: (ctx, name, info) => rest.finalize(ctx, name, info) };
}

export function namespaceMainRest(store: Store, rest: NamespaceRest): Store & Deleter {
  return Object.assign(Object.create(store) as Store, { delete: (ctx: RequestContext, name: string, opts: DeleteOptions) => rest.delete(ctx, name, opts) });
}

export const EVENT_TTL_SECONDS = 3600;

export const eventStrategy: Strategy = {
  ...plainStrategy,
  validate: (o) => validateEvent(typed<Event>(o)),
  validateUpdate: (o) => validateEvent(typed<Event>(o)),
  ttlSeconds: EVENT_TTL_SECONDS,
  selectableFields(o) {
    const e = typed<Event>(o);
    const io = e.involvedObject ?? {};
    return {
      'involvedObject.kind': io.kind ?? '', 'involvedObject.namespace': io.namespace ?? '', 'involvedObject.name': io.name ?? '',
      'involvedObject.uid': io.uid ?? '', 'involvedObject.apiVersion': io.apiVersion ?? '',
      'involvedObject.resourceVersion': io.resourceVersion ?? '', 'involvedObject.fieldPath': io.fieldPath ?? '',
      reason: e.reason ?? '', reportingComponent: e.reportingComponent ?? '', source: e.source?.component ?? e.reportingComponent ?? '',
      type: e.type ?? '',
    };
  },
  table: eventTable,
};

/** get + update only (for /status endpoints). */
export function subresourceRest(store: Store): Getter & Updater {
  return {
    def: store.def, kind: store.kind, ...(store.table ? { table: store.table } : {}),
    get: (ctx: RequestContext, name: string): Promise<StoredObject> => store.get(ctx, name),
    update: (ctx: RequestContext, name: string, info: UpdatedObjectInfo, opts?: UpdateOptions) => store.update(ctx, name, info, opts),
  };
}
