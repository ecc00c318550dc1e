import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DEFAULT_EVICTION_HARD, parseGoDuration, parseReserved, parseThresholdConfig, parseThresholdStatements, thresholdQuantity,
} from './thresholds.js';

describe('eviction thresholds (upstream ParseThresholdConfig)', () => {
  it('the defaults: four hard thresholds plus the allocatableMemory.available copy', () => {
    const t = parseThresholdConfig({});
    assert.deepEqual(t.map((x) => [x.signal, x.value, x.gracePeriodMs]), [
      ['memory.available', { quantity: 100 * 2 ** 20, text: '100Mi' }, 0],
      ['nodefs.available', { percentage: Math.fround(0.1) }, 0],
      ['nodefs.inodesFree', { percentage: Math.fround(0.05) }, 0],
      ['imagefs.available', { percentage: Math.fround(0.15) }, 0],
      ['allocatableMemory.available', { quantity: 100 * 2 ** 20, text: '100Mi' }, 0],
    ]);
    assert.equal(DEFAULT_EVICTION_HARD, 'memory.available<100Mi,nodefs.available<10%,nodefs.inodesFree<5%,imagefs.available<15%');
  });

  it('"none", and 0% / 100% switch thresholds off', () => {
    assert.deepEqual(parseThresholdConfig({ hard: 'none' }), []);
    assert.deepEqual(parseThresholdStatements('memory.available<0%, nodefs.available<100%').length, 0);
  });

  it('soft thresholds take their grace periods; minimum reclaim attaches by signal', () => {
    const t = parseThresholdConfig({
      hard: 'memory.available<200Mi', soft: 'memory.available<1Gi,nodefs.available<20%',
      softGracePeriod: 'memory.available=1m30s, nodefs.available=10s', minimumReclaim: 'memory.available=0Mi,nodefs.available=5%',
    });
    assert.deepEqual(t.map((x) => [x.signal, x.gracePeriodMs, x.minReclaim]), [
      ['memory.available', 0, { quantity: 0, text: '0Mi' }],
      ['memory.available', 90_000, { quantity: 0, text: '0Mi' }],
      ['nodefs.available', 10_000, { percentage: Math.fround(0.05) }],
      ['allocatableMemory.available', 0, { quantity: 0, text: '0Mi' }],
    ]);
  });

  const errors: Array<[string, Parameters<typeof parseThresholdConfig>[0], RegExp]> = [
    ['unknown signal', { hard: 'cpu.available<1' }, /unsupported eviction signal cpu\.available/],
    ['not a pair', { hard: 'memory.available=1Gi' }, /malformed pair "memory\.available=1Gi": want key<value/],
    ['negative percentage', { hard: 'nodefs.available<-5%' }, /must be >= 0%/],
    ['over 100%', { hard: 'nodefs.available<150%' }, /must be <= 100%/],
    ['zero quantity', { hard: 'memory.available<0' }, /eviction threshold memory\.available must be positive: 0/],
    ['bad quantity', { hard: 'memory.available<lots' }, /invalid quantity "lots"/],
    ['soft without grace', { soft: 'memory.available<1Gi' }, /grace period must be specified for the soft eviction threshold memory\.available/],
    ['bad duration', { soft: 'memory.available<1Gi', softGracePeriod: 'memory.available=soon' }, /time: invalid duration "soon"/],
    ['bad reclaim', { minimumReclaim: 'memory.available=0%' }, /eviction percentage minimum reclaim memory\.available must be positive/],
  ];
  for (const [name, o, re] of errors) {
    it(`rejects: ${name}`, () => assert.throws(() => parseThresholdConfig(o), re));
  }

  it('percentages are float32 of capacity, truncated (upstream GetThresholdQuantity)', () => {
    const [t] = parseThresholdStatements('nodefs.available<10%');
    assert.equal(thresholdQuantity(t!.value, 100 * 2 ** 30), 10737418400);
    const [q] = parseThresholdStatements('memory.available<1.5Gi');
    assert.equal(thresholdQuantity(q!.value, 1), 1.5 * 2 ** 30);
  });

  it('Go durations', () => {
    assert.deepEqual(['1m30s', '10s', '500ms', '2h', '1.5s', '0', '5m0s'].map(parseGoDuration), [90_000, 10_000, 500, 7_200_000, 1500, 0, 300_000]);
    for (const bad of ['', '10', '1 m', 'm', '-1s', '1d']) assert.throws(() => parseGoDuration(bad), /invalid duration/, bad);
  });

  it('reservations (upstream --system-reserved syntax)', () => {
    assert.deepEqual(parseReserved('cpu=100m,memory=256Mi,ephemeral-storage=1Gi,pid=1000'), {
      cpu: '100m', memory: '256Mi', 'ephemeral-storage': '1Gi', pid: '1000',
    });
    assert.throws(() => parseReserved('gpu=1'), /cannot reserve "gpu" resource/);
    assert.throws(() => parseReserved('memory=-1Gi'), /resource quantity for "memory" cannot be negative: -1Gi/);
    assert.throws(() => parseReserved('memory=x'), /failed to parse quantity "x" for "memory" resource/);
  });
});
