import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseQuantity, milliValue, unitValue, isValidQuantity } from './quantity.js';

test('quantities parse in all three suffix families', () => {
  const cases: [string | number, number][] = [
    ['1', 1], ['100m', 0.1], ['1.5', 1.5], ['128Mi', 128 * 2 ** 20], ['1Gi', 2 ** 30], ['2k', 2000],
    ['1e3', 1000], ['5E-3', 0.005], ['.5', 0.5], [2, 2], ['+3', 3],
  ];
  for (const [q, want] of cases) assert.ok(Math.abs(parseQuantity(q) - want) < 1e-9, `${q}`);
  assert.equal(milliValue('250m'), 250);
  assert.equal(milliValue('1'), 1000);
  assert.equal(milliValue('0.1'), 100);
  assert.equal(unitValue('1Ki'), 1024);
  for (const bad of ['', 'abc', '1Mb', '1 Gi', ' 1', '1..2']) assert.equal(isValidQuantity(bad), false, bad);
});
