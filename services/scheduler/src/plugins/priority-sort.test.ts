import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makePod } from '../testing/builders.js';
import { PrioritySort } from './priority-sort.js';

test('PrioritySort: higher priority first, then earlier in the queue', () => {
  const s = new PrioritySort();
  const cases: [string, number, number, number, number, boolean][] = [
    ['higher priority wins', 10, 5, 0, 0, true],
    ['lower priority loses even if earlier', 0, 1, 1, 2, false],
    ['same priority: earlier wins', 5, 1, 5, 2, true],
    ['same priority: later loses', 5, 2, 5, 1, false],
    ['identical: not less', 0, 1, 0, 1, false],
  ];
  for (const [name, pa, ta, pb, tb, want] of cases) {
    assert.equal(s.less({ pod: makePod('a', { priority: pa }), timestamp: ta }, { pod: makePod('b', { priority: pb }), timestamp: tb }), want, name);
  }
});
