import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod } from '@tskube/api';
import { Backoff } from './backoff.js';
import { computePodActions } from './actions.js';
import { ContainerConfigError, containerConfig } from './container-config.js';
import { ephemeralContainerSpec, ephemeralTargetId, withTargetPidNamespace } from './ephemeral.js';
import type { RuntimeContainer, RuntimePodStatus, RuntimeSandbox } from './runtime-state.js';

const NOW = Date.parse('2024-05-01T10:00:00Z');

interface PodOpts {
  restartPolicy?: 'Always' | 'OnFailure' | 'Never';
  inits?: string[];
  deleting?: boolean;
  hostPID?: boolean;
  shareProcessNamespace?: boolean;
  ephemeral?: Array<{ name: string; target?: string }>;
}

function pod(o: PodOpts = {}): Pod {
  return {
    metadata: { name: 'p', namespace: 'ns', uid: 'uid-1', ...(o.deleting ? { deletionTimestamp: '2024-05-01T10:00:00Z' } : {}) },
    spec: {
      restartPolicy: o.restartPolicy ?? 'Always',
      ...(o.hostPID ? { hostPID: true } : {}),
      ...(o.shareProcessNamespace ? { shareProcessNamespace: true } : {}),
      containers: [{ name: 'main', image: 'img' }],
      ...(o.inits ? { initContainers: o.inits.map((name) => ({ name, image: 'img' })) } : {}),
      ephemeralContainers: (o.ephemeral ?? [{ name: 'debugger', target: 'main' }]).map((e) => ({
        name: e.name, image: 'busybox', stdin: true, tty: true, terminationMessagePolicy: 'File', ...(e.target ? { targetContainerName: e.target } : {}),
      })),
    },
  };
}

const SANDBOX: RuntimeSandbox = { id: 'sb0', attempt: 0, ready: true, createdAt: NOW - 60_000, ip: '10.244.0.2', hostNetwork: false };

let seq = 0;
function ctr(name: string, o: Partial<RuntimeContainer> = {}): RuntimeContainer {
  seq++;
  return {
    id: `${name}-${seq}`, name, attempt: 0, state: 'running', createdAt: NOW - 50_000 + seq, startedAt: NOW - 50_000, finishedAt: 0,
    exitCode: 0, reason: '', message: '', image: 'img', imageRef: 'sha256:1', hash: '', sandboxId: 'sb0', ...o,
  };
}

function rs(sandboxes: RuntimeSandbox[], containers: RuntimeContainer[]): RuntimePodStatus {
  return {
    uid: 'uid-1', name: 'p', namespace: 'ns', sandboxes, containers: [...containers].sort((a, b) => b.createdAt - a.createdAt),
    ips: sandboxes[0]?.ready ? [sandboxes[0].ip] : [],
  };
}

const starts = (p: Pod, r: RuntimePodStatus) => {
  const a = computePodActions(p, r, { now: NOW, backoff: new Backoff({ initialMs: 10_000, maxMs: 300_000 }), hash: () => '' });
  return { killPod: a.killPod, createSandbox: a.createSandbox, start: a.containersToStart.map((s) => `${s.kind}:${s.name}@${s.attempt}`) };
};

describe('ephemeral containers: actions (upstream computePodActions)', () => {
  const cases: Array<[string, Pod, RuntimePodStatus, ReturnType<typeof starts>]> = [
    ['started once the pod runs, with attempt 0', pod(), rs([SANDBOX], [ctr('main')]),
      { killPod: false, createSandbox: false, start: ['ephemeral:debugger@0'] }],
    ['started first, before app containers of the same sync', pod({ ephemeral: [{ name: 'a' }, { name: 'b' }] }), rs([SANDBOX], []),
      { killPod: false, createSandbox: false, start: ['ephemeral:a@0', 'ephemeral:b@0', 'regular:main@0'] }],
    ['started while initialization is under way', pod({ inits: ['setup'] }), rs([SANDBOX], [ctr('setup')]),
      { killPod: false, createSandbox: false, start: ['ephemeral:debugger@0'] }],
    ['never restarted once it exited (whatever the restartPolicy)', pod(), rs([SANDBOX], [ctr('main'), ctr('debugger', { state: 'exited', exitCode: 1 })]),
      { killPod: false, createSandbox: false, start: [] }],
    ['not restarted while it runs', pod(), rs([SANDBOX], [ctr('main'), ctr('debugger')]),
      { killPod: false, createSandbox: false, start: [] }],
    ['not started in a pod being deleted', pod({ deleting: true }), rs([SANDBOX], [ctr('main')]),
      { killPod: false, createSandbox: false, start: [] }],
    ['not started when the sandbox must be created (the pod starts over without it)', pod(), rs([], []),
      { killPod: true, createSandbox: true, start: ['regular:main@0'] }],
    ['not started in a pod being killed (nothing of the app left to run)', pod({ restartPolicy: 'Never' }),
      rs([SANDBOX], [ctr('main', { state: 'exited', exitCode: 0 })]), { killPod: true, createSandbox: false, start: [] }],
  ];
  for (const [name, p, r, want] of cases) {
    it(name, () => assert.deepEqual(starts(p, r), want));
  }
});

describe('ephemeral containers: target PID namespace', () => {
  it('targets the running instance of the named container; none without a target', () => {
    assert.equal(ephemeralTargetId(pod(), 0, rs([SANDBOX], [ctr('main', { id: 'main-id' })])), 'main-id');
    assert.equal(ephemeralTargetId(pod({ ephemeral: [{ name: 'd' }] }), 0, rs([SANDBOX], [])), undefined);
  });

  it('a target that is not running is a CreateContainerConfigError (upstream wording)', () => {
    for (const r of [rs([SANDBOX], []), rs([SANDBOX], [ctr('main', { state: 'exited', exitCode: 0 })])]) {
      assert.throws(() => ephemeralTargetId(pod(), 0, r), (e: unknown) => e instanceof ContainerConfigError && e.message === 'unable to find target container main');
    }
  });

  it('the config joins the target only over a private PID namespace (not hostPID, not a shared one)', () => {
    const config = (p: Pod) => {
      const spec = ephemeralContainerSpec(p, 0)!;
      assert.equal((spec as { targetContainerName?: string }).targetContainerName, undefined, 'no EphemeralContainer-only fields in the Container');
      const c = containerConfig(p, spec, { kind: 'ephemeral', attempt: 0, env: { nodeName: 'n', hostIP: '', podIP: '', podIPs: [] } });
      return withTargetPidNamespace(c, 'main-id').linux?.security_context?.namespace_options;
    };
    assert.deepEqual(config(pod()), { network: 'POD', pid: 'TARGET', ipc: 'POD', target_id: 'main-id' });
    assert.deepEqual(config(pod({ hostPID: true })), { network: 'POD', pid: 'NODE', ipc: 'POD' });
    assert.deepEqual(config(pod({ shareProcessNamespace: true })), { network: 'POD', pid: 'POD', ipc: 'POD' });
    const c = containerConfig(pod(), ephemeralContainerSpec(pod(), 0)!, { kind: 'ephemeral', attempt: 0, env: { nodeName: 'n', hostIP: '', podIP: '', podIPs: [] } });
    assert.deepEqual([c.stdin, c.tty, c.metadata.name], [true, true, 'debugger'], 'stdin/tty for kubectl debug -it');
    assert.deepEqual(withTargetPidNamespace(c, undefined).linux?.security_context?.namespace_options?.pid, 'CONTAINER');
  });
});
