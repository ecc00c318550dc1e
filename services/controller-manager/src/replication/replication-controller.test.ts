import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { Pod, ReplicationController } from '@tskube/api';
import { Resources } from '@tskube/client';
import { eventually, harness, type Harness } from '../testing.js';
import { ReplicaSetController } from '../replicaset/replicaset-controller.js';
import { REPLICATION_CONTROLLER_KIND, rcAsReplicaSet, replicaSetAsRC } from './replication-controller.js';

const RC = { group: '', plural: 'replicationcontrollers' };
const PODS = { group: '', plural: 'pods' };

function rc(name: string, replicas: number): ReplicationController {
  return {
    apiVersion: 'v1', kind: 'ReplicationController',
    metadata: { name, namespace: 'default', generation: 1 },
    spec: {
      replicas, selector: { app: name },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'busybox:1' }] } },
    },
  };
}

describe('ReplicationController (ReplicaSet controller over RCs)', () => {
  let h: Harness;
  let c: ReplicaSetController;
  let run: Promise<void> | undefined;
  beforeEach(() => {
    h = harness();
    c = new ReplicaSetController({ client: h.fake, informers: h.informers, logger: h.logger, recorder: h.recorder, now: h.clock.now, kind: REPLICATION_CONTROLLER_KIND });
    run = undefined;
  });
  afterEach(async () => {
    await h.stop();
    await run;
  });
  const listPods = async (): Promise<Pod[]> => (await h.fake.resource(Resources.pods).list({ namespace: 'default' })).items;

  it('creates pods owned by the RC, adopts matching orphans, reports status and records events on the RC', async () => {
    const owner = h.fake.seed(RC, rc('web', 3));
    h.fake.seed(PODS, { metadata: { name: 'orphan', namespace: 'default', labels: { app: 'web' } }, spec: { containers: [] }, status: { phase: 'Pending' } });
    await h.start();
    run = c.run(h.signal);
    await eventually(async () => {
      const got = await h.fake.resource(Resources.replicationControllers).get('default', 'web');
      assert.equal(got.status?.replicas, 3);
      assert.equal(got.status?.fullyLabeledReplicas, 3);
      assert.equal(got.status?.observedGeneration, 1);
    });
    const pods = await listPods();
    assert.equal(pods.length, 3);
    for (const p of pods) {
      assert.deepEqual(p.metadata?.ownerReferences, [{ apiVersion: 'v1', kind: 'ReplicationController', name: 'web', uid: owner.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    }
    assert.ok(pods.some((p) => p.metadata?.name === 'orphan'));
    const created = h.recorder.events.filter((e) => e.reason === 'SuccessfulCreate');
    assert.equal(created.length, 2);
    for (const e of created) {
      assert.equal(e.kind, 'ReplicationController');
      assert.equal(e.object, 'default/web');
      assert.match(e.message, /^Created pod: web-[a-z0-9]{5}$/);
    }
    // Scale down: victims deleted, event on the RC.
    const cur = await h.fake.resource(Resources.replicationControllers).get('default', 'web');
    await h.fake.resource(Resources.replicationControllers).update({ ...cur, spec: { ...cur.spec, replicas: 1 } });
    await eventually(async () => assert.equal((await listPods()).length, 1));
    assert.equal(h.recorder.events.filter((e) => e.reason === 'SuccessfulDelete' && e.kind === 'ReplicationController').length, 2);
  });

  it('converts between RC and ReplicaSet shapes', () => {
    const obj = rc('x', 2);
    const view = rcAsReplicaSet(obj);
    assert.equal(view.kind, 'ReplicationController');
    assert.deepEqual(view.spec?.selector, { matchLabels: { app: 'x' } });
    assert.equal(rcAsReplicaSet(obj), view); // one view per object
    const back = replicaSetAsRC({ ...structuredClone(view) as object, status: { replicas: 2, readyReplicas: 1 } } as Parameters<typeof replicaSetAsRC>[0]);
    assert.deepEqual(back.spec?.selector, { app: 'x' });
    assert.deepEqual(back.status, { replicas: 2, readyReplicas: 1 });
    assert.equal(back.kind, 'ReplicationController');
  });
});
