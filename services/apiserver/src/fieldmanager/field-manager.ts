/**
 * The FieldManager that tracks metadata.managedFields and performs server-side apply, in the
 * order upstream's default field manager wraps its steps
 * (k8s.io/apimachinery/pkg/util/managedfields/internal):
 *
 *   version check → last-applied updater → last-applied manager → skip-non-applied →
 *   cap managers → manager identifier → managed-fields updater (times) → strip meta →
 *   structured merge (./updater.ts)
 *
 * Contract: `update` never fails the request: when the fields of an object cannot be
 * computed (a list item without its key), the live managedFields are kept, like upstream's
 * UpdateNoErrors. `apply` throws ApiErrors: 400 for a bad configuration, 409 with
 * FieldManagerConflict causes for conflicts. Both return the object to store (the input
 * object may be modified and returned). Neither reads the clock: ctx.now is used.
 */
import { ApiError, apiVersionOf, badRequest, isObject, rfc3339, type GroupVersionKind, type KubeObject } from '@tskube/api';
import type { Logger } from '@tskube/log';
import type { FieldManager, FieldManagerContext } from './index.js';
import { FieldSet, fieldPE, goJson } from './fieldpath.js';
import {
  ConflictsError, applyConflictError, cloneManaged, decodeManagedFields, emptyManaged, encodeManagedFields, isResetManagedFields,
  managerIdentifier, type Managed,
} from './managed.js';
import { SmdSchemas, type SmdType } from './schema.js';
import { TypedValueError, compare, toFieldSet } from './typed.js';
import { applyManagers, updateManagers, type UpdaterContext } from './updater.js';

export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';
/** kubectl's server-side apply manager: the only one whose applies upgrade client-side apply. */
const KUBECTL_SSA_MANAGER = 'kubectl';
const BEFORE_FIRST_APPLY = 'before-first-apply';
const ANCIENT_CHANGES = 'ancient-changes';
const CURRENT_OPERATION = 'current-operation';
/** Upstream's total annotation size limit (256 KiB); a last-applied value beyond it is dropped. */
const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;

/** Fields no manager ever owns (upstream stripMetaManager). */
const STRIPPED = FieldSet.of(
  [fieldPE('apiVersion')], [fieldPE('kind')], [fieldPE('metadata')],
  ...['name', 'namespace', 'creationTimestamp', 'selfLink', 'uid', 'clusterName', 'generation', 'managedFields', 'resourceVersion']
    .map((f) => [fieldPE('metadata'), fieldPE(f)]),
);

export interface StructuredFieldManagerOptions {
  schemas?: SmdSchemas;
  /**
   * Scheme defaults applied to an object written through the main resource before its fields
   * are computed (upstream decodes bodies with defaulting, so updaters own the defaults they
   * did not send). Must be idempotent: the store applies them again.
   */
  defaulter?: (gvk: GroupVersionKind, obj: KubeObject) => void;
  /** Whether a kind has a /status subresource; its main resource then never owns status. */
  hasStatus?: (gvk: GroupVersionKind) => boolean;
  /** Update entries kept before the oldest are merged into "ancient-changes" (upstream: 10). */
  maxUpdateManagers?: number;
  log?: Logger;
}

type ApplyContext = FieldManagerContext & { force: boolean; name?: string };

export class StructuredFieldManager implements FieldManager {
  private readonly schemas: SmdSchemas;
  private readonly maxUpdateManagers: number;

  constructor(private readonly o: StructuredFieldManagerOptions = {}) {
    this.schemas = o.schemas ?? new SmdSchemas();
    this.maxUpdateManagers = o.maxUpdateManagers ?? 10;
  }

