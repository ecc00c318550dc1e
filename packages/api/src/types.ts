/**
 * Object types. The wire shapes come from `kubernetes-types` (TypeScript definitions of
 * the upstream API, JSON-shaped: timestamps and quantities are strings). This module adds the
 * few generic shapes tskube needs on top of them.
 */
import type { ObjectMeta, ListMeta, Status, StatusCause, StatusDetails, OwnerReference } from 'kubernetes-types/meta/v1.js';

export type { ObjectMeta, ListMeta, Status, StatusCause, StatusDetails, OwnerReference };
export type {
  Pod, PodSpec, PodStatus, PodCondition, Container, ContainerStatus, ContainerState, Namespace,
  Node, NodeStatus, NodeCondition, NodeAddress, Event, ObjectReference, Binding, ResourceRequirements,
  Taint, Toleration, EventSource, PodTemplateSpec, Service, ServiceSpec, ServicePort, Endpoints, EndpointSubset,
  EndpointAddress, EndpointPort, ServiceAccount, ReplicationController, ReplicationControllerSpec,
  ReplicationControllerStatus, PersistentVolumeClaim, PersistentVolume, ConfigMap, Secret,
} from 'kubernetes-types/core/v1.js';
export type {
  ReplicaSet, ReplicaSetSpec, ReplicaSetStatus, Deployment, DeploymentSpec, DeploymentStatus, DeploymentCondition,
  StatefulSet, StatefulSetSpec, StatefulSetStatus, DaemonSet, DaemonSetSpec, DaemonSetStatus, ControllerRevision,
} from 'kubernetes-types/apps/v1.js';
export type { Job, JobSpec, JobStatus, JobCondition, CronJob, CronJobSpec, CronJobStatus } from 'kubernetes-types/batch/v1.js';
export type { EndpointSlice, Endpoint as SliceEndpoint, EndpointPort as SliceEndpointPort } from 'kubernetes-types/discovery/v1.js';
export type { PriorityClass } from 'kubernetes-types/scheduling/v1.js';
export type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
export type { Lease, LeaseSpec } from 'kubernetes-types/coordination/v1.js';
export type { LabelSelector, LabelSelectorRequirement } from 'kubernetes-types/meta/v1.js';

/** Removes `readonly` (kubernetes-types marks server-set fields readonly; the server sets them). */
export type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Any API object: what the generic machinery (storage, store, watch) handles. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  [field: string]: unknown;
}

/** An object whose metadata is known to be present (everything read back from storage). */
export interface StoredObject extends KubeObject {
  metadata: ObjectMeta;
}

export interface KubeList<T extends KubeObject = KubeObject> {
  apiVersion: string;
  kind: string;
  metadata: ListMeta;
  items: T[];
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchEvent<T = KubeObject> {
  type: WatchEventType;
  object: T;
}

/** meta.k8s.io/v1 Table, as `kubectl get` asks for it. */
export interface TableColumnDefinition {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  format: string;
  description: string;
  priority: number;
}

export interface TableRow {
  cells: unknown[];
  object?: KubeObject;
}

export interface Table {
  kind: 'Table';
  apiVersion: 'meta.k8s.io/v1';
  metadata: ListMeta;
  columnDefinitions: TableColumnDefinition[];
  rows: TableRow[];
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Mutable view of an object's metadata, for the server-side code that owns system fields. */
export function mutableMeta(obj: KubeObject): Mutable<ObjectMeta> {
  obj.metadata ??= {};
  return obj.metadata as Mutable<ObjectMeta>;
}

/**
 * Views a decoded object as its kind's type. The decoder checked field types against the
 * kind's schema; what a strategy receives is the kind it registered for.
 */
export function typed<T>(obj: KubeObject): T {
  return obj as unknown as T;
}
