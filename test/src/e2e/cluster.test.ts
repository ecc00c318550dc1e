// End to end: the compose stack (etcd, apiserver, scheduler, controller-manager, 3 kubelets on
// real Docker) driven by the real kubectl 1.32 through the generated kubeconfig.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { composeUp, loadImageEnv, sh, type ComposeCluster } from '../support/compose.js';
import { Kubectl, eventually } from '../support/kubectl.js';

loadImageEnv();
const POD_IMAGE = process.env.POD_IMAGE ?? 'busybox:1.36';
let cluster: ComposeCluster;
let k: Kubectl;

interface PodJson {
  metadata: { name: string; uid: string; ownerReferences?: { kind: string; name: string; controller?: boolean }[] };
  spec: { nodeName?: string };
  status: { phase: string; podIP?: string; hostIP?: string; containerStatuses?: { state: Record<string, unknown>; ready: boolean }[] };
}

async function getJson<T>(args: string[]): Promise<T> {
  return JSON.parse(await k.ok([...args, '-o', 'json'])) as T;
}

before(async () => {
  cluster = await composeUp({ kubelets: 3, env: { TSKUBE_NODE_MONITOR_GRACE_PERIOD: '15' } });
  k = new Kubectl(cluster.kubeconfig);
  process.stdout.write(`# compose project ${cluster.project} up in ${cluster.upSeconds.toFixed(1)} s at ${cluster.server}\n`);
});

after(async () => {
  if (!cluster) return;
  if (process.env.TSKUBE_E2E_KEEP) { process.stdout.write(`# kept ${cluster.project}\n`); return; }
  await cluster.down();
  const left = await sh('docker', ['ps', '-aq', '--filter', `label=tskube.cluster=${cluster.project}`]);
  assert.equal(left.stdout.trim(), '', 'teardown removed every pod container');
});

test('three nodes, named after their kubelet containers, become Ready', async () => {
  const names = await eventually('3 Ready nodes', async () => {
    const out = await k.ok(['get', 'nodes', '--no-headers']);
    const lines = out.trim().split('\n').filter(Boolean);
    return lines.length === 3 && lines.every((l) => / Ready /.test(l)) ? lines.map((l) => l.split(/\s+/)[0]!) : null;
  }, 90_000);
  assert.deepEqual(names.sort(), [1, 2, 3].map((i) => `${cluster.project}-kubelet-${i}`));
  const table = await k.ok(['get', 'nodes', '-o', 'wide']);
  assert.match(table, /NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION\s+INTERNAL-IP/);
  assert.match(await k.ok(['get', '--raw', '/readyz']), /^ok/);
  const leases = await k.ok(['get', 'leases', '-n', 'kube-node-lease', '--no-headers']);
  assert.equal(leases.trim().split('\n').length, 3);
});

test('a pod goes from apply to Running; get -o wide, describe, logs, watch and delete behave', async () => {
  const manifest = `apiVersion: v1
kind: Pod
metadata:
  name: hello
  labels: {app: hello}
spec:
  containers:
  - name: main
    image: ${POD_IMAGE}
    command: ["sh", "-c", "echo hello from tskube; sleep 3600"]
    resources:
      requests: {cpu: 100m, memory: 32Mi}
`;
  const watch = k.run(['get', 'pods', '-w', '--request-timeout=40s'], { timeoutMs: 45_000 });
  assert.match(await k.ok(['apply', '-f', '-'], { input: manifest }), /pod\/hello created/);
  const pod = await eventually('pod hello Running', async () => {
    const p = await getJson<PodJson>(['get', 'pod', 'hello']);
    return p.status.phase === 'Running' && p.status.podIP ? p : null;
  }, 90_000);
  assert.match(pod.spec.nodeName!, new RegExp(`^${cluster.project}-kubelet-\\d$`));
  const wide = await k.ok(['get', 'pods', '-o', 'wide']);
  const row = wide.split('\n').find((l) => l.startsWith('hello '))!;
  assert.match(row, /hello\s+1\/1\s+Running\s+0\s+\S+\s+(\d+\.){3}\d+\s+\S+-kubelet-\d/);
  assert.ok(row.includes(pod.status.podIP!) && row.includes(pod.spec.nodeName!));

  // events are recorded asynchronously: wait until the last one of the flow is there
  const describe = await eventually('Started event', async () => {
    const out = await k.ok(['describe', 'pod', 'hello']);
    return /Normal\s+Started\s/.test(out) ? out : null;
  }, 30_000);
  for (const reason of ['Scheduled', 'Created', 'Started']) assert.match(describe, new RegExp(`Normal\\s+${reason}\\s`), `describe shows ${reason}`);
  assert.match(describe, /Successfully assigned default\/hello to /);

  const logs = await eventually('logs', async () => { const out = await k.ok(['logs', 'hello']); return out.includes('hello from tskube') ? out : null; }, 30_000);
  assert.equal(logs, 'hello from tskube\n');

  // the pod's containers exist on Docker, labelled with the cluster and its uid
  const ids = (await sh('docker', ['ps', '-q', '--filter', `label=io.kubernetes.pod.uid=${pod.metadata.uid}`])).stdout.trim().split('\n').filter(Boolean);
  assert.equal(ids.length, 2, 'sandbox + one container');

  assert.match(await k.ok(['delete', 'pod', 'hello', '--timeout=60s'], { timeoutMs: 70_000 }), /pod "hello" deleted/);
  await eventually('containers removed', async () => {
    const left = (await sh('docker', ['ps', '-aq', '--filter', `label=io.kubernetes.pod.uid=${pod.metadata.uid}`])).stdout.trim();
    return left === '';
  }, 60_000);
  const w = await watch;
  const lines = w.stdout.split('\n').filter((l) => l.startsWith('hello '));
  assert.ok(lines.some((l) => /Pending/.test(l)), `watch saw Pending: ${w.stdout}`);
  assert.ok(lines.some((l) => /Running/.test(l)), `watch saw Running: ${w.stdout}`);
});