  update(next: KubeObject, live: KubeObject | null, ctx: FieldManagerContext): KubeObject {
    const requested = next.metadata?.managedFields;
    if (next.metadata) delete next.metadata.managedFields;
    let managed: Managed;
    if (ctx.subresource) managed = decodeOrEmpty(live?.metadata?.managedFields);
    else if (isResetManagedFields(requested)) managed = emptyManaged();
    else {
      let fromRequest: Managed | undefined;
      try { fromRequest = decodeManagedFields(requested); } catch { fromRequest = undefined; }
      managed = fromRequest && fromRequest.fields.size ? fromRequest : decodeOrEmpty(live?.metadata?.managedFields);
    }
    // (subresource writes keep the live spec; their strategies do not default)
    if (!ctx.subresource) this.o.defaulter?.(ctx.gvk, next);
    // skip-non-applied: an existing object without managed fields stays untracked until an apply
    if (managed.fields.size === 0 && live?.metadata?.uid) return next;
    try {
      const uctx = this.updaterContext(ctx);
      managed = this.recordUpdate(uctx, managed, withoutManagedFields(live) ?? {}, next, managerIdentifier({
        manager: ctx.manager || 'unknown', operation: 'Update', apiVersion: uctx.version, subresource: ctx.subresource,
      }), ctx.now);
    } catch (e) {
      // upstream UpdateNoErrors: keep what the live object had
      this.o.log?.warn('managedFields not updated', { kind: ctx.gvk.kind, name: next.metadata?.name, error: (e as Error).message });
      if (live?.metadata?.managedFields) (next.metadata ??= {}).managedFields = live.metadata.managedFields;
      return next;
    }
    setManagedFields(next, managed, live);
    return next;
  }

  apply(live: KubeObject | null, applied: KubeObject, ctx: ApplyContext): KubeObject {
    const version = apiVersionOf(ctx.gvk);
    if (applied.apiVersion !== version || applied.kind !== ctx.gvk.kind) {
      throw badRequest(`invalid object type: ${gvkString(applied.apiVersion, applied.kind)}`);
    }
    if (applied.metadata?.managedFields !== undefined) throw badRequest('metadata.managedFields must be nil');
    if (ctx.name !== undefined) {
      const objName = applied.metadata?.name ?? live?.metadata?.name ?? '';
      if (objName !== ctx.name) throw badRequest(`the name of the object (${objName}) does not match the name on the URL (${ctx.name})`);
    }
    const uctx = this.updaterContext(ctx);
    const liveObj = withoutManagedFields(live) ?? {};
    let managed: Managed;
    try {
      managed = decodeManagedFields(live?.metadata?.managedFields);
    } catch (e) {
      throw badRequest(`failed to decode managed fields: ${(e as Error).message}`);
    }
    const id = managerIdentifier({ manager: ctx.manager, operation: 'Apply', subresource: ctx.subresource });
    const run = (force: boolean) => this.applyOnce(uctx, managed, liveObj, applied, id, force, ctx);
    let result: { object: KubeObject; managed: Managed };
    try {
      result = run(ctx.force);
    } catch (e) {
      if (!(e instanceof ConflictsError)) throw this.typedError(e, applied, ctx);
      // last-applied manager: kubectl's server-side apply may take over what client-side apply set
      const allowed = ctx.manager === KUBECTL_SSA_MANAGER ? this.allowedByLastApplied(uctx.type, version, liveObj) : undefined;
      if (!allowed) throw applyConflictError(e.conflicts);
      const remaining = e.conflicts.filter((c) => !allowed.has(c.path));
      if (remaining.length) throw applyConflictError(remaining);
      result = run(true);
    }
    const out = result.object;
    // last-applied updater: keep the client-side apply annotation in step with kubectl's applies
    if (ctx.manager === KUBECTL_SSA_MANAGER && out.metadata?.annotations?.[LAST_APPLIED_ANNOTATION]) {
      setLastApplied(out, buildLastApplied(applied));
    }
    setManagedFields(out, result.managed, live);
    return out;
  }

  // ---- steps ------------------------------------------------------------------------------

  private updaterContext(ctx: FieldManagerContext): UpdaterContext {
    return { type: this.schemas.forKind(ctx.gvk), version: apiVersionOf(ctx.gvk), ignored: this.resetFields(ctx) };
  }

  /** Fields a write through this endpoint cannot change (so nobody owns them through it). */
  private resetFields(ctx: FieldManagerContext): FieldSet {
    if (ctx.subresource === '') return this.o.hasStatus?.(ctx.gvk) ? FieldSet.of([fieldPE('status')]) : FieldSet.EMPTY;
    if (ctx.subresource === 'status') {
      const top = this.schemas.topLevelFields(ctx.gvk).filter((f) => !['status', 'metadata', 'apiVersion', 'kind'].includes(f));
      return FieldSet.of(...top.map((f) => [fieldPE(f)]), [fieldPE('metadata'), fieldPE('ownerReferences')], [fieldPE('metadata'), fieldPE('finalizers')]);
    }
    if (ctx.subresource === 'ephemeralcontainers') {
      // upstream podEphemeralContainersStrategy's reset-fields filter: only spec.ephemeralContainers changes
      const top = this.schemas.topLevelFields(ctx.gvk).filter((f) => !['spec', 'metadata', 'apiVersion', 'kind'].includes(f));
      const spec = this.schemas.fieldsAt(ctx.gvk, ['spec']).filter((f) => f !== 'ephemeralContainers');
      const meta = ['labels', 'annotations', 'finalizers', 'ownerReferences'];
      return FieldSet.of(...top.map((f) => [fieldPE(f)]), ...spec.map((f) => [fieldPE('spec'), fieldPE(f)]), ...meta.map((f) => [fieldPE('metadata'), fieldPE(f)]));
    }
    return FieldSet.EMPTY;
  }

