/**
 * What a row of the resource table says about a resource, and the helpers that build rows
 * (the rows themselves live in ./groups/<group>.ts, one file per API group).
 */

export type Verb = 'create' | 'delete' | 'deletecollection' | 'get' | 'list' | 'patch' | 'update' | 'watch';

export const ALL_VERBS: readonly Verb[] = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export interface GroupVersionKind { group: string; version: string; kind: string }

export interface SubresourceDef {
  /** e.g. "status", "binding", "log", "scale". */
  name: string;
  /** The kind the subresource accepts/returns (Scale lives in autoscaling/v1). */
  kind: GroupVersionKind;
  verbs: Verb[];
}

export interface ResourceDef {
  group: string;
  version: string;
  kind: string;
  listKind: string;
  /** Plural, lower case: the URL segment. */
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  verbs: Verb[];
  subresources: SubresourceDef[];
  /** Schema name in the OpenAPI components, e.g. io.k8s.api.core.v1.Pod. */
  schema: string;
  /** Key prefix in etcd under /registry (upstream layout: pods, replicasets, leases …). */
  storagePrefix: string;
  /**
   * The version objects are stored in, when it differs from this row's version (one stored
   * version, several served: autoscaling/v1 and v2 HorizontalPodAutoscalers).
   */
  storageVersion?: string;
}

export function apiVersionOf(r: { group: string; version: string }): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

export function groupVersionPath(r: { group: string; version: string }): string {
  return r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
}

export interface Row {
  group: string; version: string; kind: string; plural: string;
  namespaced: boolean; shortNames?: string[]; categories?: string[];
  verbs?: Verb[]; subresources?: SubresourceDef[]; schemaPackage: string; storagePrefix?: string;
  storageVersion?: string; singular?: string;
}

export const sub = (name: string, kind: GroupVersionKind, verbs: Verb[]): SubresourceDef => ({ name, kind, verbs });
export const RW: Verb[] = ['get', 'patch', 'update'];

export function row(r: Row): ResourceDef {
  return {
    group: r.group, version: r.version, kind: r.kind, listKind: `${r.kind}List`,
    plural: r.plural, singular: r.singular ?? r.kind.toLowerCase(), namespaced: r.namespaced,
    shortNames: r.shortNames ?? [], categories: r.categories ?? [],
    verbs: r.verbs ?? [...ALL_VERBS], subresources: r.subresources ?? [],
    schema: `io.k8s.api.${r.schemaPackage}.${r.version}.${r.kind}`,
    storagePrefix: r.storagePrefix ?? r.plural,
    ...(r.storageVersion ? { storageVersion: r.storageVersion } : {}),
  };
}

