/**
 * The three patch types of PATCH requests. JSON patch (RFC 6902) uses fast-json-patch;
 * merge patch (RFC 7386) is a few lines; strategic merge patch is Kubernetes' own format,
 * for which no JavaScript implementation exists, so it is written in ./strategic.ts from the
 * documented semantics (docs: "Update API Objects in Place Using kubectl patch", and the SMP
 * design proposals).
 */
import fastJsonPatch from 'fast-json-patch';
import { badRequest, field, invalid, isObject, ApiError } from '@tskube/api';

const { applyPatch, JsonPatchError } = fastJsonPatch;
type Operation = fastJsonPatch.Operation;

type Json = unknown;
type JsonObject = Record<string, unknown>;

export function applyJsonPatch(doc: JsonObject, patch: unknown): JsonObject {
  if (!Array.isArray(patch)) throw badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  for (const op of patch) {
    if (!isObject(op) || typeof op.op !== 'string' || typeof op.path !== 'string') throw badRequest('the server rejected our request due to an error in our request');
  }
  try {
    const res = applyPatch(structuredClone(doc), patch as Operation[], true, false);
    const out = res.newDocument;
    if (!isObject(out)) throw badRequest('the patch replaced the whole object with a non-object');
    return out;
  } catch (e) {
    if (e instanceof ApiError) throw e;
    if (e instanceof JsonPatchError) {
      const msg = e.name === 'TEST_OPERATION_FAILED' ? 'the test operation failed' : e.message.split('\n')[0];
      // upstream: 422 for a failed test, 500 "doc is missing path" for a bad path; we give the clearer 422
      throw new ApiError(422, 'Invalid', msg ?? 'invalid JSON patch');
    }
    throw badRequest(`invalid JSON patch: ${(e as Error).message}`);
  }
}

/** RFC 7386: objects merge recursively, null deletes, everything else replaces. */
export function applyMergePatch(doc: Json, patch: Json): Json {
  if (!isObject(patch)) return structuredClone(patch);
  const out: JsonObject = isObject(doc) ? { ...doc } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = applyMergePatch(out[k], v);
  }
  return out;
}

export { applyStrategicMergePatch, goValue, type PatchSchema } from './strategic.js';

/**
 * Upstream's answer when a patched object does not decode (a wrong type anywhere, or unknown
 * fields under fieldValidation=Strict): 422 with one cause on the field `patch`, whose value
 * is the patched object's JSON (JSON and merge patches) or the patch map (`%v`, strategic merge
 * patches): ` "" is invalid: patch: Invalid value: "…": strict decoding error: unknown field "spec.foo"`.
 * Other errors pass through.
 */
export function patchDecodeError(e: unknown, badValue: string): unknown {
  if (!(e instanceof ApiError) || e.code !== 400) return e;
  const detail = e.message.replace(/^.*? cannot be handled as an? [^:]*: /, '');
  return invalid({ group: '', kind: '' }, '', [field.invalid('patch', badValue, detail)]);
}
