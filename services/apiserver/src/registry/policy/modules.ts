/** policy/v1 resource modules. */
import type { ResourceModule } from '../module.js';
import { pdbStatusStrategy, pdbStrategy } from './pdb.js';

export const POLICY_MODULES: ResourceModule[] = [
  { group: 'policy', kind: 'PodDisruptionBudget', strategy: pdbStrategy, statusStrategy: pdbStatusStrategy },
];
