import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CycleState } from '../framework/interface.js';
import { Code } from '../framework/status.js';
import { makeNode, makePod, nodeInfoOf } from '../testing/builders.js';
import { NodeName } from './node-name.js';

test('NodeName: a pod naming a node fits only that node', () => {
  const pl = new NodeName();
  const cases: [string, string | undefined, boolean][] = [
    ['no nodeName', undefined, true],
    ['same node', 'n1', true],
    ['other node', 'n2', false],
  ];
  for (const [name, nodeName, fits] of cases) {
    const s = pl.filter(new CycleState(), makePod('p', { nodeName }), nodeInfoOf(makeNode('n1')));
    if (fits) assert.equal(s, undefined, name);
    else {
      assert.equal(s?.code, Code.UnschedulableAndUnresolvable, name);
      assert.deepEqual(s?.reasons, ["node(s) didn't match the requested node name"], name);
    }
  }
});
