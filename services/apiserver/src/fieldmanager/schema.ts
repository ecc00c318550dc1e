/**
 * The structure server-side apply needs to know about a type, compiled from our OpenAPI
 * schemas the way upstream's kube-openapi `schemaconv` builds structured-merge-diff schemas:
 *
 * - objects with `properties` are structs (their fields are known); `additionalProperties`
 *   gives the type of other keys (maps such as labels); an object with neither is free-form
 *   ("deduced": maps granular, lists atomic, all the way down);
 * - `x-kubernetes-map-type: atomic` makes a map or struct one leaf (on the type, or on the
 *   property that references it, which wins);
 * - lists: `x-kubernetes-list-type` atomic | set | map (+ `x-kubernetes-list-map-keys`);
 *   without it, `x-kubernetes-patch-strategy: merge` means a map-keyed list on
 *   `x-kubernetes-patch-merge-key` (a set without a key); anything else is atomic;
 * - Quantity is a scalar; RawExtension is an atomic blob; types without a `type` (IntOrString)
 *   accept any shape.
 *
 * Types are compiled lazily (fields on first use) and cached per registry, so a type is
 * built once per process and recursive schemas (JSONSchemaProps) are fine.
 */
import { defaultSchemaRegistry, refName, SchemaNames, type GroupVersionKind, type OpenApiSchema, type SchemaRegistry } from '@tskube/api';

export type ListRelationship = 'atomic' | 'associative';

export interface ListType {
  /** atomic: the list is one leaf; associative: items are addressed by key (map) or value (set). */
  readonly relationship: ListRelationship;
  /** Key field names of a map-keyed list; empty for sets and atomic lists. */
  readonly keys: readonly string[];
  readonly element: SmdType;
}

export interface FieldType {
  readonly type: SmdType;
  /**
   * A non-pointer Go struct field upstream (metadata, spec, status, a workload's template …):
   * present in every typed object, so it never counts as "added" or "removed" itself.
   */
  readonly valueStruct: boolean;
  /**
   * Listed in the struct's `required` (a Go field without omitempty upstream): present (null)
   * in every typed object whose parent exists, so it is never "added" itself either.
   */
  readonly required?: boolean;
  /** A default for a list-map key that clients may omit (ports' protocol). */
  readonly keyDefault?: unknown;
}

export interface MapType {
  /** The whole map (or struct) is one leaf. */
  readonly atomic: boolean;
  /** A declared struct field. */
  field(name: string): FieldType | undefined;
  /** The type of keys that are not declared fields; undefined: none are declared (treated as deduced). */
  readonly element: SmdType | undefined;
}

/** What a value of this type may be; the JSON value picks the branch (upstream deduceAtom). */
export interface SmdType {
  readonly scalar: boolean;
  readonly map?: MapType;
  readonly list?: ListType;
}

const SCALAR: SmdType = { scalar: true };

/** Anything, as one leaf (RawExtension, list items without a schema). */
export const UNTYPED_ATOMIC: SmdType = (() => {
  const t: { scalar: boolean; map?: MapType; list?: ListType } = { scalar: true };
  t.map = { atomic: true, field: () => undefined, element: undefined };
  t.list = { relationship: 'atomic', keys: [], element: t };
  return t;
})();

/** Free-form data: maps are granular, lists atomic (upstream `__untyped_deduced_`). */
export const DEDUCED: SmdType = (() => {
  const t: { scalar: boolean; map?: MapType; list?: ListType } = { scalar: true };
  t.map = { atomic: false, field: () => undefined, element: t };
  t.list = { relationship: 'atomic', keys: [], element: UNTYPED_ATOMIC };
  return t;
})();

/**
 * Go struct fields that are not pointers (so always present in upstream's typed objects),
 * beyond the general rule "metadata, and spec/status beside a metadata field". Keyed by
 * schema name; only structs with fields of their own need listing.
 */
