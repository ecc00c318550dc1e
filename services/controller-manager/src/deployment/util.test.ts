import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Deployment, ReplicaSet } from '@tskube/api';
import { scaledValue } from '../util/int-or-percent.js';
import { computeHash, equalIgnoreHash, safeEncodeString } from '../util/hash.js';
import {
  DESIRED_REPLICAS_ANNOTATION, MAX_REPLICAS_ANNOTATION, REVISION_ANNOTATION, REVISION_HISTORY_ANNOTATION,
  calculateStatus, deploymentTimedOut, findActiveOrLatest, findNewReplicaSet, maxSurge, maxUnavailable, newRSNewReplicas,
  proportion, setCondition, setNewReplicaSetAnnotations,
} from './util.js';

function dep(replicas: number, maxSurgeV?: number | string, maxUnavailableV?: number | string, extra: Partial<Deployment['spec']> = {}): Deployment {
  return {
    metadata: { name: 'web', namespace: 'default', generation: 1, annotations: { 'kubernetes.io/change-cause': 'v2', [REVISION_ANNOTATION]: '7' } },
    spec: {
      replicas, selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'busybox:1' }] } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: maxSurgeV, maxUnavailable: maxUnavailableV } },
      ...extra,
    },
  };
}

function rs(name: string, replicas: number, opts: { created?: string; annotations?: Record<string, string>; available?: number; image?: string } = {}): ReplicaSet {
  return {
    metadata: { name, uid: `uid-${name}`, creationTimestamp: opts.created ?? '2025-01-01T00:00:00Z', ...(opts.annotations ? { annotations: opts.annotations } : {}) },
    spec: {
      replicas, selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web', 'pod-template-hash': name } }, spec: { containers: [{ name: 'c', image: opts.image ?? 'busybox:0' }] } },
    },
    status: { replicas, availableReplicas: opts.available ?? replicas },
  };
}

describe('pod-template-hash', () => {
  const t = dep(1).spec!.template;
  it('is stable, safe-encoded, and changes with the template and the collision count', () => {
    const h = computeHash(t);
    assert.match(h, /^[4-9bcdf]+$/);
    assert.equal(computeHash(structuredClone(t)), h);
    // Key order and empty maps do not matter; content does.
    assert.equal(computeHash({ spec: t.spec, metadata: { annotations: {}, labels: { app: 'web' } } }), h);
    assert.notEqual(computeHash({ ...t, spec: { containers: [{ name: 'c', image: 'busybox:2' }] } }), h);
    assert.notEqual(computeHash(t, 0), h);
    assert.notEqual(computeHash(t, 1), computeHash(t, 0));
    assert.equal(safeEncodeString('0123456789'), '456789bcdf');
  });

  it('equalIgnoreHash ignores only the pod-template-hash label (and nil vs empty)', () => {
    const withHash = { ...t, metadata: { labels: { app: 'web', 'pod-template-hash': 'abc' } } };
    assert.equal(equalIgnoreHash(t, withHash), true);
    assert.equal(equalIgnoreHash({ spec: t.spec }, { metadata: { labels: { 'pod-template-hash': 'x' } }, spec: t.spec }), true);
    assert.equal(equalIgnoreHash(t, { ...t, metadata: { labels: { app: 'other' } } }), false);
  });
});

