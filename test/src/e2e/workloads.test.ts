// End to end: everyday workloads on the compose stack (etcd, apiserver, scheduler,
// controller-manager, two kubelets on real Docker), driven by the pinned real kubectl 1.32 as
// a user would (issue 5): a liveness probe restarting a container, crash-loop backoff timings,
// a configMap volume update seen inside the running container, a graceful shutdown running
// preStop, exec with stdin, port-forward to busybox httpd, `kubectl top pods`, and a kubelet
// killed with SIGKILL mid-life that adopts its pods again without duplicating a container.
//
// Every pod is created in `before`, so the slow clocks (crash-loop backoff 10 s → 20 s → 40 s,
// the kubelet's 60 s resync that refreshes configMap volumes) run while the quick tests do.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from '@tskube/api';
import { createClientFromKubeconfig, Resources, type Client } from '@tskube/client';
import { composeUp, loadImageEnv, sh, type ComposeCluster } from '../support/compose.js';
import { Kubectl, eventually, startPortForward } from '../support/kubectl.js';

loadImageEnv();
const POD_IMAGE = process.env.POD_IMAGE ?? 'busybox:1.36';
const NS = 'default';
let cluster: ComposeCluster;
let k: Kubectl;
let client: Client;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const getPod = (name: string): Promise<Pod> => client.resource(Resources.pods).get(NS, name);
const ready = (p: Pod) => p.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';

async function events(name: string): Promise<string[]> {
  const out = await k.ok(['get', 'events', '-n', NS, '--field-selector', `involvedObject.name=${name}`, '-o', 'json']);
  return (JSON.parse(out) as { items: { type: string; reason: string; message: string }[] }).items.map((e) => `${e.type} ${e.reason}: ${e.message}`);
}

/** Instances of the crash-looping container seen in its status, by attempt: start/finish (ms since epoch). */
const crashInstances = new Map<number, { startedAt?: number; finishedAt?: number }>();
let crashPollerStop = false;
let crashPoller: Promise<void> | undefined;

/**
 * Polls the crash-looping pod every 500 ms, collecting each instance's startedAt/finishedAt
 * by attempt: restartCount is the newest instance's attempt; `state` (running/terminated)
 * shows the newest and `lastState` the one before, while in CrashLoopBackOff (`state.waiting`)
 * `lastState` is the newest. Instances 1… sit in lastState for their whole backoff (≥ 10 s), so
 * none is missed; instance 0 may be (it is visible only while instance 1 starts). The
 * timestamps come from the kubelet (RFC 3339 seconds), so the poll rate does not blur them.
 */
async function pollCrashLoop(): Promise<void> {
  const record = (attempt: number, t: { startedAt?: string; finishedAt?: string } | undefined) => {
    if (!t || attempt < 0) return;
    crashInstances.set(attempt, {
      startedAt: t.startedAt ? Date.parse(t.startedAt) : crashInstances.get(attempt)?.startedAt,
      finishedAt: t.finishedAt ? Date.parse(t.finishedAt) : undefined,
    });
  };
  while (!crashPollerStop) {
    try {
      const cs = (await getPod('crash')).status?.containerStatuses?.[0];
      if (cs?.state?.waiting) record(cs.restartCount, cs.lastState?.terminated);
      else if (cs) {
        record(cs.restartCount, cs.state?.running ?? cs.state?.terminated);
        record(cs.restartCount - 1, cs.lastState?.terminated);
      }
    } catch { /* not there yet */ }
    await sleep(500);
  }
}

const pods = `apiVersion: v1
kind: ConfigMap
metadata: {name: app-config}
data: {greeting: "hello v1"}
---
apiVersion: v1
kind: Pod
metadata: {name: live}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: ${POD_IMAGE}
    # no trap: sh as PID 1 ignores SIGTERM, so the kill ends with SIGKILL (exit 137)
    command: ["sh", "-c", "touch /tmp/healthy; sleep 5; rm -f /tmp/healthy; sleep 3600"]
    # timeoutSeconds 5: on a loaded machine a 1 s exec timeout would kill it before the file goes
    livenessProbe: {exec: {command: ["cat", "/tmp/healthy"]}, initialDelaySeconds: 1, periodSeconds: 1, failureThreshold: 1, timeoutSeconds: 5}
---
apiVersion: v1
kind: Pod
metadata: {name: crash}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: main, image: ${POD_IMAGE}, command: ["sh", "-c", "echo crashing; exit 1"]}
---
apiVersion: v1
kind: Pod
metadata: {name: cm}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: ${POD_IMAGE}
    command: ["sleep", "3600"]
    volumeMounts: [{name: config, mountPath: /etc/app}]
  volumes:
  - {name: config, configMap: {name: app-config}}
---
apiVersion: v1
kind: Pod
metadata: {name: hooks}
spec:
  terminationGracePeriodSeconds: 10
  containers:
  - name: main
    image: ${POD_IMAGE}
    command: ["sh", "-c", "trap 'echo got SIGTERM; exit 0' TERM; echo started; while true; do sleep 1; done"]
    lifecycle:
      preStop: {exec: {command: ["sh", "-c", "echo bye from preStop > /proc/1/fd/1; sleep 1"]}}
---
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: httpd
    image: ${POD_IMAGE}
    command: ["sh", "-c", "mkdir -p /www && echo hello-pf > /www/index.html && exec httpd -f -p 8080 -h /www"]
    ports: [{containerPort: 8080}]
    readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}
---
apiVersion: v1
kind: Pod
metadata: {name: steady}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: ${POD_IMAGE}
    command: ["sh", "-c", "touch /tmp/ready; exec sleep 3600"]
    readinessProbe: {exec: {command: ["cat", "/tmp/ready"]}, periodSeconds: 2}
`;

