import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { PersistentVolume, PersistentVolumeClaim } from '@tskube/api';
import { Resources } from '@tskube/client';
import { eventually, harness, type Harness } from '../testing.js';
import { ANN_BIND_COMPLETED, ANN_BOUND_BY_CONTROLLER, PersistentVolumeBinder, findBestMatch, volumeMismatch } from './persistentvolume-binder.js';

const PV = { group: '', plural: 'persistentvolumes' };
const PVC = { group: '', plural: 'persistentvolumeclaims' };

function pv(name: string, size: string, o: { modes?: string[]; cls?: string; phase?: string; labels?: Record<string, string>; claimRef?: PersistentVolume['spec'] extends infer S ? S extends { claimRef?: infer R } ? R : never : never; policy?: string; ann?: Record<string, string> } = {}): PersistentVolume {
  return {
    apiVersion: 'v1', kind: 'PersistentVolume',
    metadata: { name, uid: `uid-${name}`, ...(o.labels ? { labels: o.labels } : {}), ...(o.ann ? { annotations: o.ann } : {}) },
    spec: {
      capacity: { storage: size }, accessModes: o.modes ?? ['ReadWriteOnce'], hostPath: { path: `/data/${name}` },
      persistentVolumeReclaimPolicy: o.policy ?? 'Retain',
      ...(o.cls !== undefined ? { storageClassName: o.cls } : {}), ...(o.claimRef ? { claimRef: o.claimRef } : {}),
    },
    status: { phase: o.phase ?? 'Available' },
  };
}

function pvc(name: string, size: string, o: { modes?: string[]; cls?: string; selector?: Record<string, string>; volumeName?: string; ann?: Record<string, string> } = {}): PersistentVolumeClaim {
  return {
    apiVersion: 'v1', kind: 'PersistentVolumeClaim',
    metadata: { name, namespace: 'default', uid: `uid-${name}`, ...(o.ann ? { annotations: o.ann } : {}) },
    spec: {
      accessModes: o.modes ?? ['ReadWriteOnce'], resources: { requests: { storage: size } },
      ...(o.cls !== undefined ? { storageClassName: o.cls } : {}), ...(o.selector ? { selector: { matchLabels: o.selector } } : {}),
      ...(o.volumeName ? { volumeName: o.volumeName } : {}),
    },
    status: { phase: 'Pending' },
  };
}

describe('findBestMatch', () => {
  it('picks the smallest fitting volume of the right class, modes, selector; prefers fewer access modes; pre-bound wins', () => {
    const cases: { name: string; claim: PersistentVolumeClaim; volumes: PersistentVolume[]; want?: string }[] = [
      { name: 'smallest that fits', claim: pvc('c', '1Gi'), volumes: [pv('big', '10Gi'), pv('small', '500Mi'), pv('mid', '2Gi')], want: 'mid' },
      { name: 'exact size', claim: pvc('c', '1Gi'), volumes: [pv('a', '1Gi'), pv('b', '2Gi')], want: 'a' },
      { name: 'none big enough', claim: pvc('c', '5Gi'), volumes: [pv('a', '1Gi')] },
      { name: 'unset and "" are the same class', claim: pvc('c', '1Gi', { cls: '' }), volumes: [pv('a', '1Gi')], want: 'a' },
      { name: 'unset claim, "" volume', claim: pvc('c', '1Gi'), volumes: [pv('a', '1Gi', { cls: '' })], want: 'a' },
      { name: 'class must match', claim: pvc('c', '1Gi', { cls: 'fast' }), volumes: [pv('slow', '1Gi', { cls: 'slow' }), pv('none', '1Gi'), pv('fast', '5Gi', { cls: 'fast' })], want: 'fast' },
      { name: 'class on claim, none on volume', claim: pvc('c', '1Gi', { cls: 'fast' }), volumes: [pv('a', '1Gi')] },
      { name: 'access modes must be offered', claim: pvc('c', '1Gi', { modes: ['ReadWriteMany'] }), volumes: [pv('rwo', '1Gi'), pv('rwx', '5Gi', { modes: ['ReadWriteMany', 'ReadOnlyMany'] })], want: 'rwx' },
      { name: 'fewer access modes before smaller size', claim: pvc('c', '1Gi'), volumes: [pv('many', '1Gi', { modes: ['ReadWriteOnce', 'ReadOnlyMany'] }), pv('one', '8Gi')], want: 'one' },
      { name: 'selector', claim: pvc('c', '1Gi', { selector: { tier: 'gold' } }), volumes: [pv('plain', '1Gi'), pv('gold', '3Gi', { labels: { tier: 'gold' } })], want: 'gold' },
      { name: 'only Available', claim: pvc('c', '1Gi'), volumes: [pv('rel', '1Gi', { phase: 'Released' }), pv('ok', '2Gi')], want: 'ok' },
      { name: 'claimed by another', claim: pvc('c', '1Gi'), volumes: [pv('a', '1Gi', { claimRef: { namespace: 'default', name: 'other' } })] },
      {
        name: 'pre-bound to this claim wins over a better fit', claim: pvc('c', '1Gi'),
        volumes: [pv('fit', '1Gi'), pv('pre', '9Gi', { claimRef: { namespace: 'default', name: 'c' }, phase: 'Pending', cls: 'other' })], want: 'pre',
      },
    ];
    for (const c of cases) assert.equal(findBestMatch(c.claim, c.volumes)?.metadata?.name, c.want, c.name);
  });

  it('explains why a requested volume does not fit', () => {
    assert.equal(volumeMismatch(pv('a', '1Gi'), pvc('c', '2Gi')), 'requested PV is too small');
    assert.equal(volumeMismatch(pv('a', '1Gi', { cls: 'x' }), pvc('c', '1Gi')), 'storageClassName does not match');
    assert.equal(volumeMismatch(pv('a', '1Gi'), pvc('c', '1Gi', { modes: ['ReadWriteMany'] })), 'incompatible accessMode');
    assert.equal(volumeMismatch(pv('a', '1Gi'), pvc('c', '1Gi')), undefined);
  });
});

