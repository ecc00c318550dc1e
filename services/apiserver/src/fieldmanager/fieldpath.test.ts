import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FieldSet, comparePE, fieldPE, goJson, indexPE, keyPE, pathString, valuePE } from './fieldpath.js';

test('path elements serialize like upstream FieldsV1 keys', () => {
  const cases: [string, string][] = [
    [fieldPE('spec'), 'f:spec'],
    [keyPE([['name', 'c']]), 'k:{"name":"c"}'],
    [keyPE([['protocol', 'TCP'], ['containerPort', 80]]), 'k:{"containerPort":80,"protocol":"TCP"}'],
    [valuePE('x'), 'v:"x"'],
    [valuePE(3), 'v:3'],
    [indexPE(2), 'i:2'],
    [valuePE('<a&b>'), 'v:"\\u003ca\\u0026b\\u003e"'],
  ];
  for (const [got, want] of cases) assert.equal(got, want);
  assert.equal(goJson({ b: 1, a: { d: [1, 'x'], c: null } }), '{"a":{"c":null,"d":[1,"x"]},"b":1}');
});

test('path strings read like upstream conflict paths', () => {
  const cases: [string[], string][] = [
    [['f:spec', 'f:replicas'], '.spec.replicas'],
    [['f:spec', 'f:containers', 'k:{"name":"c"}', 'f:image'], '.spec.containers[name="c"].image'],
    [['f:spec', 'f:ports', 'k:{"containerPort":80,"protocol":"TCP"}'], '.spec.ports[containerPort=80,protocol="TCP"]'],
    [['f:metadata', 'f:finalizers', 'v:"x"'], '.metadata.finalizers[="x"]'],
    [['f:a', 'i:0'], '.a[0]'],
  ];
  for (const [p, want] of cases) assert.equal(pathString(p), want);
});

test('path elements order: fields, keys, values, indices; each by its own order', () => {
  const pes = ['i:1', 'v:"b"', 'k:{"name":"b"}', 'f:b', 'v:2', 'k:{"name":"a"}', 'f:a', 'v:"a"', 'i:0', 'v:true'];
  assert.deepEqual([...pes].sort(comparePE), ['f:a', 'f:b', 'k:{"name":"a"}', 'k:{"name":"b"}', 'v:2', 'v:"a"', 'v:"b"', 'v:true', 'i:0', 'i:1']);
});

test('FieldsV1 round trip keeps members, children and "." markers', () => {
  const v1 = {
    'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
    'f:spec': { 'f:containers': { 'k:{"name":"c"}': { '.': {}, 'f:image': {}, 'f:name': {} } }, 'f:replicas': {} },
  };
  const s = FieldSet.fromFieldsV1(v1);
  assert.ok(s.has(['f:metadata', 'f:labels']));
  assert.ok(s.has(['f:metadata', 'f:labels', 'f:app']));
  assert.ok(!s.has(['f:metadata']), 'a parent with children only is not a member');
  assert.ok(s.has(['f:spec', 'f:containers', 'k:{"name":"c"}']));
  assert.deepEqual(s.toFieldsV1(), v1);
  // keys are canonicalized and unknown element types dropped
  const odd = FieldSet.fromFieldsV1({ 'k:{"protocol":"TCP","containerPort":80}': {}, 'x:whatever': {} });
  assert.deepEqual(odd.toFieldsV1(), { 'k:{"containerPort":80,"protocol":"TCP"}': {} });
  assert.throws(() => FieldSet.fromFieldsV1({ 'f:a': 1 }));
  assert.throws(() => FieldSet.fromFieldsV1([]));
});

test('set operations', () => {
  const a = FieldSet.of(['f:a', 'f:b'], ['f:a', 'f:c'], ['f:d']);
  const b = FieldSet.of(['f:a', 'f:b'], ['f:a'], ['f:e']);
  assert.equal(a.union(b).toString(), '.a\n.d\n.e\n.a.b\n.a.c');
  assert.equal(a.intersection(b).toString(), '.a.b');
  assert.equal(a.difference(b).toString(), '.d\n.a.c', 'levels are independent: .a in b does not remove .a.c');
  assert.equal(a.recursiveDifference(b).toString(), '.d', '.a in b removes everything below it');
  assert.ok(a.difference(a).isEmpty());
  assert.ok(a.union(FieldSet.EMPTY).equals(a));
  assert.deepEqual(a.paths(), [['f:d'], ['f:a', 'f:b'], ['f:a', 'f:c']]);
  assert.ok(!FieldSet.of([]).has([]), 'nobody owns the whole object');
});
