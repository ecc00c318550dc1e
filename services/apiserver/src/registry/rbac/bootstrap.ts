/**
 * The default ClusterRoles and ClusterRoleBinding users expect a cluster to have (upstream
 * plugin/pkg/auth/authorizer/rbac/bootstrappolicy): cluster-admin (everything, bound to the
 * system:masters group), the user-facing admin / edit / view roles with their aggregation rules
 * and the system:aggregate-to-* roles that feed them, system:basic-user and system:discovery.
 * tskube has no aggregation controller yet, so the aggregated rules are computed here once,
 * as the controller would (selected roles in name order, rules deduplicated).
 */
import { isApiError, matches, fromLabelSelector, jsonEqual, type ClusterRole, type ClusterRoleBinding, type KubeObject, type PolicyRule } from '@tskube/api';
import type { RequestContext } from '../rest.js';
import type { Store } from '../store.js';

const BOOTSTRAP_META = {
  annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'true' },
  labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' } as Record<string, string>,
};

const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'delete', 'deletecollection', 'patch', 'update'];
const ALL = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const rule = (apiGroups: string[], resources: string[], verbs: string[]): PolicyRule => ({ apiGroups, resources, verbs });

function role(name: string, rules: PolicyRule[], extra: { labels?: Record<string, string>; aggregateTo?: string } = {}): ClusterRole {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole',
    metadata: { name, annotations: { ...BOOTSTRAP_META.annotations }, labels: { ...BOOTSTRAP_META.labels, ...(extra.labels ?? {}) } },
    ...(extra.aggregateTo
      ? { aggregationRule: { clusterRoleSelectors: [{ matchLabels: { [`rbac.authorization.k8s.io/aggregate-to-${extra.aggregateTo}`]: 'true' } }] } }
      : {}),
    rules,
  };
}

const aggregateTo = (who: string) => ({ [`rbac.authorization.k8s.io/aggregate-to-${who}`]: 'true' });

