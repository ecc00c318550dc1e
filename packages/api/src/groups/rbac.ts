/** rbac.authorization.k8s.io/v1 (stored and served; not enforced yet). */
import { row, type ResourceDef } from '../resource-def.js';

const rbac = (kind: string, plural: string, namespaced: boolean): ResourceDef => row({
  group: 'rbac.authorization.k8s.io', version: 'v1', kind, plural, namespaced, schemaPackage: 'rbac',
});

export const RBAC: readonly ResourceDef[] = [
  rbac('ClusterRoleBinding', 'clusterrolebindings', false),
  rbac('ClusterRole', 'clusterroles', false),
  rbac('RoleBinding', 'rolebindings', true),
  rbac('Role', 'roles', true),
];
