/**
 * Probes and lifecycle hooks through the whole kubelet on fakes (FakeRuntime, FakeClient):
 * a failing liveness probe restarts the container, readiness drives ready and the Ready
 * condition, a startup probe gates started/ready, a failing postStart hook kills the
 * container, and preStop runs before the container is stopped. Exec probes and hooks go
 * through the fake runtime's ExecSync, answered from flags the tests flip.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { defaultPod, podQOSClass, type Event, type Pod } from '@tskube/api';
import { FakeClient, Resources } from '@tskube/client';
import { createLogger, nullLogger } from '@tskube/log';
import { FakeBackend, FakeRuntime, type FakeBehaviour } from './cri/index.js';
import type * as m from './cri/proto.js';
import { buildKubelet, type KubeletTiming } from './kubelet.js';

const NODE = 'node-p';
const log = process.env.TSKUBE_TEST_LOG ? createLogger({ component: 'kubelet-probes-test', level: 'debug' }) : nullLogger();
const FAST: Partial<KubeletTiming> = {
  nodeStatusIntervalMs: 50, heartbeatMs: 300, leaseRenewMs: 50, plegRelistMs: 20, housekeepingMs: 30,
  resyncMs: 300, syncErrorBackoffMs: 100, crashLoopBackoff: { initialMs: 200, maxMs: 400 },
};

/** What the exec'd commands answer: `check <flag>` exits 0 while the flag is set. */
const flags = new Set<string>();
/** Exec'd commands and container stops, in order. */
const journal: string[] = [];

const execBehaviour: FakeBehaviour = async (ctx) => {
  journal.push(`exec ${ctx.argv.join(' ')}`);
  const [cmd, flag] = ctx.argv;
  if (cmd === 'check') {
    if (flags.has(flag ?? '')) return 0;
    ctx.stderr(`${flag} is not set\n`);
    return 1;
  }
  if (cmd === 'fail') { ctx.stderr('hook broke\n'); return 2; }
  return 0;
};

class JournalRuntime extends FakeRuntime {
  override async stopContainer(req: m.StopContainerRequest): Promise<m.StopContainerResponse> {
    const c = this.backend.containers.get(req.container_id);
    if (c?.state === 'CONTAINER_RUNNING') journal.push(`stop ${c.metadata.name} timeout=${req.timeout}`);
    return super.stopContainer(req);
  }
}

interface Harness { client: FakeClient; runtime: JournalRuntime; stop(): Promise<void> }
const harnesses: Harness[] = [];

async function start(): Promise<Harness> {
  const client = new FakeClient();
  const backend = new FakeBackend({ execBehaviour });
  const runtime = new JournalRuntime({ nodeName: NODE, clusterName: 'test', backend });
  const kubelet = buildKubelet({
    settings: { nodeName: NODE, nodeIP: '10.0.0.1', bindAddress: '127.0.0.1', kubeletPort: 0, shutdownRemovePods: false },
    client, runtime, logger: log, timing: FAST,
    host: { cpuCores: 4, memoryBytes: 8 * 1024 ** 3, ephemeralStorageBytes: 1e11, kernelVersion: 'k', osImage: 'o', architecture: 'amd64', machineID: 'm', systemUUID: 's', bootID: 'b', hostname: 'h' },
  });
  const ac = new AbortController();
  const run = kubelet.start(ac.signal);
  await kubelet.ready();
  const h: Harness = { client, runtime, stop: async () => { ac.abort(); await run; } };
  harnesses.push(h);
  return h;
}

afterEach(async () => {
  for (const h of harnesses.splice(0)) {
    await h.stop();
    for (const id of [...h.runtime.backend.containers.keys()]) await h.runtime.removeContainer({ container_id: id });
  }
  flags.clear();
  journal.length = 0;
});

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 8000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) { last = err; }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

type Ctr = NonNullable<Pod['spec']>['containers'][number];

