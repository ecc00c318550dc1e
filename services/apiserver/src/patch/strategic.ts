/**
 * Strategic merge patch, applied the way upstream's apiserver applies it
 * (k8s.io/apimachinery/pkg/util/strategicpatch with MergeParallelList and
 * IgnoreUnmatchedNulls), written from the documented format and the design proposals
 * (strategic merge patch; "preserve order in strategic merge patch"):
 *
 * - maps merge key by key; `null` deletes; `$patch: replace` replaces the map with the
 *   patch; `$patch: delete` empties it; `$retainKeys: [..]` first drops every other key of
 *   the original (and the patch may only set keys it lists);
 * - lists whose patch strategy is `merge` merge by `x-kubernetes-patch-merge-key` (items with
 *   `$patch: delete` go, a `$patch: replace` item replaces the list), or as sets for
 *   primitives; `$deleteFromPrimitiveList/<list>` removes primitives; other lists are
 *   replaced;
 * - order: the merged list is ordered by `$setElementOrder/<list>` when given (else by the
 *   patch list) for the items it names, server-only items keep their relative live order,
 *   and the two sequences are interleaved by live order where both are known.
 *
 * Errors are ApiErrors: 400 for malformed directives (upstream's wording), 422 for lists of
 * lists and for patches that set keys outside `$retainKeys`.
 */
import { ApiError, badRequest, isObject } from '@tskube/api';

/** What SMP needs to know about a field: merge key and strategy (from the OpenAPI extensions). */
export interface PatchSchema {
  field(name: string): PatchSchema | undefined;
  /** Array items or map values. */
  elements(): PatchSchema | undefined;
  readonly mergeKey?: string;
  /** 'merge', 'retainKeys', 'merge,retainKeys' or 'replace' (x-kubernetes-patch-strategy). */
  readonly strategy?: string;
}

type JsonObject = Record<string, unknown>;

const DIRECTIVE = '$patch';
const RETAIN_KEYS = '$retainKeys';
const SET_ORDER = '$setElementOrder';
const DELETE_PRIMITIVE = '$deleteFromPrimitiveList';

const ERR_BAD_PRIMITIVE_LIST = 'invalid patch format of primitive list';
const ERR_BAD_RETAIN_KEYS = 'invalid patch format of retainKeys';
const ERR_BAD_SET_ORDER = 'invalid patch format of setElementOrder list';
const ERR_NO_LIST_OF_LISTS = 'lists of lists are not supported';

function unprocessable(message: string): ApiError {
  return new ApiError(422, 'Invalid', message);
}

/** Go's %v for JSON values, for messages that quote a patch (`map[name:a]`). */
export function goValue(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (Array.isArray(v)) return `[${v.map(goValue).join(' ')}]`;
  if (isObject(v)) return `map[${Object.keys(v).sort().map((k) => `${k}:${goValue(v[k])}`).join(' ')}]`;
  return String(v);
}

function goTypeName(v: unknown): string {
  if (v === null || v === undefined) return '%!s(<nil>)';
  if (Array.isArray(v)) return '[]interface {}';
  if (isObject(v)) return 'map[string]interface {}';
  return typeof v === 'number' ? 'float64' : typeof v;
}

function errNoMergeKey(m: JsonObject, key: string): ApiError {
  return badRequest(`map: ${goValue(m)} does not contain declared merge key: ${key}`);
}

/** Strategy of a field without its retainKeys part ('merge', 'replace' or ''). */
function strategyOf(s: PatchSchema | undefined): string {
  const parts = (s?.strategy ?? '').split(',').filter(Boolean);
  if (parts.length > 2) throw badRequest(`unexpected patch strategy: [${parts.join(' ')}]`);
  const rest = parts.filter((p) => p !== 'retainKeys');
  if (parts.length === 2 && rest.length !== 1) throw badRequest(`unexpected patch strategy: [${parts.join(' ')}]`);
  return rest[0] ?? '';
}

function extractKey(key: string, prefix: string): string {
  const i = key.indexOf('/');
  if (i < 0 || key.slice(0, i) !== prefix) throw badRequest(prefix === SET_ORDER ? ERR_BAD_SET_ORDER : ERR_BAD_PRIMITIVE_LIST);
  return key.slice(i + 1);
}

const DROP = Symbol('drop');

/** Removes directives from a value that is added as a whole; a map carrying `$patch` is dropped. */
function removeDirectives(v: unknown): unknown {
  if (Array.isArray(v)) {
    const out: unknown[] = [];
    for (const x of v) { const r = removeDirectives(x); if (r !== DROP) out.push(r); }
    return out;
  }
  if (!isObject(v)) return v;
  if (DIRECTIVE in v) return DROP;
  const out: JsonObject = {};
  for (const [k, x] of Object.entries(v)) {
    // not upstream: other directive keys are dropped too rather than stored as unknown fields
    if (k === RETAIN_KEYS || k.startsWith(SET_ORDER) || k.startsWith(DELETE_PRIMITIVE)) continue;
    const r = removeDirectives(x);
    if (r !== DROP) out[k] = r;
  }
  return out;
}

function discardNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(discardNulls);
  if (!isObject(v)) return v;
  const out: JsonObject = {};
  for (const [k, x] of Object.entries(v)) if (x !== null) out[k] = discardNulls(x);
  return out;
}

type Kind = 'map' | 'list' | 'scalar' | 'null';
const kindOf = (v: unknown): Kind => (v === null || v === undefined ? 'null' : Array.isArray(v) ? 'list' : isObject(v) ? 'map' : 'scalar');

/**
 * Applies a strategic merge patch to a copy of `doc`. Throws ApiError for a malformed patch.
 */
export function applyStrategicMergePatch(doc: JsonObject, patch: unknown, schema: PatchSchema | undefined): JsonObject {
  if (!isObject(patch)) throw badRequest('strategic merge patch must be a JSON object');
  return mergeMap(structuredClone(doc), structuredClone(patch), schema);
}

/** Merges `patch` into `original` (both owned by the caller; both are modified). */
function mergeMap(original: JsonObject, patch: JsonObject, schema: PatchSchema | undefined): JsonObject {
  if (DIRECTIVE in patch) {
    const d = patch[DIRECTIVE];
    if (d === 'replace') {
      delete patch[DIRECTIVE];
      return removeDirectives(patch) as JsonObject;
    }
    if (d === 'delete') return {};
    throw badRequest(`unknown patch type: ${goValue(d)} in map: ${goValue(patch)}`);
  }
  applyRetainKeys(original, patch);
  mergeOrderedLists(original, patch, schema);
  for (const k of Object.keys(patch)) {
    let key = k;
    let isDeleteList = false;
    if (k.startsWith(DELETE_PRIMITIVE)) { key = extractKey(k, DELETE_PRIMITIVE); isDeleteList = true; }
    const pv = patch[k];
    if (pv === null) { delete original[key]; continue; }
    if (!Object.prototype.hasOwnProperty.call(original, key)) {
      if (!isDeleteList) {
        const r = removeDirectives(discardNulls(pv));
        if (r !== DROP) original[key] = r;
      }
      continue;
    }
    const ov = original[key];
    const ok = kindOf(ov); const pk = kindOf(pv);
    if (ok !== pk || (ok === 'scalar' && typeof ov !== typeof pv)) {
      if (!isDeleteList) {
        const r = removeDirectives(discardNulls(pv));
        if (r === DROP) delete original[key]; else original[key] = r;
      }
      continue;
    }
    if (ok === 'map') {
      const sub = schema?.field(key) ?? schema?.elements();
      original[key] = strategyOf(sub) === 'replace' ? removeDirectives(pv) : mergeMap(ov as JsonObject, pv as JsonObject, sub);
    } else if (ok === 'list') {
      original[key] = mergeSliceHandler(ov as unknown[], pv as unknown[], schema?.field(key), isDeleteList);
    } else {
      const r = removeDirectives(pv);
      if (r === DROP) delete original[key]; else original[key] = r;
    }
  }
  return original;
}

/** `$retainKeys`: drop every original key it does not list; the patch may only set listed keys. */
function applyRetainKeys(original: JsonObject, patch: JsonObject): void {
  if (!(RETAIN_KEYS in patch)) return;
  const retain = patch[RETAIN_KEYS];
  delete patch[RETAIN_KEYS];
  if (!Array.isArray(retain)) throw badRequest(ERR_BAD_RETAIN_KEYS);
  const keep = new Set(retain.filter((x): x is string => typeof x === 'string'));
  for (const [k, v] of Object.entries(patch)) {
    if (v === null || k.startsWith(DELETE_PRIMITIVE) || k.startsWith(SET_ORDER)) continue;
    if (!keep.has(k)) throw badRequest(ERR_BAD_RETAIN_KEYS);
  }
  for (const k of Object.keys(original)) if (!keep.has(k)) delete original[k];
}

function mergeSliceHandler(original: unknown[], patch: unknown[], listSchema: PatchSchema | undefined, isDeleteList: boolean): unknown[] {
  if (strategyOf(listSchema) === 'merge' || isDeleteList) {
    return mergeSlice(original, patch, listSchema?.elements(), listSchema?.mergeKey ?? '', isDeleteList);
  }
  return removeDirectives(patch) as unknown[];
}

