/**
 * managedFields across the /scale subresource (upstream managedfields.ScaleHandler): the
 * autoscaling/v1 Scale a client reads carries the parent's owners of the replicas field, and
 * the owners after a scale write go back to the parent, where a scale manager's entry owns the
 * parent's replicas path (with the parent's apiVersion and `subresource: scale`).
 *
 * Callers (scale REST endpoints): `toScaleManagedFields(parent entries)` when building the
 * Scale, `toParentManagedFields(parent entries, scale entries)` when writing the parent back.
 * Both are pure; entries that cannot be decoded are dropped (an empty result means none).
 */
import { FieldSet, fieldPE, type PE } from './fieldpath.js';
import { decodeManagedFields, emptyManaged, encodeManagedFields, type Managed, type ManagedFieldsEntry } from './managed.js';

const SCALE_API_VERSION = 'autoscaling/v1';
const REPLICAS_IN_SCALE: PE[] = [fieldPE('spec'), fieldPE('replicas')];

export interface ScaleMapping {
  /** The parent's apiVersion ("apps/v1"). */
  apiVersion: string;
  /** Where the parent keeps its replicas (default .spec.replicas). */
  replicasPath?: PE[];
}

function decode(entries: unknown): Managed {
  try { return decodeManagedFields(entries); } catch { return emptyManaged(); }
}

/** The Scale's managedFields: parent managers that own the replicas field, moved to the Scale's path and version. */
export function toScaleManagedFields(parentEntries: unknown, mapping: ScaleMapping): ManagedFieldsEntry[] | undefined {
  const path = mapping.replicasPath ?? REPLICAS_IN_SCALE;
  const parent = decode(parentEntries);
  const out = emptyManaged();
  for (const [id, vs] of parent.fields) {
    if (vs.apiVersion !== mapping.apiVersion || !vs.set.has(path)) continue;
    out.fields.set(id, { set: FieldSet.of(REPLICAS_IN_SCALE), apiVersion: SCALE_API_VERSION, applied: vs.applied });
    const t = parent.times.get(id);
    if (t) out.times.set(id, t);
  }
  return encodeManagedFields(out);
}

/** The parent's managedFields after a scale write whose resulting Scale carries `scaleEntries`. */
export function toParentManagedFields(parentEntries: unknown, scaleEntries: unknown, mapping: ScaleMapping): ManagedFieldsEntry[] | undefined {
  const path = mapping.replicasPath ?? REPLICAS_IN_SCALE;
  const parent = decode(parentEntries);
  const scale = decode(scaleEntries);
  const out = emptyManaged();
  const keep = (id: string, vs: Managed['fields'] extends Map<string, infer V> ? V : never) => {
    out.fields.set(id, vs);
    const t = parent.times.get(id);
    if (t) out.times.set(id, t);
  };
  for (const [id, vs] of parent.fields) {
    if (vs.apiVersion !== mapping.apiVersion) continue; // unknown version: dropped like upstream
    if (!vs.set.has(path)) { keep(id, vs); continue; }
    if (!scale.fields.has(id)) {
      // the scale write took the replicas field from this manager
      const set = vs.set.difference(FieldSet.of(path));
      if (!set.isEmpty()) keep(id, { ...vs, set });
    } else {
      keep(id, vs);
      scale.fields.delete(id);
    }
  }
  for (const [id, vs] of scale.fields) {
    if (!vs.set.has(REPLICAS_IN_SCALE)) continue;
    // like upstream, the time comes from the parent's entry (none for a new scale manager)
    keep(id, { set: FieldSet.of(path), apiVersion: mapping.apiVersion, applied: vs.applied });
  }
  return encodeManagedFields(out);
}
