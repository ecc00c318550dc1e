import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod } from '@tskube/api';
import { Backoff } from './backoff.js';
import { backoffKey, computePodActions, type PodActions, type ProbeView } from './actions.js';
import type { RuntimeContainer, RuntimePodStatus, RuntimeSandbox } from './runtime-state.js';

const NOW = Date.parse('2024-05-01T10:00:00Z');
const UID = 'uid-1';

interface PodOpts {
  restartPolicy?: 'Always' | 'OnFailure' | 'Never';
  containers?: string[];
  inits?: string[];
  deleting?: boolean;
  hostNetwork?: boolean;
  /** Names in `inits` that are sidecars (restartPolicy Always). */
  sidecars?: string[];
}

function pod(o: PodOpts = {}): Pod {
  return {
    metadata: { name: 'p', namespace: 'ns', uid: UID, ...(o.deleting ? { deletionTimestamp: '2024-05-01T10:00:00Z' } : {}) },
    spec: {
      restartPolicy: o.restartPolicy ?? 'Always',
      hostNetwork: o.hostNetwork,
      containers: (o.containers ?? ['web']).map((name) => ({ name, image: 'img' })),
      ...(o.inits ? {
        initContainers: o.inits.map((name) => ({ name, image: 'img', ...(o.sidecars?.includes(name) ? { restartPolicy: 'Always' } : {}) })),
      } : {}),
    },
  };
}

function sb(o: Partial<RuntimeSandbox> = {}): RuntimeSandbox {
  return { id: 'sb0', attempt: 0, ready: true, createdAt: NOW - 60_000, ip: '10.244.0.2', hostNetwork: false, ...o };
}

let seq = 0;
function ctr(name: string, o: Partial<RuntimeContainer> = {}): RuntimeContainer {
  seq++;
  return {
    id: `${name}-${o.attempt ?? 0}-${seq}`, name, attempt: 0, state: 'running', createdAt: NOW - 50_000 + seq,
    startedAt: NOW - 50_000, finishedAt: 0, exitCode: 0, reason: '', message: '', image: 'img', imageRef: 'sha256:1',
    hash: 'h-img', sandboxId: 'sb0', ...o,
  };
}

function exited(name: string, exitCode: number, o: Partial<RuntimeContainer> = {}): RuntimeContainer {
  return ctr(name, { state: 'exited', exitCode, finishedAt: NOW - 1000, ...o });
}

function rs(sandboxes: RuntimeSandbox[], containers: RuntimeContainer[]): RuntimePodStatus {
  return {
    uid: UID, name: 'p', namespace: 'ns', sandboxes, containers: [...containers].sort((a, b) => b.createdAt - a.createdAt),
    ips: sandboxes[0]?.ready && sandboxes[0].ip ? [sandboxes[0].ip] : [],
  };
}

/** A compact, comparable rendering of the actions. */
function summary(a: PodActions): Record<string, unknown> {
  return {
    killPod: a.killPod,
    createSandbox: a.createSandbox,
    attempt: a.attempt,
    start: a.containersToStart.map((s) => `${s.kind === 'init' ? 'init:' : ''}${s.name}@${s.attempt}${s.backOff ? ` backoff ${s.backOff.delayMs / 1000}s` : ''}`),
    kill: a.containersToKill.map((k) => `${k.name}:${k.reason}`),
  };
}

interface Case {
  name: string;
  pod: Pod;
  runtime: RuntimePodStatus;
  backoff?: (b: Backoff) => void;
  probes?: ProbeView;
  want: Record<string, unknown>;
  check?: (a: PodActions) => void;
}

const hash = (c: { image?: string }): string => `h-${c.image}`;

