import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod } from '@tskube/api';
import { admissionMessage, evictionMessage, rejectedPodMessage } from './messages.js';
import { makeObservations } from './signals.js';
import { parseThresholdStatements } from './thresholds.js';

const Mi = 2 ** 20;
const Gi = 2 ** 30;

const pod: Pod = {
  metadata: { name: 'hog', uid: 'u1' },
  spec: {
    containers: [
      { name: 'x', image: 'i' },
      { name: 'y', image: 'i', resources: { requests: { memory: '1024Mi' } } },
      { name: 'z', image: 'i', resources: { requests: { memory: '64Mi' } } },
    ],
  },
};

describe('eviction messages (upstream evictionMessage)', () => {
  it('memory: threshold, available, and every container using more than it requested', () => {
    const t = parseThresholdStatements('memory.available<100Mi');
    const obs = makeObservations({ time: 1, node: { memory: { availableBytes: 80 * Mi, workingSetBytes: 8 * Gi } }, pods: [] });
    const usage = {
      uid: 'u1', memoryWorkingSetBytes: 500 * Mi,
      containers: [{ name: 'x', memoryWorkingSetBytes: 300 * Mi }, { name: 'y', memoryWorkingSetBytes: 100 * Mi }, { name: 'z', memoryWorkingSetBytes: 100 * Mi }],
    };
    assert.equal(evictionMessage('memory', pod, usage, t, obs),
      'The node was low on resource: memory. Threshold quantity: 100Mi, available: 80Mi. '
      + 'Container x was using 300Mi, request is 0, has larger consumption of memory. '
      + 'Container z was using 100Mi, request is 64Mi, has larger consumption of memory. ');
  });

  it('without pod stats only the node part; disk shows the percentage threshold as a quantity', () => {
    const t = parseThresholdStatements('nodefs.available<10%');
    const obs = makeObservations({ time: 1, node: { nodeFs: { capacityBytes: 100 * Gi, availableBytes: 5 * Gi + 4096, inodes: 10, inodesFree: 5 } }, pods: [] });
    assert.equal(evictionMessage('ephemeral-storage', pod, undefined, t, obs),
      'The node was low on resource: ephemeral-storage. Threshold quantity: 10737418400, available: 5242884Ki. ');
    const usage = { uid: 'u1', memoryWorkingSetBytes: 0, containers: [{ name: 'x', memoryWorkingSetBytes: 300 * Mi }] };
    assert.equal(evictionMessage('ephemeral-storage', pod, usage, t, obs),
      'The node was low on resource: ephemeral-storage. Threshold quantity: 10737418400, available: 5242884Ki. ', 'no per-container disk stats');
  });

  it('inodes and pids print as counts', () => {
    const t = parseThresholdStatements('nodefs.inodesFree<5%,pid.available<1k');
    const obs = makeObservations({ time: 1, node: { nodeFs: { capacityBytes: 1, availableBytes: 1, inodes: 6553600, inodesFree: 2000 }, pids: { max: 4096, running: 3596 } }, pods: [] });
    assert.equal(evictionMessage('inodes', pod, undefined, t, obs), 'The node was low on resource: inodes. Threshold quantity: 320Ki, available: 2k. ');
    assert.equal(evictionMessage('pids', pod, undefined, t, obs), 'The node was low on resource: pids. Threshold quantity: 1k, available: 500. ');
  });

  it('admission and rejection wording', () => {
    assert.equal(admissionMessage(['MemoryPressure']), 'The node had condition: [MemoryPressure]. ');
    assert.equal(admissionMessage(['MemoryPressure', 'DiskPressure']), 'The node had condition: [MemoryPressure DiskPressure]. ');
    assert.equal(rejectedPodMessage(admissionMessage(['DiskPressure'])), 'Pod was rejected: The node had condition: [DiskPressure]. ');
  });
});
