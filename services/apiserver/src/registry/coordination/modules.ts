/** coordination.k8s.io/v1 resource modules. */
import type { ResourceModule } from '../module.js';
import { leaseStrategy } from './leases.js';

export const COORDINATION_MODULES: ResourceModule[] = [
  { group: 'coordination.k8s.io', kind: 'Lease', strategy: leaseStrategy },
];