  /** managed-fields updater + strip meta + structured merge + cap managers, for one Update. */
  private recordUpdate(uctx: UpdaterContext, managed: Managed, liveObj: KubeObject, next: KubeObject, id: string, now: Date): Managed {
    const fields = updateManagers(uctx, liveObj, next, managed.fields, CURRENT_OPERATION);
    const out: Managed = { fields, times: new Map(managed.times) };
    const cur = fields.get(CURRENT_OPERATION);
    fields.delete(CURRENT_OPERATION);
    const taken = cur?.set.difference(STRIPPED);
    if (cur && taken && !taken.isEmpty()) {
      const prev = fields.get(id);
      fields.set(id, { set: prev ? taken.union(prev.set) : taken, apiVersion: cur.apiVersion, applied: false });
      out.times.set(id, rfc3339(now));
    }
    for (const k of out.times.keys()) if (!fields.has(k)) out.times.delete(k);
    this.capUpdateManagers(out);
    return out;
  }

  private applyOnce(uctx: UpdaterContext, managed0: Managed, liveObj: KubeObject, applied: KubeObject, id: string, force: boolean,
    ctx: FieldManagerContext): { object: KubeObject; managed: Managed } {
    let managed = cloneManaged(managed0);
    if (managed.fields.size === 0) {
      // skip-non-applied: whatever exists before the first apply belongs to "before-first-apply"
      managed = this.recordUpdate(uctx, managed, {}, liveObj, managerIdentifier({
        manager: BEFORE_FIRST_APPLY, operation: 'Update', apiVersion: uctx.version, subresource: ctx.subresource,
      }), ctx.now);
    }
    const r = applyManagers(uctx, liveObj, applied, managed.fields, id, force);
    const mine = r.managers.get(id);
    if (mine) {
      const set = mine.set.difference(STRIPPED);
      if (set.isEmpty()) r.managers.delete(id); else r.managers.set(id, { ...mine, set });
    }
    const out: Managed = { fields: r.managers, times: new Map(managed.times) };
    let object: KubeObject;
    if (r.object !== undefined) {
      out.times.set(id, rfc3339(ctx.now));
      // the merge shares unchanged subtrees with the live object: hand out a copy the store may mutate
      object = (isObject(r.object) ? structuredClone(r.object) : {}) as KubeObject;
    } else object = structuredClone(liveObj);
    for (const k of out.times.keys()) if (!r.managers.has(k)) out.times.delete(k);
    return { object, managed: out };
  }

  /** Merges the oldest Update entries into per-version "ancient-changes" buckets beyond the cap. */
  private capUpdateManagers(m: Managed): void {
    const updaters = [...m.fields.entries()].filter(([, vs]) => !vs.applied).map(([id]) => id);
    if (updaters.length <= this.maxUpdateManagers) return;
    const secs = (id: string) => { const t = m.times.get(id); return t ? Math.floor(Date.parse(t) / 1000) : 0; };
    updaters.sort((a, b) => secs(a) - secs(b) || (a < b ? -1 : a > b ? 1 : 0));
    const firstOfVersion = new Map<string, string>();
    let length = updaters.length;
    for (let i = 0; i < updaters.length && length > this.maxUpdateManagers; i++) {
      const id = updaters[i]!;
      const vs = m.fields.get(id)!;
      const bucket = managerIdentifier({ manager: ANCIENT_CHANGES, operation: 'Update', apiVersion: vs.apiVersion });
      const first = firstOfVersion.get(vs.apiVersion);
      if (first === undefined) { firstOfVersion.set(vs.apiVersion, id); continue; }
      if (!m.fields.has(bucket)) {
        m.fields.set(bucket, m.fields.get(first)!);
        m.fields.delete(first);
        m.times.delete(first);
      }
      m.fields.set(bucket, { set: vs.set.union(m.fields.get(bucket)!.set), apiVersion: vs.apiVersion, applied: false });
      m.fields.delete(id);
      const t = m.times.get(id);
      m.times.delete(id);
      if (t) m.times.set(bucket, t); else m.times.delete(bucket);
      length--;
    }
  }

