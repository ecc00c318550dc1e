/**
 * Scheduler throughput and latency on simulated nodes, with the raw cost of the same binding
 * writes measured in the same run as the baseline:
 *
 *   setup     etcd, the apiserver, the scheduler and kubelets in simulated-node mode, each
 *             its own process (the bench's client and watch never share a CPU queue with
 *             the scheduler); first `nodes[0]` nodes, then more up to `nodes[1]`
 *   scheduler POST `pods` pods (64 at a time, requests 100m/64Mi) and watch them: latency =
 *             POST sent → spec.nodeName seen on the watch, throughput = pods / (first POST →
 *             last bound). The simulated kubelets start every bound pod, as in a cluster.
 *   baseline  the same number of pods with a schedulerName nobody serves, then one
 *             POST pods/binding each from the bench's client (64 in flight, round-robin
 *             over the nodes): throughput and latency of the writes alone
 *   rounds    interleaved (baseline, scheduler) `rounds` times per node count; medians;
 *             pods deleted (grace 0) between runs
 *   modes     with the simulated kubelets running (every bound pod is started: ~8 more API
 *             requests per pod compete with the binds, as in a cluster) and with them paused
 *             (SIGSTOP for the runs, as upstream scheduler_perf runs no kubelets)
 * Also the scheduler's RSS after each node count.
 */
import { isApiError, type Binding, type Pod } from '@tskube/api';
import { createClientFromKubeconfig, Resources, type Client } from '@tskube/client';
import { startEtcd } from '@tskube/test/support/etcd';
import { eventually } from '@tskube/test/support/kubectl';
import { pool, startApiProcess, type ApiProcess } from './api.js';
import { cpuMeter, startComponent, startSimProcess, withCleanup, type ComponentProcess, type SimProcess } from './cluster.js';
import { fmtMs, median, percentile, say } from './stats.js';

const NS = 'sched-bench';
const CONCURRENCY = 64;

export function benchPod(name: string, schedulerName?: string): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: NS, labels: { app: 'sched-bench' } },
    spec: {
      ...(schedulerName ? { schedulerName } : {}),
      terminationGracePeriodSeconds: 0,
      containers: [{ name: 'c', image: 'local/busybox:1', command: ['sleep', '3600'], resources: { requests: { cpu: '100m', memory: '64Mi' } } }],
    },
  };
}

interface RunResult { tput: number; lat: number[]; wallMs: number; attemptMs?: number }

const ATTEMPT_SUM = 'scheduler_scheduling_attempt_duration_seconds_sum';
const ATTEMPT_COUNT = 'scheduler_scheduling_attempt_duration_seconds_count';

/** Sum and count of the scheduler's scheduling-attempt histogram over all label sets. */
async function attempts(sched: ComponentProcess): Promise<{ sum: number; count: number }> {
  let sum = 0;
  let count = 0;
  for (const [k, v] of await sched.scrape().catch(() => new Map<string, number>())) {
    if (k.startsWith(ATTEMPT_SUM)) sum += v;
    else if (k.startsWith(ATTEMPT_COUNT)) count += v;
  }
  return { sum, count };
}

/** Watches pods of NS; calls `onBound(name, at)` the first time a pod is seen with a node. */
async function watchBindings(client: Client, onBound: (name: string, at: number) => void): Promise<{ close(): void }> {
  const pods = client.resource(Resources.pods);
  const list = await pods.list({ namespace: NS, limit: 1 });
  const w = await pods.watch({ namespace: NS, resourceVersion: list.metadata.resourceVersion ?? '0' });
  const seen = new Set<string>();
  void (async () => {
    try {
      for await (const ev of w) {
        if (ev.type !== 'ADDED' && ev.type !== 'MODIFIED') continue;
        const p = ev.object as Pod;
        const name = p.metadata?.name ?? '';
        if (p.spec?.nodeName && !seen.has(name)) { seen.add(name); onBound(name, performance.now()); }
      }
    } catch { /* closed */ }
  })();
  return { close: () => w.close() };
}

