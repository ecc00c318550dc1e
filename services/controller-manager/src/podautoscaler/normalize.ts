/**
 * From the replica count the metrics ask for to the count the HPA sets (upstream
 * horizontal.go normalizeDesiredReplicas / normalizeDesiredReplicasWithBehaviors, 1.32):
 *
 * - without `spec.behavior`: the highest recommendation of the downscale stabilization window
 *   (--horizontal-pod-autoscaler-downscale-stabilization, 5 min) is taken, then clamped to
 *   [minReplicas, min(maxReplicas, max(2 × current, 4))];
 * - with `spec.behavior`: the recommendation is held between the lowest recommendation of the
 *   scale-up window and the highest of the scale-down window (an unset scale-down window is
 *   the controller's default), then limited by the scaling policies over the changes recorded
 *   in each policy's period (Pods: ± value, Percent: × (1 ± value/100), scale-up rounded up;
 *   selectPolicy Max = the largest change, Min = the smallest, Disabled = none) and clamped
 *   to [minReplicas, maxReplicas].
 *
 * `ScalingHistory` keeps, per HPA key, the recent unstabilized recommendations and the scale
 * events; it is the controller's only in-memory state (lost on restart, as upstream). A key
 * is handled by one worker at a time, so no locking is needed.
 */
import type { HPABehavior, HPAScalingRules } from './types.js';

export interface TimestampedRecommendation {
  recommendation: number;
  at: number;
}

export interface ScaleEvent {
  /** Absolute size of the change. */
  change: number;
  at: number;
  outdated: boolean;
}

/** The AbleToScale and ScalingLimited conditions a normalization implies. */
export interface Normalized {
  desired: number;
  ableToScale: { reason: string; message: string };
  scalingLimited: { status: 'True' | 'False'; reason: string; message: string };
}

const READY_FOR_NEW_SCALE = { reason: 'ReadyForNewScale', message: 'recommended size matches current size' };
const SCALE_DOWN_STABILIZED = {
  reason: 'ScaleDownStabilized', message: 'recent recommendations were higher than current one, applying the highest recent recommendation',
};
const SCALE_UP_STABILIZED = {
  reason: 'ScaleUpStabilized', message: 'recent recommendations were lower than current one, applying the lowest recent recommendation',
};
const WITHIN_RANGE = { reason: 'DesiredWithinRange', message: 'the desired count is within the acceptable range' };
const SCALE_UP_LIMIT = { reason: 'ScaleUpLimit', message: 'the desired replica count is increasing faster than the maximum scale rate' };
const TOO_MANY = { reason: 'TooManyReplicas', message: 'the desired replica count is more than the maximum replica count' };
const TOO_FEW = { reason: 'TooFewReplicas', message: 'the desired replica count is less than the minimum replica count' };
const SCALE_DOWN_LIMIT = { reason: 'ScaleDownLimit', message: 'the desired replica count is decreasing faster than the maximum scale rate' };

const INT32_MAX = 2 ** 31 - 1;
const INT32_MIN = -(2 ** 31);

/** upstream calculateScaleUpLimit: max(2 × current, 4), for HPAs without behavior. */
export function scaleUpLimit(currentReplicas: number): number {
  return Math.trunc(Math.max(2.0 * currentReplicas, 4.0));
}

/** upstream convertDesiredReplicasWithRules (no behavior): clamp with the fixed scale-up limit. */
export function convertDesiredReplicasWithRules(current: number, desired: number, min: number, max: number): { desired: number; reason: string; message: string } {
  const limit = scaleUpLimit(current);
  const [maximum, why] = max > limit ? [limit, SCALE_UP_LIMIT] : [max, TOO_MANY];
  if (desired < min) return { desired: min, ...TOO_FEW };
  if (desired > maximum) return { desired: maximum, ...why };
  return { desired, ...WITHIN_RANGE };
}

/** Sum of the changes of `events` newer than `periodSeconds` (upstream getReplicasChangePerPeriod). */
function changeInPeriod(periodSeconds: number, events: readonly ScaleEvent[], now: number): number {
  const cutoff = now - periodSeconds * 1000;
  let sum = 0;
  for (const e of events) if (e.at > cutoff) sum += e.change;
  return sum;
}

