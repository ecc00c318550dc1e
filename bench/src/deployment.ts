/**
 * A Deployment at scale on simulated nodes, every component its own process (etcd, the
 * apiserver, the controller-manager with all controllers, the scheduler, the simulated
 * kubelets):
 *
 *   baseline  `replicas` bare pods with spec.nodeName set (no controller, no scheduler),
 *             POSTed 64 at a time: time until all are Running and Ready (pod watch)
 *   create    a Deployment of `replicas`: time from the POST until all its pods are Running
 *             and Ready (pod watch); ratio to the baseline
 *   rollout   a new image with maxSurge 25% (maxUnavailable 25%): time until the rollout is
 *             complete as `kubectl rollout status` sees it (observedGeneration, updated,
 *             available and total replicas all at `replicas`, no old pods left)
 *   scale     to `scale` replicas: time until all are ready, then the RSS of every component
 *             at `nodes` nodes and `scale` pods (also at `nodes` nodes and no pods, for scale)
 * One run; run it several times for medians (the figures are noisy on a shared machine).
 */
import type { Deployment, Pod } from '@tskube/api';
import { createClientFromKubeconfig, Resources, type Client } from '@tskube/client';
import { startEtcd } from '@tskube/test/support/etcd';
import { eventually } from '@tskube/test/support/kubectl';
import { pool, rssMiB, startApiProcess, type ApiProcess } from './api.js';
import { startComponent, startSimProcess, withCleanup, type ComponentProcess } from './cluster.js';
import { fmtMs, say } from './stats.js';

const NS = 'deploy-bench';
const CONCURRENCY = 64;

function isReady(p: Pod): boolean {
  return p.status?.phase === 'Running' && (p.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** Watches NS and resolves with the time (performance.now) when `n` pods matching `match` are Running and Ready at once. */
async function whenReady(client: Client, n: number, match: (p: Pod) => boolean, what: string): Promise<{ done: Promise<number>; close(): void }> {
  const pods = client.resource(Resources.pods);
  const list = await pods.list({ namespace: NS, limit: 1 });
  const w = await pods.watch({ namespace: NS, resourceVersion: list.metadata.resourceVersion ?? '0' });
  const ready = new Set<string>();
  const progress = setInterval(() => say(`  … ${what}: ${ready.size}/${n} ready`), 10_000);
  const done = (async () => {
    for await (const ev of w) {
      if (ev.type === 'BOOKMARK') continue;
      const p = ev.object as Pod;
      const name = p.metadata?.name ?? '';
      if (ev.type !== 'DELETED' && match(p) && isReady(p)) ready.add(name); else ready.delete(name);
      if (ready.size >= n) return performance.now();
    }
    throw new Error(`watch ended with ${ready.size}/${n} ready`);
  })().finally(() => { clearInterval(progress); w.close(); });
  done.catch(() => undefined);
  return { done, close: () => w.close() };
}

async function deployment(client: Client, replicas: number): Promise<Deployment> {
  return client.resource(Resources.deployments).create(NS, {
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: { name: 'web', namespace: NS },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          terminationGracePeriodSeconds: 0,
          containers: [{ name: 'web', image: 'bench/web:v1', resources: { requests: { cpu: '10m', memory: '16Mi' } } }],
        },
      },
    },
  });
}

/** `kubectl rollout status` done: observed, all updated, available and no old replicas. */
async function rolloutComplete(client: Client, replicas: number, what: string): Promise<number> {
  let last = '';
  const t = setInterval(() => say(`  … ${what}: ${last}`), 10_000);
  try {
    await eventually(what, async () => {
      const d = await client.resource(Resources.deployments).get(NS, 'web');
      const s = d.status ?? {};
      last = `updated ${s.updatedReplicas ?? 0}, ready ${s.readyReplicas ?? 0}, available ${s.availableReplicas ?? 0}, total ${s.replicas ?? 0}`;
      return (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 1) && s.updatedReplicas === replicas
        && s.availableReplicas === replicas && s.replicas === replicas;
    }, 1_800_000, 200);
    return performance.now();
  } finally {
    clearInterval(t);
  }
}

/** `work`, unless one of `procs` dies first. */
function guarded<T>(procs: readonly ComponentProcess[], work: Promise<T>): Promise<T> {
  return Promise.race([work, ...procs.map((p) => p.died)]);
}

function memoryLine(label: string, api: ApiProcess, procs: ComponentProcess[]): string {
  return `RESULT memory (${label}): ${procs.map((p) => `${p.name} ${p.rssMiB().toFixed(0)} MiB`).join(', ')}, apiserver ${rssMiB(api.child.pid!).toFixed(0)} MiB`;
}

