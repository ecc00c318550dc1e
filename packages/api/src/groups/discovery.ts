/** discovery.k8s.io/v1. */
import { row, type ResourceDef } from '../resource-def.js';

export const DISCOVERY: readonly ResourceDef[] = [
  row({ group: 'discovery.k8s.io', version: 'v1', kind: 'EndpointSlice', plural: 'endpointslices', namespaced: true, schemaPackage: 'discovery' }),
];
