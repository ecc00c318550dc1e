/**
 * Pod startup latency: create → Running and create → Ready for N pods (default 50) on one
 * real node, next to the time raw dockerode takes to create and start the same pause +
 * busybox containers in the same run.
 *
 *   tskube:   POST N pods at once; latency = time from the POST to the pod seen Running, and
 *             to its Ready condition True (one watch). With probe=1 (default) each pod has an
 *             exec readiness probe (`true`, every 10 s), so Ready waits for the first probe
 *             run through CRI ExecSync; with probe=0 Ready comes with the Running status write
 *   baseline: for N pods at once: create+start a pause container on the same network, then
 *             create+start a busybox container joined to its network namespace
 */
import Docker from 'dockerode';
import { Resources, type Client } from '@tskube/client';
import type { Pod } from '@tskube/api';
import { eventually } from '@tskube/test/support/kubectl';
import { fmtMs, median, percentile, say } from './stats.js';
import { upOneNode } from './one-node.js';

// read when used: main.ts loads the offline images env file first
const podImage = () => process.env.POD_IMAGE ?? 'busybox:1.36';
const pauseImage = () => process.env.PAUSE_IMAGE ?? 'registry.k8s.io/pause:3.10';

interface StartupLatencies { running: number[]; ready: number[] }

const isReady = (p: Pod) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

async function tskubeRun(client: Client, n: number, round: number, probe: boolean): Promise<StartupLatencies> {
  const pods = client.resource(Resources.pods);
  const names = Array.from({ length: n }, (_, i) => `bench-${round}-${i}`);
  const started = new Map<string, number>();
  const running = new Map<string, number>();
  const ready = new Map<string, number>();
  const list = await pods.list({ namespace: 'default' });
  const w = await pods.watch({ namespace: 'default', resourceVersion: list.metadata.resourceVersion ?? '0' });
  const done = (async () => {
    for await (const ev of w) {
      if (ev.type === 'BOOKMARK') continue;
      const p = ev.object as Pod;
      const name = p.metadata?.name ?? '';
      if (!started.has(name)) continue;
      const now = performance.now();
      if (!running.has(name) && p.status?.phase === 'Running') running.set(name, now);
      if (!ready.has(name) && isReady(p)) ready.set(name, now);
      if (running.size === n && ready.size === n) break;
    }
  })();
  await Promise.all(names.map(async (name) => {
    started.set(name, performance.now());
    await pods.create('default', {
      apiVersion: 'v1', kind: 'Pod', metadata: { name },
      spec: {
        terminationGracePeriodSeconds: 1,
        containers: [{
          name: 'c', image: podImage(), imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'],
          ...(probe ? { readinessProbe: { exec: { command: ['true'] }, periodSeconds: 10 } } : {}),
        }],
      },
    });
  }));
  const timeout = setTimeout(() => w.close(), 180_000);
  await done;
  clearTimeout(timeout);
  w.close();
  if (running.size !== n || ready.size !== n) throw new Error(`only ${running.size}/${n} pods reached Running, ${ready.size}/${n} Ready`);
  const lat = {
    running: names.map((nm) => running.get(nm)! - started.get(nm)!),
    ready: names.map((nm) => ready.get(nm)! - started.get(nm)!),
  };
  await Promise.all(names.map((nm) => pods.delete('default', nm, { gracePeriodSeconds: 0 }).catch(() => undefined)));
  await eventually('bench pods gone', async () => (await pods.list({ namespace: 'default' })).items.length === 0 || null, 120_000);
  return lat;
}

/** Removes every baseline container (also those an interrupted earlier run left behind). */
async function removeRaw(docker: Docker): Promise<void> {
  const left = await docker.listContainers({ all: true, filters: { label: ['tskube.bench=raw'] } });
  await Promise.all(left.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
}

async function dockerRun(docker: Docker, network: string, n: number, round: number): Promise<number[]> {
  await removeRaw(docker);
  try {
    return await dockerRound(docker, network, n, round);
  } finally {
    await removeRaw(docker);
  }
}

async function dockerRound(docker: Docker, network: string, n: number, round: number): Promise<number[]> {
  const lat = await Promise.all(Array.from({ length: n }, async (_, i) => {
    const t0 = performance.now();
    const sandbox = await docker.createContainer({
      Image: pauseImage(), name: `tskube-bench-raw-${round}-${i}-pause`, Labels: { 'tskube.bench': 'raw' },
      HostConfig: { NetworkMode: network, IpcMode: 'shareable' },
    });
    await sandbox.start();
    const c = await docker.createContainer({
      Image: podImage(), name: `tskube-bench-raw-${round}-${i}-c`, Cmd: ['sleep', '3600'], Labels: { 'tskube.bench': 'raw' },
      HostConfig: { NetworkMode: `container:${sandbox.id}`, IpcMode: `container:${sandbox.id}` },
    });
    await c.start();
    return performance.now() - t0;
  }));
  return lat;
}

export async function podStartup(opts: { pods: number; rounds: number; probe: boolean }): Promise<void> {
  say(`# pod startup: ${opts.pods} pods at once on one node, create → Running and → Ready${opts.probe ? ' (exec readiness probe)' : ' (no probes)'}, ${opts.rounds} rounds (medians across rounds)`);
  const { cluster, client } = await upOneNode();
  try {
    const docker = new Docker();
    const network = `${cluster.project}_default`;
    const t50: number[] = []; const t99: number[] = []; const r50: number[] = []; const r99: number[] = [];
    const d50: number[] = []; const d99: number[] = [];
    for (let r = 0; r < opts.rounds; r++) {
      const d = await dockerRun(docker, network, opts.pods, r);
      const t = await tskubeRun(client, opts.pods, r, opts.probe);
      d50.push(percentile(d, 50)); d99.push(percentile(d, 99));
      t50.push(percentile(t.running, 50)); t99.push(percentile(t.running, 99));
      r50.push(percentile(t.ready, 50)); r99.push(percentile(t.ready, 99));
      say(`round ${r + 1}: tskube Running p50 ${fmtMs(percentile(t.running, 50))} p99 ${fmtMs(percentile(t.running, 99))}, ` +
        `Ready p50 ${fmtMs(percentile(t.ready, 50))} p99 ${fmtMs(percentile(t.ready, 99))} | raw docker p50 ${fmtMs(percentile(d, 50))} p99 ${fmtMs(percentile(d, 99))}`);
    }
    const ratio = (a: number[], b: number[]) => `${(median(a) / median(b)).toFixed(2)}x`;
    say(`RESULT pod-startup pods=${opts.pods} rounds=${opts.rounds} probe=${opts.probe ? 'exec' : 'none'}: tskube create→Running p50 ${fmtMs(median(t50))}, p99 ${fmtMs(median(t99))}; ` +
      `create→Ready p50 ${fmtMs(median(r50))}, p99 ${fmtMs(median(r99))}; ` +
      `raw dockerode pause+busybox create+start p50 ${fmtMs(median(d50))}, p99 ${fmtMs(median(d99))}; ` +
      `ratio Running p50 ${ratio(t50, d50)}, p99 ${ratio(t99, d99)}; Ready p50 ${ratio(r50, d50)}, p99 ${ratio(r99, d99)}`);
  } finally {
    await cluster.down();
  }
}
