import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ScalingHistory, convertDesiredReplicasWithRules, scaleDownLimitWithRules, scaleUpLimitWithRules, type ScaleEvent,
} from './normalize.js';
import type { HPABehavior, HPAScalingRules } from './types.js';

const T0 = Date.parse('2025-01-01T00:00:00Z');
const DEFAULT_UP: HPAScalingRules = {
  stabilizationWindowSeconds: 0, selectPolicy: 'Max',
  policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }],
};
const DEFAULT_DOWN: HPAScalingRules = { selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] };

function clock() {
  let t = T0;
  return { now: () => new Date(t), advance: (s: number) => { t += s * 1000; } };
}

describe('convertDesiredReplicasWithRules (no behavior)', () => {
  const cases: [current: number, desired: number, min: number, max: number, want: number, reason: string][] = [
    [1, 3, 1, 10, 3, 'DesiredWithinRange'],
    [1, 10, 1, 10, 4, 'ScaleUpLimit'],       // max(2 × 1, 4)
    [5, 20, 1, 100, 10, 'ScaleUpLimit'],     // 2 × 5
    [4, 20, 1, 6, 6, 'TooManyReplicas'],
    [5, 0, 2, 10, 2, 'TooFewReplicas'],
  ];
  for (const [current, desired, min, max, want, reason] of cases) {
    it(`${current} → ${desired} in [${min}, ${max}] = ${want} (${reason})`, () => {
      const r = convertDesiredReplicasWithRules(current, desired, min, max);
      assert.deepEqual([r.desired, r.reason], [want, reason]);
    });
  }
});

describe('scaling policy limits', () => {
  const ev = (change: number, agoS: number): ScaleEvent => ({ change, at: T0 - agoS * 1000, outdated: false });
  const cases: { name: string; up: boolean; current: number; rules: HPAScalingRules; ups?: ScaleEvent[]; downs?: ScaleEvent[]; want: number }[] = [
    { name: 'default scale-up from 1: 4 pods beat 100 %', up: true, current: 1, rules: DEFAULT_UP, want: 5 },
    { name: 'default scale-up from 10: 100 % beats 4 pods', up: true, current: 10, rules: DEFAULT_UP, want: 20 },
    { name: 'selectPolicy Min takes the smaller change', up: true, current: 10, rules: { ...DEFAULT_UP, selectPolicy: 'Min' }, want: 14 },
    { name: 'Disabled allows no scale-up', up: true, current: 10, rules: { ...DEFAULT_UP, selectPolicy: 'Disabled' }, want: 10 },
    { name: 'changes in the period count from its start', up: true, current: 5, rules: DEFAULT_UP, ups: [ev(4, 5)], want: 5 },
    { name: 'changes older than the period do not', up: true, current: 5, rules: DEFAULT_UP, ups: [ev(4, 16)], want: 10 },
    { name: 'percent scale-up rounds up', up: true, current: 3, rules: { policies: [{ type: 'Percent', value: 10, periodSeconds: 60 }] }, want: 4 },
    { name: 'default scale-down: 100 % allows 0', up: false, current: 8, rules: DEFAULT_DOWN, want: 0 },
    { name: 'percent scale-down truncates', up: false, current: 5, rules: { policies: [{ type: 'Percent', value: 50, periodSeconds: 60 }] }, want: 2 },
    { name: 'pods scale-down with Max picks the larger change', up: false, current: 10, rules: { policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }, { type: 'Percent', value: 50, periodSeconds: 60 }] }, want: 5 },
    { name: 'pods scale-down with Min picks the smaller change', up: false, current: 10, rules: { selectPolicy: 'Min', policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }, { type: 'Percent', value: 50, periodSeconds: 60 }] }, want: 9 },
    { name: 'recent scale-downs use up the budget', up: false, current: 9, rules: { policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] }, downs: [ev(1, 30)], want: 9 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const f = c.up ? scaleUpLimitWithRules : scaleDownLimitWithRules;
      assert.equal(f(c.current, c.ups ?? [], c.downs ?? [], c.rules, T0), c.want);
    });
  }
});

