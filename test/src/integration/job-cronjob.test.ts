// Jobs and CronJobs end to end: the real apiserver (real etcd) and the controller-manager
// in-process with job-controller, cronjob-controller, ttl-after-finished-controller and the
// garbage collector. No kubelet runs: an in-test driver plays it, binding each pod, moving it
// to Succeeded or Failed by its `outcome` label (`hang` keeps it Running) and removing pods
// being deleted once no finalizer is left. The controllers' clock is real time plus an offset
// the CronJob test moves to just before a minute boundary (ControllerContext.now), so a
// `* * * * *` schedule fires within seconds.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CronJob, Event, Job, Pod } from '@tskube/api';
import { Resources, type RestClient } from '@tskube/client';
import { startControlPlane, type ControlPlane } from '../support/kubelet-stack.js';
import { untilPasses } from '../support/kubectl.js';

const NS = 'batch-it';
let plane: ControlPlane | undefined;
let admin: RestClient;
let offsetMs = 0;
/** Most pods of one Job seen non-terminal at once. */
const maxActive = new Map<string, number>();

const eventually = (what: string, fn: () => Promise<void> | void, timeoutMs = 20_000): Promise<void> => untilPasses(what, fn, timeoutMs, 100);

/** One pass of the fake kubelet over the namespace. */
async function drive(): Promise<void> {
  const pods = admin.resource(Resources.pods);
  const list = (await pods.list({ namespace: NS })).items;
  const active = new Map<string, number>();
  for (const p of list) {
    const name = p.metadata!.name!;
    const job = p.metadata?.labels?.['batch.kubernetes.io/job-name'] ?? '';
    if (p.metadata?.deletionTimestamp) {
      if (!p.metadata.finalizers?.length) await pods.delete(NS, name, { gracePeriodSeconds: 0 }).catch(() => undefined);
      continue;
    }
    const phase = p.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') continue;
    active.set(job, (active.get(job) ?? 0) + 1);
    if (!p.spec?.nodeName) {
      await pods.createSubresource(NS, name, 'binding', { apiVersion: 'v1', kind: 'Binding', metadata: { name }, target: { kind: 'Node', name: 'fake-node' } }).catch(() => undefined);
      continue;
    }
    const outcome = p.metadata?.labels?.outcome ?? 'succeed';
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const finished = (exitCode: number) => ({
      phase: exitCode ? 'Failed' : 'Succeeded',
      conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: now, reason: 'PodCompleted' }],
      containerStatuses: [{ name: 'c', image: 'busybox:1', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode, startedAt: now, finishedAt: now } } }],
    });
    const status = outcome === 'hang'
      ? { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now }] }
      : finished(outcome === 'fail' ? 1 : 0);
    if (outcome === 'hang' && phase === 'Running') continue;
    await pods.patchStatus(NS, name, { status }, 'merge').catch(() => undefined);
  }
  for (const [job, n] of active) maxActive.set(job, Math.max(maxActive.get(job) ?? 0, n));
}

