/**
 * Request-body decoding with upstream's semantics.
 *
 * Upstream decodes a body into a typed Go struct with sigs.k8s.io/json (a fork of Go's
 * encoding/json) and, for fieldValidation=Strict|Warn, a strict pass that records unknown and
 * duplicate fields. That behaviour is not JSON-schema validation, which is why this is a
 * small schema-driven walker and not ajv:
 * - unknown fields are dropped from the result, not rejected; whether that is an error
 *   (Strict → 400), a warning (Warn) or silent (Ignore) is the caller's choice. Paths are
 *   built like sigs.k8s.io/json: `spec.containers[0].bar`, map keys joined with ".";
 * - a wrong JSON type is always fatal (whatever fieldValidation says), with Go's wording:
 *   `json: cannot unmarshal string into Go struct field PodSpec.spec.containers of type
 *   []v1.Container` (the struct is the innermost one, the field path lists struct fields
 *   only, no indices or map keys); only the first such error is reported, and it hides the
 *   strict errors, like Go;
 * - null means "unset": the key is dropped (inside lists and maps it becomes the element's
 *   zero value, as Go does);
 * - custom unmarshalers are emulated: Quantity (string or number, canonicalized),
 *   IntOrString (string or int32), Time/MicroTime (RFC 3339 string, re-serialized in UTC),
 *   []byte (base64), RawExtension/FieldsV1 (any JSON, kept as is);
 * - integers must be integral and in range (int32/int64); a fraction is a type error.
 *
 * Known differences from Go (kept on purpose): a JSON number `1.0` reaches us as 1 and is
 * accepted as an integer; named Go string types (v1.PodPhase) are reported as `string`;
 * duplicate fields nested inside unknown fields are still reported.
 *
 * Speed: each schema is compiled once per registry into a tree of small node objects
 * (cached), so a decode is one walk over the value with no $ref resolution.
 */
import { ApiError, badRequest, field, invalid } from '../errors.js';
import type { GroupVersionKind } from '../resources.js';
import type { KubeObject } from '../types.js';
import { parseJsonStrict, type ParsedBody } from './json-strict.js';
import { canonicalQuantity, QuantityFormatError } from './quantity-canonical.js';
import { defaultSchemaRegistry, refName, SchemaNames, type OpenApiSchema, type SchemaRegistry } from './registry.js';
import { parseYamlStrict } from './yaml-strict.js';

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

/** What to decode into: a GVK (resolved through the schemas' x-kubernetes-group-version-kind) or a schema name. */
export type DecodeTarget = GroupVersionKind | string;

export interface DecodeOptions {
  fieldValidation: FieldValidation;
  /**
   * Strict errors found while parsing (`ParsedBody.duplicateErrors`); they come before the
   * unknown-field errors, and follow the same Strict/Warn/Ignore rule.
   */
  duplicateErrors?: readonly string[];
  /** Defaults to the generated schemas. */
  registry?: SchemaRegistry;
}

export interface DecodeResult {
  /** A new object (the input is not modified) without unknown fields and nulls. */
  object: KubeObject;
  /**
   * Under Warn: one message per strict error, ready for a `Warning: 299 - "<msg>"` header
   * (`unknown field "spec.foo"`, `duplicate field "metadata.name"`, for YAML
   * `line 3: key "name" already set in map`). Empty under Strict and Ignore.
   */
  warnings: string[];
}

/**
 * The fieldValidation query parameter: '' or absent means Warn (upstream's default). Any other
 * value is a 422 like upstream's options validation; `optionsKind` names the options type in
 * that message (CreateOptions, UpdateOptions, PatchOptions).
 */
export function parseFieldValidation(raw: string | undefined | null,
  optionsKind: 'CreateOptions' | 'UpdateOptions' | 'PatchOptions' = 'CreateOptions'): FieldValidation {
  if (raw === undefined || raw === null || raw === '') return 'Warn';
  if (raw === 'Strict' || raw === 'Warn' || raw === 'Ignore') return raw;
  throw invalid({ group: 'meta.k8s.io', kind: optionsKind }, '',
    [field.notSupported('fieldValidation', raw, ['', 'Ignore', 'Strict', 'Warn'])]);
}

