/**
 * The resource table: every kind tskube serves, with what discovery, routing, storage and
 * OpenAPI need to know about it. One row per resource; adding a resource starts here.
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
}

export function apiVersionOf(r: { group: string; version: string }): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

export function groupVersionPath(r: { group: string; version: string }): string {
  return r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
}

interface Row {
  group: string; version: string; kind: string; plural: string;
  namespaced: boolean; shortNames?: string[]; categories?: string[];
  verbs?: Verb[]; subresources?: SubresourceDef[]; schemaPackage: string; storagePrefix?: string;
}

const sub = (name: string, kind: GroupVersionKind, verbs: Verb[]): SubresourceDef => ({ name, kind, verbs });
const RW: Verb[] = ['get', 'patch', 'update'];

function row(r: Row): ResourceDef {
  return {
    group: r.group, version: r.version, kind: r.kind, listKind: `${r.kind}List`,
    plural: r.plural, singular: r.kind.toLowerCase(), namespaced: r.namespaced,
    shortNames: r.shortNames ?? [], categories: r.categories ?? [],
    verbs: r.verbs ?? [...ALL_VERBS], subresources: r.subresources ?? [],
    schema: `io.k8s.api.${r.schemaPackage}.${r.version}.${r.kind}`,
    storagePrefix: r.storagePrefix ?? r.plural,
  };
}

const core = (kind: string) => ({ group: '', version: 'v1', kind });

export const RESOURCES: readonly ResourceDef[] = [
  row({
    group: '', version: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false, shortNames: ['ns'],
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], schemaPackage: 'core',
    subresources: [sub('status', core('Namespace'), RW), sub('finalize', core('Namespace'), ['update'])],
  }),
  row({
    group: '', version: 'v1', kind: 'Pod', plural: 'pods', namespaced: true, shortNames: ['po'], categories: ['all'],
    schemaPackage: 'core',
    subresources: [
      sub('binding', core('Binding'), ['create']),
      sub('log', core('Pod'), ['get']),
      sub('status', core('Pod'), RW),
    ],
  }),
  row({
    group: '', version: 'v1', kind: 'Binding', plural: 'bindings', namespaced: true, verbs: ['create'],
    schemaPackage: 'core',
  }),
  row({
    group: '', version: 'v1', kind: 'Node', plural: 'nodes', namespaced: false, shortNames: ['no'], schemaPackage: 'core',
    storagePrefix: 'minions',
    subresources: [sub('status', core('Node'), RW)],
  }),
  row({
    group: '', version: 'v1', kind: 'Event', plural: 'events', namespaced: true, shortNames: ['ev'], schemaPackage: 'core',
  }),
  row({
    group: 'apps', version: 'v1', kind: 'ReplicaSet', plural: 'replicasets', namespaced: true, shortNames: ['rs'],
    categories: ['all'], schemaPackage: 'apps',
    subresources: [
      sub('scale', { group: 'autoscaling', version: 'v1', kind: 'Scale' }, RW),
      sub('status', { group: 'apps', version: 'v1', kind: 'ReplicaSet' }, RW),
    ],
  }),
  row({
    group: 'coordination.k8s.io', version: 'v1', kind: 'Lease', plural: 'leases', namespaced: true,
    schemaPackage: 'coordination',
  }),
];

/** Groups in the order discovery lists them (the first version listed is preferred). */
export function groupVersions(resources: readonly ResourceDef[] = RESOURCES): { group: string; versions: string[] }[] {
  const out: { group: string; versions: string[] }[] = [];
  for (const r of resources) {
    let g = out.find((x) => x.group === r.group);
    if (!g) { g = { group: r.group, versions: [] }; out.push(g); }
    if (!g.versions.includes(r.version)) g.versions.push(r.version);
  }
  return out;
}

/** Lookup by (group, version, plural). */
export class ResourceRegistry {
  private readonly byPath = new Map<string, ResourceDef>();
  private readonly byKind = new Map<string, ResourceDef>();
  constructor(readonly all: readonly ResourceDef[] = RESOURCES) {
    for (const r of all) {
      this.byPath.set(`${r.group}/${r.version}/${r.plural}`, r);
      this.byKind.set(`${r.group}/${r.version}/${r.kind}`, r);
    }
  }
  lookup(group: string, version: string, plural: string): ResourceDef | undefined {
    return this.byPath.get(`${group}/${version}/${plural}`);
  }
  lookupKind(group: string, version: string, kind: string): ResourceDef | undefined {
    return this.byKind.get(`${group}/${version}/${kind}`);
  }
  hasGroupVersion(group: string, version: string): boolean {
    return this.all.some((r) => r.group === group && r.version === version);
  }
  inGroupVersion(group: string, version: string): ResourceDef[] {
    return this.all.filter((r) => r.group === group && r.version === version);
  }
}
