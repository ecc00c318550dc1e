/**
 * jobs and cronjobs (+status): strategies after upstream pkg/registry/batch/{job,cronjob}/strategy.go.
 * Jobs get a generated selector and job-name / controller-uid template labels on create (unless
 * spec.manualSelector), and most of their spec is immutable afterwards.
 */
import {
  defaultCronJob, defaultJob, generateJobSelector, typed, validateCronJob, validateCronJobUpdate, validateJob, validateJobStatus,
  validateJobUpdate, type CronJob, type Job, type KubeObject,
} from '@tskube/api';
import { keepSpec, keepStatus, type Strategy } from '../strategy.js';
import type { DeleteOptions, ListQuery, RequestContext } from '../rest.js';
import type { Store } from '../store.js';
import { cronJobTable, jobTable } from './tables.js';

export const jobStrategy: Strategy = {
  applyDefaults: (o) => defaultJob(typed<Job>(o)),
  prepareForCreate(o: KubeObject) {
    o.status = {};
    generateJobSelector(typed<Job>(o));
  },
  prepareForUpdate: keepStatus,
  validate: (o) => validateJob(typed<Job>(o)),
  validateUpdate: (o, old) => validateJobUpdate(typed<Job>(o), typed<Job>(old)),
  hasGeneration: true,
  allowCreateOnUpdate: false,
  allowUnconditionalUpdate: true,
  selectableFields: (o) => ({ 'status.successful': String(typed<Job>(o).status?.succeeded ?? 0) }),
  table: jobTable,
};

export const jobStatusStrategy: Strategy = {
  ...jobStrategy, applyDefaults: undefined, prepareForUpdate: keepSpec, validateUpdate: (o) => validateJobStatus(typed<Job>(o)),
};

export const cronJobStrategy: Strategy = {
  applyDefaults: (o) => defaultCronJob(typed<CronJob>(o)),
  prepareForCreate(o: KubeObject) { o.status = {}; },
  prepareForUpdate: keepStatus,
  validate: (o) => validateCronJob(typed<CronJob>(o)),
  validateUpdate: (o, old) => validateCronJobUpdate(typed<CronJob>(o), typed<CronJob>(old)),
  hasGeneration: true,
  allowCreateOnUpdate: false,
  allowUnconditionalUpdate: true,
  table: cronJobTable,
};

export const cronJobStatusStrategy: Strategy = {
  ...cronJobStrategy, applyDefaults: undefined, prepareForUpdate: keepSpec, validateUpdate: () => [],
};

/**
 * batch/v1 Jobs keep their pods when a delete names no propagation policy (upstream's
 * DefaultGarbageCollectionPolicy for jobs is OrphanDependents); `kubectl delete` always sends
 * Background. The jobs endpoint is the generic store with that default.
 */
export function jobRest(store: Store): Store {
  const withDefault = (opts: DeleteOptions): DeleteOptions =>
    (opts.propagationPolicy || opts.orphanDependents !== undefined ? opts : { ...opts, propagationPolicy: 'Orphan' });
  return Object.assign(Object.create(store) as Store, {
    delete: (ctx: RequestContext, name: string, opts: DeleteOptions) => store.delete(ctx, name, withDefault(opts)),
    deleteCollection: (ctx: RequestContext, opts: DeleteOptions, q: ListQuery) => store.deleteCollection(ctx, withDefault(opts), q),
  });
}
