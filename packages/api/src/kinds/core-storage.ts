/**
 * PersistentVolume and PersistentVolumeClaim defaulting and validation (upstream
 * SetDefaults_PersistentVolume*, ValidatePersistentVolume*, ValidatePersistentVolumeClaim*).
 * Binding (the PV controller) is not part of this module.
 */
import type { PersistentVolume, PersistentVolumeClaim } from 'kubernetes-types/core/v1.js';
import { field, type FieldError } from '../errors.js';
import { jsonEqual } from '../meta.js';
import { isDNS1123Label, isDNS1123Subdomain } from '../validation.js';
import { validateLabelSelector } from './replicaset.js';
import { FIELD_IMMUTABLE, quantityValue, validateResourceQuantity } from './core-common.js';

export type { PersistentVolume, PersistentVolumeClaim };

const ACCESS_MODES = ['ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOncePod'];
const RECLAIM_POLICIES = ['Delete', 'Recycle', 'Retain'];
const VOLUME_MODES = ['Block', 'Filesystem'];
const HOST_PATH_TYPES = ['', 'BlockDevice', 'CharDevice', 'Directory', 'DirectoryOrCreate', 'File', 'FileOrCreate', 'Socket'];

/** The persistent volume source fields, in upstream's checking order. */
export const PV_SOURCES = [
  'hostPath', 'gcePersistentDisk', 'awsElasticBlockStore', 'glusterfs', 'flocker', 'nfs', 'rbd', 'quobyte', 'cephfs', 'iscsi',
  'cinder', 'fc', 'flexVolume', 'azureFile', 'vsphereVolume', 'azureDisk', 'photonPersistentDisk', 'portworxVolume', 'scaleIO',
  'local', 'storageos', 'csi',
] as const;

type Obj = Record<string, unknown>;
const str = (o: unknown, k: string): string => (typeof (o as Obj | undefined)?.[k] === 'string' ? (o as Obj)[k] as string : '');

/** `kubectl get` short form of access modes (upstream GetAccessModesAsString). */
export function accessModesString(modes: readonly string[] | undefined): string {
  const m = new Set(modes ?? []);
  return [['ReadWriteOnce', 'RWO'], ['ReadOnlyMany', 'ROX'], ['ReadWriteMany', 'RWX'], ['ReadWriteOncePod', 'RWOP']]
    .filter(([k]) => m.has(k!)).map(([, v]) => v).join(',');
}

function validateAccessModes(path: string, modes: readonly string[] | undefined, requiredDetail: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!modes?.length) errs.push(field.required(path, requiredDetail));
  let rwop = false;
  let other = false;
  for (const m of modes ?? []) {
    if (!ACCESS_MODES.includes(m)) errs.push(field.notSupported(path, m, ACCESS_MODES));
    else if (m === 'ReadWriteOncePod') rwop = true;
    else other = true;
  }
  if (rwop && other) errs.push(field.forbidden(path, 'may not use ReadWriteOncePod with other access modes'));
  return errs;
}

function noBacksteps(path: string, p: string): FieldError[] {
  return p.split(/[\\/]/).includes('..') ? [field.invalid(path, p, "must not contain '..'")] : [];
}

