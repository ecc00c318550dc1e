import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch, type PatchSchema } from './patch.js';
import { ApiError } from '@tskube/api';

/** A hand-made schema: spec.containers merge by name, each container's env merge by name, ports by containerPort, finalizers a set. */
function schema(fields: Record<string, PatchSchema>, opts: { mergeKey?: string; strategy?: string; elements?: PatchSchema } = {}): PatchSchema {
  return { field: (n) => fields[n], elements: () => opts.elements, mergeKey: opts.mergeKey, strategy: opts.strategy };
}
const leaf = schema({});
const container = schema({ env: schema({}, { mergeKey: 'name', strategy: 'merge', elements: leaf }), ports: schema({}, { mergeKey: 'containerPort', strategy: 'merge', elements: leaf }) });
const podSchema = schema({
  metadata: schema({ finalizers: schema({}, { strategy: 'merge' }) }),
  spec: schema({ containers: schema({}, { mergeKey: 'name', strategy: 'merge', elements: container }), volumes: schema({}, { mergeKey: 'name', strategy: 'merge,retainKeys', elements: leaf }) }),
});

const pod = () => ({
  metadata: { name: 'p', labels: { a: '1', b: '2' }, finalizers: ['x'] },
  spec: { containers: [{ name: 'app', image: 'v1', env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] }, { name: 'side', image: 's1' }], tolerations: [{ key: 'k' }] },
});

test('strategic merge: lists with a merge key merge by key, others are replaced', () => {
  const out = applyStrategicMergePatch(pod(), { spec: { containers: [{ name: 'app', image: 'v2', env: [{ name: 'B', value: '3' }, { name: 'C', value: '4' }] }], tolerations: [{ key: 'z' }] } }, podSchema);
  const spec = out.spec as { containers: { name: string; image: string; env?: unknown[] }[]; tolerations: unknown[] };
  assert.deepEqual(spec.containers.map((c) => [c.name, c.image]), [['app', 'v2'], ['side', 's1']]);
  assert.deepEqual(spec.containers[0]!.env, [{ name: 'A', value: '1' }, { name: 'B', value: '3' }, { name: 'C', value: '4' }]);
  assert.deepEqual(spec.tolerations, [{ key: 'z' }], 'no merge key: replaced');
});

test('strategic merge directives: $patch delete/replace, $setElementOrder, $deleteFromPrimitiveList, null', () => {
  const del = applyStrategicMergePatch(pod(), { spec: { containers: [{ name: 'side', $patch: 'delete' }] } }, podSchema);
  assert.deepEqual((del.spec as { containers: { name: string }[] }).containers.map((c) => c.name), ['app']);
  const order = applyStrategicMergePatch(pod(), { spec: { '$setElementOrder/containers': [{ name: 'side' }, { name: 'app' }] } }, podSchema);
  assert.deepEqual((order.spec as { containers: { name: string }[] }).containers.map((c) => c.name), ['side', 'app']);
  const rep = applyStrategicMergePatch(pod(), { metadata: { labels: { $patch: 'replace', c: '3' } } }, podSchema);
  assert.deepEqual((rep.metadata as { labels: object }).labels, { c: '3' });
  const prim = applyStrategicMergePatch(pod(), { metadata: { '$deleteFromPrimitiveList/finalizers': ['x'], labels: { a: null } } }, podSchema);
  assert.deepEqual((prim.metadata as { finalizers: string[] }).finalizers, []);
  assert.deepEqual((prim.metadata as { labels: object }).labels, { b: '2' });
  const set = applyStrategicMergePatch(pod(), { metadata: { finalizers: ['x', 'y'] } }, podSchema);
  assert.deepEqual((set.metadata as { finalizers: string[] }).finalizers, ['x', 'y'], 'a merge list of primitives is a set union');
  assert.throws(() => applyStrategicMergePatch(pod(), { $patch: 'explode' }, podSchema), ApiError);
});

test('merge patch (RFC 7386) and JSON patch (RFC 6902)', () => {
  assert.deepEqual(applyMergePatch({ a: 1, b: { c: 2, d: 3 } }, { b: { c: null, e: 4 }, f: [1] }), { a: 1, b: { d: 3, e: 4 }, f: [1] });
  const jp = applyJsonPatch({ a: [1, 2] }, [{ op: 'add', path: '/a/-', value: 3 }, { op: 'replace', path: '/b', value: 1 }].slice(0, 1));
  assert.deepEqual(jp, { a: [1, 2, 3] });
  assert.throws(() => applyJsonPatch({ a: 1 }, [{ op: 'test', path: '/a', value: 2 }]), (e) => e instanceof ApiError && e.code === 422);
  assert.throws(() => applyJsonPatch({ a: 1 }, { op: 'add' }), (e) => e instanceof ApiError && e.code === 400);
});
