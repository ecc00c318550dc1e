// End to end: the control loops on the compose stack with two controller-manager and two
// scheduler replicas (leader election) and three kubelets on real Docker, driven by the
// real kubectl 1.32. Scenarios from issue 4: leader takeover without duplicate pods, a
// namespace deletion with many objects, a pending pod scheduled when a node joins, and a
// killed node whose pods are evicted after their toleration and replaced elsewhere.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { composeUp, loadImageEnv, sh, type ComposeCluster } from '../support/compose.js';
import { Kubectl, eventually } from '../support/kubectl.js';

loadImageEnv();
const POD_IMAGE = process.env.POD_IMAGE ?? 'busybox:1.36';
let cluster: ComposeCluster;
let k: Kubectl;

interface PodJson {
  metadata: { name: string; deletionTimestamp?: string };
  spec: { nodeName?: string };
  status: { phase: string; conditions?: { type: string; status: string }[] };
}
interface LeaseJson { spec: { holderIdentity?: string; leaseTransitions?: number } }

async function getJson<T>(args: string[]): Promise<T> {
  return JSON.parse(await k.ok([...args, '-o', 'json'])) as T;
}

function replicaSet(ns: string, name: string, replicas: number, extraSpec = ''): string {
  return `apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: ${name}, namespace: ${ns}}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      terminationGracePeriodSeconds: 1
${extraSpec}      containers:
      - name: main
        image: ${POD_IMAGE}
        command: ["sh", "-c", "sleep 3600"]
        resources: {requests: {cpu: 10m, memory: 8Mi}}
`;
}

async function pods(ns: string, selector: string): Promise<PodJson[]> {
  return (await getJson<{ items: PodJson[] }>(['get', 'pods', '-n', ns, '-l', selector])).items;
}

const running = (p: PodJson) => p.status.phase === 'Running' && !p.metadata.deletionTimestamp;

/** Container IDs (12 hex, = the container's hostname) and names of a compose service's replicas. */
async function containersOf(service: string): Promise<{ id: string; name: string }[]> {
  const r = await sh('docker', ['ps', '--filter', `label=com.docker.compose.project=${cluster.project}`,
    '--filter', `label=com.docker.compose.service=${service}`, '--format', '{{.ID}} {{.Names}}']);
  return r.stdout.trim().split('\n').filter(Boolean).map((l) => {
    const [id, name] = l.split(' ');
    return { id: id!, name: name! };
  });
}

/** The replica of `service` holding `lease` (identity `<hostname>_<uuid>`, hostname = container ID). */
async function leader(service: string, lease: string): Promise<{ id: string; name: string; identity: string }> {
  return eventually(`${service} leader`, async () => {
    const l = await getJson<LeaseJson>(['get', 'lease', '-n', 'kube-system', lease]);
    const identity = l.spec.holderIdentity ?? '';
    const c = (await containersOf(service)).find((x) => identity.startsWith(`${x.id}_`));
    return c ? { ...c, identity } : null;
  }, 60_000);
}

before(async () => {
  cluster = await composeUp({
    kubelets: 3, scale: { 'controller-manager': 2, scheduler: 2 }, env: { TSKUBE_NODE_MONITOR_GRACE_PERIOD: '15' },
  });
  k = new Kubectl(cluster.kubeconfig);
  process.stdout.write(`# compose project ${cluster.project} up in ${cluster.upSeconds.toFixed(1)} s at ${cluster.server}\n`);
  await eventually('3 Ready nodes', async () => {
    const out = await k.ok(['get', 'nodes', '--no-headers']);
    const lines = out.trim().split('\n').filter(Boolean);
    return lines.length === 3 && lines.every((l) => / Ready /.test(l));
  }, 90_000);
});