function validateSource(key: string, src: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const req = (k: string) => { if (!str(src, k)) errs.push(field.required(`${path}.${k}`)); };
  switch (key) {
    case 'hostPath': {
      const p = str(src, 'path');
      if (!p) { errs.push(field.required(`${path}.path`)); break; }
      errs.push(...noBacksteps(`${path}.path`, p));
      const t = (src as Obj).type;
      if (typeof t === 'string' && !HOST_PATH_TYPES.includes(t)) errs.push(field.notSupported(`${path}.type`, t, HOST_PATH_TYPES));
      break;
    }
    case 'nfs': {
      req('server');
      const p = str(src, 'path');
      if (!p) errs.push(field.required(`${path}.path`));
      else if (!p.startsWith('/')) errs.push(field.invalid(`${path}.path`, p, 'must be an absolute path'));
      break;
    }
    case 'local': {
      const p = str(src, 'path');
      if (!p) errs.push(field.required(`${path}.path`));
      else errs.push(...noBacksteps(`${path}.path`, p));
      break;
    }
    case 'csi': {
      const d = str(src, 'driver');
      if (!d) errs.push(field.required(`${path}.driver`));
      if (d.length > 63) errs.push(field.tooLong(`${path}.driver`, '', 63));
      for (const m of isDNS1123Subdomain(d.toLowerCase())) if (d) errs.push(field.invalid(`${path}.driver`, d, m));
      req('volumeHandle');
      break;
    }
    case 'iscsi': req('targetPortal'); req('iqn'); break;
    case 'gcePersistentDisk': req('pdName'); break;
    case 'awsElasticBlockStore': req('volumeID'); break;
    case 'cinder': req('volumeID'); break;
    case 'azureDisk': req('diskName'); req('diskURI'); break;
    case 'azureFile': req('secretName'); req('shareName'); break;
    case 'vsphereVolume': req('volumePath'); break;
    case 'flexVolume': req('driver'); break;
    case 'cephfs': if (!Array.isArray((src as Obj).monitors) || !((src as Obj).monitors as unknown[]).length) errs.push(field.required(`${path}.monitors`)); break;
    case 'rbd': if (!Array.isArray((src as Obj).monitors) || !((src as Obj).monitors as unknown[]).length) errs.push(field.required(`${path}.monitors`)); req('image'); break;
    default:
  }
  return errs;
}

// ---- PersistentVolume -----------------------------------------------------------------------

export function defaultPersistentVolume(pv: PersistentVolume): void {
  pv.spec ??= {};
  pv.spec.persistentVolumeReclaimPolicy ||= 'Retain';
  pv.spec.volumeMode ??= 'Filesystem';
  if (pv.spec.hostPath) pv.spec.hostPath.type ??= '';
}

export function validatePersistentVolume(pv: PersistentVolume): FieldError[] {
  const errs: FieldError[] = [];
  const s = pv.spec ?? {};
  errs.push(...validateAccessModes('spec.accessModes', s.accessModes, ''));
  const cap = s.capacity ?? {};
  if (!Object.keys(cap).length) errs.push(field.required('spec.capacity'));
  if (!('storage' in cap) || Object.keys(cap).length > 1) errs.push(field.notSupported('spec.capacity', cap, ['storage']));
  for (const [k, q] of Object.entries(cap)) {
    const v = quantityValue(q);
    if (v === undefined) errs.push(...validateResourceQuantity(`spec.capacity[${k}]`, k, q));
    else if (v <= 0) errs.push(field.invalid(`spec.capacity[${k}]`, q, v < 0 ? 'must be a valid resource quantity' : 'must be greater than zero'));
  }
  if (s.persistentVolumeReclaimPolicy && !RECLAIM_POLICIES.includes(s.persistentVolumeReclaimPolicy)) {
    errs.push(field.notSupported('spec.persistentVolumeReclaimPolicy', s.persistentVolumeReclaimPolicy, RECLAIM_POLICIES));
  }
  if (s.nodeAffinity && !s.nodeAffinity.required) errs.push(field.required('spec.nodeAffinity.required', 'must specify required node constraints'));
  let count = 0;
  for (const key of PV_SOURCES) {
    const src = (s as Obj)[key];
    if (src === undefined || src === null) continue;
    if (count > 0) { errs.push(field.forbidden(`spec.${key}`, 'may not specify more than 1 volume type')); continue; }
    count++;
    errs.push(...validateSource(key, src, `spec.${key}`));
  }
  if (!count) errs.push(field.required('spec', 'must specify a volume type'));
  if (s.hostPath && s.persistentVolumeReclaimPolicy === 'Recycle' && s.hostPath.path.replace(/\/+$/, '') === '') {
    errs.push(field.forbidden('spec.persistentVolumeReclaimPolicy', "may not be 'recycle' for a hostPath mount of '/'"));
  }
  if (s.storageClassName) for (const m of isDNS1123Subdomain(s.storageClassName)) errs.push(field.invalid('spec.storageClassName', s.storageClassName, m));
  if (s.volumeMode !== undefined && !VOLUME_MODES.includes(s.volumeMode)) errs.push(field.notSupported('spec.volumeMode', s.volumeMode, VOLUME_MODES));
  if (s.claimRef?.namespace) for (const m of isDNS1123Label(s.claimRef.namespace)) errs.push(field.invalid('spec.claimRef.namespace', s.claimRef.namespace, m));
  return errs;
}

