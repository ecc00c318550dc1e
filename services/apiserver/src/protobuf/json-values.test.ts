import { test } from 'node:test';
import assert from 'node:assert/strict';
import { goDuration, microTimeJson, timeJson } from './json-values.js';

const durations: [bigint, string][] = [
  [0n, '0s'], [1n, '1ns'], [999n, '999ns'], [1_500n, '1.5µs'], [250_000_000n, '250ms'], [1_000_000n, '1ms'],
  [1_500_000_000n, '1.5s'], [60_000_000_000n, '1m0s'], [90_000_000_000n, '1m30s'], [3_600_000_000_000n, '1h0m0s'],
  [3_723_000_000_001n, '1h2m3.000000001s'], [-5_000_000_000n, '-5s'], [100n * 3_600_000_000_000n, '100h0m0s'],
];

for (const [ns, want] of durations) {
  test(`goDuration(${ns}) = ${want}`, () => assert.equal(goDuration(ns), want));
}

test('timeJson: RFC 3339 UTC with whole seconds', () => {
  assert.equal(timeJson(1_700_000_000n, 999_999_999), '2023-11-14T22:13:20Z');
  assert.equal(timeJson(0n, 0), '1970-01-01T00:00:00Z');
  assert.equal(timeJson(-1n, 0), '1969-12-31T23:59:59Z');
  assert.equal(timeJson(10n ** 15n, 0), undefined, 'out of range');
});

test('microTimeJson: six fractional digits', () => {
  assert.equal(microTimeJson(1_700_000_000n, 5_000), '2023-11-14T22:13:20.000005Z');
  assert.equal(microTimeJson(1_700_000_000n, 0), '2023-11-14T22:13:20.000000Z');
  assert.equal(microTimeJson(10n ** 15n, 0), undefined, 'out of range');
});
