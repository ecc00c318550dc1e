import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import type { Container, Pod, PodStatus } from '@tskube/api';
import { rfc3339 } from '@tskube/api';
import { nullLogger } from '@tskube/log';
import { ManualClock } from '../clock.js';
import { ProbeManager } from './manager.js';
import type { ProbeRunner, ProbeTarget } from './prober.js';
import type { ProbeType, Result } from './results.js';

const UID = 'uid-1';

function pod(containers: Container[], uid = UID): Pod {
  return { metadata: { name: 'p', namespace: 'ns', uid }, spec: { containers } };
}

const probe = { exec: { command: ['true'] }, periodSeconds: 10, successThreshold: 1, failureThreshold: 1 };

function runningStatus(clock: ManualClock, names: string[], started = true): PodStatus {
  return {
    phase: 'Running', podIP: '10.0.0.9',
    containerStatuses: names.map((name) => ({
      name, image: 'img', imageID: '', ready: false, restartCount: 0, started, containerID: `docker://${name}-1`,
      state: { running: { startedAt: rfc3339(new Date(clock.now() - 60_000)) } },
    })),
  };
}

class Runner implements ProbeRunner {
  calls: Array<[ProbeType, string]> = [];
  answer: Result = 'Success';
  async probe(type: ProbeType, t: ProbeTarget): Promise<{ result: Result; errored: boolean }> {
    this.calls.push([type, t.container.name]);
    return { result: this.answer, errored: false };
  }
}