const cases: Case[] = [
  {
    name: 'new pod: create the sandbox, start every container',
    pod: pod({ containers: ['a', 'b'] }), runtime: rs([], []),
    want: { killPod: true, createSandbox: true, attempt: 0, start: ['a@0', 'b@0'], kill: [] },
  },
  {
    name: 'new pod with init containers: only the first init container',
    pod: pod({ inits: ['setup', 'migrate'] }), runtime: rs([], []),
    want: { killPod: true, createSandbox: true, attempt: 0, start: ['init:setup@0'], kill: [] },
  },
  {
    name: 'everything running: nothing to do',
    pod: pod({ containers: ['a', 'b'] }), runtime: rs([sb()], [ctr('a'), ctr('b')]),
    want: { killPod: false, createSandbox: false, attempt: 0, start: [], kill: [] },
  },
  {
    name: 'Always: an exited container restarts at once the first time',
    pod: pod(), runtime: rs([sb()], [exited('web', 0)]),
    want: { killPod: false, createSandbox: false, attempt: 0, start: ['web@1'], kill: [] },
    check: (a) => assert.equal(a.containersToStart[0]?.previous?.exitCode, 0),
  },
  {
    name: 'Always: a crash within its backoff waits (CrashLoopBackOff)',
    pod: pod(), runtime: rs([sb()], [exited('web', 1, { attempt: 2 })]),
    backoff: (b) => { b.next(backoffKey(UID, 'web'), NOW - 30_000, NOW - 30_000); b.next(backoffKey(UID, 'web'), NOW - 5000, NOW - 5000); },
    want: { killPod: false, createSandbox: false, attempt: 0, start: ['web@3 backoff 20s'], kill: [] },
    check: (a) => assert.equal(a.containersToStart[0]?.backOff?.untilMs, NOW - 1000 + 20_000),
  },
  {
    name: 'Always: backoff over → restart',
    pod: pod(), runtime: rs([sb()], [exited('web', 1, { attempt: 1, finishedAt: NOW - 11_000 })]),
    backoff: (b) => b.next(backoffKey(UID, 'web'), NOW - 20_000, NOW - 20_000),
    want: { killPod: false, createSandbox: false, attempt: 0, start: ['web@2'], kill: [] },
  },
  {
    name: 'Never: the only container exited → kill the pod, start nothing',
    pod: pod({ restartPolicy: 'Never' }), runtime: rs([sb()], [exited('web', 3)]),
    want: { killPod: true, createSandbox: false, attempt: 0, start: [], kill: [] },
  },
  {
    name: 'Never: one still running keeps the pod',
    pod: pod({ restartPolicy: 'Never', containers: ['a', 'b'] }), runtime: rs([sb()], [ctr('a'), exited('b', 3)]),
    want: { killPod: false, createSandbox: false, attempt: 0, start: [], kill: [] },
  },
  {
    name: 'OnFailure: exit 0 is not restarted',
    pod: pod({ restartPolicy: 'OnFailure' }), runtime: rs([sb()], [exited('web', 0)]),
    want: { killPod: true, createSandbox: false, attempt: 0, start: [], kill: [] },
  },
  {
    name: 'OnFailure: a failure is restarted',
    pod: pod({ restartPolicy: 'OnFailure' }), runtime: rs([sb()], [exited('web', 2)]),
    want: { killPod: false, createSandbox: false, attempt: 0, start: ['web@1'], kill: [] },
  },
  {
    name: 'sandbox died (Always): new sandbox with the next attempt, everything restarts',
    pod: pod(), runtime: rs([sb({ ready: false, attempt: 1 })], [exited('web', 137, { attempt: 4 })]),
    want: { killPod: true, createSandbox: true, attempt: 2, start: ['web@5'], kill: [] },
    check: (a) => assert.equal(a.sandboxId, 'sb0', 'the old sandbox is named (SandboxChanged)'),
  },
  {
    name: 'sandbox stopped after a Never pod finished: not re-created',
    pod: pod({ restartPolicy: 'Never' }), runtime: rs([sb({ ready: false })], [exited('web', 0)]),
    want: { killPod: true, createSandbox: false, attempt: 1, start: [], kill: [] },
  },
  {
    name: 'OnFailure, all succeeded, sandbox stopped: not re-created',
    pod: pod({ restartPolicy: 'OnFailure' }), runtime: rs([sb({ ready: false })], [exited('web', 0)]),
    want: { killPod: true, createSandbox: false, attempt: 1, start: [], kill: [] },
  },
  {
    name: 'sandbox without an IP is re-created',
    pod: pod(), runtime: rs([sb({ ip: '' })], [ctr('web')]),
    want: { killPod: true, createSandbox: true, attempt: 1, start: ['web@1'], kill: [] },
  },
  {
    name: 'host-network sandbox needs no IP',
    pod: pod({ hostNetwork: true }), runtime: rs([sb({ ip: '', hostNetwork: true })], [ctr('web')]),
    want: { killPod: false, createSandbox: false, attempt: 0, start: [], kill: [] },
  },
  {
    name: 'two ready sandboxes: start over in a new one',
    pod: pod(), runtime: rs([sb({ id: 'sb1', attempt: 1, createdAt: NOW - 10 }), sb()], [ctr('web')]),
    want: { killPod: true, createSandbox: true, attempt: 2, start: ['web@1'], kill: [] },
  },
  {
    name: 'init: first succeeded → second',
    pod: pod({ inits: ['one', 'two'] }), runtime: rs([sb()], [exited('one', 0)]),
    want: { killPod: false, createSandbox: false, attempt: 0, start: ['init:two@0'], kill: [] },
  },
  {
    name: 'init: still running → wait',
    pod: pod({ inits: ['one', 'two'] }), runtime: rs([sb()], [ctr('one')]),
    want: { killPod: false, createSandbox: false, attempt: 0, start: [], kill: [] },
  },
  {
    name: 'init: failed (Always) → retried',
    pod: pod({ inits: ['one'] }), runtime: rs([sb()], [exited('one', 1)]),
    want: { killPod: false, createSandbox: false, attempt: 0, start: ['init:one@1'], kill: [] },
  },
  {
    name: 'init: failed (Never) → kill the pod',
    pod: pod({ inits: ['one'], restartPolicy: 'Never' }), runtime: rs([sb()], [exited('one', 1)]),
    want: { killPod: true, createSandbox: false, attempt: 0, start: [], kill: [] },
  },
  {
    name: 'init: all done → app containers start',
    pod: pod({ inits: ['one', 'two'], containers: ['a', 'b'] }), runtime: rs([sb()], [exited('one', 0), exited('two', 0)]),
    want: { killPod: false, createSandbox: false, attempt: 0, start: ['a@0', 'b@0'], kill: [] },
  },
  {
    name: 'init containers gone but an app container runs: initialized',
    pod: pod({ inits: ['one'] }), runtime: rs([sb()], [ctr('web')]),
    want: { killPod: false, createSandbox: false, attempt: 0, start: [], kill: [] },
  },
  {
    name: 'spec changed (image): kill and restart whatever the policy',
    pod: { ...pod({ restartPolicy: 'Never' }), spec: { restartPolicy: 'Never', containers: [{ name: 'web', image: 'img2' }] } },
    runtime: rs([sb()], [ctr('web')]),
    want: { killPod: false, createSandbox: false, attempt: 0, start: ['web@1'], kill: ['web:DefinitionChanged'] },
    check: (a) => assert.equal(a.containersToKill[0]?.message, 'Container web definition changed, will be restarted'),
  },
  {
    name: 'an instance without a hash (adopted from elsewhere) is kept',
    pod: pod(), runtime: rs([sb()], [ctr('web', { hash: '' })]),
    want: { killPod: false, createSandbox: false, attempt: 0, start: [], kill: [] },
  },
  {
    name: 'created but never started: a new instance is started',
    pod: pod({ restartPolicy: 'Never' }), runtime: rs([sb()], [ctr('web', { state: 'created', startedAt: 0 })]),
    want: { killPod: false, createSandbox: false, attempt: 0, start: ['web@1'], kill: [] },
  },
  {
    name: 'unknown state: killed, then started again',
    pod: pod(), runtime: rs([sb()], [ctr('web', { state: 'unknown' })]),
    want: { killPod: false, createSandbox: false, attempt: 0, start: ['web@1'], kill: ['web:Unknown'] },
  },
  {
    name: 'liveness failure (Always): kill and restart',
    pod: pod(), runtime: rs([sb()], [ctr('web', { id: 'live-1' })]),
    probes: { livenessFailed: (id) => id === 'live-1' },
    want: { killPod: false, createSandbox: false, attempt: 0, start: ['web@1'], kill: ['web:LivenessProbe'] },
    check: (a) => assert.equal(a.containersToKill[0]?.message, 'Container web failed liveness probe, will be restarted'),
  },
  {
    name: 'liveness failure (Never): nothing left → kill the pod',
    pod: pod({ restartPolicy: 'Never' }), runtime: rs([sb()], [ctr('web', { id: 'live-2' })]),
    probes: { livenessFailed: () => true },
    want: { killPod: true, createSandbox: false, attempt: 0, start: [], kill: ['web:LivenessProbe'] },
  },
  {
    name: 'being deleted: nothing (re)starts',
    pod: pod({ deleting: true }), runtime: rs([sb()], [exited('web', 1)]),
    want: { killPod: true, createSandbox: false, attempt: 0, start: [], kill: [] },
  },
];

