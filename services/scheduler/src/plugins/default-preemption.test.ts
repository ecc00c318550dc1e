import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod, PodDisruptionBudget } from '@tskube/api';
import { FakeClient, Resources, type EventRecorder } from '@tskube/client';
import { nullLogger } from '@tskube/log';
import { CycleState } from '../framework/interface.js';
import type { NodeInfo } from '../framework/node-info.js';
import { PodScheduler } from '../framework/schedule-pod.js';
import type { ReadonlyPod } from '../framework/types.js';
import { Nominator } from '../queue/nominator.js';
import { makeNode, makePod, nodeInfoOf, notReadyTaint, staticListers, testFramework, type TestFrameworkOptions } from '../testing/builders.js';
import { DefaultPreemption, filterPodsWithPDBViolation, pickOneNodeForPreemption, type Candidate } from './default-preemption.js';

/** Runs filter + PostFilter like the scheduling loop: the FailedScheduling message and the nomination. */
function attempt(pod: ReadonlyPod, nodes: NodeInfo[], o: TestFrameworkOptions = {}): { message: string; nominated?: string } {
  const fwk = testFramework({ nodes, ...o });
  const state = new CycleState();
  const r = new PodScheduler().schedulePod(fwk, state, pod, nodes);
  assert.equal(r.kind, 'unschedulable');
  if (r.kind !== 'unschedulable') return { message: '' };
  const pf = fwk.runPostFilterPlugins(state, pod, r.fitError.diagnosis.nodeToStatus, nodes);
  r.fitError.diagnosis.postFilterMsg = pf.status.message;
  return { message: r.fitError.message(), ...(pf.nominatedNodeName !== undefined ? { nominated: pf.nominatedNodeName } : {}) };
}

test('the preemption message explains whether evicting lower-priority pods could help', () => {
  const cases: { name: string; pod: ReadonlyPod; nodes: NodeInfo[]; want: string; nominated?: string }[] = [
    {
      name: 'too big for every node, one node tainted',
      pod: makePod('p', { cpu: '100' }),
      nodes: [nodeInfoOf(makeNode('a', { cpu: '2' })), nodeInfoOf(makeNode('b', { cpu: '2' })), nodeInfoOf(makeNode('c', { cpu: '2', taints: [notReadyTaint] }))],
      want: '0/3 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, 2 Insufficient cpu. '
        + 'preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.',
    },
    {
      name: 'room taken by pods of the same priority: no victims',
      pod: makePod('p', { cpu: '1' }),
      nodes: [nodeInfoOf(makeNode('a', { cpu: '2' }), makePod('x', { cpu: '2', nodeName: 'a' })), nodeInfoOf(makeNode('b', { cpu: '2', taints: [notReadyTaint] }))],
      want: '0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }. '
        + 'preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, 1 Preemption is not helpful for scheduling.',
    },
    {
      name: 'evicting the lower-priority pods would still not be enough',
      pod: makePod('p', { cpu: '1', priority: 5 }),
      nodes: [nodeInfoOf(makeNode('a', { cpu: '2' }), makePod('hi', { cpu: '1500m', priority: 10, nodeName: 'a' }), makePod('lo', { cpu: '400m', nodeName: 'a' }))],
      want: '0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 Insufficient cpu.',
    },
    {
      name: 'preemption helps: the node is nominated and the message has no preemption part',
      pod: makePod('p', { cpu: '1', priority: 5 }),
      nodes: [nodeInfoOf(makeNode('a', { cpu: '2' }), makePod('lo', { cpu: '2', nodeName: 'a' }))],
      want: '0/1 nodes are available: 1 Insufficient cpu.', nominated: 'a',
    },
    {
      name: 'preemptionPolicy Never',
      pod: makePod('p', { cpu: '1', priority: 5, spec: { preemptionPolicy: 'Never' } }),
      nodes: [nodeInfoOf(makeNode('a', { cpu: '2' }), makePod('lo', { cpu: '2', nodeName: 'a' }))],
      want: '0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never.',
    },
    {
      name: 'a victim of an earlier preemption is still terminating on the nominated node',
      pod: makePod('p', { cpu: '1', priority: 5, nominatedNodeName: 'a' }),
      nodes: [nodeInfoOf(makeNode('a', { cpu: '2' }), {
        ...makePod('lo', { cpu: '2', nodeName: 'a', deleting: true }),
        status: { conditions: [{ type: 'DisruptionTarget', status: 'True', reason: 'PreemptionByScheduler' }] },
      })],
      want: '0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to a terminating pod on the nominated node.',
    },
    {
      name: 'nothing helps any more: an earlier nomination is cleared',
      pod: makePod('p', { cpu: '1', priority: 5, nominatedNodeName: 'a' }),
      nodes: [nodeInfoOf(makeNode('a', { cpu: '2' }), makePod('x', { cpu: '2', priority: 7, nodeName: 'a' }))],
      want: '0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.', nominated: '',
    },
  ];
  for (const c of cases) {
    const got = attempt(c.pod, c.nodes);
    assert.equal(got.message, c.want, c.name);
    assert.equal(got.nominated, c.nominated, c.name);
  }
});

