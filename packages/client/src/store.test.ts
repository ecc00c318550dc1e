import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { objectKey, type Pod } from '@tskube/api';
import { applyMergePatch } from './merge-patch.js';
import { Store } from './store.js';
import { clone, type DeepReadonly } from './types.js';

const pod = (ns: string, name: string, node: string, rv: string): Pod => ({
  metadata: { namespace: ns, name, resourceVersion: rv }, spec: { nodeName: node, containers: [] },
});

describe('Store', () => {
  it('indexes, re-indexes on update, and unindexes on remove', () => {
    const s = new Store<Pod>({ indexers: { node: (p) => (p.spec?.nodeName ? [p.spec.nodeName] : []) } });
    s.upsert(pod('a', 'p1', 'n1', '1'));
    s.upsert(pod('b', 'p2', 'n1', '2'));
    assert.deepEqual(s.byIndex('node', 'n1').map(objectKey).sort(), ['a/p1', 'b/p2']);
    const r = s.upsert(pod('a', 'p1', 'n2', '3'));
    assert.equal(r.old?.spec?.nodeName, 'n1');
    assert.deepEqual(s.byIndex('node', 'n1').map(objectKey), ['b/p2']);
    assert.deepEqual(s.byIndex('node', 'n2').map(objectKey), ['a/p1']);
    assert.equal(s.remove('b/p2')?.metadata?.name, 'p2');
    assert.equal(s.remove('b/p2'), undefined);
    assert.deepEqual(s.byIndex('node', 'n1'), []);
    assert.deepEqual(s.listNamespace('a').map(objectKey), ['a/p1']);
    assert.deepEqual(s.listKeys(), ['a/p1']);
  });

  it('indexers added later index existing objects; duplicate names are refused', () => {
    const s = new Store<Pod>();
    s.upsert(pod('a', 'p1', 'n1', '1'));
    s.addIndexers({ node: (p) => [p.spec?.nodeName ?? ''] });
    assert.deepEqual(s.byIndex('node', 'n1').map(objectKey), ['a/p1']);
    assert.throws(() => s.addIndexers({ node: () => [] }), /already exists/);
  });

  it('replace reports adds, resourceVersion changes and deletions', () => {
    const s = new Store<Pod>();
    s.upsert(pod('a', 'same', 'n', '1'));
    s.upsert(pod('a', 'changed', 'n', '2'));
    s.upsert(pod('a', 'gone', 'n', '3'));
    const d = s.replace([pod('a', 'same', 'n', '1'), pod('a', 'changed', 'n', '5'), pod('a', 'new', 'n', '6')]);
    assert.deepEqual(d.added.map(objectKey), ['a/new']);
    assert.deepEqual(d.updated.map((u) => [objectKey(u.obj), u.old.metadata?.resourceVersion, u.obj.metadata?.resourceVersion]), [['a/changed', '2', '5']]);
    assert.deepEqual(d.deleted.map(objectKey), ['a/gone']);
    assert.equal(s.size, 3);
  });

  it('freeze makes cached objects immutable at run time; clone gives a writable copy', () => {
    const s = new Store<Pod>({ freeze: true });
    const { obj } = s.upsert(pod('a', 'p', 'n', '1'));
    assert.throws(() => { (obj.spec as { nodeName?: string }).nodeName = 'x'; }, TypeError);
    const copy = clone(obj);
    copy.spec!.nodeName = 'x';
    const asPod: Pod = copy;
    assert.equal(asPod.spec?.nodeName, 'x');
    assert.equal(obj.spec?.nodeName, 'n');
    const ro: DeepReadonly<Pod> = obj;
    assert.throws(() => {
      // @ts-expect-error cached objects are read-only at compile time too
      ro.metadata!.name = 'y';
    }, TypeError);
  });
});

describe('applyMergePatch (RFC 7386 appendix A)', () => {
  const cases: [unknown, unknown, unknown][] = [
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [['a', 'b'], ['c', 'd'], ['c', 'd']],
    [{ a: 'b' }, ['c'], ['c']],
    [{ a: 'foo' }, null, null],
    [{ a: 'foo' }, 'bar', 'bar'],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ];
  for (const [target, patch, want] of cases) {
    it(`${JSON.stringify(target)} + ${JSON.stringify(patch)}`, () => {
      const before = JSON.stringify(target);
      assert.deepEqual(applyMergePatch(target, patch), want);
      assert.equal(JSON.stringify(target), before, 'target not modified');
    });
  }
});
