/**
 * A resource is types plus a strategy (design habit 2): the small per-kind hooks the
 * generic store calls in a fixed order. Status subresources get their own strategy: the
 * main resource ignores status changes and /status ignores spec changes.
 */
import type { FieldError, KubeObject, TableColumnDefinition } from '@tskube/api';

export interface TableConvertor {
  columns: TableColumnDefinition[];
  /** Cells in column order; `now` makes ages deterministic in tests. */
  cells(obj: KubeObject, now: Date): unknown[];
}

export interface Strategy {
  /** Upstream scheme defaulting: fills unset fields of a decoded body (create and update). */
  applyDefaults?(obj: KubeObject): void;
  /** Clears what a client may not set on create (status, …). */
  prepareForCreate(obj: KubeObject): void;
  /** Carries over what a client may not change on update (e.g. status for the main resource). */
  prepareForUpdate(obj: KubeObject, old: KubeObject): void;
  validate(obj: KubeObject): FieldError[];
  validateUpdate(obj: KubeObject, old: KubeObject): FieldError[];
  /** metadata.generation starts at 1 and grows with every spec change. */
  hasGeneration: boolean;
  /** PUT of a missing object creates it. */
  allowCreateOnUpdate: boolean;
  /** PUT without metadata.resourceVersion is accepted (last write wins). */
  allowUnconditionalUpdate: boolean;
  /** Fields for field selectors besides metadata.name/namespace (missing values are ""). */
  selectableFields?(obj: KubeObject): Record<string, string>;
  /** Objects expire this many seconds after their last write (events); unset: never. */
  ttlSeconds?: number;
  /**
   * Graceful deletion: the grace period to apply, or 0 for immediate removal.
   * Only pods are deleted gracefully today.
   */
  gracePeriodSeconds?(obj: KubeObject, requested: number | undefined): number;
  table?: TableConvertor;
}

/** Defaults for strategies of resources without spec/status split (events, leases …). */
export const plainStrategy: Omit<Strategy, 'validate' | 'validateUpdate'> = {
  prepareForCreate() {},
  prepareForUpdate() {},
  hasGeneration: false,
  allowCreateOnUpdate: false,
  allowUnconditionalUpdate: true,
};

/** The main resource keeps the stored status; only /status changes it. */
export function keepStatus(obj: KubeObject, old: KubeObject): void {
  if (old.status === undefined) delete obj.status; else obj.status = old.status;
}

/** The /status subresource keeps the stored spec (and everything but status and labels/annotations). */
export function keepSpec(obj: KubeObject, old: KubeObject): void {
  for (const k of Object.keys(obj)) if (k !== 'status' && k !== 'metadata' && k !== 'apiVersion' && k !== 'kind') delete obj[k];
  for (const [k, v] of Object.entries(old)) if (k !== 'status' && k !== 'metadata') obj[k] = v;
  if (obj.metadata && old.metadata) {
    obj.metadata.ownerReferences = old.metadata.ownerReferences;
    obj.metadata.finalizers = old.metadata.finalizers;
  }
}
