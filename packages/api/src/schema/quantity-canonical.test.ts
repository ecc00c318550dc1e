import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalQuantity, QuantityFormatError } from './quantity-canonical.js';

test('canonical forms match upstream Quantity serialization', () => {
  const cases: [string | number, string][] = [
    // DecimalSI
    ['0', '0'], ['0m', '0'], ['-0', '0'], ['+0.0', '0'], [0, '0'],
    ['1', '1'], [1, '1'], ['100m', '100m'], ['0.1', '100m'], [0.5, '500m'], ['1.5', '1500m'], ['1000m', '1'],
    ['1000', '1k'], [1000, '1k'], ['1500', '1500'], ['2000000', '2M'], ['129M', '129M'], ['128974848', '128974848'],
    ['1.5G', '1500M'], ['0.0001', '100u'], ['1n', '1n'], ['0.1n', '1n'], ['1.0000000001', '1000000001n'],
    ['-100m', '-100m'], ['-0.5', '-500m'], ['.5', '500m'], ['5.', '5'], ['+3', '3'], ['007', '7'], ['1000E', '1000E'], ['1000000E', '1000000E'],
    // BinarySI
    ['1Ki', '1Ki'], ['1024Mi', '1Gi'], ['1.5Gi', '1536Mi'], ['0.5Gi', '512Mi'], ['128Mi', '128Mi'], ['1.5Ki', '1536'],
    ['0.5Ki', '512'], ['1023Ki', '1023Ki'], ['0.1Ki', '102400m'], ['-1Ki', '-1Ki'], ['1024Ei', '9223372036854775807'], ['7Ei', '7Ei'],
    // DecimalExponent
    ['1e3', '1e3'], ['1E3', '1e3'], ['1.5e3', '1500'], ['12e6', '12e6'], ['1e-3', '1e-3'], ['1e+3', '1e3'], [1e-7, '100e-9'],
    ['129e6', '129e6'], ['0e3', '0'],
  ];
  for (const [input, want] of cases) assert.equal(canonicalQuantity(input), want, `${typeof input} ${input}`);
});

test('malformed quantities fail with upstream messages', () => {
  const format = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
  const cases: [string, string][] = [
    ['', format], ['abc', format], ['1.2.3', format], ['1 Gi', format], ['1Gi ', format] /* trimmed: valid */, ['1x', format],
    ['1Mb', format], ['1e', "unable to parse quantity's suffix"], ['1Mi5', "unable to parse quantity's suffix"], ['1KiB', format],
  ];
  for (const [input, msg] of cases) {
    if (input === '1Gi ') { assert.equal(canonicalQuantity(input), '1Gi'); continue; }
    assert.throws(() => canonicalQuantity(input), (e: unknown) => e instanceof QuantityFormatError && e.message === msg, input);
  }
});
