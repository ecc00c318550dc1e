/**
 * The generic protobuf → JSON converter for Kubernetes messages.
 *
 * Why one schema-driven converter instead of per-kind code: every Kubernetes type follows
 * the same mapping (go-to-protobuf names fields after their JSON names and numbers them in
 * the Go struct), so what differs between kinds is data, not logic. Three sources of data
 * suffice: the wire (what was sent), the .proto reflection (field names, types, numbers and
 * our (tskube.*) options for Go pointers, inlined structs and custom JSON forms) and the
 * OpenAPI schema of @tskube/api (which fields are `required`, i.e. serialized by Go even when
 * empty). A new kind is a row in ./kinds.ts plus its messages in proto/k8s, never new code,
 * and the same rules apply everywhere (a per-kind decoder would get zero values wrong in
 * one place or another).
 *
 * Go's protobuf marshaller writes every non-pointer field, zero values included, while its
 * JSON marshaller omits zero values of `omitempty` fields. So a scalar field that arrives
 * with its zero value ("", 0, false, empty bytes) becomes "unset" (absent from the JSON)
 * unless the Go field is a pointer (`(tskube.go_pointer)`: present means set, so
 * `replicas: 0` survives) or the schema lists it as required (Go writes it in JSON too).
 * Messages are kept even when empty, as Go's JSON keeps structs (`resources: {}`), except
 * the custom types whose zero value Go writes as null or that mean unset: Time and
 * MicroTime sent as an empty message (Go's zero time), Quantity "" and the non-pointer
 * IntOrString 0.
 *
 * Fields the .proto does not declare are dropped when they hold a zero value (nothing is
 * lost) and otherwise reported as an unknown field `protobuf-field-<n>` in the JSON, so the
 * request's fieldValidation decides like for any unknown JSON field (Strict: 400, Warn:
 * dropped with a warning, Ignore: dropped).
 *
 * Malformed input (truncated data, wrong wire types, bad map entries, nesting deeper than
 * {@link MAX_DEPTH}) throws {@link ProtobufDecodeError}.
 */
import { refName, type OpenApiSchema, type SchemaRegistry } from '@tskube/api';
import protobuf, { type Field, type MapField, type Reader, type Type } from 'protobufjs';
import { goDuration, microTimeJson, timeJson } from './json-values.js';

/** Bytes that are not a valid encoding of the expected message (a 400 for the client). */
export class ProtobufDecodeError extends Error {}

/** Nesting limit for messages: PodTemplateSpec objects need about 12 levels. */
export const MAX_DEPTH = 100;

const OPT_JSON = '(tskube.json)';
const OPT_POINTER = '(tskube.go_pointer)';
const OPT_INLINE = '(tskube.json_inline)';

/** The JSON key an undeclared, non-zero field is reported under. */
export const unknownFieldKey = (id: number): string => `protobuf-field-${id}`;

type Scalar = number | bigint | boolean | string | Uint8Array;
/** A decoded field occurrence: a scalar, or the bytes of a sub-message. */
type RawValue = Scalar;

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_BYTES = 2;
const WIRE_FIXED32 = 5;

const FIXED64_TYPES = new Set(['double', 'fixed64', 'sfixed64']);
const FIXED32_TYPES = new Set(['float', 'fixed32', 'sfixed32']);

function wireTypeOf(type: string, isMessage: boolean): number {
  if (isMessage || type === 'string' || type === 'bytes') return WIRE_BYTES;
  if (FIXED64_TYPES.has(type)) return WIRE_FIXED64;
  if (FIXED32_TYPES.has(type)) return WIRE_FIXED32;
  return WIRE_VARINT;
}

function longToBigInt(v: unknown): bigint {
  if (typeof v === 'number') return BigInt(v);
  // protobufjs returns a Long for 64-bit integers when the long package is present.
  return BigInt(String(v));
}

