import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod, PodCondition, PodStatus } from '@tskube/api';
import type { RuntimeContainer, RuntimePodStatus } from '../pods/runtime-state.js';
import { generatePodStatus, podPhase, terminatedPodStatus, type GenerateInput, type WaitingReason } from './generate.js';

const T0 = Date.parse('2024-05-01T10:00:00Z');
const NOW = T0 + 60_000;

function pod(spec: Partial<NonNullable<Pod['spec']>> = {}, extra: Partial<Pod> = {}): Pod {
  return {
    metadata: { name: 'p', namespace: 'ns', uid: 'u1' },
    spec: { restartPolicy: 'Always', containers: [{ name: 'web', image: 'local/busybox:1' }], ...spec },
    status: { phase: 'Pending', qosClass: 'BestEffort', conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: '2024-05-01T09:59:00Z' }] },
    ...extra,
  };
}

let n = 0;
function ctr(name: string, o: Partial<RuntimeContainer> = {}): RuntimeContainer {
  n++;
  return {
    id: `${name}${n}`, name, attempt: 0, state: 'running', createdAt: T0 + n, startedAt: T0 + 1000, finishedAt: 0, exitCode: 0,
    reason: '', message: '', image: 'local/busybox:1', imageRef: 'sha256:abc', hash: '', sandboxId: 'sb', ...o,
  };
}

function runtime(containers: RuntimeContainer[], sandbox: 'ready' | 'stopped' | 'none' = 'ready'): RuntimePodStatus {
  const sandboxes = sandbox === 'none' ? [] : [{ id: 'sb', attempt: 0, ready: sandbox === 'ready', createdAt: T0, ip: sandbox === 'ready' ? '10.244.0.7' : '', hostNetwork: false }];
  return {
    uid: 'u1', name: 'p', namespace: 'ns', sandboxes, ips: sandbox === 'ready' ? ['10.244.0.7'] : [],
    containers: [...containers].sort((a, b) => b.createdAt - a.createdAt),
  };
}

function gen(p: Pod, rs: RuntimePodStatus, o: Partial<GenerateInput> = {}): PodStatus {
  return generatePodStatus({ pod: p, runtime: rs, oldStatus: undefined, podIsTerminal: false, hostIPs: ['172.18.0.5'], runtimeName: 'docker', now: NOW, ...o });
}

function cond(s: PodStatus, type: string): PodCondition | undefined {
  return s.conditions?.find((c) => c.type === type);
}

function condSummary(s: PodStatus): string[] {
  return (s.conditions ?? []).map((c) => `${c.type}=${c.status}${c.reason ? `/${c.reason}` : ''}`);
}

