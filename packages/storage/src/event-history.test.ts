import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventHistory, type CacheEvent } from './event-history.js';

const ev = (rv: number, at: number): CacheEvent => ({ rv, key: `/r/x/${rv}`, type: 'put', object: { metadata: { name: String(rv) } }, at });
const rvs = (evs: CacheEvent[]) => evs.map((e) => e.rv);

test('event history: window, resume floor, growth and shrinking', () => {
  const cases: {
    name: string; min: number; max: number; fresh: number;
    pushes: [rv: number, at: number][];
    capacity: number; floor: number; since: [from: number, rvs: number[]][];
  }[] = [
    {
      name: 'fixed size drops the oldest and moves the floor', min: 3, max: 3, fresh: 1000,
      pushes: [[11, 0], [12, 0], [13, 0], [15, 0], [16, 0]],
      capacity: 3, floor: 12, since: [[12, [13, 15, 16]], [14, [15, 16]], [16, []]],
    },
    {
      name: 'grows while the oldest is fresh', min: 2, max: 8, fresh: 1000,
      pushes: [[1, 0], [2, 0], [3, 0], [4, 0], [5, 0]],
      capacity: 8, floor: 0, since: [[0, [1, 2, 3, 4, 5]]],
    },
    {
      name: 'stops growing at the maximum', min: 2, max: 4, fresh: 1000,
      pushes: [[1, 0], [2, 0], [3, 0], [4, 0], [5, 0], [6, 0]],
      capacity: 4, floor: 2, since: [[2, [3, 4, 5, 6]]],
    },
    {
      name: 'old events are overwritten instead of growing', min: 2, max: 8, fresh: 1000,
      pushes: [[1, 0], [2, 0], [3, 5000]],
      capacity: 2, floor: 1, since: [[1, [2, 3]]],
    },
    {
      name: 'shrinks when even the newest quarter is stale', min: 2, max: 8, fresh: 1000,
      pushes: [[1, 0], [2, 0], [3, 0], [4, 0], [5, 0], [6, 0], [7, 0], [8, 0], [9, 5000]],
      capacity: 4, floor: 5, since: [[5, [6, 7, 8, 9]]],
    },
  ];
  for (const c of cases) {
    const h = new EventHistory({ minCapacity: c.min, maxCapacity: c.max, freshMs: c.fresh });
    h.reset(0);
    for (const [rv, at] of c.pushes) h.push(ev(rv, at));
    assert.equal(h.capacity, c.capacity, `${c.name}: capacity`);
    assert.equal(h.oldestResumable(), c.floor, `${c.name}: floor`);
    for (const [from, want] of c.since) assert.deepEqual(rvs(h.since(from)), want, `${c.name}: since ${from}`);
  }
});

test('event history: reset forgets events and resumes from the list revision', () => {
  const h = new EventHistory({ minCapacity: 2, maxCapacity: 2, freshMs: 0 });
  h.push(ev(5, 0));
  h.reset(40);
  assert.equal(h.length, 0);
  assert.equal(h.oldestResumable(), 40);
  assert.deepEqual(h.since(40), []);
});
