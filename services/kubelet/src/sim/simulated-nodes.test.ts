/**
 * Simulated nodes on the FakeClient: registration (labels, zones, capacity), the pod flow
 * through the shared pod watch (start delay, Running, completion, deletion), leases, stop;
 * plus the sim runtime's addressing and the TSKUBE_SIM_* configuration.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { defaultPod, type Lease, type Node, type Pod } from '@tskube/api';
import { FakeClient, Resources } from '@tskube/client';
import { nullLogger } from '@tskube/log';
import type { KubeletTiming } from '../kubelet.js';
import { loadSimConfig } from './config.js';
import { SimBackend, nodeAddress, podSubnet } from './sim-runtime.js';
import { buildSimulatedNodes, simulatedNodeLabels, zoneNames, type SimulatedNodes } from './simulated-nodes.js';

const FAST: Partial<KubeletTiming> = {
  nodeStatusIntervalMs: 50, heartbeatMs: 300, leaseRenewMs: 50, plegRelistMs: 20, housekeepingMs: 30, resyncMs: 300, syncErrorBackoffMs: 60,
};

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

interface Running { client: FakeClient; sim: SimulatedNodes; stop(): Promise<void> }
const running: Running[] = [];
afterEach(async () => { for (const r of running.splice(0)) await r.stop(); });

async function start(o: { count?: number; zones?: string[] | number; startDelayMs?: number } = {}): Promise<Running> {
  const client = new FakeClient();
  const sim = buildSimulatedNodes({
    client, logger: nullLogger(), count: o.count ?? 3, zones: o.zones, startDelayMs: o.startDelayMs, timing: FAST, concurrency: 2,
  });
  const ac = new AbortController();
  const done = sim.start(ac.signal);
  await sim.ready();
  let stopped = false;
  const r: Running = { client, sim, stop: async () => { if (!stopped) { stopped = true; ac.abort(); await done; } } };
  running.push(r);
  return r;
}

async function createPod(client: FakeClient, name: string, nodeName: string | undefined, command: string[]): Promise<Pod> {
  const p: Pod = {
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' },
    spec: { nodeName, restartPolicy: 'Never', containers: [{ name: 'main', image: 'local/busybox:1', command }] },
    status: { phase: 'Pending' },
  };
  defaultPod(p);
  return client.resource(Resources.pods).create('default', p);
}

const phaseOf = async (client: FakeClient, name: string): Promise<Pod> => client.resource(Resources.pods).get('default', name);

describe('simulated nodes', () => {
  it('register every node with the default labels, the simulated label, zones round-robin and the default capacity', async () => {
    const { client, sim } = await start({ count: 4, zones: ['a', 'b', 'c'] });
    assert.deepEqual(sim.names, ['sim-node-1', 'sim-node-2', 'sim-node-3', 'sim-node-4']);
    assert.equal(sim.readyCount(), 4);
    const nodes = (await client.resource(Resources.nodes).list({})).items;
    const byName = new Map(nodes.map((n): [string, Node] => [n.metadata?.name ?? '', n]));
    assert.deepEqual(sim.names.map((n) => byName.get(n)?.metadata?.labels?.['topology.kubernetes.io/zone']), ['a', 'b', 'c', 'a']);
    const n1 = byName.get('sim-node-1')!;
    assert.equal(n1.metadata?.labels?.['kubernetes.io/hostname'], 'sim-node-1');
    assert.equal(n1.metadata?.labels?.['tskube.io/simulated'], 'true');
    assert.deepEqual(n1.spec?.taints, [{ key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' }], 'registered like a kubelet');
    assert.deepEqual([n1.status?.capacity?.cpu, n1.status?.capacity?.memory, n1.status?.capacity?.pods], ['8', '32Gi', '110']);
    assert.equal(n1.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
    assert.equal(n1.status?.nodeInfo?.osImage, 'tskube simulated node');
    const ips = sim.names.map((n) => byName.get(n)?.status?.addresses?.find((a) => a.type === 'InternalIP')?.address);
    assert.deepEqual(ips, ['127.16.0.1', '127.16.0.2', '127.16.0.3', '127.16.0.4']);
    const lease: Lease = await waitFor('lease', () => client.resource(Resources.leases).get('kube-node-lease', 'sim-node-4'));
    await waitFor('lease renewed', async () =>
      (await client.resource(Resources.leases).get('kube-node-lease', 'sim-node-4')).metadata?.resourceVersion !== lease.metadata?.resourceVersion);
  });

  it('run a bound pod after the start delay, with an IP from the node\'s subnet; pods of unknown nodes are ignored', async () => {
    const { client, sim } = await start({ startDelayMs: 300 });
    await createPod(client, 'elsewhere', 'real-node', ['sleep', '3600']);
    const created = Date.now();
    await createPod(client, 'web', 'sim-node-2', ['sleep', '3600']);
    const p = await waitFor('Running', async () => { const x = await phaseOf(client, 'web'); return x.status?.phase === 'Running' ? x : undefined; });
    assert.ok(Date.now() - created >= 300, 'not Running before the start delay');
    assert.match(p.status?.podIP ?? '', /^10\.64\.1\.\d+$/);
    assert.equal(p.status?.hostIP, '127.16.0.2');
    assert.equal(p.status?.containerStatuses?.[0]?.ready, true);
    assert.equal((await sim.runtime('sim-node-2')!.listContainers({})).containers.length, 1);
    assert.equal((await phaseOf(client, 'elsewhere')).status?.phase, 'Pending', 'no simulated node touched it');
  });

  it('complete a pod whose command exits 0, and remove a deleted pod\'s containers and then the pod', async () => {
    const { client, sim } = await start();
    await createPod(client, 'job', 'sim-node-1', ['sh', '-c', 'exit 0']);
    const done = await waitFor('Succeeded', async () => { const x = await phaseOf(client, 'job'); return x.status?.phase === 'Succeeded' ? x : undefined; });
    assert.equal(done.status?.containerStatuses?.[0]?.state?.terminated?.reason, 'Completed');

    await createPod(client, 'doomed', 'sim-node-3', ['sleep', '3600']);
    await waitFor('Running', async () => (await phaseOf(client, 'doomed')).status?.phase === 'Running');
    await client.resource(Resources.pods).delete('default', 'doomed');
    await waitFor('pod gone', async () => {
      try { await phaseOf(client, 'doomed'); return false; } catch { return true; }
    });
    const rt = sim.runtime('sim-node-3')!;
    assert.equal((await rt.listContainers({})).containers.length, 0);
    assert.equal((await rt.listPodSandbox({})).items.length, 0);
  });

  it('stop the kubelets and kill every fake container, leaving nodes and pods in the API', async () => {
    const r = await start({ count: 1 });
    await createPod(r.client, 'sleeper', 'sim-node-1', ['sleep', '3600']);
    await waitFor('Running', async () => (await phaseOf(r.client, 'sleeper')).status?.phase === 'Running');
    await r.stop();
    const rt = r.sim.runtime('sim-node-1')!;
    assert.deepEqual((await rt.listContainers({})).containers.map((c) => c.state), ['CONTAINER_EXITED']);
    assert.equal((await r.client.resource(Resources.nodes).list({})).items.length, 1);
    assert.equal((await phaseOf(r.client, 'sleeper')).status?.phase, 'Running');
  });

  it('reject a bad count', () => {
    assert.throws(() => buildSimulatedNodes({ client: new FakeClient(), logger: nullLogger(), count: 0 }), /positive integer/);
  });
});

describe('simulated node naming and addressing', () => {
  it('zones and labels', () => {
    assert.deepEqual(zoneNames(undefined), []);
    assert.deepEqual(zoneNames(3), ['zone-1', 'zone-2', 'zone-3']);
    assert.deepEqual(zoneNames(['x']), ['x']);
    assert.deepEqual(simulatedNodeLabels(5, ['a', 'b']), { 'tskube.io/simulated': 'true', 'topology.kubernetes.io/zone': 'a' });
    assert.deepEqual(simulatedNodeLabels(1, []), { 'tskube.io/simulated': 'true' });
  });

  const subnets: Array<[number, string]> = [[0, '10.64.0'], [255, '10.64.255'], [256, '10.65.0'], [16_383, '10.127.255']];
  for (const [i, want] of subnets) it(`pod subnet of node ${i} is ${want}.0/24`, () => assert.equal(podSubnet(i), want));
  it('pod subnets end at 16,384 nodes', () => assert.throws(() => podSubnet(16_384), /out of range/));

  it('node addresses are distinct', () => {
    const seen = new Set(Array.from({ length: 16_384 }, (_, i) => nodeAddress(i)));
    assert.equal(seen.size, 16_384);
  });

  it('pod IPs cycle through .2–.254 of the node subnet', () => {
    const b = new SimBackend('10.64.7');
    const ips = Array.from({ length: 254 }, () => b.allocateIp());
    assert.equal(ips[0], '10.64.7.2');
    assert.equal(ips[252], '10.64.7.254');
    assert.equal(ips[253], '10.64.7.2', 'wraps around');
    assert.equal(new Set(ips.slice(0, 253)).size, 253);
  });
});

describe('loadSimConfig', () => {
  const KEYS = ['TSKUBE_SIMULATED_NODES', 'TSKUBE_SIM_NODE_PREFIX', 'TSKUBE_SIM_START_DELAY_MS', 'TSKUBE_SIM_ZONES', 'TSKUBE_SIM_CONCURRENCY', 'TSKUBE_SHUTDOWN_REMOVE_PODS'];
  const saved = Object.fromEntries(KEYS.map((k) => [k, process.env[k]]));
  const withEnv = (vars: Record<string, string>): void => {
    for (const k of KEYS) delete process.env[k];
    Object.assign(process.env, vars);
  };
  afterEach(() => {
    for (const k of KEYS) if (saved[k] === undefined) delete process.env[k]; else process.env[k] = saved[k];
  });

  it('is off unless TSKUBE_SIMULATED_NODES > 0', () => {
    withEnv({});
    assert.equal(loadSimConfig(), undefined);
    withEnv({ TSKUBE_SIMULATED_NODES: '0' });
    assert.equal(loadSimConfig(), undefined);
  });

  it('defaults', () => {
    withEnv({ TSKUBE_SIMULATED_NODES: '100' });
    assert.deepEqual(loadSimConfig(), { count: 100, prefix: 'sim-node-', zones: undefined, startDelayMs: 0, concurrency: 50, shutdownRemovePods: false });
  });

  it('reads every variable', () => {
    withEnv({
      TSKUBE_SIMULATED_NODES: '5', TSKUBE_SIM_NODE_PREFIX: 'hollow-', TSKUBE_SIM_START_DELAY_MS: '250', TSKUBE_SIM_ZONES: 'eu-1a, eu-1b',
      TSKUBE_SIM_CONCURRENCY: '8', TSKUBE_SHUTDOWN_REMOVE_PODS: 'true',
    });
    assert.deepEqual(loadSimConfig(), { count: 5, prefix: 'hollow-', zones: ['eu-1a', 'eu-1b'], startDelayMs: 250, concurrency: 8, shutdownRemovePods: true });
    withEnv({ TSKUBE_SIMULATED_NODES: '5', TSKUBE_SIM_ZONES: '3' });
    assert.equal(loadSimConfig()?.zones, 3);
  });

  const bad: Array<[Record<string, string>, RegExp]> = [
    [{ TSKUBE_SIMULATED_NODES: 'many' }, /TSKUBE_SIMULATED_NODES must be an integer/],
    [{ TSKUBE_SIMULATED_NODES: '20000' }, /TSKUBE_SIMULATED_NODES must be an integer in \[0, 16384\]/],
    [{ TSKUBE_SIMULATED_NODES: '2', TSKUBE_SIM_NODE_PREFIX: 'Sim_' }, /TSKUBE_SIM_NODE_PREFIX/],
    [{ TSKUBE_SIMULATED_NODES: '2', TSKUBE_SIM_ZONES: 'a,B c' }, /TSKUBE_SIM_ZONES/],
    [{ TSKUBE_SIMULATED_NODES: '2', TSKUBE_SIM_ZONES: '0' }, /TSKUBE_SIM_ZONES must be an integer/],
    [{ TSKUBE_SIMULATED_NODES: '2', TSKUBE_SIM_START_DELAY_MS: '-1' }, /TSKUBE_SIM_START_DELAY_MS/],
  ];
  for (const [vars, want] of bad) {
    it(`rejects ${JSON.stringify(vars)}`, () => {
      withEnv(vars);
      assert.throws(() => loadSimConfig(), want);
    });
  }
});