function readScalar(r: Reader, type: string): Scalar {
  switch (type) {
    case 'string': return r.string();
    case 'bytes': return r.bytes();
    case 'bool': return r.bool();
    case 'int32': case 'enum': return r.int32();
    case 'uint32': return r.uint32();
    case 'sint32': return r.sint32();
    case 'int64': return longToBigInt(r.int64());
    case 'uint64': return longToBigInt(r.uint64());
    case 'sint64': return longToBigInt(r.sint64());
    case 'fixed64': return longToBigInt(r.fixed64());
    case 'sfixed64': return longToBigInt(r.sfixed64());
    case 'fixed32': return r.fixed32();
    case 'sfixed32': return r.sfixed32();
    case 'double': return r.double();
    case 'float': return r.float();
    default: throw new ProtobufDecodeError(`unsupported protobuf scalar type ${type}`);
  }
}

function isZero(v: Scalar): boolean {
  if (v instanceof Uint8Array) return v.length === 0;
  return v === '' || v === 0 || v === 0n || v === false;
}

/** Reads and discards an undeclared field; true when its value was not the zero value. */
function skipUnknown(r: Reader, wireType: number): boolean {
  switch (wireType) {
    case WIRE_VARINT: return !isZero(longToBigInt(r.uint64()));
    case WIRE_FIXED64: return !isZero(longToBigInt(r.fixed64()));
    case WIRE_FIXED32: return r.fixed32() !== 0;
    case WIRE_BYTES: return r.bytes().length > 0;
    default: throw new ProtobufDecodeError(`unsupported wire type ${wireType}`);
  }
}

interface ParsedMessage {
  /** Declared fields by number, every occurrence in wire order (repeated fields, last-wins scalars). */
  fields: Map<number, RawValue[]>;
  /** Numbers of undeclared fields that carried a non-zero value. */
  unknown: number[];
}

function parseMessage(type: Type, bytes: Uint8Array): ParsedMessage {
  const r = protobuf.Reader.create(bytes);
  const fields = new Map<number, RawValue[]>();
  const unknown: number[] = [];
  while (r.pos < r.len) {
    const tag = r.uint32();
    const id = tag >>> 3;
    const wt = tag & 7;
    if (id === 0) throw new ProtobufDecodeError(`illegal field number 0 in ${type.fullName.slice(1)}`);
    const f = type.fieldsById[id];
    if (!f) {
      if (skipUnknown(r, wt) && !unknown.includes(id)) unknown.push(id);
      continue;
    }
    const isMessage = !f.map && f.resolvedType !== null && 'fieldsById' in f.resolvedType;
    const list = fields.get(id) ?? [];
    fields.set(id, list);
    if (f.map) {
      if (wt !== WIRE_BYTES) throw wrongWireType(type, f, wt);
      list.push(r.bytes());
      continue;
    }
    const expected = wireTypeOf(f.type, isMessage);
    if (wt === expected) {
      list.push(isMessage ? r.bytes() : readScalar(r, f.type));
    } else if (f.repeated && wt === WIRE_BYTES && expected !== WIRE_BYTES) {
      // a packed repeated scalar
      const end = r.uint32() + r.pos;
      if (end > r.len) throw new ProtobufDecodeError(`truncated packed field ${f.name} in ${type.fullName.slice(1)}`);
      while (r.pos < end) list.push(readScalar(r, f.type));
    } else {
      throw wrongWireType(type, f, wt);
    }
  }
  return { fields, unknown };
}

/**
 * A field's JSON name: its proto name, which go-to-protobuf takes from the JSON tag, except
 * where the .proto says otherwise with the standard `json_name` option (BoundObjectReference's
 * `uID` is `uid` in JSON).
 */
export function jsonName(f: Field): string {
  const n = f.options?.json_name;
  return typeof n === 'string' ? n : f.name;
}

function wrongWireType(type: Type, f: Field, wt: number): ProtobufDecodeError {
  return new ProtobufDecodeError(`wrong wire type ${wt} for field ${f.name} of ${type.fullName.slice(1)}`);
}

