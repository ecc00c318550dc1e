import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { conflict, type Pod, type PodStatus } from '@tskube/api';
import { FakeClient, Resources } from '@tskube/client';
import { nullLogger } from '@tskube/log';
import { mergeStatus, StatusManager } from './status-manager.js';

async function seedPod(client: FakeClient): Promise<Pod> {
  return client.resource(Resources.pods).create('default', {
    metadata: { name: 'p', namespace: 'default' },
    spec: { nodeName: 'n1', containers: [{ name: 'c' }] },
    status: { phase: 'Pending', nominatedNodeName: 'n9', conditions: [{ type: 'PodScheduled', status: 'True' }, { type: 'example.com/Gate', status: 'True' }] },
  });
}

const running: PodStatus = {
  phase: 'Running',
  conditions: [{ type: 'Ready', status: 'True' }, { type: 'PodScheduled', status: 'True' }],
  podIP: '10.244.0.5',
};

function statusWrites(client: FakeClient): number {
  return client.actions.filter((a) => a.verb === 'update' && a.subresource === 'status').length;
}

describe('StatusManager', () => {
  it('writes a changed status once; the same status again sends nothing', async () => {
    const client = new FakeClient();
    const pod = await seedPod(client);
    const sm = new StatusManager({ client, logger: nullLogger() });
    assert.equal(await sm.setPodStatus(pod, running), true);
    assert.equal(await sm.setPodStatus(pod, structuredClone(running)), false);
    assert.equal(statusWrites(client), 1);
    const stored = await client.resource(Resources.pods).get('default', 'p');
    assert.equal(stored.status?.phase, 'Running');
    assert.equal(stored.status?.nominatedNodeName, 'n9', 'fields of other writers are kept');
    assert.deepEqual(stored.status?.conditions?.map((c) => c.type), ['example.com/Gate', 'Ready', 'PodScheduled']);
    assert.deepEqual(sm.get(pod.metadata!.uid!), running);
  });

  it('retries on conflict with a fresh read', async () => {
    const client = new FakeClient();
    const pod = await seedPod(client);
    let failures = 2;
    client.addReactor((a) => {
      if (a.verb === 'update' && a.subresource === 'status' && failures > 0) {
        failures--;
        throw conflict({ group: '', resource: 'pods' }, 'p');
      }
    });
    const sm = new StatusManager({ client, logger: nullLogger() });
    assert.equal(await sm.setPodStatus(pod, running), true);
    assert.equal(client.actions.filter((a) => a.verb === 'get').length, 3, 'one read per attempt');
    assert.equal((await client.resource(Resources.pods).get('default', 'p')).status?.phase, 'Running');
  });

  it('writes nothing to a pod that was replaced (other UID) or is gone', async () => {
    const client = new FakeClient();
    const pod = await seedPod(client);
    const sm = new StatusManager({ client, logger: nullLogger() });
    const stale: Pod = { ...pod, metadata: { ...pod.metadata, uid: 'old-uid' } };
    assert.equal(await sm.setPodStatus(stale, running), false);
    await client.resource(Resources.pods).delete('default', 'p', { gracePeriodSeconds: 0 });
    assert.equal(await sm.setPodStatus(pod, running), false);
    assert.equal(statusWrites(client), 0);
  });

  it('deletePod: grace 0 with a UID precondition; a replaced pod is left alone', async () => {
    const client = new FakeClient();
    const pod = await seedPod(client);
    const sm = new StatusManager({ client, logger: nullLogger() });
    await sm.deletePod({ ...pod, metadata: { ...pod.metadata, uid: 'someone-else' } });
    assert.ok(await client.resource(Resources.pods).get('default', 'p'), 'precondition failed: still there');
    await sm.deletePod(pod);
    await assert.rejects(client.resource(Resources.pods).get('default', 'p'));
    await sm.deletePod(pod); // NotFound is fine
  });

  it('mergeStatus: DisruptionTarget (shared) is ours; other foreign conditions are the server\'s', () => {
    const merged = mergeStatus(
      { conditions: [{ type: 'DisruptionTarget', status: 'False' }, { type: 'x/y', status: 'True' }, { type: 'Ready', status: 'False' }] },
      { phase: 'Failed', conditions: [{ type: 'x/y', status: 'False' }, { type: 'DisruptionTarget', status: 'True' }, { type: 'Ready', status: 'False' }] },
    );
    assert.deepEqual(merged.conditions?.map((c) => `${c.type}=${c.status}`), ['x/y=True', 'DisruptionTarget=True', 'Ready=False']);
  });
});
