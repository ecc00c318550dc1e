/**
 * Job and CronJob defaulting, selector generation and validation (batch/v1; upstream
 * pkg/apis/batch/v1/defaults.go, pkg/registry/batch/job/strategy.go, pkg/apis/batch/validation).
 */
import type { CronJob, Job, JobSpec, JobTemplateSpec } from 'kubernetes-types/batch/v1.js';
import { field, type FieldError } from '../errors.js';
import { jsonEqual } from '../meta.js';
import { validateLabelSelector } from './replicaset.js';
import { defaultPodSpec } from './pod.js';
import { immutable, nonNegative, validatePodTemplate } from './apps-common.js';
import { cronScheduleError, isTimeZone } from './batch-cron.js';
export type { CronJob, CronJobSpec, CronJobStatus, Job, JobSpec, JobStatus, JobCondition } from 'kubernetes-types/batch/v1.js';

export const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name';
export const LEGACY_JOB_NAME_LABEL = 'job-name';
export const CONTROLLER_UID_LABEL = 'batch.kubernetes.io/controller-uid';
export const LEGACY_CONTROLLER_UID_LABEL = 'controller-uid';

const MAX_INT32 = 2147483647;
const COMPLETION_MODES = ['NonIndexed', 'Indexed'];
const REPLACEMENT_POLICIES = ['TerminatingOrFailed', 'Failed'];
const JOB_RESTART_POLICIES = ['OnFailure', 'Never'];

function defaultJobSpec(spec: JobSpec): void {
  if (spec.template?.spec) defaultPodSpec(spec.template.spec);
}

/**
 * upstream SetDefaults_Job: completions and parallelism 1 when both unset (parallelism 1
 * otherwise), backoffLimit 6 (MaxInt32 with backoffLimitPerIndex), completionMode NonIndexed,
 * suspend false, podReplacementPolicy TerminatingOrFailed (Failed with a podFailurePolicy).
 */
export function defaultJob(job: Job): void {
  job.spec ??= { template: {} };
  const spec = job.spec;
  if (spec.completions === undefined && spec.parallelism === undefined) { spec.completions = 1; spec.parallelism = 1; }
  spec.parallelism ??= 1;
  spec.backoffLimit ??= spec.backoffLimitPerIndex !== undefined ? MAX_INT32 : 6;
  spec.completionMode ??= 'NonIndexed';
  spec.suspend ??= false;
  spec.podReplacementPolicy ??= spec.podFailurePolicy ? 'Failed' : 'TerminatingOrFailed';
  for (const rule of spec.podFailurePolicy?.rules ?? []) for (const c of rule.onPodConditions ?? []) c.status ||= 'True';
  defaultJobSpec(spec);
}

/**
 * What the job strategy does on create unless `spec.manualSelector` is true: label the
 * template with the job name and uid (both the legacy and the batch.kubernetes.io keys) and
 * select on `batch.kubernetes.io/controller-uid`. Metadata labels default to the template's.
 * Call after metadata.uid and metadata.name are set.
 */
export function generateJobSelector(job: Job): void {
  const spec = job.spec!;
  const name = job.metadata?.name ?? '';
  const uid = job.metadata?.uid ?? '';
  if (spec.manualSelector !== true) {
    spec.template ??= {};
    spec.template.metadata ??= {};
    const labels = (spec.template.metadata.labels ??= {});
    for (const k of [LEGACY_JOB_NAME_LABEL, JOB_NAME_LABEL]) labels[k] ??= name;
    for (const k of [LEGACY_CONTROLLER_UID_LABEL, CONTROLLER_UID_LABEL]) labels[k] ??= uid;
    spec.selector ??= {};
    spec.selector.matchLabels ??= {};
    spec.selector.matchLabels[CONTROLLER_UID_LABEL] ??= uid;
  }
  const tl = spec.template?.metadata?.labels;
  if (tl && !Object.keys(job.metadata?.labels ?? {}).length) {
    job.metadata ??= {};
    job.metadata.labels = { ...tl };
  }
}