/**
 * Decodes a parsed body into the target type. Throws ApiError 400 BadRequest for a body that
 * is not an object, a wrong JSON type anywhere (regardless of fieldValidation), a bad
 * apiVersion, or (Strict only) unknown/duplicate fields:
 * `Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "spec.foo"`.
 * `apiVersion` and `kind` are kept as given: checking them against the endpoint is the
 * caller's job. Throws a plain Error if the target has no schema (a programming error).
 */
export function decodeBody(value: unknown, target: DecodeTarget, opts: DecodeOptions): DecodeResult {
  const registry = opts.registry ?? defaultSchemaRegistry();
  return decoderFor(registry).decode(value, target, opts);
}

export interface DecodedObject {
  /** A new object without unknown fields and nulls (the input is not modified). */
  object: KubeObject;
  /**
   * Upstream strict-decoding errors in order: the given duplicate errors, then
   * `unknown field "<path>"` for each unknown field (at most 100, each once).
   */
  strictErrors: string[];
}

/** A fatal decoding error (wrong JSON type, bad quantity ...); the message is Go's, without any prefix. */
export class ObjectDecodeError extends Error {}

/**
 * The building block under decodeBody, for callers that word errors themselves (upstream's
 * patch handler answers 422 `Invalid value: "<patched object>": strict decoding error: …`):
 * decodes `value` into the target type and returns the strict errors without judging them.
 * Throws ObjectDecodeError for a wrong JSON type anywhere (including a non-object value).
 */
export function decodeObject(value: unknown, target: DecodeTarget,
  opts: { registry?: SchemaRegistry; duplicateErrors?: readonly string[] } = {}): DecodedObject {
  const d = decoderFor(opts.registry ?? defaultSchemaRegistry());
  return d.walkTop(d.targetName(target), value, opts.duplicateErrors);
}

/** `strict decoding error: <e1>, <e2>` (upstream runtime.NewStrictDecodingError). */
export function strictDecodingMessage(strictErrors: readonly string[]): string {
  return `strict decoding error: ${strictErrors.join(', ')}`;
}

/** Strict errors as Warning-header texts: go-yaml errors split per line, like upstream parseYAMLWarnings. */
export function strictWarnings(strictErrors: readonly string[]): string[] {
  return strictErrors.flatMap(warningLines);
}

/**
 * Parses and decodes a request body in one step: JSON unless `mediaType` says YAML
 * (`application/yaml`, `application/apply-patch+yaml`, or anything containing "yaml").
 * Syntax errors are worded like upstream's create/update handlers:
 * `the object provided is unrecognized (must be of type Pod): couldn't get version/kind;
 * json parse error: unexpected end of JSON input (<first bytes>)`.
 */
export function decodeRequestBody(body: string | Uint8Array, target: DecodeTarget,
  opts: DecodeOptions & { mediaType?: string }): DecodeResult {
  const registry = opts.registry ?? defaultSchemaRegistry();
  const text = typeof body === 'string' ? body : Buffer.from(body).toString('utf8');
  const yaml = opts.mediaType !== undefined && opts.mediaType.toLowerCase().includes('yaml');
  let parsed: ParsedBody;
  try {
    parsed = yaml ? parseYamlStrict(text) : parseJsonStrict(text);
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    const kind = decoderFor(registry).targetKind(target);
    const why = yaml ? e.message : `couldn't get version/kind; json parse error: ${e.message}`;
    throw badRequest(`the object provided is unrecognized (must be of type ${kind}): ${why} (${summarize(text)})`);
  }
  return decoderFor(registry).decode(parsed.value, target, {
    ...opts, duplicateErrors: [...(opts.duplicateErrors ?? []), ...parsed.duplicateErrors],
  });
}

/** Upstream summarizeData(body, 30): JSON objects as text, anything else as hex. */
function summarize(text: string): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length === 0) return '<empty>';
  const head = bytes.subarray(0, 30);
  const more = bytes.length > 30 ? ' ...' : '';
  return bytes[0] === 0x7b ? `${head.toString('utf8')}${more}` : `${head.toString('hex')}${more}`;
}