before(async () => {
  cluster = await composeUp({ kubelets: 2 });
  k = new Kubectl(cluster.kubeconfig);
  client = createClientFromKubeconfig(cluster.kubeconfig, { component: 'e2e-workloads' });
  process.stdout.write(`# compose project ${cluster.project} up in ${cluster.upSeconds.toFixed(1)} s at ${cluster.server}\n`);
  await eventually('2 Ready nodes', async () => {
    const lines = (await k.ok(['get', 'nodes', '--no-headers'])).trim().split('\n').filter(Boolean);
    return lines.length === 2 && lines.every((l) => / Ready /.test(l));
  }, 90_000);
  // The default ServiceAccount (the controller-manager makes it) must exist before pods are admitted.
  await eventually('default ServiceAccount', async () => (await k.run(['get', 'serviceaccount', 'default', '-n', NS])).code === 0, 60_000);
  await k.ok(['apply', '-f', '-'], { input: pods });
  crashPoller = pollCrashLoop();
});

after(async () => {
  crashPollerStop = true;
  await crashPoller;
  client?.close();
  if (!cluster) return;
  if (process.env.TSKUBE_E2E_KEEP) { process.stdout.write(`# kept ${cluster.project}\n`); return; }
  await cluster.down();
  const left = await sh('docker', ['ps', '-aq', '--filter', `label=tskube.cluster=${cluster.project}`]);
  assert.equal(left.stdout.trim(), '', 'teardown removed every pod container');
});

test('a failing liveness probe restarts the container: restartCount 1, Unhealthy and Killing events', async (t) => {
  const p = await eventually('live restarted', async () => {
    const x = await getPod('live');
    return (x.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1 ? x : null;
  }, 90_000, 500);
  assert.equal(p.status?.containerStatuses?.[0]?.lastState?.terminated?.exitCode, 137, 'sh ignores SIGTERM: killed after the 1 s grace period');
  const evs = await eventually('probe events', async () => {
    const e = await events('live');
    return e.some((x) => x.startsWith("Warning Unhealthy: Liveness probe failed: cat: can't open '/tmp/healthy': No such file or directory"))
      && e.includes('Normal Killing: Container main failed liveness probe, will be restarted') ? e : null;
  }, 15_000);
  t.diagnostic(evs.join('\n'));
  const row = (await k.ok(['get', 'pod', 'live', '--no-headers'])).trim();
  assert.match(row, /^live\s+\d\/1\s+\S+\s+[1-9]\d* \(\S+ ago\)\s/);
  t.diagnostic(`kubectl get pod live: ${row}`);
});

test('exec -i pipes stdin to cat through apiserver → kubelet → runtime', async () => {
  await eventually('steady Ready', async () => ready(await getPod('steady')), 90_000, 500);
  const input = Array.from({ length: 3000 }, (_, i) => `line ${i}`).join('\n');
  const r = await k.run(['exec', '-i', 'steady', '--', 'cat'], { input });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, input);
  const status = await k.run(['exec', 'steady', '--', 'sh', '-c', 'exit 3']);
  assert.equal(status.code, 3);
  assert.match(status.stderr, /command terminated with exit code 3/);
});

test('port-forward fetches from busybox httpd in a pod', async (t) => {
  await eventually('web Ready', async () => ready(await getPod('web')), 90_000, 500);
  const pf = await startPortForward(k.bin, ['--kubeconfig', cluster.kubeconfig, 'port-forward', 'pod/web', ':8080'], 8080);
  try {
    const port = pf.port;
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`http://127.0.0.1:${port}/index.html`, { headers: { Connection: 'close' } });
      assert.equal(`${res.status} ${await res.text()}`, '200 hello-pf\n');
    }
    t.diagnostic(pf.output().stdout.trim());
  } finally {
    pf.stop();
  }
});

