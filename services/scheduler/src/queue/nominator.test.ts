import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makePod } from '../testing/builders.js';
import { Nominator } from './nominator.js';

test('Nominator: status and in-memory nominations, kept across updates without one, cleared when removed', () => {
  const nm = new Nominator();
  const names = (node: string) => nm.nominatedPodsForNode(node).map((p) => p.pod.metadata!.name).sort();
  nm.add(makePod('a', { nominatedNodeName: 'n1' }));
  nm.add(makePod('b'));
  assert.deepEqual(names('n1'), ['a']);
  assert.equal(nm.nominatedNode(makePod('b')), undefined);
  // In memory (preemption just chose n2), before the status write is seen.
  nm.add(makePod('b'), 'n2');
  assert.deepEqual(names('n2'), ['b']);
  // An update that neither had nor has a nominatedNodeName keeps the in-memory one (with the new object).
  nm.update(makePod('b'), makePod('b', { labels: { x: 'y' } }));
  assert.deepEqual(nm.nominatedPodsForNode('n2').map((p) => p.pod.metadata?.labels), [{ x: 'y' }]);
  // The status moves it; then removing it from the status clears it.
  nm.update(makePod('b'), makePod('b', { nominatedNodeName: 'n3' }));
  assert.deepEqual([names('n2'), names('n3')], [[], ['b']]);
  nm.update(makePod('b', { nominatedNodeName: 'n3' }), makePod('b'));
  assert.deepEqual(names('n3'), []);
  // '' clears; bound pods are never nominated; delete ends it.
  nm.add(makePod('a'), '');
  assert.deepEqual(names('n1'), []);
  nm.add(makePod('c', { nodeName: 'n1', nominatedNodeName: 'n1' }));
  assert.deepEqual(names('n1'), []);
  nm.add(makePod('d', { nominatedNodeName: 'n1' }));
  nm.delete(makePod('d'));
  assert.equal(nm.size, 0);
});
