/** scheduling.k8s.io/v1 resource modules. */
import type { ResourceModule } from '../module.js';
import { bootstrapPriorityClasses, priorityClassRest, priorityClassStrategy } from './priorityclasses.js';

export const SCHEDULING_MODULES: ResourceModule[] = [
  {
    group: 'scheduling.k8s.io', kind: 'PriorityClass', strategy: priorityClassStrategy,
    endpoints: (ctx) => ({ '': priorityClassRest(ctx.store!, ctx.system) }),
    bootstrap: (ctx) => bootstrapPriorityClasses(ctx.store!, ctx.system),
  },
];
