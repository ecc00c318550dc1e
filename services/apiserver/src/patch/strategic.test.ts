import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '@tskube/api';
import { applyStrategicMergePatch, type PatchSchema } from './strategic.js';

function schema(fields: Record<string, PatchSchema>, opts: { mergeKey?: string; strategy?: string; elements?: PatchSchema } = {}): PatchSchema {
  return { field: (n) => fields[n], elements: () => opts.elements, mergeKey: opts.mergeKey, strategy: opts.strategy };
}
const leaf = schema({});
const container = schema({ env: schema({}, { mergeKey: 'name', strategy: 'merge', elements: leaf }) });
const podSchema = schema({
  metadata: schema({ finalizers: schema({}, { strategy: 'merge' }), labels: schema({}) }),
  spec: schema({
    containers: schema({}, { mergeKey: 'name', strategy: 'merge', elements: container }),
    volumes: schema({}, { mergeKey: 'name', strategy: 'merge,retainKeys', elements: leaf }),
    strategy: schema({}, { strategy: 'retainKeys' }),
    nested: schema({}),
  }),
});

type Obj = Record<string, unknown>;
const names = (o: Obj, list = 'containers') => ((o.spec as Obj)[list] as { name: string }[]).map((c) => c.name);
const pod = (containers: string[], extra: Obj = {}): Obj => ({ metadata: { name: 'p', finalizers: ['x', 'y'] }, spec: { containers: containers.map((name) => ({ name, image: `${name}:1` })), ...extra } });

test('list order: patch order for patch items, live order for server-only items, interleaved by live order', () => {
  const cases: [string, string[], Obj, string[]][] = [
    ['no directive: new items after', ['a', 'b', 'c'], { containers: [{ name: 'c', image: 'c:2' }, { name: 'd' }] }, ['a', 'b', 'c', 'd']],
    ['no directive: a patch item first moves ahead', ['a', 'b', 'c'], { containers: [{ name: 'd' }, { name: 'a', image: 'a:2' }] }, ['d', 'a', 'b', 'c']],
    ['$setElementOrder reorders', ['a', 'b', 'c'], { '$setElementOrder/containers': [{ name: 'c' }, { name: 'a' }, { name: 'b' }], containers: [{ name: 'a', image: 'a:2' }] }, ['c', 'a', 'b']],
    ['$setElementOrder with a deletion (kubectl apply of a removed item)', ['a', 'b'], { '$setElementOrder/containers': [{ name: 'a' }], containers: [{ name: 'b', $patch: 'delete' }] }, ['a']],
    ['$setElementOrder without the list in the patch', ['a', 'b'], { '$setElementOrder/containers': [{ name: 'b' }, { name: 'a' }] }, ['b', 'a']],
    ['server-only items keep their place by live order', ['a', 's', 'b'], { '$setElementOrder/containers': [{ name: 'b' }, { name: 'a' }, { name: 'n' }], containers: [{ name: 'n' }] }, ['s', 'b', 'a', 'n']],
    ['$patch: replace on an item replaces the list', ['a', 'b'], { containers: [{ $patch: 'replace' }, { name: 'z' }] }, ['z']],
  ];
  for (const [name, start, specPatch, want] of cases) {
    const out = applyStrategicMergePatch(pod(start), { spec: specPatch }, podSchema);
    assert.deepEqual(names(out), want, name);
  }
  const merged = applyStrategicMergePatch(pod(['a', 'b']), { spec: { containers: [{ name: 'a', image: 'a:2' }] } }, podSchema);
  assert.deepEqual((merged.spec as { containers: unknown[] }).containers, [{ name: 'a', image: 'a:2' }, { name: 'b', image: 'b:1' }]);
});

test('primitive merge lists: set union, $deleteFromPrimitiveList, $setElementOrder', () => {
  const fin = (patch: Obj) => (applyStrategicMergePatch(pod(['a']), { metadata: patch }, podSchema).metadata as { finalizers?: string[] }).finalizers;
  assert.deepEqual(fin({ finalizers: ['y', 'z'] }), ['x', 'y', 'z']);
  assert.deepEqual(fin({ '$deleteFromPrimitiveList/finalizers': ['x'] }), ['y']);
  assert.deepEqual(fin({ '$setElementOrder/finalizers': ['z', 'x'], '$deleteFromPrimitiveList/finalizers': ['y'], finalizers: ['z'] }), ['z', 'x']);
  assert.deepEqual(fin({ finalizers: null }), undefined);
});

