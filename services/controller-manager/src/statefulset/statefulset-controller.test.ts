import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { PersistentVolumeClaim, Pod, StatefulSet } from '@tskube/api';
import { Resources } from '@tskube/client';
import { eventually, harness, type Harness } from '../testing.js';
import { POD_REVISION_LABEL } from '../history/history.js';
import { StatefulSetController } from './statefulset-controller.js';
import { parentAndOrdinal } from './util.js';

const STS_DEF = { group: 'apps', plural: 'statefulsets' };

function statefulSet(name: string, replicas: number, extra: Partial<StatefulSet['spec']> = {}): StatefulSet {
  return {
    apiVersion: 'apps/v1', kind: 'StatefulSet',
    metadata: { name, namespace: 'default', generation: 1 },
    spec: {
      replicas, serviceName: name, selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'busybox:1' }] } },
      podManagementPolicy: 'OrderedReady', updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
      revisionHistoryLimit: 10,
      ...extra,
    },
  };
}

describe('StatefulSet identity helpers', () => {
  const cases: [string, string, number][] = [['web-0', 'web', 0], ['my-db-12', 'my-db', 12], ['web', '', -1], ['web-x', '', -1]];
  for (const [name, parent, ordinal] of cases) {
    it(`parses ${name}`, () => assert.deepEqual(parentAndOrdinal(name), { parent, ordinal }));
  }
});

