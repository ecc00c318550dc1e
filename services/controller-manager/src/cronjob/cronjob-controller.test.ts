import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { CronJob, CronJobSpec, Job } from '@tskube/api';
import { Resources } from '@tskube/client';
import { eventually, harness, type Harness } from '../testing.js';
import { CronJobController, SCHEDULED_TIMESTAMP_ANNOTATION, rfc1123z } from './cronjob-controller.js';
import { formatInZone, jobName, mostRecentScheduleTime, nextScheduleDelay, parseSchedule } from './schedule.js';

const CJ_DEF = { group: 'batch', plural: 'cronjobs' };
const JOB_DEF = { group: 'batch', plural: 'jobs' };
const T0 = Date.parse('2025-01-01T00:00:00Z');
const MIN = 60_000;

describe('cron schedules', () => {
  it('computes the next activation (five fields, descriptors, @every, time zones, TZ= prefix)', () => {
    const cases: [string, string | undefined, string, string][] = [
      ['* * * * *', undefined, '2025-01-01T00:00:30Z', '2025-01-01T00:01:00.000Z'],
      ['* * * * *', undefined, '2025-01-01T00:01:00Z', '2025-01-01T00:02:00.000Z'],
      ['*/15 * * * *', undefined, '2025-01-01T00:00:00Z', '2025-01-01T00:15:00.000Z'],
      ['@hourly', undefined, '2025-01-01T00:00:30Z', '2025-01-01T01:00:00.000Z'],
      ['@daily', undefined, '2025-01-01T00:00:30Z', '2025-01-02T00:00:00.000Z'],
      ['@midnight', undefined, '2025-01-01T00:00:30Z', '2025-01-02T00:00:00.000Z'],
      ['@weekly', undefined, '2025-01-01T00:00:00Z', '2025-01-05T00:00:00.000Z'],
      ['@every 90s', undefined, '2025-01-01T00:00:00.500Z', '2025-01-01T00:01:30.000Z'],
      ['0 9 * * *', 'America/New_York', '2025-01-01T00:00:00Z', '2025-01-01T14:00:00.000Z'],
      ['0 9 * * *', 'America/New_York', '2025-07-01T00:00:00Z', '2025-07-01T13:00:00.000Z'],
      ['TZ=Asia/Tokyo 0 9 * * *', undefined, '2025-01-01T00:00:00Z', '2025-01-02T00:00:00.000Z'],
      ['0 0 1 * MON', undefined, '2025-01-01T00:00:30Z', '2025-01-06T00:00:00.000Z'],
    ];
    for (const [spec, tz, from, want] of cases) {
      const next = parseSchedule(spec, tz).next(Date.parse(from));
      assert.equal(next === undefined ? undefined : new Date(next).toISOString(), want, `${spec} ${tz ?? ''} from ${from}`);
    }
  });

  it('rejects what robfig/cron rejects', () => {
    for (const [spec, tz, msg] of [
      ['* * * *', undefined, /expected exactly 5 fields/], ['@fortnightly', undefined, /unrecognized descriptor/],
      ['* * * * *', 'Mars/Olympus', /unknown time zone/], ['61 * * * *', undefined, /./],
    ] as const) {
      assert.throws(() => parseSchedule(spec, tz), msg, spec);
    }
  });

  it('finds the most recent unmet time and counts missed ones', () => {
    const sched = parseSchedule('* * * * *');
    const created = { creationTimestamp: '2025-01-01T00:00:30Z' };
    assert.deepEqual(mostRecentScheduleTime(created, Date.parse('2025-01-01T00:00:50Z'), sched, true), { earliest: T0 + 30_000, missed: 'none' });
    assert.deepEqual(mostRecentScheduleTime(created, Date.parse('2025-01-01T00:01:10Z'), sched, true), { earliest: T0 + 30_000, mostRecent: T0 + MIN, missed: 'none' });
    assert.deepEqual(mostRecentScheduleTime(created, Date.parse('2025-01-01T00:05:10Z'), sched, true), { earliest: T0 + 30_000, mostRecent: T0 + 5 * MIN, missed: 'few' });
    assert.equal(mostRecentScheduleTime(created, T0 + 200 * MIN, sched, true).missed, 'many');
    // startingDeadlineSeconds moves the earliest time up: only the last 2 minutes count.
    const r = mostRecentScheduleTime({ ...created, startingDeadlineSeconds: 120 }, T0 + 200 * MIN, sched, true);
    assert.deepEqual(r, { earliest: T0 + 198 * MIN, mostRecent: T0 + 200 * MIN, missed: 'few' });
    // Irregular schedules still land on the right activation.
    const irregular = parseSchedule('30 6-16/4 * * 1-5');
    assert.equal(new Date(mostRecentScheduleTime({ creationTimestamp: '2025-01-06T00:00:00Z' }, Date.parse('2025-01-08T12:00:00Z'), irregular, false).mostRecent!).toISOString(), '2025-01-08T10:30:00.000Z');
  });

  it('requeues just after the next activation; names and annotates jobs as upstream', () => {
    const sched = parseSchedule('*/5 * * * *');
    assert.equal(nextScheduleDelay({ creationTimestamp: '2025-01-01T00:00:00Z' }, T0 + 61_000, sched), 4 * MIN - 1000 + 100);
    assert.equal(jobName('hello', T0 + 5 * MIN), `hello-${T0 / MIN + 5}`);
    assert.equal(formatInZone(T0, undefined), '2025-01-01T00:00:00Z');
    assert.equal(formatInZone(T0, 'America/New_York'), '2024-12-31T19:00:00-05:00');
    assert.equal(formatInZone(T0, 'Europe/London'), '2025-01-01T00:00:00Z');
    assert.equal(rfc1123z(T0 + 5 * MIN), 'Wed, 01 Jan 2025 00:05:00 +0000');
  });
});