async function createPod(h: Harness, name: string, main: Partial<Ctr>, spec: Partial<NonNullable<Pod['spec']>> = {}): Promise<Pod> {
  const podSpec: NonNullable<Pod['spec']> = {
    nodeName: NODE, terminationGracePeriodSeconds: 5,
    containers: [{ name: 'main', image: 'local/busybox:1', command: ['sleep', '3600'], ...main }], ...spec,
  };
  const p: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: podSpec, status: { phase: 'Pending', qosClass: podQOSClass(podSpec) } };
  defaultPod(p);
  return h.client.resource(Resources.pods).create('default', p);
}

const getPod = (h: Harness, name: string): Promise<Pod> => h.client.resource(Resources.pods).get('default', name);
const events = async (h: Harness, name: string): Promise<string[]> =>
  (await h.client.resource(Resources.events).list({ namespace: 'default' })).items
    .filter((e: Event) => e.involvedObject.name === name).map((e: Event) => `${e.type} ${e.reason}: ${e.message}`);
const condition = (p: Pod, type: string): string | undefined => p.status?.conditions?.find((c) => c.type === type)?.status;

const exec = (flag: string, o: Record<string, number> = {}) => ({ exec: { command: ['check', flag] }, periodSeconds: 1, failureThreshold: 1, ...o });

