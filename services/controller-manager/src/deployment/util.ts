/**
 * Deployment arithmetic (upstream pkg/controller/deployment/util): annotations and
 * revisions, the new/old ReplicaSet split, surge and unavailability fenceposts, proportional
 * scaling, conditions and status. Pure functions: arguments are never modified except the
 * ones documented as "mutates" (always caller-owned copies).
 */
import {
  rfc3339, type Deployment, type DeploymentCondition, type DeploymentStatus, type ReplicaSet,
} from '@tskube/api';
import type { DeepReadonly } from '@tskube/client';
import { scaledValue } from '../util/int-or-percent.js';
import { equalIgnoreHash } from '../util/hash.js';

type RoD = DeepReadonly<Deployment>;
type RoRS = DeepReadonly<ReplicaSet>;

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
export const REVISION_HISTORY_ANNOTATION = 'deployment.kubernetes.io/revision-history';
export const DESIRED_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/max-replicas';
/** Copied from the Deployment to its new ReplicaSet like any other annotation; `kubectl rollout history` shows it. */
export const CHANGE_CAUSE_ANNOTATION = 'kubernetes.io/change-cause';
/** Upstream's cap on the revision-history annotation (characters). */
export const MAX_REV_HISTORY_CHARS = 2000;

/** Deployment annotations never copied to a ReplicaSet (upstream annotationsToSkip). */
const ANNOTATIONS_TO_SKIP: ReadonlySet<string> = new Set([
  'kubectl.kubernetes.io/last-applied-configuration', REVISION_ANNOTATION, REVISION_HISTORY_ANNOTATION,
  DESIRED_REPLICAS_ANNOTATION, MAX_REPLICAS_ANNOTATION, 'deprecated.deployment.rollback.to',
]);

/** Condition types and reasons (upstream deploymentutil constants). */
export const Reason = {
  ReplicaSetUpdated: 'ReplicaSetUpdated',
  FailedRSCreate: 'ReplicaSetCreateError',
  NewReplicaSet: 'NewReplicaSetCreated',
  FoundNewRS: 'FoundNewReplicaSet',
  NewRSAvailable: 'NewReplicaSetAvailable',
  TimedOut: 'ProgressDeadlineExceeded',
  Paused: 'DeploymentPaused',
  Resumed: 'DeploymentResumed',
  MinimumReplicasAvailable: 'MinimumReplicasAvailable',
  MinimumReplicasUnavailable: 'MinimumReplicasUnavailable',
} as const;

// ---- replicas and strategy ----

/** spec.replicas (the apiserver defaults it to 1). */
export function replicasOf(o: RoD | RoRS | undefined): number {
  return o?.spec?.replicas ?? 1;
}

