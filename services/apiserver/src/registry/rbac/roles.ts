/**
 * roles, clusterroles, rolebindings, clusterrolebindings: stored and served like upstream
 * (pkg/registry/rbac/<kind>): names only need to be path segments, binding roleRefs are immutable,
 * subjects get their apiGroup defaulted. Authorization does not read them yet.
 */
import {
  defaultRoleBinding, isRBACName, typed, validateClusterRole, validateClusterRoleBinding, validateClusterRoleBindingUpdate,
  validateRole, validateRoleBinding, validateRoleBindingUpdate,
  type ClusterRole, type ClusterRoleBinding, type Role, type RoleBinding, type Subject,
} from '@tskube/api';
import { plainStrategy, type Strategy, type TableConvertor } from '../strategy.js';
import { age } from '../../tables/duration.js';
import { AGE_COL, NAME_COL, col } from '../../tables/columns.js';
import { nameOf } from '../apps/tables.js';

export { isRBACName };

/** upstream rbac.SubjectsStrings: users, groups and `namespace/name` service accounts. */
export function subjectsStrings(subjects: readonly Subject[] | undefined): { users: string[]; groups: string[]; sas: string[] } {
  const out = { users: [] as string[], groups: [] as string[], sas: [] as string[] };
  for (const s of subjects ?? []) {
    if (s.kind === 'User') out.users.push(s.name);
    else if (s.kind === 'Group') out.groups.push(s.name);
    else if (s.kind === 'ServiceAccount') out.sas.push(`${s.namespace ?? ''}/${s.name}`);
  }
  return out;
}

function bindingTable(what: string): TableConvertor {
  return {
    columns: [
      NAME_COL,
      col('Role', 'string', 'RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error. This field is immutable.'),
      AGE_COL,
      col('Users', 'string', `Users in the ${what}`, { priority: 1 }),
      col('Groups', 'string', `Groups in the ${what}`, { priority: 1 }),
      col('ServiceAccounts', 'string', `ServiceAccounts in the ${what}`, { priority: 1 }),
    ],
    cells: (o, now) => {
      const b = typed<RoleBinding>(o);
      const s = subjectsStrings(b.subjects);
      return [nameOf(o), `${b.roleRef?.kind ?? ''}/${b.roleRef?.name ?? ''}`, age(o.metadata?.creationTimestamp, now),
        s.users.join(', '), s.groups.join(', '), s.sas.join(', ')];
    },
  };
}

export const roleStrategy: Strategy = {
  ...plainStrategy,
  validate: (o) => validateRole(typed<Role>(o)),
  validateUpdate: (o) => validateRole(typed<Role>(o)),
};

export const clusterRoleStrategy: Strategy = {
  ...plainStrategy,
  validate: (o) => validateClusterRole(typed<ClusterRole>(o)),
  validateUpdate: (o) => validateClusterRole(typed<ClusterRole>(o)),
};

export const roleBindingStrategy: Strategy = {
  ...plainStrategy,
  applyDefaults: (o) => defaultRoleBinding(typed<RoleBinding>(o)),
  validate: (o) => validateRoleBinding(typed<RoleBinding>(o)),
  validateUpdate: (o, old) => validateRoleBindingUpdate(typed<RoleBinding>(o), typed<RoleBinding>(old)),
  table: bindingTable('roleBinding'),
};

export const clusterRoleBindingStrategy: Strategy = {
  ...plainStrategy,
  applyDefaults: (o) => defaultRoleBinding(typed<ClusterRoleBinding>(o)),
  validate: (o) => validateClusterRoleBinding(typed<ClusterRoleBinding>(o)),
  validateUpdate: (o, old) => validateClusterRoleBindingUpdate(typed<ClusterRoleBinding>(o), typed<ClusterRoleBinding>(old)),
  table: bindingTable('clusterRoleBinding'),
};
