/**
 * Operations on JSON values of a known SMD type (structured-merge-diff's `typed` package,
 * written here from its documented semantics): the set of fields a value sets, the fields
 * that differ between two values, merging an applied configuration into a live object, and
 * removing a set of fields. Every operation is one walk over the values (linear in their size).
 *
 * A value whose JSON shape does not fit its type (a map where a list is declared) is treated
 * as a single leaf. Lists without keys on their items, or with duplicate keys where these are
 * not allowed, raise a TypedValueError.
 */
import { FieldSet, FieldSetBuilder, fieldPE, keyPE, valuePE, pathString, type PE, type Path } from './fieldpath.js';
import { DEDUCED, type FieldType, type ListType, type SmdType } from './schema.js';

type Obj = Record<string, unknown>;

/** A value that does not fit the structure its schema declares (upstream: typed conversion errors). */
export class TypedValueError extends Error {
  constructor(readonly errors: readonly string[]) {
    super(errors.length === 1 ? errors[0]! : `errors:\n  ${errors.join('\n  ')}`);
    this.name = 'TypedValueError';
  }
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

type Branch = 'map' | 'list' | 'leaf';

/** Which part of a type handles a value (upstream deduceAtom + handleAtom: maps first for null). */
function branch(v: unknown, t: SmdType): Branch {
  if (v === null || v === undefined) return t.map ? 'map' : t.list && !t.scalar ? 'list' : 'leaf';
  if (Array.isArray(v)) return t.list ? 'list' : 'leaf';
  if (typeof v === 'object') return t.map ? 'map' : 'leaf';
  return 'leaf';
}

function fieldOf(t: SmdType, name: string): FieldType {
  const m = t.map!;
  return m.field(name) ?? { type: m.element ?? DEDUCED, valueStruct: false };
}

/** Structural JSON equality (map key order does not matter, list order does). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a); const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    if (!Object.prototype.hasOwnProperty.call(b, k) || !deepEqual((a as Obj)[k], (b as Obj)[k])) return false;
  }
  return true;
}

/**
 * The path element of a list item: its key fields for a map-keyed list, its value for a set.
 * Returns an error message instead for items that cannot be addressed.
 */
export function listItemPE(lt: ListType, item: unknown): PE | string {
  if (lt.relationship !== 'associative') return 'invalid indexing of non-associative list';
  if (lt.keys.length) {
    if (item === null) return 'associative list with keys may not have a null element';
    if (!isObj(item)) return 'associative list with keys may not have non-map elements';
    const fields: [string, unknown][] = [];
    for (const k of lt.keys) {
      if (Object.prototype.hasOwnProperty.call(item, k) && item[k] !== undefined) fields.push([k, item[k]]);
      else {
        const def = lt.element.map?.field(k)?.keyDefault;
        if (def !== undefined) fields.push([k, def]);
      }
    }
    if (!fields.length) {
      return `associative list with keys has an element that omits all key fields ${JSON.stringify(lt.keys).replace(/,/g, ' ')} (and doesn't have default values for any key fields)`;
    }
    return keyPE(fields);
  }
  if (isObj(item)) return 'associative list without keys has an element that\'s a map type';
  if (Array.isArray(item)) return 'not supported: associative list with lists as elements';
  if (item === null) return 'associative list without keys has an element that\'s an explicit null';
  return valuePE(item);
}

function isPE(s: string): boolean {
  return s.length > 1 && s[1] === ':' && (s[0] === 'k' || s[0] === 'v');
}

function itemError(path: Path, i: number, msg: string): string {
  return `${pathString(path)}: element ${i}: ${msg}`;
}

// ---- field sets ------------------------------------------------------------------------------

/**
 * The fields a value sets (upstream TypedValue.ToFieldSet): scalars and atomic lists/maps
 * are leaves; items of granular lists are members along with their content; keys of maps
 * that are not declared struct fields are members; struct fields are members only when null
 * or empty. With `allowDuplicates` false, duplicate list items are an error (applied
 * configurations); otherwise they are owned as one member (live objects).
 */
export function toFieldSet(value: unknown, t: SmdType, opts: { allowDuplicates?: boolean } = {}): FieldSet {
  const b = new FieldSetBuilder();
  const errors: string[] = [];
  const path: PE[] = [];
  const walk = (v: unknown, ty: SmdType): void => {
    const br = branch(v, ty);
    if (br === 'map') {
      const m = ty.map!;
      if (m.atomic) { b.insert(path); return; }
      if (!isObj(v)) return;
      for (const k of Object.keys(v)) {
        const val = v[k];
        if (val === undefined) continue;
        const declared = m.field(k);
        path.push(fieldPE(k));
        walk(val, declared ? declared.type : (m.element ?? DEDUCED));
        if (val === null || (isObj(val) && Object.keys(val).length === 0) || !declared) b.insert(path);
        path.pop();
      }
      return;
    }
    if (br === 'list') {
      const lt = ty.list!;
      if (lt.relationship === 'atomic') { b.insert(path); return; }
      if (!Array.isArray(v)) return;
      const pes: (PE | undefined)[] = [];
      const seen = new Set<PE>(); const dups = new Set<PE>();
      v.forEach((item, i) => {
        const pe = listItemPE(lt, item);
        if (!isPE(pe)) { errors.push(itemError(path, i, pe)); pes.push(undefined); return; }
        pes.push(pe);
        if (seen.has(pe)) {
          if (!opts.allowDuplicates && !dups.has(pe)) errors.push(`${pathString(path)}: duplicate entries for key ${pathString([pe])}`);
          dups.add(pe);
        } else seen.add(pe);
      });
      for (const pe of dups) b.insert([...path, pe]);
      v.forEach((item, i) => {
        const pe = pes[i];
        if (pe === undefined || dups.has(pe)) return;
        path.push(pe);
        walk(item, lt.element);
        b.insert(path);
        path.pop();
      });
      return;
    }
    b.insert(path);
  };
  walk(value, t);
  if (errors.length) throw new TypedValueError(errors);
  return b.build();
}

// ---- comparison --------------------------------------------------------------------------------

export interface Comparison {
  /** Fields set by the new value only. */
  added: FieldSet;
  /** Fields in both whose value differs. */
  modified: FieldSet;
  /** Fields set by the old value only. */
  removed: FieldSet;
}

export function isSame(c: Comparison): boolean {
  return c.added.isEmpty() && c.modified.isEmpty() && c.removed.isEmpty();
}

/** How an absent field exists in a Go typed object whose parent exists: `{}`, null, or not at all. */
function presentAs(f: FieldType): unknown {
  return f.valueStruct ? {} : f.required ? null : undefined;
}

/**
 * What changed from `lhs` to `rhs` (upstream TypedValue.Compare). Inside a struct present on
 * one side, a non-pointer struct field absent there compares as `{}` and a required field
 * (no omitempty upstream) as null, like in Go's typed objects where they always exist; so
 * neither ever counts as added or removed itself. Duplicate list items compare as one
 * atomic item.
 */
export function compare(lhs: unknown, rhs: unknown, t: SmdType): Comparison {
  const added = new FieldSetBuilder(); const modified = new FieldSetBuilder(); const removed = new FieldSetBuilder();
  const errors: string[] = [];
  const path: PE[] = [];

  const leaf = (l: unknown, r: unknown): void => {
    if (l === undefined) added.insert(path);
    else if (r === undefined) removed.insert(path);
    else if (!deepEqual(l, r)) modified.insert(path);
  };

  const cmp = (l: unknown, r: unknown, ty: SmdType): void => {
    const bl = branch(l, ty); const br = branch(r, ty);
    if (l !== undefined && r !== undefined && bl !== br) { leaf(l, r); return; }
    const b = r === undefined ? bl : br;
    let isLeaf = false;
    if (b === 'map') {
      const m = ty.map!;
      const lm = isObj(l) ? l : undefined; const rm = isObj(r) ? r : undefined;
      const lEmpty = !lm || Object.keys(lm).length === 0; const rEmpty = !rm || Object.keys(rm).length === 0;
      if (m.atomic || (lEmpty && rEmpty)) { leaf(l, r); isLeaf = true; }
      else {
        const visit = (k: string, lv: unknown, rv: unknown) => {
          const f = fieldOf(ty, k);
          // Go typed objects always carry non-pointer structs and fields without omitempty
          if (lv === undefined && lm) lv = presentAs(f);
          if (rv === undefined && rm) rv = presentAs(f);
          path.push(fieldPE(k));
          cmp(lv, rv, f.type);
          path.pop();
        };
        if (lm) for (const k of Object.keys(lm)) if (lm[k] !== undefined) visit(k, lm[k], rm?.[k]);
        if (rm) for (const k of Object.keys(rm)) if (rm[k] !== undefined && (!lm || lm[k] === undefined)) visit(k, undefined, rm[k]);
      }
    } else if (b === 'list') {
      const lt = ty.list!;
      const ll = Array.isArray(l) ? l : undefined; const rl = Array.isArray(r) ? r : undefined;
      if (lt.relationship === 'atomic' || (!ll?.length && !rl?.length)) { leaf(l, r); isLeaf = true; }
      else compareItems(lt, ll ?? [], rl ?? []);
    } else { leaf(l, r); isLeaf = true; }
    if (!isLeaf) {
      if (l === undefined) added.insert(path);
      else if (r === undefined) removed.insert(path);
    }
  };

  const index = (lt: ListType, list: unknown[], order: PE[]): Map<PE, unknown[]> => {
    const m = new Map<PE, unknown[]>();
    list.forEach((item, i) => {
      const pe = listItemPE(lt, item);
      if (!isPE(pe)) { errors.push(itemError(path, i, pe)); return; }
      const prev = m.get(pe);
      if (prev) prev.push(item); else { m.set(pe, [item]); order.push(pe); }
    });
    return m;
  };

  const compareItems = (lt: ListType, ll: unknown[], rl: unknown[]): void => {
    const order: PE[] = [];
    const lv = index(lt, ll, order);
    const rOrder: PE[] = [];
    const rv = index(lt, rl, rOrder);
    for (const pe of rOrder) if (!lv.has(pe)) order.push(pe);
    for (const pe of order) {
      const li = lv.get(pe) ?? []; const ri = rv.get(pe) ?? [];
      path.push(pe);
      if (li.length <= 1 && ri.length <= 1) cmp(li[0], ri[0], lt.element);
      else if (li.length >= 2 && ri.length >= 2) { if (!deepEqual(li, ri)) modified.insert(path); }
      else if (li.length >= 2) { if (ri.length) cmp(undefined, ri[0], lt.element); removed.insert(path); }
      else { if (li.length) cmp(li[0], undefined, lt.element); added.insert(path); }
      path.pop();
    }
  };

  cmp(lhs, rhs, t);
  if (errors.length) throw new TypedValueError(errors);
  return { added: added.build(), modified: modified.build(), removed: removed.build() };
}

// ---- merge (apply) -----------------------------------------------------------------------------

/**
 * Merges an applied configuration into a live object (upstream TypedValue.Merge with
 * "keep the right-hand side"): granular maps merge key by key, associative lists item by
 * item (the applied order wins for shared items, live-only items keep their place), leaves
 * and atomic values are taken from the configuration. `undefined` when nothing remains.
 */
export function merge(lhs: unknown, rhs: unknown, t: SmdType): unknown {
  const errors: string[] = [];
  const path: PE[] = [];
  const keep = (l: unknown, r: unknown) => (r !== undefined ? r : l);

  const mg = (l: unknown, r: unknown, ty: SmdType): unknown => {
    if (l === undefined && r === undefined) return undefined;
    const bl = branch(l, ty); const br = branch(r, ty);
    if (l !== undefined && r !== undefined && bl !== br) return keep(l, r);
    const b = r === undefined ? bl : br;
    if (b === 'map') {
      const m = ty.map!;
      const lm = isObj(l) ? l : undefined; const rm = isObj(r) ? r : undefined;
      const lEmpty = !lm || Object.keys(lm).length === 0; const rEmpty = !rm || Object.keys(rm).length === 0;
      if (m.atomic || (lEmpty && rEmpty)) return keep(l, r);
      const out: Obj = {};
      const visit = (k: string, lv: unknown, rv: unknown) => {
        path.push(fieldPE(k));
        const v = mg(lv, rv, fieldOf(ty, k).type);
        path.pop();
        if (v !== undefined) out[k] = v;
      };
      if (lm) for (const k of Object.keys(lm)) visit(k, lm[k], rm?.[k]);
      if (rm) for (const k of Object.keys(rm)) if (!lm || !Object.prototype.hasOwnProperty.call(lm, k)) visit(k, undefined, rm[k]);
      return Object.keys(out).length ? out : undefined;
    }
    if (b === 'list') {
      const lt = ty.list!;
      const ll = Array.isArray(l) ? l : undefined; const rl = Array.isArray(r) ? r : undefined;
      if (lt.relationship === 'atomic' || (!ll?.length && !rl?.length)) return keep(l, r);
      return mergeItems(lt, ll ?? [], rl ?? []);
    }
    return keep(l, r);
  };

  const mergeItems = (lt: ListType, ll: unknown[], rl: unknown[]): unknown[] | undefined => {
    const rPEs: PE[] = []; const observedR = new Map<PE, unknown>();
    rl.forEach((item, i) => {
      const pe = listItemPE(lt, item);
      if (!isPE(pe)) { errors.push(itemError(path, i, pe)); return; }
      if (observedR.has(pe)) { errors.push(`${pathString(path)}: duplicate entries for key ${pathString([pe])}`); return; }
      observedR.set(pe, item); rPEs.push(pe);
    });
    const lPEs: PE[] = []; const lItems: unknown[] = []; const observedL = new Map<PE, unknown>();
    ll.forEach((item, i) => {
      const pe = listItemPE(lt, item);
      if (!isPE(pe)) { errors.push(itemError(path, i, pe)); return; }
      // duplicated live items are not merged with the configuration
      observedL.set(pe, observedL.has(pe) ? undefined : item);
      lPEs.push(pe); lItems.push(item);
    });
    if (errors.length) return undefined;
    const out: unknown[] = [];
    const push = (pe: PE, l: unknown, r: unknown) => {
      path.push(pe);
      const v = mg(l, r, lt.element);
      path.pop();
      if (v !== undefined) out.push(v);
    };
    const shared = rPEs.filter((pe) => observedL.has(pe));
    let sharedAt = 0;
    let nextShared: PE | undefined = shared[sharedAt++];
    const mergedR = new Set<PE>();
    let lI = 0; let rI = 0;
    while (lI < lPEs.length || rI < rPEs.length) {
      if (lI < lPEs.length && rI < rPEs.length) {
        const pe = lPEs[lI]!;
        if (pe === rPEs[rI]) {
          mergedR.add(pe);
          push(pe, observedL.get(pe), observedR.get(pe));
          lI++; rI++;
          nextShared = shared[sharedAt++];
          continue;
        }
        if (observedR.has(pe) && nextShared !== undefined && nextShared !== pe) { lI++; continue; }
      }
      if (lI < lPEs.length) {
        const pe = lPEs[lI]!;
        if (!observedR.has(pe)) { push(pe, lItems[lI], undefined); lI++; continue; }
        if (mergedR.has(pe)) lI++;
      }
      if (rI < rPEs.length) {
        const pe = rPEs[rI]!;
        mergedR.add(pe);
        push(pe, observedL.get(pe), observedR.get(pe));
        rI++;
        if (nextShared === pe) nextShared = shared[sharedAt++];
      }
    }
    return out.length ? out : undefined;
  };

  const out = mg(lhs, rhs, t);
  if (errors.length) throw new TypedValueError(errors);
  return out;
}

// ---- removal ---------------------------------------------------------------------------------

/**
 * The value without the fields of `set` (upstream TypedValue.RemoveItems): a member field or
 * list item is dropped with everything below it; maps and lists left empty disappear.
 * Atomic values are never entered.
 */
export function removeItems(value: unknown, set: FieldSet, t: SmdType): unknown {
  if (set.isEmpty()) return value;
  const rm = (v: unknown, s: FieldSet, ty: SmdType): unknown => {
    const b = branch(v, ty);
    if (b === 'map') {
      if (!isObj(v) || Object.keys(v).length === 0 || ty.map!.atomic) return v;
      const out: Obj = {};
      for (const k of Object.keys(v)) {
        const pe = fieldPE(k);
        if (s.members.has(pe)) continue;
        const sub = s.children.get(pe);
        const val = sub ? rm(v[k], sub, fieldOf(ty, k).type) : v[k];
        if (val !== undefined) out[k] = val;
      }
      return Object.keys(out).length ? out : undefined;
    }
    if (b === 'list') {
      const lt = ty.list!;
      if (!Array.isArray(v) || v.length === 0 || lt.relationship === 'atomic') return v;
      const out: unknown[] = [];
      for (const item of v) {
        const pe = listItemPE(lt, item);
        if (!isPE(pe)) { out.push(item); continue; }
        if (s.members.has(pe)) continue;
        const sub = s.children.get(pe);
        const val = sub ? rm(item, sub, lt.element) : item;
        if (val !== undefined) out.push(val);
      }
      return out.length ? out : undefined;
    }
    return v;
  };
  return rm(value, set, t);
}

/**
 * The set plus every declared struct field that has members below it (upstream
 * EnsureNamedFieldsAreMembers), so that removing a set also removes the structs it owns.
 */
export function ensureNamedFieldsAreMembers(set: FieldSet, t: SmdType): FieldSet {
  if (set.isEmpty()) return set;
  const members = new Set(set.members);
  const children = new Map<PE, FieldSet>();
  for (const [pe, sub] of set.children) {
    let childType: SmdType | undefined;
    if (pe.startsWith('f:') && t.map) {
      const name = pe.slice(2);
      const declared = t.map.field(name);
      if (declared) members.add(pe);
      childType = declared ? declared.type : t.map.element;
    } else if (pe.startsWith('k:') && t.list) {
      childType = t.list.element;
    }
    children.set(pe, ensureNamedFieldsAreMembers(sub, childType ?? DEDUCED));
  }
  return new FieldSet(members, children);
}