  /**
   * Fields of the last-applied annotation whose value is still the live one: client-side apply
   * owned them, so kubectl's first server-side apply may take them without a conflict.
   */
  private allowedByLastApplied(t: SmdType, version: string, liveObj: KubeObject): FieldSet | undefined {
    const raw = liveObj.metadata?.annotations?.[LAST_APPLIED_ANNOTATION];
    if (!raw) return undefined;
    try {
      const last: unknown = JSON.parse(raw);
      if (!isObject(last) || last.apiVersion !== version) return undefined;
      const set = toFieldSet(last, t);
      const c = compare(last, liveObj, t);
      return set.difference(c.modified).difference(c.added).difference(c.removed);
    } catch {
      return undefined;
    }
  }

  private typedError(e: unknown, applied: KubeObject, ctx: FieldManagerContext): unknown {
    if (!(e instanceof TypedValueError)) return e;
    const ns = applied.metadata?.namespace ?? ''; const name = applied.metadata?.name ?? '';
    return new ApiError(400, 'BadRequest', `failed to create typed patch object (${ns}/${name}; ${gvkString(apiVersionOf(ctx.gvk), ctx.gvk.kind)}): ${e.message}`);
  }
}

function decodeOrEmpty(entries: unknown): Managed {
  try { return decodeManagedFields(entries); } catch { return emptyManaged(); }
}

/** A shallow copy of the object without metadata.managedFields (null stays null). */
function withoutManagedFields(obj: KubeObject | null): KubeObject | null {
  if (!obj) return null;
  if (!obj.metadata || obj.metadata.managedFields === undefined) return obj;
  const { managedFields: _mf, ...meta } = obj.metadata;
  return { ...obj, metadata: meta };
}

/**
 * Sets the encoded managedFields. Metadata keys are put back in the live object's order (new
 * keys after), so that rewriting an unchanged object yields the same bytes and storage can
 * skip the write.
 */
function setManagedFields(obj: KubeObject, m: Managed, live: KubeObject | null): void {
  const entries = encodeManagedFields(m);
  if (entries) (obj.metadata ??= {}).managedFields = entries as NonNullable<KubeObject['metadata']>['managedFields'];
  else if (obj.metadata) delete obj.metadata.managedFields;
  const liveMeta = live?.metadata;
  if (!obj.metadata || !liveMeta) return;
  const meta = obj.metadata as Record<string, unknown>;
  const ordered: Record<string, unknown> = {};
  for (const k of Object.keys(liveMeta)) if (k in meta) ordered[k] = meta[k];
  for (const k of Object.keys(meta)) if (!(k in ordered)) ordered[k] = meta[k];
  obj.metadata = ordered as KubeObject['metadata'];
}

/** Go's GroupVersionKind.String(): "apps/v1, Kind=ReplicaSet", "/v1, Kind=Pod", "/, Kind=". */
function gvkString(apiVersion: unknown, kind: unknown): string {
  const av = typeof apiVersion === 'string' ? apiVersion : '';
  const i = av.indexOf('/');
  const [group, version] = i >= 0 ? [av.slice(0, i), av.slice(i + 1)] : ['', av];
  return `${group}/${version}, Kind=${typeof kind === 'string' ? kind : ''}`;
}

/** The applied configuration without the annotation itself, as Go's json.Encoder writes it (trailing newline). */
function buildLastApplied(applied: KubeObject): string {
  const copy = structuredClone(applied);
  const ann = copy.metadata?.annotations;
  if (ann && LAST_APPLIED_ANNOTATION in ann) {
    const { [LAST_APPLIED_ANNOTATION]: _l, ...rest } = ann;
    if (Object.keys(rest).length) copy.metadata!.annotations = rest; else delete copy.metadata!.annotations;
  }
  return `${goJson(copy)}\n`;
}

function setLastApplied(obj: KubeObject, value: string): void {
  const meta = (obj.metadata ??= {});
  const annotations: Record<string, string> = { ...(meta.annotations ?? {}), [LAST_APPLIED_ANNOTATION]: value };
  let size = 0;
  for (const [k, v] of Object.entries(annotations)) size += Buffer.byteLength(k) + Buffer.byteLength(v);
  if (size > TOTAL_ANNOTATION_SIZE_LIMIT) delete annotations[LAST_APPLIED_ANNOTATION];
  meta.annotations = annotations;
}