/** Sidecar containers (init containers with restartPolicy Always), upstream 1.29+ semantics. */
const sidecarCases: Case[] = [
  {
    name: 'sidecar: new pod starts the first init container (the sidecar) only',
    pod: pod({ inits: ['proxy', 'setup'], sidecars: ['proxy'] }), runtime: rs([], []),
    want: { killPod: true, createSandbox: true, attempt: 0, start: ['init:proxy@0'], kill: [] },
  },
  {
    name: 'sidecar: running → the next init container starts without waiting for it to finish',
    pod: pod({ inits: ['proxy', 'setup'], sidecars: ['proxy'] }), runtime: rs([sb()], [ctr('proxy')]),
    want: { killPod: false, createSandbox: false, attempt: 0, start: ['init:setup@0'], kill: [] },
  },
  {
    name: 'sidecar: created but not started → started again, the next one waits',
    pod: pod({ inits: ['proxy', 'setup'], sidecars: ['proxy'] }), runtime: rs([sb()], [ctr('proxy', { state: 'created' })]),
    want: { killPod: false, createSandbox: false, attempt: 0, start: ['init:proxy@1'], kill: [] },
  },
  {
    name: 'sidecar: a regular init container after it is running → wait',
    pod: pod({ inits: ['proxy', 'setup'], sidecars: ['proxy'] }), runtime: rs([sb()], [ctr('proxy'), ctr('setup')]),
    want: { killPod: false, createSandbox: false, attempt: 0, start: [], kill: [] },
  },
  {
    name: 'sidecar: last init container and running → app containers start',
    pod: pod({ inits: ['setup', 'proxy'], sidecars: ['proxy'], containers: ['a', 'b'] }),
    runtime: rs([sb()], [exited('setup', 0), ctr('proxy')]),
    want: { killPod: false, createSandbox: false, attempt: 0, start: ['a@0', 'b@0'], kill: [] },
  },
  {
    name: 'sidecar: regular init done after it → app containers start, sidecar kept',
    pod: pod({ inits: ['proxy', 'setup'], sidecars: ['proxy'] }), runtime: rs([sb()], [ctr('proxy'), exited('setup', 0)]),
    want: { killPod: false, createSandbox: false, attempt: 0, start: ['web@0'], kill: [] },
  },
  {
    name: 'sidecar: exits while the app runs → restarted (even with restartPolicy Never)',
    pod: pod({ inits: ['proxy'], sidecars: ['proxy'], restartPolicy: 'Never' }), runtime: rs([sb()], [exited('proxy', 0), ctr('web')]),
    want: { killPod: false, createSandbox: false, attempt: 0, start: ['init:proxy@1'], kill: [] },
  },
  {
    name: 'sidecar: a crash-looping sidecar waits for its backoff',
    pod: pod({ inits: ['proxy'], sidecars: ['proxy'] }), runtime: rs([sb()], [exited('proxy', 1, { attempt: 1 }), ctr('web')]),
    backoff: (b) => b.next(backoffKey(UID, 'proxy'), NOW - 2000, NOW - 2000),
    want: { killPod: false, createSandbox: false, attempt: 0, start: ['init:proxy@2 backoff 10s'], kill: [] },
  },
  {
    name: 'sidecar: removed while the app runs → started again; regular init containers are not',
    pod: pod({ inits: ['setup', 'proxy'], sidecars: ['proxy'] }), runtime: rs([sb()], [ctr('web')]),
    want: { killPod: false, createSandbox: false, attempt: 0, start: ['init:proxy@0'], kill: [] },
  },
  {
    name: 'sidecar: spec changed → killed and restarted at once',
    pod: { ...pod(), spec: { containers: [{ name: 'web', image: 'img' }], initContainers: [{ name: 'proxy', image: 'img2', restartPolicy: 'Always' }] } },
    runtime: rs([sb()], [ctr('proxy'), ctr('web')]),
    want: { killPod: false, createSandbox: false, attempt: 0, start: ['init:proxy@1'], kill: ['proxy:DefinitionChanged'] },
    check: (a) => assert.equal(a.containersToKill[0]?.message, 'Init container proxy definition changed'),
  },
  {
    name: 'sidecar: liveness failure → killed and restarted',
    pod: pod({ inits: ['proxy'], sidecars: ['proxy'] }), runtime: rs([sb()], [ctr('proxy', { id: 'px' }), ctr('web')]),
    probes: { livenessFailed: (id) => id === 'px' },
    want: { killPod: false, createSandbox: false, attempt: 0, start: ['init:proxy@1'], kill: ['proxy:LivenessProbe'] },
  },
  {
    name: 'sidecar: unknown state → killed and restarted even with restartPolicy Never',
    pod: pod({ inits: ['proxy'], sidecars: ['proxy'], restartPolicy: 'Never' }), runtime: rs([sb()], [ctr('proxy', { state: 'unknown' }), ctr('web')]),
    want: { killPod: false, createSandbox: false, attempt: 0, start: ['init:proxy@1'], kill: ['proxy:Unknown'] },
  },
  {
    name: 'sidecar: the app finished (Never) → kill the pod, the sidecar is not kept alive',
    pod: pod({ inits: ['proxy'], sidecars: ['proxy'], restartPolicy: 'Never' }), runtime: rs([sb()], [ctr('proxy'), exited('web', 0)]),
    want: { killPod: true, createSandbox: false, attempt: 0, start: [], kill: [] },
  },
  {
    // As upstream: with no app container created or running, initialization cannot be told
    // apart from a fresh start, so the sidecar is started again. (The kubelet never gets here
    // for a finished pod: its status phase is Succeeded first, and a terminal pod is not synced.)
    name: 'sidecar: the app finished and the sidecar exited (OnFailure) → as upstream, the sidecar is started',
    pod: pod({ inits: ['proxy'], sidecars: ['proxy'], restartPolicy: 'OnFailure' }), runtime: rs([sb()], [exited('proxy', 137), exited('web', 0)]),
    want: { killPod: false, createSandbox: false, attempt: 0, start: ['init:proxy@1'], kill: [] },
  },
  {
    name: 'sidecar: a failed regular init container after it (Never) → kill the pod',
    pod: pod({ inits: ['proxy', 'setup'], sidecars: ['proxy'], restartPolicy: 'Never' }), runtime: rs([sb()], [ctr('proxy'), exited('setup', 1)]),
    want: { killPod: true, createSandbox: false, attempt: 0, start: [], kill: [] },
  },
  {
    name: 'sidecar: a failed regular init container after it (Always) → retried, sidecar kept',
    pod: pod({ inits: ['proxy', 'setup'], sidecars: ['proxy'] }), runtime: rs([sb()], [ctr('proxy'), exited('setup', 1)]),
    want: { killPod: false, createSandbox: false, attempt: 0, start: ['init:setup@1'], kill: [] },
  },
  {
    name: 'sidecar: being deleted → nothing restarts',
    pod: pod({ inits: ['proxy'], sidecars: ['proxy'], deleting: true }), runtime: rs([sb()], [exited('proxy', 1), ctr('web')]),
    want: { killPod: false, createSandbox: false, attempt: 0, start: [], kill: [] },
  },
  {
    name: 'sidecar: two sidecars, the second one exits → only it restarts',
    pod: pod({ inits: ['a', 'b'], sidecars: ['a', 'b'] }), runtime: rs([sb()], [ctr('a'), exited('b', 2), ctr('web')]),
    want: { killPod: false, createSandbox: false, attempt: 0, start: ['init:b@1'], kill: [] },
  },
];