/** The kind shared by the elements of the lists; lists of lists are refused. */
function elementKind(...lists: unknown[][]): Kind | undefined {
  let kind: Kind | undefined;
  let type: string | undefined;
  for (const l of lists) {
    for (const v of l) {
      const k = kindOf(v);
      const t = k === 'scalar' ? typeof v : k;
      if (kind === undefined) {
        if (k === 'list') throw unprocessable(ERR_NO_LIST_OF_LISTS);
        kind = k; type = t;
      } else if (t !== type) {
        throw badRequest(`list element types are not identical: [${lists.map(goValue).join(' ')}]`);
      }
    }
  }
  return kind;
}

function keyOf(item: unknown, mergeKey: string, isMap: boolean): unknown {
  return isMap ? (item as JsonObject)[mergeKey] : item;
}

function indexIn(list: unknown[], item: unknown, mergeKey: string, isMap: boolean): number {
  const k = keyOf(item, mergeKey, isMap);
  for (let i = 0; i < list.length; i++) {
    const x = list[i];
    if (isMap && !isObject(x)) continue;
    if (keyOf(x, mergeKey, isMap) === k) return i;
  }
  return -1;
}

function mergeSlice(original: unknown[], patch: unknown[], elemSchema: PatchSchema | undefined, mergeKey: string, isDeleteList: boolean): unknown[] {
  if (original.length === 0 && patch.length === 0) return original;
  const kind = elementKind(original, patch);
  const isMap = kind === 'map';
  let merged: unknown[];
  if (!isMap) {
    if (isDeleteList) return original.filter((x) => !patch.includes(x));
    merged = [];
    for (const x of [...original, ...patch]) if (!merged.includes(x)) merged.push(x);
  } else {
    if (!mergeKey) throw badRequest('cannot merge lists without merge key');
    let patchItems: JsonObject[] = [];
    let replace = false;
    for (const v of patch as JsonObject[]) {
      if (!(DIRECTIVE in v)) { patchItems.push(v); continue; }
      const d = v[DIRECTIVE];
      if (d === 'delete') {
        if (!(mergeKey in v)) throw errNoMergeKey(v, mergeKey);
        original = original.filter((x) => !(isObject(x) && x[mergeKey] === v[mergeKey]));
      } else if (d === 'replace') replace = true;
      else if (d === 'merge') throw badRequest('merging lists cannot yet be specified in the patch');
      else throw badRequest(`unknown patch type: ${goValue(d)} in map: ${goValue(v)}`);
    }
    if (replace) { original = patchItems.map((x) => removeDirectives(x)); patchItems = []; patch = []; }
    merged = [...original];
    for (const v of patchItems) {
      if (!(mergeKey in v)) throw errNoMergeKey(v, mergeKey);
      const i = merged.findIndex((x) => isObject(x) && x[mergeKey] === v[mergeKey]);
      if (i >= 0) merged[i] = mergeMap(merged[i] as JsonObject, v, elemSchema);
      else { const r = removeDirectives(v); if (r !== DROP) merged.push(r); }
    }
  }
  const [inPatch, serverOnly] = partition(merged, patch, mergeKey, isMap);
  return normalizeElementOrder(inPatch, serverOnly, patch, original, mergeKey, isMap);
}

/** Splits items into those present in `by` (by merge key or value) and the rest. */
function partition(items: unknown[], by: unknown[], mergeKey: string, isMap: boolean): [unknown[], unknown[]] {
  const inBy: unknown[] = []; const rest: unknown[] = [];
  for (const v of items) {
    if (isMap) {
      if (!isObject(v)) throw badRequest(`expected a map[string]interface {}, but received a ${goTypeName(v)}`);
      if (!(mergeKey in v)) throw errNoMergeKey(v, mergeKey);
    }
    (indexIn(by, v, mergeKey, isMap) >= 0 ? inBy : rest).push(v);
  }
  return [inBy, rest];
}

/**
 * Orders the patch items by `patchOrder` and the server-only items by `serverOrder`, then
 * interleaves them: a server-only item goes before the next patch item when the live order
 * puts it first (upstream normalizeElementOrder + mergeSortedSlice).
 */
function normalizeElementOrder(patchItems: unknown[], serverOnly: unknown[], patchOrder: unknown[], serverOrder: unknown[], mergeKey: string, isMap: boolean): unknown[] {
  const right = sortByOrder(patchItems, patchOrder, mergeKey, isMap);
  const left = sortByOrder(serverOnly, serverOrder, mergeKey, isMap);
  const out: unknown[] = [];
  let i = 0; let j = 0;
  while (i < left.length || j < right.length) {
    if (i >= left.length) out.push(right[j++]);
    else if (j >= right.length) out.push(left[i++]);
    else {
      const li = indexIn(serverOrder, left[i], mergeKey, isMap);
      const ri = indexIn(serverOrder, right[j], mergeKey, isMap);
      if (li >= 0 && ri >= 0 && li < ri) out.push(left[i++]);
      else out.push(right[j++]);
    }
  }
  return out;
}