after(async () => {
  if (!cluster) return;
  if (process.env.TSKUBE_E2E_KEEP) { process.stdout.write(`# kept ${cluster.project}\n`); return; }
  await cluster.down();
  const left = await sh('docker', ['ps', '-aq', '--filter', `label=tskube.cluster=${cluster.project}`]);
  assert.equal(left.stdout.trim(), '', 'teardown removed every pod container');
});

test('killing the leading controller-manager and scheduler: the standbys take over within the lease, no duplicate pods', async () => {
  await k.ok(['create', 'namespace', 'ha']);
  const cm = await leader('controller-manager', 'kube-controller-manager');
  const sched = await leader('scheduler', 'kube-scheduler');
  assert.equal((await containersOf('controller-manager')).length, 2);
  assert.equal((await containersOf('scheduler')).length, 2);

  // SIGKILL: the Lease is not released, so the standby must wait for it to expire (15 s).
  const killedAt = Date.now();
  assert.equal((await sh('docker', ['kill', cm.name, sched.name])).code, 0);
  await k.ok(['apply', '-f', '-'], { input: replicaSet('ha', 'web', 4) });

  const cm2 = await leader('controller-manager', 'kube-controller-manager').then(async (l) => l.name === cm.name
    ? eventually('a new controller-manager leader', async () => { const n = await leader('controller-manager', 'kube-controller-manager'); return n.name !== cm.name ? n : null; }, 60_000)
    : l);
  const took = (Date.now() - killedAt) / 1000;
  assert.notEqual(cm2.name, cm.name);
  process.stdout.write(`# controller-manager takeover after ${took.toFixed(1)} s (lease 15 s)\n`);
  assert.ok(took < 40, `takeover took ${took} s`);

  await eventually('4 running pods', async () => (await pods('ha', 'app=web')).filter(running).length === 4 || null, 90_000);
  const sched2 = await leader('scheduler', 'kube-scheduler');
  assert.notEqual(sched2.name, sched.name);

  // Scale through the new leader, then hold still: never more pods than replicas.
  await k.ok(['scale', '-n', 'ha', 'rs/web', '--replicas=6']);
  await eventually('6 running pods', async () => (await pods('ha', 'app=web')).filter(running).length === 6 || null, 90_000);
  for (let i = 0; i < 5; i++) {
    const all = await pods('ha', 'app=web');
    assert.equal(all.filter((p) => !p.metadata.deletionTimestamp).length, 6, 'no duplicate pods');
    await new Promise((r) => setTimeout(r, 1000));
  }
  await k.ok(['delete', 'namespace', 'ha', '--wait=false']);
});