/** A pod whose init containers `proxy` (a sidecar with a startup probe) and `setup` run before `web`. */
function probedSidecarPod(inits: string[] = ['proxy', 'setup']): Pod {
  const p = pod({ inits, sidecars: ['proxy'] });
  for (const c of p.spec!.initContainers!) {
    if (c.name === 'proxy') c.startupProbe = { exec: { command: ['true'] }, periodSeconds: 1 };
  }
  return p;
}

const startupCases: Case[] = [
  {
    name: 'sidecar startup probe: no result yet → the next init container waits',
    pod: probedSidecarPod(), runtime: rs([sb()], [ctr('proxy', { id: 'px' })]),
    probes: { startupSucceeded: () => false, startupFailed: () => false },
    want: { killPod: false, createSandbox: false, attempt: 0, start: [], kill: [] },
  },
  {
    name: 'sidecar startup probe: succeeded → the next init container starts',
    pod: probedSidecarPod(), runtime: rs([sb()], [ctr('proxy', { id: 'px' })]),
    probes: { startupSucceeded: (id) => id === 'px', startupFailed: () => false },
    want: { killPod: false, createSandbox: false, attempt: 0, start: ['init:setup@0'], kill: [] },
  },
  {
    name: 'sidecar startup probe: failed → killed and restarted at once, the next one still waits',
    pod: { ...probedSidecarPod(), spec: { ...probedSidecarPod().spec!, restartPolicy: 'Never' } },
    runtime: rs([sb()], [ctr('proxy', { id: 'px' })]),
    probes: { startupSucceeded: () => false, startupFailed: (id) => id === 'px' },
    want: { killPod: false, createSandbox: false, attempt: 0, start: ['init:proxy@1'], kill: ['proxy:StartupProbe'] },
    check: (a) => assert.equal(a.containersToKill[0]?.message, 'Init container proxy failed startup probe'),
  },
  {
    name: 'sidecar startup probe: the last init container not started yet → the app waits (not initialized)',
    pod: probedSidecarPod(['proxy']), runtime: rs([sb()], [ctr('proxy', { id: 'px' })]),
    probes: { startupSucceeded: () => false },
    want: { killPod: false, createSandbox: false, attempt: 0, start: [], kill: [] },
  },
  {
    name: 'sidecar startup probe: the last init container started → the app starts',
    pod: probedSidecarPod(['proxy']), runtime: rs([sb()], [ctr('proxy', { id: 'px' })]),
    probes: { startupSucceeded: () => true },
    want: { killPod: false, createSandbox: false, attempt: 0, start: ['web@0'], kill: [] },
  },
  {
    name: 'sidecar startup probe: a view without startupSucceeded treats a running sidecar as started',
    pod: probedSidecarPod(), runtime: rs([sb()], [ctr('proxy', { id: 'px' })]),
    probes: { livenessFailed: () => false },
    want: { killPod: false, createSandbox: false, attempt: 0, start: ['init:setup@0'], kill: [] },
  },
  {
    name: 'sidecar startup probe: restarted after initialization → the app keeps running, nothing else starts',
    pod: probedSidecarPod(), runtime: rs([sb()], [ctr('proxy', { id: 'px2', attempt: 1 }), exited('setup', 0), ctr('web')]),
    probes: { startupSucceeded: () => false, startupFailed: () => false },
    want: { killPod: false, createSandbox: false, attempt: 0, start: [], kill: [] },
  },
  {
    name: 'sidecar without a startup probe ignores startup results',
    pod: pod({ inits: ['proxy', 'setup'], sidecars: ['proxy'] }), runtime: rs([sb()], [ctr('proxy', { id: 'px' })]),
    probes: { startupSucceeded: () => false, startupFailed: () => true },
    want: { killPod: false, createSandbox: false, attempt: 0, start: ['init:setup@0'], kill: [] },
  },
];

