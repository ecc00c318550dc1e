import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FieldSet } from './fieldpath.js';
import { listRelationship, type SmdType } from './schema.js';
import { testSchemas } from './test-fixtures.js';
import { TypedValueError, compare, ensureNamedFieldsAreMembers, merge, removeItems, toFieldSet } from './typed.js';

const W: SmdType = testSchemas.forKind({ group: 'test', version: 'v1', kind: 'Widget' });

const spec = (s: Record<string, unknown>) => ({ spec: s });
const fs = (v: unknown) => toFieldSet(v, W).toFieldsV1();

test('list relationship from the OpenAPI extensions (list-type, then patch strategy, else atomic)', () => {
  const cases: [Parameters<typeof listRelationship>[0], ReturnType<typeof listRelationship>][] = [
    [{ 'x-kubernetes-list-type': 'atomic', 'x-kubernetes-patch-strategy': 'merge' }, { relationship: 'atomic', keys: [] }],
    [{ 'x-kubernetes-list-type': 'set' }, { relationship: 'associative', keys: [] }],
    [{ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['a', 'b'] }, { relationship: 'associative', keys: ['a', 'b'] }],
    [{ 'x-kubernetes-patch-strategy': 'merge', 'x-kubernetes-patch-merge-key': 'name' }, { relationship: 'associative', keys: ['name'] }],
    [{ 'x-kubernetes-patch-strategy': 'merge,retainKeys', 'x-kubernetes-patch-merge-key': 'name' }, { relationship: 'associative', keys: ['name'] }],
    [{ 'x-kubernetes-patch-strategy': 'merge' }, { relationship: 'associative', keys: [] }],
    [{ 'x-kubernetes-patch-strategy': 'retainKeys' }, { relationship: 'atomic', keys: [] }],
    [{}, { relationship: 'atomic', keys: [] }],
  ];
  for (const [ext, want] of cases) assert.deepEqual(listRelationship(ext), want, JSON.stringify(ext));
});

