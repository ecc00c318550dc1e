// The watch cache on a real etcd: the storage conformance suite through it, and the
// apiserver's watch and list semantics with it (one etcd watch per resource, the resume
// window and 410, resourceVersion=0 lists without etcd reads, NotOlderThan, bookmarks,
// kubectl get -w).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { spawn } from 'node:child_process';
import { CachedStorage, EtcdStorage } from '@tskube/storage';
import { storageConformance } from '@tskube/storage/conformance';
import { nullLogger } from '@tskube/log';
import { startEtcd, type EtcdProcess } from '../support/etcd.js';
import { startApiServer, type TestApiServer } from '../support/apiserver.js';
import { credsFromKubeconfig, request, watchEvents, type Creds } from '../support/http.js';
import { eventually, kubectlBinary } from '../support/kubectl.js';

storageConformance('etcd through the watch cache', async () => {
  const etcd = await startEtcd();
  const raw = new EtcdStorage({ endpoints: [etcd.endpoint], logger: nullLogger() });
  const storage = new CachedStorage(raw, { logger: nullLogger() });
  return { storage, compact: (rev) => storage.compact(rev), cleanup: async () => { await storage.close(); await etcd.stop(); } };
});

/** A gauge or counter from etcd's own /metrics. */
async function etcdMetric(etcd: EtcdProcess, name: string): Promise<number> {
  const text = await (await fetch(`${etcd.endpoint}/metrics`)).text();
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  if (!m) throw new Error(`etcd metric ${name} not found`);
  return Number(m[1]);
}

interface WatchEvent { type: string; object: { kind?: string; apiVersion?: string; code?: number; reason?: string; metadata?: { name?: string; resourceVersion?: string } } }
interface OpenWatch { events: WatchEvent[]; close(): void; waitFor(n: number, ms?: number): Promise<WatchEvent[]> }

/** A watch that stays open; resolves once the response headers arrived (the watch is registered). */
function openWatch(c: Creds, path: string): Promise<OpenWatch> {
  const u = new URL(path, c.server);
  return new Promise((resolve, reject) => {
    const events: WatchEvent[] = [];
    let buf = '';
    const req = https.request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method: 'GET', ca: c.ca, cert: c.cert, key: c.key }, (res) => {
      if (res.statusCode !== 200) { reject(new Error(`watch ${path}: ${res.statusCode}`)); req.destroy(); return; }
      res.on('data', (chunk: Buffer) => {
        buf += chunk.toString();
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i); buf = buf.slice(i + 1);
          if (line.trim()) events.push(JSON.parse(line) as WatchEvent);
        }
      });
      resolve({
        events,
        close: () => req.destroy(),
        waitFor: (n, ms = 5000) => eventually(`${n} events on ${path}`, async () => events.length >= n && events, ms, 20),
      });
    });
    req.on('error', (e) => { if ((e as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(e); });
    req.end();
  });
}

const podBody = (name: string, labels: Record<string, string> = { app: 'web' }) => JSON.stringify({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, labels },
  spec: { containers: [{ name: 'c', image: 'busybox:1' }] },
});
const PODS = '/api/v1/namespaces/default/pods';
const rvOf = (o: { metadata?: { resourceVersion?: string } }) => Number(o.metadata?.resourceVersion);

