import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { Pod } from '@tskube/api';
import { FakeClient, Resources, type DeepReadonly } from '@tskube/client';
import { nullLogger } from '@tskube/log';
import { PodDispatcher } from './pod-dispatcher.js';

type Seen = Array<[string, string]>;

function pod(name: string, nodeName?: string): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { nodeName, containers: [{ name: 'c', image: 'x' }] } };
}

async function until(what: string, f: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!f()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const stops: AbortController[] = [];
afterEach(() => { for (const s of stops.splice(0)) s.abort(); });

function recorder(seen: Seen) {
  const name = (p: DeepReadonly<Pod>) => p.metadata?.name ?? '';
  return {
    onAdd: (p: DeepReadonly<Pod>) => seen.push(['add', name(p)]),
    onUpdate: (_o: DeepReadonly<Pod>, p: DeepReadonly<Pod>) => seen.push(['update', name(p)]),
    onDelete: (p: DeepReadonly<Pod>) => seen.push(['delete', name(p)]),
  };
}

describe('PodDispatcher: one pod watch for many nodes', () => {
  it('hands each node only its own pods, replays known pods, and scopes lookups by node', async () => {
    const client = new FakeClient();
    const pods = client.resource(Resources.pods);
    await pods.create('default', pod('early-a', 'node-a'));
    await pods.create('default', pod('early-b', 'node-b'));
    await pods.create('default', pod('pending'));
    const d = new PodDispatcher({ client, logger: nullLogger() });
    const ac = new AbortController();
    stops.push(ac);
    d.start(ac.signal);
    const a = d.forNode('node-a');
    assert.equal(await a.waitForSync(ac.signal), true);
    assert.equal(d.informer.lister.size, 2, 'only bound pods are cached (spec.nodeName!=)');

    const seenA: Seen = [];
    const seenB: Seen = [];
    a.addEventHandler(recorder(seenA));
    d.forNode('node-b').addEventHandler(recorder(seenB));
    assert.deepEqual(seenA, [['add', 'early-a']], 'replayed on registration');
    assert.equal(d.nodes, 2);

    // a pending pod that gets bound arrives as an add for its node
    const pending = await pods.get('default', 'pending');
    await pods.update({ ...pending, spec: { ...pending.spec!, nodeName: 'node-a' } });
    await pods.create('default', pod('other', 'node-c'));
    await until('bind seen', () => seenA.length === 2);
    const early = await pods.get('default', 'early-a');
    await pods.update({ ...early, metadata: { ...early.metadata, labels: { x: '1' } } });
    await pods.delete('default', 'early-a', { gracePeriodSeconds: 0 });
    await until('delete seen', () => seenA.length === 4);
    assert.deepEqual(seenA, [['add', 'early-a'], ['add', 'pending'], ['update', 'early-a'], ['delete', 'early-a']]);
    assert.deepEqual(seenB, [['add', 'early-b']], 'node-b saw nothing of node-a or node-c');

    const bound = await pods.get('default', 'pending');
    assert.equal(a.getByName('default', 'pending')?.metadata?.uid, bound.metadata?.uid);
    assert.equal(a.getByName('default', 'early-b'), undefined, 'another node\'s pod is not visible');
    assert.equal(a.hasUid(bound.metadata?.uid ?? ''), true);
    assert.equal(d.forNode('node-b').hasUid(bound.metadata?.uid ?? ''), false);
  });

  it('stops dispatching to a node whose handlers were removed', async () => {
    const client = new FakeClient();
    const d = new PodDispatcher({ client, logger: nullLogger() });
    const ac = new AbortController();
    stops.push(ac);
    d.start(ac.signal);
    const seen: Seen = [];
    const off = d.forNode('n').addEventHandler(recorder(seen));
    await d.forNode('n').waitForSync(ac.signal);
    await client.resource(Resources.pods).create('default', pod('one', 'n'));
    await until('add', () => seen.length === 1);
    off();
    assert.equal(d.nodes, 0);
    await client.resource(Resources.pods).create('default', pod('two', 'n'));
    await until('cached', () => d.informer.lister.size === 2);
    assert.deepEqual(seen, [['add', 'one']]);
  });
});
