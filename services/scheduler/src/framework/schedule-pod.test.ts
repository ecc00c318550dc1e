import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClient } from '@tskube/client';
import { nullLogger } from '@tskube/log';
import { inTreeRegistry } from '../plugins/index.js';
import { makeNode, makePod, nodeInfoOf, notReadyTaint, testFramework } from '../testing/builders.js';
import { Framework } from './framework.js';
import { CycleState, type FilterPlugin, type ScorePlugin } from './interface.js';
import { defaultProfile, type Profile } from './registry.js';
import { ERR_NO_NODES_AVAILABLE, PodScheduler, numFeasibleNodesToFind } from './schedule-pod.js';
import { Code, Status } from './status.js';

test('numFeasibleNodesToFind: all nodes below 100, adaptive percentage above', () => {
  const cases: [number, number, number][] = [
    [0, 10, 10], [0, 99, 99], [0, 100, 100], [0, 1000, 420], [0, 5000, 500], [0, 6000, 300], [10, 1000, 100], [50, 1000, 500],
  ];
  for (const [pct, n, want] of cases) assert.equal(numFeasibleNodesToFind(pct, n), want, `${pct}% of ${n}`);
});

test('selectHost takes the best score and breaks ties at random', () => {
  const scores = [{ name: 'a', totalScore: 5, scores: [] }, { name: 'b', totalScore: 9, scores: [] }, { name: 'c', totalScore: 9, scores: [] }];
  assert.equal(new PodScheduler({ random: () => 0.99 }).selectHost(scores), 'b');
  assert.equal(new PodScheduler({ random: () => 0 }).selectHost(scores), 'c');
  const seen = new Set<string>();
  const ps = new PodScheduler();
  for (let i = 0; i < 200; i++) seen.add(ps.selectHost(scores));
  assert.deepEqual([...seen].sort(), ['b', 'c']);
});

test('schedulePod filters, scores and picks the least loaded fitting node', () => {
  const fwk = testFramework();
  const nodes = [
    nodeInfoOf(makeNode('busy', { cpu: '4', memory: '8Gi' }), makePod('x', { cpu: '3', memory: '1Gi', nodeName: 'busy' })),
    nodeInfoOf(makeNode('idle', { cpu: '4', memory: '8Gi' })),
    nodeInfoOf(makeNode('tainted', { cpu: '64', memory: '64Gi', taints: [notReadyTaint] })),
  ];
  for (let i = 0; i < 5; i++) {
    const r = new PodScheduler().schedulePod(fwk, new CycleState(), makePod('p', { cpu: '500m', memory: '1Gi' }), nodes);
    assert.ok(r.kind === 'scheduled');
    assert.deepEqual({ nodeName: r.nodeName, evaluatedNodes: r.evaluatedNodes, feasibleNodes: r.feasibleNodes }, { nodeName: 'idle', evaluatedNodes: 3, feasibleNodes: 2 });
    assert.deepEqual(r.scores.map((s) => s.name).sort(), ['busy', 'idle']);
    assert.equal(r.diagnosis.nodeToStatus.get('tainted').plugin, 'TaintToleration');
  }
});

test('schedulePod reports no nodes, and a FitError naming the rejecting plugins', () => {
  const fwk = testFramework();
  const none = new PodScheduler().schedulePod(fwk, new CycleState(), makePod('p'), []);
  assert.equal(none.kind, 'error');
  assert.ok(none.kind === 'error' && none.status.code === Code.UnschedulableAndUnresolvable && none.status.message === ERR_NO_NODES_AVAILABLE);
  const r = new PodScheduler().schedulePod(fwk, new CycleState(), makePod('p', { cpu: '3' }), [
    nodeInfoOf(makeNode('a', { cpu: '2' })), nodeInfoOf(makeNode('b', { taints: [notReadyTaint] })),
  ]);
  assert.equal(r.kind, 'unschedulable');
  if (r.kind !== 'unschedulable') return;
  assert.deepEqual([...r.fitError.diagnosis.unschedulablePlugins].sort(), ['NodeResourcesFit', 'TaintToleration']);
  assert.equal(r.fitError.message(), '0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }.');
});

