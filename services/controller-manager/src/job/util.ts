/**
 * Job helpers shared by the Job, CronJob and TTL-after-finished controllers (upstream
 * pkg/controller/job/util and the job controller's small helpers): finished conditions,
 * condition upserts, completion indexes, pod finish times and the pod failure backoff.
 * Pure functions over read-only objects, except where a parameter is documented as owned.
 */
import type { Job, JobCondition, Pod } from '@tskube/api';
import { rfc3339 } from '@tskube/api';
import type { DeepReadonly } from '@tskube/client';

type JobLike = Job | DeepReadonly<Job>;
type PodLike = Pod | DeepReadonly<Pod>;

export const JOB_TRACKING_FINALIZER = 'batch.kubernetes.io/job-tracking';
export const JOB_COMPLETION_INDEX_ANNOTATION = 'batch.kubernetes.io/job-completion-index';
export const JOB_COMPLETION_INDEX_ENV = 'JOB_COMPLETION_INDEX';
/** spec.managedBy of Jobs this controller reconciles (unset means the same). */
export const JOB_CONTROLLER_NAME = 'kubernetes.io/job-controller';

/** The Complete or Failed condition with status True, if any (upstream FinishedCondition). */
export function finishedCondition(job: JobLike): DeepReadonly<JobCondition> | undefined {
  return job.status?.conditions?.find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
}

export function isJobFinished(job: JobLike): boolean {
  return finishedCondition(job) !== undefined;
}

export function isJobSucceeded(job: JobLike): boolean {
  return finishedCondition(job)?.type === 'Complete';
}

export function findCondition(job: JobLike, type: string): DeepReadonly<JobCondition> | undefined {
  return job.status?.conditions?.find((c) => c.type === type);
}

export function newCondition(type: string, status: 'True' | 'False', reason: string, message: string, now: Date): JobCondition {
  const t = rfc3339(now);
  return { type, status, lastProbeTime: t, lastTransitionTime: t, ...(reason ? { reason } : {}), ...(message ? { message } : {}) };
}

/**
 * Upstream ensureJobConditionStatus on `conds` (owned by the caller): updates the condition
 * of `type` when status, reason or message differ, appends it when missing unless the status
 * is False. Returns whether anything changed.
 */
export function ensureCondition(conds: JobCondition[], type: string, status: 'True' | 'False', reason: string, message: string, now: Date): boolean {
  const i = conds.findIndex((c) => c.type === type);
  if (i >= 0) {
    const c = conds[i]!;
    if (c.status === status && (c.reason ?? '') === reason && (c.message ?? '') === message) return false;
    conds[i] = newCondition(type, status, reason, message, now);
    return true;
  }
  if (status === 'False') return false;
  conds.push(newCondition(type, status, reason, message, now));
  return true;
}

export function hasTrackingFinalizer(pod: PodLike): boolean {
  return pod.metadata?.finalizers?.includes(JOB_TRACKING_FINALIZER) ?? false;
}

/** The pod's completion index (annotation, else label), or undefined when absent or not a number. */
export function completionIndex(pod: PodLike): number | undefined {
  const v = pod.metadata?.annotations?.[JOB_COMPLETION_INDEX_ANNOTATION] ?? pod.metadata?.labels?.[JOB_COMPLETION_INDEX_ANNOTATION];
  if (v === undefined || !/^\d+$/.test(v)) return undefined;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** `1,3-5,7` → the indexes below `completions`, sorted and unique (upstream parseIndexesFromString). */
export function parseIndexes(s: string | undefined, completions: number): number[] {
  const out = new Set<number>();
  for (const part of (s ?? '').split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) continue;
    const first = Number(m[1]);
    const last = Math.min(m[2] !== undefined ? Number(m[2]) : first, completions - 1);
    for (let i = first; i <= last; i++) out.add(i);
  }
  return [...out].sort((a, b) => a - b);
}

/** Sorted unique indexes → `1,3-5,7` (any run of two or more is a range, as upstream: `3-4`). */
export function formatIndexes(sorted: readonly number[]): string {
  const parts: string[] = [];
  let i = 0;
  while (i < sorted.length) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(j === i ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** Milliseconds of an RFC 3339 time, or undefined. */
function ms(t: string | undefined): number | undefined {
  if (!t) return undefined;
  const v = Date.parse(t);
  return Number.isNaN(v) ? undefined : v;
}

/**
 * When a finished (or deleted) pod finished (upstream getFinishedTime): the latest container
 * termination, else when Ready turned False, else the deletion timestamp minus the grace
 * period, else the creation time.
 */
export function podFinishTime(pod: PodLike): number {
  let latest: number | undefined;
  for (const c of pod.status?.containerStatuses ?? []) {
    const t = ms(c.state?.terminated?.finishedAt);
    if (t !== undefined && (latest === undefined || t > latest)) latest = t;
  }
  if (latest !== undefined) return latest;
  const ready = pod.status?.conditions?.find((c) => c.type === 'Ready' && c.status === 'False');
  const rt = ms(ready?.lastTransitionTime);
  if (rt !== undefined) return rt;
  const dt = ms(pod.metadata?.deletionTimestamp);
  if (dt !== undefined) return dt - (pod.metadata?.deletionGracePeriodSeconds ?? 0) * 1000;
  return ms(pod.metadata?.creationTimestamp) ?? 0;
}

/** Failures since the last success and when the latest of them happened (upstream backoffRecord). */
export interface BackoffRecord {
  failuresAfterLastSuccess: number;
  lastFailureTime?: number;
}

/**
 * The record after newly finished pods were counted (upstream newBackoffRecord): a success
 * resets the count to the failures that finished after the latest success.
 */
export function nextBackoffRecord(prev: BackoffRecord, succeeded: readonly PodLike[], failed: readonly PodLike[]): BackoffRecord {
  if (!succeeded.length && !failed.length) return prev;
  const failTimes = failed.map(podFinishTime).sort((a, b) => a - b);
  if (!succeeded.length) {
    return { failuresAfterLastSuccess: prev.failuresAfterLastSuccess + failed.length, lastFailureTime: failTimes[failTimes.length - 1] };
  }
  const lastSuccess = Math.max(...succeeded.map(podFinishTime));
  const after = failTimes.filter((t) => t > lastSuccess);
  return after.length ? { failuresAfterLastSuccess: after.length, lastFailureTime: after[after.length - 1] } : { failuresAfterLastSuccess: 0 };
}

/**
 * How long pod creation still waits (ms): `initialMs` doubled per failure after the first,
 * capped at `maxMs`, counted from the last failure (upstream getRemainingTime).
 */
export function remainingBackoffMs(rec: BackoffRecord, now: number, initialMs: number, maxMs: number): number {
  if (rec.failuresAfterLastSuccess === 0 || rec.lastFailureTime === undefined) return 0;
  let backoff = initialMs;
  for (let i = 1; i < rec.failuresAfterLastSuccess; i++) {
    backoff *= 2;
    if (backoff >= maxMs) { backoff = maxMs; break; }
  }
  const elapsed = now - rec.lastFailureTime;
  return backoff < elapsed ? 0 : backoff - elapsed;
}
