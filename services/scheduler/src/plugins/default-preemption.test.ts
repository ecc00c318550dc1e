import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CycleState } from '../framework/interface.js';
import type { NodeInfo } from '../framework/node-info.js';
import { PodScheduler } from '../framework/schedule-pod.js';
import type { ReadonlyPod } from '../framework/types.js';
import { makeNode, makePod, nodeInfoOf, notReadyTaint, testFramework } from '../testing/builders.js';

/** Runs filter + PostFilter like the scheduling loop and returns the final FailedScheduling message. */
function failureMessage(pod: ReadonlyPod, nodes: NodeInfo[]): string {
  const fwk = testFramework();
  const state = new CycleState();
  const r = new PodScheduler().schedulePod(fwk, state, pod, nodes);
  assert.equal(r.kind, 'unschedulable');
  if (r.kind !== 'unschedulable') return '';
  const pf = fwk.runPostFilterPlugins(state, pod, r.fitError.diagnosis.nodeToStatus, nodes);
  r.fitError.diagnosis.postFilterMsg = pf.status.message;
  return r.fitError.message();
}

test('the preemption suffix explains whether evicting lower-priority pods could help', () => {
  const cases: { name: string; pod: ReadonlyPod; nodes: NodeInfo[]; want: string }[] = [
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
      name: 'preemption would help: upstream evicts and says nothing more (tskube does not evict yet)',
      pod: makePod('p', { cpu: '1', priority: 5 }),
      nodes: [nodeInfoOf(makeNode('a', { cpu: '2' }), makePod('lo', { cpu: '2', nodeName: 'a' }))],
      want: '0/1 nodes are available: 1 Insufficient cpu.',
    },
    {
      name: 'preemptionPolicy Never',
      pod: makePod('p', { cpu: '1', priority: 5, spec: { preemptionPolicy: 'Never' } }),
      nodes: [nodeInfoOf(makeNode('a', { cpu: '2' }), makePod('lo', { cpu: '2', nodeName: 'a' }))],
      want: '0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never.',
    },
  ];
  for (const c of cases) assert.equal(failureMessage(c.pod, c.nodes), c.want, c.name);
});
