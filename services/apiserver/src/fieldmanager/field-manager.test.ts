import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError, defaultReplicaSet, type KubeObject, type ReplicaSet } from '@tskube/api';
import { StructuredFieldManager, LAST_APPLIED_ANNOTATION } from './field-manager.js';
import type { FieldManagerContext } from './index.js';
import type { ManagedFieldsEntry } from './managed.js';
import { toParentManagedFields, toScaleManagedFields } from './scale.js';
import { testSchemas } from './test-fixtures.js';

const RS = { group: 'apps', version: 'v1', kind: 'ReplicaSet' };
const CM = { group: '', version: 'v1', kind: 'ConfigMap' };
const WIDGET = { group: 'test', version: 'v1', kind: 'Widget' };
const T0 = new Date('2024-01-01T00:00:00Z');
const T1 = new Date('2024-01-01T00:01:00Z');

function fm(): StructuredFieldManager {
  return new StructuredFieldManager({
    hasStatus: (gvk) => gvk.kind === 'ReplicaSet',
    defaulter: (gvk, o) => { if (gvk.kind === 'ReplicaSet') defaultReplicaSet(o as unknown as ReplicaSet); },
  });
}

const ctx = (manager: string, over: Partial<FieldManagerContext> = {}): FieldManagerContext => ({ manager, subresource: '', gvk: RS, now: T0, ...over });
const actx = (manager: string, over: Partial<FieldManagerContext> & { force?: boolean } = {}) => ({ ...ctx(manager, over), force: over.force ?? false, name: 'web' });

function rs(replicas = 2, image = 'busybox'): KubeObject {
  return {
    apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web', namespace: 'default', labels: { app: 'web' } },
    spec: { replicas, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image }] } } },
  };
}

/** What storage would return: the write plus system metadata. */
function stored(o: KubeObject, rv = '1'): KubeObject {
  const c = structuredClone(o);
  if (c.kind === 'ReplicaSet') defaultReplicaSet(c as unknown as ReplicaSet);
  c.metadata = { ...c.metadata, uid: 'uid-1', resourceVersion: rv };
  return c;
}

const entries = (o: KubeObject) => (o.metadata?.managedFields ?? []) as ManagedFieldsEntry[];
const managers = (o: KubeObject) => entries(o).map((e) => `${e.manager}/${e.operation}${e.subresource ? `/${e.subresource}` : ''}`);
const fieldsOf = (o: KubeObject, manager: string, operation = 'Update') => entries(o).find((e) => e.manager === manager && e.operation === operation)?.fieldsV1;

test('create records one Update entry owning what was sent plus defaults; maps and list items are members, value structs are not', () => {
  const out = fm().update(rs(), null, ctx('kubectl-create'));
  assert.deepEqual(managers(out), ['kubectl-create/Update']);
  const e = entries(out)[0]!;
  assert.equal(e.apiVersion, 'apps/v1');
  assert.equal(e.time, '2024-01-01T00:00:00Z');
  assert.equal(e.fieldsType, 'FieldsV1');
  assert.deepEqual(e.fieldsV1, {
    'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
    'f:spec': {
      'f:replicas': {}, 'f:selector': {},
      'f:template': {
        'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
        'f:spec': {
          'f:containers': { 'k:{"name":"c"}': { '.': {}, 'f:image': {}, 'f:imagePullPolicy': {}, 'f:name': {}, 'f:resources': {}, 'f:terminationMessagePath': {}, 'f:terminationMessagePolicy': {} } },
          'f:dnsPolicy': {}, 'f:enableServiceLinks': {}, 'f:restartPolicy': {}, 'f:schedulerName': {}, 'f:securityContext': {}, 'f:terminationGracePeriodSeconds': {},
        },
      },
    },
  });
});

