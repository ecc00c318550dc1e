/**
 * Field paths and field sets in upstream's FieldsV1 form (sigs.k8s.io/structured-merge-diff
 * `fieldpath`), written from its documented format:
 *
 * - a path element (PE) is kept as its serialized string, which is also its FieldsV1 key:
 *   `f:<name>` a field of a map or struct, `k:{"name":"c"}` the item of a map-keyed list
 *   (key fields sorted by name), `v:"x"` the item of a set, `i:3` an index (atomic lists
 *   never need one; only duplicates do);
 * - a FieldSet is a tree: `members` are the PEs that belong to the set at this level,
 *   `children` the PEs under which deeper members exist. A PE can be both (FieldsV1 writes
 *   the member as `".": {}` inside the child object).
 *
 * Sets are values: every operation returns a new set and leaves its inputs alone; children
 * are never empty. Serialization orders PEs like upstream (fields, then keys, then values,
 * then indices; each group by its own order) so that managedFields read the same.
 */

/** A serialized path element (`f:name`, `k:{…}`, `v:…`, `i:N`). */
export type PE = string;
export type Path = readonly PE[];

// ---- JSON like Go's encoding/json ------------------------------------------------------

/**
 * JSON as Go's encoding/json writes it for `map[string]interface{}` values: object keys
 * sorted, `<`, `>`, `&`, U+2028 and U+2029 escaped. Used where upstream's bytes are visible
 * (key and value path elements, the last-applied annotation).
 */
export function goJson(v: unknown): string {
  if (typeof v === 'string') return escapeHtml(JSON.stringify(v));
  if (typeof v === 'number' || typeof v === 'boolean') return JSON.stringify(v);
  return escapeHtml(JSON.stringify(sortKeys(v)) ?? 'null');
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (typeof v !== 'object' || v === null) return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v).sort()) out[k] = sortKeys((v as Record<string, unknown>)[k]);
  return out;
}

function escapeHtml(s: string): string {
  return /[<>&\u2028\u2029]/.test(s)
    ? s.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
    : s;
}

// ---- path elements -----------------------------------------------------------------------

export const fieldPE = (name: string): PE => `f:${name}`;
export const indexPE = (i: number): PE => `i:${i}`;
export const valuePE = (v: unknown): PE => `v:${goJson(v)}`;

/** A map-keyed list item; `fields` in any order (they are sorted by name). */
export function keyPE(fields: ReadonlyArray<readonly [string, unknown]>): PE {
  const sorted = [...fields].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `k:{${sorted.map(([n, v]) => `${goJson(n)}:${goJson(v)}`).join(',')}}`;
}

/** A parsed path element; `undefined` for a PE of an unknown type (upstream drops those). */
export type ParsedPE =
  | { type: 'field'; name: string }
  | { type: 'key'; fields: [string, unknown][] }
  | { type: 'value'; value: unknown }
  | { type: 'index'; index: number };

/**
 * Bounded memo tables: the same path elements recur on every write of an object (container
 * names, ports), so parsing and canonicalizing them once keeps field-set work linear and
 * cheap. Dropped wholesale when full.
 */
const MEMO_LIMIT = 20_000;
function memo<V>(table: Map<string, V>, key: string, compute: (k: string) => V): V {
  let v = table.get(key);
  if (v === undefined && !table.has(key)) {
    v = compute(key);
    if (table.size >= MEMO_LIMIT) table.clear();
    table.set(key, v);
  }
  return v as V;
}
const parsed = new Map<string, ParsedPE | undefined>();
/** FieldsV1 text → set, and back (only for sets read from FieldsV1; see FieldSet.fromFieldsV1). */
const decoded = new Map<string, FieldSet>();
const encoded = new WeakMap<FieldSet, string>();
const canonical = new Map<string, PE | undefined>();

/** Parses a serialized PE; throws Error for a malformed one, returns undefined for an unknown type. */
export function parsePE(pe: string): ParsedPE | undefined {
  if (pe.startsWith('f:')) return { type: 'field', name: pe.slice(2) };
  return memo(parsed, pe, parsePEUncached);
}

