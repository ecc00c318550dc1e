import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { Job } from '@tskube/api';
import { Resources } from '@tskube/client';
import { harness, type Harness } from '../testing.js';
import { TtlAfterFinishedController, ttlRemainingMs } from './ttl-after-finished-controller.js';

const JOB_DEF = { group: 'batch', plural: 'jobs' };
const T0 = Date.parse('2025-01-01T00:00:00Z');

function job(name: string, ttl: number | undefined, finished?: 'Complete' | 'Failed'): Job {
  return {
    apiVersion: 'batch/v1', kind: 'Job', metadata: { name, namespace: 'default' },
    spec: { ...(ttl !== undefined ? { ttlSecondsAfterFinished: ttl } : {}), template: { spec: { containers: [] } } },
    status: finished ? { conditions: [{ type: finished, status: 'True', lastTransitionTime: '2025-01-01T00:00:00Z' }] } : {},
  };
}

describe('TtlAfterFinishedController', () => {
  let h: Harness;
  let c: TtlAfterFinishedController;
  beforeEach(() => {
    h = harness(T0 + 10_000);
    c = new TtlAfterFinishedController({ client: h.fake, informers: h.informers, logger: h.logger, now: h.clock.now });
  });
  afterEach(async () => { await h.stop(); });

  it('knows which jobs need clean-up and when', () => {
    const now = new Date(T0 + 10_000);
    const cases: [Job, number | undefined][] = [
      [job('a', 100, 'Complete'), 90_000], [job('b', 5, 'Failed'), -5_000], [job('c', 100), undefined], [job('d', undefined, 'Complete'), undefined],
      [{ ...job('e', 0, 'Complete'), metadata: { name: 'e', deletionTimestamp: '2025-01-01T00:00:01Z' } }, undefined],
    ];
    for (const [j, want] of cases) assert.equal(ttlRemainingMs(j, now), want, j.metadata?.name);
  });

  it('requeues until the TTL expires, then deletes the job in the foreground with a uid precondition', async () => {
    h.fake.seed(JOB_DEF, job('done', 60, 'Complete'));
    h.fake.seed(JOB_DEF, job('running', 0));
    await h.start();
    assert.deepEqual(await c.reconcile('default/done'), { requeueAfter: 50_000 });
    assert.equal(await c.reconcile('default/running'), undefined);
    h.clock.advance(50_000);
    await c.reconcile('default/done');
    const del = h.fake.actions.filter((a) => a.verb === 'delete' && a.resource === 'jobs');
    assert.deepEqual(del.map((a) => a.name), ['done']);
    // ApiFakeClient models Foreground: the Job gets the foregroundDeletion finalizer and a deletionTimestamp.
    const j = await h.fake.resource(Resources.jobs).get('default', 'done');
    assert.ok(j.metadata?.deletionTimestamp);
    assert.deepEqual(j.metadata?.finalizers, ['foregroundDeletion']);
    assert.ok(await h.fake.resource(Resources.jobs).get('default', 'running'));
  });
});
