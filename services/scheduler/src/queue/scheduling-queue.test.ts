import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nullLogger } from '@tskube/log';
import { ActionType, nodeEvent, assignedPodEvent, type ClusterEventWithHint } from '../framework/interface.js';
import { PrioritySort } from '../plugins/priority-sort.js';
import { makeNode, makePod } from '../testing/builders.js';
import { Events, assignedPodChange, nodeChange } from './events.js';
import { SchedulingQueue, type QueuedPodInfo } from './scheduling-queue.js';

class FakeClock {
  t = 1_000_000;
  now = () => this.t;
  step(ms: number): void { this.t += ms; }
}

function newQueue(clock = new FakeClock(), events: Record<string, ClusterEventWithHint[]> = {}) {
  return {
    clock,
    q: new SchedulingQueue({ logger: nullLogger(), queueSort: new PrioritySort(), now: clock.now, pluginEvents: new Map(Object.entries(events)) }),
  };
}

async function popName(q: SchedulingQueue): Promise<string | undefined> {
  return (await q.pop())?.pod.metadata?.name;
}

/** Pops `name` and fails it as rejected by `plugins` (empty = an error). */
async function failAttempt(q: SchedulingQueue, plugins: string[]): Promise<{ p: QueuedPodInfo; where: string }> {
  const p = (await q.pop())!;
  const cycle = q.schedulingCycle;
  p.unschedulablePlugins = new Set(plugins);
  return { p, where: q.addUnschedulableIfNotPresent(p, cycle) };
}

test('activeQ pops by priority, then by time queued', async () => {
  const { q, clock } = newQueue();
  q.add(makePod('low-early', { priority: 0 }));
  clock.step(1);
  q.add(makePod('high', { priority: 100 }));
  clock.step(1);
  q.add(makePod('low-late', { priority: 0 }));
  clock.step(1);
  q.add(makePod('mid', { priority: 50 }));
  const order = [];
  for (let i = 0; i < 4; i++) order.push(await popName(q));
  assert.deepEqual(order, ['high', 'mid', 'low-early', 'low-late']);
});

test('an update replaces the queued copy in place; a delete removes it; duplicates collapse', async () => {
  const { q } = newQueue();
  q.add(makePod('a', { priority: 1 }));
  q.add(makePod('b', { priority: 2 }));
  q.add(makePod('b', { priority: 2 }));
  assert.equal(q.lengths().active, 2);
  q.update(makePod('a', { priority: 1 }), makePod('a', { priority: 3, labels: { v: '2' } }));
  const first = await q.pop();
  assert.equal(first?.pod.metadata?.name, 'a');
  assert.deepEqual(first?.pod.metadata?.labels, { v: '2' }, 'the newest copy is handed out');
  q.delete(makePod('b'));
  assert.deepEqual(q.lengths(), { active: 0, backoff: 0, unschedulable: 0 });
});

test('pop waits for a pod and resolves undefined on close or abort', async () => {
  const { q } = newQueue();
  const waiting = q.pop();
  setTimeout(() => q.add(makePod('late')), 5);
  assert.equal((await waiting)?.pod.metadata?.name, 'late');
  const ac = new AbortController();
  const aborted = q.pop(ac.signal);
  ac.abort();
  assert.equal(await aborted, undefined);
  const closed = q.pop();
  q.close();
  assert.equal(await closed, undefined);
});

test('backoff: 1 s doubling per attempt up to 10 s, counted from the last failure', async () => {
  const { q, clock } = newQueue();
  const cases: [number, number][] = [[0, 0], [1, 1000], [2, 2000], [3, 4000], [4, 8000], [5, 10000], [9, 10000]];
  for (const [attempts, want] of cases) assert.equal(q.backoffDuration({ attempts }), want, `attempt ${attempts}`);

  q.add(makePod('p'));
  for (const wait of [1000, 2000, 4000, 8000, 10000, 10000]) {
    const { where } = await failAttempt(q, []); // an error: straight to backoff
    assert.equal(where, 'backoff');
    clock.step(wait - 1);
    assert.equal(q.flushBackoffQCompleted(), 0, `still backing off after ${wait - 1} ms`);
    clock.step(1);
    assert.equal(q.flushBackoffQCompleted(), 1, `done after ${wait} ms`);
    assert.equal(q.lengths().active, 1);
  }
});

test('unschedulable pods wait for an event their rejecting plugin registered, and its hint', async () => {
  const events = {
    NodeResourcesFit: [
      nodeEvent(ActionType.Add | ActionType.UpdateNodeAllocatable, (_pod, _old, n) => (n?.metadata?.labels?.big === 'true' ? 'Queue' : 'QueueSkip')),
      assignedPodEvent(ActionType.Delete),
    ],
    TaintToleration: [nodeEvent(ActionType.Add | ActionType.UpdateNodeTaint)],
  };
  const { q, clock } = newQueue(new FakeClock(), events);
  q.add(makePod('fit'));
  const { where } = await failAttempt(q, ['NodeResourcesFit']);
  assert.equal(where, 'unschedulable');
  clock.step(60_000);
  assert.equal(q.flushBackoffQCompleted(), 0);
  assert.equal(q.flushUnschedulablePodsLeftover(), 0, 'not polled');

  assert.equal(q.moveAllToActiveOrBackoffQueue(nodeChange(Events.NodeLabelChange, makeNode('n'), makeNode('n', { labels: { big: 'true' } }))), 0, 'label events are not registered');
  assert.equal(q.moveAllToActiveOrBackoffQueue(nodeChange(Events.NodeAdd, undefined, makeNode('small'))), 0, 'hint says skip');
  assert.equal(q.where('default/fit'), 'unschedulable');
  assert.equal(q.moveAllToActiveOrBackoffQueue(nodeChange(Events.NodeAdd, undefined, makeNode('n', { labels: { big: 'true' } }))), 1);
  assert.equal(q.where('default/fit'), 'active', 'backoff is over: straight to active');

  // an assigned pod deletion moves it too (no hint = always)
  await failAttempt(q, ['NodeResourcesFit']);
  assert.equal(q.moveAllToActiveOrBackoffQueue(assignedPodChange(Events.AssignedPodDelete, makePod('x', { nodeName: 'n' }), undefined)), 1);
  assert.equal(q.where('default/fit'), 'backoff', 'failed just now: waits out its backoff first');
});

