import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Toleration } from '@tskube/api';
import { CycleState } from '../framework/interface.js';
import { NodeInfo } from '../framework/node-info.js';
import { Code } from '../framework/status.js';
import { makeNode, makePod, nodeInfoOf } from '../testing/builders.js';
import { NodeUnschedulable } from './node-unschedulable.js';

test('NodeUnschedulable filters cordoned nodes unless the pod tolerates the unschedulable taint', () => {
  const pl = new NodeUnschedulable();
  const cases: { name: string; unschedulable: boolean; tolerations?: Toleration[]; fits: boolean }[] = [
    { name: 'schedulable node', unschedulable: false, fits: true },
    { name: 'cordoned node', unschedulable: true, fits: false },
    { name: 'tolerated by key', unschedulable: true, tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }], fits: true },
    { name: 'tolerate-everything toleration', unschedulable: true, tolerations: [{ operator: 'Exists' }], fits: true },
    { name: 'wrong effect', unschedulable: true, tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoExecute' }], fits: false },
  ];
  for (const c of cases) {
    const s = pl.filter(new CycleState(), makePod('p', { tolerations: c.tolerations }), nodeInfoOf(makeNode('n', { unschedulable: c.unschedulable })));
    if (c.fits) assert.equal(s, undefined, c.name);
    else {
      assert.equal(s?.code, Code.UnschedulableAndUnresolvable, c.name);
      assert.deepEqual(s?.reasons, ['node(s) were unschedulable'], c.name);
    }
  }
  assert.deepEqual(pl.filter(new CycleState(), makePod('p'), new NodeInfo())?.reasons, ['node(s) had unknown conditions']);
});

test('NodeUnschedulable requeues on an uncordoned or new schedulable node', () => {
  const [reg] = new NodeUnschedulable().eventsToRegister();
  assert.ok(reg && reg.resource === 'Node' && reg.hint);
  assert.equal(reg.hint(makePod('p'), makeNode('n', { unschedulable: true }), makeNode('n')), 'Queue');
  assert.equal(reg.hint(makePod('p'), makeNode('n'), makeNode('n', { unschedulable: true })), 'QueueSkip');
});