describe('int-or-percent and fenceposts', () => {
  const cases: { v: number | string | undefined; total: number; up: boolean; want: number }[] = [
    { v: 3, total: 10, up: true, want: 3 },
    { v: '25%', total: 10, up: true, want: 3 },
    { v: '25%', total: 10, up: false, want: 2 },
    { v: '25%', total: 5, up: true, want: 2 },
    { v: '25%', total: 5, up: false, want: 1 },
    { v: '100%', total: 7, up: false, want: 7 },
    { v: undefined, total: 7, up: true, want: 0 },
  ];
  for (const c of cases) {
    it(`${String(c.v)} of ${c.total} rounded ${c.up ? 'up' : 'down'} is ${c.want}`, () => {
      assert.equal(scaledValue(c.v, c.total, c.up), c.want);
    });
  }
  it('rejects a string that is not a percentage', () => {
    assert.throws(() => scaledValue('3', 10, true), /invalid value for IntOrString: invalid type: string is not a percentage/);
  });

  const fence: { replicas: number; s?: number | string; u?: number | string; surge: number; unav: number }[] = [
    { replicas: 10, s: '25%', u: '25%', surge: 3, unav: 2 },
    { replicas: 1, s: '25%', u: '25%', surge: 1, unav: 0 },
    { replicas: 3, s: 0, u: '10%', surge: 0, unav: 1 },   // both 0 after rounding: unavailable becomes 1
    { replicas: 3, s: 5, u: 5, surge: 5, unav: 3 },        // unavailable capped at replicas
    { replicas: 0, s: 1, u: 1, surge: 1, unav: 0 },
  ];
  for (const f of fence) {
    it(`replicas ${f.replicas}, maxSurge ${String(f.s)}, maxUnavailable ${String(f.u)} → ${f.surge}/${f.unav}`, () => {
      const d = dep(f.replicas, f.s, f.u);
      assert.equal(maxSurge(d), f.surge);
      assert.equal(maxUnavailable(d), f.unav);
    });
  }
  it('Recreate has neither surge nor unavailability', () => {
    const d = dep(4, 1, 1, { strategy: { type: 'Recreate' } });
    assert.equal(maxSurge(d), 0);
    assert.equal(maxUnavailable(d), 0);
    assert.equal(newRSNewReplicas(d, [], rs('n', 0)), 4);
  });
});

describe('ReplicaSet selection and sizing', () => {
  it('the new ReplicaSet is the oldest with the same template', () => {
    const d = dep(3);
    const a = rs('a', 1, { created: '2025-01-01T00:00:02Z', image: 'busybox:1' });
    const b = rs('b', 1, { created: '2025-01-01T00:00:01Z', image: 'busybox:1' });
    const c = rs('c', 1, { image: 'busybox:9' });
    assert.equal(findNewReplicaSet(d, [a, b, c])?.metadata?.name, 'b');
    assert.equal(findNewReplicaSet(d, [c]), undefined);
  });

  it('findActiveOrLatest: the single active one, else the newest, else none', () => {
    const old1 = rs('o1', 0, { created: '2025-01-01T00:00:01Z' });
    const old2 = rs('o2', 0, { created: '2025-01-01T00:00:02Z' });
    assert.equal(findActiveOrLatest(undefined, [old1, old2])?.metadata?.name, 'o2');
    assert.equal(findActiveOrLatest(rs('n', 0), [old1])?.metadata?.name, 'n');
    assert.equal(findActiveOrLatest(rs('n', 2), [old1])?.metadata?.name, 'n');
    assert.equal(findActiveOrLatest(rs('n', 2), [rs('o3', 1)]), undefined);
  });

  it('the new ReplicaSet grows into the surge room only', () => {
    const d = dep(10, 3, 2);
    assert.equal(newRSNewReplicas(d, [rs('o', 10), rs('n', 0)], rs('n', 0)), 3);
    assert.equal(newRSNewReplicas(d, [rs('o', 8), rs('n', 3)], rs('n', 3)), 5);
    assert.equal(newRSNewReplicas(d, [rs('o', 10), rs('n', 3)], rs('n', 3)), 3);
    assert.equal(newRSNewReplicas(d, [rs('o', 0), rs('n', 9)], rs('n', 9)), 10);
  });

  it('proportions follow the size each ReplicaSet had at the last annotation (max-replicas)', () => {
    const d = dep(20, 3, 2);
    const ann = { [MAX_REPLICAS_ANNOTATION]: '13', [DESIRED_REPLICAS_ANNOTATION]: '10' };
    // 10 → 20 replicas: 23 allowed, 13 there, 10 to add.
    assert.equal(proportion(rs('o', 8, { annotations: ann }), d, 10, 0), 6);  // round(8·23/13) − 8
    assert.equal(proportion(rs('n', 5, { annotations: ann }), d, 10, 6), 4);  // round(5·23/13) − 5
    assert.equal(proportion(rs('n', 5, { annotations: ann }), d, 10, 9), 1);  // capped by what is left
    assert.equal(proportion(rs('z', 0), d, 10, 0), 0);
    assert.equal(proportion(rs('o', 8), dep(0, 3, 2), -13, 0), -8);          // scaled to zero: everything goes
  });
});

