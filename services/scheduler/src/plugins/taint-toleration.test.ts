import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Taint, Toleration } from '@tskube/api';
import { CycleState, type NodeScore } from '../framework/interface.js';
import { Code } from '../framework/status.js';
import { makeNode, makePod, nodeInfoOf, notReadyTaint } from '../testing/builders.js';
import { TaintToleration, toleratesTaint } from './taint-toleration.js';

test('toleration matching follows upstream ToleratesTaint', () => {
  const taint: Taint = { key: 'k', value: 'v', effect: 'NoSchedule' };
  const cases: [string, Toleration, boolean][] = [
    ['equal key/value/effect', { key: 'k', operator: 'Equal', value: 'v', effect: 'NoSchedule' }, true],
    ['operator defaults to Equal', { key: 'k', value: 'v' }, true],
    ['value differs', { key: 'k', value: 'w' }, false],
    ['Exists ignores the value', { key: 'k', operator: 'Exists' }, true],
    ['empty key with Exists tolerates everything', { operator: 'Exists' }, true],
    ['effect must match when set', { key: 'k', operator: 'Exists', effect: 'NoExecute' }, false],
    ['other key', { key: 'x', operator: 'Exists' }, false],
    ['unknown operator', { key: 'k', operator: 'Gt', value: 'v' }, false],
  ];
  for (const [name, tol, want] of cases) assert.equal(toleratesTaint(tol, taint), want, name);
});

test('Filter: NoSchedule and NoExecute taints must be tolerated; the first untolerated one is named', () => {
  const pl = new TaintToleration();
  const cases: { name: string; taints: Taint[]; tolerations?: Toleration[]; want?: string }[] = [
    { name: 'no taints', taints: [] },
    { name: 'not-ready NoSchedule', taints: [notReadyTaint], want: 'node(s) had untolerated taint {node.kubernetes.io/not-ready: }' },
    {
      name: 'the default NoExecute toleration does not cover NoSchedule',
      taints: [notReadyTaint],
      tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }],
      want: 'node(s) had untolerated taint {node.kubernetes.io/not-ready: }',
    },
    { name: 'tolerated', taints: [notReadyTaint], tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists' }] },
    { name: 'value is shown', taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoExecute' }], want: 'node(s) had untolerated taint {dedicated: gpu}' },
    { name: 'PreferNoSchedule does not filter', taints: [{ key: 'soft', effect: 'PreferNoSchedule' }] },
    {
      name: 'first untolerated in node order',
      taints: [{ key: 'a', effect: 'NoSchedule' }, { key: 'b', value: '1', effect: 'NoSchedule' }],
      tolerations: [{ key: 'a', operator: 'Exists' }],
      want: 'node(s) had untolerated taint {b: 1}',
    },
  ];
  for (const c of cases) {
    const s = pl.filter(new CycleState(), makePod('p', { tolerations: c.tolerations }), nodeInfoOf(makeNode('n', { taints: c.taints })));
    if (!c.want) {
      assert.equal(s, undefined, c.name);
    } else {
      assert.equal(s?.code, Code.UnschedulableAndUnresolvable, c.name);
      assert.deepEqual(s?.reasons, [c.want], c.name);
    }
  }
});

test('Score: fewer untolerated PreferNoSchedule taints scores higher (normalised, reversed)', () => {
  const pl = new TaintToleration();
  const pod = makePod('p', { tolerations: [{ key: 'ok', operator: 'Exists', effect: 'PreferNoSchedule' }] });
  const nodes = [
    nodeInfoOf(makeNode('clean')),
    nodeInfoOf(makeNode('one', { taints: [{ key: 'x', effect: 'PreferNoSchedule' }, { key: 'ok', effect: 'PreferNoSchedule' }] })),
    nodeInfoOf(makeNode('two', { taints: [{ key: 'x', effect: 'PreferNoSchedule' }, { key: 'y', effect: 'PreferNoSchedule' }] })),
  ];
  const state = new CycleState();
  assert.equal(pl.preScore(state, pod, nodes), undefined);
  const scores: NodeScore[] = nodes.map((n) => ({ name: n.name, score: pl.score(state, pod, n).score }));
  assert.deepEqual(scores.map((s) => s.score), [0, 1, 2]);
  pl.normalizeScore(state, pod, scores);
  assert.deepEqual(scores.map((s) => s.score), [100, 50, 0]);
});

test('requeue hint: only when the node stops having an untolerated taint', () => {
  const [reg] = new TaintToleration().eventsToRegister();
  assert.ok(reg && reg.resource === 'Node' && reg.hint);
  const pod = makePod('p');
  const tainted = makeNode('n', { taints: [notReadyTaint] });
  const clean = makeNode('n');
  assert.equal(reg.hint(pod, tainted, clean), 'Queue');
  assert.equal(reg.hint(pod, undefined, clean), 'Queue', 'a new clean node');
  assert.equal(reg.hint(pod, undefined, tainted), 'QueueSkip', 'a new tainted node');
  assert.equal(reg.hint(pod, clean, clean), 'QueueSkip', 'it was tolerated before: the taint was not why');
});
