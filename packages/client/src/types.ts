/**
 * Shared client types: how a resource is named, the option objects of every verb, and the
 * read-only view of cached objects.
 */
import type {
  ConfigMap, ControllerRevision, CronJob, DaemonSet, Deployment, EndpointSlice, Endpoints, Event, Job, Lease, ListMeta,
  Namespace, Node, ObjectMeta, PersistentVolume, PersistentVolumeClaim, Pod, PodDisruptionBudget, PriorityClass,
  ReplicaSet, ReplicationController, ResourceDef, Secret, Service, ServiceAccount, StatefulSet,
} from '@tskube/api';
import { RESOURCES } from '@tskube/api';

/**
 * The least an API object has. Every generic in this package is constrained by it, so the
 * `kubernetes-types` interfaces (Pod, Node, …) fit as they are (they have no index signature,
 * so they would not fit `KubeObject`).
 */
export interface ApiObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
}

/**
 * A cached object as listers and informer handlers hand it out: every property at every
 * depth is `readonly`, so `pod.spec.nodeName = 'x'` does not compile. Arrays keep their
 * mutating methods in the type (so these objects can still be passed to `@tskube/api`
 * helpers that take the mutable types); calling `push`/`splice` on them is just as wrong.
 * To change a cached object, `clone()` it first and write the copy through the client.
 */
export type DeepReadonly<T> =
  T extends (infer E)[] ? DeepReadonly<E>[]
    : T extends object ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
      : T;

/** The inverse of `DeepReadonly`: what `clone()` returns. Assignable to the original type. */
export type DeepWritable<T> =
  T extends (infer E)[] ? DeepWritable<E>[]
    : T extends object ? { -readonly [K in keyof T]: DeepWritable<T[K]> }
      : T;

/**
 * A deep copy of a (cached, read-only) object that the caller owns and may change.
 * `const pod = clone(lister.get(key)!); pod.metadata.labels = {...}; await pods.update(pod);`
 */
export function clone<T>(obj: T): DeepWritable<T> {
  return structuredClone(obj) as DeepWritable<T>;
}

/**
 * Names a resource on the wire. `N` records at the type level whether it is namespaced, which
 * picks the accessor shape `Client.resource()` returns; `T` is the object type (type-only).
 * A `ResourceDef` from `@tskube/api`'s RESOURCES is a `ResourceType<KubeObject, boolean>`.
 */
export interface ResourceType<T extends ApiObject = ApiObject, N extends boolean = boolean> {
  readonly group: string;
  readonly version: string;
  /** Plural, lower case: the URL segment ("pods"). */
  readonly plural: string;
  readonly namespaced: N;
  /** Kind ("Pod"): filled into list items that arrive without one, and used in errors. */
  readonly kind?: string;
  /** Type-level marker only; never set. */
  readonly __object?: T;
}

function typed<T extends ApiObject, N extends boolean>(plural: string, namespaced: N, group?: string): ResourceType<T, N> {
  const def = RESOURCES.find((r) => r.plural === plural && (group === undefined || r.group === group));
  if (!def || def.namespaced !== namespaced) throw new Error(`resource table has no ${namespaced ? 'namespaced' : 'cluster-scoped'} "${plural}"`);
  return { group: def.group, version: def.version, plural: def.plural, kind: def.kind, namespaced };
}

/** Typed descriptors for the resources tskube serves (from `@tskube/api`'s RESOURCES). */
export const Resources = {
  pods: typed<Pod, true>('pods', true),
  nodes: typed<Node, false>('nodes', false),
  namespaces: typed<Namespace, false>('namespaces', false),
  events: typed<Event, true>('events', true),
  replicaSets: typed<ReplicaSet, true>('replicasets', true),
  leases: typed<Lease, true>('leases', true),
  deployments: typed<Deployment, true>('deployments', true),
  statefulSets: typed<StatefulSet, true>('statefulsets', true),
  daemonSets: typed<DaemonSet, true>('daemonsets', true),
  controllerRevisions: typed<ControllerRevision, true>('controllerrevisions', true),
  replicationControllers: typed<ReplicationController, true>('replicationcontrollers', true),
  jobs: typed<Job, true>('jobs', true),
  cronJobs: typed<CronJob, true>('cronjobs', true),
  services: typed<Service, true>('services', true),
  endpoints: typed<Endpoints, true>('endpoints', true),
  endpointSlices: typed<EndpointSlice, true>('endpointslices', true),
  serviceAccounts: typed<ServiceAccount, true>('serviceaccounts', true),
  configMaps: typed<ConfigMap, true>('configmaps', true),
  secrets: typed<Secret, true>('secrets', true),
  persistentVolumeClaims: typed<PersistentVolumeClaim, true>('persistentvolumeclaims', true),
  persistentVolumes: typed<PersistentVolume, false>('persistentvolumes', false),
  priorityClasses: typed<PriorityClass, false>('priorityclasses', false),
  podDisruptionBudgets: typed<PodDisruptionBudget, true>('poddisruptionbudgets', true),
} as const;

