/**
 * Ownership bookkeeping for updates and applies (structured-merge-diff's merge.Updater,
 * written from its documented behaviour):
 *
 * - update: whoever changes a field takes it from everybody else; removed fields leave every
 *   manager; the updater also keeps what it owned before (minus what it removed);
 * - apply: the applier's set becomes exactly the fields of its configuration; the
 *   configuration is merged into the live object; fields it applied last time and dropped
 *   now are removed from the object unless another manager owns them; changing a field
 *   another manager owns is a conflict unless forced (forcing takes the field away from it).
 *
 * Reset fields (`ignored`: status for the main resource, spec for /status) are never owned
 * and never conflict. Managers of other API versions are compared in the request's version
 * (we serve each kind's fields identically in every version we have).
 */
import { FieldSet } from './fieldpath.js';
import { ConflictsError, conflictsFromManagers, type ManagedFields, type VersionedSet } from './managed.js';
import type { SmdType } from './schema.js';
import { compare, deepEqual, ensureNamedFieldsAreMembers, isSame, merge, removeItems, toFieldSet, type Comparison } from './typed.js';

export interface UpdaterContext {
  type: SmdType;
  /** The request's apiVersion ("apps/v1"). */
  version: string;
  /** Fields nobody may own through this endpoint. */
  ignored: FieldSet;
}

function filtered(c: Comparison, ignored: FieldSet): Comparison {
  if (ignored.isEmpty()) return c;
  return { added: c.added.recursiveDifference(ignored), modified: c.modified.recursiveDifference(ignored), removed: c.removed.recursiveDifference(ignored) };
}

/** Takes changed fields from every manager but `workflow`; conflicts unless `force`. Mutates `managers`. */
function takeOwnership(ctx: UpdaterContext, oldObj: unknown, newObj: unknown, managers: ManagedFields, workflow: string, force: boolean): Comparison {
  const c = filtered(compare(oldObj, newObj, ctx.type), ctx.ignored);
  if (isSame(c)) {
    for (const [id, vs] of [...managers]) if (id !== workflow && vs.set.isEmpty()) managers.delete(id);
    return c;
  }
  const changed = c.modified.union(c.added);
  const conflicts = new Map<string, FieldSet>();
  for (const [id, vs] of managers) {
    if (id === workflow) continue;
    const cs = vs.set.intersection(changed);
    if (!cs.isEmpty()) conflicts.set(id, cs);
  }
  if (!force && conflicts.size) throw new ConflictsError(conflictsFromManagers(conflicts));
  for (const [id, vs] of [...managers]) {
    if (id === workflow) continue;
    const set = vs.set.difference(conflicts.get(id) ?? FieldSet.EMPTY).difference(c.removed);
    if (set.isEmpty()) managers.delete(id);
    else if (set !== vs.set) managers.set(id, { ...vs, set });
  }
  return c;
}

/**
 * A non-apply write by `manager` from `liveObj` (`{}` for a create) to `newObj`. Returns the
 * new ownership (a new map).
 */
export function updateManagers(ctx: UpdaterContext, liveObj: unknown, newObj: unknown, managers: ManagedFields, manager: string): ManagedFields {
  const out = new Map(managers);
  const c = takeOwnership(ctx, liveObj, newObj, out, manager, true);
  if (isSame(c)) return out;
  const prev: VersionedSet | undefined = out.get(manager);
  const set = (prev?.set ?? FieldSet.EMPTY).difference(c.removed).union(c.modified).union(c.added).recursiveDifference(ctx.ignored);
  if (set.isEmpty()) out.delete(manager);
  else out.set(manager, { set, apiVersion: ctx.version, applied: false });
  return out;
}

export interface ApplyResult {
  /** The merged object; undefined when it equals the live object. */
  object: unknown;
  managers: ManagedFields;
}

/** Server-side apply of `config` by `manager` onto `liveObj` (`{}` for a create). Throws ConflictsError. */
export function applyManagers(ctx: UpdaterContext, liveObj: unknown, config: unknown, managers: ManagedFields, manager: string, force: boolean): ApplyResult {
  const out = new Map(managers);
  const merged = merge(liveObj, config, ctx.type);
  const lastSet = out.get(manager);
  const set = toFieldSet(config, ctx.type).recursiveDifference(ctx.ignored);
  out.set(manager, { set, apiVersion: ctx.version, applied: true });
  const pruned = prune(ctx, merged, out, lastSet);
  takeOwnership(ctx, liveObj, pruned, out, manager, force);
  if (out.get(manager)?.set.isEmpty()) out.delete(manager);
  return { object: deepEqual(liveObj, pruned) ? undefined : pruned, managers: out };
}

/**
 * Removes what the applier applied last time and no longer applies, unless another manager
 * (or the new configuration) owns it; items that nobody owned and that the applier did not
 * own either stay (upstream prune + addBackOwnedItems + addBackDanglingItems).
 */
function prune(ctx: UpdaterContext, merged: unknown, managers: ManagedFields, lastSet: VersionedSet | undefined): unknown {
  if (!lastSet || lastSet.set.isEmpty()) return merged;
  const t = ctx.type;
  const ens = (s: FieldSet) => ensureNamedFieldsAreMembers(s, t);
  const fieldsOf = (v: unknown) => ens(toFieldSet(v, t, { allowDuplicates: true }));
  let pruned = removeItems(merged, ens(lastSet.set), t);
  // add back what anybody (the applier's new configuration included) owns
  let owned = FieldSet.EMPTY;
  for (const vs of managers.values()) owned = owned.union(vs.set);
  const mergedSet = fieldsOf(merged);
  pruned = removeItems(merged, mergedSet.difference(fieldsOf(pruned).union(ens(owned))), t);
  // add back what the applier did not own (dangling items, fields of updaters)
  return removeItems(merged, mergedSet.difference(fieldsOf(pruned)).intersection(ens(lastSet.set)), t);
}
