import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { OwnerReference, Pod, ReplicaSet } from '@tskube/api';
import { Resources } from '@tskube/client';
import { eventually, harness, type Harness } from '../testing.js';
import { GarbageCollector, collectableResources } from './garbage-collector.js';

const RS_DEF = { group: 'apps', plural: 'replicasets' };
const POD_DEF = { group: '', plural: 'pods' };

function rs(name: string, extra: { owner?: { name: string; uid: string; kind?: string; apiVersion?: string }; meta?: Partial<NonNullable<ReplicaSet['metadata']>> } = {}): ReplicaSet {
  return {
    apiVersion: 'apps/v1', kind: 'ReplicaSet',
    metadata: {
      name, namespace: 'default', ...extra.meta,
      ...(extra.owner ? { ownerReferences: [ref(extra.owner)] } : {}),
    },
    spec: { replicas: 0, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'i' }] } } },
  };
}

function ref(o: { name: string; uid: string; kind?: string; apiVersion?: string }, block = true): OwnerReference {
  return { apiVersion: o.apiVersion ?? 'apps/v1', kind: o.kind ?? 'ReplicaSet', name: o.name, uid: o.uid, controller: true, blockOwnerDeletion: block };
}

function pod(name: string, owners: OwnerReference[]): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', ownerReferences: owners }, spec: { containers: [{ name: 'c', image: 'i' }] } };
}

