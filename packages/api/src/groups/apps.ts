/** apps/v1. */
import { RW, row, sub, type ResourceDef } from '../resource-def.js';

export const APPS: readonly ResourceDef[] = [
  row({
    group: 'apps', version: 'v1', kind: 'ReplicaSet', plural: 'replicasets', namespaced: true, shortNames: ['rs'],
    categories: ['all'], schemaPackage: 'apps',
    subresources: [
      sub('scale', { group: 'autoscaling', version: 'v1', kind: 'Scale' }, RW),
      sub('status', { group: 'apps', version: 'v1', kind: 'ReplicaSet' }, RW),
    ],
  }),
];
