/**
 * Resource metrics end to end: a real apiserver (etcd in this process), the kubelet in-process
 * on the real Docker runtime (through gRPC), a busybox pod that burns CPU under a 200m limit
 * and holds ~16 MB, then the kubelet's Summary API through nodes/proxy, the metrics.k8s.io
 * API the apiserver serves from it, and `kubectl top` (pinned 1.32).
 *
 * Needs Docker with POD_IMAGE and PAUSE_IMAGE, the etcd binary and the pinned kubectl. Every
 * container carries tskube.cluster=<scope>; they and the network are removed in `after`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { POD_IMAGE } from '../support/docker.js';
import { eventually, Kubectl } from '../support/kubectl.js';
import { NS, startKubeletStack, type KubeletStack } from '../support/kubelet-stack.js';
const POD = 'burner';

interface SummaryJson {
  node: { nodeName: string; cpu?: { usageNanoCores?: number; usageCoreNanoSeconds?: number }; memory?: { workingSetBytes?: number } };
  pods: { podRef: { name: string; namespace: string; uid: string }; containers: { name: string; cpu?: { usageNanoCores?: number; usageCoreNanoSeconds?: number }; memory?: { workingSetBytes?: number } }[] }[];
}

/** "250m" → 250, "12345n" → 0.012345, "1" → 1000 (millicores). */
function milliCores(q: string): number {
  const m = /^(\d+(?:\.\d+)?)([num]?)$/.exec(q);
  assert.ok(m, `cpu quantity ${q}`);
  const scale: Record<string, number> = { n: 1e-6, u: 1e-3, m: 1, '': 1000 };
  return Number(m[1]) * scale[m[2] ?? '']!;
}