export async function deploymentBench(o: { nodes: number; replicas: number; scale: number; startDelayMs: number }): Promise<void> {
  say(`# deployment: ${o.replicas} replicas on ${o.nodes} simulated nodes (start delay ${o.startDelayMs} ms), rolling update, scale to ${o.scale}`);
  say('  (etcd, apiserver, controller-manager, scheduler and simulated kubelets are separate processes on this machine)');
  const etcd = await startEtcd();
  const api = await startApiProcess(etcd);
  const client = createClientFromKubeconfig(api.kubeconfig, { component: 'bench' });
  const procs: ComponentProcess[] = [];
  await withCleanup(async () => {
    for (const p of [...procs].reverse()) await p.stop();
    client.close();
    await api.stop();
    await etcd.stop();
  }, async () => {
    await client.resource(Resources.namespaces).create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    procs.push(await startComponent(api, 'controller-manager'));
    // pods are admitted once the serviceaccount controller has made the namespace's "default"
    await eventually('default ServiceAccount', async () => Boolean(await client.resource(Resources.serviceAccounts).get(NS, 'default')), 60_000, 200);
    procs.push(await startComponent(api, 'scheduler'));
    // the node lifecycle controller lifts the not-ready taints
    const sim = await startSimProcess(api, client, { count: o.nodes, prefix: 'node-', startDelayMs: o.startDelayMs });
    procs.push(sim);
    await new Promise((r) => setTimeout(r, 3000));
    say(memoryLine(`${o.nodes} nodes, no pods`, api, procs));

    say(`## baseline: ${o.replicas} bare pods with spec.nodeName`);
    const bare = Array.from({ length: o.replicas }, (_, i) => `bare-${i}`);
    const pods = client.resource(Resources.pods);
    const bw = await whenReady(client, o.replicas, (p) => p.metadata?.labels?.app === 'bare', 'bare pods');
    const b0 = performance.now();
    await pool(o.replicas, CONCURRENCY, async (i) => {
      await pods.create(NS, {
        apiVersion: 'v1', kind: 'Pod', metadata: { name: bare[i]!, namespace: NS, labels: { app: 'bare' } },
        spec: {
          nodeName: sim.names[i % sim.names.length]!, terminationGracePeriodSeconds: 0,
          containers: [{ name: 'web', image: 'bench/web:v1', resources: { requests: { cpu: '10m', memory: '16Mi' } } }],
        },
      });
    });
    const bareMs = (await guarded(procs, bw.done)) - b0;
    say(`  ${o.replicas} bare pods Running in ${fmtMs(bareMs)}`);
    await pool(o.replicas, CONCURRENCY, async (i) => { await pods.delete(NS, bare[i]!, { gracePeriodSeconds: 0 }).catch(() => undefined); });
    await eventually('bare pods gone', async () => (await pods.list({ namespace: NS, limit: 1 })).items.length === 0 || null, 300_000, 500);

    say(`## Deployment of ${o.replicas} replicas`);
    const dw = await whenReady(client, o.replicas, (p) => p.metadata?.labels?.app === 'web', 'deployment pods');
    const d0 = performance.now();
    await deployment(client, o.replicas);
    const createMs = (await guarded(procs, dw.done)) - d0;
    say(`RESULT deployment ${o.replicas} replicas on ${o.nodes} nodes: create → all pods Running+Ready ${fmtMs(createMs)} ` +
      `(${(o.replicas / createMs * 1000).toFixed(0)} pods/s) | baseline ${o.replicas} bare pods with nodeName ${fmtMs(bareMs)} | ratio ${(createMs / bareMs).toFixed(1)}x`);
    await guarded(procs, rolloutComplete(client, o.replicas, 'initial rollout status'));

    say('## rolling update to a new image (maxSurge 25%, maxUnavailable 25%)');
    const r0 = performance.now();
    await client.resource(Resources.deployments).patch(NS, 'web', { spec: { template: { spec: { containers: [{ name: 'web', image: 'bench/web:v2' }] } } } }, 'strategic');
    const rolloutMs = (await guarded(procs, rolloutComplete(client, o.replicas, 'rollout'))) - r0;
    say(`RESULT rolling update of ${o.replicas} replicas (maxSurge 25%): ${fmtMs(rolloutMs)} until complete | ratio to the bare-pod baseline ${(rolloutMs / bareMs).toFixed(1)}x`);

    say(`## scale to ${o.scale}`);
    const s0 = performance.now();
    await client.resource(Resources.deployments).patch(NS, 'web', { spec: { replicas: o.scale } }, 'merge');
    const scaleMs = (await guarded(procs, rolloutComplete(client, o.scale, `scale to ${o.scale}`))) - s0;
    say(`RESULT scale ${o.replicas} → ${o.scale} replicas: ${fmtMs(scaleMs)} until all available (${((o.scale - o.replicas) / scaleMs * 1000).toFixed(0)} pods/s)`);
    await new Promise((r) => setTimeout(r, 5000));
    say(memoryLine(`${o.nodes} nodes, ${o.scale} pods`, api, procs));
  });
}