test('updates: the changer takes the field from others, the same manager accumulates, removed fields leave everybody', () => {
  const f = fm();
  let live = stored(f.update(rs(), null, ctx('creator')));
  // another manager changes replicas and adds a label
  const next = rs(5); (next.metadata!.labels as Record<string, string>).tier = 'fe';
  live = stored(f.update(next, live, ctx('scaler', { now: T1 })));
  assert.deepEqual(managers(live), ['creator/Update', 'scaler/Update']);
  assert.deepEqual(fieldsOf(live, 'scaler'), { 'f:metadata': { 'f:labels': { 'f:tier': {} } }, 'f:spec': { 'f:replicas': {} } });
  assert.ok(!JSON.stringify(fieldsOf(live, 'creator')).includes('f:replicas'), 'creator lost replicas');
  assert.equal(entries(live).find((e) => e.manager === 'scaler')!.time, '2024-01-01T00:01:00Z');
  // the same manager again: fields accumulate in its one entry
  const next2 = structuredClone(live); (next2.spec as { replicas: number }).replicas = 6; next2.metadata!.labels!.zone = 'a'; delete next2.metadata!.managedFields;
  live = stored(f.update(next2, live, ctx('scaler', { now: T1 })));
  assert.deepEqual(fieldsOf(live, 'scaler'), { 'f:metadata': { 'f:labels': { 'f:tier': {}, 'f:zone': {} } }, 'f:spec': { 'f:replicas': {} } });
  // removing a field removes it from every manager; a manager left with nothing disappears
  const next3 = structuredClone(live); delete next3.metadata!.labels!.tier; delete next3.metadata!.labels!.zone; delete (next3.spec as { replicas?: number }).replicas; delete next3.metadata!.managedFields;
  live = stored(f.update(next3, live, ctx('janitor')));
  // replicas was re-defaulted by the janitor's write (defaults are owned by the writer)
  assert.deepEqual(managers(live), ['creator/Update', 'janitor/Update']);
  assert.deepEqual(fieldsOf(live, 'janitor'), { 'f:spec': { 'f:replicas': {} } });
  // a write that changes nothing changes no entry (and no time)
  const before = JSON.stringify(live.metadata!.managedFields);
  const same = structuredClone(live); delete same.metadata!.managedFields;
  assert.equal(JSON.stringify(f.update(same, live, ctx('noop', { now: T1 })).metadata!.managedFields), before);
});

test('managedFields sent with an update: valid ones replace, invalid or empty ones are ignored, [] and [{}] reset', () => {
  const f = fm();
  const live = stored(f.update(rs(), null, ctx('creator')));
  const custom: ManagedFieldsEntry[] = [{ manager: 'someone', operation: 'Apply', apiVersion: 'apps/v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:replicas': {} } } }];
  const cases: [string, unknown, string[]][] = [
    ['valid entries replace the live ones', custom, ['someone/Apply']],
    ['absent: the live ones', undefined, ['creator/Update']],
    ['invalid operation: the live ones', [{ ...custom[0], operation: 'Delete' }], ['creator/Update']],
    ['missing fieldsType: the live ones', [{ ...custom[0], fieldsType: undefined }], ['creator/Update']],
    ['[]: reset (untracked from now on)', [], []],
    ['[{}]: reset', [{}], []],
  ];
  for (const [name, mf, want] of cases) {
    const next = structuredClone(live);
    if (mf === undefined) delete next.metadata!.managedFields; else next.metadata!.managedFields = mf as never;
    assert.deepEqual(managers(f.update(next, live, ctx('kubectl-edit'))), want, name);
  }
  // an untracked object stays untracked on updates; the first apply gives what exists to "before-first-apply"
  const untracked = stored({ ...rs(), metadata: { ...rs().metadata } });
  const upd = rs(3);
  assert.deepEqual(managers(f.update(upd, untracked, ctx('kubectl-edit'))), []);
  const applied = f.apply(untracked, rs(2), actx('mine'));
  assert.deepEqual(managers(applied), ['mine/Apply', 'before-first-apply/Update']);
  assert.throws(() => f.apply(untracked, rs(7), actx('mine')), (e) => e instanceof ApiError && e.code === 409
    && e.message === 'Apply failed with 1 conflict: conflict with "before-first-apply" using apps/v1: .spec.replicas');
});

test('status writes are recorded with subresource status and never own spec; main writes never own status', () => {
  const f = fm();
  let live = stored(f.update({ ...rs(), status: { replicas: 9 } }, null, ctx('creator')));
  assert.ok(!JSON.stringify(fieldsOf(live, 'creator')).includes('status'));
  const next = structuredClone(live); next.status = { replicas: 2, readyReplicas: 2 }; (next.spec as { replicas: number }).replicas = 7;
  live = stored(f.update(next, live, ctx('kube-controller-manager', { subresource: 'status' })));
  const e = entries(live).find((x) => x.subresource === 'status')!;
  assert.equal(e.manager, 'kube-controller-manager');
  assert.deepEqual(e.fieldsV1, { 'f:status': { 'f:readyReplicas': {}, 'f:replicas': {} } });
});

