/**
 * The whole kubelet on fakes: the in-memory FakeRuntime (the CRI) and the FakeClient (the
 * apiserver), with every period shortened. Covers registration and lease, the pod flow
 * (Running, Failed, crash loop, image pull failures, init containers), events, deletion,
 * adoption after a restart, orphan cleanup and graceful shutdown.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { defaultPod, podQOSClass, type Event, type Lease, type Node, type Pod } from '@tskube/api';
import { FakeClient, Resources } from '@tskube/client';
import { createLogger, nullLogger } from '@tskube/log';
import { Code, CriError, FakeBackend, FakeRuntime, LABEL_CLUSTER, LABEL_NODE, LABEL_POD_UID } from './cri/index.js';
import type { HostFacts } from './host/host-info.js';
import { buildKubelet, type KubeletEndpoints, type KubeletSettings, type KubeletTiming } from './kubelet.js';

const NODE = 'node-1';
const log = process.env.TSKUBE_TEST_LOG ? createLogger({ component: 'kubelet-test', level: 'debug' }) : nullLogger();

const HOST: HostFacts = {
  cpuCores: 4, memoryBytes: 8 * 1024 ** 3, ephemeralStorageBytes: 50 * 1024 ** 3, kernelVersion: '6.1.0-test',
  osImage: 'Test Linux', architecture: 'amd64', machineID: 'm-1', systemUUID: 's-1', bootID: 'b-1', hostname: 'host-1',
};

const FAST: Partial<KubeletTiming> = {
  nodeStatusIntervalMs: 50, heartbeatMs: 300, leaseRenewMs: 50, plegRelistMs: 20, housekeepingMs: 30,
  resyncMs: 300, syncErrorBackoffMs: 60,
  crashLoopBackoff: { initialMs: 300, maxMs: 1200 },
  imagePullBackoff: { initialMs: 400, maxMs: 1200 },
};

interface Harness {
  client: FakeClient;
  /** Ports of the running kubelet (health/metrics on healthPort). */
  endpoints(): KubeletEndpoints;
  backend: FakeBackend;
  runtime: FakeRuntime;
  stop(): Promise<void>;
  restart(settings?: Partial<KubeletSettings>): Promise<void>;
}

const running: Harness[] = [];

async function start(o: { client?: FakeClient; backend?: FakeBackend; settings?: Partial<KubeletSettings> } = {}): Promise<Harness> {
  const client = o.client ?? new FakeClient();
  const backend = o.backend ?? new FakeBackend({
    pull: (ref) => (ref.startsWith('local/') ? { name: ref } : new CriError(Code.NOT_FOUND, `pull image "${ref}": manifest unknown`)),
  });
  const runtime = new FakeRuntime({ nodeName: NODE, clusterName: 'test', backend });
  let stopFn: () => Promise<void> = async () => {};
  let endpoints: KubeletEndpoints = { kubeletPort: 0, healthPort: undefined };
  const launch = async (settings: Partial<KubeletSettings> = {}): Promise<void> => {
    const kubelet = buildKubelet({
      settings: { nodeName: NODE, nodeIP: '10.0.0.1', bindAddress: '127.0.0.1', kubeletPort: 0, healthPort: 0, shutdownRemovePods: false, ...o.settings, ...settings },
      client, runtime, logger: log, host: HOST, timing: FAST,
    });
    const ac = new AbortController();
    const run = kubelet.start(ac.signal);
    endpoints = await kubelet.ready();
    stopFn = async () => { ac.abort(); await run; };
  };
  await launch();
  const h: Harness = {
    client, backend, runtime,
    endpoints: () => endpoints,
    stop: () => stopFn(),
    restart: async (settings) => { await stopFn(); await launch(settings); },
  };
  running.push(h);
  return h;
}

afterEach(async () => {
  for (const h of running.splice(0)) {
    await h.stop();
    // Simulated processes (sleep 3600) hold timers: end them.
    for (const id of [...h.backend.containers.keys()]) await h.runtime.removeContainer({ container_id: id });
  }
});

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function createPod(client: FakeClient, name: string, spec: Partial<NonNullable<Pod['spec']>>): Promise<Pod> {
  const podSpec: NonNullable<Pod['spec']> = { nodeName: NODE, containers: [{ name: 'main', image: 'local/busybox:1', command: ['sleep', '3600'] }], ...spec };
  const p: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: podSpec, status: { phase: 'Pending', qosClass: podQOSClass(podSpec) } };
  defaultPod(p);
  return client.resource(Resources.pods).create('default', p);
}

