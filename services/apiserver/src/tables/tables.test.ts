import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from '@tskube/api';
import { humanDuration } from './duration.js';
import { podSummary, nodeStatusCell } from './tables.js';

test('ages print like kubectl', () => {
  const s = 1000; const m = 60 * s; const h = 60 * m; const d = 24 * h;
  const cases: [number, string][] = [[-5 * s, '<invalid>'], [-500, '0s'], [0, '0s'], [45 * s, '45s'], [119 * s, '119s'], [2 * m, '2m'], [3 * m + 20 * s, '3m20s'],
    [10 * m, '10m'], [179 * m, '179m'], [3 * h, '3h'], [5 * h + 7 * m, '5h7m'], [30 * h, '30h'], [3 * d + 4 * h, '3d4h'], [10 * d, '10d'], [800 * d, '2y70d']];
  for (const [ms, want] of cases) assert.equal(humanDuration(ms), want, String(ms));
});

test('pod STATUS, READY and RESTARTS cells follow kubectl\'s printer', () => {
  const now = new Date('2026-01-01T00:10:00Z');
  const base = (status: Record<string, unknown>, extra: Record<string, unknown> = {}): Pod => ({ metadata: { name: 'p', ...extra }, spec: { containers: [{ name: 'c', image: 'i' }] }, status } as Pod);
  const cases: [string, Pod, string, string, string][] = [
    ['pending', base({ phase: 'Pending' }), 'Pending', '0/1', '0'],
    ['creating', base({ phase: 'Pending', containerStatuses: [{ name: 'c', ready: false, restartCount: 0, image: 'i', imageID: '', state: { waiting: { reason: 'ContainerCreating' } } }] }), 'ContainerCreating', '0/1', '0'],
    ['running', base({ phase: 'Running', containerStatuses: [{ name: 'c', ready: true, restartCount: 0, image: 'i', imageID: '', state: { running: { startedAt: '2026-01-01T00:00:00Z' } } }] }), 'Running', '1/1', '0'],
    ['crashloop', base({ phase: 'Running', containerStatuses: [{ name: 'c', ready: false, restartCount: 3, image: 'i', imageID: '', state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 1, finishedAt: '2026-01-01T00:08:00Z' } } }] }), 'CrashLoopBackOff', '0/1', '3 (2m ago)'],
    ['completed', base({ phase: 'Succeeded', containerStatuses: [{ name: 'c', ready: false, restartCount: 0, image: 'i', imageID: '', state: { terminated: { exitCode: 0, reason: 'Completed' } } }] }), 'Completed', '0/1', '0'],
    ['error', base({ phase: 'Failed', containerStatuses: [{ name: 'c', ready: false, restartCount: 0, image: 'i', imageID: '', state: { terminated: { exitCode: 3, reason: 'Error' } } }] }), 'Error', '0/1', '0'],
    ['terminating', base({ phase: 'Running' }, { deletionTimestamp: '2026-01-01T00:09:00Z' }), 'Terminating', '0/1', '0'],
  ];
  for (const [name, pod, status, ready, restarts] of cases) {
    const s = podSummary(pod, now);
    assert.deepEqual([s.status, s.ready, s.restarts], [status, ready, restarts], name);
  }
  const init = { metadata: { name: 'p' }, spec: { initContainers: [{ name: 'i', image: 'i' }], containers: [{ name: 'c', image: 'i' }] }, status: { phase: 'Pending', initContainerStatuses: [{ name: 'i', ready: false, restartCount: 0, image: 'i', imageID: '', state: { running: {} } }] } } as Pod;
  assert.equal(podSummary(init, now).status, 'Init:0/1');
});

test('node STATUS cell', () => {
  assert.equal(nodeStatusCell({ status: { conditions: [{ type: 'Ready', status: 'True' }] } }), 'Ready');
  assert.equal(nodeStatusCell({ status: { conditions: [{ type: 'Ready', status: 'Unknown' }] }, spec: { unschedulable: true } }), 'NotReady,SchedulingDisabled');
  assert.equal(nodeStatusCell({}), 'Unknown');
});
