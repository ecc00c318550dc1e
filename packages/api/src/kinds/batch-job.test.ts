import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CronJob, Job } from 'kubernetes-types/batch/v1.js';
import { fieldErrorString } from '../errors.js';
import {
  CONTROLLER_UID_LABEL, JOB_NAME_LABEL, defaultCronJob, defaultJob, generateJobSelector, validateCronJob, validateCronJobUpdate, validateJob,
  validateJobUpdate,
} from './batch-job.js';

const podTemplate = (restartPolicy: string | undefined = 'Never') => ({
  spec: { ...(restartPolicy ? { restartPolicy } : {}), containers: [{ name: 'c', image: 'busybox' }] },
});

/** A job as the store has it after defaulting and prepareForCreate. */
const job = (spec: Record<string, unknown> = {}, name = 'pi'): Job => {
  const j = { metadata: { name, uid: 'u-1' }, spec: { template: podTemplate(), ...spec } } as Job;
  defaultJob(j);
  generateJobSelector(j);
  return j;
};

test('job defaults and the generated selector and labels', () => {
  const j = job();
  assert.equal(j.spec!.completions, 1);
  assert.equal(j.spec!.parallelism, 1);
  assert.equal(j.spec!.backoffLimit, 6);
  assert.equal(j.spec!.completionMode, 'NonIndexed');
  assert.equal(j.spec!.suspend, false);
  assert.equal(j.spec!.podReplacementPolicy, 'TerminatingOrFailed');
  assert.deepEqual(j.spec!.selector, { matchLabels: { [CONTROLLER_UID_LABEL]: 'u-1' } });
  assert.deepEqual(j.spec!.template.metadata!.labels, { 'job-name': 'pi', [JOB_NAME_LABEL]: 'pi', 'controller-uid': 'u-1', [CONTROLLER_UID_LABEL]: 'u-1' });
  assert.deepEqual(j.metadata!.labels, j.spec!.template.metadata!.labels, 'job labels default to the template labels');
  const workQueue = job({ parallelism: 3 });
  assert.equal(workQueue.spec!.completions, undefined);
  assert.equal(job({ backoffLimitPerIndex: 1, completionMode: 'Indexed', completions: 2 }).spec!.backoffLimit, 2147483647);
  assert.equal(job({ podFailurePolicy: { rules: [] } }).spec!.podReplacementPolicy, 'Failed');
  const manual = job({ manualSelector: true, selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, ...podTemplate() } });
  assert.deepEqual(manual.spec!.selector, { matchLabels: { a: 'b' } });
  assert.deepEqual(validateJob(manual), []);
});

test('job validation', () => {
  const cases: [string, Job, string[]][] = [
    ['valid', job(), []],
    ['restartPolicy Always (the pod default)', job({ template: podTemplate('Always') }),
      ['spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"']],
    ['negative counts', job({ parallelism: -1, backoffLimit: -1 }), [
      'spec.parallelism: Invalid value: -1: must be greater than or equal to 0',
      'spec.backoffLimit: Invalid value: -1: must be greater than or equal to 0',
    ]],
    ['indexed without completions', job({ completionMode: 'Indexed', parallelism: 2 }), ['spec.completions: Required value: when completion mode is Indexed']],
    ['completion mode', job({ completionMode: 'Sometimes' }), ['spec.completionMode: Unsupported value: "Sometimes": supported values: "NonIndexed", "Indexed"']],
    ['podReplacementPolicy', job({ podReplacementPolicy: 'Never' }), ['spec.podReplacementPolicy: Unsupported value: "Never": supported values: "TerminatingOrFailed", "Failed"']],
  ];
  for (const [name, j, want] of cases) assert.deepEqual(validateJob(j).map(fieldErrorString), want, name);
  const forged = job();
  forged.spec!.selector = { matchLabels: { [CONTROLLER_UID_LABEL]: 'other' } };
  assert.ok(validateJob(forged).map(fieldErrorString).includes('spec.selector: Invalid value: {"matchLabels":{"batch.kubernetes.io/controller-uid":"other"}}: `selector` not auto-generated'));
});