function cronJob(name: string, spec: Partial<CronJobSpec> = {}): CronJob {
  return {
    apiVersion: 'batch/v1', kind: 'CronJob',
    metadata: { name, namespace: 'default', uid: `uid-${name}`, creationTimestamp: '2025-01-01T00:00:00Z' },
    spec: {
      schedule: '* * * * *', concurrencyPolicy: 'Allow', suspend: false, successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 1,
      jobTemplate: { metadata: { labels: { app: name }, annotations: { a: 'b' } }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox:1' }] } } } },
      ...spec,
    },
  };
}

function childJob(cj: string, name: string, extra: { finished?: 'Complete' | 'Failed'; start?: string; done?: string } = {}): Job {
  return {
    apiVersion: 'batch/v1', kind: 'Job',
    metadata: { name, namespace: 'default', uid: `uid-${name}`, ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: cj, uid: `uid-${cj}`, controller: true }] },
    spec: { template: { spec: { containers: [] } } },
    status: {
      ...(extra.start ? { startTime: extra.start } : {}),
      ...(extra.finished ? { conditions: [{ type: extra.finished, status: 'True', lastTransitionTime: extra.done ?? extra.start }] } : {}),
      ...(extra.finished === 'Complete' && extra.done ? { completionTime: extra.done } : {}),
    },
  };
}