// ---- compiled schema nodes ----------------------------------------------------------------

type Node =
  | { t: 'struct'; goStruct: string; goType: string; fields: Map<string, Node> }
  | { t: 'array'; items: Node; goType: string }
  | { t: 'map'; values: Node; goType: string }
  | { t: 'string' } | { t: 'bytes' } | { t: 'bool' } | { t: 'float' }
  | { t: 'int'; bits: 32 | 64 }
  | { t: 'quantity' } | { t: 'intOrString' } | { t: 'time'; micro: boolean }
  | { t: 'any' };

const goTypeOf = (n: Node): string => {
  switch (n.t) {
    case 'struct': case 'array': case 'map': return n.goType;
    case 'string': return 'string';
    case 'bytes': return '[]uint8';
    case 'bool': return 'bool';
    case 'float': return 'float64';
    case 'int': return n.bits === 32 ? 'int32' : 'int64';
    case 'quantity': return 'resource.Quantity';
    case 'intOrString': return 'intstr.IntOrString';
    case 'time': return n.micro ? 'v1.MicroTime' : 'v1.Time';
    case 'any': return 'interface {}';
  }
};

/** Schemas whose Go type keeps arbitrary JSON (custom UnmarshalJSON storing raw bytes). */
const OPAQUE = new Set<string>([SchemaNames.rawExtension, SchemaNames.fieldsV1, SchemaNames.patch]);

const decoders = new WeakMap<SchemaRegistry, Decoder>();
function decoderFor(registry: SchemaRegistry): Decoder {
  let d = decoders.get(registry);
  if (!d) { d = new Decoder(registry); decoders.set(registry, d); }
  return d;
}

/** Thrown inside the walk for a fatal (non-strict) decoding error; carries the Go-worded message. */
class DecodeFailure extends Error {}

interface WalkState {
  strict: string[];
  strictSeen: Set<string>;
  /** Names of struct fields from the root (Go's errorContext.FieldStack). */
  fieldStack: string[];
  /** The innermost struct whose field we are in (Go's errorContext.Struct). */
  structName: string;
}

const MAX_STRICT_ERRORS = 100; // sigs.k8s.io/json stops accumulating at 100

class Decoder {
  private readonly nodes = new Map<string, Node>();
  constructor(private readonly registry: SchemaRegistry) {}

  targetName(target: DecodeTarget): string {
    if (typeof target === 'string') {
      this.registry.require(target);
      return target;
    }
    const name = this.registry.nameForKind(target);
    if (!name) throw new Error(`no API schema for ${target.group}/${target.version}, Kind=${target.kind}`);
    return name;
  }

  targetKind(target: DecodeTarget): string {
    return typeof target === 'string' ? lastSegment(target) : target.kind;
  }

  decode(value: unknown, target: DecodeTarget, opts: DecodeOptions): DecodeResult {
    const name = this.targetName(target);
    const objKind = lastSegment(name);
    const defaultVersion = typeof target === 'string' ? versionSegment(name) : target.version;
    const defaultKind = typeof target === 'string' ? objKind : target.kind;

    // Upstream first reads apiVersion/kind ("Interpret"); failures there name no kind.
    const unrecognized = (why: string) =>
      badRequest(`the object provided is unrecognized (must be of type ${objKind}): couldn't get version/kind; json parse error: ${why}`);
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      if (value === null) throw badRequest(`Object 'Kind' is missing in 'null'`);
      throw unrecognized(`json: cannot unmarshal ${jsonKind(value)} into Go value of type struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }`);
    }
    const obj = value as Record<string, unknown>;
    for (const k of ['apiVersion', 'kind'] as const) {
      const v = obj[k];
      if (v !== undefined && v !== null && typeof v !== 'string') {
        throw unrecognized(`json: cannot unmarshal ${jsonKind(v)} into Go struct field .${k} of type string`);
      }
    }
    const apiVersion = typeof obj.apiVersion === 'string' ? obj.apiVersion : '';
    if (apiVersion.split('/').length > 2) throw badRequest(`unexpected GroupVersion string: ${apiVersion}`);
    const bodyVersion = apiVersion.includes('/') ? apiVersion.slice(apiVersion.indexOf('/') + 1) : apiVersion;
    const kind = (typeof obj.kind === 'string' && obj.kind) || defaultKind;
    const version = bodyVersion || defaultVersion;
    const prefix = `${kind} in version ${JSON.stringify(version)} cannot be handled as a ${objKind}`;

