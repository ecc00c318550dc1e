/**
 * `kubectl get` columns for the apps/v1 kinds, as upstream's printers
 * (pkg/printers/internalversion/printers.go) define them. Wide-only columns have priority 1.
 */
import { labelSelectorString, typed, type ControllerRevision, type DaemonSet, type Deployment, type KubeObject, type StatefulSet } from '@tskube/api';
import type { TableConvertor } from '../strategy.js';

type PodTemplateSpec = NonNullable<Deployment['spec']>['template'];
import { age } from '../../tables/duration.js';
import { AGE_COL, NAME_COL, col } from '../../tables/columns.js';

export const CONTAINERS_COL = col('Containers', 'string', 'Names of each container in the template.', { priority: 1 });
export const IMAGES_COL = col('Images', 'string', 'Images referenced by each container in the template.', { priority: 1 });

export const nameOf = (o: KubeObject) => o.metadata?.name ?? '';

/** upstream layoutContainerCells: names and images joined with commas. */
export function containerCells(t: PodTemplateSpec | undefined): [string, string] {
  const cs = t?.spec?.containers ?? [];
  return [cs.map((c) => c.name).join(','), cs.map((c) => c.image ?? '').join(',')];
}

/** metadata.labels-style `k=v,k2=v2` (upstream labels.FormatLabels: sorted, `<none>` when empty). */
export function formatLabels(m: Record<string, string> | undefined): string {
  const keys = Object.keys(m ?? {}).sort();
  return keys.length ? keys.map((k) => `${k}=${m![k]}`).join(',') : '<none>';
}

export const deploymentTable: TableConvertor = {
  columns: [
    NAME_COL,
    col('Ready', 'string', 'Number of the pod with ready state'),
    col('Up-to-date', 'string', 'Total number of non-terminated pods targeted by this deployment that have the desired template spec.'),
    col('Available', 'string', 'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.'),
    AGE_COL, CONTAINERS_COL, IMAGES_COL,
    col('Selector', 'string', 'Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment. It must match the pod template\'s labels.', { priority: 1 }),
  ],
  cells: (o, now) => {
    const d = typed<Deployment>(o);
    const s = d.status ?? {};
    return [nameOf(o), `${s.readyReplicas ?? 0}/${d.spec?.replicas ?? 0}`, s.updatedReplicas ?? 0, s.availableReplicas ?? 0,
      age(o.metadata?.creationTimestamp, now), ...containerCells(d.spec?.template), labelSelectorString(d.spec?.selector)];
  },
};

export const statefulSetTable: TableConvertor = {
  columns: [NAME_COL, col('Ready', 'string', 'Number of the pod with ready state'), AGE_COL, CONTAINERS_COL, IMAGES_COL],
  cells: (o, now) => {
    const s = typed<StatefulSet>(o);
    return [nameOf(o), `${s.status?.readyReplicas ?? 0}/${s.spec?.replicas ?? 0}`, age(o.metadata?.creationTimestamp, now), ...containerCells(s.spec?.template)];
  },
};

export const daemonSetTable: TableConvertor = {
  columns: [
    NAME_COL,
    col('Desired', 'integer', 'The total number of nodes that should be running the daemon pod (including nodes correctly running the daemon pod).'),
    col('Current', 'integer', 'The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.'),
    col('Ready', 'integer', 'numberReady is the number of nodes that should be running the daemon pod and have one or more of the daemon pod running with a Ready Condition.'),
    col('Up-to-date', 'integer', 'The total number of nodes that are running updated daemon pod'),
    col('Available', 'integer', 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)'),
    col('Node Selector', 'string', 'NodeSelector is a selector which must be true for the pod to fit on a node. Selector which must match a node\'s labels for the pod to be scheduled on that node.'),
    AGE_COL, CONTAINERS_COL, IMAGES_COL,
    col('Selector', 'string', 'A label query over pods that are managed by the daemon set. Must match in order to be controlled. It must match the pod template\'s labels.', { priority: 1 }),
  ],
  cells: (o, now) => {
    const ds = typed<DaemonSet>(o);
    const s = ds.status;
    return [nameOf(o), s?.desiredNumberScheduled ?? 0, s?.currentNumberScheduled ?? 0, s?.numberReady ?? 0, s?.updatedNumberScheduled ?? 0,
      s?.numberAvailable ?? 0, formatLabels(ds.spec?.template?.spec?.nodeSelector), age(o.metadata?.creationTimestamp, now),
      ...containerCells(ds.spec?.template), labelSelectorString(ds.spec?.selector)];
  },
};

/** "kind.group/name" of the controller, lower-cased like upstream formatResourceName. */
function controllerName(o: KubeObject): string {
  const ref = o.metadata?.ownerReferences?.find((r) => r.controller);
  if (!ref) return '<none>';
  const slash = ref.apiVersion.indexOf('/');
  const group = slash > 0 ? ref.apiVersion.slice(0, slash) : '';
  return `${(group ? `${ref.kind}.${group}` : ref.kind).toLowerCase()}/${ref.name}`;
}

export const controllerRevisionTable: TableConvertor = {
  columns: [
    NAME_COL, col('Controller', 'string', 'Controller of the object'),
    col('Revision', 'string', 'Revision indicates the revision of the state represented by Data.'), AGE_COL,
  ],
  cells: (o, now) => [nameOf(o), controllerName(o), typed<ControllerRevision>(o).revision ?? 0, age(o.metadata?.creationTimestamp, now)],
};
