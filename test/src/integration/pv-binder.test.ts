/**
 * The persistentvolume-binder-controller against a real apiserver (etcd + apiserver in this
 * process) and the in-process controller-manager, driven with the pinned kubectl 1.32:
 * claims bind to the smallest fitting Available volume of their class, `kubectl get pv,pvc`
 * shows both Bound, a claim with nothing to bind gets FailedBinding, a volume pre-bound by
 * claimRef goes to its claim, and deleting claims releases (Retain) or deletes (Delete) volumes.
 * Needs the etcd binary and kubectl 1.32.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startControlPlane, type ControlPlane } from '../support/kubelet-stack.js';
import { eventually, type Kubectl } from '../support/kubectl.js';

describe('persistentvolume-binder-controller (real apiserver, kubectl 1.32)', () => {
  let plane: ControlPlane | undefined;
  let k: Kubectl;

  before(async () => {
    plane = await startControlPlane({ name: 'pv-binder-it', controllerManager: { controllers: ['persistentvolume-binder-controller'] } });
    k = plane.kubectl;
  });
  after(async () => { await plane?.stop(); });

  const kubectl = (args: string[], input?: string) => k.ok(args, input === undefined ? {} : { input });
  const apply = (...objs: unknown[]) => kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objs }));
  const pv = (name: string, size: string, o: { cls?: string; policy?: string; claimRef?: { namespace: string; name: string }; modes?: string[] } = {}) => ({
    apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name },
    spec: {
      capacity: { storage: size }, accessModes: o.modes ?? ['ReadWriteOnce'], hostPath: { path: `/tmp/tskube-pv/${name}` },
      persistentVolumeReclaimPolicy: o.policy ?? 'Retain',
      ...(o.cls !== undefined ? { storageClassName: o.cls } : {}), ...(o.claimRef ? { claimRef: o.claimRef } : {}),
    },
  });
  const pvc = (name: string, size: string, o: { cls?: string; modes?: string[] } = {}) => ({
    apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name, namespace: 'default' },
    spec: { accessModes: o.modes ?? ['ReadWriteOnce'], resources: { requests: { storage: size } }, ...(o.cls !== undefined ? { storageClassName: o.cls } : {}) },
  });
  const jsonpath = async (what: string, path: string) => (await kubectl(['get', what, '-o', `jsonpath=${path}`])).trim();
  const waitPhase = (what: string, phase: string) =>
    eventually(`${what} ${phase}`, async () => (await k.run(['get', what, '-o', 'jsonpath={.status.phase}'])).stdout.trim() === phase, 20_000, 200);

  it('binds a claim to the smallest fitting volume of its class; kubectl get pv,pvc shows Bound', async () => {
    await apply(pv('pv-small', '1Gi', { cls: '' }), pv('pv-fit', '5Gi', { cls: '' }), pv('pv-huge', '50Gi', { cls: '' }), pv('pv-fast', '5Gi', { cls: 'fast' }));
    await apply(pvc('data', '2Gi', { cls: '' }));
    await waitPhase('pvc/data', 'Bound');
    assert.equal(await jsonpath('pvc/data', '{.spec.volumeName}'), 'pv-fit');
    assert.equal(await jsonpath('pvc/data', '{.status.capacity.storage}'), '5Gi');
    assert.equal(await jsonpath('pvc/data', '{.metadata.annotations.pv\\.kubernetes\\.io/bind-completed}'), 'yes');
    await waitPhase('pv/pv-fit', 'Bound');
    assert.equal(await jsonpath('pv/pv-fit', '{.spec.claimRef.namespace}/{.spec.claimRef.name}'), 'default/data');
    assert.equal(await jsonpath('pv/pv-fit', '{.metadata.annotations.pv\\.kubernetes\\.io/bound-by-controller}'), 'yes');

    const table = await kubectl(['get', 'pv,pvc']);
    assert.match(table, /^NAME\s+CAPACITY\s+ACCESS MODES\s+RECLAIM POLICY\s+STATUS\s+CLAIM\s+STORAGECLASS/m);
    assert.match(table, /^persistentvolume\/pv-fit\s+5Gi\s+RWO\s+Retain\s+Bound\s+default\/data\s/m);
    assert.match(table, /^persistentvolume\/pv-small\s+1Gi\s+RWO\s+Retain\s+Available\s/m);
    assert.match(table, /^persistentvolumeclaim\/data\s+Bound\s+pv-fit\s+5Gi\s+RWO\s/m);
  });

  it('FailedBinding without volumes; a volume pre-bound by claimRef goes to its claim; a later volume binds the waiting claim', async () => {
    await apply(pvc('waiting', '100Gi'));
    await eventually('FailedBinding event', async () => {
      const ev = await kubectl(['get', 'events', '--field-selector', 'involvedObject.name=waiting', '-o', 'jsonpath={range .items[*]}{.type} {.reason} {.source.component}: {.message}{"\\n"}{end}']);
      return ev.includes('Normal FailedBinding persistentvolume-controller: no persistent volumes available for this claim and no storage class is set');
    }, 20_000, 200);
    assert.equal(await jsonpath('pvc/waiting', '{.status.phase}'), 'Pending');

    await apply(pv('pv-reserved', '1Gi', { claimRef: { namespace: 'default', name: 'mine' } }), pvc('intruder', '1Gi'), pvc('mine', '1Gi'));
    await waitPhase('pvc/mine', 'Bound');
    assert.equal(await jsonpath('pvc/mine', '{.spec.volumeName}'), 'pv-reserved');
    assert.notEqual(await jsonpath('pvc/intruder', '{.spec.volumeName}'), 'pv-reserved');

    await apply(pv('pv-late', '200Gi'));
    await waitPhase('pvc/waiting', 'Bound');
    assert.equal(await jsonpath('pvc/waiting', '{.spec.volumeName}'), 'pv-late');
  });

  it('deleting claims: Retain → Released, Delete → the volume is deleted', async () => {
    await apply(pv('pv-delete', '3Gi', { cls: 'scratch', policy: 'Delete' }), pvc('scratch', '3Gi', { cls: 'scratch' }));
    await waitPhase('pvc/scratch', 'Bound');
    await kubectl(['delete', 'pvc', 'data', 'scratch']);
    await waitPhase('pv/pv-fit', 'Released');
    assert.equal(await jsonpath('pv/pv-fit', '{.spec.claimRef.name}'), 'data');
    await eventually('pv-delete deleted', async () => (await k.run(['get', 'pv', 'pv-delete'])).code !== 0, 20_000, 200);
    const table = await kubectl(['get', 'pv', 'pv-fit']);
    assert.match(table, /^pv-fit\s+5Gi\s+RWO\s+Retain\s+Released\s+default\/data\s/m);
  });
});
