/**
 * The behaviour every Storage must show (design habit 9). Run against memory in unit tests
 * and against a real etcd in test/integration. Each test works under its own random prefix,
 * so one backend can serve the whole suite.
 */
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { KubeObject, StoredObject } from '@tskube/api';
import type { Storage, StorageEvent, StorageWatch } from './interface.js';
import { isStorageError, type StorageErrorCode } from './errors.js';

export interface ConformanceTarget {
  storage: Storage;
  /** Compacts history up to the given revision. */
  compact(revision: number): Promise<void>;
  cleanup(): Promise<void>;
}

function pod(name: string, extra: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'ns', uid: `uid-${name}` }, spec: {}, ...extra };
}

async function rejectsWith(p: Promise<unknown>, code: StorageErrorCode): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isStorageError(e), `expected a StorageError, got ${String(e)}`);
    assert.equal(e.code, code);
    return true;
  });
}

async function take(w: StorageWatch, n: number, timeoutMs = 5000): Promise<StorageEvent[]> {
  const out: StorageEvent[] = [];
  const deadline = Date.now() + timeoutMs;
  while (out.length < n) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`timed out waiting for ${n} watch events, got ${out.length}: ${JSON.stringify(out.map((e) => e.type))}`);
    let timer: NodeJS.Timeout | undefined;
    const ev = await Promise.race([w.next(), new Promise<'timeout'>((r) => { timer = setTimeout(() => r('timeout'), left); })]);
    clearTimeout(timer);
    if (ev === 'timeout') continue;
    if (ev === null) throw new Error(`watch ended after ${out.length} events`);
    out.push(ev);
  }
  return out;
}

const rv = (o: StoredObject) => Number(o.metadata.resourceVersion);
const names = (objs: StoredObject[]) => objs.map((o) => o.metadata.name);