test('ephemeralcontainers writes own spec.ephemeralContainers only (upstream reset-fields filter)', () => {
  const f = new StructuredFieldManager();
  const POD = { group: '', version: 'v1', kind: 'Pod' };
  const pod: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', labels: { app: 'p' } }, spec: { containers: [{ name: 'main', image: 'busybox' }] } };
  const live = stored(f.update(pod, null, ctx('kubectl-create', { gvk: POD })));
  const next = structuredClone(live);
  next.metadata!.labels = { app: 'other' };
  (next.spec as { containers: Array<{ image: string }> }).containers[0]!.image = 'busybox:2';
  (next.spec as Record<string, unknown>).ephemeralContainers = [{ name: 'debugger', image: 'busybox' }];
  const out = f.update(next, live, ctx('kubectl-debug', { gvk: POD, subresource: 'ephemeralcontainers' }));
  const e = entries(out).find((x) => x.manager === 'kubectl-debug')!;
  assert.equal(e.subresource, 'ephemeralcontainers');
  assert.deepEqual(e.fieldsV1, { 'f:spec': { 'f:ephemeralContainers': { '.': {}, 'k:{"name":"debugger"}': { '.': {}, 'f:image': {}, 'f:name': {} } } } });
});

test('apply: create, no-op re-apply, removal of fields only the applier owned, fields of others stay', () => {
  const f = fm();
  let live = stored(f.apply(null, rs(), actx('kubectl')));
  assert.deepEqual(managers(live), ['kubectl/Apply']);
  const first = JSON.stringify(live.metadata!.managedFields);
  // identical re-apply later: nothing changes, not even the time
  live = stored(f.apply(live, rs(), actx('kubectl', { now: T1 })));
  assert.equal(JSON.stringify(live.metadata!.managedFields), first);
  // another manager adds an annotation and a label, and shares the app label by setting it to the same value
  const next = structuredClone(live); next.metadata!.annotations = { note: 'x' }; next.metadata!.labels!.extra = 'y'; delete next.metadata!.managedFields;
  live = stored(f.update(next, live, ctx('kubectl-annotate')));
  // the applier drops its label and the container image field is kept; the other's fields stay
  const cfg = rs(); delete cfg.metadata!.labels;
  live = stored(f.apply(live, cfg, actx('kubectl')));
  assert.deepEqual(live.metadata!.labels, { extra: 'y' }, 'app label removed: only the applier owned it');
  assert.deepEqual(live.metadata!.annotations, { note: 'x' });
  // removing a list item the applier owned
  const cfg2 = rs(); (cfg2.spec as { template: { spec: { containers: unknown[] } } }).template.spec.containers.push({ name: 'side', image: 'x' });
  live = stored(f.apply(live, cfg2, actx('kubectl')));
  assert.equal((live.spec as { template: { spec: { containers: unknown[] } } }).template.spec.containers.length, 2);
  live = stored(f.apply(live, rs(), actx('kubectl')));
  assert.deepEqual((live.spec as { template: { spec: { containers: { name: string }[] } } }).template.spec.containers.map((c) => c.name), ['c']);
});

