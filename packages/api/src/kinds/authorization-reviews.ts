/**
 * Access reviews and self reviews (authorization.k8s.io/v1, authentication.k8s.io/v1):
 * validation of what a client asks (upstream pkg/apis/authorization/validation). The answers
 * come from the apiserver's authorizer and the request's user.
 */
import type {
  LocalSubjectAccessReview, SelfSubjectAccessReview, SelfSubjectRulesReview, SubjectAccessReview, SubjectAccessReviewSpec,
} from 'kubernetes-types/authorization/v1.js';
import type { ObjectMeta } from 'kubernetes-types/meta/v1.js';
import { field, type FieldError } from '../errors.js';
export type {
  LocalSubjectAccessReview, SelfSubjectAccessReview, SelfSubjectRulesReview, SubjectAccessReview, NonResourceRule,
} from 'kubernetes-types/authorization/v1.js';
export type { SelfSubjectReview } from 'kubernetes-types/authentication/v1.js';

/** Review objects are not stored: their metadata must be empty (managedFields aside). */
export function validateEmptyMetadata(meta: ObjectMeta | undefined): FieldError[] {
  const rest: Record<string, unknown> = { ...(meta ?? {}) };
  delete rest.managedFields;
  for (const [k, v] of Object.entries(rest)) if (v === undefined || v === null) delete rest[k];
  return Object.keys(rest).length ? [field.invalid('metadata', rest, 'must be empty')] : [];
}

function resourceXorNonResource(spec: { resourceAttributes?: unknown; nonResourceAttributes?: unknown } | undefined): FieldError[] {
  const s = spec ?? {};
  if (s.resourceAttributes && s.nonResourceAttributes) {
    return [field.invalid('spec.nonResourceAttributes', s.nonResourceAttributes, 'cannot be specified in combination with resourceAttributes')];
  }
  if (!s.resourceAttributes && !s.nonResourceAttributes) {
    return [field.invalid('spec.resourceAttributes', null, 'exactly one of nonResourceAttributes or resourceAttributes must be specified')];
  }
  return [];
}

export function validateSelfSubjectAccessReview(r: SelfSubjectAccessReview): FieldError[] {
  return [...validateEmptyMetadata(r.metadata), ...resourceXorNonResource(r.spec)];
}

function validateSARSpec(spec: SubjectAccessReviewSpec | undefined): FieldError[] {
  const errs = resourceXorNonResource(spec);
  if (!spec?.user && !spec?.groups?.length) errs.push(field.invalid('spec.user', spec?.user ?? '', 'at least one of user or group must be specified'));
  return errs;
}

export function validateSubjectAccessReview(r: SubjectAccessReview): FieldError[] {
  return [...validateEmptyMetadata(r.metadata), ...validateSARSpec(r.spec)];
}

/** Local reviews name their namespace in metadata, and the spec must agree. */
export function validateLocalSubjectAccessReview(r: LocalSubjectAccessReview, namespace: string): FieldError[] {
  const meta: ObjectMeta = { ...(r.metadata ?? {}) };
  delete meta.namespace;
  const errs = [...validateEmptyMetadata(meta), ...validateSARSpec(r.spec)];
  if (r.spec?.resourceAttributes && r.spec.resourceAttributes.namespace !== namespace) {
    errs.push(field.invalid('spec.resourceAttributes.namespace', r.spec.resourceAttributes.namespace ?? '', 'must match metadata.namespace'));
  }
  if (r.spec?.nonResourceAttributes) errs.push(field.invalid('spec.nonResourceAttributes', r.spec.nonResourceAttributes, 'disallowed on this kind of request'));
  return errs;
}

export function validateSelfSubjectRulesReview(r: SelfSubjectRulesReview): FieldError[] {
  return validateEmptyMetadata(r.metadata);
}
