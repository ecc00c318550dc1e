/**
 * The OpenAPI v3 component schemas of every API type, generated at build time by
 * `scripts/gen-schemas.mjs` into `packages/api/generated/schemas.json` (not committed).
 *
 * Schemas are named like upstream (`io.k8s.api.core.v1.Pod`,
 * `io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta`); references are
 * `#/components/schemas/<name>`, either bare (`{$ref}`) or wrapped as `{allOf: [{$ref}]}` when
 * the property carries its own description or patch extensions.
 *
 * The registry is read-only: callers must not mutate the schema objects it hands out (they
 * are shared by every OpenAPI document and decoder built from it).
 */
import { readFileSync } from 'node:fs';
import type { GroupVersionKind } from '../resources.js';
import { METRICS_SCHEMAS } from './metrics-schemas.js';

/** The subset of an OpenAPI 3.0 schema object that our generated schemas use. */
export interface OpenApiSchema {
  description?: string;
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  format?: string;
  properties?: Record<string, OpenApiSchema>;
  additionalProperties?: OpenApiSchema | boolean;
  items?: OpenApiSchema;
  required?: string[];
  $ref?: string;
  allOf?: OpenApiSchema[];
  oneOf?: OpenApiSchema[];
  'x-kubernetes-group-version-kind'?: GroupVersionKind[];
  'x-kubernetes-patch-merge-key'?: string;
  'x-kubernetes-patch-strategy'?: string;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
}

export const SCHEMA_REF_PREFIX = '#/components/schemas/';

/** Well-known schema names the decoder and document builders special-case. */
export const SchemaNames = {
  quantity: 'io.k8s.apimachinery.pkg.api.resource.Quantity',
  intOrString: 'io.k8s.apimachinery.pkg.util.intstr.IntOrString',
  time: 'io.k8s.apimachinery.pkg.apis.meta.v1.Time',
  microTime: 'io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime',
  rawExtension: 'io.k8s.apimachinery.pkg.runtime.RawExtension',
  fieldsV1: 'io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1',
  patch: 'io.k8s.apimachinery.pkg.apis.meta.v1.Patch',
  status: 'io.k8s.apimachinery.pkg.apis.meta.v1.Status',
  deleteOptions: 'io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions',
  watchEvent: 'io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent',
  objectMeta: 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta',
} as const;

/** The name a `$ref` (or an `allOf: [{$ref}]` wrapper) points at, if the schema is a reference. */
export function refName(schema: OpenApiSchema | undefined): string | undefined {
  const r = schema?.$ref ?? (schema?.allOf?.length === 1 ? schema.allOf[0]?.$ref : undefined);
  return r?.startsWith(SCHEMA_REF_PREFIX) ? r.slice(SCHEMA_REF_PREFIX.length) : undefined;
}

const gvkKey = (g: GroupVersionKind) => `${g.group}/${g.version}/${g.kind}`;

export class SchemaRegistry {
  private readonly byGvk = new Map<string, string>();

  /** `schemas` is owned by the registry from now on and must not be changed by the caller. */
  constructor(private readonly schemas: Readonly<Record<string, OpenApiSchema>>) {
    for (const [name, s] of Object.entries(schemas)) {
      for (const gvk of s['x-kubernetes-group-version-kind'] ?? []) {
        // First wins; generated names are sorted, so this is deterministic.
        if (!this.byGvk.has(gvkKey(gvk))) this.byGvk.set(gvkKey(gvk), name);
      }
    }
  }

