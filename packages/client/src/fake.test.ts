import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isApiError, RESOURCES, type Pod } from '@tskube/api';
import { clientConformance } from './conformance.js';
import { FakeClient } from './fake.js';
import { serveFake, type FakeServer } from './fake-server.js';
import { createClient } from './rest.js';
import { Resources } from './types.js';
import type { WatchObjectEvent, WatchStream } from './watch.js';

clientConformance('fake', () => new FakeClient());

// The same suite through the REST client and the wire protocol, against the fake served over HTTP.
let served: FakeServer | undefined;
clientConformance('rest client over HTTP (fake server)', async () => {
  served = await serveFake(new FakeClient());
  return createClient({ server: served.url, component: 'conformance' });
});
after(async () => { await served?.close(); });

async function take<T>(w: WatchStream<T>, n: number): Promise<WatchObjectEvent<T>[]> {
  const out: WatchObjectEvent<T>[] = [];
  const t = setTimeout(() => w.close(), 2000);
  try {
    for await (const ev of w) { out.push(ev); if (out.length >= n) break; }
  } finally {
    clearTimeout(t);
  }
  return out;
}

const pod = (name: string, extra: Partial<Pod> = {}): Pod => ({
  metadata: { name, labels: { app: 'x' } }, spec: { containers: [{ name: 'c', image: 'i' }] }, ...extra,
});

describe('fake specifics', () => {
  let fake: FakeClient;
  before(() => { fake = new FakeClient({ historyLimit: 5 }); });

  it('watch from a resourceVersion older than the kept history is 410 Expired', async () => {
    const pods = fake.resource(Resources.pods);
    const first = await pods.create('default', pod('h0'));
    for (let i = 1; i <= 6; i++) await pods.create('default', pod(`h${i}`));
    await assert.rejects(pods.watch({ resourceVersion: first.metadata!.resourceVersion }),
      (e: unknown) => isApiError(e, 'Expired') && e.code === 410);
    fake.compact();
    await assert.rejects(pods.watch({ resourceVersion: fake.resourceVersion === '0' ? '0' : String(Number(fake.resourceVersion) - 1) }),
      (e: unknown) => isApiError(e, 'Expired'));
    const w = await pods.watch({ resourceVersion: fake.resourceVersion });
    w.close();
  });

  it('bookmarks, closeWatches and expireWatches', async () => {
    const pods = fake.resource(Resources.pods);
    const w1 = await pods.watch({ resourceVersion: fake.resourceVersion, allowWatchBookmarks: true });
    fake.bookmark();
    const [bm] = await take(w1, 1);
    assert.equal(bm!.type, 'BOOKMARK');
    assert.equal(bm!.object.metadata?.resourceVersion, fake.resourceVersion);
    fake.closeWatches();
    assert.deepEqual(await take(w1, 1), []);
    const w2 = await pods.watch({ resourceVersion: fake.resourceVersion });
    fake.expireWatches();
    await assert.rejects(take(w2, 1), (e: unknown) => isApiError(e) && e.code === 410);
  });

  it('a bound pod is deleted gracefully; grace 0 removes it', async () => {
    const pods = fake.resource(Resources.pods);
    await pods.create('default', pod('graceful', { spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'i' }] } }));
    await pods.delete('default', 'graceful');
    const p = await pods.get('default', 'graceful');
    assert.ok(p.metadata?.deletionTimestamp);
    assert.equal(p.metadata?.deletionGracePeriodSeconds, 30);
    await pods.delete('default', 'graceful', { gracePeriodSeconds: 0 });
    await assert.rejects(pods.get('default', 'graceful'), (e: unknown) => isApiError(e, 'NotFound'));
  });

  it('finalizers hold a deleted object until the last one is removed', async () => {
    const rss = fake.resource(Resources.replicaSets);
    const rs = await rss.create('default', { metadata: { name: 'fin', finalizers: ['x/y'] }, spec: { selector: {}, replicas: 1 } });
    await rss.delete('default', 'fin');
    const deleting = await rss.get('default', 'fin');
    assert.ok(deleting.metadata?.deletionTimestamp);
    await rss.patch('default', 'fin', { metadata: { finalizers: null } }, 'merge');
    await assert.rejects(rss.get('default', 'fin'), (e: unknown) => isApiError(e, 'NotFound'));
    assert.ok(rs.metadata?.uid);
  });

  it('generation starts at 1 and grows with spec changes only', async () => {
    const rss = fake.resource(Resources.replicaSets);
    const rs = await rss.create('default', { metadata: { name: 'gen' }, spec: { selector: {}, replicas: 1 } });
    assert.equal(rs.metadata?.generation, 1);
    const a = await rss.patch('default', 'gen', { metadata: { labels: { a: 'b' } } }, 'merge');
    assert.equal(a.metadata?.generation, 1);
    const b = await rss.patch('default', 'gen', { spec: { replicas: 3 } }, 'merge');
    assert.equal(b.metadata?.generation, 2);
    const same = await rss.update(b);
    assert.equal(same.metadata?.resourceVersion, b.metadata?.resourceVersion, 'a no-op update does not write');
  });

  it('apply needs a fieldManager and creates when absent', async () => {
    const pods = fake.resource(Resources.pods);
    await assert.rejects(pods.patch('default', 'applied', pod('applied'), 'apply'), (e: unknown) => isApiError(e, 'Invalid'));
    const p = await pods.patch('default', 'applied', pod('applied'), 'apply', { fieldManager: 'test' });
    assert.ok(p.metadata?.uid);
  });

  it('unknown field selectors are rejected like upstream', async () => {
    await assert.rejects(fake.resource(Resources.pods).list({ fieldSelector: 'spec.foo=bar' }),
      (e: unknown) => isApiError(e, 'BadRequest') && e.message === 'field label not supported: spec.foo');
  });

  it('records actions and runs reactors', async () => {
    const f = new FakeClient();
    f.addReactor((a) => { if (a.verb === 'create' && a.resource === 'events') throw new Error('injected'); });
    await assert.rejects(f.resource(Resources.events).create('default', { metadata: { name: 'e' }, involvedObject: {} }), /injected/);
    await f.resource(Resources.nodes).create({ metadata: { name: 'n' } });
    assert.deepEqual(f.actions.map((a) => `${a.verb} ${a.resource}`), ['create events', 'create nodes']);
  });

  it('dynamic access from a ResourceDef; scope errors before any request', async () => {
    const nodesDef = RESOURCES.find((r) => r.plural === 'nodes')!;
    const dyn = fake.dynamic(nodesDef);
    await dyn.create('', { metadata: { name: 'dyn' } });
    assert.equal((await dyn.get('', 'dyn')).metadata?.name, 'dyn');
    await assert.rejects(dyn.get('default', 'dyn'), /cluster-scoped/);
    await assert.rejects(fake.resource(Resources.pods).get('', 'x'), /namespaced/);
  });

  it('pod logs via getStream and raw requests', async () => {
    const pods = fake.resource(Resources.pods);
    await pods.create('default', pod('logger'));
    fake.setPodLog('default', 'logger', 'line 1\nline 2\n');
    const s = await fake.getStream('/api/v1/namespaces/default/pods/logger/log');
    let text = '';
    for await (const c of s) text += String(c);
    assert.equal(text, 'line 1\nline 2\n');
    const got = await fake.raw<Pod>('GET', '/api/v1/namespaces/default/pods/logger');
    assert.equal(got.metadata?.name, 'logger');
  });
});
