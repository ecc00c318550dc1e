/** apps/v1 resource modules. */
import type { ResourceModule } from '../module.js';
import { ScaleRest, replicaSetStatusStrategy, replicaSetStrategy } from './replicasets.js';

export const APPS_MODULES: ResourceModule[] = [
  {
    group: 'apps', kind: 'ReplicaSet', strategy: replicaSetStrategy, statusStrategy: replicaSetStatusStrategy,
    endpoints: (ctx) => ({ scale: new ScaleRest(ctx.def, ctx.store!) }),
  },
];
