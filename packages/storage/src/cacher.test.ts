import { describe, test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject, StoredObject } from '@tskube/api';
import { nullLogger } from '@tskube/log';
import { storageConformance } from './conformance.js';
import { MemoryStorage } from './memory.js';
import { CachedStorage, type CachedStorageOptions } from './cacher.js';
import { StorageError, isStorageError, type StorageErrorCode } from './errors.js';
import type {
  DeleteOptions, GetOptions, ListOptions, ListResult, Storage, StorageEvent, StorageWatch, TryUpdate, UpdateOptions, WatchOptions,
} from './interface.js';
import { EventQueue } from './util.js';

// The shared suite, through the cache (every watch is served by it).
storageConformance('cached memory', async () => {
  const mem = new MemoryStorage();
  const s = new CachedStorage(mem, { logger: nullLogger() });
  return { storage: s, compact: (r) => s.compact(r), cleanup: () => s.close() };
});

/**
 * MemoryStorage behind a wrapper that counts calls and controls the watches it hands out:
 * `kill(err)` ends them as a broken etcd watch would, `inject(ev)` adds an event (e.g. a
 * progress notice) to them, `hold()` delays their events until `release()` (a lagging watch).
 */
class InstrumentedStorage implements Storage {
  readonly calls = { get: 0, list: 0, watch: 0, currentRevision: 0 };
  readonly active = new Set<EventQueue>();
  private gate: Promise<void> | null = null;
  private open: (() => void) | null = null;
  constructor(readonly mem: MemoryStorage) {}

  hold(): void { this.gate = new Promise((r) => { this.open = r; }); }
  release(): void { this.open?.(); this.gate = null; }

  create(key: string, obj: KubeObject, opts?: { ttlSeconds?: number }) { return this.mem.create(key, obj, opts); }
  guaranteedUpdate(key: string, fn: TryUpdate, opts?: UpdateOptions) { return this.mem.guaranteedUpdate(key, fn, opts); }
  delete(key: string, opts?: DeleteOptions) { return this.mem.delete(key, opts); }
  get(key: string, opts?: GetOptions) { this.calls.get++; return this.mem.get(key, opts); }
  list(prefix: string, opts?: ListOptions): Promise<ListResult> { this.calls.list++; return this.mem.list(prefix, opts); }
  currentRevision() { this.calls.currentRevision++; return this.mem.currentRevision(); }
  ping() { return this.mem.ping(); }
  compact(rev: number) { return this.mem.compact(rev); }
  close() { return this.mem.close(); }

  async watch(prefix: string, opts?: WatchOptions): Promise<StorageWatch> {
    this.calls.watch++;
    const inner = await this.mem.watch(prefix, opts);
    const q = new EventQueue();
    this.active.add(q);
    q.setOnStop(() => { inner.stop(); this.active.delete(q); });
    void (async () => {
      for (;;) {
        const ev = await inner.next();
        if (!ev) break;
        if (this.gate) await this.gate;
        q.push(ev);
      }
      try { await inner.done; q.end(); } catch (e) { q.end(e); }
      this.active.delete(q);
    })();
    return q;
  }

  kill(err: StorageError): void {
    for (const q of [...this.active]) { this.active.delete(q); q.end(err); }
  }

  inject(ev: StorageEvent): void {
    for (const q of this.active) q.push(ev);
  }
}

