import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Container, ContainerStatus, Pod, PodStatus } from '@tskube/api';
import { rfc3339 } from '@tskube/api';
import { nullLogger } from '@tskube/log';
import { ManualClock } from '../clock.js';
import type { Probe, ProbeRunner, ProbeTarget } from './prober.js';
import { ResultsManager, type ProbeType, type Result } from './results.js';
import { ProbeWorker } from './worker.js';

const UID = 'uid-1';

/** A probe runner answering from a script; records what it probed. */
class ScriptedRunner implements ProbeRunner {
  answers: Array<Result | 'error'> = [];
  /** Answer when the script is empty. */
  otherwise: Result | 'error' = 'Success';
  calls: Array<{ type: ProbeType; target: ProbeTarget }> = [];
  async probe(type: ProbeType, target: ProbeTarget): Promise<{ result: Result; errored: boolean }> {
    this.calls.push({ type, target });
    const a = this.answers.shift() ?? this.otherwise;
    return a === 'error' ? { result: 'Failure', errored: true } : { result: a, errored: false };
  }
}

interface Fixture {
  clock: ManualClock;
  runner: ScriptedRunner;
  results: ResultsManager;
  changes: Array<[string, Result]>;
  status: PodStatus | undefined;
  worker: ProbeWorker;
  /** Sets the one container's status. */
  container(o: { id?: string; running?: boolean; terminated?: boolean; started?: boolean; startedAgoMs?: number }): void;
}

function fixture(type: ProbeType, probe: Probe, podOpts: { restartPolicy?: 'Always' | 'Never'; deleting?: boolean } = {}): Fixture {
  const clock = new ManualClock();
  const runner = new ScriptedRunner();
  const changes: Array<[string, Result]> = [];
  const results = new ResultsManager(type, (c) => changes.push([c.containerId, c.result]));
  const c: Container = { name: 'web', image: 'img', [type === 'liveness' ? 'livenessProbe' : type === 'readiness' ? 'readinessProbe' : 'startupProbe']: probe };
  const pod: Pod = {
    metadata: { name: 'p', namespace: 'ns', uid: UID, ...(podOpts.deleting ? { deletionTimestamp: rfc3339(new Date(clock.now())) } : {}) },
    spec: { restartPolicy: podOpts.restartPolicy ?? 'Always', containers: [c] },
  };
  const f: Fixture = {
    clock, runner, results, changes, status: undefined,
    worker: undefined as unknown as ProbeWorker,
    container: (o) => {
      const cs: ContainerStatus = {
        name: 'web', image: 'img', imageID: '', ready: false, restartCount: 0, started: o.started ?? false,
        containerID: `docker://${o.id ?? 'c1'}`,
        state: o.running === false
          ? (o.terminated ? { terminated: { exitCode: 1 } } : { waiting: { reason: 'CrashLoopBackOff' } })
          : { running: { startedAt: rfc3339(new Date(clock.now() - (o.startedAgoMs ?? 60_000))) } },
      };
      f.status = { phase: 'Running', podIP: '10.0.0.9', containerStatuses: [cs] };
    },
  };
  f.worker = new ProbeWorker({ podStatus: () => f.status, runner, results, clock, logger: nullLogger() }, type, pod, c);
  return f;
}

const exec = (o: Partial<Probe> = {}): Probe => ({ exec: { command: ['true'] }, periodSeconds: 10, successThreshold: 1, failureThreshold: 3, ...o });

