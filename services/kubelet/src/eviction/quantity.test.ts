import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalQuantity, formatQuantity } from './quantity.js';

describe('formatQuantity (upstream Quantity.String)', () => {
  const cases: Array<[number, 'BinarySI' | 'DecimalSI', string]> = [
    [0, 'BinarySI', '0'],
    [100 * 2 ** 20, 'BinarySI', '100Mi'],
    [80 * 2 ** 20, 'BinarySI', '80Mi'],
    [81920 * 1024 + 4096, 'BinarySI', '81924Ki'],
    [1536, 'BinarySI', '1536'],
    [3072, 'BinarySI', '3Ki'],
    [1000, 'BinarySI', '1k'], // below 1024 upstream prints DecimalSI
    [512, 'BinarySI', '512'],
    [96636764000, 'BinarySI', '96636764000'],
    [-100 * 2 ** 20, 'BinarySI', '-100Mi'],
    [8 * 2 ** 30, 'BinarySI', '8Gi'],
    [1.9, 'DecimalSI', '1900m'],
    [4, 'DecimalSI', '4'],
    [1500, 'DecimalSI', '1500'],
    [2000, 'DecimalSI', '2k'],
    [327680, 'DecimalSI', '327680'],
    [0.0000005, 'DecimalSI', '500n'],
  ];
  for (const [v, f, want] of cases) {
    it(`${v} ${f} → ${want}`, () => assert.equal(formatQuantity(v, f), want));
  }

  it('canonicalQuantity keeps the format of the text', () => {
    assert.deepEqual(['100Mi', '1024Mi', '0.5Gi', '100M', '0.5', '1000m', '64Mi'].map(canonicalQuantity), ['100Mi', '1Gi', '512Mi', '100M', '500m', '1', '64Mi']);
  });
});