function parsePEUncached(pe: string): ParsedPE | undefined {
  if (pe.length < 2 || pe[1] !== ':') throw new Error(`invalid path element ${JSON.stringify(pe)}`);
  const body = pe.slice(2);
  switch (pe[0]) {
    case 'f': return { type: 'field', name: body };
    case 'k': {
      const v: unknown = JSON.parse(body);
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`invalid key path element ${JSON.stringify(pe)}`);
      const fields = Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return { type: 'key', fields };
    }
    case 'v': return { type: 'value', value: JSON.parse(body) as unknown };
    case 'i': {
      if (!/^-?\d+$/.test(body)) throw new Error(`invalid index path element ${JSON.stringify(pe)}`);
      return { type: 'index', index: Number(body) };
    }
    default: return undefined;
  }
}

/** The canonical form of a PE read from a client (keys sorted, values re-encoded); undefined: unknown type. */
export function canonicalPE(pe: string): PE | undefined {
  if (pe.startsWith('f:')) return pe;
  return memo(canonical, pe, canonicalUncached);
}

function canonicalUncached(pe: string): PE | undefined {
  const p = parsePEUncached(pe);
  if (!p) return undefined;
  switch (p.type) {
    case 'field': return fieldPE(p.name);
    case 'key': return keyPE(p.fields);
    case 'value': return valuePE(p.value);
    case 'index': return indexPE(p.index);
  }
}

const TYPE_RANK: Record<string, number> = { f: 0, k: 1, v: 2, i: 3 };

function strCompare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Upstream's total order of JSON values: numbers < strings < booleans < lists < maps < null. */
export function compareValues(a: unknown, b: unknown): number {
  const rank = (v: unknown) => (typeof v === 'number' ? 0 : typeof v === 'string' ? 1 : typeof v === 'boolean' ? 2 : Array.isArray(v) ? 3 : v !== null && typeof v === 'object' ? 4 : 5);
  const ra = rank(a); const rb = rank(b);
  if (ra !== rb) return ra - rb;
  switch (ra) {
    case 0: return (a as number) - (b as number) < 0 ? -1 : (a as number) === (b as number) ? 0 : 1;
    case 1: return strCompare(a as string, b as string);
    case 2: return a === b ? 0 : a ? 1 : -1;
    case 3: {
      const la = a as unknown[]; const lb = b as unknown[];
      for (let i = 0; i < Math.min(la.length, lb.length); i++) {
        const c = compareValues(la[i], lb[i]);
        if (c) return c;
      }
      return la.length - lb.length < 0 ? -1 : la.length === lb.length ? 0 : 1;
    }
    case 4: {
      const ea = Object.entries(a as object).sort(([x], [y]) => strCompare(x, y));
      const eb = Object.entries(b as object).sort(([x], [y]) => strCompare(x, y));
      return compareFieldLists(ea, eb);
    }
    default: return 0;
  }
}

function compareFieldLists(a: [string, unknown][], b: [string, unknown][]): number {
  for (let i = 0; ; i++) {
    if (i >= a.length && i >= b.length) return 0;
    if (i >= a.length) return -1;
    if (i >= b.length) return 1;
    const c = strCompare(a[i]![0], b[i]![0]) || compareValues(a[i]![1], b[i]![1]);
    if (c) return c;
  }
}

/** Upstream's PathElement order: fields, then keys, then values, then indices. */
export function comparePE(a: PE, b: PE): number {
  if (a === b) return 0;
  const ra = TYPE_RANK[a[0]!] ?? 4; const rb = TYPE_RANK[b[0]!] ?? 4;
  if (ra !== rb) return ra - rb;
  if (ra === 0) return strCompare(a.slice(2), b.slice(2));
  const pa = parsePE(a); const pb = parsePE(b);
  if (pa?.type === 'key' && pb?.type === 'key') return compareFieldLists(pa.fields, pb.fields);
  if (pa?.type === 'value' && pb?.type === 'value') return compareValues(pa.value, pb.value);
  if (pa?.type === 'index' && pb?.type === 'index') return pa.index - pb.index;
  return strCompare(a, b);
}