describe('apiserver with the watch cache', () => {
  let etcd: EtcdProcess;
  let api: TestApiServer;
  let c: Creds;
  before(async () => {
    etcd = await startEtcd();
    api = await startApiServer({ etcd, watchCache: { bookmarkIntervalMs: 300, freshnessTimeoutMs: 1000, history: { min: 50, max: 50 } } });
    c = credsFromKubeconfig(api.kubeconfig);
  });
  after(async () => { await api?.stop(); await etcd?.stop(); });

  test('N watchers cost one etcd watch; without the cache they cost N', async (t) => {
    const N = 25;
    const count = async (server: TestApiServer, creds: Creds) => {
      // Warm up: a pod create starts the caches its admission reads (e.g. priorityclasses
      // for the Priority plugin), which are one etcd watch each and not what is counted here.
      assert.equal((await request(creds, 'POST', PODS, { body: podBody(`warm-${server.port}`) })).status, 201);
      await request(creds, 'DELETE', `${PODS}/warm-${server.port}`);
      const before = await etcdMetric(etcd, 'etcd_debugging_mvcc_watcher_total');
      const ws = await Promise.all(Array.from({ length: N }, (_, i) =>
        openWatch(creds, i % 5 === 0 ? '/api/v1/pods?watch=true' : `${PODS}?watch=true&labelSelector=app%3Dweb`)));
      // The watches deliver: every one sees a new pod.
      const name = `fan-${server.port}`;
      assert.equal((await request(creds, 'POST', PODS, { body: podBody(name) })).status, 201);
      for (const w of ws) await eventually('the pod on every watch', async () => w.events.some((e) => e.object.metadata?.name === name), 10_000, 20);
      const during = await etcdMetric(etcd, 'etcd_debugging_mvcc_watcher_total');
      for (const w of ws) w.close();
      await request(creds, 'DELETE', `${PODS}/${name}`);
      return during - before;
    };
    const cached = await count(api, c);
    const plain = await startApiServer({ etcd, watchCache: false });
    let uncached: number;
    try {
      uncached = await count(plain, credsFromKubeconfig(plain.kubeconfig));
    } finally {
      await plain.stop();
    }
    t.diagnostic(`etcd watchers for ${N} pod watches: ${uncached} without the watch cache, ${cached} with it`);
    assert.equal(cached, 1, 'one etcd watch for the pods cache');
    assert.equal(uncached, N);
  });

  test('resourceVersion=0 lists are answered from the cache without etcd range reads', async () => {
    assert.equal((await request(c, 'GET', `${PODS}?resourceVersion=0`)).status, 200);
    await eventually('pods cache ready', async () => (api.storage as CachedStorage).info().some((i) => i.prefix === '/registry/pods/' && i.ready), 10_000, 20);
    await request(c, 'POST', PODS, { body: podBody('rv0') });
    const before = await etcdMetric(etcd, 'etcd_debugging_mvcc_range_total');
    for (let i = 0; i < 20; i++) {
      const r = await request(c, 'GET', `/api/v1/pods?resourceVersion=0&labelSelector=app%3Dweb`);
      assert.equal(r.status, 200);
      const names = r.json<{ items: { metadata: { name: string } }[] }>().items.map((p) => p.metadata.name);
      if (names.includes('rv0')) continue;
      // RV=0 allows a slightly stale answer; the pod shows up within moments.
      await new Promise((res) => setTimeout(res, 20));
    }
    const afterCached = await etcdMetric(etcd, 'etcd_debugging_mvcc_range_total');
    assert.equal(afterCached - before, 0, 'no etcd reads for RV=0 lists');
    assert.equal((await request(c, 'GET', '/api/v1/pods')).status, 200);
    assert.ok(await etcdMetric(etcd, 'etcd_debugging_mvcc_range_total') > afterCached, 'a quorum list reads etcd');
    const table = await request(c, 'GET', `${PODS}?resourceVersion=0`, { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' });
    assert.equal(table.status, 200);
    assert.equal(table.json().kind, 'Table');
  });

  test('resume from a revision in the window; outside it a 410 ERROR event', async () => {
    const first = (await request(c, 'POST', PODS, { body: podBody('churn') })).json<{ metadata: { resourceVersion: string } }>();
    const w = await openWatch(c, `${PODS}?watch=true&resourceVersion=${first.metadata.resourceVersion}&fieldSelector=metadata.name%3Dchurn`);
    for (let i = 0; i < 60; i++) {
      const r = await request(c, 'PATCH', `${PODS}/churn`, { body: JSON.stringify({ metadata: { labels: { n: String(i) } } }), contentType: 'application/merge-patch+json' });
      assert.equal(r.status, 200);
    }
    const evs = await w.waitFor(60);
    w.close();
    assert.ok(evs.every((e) => e.type === 'MODIFIED'));
    const mid = evs[30]!;
    const resumed = await watchEvents(c, `${PODS}?watch=true&resourceVersion=${rvOf(mid.object)}&fieldSelector=metadata.name%3Dchurn`, 29);
    assert.deepEqual(resumed.map((e) => rvOf(e.object as WatchEvent['object'])), evs.slice(31, 60).map((e) => rvOf(e.object)), 'resume from the middle of the window replays the rest');
    // 60 changes with a window of 50: the first revision is gone.
    const old = await watchEvents(c, `${PODS}?watch=true&resourceVersion=${first.metadata.resourceVersion}`, 1);
    assert.equal(old[0]?.type, 'ERROR');
    assert.equal(old[0]!.object.code, 410);
    assert.equal(old[0]!.object.reason, 'Expired');
    await request(c, 'DELETE', `${PODS}/churn`);
  });

  test('NotOlderThan lists wait for the cache; a revision it does not reach is 504 Timeout', async () => {
    const p = (await request(c, 'POST', PODS, { body: podBody('fresh') })).json<{ metadata: { resourceVersion: string } }>();
    const l = await request(c, 'GET', `${PODS}?resourceVersion=${p.metadata.resourceVersion}&resourceVersionMatch=NotOlderThan`);
    assert.equal(l.status, 200);
    const list = l.json<{ metadata: { resourceVersion: string }; items: { metadata: { name: string } }[] }>();
    assert.ok(list.items.some((i) => i.metadata.name === 'fresh'), 'the new pod is in the list');
    assert.ok(Number(list.metadata.resourceVersion) >= Number(p.metadata.resourceVersion));
    // A revision written to another resource: the pods cache cannot confirm it saw it.
    const created = await request(c, 'POST', '/api/v1/namespaces', { body: JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'other' } }) });
    assert.equal(created.status, 201, created.body);
    const cm = created.json<{ metadata: { resourceVersion: string } }>();
    const t0 = Date.now();
    const r = await request(c, 'GET', `${PODS}?resourceVersion=${cm.metadata.resourceVersion}`);
    assert.equal(r.status, 504);
    assert.ok(Date.now() - t0 >= 900, 'it waited for the cache first');
    const st = r.json<{ reason: string; message: string; details: { retryAfterSeconds: number; causes: { reason: string; message: string }[] } }>();
    assert.equal(st.reason, 'Timeout');
    assert.match(st.message, new RegExp(`^Timeout: Too large resource version: ${cm.metadata.resourceVersion}, current: \\d+$`));
    assert.deepEqual(st.details.causes, [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }]);
    assert.equal(st.details.retryAfterSeconds, 1);
    // Beyond anything etcd has: at once.
    const t1 = Date.now();
    assert.equal((await request(c, 'GET', `${PODS}?resourceVersion=999999999`)).status, 504);
    assert.ok(Date.now() - t1 < 900);
    await request(c, 'DELETE', `${PODS}/fresh`);
  });

  test('bookmarks arrive for a filtered watch and are safe to resume from', async () => {
    const list = (await request(c, 'GET', PODS)).json<{ metadata: { resourceVersion: string } }>();
    const w = await openWatch(c, `${PODS}?watch=true&allowWatchBookmarks=true&resourceVersion=${list.metadata.resourceVersion}&labelSelector=app%3Dnone`);
    const hidden = (await request(c, 'POST', PODS, { body: podBody('hidden') })).json<{ metadata: { resourceVersion: string } }>();
    const [bm] = await w.waitFor(1, 5000);
    w.close();
    assert.equal(bm!.type, 'BOOKMARK');
    assert.equal(bm!.object.kind, 'Pod');
    assert.equal(bm!.object.apiVersion, 'v1');
    assert.ok(rvOf(bm!.object) >= rvOf(hidden), 'the bookmark covers the change the watcher did not get');
    const next = (await request(c, 'POST', PODS, { body: podBody('after-bookmark') })).json<{ metadata: { resourceVersion: string } }>();
    const resumed = await watchEvents(c, `${PODS}?watch=true&resourceVersion=${rvOf(bm!.object)}`, 1);
    assert.deepEqual(resumed.map((e) => [e.type, (e.object as WatchEvent['object']).metadata?.name, rvOf(e.object as WatchEvent['object'])]),
      [['ADDED', 'after-bookmark', rvOf(next)]], 'nothing before the bookmark comes again, nothing after it is missed');
    await request(c, 'DELETE', `${PODS}/hidden`);
    await request(c, 'DELETE', `${PODS}/after-bookmark`);
  });

  test('kubectl get -w streams creations and deletions through the cache', async () => {
    const child = spawn(kubectlBinary('1.32'), ['--kubeconfig', api.kubeconfig, 'get', 'pods', '-w', '--output-watch-events'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    try {
      await new Promise((r) => setTimeout(r, 1500)); // list, then the watch
      await request(c, 'POST', PODS, { body: podBody('kw') });
      await eventually('kubectl prints the new pod', async () => /^ADDED\s+kw\s/m.test(out) || null, 15_000, 100);
      await request(c, 'DELETE', `${PODS}/kw`);
      await eventually('kubectl prints the deletion', async () => /^DELETED\s+kw\s/m.test(out) || null, 15_000, 100);
    } catch (e) {
      throw new Error(`${(e as Error).message}\nkubectl stdout: ${out}\nstderr: ${err}`);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