const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('ProbeManager', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout'] }));
  afterEach(() => mock.timers.reset());

  it('reports started/ready: no probes → started and ready; a readiness probe → not ready until it succeeds', async () => {
    const clock = new ManualClock();
    const runner = new Runner();
    const m = new ProbeManager({ runner, podStatus: () => undefined, clock, logger: nullLogger() });
    m.addPod(pod([{ name: 'plain', image: 'i' }, { name: 'gated', image: 'i', readinessProbe: probe, startupProbe: probe }]));
    assert.equal(m.started(UID, 'plain', 'x'), true);
    assert.equal(m.ready(UID, 'plain', 'x'), true);
    assert.equal(m.started(UID, 'gated', 'g1'), false, 'a startup worker without a result');
    assert.equal(m.ready(UID, 'gated', 'g1'), false, 'a readiness worker without a result');
    m.startup.set('g1', 'Success', UID);
    m.readiness.set('g1', 'Success', UID);
    assert.equal(m.started(UID, 'gated', 'g1'), true);
    assert.equal(m.ready(UID, 'gated', 'g1'), true);
    m.liveness.set('g1', 'Failure', UID);
    assert.equal(m.livenessFailed('g1'), true);
    assert.equal(m.startupFailed('g1'), false);
    await m.stop();
  });

  it('calls onChange only for changes the pod sync or status would show', async () => {
    const clock = new ManualClock();
    const changed: string[] = [];
    const m = new ProbeManager({ runner: new Runner(), podStatus: () => undefined, clock, logger: nullLogger(), onChange: (u) => changed.push(u) });
    m.liveness.set('a', 'Success', 'u1'); // initial value: nothing to do
    m.readiness.set('a', 'Failure', 'u2'); // initial value: already unready
    m.startup.set('a', 'Unknown', 'u3');
    assert.deepEqual(changed, []);
    m.liveness.set('a', 'Failure', 'u4');
    m.readiness.set('a', 'Success', 'u5');
    m.startup.set('a', 'Success', 'u6');
    m.readiness.set('a', 'Success', 'u7'); // no change
    assert.deepEqual(changed, ['u4', 'u5', 'u6']);
    await m.stop();
  });

  it('runs one worker per container and probe type every periodSeconds, idempotently, until removed', async () => {
    const clock = new ManualClock();
    const runner = new Runner();
    let status: PodStatus | undefined;
    const m = new ProbeManager({ runner, podStatus: () => status, clock, logger: nullLogger() });
    const p = pod([{ name: 'a', image: 'i', livenessProbe: probe, readinessProbe: probe }, { name: 'b', image: 'i' }]);
    m.addPod(p);
    m.addPod(p);
    assert.ok(m.worker(UID, 'a', 'liveness'));
    assert.ok(m.worker(UID, 'a', 'readiness'));
    assert.equal(m.worker(UID, 'b', 'liveness'), undefined);
    status = runningStatus(clock, ['a', 'b']);
    // First probe after a random part of the first period (the kubelet just started).
    mock.timers.tick(10_000);
    await flush();
    assert.deepEqual(runner.calls.sort(), [['liveness', 'a'], ['readiness', 'a']]);
    for (let i = 0; i < 3; i++) { mock.timers.tick(10_000); await flush(); }
    assert.equal(runner.calls.length, 8, 'two workers, four periods');
    m.removePod(UID);
    await flush();
    mock.timers.tick(10_000);
    await flush();
    assert.equal(runner.calls.length, 8);
    assert.equal(m.worker(UID, 'a', 'liveness'), undefined);
    assert.equal(m.liveness.size + m.readiness.size, 0, 'results of stopped workers are dropped');
    await m.stop();
  });

  it('asking readiness of an unready container triggers its worker at once', async () => {
    const clock = new ManualClock();
    const runner = new Runner();
    const status = runningStatus(clock, ['a']);
    const m = new ProbeManager({ runner, podStatus: () => status, clock, logger: nullLogger() });
    m.addPod(pod([{ name: 'a', image: 'i', readinessProbe: { ...probe, periodSeconds: 300 } }]));
    assert.equal(m.ready(UID, 'a', 'a-1'), false);
    await flush();
    assert.equal(runner.calls.length, 1, 'probed without waiting for the period');
    assert.equal(m.ready(UID, 'a', 'a-1'), true);
    await m.stop();
  });

  it('probes sidecars (init containers with restartPolicy Always), not regular init containers', async () => {
    const clock = new ManualClock();
    const runner = new Runner();
    const status: PodStatus = {
      phase: 'Pending', podIP: '10.0.0.9',
      initContainerStatuses: ['proxy', 'setup'].map((name) => ({
        name, image: 'img', imageID: '', ready: false, restartCount: 0, started: false, containerID: `docker://${name}-1`,
        state: { running: { startedAt: rfc3339(new Date(clock.now() - 60_000)) } },
      })),
      containerStatuses: [],
    };
    const m = new ProbeManager({ runner, podStatus: () => status, clock, logger: nullLogger() });
    const p: Pod = {
      ...pod([{ name: 'web', image: 'i' }]),
      spec: {
        containers: [{ name: 'web', image: 'i' }],
        initContainers: [
          { name: 'proxy', image: 'i', restartPolicy: 'Always', startupProbe: probe, readinessProbe: probe, livenessProbe: probe },
          { name: 'setup', image: 'i', startupProbe: probe, readinessProbe: probe },
        ],
      },
    };
    m.addPod(p);
    assert.ok(m.worker(UID, 'proxy', 'startup'));
    assert.ok(m.worker(UID, 'proxy', 'readiness'));
    assert.ok(m.worker(UID, 'proxy', 'liveness'));
    assert.equal(m.worker(UID, 'setup', 'startup'), undefined, 'a regular init container has no probes');
    assert.equal(m.started(UID, 'proxy', 'proxy-1'), false);
    assert.equal(m.startupSucceeded('proxy-1'), false, 'no result yet');
    mock.timers.tick(10_000);
    await flush();
    assert.deepEqual(runner.calls, [['startup', 'proxy']], 'only the startup probe runs before the sidecar started');
    assert.equal(m.startupSucceeded('proxy-1'), true);
    assert.equal(m.started(UID, 'proxy', 'proxy-1'), true);
    await m.stop();
  });

  it('stopLivenessAndStartup leaves readiness running', async () => {
    const clock = new ManualClock();
    const m = new ProbeManager({ runner: new Runner(), podStatus: () => undefined, clock, logger: nullLogger() });
    const p = pod([{ name: 'a', image: 'i', livenessProbe: probe, readinessProbe: probe, startupProbe: probe }]);
    m.addPod(p);
    m.stopLivenessAndStartup(p);
    await flush();
    assert.equal(m.worker(UID, 'a', 'liveness'), undefined);
    assert.equal(m.worker(UID, 'a', 'startup'), undefined);
    assert.ok(m.worker(UID, 'a', 'readiness'));
    await m.stop();
    assert.equal(m.worker(UID, 'a', 'readiness'), undefined);
  });
});