test('a move request during the attempt sends the failed pod to backoff, not unschedulable', async () => {
  const { q } = newQueue(new FakeClock(), { NodeResourcesFit: [nodeEvent(ActionType.Add)] });
  q.add(makePod('p'));
  const p = (await q.pop())!;
  const cycle = q.schedulingCycle;
  q.moveAllToActiveOrBackoffQueue(nodeChange(Events.NodeAdd, undefined, makeNode('new')));
  p.unschedulablePlugins = new Set(['NodeResourcesFit']);
  assert.equal(q.addUnschedulableIfNotPresent(p, cycle), 'backoff');
});

test('updates and deletes while a pod is in flight are applied when it comes back', async () => {
  const { q } = newQueue();
  q.add(makePod('p'));
  const p = (await q.pop())!;
  q.update(makePod('p'), makePod('p', { labels: { changed: 'yes' } }));
  assert.equal(q.lengths().active, 0, 'no duplicate while in flight');
  p.unschedulablePlugins = new Set(['X']);
  assert.equal(q.addUnschedulableIfNotPresent(p, q.schedulingCycle), 'backoff', 'updated in flight: may now fit');
  assert.deepEqual(p.pod.metadata?.labels, { changed: 'yes' });

  q.add(makePod('d'));
  const d = (await q.pop())!;
  assert.equal(d.pod.metadata?.name, 'd');
  q.delete(makePod('d'));
  assert.equal(q.addUnschedulableIfNotPresent(d, q.schedulingCycle), 'dropped');
  assert.equal(q.where('default/d'), undefined);

  // deleted and created again under the same name while in flight: the new pod is queued
  q.add(makePod('r', { uid: 'old' }));
  const r = (await q.pop())!;
  q.delete(makePod('r', { uid: 'old' }));
  q.add(makePod('r', { uid: 'new' }));
  assert.equal(q.lengths().active, 0);
  assert.equal(q.addUnschedulableIfNotPresent(r, q.schedulingCycle), 'dropped');
  assert.equal((await q.pop())?.pod.metadata?.uid, 'new');
  q.done('default/r');
  q.add(makePod('s', { uid: 'old' }));
  const s1 = (await q.pop())!;
  q.delete(makePod('s', { uid: 'old' }));
  q.add(makePod('s', { uid: 'new' }));
  q.done(s1.key); // the old one was bound (or given up)
  assert.equal(q.where('default/s'), 'active');
});

test('events no plugin registered for are not move requests', async () => {
  const { q } = newQueue(new FakeClock(), { NodeResourcesFit: [nodeEvent(ActionType.Add)] });
  q.add(makePod('p'));
  const p = (await q.pop())!;
  const cycle = q.schedulingCycle;
  q.moveAllToActiveOrBackoffQueue(assignedPodChange(Events.AssignedPodUpdate, makePod('x', { nodeName: 'n' }), makePod('x', { nodeName: 'n' })));
  p.unschedulablePlugins = new Set(['NodeResourcesFit']);
  assert.equal(q.addUnschedulableIfNotPresent(p, cycle), 'unschedulable');
});

test('an update that changes the spec of an unschedulable pod retries it; a status-only update does not', async () => {
  const { q, clock } = newQueue();
  q.add(makePod('p'));
  await failAttempt(q, ['X']);
  const cur = makePod('p');
  q.update(cur, { ...cur, metadata: { ...cur.metadata, resourceVersion: '9' }, status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False' }] } });
  assert.equal(q.where('default/p'), 'unschedulable');
  clock.step(5000);
  q.update(cur, makePod('p', { tolerations: [{ operator: 'Exists' }] }));
  assert.equal(q.where('default/p'), 'active');
});

test('pods unschedulable for more than 5 minutes are retried by the periodic flush', async () => {
  const { q, clock } = newQueue();
  q.add(makePod('p'));
  await failAttempt(q, ['X']);
  clock.step(5 * 60_000);
  assert.equal(q.flushUnschedulablePodsLeftover(), 0, 'exactly 5 min is not over');
  clock.step(1);
  assert.equal(q.flushUnschedulablePodsLeftover(), 1);
  assert.equal(q.where('default/p'), 'active');
});

test('a pod rejected by no plugin (an error) retries after backoff on its own', async () => {
  const { q } = newQueue();
  q.add(makePod('p'));
  const { where } = await failAttempt(q, []);
  assert.equal(where, 'backoff');
});
