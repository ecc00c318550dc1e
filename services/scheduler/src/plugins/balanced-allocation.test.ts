import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CycleState } from '../framework/interface.js';
import { Code } from '../framework/status.js';
import type { ReadonlyPod } from '../framework/types.js';
import { makeNode, makePod, nodeInfoOf } from '../testing/builders.js';
import { BalancedAllocation, balancedResourceScore } from './balanced-allocation.js';

test('balancedResourceScore: (1 - std) × 100, fractions capped at 1', () => {
  const cases: [number[], number[], number][] = [
    [[1000, 2], [4000, 8], 100],
    [[3000, 2], [4000, 8], 75],
    [[4000, 0], [4000, 8], 50],
    [[8000, 0], [4000, 8], 50],
    [[1000, 2], [0, 8], 100], // a resource the node has none of is ignored
    [[1, 2, 3], [4, 4, 4], 79], // three fractions: population std
  ];
  for (const [req, alloc, want] of cases) assert.equal(balancedResourceScore(req, alloc), want, `${req}/${alloc}`);
});

test('Score uses actual requests of the node pods plus the pod; best-effort pods are skipped', () => {
  const cases: { name: string; existing: ReadonlyPod[]; pod: ReadonlyPod; want: number }[] = [
    { name: 'balanced on an empty node', existing: [], pod: makePod('p', { cpu: '1', memory: '2Gi' }), want: 100 },
    { name: 'cpu-heavy node', existing: [makePod('e', { cpu: '2' })], pod: makePod('p', { cpu: '1', memory: '2Gi' }), want: 75 },
    { name: 'best-effort pods on the node do not count', existing: [makePod('e')], pod: makePod('p', { cpu: '1', memory: '2Gi' }), want: 100 },
  ];
  for (const c of cases) {
    const pl = new BalancedAllocation();
    const state = new CycleState();
    assert.equal(pl.preScore(state, c.pod), undefined, c.name);
    assert.equal(pl.score(state, c.pod, nodeInfoOf(makeNode('n', { cpu: '4', memory: '8Gi' }), ...c.existing)).score, c.want, c.name);
  }
  assert.equal(new BalancedAllocation().preScore(new CycleState(), makePod('be'))?.code, Code.Skip);
});