const VALUE_STRUCT_FIELDS: Readonly<Record<string, readonly string[]>> = {
  'io.k8s.api.apps.v1.DeploymentSpec': ['template', 'strategy'],
  'io.k8s.api.apps.v1.ReplicaSetSpec': ['template'],
  'io.k8s.api.apps.v1.StatefulSetSpec': ['template', 'updateStrategy'],
  'io.k8s.api.apps.v1.DaemonSetSpec': ['template', 'updateStrategy'],
  'io.k8s.api.batch.v1.JobSpec': ['template'],
  'io.k8s.api.batch.v1.CronJobSpec': ['jobTemplate'],
  'io.k8s.api.core.v1.PodTemplate': ['template'],
  'io.k8s.api.core.v1.Container': ['resources'],
  'io.k8s.api.core.v1.EphemeralContainer': ['resources'],
  'io.k8s.api.core.v1.PersistentVolumeClaimSpec': ['resources'],
  'io.k8s.api.core.v1.Event': ['involvedObject', 'source'],
  'io.k8s.api.events.v1.Event': ['regarding', 'deprecatedSource'],
  'io.k8s.api.core.v1.Binding': ['target'],
  'io.k8s.api.rbac.v1.RoleBinding': ['roleRef'],
  'io.k8s.api.rbac.v1.ClusterRoleBinding': ['roleRef'],
  'io.k8s.api.autoscaling.v1.HorizontalPodAutoscalerSpec': ['scaleTargetRef'],
  'io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerSpec': ['scaleTargetRef'],
  'io.k8s.api.core.v1.NodeStatus': ['daemonEndpoints', 'nodeInfo'],
  'io.k8s.api.core.v1.NodeDaemonEndpoints': ['kubeletEndpoint'],
  'io.k8s.api.core.v1.ServiceStatus': ['loadBalancer'],
  'io.k8s.api.discovery.v1.Endpoint': ['conditions'],
};

/** Defaults of list-map key fields that upstream's OpenAPI declares (`protocol: TCP` on ports). */
const KEY_DEFAULTS: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {
  'io.k8s.api.core.v1.ContainerPort': { protocol: 'TCP' },
  'io.k8s.api.core.v1.ServicePort': { protocol: 'TCP' },
  'io.k8s.api.discovery.v1.EndpointPort': { protocol: 'TCP' },
  'io.k8s.api.core.v1.EndpointPort': { protocol: 'TCP' },
};

type Ext = Partial<Pick<OpenApiSchema, 'x-kubernetes-list-type' | 'x-kubernetes-list-map-keys' | 'x-kubernetes-patch-strategy' | 'x-kubernetes-patch-merge-key' | 'x-kubernetes-map-type'>>;

/** Compiles and caches the SMD types of one schema registry. */
export class SmdSchemas {
  private readonly named = new Map<string, SmdType>();
  private readonly kinds = new Map<string, SmdType>();

  constructor(private readonly reg: SchemaRegistry = defaultSchemaRegistry()) {}

  /** The type of a kind's objects; DEDUCED when the kind has no schema. */
  forKind(gvk: GroupVersionKind): SmdType {
    const key = `${gvk.group}/${gvk.version}/${gvk.kind}`;
    let t = this.kinds.get(key);
    if (!t) {
      const name = this.reg.nameForKind(gvk);
      t = name ? this.byName(name) : DEDUCED;
      this.kinds.set(key, t);
    }
    return t;
  }

  /** Top-level property names of a kind's schema (for the status subresource's reset fields). */
  topLevelFields(gvk: GroupVersionKind): string[] {
    const name = this.reg.nameForKind(gvk);
    const s = name ? this.reg.get(name) : undefined;
    return Object.keys(s?.properties ?? {});
  }

  /** Property names of the struct at `path` below a kind's root (['spec'] of a Pod: the PodSpec's); [] if none. */
  fieldsAt(gvk: GroupVersionKind, path: readonly string[]): string[] {
    const name = this.reg.nameForKind(gvk);
    let s = name ? this.reg.get(name) : undefined;
    for (const p of path) {
      const prop = s?.properties?.[p];
      if (!prop) return [];
      const ref = refName(prop);
      s = ref ? this.reg.get(ref) : prop;
    }
    return Object.keys(s?.properties ?? {});
  }

