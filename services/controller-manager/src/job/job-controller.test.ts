import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { defaultJob, generateJobSelector, type Job, type JobSpec, type Pod } from '@tskube/api';
import { Resources } from '@tskube/client';
import { eventually, harness, type Harness } from '../testing.js';
import { JobController } from './job-controller.js';
import {
  JOB_COMPLETION_INDEX_ANNOTATION, JOB_TRACKING_FINALIZER, formatIndexes, nextBackoffRecord, parseIndexes, remainingBackoffMs,
} from './util.js';

const JOB_DEF = { group: 'batch', plural: 'jobs' };
const POD_DEF = { group: '', plural: 'pods' };

/** A Job as the apiserver stores it: defaulted, with the generated selector and template labels. */
function job(name: string, spec: Partial<JobSpec> = {}): Job {
  const j: Job = {
    apiVersion: 'batch/v1', kind: 'Job',
    metadata: { name, namespace: 'default', uid: `uid-${name}`, generation: 1 },
    spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox:1' }] } }, ...spec },
  };
  defaultJob(j);
  generateJobSelector(j);
  return j;
}

describe('JobController', () => {
  let h: Harness;
  let c: JobController;
  beforeEach(() => {
    h = harness();
    c = new JobController({
      client: h.fake, informers: h.informers, logger: h.logger, recorder: h.recorder, now: h.clock.now,
      syncBatchMs: 0, podBackoffInitialMs: 1, podBackoffMaxMs: 1,
    });
  });
  afterEach(async () => { await h.stop(); });

  const pods = async () => (await h.fake.resource(Resources.pods).list({ namespace: 'default' })).items;
  const getJob = (name: string) => h.fake.resource(Resources.jobs).get('default', name);
  /** Acts as the kubelet: sets the phase of every pod matching `pred`. */
  async function finish(phase: 'Succeeded' | 'Failed', pred: (p: Pod) => boolean = () => true): Promise<void> {
    for (const p of await pods()) {
      if (p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed' || p.metadata?.deletionTimestamp || !pred(p)) continue;
      h.fake.seed(POD_DEF, { ...p, status: { phase, containerStatuses: [{ name: 'c', image: 'busybox:1', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: phase === 'Failed' ? 1 : 0, finishedAt: h.clock.now().toISOString() } } }] } });
    }
  }
  /** Acts as the kubelet for pods being deleted: removes them (once no finalizer is left). */
  async function reapTerminating(): Promise<void> {
    for (const p of await pods()) {
      if (p.metadata?.deletionTimestamp && !p.metadata.finalizers?.length) {
        await h.fake.resource(Resources.pods).delete('default', p.metadata.name!, { gracePeriodSeconds: 0 }).catch(() => undefined);
      }
    }
  }

  it('runs completions 3 with parallelism 2 to Complete, counting through the tracking finalizer', async () => {
    h.fake.seed(JOB_DEF, job('pi', { completions: 3, parallelism: 2 }));
    await h.start();
    const run = c.run(h.signal);
    await eventually(async () => assert.equal((await pods()).length, 2));
    for (const p of await pods()) {
      assert.match(p.metadata!.name!, /^pi-[a-z0-9]{5}$/);
      assert.deepEqual(p.metadata!.finalizers, [JOB_TRACKING_FINALIZER]);
      assert.equal(p.metadata!.labels!['batch.kubernetes.io/job-name'], 'pi');
      assert.equal(p.metadata!.labels!['controller-uid'], 'uid-pi');
      assert.deepEqual(p.metadata!.ownerReferences, [{ apiVersion: 'batch/v1', kind: 'Job', name: 'pi', uid: 'uid-pi', controller: true, blockOwnerDeletion: true }]);
    }
    await eventually(async () => {
      const j = await getJob('pi');
      assert.equal(j.status?.active, 2);
      assert.ok(j.status?.startTime);
    });
    await finish('Succeeded');
    await eventually(async () => assert.equal((await pods()).length, 3));
    await eventually(async () => assert.equal((await getJob('pi')).status?.succeeded, 2));
    await finish('Succeeded');
    await eventually(async () => {
      const j = await getJob('pi');
      assert.equal(j.status?.succeeded, 3);
      assert.equal(j.status?.active, 0);
      assert.equal(j.status?.failed ?? 0, 0);
      assert.deepEqual(j.status?.conditions?.map((x) => [x.type, x.status, x.reason]), [
        ['SuccessCriteriaMet', 'True', 'CompletionsReached'], ['Complete', 'True', 'CompletionsReached'],
      ]);
      assert.ok(j.status?.completionTime);
      assert.deepEqual(j.status?.uncountedTerminatedPods, {});
    });
    for (const p of await pods()) assert.equal(p.metadata?.finalizers, undefined, 'finalizer removed once counted');
    assert.equal(h.recorder.reasons().filter((r) => r === 'SuccessfulCreate').length, 3);
    assert.ok(h.recorder.reasons().includes('Completed'));
    await h.stop();
    await run;
  });

  it('fails with BackoffLimitExceeded once failures exceed backoffLimit, deleting active pods', async () => {
    h.fake.seed(JOB_DEF, job('bad', { backoffLimit: 1, parallelism: 1, completions: 1 }));
    await h.start();
    const run = c.run(h.signal);
    for (let i = 1; i <= 2; i++) {
      await eventually(async () => assert.equal((await pods()).filter((p) => !p.status?.phase).length, 1));
      await finish('Failed');
      await eventually(async () => assert.equal((await getJob('bad')).status?.failed, i));
      h.clock.advance(1000); // past the (1 ms) pod failure backoff
    }
    await eventually(async () => {
      const j = await getJob('bad');
      const failed = j.status?.conditions?.find((x) => x.type === 'Failed');
      assert.equal(failed?.status, 'True');
      assert.equal(failed?.reason, 'BackoffLimitExceeded');
      assert.equal(failed?.message, 'Job has reached the specified backoff limit');
      assert.equal(j.status?.conditions?.find((x) => x.type === 'FailureTarget')?.reason, 'BackoffLimitExceeded');
    });
    assert.equal((await pods()).length, 2, 'no pod after the limit');
    assert.deepEqual(h.recorder.events.filter((e) => e.reason === 'BackoffLimitExceeded').map((e) => [e.type, e.message]),
      [['Warning', 'Job has reached the specified backoff limit']]);
    await h.stop();
    await run;
  });

  it('waits the pod failure backoff before replacing a failed pod', async () => {
    const slow = new JobController({
      client: h.fake, informers: h.informers, logger: h.logger, recorder: h.recorder, now: h.clock.now, syncBatchMs: 0,
    });
    h.fake.seed(JOB_DEF, job('retry', { backoffLimit: 6 }));
    await h.start();
    await slow.reconcile('default/retry');
    await eventually(async () => assert.equal((await pods()).length, 1));
    await finish('Failed');
    await eventually(async () => {
      await slow.reconcile('default/retry');
      assert.equal((await getJob('retry')).status?.failed, 1);
    });
    const r = await slow.reconcile('default/retry');
    assert.equal((await pods()).length, 1, 'no replacement inside the 10 s backoff');
    assert.ok(r && r.requeueAfter > 9_000 && r.requeueAfter <= 10_000, JSON.stringify(r));
    h.clock.advance(10_001);
    await slow.reconcile('default/retry');
    assert.equal((await pods()).length, 2);
  });

  it('activeDeadlineSeconds: DeadlineExceeded, active pods deleted, Failed once they are gone', async () => {
    h.fake.seed(JOB_DEF, job('slow', { activeDeadlineSeconds: 10, parallelism: 2, completions: 2 }));
    await h.start();
    const r = await c.reconcile('default/slow');
    assert.ok(r && r.requeueAfter === 10_000, 'resync queued for the deadline');
    await eventually(async () => assert.equal((await pods()).length, 2));
    await eventually(async () => assert.equal((await getJob('slow')).status?.active, 2));
    h.clock.advance(10_000);
    await eventually(async () => {
      await c.reconcile('default/slow');
      assert.ok((await pods()).every((p) => p.metadata?.deletionTimestamp));
    });
    await eventually(async () => {
      await c.reconcile('default/slow');
      await reapTerminating();
      const j = await getJob('slow');
      const failed = j.status?.conditions?.find((x) => x.type === 'Failed');
      assert.equal(failed?.reason, 'DeadlineExceeded');
      assert.equal(failed?.message, 'Job was active longer than specified deadline');
      assert.equal(j.status?.failed, 2, 'deleted pods count as failed');
    });
    assert.ok(h.recorder.reasons().includes('DeadlineExceeded'));
  });

  it('suspend deletes the pods and sets Suspended; resume recreates them', async () => {
    h.fake.seed(JOB_DEF, job('s', { parallelism: 2, completions: 4 }));
    await h.start();
    const run = c.run(h.signal);
    await eventually(async () => assert.equal((await pods()).length, 2));
    const cur = await getJob('s');
    await h.fake.resource(Resources.jobs).update({ ...cur, spec: { ...cur.spec!, suspend: true } });
    await eventually(async () => {
      await reapTerminating();
      assert.equal((await pods()).length, 0);
      const j = await getJob('s');
      assert.deepEqual(j.status?.conditions?.map((x) => [x.type, x.status, x.reason, x.message]), [['Suspended', 'True', 'JobSuspended', 'Job suspended']]);
      assert.equal(j.status?.active, 0);
      assert.equal(j.status?.failed ?? 0, 0, 'pods of a suspended job are not failures');
    });
    const s = await getJob('s');
    await h.fake.resource(Resources.jobs).update({ ...s, spec: { ...s.spec!, suspend: false } });
    await eventually(async () => {
      assert.equal((await pods()).length, 2);
      assert.deepEqual((await getJob('s')).status?.conditions?.map((x) => [x.type, x.status, x.reason]), [['Suspended', 'False', 'JobResumed']]);
    });
    assert.deepEqual(h.recorder.reasons().filter((r) => r === 'Suspended' || r === 'Resumed'), ['Suspended', 'Resumed']);
    await h.stop();
    await run;
  });

  it('never counts a pod twice while the cache still shows its finalizer', async () => {
    const j = job('once', { completions: 2, parallelism: 1 });
    h.fake.seed(JOB_DEF, j);
    h.fake.seed(POD_DEF, {
      apiVersion: 'v1', kind: 'Pod',
      metadata: {
        name: 'once-a', namespace: 'default', labels: j.spec!.template.metadata!.labels, finalizers: [JOB_TRACKING_FINALIZER],
        ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: 'once', uid: 'uid-once', controller: true }],
      },
      spec: { containers: [{ name: 'c', image: 'x' }] }, status: { phase: 'Succeeded' },
    });
    await h.start();
    await h.freezeCaches();
    await c.reconcile('default/once');
    const after = await getJob('once');
    assert.equal(after.status?.succeeded, 1);
    assert.equal((await h.fake.resource(Resources.pods).get('default', 'once-a')).metadata?.finalizers, undefined);
    // The frozen cache still shows the finalizer and the old status: the pod must not be counted again.
    await c.reconcile('default/once').catch(() => undefined);
    assert.equal((await getJob('once')).status?.succeeded, 1);
  });

  it('adopts a matching orphan, adding the tracking finalizer', async () => {
    const j = job('adopt', { completions: 1 });
    h.fake.seed(JOB_DEF, j);
    h.fake.seed(POD_DEF, {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'orphan', namespace: 'default', labels: j.spec!.template.metadata!.labels },
      spec: { containers: [{ name: 'c', image: 'x' }] }, status: { phase: 'Running' },
    });
    await h.start();
    await c.reconcile('default/adopt');
    const p = await h.fake.resource(Resources.pods).get('default', 'orphan');
    assert.equal(p.metadata?.ownerReferences?.[0]?.uid, 'uid-adopt');
    assert.deepEqual(p.metadata?.finalizers, [JOB_TRACKING_FINALIZER]);
    assert.equal((await pods()).length, 1, 'the adopted pod counts as active');
  });

  it('Indexed: one pod per index with annotation, label, hostname and JOB_COMPLETION_INDEX', async () => {
    h.fake.seed(JOB_DEF, job('ix', { completions: 3, parallelism: 3, completionMode: 'Indexed' }));
    await h.start();
    await c.reconcile('default/ix');
    const ps = (await pods()).sort((a, b) => a.metadata!.name!.localeCompare(b.metadata!.name!));
    assert.deepEqual(ps.map((p) => p.metadata!.annotations![JOB_COMPLETION_INDEX_ANNOTATION]), ['0', '1', '2']);
    assert.deepEqual(ps.map((p) => p.metadata!.labels![JOB_COMPLETION_INDEX_ANNOTATION]), ['0', '1', '2']);
    assert.deepEqual(ps.map((p) => p.spec!.hostname), ['ix-0', 'ix-1', 'ix-2']);
    assert.match(ps[1]!.metadata!.name!, /^ix-1-[a-z0-9]{5}$/);
    assert.deepEqual(ps[0]!.spec!.containers[0]!.env, [{ name: 'JOB_COMPLETION_INDEX', valueFrom: { fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" } } }]);
    await eventually(async () => assert.equal(c.expectations.satisfied('default/ix'), true));
    await finish('Succeeded', (p) => p.metadata!.annotations![JOB_COMPLETION_INDEX_ANNOTATION] !== '1');
    await eventually(async () => {
      await c.reconcile('default/ix');
      const s = (await getJob('ix')).status;
      assert.equal(s?.completedIndexes, '0,2');
      assert.equal(s?.succeeded, 2);
    });
  });
});

describe('job helpers', () => {
  it('parses and formats completed indexes', () => {
    const cases: [string, number, number[], string][] = [
      ['', 5, [], ''], ['1,3-5,7', 10, [1, 3, 4, 5, 7], '1,3-5,7'], ['0-2,9', 5, [0, 1, 2], '0-2'], ['3-4', 10, [3, 4], '3-4'], ['x,2', 5, [2], '2'],
    ];
    for (const [s, completions, want, str] of cases) {
      assert.deepEqual(parseIndexes(s, completions), want, s);
      assert.equal(formatIndexes(want), str);
    }
  });

  it('pod failure backoff doubles per failure since the last success, capped', () => {
    const cases: [number, number, number][] = [
      // failures, ms since last failure, remaining
      [0, 0, 0], [1, 0, 10_000], [1, 4_000, 6_000], [2, 0, 20_000], [3, 15_000, 25_000], [10, 0, 360_000], [1, 11_000, 0],
    ];
    for (const [failures, since, want] of cases) {
      assert.equal(remainingBackoffMs({ failuresAfterLastSuccess: failures, lastFailureTime: 1_000_000 - since }, 1_000_000, 10_000, 360_000), want, `${failures}/${since}`);
    }
    const pod = (phase: string, at: number): Pod => ({ metadata: {}, status: { phase, containerStatuses: [{ name: 'c', image: '', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, finishedAt: new Date(at).toISOString() } } }] } });
    assert.deepEqual(nextBackoffRecord({ failuresAfterLastSuccess: 2, lastFailureTime: 5 }, [], [pod('Failed', 10_000)]), { failuresAfterLastSuccess: 3, lastFailureTime: 10_000 });
    assert.deepEqual(nextBackoffRecord({ failuresAfterLastSuccess: 2, lastFailureTime: 5 }, [pod('Succeeded', 20_000)], [pod('Failed', 10_000), pod('Failed', 30_000)]), { failuresAfterLastSuccess: 1, lastFailureTime: 30_000 });
    assert.deepEqual(nextBackoffRecord({ failuresAfterLastSuccess: 2, lastFailureTime: 5 }, [pod('Succeeded', 20_000)], []), { failuresAfterLastSuccess: 0 });
  });
});