describe('computePodActions: sidecar startup probes', () => {
  for (const c of startupCases) {
    it(c.name, () => {
      const actions = computePodActions(c.pod, c.runtime, { now: NOW, backoff: new Backoff(), hash, probes: c.probes });
      assert.deepEqual(summary(actions), c.want);
      c.check?.(actions);
    });
  }
});

describe('computePodActions: sidecars', () => {
  for (const c of sidecarCases) {
    it(c.name, () => {
      const backoff = new Backoff({ initialMs: 10_000, maxMs: 300_000 });
      c.backoff?.(backoff);
      const actions = computePodActions(c.pod, c.runtime, { now: NOW, backoff, hash, probes: c.probes });
      assert.deepEqual(summary(actions), c.want);
      c.check?.(actions);
    });
  }
});

describe('computePodActions', () => {
  for (const c of cases) {
    it(c.name, () => {
      const backoff = new Backoff({ initialMs: 10_000, maxMs: 300_000 });
      c.backoff?.(backoff);
      const actions = computePodActions(c.pod, c.runtime, { now: NOW, backoff, hash, probes: c.probes });
      assert.deepEqual(summary(actions), c.want);
      c.check?.(actions);
    });
  }

  it('is pure: the same input gives the same actions and nothing is modified', () => {
    const p = pod({ containers: ['a', 'b'] });
    const r = rs([sb()], [exited('a', 1)]);
    const before = JSON.stringify([p, r]);
    const backoff = new Backoff();
    const x = computePodActions(p, r, { now: NOW, backoff, hash });
    const y = computePodActions(p, r, { now: NOW, backoff, hash });
    assert.deepEqual(x, y);
    assert.equal(JSON.stringify([p, r]), before);
    assert.equal(backoff.size, 0, 'deciding does not touch the backoff');
  });
});
