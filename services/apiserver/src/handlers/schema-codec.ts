/**
 * The BodyCodec over @tskube/api's schemas: strict JSON/YAML parsing, typed decoding and
 * the merge keys for strategic merge patch, all driven by the generated OpenAPI schemas.
 */
import {
  ApiError, badRequest, decodeBody, decodeRequestBody, defaultSchemaRegistry, parseJsonStrict, parseYamlStrict, refName,
  schemaForKind, type GroupVersionKind, type OpenApiSchema, type SchemaRegistry,
} from '@tskube/api';
import type { PatchSchema } from '../patch/patch.js';
import type { BodyCodec, ParsedBody } from './codec.js';
import type { FieldValidation } from './negotiation.js';
import { decodeProtobuf } from '../protobuf/index.js';

/** Walks OpenAPI schemas for SMP: merge keys and strategies from the x-kubernetes extensions. */
class SchemaPatchView implements PatchSchema {
  constructor(private readonly reg: SchemaRegistry, private readonly s: OpenApiSchema) {}

  private resolve(s: OpenApiSchema | undefined): OpenApiSchema | undefined {
    let cur = s;
    for (let i = 0; cur && i < 8; i++) {
      const name = refName(cur);
      if (!name) return cur;
      cur = this.reg.get(name);
    }
    return cur;
  }

  private wrap(s: OpenApiSchema | undefined, ext?: OpenApiSchema): PatchSchema | undefined {
    const r = this.resolve(s);
    if (!r) return undefined;
    // Extensions on the property (not on the referenced type) carry the patch metadata.
    return new SchemaPatchView(this.reg, ext ? { ...r, ...pickExtensions(ext) } : r);
  }

  field(name: string): PatchSchema | undefined {
    const props = this.resolve(this.s)?.properties;
    const p = props?.[name];
    return p ? this.wrap(p, p) : undefined;
  }

  elements(): PatchSchema | undefined {
    const r = this.resolve(this.s);
    const items = r?.items ?? (typeof r?.additionalProperties === 'object' ? r.additionalProperties : undefined);
    return items ? this.wrap(items as OpenApiSchema) : undefined;
  }

  get mergeKey(): string | undefined { return this.s['x-kubernetes-patch-merge-key'] as string | undefined; }
  get strategy(): string | undefined { return this.s['x-kubernetes-patch-strategy'] as string | undefined; }
}

function pickExtensions(s: OpenApiSchema): OpenApiSchema {
  const out: OpenApiSchema = {};
  for (const [k, v] of Object.entries(s)) if (k.startsWith('x-kubernetes-patch')) (out as Record<string, unknown>)[k] = v;
  return out;
}

export class SchemaCodec implements BodyCodec {
  private readonly reg: SchemaRegistry;
  constructor(reg?: SchemaRegistry) {
    this.reg = reg ?? defaultSchemaRegistry();
  }

  parse(raw: Buffer, format: 'json' | 'yaml'): ParsedBody {
    const text = raw.toString('utf8');
    try {
      const p = format === 'yaml' ? parseYamlStrict(text) : parseJsonStrict(text);
      return { value: p.value, duplicateErrors: p.duplicateErrors };
    } catch (e) {
      if (e instanceof ApiError) throw e;
      throw badRequest(`invalid ${format.toUpperCase()} body: ${(e as Error).message}`);
    }
  }

  decodeRequest(raw: Buffer, format: 'json' | 'yaml', gvk: GroupVersionKind, fv: FieldValidation) {
    return decodeRequestBody(raw, gvk, { fieldValidation: fv, mediaType: format === 'yaml' ? 'application/yaml' : 'application/json', registry: this.reg });
  }

  decode(value: unknown, gvk: GroupVersionKind, fv: FieldValidation, duplicateErrors: readonly string[] = []) {
    return decodeBody(value, gvk, { fieldValidation: fv, duplicateErrors, registry: this.reg });
  }

  decodeProtobuf(raw: Buffer, gvk: GroupVersionKind): unknown {
    return decodeProtobuf(raw, gvk);
  }

  patchSchema(gvk: GroupVersionKind): PatchSchema | undefined {
    const s = schemaForKind(gvk);
    return s ? new SchemaPatchView(this.reg, s.schema) : undefined;
  }
}
