/** batch/v1 resource modules. */
import type { ResourceModule } from '../module.js';
import { cronJobStatusStrategy, cronJobStrategy, jobRest, jobStatusStrategy, jobStrategy } from './jobs.js';

export const BATCH_MODULES: ResourceModule[] = [
  { group: 'batch', kind: 'CronJob', strategy: cronJobStrategy, statusStrategy: cronJobStatusStrategy },
  {
    group: 'batch', kind: 'Job', strategy: jobStrategy, statusStrategy: jobStatusStrategy,
    endpoints: (ctx) => ({ '': jobRest(ctx.store!) }),
  },
];
