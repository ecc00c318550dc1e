import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, unlinkSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Pod } from '@tskube/api';
import { FakeClient, Resources } from '@tskube/client';
import { nullLogger } from '@tskube/log';
import { ManualClock } from '../clock.js';
import { CONFIG_MIRROR_ANNOTATION } from './manifest.js';
import { StaticPods } from './static-pods.js';

const manifest = (name: string, cmd = '3600'): string =>
  `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}}\nspec:\n  containers: [{name: main, image: local/busybox:1, command: [sleep, "${cmd}"]}]\n`;

describe('StaticPods', () => {
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'tskube-static-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function harness(o: { dir?: string; running?: Set<string> } = {}) {
    const client = new FakeClient();
    const events: string[] = [];
    const created: string[] = [];
    const sp = new StaticPods({
      dir: o.dir ?? dir, nodeName: 'n1', client, clock: new ManualClock(), logger: nullLogger(), checkMs: 20_000, mirrorSyncMs: 1000,
      nodeUid: () => 'node-uid',
      update: (p) => events.push(`update ${p.metadata?.name} ${p.metadata?.uid}`),
      remove: (p) => events.push(`remove ${p.metadata?.name} ${p.metadata?.uid}`),
      running: (uid) => o.running?.has(uid) ?? false,
      onMirrorCreated: (uid) => created.push(uid),
    });
    return { client, events, created, sp };
  }

  it('a missing directory is empty (no error)', async () => {
    const h = harness({ dir: join(dir, 'nope') });
    await h.sp.scan();
    assert.deepEqual(h.sp.pods(), []);
  });

  it('scan: add, no change, edit (new UID: remove + update), hidden/invalid/directories skipped, delete', async () => {
    const d = join(dir, 'scan');
    mkdirSync(d);
    const h = harness({ dir: d });
    writeFileSync(join(d, 'web.yaml'), manifest('web'));
    writeFileSync(join(d, '.web.yaml.swp'), 'garbage');
    writeFileSync(join(d, 'broken.yaml'), 'kind: Service');
    mkdirSync(join(d, 'sub'));
    await h.sp.scan();
    const first = h.sp.pods()[0]!;
    assert.equal(h.sp.pods().length, 1);
    assert.deepEqual(h.events, [`update web-n1 ${first.metadata?.uid}`]);
    assert.equal(h.sp.byName('default', 'web-n1'), first);
    await h.sp.scan();
    assert.equal(h.events.length, 1, 'unchanged file: nothing reported');
    assert.equal(h.sp.pods()[0], first, 'the same object (config.seen kept)');
    writeFileSync(join(d, 'web.yaml'), manifest('web', '60'));
    await h.sp.scan();
    const second = h.sp.pods()[0]!;
    assert.notEqual(second.metadata?.uid, first.metadata?.uid);
    assert.deepEqual(h.events.slice(1), [`remove web-n1 ${first.metadata?.uid}`, `update web-n1 ${second.metadata?.uid}`]);
    unlinkSync(join(d, 'web.yaml'));
    await h.sp.scan();
    assert.deepEqual(h.events.slice(3), [`remove web-n1 ${second.metadata?.uid}`]);
    assert.deepEqual(h.sp.pods(), []);
  });

  it('two files with the same pod name: the first by file name wins', async () => {
    const d = join(dir, 'clash');
    mkdirSync(d);
    writeFileSync(join(d, 'a.yaml'), manifest('web'));
    writeFileSync(join(d, 'b.yaml'), manifest('web', '1'));
    const h = harness({ dir: d });
    await h.sp.scan();
    assert.equal(h.sp.pods().length, 1);
    assert.equal(h.sp.pods()[0]?.spec?.containers[0]?.command?.[1], '3600');
  });

  it('mirror pods: created with owner and hash; a deleted one is recreated; a stale one replaced; an orphan deleted once not running', async () => {
    const d = join(dir, 'mirror');
    mkdirSync(d);
    writeFileSync(join(d, 'web.yaml'), manifest('web'));
    const running = new Set<string>();
    const h = harness({ dir: d, running });
    const pods = h.client.resource(Resources.pods);
    await h.sp.scan();
    const uid = h.sp.pods()[0]!.metadata!.uid!;
    running.add(uid);
    await h.sp.syncMirrors();
    const m1 = await pods.get('default', 'web-n1');
    assert.equal(m1.metadata?.annotations?.[CONFIG_MIRROR_ANNOTATION], uid);
    assert.deepEqual(m1.metadata?.ownerReferences, [{ apiVersion: 'v1', kind: 'Node', name: 'n1', uid: 'node-uid' }]);
    assert.notEqual(m1.metadata?.uid, uid, 'the apiserver gives the mirror its own UID');
    assert.deepEqual(h.created, [uid]);
    assert.equal(h.sp.observe(m1), true, 'a mirror pod is not for the pod workers');
    assert.equal(h.sp.observe({ metadata: { name: 'x', namespace: 'default' } } as Pod), false);
    await h.sp.syncMirrors();
    assert.equal(h.created.length, 1, 'in sync: nothing created');

    // A user force-deletes the mirror pod: the kubelet creates it again.
    await pods.delete('default', 'web-n1', { gracePeriodSeconds: 0 });
    assert.equal(h.sp.observeDelete(m1), true);
    await h.sp.syncMirrors();
    const m2 = await pods.get('default', 'web-n1');
    assert.notEqual(m2.metadata?.uid, m1.metadata?.uid);
    assert.deepEqual(h.created, [uid, uid]);
    h.sp.observe(m2);

    // `kubectl delete` (graceful: deletionTimestamp on the bound pod): deleted for good and recreated.
    await pods.delete('default', 'web-n1');
    const marked = await pods.get('default', 'web-n1');
    assert.ok(marked.metadata?.deletionTimestamp);
    h.sp.observe(marked);
    await h.sp.syncMirrors();
    const m3 = await pods.get('default', 'web-n1');
    assert.notEqual(m3.metadata?.uid, m2.metadata?.uid);
    assert.equal(m3.metadata?.deletionTimestamp, undefined);
    h.sp.observe(m3);

    // The manifest goes: the mirror stays while the pod still runs, then is deleted.
    unlinkSync(join(d, 'web.yaml'));
    await h.sp.scan();
    await h.sp.syncMirrors();
    assert.equal((await pods.get('default', 'web-n1')).metadata?.uid, m3.metadata?.uid);
    running.delete(uid);
    await h.sp.syncMirrors();
    await assert.rejects(pods.get('default', 'web-n1'), /not found/);
  });

  it('a pod of the same name that is not a mirror is left alone', async () => {
    const d = join(dir, 'squat');
    mkdirSync(d);
    writeFileSync(join(d, 'web.yaml'), manifest('web'));
    const h = harness({ dir: d });
    const pods = h.client.resource(Resources.pods);
    const squatter = await pods.create('default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-n1', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'i' }] } });
    await h.sp.scan();
    await h.sp.syncMirrors();
    assert.equal((await pods.get('default', 'web-n1')).metadata?.uid, squatter.metadata?.uid);
    assert.deepEqual(h.created, []);
  });
});