const sourceOf = (pv: PersistentVolume): Obj => {
  const out: Obj = {};
  for (const k of PV_SOURCES) if ((pv.spec as Obj | undefined)?.[k] !== undefined) out[k] = (pv.spec as Obj)[k];
  return out;
};

export function validatePersistentVolumeUpdate(next: PersistentVolume, old: PersistentVolume): FieldError[] {
  const errs = validatePersistentVolume(next);
  const a = sourceOf(old);
  const b = sourceOf(next);
  // a newly set csi.controllerExpandSecretRef is the one allowed change
  if (a.csi && b.csi && !(a.csi as Obj).controllerExpandSecretRef) b.csi = { ...(b.csi as Obj), controllerExpandSecretRef: undefined };
  if (!jsonEqual(a, b)) {
    errs.push(field.forbidden('spec.persistentvolumesource', `spec.persistentvolumesource is immutable after creation\n  - ${JSON.stringify(a)}\n  + ${JSON.stringify(b)}`));
  }
  if ((next.spec?.volumeMode ?? null) !== (old.spec?.volumeMode ?? null)) errs.push(field.invalid('volumeMode', next.spec?.volumeMode ?? null, FIELD_IMMUTABLE));
  if (old.spec?.nodeAffinity && !jsonEqual(next.spec?.nodeAffinity, old.spec.nodeAffinity)) {
    errs.push(field.invalid('nodeAffinity', next.spec?.nodeAffinity ?? null, `${FIELD_IMMUTABLE}, except for updating from beta label to GA`));
  }
  return errs;
}

export function validatePersistentVolumeStatus(pv: PersistentVolume): FieldError[] {
  const phases = ['Pending', 'Available', 'Bound', 'Released', 'Failed'];
  const ph = pv.status?.phase;
  return ph !== undefined && !phases.includes(ph) ? [field.notSupported('status.phase', ph, phases)] : [];
}

// ---- PersistentVolumeClaim ------------------------------------------------------------------

export function defaultPersistentVolumeClaim(pvc: PersistentVolumeClaim): void {
  pvc.spec ??= {};
  pvc.spec.volumeMode ??= 'Filesystem';
}

function validateDataSource(path: string, ds: { apiGroup?: string; kind: string; name: string; namespace?: string } | undefined): FieldError[] {
  if (!ds) return [];
  const errs: FieldError[] = [];
  if (!ds.name) errs.push(field.required(`${path}.name`));
  if (!ds.kind) errs.push(field.required(`${path}.kind`));
  if (!ds.apiGroup && ds.kind !== 'PersistentVolumeClaim') errs.push(field.invalid(path, ds.kind, "must be 'PersistentVolumeClaim' when referencing the default apiGroup"));
  if (ds.apiGroup) for (const m of isDNS1123Subdomain(ds.apiGroup)) errs.push(field.invalid(`${path}.apiGroup`, ds.apiGroup, m));
  if (ds.namespace) for (const m of isDNS1123Label(ds.namespace)) errs.push(field.invalid(`${path}.namespace`, ds.namespace, m));
  return errs;
}

