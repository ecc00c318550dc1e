import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { Pod } from '@tskube/api';
import { FakeClient } from './fake.js';
import { serveFake, type FakeServer } from './fake-server.js';
import { Informer, InformerFactory } from './informer.js';
import { createClient, type RestClient } from './rest.js';
import { captureLogger, type LogLine } from './test-logger.js';
import { Resources } from './types.js';

async function until(what: string, cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const pod = (ns: string, name: string, node = ''): Pod => ({
  metadata: { namespace: ns, name, labels: { app: 'web' } },
  spec: { nodeName: node || undefined, containers: [{ name: 'c', image: 'i' }] },
});

type Ev = [string, string, ...unknown[]];

describe('Informer (over HTTP against a fake apiserver)', () => {
  let srv: FakeServer;
  let client: RestClient;
  let ac: AbortController;
  let inf: Informer<Pod>;
  let events: Ev[];
  let logs: LogLine[];
  let running: Promise<void>;

  const lists = () => srv.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/pods') && r.query.get('watch') !== 'true');
  const watches = () => srv.requests.filter((r) => r.query.get('watch') === 'true');

  beforeEach(async () => {
    srv = await serveFake(new FakeClient());
    client = createClient({ server: srv.url, component: 'informer-test' });
    const pods = srv.fake.resource(Resources.pods);
    await pods.create('default', pod('default', 'a', 'n1'));
    await pods.create('default', pod('default', 'b', 'n2'));
    await pods.create('other', pod('other', 'c', 'n1'));
    const log = captureLogger();
    logs = log.lines;
    events = [];
    inf = new Informer<Pod>({
      client, resource: Resources.pods, logger: log, freeze: true, pageSize: 2,
      backoff: { initialMs: 10, maxMs: 80 },
      indexers: { byNode: (p) => (p.spec?.nodeName ? [p.spec.nodeName] : []) },
    });
    inf.addEventHandler({
      onAdd: (p, initial) => events.push(['add', p.metadata!.name!, initial]),
      onUpdate: (o, n) => events.push(['update', n.metadata!.name!, o.metadata?.resourceVersion, n.metadata?.resourceVersion]),
      onDelete: (p, info) => events.push(['delete', p.metadata!.name!, info.finalStateUnknown, p.metadata?.labels?.app]),
    });
    ac = new AbortController();
    running = inf.run(ac.signal);
    assert.equal(await inf.waitForSync(AbortSignal.timeout(3000)), true);
  });

  afterEach(async () => {
    ac.abort();
    await running;
    client.close();
    await srv.close();
  });

  it('lists (paged), syncs, fills the indexed cache, then watches from the list resourceVersion', async () => {
    assert.equal(inf.hasSynced(), true);
    assert.deepEqual(events.sort(), [['add', 'a', true], ['add', 'b', true], ['add', 'c', true]]);
    assert.equal(lists().length, 2, 'two pages of 2');
    assert.equal(lists()[0]!.query.get('limit'), '2');
    assert.ok(lists()[1]!.query.get('continue'));
    await until('watch started', () => watches().length === 1);
    const w = watches()[0]!;
    assert.equal(w.query.get('resourceVersion'), inf.lastSyncResourceVersion);
    assert.equal(w.query.get('allowWatchBookmarks'), 'true');
    const t = Number(w.query.get('timeoutSeconds'));
    assert.ok(t >= 300 && t < 600, `timeoutSeconds ${t}`);

    const l = inf.lister;
    assert.equal(l.size, 3);
    assert.equal(l.get('default/a')?.spec?.nodeName, 'n1');
    assert.equal(l.getByName('other', 'c')?.metadata?.name, 'c');
    assert.equal(l.get('a'), undefined);
    assert.deepEqual(l.byIndex('byNode', 'n1').map((p) => p.metadata?.name).sort(), ['a', 'c']);
    assert.deepEqual(l.listNamespace('default').map((p) => p.metadata?.name).sort(), ['a', 'b']);
    assert.throws(() => l.byIndex('nope', 'x'), /index "nope" does not exist/);
    assert.equal(l.get('default/a')?.kind, 'Pod', 'list items get kind/apiVersion');
    const cached = l.get('default/a')!;
    assert.throws(() => { (cached.metadata as { name: string }).name = 'x'; }, TypeError, 'frozen');
  });

  it('delivers watch events after updating the cache; re-indexes on change', async () => {
    await until('watch started', () => srv.openWatches === 1);
    events = [];
    let seenInHandler: string | undefined;
    inf.addEventHandler({ onUpdate: (_o, n) => { seenInHandler = inf.lister.get('default/a')?.spec?.nodeName; assert.equal(n.spec?.nodeName, 'n3'); } });
    const pods = srv.fake.resource(Resources.pods);
    await pods.create('default', pod('default', 'd'));
    const a = await pods.get('default', 'a');
    await pods.update({ ...a, spec: { ...a.spec!, nodeName: 'n3' } });
    await pods.delete('default', 'b', { gracePeriodSeconds: 0 });
    await until('3 events', () => events.length >= 3);
    assert.deepEqual(events.map((e) => e.slice(0, 2)), [['add', 'd'], ['update', 'a'], ['delete', 'b']]);
    assert.equal(seenInHandler, 'n3');
    assert.deepEqual(inf.lister.byIndex('byNode', 'n3').map((p) => p.metadata?.name), ['a']);
    assert.deepEqual(inf.lister.byIndex('byNode', 'n1').map((p) => p.metadata?.name), ['c']);
    assert.equal(inf.lister.get('default/b'), undefined);
    assert.deepEqual(events.find((e) => e[0] === 'delete'), ['delete', 'b', false, 'web']);
  });

  it('resumes from the last seen resourceVersion after a disconnect, without relisting', async () => {
    await until('watch started', () => srv.openWatches === 1);
    const pods = srv.fake.resource(Resources.pods);
    await pods.create('default', pod('default', 'e'));
    await until('add e', () => inf.lister.get('default/e') !== undefined);
    const rvBefore = inf.lastSyncResourceVersion;
    srv.intercept = (r) => (r.query.get('watch') === 'true' ? { status: 500, body: 'down' } : undefined);
    srv.dropWatches();
    await pods.create('default', pod('default', 'missed-while-down'));
    await until('a failed reconnect or two', () => watches().length >= 3);
    srv.intercept = undefined;
    await until('caught up', () => inf.lister.get('default/missed-while-down') !== undefined);
    const resumed = watches().filter((w) => w.query.get('resourceVersion') === rvBefore);
    assert.ok(resumed.length >= 2, 'every reconnect resumes from the last seen version');
    assert.equal(lists().length, 2, 'no relist');
    assert.ok(logs.some((l) => l.msg === 'watch failed' && l.level === 'warn'));
  });

  it('re-watches at once after a clean close, from a bookmark’s resourceVersion', async () => {
    await until('watch started', () => srv.openWatches === 1);
    await srv.fake.resource(Resources.nodes).create({ metadata: { name: 'unrelated' } }); // bumps the global RV
    srv.fake.bookmark();
    const bookmarkRv = srv.fake.resourceVersion;
    await until('bookmark seen', () => inf.lastSyncResourceVersion === bookmarkRv);
    srv.fake.closeWatches();
    await until('re-watch', () => watches().length === 2);
    assert.equal(watches()[1]!.query.get('resourceVersion'), bookmarkRv);
    assert.equal(lists().length, 2);
  });

  it('relists after an ERROR 410 event and diffs the result', async () => {
    await until('watch started', () => srv.openWatches === 1);
    srv.fake.expireWatches();
    await until('relist', () => lists().length === 4);
    await until('watch again', () => watches().length === 2);
    assert.equal(watches()[1]!.query.get('resourceVersion'), inf.lastSyncResourceVersion);
    assert.deepEqual(events.filter((e) => e[0] !== 'add' || e[2] !== true), [], 'nothing changed, so no events');
    assert.ok(logs.some((l) => l.msg === 'watch expired, relisting'));
  });

  it('relist after an HTTP 410 delivers missed deletes as final-state-unknown with the last known object', async () => {
    await until('watch started', () => srv.openWatches === 1);
    const a = inf.lister.get('default/a')!;
    srv.intercept = (r) => (r.query.get('watch') === 'true' ? { status: 503, body: '' } : undefined);
    srv.dropWatches();
    // While the informer is cut off: a is deleted, b changes, f appears, and history is compacted.
    const pods = srv.fake.resource(Resources.pods);
    await pods.delete('default', 'a', { gracePeriodSeconds: 0 });
    await pods.patch('default', 'b', { metadata: { labels: { changed: 'yes' } } }, 'merge');
    await pods.create('default', pod('default', 'f'));
    srv.fake.compact();
    srv.intercept = undefined;
    await until('relisted', () => inf.lister.get('default/f') !== undefined && inf.lister.get('default/a') === undefined);
    assert.equal(lists().length, 4);
    const after = events.filter((e) => !(e[0] === 'add' && e[2] === true));
    assert.deepEqual(after.map((e) => e.slice(0, 3)).sort(), [['add', 'f', false], ['delete', 'a', true], ['update', 'b', events.find((e) => e[0] === 'update')![2]]].sort());
    const del = events.find((e) => e[0] === 'delete')!;
    assert.equal(del[3], a.metadata?.labels?.app, 'last known state');
    assert.equal(inf.lister.get('default/b')?.metadata?.labels?.changed, 'yes');
  });

  it('backs off between failing watch attempts', async () => {
    await until('watch started', () => srv.openWatches === 1);
    srv.intercept = (r) => (r.query.get('watch') === 'true' ? { status: 500, body: 'x' } : undefined);
    const start = watches().length;
    srv.dropWatches();
    await until('several attempts', () => watches().length >= start + 5, 5000);
    srv.intercept = undefined;
    const times = srv.requests.filter((r) => r.query.get('watch') === 'true').slice(start);
    assert.ok(times.length >= 5);
    const warns = logs.filter((l) => l.msg === 'watch failed').map((l) => l.fields.retryInMs as number);
    assert.ok(warns.length >= 4);
    assert.ok(warns[3]! > warns[0]!, `delays grow: ${warns.join(',')}`);
    assert.ok(warns.every((w) => w <= 80), 'capped');
  });

  it('late handlers get the cache replayed; handler exceptions are logged and do not stop the informer', async () => {
    const replay: string[] = [];
    inf.addEventHandler({ onAdd: (p, initial) => { assert.equal(initial, true); replay.push(p.metadata!.name!); } });
    assert.deepEqual(replay.sort(), ['a', 'b', 'c']);
    const off = inf.addEventHandler({ onAdd: () => { throw new Error('handler bug'); } });
    await until('watch started', () => srv.openWatches === 1);
    await srv.fake.resource(Resources.pods).create('default', pod('default', 'g'));
    await until('g cached', () => inf.lister.get('default/g') !== undefined);
    assert.ok(logs.some((l) => l.msg === 'event handler failed' && l.level === 'error'));
    off();
    assert.ok(events.some((e) => e[0] === 'add' && e[1] === 'g'));
  });
});

describe('InformerFactory', () => {
  it('shares one informer per resource and selection, merging indexers', async () => {
    const fake = new FakeClient();
    await fake.resource(Resources.nodes).create({ metadata: { name: 'n1', labels: { zone: 'a' } } });
    const f = new InformerFactory({ client: fake, logger: captureLogger(), freeze: true });
    const a = f.informer(Resources.nodes, { indexers: { zone: (n) => [n.metadata?.labels?.zone ?? ''] } });
    const b = f.informer(Resources.nodes);
    const other = f.informer(Resources.nodes, { labelSelector: 'zone=b' });
    assert.equal(a, b);
    assert.notEqual(a, other);
    const ac = new AbortController();
    f.start(ac.signal);
    assert.equal(await f.waitForSync(AbortSignal.timeout(2000)), true);
    assert.deepEqual(a.lister.byIndex('zone', 'a').map((n) => n.metadata?.name), ['n1']);
    assert.equal(other.lister.size, 0);
    ac.abort();
    await f.stopped();
  });

  it('waitForSync resolves false when aborted before syncing', async () => {
    const fake = new FakeClient();
    fake.addReactor((a) => { if (a.verb === 'list') throw new Error('apiserver down'); });
    const inf = new Informer({ client: fake, resource: Resources.pods, logger: captureLogger(), backoff: { initialMs: 5, maxMs: 10 } });
    const ac = new AbortController();
    const run = inf.run(ac.signal);
    setTimeout(() => ac.abort(), 30);
    assert.equal(await inf.waitForSync(ac.signal), false);
    assert.equal(inf.hasSynced(), false);
    await run;
  });
});

