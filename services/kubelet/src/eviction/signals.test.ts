import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  makeObservations, mergeThresholds, nodeConditionsLastObservedAt, nodeConditionsObservedSince, nodeConditionsOf, reclaimableThreshold,
  thresholdsFirstObservedAt, thresholdsMet, thresholdsMetGracePeriod, thresholdsUpdatedStats, type ConditionsObservedAt,
} from './signals.js';
import type { EvictionStats } from './stats.js';
import { parseThresholdConfig, parseThresholdStatements } from './thresholds.js';

const Mi = 2 ** 20;
const Gi = 2 ** 30;

function stats(o: Partial<EvictionStats['node']> = {}, time = 1000): EvictionStats {
  return {
    time,
    node: {
      memory: { workingSetBytes: 7 * Gi, availableBytes: Gi },
      nodeFs: { capacityBytes: 100 * Gi, availableBytes: 50 * Gi, inodes: 1000, inodesFree: 500 },
      pids: { max: 4096, running: 300 },
      ...o,
    },
    pods: [{ uid: 'a', memoryWorkingSetBytes: 300 * Mi, containers: [] }, { uid: 'b', memoryWorkingSetBytes: 200 * Mi, containers: [] }],
  };
}

describe('eviction signals (upstream helpers.go)', () => {
  it('observations: memory (capacity = available + working set), allocatable memory, nodefs, inodes, pids; imagefs only when seen', () => {
    const o = makeObservations(stats(), 2 * Gi);
    assert.deepEqual(o, {
      'memory.available': { available: Gi, capacity: 8 * Gi, time: 1000 },
      'allocatableMemory.available': { available: 2 * Gi - 500 * Mi, capacity: 2 * Gi, time: 1000 },
      'nodefs.available': { available: 50 * Gi, capacity: 100 * Gi, time: 1000 },
      'nodefs.inodesFree': { available: 500, capacity: 1000, time: 1000 },
      'pid.available': { available: 3796, capacity: 4096, time: 1000 },
    });
  });

  it('thresholds met: below the value; with minimum reclaim, below value + reclaim; unobserved signals never', () => {
    const t = parseThresholdConfig({ hard: 'memory.available<1.5Gi,nodefs.available<40%,imagefs.available<15%', minimumReclaim: 'nodefs.available=15Gi' });
    const obs = makeObservations(stats({ nodeFs: { capacityBytes: 100 * Gi, availableBytes: 50 * Gi, inodes: 1, inodesFree: 1 } }));
    assert.deepEqual(thresholdsMet(t, obs, false).map((x) => x.signal), ['memory.available']);
    assert.deepEqual(thresholdsMet(t, obs, true).map((x) => x.signal), ['memory.available', 'nodefs.available'], '50Gi < 40Gi + 15Gi');
  });

  it('a pressure condition is True at once and stays True for the transition period after the signal cleared', () => {
    const t = parseThresholdStatements('memory.available<2Gi');
    const period = 30_000;
    let observedAt: ConditionsObservedAt = new Map();
    const round = (available: number, now: number): string[] => {
      const met = thresholdsMet(t, makeObservations(stats({ memory: { workingSetBytes: 0, availableBytes: available } }, now)), false);
      observedAt = nodeConditionsLastObservedAt(nodeConditionsOf(met), observedAt, now);
      return nodeConditionsObservedSince(observedAt, period, now);
    };
    assert.deepEqual(round(4 * Gi, 0), []);
    assert.deepEqual(round(Gi, 10_000), ['MemoryPressure'], 'crossed: True at once');
    assert.deepEqual(round(4 * Gi, 20_000), ['MemoryPressure'], 'cleared 10 s ago: held');
    assert.deepEqual(round(4 * Gi, 39_999), ['MemoryPressure']);
    assert.deepEqual(round(4 * Gi, 40_000), [], 'clear for the whole period: False');
    assert.deepEqual(round(Gi, 50_000), ['MemoryPressure']);
  });

  it('conditions come in report order and once each', () => {
    const t = parseThresholdConfig({ hard: 'pid.available<4000,nodefs.inodesFree<90%,nodefs.available<90%,memory.available<2Gi' });
    assert.deepEqual(nodeConditionsOf(thresholdsMet(t, makeObservations(stats()), false)), ['MemoryPressure', 'DiskPressure', 'PIDPressure']);
  });

  it('soft thresholds act only after their grace period; first-observed times survive while met', () => {
    const [hard] = parseThresholdStatements('memory.available<1Gi');
    const soft = { ...parseThresholdStatements('memory.available<2Gi')[0]!, gracePeriodMs: 60_000 };
    let at = thresholdsFirstObservedAt([hard!, soft], new Map(), 0);
    assert.deepEqual(thresholdsMetGracePeriod(at, 0).map((x) => x.gracePeriodMs), [0]);
    at = thresholdsFirstObservedAt([soft], at, 59_999);
    assert.deepEqual(thresholdsMetGracePeriod(at, 59_999), []);
    assert.deepEqual(thresholdsMetGracePeriod(at, 60_000).map((x) => x.gracePeriodMs), [60_000]);
    at = thresholdsFirstObservedAt([], at, 61_000);
    at = thresholdsFirstObservedAt([soft], at, 62_000);
    assert.deepEqual(thresholdsMetGracePeriod(at, 62_000), [], 'cleared in between: the grace period starts again');
  });

  it('merge drops duplicates; stale stats do not evict; memory is reclaimed before disk', () => {
    const t = parseThresholdStatements('nodefs.available<90%,memory.available<2Gi,pid.available<4000');
    assert.equal(mergeThresholds(t, t).length, t.length);
    const obs = makeObservations(stats({}, 5));
    assert.deepEqual(thresholdsUpdatedStats(t, obs, makeObservations(stats({}, 5))), []);
    assert.equal(thresholdsUpdatedStats(t, obs, makeObservations(stats({}, 4))).length, t.length);
    assert.deepEqual(reclaimableThreshold(t), { threshold: t[1], resource: 'memory' });
    assert.deepEqual(reclaimableThreshold(t.filter((x) => x.signal !== 'memory.available'))?.resource, 'ephemeral-storage');
    assert.equal(reclaimableThreshold([]), undefined);
  });
});