/** RollingUpdate unless spec.strategy.type says Recreate (the apiserver defaults the type). */
export function isRollingUpdate(d: RoD): boolean {
  return (d.spec?.strategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
}

/**
 * Upstream ResolveFenceposts: maxSurge scaled against `desired` rounding up, maxUnavailable
 * rounding down; when both come out 0, unavailable is 1 (so a rollout can always proceed).
 * An absent rollingUpdate means the defaults (25% / 25%). Throws on malformed values.
 */
export function resolveFenceposts(d: RoD, desired: number): { surge: number; unavailable: number } {
  const ru = d.spec?.strategy?.rollingUpdate;
  const surge = scaledValue(ru ? ru.maxSurge : '25%', desired, true);
  let unavailable = scaledValue(ru ? ru.maxUnavailable : '25%', desired, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}

/** Upstream MaxSurge: 0 for Recreate. */
export function maxSurge(d: RoD): number {
  if (!isRollingUpdate(d)) return 0;
  return resolveFenceposts(d, replicasOf(d)).surge;
}

/** Upstream MaxUnavailable: 0 for Recreate or 0 replicas; never more than the replicas. */
export function maxUnavailable(d: RoD): number {
  const replicas = replicasOf(d);
  if (!isRollingUpdate(d) || replicas === 0) return 0;
  return Math.min(resolveFenceposts(d, replicas).unavailable, replicas);
}

// ---- annotations and revisions ----

/** The revision annotation as a number; 0 when absent or malformed (upstream Revision + MaxRevision skip errors). */
export function revisionOf(o: { readonly metadata?: { readonly annotations?: Readonly<Record<string, string>> } } | undefined): number {
  const v = o?.metadata?.annotations?.[REVISION_ANNOTATION];
  if (v === undefined || !/^-?\d+$/.test(v)) return 0;
  return Number(v);
}

/** The highest revision among `rss` (upstream MaxRevision). */
export function maxRevision(rss: readonly RoRS[]): number {
  return rss.reduce((m, rs) => Math.max(m, revisionOf(rs)), 0);
}

function intAnnotation(rs: RoRS, key: string): number | undefined {
  const v = rs.metadata?.annotations?.[key];
  return v !== undefined && /^-?\d+$/.test(v) ? Number(v) : undefined;
}

/** deployment.kubernetes.io/desired-replicas, if set and a number. */
export function desiredReplicasAnnotation(rs: RoRS): number | undefined {
  return intAnnotation(rs, DESIRED_REPLICAS_ANNOTATION);
}

/** deployment.kubernetes.io/max-replicas, if set and a number. */
export function maxReplicasAnnotation(rs: RoRS): number | undefined {
  return intAnnotation(rs, MAX_REPLICAS_ANNOTATION);
}

/** Whether the desired/max replicas annotations differ from these numbers (upstream ReplicasAnnotationsNeedUpdate). */
export function replicasAnnotationsNeedUpdate(rs: RoRS, desired: number, max: number): boolean {
  const a = rs.metadata?.annotations;
  return a?.[DESIRED_REPLICAS_ANNOTATION] !== String(desired) || a?.[MAX_REPLICAS_ANNOTATION] !== String(max);
}

/** Mutates `rs`: sets the desired/max replicas annotations; returns whether they changed. */
export function setReplicasAnnotations(rs: ReplicaSet, desired: number, max: number): boolean {
  const a = ((rs.metadata ??= {}).annotations ??= {});
  let changed = false;
  for (const [k, v] of [[DESIRED_REPLICAS_ANNOTATION, String(desired)], [MAX_REPLICAS_ANNOTATION, String(max)]] as const) {
    if (a[k] !== v) { a[k] = v; changed = true; }
  }
  return changed;
}

/** Mutates `rs`: copies the Deployment's annotations but the skipped ones (upstream copyDeploymentAnnotationsToReplicaSet). */
function copyDeploymentAnnotations(d: RoD, rs: ReplicaSet): boolean {
  const a = ((rs.metadata ??= {}).annotations ??= {});
  let changed = false;
  for (const [k, v] of Object.entries(d.metadata?.annotations ?? {})) {
    if (ANNOTATIONS_TO_SKIP.has(k) || a[k] === v) continue;
    a[k] = v;
    changed = true;
  }
  return changed;
}

/**
 * Mutates `rs` (the Deployment's new ReplicaSet, `exists` = already stored): copies the
 * Deployment's annotations, raises the revision annotation to `newRevision` when it is lower
 * (an existing revision moves into revision-history, capped at `historyLimitChars`: a
 * rollback to this ReplicaSet), and, for a ReplicaSet about to be created, sets the
 * desired/max replicas annotations. Returns whether anything changed (upstream
 * SetNewReplicaSetAnnotations).
 */
export function setNewReplicaSetAnnotations(d: RoD, rs: ReplicaSet, newRevision: number, exists: boolean, historyLimitChars = MAX_REV_HISTORY_CHARS): boolean {
  let changed = copyDeploymentAnnotations(d, rs);
  const a = rs.metadata!.annotations!;
  const old = a[REVISION_ANNOTATION];
  if (old !== undefined && old !== '' && !/^-?\d+$/.test(old)) return false;
  const oldRev = old ? Number(old) : 0;
  if (oldRev < newRevision) {
    a[REVISION_ANNOTATION] = String(newRevision);
    changed = true;
    if (old !== undefined) {
      const hist = a[REVISION_HISTORY_ANNOTATION] ?? '';
      if (!hist) {
        a[REVISION_HISTORY_ANNOTATION] = old;
      } else {
        let revs = hist.split(',');
        let total = hist.length + old.length + 1;
        let start = 0;
        while (total > historyLimitChars && start < revs.length) {
          total -= revs[start]!.length + 1;
          start++;
        }
        if (total <= historyLimitChars) {
          revs = [...revs.slice(start), old];
          a[REVISION_HISTORY_ANNOTATION] = revs.join(',');
        }
      }
    }
  }
  if (!exists && setReplicasAnnotations(rs, replicasOf(d), replicasOf(d) + maxSurge(d))) changed = true;
  return changed;
}

/** Mutates `d`: sets its revision annotation; returns whether it changed (upstream SetDeploymentRevision). */
export function setDeploymentRevision(d: Deployment, revision: string): boolean {
  const a = ((d.metadata ??= {}).annotations ??= {});
  if (a[REVISION_ANNOTATION] === revision) return false;
  a[REVISION_ANNOTATION] = revision;
  return true;
}

// ---- ReplicaSet lists ----

function created(o: RoRS): number {
  const t = o.metadata?.creationTimestamp;
  return t ? Date.parse(t) : 0;
}

/** Oldest first, then by name (upstream ReplicaSetsByCreationTimestamp). */
export function byCreation(a: RoRS, b: RoRS): number {
  return created(a) - created(b) || (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '');
}

/** Larger first, ties newest first (upstream ReplicaSetsBySizeNewer). */
export function bySizeNewer(a: RoRS, b: RoRS): number {
  return replicasOf(b) - replicasOf(a) || byCreation(b, a);
}

/** Larger first, ties oldest first (upstream ReplicaSetsBySizeOlder). */
export function bySizeOlder(a: RoRS, b: RoRS): number {
  return replicasOf(b) - replicasOf(a) || byCreation(a, b);
}

/** Lowest revision first, ties oldest first (upstream ReplicaSetsByRevision). */
export function byRevision(a: RoRS, b: RoRS): number {
  return revisionOf(a) - revisionOf(b) || byCreation(a, b);
}

/** The oldest ReplicaSet whose template equals the Deployment's apart from the hash label (upstream FindNewReplicaSet). */
export function findNewReplicaSet<T extends RoRS>(d: RoD, rss: readonly T[]): T | undefined {
  return [...rss].sort(byCreation).find((rs) => equalIgnoreHash(rs.spec?.template, d.spec?.template));
}

/** Every ReplicaSet but the new one (`all`), and those of them with replicas (`required`) (upstream FindOldReplicaSets). */
export function findOldReplicaSets<T extends RoRS>(d: RoD, rss: readonly T[]): { required: T[]; all: T[] } {
  const newRS = findNewReplicaSet(d, rss);
  const all = rss.filter((rs) => !newRS || rs.metadata?.uid !== newRS.metadata?.uid);
  return { all, required: all.filter((rs) => replicasOf(rs) !== 0) };
}

/** Those with spec.replicas > 0 (upstream FilterActiveReplicaSets). */
export function filterActive<T extends RoRS>(rss: readonly (T | undefined)[]): T[] {
  return rss.filter((rs): rs is T => rs !== undefined && replicasOf(rs) > 0);
}

/**
 * The only active ReplicaSet, or the newest one when none is active; undefined when several
 * are active (upstream FindActiveOrLatest).
 */
export function findActiveOrLatest<T extends RoRS>(newRS: T | undefined, oldRSs: readonly T[]): T | undefined {
  if (!newRS && oldRSs.length === 0) return undefined;
  const olds = [...oldRSs].sort((a, b) => byCreation(b, a));
  const active = filterActive([...olds, newRS]);
  if (active.length === 0) return newRS ?? olds[0];
  return active.length === 1 ? active[0] : undefined;
}

const sum = (rss: readonly (RoRS | undefined)[], f: (rs: RoRS) => number | undefined) =>
  rss.reduce((n, rs) => n + (rs ? f(rs) ?? 0 : 0), 0);

/** Sum of spec.replicas (upstream GetReplicaCountForReplicaSets). */
export const specReplicas = (rss: readonly (RoRS | undefined)[]) => sum(rss, replicasOf);
/** Sum of status.replicas (upstream GetActualReplicaCountForReplicaSets). */
export const actualReplicas = (rss: readonly (RoRS | undefined)[]) => sum(rss, (rs) => rs.status?.replicas);
export const readyReplicas = (rss: readonly (RoRS | undefined)[]) => sum(rss, (rs) => rs.status?.readyReplicas);
export const availableReplicas = (rss: readonly (RoRS | undefined)[]) => sum(rss, (rs) => rs.status?.availableReplicas);

/**
 * How many replicas the new ReplicaSet should have now (upstream NewRSNewReplicas):
 * RollingUpdate adds up to the surge room left by every ReplicaSet's replicas (`allRSs`
 * includes `newRS`), never beyond spec.replicas; Recreate goes straight to spec.replicas.
 */
export function newRSNewReplicas(d: RoD, allRSs: readonly RoRS[], newRS: RoRS): number {
  const replicas = replicasOf(d);
  if (!isRollingUpdate(d)) return replicas;
  const surge = scaledValue(d.spec?.strategy?.rollingUpdate ? d.spec.strategy.rollingUpdate.maxSurge : '25%', replicas, true);
  const current = specReplicas(allRSs);
  const maxTotal = replicas + surge;
  if (current >= maxTotal) return replicasOf(newRS);
  const up = Math.min(maxTotal - current, replicas - replicasOf(newRS));
  return replicasOf(newRS) + up;
}

/** The new ReplicaSet runs the Deployment's replicas, all available, as the Deployment wants now (upstream IsSaturated). */
export function isSaturated(d: RoD, rs: RoRS | undefined): boolean {
  if (!rs) return false;
  const desired = desiredReplicasAnnotation(rs);
  if (desired === undefined) return false;
  const replicas = replicasOf(d);
  return replicasOf(rs) === replicas && desired === replicas && (rs.status?.availableReplicas ?? 0) === replicas;
}

/** Go's math.Round: halves away from zero. */
function roundHalfAway(x: number): number {
  return Math.sign(x) * Math.round(Math.abs(x));
}

/**
 * The share of a Deployment scaling (by `toAdd`, `added` of it handed out already) that
 * `rs` gets, by its size relative to the size the Deployment had when it was last
 * annotated (max-replicas; status.replicas when absent) (upstream GetProportion and
 * getReplicaSetFraction).
 */
export function proportion(rs: RoRS, d: RoD, toAdd: number, added: number): number {
  if (replicasOf(rs) === 0 || toAdd === 0 || toAdd === added) return 0;
  let fraction: number;
  if (replicasOf(d) === 0) {
    fraction = -replicasOf(rs);
  } else {
    const dReplicas = replicasOf(d) + maxSurge(d);
    const annotated = maxReplicasAnnotation(rs) ?? d.status?.replicas ?? 0;
    fraction = roundHalfAway((replicasOf(rs) * dReplicas) / annotated) - replicasOf(rs);
  }
  const allowed = toAdd - added;
  return toAdd > 0 ? Math.min(fraction, allowed) : Math.max(fraction, allowed);
}

// ---- conditions ----

type Cond = DeploymentCondition;

export function newCondition(type: string, status: 'True' | 'False' | 'Unknown', reason: string, message: string, now: Date): Cond {
  const t = rfc3339(now);
  return { type, status, lastUpdateTime: t, lastTransitionTime: t, reason, message };
}

export function getCondition(status: DeepReadonly<DeploymentStatus> | undefined, type: string): DeepReadonly<Cond> | undefined {
  return status?.conditions?.find((c) => c.type === type);
}

/**
 * Mutates `status`: puts `cond` in place of the condition of its type, unless one with the
 * same status and reason is there; keeps lastTransitionTime when the status is unchanged
 * (upstream SetDeploymentCondition). The condition goes to the end of the list.
 */
export function setCondition(status: DeploymentStatus, cond: Cond): void {
  const cur = status.conditions?.find((c) => c.type === cond.type);
  if (cur && cur.status === cond.status && cur.reason === cond.reason) return;
  const next = { ...cond };
  if (cur && cur.status === cond.status) next.lastTransitionTime = cur.lastTransitionTime;
  status.conditions = [...(status.conditions ?? []).filter((c) => c.type !== cond.type), next];
}

/** Mutates `status`: drops the condition of `type`. */
export function removeCondition(status: DeploymentStatus, type: string): void {
  if (!status.conditions) return;
  status.conditions = status.conditions.filter((c) => c.type !== type);
}

/** progressDeadlineSeconds set and not MaxInt32 (upstream HasProgressDeadline). */
export function hasProgressDeadline(d: RoD): boolean {
  const p = d.spec?.progressDeadlineSeconds;
  return p !== undefined && p !== 2147483647;
}

/** Every replica updated and available, and the status is current (upstream DeploymentComplete). */
export function deploymentComplete(d: RoD, s: DeepReadonly<DeploymentStatus>): boolean {
  const r = replicasOf(d);
  return (s.updatedReplicas ?? 0) === r && (s.replicas ?? 0) === r && (s.availableReplicas ?? 0) === r
    && (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0);
}

/**
 * Something moved forward since the Deployment's current status: more updated, fewer old,
 * more ready or more available replicas (upstream DeploymentProgressing).
 */
export function deploymentProgressing(d: RoD, s: DeepReadonly<DeploymentStatus>): boolean {
  const o = d.status ?? {};
  const oldOld = (o.replicas ?? 0) - (o.updatedReplicas ?? 0);
  const newOld = (s.replicas ?? 0) - (s.updatedReplicas ?? 0);
  return (s.updatedReplicas ?? 0) > (o.updatedReplicas ?? 0) || newOld < oldOld
    || (s.readyReplicas ?? 0) > (o.readyReplicas ?? 0) || (s.availableReplicas ?? 0) > (o.availableReplicas ?? 0);
}

/**
 * The Progressing condition in `s` was last updated more than progressDeadlineSeconds ago
 * (never after NewReplicaSetAvailable; always once ProgressDeadlineExceeded) (upstream
 * DeploymentTimedOut).
 */
export function deploymentTimedOut(d: RoD, s: DeepReadonly<DeploymentStatus>, now: Date): boolean {
  if (!hasProgressDeadline(d)) return false;
  const c = getCondition(s, 'Progressing');
  if (!c) return false;
  if (c.reason === Reason.NewRSAvailable) return false;
  if (c.reason === Reason.TimedOut) return true;
  const from = c.lastUpdateTime ? Date.parse(c.lastUpdateTime) : 0;
  return from + (d.spec?.progressDeadlineSeconds ?? 0) * 1000 < now.getTime();
}

// ---- status ----

/** The status with zero counters dropped, as the Go type's omitempty serialises it (for comparisons). */
export function normalStatus(s: DeepReadonly<DeploymentStatus> | undefined): DeploymentStatus {
  const out: DeploymentStatus = {};
  for (const [k, v] of Object.entries(s ?? {})) {
    if (v === undefined || v === null || (typeof v === 'number' && v === 0 && k !== 'collisionCount')) continue;
    if (k === 'conditions' && Array.isArray(v) && v.length === 0) continue;
    (out as Record<string, unknown>)[k] = v;
  }
  return out;
}

/**
 * The Deployment's status from its ReplicaSets (upstream calculateStatus): counters, the
 * Available condition (MinimumReplicasAvailable once available ≥ replicas − maxUnavailable),
 * the other conditions carried over, collisionCount kept.
 */
export function calculateStatus(allRSs: readonly (RoRS | undefined)[], newRS: RoRS | undefined, d: RoD, now: Date): DeploymentStatus {
  const available = availableReplicas(allRSs);
  const unavailable = Math.max(0, specReplicas(allRSs) - available);
  const status = normalStatus({
    observedGeneration: d.metadata?.generation,
    replicas: actualReplicas(allRSs),
    updatedReplicas: actualReplicas([newRS]),
    readyReplicas: readyReplicas(allRSs),
    availableReplicas: available,
    unavailableReplicas: unavailable,
    collisionCount: d.status?.collisionCount,
  });
  if (d.status?.conditions?.length) status.conditions = d.status.conditions.map((c) => ({ ...c }));
  if (available >= replicasOf(d) - maxUnavailable(d)) {
    setCondition(status, newCondition('Available', 'True', Reason.MinimumReplicasAvailable, 'Deployment has minimum availability.', now));
  } else {
    setCondition(status, newCondition('Available', 'False', Reason.MinimumReplicasUnavailable, 'Deployment does not have minimum availability.', now));
  }
  return status;
}