describe('PersistentVolumeBinder', () => {
  let h: Harness;
  let run: Promise<void> | undefined;
  beforeEach(() => {
    h = harness();
    const c = new PersistentVolumeBinder({ client: h.fake, informers: h.informers, logger: h.logger, recorder: h.recorder, now: h.clock.now });
    run = h.start().then(() => c.run(h.signal));
  });
  afterEach(async () => {
    await h.stop();
    await run;
  });
  const getPV = (n: string) => h.fake.resource(Resources.persistentVolumes).get(n).catch(() => undefined);
  const getPVC = (n: string) => h.fake.resource(Resources.persistentVolumeClaims).get('default', n);

  it('binds a claim to the best volume with upstream annotations, claimRef and statuses', async () => {
    h.fake.seed(PV, pv('big', '10Gi'));
    h.fake.seed(PV, pv('fit', '2Gi'));
    h.fake.seed(PVC, pvc('data', '1Gi'));
    await eventually(async () => assert.equal((await getPVC('data')).status?.phase, 'Bound'));
    const c = await getPVC('data');
    assert.equal(c.spec?.volumeName, 'fit');
    assert.deepEqual(c.metadata?.annotations, { [ANN_BIND_COMPLETED]: 'yes', [ANN_BOUND_BY_CONTROLLER]: 'yes' });
    assert.deepEqual(c.status, { phase: 'Bound', accessModes: ['ReadWriteOnce'], capacity: { storage: '2Gi' } });
    const v = (await getPV('fit'))!;
    assert.equal(v.status?.phase, 'Bound');
    assert.deepEqual(v.metadata?.annotations, { [ANN_BOUND_BY_CONTROLLER]: 'yes' });
    assert.deepEqual({ ...v.spec?.claimRef, resourceVersion: undefined }, { kind: 'PersistentVolumeClaim', namespace: 'default', name: 'data', uid: 'uid-data', apiVersion: 'v1', resourceVersion: undefined });
    assert.equal((await getPV('big'))!.status?.phase, 'Available');
  });

  it('two claims never get the same volume', async () => {
    h.fake.seed(PV, pv('a', '1Gi'));
    h.fake.seed(PV, pv('b', '1Gi'));
    h.fake.seed(PVC, pvc('one', '1Gi'));
    h.fake.seed(PVC, pvc('two', '1Gi'));
    await eventually(async () => {
      const names = [(await getPVC('one')).spec?.volumeName, (await getPVC('two')).spec?.volumeName];
      assert.deepEqual(names.sort(), ['a', 'b']);
    });
  });

  it('no volume and no class: FailedBinding event, stays Pending; a new volume binds it', async () => {
    h.fake.seed(PVC, pvc('wait', '1Gi'));
    await eventually(() => assert.ok(h.recorder.events.some((e) => e.reason === 'FailedBinding')));
    const ev = h.recorder.events.find((e) => e.reason === 'FailedBinding')!;
    assert.deepEqual({ ...ev }, { object: 'default/wait', kind: 'PersistentVolumeClaim', type: 'Normal', reason: 'FailedBinding', message: 'no persistent volumes available for this claim and no storage class is set' });
    assert.equal((await getPVC('wait')).status?.phase, 'Pending');
    h.fake.seed(PV, pv('late', '1Gi'));
    await eventually(async () => assert.equal((await getPVC('wait')).spec?.volumeName, 'late'));
  });

  it('a class without volumes: ProvisioningFailed (no StorageClasses)', async () => {
    h.fake.seed(PVC, pvc('fast', '1Gi', { cls: 'fast' }));
    await eventually(() => assert.ok(h.recorder.events.some((e) => e.reason === 'ProvisioningFailed' && e.message === 'storageclass.storage.k8s.io "fast" not found')));
  });

  it('claim pre-bound by volumeName: bound without bound-by-controller on the claim; a mismatch is an event', async () => {
    h.fake.seed(PV, pv('small', '1Gi'));
    h.fake.seed(PV, pv('named', '5Gi'));
    h.fake.seed(PVC, pvc('pre', '1Gi', { volumeName: 'named' }));
    h.fake.seed(PVC, pvc('toobig', '3Gi', { volumeName: 'small' }));
    await eventually(async () => assert.equal((await getPVC('pre')).status?.phase, 'Bound'));
    assert.deepEqual((await getPVC('pre')).metadata?.annotations, { [ANN_BIND_COMPLETED]: 'yes' });
    assert.deepEqual((await getPV('named'))!.metadata?.annotations, { [ANN_BOUND_BY_CONTROLLER]: 'yes' });
    await eventually(() => assert.ok(h.recorder.events.some((e) => e.reason === 'VolumeMismatch' && e.message === 'Cannot bind to requested volume "small": requested PV is too small')));
    assert.equal((await getPVC('toobig')).status?.phase, 'Pending');
  });

  it('volume pre-bound by claimRef: bound to that claim only, no bound-by-controller on the volume', async () => {
    h.fake.seed(PV, pv('reserved', '1Gi', { claimRef: { namespace: 'default', name: 'mine' } }));
    h.fake.seed(PVC, pvc('other', '1Gi'));
    h.fake.seed(PVC, pvc('mine', '1Gi'));
    await eventually(async () => assert.equal((await getPVC('mine')).spec?.volumeName, 'reserved'));
    const v = (await getPV('reserved'))!;
    assert.equal(v.metadata?.annotations?.[ANN_BOUND_BY_CONTROLLER], undefined);
    assert.equal(v.spec?.claimRef?.uid, 'uid-mine');
    assert.deepEqual((await getPVC('mine')).metadata?.annotations, { [ANN_BIND_COMPLETED]: 'yes', [ANN_BOUND_BY_CONTROLLER]: 'yes' });
    assert.equal((await getPVC('other')).spec?.volumeName, undefined);
  });

  it('claim deleted: Retain → Released (claimRef kept), Delete → the PV is deleted', async () => {
    h.fake.seed(PV, pv('keep', '1Gi'));
    h.fake.seed(PV, pv('drop', '2Gi', { policy: 'Delete' }));
    h.fake.seed(PVC, pvc('k', '1Gi'));
    h.fake.seed(PVC, pvc('d', '2Gi'));
    await eventually(async () => {
      assert.equal((await getPVC('k')).status?.phase, 'Bound');
      assert.equal((await getPVC('d')).status?.phase, 'Bound');
      assert.equal((await getPV('drop'))!.spec?.claimRef?.name, 'd');
    });
    await h.fake.resource(Resources.persistentVolumeClaims).delete('default', 'k');
    await h.fake.resource(Resources.persistentVolumeClaims).delete('default', 'd');
    await eventually(async () => assert.equal((await getPV('keep'))!.status?.phase, 'Released'));
    assert.equal((await getPV('keep'))!.spec?.claimRef?.name, 'k');
    await eventually(async () => assert.equal(await getPV('drop'), undefined));
  });

  it('a bound claim whose volume disappears is Lost with ClaimLost', async () => {
    h.fake.seed(PV, pv('v', '1Gi'));
    h.fake.seed(PVC, pvc('c', '1Gi'));
    await eventually(async () => assert.equal((await getPVC('c')).status?.phase, 'Bound'));
    await h.fake.resource(Resources.persistentVolumes).delete('v');
    await eventually(async () => assert.equal((await getPVC('c')).status?.phase, 'Lost'));
    assert.ok(h.recorder.events.some((e) => e.reason === 'ClaimLost' && e.message === 'Bound claim has lost its PersistentVolume. Data on the volume is lost!'));
    assert.equal((await getPVC('c')).status?.capacity, undefined);
  });
});