/** upstream validateJobSpec (shared by Jobs and CronJob job templates). */
function validateJobSpecCommon(spec: JobSpec, p: string, matchSelector?: JobSpec['selector']): FieldError[] {
  const errs: FieldError[] = [];
  for (const k of ['parallelism', 'completions', 'activeDeadlineSeconds', 'backoffLimit', 'ttlSecondsAfterFinished', 'backoffLimitPerIndex', 'maxFailedIndexes'] as const) {
    errs.push(...nonNegative(spec[k], `${p}.${k}`));
  }
  const mode = spec.completionMode;
  if (mode !== undefined && !COMPLETION_MODES.includes(mode)) errs.push(field.notSupported(`${p}.completionMode`, mode, COMPLETION_MODES));
  if (mode === 'Indexed') {
    if (spec.completions === undefined) errs.push(field.required(`${p}.completions`, 'when completion mode is Indexed'));
    else if (spec.completions > 100000 && spec.backoffLimitPerIndex === undefined) errs.push(field.invalid(`${p}.completions`, spec.completions, 'must be less than or equal to 100000 when completion mode is Indexed'));
  }
  if (spec.podReplacementPolicy !== undefined && !REPLACEMENT_POLICIES.includes(spec.podReplacementPolicy)) {
    errs.push(field.notSupported(`${p}.podReplacementPolicy`, spec.podReplacementPolicy, REPLACEMENT_POLICIES));
  }
  const t = spec.template;
  if (!t) { errs.push(field.required(`${p}.template`)); return errs; }
  errs.push(...validatePodTemplate(t, matchSelector, `${p}.template`));
  const rp = t.spec?.restartPolicy;
  if (rp === undefined || !JOB_RESTART_POLICIES.includes(rp)) errs.push(field.notSupported(`${p}.template.spec.restartPolicy`, rp ?? '', JOB_RESTART_POLICIES));
  return errs;
}

/** upstream ValidateJobSpec: selector required and matching the template. */
function validateJobSpec(spec: JobSpec | undefined): FieldError[] {
  if (!spec) return [field.required('spec')];
  const errs: FieldError[] = [];
  if (!spec.selector) errs.push(field.required('spec.selector'));
  else errs.push(...validateLabelSelector(spec.selector, 'spec.selector'));
  return [...errs, ...validateJobSpecCommon(spec, 'spec', spec.selector)];
}

/** upstream validateGeneratedSelector: without manualSelector the selector must be the generated one. */
function validateGeneratedSelector(job: Job): FieldError[] {
  const spec = job.spec;
  if (!spec || spec.manualSelector === true) return [];
  const labels = spec.template?.metadata?.labels;
  if (!labels) return [];
  const errs: FieldError[] = [];
  const uid = job.metadata?.uid ?? '';
  if (!uid) errs.push(field.required('metadata.uid'));
  const hasLabel = (key: string, want: string) => {
    const got = labels[key];
    if (got === undefined) errs.push(field.required(`spec.template.metadata.labels[${key}]`));
    else if (got !== want) errs.push(field.invalid(`spec.template.metadata.labels[${key}]`, got, `must be '${want}'`));
  };
  hasLabel(LEGACY_CONTROLLER_UID_LABEL, uid);
  hasLabel(LEGACY_JOB_NAME_LABEL, job.metadata?.name ?? '');
  hasLabel(CONTROLLER_UID_LABEL, uid);
  hasLabel(JOB_NAME_LABEL, job.metadata?.name ?? '');
  if (!jsonEqual(spec.selector, { matchLabels: { [CONTROLLER_UID_LABEL]: uid } })) {
    errs.push(field.invalid('spec.selector', spec.selector ?? null, '`selector` not auto-generated'));
  }
  return errs;
}

export function validateJob(job: Job): FieldError[] {
  return [...validateGeneratedSelector(job), ...validateJobSpec(job.spec)];
}

/** Pod template fields a suspended Job that never started may still change (upstream mutable scheduling directives). */
const SCHEDULING_DIRECTIVES = ['nodeSelector', 'tolerations', 'affinity', 'schedulingGates'] as const;

/** upstream ValidateJobUpdate: most of the spec is immutable once created. */
export function validateJobUpdate(next: Job, old: Job): FieldError[] {
  const errs = validateJob(next);
  const ns = next.spec ?? { template: {} };
  const os = old.spec ?? { template: {} };
  const elastic = ns.completionMode === 'Indexed' && os.completionMode === 'Indexed' && ns.completions === ns.parallelism && os.completions === os.parallelism;
  if (!elastic) errs.push(...immutable(ns.completions, os.completions, 'spec.completions'));
  errs.push(...immutable(ns.selector, os.selector, 'spec.selector'));
  errs.push(...immutable(ns.completionMode, os.completionMode, 'spec.completionMode'));
  errs.push(...immutable(ns.podFailurePolicy, os.podFailurePolicy, 'spec.podFailurePolicy'));
  errs.push(...immutable(ns.backoffLimitPerIndex, os.backoffLimitPerIndex, 'spec.backoffLimitPerIndex'));
  errs.push(...immutable(ns.managedBy, os.managedBy, 'spec.managedBy'));
  errs.push(...immutable(ns.successPolicy, os.successPolicy, 'spec.successPolicy'));
  const started = (old.status as { startTime?: string } | undefined)?.startTime !== undefined;
  const mayChangeScheduling = os.suspend === true && !started;
  const strip = (t: JobSpec['template']) => {
    const c = structuredClone(t ?? {});
    if (mayChangeScheduling) {
      if (c.metadata) { delete c.metadata.labels; delete c.metadata.annotations; }
      if (c.spec) for (const k of SCHEDULING_DIRECTIVES) delete (c.spec as unknown as Record<string, unknown>)[k];
    }
    return c;
  };
  if (!jsonEqual(strip(ns.template), strip(os.template))) errs.push(field.invalid('spec.template', ns.template, 'field is immutable'));
  return errs;
}

