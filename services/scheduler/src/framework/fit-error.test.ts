import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NodeToStatus, fitErrorMessage } from './fit-error.js';
import { Status } from './status.js';

function statuses(entries: [string, Status][], absent?: Status): NodeToStatus {
  const m = new NodeToStatus();
  for (const [n, s] of entries) m.set(n, s);
  if (absent) m.absentNodesStatus = absent;
  return m;
}

const taint = 'node(s) had untolerated taint {node.kubernetes.io/not-ready: }';

test('FitError messages count reasons per node and sort them as strings, as upstream', () => {
  const cases: { name: string; all: number; m: NodeToStatus; pre?: string; post?: string; want: string }[] = [
    {
      name: 'taint and cpu, with the preemption suffix',
      all: 3,
      m: statuses([['a', Status.unresolvable('Insufficient cpu')], ['b', Status.unresolvable('Insufficient cpu')], ['c', Status.unresolvable(taint)]]),
      post: 'preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.',
      want: `0/3 nodes are available: 1 ${taint}, 2 Insufficient cpu. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.`,
    },
    {
      name: 'several reasons from one node each count',
      all: 2,
      m: statuses([['a', Status.unschedulable('Insufficient cpu', 'Insufficient memory')], ['b', Status.unschedulable('Insufficient memory')]]),
      want: '0/2 nodes are available: 1 Insufficient cpu, 2 Insufficient memory.',
    },
    {
      name: 'counts sort as strings: 10 before 2',
      all: 12,
      m: statuses([
        ...Array.from({ length: 10 }, (_, i): [string, Status] => [`z${i}`, Status.unresolvable('node(s) were unschedulable')]),
        ['a', Status.unresolvable('Insufficient cpu')], ['b', Status.unresolvable('Insufficient cpu')],
      ]),
      want: '0/12 nodes are available: 10 node(s) were unschedulable, 2 Insufficient cpu.',
    },
    {
      name: 'nodes never evaluated count with the absent-nodes reason',
      all: 3,
      m: statuses([['a', Status.unresolvable("node(s) didn't match Pod's node affinity/selector")]], Status.unresolvable("node(s) didn't satisfy plugin(s) [NodeAffinity]")),
      want: "0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 2 node(s) didn't satisfy plugin(s) [NodeAffinity].",
    },
    {
      name: 'a PreFilter rejection replaces the per-node reasons',
      all: 2,
      m: statuses([], Status.unresolvable('pod affinity terms conflict')),
      pre: 'pod affinity terms conflict',
      post: 'preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.',
      want: '0/2 nodes are available: pod affinity terms conflict. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.',
    },
    {
      name: 'no reasons at all',
      all: 0,
      m: statuses([]),
      want: '0/0 nodes are available:',
    },
  ];
  for (const c of cases) {
    assert.equal(fitErrorMessage(c.all, { nodeToStatus: c.m, preFilterMsg: c.pre ?? '', postFilterMsg: c.post ?? '' }), c.want, c.name);
  }
});