/** The leaf roles (rules as upstream defines them). */
const LEAVES: ClusterRole[] = [
  role('cluster-admin', [rule(['*'], ['*'], ['*']), { nonResourceURLs: ['*'], verbs: ['*'] }]),
  role('system:aggregate-to-admin', [
    rule(['authorization.k8s.io'], ['localsubjectaccessreviews'], ['create']),
    rule(['rbac.authorization.k8s.io'], ['rolebindings', 'roles'], ALL),
  ], { labels: aggregateTo('admin') }),
  role('system:aggregate-to-edit', [
    rule([''], ['pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy', 'secrets', 'services/proxy'], READ),
    rule([''], ['serviceaccounts'], ['impersonate']),
    rule([''], ['pods', 'pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy'], WRITE),
    rule([''], ['pods/eviction'], ['create']),
    rule([''], ['configmaps', 'events', 'persistentvolumeclaims', 'replicationcontrollers', 'replicationcontrollers/scale', 'secrets', 'serviceaccounts', 'services', 'services/proxy'], WRITE),
    rule([''], ['serviceaccounts/token'], ['create']),
    rule(['apps'], ['daemonsets', 'deployments', 'deployments/rollback', 'deployments/scale', 'replicasets', 'replicasets/scale', 'statefulsets', 'statefulsets/scale'], WRITE),
    rule(['autoscaling'], ['horizontalpodautoscalers'], WRITE),
    rule(['batch'], ['cronjobs', 'jobs'], WRITE),
    rule(['extensions'], ['daemonsets', 'deployments', 'deployments/rollback', 'deployments/scale', 'ingresses', 'networkpolicies', 'replicasets', 'replicasets/scale', 'replicationcontrollers/scale'], WRITE),
    rule(['policy'], ['poddisruptionbudgets'], WRITE),
    rule(['networking.k8s.io'], ['ingresses', 'networkpolicies'], WRITE),
    rule(['coordination.k8s.io'], ['leases'], ALL),
  ], { labels: aggregateTo('edit') }),
  role('system:aggregate-to-view', [
    rule([''], ['configmaps', 'endpoints', 'persistentvolumeclaims', 'persistentvolumeclaims/status', 'pods', 'replicationcontrollers', 'replicationcontrollers/scale', 'serviceaccounts', 'services', 'services/status'], READ),
    rule([''], ['bindings', 'events', 'limitranges', 'namespaces/status', 'pods/log', 'pods/status', 'replicationcontrollers/status', 'resourcequotas', 'resourcequotas/status'], READ),
    rule([''], ['namespaces'], READ),
    rule(['discovery.k8s.io'], ['endpointslices'], READ),
    rule(['apps'], ['controllerrevisions', 'daemonsets', 'daemonsets/status', 'deployments', 'deployments/scale', 'deployments/status', 'replicasets', 'replicasets/scale', 'replicasets/status', 'statefulsets', 'statefulsets/scale', 'statefulsets/status'], READ),
    rule(['autoscaling'], ['horizontalpodautoscalers', 'horizontalpodautoscalers/status'], READ),
    rule(['batch'], ['cronjobs', 'cronjobs/status', 'jobs', 'jobs/status'], READ),
    rule(['extensions'], ['daemonsets', 'daemonsets/status', 'deployments', 'deployments/scale', 'deployments/status', 'ingresses', 'ingresses/status', 'networkpolicies', 'replicasets', 'replicasets/scale', 'replicasets/status', 'replicationcontrollers/scale'], READ),
    rule(['policy'], ['poddisruptionbudgets', 'poddisruptionbudgets/status'], READ),
    rule(['networking.k8s.io'], ['ingresses', 'ingresses/status', 'networkpolicies'], READ),
  ], { labels: aggregateTo('view') }),
  role('system:basic-user', [
    rule(['authorization.k8s.io'], ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'], ['create']),
    rule(['authentication.k8s.io'], ['selfsubjectreviews'], ['create']),
  ]),
  role('system:discovery', [{
    nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/openapi', '/openapi/*', '/readyz', '/version', '/version/'], verbs: ['get'],
  }]),
];

/** The aggregated roles, outermost last (edit feeds admin, view feeds edit). */
const AGGREGATED: ClusterRole[] = [
  role('view', [], { labels: aggregateTo('edit'), aggregateTo: 'view' }),
  role('edit', [], { labels: aggregateTo('admin'), aggregateTo: 'edit' }),
  role('admin', [], { aggregateTo: 'admin' }),
];

/** Fills aggregated roles' rules from the roles their selectors pick (upstream ClusterRoleAggregationController). */
export function aggregate(roles: readonly ClusterRole[]): ClusterRole[] {
  const out = roles.map((r) => structuredClone(r));
  for (const target of out) {
    const selectors = target.aggregationRule?.clusterRoleSelectors;
    if (!selectors?.length) continue;
    const picked = out
      .filter((r) => r !== target && selectors.some((s) => { const sel = fromLabelSelector(s); return !!sel && matches(sel, r.metadata?.labels); }))
      .sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
    const rules: PolicyRule[] = [];
    for (const r of picked) for (const x of r.rules ?? []) if (!rules.some((y) => jsonEqual(x, y))) rules.push(x);
    target.rules = rules;
  }
  return out;
}

/** The default ClusterRoles, aggregated. */
export function defaultClusterRoles(): ClusterRole[] {
  return aggregate([...LEAVES, ...AGGREGATED]);
}

export const CLUSTER_ADMIN_BINDING: ClusterRoleBinding = {
  apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding',
  metadata: { name: 'cluster-admin', annotations: { ...BOOTSTRAP_META.annotations }, labels: { ...BOOTSTRAP_META.labels } },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
  subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:masters' }],
};

async function createIfMissing(store: Store, system: RequestContext, obj: object): Promise<void> {
  try {
    await store.create(system, structuredClone(obj) as KubeObject);
  } catch (e) {
    if (!isApiError(e, 'AlreadyExists')) throw e;
  }
}

/** Creates the default roles and the cluster-admin binding when missing; never overwrites edits. */
export async function bootstrapRbac(roles: Store, bindings: Store, system: RequestContext): Promise<void> {
  // concurrently: readiness waits for every bootstrap hook
  await Promise.all([...defaultClusterRoles().map((r) => createIfMissing(roles, system, r)), createIfMissing(bindings, system, CLUSTER_ADMIN_BINDING)]);
}