test('field sets of values, per list and map type', () => {
  const cases: [string, unknown, Record<string, unknown>][] = [
    ['scalar', spec({ replicas: 1 }), { 'f:spec': { 'f:replicas': {} } }],
    ['atomic list is one leaf', spec({ atomicList: ['a', 'b'] }), { 'f:spec': { 'f:atomicList': {} } }],
    ['set items by value', spec({ setList: ['b', 'a'] }), { 'f:spec': { 'f:setList': { 'v:"a"': {}, 'v:"b"': {} } } }],
    ['map-list items by key, item is a member', spec({ mapList: [{ name: 'x', value: '1' }] }),
      { 'f:spec': { 'f:mapList': { 'k:{"name":"x"}': { '.': {}, 'f:name': {}, 'f:value': {} } } } }],
    ['multi-key with a defaulted key (protocol TCP)', spec({ ports: [{ containerPort: 80 }] }),
      { 'f:spec': { 'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } } } }],
    ['patch-strategy merge + merge key is a map-list', spec({ mergeList: [{ name: 'a' }] }),
      { 'f:spec': { 'f:mergeList': { 'k:{"name":"a"}': { '.': {}, 'f:name': {} } } } }],
    ['patch-strategy merge without key is a set', spec({ mergeSet: ['x'] }), { 'f:spec': { 'f:mergeSet': { 'v:"x"': {} } } }],
    ['list without metadata is atomic', spec({ plainList: [{ name: 'a' }, { name: 'a' }] }), { 'f:spec': { 'f:plainList': {} } }],
    ['atomic map', spec({ atomicMap: { a: '1' } }), { 'f:spec': { 'f:atomicMap': {} } }],
    ['map keys are members, struct fields are not', spec({ labels: { a: '1' }, struct: { name: 'n' } }),
      { 'f:spec': { 'f:labels': { 'f:a': {} }, 'f:struct': { 'f:name': {} } } }],
    ['map-type atomic on the referencing property', spec({ atomicStruct: { name: 'n', value: 'v' } }), { 'f:spec': { 'f:atomicStruct': {} } }],
    ['empty struct is a leaf', spec({ struct: {} }), { 'f:spec': { 'f:struct': {} } }],
    ['free-form objects: granular maps, atomic lists', spec({ free: { a: { b: 1, c: [1, 2] } } }),
      { 'f:spec': { 'f:free': { 'f:a': { '.': {}, 'f:b': {}, 'f:c': {} } } } }],
    ['int-or-string scalar', spec({ intOrString: '50%' }), { 'f:spec': { 'f:intOrString': {} } }],
    ['metadata labels', { metadata: { name: 'w', labels: { app: 'x' } } }, { 'f:metadata': { 'f:labels': { 'f:app': {} }, 'f:name': {} } }],
  ];
  for (const [name, v, want] of cases) assert.deepEqual(fs(v), want, name);
});

test('items without keys and duplicate items', () => {
  assert.throws(() => toFieldSet(spec({ mapList: [{ value: '1' }] }), W), (e) => e instanceof TypedValueError
    && /\.spec\.mapList: element 0: associative list with keys has an element that omits all key fields \["name"\]/.test(e.message));
  assert.throws(() => toFieldSet(spec({ mapList: [{ name: 'a' }, { name: 'a' }] }), W), /duplicate entries for key \[name="a"\]/);
  assert.throws(() => toFieldSet(spec({ setList: [{ a: 1 }] }), W), /associative list without keys has an element that's a map type/);
  // live objects may carry duplicates: the duplicated item is owned as one member
  assert.deepEqual(toFieldSet(spec({ mapList: [{ name: 'a' }, { name: 'a', value: '1' }] }), W, { allowDuplicates: true }).toFieldsV1(),
    { 'f:spec': { 'f:mapList': { 'k:{"name":"a"}': {} } } });
});

test('compare: added, modified and removed fields', () => {
  const base = { metadata: { name: 'w' }, spec: { replicas: 1, labels: { a: '1' }, mapList: [{ name: 'x', value: '1' }], atomicList: ['a'] } };
  const cases: [string, unknown, unknown, { added?: string; modified?: string; removed?: string }][] = [
    ['same', base, structuredClone(base), {}],
    ['scalar modified', base, { ...base, spec: { ...base.spec, replicas: 2 } }, { modified: '.spec.replicas' }],
    ['map key added: key and map? only key (map existed)', base, { ...base, spec: { ...base.spec, labels: { a: '1', b: '2' } } }, { added: '.spec.labels.b' }],
    ['new map: the map itself is added too', { metadata: { name: 'w' } }, { metadata: { name: 'w', labels: { a: '1' } } }, { added: '.metadata.labels\n.metadata.labels.a' }],
    ['list item removed', base, { ...base, spec: { ...base.spec, mapList: [] } }, { removed: '.spec.mapList[name="x"]\n.spec.mapList[name="x"].name\n.spec.mapList[name="x"].value' }],
    ['atomic list changed as a whole', base, { ...base, spec: { ...base.spec, atomicList: ['a', 'b'] } }, { modified: '.spec.atomicList' }],
    ['value structs (spec) never count as added', { metadata: { name: 'w' } }, { metadata: { name: 'w' }, spec: { replicas: 1 } }, { added: '.spec.replicas' }],
  ];
  for (const [name, l, r, want] of cases) {
    const c = compare(l, r, W);
    assert.equal(c.added.toString(), want.added ?? '', `${name}: added`);
    assert.equal(c.modified.toString(), want.modified ?? '', `${name}: modified`);
    assert.equal(c.removed.toString(), want.removed ?? '', `${name}: removed`);
  }
});

test('merge: configuration wins for leaves; granular maps and lists merge; shared list order follows the configuration', () => {
  const cases: [string, unknown, unknown, unknown][] = [
    ['maps merge', spec({ labels: { a: '1', b: '2' } }), spec({ labels: { b: '3', c: '4' } }), spec({ labels: { a: '1', b: '3', c: '4' } })],
    ['atomic list replaced', spec({ atomicList: ['a', 'b'] }), spec({ atomicList: ['c'] }), spec({ atomicList: ['c'] })],
    ['atomic map replaced', spec({ atomicMap: { a: '1' } }), spec({ atomicMap: { b: '2' } }), spec({ atomicMap: { b: '2' } })],
    ['set union, live-only items keep their place', spec({ setList: ['a', 'b', 'c'] }), spec({ setList: ['d', 'b'] }), spec({ setList: ['a', 'd', 'b', 'c'] })],
    ['map-list merges items by key', spec({ mapList: [{ name: 'x', value: '1' }, { name: 'y', value: '2' }] }), spec({ mapList: [{ name: 'y', tags: ['t'] }] }),
      spec({ mapList: [{ name: 'x', value: '1' }, { name: 'y', value: '2', tags: ['t'] }] })],
    ['shared items in configuration order', spec({ mapList: [{ name: 'a' }, { name: 'b' }, { name: 'c' }] }), spec({ mapList: [{ name: 'c' }, { name: 'a' }] }),
      spec({ mapList: [{ name: 'b' }, { name: 'c' }, { name: 'a' }] })],
  ];
  for (const [name, l, r, want] of cases) assert.deepEqual(merge(l, r, W), want, name);
  assert.throws(() => merge(spec({}), spec({ mapList: [{ name: 'a' }, { name: 'a' }] }), W), /duplicate entries/);
});

test('removeItems drops members and empties; ensureNamedFieldsAreMembers adds struct fields', () => {
  const v = { spec: { replicas: 1, labels: { a: '1' }, mapList: [{ name: 'x', value: '1' }, { name: 'y' }] } };
  assert.deepEqual(removeItems(v, FieldSet.of(['f:spec', 'f:labels', 'f:a'], ['f:spec', 'f:mapList', 'k:{"name":"y"}']), W),
    { spec: { replicas: 1, mapList: [{ name: 'x', value: '1' }] } });
  assert.deepEqual(removeItems(v, FieldSet.of(['f:spec', 'f:mapList', 'k:{"name":"x"}', 'f:value']), W),
    { spec: { replicas: 1, labels: { a: '1' }, mapList: [{ name: 'x' }, { name: 'y' }] } });
  assert.equal(removeItems(v, FieldSet.of(['f:spec']), W), undefined);
  const ens = ensureNamedFieldsAreMembers(FieldSet.of(['f:spec', 'f:labels', 'f:a'], ['f:spec', 'f:free', 'f:x', 'f:y']), W);
  assert.equal(ens.toString(), '.spec\n.spec.free\n.spec.labels\n.spec.free.x.y\n.spec.labels.a', 'free-form keys are not named fields');
});
