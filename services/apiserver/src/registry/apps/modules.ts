/** apps/v1 resource modules. */
import { isStatefulSetName } from '@tskube/api';
import type { ResourceModule } from '../module.js';
import { ScaleRest } from './scale.js';
import { replicaSetStatusStrategy, replicaSetStrategy } from './replicasets.js';
import {
  controllerRevisionStrategy, daemonSetStatusStrategy, daemonSetStrategy, deploymentStatusStrategy, deploymentStrategy,
  statefulSetStatusStrategy, statefulSetStrategy,
} from './workloads.js';

export const APPS_MODULES: ResourceModule[] = [
  { group: 'apps', kind: 'ControllerRevision', strategy: controllerRevisionStrategy },
  { group: 'apps', kind: 'DaemonSet', strategy: daemonSetStrategy, statusStrategy: daemonSetStatusStrategy },
  {
    group: 'apps', kind: 'Deployment', strategy: deploymentStrategy, statusStrategy: deploymentStatusStrategy,
    endpoints: (ctx) => ({ scale: new ScaleRest(ctx.def, ctx.store!) }),
  },
  {
    group: 'apps', kind: 'ReplicaSet', strategy: replicaSetStrategy, statusStrategy: replicaSetStatusStrategy,
    endpoints: (ctx) => ({ scale: new ScaleRest(ctx.def, ctx.store!) }),
  },
  {
    group: 'apps', kind: 'StatefulSet', strategy: statefulSetStrategy, statusStrategy: statefulSetStatusStrategy, nameValidator: isStatefulSetName,
    endpoints: (ctx) => ({ scale: new ScaleRest(ctx.def, ctx.store!) }),
  },
];