/** Converts decoded messages to JSON with the schemas of one registry. */
export class ProtobufJsonConverter {
  constructor(private readonly registry: SchemaRegistry) {}

  /**
   * The JSON value of one encoded `type` message described by `schema` (the OpenAPI schema of
   * the same Go type, or undefined when ours has none: zero values are then treated as
   * omitempty). Undefined only for the custom types whose value means unset.
   */
  toJson(type: Type, bytes: Uint8Array, schema?: OpenApiSchema, pointer = false): unknown {
    try {
      return this.message(type, bytes, schema, pointer, 0);
    } catch (e) {
      if (e instanceof ProtobufDecodeError) throw e;
      // protobufjs's Reader reports truncated input as a RangeError ("index out of range")
      // and a varint longer than 10 bytes as "invalid varint encoding".
      if (e instanceof RangeError || (e instanceof Error && e.message === 'invalid varint encoding')) {
        throw new ProtobufDecodeError(`malformed protobuf data for ${type.fullName.slice(1)}: ${e.message}`);
      }
      throw e;
    }
  }

  private resolve(s: OpenApiSchema | undefined): OpenApiSchema | undefined {
    let cur = s;
    for (let i = 0; cur && i < 8; i++) {
      const name = refName(cur);
      if (!name) return cur;
      cur = this.registry.get(name);
    }
    return cur;
  }

  private message(type: Type, bytes: Uint8Array, schemaIn: OpenApiSchema | undefined, pointer: boolean, depth: number): unknown {
    if (depth > MAX_DEPTH) throw new ProtobufDecodeError(`protobuf messages nested deeper than ${MAX_DEPTH} levels`);
    const parsed = parseMessage(type, bytes);
    const special = type.options?.[OPT_JSON] as string | undefined;
    if (special) return this.custom(special, type, parsed, pointer);

    const schema = this.resolve(schemaIn);
    const required = new Set(schema?.required ?? []);
    const out: Record<string, unknown> = {};
    for (const f of type.fieldsArray) {
      const vals = parsed.fields.get(f.id);
      if (!vals?.length) continue;
      const name = jsonName(f);
      const prop = schema?.properties?.[name];
      if (f.map) {
        out[name] = this.map(type, f as unknown as MapField, vals, this.resolve(prop), depth);
        continue;
      }
      const sub = f.resolvedType !== null && 'fieldsById' in f.resolvedType ? f.resolvedType : undefined;
      if (f.repeated) {
        const items = this.resolve(prop)?.items;
        out[name] = vals.map((v) => (sub ? this.message(sub, v as Uint8Array, items, false, depth + 1) ?? null : this.scalar(v, f.type)));
        continue;
      }
      const v = vals[vals.length - 1]!;
      const isPointer = f.options?.[OPT_POINTER] === true;
      if (sub) {
        const j = this.message(sub, v as Uint8Array, prop, isPointer, depth + 1);
        if (f.options?.[OPT_INLINE] === true) {
          if (typeof j === 'object' && j !== null) Object.assign(out, j);
        } else if (j !== undefined) {
          out[name] = j;
        }
        continue;
      }
      if (isZero(v as Scalar) && !isPointer && !required.has(name)) continue;
      out[name] = this.scalar(v, f.type);
    }
    for (const id of parsed.unknown) out[unknownFieldKey(id)] = `undeclared field ${id} of ${type.fullName.slice(1)}`;
    return out;
  }

