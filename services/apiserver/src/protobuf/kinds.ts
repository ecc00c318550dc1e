/**
 * Which kinds have protobuf message definitions (proto/k8s), i.e. which protobuf request
 * bodies tskube decodes: the kinds kubectl ≥ 1.32 sends through client-go's typed clients
 * (kubectl-contract §9) plus a few siblings that cost nothing (their messages are already
 * there). Adding a kind = its messages in proto/k8s/api/<group>/<version>/types.proto and
 * its name here.
 */
import type { GroupVersionKind } from '@tskube/api';

interface PackageRow { group: string; version: string; protoPackage: string; kinds: readonly string[] }

const ROWS: readonly PackageRow[] = [
  { group: '', version: 'v1', protoPackage: 'k8s.io.api.core.v1',
    kinds: ['Namespace', 'ConfigMap', 'Secret', 'Service', 'ServiceAccount', 'ResourceQuota', 'Pod'] },
  { group: 'apps', version: 'v1', protoPackage: 'k8s.io.api.apps.v1', kinds: ['Deployment'] },
  { group: 'batch', version: 'v1', protoPackage: 'k8s.io.api.batch.v1', kinds: ['Job', 'CronJob'] },
  { group: 'rbac.authorization.k8s.io', version: 'v1', protoPackage: 'k8s.io.api.rbac.v1',
    kinds: ['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding'] },
  { group: 'autoscaling', version: 'v1', protoPackage: 'k8s.io.api.autoscaling.v1', kinds: ['HorizontalPodAutoscaler', 'Scale'] },
  // kubectl 1.33 `autoscale` sends v2
  { group: 'autoscaling', version: 'v2', protoPackage: 'k8s.io.api.autoscaling.v2', kinds: ['HorizontalPodAutoscaler'] },
  { group: 'policy', version: 'v1', protoPackage: 'k8s.io.api.policy.v1', kinds: ['PodDisruptionBudget', 'Eviction'] },
  { group: 'authorization.k8s.io', version: 'v1', protoPackage: 'k8s.io.api.authorization.v1',
    kinds: ['SelfSubjectAccessReview', 'SelfSubjectRulesReview', 'SubjectAccessReview', 'LocalSubjectAccessReview'] },
  { group: 'authentication.k8s.io', version: 'v1', protoPackage: 'k8s.io.api.authentication.v1',
    kinds: ['SelfSubjectReview', 'TokenRequest', 'TokenReview'] },
  { group: 'scheduling.k8s.io', version: 'v1', protoPackage: 'k8s.io.api.scheduling.v1', kinds: ['PriorityClass'] },
];

/** meta/v1 DeleteOptions: registered in every group version, so any apiVersion names it. */
export const DELETE_OPTIONS_MESSAGE = 'k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions';
export const DELETE_OPTIONS_SCHEMA = 'io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions';

const key = (g: { group: string; version: string; kind: string }) => `${g.group}/${g.version}/${g.kind}`;

const BY_GVK = new Map<string, string>(ROWS.flatMap((r) => r.kinds.map((k) => [key({ ...r, kind: k }), `${r.protoPackage}.${k}`] as const)));

/**
 * The fully qualified message name for a kind (`k8s.io.api.apps.v1.Deployment`), or
 * undefined when tskube has no protobuf definition for it. DeleteOptions matches in every
 * group version.
 */
export function protobufMessageFor(gvk: GroupVersionKind): string | undefined {
  if (gvk.kind === 'DeleteOptions') return DELETE_OPTIONS_MESSAGE;
  return BY_GVK.get(key(gvk));
}

/** Every kind with a protobuf definition (DeleteOptions listed once, as meta.k8s.io/v1). */
export function protobufKinds(): GroupVersionKind[] {
  return [
    ...ROWS.flatMap((r) => r.kinds.map((kind) => ({ group: r.group, version: r.version, kind }))),
    { group: 'meta.k8s.io', version: 'v1', kind: 'DeleteOptions' },
  ];
}