test('a ReplicaSet of 3 yields 3 running pods with owner references and follows scaling', async () => {
  const rs = `apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: web, image: ${POD_IMAGE}, command: [sleep, "3600"], resources: {requests: {cpu: 50m}}}
`;
  await k.ok(['apply', '-f', '-'], { input: rs });
  const running = async (n: number) => eventually(`${n} running web pods`, async () => {
    const list = await getJson<{ items: PodJson[] }>(['get', 'pods', '-l', 'app=web']);
    const live = list.items.filter((p) => !('deletionTimestamp' in p.metadata));
    return live.length === n && live.every((p) => p.status.phase === 'Running') ? live : null;
  }, 120_000);
  const three = await running(3);
  for (const p of three) {
    const ref = p.metadata.ownerReferences?.find((r) => r.controller);
    assert.deepEqual([ref?.kind, ref?.name], ['ReplicaSet', 'web']);
  }
  assert.ok(new Set(three.map((p) => p.spec.nodeName)).size >= 2, 'pods spread over nodes');
  await k.ok(['scale', 'rs', 'web', '--replicas=5']);
  await running(5);
  await k.ok(['scale', 'rs', 'web', '--replicas=2']);
  await running(2);
  // the controller writes status after it acted: wait for DESIRED/CURRENT/READY to converge
  await eventually('rs web 2/2/2', async () => /web\s+2\s+2\s+2\s+/.test(await k.ok(['get', 'rs', 'web'])) || null, 60_000);
  await k.ok(['delete', 'rs', 'web']);
  await eventually('web pods gone', async () => (await k.ok(['get', 'pods', '-l', 'app=web', '--no-headers'])).trim() === '' || null, 90_000);
});

test('bad input gets Kubernetes Status errors', async () => {
  const invalid = await k.run(['apply', '-f', '-'], { input: 'apiVersion: v1\nkind: Pod\nmetadata: {name: Bad}\nspec: {containers: [{name: c, image: ""}]}\n' });
  assert.equal(invalid.code, 1);
  assert.match(invalid.stderr, /The Pod "Bad" is invalid/);
  assert.match(invalid.stderr, /spec.containers\[0\].image: Required value/);
  const missingNs = await k.run(['create', '-n', 'nope', '-f', '-'], { input: `apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec: {containers: [{name: c, image: ${POD_IMAGE}}]}\n` });
  assert.match(missingNs.stderr, /Error from server \(NotFound\).*namespaces "nope" not found/);
  const pod = `apiVersion: v1\nkind: Pod\nmetadata: {name: dup}\nspec: {schedulerName: none, containers: [{name: c, image: ${POD_IMAGE}}]}\n`;
  await k.ok(['create', '-f', '-'], { input: pod });
  const dup = await k.run(['create', '-f', '-'], { input: pod });
  assert.match(dup.stderr, /Error from server \(AlreadyExists\).*pods "dup" already exists/);
  const malformed = await k.run(['create', '--raw', '/api/v1/namespaces/default/pods', '-f', '-'], { input: '{"apiVersion": "v1", "kind": "Pod",' });
  assert.match(malformed.stderr, /BadRequest|the object provided is unrecognized/);
  const unknown = await k.run(['apply', '-f', '-'], { input: `apiVersion: v1\nkind: Pod\nmetadata: {name: unk}\nspec: {bogus: 1, containers: [{name: c, image: ${POD_IMAGE}}]}\n` });
  assert.match(unknown.stderr, /strict decoding error: unknown field "spec.bogus"/);
  await k.ok(['delete', 'pod', 'dup', '--wait=false']);
  assert.match(await k.ok(['get', '--raw', '/readyz']), /^ok/, 'the apiserver keeps serving');
});

test('a killed kubelet stops renewing its Lease and the controller-manager marks the node NotReady', async () => {
  // SIGKILL: no graceful shutdown report from the kubelet, only the missing Lease renewals.
  const victim = `${cluster.project}-kubelet-3`;
  const stop = await sh('docker', ['kill', victim]);
  assert.equal(stop.code, 0, stop.stderr);
  await eventually(`${victim} NotReady`, async () => {
    const line = (await k.ok(['get', 'node', victim, '--no-headers'])).trim();
    return /NotReady/.test(line) ? line : null;
  }, 90_000, 2000);
  const node = await getJson<{ spec: { taints?: { key: string; effect: string }[] }; status: { conditions: { type: string; status: string }[] } }>(['get', 'node', victim]);
  assert.equal(node.status.conditions.find((c) => c.type === 'Ready')?.status, 'Unknown');
  assert.ok(node.spec.taints?.some((t) => t.key === 'node.kubernetes.io/unreachable' && t.effect === 'NoSchedule'));
});