test('kubectl top pods shows CPU and memory usage from the kubelets', async (t) => {
  // Pods on both nodes (metrics need two samples per container, and every Ready node scraped).
  const table = await eventually('top pods', async () => {
    const r = await k.run(['top', 'pods', '-n', NS]);
    if (r.code === 0 && /\nsteady\s+\d+m\s+\d+Mi/.test(r.stdout) && /\nweb\s+\d+m\s+\d+Mi/.test(r.stdout)) return r.stdout;
    throw new Error(`kubectl top pods exited ${r.code}: ${r.stdout}${r.stderr}`);
  }, 120_000, 2000); // generous: on a saturated machine a node's 5 s summary scrape can time out for a while
  assert.match(table, /^NAME\s+CPU\(cores\)\s+MEMORY\(bytes\)/);
  const mem = Number(/\nsteady\s+\d+m\s+(\d+)Mi/.exec(table)![1]);
  assert.ok(mem >= 0 && mem < 64, `busybox sleep uses a few MiB at most, got ${mem}Mi`);
  const nodes = await k.ok(['top', 'nodes']);
  assert.equal(nodes.trim().split('\n').length, 3, nodes);
  t.diagnostic(`${table}${nodes}`);
});

test('deleting a pod runs preStop before SIGTERM: kubectl logs -f shows both, in order', async (t) => {
  await eventually('hooks Running', async () => (await getPod('hooks')).status?.phase === 'Running', 90_000, 500);
  const following = k.run(['logs', '-f', 'hooks'], { timeoutMs: 40_000 });
  await sleep(1500);
  const t0 = Date.now();
  await k.ok(['delete', 'pod', 'hooks', '--wait=false']);
  const out = await following;
  assert.equal(out.code, 0, out.stderr);
  assert.equal(out.stdout, 'started\nbye from preStop\ngot SIGTERM\n');
  t.diagnostic(`kubectl logs -f hooks (${((Date.now() - t0) / 1000).toFixed(1)} s after delete):\n${out.stdout}`);
  await eventually('hooks gone', async () => (await k.run(['get', 'pod', 'hooks'])).code !== 0, 30_000, 500);
});

test('a configMap update reaches the mounted file inside the running container (within the 60 s resync + cache TTL)', async (t) => {
  await eventually('cm Running', async () => (await getPod('cm')).status?.phase === 'Running', 90_000, 500);
  assert.equal(await k.ok(['exec', 'cm', '--', 'cat', '/etc/app/greeting']), 'hello v1');
  const before = (await getPod('cm')).status?.containerStatuses?.[0];
  const t0 = Date.now();
  await k.ok(['patch', 'configmap', 'app-config', '--type=merge', '-p', '{"data":{"greeting":"hello v2"}}']);
  await eventually('v2 in the container', async () => (await k.ok(['exec', 'cm', '--', 'cat', '/etc/app/greeting'])) === 'hello v2', 95_000, 2000);
  const took = (Date.now() - t0) / 1000;
  // the projection is swapped atomically (..data symlink): the key stays a symlink into it
  assert.match(await k.ok(['exec', 'cm', '--', 'ls', '-l', '/etc/app/']), /greeting -> \.\.data\/greeting/);
  const after = (await getPod('cm')).status?.containerStatuses?.[0];
  assert.equal(after?.restartCount, 0);
  assert.equal(after?.containerID, before?.containerID, 'same container: updated in place, not restarted');
  t.diagnostic(`configMap update visible after ${took.toFixed(1)} s`);
});