export function storageConformance(name: string, make: () => Promise<ConformanceTarget>): void {
  describe(`storage conformance: ${name}`, () => {
    let target: ConformanceTarget | undefined;
    const get = async () => (target ??= await make());
    const prefix = () => `/registry-test-${randomBytes(4).toString('hex')}/pods/`;
    after(async () => { await target?.cleanup(); });

    test('create sets resourceVersion; a second create of the key is KeyExists', async () => {
      const { storage: s } = await get();
      const p = prefix();
      const a = await s.create(`${p}ns/a`, pod('a'));
      assert.match(a.metadata.resourceVersion!, /^\d+$/);
      const got = await s.get(`${p}ns/a`);
      assert.equal(got.metadata.resourceVersion, a.metadata.resourceVersion);
      assert.equal(got.metadata.name, 'a');
      await rejectsWith(s.create(`${p}ns/a`, pod('a')), 'KeyExists');
      await rejectsWith(s.get(`${p}ns/missing`), 'KeyNotFound');
    });

    test('guaranteedUpdate: new revision on change, none on no-op, preconditions, create when missing', async () => {
      const { storage: s } = await get();
      const key = `${prefix()}ns/a`;
      const a = await s.create(key, pod('a'));
      const b = await s.guaranteedUpdate(key, (cur) => ({ ...cur!, spec: { nodeName: 'n1' } }));
      assert.ok(rv(b) > rv(a));
      assert.deepEqual((await s.get(key)).spec, { nodeName: 'n1' });
      const same = await s.guaranteedUpdate(key, (cur) => cur!);
      assert.equal(same.metadata.resourceVersion, b.metadata.resourceVersion, 'a no-op update writes nothing');
      await rejectsWith(s.guaranteedUpdate(key, (c) => c!, { preconditions: { uid: 'other' } }), 'Conflict');
      await rejectsWith(s.guaranteedUpdate(key, (c) => c!, { preconditions: { resourceVersion: a.metadata.resourceVersion! } }), 'Conflict');
      await rejectsWith(s.guaranteedUpdate(`${key}-missing`, (c) => c!), 'KeyNotFound');
      const created = await s.guaranteedUpdate(`${key}-new`, (cur) => { assert.equal(cur, null); return pod('a-new'); }, { ignoreNotFound: true });
      assert.equal((await s.get(`${key}-new`)).metadata.resourceVersion, created.metadata.resourceVersion);
    });

    test('concurrent read-modify-writes lose no update', async () => {
      const { storage: s } = await get();
      const key = `${prefix()}ns/counter`;
      await s.create(key, pod('counter', { spec: { n: 0 } }));
      await Promise.all(Array.from({ length: 10 }, () => s.guaranteedUpdate(key, async (cur) => {
        await new Promise((r) => setTimeout(r, Math.random() * 5));
        const spec = cur!.spec as { n: number };
        return { ...cur!, spec: { n: spec.n + 1 } };
      })));
      assert.deepEqual((await s.get(key)).spec, { n: 10 });
    });

    test('delete returns the last state at the deletion revision; preconditions and validation guard it', async () => {
      const { storage: s } = await get();
      const key = `${prefix()}ns/a`;
      const a = await s.create(key, pod('a'));
      await rejectsWith(s.delete(key, { preconditions: { uid: 'nope' } }), 'Conflict');
      await assert.rejects(s.delete(key, { validateDeletion: () => { throw new Error('refused'); } }), /refused/);
      await s.get(key);
      const gone = await s.delete(key, { preconditions: { uid: 'uid-a', resourceVersion: a.metadata.resourceVersion! } });
      assert.equal(gone.metadata.name, 'a');
      assert.ok(rv(gone) > rv(a));
      await rejectsWith(s.get(key), 'KeyNotFound');
      await rejectsWith(s.delete(key), 'KeyNotFound');
    });

    test('list: key order, prefix isolation, consistent pages, predicates, bad tokens', async () => {
      const { storage: s } = await get();
      const p = prefix();
      for (const n of ['c', 'a', 'b', 'e', 'd']) await s.create(`${p}ns/${n}`, pod(n, { metadata: { name: n, namespace: 'ns', labels: { odd: String('ace'.includes(n)) } } }));
      await s.create(`${p}ns2/z`, pod('z'));
      await s.create(`${p.slice(0, -1)}x/ns/other`, pod('other'));
      const all = await s.list(`${p}ns/`);
      assert.deepEqual(names(all.items), ['a', 'b', 'c', 'd', 'e']);
      assert.equal(names((await s.list(p)).items).length, 6);

      const page1 = await s.list(`${p}ns/`, { limit: 2 });
      assert.deepEqual(names(page1.items), ['a', 'b']);
      assert.ok(page1.continue);
      assert.equal(page1.remainingItemCount, 3);
      // Writes between pages do not show up: the token pins the first page's revision.
      await s.create(`${p}ns/bb`, pod('bb'));
      await s.delete(`${p}ns/d`);
      const page2 = await s.list(`${p}ns/`, { limit: 2, continue: page1.continue });
      assert.deepEqual(names(page2.items), ['c', 'd']);
      assert.equal(page2.resourceVersion, page1.resourceVersion);
      const page3 = await s.list(`${p}ns/`, { limit: 2, continue: page2.continue });
      assert.deepEqual(names(page3.items), ['e']);
      assert.equal(page3.continue, undefined);

      const odd = (o: StoredObject) => o.metadata.labels?.odd === 'true';
      const f1 = await s.list(`${p}ns/`, { limit: 2, predicate: odd });
      assert.deepEqual(names(f1.items), ['a', 'c'], 'a filtered page is filled up to the limit');
      const f2 = await s.list(`${p}ns/`, { limit: 2, predicate: odd, continue: f1.continue });
      assert.deepEqual(names(f2.items), ['e']);

      await rejectsWith(s.list(`${p}ns/`, { continue: 'not-a-token' }), 'InvalidArgument');
      const exact = await s.list(`${p}ns/`, { resourceVersion: page1.resourceVersion, resourceVersionMatch: 'Exact' });
      assert.deepEqual(names(exact.items), ['a', 'b', 'c', 'd', 'e'], 'Exact reads the old state');
    });

    test('a continue token past compaction is Expired', async () => {
      const { storage: s, compact } = await get();
      const p = prefix();
      for (const n of ['a', 'b', 'c']) await s.create(`${p}ns/${n}`, pod(n));
      const page1 = await s.list(`${p}ns/`, { limit: 1 });
      await s.create(`${p}ns/d`, pod('d'));
      await compact(await s.currentRevision());
      await rejectsWith(s.list(`${p}ns/`, { limit: 1, continue: page1.continue }), 'Expired');
    });

    test('watch: initial state, then ordered changes; resume from a revision', async () => {
      const { storage: s } = await get();
      const p = prefix();
      const a = await s.create(`${p}ns/a`, pod('a'));
      const w = await s.watch(`${p}ns/`);
      const b = await s.create(`${p}ns/b`, pod('b'));
      const b2 = await s.guaranteedUpdate(`${p}ns/b`, (c) => ({ ...c!, spec: { x: 1 } }));
      const bGone = await s.delete(`${p}ns/b`);
      const evs = await take(w, 4);
      w.stop();
      assert.deepEqual(evs.map((e) => [e.type, e.object.metadata.name, e.object.metadata.resourceVersion]), [
        ['ADDED', 'a', a.metadata.resourceVersion],
        ['ADDED', 'b', b.metadata.resourceVersion],
        ['MODIFIED', 'b', b2.metadata.resourceVersion],
        ['DELETED', 'b', bGone.metadata.resourceVersion],
      ]);
      assert.deepEqual(evs[3]!.object.spec, { x: 1 }, 'DELETED carries the last state');
      assert.equal(await w.next(), null, 'a stopped watch ends');

      const resumed = await s.watch(`${p}ns/`, { resourceVersion: b.metadata.resourceVersion! });
      const again = await take(resumed, 2);
      resumed.stop();
      assert.deepEqual(again.map((e) => e.type), ['MODIFIED', 'DELETED']);
    });

    test('watch with a predicate: objects entering and leaving the selection', async () => {
      const { storage: s } = await get();
      const p = prefix();
      const onN1 = (o: StoredObject) => (o.spec as { nodeName?: string } | undefined)?.nodeName === 'n1';
      const w = await s.watch(`${p}ns/`, { predicate: onN1, resourceVersion: String(await s.currentRevision()) });
      await s.create(`${p}ns/a`, pod('a'));
      await s.guaranteedUpdate(`${p}ns/a`, (c) => ({ ...c!, spec: { nodeName: 'n1' } }));
      const moved = await s.guaranteedUpdate(`${p}ns/a`, (c) => ({ ...c!, spec: { nodeName: 'n2' } }));
      await s.create(`${p}ns/b`, pod('b', { spec: { nodeName: 'n1' } }));
      const evs = await take(w, 3);
      w.stop();
      assert.deepEqual(evs.map((e) => [e.type, e.object.metadata.name]), [['ADDED', 'a'], ['DELETED', 'a'], ['ADDED', 'b']]);
      assert.equal(evs[1]!.object.metadata.resourceVersion, moved.metadata.resourceVersion);
    });

    test('watch of one exact key ignores its neighbours', async () => {
      const { storage: s } = await get();
      const p = prefix();
      const w = await s.watch(`${p}ns/a`, { resourceVersion: String(await s.currentRevision()) });
      await s.create(`${p}ns/ab`, pod('ab'));
      await s.create(`${p}ns/a`, pod('a'));
      const [ev] = await take(w, 1);
      w.stop();
      assert.equal(ev!.object.metadata.name, 'a');
    });

    test('watch from a compacted revision is Expired', async () => {
      const { storage: s, compact } = await get();
      const p = prefix();
      const a = await s.create(`${p}ns/a`, pod('a'));
      await s.guaranteedUpdate(`${p}ns/a`, (c) => ({ ...c!, spec: { x: 2 } }));
      await s.create(`${p}ns/b`, pod('b'));
      await compact(await s.currentRevision());
      const old = String(rv(a) - 1);
      let code: string | undefined;
      try {
        const w = await s.watch(`${p}ns/`, { resourceVersion: old });
        await w.done;
        await w.next();
      } catch (e) {
        if (isStorageError(e)) code = e.code;
      }
      assert.equal(code, 'Expired');
    });
  });
}