const P = '/registry/pods/';
function pod(ns: string, name: string, extra: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns, uid: `uid-${name}` }, spec: {}, ...extra };
}
const rvOf = (o: StoredObject) => Number(o.metadata.resourceVersion);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function eventually(what: string, check: () => boolean | Promise<boolean>, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** The next event within `ms`, or 'timeout'. */
async function nextWithin(w: StorageWatch, ms: number): Promise<StorageEvent | null | 'timeout'> {
  let t: NodeJS.Timeout | undefined;
  const r = await Promise.race([w.next(), new Promise<'timeout'>((res) => { t = setTimeout(() => res('timeout'), ms); })]);
  clearTimeout(t);
  return r;
}

async function take(w: StorageWatch, n: number, ms = 3000): Promise<StorageEvent[]> {
  const out: StorageEvent[] = [];
  const deadline = Date.now() + ms;
  while (out.length < n) {
    const ev = await nextWithin(w, Math.max(1, deadline - Date.now()));
    if (ev === 'timeout') throw new Error(`timed out after ${out.length} of ${n} events: ${JSON.stringify(out.map((e) => e.type))}`);
    if (ev === null) throw new Error(`watch ended after ${out.length} of ${n} events`);
    out.push(ev);
  }
  return out;
}

async function rejectsWith(p: Promise<unknown>, code: StorageErrorCode): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isStorageError(e), `expected a StorageError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return true;
  });
}

const summary = (evs: StorageEvent[]) => evs.map((e) => `${e.type} ${e.object.metadata.name ?? ''}@${e.object.metadata.resourceVersion}`);

describe('CachedStorage', () => {
  let open: CachedStorage[] = [];
  afterEach(async () => { await Promise.all(open.map((s) => s.close())); open = []; });
  function setup(opts: Partial<CachedStorageOptions> = {}) {
    const under = new InstrumentedStorage(new MemoryStorage());
    const cached = new CachedStorage(under, { logger: nullLogger(), ...opts });
    open.push(cached);
    return { under, cached, mem: under.mem };
  }
  const ready = async (cached: CachedStorage, prefix = P) => {
    await eventually('cache ready', () => cached.info().some((i) => i.prefix === prefix && i.ready));
  };

  test('N watchers of one resource cost one underlying watch; each gets its own key range', async () => {
    const { under, cached } = setup();
    await cached.create(`${P}ns1/a`, pod('ns1', 'a'));
    const all = await Promise.all(Array.from({ length: 20 }, () => cached.watch(P)));
    const ns2 = await Promise.all(Array.from({ length: 5 }, () => cached.watch(`${P}ns2/`)));
    const one = await cached.watch(`${P}ns2/b`);
    assert.equal(under.calls.watch, 1, 'one underlying watch for 26 watchers');
    assert.equal(under.active.size, 1);
    await cached.create(`${P}ns2/b`, pod('ns2', 'b'));
    await cached.create(`${P}ns2/bb`, pod('ns2', 'bb'));
    for (const w of all) assert.deepEqual((await take(w, 3)).map((e) => [e.type, e.object.metadata.name]), [['ADDED', 'a'], ['ADDED', 'b'], ['ADDED', 'bb']]);
    for (const w of ns2) assert.deepEqual((await take(w, 2)).map((e) => e.object.metadata.name), ['b', 'bb']);
    assert.deepEqual((await take(one, 1)).map((e) => e.object.metadata.name), ['b']);
    assert.equal(await nextWithin(one, 50), 'timeout', 'the exact-key watcher does not see its neighbour');
    // A watch of another resource is another cache, with its own underlying watch.
    await cached.watch('/registry/nodes/');
    assert.equal(under.calls.watch, 2);
    assert.deepEqual(cached.info().map((i) => [i.prefix, i.watchers]).sort(), [['/registry/nodes/', 1], [P, 26]]);
    for (const w of [...all, ...ns2, one]) w.stop();
    assert.equal(cached.info().find((i) => i.prefix === P)!.watchers, 0, 'stopped watchers are forgotten');
  });

  test('objects handed out are copies: a consumer that mutates one does not change the cache', async () => {
    const { cached } = setup();
    await cached.create(`${P}ns/a`, pod('ns', 'a'));
    const w1 = await cached.watch(P);
    const [ev] = await take(w1, 1);
    (ev!.object.metadata as { name: string }).name = 'mangled';
    const w2 = await cached.watch(P);
    assert.equal((await take(w2, 1))[0]!.object.metadata.name, 'a');
    const l = await cached.list(P, { resourceVersion: '0' });
    (l.items[0]!.metadata as { name: string }).name = 'mangled';
    assert.equal((await cached.list(P, { resourceVersion: '0' })).items[0]!.metadata.name, 'a');
  });

  test('resume from any revision in the window; older is Expired; the window follows its size', async () => {
    const { cached } = setup({ history: { min: 4, max: 4 } });
    await cached.create(`${P}ns/seed`, pod('ns', 'seed'));
    (await cached.watch(P)).stop(); // starts the cache
    await ready(cached);
    const objs: StoredObject[] = [];
    for (let i = 0; i < 10; i++) objs.push(await cached.create(`${P}ns/p${i}`, pod('ns', `p${i}`)));
    await eventually('the cache saw every change', () => cached.info()[0]!.resourceVersion === rvOf(objs[9]!));
    const info = cached.info()[0]!;
    assert.equal(info.historyLength, 4);
    // The window holds p6..p9: resuming after p5 works, after p4 it does not.
    const w = await cached.watch(P, { resourceVersion: objs[5]!.metadata.resourceVersion! });
    assert.deepEqual((await take(w, 4)).map((e) => e.object.metadata.name), ['p6', 'p7', 'p8', 'p9']);
    w.stop();
    await rejectsWith(cached.watch(P, { resourceVersion: objs[4]!.metadata.resourceVersion! }), 'Expired');
    assert.equal(info.oldestResumable, rvOf(objs[5]!));
    // From the newest revision: nothing old, then the next change.
    const last = await cached.watch(P, { resourceVersion: objs[9]!.metadata.resourceVersion! });
    const upd = await cached.guaranteedUpdate(`${P}ns/p0`, (c) => ({ ...c!, spec: { x: 1 } }));
    assert.deepEqual(summary(await take(last, 1)), [`MODIFIED p0@${upd.metadata.resourceVersion}`]);
  });

  test('the window grows while its oldest change is recent, up to its maximum', async () => {
    const { cached } = setup({ history: { min: 2, max: 16, freshMs: 60_000 } });
    (await cached.watch(P)).stop();
    await ready(cached);
    for (let i = 0; i < 40; i++) await cached.create(`${P}ns/p${i}`, pod('ns', `p${i}`));
    const info = cached.info()[0]!;
    assert.equal(info.historyCapacity, 16);
    assert.equal(info.historyLength, 16);
  });

  test('a watch started before the cache existed resumes from its revision', async () => {
    const { cached, mem } = setup();
    const a = await mem.create(`${P}ns/a`, pod('ns', 'a'));
    await mem.create(`${P}ns/b`, pod('ns', 'b'));
    await mem.delete(`${P}ns/a`);
    const w = await cached.watch(P, { resourceVersion: a.metadata.resourceVersion! });
    assert.deepEqual((await take(w, 2)).map((e) => [e.type, e.object.metadata.name]), [['ADDED', 'b'], ['DELETED', 'a']]);
  });

  test('a reflector\'s first RV=0 list starts the cache at its revision: the watch that follows is served', async () => {
    const { cached, mem } = setup();
    await mem.create(`${P}ns/a`, pod('ns', 'a'));
    const l = await cached.list(P, { resourceVersion: '0', limit: 500 });
    assert.deepEqual(l.items.map((o) => o.metadata.name), ['a']);
    const b = await mem.create(`${P}ns/b`, pod('ns', 'b'));
    const w = await cached.watch(P, { resourceVersion: l.resourceVersion });
    assert.deepEqual(summary(await take(w, 1)), [`ADDED b@${b.metadata.resourceVersion}`]);
    w.stop();
  });

  test('compaction through the cache makes older revisions Expired, as in etcd', async () => {
    const { cached } = setup();
    const a = await cached.create(`${P}ns/a`, pod('ns', 'a'));
    (await cached.watch(P, { resourceVersion: a.metadata.resourceVersion! })).stop();
    await cached.create(`${P}ns/b`, pod('ns', 'b'));
    const resumable = await cached.watch(P, { resourceVersion: a.metadata.resourceVersion! });
    resumable.stop();
    await cached.compact(await cached.currentRevision());
    await rejectsWith(cached.watch(P, { resourceVersion: a.metadata.resourceVersion! }), 'Expired');
  });

  test('resourceVersion=0 lists and gets come from the cache without touching the storage', async () => {
    const { under, cached } = setup();
    await cached.create(`${P}ns1/a`, pod('ns1', 'a', { metadata: { name: 'a', namespace: 'ns1', labels: { app: 'x' } } }));
    await cached.create(`${P}ns1/b`, pod('ns1', 'b'));
    await cached.create(`${P}ns2/c`, pod('ns2', 'c', { metadata: { name: 'c', namespace: 'ns2', labels: { app: 'x' } } }));
    // The first RV=0 read starts the cache and is answered by the storage meanwhile.
    assert.equal((await cached.list(P, { resourceVersion: '0' })).items.length, 3);
    await ready(cached);
    const before = { ...under.calls };
    const all = await cached.list(P, { resourceVersion: '0', limit: 1 });
    assert.deepEqual(all.items.map((o) => o.metadata.name), ['a', 'b', 'c'], 'limit is ignored for RV=0, as upstream');
    assert.equal(all.continue, undefined);
    assert.equal(all.resourceVersion, String(await under.mem.currentRevision()));
    const ns1 = await cached.list(`${P}ns1/`, { resourceVersion: '0' });
    assert.deepEqual(ns1.items.map((o) => o.metadata.name), ['a', 'b']);
    const labelled = await cached.list(P, { resourceVersion: '0', predicate: (o) => o.metadata.labels?.app === 'x' });
    assert.deepEqual(labelled.items.map((o) => o.metadata.name), ['a', 'c']);
    assert.equal((await cached.get(`${P}ns2/c`, { resourceVersion: '0' })).metadata.name, 'c');
    await rejectsWith(cached.get(`${P}ns2/zz`, { resourceVersion: '0' }), 'KeyNotFound');
    // NotOlderThan an old revision: served at once, from the cache.
    assert.equal((await cached.list(P, { resourceVersion: '2', resourceVersionMatch: 'NotOlderThan' })).items.length, 3);
    assert.deepEqual(under.calls, before, 'the storage was not asked');
    // Quorum reads, Exact, continue tokens and 'N' with a limit go to the storage.
    await cached.list(P);
    await cached.list(P, { resourceVersion: all.resourceVersion, resourceVersionMatch: 'Exact' });
    const page = await cached.list(P, { limit: 1, resourceVersion: all.resourceVersion });
    await cached.list(P, { limit: 1, continue: page.continue! });
    await cached.get(`${P}ns2/c`);
    assert.equal(under.calls.list - before.list, 4);
    assert.equal(under.calls.get - before.get, 1);
    await rejectsWith(cached.list(P, { resourceVersion: 'abc' }), 'InvalidArgument');
  });

  test('NotOlderThan waits for the cache to reach the revision, else ResourceVersionTooLarge', async () => {
    const { under, cached, mem } = setup({ freshnessTimeoutMs: 300 });
    await cached.create(`${P}ns/a`, pod('ns', 'a'));
    (await cached.watch(P)).stop();
    await ready(cached);
    // The cache's watch lags: a change is committed but not yet seen by the cache.
    under.hold();
    const b = await cached.create(`${P}ns/b`, pod('ns', 'b'));
    const pending = cached.list(P, { resourceVersion: b.metadata.resourceVersion!, resourceVersionMatch: 'NotOlderThan' });
    const g = cached.get(`${P}ns/b`, { resourceVersion: b.metadata.resourceVersion! });
    await sleep(100);
    assert.deepEqual((await cached.list(P, { resourceVersion: '0' })).items.map((o) => o.metadata.name), ['a'], 'RV=0 does not wait');
    under.release();
    const l = await pending;
    assert.deepEqual(l.items.map((o) => o.metadata.name), ['a', 'b']);
    assert.equal(l.resourceVersion, b.metadata.resourceVersion);
    assert.equal((await g).metadata.name, 'b');
    // A revision nobody has written yet: at once.
    const t0 = Date.now();
    await rejectsWith(cached.list(P, { resourceVersion: '999999' }), 'ResourceVersionTooLarge');
    assert.ok(Date.now() - t0 < 250, 'a revision beyond the storage fails without waiting');
    // A revision that exists, but only for another resource: the cache cannot tell it is fresh.
    await mem.create('/registry/nodes/n1', { metadata: { name: 'n1' } });
    const t1 = Date.now();
    await assert.rejects(cached.list(P, { resourceVersion: String(await cached.currentRevision()) }), (e: unknown) => {
      assert.ok(isStorageError(e, 'ResourceVersionTooLarge'));
      assert.match(e.message, /^Too large resource version: \d+, current: \d+$/);
      return true;
    });
    assert.ok(Date.now() - t1 >= 280, 'it waited for the freshness timeout');
  });

  test('a progress notice from the storage makes the cache fresh without a change', async () => {
    const { under, cached, mem } = setup({ freshnessTimeoutMs: 2000 });
    (await cached.watch(P)).stop();
    await ready(cached);
    const n = await mem.create('/registry/nodes/n1', { metadata: { name: 'n1' } });
    const pending = cached.list(P, { resourceVersion: n.metadata.resourceVersion! });
    await sleep(20);
    under.inject({ type: 'BOOKMARK', object: { metadata: { resourceVersion: n.metadata.resourceVersion! } } });
    assert.equal((await pending).resourceVersion, n.metadata.resourceVersion);
  });

  test('bookmarks: periodic, at a revision the watcher has fully seen, and safe to resume from', async () => {
    const { cached } = setup({ bookmarkIntervalMs: 100 });
    const onlyX = (o: StoredObject) => o.metadata.labels?.app === 'x';
    const w = await cached.watch(P, { allowBookmarks: true, predicate: onlyX });
    const plain = await cached.watch(P);
    const x1 = await cached.create(`${P}ns/x1`, pod('ns', 'x1', { metadata: { name: 'x1', namespace: 'ns', labels: { app: 'x' } } }));
    const other = await cached.create(`${P}ns/o1`, pod('ns', 'o1'));
    const evs: StorageEvent[] = [];
    await eventually('a bookmark', async () => {
      const ev = await nextWithin(w, 200);
      if (ev && ev !== 'timeout') evs.push(ev);
      return evs.some((e) => e.type === 'BOOKMARK');
    });
    assert.equal(evs[0]!.type, 'ADDED');
    assert.equal(evs[0]!.object.metadata.resourceVersion, x1.metadata.resourceVersion);
    const bm = evs.find((e) => e.type === 'BOOKMARK')!;
    assert.deepEqual(bm.object, { metadata: { resourceVersion: other.metadata.resourceVersion } }, 'the bookmark covers the filtered-out change');
    // Nothing new: no second bookmark at the same revision.
    assert.equal(await nextWithin(w, 300), 'timeout');
    assert.equal((await take(plain, 2)).length, 2);
    assert.equal(await nextWithin(plain, 300), 'timeout', 'watchers that did not ask get no bookmarks');
    // Resuming from the bookmark misses nothing and repeats nothing.
    const x2 = await cached.create(`${P}ns/x2`, pod('ns', 'x2', { metadata: { name: 'x2', namespace: 'ns', labels: { app: 'x' } } }));
    const resumed = await cached.watch(P, { resourceVersion: bm.object.metadata.resourceVersion!, predicate: onlyX });
    assert.deepEqual(summary(await take(resumed, 1)), [`ADDED x2@${x2.metadata.resourceVersion}`]);
    w.stop(); plain.stop(); resumed.stop();
  });

  test('bookmarks never go back behind the revision a watch started from', async () => {
    const { cached, mem } = setup({ bookmarkIntervalMs: 50 });
    (await cached.watch(P)).stop();
    await ready(cached);
    const n = await mem.create('/registry/nodes/n1', { metadata: { name: 'n1' } });
    const w = await cached.watch(P, { resourceVersion: n.metadata.resourceVersion!, allowBookmarks: true });
    assert.equal(await nextWithin(w, 300), 'timeout', 'the cache is behind the start revision: no bookmark');
    const p = await cached.create(`${P}ns/a`, pod('ns', 'a'));
    assert.deepEqual(summary(await take(w, 1)), [`ADDED a@${p.metadata.resourceVersion}`]);
    w.stop();
  });

  test('a bookmark comes shortly before the watch deadline', async () => {
    const { cached } = setup({ bookmarkIntervalMs: 60_000 });
    await cached.create(`${P}ns/a`, pod('ns', 'a'));
    const t0 = Date.now();
    const w = await cached.watch(P, { allowBookmarks: true, deadline: Date.now() + 2_400 });
    assert.equal((await take(w, 1))[0]!.type, 'ADDED');
    const [bm] = await take(w, 1, 2_000);
    assert.equal(bm!.type, 'BOOKMARK');
    assert.ok(Date.now() - t0 < 2_400, 'before the deadline');
    w.stop();
  });

  test('a watcher that does not keep up is terminated; the others go on', async () => {
    const { cached } = setup({ maxPendingEvents: 5 });
    for (let i = 0; i < 20; i++) await cached.create(`${P}ns/init${i}`, pod('ns', `init${i}`));
    const slow = await cached.watch(P);
    const fast = await cached.watch(P);
    const fastEvents: StorageEvent[] = [];
    const reader = (async () => { for await (const e of fast) { fastEvents.push(e); if (fastEvents.length === 30) break; } })();
    for (let i = 0; i < 10; i++) { await cached.create(`${P}ns/p${i}`, pod('ns', `p${i}`)); await sleep(5); }
    await reader;
    assert.equal(fastEvents.length, 30, 'the initial state does not count as backlog');
    assert.equal(cached.info()[0]!.watchers, 1, 'only the fast watcher is left');
    fast.stop();
    // The slow watcher's queue was dropped; its watch ends cleanly (it re-watches from its last revision).
    assert.equal(await slow.next(), null);
    await slow.done;
  });

  test('underlying watch broken: resumed without relisting; clients notice nothing', async () => {
    const { under, cached } = setup({ retry: { initialMs: 10, maxMs: 50 } });
    const w = await cached.watch(P);
    await ready(cached);
    under.kill(new StorageError('Unreachable', P, 'etcd went away'));
    await eventually('resumed', () => under.calls.watch === 2 && under.active.size === 1);
    const a = await cached.create(`${P}ns/a`, pod('ns', 'a'));
    assert.deepEqual(summary(await take(w, 1)), [`ADDED a@${a.metadata.resourceVersion}`]);
    assert.equal(cached.info()[0]!.lists, 1, 'no relist');
    w.stop();
  });

  test('underlying watch Expired: relist, client watches end with Expired, new ones work', async () => {
    const { under, cached } = setup({ retry: { initialMs: 10, maxMs: 50 } });
    const before = await cached.create(`${P}ns/a`, pod('ns', 'a'));
    const w = await cached.watch(P);
    assert.equal((await take(w, 1))[0]!.object.metadata.name, 'a');
    await ready(cached);
    under.kill(new StorageError('Expired', P, 'required revision has been compacted'));
    await rejectsWith(w.done, 'Expired');
    assert.equal(await w.next(), null);
    await eventually('relisted', () => cached.info()[0]!.lists === 2 && cached.info()[0]!.ready && under.active.size === 1);
    // Changes made after the relist reach new watchers; the old revision is no longer resumable.
    const w2 = await cached.watch(P);
    assert.equal((await take(w2, 1))[0]!.object.metadata.name, 'a');
    const b = await cached.create(`${P}ns/b`, pod('ns', 'b'));
    assert.deepEqual(summary(await take(w2, 1)), [`ADDED b@${b.metadata.resourceVersion}`]);
    await rejectsWith(cached.watch(P, { resourceVersion: String(rvOf(before) - 1) }), 'Expired');
    w2.stop();
  });

  test('changes sharing one revision all reach the watchers', async () => {
    const { under, cached } = setup();
    const w = await cached.watch(P);
    await ready(cached);
    // As etcd does when a lease expires: several deletions at one revision.
    const a = await under.mem.create(`${P}ns/a`, pod('ns', 'a'));
    const b = await under.mem.create(`${P}ns/b`, pod('ns', 'b'));
    await take(w, 2);
    const rev = String(rvOf(b) + 100);
    const gone = (o: StoredObject): StorageEvent => ({ type: 'DELETED', object: { ...o, metadata: { ...o.metadata, resourceVersion: rev } }, key: `${P}ns/${o.metadata.name}` });
    under.inject(gone(a));
    under.inject(gone(b));
    assert.deepEqual((await take(w, 2)).map((e) => [e.type, e.object.metadata.name]), [['DELETED', 'a'], ['DELETED', 'b']]);
    assert.equal((await cached.list(P, { resourceVersion: '0' })).items.length, 0);
  });

  test('keys outside any resource prefix and a closed cache pass through; close stops every watch', async () => {
    const { under, cached } = setup();
    const w = await cached.watch('/top-level-key');
    assert.equal(cached.info().length, 0);
    w.stop();
    const c1 = await cached.watch(P);
    const c2 = await cached.watch('/registry/nodes/');
    await ready(cached);
    assert.equal(under.active.size, 2);
    await cached.close();
    assert.equal(under.active.size, 0, 'the underlying watches are stopped');
    assert.equal(await c1.next(), null);
    assert.equal(await c2.next(), null);
    open = [];
  });
});
