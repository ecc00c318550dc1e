/**
 * Node-pressure eviction through the whole kubelet on fakes (FakeRuntime, FakeClient) with a
 * stats source the test sets: allocatable with reservations, the MemoryPressure condition and
 * its node events, a pod evicted (Failed, Evicted, DisruptionTarget, containers stopped at
 * once), a BestEffort pod rejected at admission while a Burstable one runs, and the condition
 * cleared after the transition period.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { defaultPod, podQOSClass, type Node, type Pod } from '@tskube/api';
import { FakeClient, Resources, type DeepReadonly } from '@tskube/client';
import { createLogger, nullLogger } from '@tskube/log';
import { FakeBackend, FakeRuntime, LABEL_POD_UID } from './cri/index.js';
import type { EvictionStats, EvictionStatsSource, LocalStorage } from './eviction/stats.js';
import { parseThresholdConfig } from './eviction/thresholds.js';
import type { HostFacts } from './host/host-info.js';
import { buildKubelet, type KubeletTiming } from './kubelet.js';

const NODE = 'node-1';
const Mi = 2 ** 20;
const Gi = 2 ** 30;
const log = process.env.TSKUBE_TEST_LOG ? createLogger({ component: 'kubelet-eviction-test', level: 'debug' }) : nullLogger();
const HOST: HostFacts = {
  cpuCores: 4, memoryBytes: 8 * Gi, ephemeralStorageBytes: 50 * Gi, kernelVersion: 'k', osImage: 'o', architecture: 'amd64',
  machineID: 'm', systemUUID: 's', bootID: 'b', hostname: 'h',
};
const FAST: Partial<KubeletTiming> = {
  nodeStatusIntervalMs: 50, heartbeatMs: 300, leaseRenewMs: 50, plegRelistMs: 20, housekeepingMs: 30, resyncMs: 300, syncErrorBackoffMs: 60,
};

/**
 * Memory as the test sets it: a pod uses its figure while a container of it runs in the fake
 * backend, and node memory available is `base` minus what running pods use (so an eviction
 * gives memory back, as on a real node).
 */
class SetStats implements EvictionStatsSource {
  base = 4 * Gi;
  podMemory = new Map<string, number>();
  constructor(private readonly backend: FakeBackend) {}
  private running(uid: string): boolean {
    return [...this.backend.containers.values()].some((c) => c.labels[LABEL_POD_UID] === uid && c.state === 'CONTAINER_RUNNING');
  }
  async observe(): Promise<EvictionStats> {
    const pods = [...this.podMemory].filter(([uid]) => this.running(uid))
      .map(([uid, ws]) => ({ uid, memoryWorkingSetBytes: ws, containers: [{ name: 'main', memoryWorkingSetBytes: ws }] }));
    const used = pods.reduce((n, p) => n + p.memoryWorkingSetBytes, 0);
    return { time: Date.now(), node: { memory: { workingSetBytes: 4 * Gi + used, availableBytes: this.base - used } }, pods };
  }
  async podLocalStorage(_p: DeepReadonly<Pod>): Promise<LocalStorage | undefined> { return undefined; }
}

const stops: Array<() => Promise<void>> = [];
afterEach(async () => { for (const s of stops.splice(0)) await s(); });

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) { last = err; }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function createPod(client: FakeClient, name: string, requests: Record<string, string> = {}): Promise<Pod> {
  const spec: NonNullable<Pod['spec']> = {
    nodeName: NODE, terminationGracePeriodSeconds: 30,
    containers: [{ name: 'main', image: 'local/busybox:1', command: ['sleep', '3600'], resources: { requests } }],
  };
  const p: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec, status: { phase: 'Pending', qosClass: podQOSClass(spec) } };
  defaultPod(p);
  return client.resource(Resources.pods).create('default', p);
}

