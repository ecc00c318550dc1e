import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import type { ReplicaSet } from '@tskube/api';
import { Resources } from '@tskube/client';
import { nullLogger } from '@tskube/log';
import type { ControllerManagerConfig } from './config.js';
import type { Controller } from './controller.js';
import { buildControllerManager, type ControllerManager, type StopReason } from './controller-manager.js';
import { ApiFakeClient, eventually } from './testing.js';

const FAST = { leaseDurationMs: 1500, renewDeadlineMs: 1000, retryPeriodMs: 200 };

function config(extra: Partial<ControllerManagerConfig> = {}): ControllerManagerConfig {
  return {
    kubeconfig: '', healthPort: 0, logLevel: 'info', leaderElect: true,
    nodeMonitorGracePeriodSeconds: 40, nodeStartupGracePeriodSeconds: 60, controllers: ['*'], ...extra,
  };
}

const rs: ReplicaSet = {
  apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web', namespace: 'default' },
  spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } },
};

async function get(port: number | undefined, path: string): Promise<{ status: number; body: string }> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: r.status, body: await r.text() };
}

describe('buildControllerManager', () => {
  it('leads, runs the selected controllers on shared informers, reports readiness and queue metrics', async () => {
    const fake = new ApiFakeClient();
    const registry = new Registry();
    const cm = buildControllerManager({
      client: fake, logger: nullLogger(), registry, identity: 'one', leaderElection: FAST,
      config: config({ controllers: ['replicaset'] }),
    });
    assert.deepEqual(cm.enabled, ['replicaset-controller']);
    const ac = new AbortController();
    const done = cm.start(ac.signal);
    await eventually(() => assert.equal(cm.isReady(), true));
    const lease = await fake.resource(Resources.leases).get('kube-system', 'kube-controller-manager');
    assert.equal(lease.spec?.holderIdentity, 'one');
    assert.equal((await get(cm.healthPort, '/readyz')).status, 200);
    await fake.resource(Resources.replicaSets).create('default', rs);
    await eventually(async () => assert.equal((await fake.resource(Resources.pods).list({ namespace: 'default' })).items.length, 2));
    const metrics = (await get(cm.healthPort, '/metrics')).body;
    assert.match(metrics, /workqueue_adds_total\{name="replicaset"\} [1-9]/);
    assert.match(metrics, /workqueue_depth\{name="replicaset"\} 0/);
    assert.match(metrics, /workqueue_work_duration_seconds_count\{name="replicaset"\} [1-9]/);
    assert.match(metrics, /controller_runtime_reconcile_total\{controller="replicaset-controller",result="success"\} [1-9]/);
    assert.match(metrics, /controller_runtime_reconcile_time_seconds_count\{controller="replicaset-controller"\} [1-9]/);
    assert.match(metrics, /controller_runtime_reconcile_time_seconds_bucket\{le="0.005",controller="replicaset-controller"\} \d+/);
    // The events of the run were written through the client too.
    await eventually(async () => {
      const events = (await fake.resource(Resources.events).list({ namespace: 'default' })).items;
      assert.equal(events.filter((e) => e.reason === 'SuccessfulCreate' && e.source?.component === 'replicaset-controller').length, 2);
    });
    ac.abort();
    assert.equal(await done, 'shutdown');
    const released = await fake.resource(Resources.leases).get('kube-system', 'kube-controller-manager');
    assert.equal(released.spec?.holderIdentity, undefined, 'released on shutdown');
  });

  it('a standby is not ready and runs nothing until the leader goes; a lost Lease stops the controllers', async () => {
    const fake = new ApiFakeClient();
    const started: string[] = [];
    const probe: Controller = {
      name: 'probe-controller',
      async start(ctx) {
        started.push(ctx.signal.aborted ? 'aborted' : 'started');
        await new Promise<void>((r) => ctx.signal.addEventListener('abort', () => r(), { once: true }));
      },
    };
    const make = (identity: string): ControllerManager => buildControllerManager({
      client: fake, logger: nullLogger(), registry: new Registry(), identity, leaderElection: FAST,
      controllers: [probe], config: config(),
    });
    const a = make('a');
    const b = make('b');
    const acA = new AbortController();
    const acB = new AbortController();
    const doneA = a.start(acA.signal);
    await eventually(() => assert.equal(a.isReady(), true));
    const doneB = b.start(acB.signal);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(b.isReady(), false);
    assert.equal((await get(b.healthPort, '/readyz')).status, 500);
    assert.deepEqual(started, ['started']);
    acA.abort();
    assert.equal(await doneA, 'shutdown');
    await eventually(() => assert.equal(b.isReady(), true), 5000);
    assert.deepEqual(started, ['started', 'started']);
    // Someone else takes the Lease: b stops leading and says so.
    const lease = await fake.resource(Resources.leases).get('kube-system', 'kube-controller-manager');
    await fake.resource(Resources.leases).update({ ...lease, spec: { ...lease.spec, holderIdentity: 'intruder', leaseDurationSeconds: 60 } });
    const reason: StopReason = await doneB;
    assert.equal(reason, 'leadership-lost');
    assert.equal(b.isReady(), false);
    acB.abort();
  });

  it('without leader election it runs at once', async () => {
    const fake = new ApiFakeClient();
    const cm = buildControllerManager({ client: fake, logger: nullLogger(), registry: new Registry(), config: config({ leaderElect: false }) });
    const ac = new AbortController();
    const done = cm.start(ac.signal);
    await eventually(() => assert.equal(cm.isReady(), true));
    await assert.rejects(fake.resource(Resources.leases).get('kube-system', 'kube-controller-manager'));
    ac.abort();
    assert.equal(await done, 'shutdown');
  });
});