function plugin(nodes: NodeInfo[], o: TestFrameworkOptions = {}): DefaultPreemption {
  const fwk = testFramework({ nodes, ...o });
  // The framework built its own instance; a second one over the same handle shape is equivalent.
  return new DefaultPreemption({
    client: new FakeClient(), logger: nullLogger(), framework: fwk, snapshot: { list: () => nodes, get: (n) => nodes.find((x) => x.name === n), havePodsWithAffinityList: () => [], havePodsWithRequiredAntiAffinityList: () => [] },
    listers: o.listers ?? staticListers(), nominator: fwk.podNominator, background: () => undefined, now: () => Date.parse('2024-06-01T00:00:00Z'),
  }, { random: () => 0 });
}

function victimsOn(node: NodeInfo, pod: ReadonlyPod, pdbs: PodDisruptionBudget[] = []): { victims: string[]; pdb: number } {
  const pl = plugin([node]);
  const fwk = testFramework({ nodes: [node] });
  const state = new CycleState();
  fwk.runPreFilterPlugins(state, pod, [node]);
  const r = pl.selectVictimsOnNode(state, pod, node.clone(), pdbs);
  assert.ok(r.status.isSuccess(), r.status.message);
  return { victims: r.victims.map((v) => v.metadata!.name!), pdb: r.numPDBViolations };
}

const pdb = (name: string, app: string, allowed: number): PodDisruptionBudget => ({
  apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name, namespace: 'default' },
  spec: { selector: { matchLabels: { app } } }, status: { disruptionsAllowed: allowed, currentHealthy: 1, desiredHealthy: 1, expectedPods: 1 },
});

test('SelectVictimsOnNode: the fewest lower-priority pods, most important reprieved first', () => {
  const node = nodeInfoOf(makeNode('a', { cpu: '4' }),
    makePod('lo1', { cpu: '1', priority: 1, nodeName: 'a', labels: { app: 'x' } }),
    makePod('lo2', { cpu: '1', priority: 2, nodeName: 'a', labels: { app: 'y' } }),
    makePod('lo3', { cpu: '2', priority: 3, nodeName: 'a', labels: { app: 'z' } }),
  );
  const pod = makePod('p', { cpu: '2', priority: 10 });
  // lo3 (most important) is reprieved: it and p fit in 4 cpu; then lo2 and lo1 must go.
  assert.deepEqual(victimsOn(node, pod), { victims: ['lo2', 'lo1'], pdb: 0 });
  // A pod needing 1 cpu: lo3 and lo2 are reprieved, only lo1 goes.
  assert.deepEqual(victimsOn(node, makePod('q', { cpu: '1', priority: 10 })), { victims: ['lo1'], pdb: 0 });
  // Equal priority pods are never victims; higher ones neither.
  assert.deepEqual(victimsOn(node, makePod('r', { cpu: '1', priority: 2 })), { victims: ['lo1'], pdb: 0 });
  // PDB-protected pods are reprieved first: with lo2 protected, lo3 goes instead of lo2 + lo1.
  assert.deepEqual(victimsOn(node, makePod('s', { cpu: '3', priority: 10 }), [pdb('protect-y', 'y', 0)]), { victims: ['lo3', 'lo1'], pdb: 0 });
  // When a protected pod must go anyway, it counts as a PDB violation.
  assert.deepEqual(victimsOn(node, makePod('t', { cpu: '4', priority: 10 }), [pdb('protect-y', 'y', 0)]), { victims: ['lo3', 'lo2', 'lo1'], pdb: 1 });
});