async function deleteAll(client: Client, names: readonly string[]): Promise<void> {
  const pods = client.resource(Resources.pods);
  await pool(names.length, CONCURRENCY, async (i) => { await pods.delete(NS, names[i]!, { gracePeriodSeconds: 0 }).catch(() => undefined); });
  await eventually('bench pods deleted', async () => (await pods.list({ namespace: NS, limit: 1 })).items.length === 0 || null, 300_000, 500);
}

/** The processes whose CPU a run reports. */
function meterOf(api: ApiProcess, sched: ComponentProcess, sims: readonly SimProcess[]) {
  return cpuMeter([
    { name: 'scheduler', pid: sched.child.pid! }, { name: 'apiserver', pid: api.child.pid! },
    ...sims.map((s) => ({ name: `kubelets(${s.names.length})`, pid: s.child.pid! })), { name: 'bench', pid: process.pid },
  ]);
}

async function schedulerRun(client: Client, sched: ComponentProcess, meter: () => { line(): string }, n: number, tag: string): Promise<RunResult> {
  const a0 = await attempts(sched);
  const cpu = meter();
  const names = Array.from({ length: n }, (_, i) => `s-${tag}-${i}`);
  const sent = new Map<string, number>();
  const bound = new Map<string, number>();
  let allBound!: () => void;
  const done = new Promise<void>((r) => { allBound = r; });
  const w = await watchBindings(client, (name, at) => {
    if (!sent.has(name)) return;
    bound.set(name, at);
    if (bound.size === n) allBound();
  });
  const pods = client.resource(Resources.pods);
  const t0 = performance.now();
  const progress = setInterval(() => say(`  … ${bound.size}/${n} bound`), 5000);
  const create = await pool(n, CONCURRENCY, async (i) => { sent.set(names[i]!, performance.now()); await pods.create(NS, benchPod(names[i]!)); });
  const timeout = setTimeout(() => allBound(), 600_000);
  await done;
  clearTimeout(timeout);
  clearInterval(progress);
  w.close();
  if (bound.size !== n) throw new Error(`only ${bound.size}/${n} pods were bound within 10 min`);
  const end = Math.max(...bound.values());
  const lat = names.map((nm) => bound.get(nm)! - sent.get(nm)!);
  const a1 = await attempts(sched);
  const attemptMs = a1.count > a0.count ? ((a1.sum - a0.sum) / (a1.count - a0.count)) * 1000 : NaN;
  say(`  scheduler: ${n} pods bound in ${fmtMs(end - t0)} (creates took ${fmtMs(create.wallMs)}), p50 ${fmtMs(percentile(lat, 50))} p99 ${fmtMs(percentile(lat, 99))}; ` +
    `${a1.count - a0.count} scheduling attempts, mean ${attemptMs.toFixed(1)} ms each (algorithm + binding, scheduler metric)`);
  say(`    CPU during the run (% of one core): ${cpu.line()}`);
  await deleteAll(client, names);
  return { tput: (n / (end - t0)) * 1000, lat, wallMs: end - t0, attemptMs };
}

async function bindingBaseline(client: Client, meter: () => { line(): string }, n: number, nodes: readonly string[], tag: string): Promise<RunResult> {
  const names = Array.from({ length: n }, (_, i) => `b-${tag}-${i}`);
  const pods = client.resource(Resources.pods);
  await pool(n, CONCURRENCY, async (i) => { await pods.create(NS, benchPod(names[i]!, 'bench-nobody')); });
  const cpu = meter();
  const r = await pool(n, CONCURRENCY, async (i) => {
    const binding: Binding = {
      apiVersion: 'v1', kind: 'Binding', metadata: { name: names[i]!, namespace: NS }, target: { kind: 'Node', name: nodes[i % nodes.length]! },
    };
    await pods.createSubresource(NS, names[i]!, 'binding', binding);
  });
  say(`  baseline: ${n} raw bindings in ${fmtMs(r.wallMs)}, p50 ${fmtMs(percentile(r.lat, 50))} p99 ${fmtMs(percentile(r.lat, 99))}`);
  say(`    CPU during the bindings (% of one core): ${cpu.line()}`);
  await deleteAll(client, names);
  return { tput: (n / r.wallMs) * 1000, lat: r.lat, wallMs: r.wallMs };
}