  /**
   * Reads a generated schemas.json. Throws an Error saying how to produce it when the file is
   * missing (the generated directory is not committed).
   */
  static fromFile(file: string | URL): SchemaRegistry {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        throw new Error(`tskube API schemas not generated: ${String(file)} is missing; run \`npm run build\` ` +
          '(or `npm run gen -w @tskube/api`) at the repository root');
      }
      throw e;
    }
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || !('schemas' in parsed)) {
      throw new Error(`${String(file)} is not a generated schemas file; rerun \`npm run gen -w @tskube/api -- --force\``);
    }
    // Hand-written schemas of kinds kubernetes-types lacks (metrics.k8s.io) join the generated ones.
    return new SchemaRegistry({ ...(parsed as { schemas: Record<string, OpenApiSchema> }).schemas, ...METRICS_SCHEMAS });
  }

  /** Every schema name, sorted. */
  names(): string[] {
    return Object.keys(this.schemas).sort();
  }

  /** The schema, or undefined when no schema has that name. Read-only. */
  get(name: string): OpenApiSchema | undefined {
    return Object.prototype.hasOwnProperty.call(this.schemas, name) ? this.schemas[name] : undefined;
  }

  /** Like get, but throws when the name is unknown (a programming error, not a client one). */
  require(name: string): OpenApiSchema {
    const s = this.get(name);
    if (!s) throw new Error(`unknown API schema ${name}`);
    return s;
  }

  /**
   * The schema name whose `x-kubernetes-group-version-kind` lists this GVK (e.g.
   * {group:'apps',version:'v1',kind:'Deployment'} → io.k8s.api.apps.v1.Deployment;
   * DeleteOptions in any served group version → the meta/v1 schema). Undefined if none.
   */
  nameForKind(gvk: GroupVersionKind): string | undefined {
    return this.byGvk.get(gvkKey(gvk));
  }

  /**
   * `names` plus every schema they reference, transitively; sorted. Throws on an unknown name.
   */
  closure(names: Iterable<string>): string[] {
    const seen = new Set<string>();
    const visit = (node: unknown): void => {
      if (Array.isArray(node)) { for (const n of node) visit(n); return; }
      if (typeof node !== 'object' || node === null) return;
      for (const [k, v] of Object.entries(node)) {
        if (k === '$ref' && typeof v === 'string' && v.startsWith(SCHEMA_REF_PREFIX)) add(v.slice(SCHEMA_REF_PREFIX.length));
        else if (typeof v === 'object') visit(v); // skips description strings cheaply
      }
    };
    const add = (name: string): void => {
      if (seen.has(name)) return;
      seen.add(name);
      visit(this.require(name));
    };
    for (const n of names) add(n);
    return [...seen].sort();
  }

  /** The closure of `names` as a components.schemas object (shared, read-only schema objects). */
  closureSchemas(names: Iterable<string>): Record<string, OpenApiSchema> {
    const out: Record<string, OpenApiSchema> = {};
    for (const n of this.closure(names)) out[n] = this.require(n);
    return out;
  }
}

const GENERATED_FILE = new URL('../../generated/schemas.json', import.meta.url);
let defaultRegistry: SchemaRegistry | undefined;

/**
 * The registry of the generated schemas (packages/api/generated/schemas.json), loaded on first
 * use and cached for the life of the process; it never changes at run time.
 */
export function defaultSchemaRegistry(): SchemaRegistry {
  defaultRegistry ??= SchemaRegistry.fromFile(GENERATED_FILE);
  return defaultRegistry;
}

/** `defaultSchemaRegistry().get(name)`. */
export function getSchema(name: string): OpenApiSchema | undefined {
  return defaultSchemaRegistry().get(name);
}

/** The schema of a kind, with its name; undefined when the GVK has no schema. */
export function schemaForKind(gvk: GroupVersionKind): { name: string; schema: OpenApiSchema } | undefined {
  const reg = defaultSchemaRegistry();
  const name = reg.nameForKind(gvk);
  return name === undefined ? undefined : { name, schema: reg.require(name) };
}

/** `defaultSchemaRegistry().closureSchemas(names)`. */
export function schemaClosure(names: Iterable<string>): Record<string, OpenApiSchema> {
  return defaultSchemaRegistry().closureSchemas(names);
}
