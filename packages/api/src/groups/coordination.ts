/** coordination.k8s.io/v1. */
import { row, type ResourceDef } from '../resource-def.js';

export const COORDINATION: readonly ResourceDef[] = [
  row({
    group: 'coordination.k8s.io', version: 'v1', kind: 'Lease', plural: 'leases', namespaced: true,
    schemaPackage: 'coordination',
  }),
];
