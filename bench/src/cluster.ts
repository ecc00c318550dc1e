/**
 * Control-plane components as child processes for the scale benchmarks, so each one's CPU
 * and RSS are its own: the real entry points (services/<name>/dist/main.js) with the
 * kubeconfigs the apiserver child wrote into its data dir, logging at warn.
 *
 *   const api = await startApiProcess(etcd);                       // api.ts
 *   const sim = await startSimProcess(api, { count: 1000, prefix: 'a-' });
 *   const sched = await startComponent(api, 'scheduler');
 *   ... sched.rssMiB() ...
 *   await sched.stop(); await sim.stop(); await api.stop();
 *
 * Each component's log (warn and up) goes to <tmp>/tskube-bench-<pid>/<name>.log, not to
 * the bench's output; `stop()` prints how many warn/error lines there were and where.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Resources, type Client } from '@tskube/client';
import { eventually } from '@tskube/test/support/kubectl';
import { freePort } from '@tskube/test/support/ports';
import { each, removeNotReadyTaint } from '@tskube/test/support/sim-nodes';
import { rssMiB, type ApiProcess } from './api.js';
import { say } from './stats.js';

const ROOT = new URL('../../', import.meta.url).pathname;

export interface ComponentProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** Resident set size now (MiB). */
  rssMiB(): number;
  /** Rejects if the process exits before `stop()` (race long waits against it); never resolves. */
  readonly died: Promise<never>;
  /** Its /metrics as `name{labels}` → value (empty if it serves none). */
  scrape(): Promise<Map<string, number>>;
  /** SIGTERM, then wait for the exit (SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<void>;
}

/** CPU time (user + system, seconds) a process has used so far; NaN once it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return NaN;
  }
}

/** CPU used by named processes between `start()` and `line()`, as "name 1.2 s (60% of a core)". */
export function cpuMeter(procs: ReadonlyArray<{ name: string; pid: number }>): { line(): string } {
  const t0 = performance.now();
  const c0 = procs.map((p) => cpuSeconds(p.pid));
  return {
    line() {
      const wall = (performance.now() - t0) / 1000;
      return procs.map((p, i) => {
        const used = cpuSeconds(p.pid) - c0[i]!;
        return `${p.name} ${used.toFixed(1)} s (${((used / wall) * 100).toFixed(0)}%)`;
      }).join(', ');
    },
  };
}

/** Prometheus text format → `name{labels}` → value (comments and malformed lines skipped). */
export function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    const v = Number(line.slice(i + 1));
    if (i > 0 && Number.isFinite(v)) out.set(line.slice(0, i), v);
  }
  return out;
}

const LOG_DIR = join(tmpdir(), `tskube-bench-${process.pid}`);

/** warn / error lines of a JSON log file. */
function logLevels(path: string): { warn: number; error: number } {
  let text = '';
  try { text = readFileSync(path, 'utf8'); } catch { /* none */ }
  return { warn: (text.match(/"level":"warn"/g) ?? []).length, error: (text.match(/"level":"error"/g) ?? []).length };
}

