// Simulated nodes (services/kubelet/src/sim) against the real apiserver and the in-process
// scheduler: 50 nodes register with labels and capacity, pods get bound and turn Running, a
// pod whose command exits 0 Succeeds, a deleted pod disappears (the kubelet removes its
// containers, then the object), and the nodes' Leases are renewed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Lease, Node, Pod } from '@tskube/api';
import { Resources, createClientFromKubeconfig, type RestClient } from '@tskube/client';
import { startApiServer, type TestApiServer } from '../support/apiserver.js';
import { startScheduler, type RunningComponent } from '../support/control-plane.js';
import { eventually } from '../support/kubectl.js';
import { startSimulatedNodes, type RunningSimNodes } from '../support/sim-nodes.js';
import type { Scheduler } from '@tskube/scheduler';

const COUNT = 50;
let api: TestApiServer;
let admin: RestClient;
let sched: RunningComponent<Scheduler>;
let sim: RunningSimNodes;

function pod(name: string, command: string[]): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels: { app: 'sim' } },
    spec: {
      terminationGracePeriodSeconds: 5, restartPolicy: 'Never',
      containers: [{ name: 'c', image: 'local/busybox:1', command, resources: { requests: { cpu: '100m', memory: '64Mi' } } }],
    },
  };
}

const pods = () => admin.resource(Resources.pods);

before(async () => {
  api = await startApiServer();
  admin = createClientFromKubeconfig(api.kubeconfig, { component: 'test' });
  sched = await startScheduler(api);
  sim = await startSimulatedNodes(api, {
    count: COUNT, prefix: 'sim-', zones: 3, cpu: '4', memory: '16Gi', maxPods: 50, startDelayMs: 200,
    timing: { leaseRenewMs: 1000 },
  });
});

after(async () => {
  await sim?.stop();
  await sched?.stop();
  admin?.close();
  await api?.stop();
});

test('nodes register Ready with labels, zones, capacity and no not-ready taint', async () => {
  const nodes = (await admin.resource(Resources.nodes).list({ labelSelector: 'tskube.io/simulated=true' })).items;
  assert.equal(nodes.length, COUNT);
  const byName = new Map(nodes.map((n): [string, Node] => [n.metadata?.name ?? '', n]));
  const n1 = byName.get('sim-1');
  assert.ok(n1, 'sim-1 registered');
  assert.equal(n1.metadata?.labels?.['kubernetes.io/hostname'], 'sim-1');
  assert.deepEqual(
    ['sim-1', 'sim-2', 'sim-3', 'sim-4'].map((n) => byName.get(n)?.metadata?.labels?.['topology.kubernetes.io/zone']),
    ['zone-1', 'zone-2', 'zone-3', 'zone-1'],
  );
  assert.equal(n1.status?.capacity?.cpu, '4');
  assert.equal(n1.status?.capacity?.memory, '16Gi');
  assert.equal(n1.status?.capacity?.pods, '50');
  assert.equal(n1.status?.nodeInfo?.containerRuntimeVersion, 'fake://0.1.0');
  for (const n of nodes) {
    assert.equal(n.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True', `${n.metadata?.name} Ready`);
    assert.equal((n.spec?.taints ?? []).length, 0, `${n.metadata?.name} untainted`);
  }
  const ips = new Set(nodes.map((n) => n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address));
  assert.equal(ips.size, COUNT, 'distinct node IPs');
});

test('bound pods turn Running with a pod IP from their node', async () => {
  const names = Array.from({ length: 20 }, (_, i) => `run-${i}`);
  await Promise.all(names.map((n) => pods().create('default', pod(n, ['sleep', '3600']))));
  const running = await eventually('20 pods Running', async () => {
    const list = (await pods().list({ namespace: 'default', labelSelector: 'app=sim' })).items.filter((p) => names.includes(p.metadata?.name ?? ''));
    return list.length === names.length && list.every((p) => p.status?.phase === 'Running' && p.status.podIP) ? list : undefined;
  }, 30_000, 200);
  const podIPs = new Set(running.map((p) => p.status?.podIP));
  assert.equal(podIPs.size, names.length, 'distinct pod IPs');
  for (const p of running) {
    assert.ok(sim.names.includes(p.spec?.nodeName ?? ''), `${p.metadata?.name} bound to a simulated node`);
    assert.equal(p.status?.containerStatuses?.[0]?.ready, true);
    assert.equal(p.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
    assert.match(p.status?.podIP ?? '', /^10\.64\.\d+\.\d+$/);
    const fake = sim.nodes.runtime(p.spec?.nodeName ?? '');
    const listed = await fake!.listContainers({ filter: { label_selector: { 'io.kubernetes.pod.uid': p.metadata?.uid ?? '' } } });
    assert.equal(listed.containers[0]?.state, 'CONTAINER_RUNNING');
  }
});

test('a pod whose command exits 0 Succeeds', async () => {
  await pods().create('default', pod('done', ['sh', '-c', 'echo finished; exit 0']));
  const p = await eventually('pod Succeeded', async () => {
    const x = await pods().get('default', 'done');
    return x.status?.phase === 'Succeeded' ? x : undefined;
  }, 30_000, 200);
  const term = p.status?.containerStatuses?.[0]?.state?.terminated;
  assert.equal(term?.exitCode, 0);
  assert.equal(term?.reason, 'Completed');
});

test('deleting a pod removes its containers and then the pod', async () => {
  await pods().create('default', pod('doomed', ['sleep', '3600']));
  const p = await eventually('doomed Running', async () => {
    const x = await pods().get('default', 'doomed');
    return x.status?.phase === 'Running' ? x : undefined;
  }, 30_000, 200);
  const fake = sim.nodes.runtime(p.spec?.nodeName ?? '')!;
  const uid = p.metadata?.uid ?? '';
  await pods().delete('default', 'doomed');
  await eventually('doomed gone from the API', async () => {
    try {
      await pods().get('default', 'doomed');
      return false;
    } catch {
      return true;
    }
  }, 30_000, 200);
  const left = await fake.listContainers({ filter: { label_selector: { 'io.kubernetes.pod.uid': uid } } });
  assert.equal(left.containers.length, 0, 'containers removed');
  const sandboxes = await fake.listPodSandbox({ filter: { label_selector: { 'io.kubernetes.pod.uid': uid } } });
  assert.equal(sandboxes.items.length, 0, 'sandbox removed');
});

test('every node renews its Lease', async () => {
  const leases = admin.resource(Resources.leases);
  const renewTimes = async (): Promise<Map<string, string>> => new Map(
    (await leases.list({ namespace: 'kube-node-lease' })).items
      .filter((l: Lease) => sim.names.includes(l.metadata?.name ?? ''))
      .map((l: Lease): [string, string] => [l.metadata?.name ?? '', l.spec?.renewTime ?? '']),
  );
  const first = await renewTimes();
  assert.equal(first.size, COUNT);
  await eventually('all leases renewed', async () => {
    const now = await renewTimes();
    return [...first].every(([name, t]) => (now.get(name) ?? '') > t);
  }, 15_000, 500);
  const l = await leases.get('kube-node-lease', 'sim-1');
  assert.equal(l.spec?.holderIdentity, 'sim-1');
  assert.equal(l.metadata?.ownerReferences?.[0]?.kind, 'Node');
});
