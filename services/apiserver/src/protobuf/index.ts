/**
 * Kubernetes protobuf request bodies (`application/vnd.kubernetes.protobuf`, sent by kubectl
 * ≥ 1.32 typed clients, kubectl-contract S3/§9): decoded into the JSON shape the object would
 * have had as a JSON body, which then takes the ordinary decoding path (schema decoding,
 * fieldValidation, defaulting, validation).
 *
 * Body layout: the magic bytes `k8s\0`, then a runtime.Unknown {typeMeta {apiVersion, kind},
 * raw (the object's own encoding), contentEncoding, contentType}. The object is converted by
 * the generic converter in ./convert.ts with the message from ./kinds.ts and the kind's
 * OpenAPI schema.
 *
 * Errors (ApiError): no magic prefix, truncated or mis-typed data → 400 BadRequest; a kind
 * without a protobuf definition, or a content encoding/type other than plain protobuf →
 * 415 UnsupportedMediaType (JSON and YAML remain accepted for every kind).
 */
import {
  ApiError, apiVersionOf, badRequest, defaultSchemaRegistry, unsupportedMediaType, type GroupVersionKind, type SchemaRegistry,
} from '@tskube/api';
import type { Root, Type } from 'protobufjs';
import { ProtobufDecodeError, ProtobufJsonConverter } from './convert.js';
import { DELETE_OPTIONS_SCHEMA, protobufMessageFor } from './kinds.js';
import { kubernetesProtos } from './proto-root.js';

export const PROTOBUF_MEDIA_TYPE = 'application/vnd.kubernetes.protobuf';
/** `k8s\0`: the first four bytes of every Kubernetes protobuf body. */
export const PROTOBUF_MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

export { protobufKinds, protobufMessageFor } from './kinds.js';
export { ProtobufDecodeError, ProtobufJsonConverter, unknownFieldKey } from './convert.js';
export { kubernetesProtos, loadProtoRoot, protoDir } from './proto-root.js';

export interface ProtobufDecodeOptions {
  /** Defaults to the generated schemas. */
  registry?: SchemaRegistry;
  /** Defaults to the parsed proto/k8s files ({@link kubernetesProtos}). */
  root?: Root;
}

/** The envelope: which kind the body holds and its encoding. */
export interface ProtobufEnvelope {
  apiVersion: string;
  kind: string;
  raw: Uint8Array;
  contentEncoding: string;
  contentType: string;
}

const converters = new WeakMap<SchemaRegistry, ProtobufJsonConverter>();

function converterFor(reg: SchemaRegistry): ProtobufJsonConverter {
  let c = converters.get(reg);
  if (!c) {
    c = new ProtobufJsonConverter(reg);
    converters.set(reg, c);
  }
  return c;
}

function malformed(gvk: GroupVersionKind, why: string): ApiError {
  return badRequest(`the protobuf body of ${gvk.kind} could not be decoded: ${why}`);
}

/** Splits a body into its envelope fields; 400 when it is not a protobuf envelope. */
export function decodeEnvelope(raw: Buffer, root: Root = kubernetesProtos()): ProtobufEnvelope {
  if (raw.length < PROTOBUF_MAGIC.length || !raw.subarray(0, PROTOBUF_MAGIC.length).equals(PROTOBUF_MAGIC)) {
    // upstream's wording (k8s.io/apimachinery protobuf serializer)
    throw badRequest(`provided data does not appear to be a protobuf message, expected prefix [${[...PROTOBUF_MAGIC].join(' ')}]`);
  }
  const unknownType = root.lookupType('k8s.io.apimachinery.pkg.runtime.Unknown');
  let msg: Record<string, unknown>;
  try {
    msg = unknownType.toObject(unknownType.decode(raw.subarray(PROTOBUF_MAGIC.length)), { defaults: true });
  } catch (e) {
    throw badRequest(`the protobuf envelope could not be decoded: ${e instanceof Error ? e.message : String(e)}`);
  }
  const tm = (msg.typeMeta ?? {}) as { apiVersion?: string; kind?: string };
  return {
    apiVersion: tm.apiVersion ?? '',
    kind: tm.kind ?? '',
    raw: (msg.raw as Uint8Array | undefined) ?? new Uint8Array(0),
    contentEncoding: (msg.contentEncoding as string | undefined) ?? '',
    contentType: (msg.contentType as string | undefined) ?? '',
  };
}

function parseApiVersion(apiVersion: string): { group: string; version: string } {
  const i = apiVersion.indexOf('/');
  return i < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
}

/**
 * Decodes an envelope (`k8s\0` + runtime.Unknown) into the JSON-shaped object it encodes,
 * with `apiVersion`/`kind` from the envelope. The envelope's kind decides the message (the
 * caller compares it with the endpoint's, as for JSON bodies); an envelope without a kind
 * is read as `gvk`. Pure apart from parsing the .proto files once per process.
 */
export function decodeProtobuf(raw: Buffer, gvk: GroupVersionKind, opts: ProtobufDecodeOptions = {}): unknown {
  const root = opts.root ?? kubernetesProtos();
  const env = decodeEnvelope(raw, root);
  if (env.contentEncoding !== '' || (env.contentType !== '' && env.contentType !== PROTOBUF_MEDIA_TYPE)) {
    throw unsupportedMediaType(`${PROTOBUF_MEDIA_TYPE} (content encoding "${env.contentEncoding}", content type "${env.contentType}")`,
      ['application/json', 'application/yaml', PROTOBUF_MEDIA_TYPE]);
  }
  const target: GroupVersionKind = env.kind ? { ...parseApiVersion(env.apiVersion), kind: env.kind } : gvk;
  if (gvk.kind === 'DeleteOptions' && target.kind !== 'DeleteOptions') {
    // the handler reads DeleteOptions fields without checking the kind itself
    throw badRequest(`the object provided is unrecognized (must be of type DeleteOptions): kind "${target.kind}" does not match`);
  }
  const messageName = protobufMessageFor(target);
  if (!messageName) {
    throw unsupportedMediaType(`${PROTOBUF_MEDIA_TYPE} (no protobuf definition for ${target.kind} in ${apiVersionOf(target) || 'the empty version'})`,
      ['application/json', 'application/yaml']);
  }
  const type: Type = root.lookupType(messageName);
  const reg = opts.registry ?? defaultSchemaRegistry();
  const schemaName = target.kind === 'DeleteOptions' ? DELETE_OPTIONS_SCHEMA : reg.nameForKind(target);
  const schema = schemaName ? reg.get(schemaName) : undefined;
  let body: unknown;
  try {
    body = converterFor(reg).toJson(type, env.raw, schema);
  } catch (e) {
    if (e instanceof ProtobufDecodeError) throw malformed(target, e.message);
    throw e;
  }
  const obj = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  return {
    ...(env.apiVersion ? { apiVersion: env.apiVersion } : {}),
    ...(env.kind ? { kind: env.kind } : {}),
    ...obj,
  };
}