test('crash-loop backoff: an immediately failing container restarts 10 s, 20 s, 40 s apart; CrashLoopBackOff and BackOff events', async (t) => {
  // Instance 0 exits and is restarted at once (the backoff set to 10 s); instance k ≥ 1 waits
  // 10·2^(k-1) s after it finished: waits 0, 10, 20, 40 s for attempts 0…3.
  /** Seconds between the exit of attempt k and the start of attempt k + 1 (second resolution: ±1 s). */
  const waitAfter = (k: number) => {
    const a = crashInstances.get(k)?.finishedAt;
    const b = crashInstances.get(k + 1)?.startedAt;
    return a !== undefined && b !== undefined ? (b - a) / 1000 : undefined;
  };
  const waits = await eventually('attempt 4 of crash started', async () => {
    const w = [0, 1, 2, 3].map(waitAfter);
    return w.slice(1).every((x) => x !== undefined) ? w : null;
  }, 150_000, 1000);
  t.diagnostic(`waits between an exit and the next start, attempts 0→1 … 3→4 (s): ${waits.map((x) => x ?? 'not seen').join(', ')}`);
  if (waits[0] !== undefined) assert.ok(waits[0] < 8, `the first restart is immediate: ${waits[0]} s`);
  [10, 20, 40].forEach((e, i) => {
    const w = waits[i + 1]!;
    // late by up to 8 s on a loaded machine (the sync after the backoff, create and start), never early
    assert.ok(w >= e - 1 && w <= e + 8, `backoff ${i + 1} was ${w} s, expected ~${e} s (all: ${waits.join(', ')})`);
  });
  const p = await eventually('CrashLoopBackOff', async () => {
    const x = await getPod('crash');
    return x.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CrashLoopBackOff' ? x : null;
  }, 60_000, 500);
  const cs = p.status!.containerStatuses![0]!;
  // The delay shown is the one the last exit started: 10 s · 2^(restarts − 1), at most 5 min.
  const delay = Math.min(10 * 2 ** (cs.restartCount - 1), 300);
  const goDelay = delay >= 60 ? `${Math.floor(delay / 60)}m${delay % 60}s` : `${delay}s`;
  assert.match(cs.state!.waiting!.message!, new RegExp(`^back-off ${goDelay} restarting failed container=main pod=crash_default\\(`));
  assert.equal(cs.lastState?.terminated?.exitCode, 1);
  assert.ok(cs.restartCount >= 4, `restartCount ${cs.restartCount}`);
  assert.match((await k.ok(['get', 'pod', 'crash', '--no-headers'])).trim(), /^crash\s+0\/1\s+CrashLoopBackOff\s+\d+ \(\S+ ago\)/);
  const evs = await events('crash');
  assert.ok(evs.some((e) => /^Warning BackOff: Back-off restarting failed container main in pod crash_default\(/.test(e)), evs.join('\n'));
  assert.equal(await k.ok(['logs', 'crash', '--previous']), 'crashing\n');
});

test('SIGKILL of a kubelet mid-life: its pods keep running, and after a restart it adopts them without duplicating a container', async (t) => {
  await eventually('steady Ready', async () => ready(await getPod('steady')), 60_000, 500);
  const p0 = await getPod('steady');
  const node = p0.spec!.nodeName!;
  const uid = p0.metadata!.uid!;
  const cs0 = p0.status!.containerStatuses![0]!;
  /** Pod containers of `steady` by Docker label: `<container name> <state>` per line, sorted. */
  const containers = async () => (await sh('docker', ['ps', '-a', '--filter', `label=io.kubernetes.pod.uid=${uid}`,
    '--format', '{{.ID}} {{.Label "io.kubernetes.container.name"}} {{.State}}'])).stdout.trim().split('\n').filter(Boolean).sort();
  const before = await containers();
  assert.equal(before.length, 2, `sandbox and main:\n${before.join('\n')}`);

  // The kubelet's container is named like its node; SIGKILL reaches tini (PID 1): no cleanup at all.
  assert.equal((await sh('docker', ['kill', '-s', 'KILL', node])).code, 0);
  assert.equal((await sh('docker', ['inspect', '-f', '{{.State.Running}}', node])).stdout.trim(), 'false');
  await sleep(3000);
  assert.deepEqual(await containers(), before, 'pod containers outlive their kubelet');

  const t0 = Date.now();
  assert.equal((await sh('docker', ['start', node])).code, 0);
  await eventually('kubelet healthy again', async () => (await sh('docker', ['inspect', '-f', '{{.State.Health.Status}}', node])).stdout.trim() === 'healthy', 90_000);
  // Through the restarted kubelet: exec works, and the readiness probe reports again.
  await eventually('exec via the restarted kubelet', async () => (await k.run(['exec', 'steady', '--', 'cat', '/tmp/ready'])).code === 0, 60_000);
  t.diagnostic(`kubelet back (healthy, exec works) ${((Date.now() - t0) / 1000).toFixed(1)} s after docker start`);
  // A few PLEG relists (1 s) and housekeeping passes (2 s): a duplicate would have appeared by now.
  await sleep(8000);
  const after = await containers();
  assert.deepEqual(after, before, `no duplicate containers:\n${after.join('\n')}`);
  assert.ok(after.every((l) => l.endsWith(' running')), after.join('\n'));
  const p1 = await getPod('steady');
  const cs1 = p1.status!.containerStatuses![0]!;
  assert.equal(cs1.restartCount, cs0.restartCount, 'restartCount unchanged');
  assert.equal(cs1.containerID, cs0.containerID);
  assert.equal(ready(p1), true);
  // The node's other pods were adopted too: nothing of the project is duplicated anywhere.
  const all = (await sh('docker', ['ps', '--filter', `label=tskube.cluster=${cluster.project}`, '--filter', 'status=running',
    '--format', '{{.Label "io.kubernetes.pod.uid"}}/{{.Label "io.kubernetes.container.name"}}'])).stdout.trim().split('\n').filter(Boolean);
  assert.equal(new Set(all).size, all.length, `a running container twice:\n${all.sort().join('\n')}`);
  t.diagnostic(`steady on ${node}: ${after.join(' | ')}; restartCount ${cs1.restartCount}`);
});