    let decoded: DecodedObject;
    try {
      decoded = this.walkTop(name, value, opts.duplicateErrors);
    } catch (e) {
      if (e instanceof ObjectDecodeError) throw badRequest(`${prefix}: ${e.message}`);
      throw e;
    }
    const { object, strictErrors } = decoded;
    if (strictErrors.length === 0 || opts.fieldValidation === 'Ignore') return { object, warnings: [] };
    if (opts.fieldValidation === 'Strict') throw badRequest(`${prefix}: ${strictDecodingMessage(strictErrors)}`);
    return { object, warnings: strictWarnings(strictErrors) };
  }

  /** Walks a whole object; throws ObjectDecodeError with Go's bare message on a type error. */
  walkTop(name: string, value: unknown, duplicateErrors: readonly string[] = []): DecodedObject {
    const state: WalkState = { strict: [], strictSeen: new Set(), fieldStack: [], structName: '' };
    for (const d of duplicateErrors) this.addStrict(state, d);
    try {
      const object = this.walk(this.named(name), value, '', state, true) as KubeObject;
      return { object, strictErrors: state.strict };
    } catch (e) {
      if (e instanceof DecodeFailure) throw new ObjectDecodeError(e.message);
      throw e;
    }
  }

  private addStrict(state: WalkState, msg: string): void {
    if (state.strict.length >= MAX_STRICT_ERRORS || state.strictSeen.has(msg)) return;
    state.strictSeen.add(msg);
    state.strict.push(msg);
  }

  // ---- compile ----

  /** The compiled node of a named schema (cached; cycles are fine because the node is cached before its fields). */
  private named(name: string): Node {
    const cached = this.nodes.get(name);
    if (cached) return cached;
    let node: Node;
    if (name === SchemaNames.quantity) node = { t: 'quantity' };
    else if (name === SchemaNames.intOrString) node = { t: 'intOrString' };
    else if (name === SchemaNames.time) node = { t: 'time', micro: false };
    else if (name === SchemaNames.microTime) node = { t: 'time', micro: true };
    else if (OPAQUE.has(name)) node = { t: 'any' };
    else {
      const schema = this.registry.require(name);
      if (schema.type !== 'object') {
        node = this.inline(schema, name); // an alias (no type): any JSON
      } else {
        const fields = new Map<string, Node>();
        node = { t: 'struct', goStruct: lastSegment(name), goType: `${pkgSegment(name)}.${lastSegment(name)}`, fields };
        this.nodes.set(name, node);
        for (const [prop, ps] of Object.entries(schema.properties ?? {})) fields.set(prop, this.inline(ps, `${name}.${prop}`));
        return node;
      }
    }
    this.nodes.set(name, node);
    return node;
  }

  private inline(schema: OpenApiSchema, where: string): Node {
    const r = refName(schema);
    if (r !== undefined) return this.named(r);
    switch (schema.type) {
      case 'array': {
        if (!schema.items) throw new Error(`schema ${where}: array without items`);
        const items = this.inline(schema.items, `${where}[]`);
        return { t: 'array', items, goType: `[]${goTypeOf(items)}` };
      }
      case 'object': {
        const ap = schema.additionalProperties;
        if (ap && typeof ap === 'object') {
          const values = this.inline(ap, `${where}{}`);
          return { t: 'map', values, goType: `map[string]${goTypeOf(values)}` };
        }
        return { t: 'any' };
      }
      case 'string': return schema.format === 'byte' ? { t: 'bytes' } : { t: 'string' };
      case 'integer': return { t: 'int', bits: schema.format === 'int32' ? 32 : 64 };
      case 'number': return { t: 'float' };
      case 'boolean': return { t: 'bool' };
      default: return { t: 'any' };
    }
  }

  // ---- walk ----

  private fail(state: WalkState, what: string, goType: string): never {
    if (state.structName || state.fieldStack.length) {
      throw new DecodeFailure(`json: cannot unmarshal ${what} into Go struct field ${state.structName}.${state.fieldStack.join('.')} of type ${goType}`);
    }
    throw new DecodeFailure(`json: cannot unmarshal ${what} into Go value of type ${goType}`);
  }

  /**
   * Decodes `v` (never undefined) against `node`; returns the decoded value. `path` is the
   * strict path of `v`. Nulls are handled by the containers (drop or zero value).
   */
  private walk(node: Node, v: unknown, path: string, state: WalkState, top = false): unknown {
    switch (node.t) {
      case 'struct': {
        if (v === null || typeof v !== 'object' || Array.isArray(v)) this.fail(state, jsonKind(v), node.goType);
        const src = v as Record<string, unknown>;
        const out: Record<string, unknown> = {};
        const savedStruct = state.structName;
        const savedDepth = state.fieldStack.length;
        for (const key of Object.keys(src)) {
          const child = node.fields.get(key);
          const childPath = path ? `${path}.${key}` : key;
          if (!child) {
            if (top && (key === 'apiVersion' || key === 'kind')) { out[key] = src[key]; continue; }
            this.addStrict(state, `unknown field ${JSON.stringify(childPath)}`);
            continue;
          }
          const cv = src[key];
          if (cv === null || cv === undefined) continue; // null: unset
          state.structName = node.goStruct;
          state.fieldStack.push(key);
          const dv = this.walk(child, cv, childPath, state);
          state.fieldStack.length = savedDepth;
          state.structName = savedStruct;
          setOwn(out, key, dv);
        }
        return out;
      }
      case 'array': {
        if (!Array.isArray(v)) this.fail(state, jsonKind(v), node.goType);
        const out = new Array<unknown>(v.length);
        for (let i = 0; i < v.length; i++) {
          const e = v[i];
          out[i] = e === null || e === undefined ? zeroValue(node.items) : this.walk(node.items, e, `${path}[${i}]`, state);
        }
        return out;
      }
      case 'map': {
        if (v === null || typeof v !== 'object' || Array.isArray(v)) this.fail(state, jsonKind(v), node.goType);
        const src = v as Record<string, unknown>;
        const out: Record<string, unknown> = {};
        for (const key of Object.keys(src)) {
          const e = src[key];
          setOwn(out, key, e === null || e === undefined ? zeroValue(node.values) : this.walk(node.values, e, path ? `${path}.${key}` : key, state));
        }
        return out;
      }
      case 'string':
        if (typeof v !== 'string') this.fail(state, jsonKind(v), 'string');
        return v;
      case 'bytes':
        if (typeof v !== 'string') this.fail(state, jsonKind(v), '[]uint8');
        checkBase64(v);
        return v;
      case 'bool':
        if (typeof v !== 'boolean') this.fail(state, jsonKind(v), 'bool');
        return v;
      case 'float':
        if (typeof v !== 'number') this.fail(state, jsonKind(v), 'float64');
        return v;
      case 'int': {
        if (typeof v !== 'number') this.fail(state, jsonKind(v), goTypeOf(node));
        const limit = node.bits === 32 ? 2 ** 31 : 2 ** 63;
        if (!Number.isInteger(v) || v < -limit || v >= limit) this.fail(state, `number ${String(v)}`, goTypeOf(node));
        return v;
      }
      case 'quantity':
        try {
          // Upstream's UnmarshalJSON strips quotes and parses whatever is left (true, {} → format error).
          if (typeof v === 'string' || typeof v === 'number') return canonicalQuantity(v);
          return canonicalQuantity(JSON.stringify(v));
        } catch (e) {
          if (e instanceof QuantityFormatError) throw new DecodeFailure(e.message);
          throw e;
        }
      case 'intOrString':
        if (typeof v === 'string') return v;
        if (typeof v === 'number' && Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31) return v;
        throw new DecodeFailure(`json: cannot unmarshal ${typeof v === 'number' ? `number ${String(v)}` : jsonKind(v)} into Go value of type int32`);
      case 'time':
        if (typeof v !== 'string') throw new DecodeFailure(`json: cannot unmarshal ${jsonKind(v)} into Go value of type string`);
        return canonicalTime(v, node.micro);
      case 'any':
        return v;
    }
  }
}