describe('kubelet node-pressure eviction (fake runtime, fake apiserver, set stats)', () => {
  it('allocatable with reservations; MemoryPressure evicts the top pod, rejects BestEffort pods, clears after the transition period', async () => {
    const client = new FakeClient();
    const backend = new FakeBackend({ pull: (ref) => ({ name: ref }) });
    const runtime = new FakeRuntime({ nodeName: NODE, clusterName: 'test', backend });
    const stats = new SetStats(backend);
    const kubelet = buildKubelet({
      settings: {
        nodeName: NODE, nodeIP: '10.0.0.1', bindAddress: '127.0.0.1', kubeletPort: 0, shutdownRemovePods: false,
        systemReserved: { cpu: '500m', memory: '1Gi' }, kubeReserved: { memory: '512Mi', 'ephemeral-storage': '2Gi' },
        eviction: { thresholds: parseThresholdConfig({ hard: 'memory.available<100Mi' }), pressureTransitionPeriodMs: 2000, maxPodGracePeriodSeconds: 0, monitoringIntervalMs: 50 },
      },
      client, runtime, logger: log, host: HOST, timing: FAST, evictionStats: stats,
    });
    const ac = new AbortController();
    const run = kubelet.start(ac.signal);
    stops.push(async () => {
      ac.abort();
      await run;
      for (const id of [...backend.containers.keys()]) await runtime.removeContainer({ container_id: id });
    });
    await kubelet.ready();
    const nodes = client.resource(Resources.nodes);
    const pods = client.resource(Resources.pods);
    const node: Node = await nodes.get(NODE);
    assert.deepEqual(node.status?.allocatable, { cpu: '3500m', memory: '6556Mi', 'ephemeral-storage': '48Gi', pods: '110' },
      '8Gi − 1Gi − 512Mi − 100Mi; 50Gi − 2Gi (no nodefs threshold configured)');

    const hog = await createPod(client, 'hog');
    const modest = await createPod(client, 'modest', { memory: '1Gi' });
    for (const p of [hog, modest]) await waitFor(`${p.metadata?.name} Running`, async () => (await pods.get('default', p.metadata!.name!)).status?.phase === 'Running');
    stats.podMemory.set(hog.metadata!.uid!, 300 * Mi);
    stats.podMemory.set(modest.metadata!.uid!, 900 * Mi);
    stats.base = 1280 * Mi; // 80Mi available with both running, 380Mi once hog is gone

    const evicted = await waitFor('hog evicted', async () => {
      const p = await pods.get('default', 'hog');
      return p.status?.phase === 'Failed' ? p : undefined;
    });
    const msg = 'The node was low on resource: memory. Threshold quantity: 100Mi, available: 80Mi. Container main was using 300Mi, request is 0, has larger consumption of memory. ';
    assert.equal(evicted.status?.reason, 'Evicted');
    assert.equal(evicted.status?.message, msg);
    const dt = evicted.status?.conditions?.find((c) => c.type === 'DisruptionTarget');
    assert.deepEqual([dt?.status, dt?.reason, dt?.message], ['True', 'TerminationByKubelet', msg]);
    assert.equal(evicted.status?.containerStatuses?.[0]?.state?.terminated?.exitCode, 137, 'killed without a grace period');
    const hogContainers = [...backend.containers.values()].filter((c) => c.labels[LABEL_POD_UID] === hog.metadata?.uid);
    assert.ok(hogContainers.length > 0 && hogContainers.every((c) => c.state === 'CONTAINER_EXITED'), 'stopped, kept for logs');

    const pressured = await waitFor('MemoryPressure True', async () => {
      const n = await nodes.get(NODE);
      return n.status?.conditions?.find((c) => c.type === 'MemoryPressure' && c.status === 'True');
    });
    assert.deepEqual([pressured.reason, pressured.message], ['KubeletHasInsufficientMemory', 'kubelet has insufficient memory available']);

    // admission while the condition is held
    await createPod(client, 'besteffort');
    await createPod(client, 'burstable', { memory: '64Mi' });
    const rejected = await waitFor('besteffort rejected', async () => {
      const p = await pods.get('default', 'besteffort');
      return p.status?.phase === 'Failed' ? p : undefined;
    });
    assert.equal(rejected.status?.reason, 'Evicted');
    assert.equal(rejected.status?.message, 'Pod was rejected: The node had condition: [MemoryPressure]. ');
    assert.equal(rejected.status?.qosClass, 'BestEffort');
    assert.equal(rejected.status?.containerStatuses, undefined, 'upstream rejectPod: phase, reason, message only');
    assert.equal([...backend.containers.values()].filter((c) => c.labels[LABEL_POD_UID] === rejected.metadata?.uid).length, 0, 'nothing started');
    await waitFor('burstable Running', async () => (await pods.get('default', 'burstable')).status?.phase === 'Running');
    assert.equal((await pods.get('default', 'modest')).status?.phase, 'Running', 'one pod per round; evicting hog freed enough');

    await waitFor('MemoryPressure False again', async () => {
      const n = await nodes.get(NODE);
      return n.status?.conditions?.find((c) => c.type === 'MemoryPressure')?.status === 'False';
    });
    const events = (await client.resource(Resources.events).list({ namespace: 'default' })).items.map((e) => `${e.involvedObject.name} ${e.type} ${e.reason}: ${e.message}`);
    for (const want of [
      `hog Warning Evicted: ${msg}`,
      'besteffort Warning Evicted: The node had condition: [MemoryPressure]. ',
      `${NODE} Warning EvictionThresholdMet: Attempting to reclaim memory`,
      `${NODE} Normal NodeHasInsufficientMemory: Node ${NODE} status is now: NodeHasInsufficientMemory`,
      `${NODE} Normal NodeHasSufficientMemory: Node ${NODE} status is now: NodeHasSufficientMemory`,
    ]) assert.ok(events.includes(want), `${want}\nin\n${events.join('\n')}`);
    assert.equal(events.filter((e) => e.includes('Evicted')).length, 2);
  });
});