/** upstream ValidateJobStatusUpdate (non-negative counters). */
export function validateJobStatus(job: Job): FieldError[] {
  const s = (job.status ?? {}) as Record<string, unknown>;
  const errs: FieldError[] = [];
  for (const k of ['active', 'succeeded', 'failed', 'terminating', 'ready']) {
    const v = s[k];
    if (typeof v === 'number') errs.push(...nonNegative(v, `status.${k}`));
  }
  return errs;
}

// ---- CronJob ----------------------------------------------------------------------------

const CONCURRENCY = ['Allow', 'Forbid', 'Replace'];
const TZ_CHARS = /^[A-Za-z.\-_0-9+]{1,14}$/;

/** upstream SetDefaults_CronJob: concurrencyPolicy Allow, suspend false, history limits 3 and 1. */
export function defaultCronJob(cj: CronJob): void {
  cj.spec ??= { schedule: '', jobTemplate: {} };
  const spec = cj.spec;
  spec.concurrencyPolicy ||= 'Allow';
  spec.suspend ??= false;
  spec.successfulJobsHistoryLimit ??= 3;
  spec.failedJobsHistoryLimit ??= 1;
  if (spec.jobTemplate?.spec) defaultJobSpec(spec.jobTemplate.spec);
}

function validateTimeZone(tz: string | undefined, p: string): FieldError[] {
  if (tz === undefined) return [];
  if (tz === '') return [field.invalid(p, tz, 'timeZone must be nil or non-empty string')];
  for (const part of tz.split('/')) {
    if (part === '.' || part === '..' || part.startsWith('-') || !TZ_CHARS.test(part)) return [field.invalid(p, tz, `unknown time zone ${tz}`)];
  }
  if (tz.toLowerCase() === 'local') return [field.invalid(p, tz, 'timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones')];
  if (!isTimeZone(tz)) return [field.invalid(p, tz, `unknown time zone ${tz}`)];
  return [];
}

function validateJobTemplate(t: JobTemplateSpec | undefined, p: string): FieldError[] {
  if (!t?.spec) return [field.required(`${p}.spec`)];
  const errs = validateJobSpecCommon(t.spec, `${p}.spec`);
  if (t.spec.selector) errs.push(field.invalid(`${p}.spec.selector`, t.spec.selector, '`selector` will be auto-generated'));
  if (t.spec.manualSelector === true) errs.push(field.notSupported(`${p}.spec.manualSelector`, true, ['nil', 'false']));
  return errs;
}

function validateCronJobSpec(cj: CronJob, allowTZInSchedule: boolean): FieldError[] {
  const spec = cj.spec;
  if (!spec) return [field.required('spec')];
  const errs: FieldError[] = [];
  if (!spec.schedule) errs.push(field.required('spec.schedule'));
  else {
    const e = cronScheduleError(spec.schedule);
    if (e) errs.push(field.invalid('spec.schedule', spec.schedule, e));
    if (spec.schedule.includes('TZ')) {
      if (!allowTZInSchedule) errs.push(field.invalid('spec.schedule', spec.schedule, 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead'));
      else if (spec.timeZone !== undefined) errs.push(field.invalid('spec.schedule', spec.schedule, 'cannot use both timeZone field and TZ or CRON_TZ in schedule'));
    }
  }
  errs.push(...nonNegative(spec.startingDeadlineSeconds, 'spec.startingDeadlineSeconds'));
  if (spec.concurrencyPolicy !== undefined && !CONCURRENCY.includes(spec.concurrencyPolicy)) {
    errs.push(field.notSupported('spec.concurrencyPolicy', spec.concurrencyPolicy, CONCURRENCY));
  }
  errs.push(...nonNegative(spec.successfulJobsHistoryLimit, 'spec.successfulJobsHistoryLimit'));
  errs.push(...nonNegative(spec.failedJobsHistoryLimit, 'spec.failedJobsHistoryLimit'));
  errs.push(...validateTimeZone(spec.timeZone, 'spec.timeZone'));
  errs.push(...validateJobTemplate(spec.jobTemplate, 'spec.jobTemplate'));
  return errs;
}

/** upstream ValidateCronJobCreate: names fit 52 characters (job names get an 11-character suffix). */
export function validateCronJob(cj: CronJob): FieldError[] {
  const errs: FieldError[] = [];
  const name = cj.metadata?.name ?? '';
  if (name.length > 52) errs.push(field.invalid('metadata.name', name, 'must be no more than 52 characters'));
  return [...errs, ...validateCronJobSpec(cj, false)];
}

/** Updates: the spec rules; a TZ= prefix already in the schedule stays allowed. */
export function validateCronJobUpdate(next: CronJob, old: CronJob): FieldError[] {
  return validateCronJobSpec(next, (old.spec?.schedule ?? '').includes('TZ'));
}