function setOwn(o: Record<string, unknown>, k: string, v: unknown): void {
  if (k === '__proto__') Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  else o[k] = v;
}

/** What Go's encoding/json produces for a JSON null inside a list or map of this type. */
function zeroValue(n: Node): unknown {
  switch (n.t) {
    case 'struct': return {};
    case 'string': case 'bytes': return '';
    case 'int': case 'float': case 'intOrString': return 0;
    case 'bool': return false;
    case 'quantity': return '0';
    default: return null;
  }
}

/** Go's name for a JSON value's kind in UnmarshalTypeError. */
function jsonKind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  switch (typeof v) {
    case 'string': return 'string';
    case 'number': return 'number';
    case 'boolean': return 'bool';
    default: return 'object';
  }
}

const lastSegment = (name: string): string => name.slice(name.lastIndexOf('.') + 1);
const pkgSegment = (name: string): string => {
  const parts = name.split('.');
  return parts[parts.length - 2] ?? '';
};
const versionSegment = (name: string): string => {
  const seg = pkgSegment(name);
  return /^v\d/.test(seg) ? seg : 'v1';
};

/** A strict error as warnings: go-yaml errors are split per line, like upstream parseYAMLWarnings. */
function warningLines(msg: string): string[] {
  for (const prefix of ['yaml: unmarshal errors:\n', 'error converting YAML to JSON: yaml: unmarshal errors:\n']) {
    if (msg.startsWith(prefix)) return msg.slice(prefix.length).split('\n').map((s) => s.trim());
  }
  return [msg];
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Go's base64.StdEncoding.Decode: padded standard alphabet, newlines ignored; error `illegal base64 data at input byte N`. */
function checkBase64(s: string): void {
  const clean = s.replace(/[\r\n]/g, '');
  if (BASE64.test(clean)) return;
  let i = clean.search(/[^A-Za-z0-9+/=]/);
  if (i < 0) i = clean.indexOf('=') >= 0 ? clean.indexOf('=') : clean.length;
  throw new DecodeFailure(`illegal base64 data at input byte ${i}`);
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * metav1.Time / MicroTime as upstream stores them after decoding: UTC, whole seconds for Time,
 * six fractional digits (truncated) for MicroTime. Input must be RFC 3339; the fraction is
 * optional for both (Go's MicroTime parser insists on six digits; we are lenient).
 */
function canonicalTime(s: string, micro: boolean): string {
  const layout = micro ? '2006-01-02T15:04:05.000000Z07:00' : '2006-01-02T15:04:05Z07:00';
  const m = RFC3339.exec(s);
  if (!m) throw new DecodeFailure(`parsing time ${JSON.stringify(s)} as ${JSON.stringify(layout)}: cannot parse ${JSON.stringify(s)} as "2006"`);
  const [y, mo, d, h, mi, sec] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const frac = m[7] ?? '';
  const zone = m[8]!;
  const range = (what: string) => new DecodeFailure(`parsing time ${JSON.stringify(s)}: ${what} out of range`);
  if (mo < 1 || mo > 12) throw range('month');
  const daysInMonth = new Date(Date.UTC(2000, mo, 0)).getUTCDate() - (mo === 2 && !isLeap(y) ? 1 : 0);
  if (d < 1 || d > daysInMonth) throw range('day');
  if (h > 23) throw range('hour');
  if (mi > 59) throw range('minute');
  if (sec > 59) throw range('second');
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d);
  date.setUTCHours(h, mi, sec, 0);
  if (zone !== 'Z' && zone !== 'z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    date.setTime(date.getTime() - sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6))) * 60000);
  }
  const iso = date.toISOString(); // years 0000-9999 print as YYYY
  const base = iso.slice(0, 19);
  return micro ? `${base}.${frac.padEnd(6, '0').slice(0, 6)}Z` : `${base}Z`;
}

const isLeap = (y: number): boolean => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
