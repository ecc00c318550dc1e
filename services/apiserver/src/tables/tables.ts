/**
 * Table columns for `kubectl get`, matching upstream's printers (pkg/printers/internalversion)
 * for the kinds tskube serves. Cells are computed server-side, including ages.
 */
import type { Event, KubeObject, Lease, Namespace, Node, Pod, ReplicaSet } from '@tskube/api';
import { labelSelectorString, typed } from '@tskube/api';
import type { TableConvertor } from '../registry/strategy.js';
import { age } from './duration.js';
import { AGE_COL, NAME_COL, col } from './columns.js';

const name = (o: KubeObject) => o.metadata?.name ?? '';
const orNone = (s: string | undefined) => (s ? s : '<none>');

/** Tables for kinds without a printer: NAME and CREATED AT (upstream default). */
export const defaultTable: TableConvertor = {
  columns: [NAME_COL, col('Created At', 'date', 'CreationTimestamp is a timestamp representing the server time when this object was created.')],
  cells: (o) => [name(o), o.metadata?.creationTimestamp ?? ''],
};

function lastRestart(ts: string | undefined): number {
  return ts ? Date.parse(ts) || 0 : 0;
}

/** The STATUS, READY and RESTARTS cells of `kubectl get pods` (upstream printPod). */
export function podSummary(pod: Pod, now: Date): { ready: string; status: string; restarts: string } {
  const spec = pod.spec;
  const status = pod.status ?? {};
  let restarts = 0;
  let lastRestartAt = 0;
  const total = spec?.containers?.length ?? 0;
  let ready = 0;
  let reason = status.reason || status.phase || '';
  const initStatuses = status.initContainerStatuses ?? [];
  const sidecars = new Set((spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always').map((c) => c.name));
  let totalWithSidecars = total;
  let initializing = false;
  let sidecarRestarts = 0;
  for (let i = 0; i < initStatuses.length; i++) {
    const c = initStatuses[i]!;
    restarts += c.restartCount ?? 0;
    const lt = lastRestart(c.lastState?.terminated?.finishedAt);
    if (lt > lastRestartAt) lastRestartAt = lt;
    if (sidecars.has(c.name)) {
      totalWithSidecars++;
      sidecarRestarts += c.restartCount ?? 0;
      if (c.started && c.ready) ready++;
    }
    const t = c.state?.terminated;
    if (t && t.exitCode === 0) continue;
    if (sidecars.has(c.name) && c.started) continue;
    if (t) {
      reason = t.reason ? `Init:${t.reason}` : t.signal ? `Init:Signal:${t.signal}` : `Init:ExitCode:${t.exitCode}`;
    } else if (c.state?.waiting?.reason && c.state.waiting.reason !== 'PodInitializing') {
      reason = `Init:${c.state.waiting.reason}`;
    } else {
      reason = `Init:${i}/${spec?.initContainers?.length ?? initStatuses.length}`;
    }
    initializing = true;
    break;
  }
  const initializedTrue = (status.conditions ?? []).some((c) => c.type === 'Initialized' && c.status === 'True');
  if (!initializing || initializedTrue) {
    restarts = sidecarRestarts;
    let hasRunning = false;
    const cs = status.containerStatuses ?? [];
    for (let i = cs.length - 1; i >= 0; i--) {
      const c = cs[i]!;
      restarts += c.restartCount ?? 0;
      const lt = lastRestart(c.lastState?.terminated?.finishedAt);
      if (lt > lastRestartAt) lastRestartAt = lt;
      const w = c.state?.waiting;
      const t = c.state?.terminated;
      if (w?.reason) reason = w.reason;
      else if (t?.reason) reason = t.reason;
      else if (t) reason = t.signal ? `Signal:${t.signal}` : `ExitCode:${t.exitCode}`;
      else if (c.ready && c.state?.running) { hasRunning = true; ready++; }
    }
    if (reason === 'Completed' && hasRunning) {
      reason = (status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True') ? 'Running' : 'NotReady';
    }
  }
  const terminal = status.phase === 'Succeeded' || status.phase === 'Failed';
  if (pod.metadata?.deletionTimestamp && status.reason === 'NodeLost') reason = 'Unknown';
  else if (pod.metadata?.deletionTimestamp && !terminal) reason = 'Terminating';
  const restartsStr = lastRestartAt ? `${restarts} (${age(new Date(lastRestartAt).toISOString(), now)} ago)` : String(restarts);
  return { ready: `${ready}/${totalWithSidecars}`, status: reason, restarts: restartsStr };
}

export const podTable: TableConvertor = {
  columns: [
    NAME_COL,
    col('Ready', 'string', 'The aggregate readiness state of this pod for accepting traffic.'),
    col('Status', 'string', 'The aggregate status of the containers in this pod.'),
    col('Restarts', 'string', 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
    AGE_COL,
    col('IP', 'string', 'IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.', { priority: 1 }),
    col('Node', 'string', 'NodeName is a request to schedule this pod onto a specific node. If it is non-empty, the scheduler simply schedules this pod onto that node, assuming that it fits resource requirements.', { priority: 1 }),
    col('Nominated Node', 'string', 'nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods.', { priority: 1 }),
    col('Readiness Gates', 'string', 'If specified, all readiness gates will be evaluated for pod readiness.', { priority: 1 }),
  ],
  cells: (o, now) => {
    const pod = o as Pod;
    const s = podSummary(pod, now);
    const gates = pod.spec?.readinessGates ?? [];
    const gatesCell = gates.length
      ? `${gates.filter((g) => (pod.status?.conditions ?? []).some((c) => c.type === g.conditionType && c.status === 'True')).length}/${gates.length}`
      : '<none>';
    return [name(o), s.ready, s.status, s.restarts, age(o.metadata?.creationTimestamp, now),
      orNone(pod.status?.podIP), orNone(pod.spec?.nodeName), orNone(pod.status?.nominatedNodeName), gatesCell];
  },
};

export function nodeStatusCell(node: Node): string {
  const ready = (node.status?.conditions ?? []).find((c) => c.type === 'Ready');
  const parts = [ready ? (ready.status === 'True' ? 'Ready' : 'NotReady') : 'Unknown'];
  if (node.spec?.unschedulable) parts.push('SchedulingDisabled');
  return parts.join(',');
}

function nodeRoles(node: Node): string {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(node.metadata?.labels ?? {})) {
    if (k.startsWith('node-role.kubernetes.io/')) { const r = k.slice('node-role.kubernetes.io/'.length); if (r) roles.add(r); }
    else if (k === 'kubernetes.io/role' && v) roles.add(v);
  }
  return roles.size ? [...roles].sort().join(',') : '<none>';
}

export const nodeTable: TableConvertor = {
  columns: [
    NAME_COL,
    col('Status', 'string', 'The status of the node'),
    col('Roles', 'string', 'The roles of the node'),
    AGE_COL,
    col('Version', 'string', 'Kubelet Version reported by the node.'),
    col('Internal-IP', 'string', 'List of addresses reachable to the node. Queried from cloud provider, if available.', { priority: 1 }),
    col('External-IP', 'string', 'List of addresses reachable to the node. Queried from cloud provider, if available.', { priority: 1 }),
    col('OS-Image', 'string', 'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).', { priority: 1 }),
    col('Kernel-Version', 'string', 'Kernel Version reported by the node from \'uname -r\' (e.g. 3.16.0-0.bpo.4-amd64).', { priority: 1 }),
    col('Container-Runtime', 'string', 'ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).', { priority: 1 }),
  ],
  cells: (o, now) => {
    const n = o as Node;
    const addr = (t: string) => orNone(n.status?.addresses?.find((a) => a.type === t)?.address);
    const info = n.status?.nodeInfo;
    return [name(o), nodeStatusCell(n), nodeRoles(n), age(o.metadata?.creationTimestamp, now), info?.kubeletVersion ?? '',
      addr('InternalIP'), addr('ExternalIP'), orNone(info?.osImage), orNone(info?.kernelVersion), orNone(info?.containerRuntimeVersion)];
  },
};

export const namespaceTable: TableConvertor = {
  columns: [NAME_COL, col('Status', 'string', 'The status of the namespace'), AGE_COL],
  cells: (o, now) => [name(o), (o as Namespace).status?.phase ?? '', age(o.metadata?.creationTimestamp, now)],
};

export const replicaSetTable: TableConvertor = {
  columns: [
    NAME_COL,
    col('Desired', 'integer', 'Number of desired pods'),
    col('Current', 'integer', 'Number of actual replicas'),
    col('Ready', 'integer', 'Number of ready replicas'),
    AGE_COL,
    col('Containers', 'string', 'Names of each container in the template.', { priority: 1 }),
    col('Images', 'string', 'Images referenced by each container in the template.', { priority: 1 }),
    col('Selector', 'string', 'Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.', { priority: 1 }),
  ],
  cells: (o, now) => {
    const rs = o as ReplicaSet;
    const cs = rs.spec?.template?.spec?.containers ?? [];
    return [name(o), rs.spec?.replicas ?? 0, rs.status?.replicas ?? 0, rs.status?.readyReplicas ?? 0, age(o.metadata?.creationTimestamp, now),
      cs.map((c) => c.name).join(','), cs.map((c) => c.image).join(','), labelSelectorString(rs.spec?.selector)];
  },
};

export const eventTable: TableConvertor = {
  columns: [
    col('Last Seen', 'string', 'Time when last event occurred'),
    col('Type', 'string', 'Type of this event (Normal, Warning), new types could be added in the future.'),
    col('Reason', 'string', 'This should be a short, machine understandable string that gives the reason for this event being generated.'),
    col('Object', 'string', 'The object this Event is about.'),
    col('Subobject', 'string', 'The subobject this Event is about.', { priority: 1 }),
    col('Source', 'string', 'The component reporting this event. Should be a short machine understandable string.', { priority: 1 }),
    col('Message', 'string', 'A human-readable description of the status of this operation.'),
    col('First Seen', 'string', 'The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)', { priority: 1 }),
    col('Count', 'integer', 'The number of times this event has occurred.', { priority: 1 }),
    { ...NAME_COL, priority: 1 },
  ],
  cells: (o, now) => {
    const e = typed<Event>(o);
    const first = e.firstTimestamp || e.eventTime || e.metadata?.creationTimestamp;
    const last = e.lastTimestamp || e.series?.lastObservedTime || first;
    const count = e.series?.count ?? e.count ?? 1;
    const lastSeen = count > 1 ? `${age(last, now)} (x${count} over ${age(first, now)})` : age(last, now);
    const io = e.involvedObject ?? {};
    const source = e.source?.component ? (e.source.host ? `${e.source.component}, ${e.source.host}` : e.source.component) : (e.reportingComponent ?? '');
    return [lastSeen, e.type ?? '', e.reason ?? '', `${(io.kind ?? '').toLowerCase()}/${io.name ?? ''}`, io.fieldPath ?? '',
      source, e.message ?? '', age(first, now), count, name(o)];
  },
};

export const leaseTable: TableConvertor = {
  columns: [NAME_COL, col('Holder', 'string', 'holderIdentity contains the identity of the holder of a current lease.'), AGE_COL],
  cells: (o, now) => [name(o), (o as Lease).spec?.holderIdentity ?? '', age(o.metadata?.creationTimestamp, now)],
};