describe('probes and lifecycle hooks (fake runtime, fake apiserver)', () => {
  it('a failing liveness probe kills and restarts the container: Unhealthy + Killing events, restartCount 1', async () => {
    const h = await start();
    flags.add('live');
    await createPod(h, 'live', { livenessProbe: exec('live') });
    await waitFor('Running and probed', async () => (await getPod(h, 'live')).status?.phase === 'Running' && journal.includes('exec check live'));
    flags.delete('live');
    const p = await waitFor('restart', async () => {
      const x = await getPod(h, 'live');
      return x.status?.containerStatuses?.[0]?.restartCount === 1 && x.status.containerStatuses[0].state?.running ? x : undefined;
    });
    flags.add('live');
    assert.equal(p.status?.containerStatuses?.[0]?.lastState?.terminated?.exitCode, 137);
    // Events are written asynchronously.
    const evs = await waitFor('Unhealthy and Killing events', async () => {
      const e = await events(h, 'live');
      return e.includes('Warning Unhealthy: Liveness probe failed: live is not set\n')
        && e.includes('Normal Killing: Container main failed liveness probe, will be restarted') ? e : undefined;
    });
    await waitFor('Started twice (one aggregated event)', async () => ((await h.client.resource(Resources.events).list({ namespace: 'default' })).items
      .find((e: Event) => e.involvedObject.name === 'live' && e.reason === 'Started')?.count ?? 0) >= 2);
    assert.ok(!evs.some((e) => e.includes('BackOff')), 'a liveness restart is not held back by the crash-loop backoff');
  });

  it('readiness drives containerStatuses[].ready, ContainersReady and Ready', async () => {
    const h = await start();
    await createPod(h, 'ready', { readinessProbe: exec('ready') });
    const first = await waitFor('Running', async () => { const x = await getPod(h, 'ready'); return x.status?.phase === 'Running' ? x : undefined; });
    assert.equal(first.status?.containerStatuses?.[0]?.ready, false, 'not ready before the first success');
    assert.equal(first.status?.containerStatuses?.[0]?.started, true);
    assert.equal(condition(first, 'Ready'), 'False');
    flags.add('ready');
    const up = await waitFor('Ready', async () => { const x = await getPod(h, 'ready'); return condition(x, 'Ready') === 'True' ? x : undefined; });
    assert.equal(up.status?.containerStatuses?.[0]?.ready, true);
    assert.equal(condition(up, 'ContainersReady'), 'True');
    flags.delete('ready');
    const down = await waitFor('not Ready', async () => { const x = await getPod(h, 'ready'); return condition(x, 'Ready') === 'False' ? x : undefined; });
    assert.equal(down.status?.conditions?.find((c) => c.type === 'Ready')?.message, 'containers with unready status: [main]');
    assert.equal(down.status?.containerStatuses?.[0]?.restartCount, 0, 'readiness never restarts');
    await waitFor('Unhealthy event', async () => (await events(h, 'ready')).includes('Warning Unhealthy: Readiness probe failed: ready is not set\n'));
  });

  it('a startup probe holds started (and liveness/readiness) until it succeeds', async () => {
    const h = await start();
    await createPod(h, 'slow', { startupProbe: exec('started', { failureThreshold: 30 }), livenessProbe: exec('live') });
    const pending = await waitFor('Running', async () => { const x = await getPod(h, 'slow'); return x.status?.phase === 'Running' ? x : undefined; });
    assert.equal(pending.status?.containerStatuses?.[0]?.started, false);
    assert.equal(pending.status?.containerStatuses?.[0]?.ready, false);
    await new Promise((r) => setTimeout(r, 1500));
    assert.ok(!journal.includes('exec check live'), 'no liveness probe before the container started');
    flags.add('started');
    flags.add('live');
    const p = await waitFor('started', async () => { const x = await getPod(h, 'slow'); return x.status?.containerStatuses?.[0]?.started ? x : undefined; });
    assert.equal(p.status?.containerStatuses?.[0]?.ready, true);
    await waitFor('liveness probing', async () => journal.includes('exec check live'));
  });

  it('a failing postStart hook kills the container (FailedPostStartHook) and it is restarted', async () => {
    const h = await start();
    await createPod(h, 'hook', { lifecycle: { postStart: { exec: { command: ['fail'] } } } });
    await waitFor('restarted', async () => ((await getPod(h, 'hook')).status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1);
    await waitFor('hook events', async () => {
      const e = await events(h, 'hook');
      return e.includes('Warning FailedPostStartHook: PostStartHook failed') && e.includes('Normal Killing: FailedPostStartHook');
    });
    // The status written right after the failed hook carries upstream's message.
    const written = h.client.actions
      .filter((a) => a.verb === 'update' && a.subresource === 'status' && a.name === 'hook')
      .map((a) => (a.body as Pod).status?.containerStatuses?.[0]?.state?.waiting)
      .find((w) => w?.reason === 'PostStartHookError');
    assert.match(written?.message ?? '', /^Exec lifecycle hook \(\[fail\]\) for Container "main" in Pod "hook_default\(.+\)" failed - error: command 'fail' exited with 2: hook broke\n, message: "hook broke\\n"$/);
  });

  it('on deletion preStop runs before the container is stopped, within the grace period', async () => {
    const h = await start();
    await createPod(h, 'bye', { lifecycle: { preStop: { exec: { command: ['echo', 'bye'] } } } });
    await waitFor('Running', async () => (await getPod(h, 'bye')).status?.phase === 'Running');
    await h.client.resource(Resources.pods).delete('default', 'bye');
    await waitFor('pod removed', async () => { try { await getPod(h, 'bye'); return false; } catch { return true; } });
    const i = journal.indexOf('exec echo bye');
    const j = journal.findIndex((e) => e.startsWith('stop main'));
    assert.ok(i >= 0 && j > i, journal.join('\n'));
    assert.equal(journal[j], 'stop main timeout=5', 'the hook took well under a second of the 5 s');
  });

  it('a failing preStop hook is reported (FailedPreStopHook) and the container still stops', async () => {
    const h = await start();
    await createPod(h, 'bad-bye', { lifecycle: { preStop: { exec: { command: ['fail'] } } } });
    await waitFor('Running', async () => (await getPod(h, 'bad-bye')).status?.phase === 'Running');
    await h.client.resource(Resources.pods).delete('default', 'bad-bye');
    await waitFor('pod removed', async () => { try { await getPod(h, 'bad-bye'); return false; } catch { return true; } });
    await waitFor('FailedPreStopHook event', async () => (await events(h, 'bad-bye')).includes('Warning FailedPreStopHook: PreStopHook failed'));
    assert.ok(journal.some((e) => e.startsWith('stop main')), journal.join('\n'));
  });
});
