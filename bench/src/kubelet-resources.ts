/**
 * The kubelet's own cost: CPU and RSS of the compose kubelet container's processes (tini, the
 * supervisor, the kubelet, the CRI runtime service; totals and per process), read from
 * /proc/<host pid> (`docker top` gives host PIDs), with no pods and with N (default 50)
 * running pods on the node, in the same run. Docker's own work (dockerd, containerd, shims)
 * is not counted: raw Docker pays that too.
 *
 *   idle:     the node registered, no pods: `windows` windows of `window` s each
 *   startup:  CPU seconds the kubelet spent from creating the N pods to all of them Ready
 *   loaded:   N pods Running and Ready (busybox `sleep`; with probes=1, each also has an exec
 *             readiness probe every 10 s), after a settle pause: the same windows
 *
 * CPU is reported as % of one core (Δ(utime+stime) / Δwall); RSS is the sum of VmRSS, sampled
 * every second (median of the samples, and the maximum). Figures are medians across windows.
 */
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { Resources, type Client } from '@tskube/client';
import type { Pod } from '@tskube/api';
import { sh } from '@tskube/test/support/compose';
import { eventually } from '@tskube/test/support/kubectl';
import { median, say } from './stats.js';
import { upOneNode } from './one-node.js';

const podImage = () => process.env.POD_IMAGE ?? 'busybox:1.36';
const CLK_TCK = (() => {
  try { return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100; } catch { return 100; }
})();

interface ProcInfo { pid: number; args: string }

/** The processes of a container with their host PIDs. */
async function containerProcs(container: string): Promise<ProcInfo[]> {
  const r = await sh('docker', ['top', container, '-eo', 'pid,args']);
  if (r.code !== 0) throw new Error(`docker top ${container}: ${r.stderr}`);
  return r.stdout.trim().split('\n').slice(1).map((l) => {
    const m = /^\s*(\d+)\s+(.*)$/.exec(l)!;
    return { pid: Number(m[1]), args: m[2]! };
  });
}

/** utime + stime in ms (fields 14 and 15 of /proc/<pid>/stat, counted after the `(comm)`). */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

const totalCpu = (pids: number[]) => pids.reduce((s, p) => s + cpuMs(p), 0);

interface Window {
  cpuPct: number; rssMedian: number; rssMax: number;
  /** Per process (in `pids` order): % of a core and median RSS. */
  perProc: { cpuPct: number; rss: number }[];
}

async function measure(pids: number[], seconds: number): Promise<Window> {
  const c0 = pids.map(cpuMs);
  const t0 = performance.now();
  const rss: number[][] = [];
  while (performance.now() - t0 < seconds * 1000) {
    rss.push(pids.map(rssMiB));
    await new Promise((r) => setTimeout(r, 1000));
  }
  const wall = performance.now() - t0;
  const perProc = pids.map((pid, i) => ({ cpuPct: ((cpuMs(pid) - c0[i]!) / wall) * 100, rss: median(rss.map((r) => r[i]!)) }));
  const totals = rss.map((r) => r.reduce((a, b) => a + b, 0));
  return { cpuPct: perProc.reduce((a, p) => a + p.cpuPct, 0), rssMedian: median(totals), rssMax: Math.max(...totals), perProc };
}

/** "main.js 2.1% 120.3 MiB, runtime-main.js …" medians across windows, per process. */
function breakdown(procs: ProcInfo[], ws: Window[]): string {
  return procs.map((p, i) => {
    const name = p.args.startsWith('/sbin/docker-init') ? 'tini' : /([\w.-]+\.js)\b/.exec(p.args)?.[1] ?? p.args.split(' ')[0]!;
    return `${name} ${median(ws.map((w) => w.perProc[i]!.cpuPct)).toFixed(2)}% ${median(ws.map((w) => w.perProc[i]!.rss)).toFixed(1)} MiB`;
  }).join(', ');
}