function sortByOrder(items: unknown[], order: unknown[], mergeKey: string, isMap: boolean): unknown[] {
  let keepers = items;
  let deletes: unknown[] = [];
  if (isMap) {
    for (const v of [...items, ...order]) {
      if (!isObject(v)) throw badRequest(`expected a map[string]interface {}, but received a ${goTypeName(v)}`);
      if (!(mergeKey in v)) throw errNoMergeKey(v, mergeKey);
    }
    keepers = items.filter((v) => (v as JsonObject)[DIRECTIVE] !== 'delete');
    deletes = items.filter((v) => (v as JsonObject)[DIRECTIVE] === 'delete');
  }
  const pos = (v: unknown) => { const i = indexIn(order, v, mergeKey, isMap); return i < 0 ? Number.MAX_SAFE_INTEGER : i; };
  return [...keepers.map((v, i) => ({ v, i, p: pos(v) })).sort((a, b) => a.p - b.p || a.i - b.i).map((x) => x.v), ...deletes];
}

/** `$setElementOrder/<list>`: merge that list now and order it as the directive says. */
function mergeOrderedLists(original: JsonObject, patch: JsonObject, schema: PatchSchema | undefined): void {
  for (const key of Object.keys(patch)) {
    if (!key.startsWith(SET_ORDER)) continue;
    const order = patch[key];
    delete patch[key];
    if (!Array.isArray(order)) throw badRequest(`expected a []interface {}, but received a ${goTypeName(order)}`);
    const listKey = extractKey(key, SET_ORDER);
    const hasOriginal = Object.prototype.hasOwnProperty.call(original, listKey);
    const hasPatch = Object.prototype.hasOwnProperty.call(patch, listKey);
    const ov = original[listKey]; const pv = patch[listKey];
    if (hasOriginal && !Array.isArray(ov)) throw badRequest(`expected a []interface {}, but received a ${goTypeName(ov)}`);
    if (hasPatch && !Array.isArray(pv)) throw badRequest(`expected a []interface {}, but received a ${goTypeName(pv)}`);
    const originalList = (hasOriginal ? ov : []) as unknown[];
    const patchList = (hasPatch ? pv : []) as unknown[];
    const listSchema = schema?.field(listKey);
    const mergeKey = listSchema?.mergeKey ?? '';
    validateSetOrder(patchList, order, mergeKey);
    let merged: unknown[];
    if (hasOriginal && !hasPatch) merged = originalList;
    else if (!hasOriginal && hasPatch) merged = removeDirectives(patchList) as unknown[];
    else if (hasOriginal && hasPatch) merged = mergeSliceHandler(originalList, patchList, listSchema, false);
    else continue;
    const kind = elementKind(originalList, patchList);
    if (kind === undefined) { original[listKey] = merged; delete patch[listKey]; continue; }
    const isMap = mergeKey !== '' && kind === 'map';
    const [inOrder, serverOnly] = partition(merged, order, mergeKey, isMap);
    original[listKey] = normalizeElementOrder(inOrder, serverOnly, order, originalList, mergeKey, isMap);
    delete patch[listKey];
  }
}

/** The patch list's items (deletions aside) must appear in `$setElementOrder` in the same relative order. */
function validateSetOrder(patchList: unknown[], order: unknown[], mergeKey: string): void {
  if (patchList.length === 0 || order.length === 0) return;
  const items = mergeKey ? patchList.filter((v) => {
    if (!isObject(v)) throw badRequest(`expected a map[string]interface {}, but received a ${goTypeName(v)}`);
    return v[DIRECTIVE] !== 'delete';
  }) : patchList;
  let pi = 0; let si = 0;
  while (pi < items.length && si < order.length) {
    const p = items[pi];
    if (isObject(p) && DIRECTIVE in p) { pi++; continue; }
    let equal: boolean;
    if (!mergeKey) equal = p === order[si];
    else {
      const o = order[si];
      if (!isObject(p)) throw badRequest(`expected a map[string]interface {}, but received a ${goTypeName(p)}`);
      if (!isObject(o)) throw badRequest(`expected a map[string]interface {}, but received a ${goTypeName(o)}`);
      if (!(mergeKey in p)) throw errNoMergeKey(p, mergeKey);
      if (!(mergeKey in o)) throw errNoMergeKey(o, mergeKey);
      equal = p[mergeKey] === o[mergeKey];
    }
    if (equal) pi++;
    si++;
  }
  if (pi < items.length && si >= order.length) {
    throw badRequest(`The order in patch list:\n${goValue(patchList)}\n doesn't match ${SET_ORDER} list:\n${goValue(order)}\n`);
  }
}
