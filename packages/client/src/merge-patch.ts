/**
 * JSON Merge Patch (RFC 7386). Hand-written: the algorithm is the ten lines of the RFC's
 * pseudo-code, smaller than any dependency for it.
 */
import { isObject } from '@tskube/api';

/** `target` with `patch` merged in; neither argument is modified. `null` in the patch deletes. */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = applyMergePatch(out[k], v);
  }
  return out;
}
