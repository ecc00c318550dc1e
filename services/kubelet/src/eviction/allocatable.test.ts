import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hardEvictionReservation, nodeAllocatable } from './allocatable.js';
import { parseThresholdConfig } from './thresholds.js';

describe('node allocatable (upstream GetNodeAllocatableReservation)', () => {
  it('only hard memory.available and nodefs.available thresholds hold resources back', () => {
    const t = parseThresholdConfig({
      hard: 'memory.available<1Gi,nodefs.available<10Gi,nodefs.inodesFree<5%,imagefs.available<15%,pid.available<100',
      soft: 'memory.available<2Gi', softGracePeriod: 'memory.available=1m',
    });
    assert.deepEqual(hardEvictionReservation(t, { memory: 8 * 2 ** 30, 'ephemeral-storage': 100 * 2 ** 30 }), {
      memory: 2 ** 30, 'ephemeral-storage': 10 * 2 ** 30,
    });
  });

  it('capacity − system reserved − kube reserved − hard eviction, per resource, in the capacity\'s format', () => {
    const alloc = nodeAllocatable(
      { cpu: '2', memory: '4Gi', 'ephemeral-storage': '20Gi', pods: '110' },
      { systemReserved: { cpu: '100m', memory: '256Mi', 'ephemeral-storage': '1Gi', pid: '1000' }, kubeReserved: { memory: '256Mi' } },
    );
    // default thresholds: memory 100Mi, nodefs 10% (of 20Gi, float32)
    assert.deepEqual(alloc, { cpu: '1900m', memory: '3484Mi', 'ephemeral-storage': String(20 * 2 ** 30 - 2 ** 30 - Math.trunc(20 * 2 ** 30 * Math.fround(0.1))), pods: '110' });
  });
});