async function windows(pids: number[], n: number, seconds: number, label: string): Promise<Window[]> {
  const out: Window[] = [];
  for (let i = 0; i < n; i++) {
    const w = await measure(pids, seconds);
    out.push(w);
    say(`${label} window ${i + 1}/${n} (${seconds} s): CPU ${w.cpuPct.toFixed(2)}% of a core, RSS median ${w.rssMedian.toFixed(1)} MiB, max ${w.rssMax.toFixed(1)} MiB`);
  }
  return out;
}

const isReady = (p: Pod) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

async function readyCount(client: Client): Promise<number> {
  return (await client.resource(Resources.pods).list({ namespace: 'default', labelSelector: 'app=kubelet-bench' })).items.filter(isReady).length;
}

export async function kubeletResources(opts: { pods: number; windows: number; window: number; probes: boolean }): Promise<void> {
  say(`# kubelet CPU and RSS: 0 pods vs ${opts.pods} running pods${opts.probes ? ' (exec readiness probe every 10 s each)' : ''} on one node; ` +
    `${opts.windows} windows of ${opts.window} s each (medians across windows)`);
  const { cluster, client } = await upOneNode();
  try {
    const kubelet = `${cluster.project}-kubelet-1`;
    const procs = await containerProcs(kubelet);
    say(`kubelet container ${kubelet}: ${procs.map((p) => `${p.pid} ${p.args}`).join('; ')}`);
    const pids = procs.map((p) => p.pid);
    await new Promise((r) => setTimeout(r, 10_000)); // start-up work done (node registration, first status)
    const idle = await windows(pids, opts.windows, opts.window, 'idle (0 pods)');

    const cpuBefore = totalCpu(pids);
    const t0 = performance.now();
    const pods = client.resource(Resources.pods);
    await Promise.all(Array.from({ length: opts.pods }, (_, i) => pods.create('default', {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: `kubelet-bench-${i}`, labels: { app: 'kubelet-bench' } },
      spec: {
        terminationGracePeriodSeconds: 1,
        containers: [{
          name: 'c', image: podImage(), imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'],
          ...(opts.probes ? { readinessProbe: { exec: { command: ['cat', '/etc/hostname'] }, periodSeconds: 10 } } : {}),
        }],
      },
    })));
    await eventually(`${opts.pods} pods Ready`, async () => (await readyCount(client)) === opts.pods || null, 300_000, 1000);
    const startCpuS = (totalCpu(pids) - cpuBefore) / 1000;
    const startWallS = (performance.now() - t0) / 1000;
    say(`startup: ${opts.pods} pods Ready in ${startWallS.toFixed(1)} s; kubelet CPU ${startCpuS.toFixed(1)} s (${((startCpuS / startWallS) * 100).toFixed(0)}% of a core)`);
    await new Promise((r) => setTimeout(r, 15_000)); // settle: the last status writes and events
    const loaded = await windows(pids, opts.windows, opts.window, `loaded (${opts.pods} pods)`);
    const ready = await readyCount(client);
    if (ready !== opts.pods) throw new Error(`only ${ready}/${opts.pods} pods still Ready after the measurement`);

    const m = (ws: Window[], f: (w: Window) => number) => median(ws.map(f));
    say(`RESULT kubelet-resources pods=${opts.pods}${opts.probes ? ' probes=exec/10s' : ''} windows=${opts.windows}x${opts.window}s: ` +
      `CPU idle ${m(idle, (w) => w.cpuPct).toFixed(2)}% → ${m(loaded, (w) => w.cpuPct).toFixed(2)}% of a core with ${opts.pods} pods; ` +
      `RSS idle ${m(idle, (w) => w.rssMedian).toFixed(1)} MiB → ${m(loaded, (w) => w.rssMedian).toFixed(1)} MiB (max ${Math.max(...loaded.map((w) => w.rssMax)).toFixed(1)} MiB); ` +
      `starting the ${opts.pods} pods cost ${startCpuS.toFixed(1)} CPU-s over ${startWallS.toFixed(1)} s`);
    say(`RESULT kubelet-resources per process (CPU % of a core, RSS): idle: ${breakdown(procs, idle)}; loaded: ${breakdown(procs, loaded)}`);
    client.close();
  } finally {
    await cluster.down();
  }
}
