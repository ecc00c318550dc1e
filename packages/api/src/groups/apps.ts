/** apps/v1 (resources in upstream's discovery order: alphabetical). */
import { RW, row, sub, type GroupVersionKind, type ResourceDef } from '../resource-def.js';

const apps = (kind: string): GroupVersionKind => ({ group: 'apps', version: 'v1', kind });
const SCALE: GroupVersionKind = { group: 'autoscaling', version: 'v1', kind: 'Scale' };

export const APPS: readonly ResourceDef[] = [
  row({ group: 'apps', version: 'v1', kind: 'ControllerRevision', plural: 'controllerrevisions', namespaced: true, schemaPackage: 'apps' }),
  row({
    group: 'apps', version: 'v1', kind: 'DaemonSet', plural: 'daemonsets', namespaced: true, shortNames: ['ds'],
    categories: ['all'], schemaPackage: 'apps',
    subresources: [sub('status', apps('DaemonSet'), RW)],
  }),
  row({
    group: 'apps', version: 'v1', kind: 'Deployment', plural: 'deployments', namespaced: true, shortNames: ['deploy'],
    categories: ['all'], schemaPackage: 'apps',
    subresources: [sub('scale', SCALE, RW), sub('status', apps('Deployment'), RW)],
  }),
  row({
    group: 'apps', version: 'v1', kind: 'ReplicaSet', plural: 'replicasets', namespaced: true, shortNames: ['rs'],
    categories: ['all'], schemaPackage: 'apps',
    subresources: [sub('scale', SCALE, RW), sub('status', apps('ReplicaSet'), RW)],
  }),
  row({
    group: 'apps', version: 'v1', kind: 'StatefulSet', plural: 'statefulsets', namespaced: true, shortNames: ['sts'],
    categories: ['all'], schemaPackage: 'apps',
    subresources: [sub('scale', SCALE, RW), sub('status', apps('StatefulSet'), RW)],
  }),
];
