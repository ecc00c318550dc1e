/** rbac.authorization.k8s.io/v1 resource modules. */
import type { ResourceModule } from '../module.js';
import { clusterRoleBindingStrategy, clusterRoleStrategy, isRBACName, roleBindingStrategy, roleStrategy } from './roles.js';
import { bootstrapRbac } from './bootstrap.js';

const GROUP = 'rbac.authorization.k8s.io';

export const RBAC_MODULES: ResourceModule[] = [
  {
    group: GROUP, kind: 'ClusterRole', strategy: clusterRoleStrategy, nameValidator: isRBACName,
    bootstrap: (ctx) => bootstrapRbac(ctx.store!, ctx.storeFor(GROUP, 'ClusterRoleBinding'), ctx.system),
  },
  { group: GROUP, kind: 'ClusterRoleBinding', strategy: clusterRoleBindingStrategy, nameValidator: isRBACName },
  { group: GROUP, kind: 'Role', strategy: roleStrategy, nameValidator: isRBACName },
  { group: GROUP, kind: 'RoleBinding', strategy: roleBindingStrategy, nameValidator: isRBACName },
];