/** The most replicas the scale-up rules allow now (upstream calculateScaleUpLimitWithScalingRules). */
export function scaleUpLimitWithRules(current: number, ups: readonly ScaleEvent[], downs: readonly ScaleEvent[], rules: HPAScalingRules, now: number): number {
  const policy = rules.selectPolicy ?? 'Max';
  if (policy === 'Disabled') return current;
  const pick = policy === 'Min' ? Math.min : Math.max;
  let result = policy === 'Min' ? INT32_MAX : INT32_MIN;
  for (const p of rules.policies ?? []) {
    const start = current - changeInPeriod(p.periodSeconds, ups, now) + changeInPeriod(p.periodSeconds, downs, now);
    // Percent rounds up, or a small target would never grow
    const proposed = p.type === 'Pods' ? start + p.value : p.type === 'Percent' ? Math.ceil(start * (1 + p.value / 100)) : 0;
    result = pick(result, proposed);
  }
  return result;
}

/** The fewest replicas the scale-down rules allow now (upstream calculateScaleDownLimitWithBehaviors). */
export function scaleDownLimitWithRules(current: number, ups: readonly ScaleEvent[], downs: readonly ScaleEvent[], rules: HPAScalingRules, now: number): number {
  const policy = rules.selectPolicy ?? 'Max';
  if (policy === 'Disabled') return current;
  const pick = policy === 'Min' ? Math.max : Math.min;
  let result = policy === 'Min' ? INT32_MIN : INT32_MAX;
  for (const p of rules.policies ?? []) {
    const start = current - changeInPeriod(p.periodSeconds, ups, now) + changeInPeriod(p.periodSeconds, downs, now);
    const proposed = p.type === 'Pods' ? start - p.value : p.type === 'Percent' ? Math.trunc(start * (1 - p.value / 100)) : 0;
    result = pick(result, proposed);
  }
  return result;
}

export interface NormalizeArgs {
  key: string;
  current: number;
  /** What the metrics ask for (before stabilization and limits). */
  desired: number;
  min: number;
  max: number;
}

export class ScalingHistory {
  private readonly recommendations = new Map<string, TimestampedRecommendation[]>();
  private readonly scaleUps = new Map<string, ScaleEvent[]>();
  private readonly scaleDowns = new Map<string, ScaleEvent[]>();

  /**
   * @param now the controller clock
   * @param downscaleStabilizationMs upstream --horizontal-pod-autoscaler-downscale-stabilization
   */
  constructor(private readonly now: () => Date, private readonly downscaleStabilizationMs: number) {}

  /** Forgets an HPA that is gone. */
  forget(key: string): void {
    this.recommendations.delete(key);
    this.scaleUps.delete(key);
    this.scaleDowns.delete(key);
  }

  /** The first reconcile of an HPA records the target's current size as a recommendation (upstream recordInitialRecommendation). */
  recordInitial(key: string, current: number): void {
    if (!this.recommendations.has(key)) this.recommendations.set(key, [{ recommendation: current, at: this.now().getTime() }]);
  }

  /** For tests and logs: the recommendations kept for `key`. */
  recommendationsOf(key: string): readonly number[] {
    return (this.recommendations.get(key) ?? []).map((r) => r.recommendation);
  }

  /** Records `desired` (reusing an entry that fell out of every window) and returns the max of the window (upstream stabilizeRecommendation). */
  private stabilize(key: string, desired: number): number {
    const now = this.now().getTime();
    const cutoff = now - this.downscaleStabilizationMs;
    const recs = this.recommendations.get(key) ?? [];
    let max = desired;
    let old = -1;
    recs.forEach((r, i) => {
      if (r.at < cutoff) old = i;
      else if (r.recommendation > max) max = r.recommendation;
    });
    const entry = { recommendation: desired, at: now };
    if (old >= 0) recs[old] = entry; else recs.push(entry);
    this.recommendations.set(key, recs);
    return max;
  }

  /** Without behavior (upstream normalizeDesiredReplicas). */
  normalize(a: NormalizeArgs): Normalized {
    const stabilized = this.stabilize(a.key, a.desired);
    const ableToScale = stabilized !== a.desired ? SCALE_DOWN_STABILIZED : READY_FOR_NEW_SCALE;
    const r = convertDesiredReplicasWithRules(a.current, stabilized, a.min, a.max);
    return {
      desired: r.desired, ableToScale,
      scalingLimited: { status: r.desired === stabilized ? 'False' : 'True', reason: r.reason, message: r.message },
    };
  }