test('a Deployment rolls out an image change, rolls back with undo, scales to zero and back', async () => {
  const ns = 'rollout';
  // A second tag of the pod image on the (shared) Docker engine: an image change with no registry.
  const v2 = `${POD_IMAGE.split(':')[0]}:e2e-v2`;
  assert.equal((await sh('docker', ['tag', POD_IMAGE, v2])).code, 0);
  await k.ok(['create', 'namespace', ns]);
  await k.ok(['apply', '-f', '-'], {
    input: `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ${ns}}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  strategy: {rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: main
        image: ${POD_IMAGE}
        imagePullPolicy: IfNotPresent
        command: ["sh", "-c", "sleep 3600"]
        resources: {requests: {cpu: 10m, memory: 8Mi}}
`,
  });
  const status = await k.ok(['rollout', 'status', '-n', ns, 'deployment/web', '--timeout=120s'], { timeoutMs: 130_000 });
  assert.match(status, /successfully rolled out/);

  await k.ok(['set', 'image', '-n', ns, 'deployment/web', `main=${v2}`]);
  assert.match(await k.ok(['rollout', 'status', '-n', ns, 'deployment/web', '--timeout=120s'], { timeoutMs: 130_000 }), /successfully rolled out/);
  const images = async () => (await pods(ns, 'app=web')).filter(running).map((p) => (p as PodJson & { spec: { containers: { image: string }[] } }).spec.containers[0]!.image);
  assert.deepEqual(await eventually('3 pods on v2', async () => { const i = await images(); return i.length === 3 && i.every((x) => x === v2) ? i : null; }, 60_000), [v2, v2, v2]);
  const rs = await k.ok(['get', 'rs', '-n', ns, '--no-headers']);
  assert.equal(rs.trim().split('\n').length, 2, `old and new ReplicaSet:\n${rs}`);
  assert.match(rs, /web-\S+\s+0\s+0\s+0/);
  assert.match(await k.ok(['rollout', 'history', '-n', ns, 'deployment/web']), /1\s+<none>\s+2\s+<none>/);

  await k.ok(['rollout', 'undo', '-n', ns, 'deployment/web']);
  assert.match(await k.ok(['rollout', 'status', '-n', ns, 'deployment/web', '--timeout=120s'], { timeoutMs: 130_000 }), /successfully rolled out/);
  await eventually('3 pods back on the first image', async () => { const i = await images(); return i.length === 3 && i.every((x) => x === POD_IMAGE) || null; }, 60_000);
  const dep = await getJson<{ metadata: { annotations: Record<string, string> } }>(['get', 'deployment', '-n', ns, 'web']);
  assert.equal(dep.metadata.annotations['deployment.kubernetes.io/revision'], '3');

  await k.ok(['scale', '-n', ns, 'deployment/web', '--replicas=0']);
  await eventually('no pods', async () => (await pods(ns, 'app=web')).length === 0 || null, 60_000);
  await k.ok(['scale', '-n', ns, 'deployment/web', '--replicas=2']);
  await eventually('2 running pods', async () => (await pods(ns, 'app=web')).filter(running).length === 2 || null, 90_000);
  assert.match(await k.ok(['get', 'deployment', '-n', ns, 'web']), /web\s+2\/2\s+2\s+2\s/);
  await k.ok(['delete', 'namespace', ns, '--wait=false']);
  await sh('docker', ['rmi', v2]);
});

test('deleting a namespace with many objects empties it and then removes it', async () => {
  const ns = 'crowded';
  await k.ok(['create', 'namespace', ns]);
  const docs: string[] = [];
  for (let i = 0; i < 40; i++) docs.push(`apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-${i}, namespace: ${ns}}\ndata: {k: "v${i}"}\n`);
  for (let i = 0; i < 20; i++) docs.push(`apiVersion: v1\nkind: Secret\nmetadata: {name: s-${i}, namespace: ${ns}}\nstringData: {k: "v${i}"}\n`);
  for (let i = 0; i < 5; i++) docs.push(`apiVersion: v1\nkind: Service\nmetadata: {name: svc-${i}, namespace: ${ns}}\nspec: {selector: {app: x}, ports: [{port: 80}]}\n`);
  for (let i = 0; i < 5; i++) docs.push(`apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: sa-${i}, namespace: ${ns}}\n`);
  docs.push(replicaSet(ns, 'busy', 3));
  await k.ok(['apply', '-f', '-'], { input: docs.join('---\n') });
  await eventually('3 running pods', async () => (await pods(ns, 'app=busy')).filter(running).length === 3 || null, 90_000);

  const t0 = Date.now();
  await k.ok(['delete', 'namespace', ns, '--wait=false']);
  assert.match(await k.ok(['get', 'namespace', ns]), /Terminating/);
  // A terminating namespace refuses new objects.
  const refused = await k.run(['create', 'configmap', 'late', '-n', ns]);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /forbidden: unable to create new content in namespace crowded because it is being terminated/);
  await eventually('namespace gone', async () => (await k.run(['get', 'namespace', ns])).code !== 0 || null, 120_000, 2000);
  process.stdout.write(`# namespace with 74 objects and 3 running pods deleted in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  const gone = await k.run(['get', 'namespace', ns]);
  assert.match(gone.stderr, /NotFound/);
  // Upstream removes a pod object once its containers are stopped; their removal (and the
  // kubelet's housekeeping of anything left) follows within seconds.
  await eventually('the pods\' containers are gone', async () => {
    const containers = await sh('docker', ['ps', '-aq', '--filter', `label=io.kubernetes.pod.namespace=${ns}`, '--filter', `label=tskube.cluster=${cluster.project}`]);
    return containers.stdout.trim() === '' || null;
  }, 60_000, 1000);
});

test('required anti-affinity spreads pods one per node; a high-priority pod preempts a low-priority one', async () => {
  const ns = 'prio';
  await k.ok(['create', 'namespace', ns]);
  const nodes = await getJson<{ items: { status: { allocatable: { cpu: string } } }[] }>(['get', 'nodes']);
  const cpu = nodes.items[0]!.status.allocatable.cpu;
  const milli = cpu.endsWith('m') ? Number(cpu.slice(0, -1)) : Number(cpu) * 1000;
  const request = `${Math.floor(milli * 0.6)}m`; // two never fit on one node
  await k.ok(['apply', '-f', '-'], {
    input: `apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: e2e-low}
value: 100
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: e2e-high}
value: 1000000
`,
  });
  await k.ok(['apply', '-f', '-'], {
    input: replicaSet(ns, 'low', 3, `      priorityClassName: e2e-low
      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
          - labelSelector: {matchLabels: {app: low}}
            topologyKey: kubernetes.io/hostname
