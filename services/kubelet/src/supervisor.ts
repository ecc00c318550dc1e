/**
 * A small process supervisor for one node's two processes (supervisor-main.ts): the
 * container runtime service and the kubelet, as systemd runs containerd and the kubelet on a
 * real node. Contracts:
 *
 * - `start()` spawns the children in the given order, each with stdout/stderr inherited
 *   (their JSON log lines go straight to the container's log) and an IPC channel that only
 *   serves to tell the child when the supervisor is gone ({@link exitWithParent}).
 * - A child that exits while the supervisor is not stopping is restarted after a backoff
 *   (1 s doubling to 30 s; back to 1 s once a child ran for 60 s), whatever its exit code:
 *   a restarted runtime serves the same containers (they live in Docker), and a restarted
 *   kubelet adopts them.
 * - `stop(sig)` stops the children in REVERSE start order, one at a time: `sig` (SIGTERM),
 *   then SIGKILL after `stopTimeoutMs`; the next child is signalled only after the previous
 *   one exited. So the kubelet (started last) finishes its graceful node shutdown — which
 *   needs the runtime to stop and remove pod containers — before the runtime is stopped.
 *   Resolves with the exit code of the first child stopped (0 when it ended by the signal).
 *   Idempotent.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { Logger } from '@tskube/log';

export interface ChildSpec {
  /** Name in logs ("runtime", "kubelet"). */
  name: string;
  command: string;
  args: readonly string[];
  /** The child's whole environment; default the supervisor's. */
  env?: NodeJS.ProcessEnv;
}

export interface RestartBackoff {
  initialMs: number;
  maxMs: number;
  /** A child that ran this long before exiting restarts after `initialMs` again. */
  resetAfterMs: number;
}

export const DEFAULT_RESTART_BACKOFF: RestartBackoff = { initialMs: 1000, maxMs: 30_000, resetAfterMs: 60_000 };

export interface SupervisorOptions {
  children: readonly ChildSpec[];
  logger: Logger;
  backoff?: RestartBackoff;
  /** How long a child gets after the stop signal before SIGKILL. Default 28 s. */
  stopTimeoutMs?: number;
}

interface Slot {
  spec: ChildSpec;
  proc: ChildProcess | undefined;
  exited: Promise<void> | undefined;
  startedAt: number;
  delayMs: number;
  restarts: number;
  timer: NodeJS.Timeout | undefined;
  lastExit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
}

export class Supervisor {
  private readonly slots: Slot[];
  private readonly backoff: RestartBackoff;
  private stopping: Promise<number> | undefined;
  private readonly log: Logger;

  constructor(private readonly o: SupervisorOptions) {
    this.backoff = o.backoff ?? DEFAULT_RESTART_BACKOFF;
    this.log = o.logger.child({ subsystem: 'supervisor' });
    this.slots = o.children.map((spec) => ({
      spec, proc: undefined, exited: undefined, startedAt: 0, delayMs: this.backoff.initialMs, restarts: 0, timer: undefined, lastExit: undefined,
    }));
  }

  /** Spawns every child (in order). */
  start(): void {
    for (const s of this.slots) this.spawn(s);
  }

  /** The child's current pid, if it runs. */
  pid(name: string): number | undefined {
    return this.slot(name)?.proc?.pid;
  }

  /** How often the child was restarted. */
  restarts(name: string): number {
    return this.slot(name)?.restarts ?? 0;
  }

  private slot(name: string): Slot | undefined {
    return this.slots.find((s) => s.spec.name === name);
  }

  private spawn(s: Slot): void {
    s.timer = undefined;
    if (this.stopping) return;
    const proc = spawn(s.spec.command, [...s.spec.args], { env: s.spec.env ?? process.env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    s.proc = proc;
    s.startedAt = Date.now();
    s.exited = new Promise<void>((resolve) => {
      proc.once('exit', (code, signal) => {
        s.lastExit = { code, signal };
        if (s.proc === proc) s.proc = undefined;
        resolve();
        this.onExit(s, code, signal);
      });
    });
    proc.once('error', (err) => this.log.error('child failed to start', { child: s.spec.name, err: err.message }));
    this.log.info('child started', { child: s.spec.name, pid: proc.pid, restarts: s.restarts });
  }

  private onExit(s: Slot, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.stopping) {
      this.log.info('child stopped', { child: s.spec.name, code, signal });
      return;
    }
    const ranMs = Date.now() - s.startedAt;
    if (ranMs >= this.backoff.resetAfterMs) s.delayMs = this.backoff.initialMs;
    const delayMs = s.delayMs;
    s.delayMs = Math.min(this.backoff.maxMs, s.delayMs * 2);
    s.restarts++;
    this.log.warn('child exited; restarting', { child: s.spec.name, code, signal, ranMs, restartInMs: delayMs });
    s.timer = setTimeout(() => this.spawn(s), delayMs);
  }

  /** Stops the children (see the module doc); resolves with the exit code to exit with. */
  stop(sig: NodeJS.Signals = 'SIGTERM'): Promise<number> {
    this.stopping ??= this.stopAll(sig);
    return this.stopping;
  }

  private async stopAll(sig: NodeJS.Signals): Promise<number> {
    let result: number | undefined;
    for (const s of [...this.slots].reverse()) {
      if (s.timer) clearTimeout(s.timer);
      s.timer = undefined;
      const proc = s.proc;
      if (proc && s.exited) {
        this.log.info('stopping child', { child: s.spec.name, pid: proc.pid, signal: sig });
        proc.kill(sig);
        const timeoutMs = this.o.stopTimeoutMs ?? 28_000;
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(true), timeoutMs); });
        if (await Promise.race([s.exited.then(() => false), late])) {
          this.log.warn('child did not stop in time; killing it', { child: s.spec.name, pid: proc.pid, timeoutMs });
          proc.kill('SIGKILL');
          await s.exited;
        }
        clearTimeout(timer);
      }
      result ??= s.lastExit ? (s.lastExit.code ?? 0) : 0;
    }
    return result ?? 0;
  }
}

/**
 * For a child of the supervisor: exit at once (no graceful shutdown, as if the node died)
 * when the supervisor's IPC channel closes, i.e. the supervisor is gone. No-op for a process
 * started without one. The channel does not keep the process alive.
 */
export function exitWithParent(log: Logger): void {
  if (!process.connected) return;
  process.channel?.unref();
  process.once('disconnect', () => {
    log.warn('supervisor is gone; exiting', {});
    process.exit(1);
  });
}

/** Waits for a child process to exit (for tests and the entry point). */
export async function waitExit(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  await once(proc, 'exit');
}