describe('CronJobController', () => {
  let h: Harness;
  let c: CronJobController;
  beforeEach(() => {
    h = harness(T0 + 30_000);
    c = new CronJobController({ client: h.fake, informers: h.informers, logger: h.logger, recorder: h.recorder, now: h.clock.now });
  });
  afterEach(async () => { await h.stop(); });
  const jobs = async () => (await h.fake.resource(Resources.jobs).list({ namespace: 'default' })).items;
  const getCj = (name: string) => h.fake.resource(Resources.cronJobs).get('default', name);

  it('waits for the schedule, then creates the job named by its minute and requeues for the next one', async () => {
    h.fake.seed(CJ_DEF, cronJob('hello', { timeZone: 'America/New_York' }));
    await h.start();
    const r0 = await c.reconcile('default/hello');
    assert.deepEqual(r0, { requeueAfter: 30_100 }, 'requeued for just after 00:01');
    assert.equal((await jobs()).length, 0);
    h.clock.set(T0 + MIN + 100);
    const r1 = await c.reconcile('default/hello');
    assert.deepEqual(r1, { requeueAfter: MIN });
    const [job] = await jobs();
    assert.equal(job?.metadata?.name, `hello-${T0 / MIN + 1}`);
    assert.deepEqual(job?.metadata?.labels, { app: 'hello' });
    assert.deepEqual(job?.metadata?.annotations, { a: 'b', [SCHEDULED_TIMESTAMP_ANNOTATION]: '2024-12-31T19:01:00-05:00' });
    assert.deepEqual(job?.metadata?.ownerReferences, [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'hello', uid: 'uid-hello', controller: true, blockOwnerDeletion: true }]);
    const cj = await getCj('hello');
    assert.equal(cj.status?.lastScheduleTime, '2025-01-01T00:01:00Z');
    assert.deepEqual(cj.status?.active?.map((a) => [a.kind, a.name, a.uid]), [['Job', job?.metadata?.name, job?.metadata?.uid]]);
    assert.deepEqual(h.recorder.events.map((e) => [e.reason, e.message]), [['SuccessfulCreate', `Created job ${job?.metadata?.name ?? ''}`]]);
    // The same activation is not started twice.
    await eventually(async () => {
      await c.reconcile('default/hello');
      assert.equal((await jobs()).length, 1);
      assert.equal(h.recorder.events.length, 1);
    });
  });

  it('concurrency policies at the next activation with a job still running', async () => {
    const cases: { policy: 'Allow' | 'Forbid' | 'Replace'; jobs: string[]; reasons: string[] }[] = [
      { policy: 'Allow', jobs: ['old', `p-${T0 / MIN + 1}`], reasons: ['SuccessfulCreate'] },
      { policy: 'Forbid', jobs: ['old'], reasons: ['JobAlreadyActive'] },
      { policy: 'Replace', jobs: [`p-${T0 / MIN + 1}`], reasons: ['SuccessfulDelete', 'SuccessfulCreate'] },
    ];
    for (const tc of cases) {
      const hh = harness(T0 + MIN + 5_000);
      const cc = new CronJobController({ client: hh.fake, informers: hh.informers, logger: hh.logger, recorder: hh.recorder, now: hh.clock.now });
      const old = hh.fake.seed(JOB_DEF, childJob('p', 'old', { start: '2025-01-01T00:00:00Z' }));
      hh.fake.seed(CJ_DEF, { ...cronJob('p', { concurrencyPolicy: tc.policy }), status: { lastScheduleTime: '2025-01-01T00:00:00Z', active: [{ kind: 'Job', apiVersion: 'batch/v1', namespace: 'default', name: 'old', uid: old.metadata?.uid }] } });
      await hh.start();
      await cc.reconcile('default/p');
      const names = (await hh.fake.resource(Resources.jobs).list({ namespace: 'default' })).items.map((j) => j.metadata?.name).sort();
      assert.deepEqual(names, [...tc.jobs].sort(), tc.policy);
      assert.deepEqual(hh.recorder.reasons(), tc.reasons, tc.policy);
      const st = (await hh.fake.resource(Resources.cronJobs).get('default', 'p')).status;
      assert.deepEqual(st?.active?.map((a) => a.name).sort(), tc.jobs.filter((n) => n !== 'old' || tc.policy !== 'Replace').sort(), tc.policy);
      await hh.stop();
    }
  });

  it('startingDeadlineSeconds: an activation older than the deadline is skipped, a recent one starts', async () => {
    // As upstream, the search for unmet times starts at now - startingDeadlineSeconds.
    h.clock.set(T0 + 10 * MIN + 50_000);
    h.fake.seed(CJ_DEF, { ...cronJob('late', { schedule: '*/10 * * * *', startingDeadlineSeconds: 30 }), status: { lastScheduleTime: '2025-01-01T00:00:00Z' } });
    h.fake.seed(CJ_DEF, { ...cronJob('ontime', { schedule: '*/10 * * * *', startingDeadlineSeconds: 60 }), status: { lastScheduleTime: '2025-01-01T00:00:00Z' } });
    await h.start();
    const r = await c.reconcile('default/late');
    assert.equal((await jobs()).length, 0);
    assert.deepEqual(r, { requeueAfter: 10 * MIN - 50_000 + 100 });
    await c.reconcile('default/ontime');
    assert.deepEqual((await jobs()).map((j) => j.metadata?.name), [`ontime-${T0 / MIN + 10}`]);
  });

  it('more than 100 missed activations: TooManyMissedTimes, and the latest one still starts', async () => {
    h.clock.set(T0 + 300 * MIN + 1000);
    h.fake.seed(CJ_DEF, cronJob('many'));
    await h.start();
    await c.reconcile('default/many');
    assert.deepEqual(h.recorder.reasons(), ['TooManyMissedTimes', 'SuccessfulCreate']);
    assert.equal(h.recorder.events[0]?.message, 'too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew');
    assert.deepEqual((await jobs()).map((j) => j.metadata?.name), [`many-${T0 / MIN + 300}`]);
  });

  it('sees finished jobs, records lastSuccessfulTime and trims the history oldest first', async () => {
    h.clock.set(T0 + 10 * MIN + 1000);
    const mk = (n: number, finished: 'Complete' | 'Failed') => h.fake.seed(JOB_DEF, childJob('hist', `hist-${n}`, {
      finished, start: new Date(T0 + n * MIN).toISOString().replace('.000', ''), done: new Date(T0 + n * MIN + 30_000).toISOString().replace('.000', ''),
    }));
    const j1 = mk(1, 'Complete'); mk(2, 'Complete'); mk(3, 'Complete'); mk(4, 'Failed'); const j5 = mk(5, 'Failed');
    h.fake.seed(CJ_DEF, {
      ...cronJob('hist', { successfulJobsHistoryLimit: 1, failedJobsHistoryLimit: 1, suspend: true }),
      status: { lastScheduleTime: '2025-01-01T00:05:00Z', active: [{ kind: 'Job', namespace: 'default', name: 'hist-5', uid: j5.metadata?.uid }] },
    });
    await h.start();
    await c.reconcile('default/hist');
    assert.deepEqual((await jobs()).map((j) => j.metadata?.name).sort(), ['hist-3', 'hist-5']);
    const st = (await getCj('hist')).status;
    assert.equal(st?.active, undefined);
    assert.equal(st?.lastSuccessfulTime, '2025-01-01T00:03:30Z');
    assert.deepEqual(h.recorder.events.filter((e) => e.reason === 'SuccessfulDelete').map((e) => e.message), ['Deleted job hist-1', 'Deleted job hist-2', 'Deleted job hist-4']);
    assert.deepEqual(h.recorder.events.filter((e) => e.reason === 'SawCompletedJob').map((e) => e.message), ['Saw completed job: hist-5, condition: Failed']);
    assert.ok(j1);
  });

  it('a job made by hand from the cronjob (kubectl create job --from) is reported, not adopted', async () => {
    h.fake.seed(JOB_DEF, childJob('manual', 'manual-abc'));
    h.fake.seed(CJ_DEF, cronJob('manual', { suspend: true }));
    await h.start();
    await c.reconcile('default/manual');
    assert.deepEqual(h.recorder.events.map((e) => [e.reason, e.message]), [['UnexpectedJob', 'Saw a job that the controller did not create or forgot: manual-abc']]);
    assert.equal((await getCj('manual')).status?.active, undefined);
  });
});