describe('ProbeWorker.doProbe', () => {
  it('waits while there is no status or no container ID, and stops for a finished pod', async () => {
    const f = fixture('liveness', exec());
    assert.equal(await f.worker.doProbe(), true);
    f.status = { phase: 'Pending', containerStatuses: [{ name: 'web', image: 'img', imageID: '', ready: false, restartCount: 0, state: { waiting: {} } }] };
    assert.equal(await f.worker.doProbe(), true);
    assert.equal(f.runner.calls.length, 0);
    f.status = { phase: 'Succeeded' };
    assert.equal(await f.worker.doProbe(), false);
  });

  const initial: Array<[ProbeType, Result]> = [['readiness', 'Failure'], ['liveness', 'Success'], ['startup', 'Unknown']];
  for (const [type, want] of initial) {
    it(`records the initial ${type} value ${want} for a new container`, async () => {
      const f = fixture(type, exec({ initialDelaySeconds: 100 }));
      f.container({ startedAgoMs: 1000 });
      await f.worker.doProbe();
      assert.equal(f.results.get('c1'), want);
      assert.equal(f.runner.calls.length, 0, 'initial delay not over');
    });
  }

  it('probes only once initialDelaySeconds have passed since the container started', async () => {
    const f = fixture('readiness', exec({ initialDelaySeconds: 5 }));
    f.container({ started: true, startedAgoMs: 0 });
    await f.worker.doProbe();
    f.clock.advance(4999);
    await f.worker.doProbe();
    assert.equal(f.runner.calls.length, 0);
    f.clock.advance(1);
    await f.worker.doProbe();
    assert.equal(f.runner.calls.length, 1);
    assert.equal(f.runner.calls[0]?.target.podIP, '10.0.0.9');
    assert.equal(f.runner.calls[0]?.target.containerId, 'c1');
    assert.equal(f.results.get('c1'), 'Success');
  });

  it('readiness needs successThreshold successes in a row, and failureThreshold failures to turn back', async () => {
    const f = fixture('readiness', exec({ successThreshold: 2, failureThreshold: 2 }));
    f.container({ started: true });
    f.runner.answers = ['Success', 'Failure', 'Success', 'Success', 'Failure', 'Success', 'Failure', 'Failure'];
    const seen: Array<Result | undefined> = [];
    for (let i = 0; i < 8; i++) { await f.worker.doProbe(); seen.push(f.results.get('c1')); }
    assert.deepEqual(seen, ['Failure', 'Failure', 'Failure', 'Success', 'Success', 'Success', 'Success', 'Failure']);
  });

  it('liveness fails after failureThreshold failures, then holds until a new container', async () => {
    const f = fixture('liveness', exec({ failureThreshold: 3 }));
    f.container({ started: true });
    f.runner.otherwise = 'Failure';
    for (let i = 0; i < 2; i++) await f.worker.doProbe();
    assert.equal(f.results.get('c1'), 'Success');
    await f.worker.doProbe();
    assert.equal(f.results.get('c1'), 'Failure');
    assert.equal(f.runner.calls.length, 3);
    await f.worker.doProbe();
    assert.equal(f.runner.calls.length, 3, 'on hold: no probe of the failed container');
    // The kubelet restarted it: a new ID lifts the hold and starts over from the initial value.
    f.container({ id: 'c2', started: true });
    f.runner.otherwise = 'Success';
    await f.worker.doProbe();
    assert.equal(f.results.get('c1'), undefined, 'the old result is dropped');
    assert.equal(f.results.get('c2'), 'Success');
    assert.equal(f.runner.calls.length, 4);
  });

  it('discards errored probes (they count toward no threshold)', async () => {
    const f = fixture('liveness', exec({ failureThreshold: 2 }));
    f.container({ started: true });
    f.runner.answers = ['Failure', 'error', 'error', 'Success', 'Failure', 'Failure'];
    for (let i = 0; i < 4; i++) await f.worker.doProbe();
    assert.equal(f.results.get('c1'), 'Success');
    await f.worker.doProbe();
    assert.equal(f.results.get('c1'), 'Success');
    await f.worker.doProbe();
    assert.equal(f.results.get('c1'), 'Failure');
  });

  it('startup gates the others: liveness/readiness wait for started, startup stops probing once started', async () => {
    const live = fixture('liveness', exec());
    live.container({ started: false });
    await live.worker.doProbe();
    assert.equal(live.runner.calls.length, 0);
    live.container({ started: true });
    await live.worker.doProbe();
    assert.equal(live.runner.calls.length, 1);

    const startup = fixture('startup', exec({ failureThreshold: 2 }));
    startup.container({ started: false });
    startup.runner.answers = ['Failure', 'Success'];
    await startup.worker.doProbe();
    assert.equal(startup.results.get('c1'), 'Unknown');
    await startup.worker.doProbe();
    assert.equal(startup.results.get('c1'), 'Success');
    startup.container({ started: true });
    await startup.worker.doProbe();
    assert.equal(startup.runner.calls.length, 2, 'no startup probe once started');
  });

  it('a startup probe failing failureThreshold times records Failure and holds', async () => {
    const f = fixture('startup', exec({ failureThreshold: 2 }));
    f.container({ started: false });
    f.runner.otherwise = 'Failure';
    await f.worker.doProbe();
    await f.worker.doProbe();
    assert.equal(f.results.get('c1'), 'Failure');
    await f.worker.doProbe();
    assert.equal(f.runner.calls.length, 2);
  });

  it('a container that is not running is a Failure; the worker stops if it terminated under restartPolicy Never', async () => {
    const f = fixture('readiness', exec());
    f.container({ running: false });
    assert.equal(await f.worker.doProbe(), true);
    assert.equal(f.results.get('c1'), 'Failure');
    const never = fixture('readiness', exec(), { restartPolicy: 'Never' });
    never.container({ running: false, terminated: true });
    assert.equal(await never.worker.doProbe(), false);
  });

  it('a sidecar that terminated under restartPolicy Never keeps its worker (it restarts whatever the policy)', async () => {
    const clock = new ManualClock();
    const results = new ResultsManager('liveness');
    const c: Container = { name: 'proxy', image: 'img', restartPolicy: 'Always', livenessProbe: exec() };
    const pod: Pod = { metadata: { name: 'p', namespace: 'ns', uid: UID }, spec: { restartPolicy: 'Never', initContainers: [c], containers: [{ name: 'web', image: 'img' }] } };
    const status: PodStatus = {
      phase: 'Running',
      initContainerStatuses: [{ name: 'proxy', image: 'img', imageID: '', ready: false, restartCount: 0, containerID: 'docker://px1', state: { terminated: { exitCode: 1 } } }],
      containerStatuses: [],
    };
    const w = new ProbeWorker({ podStatus: () => status, runner: new ScriptedRunner(), results, clock, logger: nullLogger() }, 'liveness', pod, c);
    assert.equal(w.sidecar, true);
    assert.equal(await w.doProbe(), true);
    assert.equal(results.get('px1'), 'Failure');
  });

  it('while the pod is deleted, liveness and startup record Success and stop; readiness goes on', async () => {
    for (const type of ['liveness', 'startup'] as const) {
      const f = fixture(type, exec(), { deleting: true });
      f.container({ started: type === 'liveness' });
      f.runner.otherwise = 'Failure';
      assert.equal(await f.worker.doProbe(), false);
      assert.equal(f.results.get('c1'), 'Success');
      assert.equal(f.runner.calls.length, 0);
    }
    const r = fixture('readiness', exec(), { deleting: true });
    r.container({ started: true });
    assert.equal(await r.worker.doProbe(), true);
    assert.equal(r.runner.calls.length, 1);
  });

  it('reports result changes through the results manager', async () => {
    const f = fixture('readiness', exec({ failureThreshold: 1 }));
    f.container({ started: true });
    f.runner.answers = ['Success', 'Success', 'Failure'];
    for (let i = 0; i < 3; i++) await f.worker.doProbe();
    assert.deepEqual(f.changes, [['c1', 'Failure'], ['c1', 'Success'], ['c1', 'Failure']]);
  });
});
