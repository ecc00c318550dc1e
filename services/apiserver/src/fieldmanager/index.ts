/**
 * Field management (metadata.managedFields) and server-side apply. The handler calls this
 * for every write: `update` for creates, updates and non-apply patches (records an "Update"
 * operation by the manager), `apply` for `application/apply-patch+yaml` patches.
 *
 * The implementation is StructuredFieldManager (./field-manager.ts; design in
 * docs/field-management.md); NoopFieldManager keeps whatever managedFields writes
 * carry and refuses apply patches with 415 (for tests that do not care).
 */
import { unsupportedMediaType, type GroupVersionKind, type KubeObject } from '@tskube/api';

export interface FieldManagerContext {
  /** ?fieldManager=, else derived from the User-Agent like upstream ("kubectl", "kube-scheduler"). */
  manager: string;
  /** '' for the main resource, 'status', 'scale' … */
  subresource: string;
  gvk: GroupVersionKind;
  now: Date;
}

export interface FieldManager {
  /** A create (`live` null) or an update/patch that is not an apply: returns the object to store. */
  update(next: KubeObject, live: KubeObject | null, ctx: FieldManagerContext): KubeObject;
  /**
   * Server-side apply of `applied` (a decoded, partial object) onto `live` (null: create).
   * Returns the object to store; throws a 409 Conflict with FieldManagerConflict causes when
   * another manager owns a changed field and `force` is false. `name` is the name on the URL
   * (the applied object must match it; it must carry it to create).
   */
  apply(live: KubeObject | null, applied: KubeObject, ctx: FieldManagerContext & { force: boolean; name?: string }): KubeObject;
}

export class NoopFieldManager implements FieldManager {
  update(next: KubeObject): KubeObject {
    return next;
  }
  apply(): KubeObject {
    throw unsupportedMediaType('application/apply-patch+yaml', ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json']);
  }
}

/** Upstream's default manager name: the User-Agent's program name ("kubectl/v1.32.4 (…)" → "kubectl"). */
export function managerFromUserAgent(ua: string | undefined): string {
  const prog = (ua ?? '').split('/')[0]?.trim();
  return prog || 'unknown';
}

export { StructuredFieldManager, LAST_APPLIED_ANNOTATION, type StructuredFieldManagerOptions } from './field-manager.js';
export { toScaleManagedFields, toParentManagedFields, type ScaleMapping } from './scale.js';
export { fieldManagerFor } from './wiring.js';
