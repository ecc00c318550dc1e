/** discovery.k8s.io/v1 resource modules. */
import type { ResourceModule } from '../module.js';
import { endpointSliceStrategy } from './endpointslices.js';

export const DISCOVERY_MODULES: ResourceModule[] = [
  { group: 'discovery.k8s.io', kind: 'EndpointSlice', strategy: endpointSliceStrategy },
];
