import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClient } from './fake.js';
import { LeaderElector, type LeaderElectionOptions } from './leader-election.js';
import { captureLogger } from './test-logger.js';
import { Resources } from './types.js';

async function until(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

// Lease durations are stored in whole seconds, so the shortest lease is 1 s.
const FAST = { leaseDurationMs: 1000, renewDeadlineMs: 600, retryPeriodMs: 100 };

function candidate(fake: FakeClient, identity: string, extra: Partial<LeaderElectionOptions> = {}) {
  const state = { started: 0, stopped: 0, leaderSignal: undefined as AbortSignal | undefined, leaders: [] as string[] };
  const el = new LeaderElector({
    client: fake, namespace: 'kube-system', name: 'tskube-scheduler', identity, logger: captureLogger(), ...FAST,
    onStartedLeading: (signal) => { state.started++; state.leaderSignal = signal; },
    onStoppedLeading: () => { state.stopped++; },
    onNewLeader: (id) => { state.leaders.push(id); },
    ...extra,
  });
  return { el, state };
}

describe('leader election', () => {
  it('exactly one of two candidates leads; the other takes over after the leader stops renewing', async () => {
    const fake = new FakeClient();
    const a = candidate(fake, 'a');
    const b = candidate(fake, 'b');
    const acA = new AbortController();
    const acB = new AbortController();
    const runA = a.el.run(acA.signal);
    await until('a leads', () => a.el.isLeader());
    const runB = b.el.run(acB.signal);
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(b.el.isLeader(), false, 'b waits while a renews');
    assert.equal(b.el.getLeader(), 'a');

    const leases = fake.resource(Resources.leases);
    const held = await leases.get('kube-system', 'tskube-scheduler');
    assert.equal(held.spec?.holderIdentity, 'a');
    assert.equal(held.spec?.leaseDurationSeconds, 1);
    assert.equal(held.spec?.leaseTransitions, 0);
    assert.match(held.spec?.renewTime ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/, 'MicroTime');
    assert.ok(Date.parse(held.spec!.renewTime!) > Date.parse(held.spec!.acquireTime!), 'a renewed');

    const t0 = Date.now();
    acA.abort(); // a stops renewing without releasing
    await runA;
    assert.equal(a.state.started, 1);
    assert.equal(a.state.stopped, 1);
    assert.equal(a.state.leaderSignal?.aborted, true);
    await until('b takes over', () => b.el.isLeader());
    assert.ok(Date.now() - t0 >= 500, 'b waited for the lease to expire');
    const taken = await leases.get('kube-system', 'tskube-scheduler');
    assert.equal(taken.spec?.holderIdentity, 'b');
    assert.equal(taken.spec?.leaseTransitions, 1);
    assert.equal(b.state.started, 1);
    assert.deepEqual(b.state.leaders, ['a', 'b']);
    acB.abort();
    await runB;
  });

  it('releaseOnCancel hands over at once', async () => {
    const fake = new FakeClient();
    const a = candidate(fake, 'a', { releaseOnCancel: true });
    const b = candidate(fake, 'b');
    const acA = new AbortController();
    const acB = new AbortController();
    const runA = a.el.run(acA.signal);
    await until('a leads', () => a.el.isLeader());
    const runB = b.el.run(acB.signal);
    await new Promise((r) => setTimeout(r, 150));
    const t0 = Date.now();
    acA.abort();
    await runA;
    await until('b takes over', () => b.el.isLeader());
    assert.ok(Date.now() - t0 < 800, `took ${Date.now() - t0} ms`);
    acB.abort();
    await runB;
  });

  it('a leader that cannot renew stops leading within the renew deadline', async () => {
    const fake = new FakeClient();
    const a = candidate(fake, 'a');
    const ac = new AbortController();
    const run = a.el.run(ac.signal);
    await until('a leads', () => a.el.isLeader());
    fake.addReactor((act) => { if (act.resource === 'leases') throw new Error('apiserver unreachable'); });
    const t0 = Date.now();
    await run;
    assert.equal(a.el.isLeader(), false);
    assert.equal(a.state.stopped, 1);
    assert.equal(a.state.leaderSignal?.aborted, true);
    const took = Date.now() - t0;
    assert.ok(took >= 500 && took < 1500, `lost leadership after ${took} ms`);
  });

  it('rejects inconsistent timings', () => {
    assert.throws(() => candidate(new FakeClient(), 'x', { leaseDurationMs: 1000, renewDeadlineMs: 1000 }), /leaseDuration must be greater/);
  });
});