export function validatePersistentVolumeClaim(pvc: PersistentVolumeClaim): FieldError[] {
  const errs: FieldError[] = [];
  const s = pvc.spec ?? {};
  const modes = s.accessModes;
  if (!modes?.length) errs.push(field.required('spec.accessModes', 'at least 1 access mode is required'));
  if (s.selector) errs.push(...validateLabelSelector(s.selector, 'spec.selector'));
  errs.push(...validateAccessModes('spec.accessModes', modes, '').filter((e) => e.type !== 'FieldValueRequired'));
  const storage = s.resources?.requests?.storage;
  if (storage === undefined) errs.push(field.required('spec.resources[storage]'));
  else {
    const v = quantityValue(storage);
    if (v === undefined) errs.push(...validateResourceQuantity('spec.resources[storage]', 'storage', storage));
    else if (v <= 0) errs.push(field.invalid('spec.resources[storage]', storage, 'must be greater than zero'));
  }
  if (s.storageClassName) for (const m of isDNS1123Subdomain(s.storageClassName)) errs.push(field.invalid('spec.storageClassName', s.storageClassName, m));
  if (s.volumeMode !== undefined && !VOLUME_MODES.includes(s.volumeMode)) errs.push(field.notSupported('spec.volumeMode', s.volumeMode, VOLUME_MODES));
  errs.push(...validateDataSource('spec.dataSource', s.dataSource), ...validateDataSource('spec.dataSourceRef', s.dataSourceRef));
  if (s.dataSourceRef?.namespace) {
    if (s.dataSource) errs.push(field.invalid('spec', 'spec.dataSource', 'may not be specified when dataSourceRef.namespace is specified'));
  } else if (s.dataSource && s.dataSourceRef) {
    const same = (s.dataSource.apiGroup ?? null) === (s.dataSourceRef.apiGroup ?? null) && s.dataSource.kind === s.dataSourceRef.kind && s.dataSource.name === s.dataSourceRef.name;
    if (!same) errs.push(field.invalid('spec', 'spec.dataSource', 'must match dataSourceRef'));
  }
  return errs;
}

export function validatePersistentVolumeClaimUpdate(next: PersistentVolumeClaim, old: PersistentVolumeClaim): FieldError[] {
  const errs = validatePersistentVolumeClaim(next);
  const a = structuredClone(old.spec ?? {}) as Obj & { volumeName?: string; storageClassName?: string; resources?: { requests?: Record<string, string> } };
  const b = structuredClone(next.spec ?? {}) as typeof a;
  if (!a.volumeName) a.volumeName = b.volumeName;
  if (a.storageClassName === undefined && b.storageClassName !== undefined) a.storageClassName = b.storageClassName;
  if (next.status?.phase === 'Bound' && b.resources?.requests) b.resources.requests = { ...b.resources.requests, storage: a.resources?.requests?.storage ?? '' };
  for (const o of [a, b]) { if (o.volumeName === undefined) delete o.volumeName; }
  if (!jsonEqual(a, b)) {
    errs.push(field.forbidden('spec', `spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n  - ${JSON.stringify(a)}\n  + ${JSON.stringify(b)}`));
  }
  const oldSize = quantityValue(old.spec?.resources?.requests?.storage);
  const newSize = quantityValue(next.spec?.resources?.requests?.storage);
  if (oldSize !== undefined && newSize !== undefined && newSize < oldSize) {
    errs.push(field.forbidden('spec.resources.requests.storage', 'field can not be less than previous value'));
  }
  if ((next.spec?.volumeMode ?? null) !== (old.spec?.volumeMode ?? null)) errs.push(field.invalid('volumeMode', next.spec?.volumeMode ?? null, FIELD_IMMUTABLE));
  return errs;
}

export function validatePersistentVolumeClaimStatus(pvc: PersistentVolumeClaim): FieldError[] {
  const errs: FieldError[] = [];
  if (!pvc.spec?.accessModes?.length) errs.push(field.required('Spec.accessModes'));
  for (const [k, q] of Object.entries(pvc.status?.capacity ?? {})) {
    const v = quantityValue(q);
    if (v === undefined || v < 0) errs.push(field.invalid(`status.capacity[${k}]`, v ?? q, 'must be a valid resource quantity'));
  }
  return errs;
}