describe('GarbageCollector', () => {
  let h: Harness;
  let gc: GarbageCollector;
  let run: Promise<void> | undefined;
  beforeEach(() => {
    h = harness();
    gc = new GarbageCollector({ client: h.fake, informers: h.informers, logger: h.logger });
    run = undefined;
  });
  afterEach(async () => {
    await h.stop();
    await run;
  });
  async function start(): Promise<void> {
    await h.start();
    run = gc.run(h.signal);
  }
  const pods = async () => (await h.fake.resource(Resources.pods).list({ namespace: 'default' })).items;
  const rsExists = async (name: string) => (await h.fake.resource(Resources.replicaSets).list({ namespace: 'default' })).items.some((r) => r.metadata?.name === name);

  it('watches every listable, deletable resource except events, once per group and resource', () => {
    const got = collectableResources().map((d) => `${d.group}/${d.plural}`);
    for (const want of ['/pods', '/nodes', '/namespaces', 'apps/replicasets', 'coordination.k8s.io/leases']) assert.ok(got.includes(want), want);
    assert.ok(!got.includes('/events') && !got.includes('events.k8s.io/events'), 'events are not collected');
    assert.equal(new Set(got).size, got.length, 'no resource twice (HorizontalPodAutoscalers are served as v2 and v1)');
  });

  it('background: dependents of a vanished owner are deleted, after a live check; others stay', async () => {
    const owner = h.fake.seed(RS_DEF, rs('web'));
    h.fake.seed(POD_DEF, pod('a', [ref({ name: 'web', uid: owner.metadata.uid! })]));
    h.fake.seed(POD_DEF, pod('b', [ref({ name: 'web', uid: owner.metadata.uid! })]));
    h.fake.seed(POD_DEF, pod('stranger', [ref({ name: 'web', uid: 'some-other-uid' })]));
    h.fake.seed(POD_DEF, pod('unknown-kind', [ref({ name: 'x', uid: 'u', kind: 'Widget', apiVersion: 'example.com/v1' })]));
    await start();
    await eventually(async () => assert.deepEqual((await pods()).map((p) => p.metadata?.name).sort(), ['a', 'b', 'unknown-kind']));
    await h.fake.resource(Resources.replicaSets).delete('default', 'web', { propagationPolicy: 'Background' });
    await eventually(async () => assert.deepEqual((await pods()).map((p) => p.metadata?.name), ['unknown-kind']));
    const deletes = h.fake.actions.filter((a) => a.verb === 'delete' && a.resource === 'pods');
    assert.deepEqual(deletes.map((a) => a.name).sort(), ['a', 'b', 'stranger']);
  });

  it('a dependent with another, living owner only loses the dangling reference', async () => {
    const alive = h.fake.seed(RS_DEF, rs('alive'));
    h.fake.seed(POD_DEF, pod('shared', [ref({ name: 'gone', uid: 'gone-uid' }, false), { ...ref({ name: 'alive', uid: alive.metadata.uid! }), controller: false }]));
    await start();
    await eventually(async () => {
      const [p] = await pods();
      assert.deepEqual(p?.metadata?.ownerReferences?.map((r) => r.name), ['alive']);
    });
  });

  it('orphan: dependents lose the owner reference, then the finalizer goes and the owner with it', async () => {
    const owner = h.fake.seed(RS_DEF, rs('web'));
    h.fake.seed(POD_DEF, pod('a', [ref({ name: 'web', uid: owner.metadata.uid! })]));
    const keeper = h.fake.seed(RS_DEF, rs('keeper'));
    h.fake.seed(POD_DEF, pod('b', [ref({ name: 'web', uid: owner.metadata.uid! }), { ...ref({ name: 'keeper', uid: keeper.metadata.uid! }), controller: false }]));
    await start();
    await h.fake.resource(Resources.replicaSets).delete('default', 'web', { propagationPolicy: 'Orphan' });
    await eventually(async () => assert.equal(await rsExists('web'), false));
    const byName = Object.fromEntries((await pods()).map((p) => [p.metadata!.name!, p]));
    assert.equal(byName.a?.metadata?.ownerReferences, undefined);
    assert.deepEqual(byName.b?.metadata?.ownerReferences?.map((r) => r.name), ['keeper'], 'only the orphaning owner is removed');
    await new Promise((r) => setTimeout(r, 30));
    assert.equal((await pods()).length, 2, 'orphans are not collected');
  });

  it('foreground: dependents (transitively) go first, then the owner', async () => {
    const top = h.fake.seed(RS_DEF, rs('top'));
    const mid = h.fake.seed(RS_DEF, rs('mid', { owner: { name: 'top', uid: top.metadata.uid! } }));
    h.fake.seed(POD_DEF, pod('leaf', [ref({ name: 'mid', uid: mid.metadata.uid! })]));
    await start();
    const seen: { what: string; type: string; rv: number; finalizers?: readonly string[] }[] = [];
    const watches = await Promise.all([h.fake.resource(Resources.replicaSets).watch({ resourceVersion: h.fake.resourceVersion }),
      h.fake.resource(Resources.pods).watch({ resourceVersion: h.fake.resourceVersion })]);
    const reading = watches.map(async (w) => {
      for await (const ev of w) seen.push({ what: ev.object.metadata!.name!, type: ev.type, rv: Number(ev.object.metadata!.resourceVersion), finalizers: ev.object.metadata?.finalizers });
    });
    await h.fake.resource(Resources.replicaSets).delete('default', 'top', { propagationPolicy: 'Foreground' });
    await eventually(async () => assert.equal(await rsExists('top'), false));
    assert.equal(await rsExists('mid'), false);
    assert.deepEqual(await pods(), []);
    for (const w of watches) w.close();
    await Promise.all(reading);
    const deleted = (name: string) => seen.find((e) => e.what === name && e.type === 'DELETED')!.rv;
    assert.ok(deleted('leaf') < deleted('mid') && deleted('mid') < deleted('top'), JSON.stringify(seen));
    assert.ok(seen.some((e) => e.what === 'mid' && e.finalizers?.includes('foregroundDeletion')), 'mid had dependents, so it was deleted in the foreground too');
  });

  it('foreground waits for blocking dependents only', async () => {
    const owner = h.fake.seed(RS_DEF, rs('web', { meta: { finalizers: ['foregroundDeletion', 'example.com/hold'], deletionTimestamp: '2025-01-01T00:00:00Z' } }));
    // A dependent that cannot go away yet (its own finalizer) blocks the owner...
    h.fake.seed(POD_DEF, { ...pod('stuck', [ref({ name: 'web', uid: owner.metadata.uid! })]), metadata: { ...pod('stuck', [ref({ name: 'web', uid: owner.metadata.uid! })]).metadata, finalizers: ['example.com/keep'] } });
    await start();
    await eventually(async () => {
      const p = (await pods())[0];
      assert.ok(p?.metadata?.deletionTimestamp, 'the dependent is being deleted');
    });
    await new Promise((r) => setTimeout(r, 50));
    let cur = await h.fake.resource(Resources.replicaSets).get('default', 'web');
    assert.deepEqual(cur.metadata?.finalizers, ['foregroundDeletion', 'example.com/hold'], 'still blocked');
    // ...until it is released.
    const p = (await pods())[0]!;
    await h.fake.resource(Resources.pods).update({ ...p, metadata: { ...p.metadata, finalizers: undefined } });
    await eventually(async () => {
      cur = await h.fake.resource(Resources.replicaSets).get('default', 'web');
      assert.deepEqual(cur.metadata?.finalizers, ['example.com/hold']);
    });
  });

  it('after a restart, state comes back from the informers: pending orphaning and dangling dependents are handled', async () => {
    const owner = h.fake.seed(RS_DEF, rs('web', { meta: { finalizers: ['orphan'], deletionTimestamp: '2025-01-01T00:00:00Z' } }));
    h.fake.seed(POD_DEF, pod('kept', [ref({ name: 'web', uid: owner.metadata.uid! })]));
    h.fake.seed(POD_DEF, pod('dangling', [ref({ name: 'gone', uid: 'gone-uid' })]));
    await start();
    await eventually(async () => {
      assert.equal(await rsExists('web'), false);
      assert.deepEqual((await pods()).map((p) => [p.metadata?.name, p.metadata?.ownerReferences]), [['kept', undefined]]);
    });
  });
});