function job(name: string, spec: Partial<NonNullable<Job['spec']>>, outcome = 'succeed'): Job {
  return {
    apiVersion: 'batch/v1', kind: 'Job', metadata: { name, namespace: NS },
    spec: {
      ...spec,
      template: { metadata: { labels: { outcome } }, spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox:1' }] } },
    },
  };
}

async function eventsFor(name: string): Promise<Event[]> {
  return (await admin.resource(Resources.events).list({ namespace: NS, fieldSelector: `involvedObject.name=${name}` })).items;
}

before(async () => {
  plane = await startControlPlane({
    name: 'batch-it', namespaces: [NS],
    controllerManager: {
      controllers: ['job-controller', 'cronjob-controller', 'ttl-after-finished-controller', 'garbage-collector-controller'],
      now: () => new Date(Date.now() + offsetMs),
    },
  });
  admin = plane.admin;
  plane.loop(drive, 150);
});

after(async () => { await plane?.stop(); });

describe('Job and CronJob controllers against the real apiserver', { concurrency: true }, () => {
  test('completions 3 / parallelism 2 completes with the right status and conditions', async () => {
    await admin.resource(Resources.jobs).create(NS, job('pi', { completions: 3, parallelism: 2 }));
    await eventually('pi complete', async () => {
      const j = await admin.resource(Resources.jobs).get(NS, 'pi');
      assert.deepEqual(j.status?.conditions?.map((c) => [c.type, c.status]), [['SuccessCriteriaMet', 'True'], ['Complete', 'True']]);
      assert.equal(j.status?.succeeded, 3);
      assert.equal(j.status?.active, 0);
      assert.equal(j.status?.failed ?? 0, 0);
      assert.ok(j.status?.startTime && j.status.completionTime);
      assert.deepEqual(j.status?.uncountedTerminatedPods, {});
    });
    const pods: Pod[] = (await admin.resource(Resources.pods).list({ namespace: NS, labelSelector: 'batch.kubernetes.io/job-name=pi' })).items;
    assert.equal(pods.length, 3);
    for (const p of pods) {
      assert.equal(p.metadata?.finalizers, undefined, 'tracking finalizer removed');
      assert.equal(p.metadata?.labels?.['job-name'], 'pi');
    }
    assert.ok((maxActive.get('pi') ?? 0) <= 2, `parallelism respected (saw ${maxActive.get('pi')})`);
    await eventually('events', async () => {
      const reasons = (await eventsFor('pi')).map((e) => e.reason);
      assert.ok(reasons.includes('Completed'), reasons.join());
      assert.ok(reasons.includes('SuccessfulCreate'));
    });
  });

  test('a failing job backs off 10 s between pods and fails with BackoffLimitExceeded', async () => {
    await admin.resource(Resources.jobs).create(NS, job('bad', { backoffLimit: 1 }, 'fail'));
    await eventually('bad failed', async () => {
      const j = await admin.resource(Resources.jobs).get(NS, 'bad');
      const failed = j.status?.conditions?.find((c) => c.type === 'Failed');
      assert.equal(failed?.status, 'True');
      assert.equal(failed?.reason, 'BackoffLimitExceeded');
      assert.equal(failed?.message, 'Job has reached the specified backoff limit');
      assert.equal(j.status?.failed, 2);
    }, 30_000);
    const pods = (await admin.resource(Resources.pods).list({ namespace: NS, labelSelector: 'batch.kubernetes.io/job-name=bad' })).items
      .sort((a, b) => Date.parse(a.metadata!.creationTimestamp!) - Date.parse(b.metadata!.creationTimestamp!));
    assert.equal(pods.length, 2);
    const gap = Date.parse(pods[1]!.metadata!.creationTimestamp!) - Date.parse(pods[0]!.metadata!.creationTimestamp!);
    assert.ok(gap >= 9_000, `second pod after the 10 s pod failure backoff (gap ${gap} ms)`);
    const ev = (await eventsFor('bad')).find((e) => e.reason === 'BackoffLimitExceeded');
    assert.equal(ev?.type, 'Warning');
  });

  test('ttlSecondsAfterFinished removes the finished job and its pods', async () => {
    await admin.resource(Resources.jobs).create(NS, job('short', { ttlSecondsAfterFinished: 1 }));
    await eventually('job and pods gone', async () => {
      const jobs = (await admin.resource(Resources.jobs).list({ namespace: NS })).items.map((j) => j.metadata?.name);
      assert.ok(!jobs.includes('short'), jobs.join());
      const pods = (await admin.resource(Resources.pods).list({ namespace: NS, labelSelector: 'batch.kubernetes.io/job-name=short' })).items;
      assert.equal(pods.length, 0);
    });
  });

});

// After the Job tests: moving the controllers' clock would cut their pod failure backoff short.
describe('CronJob controller against the real apiserver', () => {
  test('cronjob: scheduled jobs, Forbid, Replace and a manual job, on the fake clock', async () => {
    const cjs = admin.resource(Resources.cronJobs);
    /** Moves the controllers' clock to 2 s before its next minute and pokes the CronJob so it looks again. */
    const beforeNextMinute = async () => {
      const fake = Date.now() + offsetMs;
      offsetMs += Math.ceil(fake / 60_000) * 60_000 - 2_000 - fake;
      if (Date.now() + offsetMs < fake) offsetMs += 60_000;
      await cjs.patch(NS, 'tick', { metadata: { annotations: { poke: String(Date.now()) } } }, 'merge');
      return Math.ceil((Date.now() + offsetMs) / 60_000);
    };
    const cj: CronJob = {
      apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'tick', namespace: NS },
      spec: {
        schedule: '* * * * *', concurrencyPolicy: 'Forbid',
        jobTemplate: { spec: { template: { metadata: { labels: { outcome: 'hang' } }, spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox:1' }] } } } },
      },
    };
    const created = await cjs.create(NS, cj);
    const createdMin = Math.floor(Date.parse(created.metadata!.creationTimestamp!) / 60_000);
    const first = Math.max(createdMin + 1, await beforeNextMinute());
    const jobNames = async () => (await admin.resource(Resources.jobs).list({ namespace: NS })).items
      .filter((j) => j.metadata?.ownerReferences?.[0]?.name === 'tick').map((j) => j.metadata!.name!).sort();
    await eventually('first scheduled job', async () => {
      assert.deepEqual(await jobNames(), [`tick-${first}`]);
      const st = (await cjs.get(NS, 'tick')).status;
      assert.deepEqual(st?.active?.map((a) => a.name), [`tick-${first}`]);
      assert.equal(st?.lastScheduleTime, new Date(first * 60_000).toISOString().replace('.000Z', 'Z'));
    }, 10_000);
    const j1 = await admin.resource(Resources.jobs).get(NS, `tick-${first}`);
    assert.equal(j1.metadata?.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp'], new Date(first * 60_000).toISOString().replace('.000Z', 'Z'));

    // Forbid: the next minute passes while the first job still runs.
    const second = await beforeNextMinute();
    await eventually('JobAlreadyActive', async () => {
      assert.ok((await eventsFor('tick')).some((e) => e.reason === 'JobAlreadyActive'));
    }, 10_000);
    assert.deepEqual(await jobNames(), [`tick-${first}`]);
    assert.ok(second > first);

    // A job made by hand is reported, not taken into status.active.
    await plane!.kubectl.ok(['-n', NS, 'create', 'job', 'manual-1', '--from=cronjob/tick']);
    await eventually('UnexpectedJob', async () => {
      assert.ok((await eventsFor('tick')).some((e) => e.reason === 'UnexpectedJob' && e.message?.includes('manual-1')));
    }, 10_000);

    // Replace: the running job is deleted and the next one started.
    await cjs.patch(NS, 'tick', { spec: { concurrencyPolicy: 'Replace' } }, 'merge');
    const third = await beforeNextMinute();
    await eventually('replaced', async () => {
      assert.deepEqual(await jobNames(), [`tick-${third}`, 'manual-1'].sort());
      assert.deepEqual((await cjs.get(NS, 'tick')).status?.active?.map((a) => a.name), [`tick-${third}`]);
    }, 15_000);
    const reasons = (await eventsFor('tick')).map((e) => e.reason);
    assert.ok(reasons.includes('SuccessfulDelete') && reasons.includes('SuccessfulCreate'), reasons.join());
  });
});