describe('resource metrics: stats summary, nodes/proxy, metrics.k8s.io, kubectl top', () => {
  let stack: KubeletStack;
  let nodeName: string;
  let kubectl: Kubectl;

  before(async () => {
    stack = await startKubeletStack({ name: 'metrics-it' });
    ({ nodeName, kubectl } = stack);
    await stack.createRunningPod(POD, {
      terminationGracePeriodSeconds: 0,
      containers: [{
        name: 'main', image: POD_IMAGE,
        // ~16 MB held in a shell variable, then a busy loop capped at 200m by the CPU quota.
        command: ['sh', '-c', "x=$(head -c 16000000 /dev/zero | tr '\\0' x); while :; do :; done"],
        resources: { limits: { cpu: '200m', memory: '128Mi' } },
      }],
    }, { labels: { app: 'burner' }, timeoutMs: 60_000 });
    await stack.waitForNodeReady();
  });

  after(async () => {
    await stack?.stop();
  });

  it('serves the Summary API through nodes/proxy: node and pod CPU and memory', async () => {
    const summary = await eventually('a summary with the burner using memory', async () => {
      const s = JSON.parse(await kubectl.ok(['get', '--raw', `/api/v1/nodes/${nodeName}/proxy/stats/summary`])) as SummaryJson;
      const c = s.pods.find((p) => p.podRef.name === POD)?.containers.find((x) => x.name === 'main');
      return (c?.memory?.workingSetBytes ?? 0) > 8_000_000 ? s : undefined;
    }, 30_000, 500);
    assert.equal(summary.node.nodeName, nodeName);
    assert.ok((summary.node.cpu?.usageCoreNanoSeconds ?? 0) > 0, 'node CPU time');
    assert.ok((summary.node.memory?.workingSetBytes ?? 0) > 0, 'node working set');
    const pod = summary.pods.find((p) => p.podRef.name === POD)!;
    assert.equal(pod.podRef.namespace, NS);
    const main = pod.containers.find((c) => c.name === 'main')!;
    assert.ok((main.cpu?.usageCoreNanoSeconds ?? 0) > 0, 'container CPU time');
    const nano = main.cpu?.usageNanoCores ?? 0;
    assert.ok(nano > 50_000_000 && nano < 300_000_000, `burning about 200m under the quota, got ${nano} nano cores`);
  });

  it('proxies /healthz, /metrics and /metrics/resource to the kubelet', async () => {
    assert.equal((await kubectl.ok(['get', '--raw', `/api/v1/nodes/${nodeName}/proxy/healthz`])).trim(), 'ok');
    const resource = await kubectl.ok(['get', '--raw', `/api/v1/nodes/${nodeName}/proxy/metrics/resource`]);
    assert.match(resource, new RegExp(`^container_cpu_usage_seconds_total\\{container="main",namespace="${NS}",pod="${POD}"\\} [0-9.e+-]+ \\d+$`, 'm'));
    assert.match(resource, /^node_memory_working_set_bytes [0-9.e+]+ \d+$/m);
    assert.match(await kubectl.ok(['get', '--raw', `/api/v1/nodes/${nodeName}/proxy/metrics`]), /^kubelet_running_pods /m);
    const missing = await kubectl.run(['get', '--raw', `/api/v1/nodes/${nodeName}-missing/proxy/healthz`]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /NotFound|not found/);
  });

  it('serves metrics.k8s.io: discovery, PodMetrics with container usage, NodeMetrics, label selectors, tables', async () => {
    const groups = JSON.parse(await kubectl.ok(['get', '--raw', '/apis'])) as { groups: { name: string; preferredVersion: { version: string } }[] };
    assert.equal(groups.groups.find((g) => g.name === 'metrics.k8s.io')?.preferredVersion.version, 'v1beta1');
    const pm = await eventually('pod metrics', async () => JSON.parse(await kubectl.ok(['get', '--raw', `/apis/metrics.k8s.io/v1beta1/namespaces/${NS}/pods/${POD}`])) as {
      kind: string; metadata: { name: string; labels?: Record<string, string> }; window: string; containers: { name: string; usage: { cpu: string; memory: string } }[];
    }, 30_000, 500);
    assert.equal(pm.kind, 'PodMetrics');
    assert.equal(pm.metadata.labels?.app, 'burner');
    assert.match(pm.window, /^\d+(\.\d+)?s$/);
    assert.equal(pm.containers[0]?.name, 'main');
    assert.ok(milliCores(pm.containers[0]!.usage.cpu) > 50, `cpu ${pm.containers[0]!.usage.cpu}`);
    assert.match(pm.containers[0]!.usage.memory, /^\d+(Ki|Mi)$/);

    const selected = JSON.parse(await kubectl.ok(['get', '--raw', `/apis/metrics.k8s.io/v1beta1/namespaces/${NS}/pods?labelSelector=app%3Dnone`])) as { items: unknown[] };
    assert.deepEqual(selected.items, []);
    const nm = JSON.parse(await kubectl.ok(['get', '--raw', `/apis/metrics.k8s.io/v1beta1/nodes/${nodeName}`])) as { kind: string; usage: { cpu: string; memory: string } };
    assert.equal(nm.kind, 'NodeMetrics');
    assert.ok(milliCores(nm.usage.cpu) > 0);
    const table = await kubectl.ok(['get', 'nodes.metrics.k8s.io']);
    assert.match(table, /^NAME\s+CPU\s+MEMORY\s+WINDOW/m);
    assert.match(table, new RegExp(`^${nodeName}\\s+\\S+\\s+\\S+\\s+\\S+`, 'm'));
  });

  it('kubectl top pods and top nodes show non-zero CPU and memory', async () => {
    const pods = await kubectl.ok(['top', 'pods', '-n', NS]);
    const row = new RegExp(`^${POD}\\s+(\\d+)m\\s+(\\d+)Mi\\s*$`, 'm').exec(pods);
    assert.ok(row, `kubectl top pods:\n${pods}`);
    assert.ok(Number(row[1]) > 50, `cpu ${row[1]}m`);
    assert.ok(Number(row[2]) > 0, `memory ${row[2]}Mi`);
    const containers = await kubectl.ok(['top', 'pods', '-n', NS, '--containers', '-l', 'app=burner']);
    assert.match(containers, new RegExp(`^${POD}\\s+main\\s+\\d+m\\s+\\d+Mi`, 'm'));

    process.stdout.write(`kubectl top pods:\n${pods}kubectl top pods --containers:\n${containers}`);
    const nodes = await kubectl.ok(['top', 'nodes']);
    process.stdout.write(`kubectl top nodes:\n${nodes}`);
    const nrow = new RegExp(`^${nodeName}\\s+(\\d+)m\\s+(\\d+)%\\s+(\\d+)Mi\\s+(\\d+)%\\s*$`, 'm').exec(nodes);
    assert.ok(nrow, `kubectl top nodes:\n${nodes}`);
    assert.ok(Number(nrow[1]) > 0 && Number(nrow[3]) > 0, `node row ${nrow[0]}`);
  });
});
