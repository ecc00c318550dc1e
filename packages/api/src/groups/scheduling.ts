/** scheduling.k8s.io/v1. */
import { row, type ResourceDef } from '../resource-def.js';

export const SCHEDULING: readonly ResourceDef[] = [
  row({ group: 'scheduling.k8s.io', version: 'v1', kind: 'PriorityClass', plural: 'priorityclasses', namespaced: false, shortNames: ['pc'], schemaPackage: 'scheduling' }),
];