describe('ScalingHistory', () => {
  const args = (current: number, desired: number, min = 1, max = 10) => ({ key: 'default/web', current, desired, min, max });

  it('without behavior: a scale-down waits for the highest recommendation of the window', () => {
    const c = clock();
    const h = new ScalingHistory(c.now, 300_000);
    h.recordInitial('default/web', 4);
    let r = h.normalize(args(4, 1));
    assert.deepEqual([r.desired, r.ableToScale.reason, r.scalingLimited.status, r.scalingLimited.reason], [4, 'ScaleDownStabilized', 'False', 'DesiredWithinRange']);
    c.advance(200);
    assert.equal(h.normalize(args(4, 2)).desired, 4);
    c.advance(101);
    // the recommendations of T0 aged out; the 2 of T0+200 s is the highest left
    r = h.normalize(args(4, 1));
    assert.deepEqual([r.desired, r.ableToScale.reason], [2, 'ScaleDownStabilized']);
    c.advance(300);
    r = h.normalize(args(2, 1));
    assert.deepEqual([r.desired, r.ableToScale.reason], [1, 'ReadyForNewScale']);
    assert.ok(h.recommendationsOf('default/web').length <= 4, 'aged entries are reused');
  });

  it('without behavior: scale-ups are not stabilized, only limited', () => {
    const h = new ScalingHistory(clock().now, 300_000);
    h.recordInitial('default/web', 1);
    const r = h.normalize(args(1, 9));
    assert.deepEqual([r.desired, r.ableToScale.reason, r.scalingLimited.status, r.scalingLimited.reason], [4, 'ReadyForNewScale', 'True', 'ScaleUpLimit']);
  });

  it('with the default behavior: 4 pods or 100 % per 15 s up, then the scale-down window', () => {
    const c = clock();
    const h = new ScalingHistory(c.now, 300_000);
    const behavior: HPABehavior = { scaleUp: DEFAULT_UP, scaleDown: DEFAULT_DOWN };
    h.recordInitial('default/web', 1);
    let r = h.normalizeWithBehavior(args(1, 10), behavior);
    assert.deepEqual([r.desired, r.scalingLimited.status, r.scalingLimited.reason], [5, 'True', 'ScaleUpLimit']);
    h.storeScaleEvent(behavior, 'default/web', 1, 5);
    c.advance(5);
    r = h.normalizeWithBehavior(args(5, 10), behavior);
    assert.deepEqual([r.desired, r.scalingLimited.reason], [5, 'ScaleUpLimit'], 'the 15 s period is used up');
    c.advance(11);
    r = h.normalizeWithBehavior(args(5, 10), behavior);
    assert.deepEqual([r.desired, r.scalingLimited.reason], [10, 'DesiredWithinRange']);
    h.storeScaleEvent(behavior, 'default/web', 5, 10);
    c.advance(30);
    r = h.normalizeWithBehavior(args(10, 2), behavior);
    assert.deepEqual([r.desired, r.ableToScale.reason], [10, 'ScaleDownStabilized'], 'an unset scale-down window is the controller default (300 s)');
    c.advance(301);
    r = h.normalizeWithBehavior(args(10, 2), behavior);
    assert.deepEqual([r.desired, r.ableToScale.reason, r.scalingLimited.reason], [2, 'ReadyForNewScale', 'DesiredWithinRange']);
  });

  it('with behavior: a scale-up window takes the lowest recent recommendation; min/max clamp', () => {
    const c = clock();
    const h = new ScalingHistory(c.now, 0);
    const behavior: HPABehavior = { scaleUp: { ...DEFAULT_UP, stabilizationWindowSeconds: 60 }, scaleDown: { ...DEFAULT_DOWN, stabilizationWindowSeconds: 0 } };
    h.recordInitial('default/web', 2);
    c.advance(1);
    let r = h.normalizeWithBehavior(args(2, 6), behavior);
    assert.deepEqual([r.desired, r.ableToScale.reason], [2, 'ScaleUpStabilized']);
    c.advance(30);
    r = h.normalizeWithBehavior(args(2, 7), behavior);
    assert.deepEqual([r.desired, r.ableToScale.reason], [2, 'ScaleUpStabilized'], 'the initial 2 is still in the window');
    c.advance(31);
    r = h.normalizeWithBehavior(args(2, 7, 1, 5), behavior);
    assert.deepEqual([r.desired, r.scalingLimited.status, r.scalingLimited.reason], [5, 'True', 'TooManyReplicas'], 'the lowest of the window (7: the 6 aged out), clamped to max 5');
    r = h.normalizeWithBehavior(args(5, 0, 3, 10), behavior);
    assert.deepEqual([r.desired, r.scalingLimited.reason], [3, 'TooFewReplicas']);
  });

  it('with behavior: scale-down policies limit the rate', () => {
    const c = clock();
    const h = new ScalingHistory(c.now, 0);
    const behavior: HPABehavior = { scaleUp: DEFAULT_UP, scaleDown: { stabilizationWindowSeconds: 0, policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] } };
    let r = h.normalizeWithBehavior(args(5, 1), behavior);
    assert.deepEqual([r.desired, r.scalingLimited.reason], [4, 'ScaleDownLimit']);
    h.storeScaleEvent(behavior, 'default/web', 5, 4);
    c.advance(30);
    r = h.normalizeWithBehavior(args(4, 1), behavior);
    assert.deepEqual([r.desired, r.scalingLimited.reason], [4, 'ScaleDownLimit']);
    c.advance(31);
    assert.equal(h.normalizeWithBehavior(args(4, 1), behavior).desired, 3);
    h.forget('default/web');
    assert.deepEqual(h.recommendationsOf('default/web'), []);
  });
});
