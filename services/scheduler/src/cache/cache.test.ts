import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nullLogger } from '@tskube/log';
import type { ReadonlyPod } from '../framework/types.js';
import { makeNode, makePod } from '../testing/builders.js';
import { SchedulerCache, Snapshot } from './cache.js';

const bound = (name: string, node: string, cpu = '1'): ReadonlyPod => makePod(name, { nodeName: node, cpu });

test('assumed pods count on their node at once, so back-to-back decisions see them', () => {
  const c = new SchedulerCache({ logger: nullLogger() });
  c.addNode(makeNode('n', { cpu: '2' }));
  c.assume(bound('a', 'n'));
  c.assume(bound('b', 'n'));
  const snap = new Snapshot();
  c.updateSnapshot(snap);
  assert.equal(snap.get('n')?.requested.milliCPU, 2000);
  assert.equal(c.isAssumed(bound('a', 'n')), true);
  assert.throws(() => c.assume(bound('a', 'n')), /is in the cache/);
});

test('a failed binding forgets the assumption; a confirmed one replaces it with the real object', () => {
  const c = new SchedulerCache({ logger: nullLogger() });
  c.addNode(makeNode('n1'));
  c.addNode(makeNode('n2'));
  const a = bound('a', 'n1');
  c.assume(a);
  c.forget(a);
  assert.equal(c.nodeInfo('n1')?.podCount, 0);
  assert.equal(c.podCount, 0);

  c.assume(a);
  c.finishBinding(a);
  const confirmed = { ...a, metadata: { ...a.metadata, resourceVersion: '5' } };
  c.addPod(confirmed);
  assert.equal(c.isAssumed(a), false);
  assert.equal(c.getPod(a), confirmed);
  assert.equal(c.nodeInfo('n1')?.podCount, 1);
  c.forget(confirmed); // no longer assumed: left alone
  assert.equal(c.nodeInfo('n1')?.podCount, 1);

  // the server put it elsewhere (someone else bound it): the server wins
  const b = bound('b', 'n1');
  c.assume(b);
  c.addPod(bound('b', 'n2'));
  assert.equal(c.nodeInfo('n1')?.podCount, 1);
  assert.equal(c.nodeInfo('n2')?.podCount, 1);
});

test('assumed pods expire only after the binding finished and only with a TTL', () => {
  let now = 0;
  const c = new SchedulerCache({ logger: nullLogger(), now: () => now, assumedPodTtlMs: 30_000 });
  c.addNode(makeNode('n'));
  const a = bound('a', 'n');
  c.assume(a);
  now = 60_000;
  assert.equal(c.cleanupAssumedPods(), 0, 'binding still in progress');
  c.finishBinding(a);
  now += 29_999;
  assert.equal(c.cleanupAssumedPods(), 0);
  now += 1;
  assert.equal(c.cleanupAssumedPods(), 1);
  assert.equal(c.nodeInfo('n')?.podCount, 0);

  const never = new SchedulerCache({ logger: nullLogger(), now: () => now });
  never.addNode(makeNode('n'));
  never.assume(a);
  never.finishBinding(a);
  now += 3_600_000;
  assert.equal(never.cleanupAssumedPods(), 0, 'default TTL 0: never expires');
});

test('pods removed and nodes deleted; pods seen before their node are kept', () => {
  const c = new SchedulerCache({ logger: nullLogger() });
  c.addPod(bound('early', 'later'));
  const snap = new Snapshot();
  c.updateSnapshot(snap);
  assert.equal(snap.size, 0, 'a node without a Node object is not schedulable');
  c.addNode(makeNode('later', { cpu: '2' }));
  c.updateSnapshot(snap);
  assert.equal(snap.get('later')?.requested.milliCPU, 1000);
  c.removeNode(makeNode('later'));
  c.updateSnapshot(snap);
  assert.equal(snap.size, 0);
  c.removePod(bound('early', 'later'));
  assert.equal(c.nodeInfo('later'), undefined, 'an empty ghost node is dropped');
});

test('the snapshot reuses clones of unchanged nodes and is isolated from the cache', () => {
  const c = new SchedulerCache({ logger: nullLogger() });
  c.addNode(makeNode('a'));
  c.addNode(makeNode('b'));
  const snap = new Snapshot();
  c.updateSnapshot(snap);
  const a1 = snap.get('a');
  const b1 = snap.get('b');
  c.addPod(bound('p', 'b'));
  assert.equal(b1?.podCount, 0, 'the cycle in progress does not see the change');
  c.updateSnapshot(snap);
  assert.equal(snap.get('a'), a1, 'unchanged node: same clone');
  assert.notEqual(snap.get('b'), b1);
  assert.equal(snap.get('b')?.podCount, 1);
  assert.deepEqual(snap.nodes.map((n) => n.name), ['a', 'b']);
});
