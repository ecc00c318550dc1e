/** `kubectl get` columns for jobs and cronjobs (upstream printJob, printCronJob). */
import { labelSelectorString, typed, type CronJob, type Job } from '@tskube/api';
import type { TableConvertor } from '../strategy.js';
import { age, humanDuration } from '../../tables/duration.js';
import { AGE_COL, NAME_COL, col } from '../../tables/columns.js';
import { CONTAINERS_COL, IMAGES_COL, containerCells, nameOf } from '../apps/tables.js';

const SELECTOR_COL = col('Selector', 'string', 'A label query over pods that should match the pod count. Normally, the system sets this field for you. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors', { priority: 1 });

function hasCondition(job: Job, type: string): boolean {
  return (job.status?.conditions ?? []).some((c) => c.type === type && c.status === 'True');
}

/** The STATUS cell: Complete, Failed, Terminating, Suspended, FailureTarget or Running. */
export function jobStatus(job: Job): string {
  if (hasCondition(job, 'Complete')) return 'Complete';
  if (hasCondition(job, 'Failed')) return 'Failed';
  if (job.metadata?.deletionTimestamp) return 'Terminating';
  if (hasCondition(job, 'Suspended')) return 'Suspended';
  if (hasCondition(job, 'FailureTarget')) return 'FailureTarget';
  return 'Running';
}

/** The COMPLETIONS cell: "succeeded/completions", or "n/1 of parallelism" for work queues. */
export function jobCompletions(job: Job): string {
  const succeeded = job.status?.succeeded ?? 0;
  if (job.spec?.completions !== undefined) return `${succeeded}/${job.spec.completions}`;
  const parallelism = job.spec?.parallelism ?? 0;
  return parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
}

function jobDuration(job: Job, now: Date): string {
  const start = job.status?.startTime ? Date.parse(job.status.startTime) : NaN;
  if (Number.isNaN(start)) return '';
  const end = job.status?.completionTime ? Date.parse(job.status.completionTime) : now.getTime();
  return humanDuration(end - start);
}

export const jobTable: TableConvertor = {
  columns: [
    NAME_COL,
    col('Status', 'string', 'Status of the job.'),
    col('Completions', 'string', 'The number of pods which reached phase Succeeded. The value increases monotonically for a given spec. However, it may decrease in reaction to scale down of elastic indexed jobs.'),
    col('Duration', 'string', 'Time required to complete the job.'),
    AGE_COL, CONTAINERS_COL, IMAGES_COL, SELECTOR_COL,
  ],
  cells: (o, now) => {
    const job = typed<Job>(o);
    return [nameOf(o), jobStatus(job), jobCompletions(job), jobDuration(job, now), age(o.metadata?.creationTimestamp, now),
      ...containerCells(job.spec?.template), labelSelectorString(job.spec?.selector)];
  },
};

export const cronJobTable: TableConvertor = {
  columns: [
    NAME_COL,
    col('Schedule', 'string', 'The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron.'),
    col('Timezone', 'string', 'The time zone name for the given schedule, see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones.'),
    col('Suspend', 'boolean', 'This flag tells the controller to suspend subsequent executions, it does not apply to already started executions.  Defaults to false.'),
    col('Active', 'integer', 'A list of pointers to currently running jobs.'),
    col('Last Schedule', 'string', 'Information when was the last time the job was successfully scheduled.'),
    AGE_COL, CONTAINERS_COL, IMAGES_COL, SELECTOR_COL,
  ],
  cells: (o, now) => {
    const cj = typed<CronJob>(o);
    const last = cj.status?.lastScheduleTime;
    return [nameOf(o), cj.spec?.schedule ?? '', cj.spec?.timeZone ?? '<none>', cj.spec?.suspend === undefined ? '<unset>' : cj.spec.suspend ? 'True' : 'False',
      cj.status?.active?.length ?? 0, last ? age(last, now) : '<none>', age(o.metadata?.creationTimestamp, now),
      ...containerCells(cj.spec?.jobTemplate?.spec?.template), labelSelectorString(cj.spec?.jobTemplate?.spec?.selector)];
  },
};