test('filterPodsWithPDBViolation counts budgets down per matching pod; disruptedPods are exempt', () => {
  const pods = ['a', 'b', 'c'].map((n) => nodeInfoOf(makeNode('x'), makePod(n, { labels: { app: 'web' } })).pods[0]!);
  const budget = pdb('web', 'web', 1);
  let r = filterPodsWithPDBViolation(pods, [budget]);
  assert.deepEqual([r.violating.map((p) => p.pod.metadata!.name), r.nonViolating.map((p) => p.pod.metadata!.name)], [['b', 'c'], ['a']]);
  r = filterPodsWithPDBViolation(pods, [{ ...budget, status: { ...budget.status!, disruptedPods: { b: '2024-01-01T00:00:00Z' } } }]);
  assert.deepEqual(r.violating.map((p) => p.pod.metadata!.name), ['c']);
  r = filterPodsWithPDBViolation(pods, [{ ...budget, metadata: { name: 'web', namespace: 'other' } }]);
  assert.equal(r.violating.length, 0, 'other namespace');
  r = filterPodsWithPDBViolation(pods, [{ ...budget, spec: { selector: {} } }]);
  assert.equal(r.violating.length, 0, 'an empty selector matches nothing');
});

test('pickOneNodeForPreemption applies upstream\'s criteria in order', () => {
  const v = (prio: number, start = '2024-01-01T00:00:00Z') => makePod(`v${prio}-${start}`, { priority: prio, startTime: start });
  const c = (nodeName: string, victims: ReadonlyPod[], numPDBViolations = 0): Candidate => ({ nodeName, victims, numPDBViolations });
  const cases: { name: string; candidates: Candidate[]; want: string }[] = [
    { name: 'fewest PDB violations', candidates: [c('a', [v(1)], 1), c('b', [v(5), v(4)], 0)], want: 'b' },
    { name: 'lowest highest-victim priority', candidates: [c('a', [v(5)]), c('b', [v(3), v(3), v(3)])], want: 'b' },
    { name: 'smallest sum of priorities', candidates: [c('a', [v(3), v(2)]), c('b', [v(3), v(1)])], want: 'b' },
    { name: 'fewest victims (negative priorities do not flip it)', candidates: [c('a', [v(-5), v(-5)]), c('b', [v(-5)])], want: 'b' },
    { name: 'latest start of the highest-priority victims', candidates: [c('a', [v(3, '2024-01-01T00:00:00Z')]), c('b', [v(3, '2024-02-01T00:00:00Z')])], want: 'b' },
    { name: 'all equal: the first', candidates: [c('a', [v(3)]), c('b', [v(3)])], want: 'a' },
  ];
  for (const k of cases) assert.equal(pickOneNodeForPreemption(k.candidates)?.nodeName, k.want, k.name);
});