test('apply conflicts: 409 with causes, shared ownership for equal values, force takes ownership', () => {
  const f = fm();
  let live = stored(f.apply(null, rs(2), actx('kubectl')));
  const next = structuredClone(live); (next.spec as { replicas: number }).replicas = 4; delete next.metadata!.managedFields;
  live = stored(f.update(next, live, ctx('kubectl-scale', { now: T1 })));
  const err = (() => { try { f.apply(live, rs(3, 'nginx'), actx('kubectl')); } catch (e) { return e; } return undefined; })();
  assert.ok(err instanceof ApiError && err.code === 409 && err.reason === 'Conflict');
  assert.equal(err.message, 'Apply failed with 1 conflict: conflict with "kubectl-scale" using apps/v1: .spec.replicas');
  assert.deepEqual(err.status.details, { causes: [{ reason: 'FieldManagerConflict', message: 'conflict with "kubectl-scale" using apps/v1', field: '.spec.replicas' }] });
  // another applier that wants the same value: no conflict, ownership shared
  const shared = stored(f.apply(live, { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web' }, spec: { replicas: 4 } }, actx('other')));
  assert.deepEqual(fieldsOf(shared, 'other', 'Apply'), { 'f:spec': { 'f:replicas': {} } });
  assert.deepEqual(fieldsOf(shared, 'kubectl-scale'), { 'f:spec': { 'f:replicas': {} } });
  // two managers, two fields: the message groups by manager
  const two = (() => { try { f.apply(shared, { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web' }, spec: { replicas: 1 }, }, actx('third')); } catch (e) { return e; } return undefined; })();
  assert.ok(two instanceof ApiError);
  assert.equal(two.message, 'Apply failed with 2 conflicts: conflicts with "kubectl-scale" using apps/v1:\n- .spec.replicas\nconflicts with "other":\n- .spec.replicas');
  // force: the value changes and the field leaves the other managers
  const forced = stored(f.apply(shared, rs(3), actx('kubectl', { force: true })));
  assert.equal((forced.spec as { replicas: number }).replicas, 3);
  assert.deepEqual(managers(forced), ['kubectl/Apply']);
});

test('apply input checks: kind and apiVersion, name, managedFields, list keys', () => {
  const f = fm();
  const cases: [string, KubeObject, string][] = [
    ['no apiVersion/kind', { metadata: { name: 'web' } }, 'invalid object type: /, Kind='],
    ['wrong kind', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' } }, 'invalid object type: apps/v1, Kind=Deployment'],
    ['no name on create', { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: {} }, 'the name of the object () does not match the name on the URL (web)'],
    ['managedFields', { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web', managedFields: [] } }, 'metadata.managedFields must be nil'],
    ['duplicate list keys', { ...rs(), spec: { template: { spec: { containers: [{ name: 'a' }, { name: 'a' }] } } } },
      'failed to create typed patch object (default/web; apps/v1, Kind=ReplicaSet): .spec.template.spec.containers: duplicate entries for key [name="a"]'],
  ];
  for (const [name, obj, msg] of cases) {
    assert.throws(() => f.apply(null, obj, actx('m')), (e) => e instanceof ApiError && e.code === 400 && e.message === msg, name);
  }
});

test('list types under apply: set items and map items are owned one by one, atomic lists as a whole', () => {
  const f = new StructuredFieldManager({ schemas: testSchemas });
  const w = (s: Record<string, unknown>): KubeObject => ({ apiVersion: 'test/v1', kind: 'Widget', metadata: { name: 'web' }, spec: s });
  const a = (m: string, force = false) => ({ manager: m, subresource: '', gvk: WIDGET, now: T0, force, name: 'web' });
  let live = stored(f.apply(null, w({ setList: ['a'], mapList: [{ name: 'x', value: '1' }], atomicList: ['p'] }), a('one')));
  live = stored(f.apply(live, w({ setList: ['b'], mapList: [{ name: 'y', value: '2' }] }), a('two')));
  assert.deepEqual(live.spec, { setList: ['a', 'b'], mapList: [{ name: 'x', value: '1' }, { name: 'y', value: '2' }], atomicList: ['p'] });
  // "one" drops its items: only its own go
  live = stored(f.apply(live, w({ atomicList: ['p'] }), a('one')));
  assert.deepEqual(live.spec, { setList: ['b'], mapList: [{ name: 'y', value: '2' }], atomicList: ['p'] });
  // an atomic list conflicts as a whole
  assert.throws(() => f.apply(live, w({ atomicList: ['p', 'q'] }), a('two')), (e) => e instanceof ApiError && /conflict with "one": \.spec\.atomicList$/.test(e.message));
  const forced = f.apply(live, w({ atomicList: ['q'] }), a('two', true));
  assert.deepEqual((forced.spec as { atomicList: string[] }).atomicList, ['q']);
});

test('client-side apply → kubectl server-side apply: last-applied fields may be taken over, the annotation follows', () => {
  const f = fm();
  const csa = rs(2);
  const lastApplied = `${JSON.stringify(csa)}\n`;
  csa.metadata!.annotations = { [LAST_APPLIED_ANNOTATION]: lastApplied };
  let live = stored(f.update(csa, null, ctx('kubectl-client-side-apply')));
  // kubectl's SSA changes replicas (owned by client-side apply, matching last-applied): allowed
  live = stored(f.apply(live, rs(3), actx('kubectl')));
  assert.equal((live.spec as { replicas: number }).replicas, 3);
  const ann = live.metadata!.annotations![LAST_APPLIED_ANNOTATION]!;
  assert.ok(ann.endsWith('\n') && (JSON.parse(ann) as { spec: { replicas: number } }).spec.replicas === 3, 'annotation updated to the applied configuration');
  assert.ok(!JSON.stringify(fieldsOf(live, 'kubectl-client-side-apply')).includes('f:replicas'));
  // a field changed by someone else after client-side apply still conflicts
  const next = structuredClone(live); (next.spec as { replicas: number }).replicas = 9; delete next.metadata!.managedFields;
  live = stored(f.update(next, live, ctx('kubectl')));
  assert.throws(() => f.apply(live, rs(4), actx('kubectl')), (e) => e instanceof ApiError && e.code === 409 && /conflict with "kubectl" using apps\/v1: \.spec\.replicas/.test(e.message));
  // other managers get no such allowance
  const csa2 = stored(f.update({ ...rs(2), metadata: { ...rs(2).metadata, annotations: { [LAST_APPLIED_ANNOTATION]: lastApplied } } }, null, ctx('kubectl-client-side-apply')));
  assert.throws(() => f.apply(csa2, rs(3), actx('my-tool')), /conflict with "kubectl-client-side-apply"/);
});

test('update managers beyond ten are merged into ancient-changes', () => {
  const f = new StructuredFieldManager({ schemas: testSchemas, maxUpdateManagers: 3 });
  const c = (m: string, sec: number): FieldManagerContext => ({ manager: m, subresource: '', gvk: WIDGET, now: new Date(Date.UTC(2024, 0, 1, 0, 0, sec)) });
  let live: KubeObject = stored(f.update({ apiVersion: 'test/v1', kind: 'Widget', metadata: { name: 'w' }, spec: { labels: { m0: 'x' } } }, null, c('m0', 0)));
  for (let i = 1; i <= 4; i++) {
    const next = structuredClone(live); (next.spec as { labels: Record<string, string> }).labels[`m${i}`] = 'x'; delete next.metadata!.managedFields;
    live = stored(f.update(next, live, c(`m${i}`, i)));
  }
  assert.deepEqual(managers(live), ['ancient-changes/Update', 'm3/Update', 'm4/Update']);
  assert.deepEqual(fieldsOf(live, 'ancient-changes'), { 'f:spec': { 'f:labels': { '.': {}, 'f:m0': {}, 'f:m1': {}, 'f:m2': {} } } });
});

test('configmaps (no status subresource): data keys owned one by one', () => {
  const f = new StructuredFieldManager();
  const cm = (data: Record<string, string>): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'web' }, data });
  let live = stored(f.apply(null, cm({ a: '1' }), { manager: 'x', subresource: '', gvk: CM, now: T0, force: false, name: 'web' }));
  live = stored(f.apply(live, cm({ b: '2' }), { manager: 'y', subresource: '', gvk: CM, now: T0, force: false, name: 'web' }));
  assert.deepEqual(live.data, { a: '1', b: '2' });
  assert.deepEqual(fieldsOf(live, 'y', 'Apply'), { 'f:data': { 'f:b': {} } });
});

test('scale subresource: replicas ownership moves between the parent and its Scale', () => {
  const f = fm();
  let live = stored(f.apply(null, rs(2), actx('kubectl')));
  const mapping = { apiVersion: 'apps/v1' };
  const scaleMF = toScaleManagedFields(live.metadata!.managedFields, mapping);
  assert.deepEqual(scaleMF, [{ manager: 'kubectl', operation: 'Apply', apiVersion: 'autoscaling/v1', time: '2024-01-01T00:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:replicas': {} } } }]);
  const scaleGvk = { group: 'autoscaling', version: 'v1', kind: 'Scale' };
  const oldScale: KubeObject = { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'web', uid: 'uid-1', managedFields: scaleMF as never }, spec: { replicas: 2 } };
  const newScale = f.update({ ...structuredClone(oldScale), spec: { replicas: 5 } }, oldScale, { manager: 'kubectl', subresource: 'scale', gvk: scaleGvk, now: T1 });
  const parentMF = toParentManagedFields(live.metadata!.managedFields, newScale.metadata!.managedFields, mapping);
  live = stored({ ...live, spec: { ...(live.spec as object), replicas: 5 }, metadata: { ...live.metadata, managedFields: parentMF as never } });
  assert.deepEqual(managers(live), ['kubectl/Apply', 'kubectl/Update/scale']);
  const scaleEntry = entries(live).find((e) => e.subresource === 'scale')!;
  assert.equal(scaleEntry.apiVersion, 'apps/v1');
  assert.deepEqual(scaleEntry.fieldsV1, { 'f:spec': { 'f:replicas': {} } });
  assert.throws(() => f.apply(live, rs(3), actx('kubectl')), (e) => e instanceof ApiError
    && e.message === 'Apply failed with 1 conflict: conflict with "kubectl" with subresource "scale" using apps/v1: .spec.replicas');
});