describe('StatefulSetController', () => {
  let h: Harness;
  let c: StatefulSetController;
  let run: Promise<void> | undefined;
  beforeEach(() => {
    h = harness();
    c = new StatefulSetController({ client: h.fake, informers: h.informers, logger: h.logger, recorder: h.recorder, now: h.clock.now });
    run = undefined;
  });
  afterEach(async () => {
    await h.stop();
    await run;
  });

  async function start(): Promise<void> {
    await h.start();
    run = c.run(h.signal);
  }
  async function pods(): Promise<Pod[]> {
    return (await h.fake.resource(Resources.pods).list({ namespace: 'default' })).items;
  }
  async function names(): Promise<string[]> {
    return (await pods()).filter((p) => !p.metadata?.deletionTimestamp).map((p) => p.metadata!.name!).sort();
  }
  async function getSet(name = 'web'): Promise<StatefulSet> {
    return h.fake.resource(Resources.statefulSets).get('default', name);
  }
  /** Acts as the kubelet: binds the pod (so deletions are graceful) and makes it Running and Ready. */
  async function makeReady(name: string): Promise<void> {
    const pc = h.fake.resource(Resources.pods);
    const p = await pc.get('default', name);
    if (!p.spec?.nodeName) await pc.patch('default', name, { spec: { nodeName: 'n1' } }, 'merge');
    await pc.patchStatus('default', name, {
      status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: h.clock.now().toISOString() }] },
    }, 'merge');
  }
  /** Finishes graceful deletions, as the kubelet would. */
  async function finishDeletions(): Promise<void> {
    for (const p of await pods()) if (p.metadata?.deletionTimestamp) await h.fake.resource(Resources.pods).delete('default', p.metadata.name!, { gracePeriodSeconds: 0 });
  }
  const quiet = () => new Promise((r) => setTimeout(r, 60));

  it('OrderedReady creates web-0, web-1, web-2 one at a time, each after its predecessor is Running and Ready', async () => {
    const set = h.fake.seed(STS_DEF, statefulSet('web', 3)) as unknown as StatefulSet;
    await start();
    await eventually(async () => assert.deepEqual(await names(), ['web-0']));
    await quiet();
    assert.deepEqual(await names(), ['web-0'], 'waits for web-0 to be ready');
    const p0 = await h.fake.resource(Resources.pods).get('default', 'web-0');
    const st = (await getSet()).status!;
    assert.equal(p0.metadata!.labels!['statefulset.kubernetes.io/pod-name'], 'web-0');
    assert.equal(p0.metadata!.labels!['apps.kubernetes.io/pod-index'], '0');
    assert.equal(p0.metadata!.labels![POD_REVISION_LABEL], st.updateRevision);
    assert.match(st.updateRevision!, /^web-[a-z0-9]+$/);
    assert.equal(st.currentRevision, st.updateRevision);
    assert.equal(p0.spec!.hostname, 'web-0');
    assert.equal(p0.spec!.subdomain, 'web');
    assert.deepEqual(p0.metadata!.ownerReferences?.map((r) => [r.kind, r.uid, r.controller]), [['StatefulSet', set.metadata!.uid, true]]);

    await makeReady('web-0');
    await eventually(async () => assert.deepEqual(await names(), ['web-0', 'web-1']));
    await quiet();
    assert.deepEqual(await names(), ['web-0', 'web-1']);
    await makeReady('web-1');
    await eventually(async () => assert.deepEqual(await names(), ['web-0', 'web-1', 'web-2']));
    await makeReady('web-2');
    await eventually(async () => {
      const s = (await getSet()).status!;
      assert.equal(s.replicas, 3);
      assert.equal(s.readyReplicas, 3);
      assert.equal(s.availableReplicas, 3);
      assert.equal(s.currentReplicas, 3);
      assert.equal(s.updatedReplicas, 3);
      assert.equal(s.observedGeneration, 1);
    });
    assert.deepEqual(h.recorder.events.filter((e) => e.reason === 'SuccessfulCreate').map((e) => e.message), [
      'create Pod web-0 in StatefulSet web successful',
      'create Pod web-1 in StatefulSet web successful',
      'create Pod web-2 in StatefulSet web successful',
    ]);
  });

  it('scales down from the highest ordinal, one at a time, waiting for each to terminate', async () => {
    h.fake.seed(STS_DEF, statefulSet('web', 3));
    await start();
    for (const n of ['web-0', 'web-1', 'web-2']) {
      await eventually(async () => assert.ok((await names()).includes(n)));
      await makeReady(n);
    }
    await eventually(async () => assert.equal((await getSet()).status?.readyReplicas, 3));
    const cur = await getSet();
    cur.spec!.replicas = 1;
    await h.fake.resource(Resources.statefulSets).update(cur);
    await eventually(async () => assert.deepEqual(await names(), ['web-0', 'web-1']));
    await quiet();
    // web-2 is still terminating (graceful): web-1 stays.
    assert.deepEqual(await names(), ['web-0', 'web-1']);
    assert.equal((await pods()).length, 3);
    await finishDeletions();
    await eventually(async () => assert.deepEqual(await names(), ['web-0']));
    assert.deepEqual(h.recorder.events.filter((e) => e.reason === 'SuccessfulDelete').map((e) => e.message), [
      'delete Pod web-2 in StatefulSet web successful',
      'delete Pod web-1 in StatefulSet web successful',
    ]);
  });

  it('Parallel creates and deletes all at once', async () => {
    h.fake.seed(STS_DEF, statefulSet('web', 3, { podManagementPolicy: 'Parallel' }));
    await start();
    await eventually(async () => assert.deepEqual(await names(), ['web-0', 'web-1', 'web-2']));
    const cur = await getSet();
    cur.spec!.replicas = 0;
    await h.fake.resource(Resources.statefulSets).update(cur);
    await eventually(async () => assert.deepEqual(await names(), []));
  });

  it('creates PVCs <claim>-<set>-<i> before each pod and mounts them; whenDeleted=Delete makes the set their owner', async () => {
    const set = h.fake.seed(STS_DEF, statefulSet('web', 2, {
      podManagementPolicy: 'Parallel',
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Retain' },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'c', image: 'busybox:1', volumeMounts: [{ name: 'data', mountPath: '/data' }] }], volumes: [{ name: 'scratch', emptyDir: {} }] },
      },
      volumeClaimTemplates: [{ metadata: { name: 'data', labels: { tier: 'db' } }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
    })) as unknown as StatefulSet;
    await start();
    await eventually(async () => assert.deepEqual(await names(), ['web-0', 'web-1']));
    const pvcs: PersistentVolumeClaim[] = (await h.fake.resource(Resources.persistentVolumeClaims).list({ namespace: 'default' })).items;
    assert.deepEqual(pvcs.map((p) => p.metadata!.name).sort(), ['data-web-0', 'data-web-1']);
    for (const p of pvcs) {
      assert.deepEqual(p.metadata!.labels, { tier: 'db', app: 'web' });
      assert.equal(p.spec!.resources!.requests!.storage, '1Gi');
      assert.deepEqual(p.metadata!.ownerReferences?.map((r) => [r.kind, r.uid, r.controller]), [['StatefulSet', set.metadata!.uid, true]]);
    }
    const p1 = await h.fake.resource(Resources.pods).get('default', 'web-1');
    assert.deepEqual(p1.spec!.volumes, [{ name: 'data', persistentVolumeClaim: { claimName: 'data-web-1' } }, { name: 'scratch', emptyDir: {} }]);
    const pvcEvents = h.recorder.events.filter((e) => e.message.startsWith('create Claim')).map((e) => e.message).sort();
    assert.deepEqual(pvcEvents, ['create Claim data-web-0 Pod web-0 in StatefulSet web success', 'create Claim data-web-1 Pod web-1 in StatefulSet web success']);
    // PVCs creates come before the pod creates.
    const order = h.fake.actions.filter((a) => a.verb === 'create' && (a.resource === 'pods' || a.resource === 'persistentvolumeclaims'))
      .map((a) => `${a.resource}/${(a.body as { metadata?: { name?: string } }).metadata?.name ?? ''}`);
    assert.ok(order.indexOf('persistentvolumeclaims/data-web-0') < order.indexOf('pods/web-0'));
  });

  it('rolls an update from the highest ordinal down to the partition, waiting for readiness, then finishes after lowering the partition', async () => {
    h.fake.seed(STS_DEF, statefulSet('web', 3, { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } }));
    await start();
    for (const n of ['web-0', 'web-1', 'web-2']) {
      await eventually(async () => assert.ok((await names()).includes(n)));
      await makeReady(n);
    }
    await eventually(async () => assert.equal((await getSet()).status?.readyReplicas, 3));
    const rev1 = (await getSet()).status!.currentRevision!;
    const image = async (n: string) => (await h.fake.resource(Resources.pods).get('default', n)).spec!.containers[0]!.image;

    const cur = await getSet();
    cur.spec!.template.spec!.containers[0]!.image = 'busybox:2';
    await h.fake.resource(Resources.statefulSets).update(cur);
    await eventually(async () => assert.ok((await pods()).find((p) => p.metadata!.name === 'web-2')?.metadata?.deletionTimestamp));
    await finishDeletions();
    await eventually(async () => assert.equal(await image('web-2'), 'busybox:2'));
    await makeReady('web-2');
    await eventually(async () => {
      const s = (await getSet()).status!;
      assert.equal(s.currentRevision, rev1);
      assert.notEqual(s.updateRevision, rev1);
      assert.equal(s.updatedReplicas, 1);
      assert.equal(s.currentReplicas, 2);
    });
    await quiet();
    assert.equal(await image('web-1'), 'busybox:1', 'below the partition nothing changes');
    assert.equal(await image('web-0'), 'busybox:1');
    assert.equal((await h.fake.resource(Resources.controllerRevisions).list({ namespace: 'default' })).items.length, 2);

    const again = await getSet();
    again.spec!.updateStrategy = { type: 'RollingUpdate', rollingUpdate: { partition: 0 } };
    await h.fake.resource(Resources.statefulSets).update(again);
    for (const n of ['web-1', 'web-0']) {
      await eventually(async () => assert.ok((await pods()).find((p) => p.metadata!.name === n)?.metadata?.deletionTimestamp));
      await finishDeletions();
      await eventually(async () => assert.equal(await image(n), 'busybox:2'));
      await makeReady(n);
    }
    await eventually(async () => {
      const s = (await getSet()).status!;
      assert.equal(s.currentRevision, s.updateRevision);
      assert.equal(s.currentReplicas, 3);
      assert.equal(s.updatedReplicas, 3);
    });
    const deletions = h.recorder.events.filter((e) => e.reason === 'SuccessfulDelete').map((e) => e.message);
    assert.deepEqual(deletions, ['web-2', 'web-1', 'web-0'].map((n) => `delete Pod ${n} in StatefulSet web successful`));
  });

  it('OnDelete never deletes for an update; a deleted pod comes back at the update revision', async () => {
    h.fake.seed(STS_DEF, statefulSet('web', 1, { updateStrategy: { type: 'OnDelete' } }));
    await start();
    await eventually(async () => assert.deepEqual(await names(), ['web-0']));
    await makeReady('web-0');
    const cur = await getSet();
    cur.spec!.template.spec!.containers[0]!.image = 'busybox:2';
    await h.fake.resource(Resources.statefulSets).update(cur);
    await eventually(async () => assert.equal((await getSet()).status?.updatedReplicas, 0));
    await quiet();
    assert.equal((await pods())[0]!.metadata!.deletionTimestamp, undefined);
    await h.fake.resource(Resources.pods).delete('default', 'web-0', { gracePeriodSeconds: 0 });
    await eventually(async () => assert.equal((await h.fake.resource(Resources.pods).get('default', 'web-0')).spec!.containers[0]!.image, 'busybox:2'));
  });

  it('deletes a failed pod and recreates it; prunes history to revisionHistoryLimit', async () => {
    h.fake.seed(STS_DEF, statefulSet('web', 1, { revisionHistoryLimit: 1, podManagementPolicy: 'Parallel' }));
    await start();
    await eventually(async () => assert.deepEqual(await names(), ['web-0']));
    const uid0 = (await h.fake.resource(Resources.pods).get('default', 'web-0')).metadata!.uid;
    await h.fake.resource(Resources.pods).patchStatus('default', 'web-0', { status: { phase: 'Failed' } }, 'merge');
    await eventually(async () => {
      const p = await h.fake.resource(Resources.pods).get('default', 'web-0');
      assert.notEqual(p.metadata!.uid, uid0);
    });
    // Three templates: with limit 1, only the live revision and one historic one remain.
    for (const img of ['busybox:2', 'busybox:3']) {
      const cur = await getSet();
      cur.spec!.template.spec!.containers[0]!.image = img;
      await h.fake.resource(Resources.statefulSets).update(cur);
      await eventually(async () => {
        await finishDeletions();
        assert.equal((await h.fake.resource(Resources.pods).get('default', 'web-0')).spec!.containers[0]!.image, img);
      });
      await makeReady('web-0');
    }
    await eventually(async () => {
      const revs = (await h.fake.resource(Resources.controllerRevisions).list({ namespace: 'default' })).items.map((r) => r.revision).sort();
      assert.deepEqual(revs, [2, 3]);
    });
  });
});
