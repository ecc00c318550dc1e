import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod } from '@tskube/api';
import { POD_DELETION_COST, podsToDelete } from './ranking.js';
import { calculateStatus, statusChanged } from './status.js';

const NOW = new Date('2025-01-01T12:00:00Z');
const ago = (s: number) => new Date(NOW.getTime() - s * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

interface P { name: string; node?: string; phase?: string; ready?: boolean; readyFor?: number; cost?: number; restarts?: number; age?: number; uid?: string }

function mk(p: P): Pod {
  return {
    metadata: {
      name: p.name, namespace: 'default', uid: p.uid ?? p.name, creationTimestamp: ago(p.age ?? 3600),
      ...(p.cost !== undefined ? { annotations: { [POD_DELETION_COST]: String(p.cost) } } : {}),
    },
    spec: { containers: [], ...(p.node ? { nodeName: p.node } : {}) },
    status: {
      phase: p.phase ?? 'Running',
      ...(p.ready !== undefined ? { conditions: [{ type: 'Ready', status: p.ready ? 'True' : 'False', lastTransitionTime: ago(p.readyFor ?? 600) }] } : {}),
      ...(p.restarts !== undefined ? { containerStatuses: [{ name: 'c', image: 'i', imageID: '', ready: true, restartCount: p.restarts }] } : {}),
    },
  };
}

describe('podsToDelete (upstream ActivePodsWithRanks order)', () => {
  const cases: { rule: string; pods: P[]; first: string }[] = [
    { rule: 'unassigned < assigned', pods: [{ name: 'assigned', node: 'n1', phase: 'Pending' }, { name: 'unassigned', phase: 'Pending' }], first: 'unassigned' },
    { rule: 'Pending < Unknown', pods: [{ name: 'unknown', node: 'n1', phase: 'Unknown' }, { name: 'pending', node: 'n2', phase: 'Pending' }], first: 'pending' },
    { rule: 'Unknown < Running', pods: [{ name: 'running', node: 'n1' }, { name: 'unknown', node: 'n2', phase: 'Unknown' }], first: 'unknown' },
    { rule: 'not ready < ready', pods: [{ name: 'ready', node: 'n1', ready: true }, { name: 'not-ready', node: 'n2', ready: false }], first: 'not-ready' },
    { rule: 'lower deletion cost first', pods: [{ name: 'expensive', node: 'n1', ready: true, cost: 10 }, { name: 'cheap', node: 'n2', ready: true, cost: -5 }], first: 'cheap' },
    { rule: 'doubled up < alone', pods: [{ name: 'alone', node: 'n1', ready: true }, { name: 'crowded', node: 'n2', ready: true }, { name: 'crowded-2', node: 'n2', ready: true, readyFor: 100_000 }], first: 'crowded' },
    { rule: 'ready for less time first', pods: [{ name: 'old-ready', node: 'n1', ready: true, readyFor: 100_000 }, { name: 'new-ready', node: 'n2', ready: true, readyFor: 10 }], first: 'new-ready' },
    { rule: 'more restarts first', pods: [{ name: 'calm', node: 'n1', ready: false, restarts: 0 }, { name: 'flappy', node: 'n2', ready: false, restarts: 5 }], first: 'flappy' },
    { rule: 'newer first', pods: [{ name: 'old', node: 'n1', ready: false, age: 100_000 }, { name: 'new', node: 'n2', ready: false, age: 10 }], first: 'new' },
    { rule: 'same log2 age bucket: by uid', pods: [{ name: 'b', node: 'n1', ready: false, age: 3600, uid: 'bbb' }, { name: 'a', node: 'n2', ready: false, age: 3601, uid: 'aaa' }], first: 'a' },
  ];
  for (const tc of cases) {
    it(tc.rule, () => {
      const pods = tc.pods.map(mk);
      const [victim] = podsToDelete(pods, 1, NOW);
      assert.equal(victim?.metadata?.name, tc.first);
      const reversed = podsToDelete([...pods].reverse(), 1, NOW);
      assert.equal(reversed[0]?.metadata?.name, tc.first, 'independent of input order');
    });
  }

  it('returns everything when deleting at least as many as there are, without sorting the input', () => {
    const pods = [mk({ name: 'a', node: 'n' }), mk({ name: 'b' })];
    assert.deepEqual(podsToDelete(pods, 5, NOW).map((p) => p.metadata?.name), ['a', 'b']);
  });
});

describe('calculateStatus', () => {
  const rs = {
    metadata: { name: 'web', generation: 2 },
    spec: { replicas: 3, minReadySeconds: 30, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web', tier: 'x' } } } },
    status: { replicas: 0, observedGeneration: 1 },
  };
  const withLabels = (p: Pod, labels: Record<string, string>): Pod => ({ ...p, metadata: { ...p.metadata, labels } });

  it('counts fully labeled, ready and available (minReadySeconds) replicas', () => {
    const pods = [
      withLabels(mk({ name: 'a', node: 'n', ready: true, readyFor: 60 }), { app: 'web', tier: 'x' }),
      withLabels(mk({ name: 'b', node: 'n', ready: true, readyFor: 5 }), { app: 'web', tier: 'x', extra: '1' }),
      withLabels(mk({ name: 'c', node: 'n', ready: false }), { app: 'web' }),
    ];
    const s = calculateStatus(rs, pods, undefined, NOW);
    assert.deepEqual([s.replicas, s.fullyLabeledReplicas, s.readyReplicas, s.availableReplicas], [3, 2, 2, 1]);
    assert.equal(statusChanged(rs, s), true);
  });

  it('sets ReplicaFailure while creating fails and clears it afterwards', () => {
    const failed = calculateStatus(rs, [], new Error('quota exceeded'), NOW);
    assert.deepEqual(failed.conditions?.map((c) => [c.type, c.status, c.reason, c.message]), [['ReplicaFailure', 'True', 'FailedCreate', 'quota exceeded']]);
    const ok = calculateStatus({ ...rs, status: failed }, [], undefined, NOW);
    assert.equal(ok.conditions, undefined);
  });

  it('an unchanged status with the current observedGeneration needs no write', () => {
    const cur = { ...rs, status: { replicas: 0, fullyLabeledReplicas: 0, readyReplicas: 0, availableReplicas: 0, observedGeneration: 2 } };
    assert.equal(statusChanged(cur, calculateStatus(cur, [], undefined, NOW)), false);
  });
});