function spawnMain(name: string, service: string, env: Record<string, string>, healthPort?: number): ComponentProcess {
  mkdirSync(LOG_DIR, { recursive: true });
  const logPath = join(LOG_DIR, `${name.replace(/[^a-z0-9-]+/gi, '-')}.log`);
  const fd = openSync(logPath, 'a');
  const child = spawn(process.execPath, [join(ROOT, `services/${service}/dist/main.js`)], {
    env: { ...process.env, TSKUBE_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  let exited = false;
  let stopping = false;
  let die!: (err: Error) => void;
  const died = new Promise<never>((_, reject) => { die = reject; });
  died.catch(() => undefined);
  child.once('exit', (code, sig) => {
    exited = true;
    if (stopping) return;
    say(`WARN ${name} exited: code ${code} signal ${sig} (log: ${logPath})`);
    die(new Error(`${name} exited (code ${code}, signal ${sig}); see ${logPath}`));
  });
  return {
    name, child, died,
    rssMiB: () => rssMiB(child.pid!),
    async scrape() {
      if (!healthPort) return new Map();
      const res = await fetch(`http://127.0.0.1:${healthPort}/metrics`);
      return parseMetrics(await res.text());
    },
    async stop(graceMs = 30_000) {
      stopping = true;
      if (!exited) {
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGCONT'); // in case a bench paused it
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await gone;
        clearTimeout(t);
      }
      const l = logLevels(logPath);
      if (l.warn + l.error > 0) say(`  (${name} logged ${l.warn} warnings and ${l.error} errors: ${logPath})`);
    },
  };
}

/**
 * The scheduler or the controller-manager (all controllers), one replica with leader election
 * off: on an overloaded machine a missed lease renewal would make it exit (as upstream does,
 * to restart as a candidate) in the middle of a measurement. Resolves once /readyz passes
 * (informers synced).
 */
export async function startComponent(api: ApiProcess, which: 'scheduler' | 'controller-manager'): Promise<ComponentProcess> {
  const port = await freePort();
  const p = spawnMain(which, which, {
    TSKUBE_KUBECONFIG: join(api.dataDir, `${which}.kubeconfig`), TSKUBE_HEALTH_PORT: String(port), TSKUBE_LEADER_ELECT: 'false',
  }, port);
  await eventually(`${which} ready`, async () => {
    try {
      return (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200;
    } catch {
      return false;
    }
  }, 60_000, 200);
  return p;
}

/**
 * Runs `body`, then `cleanup` — also when the bench is interrupted (SIGINT/SIGTERM: cleanup,
 * then exit 130), so no etcd, apiserver or component process outlives it.
 */
export async function withCleanup<T>(cleanup: () => Promise<void>, body: () => Promise<T>): Promise<T> {
  let done: Promise<void> | undefined;
  const once = (): Promise<void> => (done ??= cleanup());
  const onSignal = (): void => { say('interrupted: stopping the processes'); void once().finally(() => process.exit(130)); };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await body();
  } finally {
    await once();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

export interface SimProcess extends ComponentProcess {
  readonly names: readonly string[];
}

/**
 * A kubelet process in simulated-node mode (TSKUBE_SIMULATED_NODES); resolves once all its
 * nodes are registered, and — with `liftTaints` (no controller-manager) — once the bench has
 * removed their not-ready taints itself.
 */
export async function startSimProcess(
  api: ApiProcess, client: Client,
  o: { count: number; prefix: string; startDelayMs?: number; zones?: number; liftTaints?: boolean },
): Promise<SimProcess> {
  const t0 = performance.now();
  const p = spawnMain(`sim ${o.prefix}`, 'kubelet', {
    TSKUBE_KUBECONFIG: join(api.dataDir, 'kubelet.kubeconfig'), TSKUBE_HEALTH_PORT: '0',
    TSKUBE_SIMULATED_NODES: String(o.count), TSKUBE_SIM_NODE_PREFIX: o.prefix,
    TSKUBE_SIM_START_DELAY_MS: String(o.startDelayMs ?? 0), TSKUBE_SIM_ZONES: o.zones ? String(o.zones) : '',
  });
  const names = Array.from({ length: o.count }, (_, i) => `${o.prefix}${i + 1}`);
  const nodes = client.resource(Resources.nodes);
  let last = -1;
  await eventually(`${o.count} simulated nodes registered`, async () => {
    const n = (await nodes.list({})).items.filter((x) => x.metadata?.name?.startsWith(o.prefix)).length;
    if (n !== last && n < o.count) say(`  … ${n}/${o.count} ${o.prefix}* nodes registered`);
    last = n;
    return n >= o.count;
  }, 600_000, 2000);
  if (o.liftTaints) await each(names, 16, (n) => removeNotReadyTaint(client, n));
  await eventually('simulated nodes schedulable', async () =>
    (await nodes.list({})).items.filter((x) => x.metadata?.name?.startsWith(o.prefix) && !(x.spec?.taints ?? []).length).length >= o.count,
  600_000, 1000);
  say(`  ${o.count} simulated nodes (${o.prefix}*) registered and schedulable in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return { ...p, names };
}
