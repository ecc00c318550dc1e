import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod, PodStatus } from '@tskube/api';
import type { RuntimeContainer, RuntimePodStatus } from '../pods/runtime-state.js';
import { generatePodStatus, type GenerateInput } from './generate.js';

const T0 = Date.parse('2024-05-01T10:00:00Z');

function pod(o: { inits?: boolean; restartPolicy?: 'Always' | 'Never' } = {}): Pod {
  return {
    metadata: { name: 'p', namespace: 'ns', uid: 'u1' },
    spec: {
      restartPolicy: o.restartPolicy ?? 'Always',
      containers: [{ name: 'web', image: 'local/busybox:1' }],
      ...(o.inits ? { initContainers: [{ name: 'setup', image: 'local/busybox:1' }] } : {}),
      ephemeralContainers: [{ name: 'zz-debugger', image: 'local/busybox:1', targetContainerName: 'web' }, { name: 'debugger', image: 'local/busybox:1' }],
    },
    status: { phase: 'Pending', qosClass: 'BestEffort' },
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

function runtime(containers: RuntimeContainer[]): RuntimePodStatus {
  return {
    uid: 'u1', name: 'p', namespace: 'ns', sandboxes: [{ id: 'sb', attempt: 0, ready: true, createdAt: T0, ip: '10.244.0.7', hostNetwork: false }],
    ips: ['10.244.0.7'], containers: [...containers].sort((a, b) => b.createdAt - a.createdAt),
  };
}

function gen(p: Pod, rs: RuntimePodStatus, o: Partial<GenerateInput> = {}): PodStatus {
  return generatePodStatus({ pod: p, runtime: rs, oldStatus: undefined, podIsTerminal: false, hostIPs: ['172.18.0.5'], runtimeName: 'docker', now: T0 + 60_000, ...o });
}

describe('ephemeralContainerStatuses (upstream convertToAPIContainerStatuses)', () => {
  it('none without ephemeral containers', () => {
    const p = pod();
    delete p.spec!.ephemeralContainers;
    assert.equal(gen(p, runtime([ctr('web')])).ephemeralContainerStatuses, undefined);
  });

  it('sorted by name; waiting ContainerCreating (PodInitializing with init containers) until an instance exists', () => {
    const s = gen(pod(), runtime([ctr('web')]));
    assert.deepEqual(s.ephemeralContainerStatuses?.map((c) => [c.name, c.state]), [
      ['debugger', { waiting: { reason: 'ContainerCreating' } }], ['zz-debugger', { waiting: { reason: 'ContainerCreating' } }],
    ]);
    assert.equal(gen(pod({ inits: true }), runtime([])).ephemeralContainerStatuses?.[0]?.state?.waiting?.reason, 'PodInitializing');
  });

  it('running: never ready, no `started`; phase and conditions ignore it', () => {
    const s = gen(pod(), runtime([ctr('web'), ctr('debugger', { id: 'dbg' })]), { readiness: () => true });
    const d = s.ephemeralContainerStatuses?.find((c) => c.name === 'debugger');
    assert.deepEqual(d, {
      name: 'debugger', restartCount: 0, image: 'local/busybox:1', imageID: 'sha256:abc', containerID: 'docker://dbg', ready: false,
      state: { running: { startedAt: '2024-05-01T10:00:01Z' } },
    });
    assert.equal(s.phase, 'Running');
    assert.equal(s.conditions?.find((c) => c.type === 'Ready')?.status, 'True', 'an unready ephemeral container keeps the pod Ready');
  });

  it('exited: terminated with its exit code, and the pod keeps running', () => {
    const s = gen(pod(), runtime([ctr('web'), ctr('debugger', { id: 'dbg', state: 'exited', exitCode: 3, reason: 'Error', finishedAt: T0 + 5000 })]));
    const d = s.ephemeralContainerStatuses?.find((c) => c.name === 'debugger');
    assert.deepEqual(d?.state?.terminated, {
      exitCode: 3, reason: 'Error', startedAt: '2024-05-01T10:00:01Z', finishedAt: '2024-05-01T10:00:05Z', containerID: 'docker://dbg',
    });
    assert.equal(s.phase, 'Running');
  });

  it('a failed start shows its reason while no instance exists', () => {
    const reasons = new Map([['zz-debugger', { reason: 'CreateContainerConfigError', message: 'unable to find target container web' }]]);
    const s = gen(pod(), runtime([]), { reasons });
    assert.deepEqual(s.ephemeralContainerStatuses?.find((c) => c.name === 'zz-debugger')?.state,
      { waiting: { reason: 'CreateContainerConfigError', message: 'unable to find target container web' } });
  });
});
