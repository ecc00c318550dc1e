/**
 * `kubectl get` columns of the core/v1 kinds added with services, config and storage, and of
 * events.k8s.io Events (upstream pkg/printers/internalversion/printers.go: the same column names,
 * types, priorities and cell formatting).
 */
import {
  accessModesString, eventToCore, typed,
  type ConfigMap, type Endpoints, type KubeObject, type PersistentVolume, type PersistentVolumeClaim, type ReplicationController,
  type ResourceQuota, type Secret, type ServiceAccount, type MutableService,
} from '@tskube/api';
import type { TableConvertor } from '../strategy.js';
import { age } from '../../tables/duration.js';
import { AGE_COL, NAME_COL, col } from '../../tables/columns.js';
import { eventTable } from '../../tables/tables.js';

const name = (o: KubeObject) => o.metadata?.name ?? '';
const created = (o: KubeObject, now: Date) => age(o.metadata?.creationTimestamp, now);
/** labels.FormatLabels: sorted k=v, or <none>. */
const formatLabels = (m: Record<string, string> | undefined) => {
  const keys = Object.keys(m ?? {}).sort();
  return keys.length ? keys.map((k) => `${k}=${m![k]}`).join(',') : '<none>';
};

const LB_WIDTH = 16;

function externalIP(svc: MutableService): string {
  const s = svc.spec ?? {};
  const ext = s.externalIPs ?? [];
  switch (s.type) {
    case 'ClusterIP':
    case 'NodePort':
      return ext.length ? ext.join(',') : '<none>';
    case 'LoadBalancer': {
      const lb = [...new Set((svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip || i.hostname || '').filter(Boolean))].sort().join(',');
      const short = lb.length > LB_WIDTH ? `${lb.slice(0, LB_WIDTH - 3)}...` : lb;
      if (ext.length) return [...(short ? short.split(',') : []), ...ext].join(',');
      return short || '<pending>';
    }
    case 'ExternalName':
      return s.externalName ?? '';
    default:
      return '<unknown>';
  }
}

export const serviceTable: TableConvertor = {
  columns: [
    NAME_COL,
    col('Type', 'string', 'type determines how the Service is exposed. Defaults to ClusterIP. Valid options are ExternalName, ClusterIP, NodePort, and LoadBalancer.'),
    col('Cluster-IP', 'string', 'clusterIP is the IP address of the service and is usually assigned randomly.'),
    col('External-IP', 'string', 'externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.'),
    col('Port(s)', 'string', 'The list of ports that are exposed by this service.'),
    AGE_COL,
    col('Selector', 'string', 'Route service traffic to pods with label keys and values matching this selector.', { priority: 1 }),
  ],
  cells(o, now) {
    const svc = typed<MutableService>(o);
    const ports = (svc.spec?.ports ?? []).map((p) => (p.nodePort ? `${p.port}:${p.nodePort}/${p.protocol}` : `${p.port}/${p.protocol}`)).join(',');
    return [name(o), svc.spec?.type ?? '', svc.spec?.clusterIPs?.[0] ?? '<none>', externalIP(svc), ports || '<none>', created(o, now), formatLabels(svc.spec?.selector)];
  },
};

/** "ip:port,ip:port + N more..." (upstream formatEndpoints, at most 3 shown). */
export function formatEndpoints(ep: Endpoints): string {
  const subsets = ep.subsets ?? [];
  if (!subsets.length) return '<none>';
  const list: string[] = [];
  const max = 3;
  let more = false;
  let count = 0;
  for (const ss of subsets) {
    const addrs = ss.addresses ?? [];
    const ports = ss.ports?.length ? ss.ports : [undefined];
    for (const port of ports) {
      count += addrs.length;
      for (const a of addrs) {
        if (list.length === max) { more = true; break; }
        list.push(port ? (a.ip.includes(':') ? `[${a.ip}]:${port.port}` : `${a.ip}:${port.port}`) : a.ip);
      }
    }
  }
  if (!list.length) return '<none>';
  return more ? `${list.join(',')} + ${count - max} more...` : list.join(',');
}

export const endpointsTable: TableConvertor = {
  columns: [NAME_COL, col('Endpoints', 'string', 'The set of all endpoints is the union of all subsets.'), AGE_COL],
  cells: (o, now) => [name(o), formatEndpoints(typed<Endpoints>(o)), created(o, now)],
};

export const configMapTable: TableConvertor = {
  columns: [NAME_COL, col('Data', 'string', 'Data contains the configuration data.'), AGE_COL],
  cells: (o, now) => {
    const cm = typed<ConfigMap>(o);
    return [name(o), Object.keys(cm.data ?? {}).length + Object.keys(cm.binaryData ?? {}).length, created(o, now)];
  },
};

export const secretTable: TableConvertor = {
  columns: [
    NAME_COL,
    col('Type', 'string', 'Used to facilitate programmatic handling of secret data.'),
    col('Data', 'string', 'Data contains the secret data.'),
    AGE_COL,
  ],
  cells: (o, now) => {
    const s = typed<Secret>(o);
    return [name(o), s.type ?? '', Object.keys(s.data ?? {}).length, created(o, now)];
  },
};

export const serviceAccountTable: TableConvertor = {
  columns: [NAME_COL, col('Secrets', 'string', 'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.'), AGE_COL],
  cells: (o, now) => [name(o), (typed<ServiceAccount>(o).secrets ?? []).length, created(o, now)],
};

/** LimitRanges have no printer upstream: NAME and CREATED AT. */
export const limitRangeTable: TableConvertor = {
  columns: [NAME_COL, col('Created At', 'date', 'CreationTimestamp is a timestamp representing the server time when this object was created.')],
  cells: (o) => [name(o), o.metadata?.creationTimestamp ?? ''],
};

