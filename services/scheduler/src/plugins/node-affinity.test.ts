import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PodSpec } from '@tskube/api';
import { CycleState, type NodeScore } from '../framework/interface.js';
import { Code } from '../framework/status.js';
import { makeNode, makePod, nodeInfoOf } from '../testing/builders.js';
import { NodeAffinity, requiredNodeAffinityMatches } from './node-affinity.js';

type Term = { matchExpressions?: { key: string; operator: string; values?: string[] }[]; matchFields?: { key: string; operator: string; values?: string[] }[] };
const required = (...terms: Term[]): PodSpec['affinity'] => ({ nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } } });

test('required node affinity and nodeSelector match node labels as upstream', () => {
  const node = makeNode('n1', { labels: { zone: 'a', disk: 'ssd', cores: '8' } });
  const cases: { name: string; nodeSelector?: Record<string, string>; affinity?: PodSpec['affinity']; want: boolean }[] = [
    { name: 'nothing required', want: true },
    { name: 'nodeSelector matches', nodeSelector: { zone: 'a', disk: 'ssd' }, want: true },
    { name: 'nodeSelector value differs', nodeSelector: { zone: 'b' }, want: false },
    { name: 'nodeSelector key missing', nodeSelector: { gpu: 'true' }, want: false },
    { name: 'In', affinity: required({ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a', 'b'] }] }), want: true },
    { name: 'NotIn matches an absent label', affinity: required({ matchExpressions: [{ key: 'gpu', operator: 'NotIn', values: ['x'] }] }), want: true },
    { name: 'NotIn excludes', affinity: required({ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }), want: false },
    { name: 'Exists', affinity: required({ matchExpressions: [{ key: 'disk', operator: 'Exists' }] }), want: true },
    { name: 'DoesNotExist', affinity: required({ matchExpressions: [{ key: 'disk', operator: 'DoesNotExist' }] }), want: false },
    { name: 'Gt', affinity: required({ matchExpressions: [{ key: 'cores', operator: 'Gt', values: ['4'] }] }), want: true },
    { name: 'Lt', affinity: required({ matchExpressions: [{ key: 'cores', operator: 'Lt', values: ['4'] }] }), want: false },
    { name: 'Gt with a non-integer value is a malformed term', affinity: required({ matchExpressions: [{ key: 'cores', operator: 'Gt', values: ['x'] }] }), want: false },
    { name: 'expressions in a term are ANDed', affinity: required({ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }, { key: 'disk', operator: 'In', values: ['hdd'] }] }), want: false },
    { name: 'terms are ORed', affinity: required({ matchExpressions: [{ key: 'zone', operator: 'In', values: ['b'] }] }, { matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }] }), want: true },
    { name: 'an empty term matches nothing', affinity: required({}), want: false },
    { name: 'no terms matches nothing', affinity: required(), want: false },
    { name: 'matchFields metadata.name In', affinity: required({ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }] }), want: true },
    { name: 'matchFields metadata.name NotIn', affinity: required({ matchFields: [{ key: 'metadata.name', operator: 'NotIn', values: ['n1'] }] }), want: false },
    { name: 'nodeSelector AND affinity', nodeSelector: { zone: 'b' }, affinity: required({ matchExpressions: [{ key: 'disk', operator: 'Exists' }] }), want: false },
  ];
  for (const c of cases) {
    const pod = makePod('p', { nodeSelector: c.nodeSelector, affinity: c.affinity });
    assert.equal(requiredNodeAffinityMatches(pod, node), c.want, c.name);
    const s = new NodeAffinity().filter(new CycleState(), pod, nodeInfoOf(node));
    if (c.want) assert.equal(s, undefined, c.name);
    else {
      assert.equal(s?.code, Code.UnschedulableAndUnresolvable, c.name);
      assert.deepEqual(s?.reasons, ["node(s) didn't match Pod's node affinity/selector"], c.name);
    }
  }
});

test('PreFilter skips pods without constraints and narrows pinned node names', () => {
  const pl = new NodeAffinity();
  assert.equal(pl.preFilter(new CycleState(), makePod('p'))?.status?.code, Code.Skip);
  assert.equal(pl.preFilter(new CycleState(), makePod('p', { nodeSelector: { a: 'b' } })), undefined);
  const pinned = pl.preFilter(new CycleState(), makePod('p', { affinity: required({ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1', 'n2'] }] }, { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n3'] }] }) }));
  assert.deepEqual([...pinned?.result?.nodeNames ?? []].sort(), ['n1', 'n2', 'n3']);
  const conflict = pl.preFilter(new CycleState(), makePod('p', {
    affinity: required({ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }, { key: 'metadata.name', operator: 'In', values: ['n2'] }] }),
  }));
  assert.deepEqual(conflict?.status?.reasons, ['pod affinity terms conflict']);
  const open = pl.preFilter(new CycleState(), makePod('p', { affinity: required({ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }] }, { matchExpressions: [{ key: 'a', operator: 'Exists' }] }) }));
  assert.equal(open, undefined, 'a term without a name pin can match any node');
});

test('Score: sum of matching preferred weights, normalised to 100', () => {
  const pl = new NodeAffinity();
  const pod = makePod('p', {
    affinity: {
      nodeAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          { weight: 10, preference: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] } },
          { weight: 30, preference: { matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }] } },
        ],
      },
    },
  });
  const nodes = [
    nodeInfoOf(makeNode('both', { labels: { zone: 'a', disk: 'ssd' } })),
    nodeInfoOf(makeNode('zone', { labels: { zone: 'a' } })),
    nodeInfoOf(makeNode('none')),
  ];
  const state = new CycleState();
  assert.equal(pl.preScore(state, pod), undefined);
  const scores: NodeScore[] = nodes.map((n) => ({ name: n.name, score: pl.score(state, pod, n).score }));
  assert.deepEqual(scores.map((s) => s.score), [40, 10, 0]);
  pl.normalizeScore(state, pod, scores);
  assert.deepEqual(scores.map((s) => s.score), [100, 25, 0]);
  assert.equal(pl.preScore(new CycleState(), makePod('q'))?.code, Code.Skip);
});

test('requeue hint: a node that now matches', () => {
  const [reg] = new NodeAffinity().eventsToRegister();
  assert.ok(reg && reg.resource === 'Node' && reg.hint);
  const pod = makePod('p', { nodeSelector: { zone: 'a' } });
  assert.equal(reg.hint(pod, makeNode('n'), makeNode('n', { labels: { zone: 'a' } })), 'Queue');
  assert.equal(reg.hint(pod, undefined, makeNode('n', { labels: { zone: 'b' } })), 'QueueSkip');
  assert.equal(reg.hint(pod, makeNode('n', { labels: { zone: 'a' } }), makeNode('n', { labels: { zone: 'a', x: 'y' } })), 'QueueSkip');
});
