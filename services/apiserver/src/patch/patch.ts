/**
 * The three patch types of PATCH requests. JSON patch (RFC 6902) uses fast-json-patch;
 * merge patch (RFC 7386) is a few lines; strategic merge patch is Kubernetes' own format,
 * for which no JavaScript implementation exists, so it is written here from the documented
 * semantics (docs: "Update API Objects in Place Using kubectl patch", and the SMP design doc).
 */
import fastJsonPatch from 'fast-json-patch';
import { badRequest, isObject, ApiError } from '@tskube/api';

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

/** What SMP needs to know about a field: merge key and strategy (from the OpenAPI extensions). */
export interface PatchSchema {
  field(name: string): PatchSchema | undefined;
  /** Array items or map values. */
  elements(): PatchSchema | undefined;
  readonly mergeKey?: string;
  /** 'merge', 'retainKeys', 'merge,retainKeys' or 'replace' (x-kubernetes-patch-strategy). */
  readonly strategy?: string;
}

const DIRECTIVE = '$patch';
const RETAIN_KEYS = '$retainKeys';
const SET_ORDER = '$setElementOrder/';
const DELETE_PRIMITIVE = '$deleteFromPrimitiveList/';

/**
 * Applies a strategic merge patch. Lists whose schema declares patch strategy "merge" are
 * merged by their merge key (or as sets for primitive lists); other lists are replaced.
 * Directives: `$patch: replace|delete|merge`, `$retainKeys`, `$setElementOrder/<list>`,
 * `$deleteFromPrimitiveList/<list>`; null deletes a field.
 */
export function applyStrategicMergePatch(doc: JsonObject, patch: unknown, schema: PatchSchema | undefined): JsonObject {
  if (!isObject(patch)) throw badRequest('strategic merge patch must be a JSON object');
  const out = mergeMap(doc, patch, schema);
  if (out === undefined) throw badRequest('the patch deleted the whole object');
  return out;
}

function mergeMap(original: JsonObject | undefined, patch: JsonObject, schema: PatchSchema | undefined): JsonObject | undefined {
  const directive = patch[DIRECTIVE];
  if (directive === 'delete') return undefined;
  if (directive === 'replace') {
    const { [DIRECTIVE]: _d, ...rest } = patch;
    return stripDirectives(rest) as JsonObject;
  }
  if (directive !== undefined && directive !== 'merge') throw badRequest(`Unknown patch type: ${String(directive)}`);
  let out: JsonObject = { ...(original ?? {}) };
  const retain = patch[RETAIN_KEYS];
  if (retain !== undefined) {
    if (!Array.isArray(retain)) throw badRequest('$retainKeys must be a list');
    const keep = new Set(retain.map(String));
    out = Object.fromEntries(Object.entries(out).filter(([k]) => keep.has(k)));
  }
  const orders: [string, unknown[]][] = [];
  for (const [k, v] of Object.entries(patch)) {
    if (k === DIRECTIVE || k === RETAIN_KEYS) continue;
    if (k.startsWith(SET_ORDER)) {
      if (!Array.isArray(v)) throw badRequest(`${k} must be a list`);
      orders.push([k.slice(SET_ORDER.length), v]);
      continue;
    }
    if (k.startsWith(DELETE_PRIMITIVE)) {
      const f = k.slice(DELETE_PRIMITIVE.length);
      if (!Array.isArray(v)) throw badRequest(`${k} must be a list`);
      const cur = out[f];
      if (Array.isArray(cur)) out[f] = cur.filter((x) => !v.some((d) => jsonSame(d, x)));
      continue;
    }
    const sub = schema?.field(k);
    if (v === null) { delete out[k]; continue; }
    if (isObject(v)) {
      const cur = out[k];
      // Maps with no schema, or with one: both merge; a map value of a typed map uses elements().
      const merged = mergeMap(isObject(cur) ? cur : undefined, v, sub ?? schema?.elements());
      if (merged === undefined) delete out[k]; else out[k] = merged;
      continue;
    }
    if (Array.isArray(v)) {
      out[k] = mergeList(out[k], v, sub);
      continue;
    }
    out[k] = v;
  }
  for (const [f, order] of orders) {
    const cur = out[f];
    if (Array.isArray(cur)) out[f] = applyOrder(cur, order, schema?.field(f)?.mergeKey);
  }
  return out;
}

function mergeList(original: unknown, patch: unknown[], schema: PatchSchema | undefined): unknown[] {
  const strategy = schema?.strategy ?? '';
  const merge = strategy.split(',').includes('merge');
  const orig = Array.isArray(original) ? original : [];
  if (!merge) {
    // Replace, but honour a whole-list `$patch: replace` element and drop directives.
    return patch.filter((e) => !(isObject(e) && e[DIRECTIVE] === 'replace')).map(stripDirectives);
  }
  const key = schema?.mergeKey;
  if (!key || patch.some((e) => !isObject(e))) {
    // Primitive list with merge strategy: a set union.
    const out = [...orig];
    for (const e of patch) if (!out.some((x) => jsonSame(x, e))) out.push(e);
    return out;
  }
  if (patch.some((e) => isObject(e) && e[DIRECTIVE] === 'replace')) {
    return patch.filter((e) => !(isObject(e) && e[DIRECTIVE] === 'replace')).map(stripDirectives);
  }
  const out = orig.map((e) => e);
  const elemSchema = schema?.elements();
  for (const e of patch as JsonObject[]) {
    const k = e[key];
    const i = out.findIndex((x) => isObject(x) && jsonSame(x[key], k));
    if (e[DIRECTIVE] === 'delete') {
      if (i >= 0) out.splice(i, 1);
      continue;
    }
    if (i >= 0) {
      const merged = mergeMap(out[i] as JsonObject, e, elemSchema);
      if (merged === undefined) out.splice(i, 1); else out[i] = merged;
    } else {
      out.push(stripDirectives(e));
    }
  }
  return out;
}

/** Orders a merged list as `$setElementOrder` says; elements it does not name keep their relative order after. */
function applyOrder(list: unknown[], order: unknown[], mergeKey: string | undefined): unknown[] {
  const keyOf = (x: unknown) => (mergeKey && isObject(x) ? x[mergeKey] : x);
  const wanted = order.map((o) => (mergeKey && isObject(o) ? o[mergeKey] : o));
  const ordered: unknown[] = [];
  const rest: unknown[] = [];
  for (const x of list) (wanted.some((w) => jsonSame(w, keyOf(x))) ? ordered : rest).push(x);
  ordered.sort((a, b) => wanted.findIndex((w) => jsonSame(w, keyOf(a))) - wanted.findIndex((w) => jsonSame(w, keyOf(b))));
  return [...ordered, ...rest];
}

function stripDirectives(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripDirectives);
  if (!isObject(v)) return v;
  const out: JsonObject = {};
  for (const [k, x] of Object.entries(v)) {
    if (k === DIRECTIVE || k === RETAIN_KEYS || k.startsWith(SET_ORDER) || k.startsWith(DELETE_PRIMITIVE)) continue;
    out[k] = stripDirectives(x);
  }
  return out;
}

function jsonSame(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