export const resourceQuotaTable: TableConvertor = {
  columns: [
    NAME_COL,
    col('Request', 'string', 'Request represents a minimum amount of cpu/memory that a container may consume.'),
    col('Limit', 'string', 'Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.'),
    AGE_COL,
  ],
  cells(o, now) {
    const rq = typed<ResourceQuota>(o);
    const hard = rq.status?.hard ?? {};
    const used = rq.status?.used ?? {};
    const req: string[] = [];
    const lim: string[] = [];
    for (const k of Object.keys(hard).sort()) {
      const s = `${k}: ${used[k] ?? '0'}/${hard[k]}`;
      (k.split('.').length > 1 && k.startsWith('limits.') ? lim : req).push(s);
    }
    return [name(o), req.join(', '), lim.join(', '), created(o, now)];
  },
};

const storageClassOf = (o: { metadata?: { annotations?: Record<string, string> }; spec?: { storageClassName?: string } }) =>
  o.metadata?.annotations?.['volume.beta.kubernetes.io/storage-class'] ?? o.spec?.storageClassName ?? '';

export const persistentVolumeTable: TableConvertor = {
  columns: [
    NAME_COL,
    col('Capacity', 'string', 'capacity is the description of the persistent volume\'s resources and capacity.'),
    col('Access Modes', 'string', 'accessModes contains all ways the volume can be mounted.'),
    col('Reclaim Policy', 'string', 'persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim.'),
    col('Status', 'string', 'phase indicates if a volume is available, bound to a claim, or released by a claim.'),
    col('Claim', 'string', 'claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim.'),
    col('StorageClass', 'string', 'StorageClass of the pv'),
    col('VolumeAttributesClass', 'string', 'VolumeAttributesClass of the pv'),
    col('Reason', 'string', 'reason is a brief CamelCase string that describes any failure and is meant for machine parsing and tidy display in the CLI.'),
    AGE_COL,
    col('VolumeMode', 'string', 'volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state.', { priority: 1 }),
  ],
  cells(o, now) {
    const pv = typed<PersistentVolume>(o);
    const claim = pv.spec?.claimRef ? `${pv.spec.claimRef.namespace ?? ''}/${pv.spec.claimRef.name ?? ''}` : '';
    const phase = o.metadata?.deletionTimestamp ? 'Terminating' : pv.status?.phase ?? '';
    return [name(o), pv.spec?.capacity?.storage ?? '0', accessModesString(pv.spec?.accessModes), pv.spec?.persistentVolumeReclaimPolicy ?? '',
      phase, claim, storageClassOf(pv), pv.spec?.volumeAttributesClassName ?? '<unset>', pv.status?.reason ?? '', created(o, now),
      pv.spec?.volumeMode ?? '<unset>'];
  },
};

export const persistentVolumeClaimTable: TableConvertor = {
  columns: [
    NAME_COL,
    col('Status', 'string', 'phase represents the current phase of PersistentVolumeClaim.'),
    col('Volume', 'string', 'volumeName is the binding reference to the PersistentVolume backing this claim.'),
    col('Capacity', 'string', 'capacity represents the actual resources of the underlying volume.'),
    col('Access Modes', 'string', 'accessModes contains the actual access modes the volume backing the PVC has.'),
    col('StorageClass', 'string', 'StorageClass of the pvc'),
    col('VolumeAttributesClass', 'string', 'VolumeAttributesClass of the pvc'),
    AGE_COL,
    col('VolumeMode', 'string', 'volumeMode defines what type of volume is required by the claim.', { priority: 1 }),
  ],
  cells(o, now) {
    const pvc = typed<PersistentVolumeClaim>(o);
    const phase = o.metadata?.deletionTimestamp ? 'Terminating' : pvc.status?.phase ?? '';
    const bound = !!pvc.spec?.volumeName;
    return [name(o), phase, pvc.spec?.volumeName ?? '', bound ? pvc.status?.capacity?.storage ?? '0' : '', bound ? accessModesString(pvc.status?.accessModes) : '',
      storageClassOf(pvc), pvc.spec?.volumeAttributesClassName ?? '<unset>', created(o, now), pvc.spec?.volumeMode ?? '<unset>'];
  },
};

export const replicationControllerTable: TableConvertor = {
  columns: [
    NAME_COL,
    col('Desired', 'integer', 'Replicas is the number of desired replicas.'),
    col('Current', 'integer', 'Replicas is the most recently observed number of replicas.'),
    col('Ready', 'integer', 'The number of ready replicas for this replication controller.'),
    AGE_COL,
    col('Containers', 'string', 'Names of each container in the template.', { priority: 1 }),
    col('Images', 'string', 'Images referenced by each container in the template.', { priority: 1 }),
    col('Selector', 'string', 'Selector is a label query over pods that should match the Replicas count.', { priority: 1 }),
  ],
  cells(o, now) {
    const rc = typed<ReplicationController>(o);
    const cs = rc.spec?.template?.spec?.containers ?? [];
    return [name(o), rc.spec?.replicas ?? 0, rc.status?.replicas ?? 0, rc.status?.readyReplicas ?? 0, created(o, now),
      cs.map((c) => c.name).join(','), cs.map((c) => c.image ?? '').join(','), formatLabels(rc.spec?.selector)];
  },
};

/** events.k8s.io/v1 Events print like core Events (upstream prints the internal type for both). */
export const eventsV1Table: TableConvertor = {
  columns: eventTable.columns,
  cells: (o, now) => eventTable.cells(o.apiVersion === 'events.k8s.io/v1' ? eventToCore(o) : o, now),
};