test('$retainKeys: keys not listed are cleared (maps and list items); patch keys must be listed', () => {
  const dep = (strategy: Obj): Obj => ({ spec: { strategy, volumes: [{ name: 'v', emptyDir: {} }] } });
  const out = applyStrategicMergePatch(dep({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } }),
    { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' }, volumes: [{ name: 'v', $retainKeys: ['configMap', 'name'], configMap: { name: 'c' } }] } }, podSchema);
  assert.deepEqual(out.spec, { strategy: { type: 'Recreate' }, volumes: [{ name: 'v', configMap: { name: 'c' } }] });
  assert.throws(() => applyStrategicMergePatch(dep({ type: 'x' }), { spec: { strategy: { $retainKeys: ['type'], rollingUpdate: {} } } }, podSchema),
    (e) => e instanceof ApiError && e.code === 400 && e.message === 'invalid patch format of retainKeys');
});

test('map directives, nulls, replaced lists and errors', () => {
  const p = pod(['a'], { nested: { a: 1, b: { c: 2 } }, tolerations: [{ key: 'k' }] });
  const cases: [string, Obj, (o: Obj) => unknown, unknown][] = [
    ['$patch: replace on a map', { spec: { nested: { $patch: 'replace', z: 1 } } }, (o) => (o.spec as Obj).nested, { z: 1 }],
    ['$patch: delete on a map empties it', { spec: { nested: { $patch: 'delete' } } }, (o) => (o.spec as Obj).nested, {}],
    ['null deletes', { spec: { nested: { a: null } } }, (o) => (o.spec as Obj).nested, { b: { c: 2 } }],
    ['new values lose nulls and directives', { spec: { fresh: { a: null, b: 1, c: { $patch: 'delete' } } } }, (o) => (o.spec as Obj).fresh, { b: 1 }],
    ['lists without merge strategy are replaced', { spec: { tolerations: [{ key: 'z' }] } }, (o) => (o.spec as Obj).tolerations, [{ key: 'z' }]],
    ['a type change replaces', { spec: { nested: 'x' } }, (o) => (o.spec as Obj).nested, 'x'],
  ];
  for (const [name, patch, pick, want] of cases) assert.deepEqual(pick(applyStrategicMergePatch(p, patch, podSchema)), want, name);
  const errors: [string, Obj, number, RegExp][] = [
    ['unknown map directive', { spec: { nested: { $patch: 'explode' } } }, 400, /^unknown patch type: explode in map: map\[\$patch:explode\]$/],
    ['item without its merge key', { spec: { containers: [{ image: 'x' }] } }, 400, /does not contain declared merge key: name/],
    ['$setElementOrder that contradicts the patch list', { spec: { '$setElementOrder/containers': [{ name: 'b' }, { name: 'a' }], containers: [{ name: 'a' }, { name: 'b' }] } }, 400, /^The order in patch list:/],
    ['malformed $setElementOrder key', { spec: { $setElementOrder: [] } }, 400, /^invalid patch format of setElementOrder list$/],
    ['mixed element types', { metadata: { finalizers: [['a']] } }, 400, /^list element types are not identical/],
  ];
  for (const [name, patch, code, msg] of errors) {
    assert.throws(() => applyStrategicMergePatch(pod(['a', 'b'], { nested: { a: 1 } }), patch, podSchema), (e) => e instanceof ApiError && e.code === code && msg.test(e.message), name);
  }
});

test('lists of lists are refused with 422', () => {
  const p = { metadata: { finalizers: [] } };
  assert.throws(() => applyStrategicMergePatch(p, { metadata: { finalizers: [['a']] } }, podSchema),
    (e) => e instanceof ApiError && e.code === 422 && e.message === 'lists of lists are not supported');
});

test('the input document is not modified', () => {
  const p = pod(['a', 'b']);
  const before = JSON.stringify(p);
  applyStrategicMergePatch(p, { spec: { containers: [{ name: 'a', $patch: 'delete' }] }, metadata: { finalizers: ['z'] } }, podSchema);
  assert.equal(JSON.stringify(p), before);
});
