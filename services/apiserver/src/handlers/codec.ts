/**
 * Request-body decoding behind one interface, so handlers do not care how bodies are parsed
 * or checked against schemas.
 */
import type { GroupVersionKind, KubeObject } from '@tskube/api';
import type { PatchSchema } from '../patch/patch.js';
import type { FieldValidation } from './negotiation.js';

export interface ParsedBody {
  value: unknown;
  /** Strict-decoding errors for fields that appeared twice (`duplicate field "metadata.name"`). */
  duplicateErrors: string[];
}

export interface BodyCodec {
  /** Parses JSON or YAML text; malformed input is a 400. */
  parse(raw: Buffer, format: 'json' | 'yaml'): ParsedBody;
  /** parse + decode in one step, with upstream's wording for bodies that do not parse. */
  decodeRequest(raw: Buffer, format: 'json' | 'yaml', gvk: GroupVersionKind, fv: FieldValidation): { object: KubeObject; warnings: string[] };
  /**
   * Typed decoding against the kind's schema: unknown fields are dropped (400 under Strict,
   * warnings under Warn), wrong types are a 400.
   */
  decode(value: unknown, gvk: GroupVersionKind, fv: FieldValidation, duplicateErrors?: readonly string[]): { object: KubeObject; warnings: string[] };
  /** A Kubernetes protobuf body as the JSON-shaped object it encodes (415 for kinds it cannot decode). */
  decodeProtobuf(raw: Buffer, gvk: GroupVersionKind): unknown;
  /** Merge keys and strategies for strategic merge patch of this kind. */
  patchSchema(gvk: GroupVersionKind): PatchSchema | undefined;
}