test('job updates: template, selector and completions are immutable; parallelism and suspend are not', () => {
  const old = job();
  assert.deepEqual(validateJobUpdate({ ...old, spec: { ...old.spec!, parallelism: 4, suspend: true } }, old), []);
  const t = structuredClone(old.spec!.template);
  t.spec!.containers[0]!.image = 'other';
  assert.deepEqual(validateJobUpdate({ ...old, spec: { ...old.spec!, template: t, completions: 3 } }, old).map((e) => `${e.field}: ${e.detail}`), [
    'spec.completions: field is immutable', 'spec.template: field is immutable',
  ]);
  const suspended = job({ suspend: true });
  const moved = structuredClone(suspended);
  moved.spec!.template.spec!.nodeSelector = { zone: 'a' };
  assert.deepEqual(validateJobUpdate(moved, suspended), [], 'a suspended job that never started may change scheduling directives');
});

const cron = (spec: Record<string, unknown> = {}, name = 'nightly'): CronJob => {
  const c = { metadata: { name }, spec: { schedule: '0 3 * * *', jobTemplate: { spec: { template: podTemplate('OnFailure') } }, ...spec } } as CronJob;
  defaultCronJob(c);
  return c;
};

test('cronjob defaults and validation', () => {
  const c = cron();
  assert.equal(c.spec!.concurrencyPolicy, 'Allow');
  assert.equal(c.spec!.suspend, false);
  assert.equal(c.spec!.successfulJobsHistoryLimit, 3);
  assert.equal(c.spec!.failedJobsHistoryLimit, 1);
  const cases: [string, CronJob, string[]][] = [
    ['valid', c, []],
    ['descriptor', cron({ schedule: '@hourly', timeZone: 'Europe/Paris' }), []],
    ['bad schedule', cron({ schedule: '61 * * * *' }), ['spec.schedule: Invalid value: "61 * * * *": end of range (61) above maximum (59): 61']],
    ['no schedule', cron({ schedule: '' }), ['spec.schedule: Required value']],
    ['TZ in schedule', cron({ schedule: 'TZ=UTC 0 * * * *' }), ['spec.schedule: Invalid value: "TZ=UTC 0 * * * *": cannot use TZ or CRON_TZ in schedule, use timeZone field instead']],
    ['time zone', cron({ timeZone: 'Mars/Base' }), ['spec.timeZone: Invalid value: "Mars/Base": unknown time zone Mars/Base']],
    ['local time zone', cron({ timeZone: 'Local' }), ['spec.timeZone: Invalid value: "Local": timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones']],
    ['concurrency', cron({ concurrencyPolicy: 'Sometimes' }), ['spec.concurrencyPolicy: Unsupported value: "Sometimes": supported values: "Allow", "Forbid", "Replace"']],
    ['history', cron({ successfulJobsHistoryLimit: -1 }), ['spec.successfulJobsHistoryLimit: Invalid value: -1: must be greater than or equal to 0']],
    ['job template selector', cron({ jobTemplate: { spec: { selector: { matchLabels: { a: 'b' } }, template: podTemplate() } } }),
      ['spec.jobTemplate.spec.selector: Invalid value: {"matchLabels":{"a":"b"}}: `selector` will be auto-generated']],
    ['job template restart policy', cron({ jobTemplate: { spec: { template: { spec: { containers: [{ name: 'c', image: 'busybox' }] } } } } }),
      ['spec.jobTemplate.spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"']],
    ['long name', cron({}, 'n'.repeat(53)), [`metadata.name: Invalid value: "${'n'.repeat(53)}": must be no more than 52 characters`]],
  ];
  for (const [name, cj, want] of cases) assert.deepEqual(validateCronJob(cj).map(fieldErrorString), want, name);
  const tzOld = cron({ schedule: 'TZ=UTC 0 * * * *' });
  assert.deepEqual(validateCronJobUpdate(tzOld, tzOld), [], 'a TZ= schedule that was accepted before stays accepted');
});