  private map(parent: Type, f: MapField, entries: RawValue[], schema: OpenApiSchema | undefined, depth: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const valueType = f.resolvedType !== null && 'fieldsById' in f.resolvedType ? f.resolvedType : undefined;
    const valueSchema = typeof schema?.additionalProperties === 'object' ? schema.additionalProperties : undefined;
    for (const e of entries) {
      const r = protobuf.Reader.create(e as Uint8Array);
      let key: Scalar = '';
      let value: RawValue | undefined;
      while (r.pos < r.len) {
        const tag = r.uint32();
        const id = tag >>> 3;
        const wt = tag & 7;
        if (id === 1) {
          if (wt !== wireTypeOf(f.keyType, false)) throw new ProtobufDecodeError(`wrong wire type ${wt} for a key of ${f.name} in ${parent.fullName.slice(1)}`);
          key = readScalar(r, f.keyType);
        } else if (id === 2) {
          if (wt !== wireTypeOf(f.type, valueType !== undefined)) throw new ProtobufDecodeError(`wrong wire type ${wt} for a value of ${f.name} in ${parent.fullName.slice(1)}`);
          value = valueType ? r.bytes() : readScalar(r, f.type);
        } else {
          skipUnknown(r, wt);
        }
      }
      const k = typeof key === 'string' ? key : String(key);
      // A missing value is the zero value, as in Go (map entries always hold one).
      if (valueType) {
        const j = this.message(valueType, (value as Uint8Array | undefined) ?? new Uint8Array(0), valueSchema, false, depth + 1);
        out[k] = j ?? null;
      } else {
        out[k] = this.scalar(value ?? zeroOf(f.type), f.type);
      }
    }
    return out;
  }

  private scalar(v: RawValue, type: string): unknown {
    if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
    if (typeof v === 'bigint') return Number(v);
    if (type === 'double' || type === 'float') {
      if (!Number.isFinite(v)) throw new ProtobufDecodeError(`non-finite number ${String(v)}`);
    }
    return v;
  }

  /** The types with a JSON form of their own (see proto/k8s/tskube/options.proto). */
  private custom(kind: string, type: Type, m: ParsedMessage, pointer: boolean): unknown {
    const last = (name: string): RawValue | undefined => {
      const f = type.fields[name];
      const vals = f ? m.fields.get(f.id) : undefined;
      return vals?.[vals.length - 1];
    };
    const big = (name: string): bigint => { const v = last(name); return typeof v === 'bigint' ? v : BigInt(typeof v === 'number' ? v : 0); };
    const num = (name: string): number => { const v = last(name); return typeof v === 'number' ? v : 0; };
    const str = (name: string): string => { const v = last(name); return typeof v === 'string' ? v : ''; };
    const bytes = (name: string): Uint8Array | undefined => { const v = last(name); return v instanceof Uint8Array ? v : undefined; };
    switch (kind) {
      // Go marshals the zero Time/MicroTime as an empty message (JSON null: unset); an
      // explicit {seconds: 0} is the Unix epoch.
      case 'time': return m.fields.size === 0 ? undefined : timeJson(big('seconds'), num('nanos'));
      case 'micro_time': return m.fields.size === 0 ? undefined : microTimeJson(big('seconds'), num('nanos'));
      case 'duration': return goDuration(big('duration'));
      case 'quantity': return str('string') || undefined;
      case 'int_or_string': {
        if (big('type') === 1n) return str('strVal');
        const n = num('intVal');
        // A non-pointer IntOrString that is 0 is what Go writes for "not set" (ServicePort.targetPort).
        return n === 0 && !pointer ? undefined : n;
      }
      case 'string_list': {
        const f = type.fields.items;
        return (f ? m.fields.get(f.id) ?? [] : []).map((v) => (typeof v === 'string' ? v : String(v)));
      }
      case 'fields_v1':
      case 'raw_extension': {
        const raw = bytes(kind === 'fields_v1' ? 'Raw' : 'raw');
        if (!raw?.length) return undefined;
        try {
          return JSON.parse(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8')) as unknown;
        } catch {
          throw new ProtobufDecodeError(`${type.fullName.slice(1)} does not hold JSON`);
        }
      }
      default: throw new Error(`unknown (tskube.json) option "${kind}" on ${type.fullName.slice(1)}`);
    }
  }
}

function zeroOf(type: string): Scalar {
  if (type === 'string') return '';
  if (type === 'bytes') return new Uint8Array(0);
  if (type === 'bool') return false;
  return 0;
}
