/**
 * Ephemeral containers through the whole kubelet on fakes (FakeRuntime + FakeClient): an
 * ephemeral container added to a running pod's spec is started once, in the PID namespace of
 * its target, reported in ephemeralContainerStatuses, and never restarted after it exits.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { defaultPod, podQOSClass, type Pod } from '@tskube/api';
import { FakeClient, Resources } from '@tskube/client';
import { createLogger, nullLogger } from '@tskube/log';
import { Code, CriError, FakeBackend, FakeRuntime, LABEL_CONTAINER_NAME, LABEL_POD_UID } from './cri/index.js';
import type { HostFacts } from './host/host-info.js';
import { buildKubelet, type KubeletTiming } from './kubelet.js';

const NODE = 'node-1';
const log = process.env.TSKUBE_TEST_LOG ? createLogger({ component: 'kubelet-ephemeral-test', level: 'debug' }) : nullLogger();
const HOST: HostFacts = {
  cpuCores: 4, memoryBytes: 8 * 1024 ** 3, ephemeralStorageBytes: 50 * 1024 ** 3, kernelVersion: '6.1.0-test',
  osImage: 'Test Linux', architecture: 'amd64', machineID: 'm-1', systemUUID: 's-1', bootID: 'b-1', hostname: 'host-1',
};
const FAST: Partial<KubeletTiming> = {
  nodeStatusIntervalMs: 50, heartbeatMs: 300, leaseRenewMs: 50, plegRelistMs: 20, housekeepingMs: 30, resyncMs: 300, syncErrorBackoffMs: 60,
};

type EphemeralContainer = NonNullable<NonNullable<Pod['spec']>['ephemeralContainers']>[number];

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => { for (const c of cleanups.splice(0)) await c(); });

async function start(): Promise<{ client: FakeClient; backend: FakeBackend; runtime: FakeRuntime }> {
  const client = new FakeClient();
  const backend = new FakeBackend({ pull: (ref) => (ref.startsWith('local/') ? { name: ref } : new CriError(Code.NOT_FOUND, 'manifest unknown')) });
  const runtime = new FakeRuntime({ nodeName: NODE, clusterName: 'test', backend });
  const kubelet = buildKubelet({
    settings: { nodeName: NODE, nodeIP: '10.0.0.1', bindAddress: '127.0.0.1', kubeletPort: 0, healthPort: 0, shutdownRemovePods: false },
    client, runtime, logger: log, host: HOST, timing: FAST,
  });
  const ac = new AbortController();
  const run = kubelet.start(ac.signal);
  await kubelet.ready();
  cleanups.push(async () => {
    ac.abort();
    await run;
    for (const id of [...backend.containers.keys()]) await runtime.removeContainer({ container_id: id });
  });
  return { client, backend, runtime };
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function runningPod(client: FakeClient, name: string): Promise<Pod> {
  const spec: NonNullable<Pod['spec']> = { nodeName: NODE, containers: [{ name: 'main', image: 'local/busybox:1', command: ['sleep', '3600'] }] };
  const p: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec, status: { phase: 'Pending', qosClass: podQOSClass(spec) } };
  defaultPod(p);
  await client.resource(Resources.pods).create('default', p);
  return waitFor('Running', async () => {
    const got = await client.resource(Resources.pods).get('default', name);
    return got.status?.phase === 'Running' ? got : undefined;
  });
}

/** What the ephemeralcontainers subresource would store: the pod with containers appended (defaulted). */
async function addEphemeral(client: FakeClient, name: string, ec: EphemeralContainer): Promise<void> {
  const p = await client.resource(Resources.pods).get('default', name);
  const next = structuredClone(p) as Pod;
  next.spec!.ephemeralContainers = [...(next.spec!.ephemeralContainers ?? []), ec];
  defaultPod(next);
  await client.resource(Resources.pods).update(next);
}

async function logsOf(runtime: FakeRuntime, id: string): Promise<string> {
  let out = '';
  for await (const chunk of runtime.readLogs({ container_id: id })) out += Buffer.from(chunk.data).toString();
  return out;
}

describe('kubelet: ephemeral containers (fake runtime)', () => {
  it('starts one in the target\'s PID namespace, reports it, and never restarts it', async () => {
    const { client, backend, runtime } = await start();
    const pod = await runningPod(client, 'web');
    const uid = pod.metadata!.uid!;
    await addEphemeral(client, 'web', {
      name: 'debugger', image: 'local/busybox:1', command: ['sh', '-c', 'ps; sleep 3600'], targetContainerName: 'main', stdin: true, tty: true,
    });
    const st = await waitFor('debugger running', async () => {
      const p = await client.resource(Resources.pods).get('default', 'web');
      return p.status?.ephemeralContainerStatuses?.find((c) => c.name === 'debugger' && c.state?.running);
    });
    assert.equal(st.ready, false);
    assert.equal(st.started, undefined);
    const mine = (n: string) => [...backend.containers.values()].filter((c) => c.labels[LABEL_POD_UID] === uid && c.labels[LABEL_CONTAINER_NAME] === n);
    const [main] = mine('main');
    const [dbg] = mine('debugger');
    assert.ok(main && dbg);
    assert.equal(dbg.pidNs, main.pidNs, 'the debugger shares the target\'s PID namespace');
    const out = await waitFor('ps output', async () => { const l = await logsOf(runtime, dbg.id); return /sleep 3600\n.*sh -c ps; sleep 3600/s.test(l) && l; });
    assert.match(out, /^PID {3}USER {5}COMMAND\n {4}1 root {5}sleep 3600\n/, out);

    // one that exits is reported terminated and stays so; the pod keeps running
    await addEphemeral(client, 'web', { name: 'once', image: 'local/busybox:1', command: ['sh', '-c', 'echo hi; exit 2'] });
    await waitFor('once terminated', async () => {
      const p = await client.resource(Resources.pods).get('default', 'web');
      return p.status?.ephemeralContainerStatuses?.find((c) => c.name === 'once')?.state?.terminated?.exitCode === 2;
    });
    await new Promise((r) => setTimeout(r, 700)); // > two resyncs
    assert.equal(mine('once').length, 1, 'not restarted');
    const p = await client.resource(Resources.pods).get('default', 'web');
    assert.equal(p.status?.phase, 'Running');
    assert.deepEqual(p.status?.ephemeralContainerStatuses?.map((c) => c.name), ['debugger', 'once']);
    const events = (await client.resource(Resources.events).list({ namespace: 'default' })).items
      .filter((e) => e.involvedObject.fieldPath === 'spec.ephemeralContainers{once}').map((e) => e.reason);
    assert.deepEqual([...new Set(events)].sort(), ['Created', 'Pulled', 'Started']);
  });

  it('waits with CreateContainerConfigError while the target does not run', async () => {
    const { client } = await start();
    await runningPod(client, 'web');
    await addEphemeral(client, 'web', { name: 'debugger', image: 'local/busybox:1', targetContainerName: 'nosuch' });
    const st = await waitFor('debugger waiting', async () => {
      const p = await client.resource(Resources.pods).get('default', 'web');
      return p.status?.ephemeralContainerStatuses?.find((c) => c.state?.waiting?.reason === 'CreateContainerConfigError');
    });
    assert.equal(st.state?.waiting?.message, 'unable to find target container nosuch');
  });
});
