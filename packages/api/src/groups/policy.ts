/** policy/v1. */
import { RW, row, sub, type ResourceDef } from '../resource-def.js';

export const POLICY: readonly ResourceDef[] = [
  row({
    group: 'policy', version: 'v1', kind: 'PodDisruptionBudget', plural: 'poddisruptionbudgets', namespaced: true, shortNames: ['pdb'],
    schemaPackage: 'policy', subresources: [sub('status', { group: 'policy', version: 'v1', kind: 'PodDisruptionBudget' }, RW)],
  }),
];