`).replace('cpu: 10m', `cpu: ${request}`),
  });
  const low = await eventually('3 low pods running', async () => {
    const ps = (await pods(ns, 'app=low')).filter(running);
    return ps.length === 3 ? ps : null;
  }, 90_000);
  assert.equal(new Set(low.map((p) => p.spec.nodeName)).size, 3, 'one pod per node');

  await k.ok(['apply', '-f', '-'], {
    input: `apiVersion: v1
kind: Pod
metadata: {name: important, namespace: ${ns}}
spec:
  priorityClassName: e2e-high
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: ${POD_IMAGE}
    command: ["sh", "-c", "sleep 3600"]
    resources: {requests: {cpu: ${request}}}
`,
  });
  const important = await eventually('important Running', async () => {
    const p = await getJson<PodJson & { spec: { priority?: number } }>(['get', 'pod', '-n', ns, 'important']);
    return p.status.phase === 'Running' ? p : null;
  }, 120_000, 2000);
  assert.equal(important.spec.priority, 1000000);
  const preempted = await k.ok(['get', 'events', '-n', ns, '--field-selector', 'reason=Preempted', '-o', 'jsonpath={.items[*].message}']);
  assert.match(preempted, new RegExp(`Preempted by pod \\S+ on node ${important.spec.nodeName}`));
  // The victim's replacement cannot fit anywhere and may not preempt the higher-priority pod.
  const pending = await eventually('a pending low replacement', async () => {
    const ps = await pods(ns, 'app=low');
    return ps.find((p) => p.status.phase === 'Pending' && !p.metadata.deletionTimestamp) ?? null;
  }, 60_000);
  const msg = await eventually('FailedScheduling for the replacement', async () => {
    const out = await k.ok(['get', 'events', '-n', ns, '--field-selector', `involvedObject.name=${pending.metadata.name},reason=FailedScheduling`, '-o', 'jsonpath={.items[*].message}']);
    return out.trim() || null;
  }, 60_000);
  assert.match(msg, /^0\/3 nodes are available: .*preemption: /);
  await k.ok(['delete', 'namespace', ns, '--wait=false']);
  await k.ok(['delete', 'priorityclass', 'e2e-low', 'e2e-high']);
});

test('a pending pod is scheduled when a node that fits joins', async () => {
  const node4 = `${cluster.project}-kubelet-4`;
  await k.ok(['apply', '-f', '-'], {
    input: `apiVersion: v1\nkind: Pod\nmetadata: {name: waiting}\nspec:\n  nodeSelector: {kubernetes.io/hostname: ${node4}}\n  containers:\n  - {name: main, image: ${POD_IMAGE}, command: ["sh", "-c", "sleep 3600"]}\n`,
  });
  const msg = await eventually('FailedScheduling', async () => {
    const out = await k.ok(['get', 'events', '--field-selector', 'involvedObject.name=waiting,reason=FailedScheduling', '-o', 'jsonpath={.items[*].message}']);
    return out.trim() || null;
  }, 60_000);
  assert.match(msg, /0\/3 nodes are available: 3 node\(s\) didn't match Pod's node affinity\/selector/);
  const scaled = await cluster.compose(['up', '-d', '--wait', '--no-recreate', '--scale', 'kubelet=4', '--scale', 'controller-manager=2', '--scale', 'scheduler=2']);
  assert.equal(scaled.code, 0, scaled.stderr);
  const pod = await eventually('waiting Running on the new node', async () => {
    const p = await getJson<PodJson>(['get', 'pod', 'waiting']);
    return p.status.phase === 'Running' ? p : null;
  }, 90_000);
  assert.equal(pod.spec.nodeName, node4);
  await k.ok(['delete', 'pod', 'waiting', '--wait=false']);
});

test('a killed node: NoExecute taints evict its pods after their toleration, replacements run elsewhere', async () => {
  const ns = 'evict';
  await k.ok(['create', 'namespace', ns]);
  const tolerations = `      tolerations:
      - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 5}
      - {key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute, tolerationSeconds: 5}