test('preemption marks, deletes and reports the victims in the background and nominates the node', async () => {
  const client = new FakeClient();
  const victim = makePod('victim', { cpu: '2', priority: 1, nodeName: 'b' }) as Pod;
  const created = await client.resource(Resources.pods).create('default', victim);
  const nodes = [
    nodeInfoOf(makeNode('a', { cpu: '2' }), makePod('important', { cpu: '2', priority: 100, nodeName: 'a' })),
    nodeInfoOf(makeNode('b', { cpu: '2' }), created),
  ];
  const events: { reason: string; message: string; name: string }[] = [];
  const recorder: EventRecorder = { event: (o, _t, reason, message) => { events.push({ reason, message, name: o.metadata?.name ?? '' }); }, flush: async () => {} };
  const nominator = new Nominator();
  const lowerNominated = makePod('waiting', { priority: 0 });
  await client.resource(Resources.pods).create('default', { ...lowerNominated, status: { nominatedNodeName: 'b' } } as Pod);
  nominator.add(lowerNominated, 'b');
  const fwk = testFramework({ client, nodes, recorder, nominator });
  const pod = makePod('boss', { cpu: '2', priority: 50, uid: 'boss-uid' });
  const state = new CycleState();
  const r = new PodScheduler().schedulePod(fwk, state, pod, nodes);
  assert.equal(r.kind, 'unschedulable');
  if (r.kind !== 'unschedulable') return;
  const pf = fwk.runPostFilterPlugins(state, pod, r.fitError.diagnosis.nodeToStatus, nodes);
  assert.equal(pf.nominatedNodeName, 'b');
  assert.ok(pf.status.isSuccess());
  await fwk.drain();
  const patched = client.actions.find((a) => a.verb === 'patch' && a.subresource === 'status' && a.name === 'victim');
  assert.deepEqual((patched?.body as { status: { conditions: { type: string; reason: string; message: string }[] } }).status.conditions.map((c) => [c.type, c.reason, c.message]),
    [['DisruptionTarget', 'PreemptionByScheduler', 'default-scheduler: preempting to accommodate a higher priority pod']]);
  const del = client.actions.find((a) => a.verb === 'delete' && a.name === 'victim');
  assert.ok(del, 'victim deleted');
  const after = await client.resource(Resources.pods).get('default', 'victim');
  assert.ok(after.metadata?.deletionTimestamp, 'a bound pod gets a graceful deletion');
  assert.deepEqual(events, [{ reason: 'Preempted', message: 'Preempted by pod boss-uid on node b', name: 'victim' }]);
  const waiting = await client.resource(Resources.pods).get('default', 'waiting');
  assert.equal(waiting.status?.nominatedNodeName, undefined, 'lower-priority nomination on b cleared');

  // While the victim terminates, the preemptor (now nominated to b) does not preempt again.
  const nominatedPod = makePod('boss', { cpu: '2', priority: 50, uid: 'boss-uid', nominatedNodeName: 'b' });
  const again = attempt(nominatedPod, [nodes[0]!, nodeInfoOf(makeNode('b', { cpu: '2' }), after)]);
  assert.match(again.message, /not eligible due to a terminating pod on the nominated node\.$/);
});

test('pods nominated to a node keep room there for pods of lower or equal priority', () => {
  const node = nodeInfoOf(makeNode('a', { cpu: '2' }));
  const nominator = new Nominator();
  nominator.add(makePod('preemptor', { cpu: '2', priority: 10 }), 'a');
  const fit = (pod: ReadonlyPod) => new PodScheduler().schedulePod(testFramework({ nodes: [node], nominator }), new CycleState(), pod, [node]).kind;
  assert.equal(fit(makePod('low', { cpu: '1', priority: 5 })), 'unschedulable');
  assert.equal(fit(makePod('equal', { cpu: '1', priority: 10 })), 'unschedulable');
  assert.equal(fit(makePod('higher', { cpu: '1', priority: 11 })), 'scheduled');
  assert.equal(fit(makePod('preemptor', { cpu: '2', priority: 10 })), 'scheduled', 'not blocked by its own nomination');
});
