import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { ControllerRevision, PodTemplateSpec } from '@tskube/api';
import { Resources } from '@tskube/client';
import { harness, type Harness } from '../testing.js';
import {
  CONTROLLER_REVISION_HASH_LABEL, ControllerHistory, canonicalJson, hashRevisionData, newControllerRevision, nextRevision,
  revisionName, revisionsToPrune, sameData, sortRevisions, templateOfRevision, templatePatch,
} from './history.js';

const template: PodTemplateSpec = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'busybox:1' }] } };
const owner = { metadata: { name: 'web', namespace: 'default', uid: 'u-1' } };
const gvk = { apiVersion: 'apps/v1', kind: 'StatefulSet' };

function rev(name: string, revision: number, ts = '2025-01-01T00:00:00Z'): ControllerRevision {
  return { metadata: { name, creationTimestamp: ts }, revision, data: {} };
}

describe('revision data and names', () => {
  it('stores the template as a replace patch with sorted keys and restores it', () => {
    const data = templatePatch({ spec: { containers: [{ name: 'c', image: 'x' }] }, metadata: { labels: { b: '1', a: '2' } } });
    assert.equal(canonicalJson(data), '{"spec":{"template":{"$patch":"replace","metadata":{"labels":{"a":"2","b":"1"}},"spec":{"containers":[{"image":"x","name":"c"}]}}}}');
    const r = newControllerRevision(owner, gvk, template.metadata!.labels, templatePatch(template), 1, 0);
    assert.deepEqual(templateOfRevision(r), template);
    assert.ok(sameData(r, JSON.parse(JSON.stringify(templatePatch(template)))));
  });

  it('names a revision <owner>-<hash>, the hash depending on data and collisionCount only', () => {
    const a = newControllerRevision(owner, gvk, { app: 'web' }, templatePatch(template), 1, 0);
    const b = newControllerRevision(owner, gvk, { app: 'web' }, templatePatch(template), 7, 0);
    const c = newControllerRevision(owner, gvk, { app: 'web' }, templatePatch(template), 1, 1);
    const d = newControllerRevision(owner, gvk, { app: 'web' }, templatePatch({ ...template, spec: { containers: [{ name: 'c', image: 'busybox:2' }] } }), 1, 0);
    assert.equal(a.metadata!.name, b.metadata!.name);
    assert.notEqual(a.metadata!.name, c.metadata!.name);
    assert.notEqual(a.metadata!.name, d.metadata!.name);
    assert.match(a.metadata!.name!, /^web-[bcdfghjklmnpqrstvwxz2456789]+$/);
    assert.equal(a.metadata!.labels![CONTROLLER_REVISION_HASH_LABEL], a.metadata!.name!.slice(4));
    assert.equal(a.metadata!.labels!.app, 'web');
    assert.deepEqual(a.metadata!.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'u-1', controller: true, blockOwnerDeletion: true }]);
    assert.equal(hashRevisionData({ b: 1, a: 2 }), hashRevisionData({ a: 2, b: 1 }));
    assert.equal(revisionName('x'.repeat(300), 'h').length, 225);
  });

  it('sorts by revision, then creation time, then name; prunes the oldest non-live ones beyond the limit', () => {
    const revs = sortRevisions([rev('c', 2), rev('b', 1, '2025-01-02T00:00:00Z'), rev('a', 1, '2025-01-02T00:00:00Z'), rev('z', 1)]);
    assert.deepEqual(revs.map((r) => r.metadata!.name), ['z', 'a', 'b', 'c']);
    assert.equal(nextRevision(revs), 3);
    assert.equal(nextRevision([]), 1);
    const cases: { live: string[]; limit: number; want: string[] }[] = [
      { live: ['c'], limit: 10, want: [] },
      { live: ['c'], limit: 1, want: ['z', 'a'] },
      { live: ['c', 'z'], limit: 1, want: ['a'] },
      { live: [], limit: 0, want: ['z', 'a', 'b', 'c'] },
    ];
    for (const t of cases) assert.deepEqual(revisionsToPrune(revs, new Set(t.live), t.limit).map((r) => r.metadata!.name), t.want);
  });
});

describe('ControllerHistory', () => {
  let h: Harness;
  beforeEach(() => { h = harness(); });
  afterEach(async () => { await h.stop(); });

  it('returns the existing revision for the same data and bumps collisionCount when the name holds other data', async () => {
    const informer = h.informers.informer(Resources.controllerRevisions);
    const history = new ControllerHistory(h.fake, informer);
    await h.start();
    const r1 = newControllerRevision(owner, gvk, { app: 'web' }, templatePatch(template), 1, 0);
    const collision = { count: 0 };
    const created = await history.create(owner, r1, collision);
    const again = await history.create(owner, r1, collision);
    assert.equal(again.metadata!.uid, created.metadata!.uid);
    assert.equal(collision.count, 0);
    // Someone else's data under the name the next revision would get.
    const other = templatePatch({ ...template, spec: { containers: [{ name: 'c', image: 'other' }] } });
    const r2 = newControllerRevision(owner, gvk, { app: 'web' }, other, 2, 0);
    await h.fake.resource(Resources.controllerRevisions).create('default', { ...r2, data: { squatter: true } as ControllerRevision['data'] });
    const stored = await history.create(owner, r2, collision);
    assert.equal(collision.count, 1);
    assert.notEqual(stored.metadata!.name, r2.metadata!.name);
    assert.ok(sameData(stored, other));
  });
});