  /** With behavior (upstream normalizeDesiredReplicasWithBehaviors). */
  normalizeWithBehavior(a: NormalizeArgs, behavior: HPABehavior): Normalized {
    const up = behavior.scaleUp ?? {};
    const down = { ...behavior.scaleDown };
    down.stabilizationWindowSeconds ??= Math.trunc(this.downscaleStabilizationMs / 1000);
    const stabilized = this.stabilizeWithBehavior(a, up, down);
    const ableToScale = stabilized !== a.desired
      ? (a.desired >= a.current ? SCALE_UP_STABILIZED : SCALE_DOWN_STABILIZED)
      : READY_FOR_NEW_SCALE;
    const r = this.convertWithBehaviorRate({ ...a, desired: stabilized }, up, down);
    return {
      desired: r.desired, ableToScale,
      scalingLimited: { status: r.desired === stabilized ? 'False' : 'True', reason: r.reason, message: r.message },
    };
  }

  /** Holds the recommendation between the scale-up window's minimum and the scale-down window's maximum (upstream stabilizeRecommendationWithBehaviors). */
  private stabilizeWithBehavior(a: NormalizeArgs, up: HPAScalingRules, down: HPAScalingRules): number {
    const now = this.now().getTime();
    const upCutoff = now - (up.stabilizationWindowSeconds ?? 0) * 1000;
    const downCutoff = now - (down.stabilizationWindowSeconds ?? 0) * 1000;
    let upRec = a.desired;
    let downRec = a.desired;
    let old = -1;
    const recs = this.recommendations.get(a.key) ?? [];
    recs.forEach((r, i) => {
      if (r.at > upCutoff) upRec = Math.min(r.recommendation, upRec);
      if (r.at > downCutoff) downRec = Math.max(r.recommendation, downRec);
      if (r.at < upCutoff && r.at < downCutoff) old = i;
    });
    let rec = a.current;
    if (rec < upRec) rec = upRec;
    if (rec > downRec) rec = downRec;
    const entry = { recommendation: a.desired, at: now };
    if (old >= 0) recs[old] = entry; else recs.push(entry);
    this.recommendations.set(a.key, recs);
    return rec;
  }

  /** upstream convertDesiredReplicasWithBehaviorRate. */
  private convertWithBehaviorRate(a: NormalizeArgs, up: HPAScalingRules, down: HPAScalingRules): { desired: number; reason: string; message: string } {
    const now = this.now().getTime();
    const ups = this.scaleUps.get(a.key) ?? [];
    const downs = this.scaleDowns.get(a.key) ?? [];
    if (a.desired > a.current) {
      // no further scale-up until the recorded events age out
      const limit = Math.max(scaleUpLimitWithRules(a.current, ups, downs, up, now), a.current);
      const [maximum, why] = a.max > limit ? [limit, SCALE_UP_LIMIT] : [a.max, TOO_MANY];
      if (a.desired > maximum) return { desired: maximum, ...why };
    } else if (a.desired < a.current) {
      const limit = Math.min(scaleDownLimitWithRules(a.current, ups, downs, down, now), a.current);
      const [minimum, why] = a.min < limit ? [limit, SCALE_DOWN_LIMIT] : [a.min, TOO_FEW];
      if (a.desired < minimum) return { desired: minimum, ...why };
    }
    return { desired: a.desired, ...WITHIN_RANGE };
  }

  /**
   * Records a rescale from `prev` to `next` for the behavior policies (upstream storeScaleEvent):
   * an event older than the direction's longest policy period is reused. Nothing is kept
   * for HPAs without behavior.
   */
  storeScaleEvent(behavior: HPABehavior | undefined, key: string, prev: number, next: number): void {
    if (!behavior) return;
    const isUp = next > prev;
    const rules = (isUp ? behavior.scaleUp : behavior.scaleDown) ?? {};
    const longest = Math.max(0, ...(rules.policies ?? []).map((p) => p.periodSeconds));
    const map = isUp ? this.scaleUps : this.scaleDowns;
    const events = map.get(key) ?? [];
    const now = this.now().getTime();
    const cutoff = now - longest * 1000;
    let old = -1;
    events.forEach((e, i) => {
      if (e.at < cutoff) e.outdated = true;
      if (e.outdated) old = i;
    });
    const entry = { change: Math.abs(next - prev), at: now, outdated: false };
    if (old >= 0) events[old] = entry; else events.push(entry);
    map.set(key, events);
  }
}