  byName(name: string, mapType?: 'atomic' | 'granular'): SmdType {
    const key = mapType ? `${name}#${mapType}` : name;
    let t = this.named.get(key);
    if (t) return t;
    if (name === SchemaNames.quantity) t = SCALAR;
    else if (name === SchemaNames.rawExtension) t = UNTYPED_ATOMIC;
    else {
      const s = this.reg.get(name);
      t = s ? this.compile(s, name, mapType) : DEDUCED;
    }
    this.named.set(key, t);
    return t;
  }

  /** A property's type: a reference (with the property's map-type override) or an inline schema. */
  private ref(s: OpenApiSchema, owner: string): SmdType {
    const name = refName(s);
    if (name) return this.byName(name, s['x-kubernetes-map-type']);
    return this.compile(s, owner, undefined);
  }

  private compile(s: OpenApiSchema, name: string, mapOverride: 'atomic' | 'granular' | undefined): SmdType {
    const type = s.type;
    if (type === 'object') return { scalar: false, map: this.objectType(s, name, mapOverride) };
    if (type === 'array') return { scalar: false, list: this.listType(s, name) };
    if (type) return SCALAR;
    // no type (IntOrString and the like): any shape
    return { scalar: true, map: this.objectType(s, name, mapOverride), list: this.listType(s, name) };
  }

  private objectType(s: OpenApiSchema, name: string, mapOverride: 'atomic' | 'granular' | undefined): MapType {
    const props = s.properties ?? {};
    const hasProps = Object.keys(props).length > 0;
    const ap = s.additionalProperties;
    const mapType = mapOverride ?? s['x-kubernetes-map-type'];
    const fields = new Map<string, FieldType>();
    const valueStructs = new Set(VALUE_STRUCT_FIELDS[name] ?? []);
    if ('metadata' in props && refName(props.metadata) === SchemaNames.objectMeta) {
      valueStructs.add('metadata');
      if ('spec' in props) valueStructs.add('spec');
      if ('status' in props) valueStructs.add('status');
    }
    const keyDefaults = KEY_DEFAULTS[name] ?? {};
    const required = new Set(s.required ?? []);
    let element: SmdType | undefined;
    let elementDone = false;
    const self = this;
    return {
      atomic: mapType === 'atomic',
      field(f: string): FieldType | undefined {
        if (!Object.prototype.hasOwnProperty.call(props, f)) return undefined;
        let ft = fields.get(f);
        if (ft === undefined) {
          ft = {
            type: self.ref(props[f]!, `${name}.${f}`), valueStruct: valueStructs.has(f),
            ...(required.has(f) ? { required: true } : {}), ...(f in keyDefaults ? { keyDefault: keyDefaults[f] } : {}),
          };
          fields.set(f, ft);
        }
        return ft;
      },
      get element(): SmdType | undefined {
        if (!elementDone) {
          elementDone = true;
          if (typeof ap === 'object') element = self.ref(ap, `${name}[*]`);
          else if (ap === true || !hasProps) element = DEDUCED;
        }
        return element;
      },
    };
  }

  private listType(s: OpenApiSchema, name: string): ListType {
    const { relationship, keys } = listRelationship(s);
    const items = s.items;
    let element: SmdType | undefined;
    const self = this;
    return {
      relationship, keys,
      get element(): SmdType {
        element ??= items ? self.ref(items, `${name}[]`) : UNTYPED_ATOMIC;
        return element;
      },
    };
  }
}

/** upstream getListElementRelationship: list-type first, then the patch strategy, else atomic. */
export function listRelationship(ext: Ext): { relationship: ListRelationship; keys: string[] } {
  const lt = ext['x-kubernetes-list-type'];
  if (lt === 'atomic') return { relationship: 'atomic', keys: [] };
  if (lt === 'set') return { relationship: 'associative', keys: [] };
  if (lt === 'map') return { relationship: 'associative', keys: [...(ext['x-kubernetes-list-map-keys'] ?? [])] };
  const ps = ext['x-kubernetes-patch-strategy'];
  if (ps === 'merge' || ps === 'merge,retainKeys') {
    const mk = ext['x-kubernetes-patch-merge-key'];
    return { relationship: 'associative', keys: mk ? [mk] : [] };
  }
  return { relationship: 'atomic', keys: [] };
}