/** Go's %q-like rendering of a scalar in a path string (`"x"`, `80`, `true`). */
function valueString(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(valueString).join(',')}]`;
  if (typeof v === 'object') return Object.entries(v).map(([k, x]) => `${k}=${valueString(x)}`).join('');
  return String(v);
}

/** The human form upstream prints in conflicts: `.spec.containers[name="c"].image`, `[=x]`, `[0]`. */
export function peString(pe: PE): string {
  const p = parsePE(pe);
  if (!p) return '{{invalid path element}}';
  switch (p.type) {
    case 'field': return `.${p.name}`;
    case 'key': return `[${p.fields.map(([n, v]) => `${n}=${valueString(v)}`).join(',')}]`;
    case 'value': return `[=${valueString(p.value)}]`;
    case 'index': return `[${p.index}]`;
  }
}

export function pathString(path: Path): string {
  return path.map(peString).join('');
}

// ---- sets ----------------------------------------------------------------------------------

const EMPTY_MEMBERS: ReadonlySet<PE> = new Set();
const EMPTY_CHILDREN: ReadonlyMap<PE, FieldSet> = new Map();

export class FieldSet {
  /** PEs that are members at this level. Read-only for callers. */
  readonly members: ReadonlySet<PE>;
  /** PE → the (non-empty) subset below it. Read-only for callers. */
  readonly children: ReadonlyMap<PE, FieldSet>;

  constructor(members?: Set<PE>, children?: Map<PE, FieldSet>) {
    this.members = members && members.size ? members : EMPTY_MEMBERS;
    this.children = children && children.size ? children : EMPTY_CHILDREN;
  }

  static readonly EMPTY = new FieldSet();

  static of(...paths: Path[]): FieldSet {
    const b = new FieldSetBuilder();
    for (const p of paths) b.insert(p);
    return b.build();
  }

  isEmpty(): boolean {
    return this.members.size === 0 && this.children.size === 0;
  }

  /** Whether `path` is a member (a zero-length path never is: nobody owns the whole object). */
  has(path: Path): boolean {
    if (path.length === 0) return false;
    let s: FieldSet | undefined = this;
    for (let i = 0; i < path.length - 1; i++) {
      s = s.children.get(path[i]!);
      if (!s) return false;
    }
    return s.members.has(path[path.length - 1]!);
  }

  /** The subset below `pe` (empty if none). */
  withPrefix(pe: PE): FieldSet {
    return this.children.get(pe) ?? FieldSet.EMPTY;
  }

  union(o: FieldSet): FieldSet {
    if (o.isEmpty()) return this;
    if (this.isEmpty()) return o;
    const members = new Set(this.members);
    for (const m of o.members) members.add(m);
    const children = new Map(this.children);
    for (const [pe, c] of o.children) {
      const mine = children.get(pe);
      children.set(pe, mine ? mine.union(c) : c);
    }
    return new FieldSet(members, children);
  }

  intersection(o: FieldSet): FieldSet {
    const members = new Set<PE>();
    for (const m of this.members) if (o.members.has(m)) members.add(m);
    const children = new Map<PE, FieldSet>();
    for (const [pe, c] of this.children) {
      const oc = o.children.get(pe);
      if (!oc) continue;
      const r = c.intersection(oc);
      if (!r.isEmpty()) children.set(pe, r);
    }
    return new FieldSet(members, children);
  }

  /** Members of this set that are not members of `o` (a parent minus a child stays; levels are independent). */
  difference(o: FieldSet): FieldSet {
    if (o.isEmpty() || this.isEmpty()) return this;
    const members = new Set<PE>();
    for (const m of this.members) if (!o.members.has(m)) members.add(m);
    const children = new Map<PE, FieldSet>();
    for (const [pe, c] of this.children) {
      const oc = o.children.get(pe);
      if (!oc) { children.set(pe, c); continue; }
      const r = c.difference(oc);
      if (!r.isEmpty()) children.set(pe, r);
    }
    return new FieldSet(members, children);
  }

  /** Like difference, but a member of `o` also removes everything below it. */
  recursiveDifference(o: FieldSet): FieldSet {
    if (o.isEmpty() || this.isEmpty()) return this;
    const members = new Set<PE>();
    for (const m of this.members) if (!o.members.has(m)) members.add(m);
    const children = new Map<PE, FieldSet>();
    for (const [pe, c] of this.children) {
      if (o.members.has(pe)) continue;
      const oc = o.children.get(pe);
      if (!oc) { children.set(pe, c); continue; }
      const r = c.recursiveDifference(oc);
      if (!r.isEmpty()) children.set(pe, r);
    }
    return new FieldSet(members, children);
  }

  equals(o: FieldSet): boolean {
    if (this.members.size !== o.members.size || this.children.size !== o.children.size) return false;
    for (const m of this.members) if (!o.members.has(m)) return false;
    for (const [pe, c] of this.children) {
      const oc = o.children.get(pe);
      if (!oc || !c.equals(oc)) return false;
    }
    return true;
  }

  /** Every member path, in upstream's iteration order (members before children, each sorted). */
  paths(): PE[][] {
    const out: PE[][] = [];
    const walk = (s: FieldSet, prefix: PE[]) => {
      for (const m of [...s.members].sort(sortPE)) out.push([...prefix, m]);
      for (const pe of [...s.children.keys()].sort(sortPE)) walk(s.children.get(pe)!, [...prefix, pe]);
    };
    walk(this, []);
    return out;
  }

  /** The FieldsV1 JSON object of this set (`{"f:spec":{"f:replicas":{}}}`), PEs in upstream's order. */
  toFieldsV1(): Record<string, unknown> {
    const text = encoded.get(this);
    // a set read from FieldsV1 encodes to the same (canonical) JSON, parsed afresh for the caller
    return text !== undefined ? JSON.parse(text) as Record<string, unknown> : emit(this, false);
  }

  /**
   * Reads a FieldsV1 object. Keys of unknown PE types are dropped like upstream; anything
   * malformed (a non-object value, a bad key) throws an Error.
   */
  static fromFieldsV1(v: unknown): FieldSet {
    if (!isPlainObject(v)) throw new Error('FieldsV1 must be a JSON object');
    // Every write decodes every entry of the object; most entries are unchanged since the
    // last write (and alike across objects of one workload), so decodings are memoized by text.
    const text = JSON.stringify(v);
    let s = decoded.get(text);
    if (!s) {
      s = read(v).children ?? FieldSet.EMPTY;
      if (decoded.size >= MEMO_LIMIT / 4) decoded.clear();
      decoded.set(text, s);
      encoded.set(s, JSON.stringify(emit(s, false)));
    }
    return s;
  }

  toString(): string {
    return this.paths().map(pathString).join('\n');
  }
}

/** comparePE with a fast path for the common case of two field names. */
function sortPE(a: PE, b: PE): number {
  if (a.charCodeAt(0) === 102 && b.charCodeAt(0) === 102) return a < b ? -1 : a > b ? 1 : 0; // 'f'
  return comparePE(a, b);
}

function emit(s: FieldSet, includeSelf: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (includeSelf && !s.isEmpty()) out['.'] = {};
  const keys = [...s.members];
  for (const k of s.children.keys()) if (!s.members.has(k)) keys.push(k);
  keys.sort(sortPE);
  for (const pe of keys) {
    const child = s.children.get(pe);
    if (child) out[pe] = emit(child, s.members.has(pe));
    else out[pe] = {};
  }
  return out;
}

function read(v: Record<string, unknown>): { children?: FieldSet; isMember: boolean } {
  let isMember = false;
  const members = new Set<PE>();
  const children = new Map<PE, FieldSet>();
  for (const [key, val] of Object.entries(v)) {
    if (!isPlainObject(val)) throw new Error(`FieldsV1 value of ${JSON.stringify(key)} must be an object`);
    if (key === '.') { isMember = true; continue; }
    const pe = canonicalPE(key);
    if (pe === undefined) continue;
    const sub = read(val);
    if (sub.isMember) members.add(pe);
    if (sub.children) {
      const prev = children.get(pe);
      children.set(pe, prev ? prev.union(sub.children) : sub.children);
    }
  }
  if (members.size === 0 && children.size === 0) return { isMember: true };
  return { children: new FieldSet(members, children), isMember };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Builds a set by inserting paths in place (cheaper than repeated unions). */
export class FieldSetBuilder {
  private readonly members = new Set<PE>();
  private readonly children = new Map<PE, FieldSetBuilder>();

  /** Adds `path` as a member; a zero-length path is ignored (nobody owns the whole object). */
  insert(path: Path): void {
    if (path.length === 0) return;
    let b: FieldSetBuilder = this;
    for (let i = 0; i < path.length - 1; i++) b = b.child(path[i]!);
    b.members.add(path[path.length - 1]!);
  }

  child(pe: PE): FieldSetBuilder {
    let c = this.children.get(pe);
    if (!c) { c = new FieldSetBuilder(); this.children.set(pe, c); }
    return c;
  }

  addMember(pe: PE): void {
    this.members.add(pe);
  }

  /** The set built so far; the builder must not be used afterwards (its storage is handed over). */
  build(): FieldSet {
    const children = new Map<PE, FieldSet>();
    for (const [pe, c] of this.children) {
      const s = c.build();
      if (!s.isEmpty()) children.set(pe, s);
    }
    if (this.members.size === 0 && children.size === 0) return FieldSet.EMPTY;
    return new FieldSet(this.members, children);
  }
}