`;
  await k.ok(['apply', '-f', '-'], { input: replicaSet(ns, 'web', 4, tolerations) });
  const before = await eventually('4 running pods', async () => {
    const ps = (await pods(ns, 'app=web')).filter(running);
    return ps.length === 4 ? ps : null;
  }, 90_000);
  const victimNode = before[0]!.spec.nodeName!;
  const onVictim = before.filter((p) => p.spec.nodeName === victimNode).map((p) => p.metadata.name);
  assert.equal((await sh('docker', ['kill', victimNode])).code, 0);

  await eventually(`${victimNode} tainted unreachable:NoExecute`, async () => {
    const n = await getJson<{ spec: { taints?: { key: string; effect: string }[] } }>(['get', 'node', victimNode]);
    return n.spec.taints?.some((t) => t.key === 'node.kubernetes.io/unreachable' && t.effect === 'NoExecute') || null;
  }, 90_000, 2000);
  // Evicted (deletion requested: they stay Terminating while their kubelet is down) and
  // replaced by running pods on the other nodes.
  const after = await eventually('4 running replacements elsewhere', async () => {
    const ps = await pods(ns, 'app=web');
    const evicted = onVictim.every((n) => ps.find((p) => p.metadata.name === n)?.metadata.deletionTimestamp ?? !ps.some((p) => p.metadata.name === n));
    const live = ps.filter((p) => running(p) && p.spec.nodeName !== victimNode);
    return evicted && live.length === 4 ? live : null;
  }, 90_000, 2000);
  assert.ok(after.every((p) => !onVictim.includes(p.metadata.name)));
  const events = await k.ok(['get', 'events', '-n', ns, '--field-selector', 'reason=TaintManagerEviction', '-o', 'jsonpath={.items[*].message}']);
  assert.match(events, /Marking for deletion Pod evict\//);

  // The node comes back: its kubelet finishes the deletions and removes the containers.
  assert.equal((await sh('docker', ['start', victimNode])).code, 0);
  await eventually('evicted pods gone', async () => {
    const ps = await pods(ns, 'app=web');
    return onVictim.every((n) => !ps.some((p) => p.metadata.name === n)) || null;
  }, 90_000, 2000);
  await k.ok(['delete', 'namespace', ns, '--wait=false']);
});