describe('annotations', () => {
  it('a new ReplicaSet gets the Deployment annotations (not the revision), its revision and the replicas annotations', () => {
    const d = dep(10, 3, 2);
    const r = rs('n', 3);
    assert.equal(setNewReplicaSetAnnotations(d, r, 4, false), true);
    assert.deepEqual(r.metadata?.annotations, {
      'kubernetes.io/change-cause': 'v2', [REVISION_ANNOTATION]: '4', [DESIRED_REPLICAS_ANNOTATION]: '10', [MAX_REPLICAS_ANNOTATION]: '13',
    });
    assert.equal(setNewReplicaSetAnnotations(d, r, 4, true), false, 'nothing left to change');
  });

  it('a ReplicaSet brought back keeps its old revisions in revision-history (capped)', () => {
    const d = dep(1);
    const r = rs('n', 1, { annotations: { [REVISION_ANNOTATION]: '2', [REVISION_HISTORY_ANNOTATION]: '1' } });
    assert.equal(setNewReplicaSetAnnotations(d, r, 5, true), true);
    assert.equal(r.metadata?.annotations?.[REVISION_ANNOTATION], '5');
    assert.equal(r.metadata?.annotations?.[REVISION_HISTORY_ANNOTATION], '1,2');
    const capped = rs('m', 1, { annotations: { [REVISION_ANNOTATION]: '30', [REVISION_HISTORY_ANNOTATION]: '10,20' } });
    setNewReplicaSetAnnotations(d, capped, 31, true, 6);
    assert.equal(capped.metadata?.annotations?.[REVISION_HISTORY_ANNOTATION], '20,30');
    const higher = rs('h', 1, { annotations: { [REVISION_ANNOTATION]: '9' } });
    setNewReplicaSetAnnotations(d, higher, 5, true);
    assert.equal(higher.metadata?.annotations?.[REVISION_ANNOTATION], '9', 'never lowered');
  });
});

describe('conditions and status', () => {
  const now = new Date('2025-01-01T00:10:00Z');
  it('setCondition keeps lastTransitionTime while the status stays, and does nothing for the same reason', () => {
    const s = { conditions: [{ type: 'Progressing', status: 'True', reason: 'A', lastTransitionTime: 't0', lastUpdateTime: 't0' }] };
    setCondition(s, { type: 'Progressing', status: 'True', reason: 'A', lastTransitionTime: 't1', lastUpdateTime: 't1' });
    assert.equal(s.conditions[0]!.lastUpdateTime, 't0');
    setCondition(s, { type: 'Progressing', status: 'True', reason: 'B', lastTransitionTime: 't2', lastUpdateTime: 't2' });
    assert.deepEqual([s.conditions[0]!.reason, s.conditions[0]!.lastTransitionTime, s.conditions[0]!.lastUpdateTime], ['B', 't0', 't2']);
  });

  it('Available follows replicas − maxUnavailable; counters come from the ReplicaSets', () => {
    const d = dep(10, 3, 2);
    const s = calculateStatus([rs('o', 5, { available: 4 }), rs('n', 5, { available: 3 })], rs('n', 5, { available: 3 }), d, now);
    assert.deepEqual([s.replicas, s.updatedReplicas, s.availableReplicas, s.unavailableReplicas, s.observedGeneration], [10, 5, 7, 3, 1]);
    assert.deepEqual(s.conditions?.map((c) => [c.type, c.status, c.reason, c.message]),
      [['Available', 'False', 'MinimumReplicasUnavailable', 'Deployment does not have minimum availability.']]);
    const ok = calculateStatus([rs('n', 10, { available: 8 })], undefined, d, now);
    assert.deepEqual(ok.conditions?.map((c) => [c.status, c.reason, c.message]), [['True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.']]);
  });

  it('times out once lastUpdateTime + progressDeadlineSeconds has passed', () => {
    const d = dep(1, 1, 0, { progressDeadlineSeconds: 60 });
    const at = (t: string, reason = 'ReplicaSetUpdated') => ({ conditions: [{ type: 'Progressing', status: 'True', reason, lastUpdateTime: t, lastTransitionTime: t }] });
    assert.equal(deploymentTimedOut(d, at('2025-01-01T00:09:01Z'), now), false);
    assert.equal(deploymentTimedOut(d, at('2025-01-01T00:08:59Z'), now), true);
    assert.equal(deploymentTimedOut(d, at('2025-01-01T00:00:00Z', 'NewReplicaSetAvailable'), now), false);
    assert.equal(deploymentTimedOut(dep(1, 1, 0, { progressDeadlineSeconds: 2147483647 }), at('2025-01-01T00:00:00Z'), now), false);
  });
});
