/** Role, ClusterRole, RoleBinding and ClusterRoleBinding defaulting and validation (rbac.authorization.k8s.io/v1). */
import type { ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef, Subject } from 'kubernetes-types/rbac/v1.js';
import { field, type FieldError } from '../errors.js';
import { jsonEqual } from '../meta.js';
import { isDNS1123Subdomain } from '../validation.js';
import { validateLabelSelector } from './replicaset.js';
import { isValidPathSegmentName } from './autoscaling-hpa.js';
export type { ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef, Subject } from 'kubernetes-types/rbac/v1.js';

export const RBAC_GROUP = 'rbac.authorization.k8s.io';

/** RBAC object names only have to be usable as a URL path segment (`system:node` is fine). */
export const isRBACName = isValidPathSegmentName;

function defaultSubjects(subjects: Subject[] | undefined): void {
  for (const s of subjects ?? []) {
    if (s.apiGroup) continue;
    if (s.kind === 'User' || s.kind === 'Group') s.apiGroup = RBAC_GROUP;
    else if (s.kind === 'ServiceAccount') s.apiGroup = '';
  }
}

/** upstream SetDefaults_{Role,ClusterRole}Binding and SetDefaults_Subject. */
export function defaultRoleBinding(b: RoleBinding | ClusterRoleBinding): void {
  b.roleRef ??= { apiGroup: '', kind: '', name: '' };
  if (!b.roleRef.apiGroup) b.roleRef.apiGroup = RBAC_GROUP;
  defaultSubjects(b.subjects);
}

/** upstream ValidatePolicyRule. */
function validatePolicyRule(r: PolicyRule, namespaced: boolean, p: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!r.verbs?.length) errs.push(field.required(`${p}.verbs`, 'verbs must contain at least one value'));
  if (r.nonResourceURLs?.length) {
    if (namespaced) errs.push(field.invalid(`${p}.nonResourceURLs`, r.nonResourceURLs, 'namespaced rules cannot apply to non-resource URLs'));
    if (r.apiGroups?.length || r.resources?.length || r.resourceNames?.length) {
      errs.push(field.invalid(`${p}.nonResourceURLs`, r.nonResourceURLs, 'rules cannot apply to both regular resources and non-resource URLs'));
    }
    return errs;
  }
  if (!r.apiGroups?.length) errs.push(field.required(`${p}.apiGroups`, 'resource rules must supply at least one api group'));
  if (!r.resources?.length) errs.push(field.required(`${p}.resources`, 'resource rules must supply at least one resource'));
  return errs;
}

export function validateRole(role: Role): FieldError[] {
  return (role.rules ?? []).flatMap((r, i) => validatePolicyRule(r, true, `rules[${i}]`));
}

export function validateClusterRole(role: ClusterRole): FieldError[] {
  const errs = (role.rules ?? []).flatMap((r, i) => validatePolicyRule(r, false, `rules[${i}]`));
  const ar = role.aggregationRule;
  if (ar) {
    if (!ar.clusterRoleSelectors?.length) errs.push(field.required('aggregationRule.clusterRoleSelectors', 'at least one clusterRoleSelector required if aggregationRule is non-nil'));
    (ar.clusterRoleSelectors ?? []).forEach((s, i) => errs.push(...validateLabelSelector(s, `aggregationRule.clusterRoleSelectors[${i}]`)));
  }
  return errs;
}

/** upstream ValidateRoleBindingSubject. */
function validateSubject(s: Subject, namespaced: boolean, p: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!s.name) errs.push(field.required(`${p}.name`));
  switch (s.kind) {
    case 'ServiceAccount':
      if (s.name) for (const m of isDNS1123Subdomain(s.name)) errs.push(field.invalid(`${p}.name`, s.name, m));
      if (s.apiGroup) errs.push(field.notSupported(`${p}.apiGroup`, s.apiGroup, ['']));
      if (!namespaced && !s.namespace) errs.push(field.required(`${p}.namespace`));
      break;
    case 'User':
    case 'Group':
      if (s.apiGroup !== RBAC_GROUP) errs.push(field.notSupported(`${p}.apiGroup`, s.apiGroup ?? '', [RBAC_GROUP]));
      break;
    default:
      errs.push(field.notSupported(`${p}.kind`, s.kind ?? '', ['ServiceAccount', 'User', 'Group']));
  }
  return errs;
}

function validateBinding(roleRef: RoleRef | undefined, subjects: Subject[] | undefined, kinds: string[], namespaced: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const r = roleRef ?? { apiGroup: '', kind: '', name: '' };
  if (r.apiGroup !== RBAC_GROUP) errs.push(field.notSupported('roleRef.apiGroup', r.apiGroup ?? '', [RBAC_GROUP]));
  if (!kinds.includes(r.kind)) errs.push(field.notSupported('roleRef.kind', r.kind ?? '', kinds));
  if (!r.name) errs.push(field.required('roleRef.name'));
  else for (const m of isRBACName(r.name)) errs.push(field.invalid('roleRef.name', r.name, m));
  (subjects ?? []).forEach((s, i) => errs.push(...validateSubject(s, namespaced, `subjects[${i}]`)));
  return errs;
}

export function validateRoleBinding(b: RoleBinding): FieldError[] {
  return validateBinding(b.roleRef, b.subjects, ['Role', 'ClusterRole'], true);
}

export function validateClusterRoleBinding(b: ClusterRoleBinding): FieldError[] {
  return validateBinding(b.roleRef, b.subjects, ['ClusterRole'], false);
}

/** roleRef is immutable: a binding to another role is a new binding. */
function roleRefUnchanged(next: RoleRef | undefined, old: RoleRef | undefined): FieldError[] {
  return jsonEqual(next, old) ? [] : [field.invalid('roleRef', next, 'cannot change roleRef')];
}

export function validateRoleBindingUpdate(next: RoleBinding, old: RoleBinding): FieldError[] {
  return [...validateRoleBinding(next), ...roleRefUnchanged(next.roleRef, old.roleRef)];
}

export function validateClusterRoleBindingUpdate(next: ClusterRoleBinding, old: ClusterRoleBinding): FieldError[] {
  return [...validateClusterRoleBinding(next), ...roleRefUnchanged(next.roleRef, old.roleRef)];
}
