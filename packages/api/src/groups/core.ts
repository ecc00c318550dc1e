/** core/v1 (the legacy group, served under /api/v1). Short names and categories as upstream discovery lists them. */
import { RW, row, sub, type ResourceDef } from '../resource-def.js';

export const core = (kind: string) => ({ group: '', version: 'v1', kind });
const SCALE = { group: 'autoscaling', version: 'v1', kind: 'Scale' };
const EVICTION = { group: 'policy', version: 'v1', kind: 'Eviction' };
const TOKEN_REQUEST = { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest' };

export const CORE: readonly ResourceDef[] = [
  row({
    group: '', version: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false, shortNames: ['ns'],
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], schemaPackage: 'core',
    subresources: [sub('status', core('Namespace'), RW), sub('finalize', core('Namespace'), ['update'])],
  }),
  row({
    group: '', version: 'v1', kind: 'Pod', plural: 'pods', namespaced: true, shortNames: ['po'], categories: ['all'],
    schemaPackage: 'core',
    subresources: [
      sub('attach', core('PodAttachOptions'), ['create', 'get']),
      sub('binding', core('Binding'), ['create']),
      sub('ephemeralcontainers', core('Pod'), RW),
      sub('eviction', EVICTION, ['create']),
      sub('exec', core('PodExecOptions'), ['create', 'get']),
      sub('log', core('Pod'), ['get']),
      sub('portforward', core('PodPortForwardOptions'), ['create', 'get']),
      sub('status', core('Pod'), RW),
    ],
  }),
  row({
    group: '', version: 'v1', kind: 'Binding', plural: 'bindings', namespaced: true, verbs: ['create'],
    schemaPackage: 'core',
  }),
  row({
    group: '', version: 'v1', kind: 'Node', plural: 'nodes', namespaced: false, shortNames: ['no'], schemaPackage: 'core',
    storagePrefix: 'minions',
    subresources: [sub('proxy', core('NodeProxyOptions'), ['get']), sub('status', core('Node'), RW)],
  }),
  row({
    group: '', version: 'v1', kind: 'Event', plural: 'events', namespaced: true, shortNames: ['ev'], schemaPackage: 'core',
  }),
  row({
    group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true, shortNames: ['cm'], schemaPackage: 'core',
  }),
  row({
    group: '', version: 'v1', kind: 'Endpoints', plural: 'endpoints', namespaced: true, shortNames: ['ep'], schemaPackage: 'core',
    singular: 'endpoints', storagePrefix: 'services/endpoints',
  }),
  row({
    group: '', version: 'v1', kind: 'LimitRange', plural: 'limitranges', namespaced: true, shortNames: ['limits'], schemaPackage: 'core',
  }),
  row({
    group: '', version: 'v1', kind: 'PersistentVolumeClaim', plural: 'persistentvolumeclaims', namespaced: true, shortNames: ['pvc'],
    schemaPackage: 'core', subresources: [sub('status', core('PersistentVolumeClaim'), RW)],
  }),
  row({
    group: '', version: 'v1', kind: 'PersistentVolume', plural: 'persistentvolumes', namespaced: false, shortNames: ['pv'],
    schemaPackage: 'core', subresources: [sub('status', core('PersistentVolume'), RW)],
  }),
  row({
    group: '', version: 'v1', kind: 'ReplicationController', plural: 'replicationcontrollers', namespaced: true, shortNames: ['rc'],
    categories: ['all'], schemaPackage: 'core', storagePrefix: 'controllers',
    subresources: [sub('scale', SCALE, RW), sub('status', core('ReplicationController'), RW)],
  }),
  row({
    group: '', version: 'v1', kind: 'ResourceQuota', plural: 'resourcequotas', namespaced: true, shortNames: ['quota'],
    schemaPackage: 'core', subresources: [sub('status', core('ResourceQuota'), RW)],
  }),
  row({
    group: '', version: 'v1', kind: 'Secret', plural: 'secrets', namespaced: true, schemaPackage: 'core',
  }),
  row({
    group: '', version: 'v1', kind: 'ServiceAccount', plural: 'serviceaccounts', namespaced: true, shortNames: ['sa'],
    schemaPackage: 'core', subresources: [sub('token', TOKEN_REQUEST, ['create'])],
  }),
  row({
    group: '', version: 'v1', kind: 'Service', plural: 'services', namespaced: true, shortNames: ['svc'], categories: ['all'],
    schemaPackage: 'core', storagePrefix: 'services/specs', subresources: [sub('status', core('Service'), RW)],
  }),
];
