/**
 * JSON patches (RFC 6902) that change one list entry of an object's metadata and nothing
 * else. Each patch first tests the object's uid and the entry it removes, so it fails (422)
 * instead of removing the wrong entry when the object changed meanwhile, yet it does not
 * conflict with unrelated writes (status updates) the way a resourceVersion precondition
 * would. Upstream uses strategic-merge `$patch: delete` directives for the same purpose.
 */
import type { ObjectMeta } from '@tskube/api';
import type { DeepReadonly, JsonPatchOperation } from '@tskube/client';

type Meta = ObjectMeta | DeepReadonly<ObjectMeta> | undefined;

/**
 * Removes every ownerReference whose uid is in `uids` (the field itself when none is left).
 * Returns undefined when there is nothing to remove.
 */
export function removeOwnerRefsPatch(meta: Meta, uids: ReadonlySet<string>): JsonPatchOperation[] | undefined {
  const refs = meta?.ownerReferences ?? [];
  const idx = refs.map((r, i) => (uids.has(r.uid) ? i : -1)).filter((i) => i >= 0);
  if (!idx.length) return undefined;
  const ops: JsonPatchOperation[] = [{ op: 'test', path: '/metadata/uid', value: meta?.uid ?? '' }];
  for (const i of idx) ops.push({ op: 'test', path: `/metadata/ownerReferences/${i}/uid`, value: refs[i]!.uid });
  if (idx.length === refs.length) {
    ops.push({ op: 'remove', path: '/metadata/ownerReferences' });
  } else {
    for (const i of [...idx].reverse()) ops.push({ op: 'remove', path: `/metadata/ownerReferences/${i}` });
  }
  return ops;
}

/** Removes `finalizer` from metadata.finalizers; undefined when it is not there. */
export function removeFinalizerPatch(meta: Meta, finalizer: string): JsonPatchOperation[] | undefined {
  const fins = meta?.finalizers ?? [];
  const i = fins.indexOf(finalizer);
  if (i < 0) return undefined;
  return [
    { op: 'test', path: '/metadata/uid', value: meta?.uid ?? '' },
    { op: 'test', path: `/metadata/finalizers/${i}`, value: finalizer },
    fins.length === 1 ? { op: 'remove', path: '/metadata/finalizers' } : { op: 'remove', path: `/metadata/finalizers/${i}` },
  ];
}