/** A typed descriptor for a namespaced row of the resource table; throws if it is cluster-scoped. */
export function namespacedType<T extends ApiObject = ApiObject>(def: ResourceDef): ResourceType<T, true> {
  if (!def.namespaced) throw new Error(`${def.plural} is cluster-scoped`);
  return { group: def.group, version: def.version, plural: def.plural, kind: def.kind, namespaced: true };
}

/** A typed descriptor for a cluster-scoped row of the resource table; throws if it is namespaced. */
export function clusterType<T extends ApiObject = ApiObject>(def: ResourceDef): ResourceType<T, false> {
  if (def.namespaced) throw new Error(`${def.plural} is namespaced`);
  return { group: def.group, version: def.version, plural: def.plural, kind: def.kind, namespaced: false };
}

/** "pods" or "replicasets.apps": how upstream names a resource in messages. */
export function groupResource(rt: ResourceType): { group: string; resource: string } {
  return { group: rt.group, resource: rt.plural };
}

export function apiVersionOfType(rt: { group: string; version: string }): string {
  return rt.group ? `${rt.group}/${rt.version}` : rt.version;
}

// ---- per-request options ----

export interface RequestOptions {
  /** Aborts the request (and, for watches, the stream). */
  signal?: AbortSignal;
  /** Client-side timeout until the response (headers, for streams) arrives; default from the client. */
  timeoutMs?: number;
}

export interface GetOptions extends RequestOptions {
  /** "" (default): latest from storage; "0": any cached version. */
  resourceVersion?: string;
}

export interface ListOptions extends RequestOptions {
  /** Only for namespaced resources; omitted = all namespaces. */
  namespace?: string;
  /** `?labelSelector=`, e.g. "app=web,tier in (a,b)" (see `selectorString` in @tskube/api). */
  labelSelector?: string;
  /** `?fieldSelector=`, e.g. "spec.nodeName=n1". */
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
}

export interface ListResult<T> {
  apiVersion?: string;
  kind?: string;
  metadata: ListMeta;
  items: T[];
}

export interface WatchOptions extends RequestOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Changes after this version; omitted or "0": synthetic ADDED for current objects first. */
  resourceVersion?: string;
  allowWatchBookmarks?: boolean;
  /** Server closes the stream after this long. */
  timeoutSeconds?: number;
}

export interface WriteOptions extends RequestOptions {
  /** `?fieldManager=`; required by the server for apply patches (the client fills in its component name). */
  fieldManager?: string;
  /** `?dryRun=All`. */
  dryRun?: boolean;
}

export type PatchType = 'merge' | 'strategic' | 'json' | 'apply';

export const PATCH_CONTENT_TYPES: Readonly<Record<PatchType, string>> = {
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  json: 'application/json-patch+json',
  apply: 'application/apply-patch+yaml',
};

/** One RFC 6902 operation. */
export type JsonPatchOperation =
  | { op: 'add' | 'replace' | 'test'; path: string; value: unknown }
  | { op: 'remove'; path: string }
  | { op: 'move' | 'copy'; from: string; path: string };

/** JSON patches are operation lists; the other types take a partial object. */
export type PatchBody<P extends PatchType> = P extends 'json' ? readonly JsonPatchOperation[] : object;

export interface PatchOptions extends WriteOptions {
  /** Apply patches only: take over fields owned by other managers. */
  force?: boolean;
}

export interface DeleteOptions extends RequestOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  /** The delete fails with 409 Conflict unless the stored object still has this uid/resourceVersion. */
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
}

/** Options of `raw()` and `getStream()`. */
export interface RawOptions extends RequestOptions {
  query?: Readonly<Record<string, string | number | boolean | undefined>>;
  /** JSON-encoded unless it is a string or Buffer. */
  body?: unknown;
  contentType?: string;
  accept?: string;
}