async function getPod(client: FakeClient, name: string): Promise<Pod> {
  return client.resource(Resources.pods).get('default', name);
}

async function podEvents(client: FakeClient, name: string): Promise<Event[]> {
  return (await client.resource(Resources.events).list({ namespace: 'default' })).items.filter((e) => e.involvedObject.name === name);
}

function runtimeObjects(backend: FakeBackend, uid: string): { sandboxes: number; containers: string[] } {
  return {
    sandboxes: [...backend.sandboxes.values()].filter((s) => s.labels[LABEL_POD_UID] === uid).length,
    containers: [...backend.containers.values()].filter((c) => c.labels[LABEL_POD_UID] === uid).map((c) => c.id),
  };
}

describe('kubelet (fake runtime, fake apiserver)', () => {
  it('registers its Node (labels, taint, capacity, Ready) and renews its Lease', async () => {
    const h = await start();
    const node: Node = await waitFor('node', () => h.client.resource(Resources.nodes).get(NODE));
    assert.equal(node.metadata?.labels?.['kubernetes.io/hostname'], NODE);
    assert.equal(node.metadata?.labels?.['kubernetes.io/os'], 'linux');
    assert.deepEqual(node.spec?.taints, [{ key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' }]);
    assert.equal(node.status?.capacity?.cpu, '4');
    assert.equal(node.status?.capacity?.pods, '110');
    assert.equal(node.status?.nodeInfo?.containerRuntimeVersion, 'fake://0.1.0');
    assert.equal(node.status?.nodeInfo?.kubeletVersion, 'v1.32.0-tskube');
    assert.deepEqual(node.status?.addresses?.[0], { type: 'InternalIP', address: '10.0.0.1' });
    assert.equal(node.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');

    const lease1: Lease = await waitFor('lease', () => h.client.resource(Resources.leases).get('kube-node-lease', NODE));
    assert.equal(lease1.spec?.holderIdentity, NODE);
    assert.equal(lease1.spec?.leaseDurationSeconds, 40);
    assert.deepEqual(lease1.metadata?.ownerReferences?.map((r) => [r.kind, r.name, r.uid]), [['Node', NODE, node.metadata?.uid]]);
    await waitFor('lease renewal', async () => {
      const l = await h.client.resource(Resources.leases).get('kube-node-lease', NODE);
      return l.metadata?.resourceVersion !== lease1.metadata?.resourceVersion;
    });
    const nodeEvents = (await h.client.resource(Resources.events).list({ namespace: 'default' })).items.filter((e) => e.involvedObject.kind === 'Node');
    assert.ok(nodeEvents.some((e) => e.reason === 'Starting' && e.message === 'Starting kubelet.'));
    assert.ok(nodeEvents.some((e) => e.reason === 'NodeReady' && e.message === `Node ${NODE} status is now: NodeReady`));
  });

  it('runs a pod: Running with an IP, labelled containers, env from the downward API, upstream events', async () => {
    const h = await start();
    const created = await createPod(h.client, 'web', {
      containers: [{
        name: 'main', image: 'local/busybox:1', command: ['sleep', '3600'],
        env: [{ name: 'MY_POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }, { name: 'MY_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }],
      }],
    });
    const pod = await waitFor('Running', async () => { const p = await getPod(h.client, 'web'); return p.status?.phase === 'Running' ? p : undefined; });
    assert.match(pod.status?.podIP ?? '', /^10\.244\./);
    assert.equal(pod.status?.hostIP, '10.0.0.1');
    const cs = pod.status?.containerStatuses?.[0];
    assert.equal(cs?.ready, true);
    assert.equal(cs?.restartCount, 0);
    assert.match(cs?.containerID ?? '', /^fake:\/\/[0-9a-f]{64}$/);
    assert.deepEqual(pod.status?.conditions?.map((c) => `${c.type}=${c.status}`), [
      'PodReadyToStartContainers=True', 'Initialized=True', 'Ready=True', 'ContainersReady=True', 'PodScheduled=True',
    ]);
    const uid = created.metadata!.uid!;
    const ctr = [...h.backend.containers.values()].find((c) => c.labels[LABEL_POD_UID] === uid)!;
    assert.equal(ctr.labels[LABEL_NODE], NODE);
    assert.equal(ctr.labels[LABEL_CLUSTER], 'test');
    assert.equal(ctr.env.MY_POD, 'web');
    assert.equal(ctr.env.MY_IP, pod.status?.podIP);
    const evs = await waitFor('events', async () => {
      const e = await podEvents(h.client, 'web');
      return e.some((x) => x.reason === 'Started') ? e : undefined;
    });
    const summary = evs.map((e) => [e.type, e.reason, e.message, e.involvedObject.fieldPath]);
    assert.deepEqual(summary, [
      ['Normal', 'Pulled', 'Container image "local/busybox:1" already present on machine', 'spec.containers{main}'],
      ['Normal', 'Created', 'Created container: main', 'spec.containers{main}'],
      ['Normal', 'Started', 'Started container main', 'spec.containers{main}'],
    ]);
    assert.equal(evs[0]?.source?.component, 'kubelet');
    assert.equal(evs[0]?.source?.host, NODE);

    const port = h.endpoints().healthPort;
    assert.equal(await (await fetch(`http://127.0.0.1:${port}/healthz`)).text(), 'ok');
    const metrics = await waitFor('gauges', async () => {
      const m = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      return /^kubelet_running_containers\{container_state="running"\} 1$/m.test(m) ? m : undefined;
    });
    assert.match(metrics, /^kubelet_running_pods 1$/m);
    assert.match(metrics, /^kubelet_pod_start_duration_seconds_count 1$/m);
    assert.match(metrics, /^kubelet_pod_worker_duration_seconds_count\{operation="create"\} 1$/m);
  });

  it('restartPolicy Never: a container exiting 3 ends the pod Failed with exit code 3', async () => {
    const h = await start();
    await createPod(h.client, 'fail', { restartPolicy: 'Never', containers: [{ name: 'main', image: 'local/busybox:1', command: ['sh', '-c', 'echo bye; exit 3'] }] });
    const pod = await waitFor('Failed', async () => { const p = await getPod(h.client, 'fail'); return p.status?.phase === 'Failed' ? p : undefined; });
    const t = pod.status?.containerStatuses?.[0]?.state?.terminated;
    assert.equal(t?.exitCode, 3);
    assert.equal(t?.reason, 'Error');
    assert.equal(pod.status?.conditions?.find((c) => c.type === 'Ready')?.reason, 'PodFailed');
    assert.match(pod.status?.podIP ?? '', /^10\.244\./, 'the pod IP stays after the sandbox stopped');
    const objs = runtimeObjects(h.backend, pod.metadata!.uid!);
    assert.equal(objs.containers.length, 1, 'the exited container stays for kubectl logs');
    await waitFor('sandbox stopped', () => [...h.backend.sandboxes.values()].every((s) => s.labels[LABEL_POD_UID] !== pod.metadata!.uid || s.state === 'SANDBOX_NOTREADY'));
  });

  it('restartPolicy OnFailure: exit 0 → Succeeded', async () => {
    const h = await start();
    await createPod(h.client, 'job', { restartPolicy: 'OnFailure', containers: [{ name: 'main', image: 'local/busybox:1', command: ['sh', '-c', 'exit 0'] }] });
    await waitFor('Succeeded', async () => (await getPod(h.client, 'job')).status?.phase === 'Succeeded');
  });

  it('restartPolicy Always: a crashing container restarts, then waits in CrashLoopBackOff', async () => {
    const h = await start();
    await createPod(h.client, 'crash', { containers: [{ name: 'main', image: 'local/busybox:1', command: ['sh', '-c', 'exit 1'] }] });
    const pod = await waitFor('CrashLoopBackOff', async () => {
      const p = await getPod(h.client, 'crash');
      return p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CrashLoopBackOff' ? p : undefined;
    });
    const cs = pod.status!.containerStatuses![0]!;
    assert.ok(cs.restartCount >= 1);
    assert.equal(cs.lastState?.terminated?.exitCode, 1);
    assert.match(cs.state?.waiting?.message ?? '', /^back-off \d+(\.\d+)?m?s restarting failed container=main pod=crash_default\(/);
    assert.equal(pod.status?.phase, 'Running');
    await waitFor('BackOff event', async () => (await podEvents(h.client, 'crash'))
      .some((e) => e.reason === 'BackOff' && e.type === 'Warning' && e.message?.startsWith('Back-off restarting failed container main in pod crash_default(')));
    await waitFor('restart after the backoff', async () => ((await getPod(h.client, 'crash')).status?.containerStatuses?.[0]?.restartCount ?? 0) >= 2);
  });

  it('an image that cannot be pulled: ErrImagePull, then ImagePullBackOff, with events', async () => {
    const h = await start();
    await createPod(h.client, 'nopull', { containers: [{ name: 'main', image: 'registry.invalid/nope:1', imagePullPolicy: 'IfNotPresent' }] });
    await waitFor('ErrImagePull', async () => (await getPod(h.client, 'nopull')).status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ErrImagePull');
    const pod = await waitFor('ImagePullBackOff', async () => {
      const p = await getPod(h.client, 'nopull');
      return p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ImagePullBackOff' ? p : undefined;
    });
    assert.equal(pod.status?.phase, 'Pending');
    assert.equal(pod.status?.containerStatuses?.[0]?.state?.waiting?.message, 'Back-off pulling image "registry.invalid/nope:1"');
    const msgs = await waitFor('pull events', async () => {
      const m = (await podEvents(h.client, 'nopull')).map((e) => `${e.type} ${e.reason}: ${e.message}`);
      return m.includes('Warning Failed: Error: ImagePullBackOff') ? m : undefined;
    });
    assert.ok(msgs.includes('Normal Pulling: Pulling image "registry.invalid/nope:1"'), msgs.join('\n'));
    assert.ok(msgs.some((m) => m.startsWith('Warning Failed: Failed to pull image "registry.invalid/nope:1": ')), msgs.join('\n'));
    assert.ok(msgs.includes('Warning Failed: Error: ErrImagePull'), msgs.join('\n'));
    assert.ok(msgs.includes('Normal BackOff: Back-off pulling image "registry.invalid/nope:1"'), msgs.join('\n'));
    assert.ok(msgs.includes('Warning Failed: Error: ImagePullBackOff'), msgs.join('\n'));
  });

  it('imagePullPolicy Never with a missing image: ErrImageNeverPull', async () => {
    const h = await start();
    await createPod(h.client, 'never', { containers: [{ name: 'main', image: 'local/absent:1', imagePullPolicy: 'Never' }] });
    await waitFor('ErrImageNeverPull', async () => (await getPod(h.client, 'never')).status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ErrImageNeverPull');
    await waitFor('ErrImageNeverPull event', async () => (await podEvents(h.client, 'never'))
      .some((e) => e.reason === 'ErrImageNeverPull' && e.message === 'Container image "local/absent:1" is not present with pull policy of Never'));
  });

  it('init containers run one by one before the app containers', async () => {
    const h = await start();
    await createPod(h.client, 'init', {
      initContainers: [
        { name: 'one', image: 'local/busybox:1', command: ['sh', '-c', 'echo one'] },
        { name: 'two', image: 'local/busybox:1', command: ['sh', '-c', 'echo two'] },
      ],
    });
    const pod = await waitFor('Running', async () => { const p = await getPod(h.client, 'init'); return p.status?.phase === 'Running' ? p : undefined; });
    assert.deepEqual(pod.status?.initContainerStatuses?.map((c) => [c.name, c.state?.terminated?.reason, c.ready]), [['one', 'Completed', true], ['two', 'Completed', true]]);
    assert.equal(pod.status?.conditions?.find((c) => c.type === 'Initialized')?.status, 'True');
    const started = [...h.backend.containers.values()].filter((c) => c.labels[LABEL_POD_UID] === pod.metadata?.uid).sort((a, b) => a.createdAt - b.createdAt).map((c) => c.metadata.name);
    assert.deepEqual(started, ['one', 'two', 'main']);
    await waitFor('init container events', async () => (await podEvents(h.client, 'init'))
      .some((e) => e.reason === 'Started' && e.involvedObject.fieldPath === 'spec.initContainers{one}'));
  });

  it('deletion: containers stopped and removed, final status written, then the pod object removed', async () => {
    const h = await start();
    const created = await createPod(h.client, 'del', { terminationGracePeriodSeconds: 1 });
    await waitFor('Running', async () => (await getPod(h.client, 'del')).status?.phase === 'Running');
    await h.client.resource(Resources.pods).delete('default', 'del');
    await waitFor('pod removed', async () => {
      try { await getPod(h.client, 'del'); return false; } catch { return true; }
    });
    assert.deepEqual(runtimeObjects(h.backend, created.metadata!.uid!), { sandboxes: 0, containers: [] });
    // The fake, like the apiserver, only marks a bound pod on a graceful delete: that it is
    // gone shows the kubelet's own delete with gracePeriodSeconds 0.
    const statusWrites = h.client.actions.filter((a) => a.verb === 'update' && a.subresource === 'status' && a.name === 'del');
    const last = statusWrites.at(-1)?.body as Pod | undefined;
    assert.equal(last?.status?.phase, 'Failed', 'the final status is terminal before the delete');
    await waitFor('Killing event', async () => (await podEvents(h.client, 'del'))
      .some((e) => e.reason === 'Killing' && e.message === 'Stopping container main' && e.involvedObject.fieldPath === 'spec.containers{main}'));
  });

  it('a pod removed from the API while its containers run is cleaned up', async () => {
    const h = await start();
    const created = await createPod(h.client, 'gone', {});
    await waitFor('Running', async () => (await getPod(h.client, 'gone')).status?.phase === 'Running');
    await h.client.resource(Resources.pods).delete('default', 'gone', { gracePeriodSeconds: 0 });
    await waitFor('containers removed', () => runtimeObjects(h.backend, created.metadata!.uid!).containers.length === 0 && runtimeObjects(h.backend, created.metadata!.uid!).sandboxes === 0);
  });

  it('after a restart the kubelet adopts the running containers instead of duplicating them', async () => {
    const h = await start();
    const created = await createPod(h.client, 'adopt', {});
    await waitFor('Running', async () => (await getPod(h.client, 'adopt')).status?.phase === 'Running');
    const before = runtimeObjects(h.backend, created.metadata!.uid!);
    await h.restart();
    await new Promise((r) => setTimeout(r, 300));
    const after = runtimeObjects(h.backend, created.metadata!.uid!);
    assert.deepEqual(after, before, 'same sandbox and containers');
    const pod = await getPod(h.client, 'adopt');
    assert.equal(pod.status?.phase, 'Running');
    assert.equal(pod.status?.containerStatuses?.[0]?.restartCount, 0);
  });

  it('removes orphans: runtime pods the apiserver does not know', async () => {
    const backend = new FakeBackend();
    const rt = new FakeRuntime({ nodeName: NODE, clusterName: 'test', backend });
    const sb = (await rt.runPodSandbox({ config: { metadata: { name: 'ghost', namespace: 'default', uid: 'ghost-uid', attempt: 0 } } })).pod_sandbox_id;
    const c = (await rt.createContainer({ pod_sandbox_id: sb, config: { metadata: { name: 'main', attempt: 0 }, image: { image: 'local/busybox:1' }, command: ['sleep', '3600'] } })).container_id;
    await rt.startContainer({ container_id: c });
    const h = await start({ backend });
    await waitFor('orphan removed', () => runtimeObjects(h.backend, 'ghost-uid').sandboxes === 0 && runtimeObjects(h.backend, 'ghost-uid').containers.length === 0);
  });

  it('graceful shutdown: pods end Failed (Terminated), containers are removed, the node goes NotReady', async () => {
    const h = await start({ settings: { shutdownRemovePods: true, shutdownGraceSeconds: 6 } });
    const created = await createPod(h.client, 'sd', {});
    await waitFor('Running', async () => (await getPod(h.client, 'sd')).status?.phase === 'Running');
    await h.stop();
    const pod = await getPod(h.client, 'sd');
    assert.equal(pod.status?.phase, 'Failed');
    assert.equal(pod.status?.reason, 'Terminated');
    assert.equal(pod.status?.message, 'Pod was terminated in response to imminent node shutdown.');
    assert.equal(pod.status?.conditions?.find((c) => c.type === 'DisruptionTarget')?.status, 'True');
    assert.deepEqual(runtimeObjects(h.backend, created.metadata!.uid!), { sandboxes: 0, containers: [] });
    const node = await h.client.resource(Resources.nodes).get(NODE);
    const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
    assert.equal(ready?.status, 'False');
    assert.equal(ready?.message, 'node is shutting down');
  });
});