describe('generatePodStatus', () => {
  it('a new pod waits in ContainerCreating; upstream conditions and order', () => {
    const s = gen(pod(), runtime([], 'none'));
    assert.equal(s.phase, 'Pending');
    assert.deepEqual(s.containerStatuses?.[0]?.state, { waiting: { reason: 'ContainerCreating' } });
    assert.equal(s.containerStatuses?.[0]?.ready, false);
    assert.equal(s.containerStatuses?.[0]?.image, 'local/busybox:1');
    assert.deepEqual(condSummary(s), [
      'PodReadyToStartContainers=False', 'Initialized=True', 'Ready=False/ContainersNotReady', 'ContainersReady=False/ContainersNotReady', 'PodScheduled=True',
    ]);
    assert.equal(cond(s, 'Ready')?.message, 'containers with unready status: [web]');
    assert.equal(cond(s, 'PodScheduled')?.lastTransitionTime, '2024-05-01T09:59:00Z', 'kept from the scheduler');
    assert.equal(s.hostIP, '172.18.0.5');
    assert.deepEqual(s.hostIPs, [{ ip: '172.18.0.5' }]);
    assert.equal(s.podIP, undefined);
    assert.equal(s.startTime, '2024-05-01T10:01:00Z');
    assert.equal(s.qosClass, 'BestEffort');
  });

  it('a running container: Running, ready, started, IDs, IP', () => {
    const c = ctr('web', { attempt: 2 });
    const s = gen(pod(), runtime([c]));
    assert.equal(s.phase, 'Running');
    const cs = s.containerStatuses![0]!;
    assert.equal(cs.ready, true);
    assert.equal(cs.started, true);
    assert.equal(cs.restartCount, 2);
    assert.equal(cs.containerID, `docker://${c.id}`);
    assert.equal(cs.imageID, 'sha256:abc');
    assert.deepEqual(cs.state, { running: { startedAt: '2024-05-01T10:00:01Z' } });
    assert.equal(s.podIP, '10.244.0.7');
    assert.deepEqual(s.podIPs, [{ ip: '10.244.0.7' }]);
    assert.deepEqual(condSummary(s), ['PodReadyToStartContainers=True', 'Initialized=True', 'Ready=True', 'ContainersReady=True', 'PodScheduled=True']);
  });

  it('a readiness result of false keeps a running container unready', () => {
    const s = gen(pod(), runtime([ctr('web')]), { readiness: () => false });
    assert.equal(s.containerStatuses![0]!.ready, false);
    assert.equal(cond(s, 'Ready')?.status, 'False');
  });

  const probeViews: Array<{ started: boolean; ready: boolean; want: [boolean, boolean, string] }> = [
    { started: false, ready: true, want: [false, false, 'False'] },
    { started: true, ready: false, want: [true, false, 'False'] },
    { started: true, ready: true, want: [true, true, 'True'] },
  ];
  for (const v of probeViews) {
    it(`the prober's view started=${v.started} ready=${v.ready} → started/ready/Ready ${v.want.join('/')}`, () => {
      const asked: string[] = [];
      const s = gen(pod(), runtime([ctr('web', { id: 'cid' })]), {
        readiness: () => true, // the prober's view wins
        probes: {
          started: (uid, name, id) => { asked.push(`started ${uid} ${name} ${id}`); return v.started; },
          ready: (uid, name, id) => { asked.push(`ready ${uid} ${name} ${id}`); return v.ready; },
        },
      });
      const cs = s.containerStatuses![0]!;
      assert.deepEqual([cs.started, cs.ready, cond(s, 'Ready')?.status], v.want);
      assert.deepEqual(asked, v.started ? ['started u1 web cid', 'ready u1 web cid'] : ['started u1 web cid'], 'ready is asked only once started');
    });
  }

  const phases: Array<{ name: string; p: Pod; containers: RuntimeContainer[]; terminal?: boolean; want: string }> = [
    { name: 'Never, exit 3 → Failed', p: pod({ restartPolicy: 'Never' }), containers: [ctr('web', { state: 'exited', exitCode: 3, reason: 'Error', finishedAt: T0 + 5000 })], want: 'Failed' },
    { name: 'Never, exit 0 → Succeeded', p: pod({ restartPolicy: 'Never' }), containers: [ctr('web', { state: 'exited', exitCode: 0, reason: 'Completed', finishedAt: T0 + 5000 })], want: 'Succeeded' },
    { name: 'OnFailure, exit 1 → Running (restarting)', p: pod({ restartPolicy: 'OnFailure' }), containers: [ctr('web', { state: 'exited', exitCode: 1 })], want: 'Running' },
    { name: 'OnFailure, exit 0 → Succeeded', p: pod({ restartPolicy: 'OnFailure' }), containers: [ctr('web', { state: 'exited', exitCode: 0 })], want: 'Succeeded' },
    { name: 'Always, exited → Running (restarting)', p: pod(), containers: [ctr('web', { state: 'exited', exitCode: 0 })], want: 'Running' },
    { name: 'Always, exited, pod terminal → Succeeded', p: pod(), containers: [ctr('web', { state: 'exited', exitCode: 0 })], terminal: true, want: 'Succeeded' },
    { name: 'Always, killed (137), pod terminal → Failed', p: pod(), containers: [ctr('web', { state: 'exited', exitCode: 137 })], terminal: true, want: 'Failed' },
    { name: 'one running, one not created → Pending', p: pod({ containers: [{ name: 'a' }, { name: 'b' }] }), containers: [ctr('a')], want: 'Pending' },
    { name: 'init running → Pending', p: pod({ initContainers: [{ name: 'setup' }] }), containers: [ctr('setup')], want: 'Pending' },
    { name: 'init failed, Never → Failed', p: pod({ restartPolicy: 'Never', initContainers: [{ name: 'setup' }] }), containers: [ctr('setup', { state: 'exited', exitCode: 1 })], want: 'Failed' },
  ];
  for (const c of phases) {
    it(`phase: ${c.name}`, () => {
      assert.equal(gen(c.p, runtime(c.containers), { podIsTerminal: c.terminal ?? false }).phase, c.want);
    });
  }

  it('Failed: terminated state with exit code and reason; Ready False/PodFailed', () => {
    const s = gen(pod({ restartPolicy: 'Never' }), runtime([ctr('web', { state: 'exited', exitCode: 3, reason: 'Error', finishedAt: T0 + 5000 })]));
    const t = s.containerStatuses![0]!.state!.terminated!;
    assert.equal(t.exitCode, 3);
    assert.equal(t.reason, 'Error');
    assert.equal(t.startedAt, '2024-05-01T10:00:01Z');
    assert.equal(t.finishedAt, '2024-05-01T10:00:05Z');
    assert.match(t.containerID ?? '', /^docker:\/\//);
    assert.equal(cond(s, 'Ready')?.reason, 'PodFailed');
    assert.equal(cond(s, 'ContainersReady')?.reason, 'PodFailed');
  });

  it('the last start failure shows as the waiting reason (ErrImagePull) while nothing ran', () => {
    const reasons = new Map<string, WaitingReason>([['web', { reason: 'ErrImagePull', message: 'pull failed' }]]);
    const s = gen(pod(), runtime([]), { reasons });
    assert.deepEqual(s.containerStatuses![0]!.state, { waiting: { reason: 'ErrImagePull', message: 'pull failed' } });
    assert.equal(s.phase, 'Pending');
  });

  it('CrashLoopBackOff: waiting with the crash as lastState, phase Running', () => {
    const reasons = new Map<string, WaitingReason>([['web', { reason: 'CrashLoopBackOff', message: 'back-off 10s restarting failed container=web pod=p_ns(u1)' }]]);
    const s = gen(pod(), runtime([ctr('web', { state: 'exited', exitCode: 1, reason: 'Error', attempt: 1 })]), { reasons });
    const cs = s.containerStatuses![0]!;
    assert.equal(cs.state?.waiting?.reason, 'CrashLoopBackOff');
    assert.equal(cs.lastState?.terminated?.exitCode, 1);
    assert.equal(cs.restartCount, 1);
    assert.equal(s.phase, 'Running');
  });

  it('the previous instance becomes lastState', () => {
    const old = ctr('web', { state: 'exited', exitCode: 2, attempt: 0 });
    const cur = ctr('web', { attempt: 1 });
    const s = gen(pod(), runtime([old, cur]));
    const cs = s.containerStatuses![0]!;
    assert.ok(cs.state?.running);
    assert.equal(cs.lastState?.terminated?.exitCode, 2);
    assert.equal(cs.restartCount, 1);
  });

  it('init containers: app waits PodInitializing, Initialized False with the incomplete ones', () => {
    const p = pod({ initContainers: [{ name: 'one' }, { name: 'two' }] });
    const s = gen(p, runtime([ctr('one', { state: 'exited', exitCode: 0 }), ctr('two')]));
    assert.deepEqual(s.containerStatuses![0]!.state, { waiting: { reason: 'PodInitializing' } });
    assert.deepEqual(s.initContainerStatuses!.map((c) => [c.name, c.ready]), [['one', true], ['two', false]]);
    assert.equal(cond(s, 'Initialized')?.status, 'False');
    assert.equal(cond(s, 'Initialized')?.message, 'containers with incomplete status: [two]');
  });

  it('container statuses are sorted by name; init statuses keep spec order', () => {
    const p = pod({ containers: [{ name: 'zeta' }, { name: 'alpha' }], initContainers: [{ name: 'z' }, { name: 'a' }] });
    const s = gen(p, runtime([]));
    assert.deepEqual(s.containerStatuses!.map((c) => c.name), ['alpha', 'zeta']);
    assert.deepEqual(s.initContainerStatuses!.map((c) => c.name), ['z', 'a']);
  });

  it('lastTransitionTime moves only when a condition changes; startTime sticks', () => {
    const first = gen(pod(), runtime([], 'none'));
    const web = ctr('web');
    const second = gen(pod(), runtime([web]), { oldStatus: first, now: NOW + 5000 });
    assert.equal(second.startTime, first.startTime);
    assert.equal(cond(second, 'Initialized')?.lastTransitionTime, cond(first, 'Initialized')?.lastTransitionTime);
    assert.equal(cond(second, 'Ready')?.lastTransitionTime, '2024-05-01T10:01:05Z');
    const third = gen(pod(), runtime([web]), { oldStatus: second, now: NOW + 9000 });
    assert.deepEqual(third, second, 'same inputs → same status: nothing to write');
  });

  it('a terminal phase never goes back, and keeps the pod IP once the sandbox is stopped', () => {
    const done = gen(pod({ restartPolicy: 'Never' }), runtime([ctr('web', { state: 'exited', exitCode: 0 })]));
    assert.equal(done.phase, 'Succeeded');
    const later = gen(pod({ restartPolicy: 'Never' }), runtime([], 'stopped'), { oldStatus: done, podIsTerminal: true });
    assert.equal(later.phase, 'Succeeded');
    assert.equal(later.podIP, '10.244.0.7');
    assert.equal(later.containerStatuses![0]!.state?.terminated?.exitCode, 0, 'terminated statuses are kept without instances');
  });

  it('keeps conditions it does not own, and writes a shutdown reason with DisruptionTarget', () => {
    const p = pod();
    p.status!.conditions!.push({ type: 'example.com/Gate', status: 'True' });
    const s = gen(p, runtime([ctr('web', { state: 'exited', exitCode: 137 })], 'stopped'), {
      podIsTerminal: true,
      terminationReason: { reason: 'Terminated', message: 'Pod was terminated in response to imminent node shutdown.', condition: { type: 'DisruptionTarget', status: 'True', reason: 'TerminationByKubelet' } },
    });
    assert.equal(s.phase, 'Failed');
    assert.equal(s.reason, 'Terminated');
    assert.deepEqual(condSummary(s).slice(0, 2), ['example.com/Gate=True', 'DisruptionTarget=True/TerminationByKubelet']);
  });

  it('readiness gates hold Ready back', () => {
    const p = pod({ readinessGates: [{ conditionType: 'example.com/lb' }] });
    const s = gen(p, runtime([ctr('web')]));
    assert.equal(cond(s, 'ContainersReady')?.status, 'True');
    assert.equal(cond(s, 'Ready')?.reason, 'ReadinessGatesNotReady');
    assert.equal(cond(s, 'Ready')?.message, 'corresponding condition of pod readiness gate "example.com/lb" does not exist.');
  });

  it('podPhase ignores statuses of containers not in the spec', () => {
    assert.equal(podPhase(pod(), [], false), 'Pending');
  });
});

describe('terminatedPodStatus', () => {
  it('never-started containers end terminated (unknown, 137) and the phase becomes Failed', () => {
    const s = gen(pod(), runtime([]), { reasons: new Map([['web', { reason: 'ErrImagePull', message: 'x' }]]) });
    const t = terminatedPodStatus(s, NOW);
    assert.equal(t.phase, 'Failed');
    assert.deepEqual(t.containerStatuses![0]!.state, {
      terminated: { reason: 'ContainerStatusUnknown', message: 'The container could not be located when the pod was terminated', exitCode: 137 },
    });
    assert.equal(s.phase, 'Pending', 'the input is not modified');
  });

  it('a running pod that was stopped: Ready turns False/PodFailed', () => {
    const running = gen(pod(), runtime([ctr('web')]));
    const t = terminatedPodStatus(running, NOW + 1000);
    assert.equal(t.phase, 'Failed');
    assert.equal(cond(t, 'Ready')?.status, 'False');
    assert.equal(cond(t, 'Ready')?.reason, 'PodFailed');
  });
});

describe('generatePodStatus: sidecars and eviction', () => {
  const sidecarPod = (policy = 'Always', inits: Array<{ name: string; sidecar?: boolean }> = [{ name: 'proxy', sidecar: true }]): Pod => pod({
    restartPolicy: policy,
    initContainers: inits.map((c) => ({ name: c.name, image: 'local/busybox:1', ...(c.sidecar ? { restartPolicy: 'Always' } : {}) })),
  });

  const cases: Array<{
    name: string; p: Pod; containers: RuntimeContainer[]; terminal?: boolean;
    phase: string; conds: string[]; init?: Array<[string, boolean, boolean]>;
  }> = [
    {
      name: 'sidecar running, app not started yet: Pending, Initialized',
      p: sidecarPod(), containers: [ctr('proxy')], phase: 'Pending',
      conds: ['PodReadyToStartContainers=True', 'Initialized=True', 'Ready=False/ContainersNotReady', 'ContainersReady=False/ContainersNotReady', 'PodScheduled=True'],
      init: [['proxy', true, true]],
    },
    {
      name: 'sidecar and app running: Running and Ready; the sidecar is ready and started',
      p: sidecarPod(), containers: [ctr('proxy'), ctr('web')], phase: 'Running',
      conds: ['PodReadyToStartContainers=True', 'Initialized=True', 'Ready=True', 'ContainersReady=True', 'PodScheduled=True'],
      init: [['proxy', true, true]],
    },
    {
      name: 'a regular init container still running after the sidecar: not Initialized',
      p: sidecarPod('Always', [{ name: 'proxy', sidecar: true }, { name: 'setup' }]), containers: [ctr('proxy'), ctr('setup')], phase: 'Pending',
      conds: ['PodReadyToStartContainers=True', 'Initialized=False/ContainersNotInitialized', 'Ready=False/ContainersNotReady', 'ContainersReady=False/ContainersNotReady', 'PodScheduled=True'],
      init: [['proxy', true, true], ['setup', false, true]],
    },
    {
      name: 'sidecar exited while the app runs: still Running, not ready',
      p: sidecarPod(), containers: [ctr('proxy', { state: 'exited', exitCode: 1, finishedAt: T0 + 5000 }), ctr('web')], phase: 'Running',
      conds: ['PodReadyToStartContainers=True', 'Initialized=True', 'Ready=False/ContainersNotReady', 'ContainersReady=False/ContainersNotReady', 'PodScheduled=True'],
      init: [['proxy', false, false]],
    },
    {
      name: 'Never: the app succeeded, sidecar still running → Running until the kubelet stops it',
      p: sidecarPod('Never'), containers: [ctr('proxy'), ctr('web', { state: 'exited', exitCode: 0, finishedAt: T0 + 5000 })], phase: 'Running',
      conds: ['PodReadyToStartContainers=True', 'Initialized=True', 'Ready=False/ContainersNotReady', 'ContainersReady=False/ContainersNotReady', 'PodScheduled=True'],
    },
    {
      name: 'Never: the app succeeded, sidecar stopped (137) → Succeeded (the sidecar does not count)',
      p: sidecarPod('Never'), containers: [ctr('proxy', { state: 'exited', exitCode: 137, finishedAt: T0 + 6000 }), ctr('web', { state: 'exited', exitCode: 0, finishedAt: T0 + 5000 })],
      terminal: true, phase: 'Succeeded',
      conds: ['PodReadyToStartContainers=True', 'Initialized=True/PodCompleted', 'Ready=False/PodCompleted', 'ContainersReady=False/PodCompleted', 'PodScheduled=True'],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const s = gen(c.p, runtime(c.containers), { podIsTerminal: c.terminal ?? false });
      assert.equal(s.phase, c.phase);
      assert.deepEqual(condSummary(s), c.conds);
      if (c.init) assert.deepEqual(s.initContainerStatuses?.map((x) => [x.name, x.ready, x.started]), c.init);
    });
  }

  const sidecarProbeViews: Array<{ name: string; started: boolean; ready: boolean; app: boolean; phase: string; conds: string[] }> = [
    {
      name: 'sidecar not past its startup probe: started false, Pending, not Initialized',
      started: false, ready: true, app: false, phase: 'Pending',
      conds: ['PodReadyToStartContainers=True', 'Initialized=False/ContainersNotInitialized', 'Ready=False/ContainersNotReady', 'ContainersReady=False/ContainersNotReady', 'PodScheduled=True'],
    },
    {
      name: 'sidecar started but its readiness probe not passed: Ready False (the sidecar is unready)',
      started: true, ready: false, app: true, phase: 'Running',
      conds: ['PodReadyToStartContainers=True', 'Initialized=True', 'Ready=False/ContainersNotReady', 'ContainersReady=False/ContainersNotReady', 'PodScheduled=True'],
    },
    {
      name: 'sidecar started and ready, app running: Ready True',
      started: true, ready: true, app: true, phase: 'Running',
      conds: ['PodReadyToStartContainers=True', 'Initialized=True', 'Ready=True', 'ContainersReady=True', 'PodScheduled=True'],
    },
  ];
  for (const v of sidecarProbeViews) {
    it(`prober view of a sidecar: ${v.name}`, () => {
      const asked: string[] = [];
      const s = gen(sidecarPod(), runtime([ctr('proxy', { id: 'px' }), ...(v.app ? [ctr('web', { id: 'w' })] : [])]), {
        probes: {
          started: (_uid, name, id) => { asked.push(`started ${name} ${id}`); return name === 'proxy' ? v.started : true; },
          ready: (_uid, name, id) => { asked.push(`ready ${name} ${id}`); return name === 'proxy' ? v.ready : true; },
        },
      });
      const st = s.initContainerStatuses?.[0];
      assert.deepEqual([st?.name, st?.started, st?.ready], ['proxy', v.started, v.started && v.ready]);
      assert.equal(s.phase, v.phase);
      assert.deepEqual(condSummary(s), v.conds);
      assert.ok(asked.includes('started proxy px'), 'the prober is asked about the sidecar');
      if (v.ready && v.started) assert.ok(asked.includes('ready proxy px'));
      if (!v.started) assert.ok(!asked.includes('ready proxy px'), 'ready is asked only once started');
      if (v.conds[2] !== 'Ready=True') assert.match(cond(s, 'Ready')?.message ?? '', /proxy/);
    });
  }

  it('evict (activeDeadlineSeconds): Failed with the reason and message, kept while terminating', () => {
    const evict = { reason: 'DeadlineExceeded', message: 'Pod was active on the node longer than the specified deadline' };
    const s = gen(pod(), runtime([ctr('web')]), { evict });
    assert.deepEqual([s.phase, s.reason, s.message], ['Failed', evict.reason, evict.message]);
    assert.equal(cond(s, 'Ready')?.reason, 'PodFailed');
    // Terminating: the container was killed (137); the old status already says Failed/DeadlineExceeded.
    const t = gen(pod(), runtime([ctr('web', { state: 'exited', exitCode: 0, finishedAt: NOW })]), { evict, oldStatus: s, podIsTerminal: true });
    assert.deepEqual([t.phase, t.reason], ['Failed', 'DeadlineExceeded']);
    // A pod that already Succeeded is not turned into a failure.
    const done = gen(pod({ restartPolicy: 'Never' }), runtime([ctr('web', { state: 'exited', exitCode: 0, finishedAt: NOW })]), {
      evict, oldStatus: { phase: 'Succeeded' },
    });
    assert.equal(done.phase, 'Succeeded');
  });
});