test('a PreFilter node set leaves the other nodes absent with upstream wording', () => {
  const fwk = testFramework();
  const pod = makePod('p', { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['a'] }] }] } } }, cpu: '10' });
  const r = new PodScheduler().schedulePod(fwk, new CycleState(), pod, [nodeInfoOf(makeNode('a')), nodeInfoOf(makeNode('b')), nodeInfoOf(makeNode('c'))]);
  assert.ok(r.kind === 'unschedulable');
  assert.equal(r.fitError.message(), '0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn\'t satisfy plugin(s) [NodeAffinity].');
});

function frameworkWith(extra: Record<string, (FilterPlugin | ScorePlugin)>, names: string[]): Framework {
  const registry = inTreeRegistry();
  for (const [name, p] of Object.entries(extra)) registry.register(name, () => p);
  const profile: Profile = { schedulerName: 'x', plugins: [...names.map((name) => ({ name })), { name: 'DefaultBinder' }] };
  return new Framework({ registry, profile, client: new FakeClient(), logger: nullLogger() });
}

test('a plugin that throws or returns an out-of-range score fails the attempt with an Error status', () => {
  const boom: FilterPlugin = { name: 'Boom', filter: () => { throw new Error('kaboom'); } };
  const r1 = new PodScheduler().schedulePod(frameworkWith({ Boom: boom }, ['Boom']), new CycleState(), makePod('p'), [nodeInfoOf(makeNode('a'))]);
  assert.ok(r1.kind === 'error' && r1.status.code === Code.Error && r1.status.plugin === 'Boom');
  assert.match(r1.status.message, /kaboom/);
  const wild: ScorePlugin = { name: 'Wild', score: () => ({ score: 101 }) };
  const r2 = new PodScheduler().schedulePod(frameworkWith({ Wild: wild }, ['Wild']), new CycleState(), makePod('p'), [nodeInfoOf(makeNode('a')), nodeInfoOf(makeNode('b'))]);
  assert.ok(r2.kind === 'error');
  assert.equal(r2.status.message, 'plugin "Wild" returns an invalid score 101, it should in the range of [0, 100] after normalizing');
});

test('scores are weighted per plugin and summed', () => {
  const fixed = (name: string, byNode: Record<string, number>): ScorePlugin => ({ name, score: (_s, _p, n) => ({ score: byNode[n.name] ?? 0 }) });
  const registry = inTreeRegistry();
  registry.register('A', () => fixed('A', { a: 10, b: 0 }));
  registry.register('B', () => fixed('B', { a: 0, b: 4 }));
  const fwk = new Framework({
    registry, client: new FakeClient(), logger: nullLogger(),
    profile: { schedulerName: 'x', plugins: [{ name: 'A', weight: 1 }, { name: 'B', weight: 3 }, { name: 'DefaultBinder' }] },
  });
  const r = fwk.runScorePlugins(new CycleState(), makePod('p'), [nodeInfoOf(makeNode('a')), nodeInfoOf(makeNode('b'))]);
  assert.deepEqual(r.scores.map((s) => [s.name, s.totalScore]), [['a', 10], ['b', 12]]);
});

test('profiles are validated when the framework is built', () => {
  const build = (plugins: Profile['plugins']) => new Framework({ registry: inTreeRegistry(), profile: { schedulerName: 'x', plugins }, client: new FakeClient(), logger: nullLogger() });
  assert.throws(() => build([{ name: 'Nope' }, { name: 'DefaultBinder' }]), /plugin "Nope" does not exist/);
  assert.throws(() => build([{ name: 'NodeName' }]), /has no Bind plugin/);
  assert.throws(() => build([{ name: 'NodeName' }, { name: 'NodeName' }, { name: 'DefaultBinder' }]), /listed twice/);
  assert.throws(() => build([{ name: 'NodeResourcesFit', weight: 0 }, { name: 'DefaultBinder' }]), /invalid weight/);
  assert.doesNotThrow(() => build(defaultProfile().plugins));
});

test('Status helpers', () => {
  assert.equal(Status.unschedulable('a', 'b').message, 'a, b');
  assert.ok(Status.unresolvable('x').isRejected());
  assert.ok(!Status.fromError(new Error('e')).isRejected());
  assert.equal(Status.success().withPlugin('X').plugin, '', 'success carries no plugin');
});