export async function schedulerBench(o: { pods: number; rounds: number; nodes: number[] }): Promise<void> {
  const counts = [...o.nodes].sort((a, b) => a - b);
  say(`# scheduler: ${o.pods} pending pods on ${counts.join(' and ')} simulated nodes; baseline ${o.pods} raw pods/binding writes`);
  say('  (etcd, apiserver, scheduler and simulated kubelets are separate processes on this machine)');
  const etcd = await startEtcd();
  const api = await startApiProcess(etcd);
  const client = createClientFromKubeconfig(api.kubeconfig, { component: 'bench' });
  const sims: SimProcess[] = [];
  const procs: Array<{ stop(): Promise<void> }> = [];
  await withCleanup(async () => {
    for (const p of [...procs, ...sims].reverse()) await p.stop();
    client.close();
    await api.stop();
    await etcd.stop();
  }, async () => {
    await client.resource(Resources.namespaces).create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    // no controller-manager here: the "default" ServiceAccount the admission plugin wants is ours to make
    await client.resource(Resources.serviceAccounts).create(NS, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: NS } })
      .catch((e: unknown) => { if (!isApiError(e, 'AlreadyExists')) throw e; });
    const sched = await startComponent(api, 'scheduler');
    procs.push(sched);
    let have = 0;
    for (const [k, count] of counts.entries()) {
      say(`## ${count} nodes`);
      const sim = await startSimProcess(api, client, { count: count - have, prefix: `n${k}-`, liftTaints: true });
      sims.push(sim);
      have = count;
      const nodes = sims.flatMap((s) => s.names);
      await new Promise((r) => setTimeout(r, 3000)); // let the scheduler's node cache settle
      for (const paused of [false, true]) {
        const mode = paused ? 'kubelets paused' : 'kubelets running';
        const base: RunResult[] = [];
        const sch: RunResult[] = [];
        for (let r = 0; r < o.rounds; r++) {
          say(`round ${r + 1}/${o.rounds}, ${mode}`);
          const meter = () => meterOf(api, sched, sims);
          // SIGSTOP: bound pods are not started (no status writes, events), as in upstream scheduler_perf
          if (paused) for (const s of sims) s.child.kill('SIGSTOP');
          try {
            const tag = `${count}-${paused ? 'p' : 'r'}${r}`;
            base.push(await bindingBaseline(client, meter, o.pods, nodes, tag));
            sch.push(await schedulerRun(client, sched, meter, o.pods, tag));
          } finally {
            if (paused) for (const s of sims) s.child.kill('SIGCONT');
          }
          if (paused) await new Promise((res) => setTimeout(res, 5000)); // the kubelets catch up on the watch
        }
        const st = median(sch.map((x) => x.tput));
        const bt = median(base.map((x) => x.tput));
        const sp99 = median(sch.map((x) => percentile(x.lat, 99)));
        const sp50 = median(sch.map((x) => percentile(x.lat, 50)));
        const bp99 = median(base.map((x) => percentile(x.lat, 99)));
        say(`RESULT scheduler ${o.pods} pods on ${count} nodes, ${mode}: ${st.toFixed(0)} pods/s scheduled+bound, latency creation→bound p50 ${fmtMs(sp50)} p99 ${fmtMs(sp99)} ` +
          `(medians of ${o.rounds}) | raw pods/binding writes ${bt.toFixed(0)}/s p99 ${fmtMs(bp99)} | throughput ratio scheduler/raw ${(st / bt).toFixed(2)} ` +
          `| runs: ${sch.map((x) => x.tput.toFixed(0)).join(', ')} vs ${base.map((x) => x.tput.toFixed(0)).join(', ')} ` +
          `| mean scheduling attempt ${median(sch.map((x) => x.attemptMs ?? NaN)).toFixed(1)} ms`);
      }
      say(`RESULT memory: scheduler RSS with ${count} nodes ${sched.rssMiB().toFixed(0)} MiB; simulated kubelets ${sims.map((s) => `${s.names.length} nodes ${s.rssMiB().toFixed(0)} MiB`).join(', ')}`);
    }
  });
}
