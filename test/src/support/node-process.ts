/**
 * A tskube node as real processes, for tests that kill them: `node supervisor-main.js`
 * (services/kubelet), which runs the runtime service and the kubelet as two children, with
 * the environment of a test cluster. Their JSON log lines are collected (and can be dumped
 * when a test fails); `pid(child)` follows the supervisor's "child started" lines.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const KUBELET_DIST = dirname(fileURLToPath(import.meta.resolve('@tskube/kubelet')));

export interface NodeProcessOptions {
  env: Record<string, string>;
}

export interface LogLine {
  component?: string;
  message?: string;
  [k: string]: unknown;
}

export class NodeProcess {
  readonly lines: LogLine[] = [];
  private proc: ChildProcess | undefined;
  private readonly pids = new Map<string, number>();

  constructor(private readonly o: NodeProcessOptions) {}

  /** Starts the supervisor (a new one after a kill). */
  start(): void {
    const proc = spawn(process.execPath, [join(KUBELET_DIST, 'supervisor-main.js')], {
      env: { ...process.env, ...this.o.env }, stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.proc = proc;
    let buf = '';
    proc.stderr!.setEncoding('utf8');
    proc.stderr!.on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const text = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        let line: LogLine;
        try { line = JSON.parse(text) as LogLine; } catch { line = { message: text }; }
        this.lines.push(line);
        if (line.message === 'child started' && typeof line.child === 'string' && typeof line.pid === 'number') this.pids.set(line.child, line.pid);
      }
    });
  }

  get supervisorPid(): number | undefined { return this.proc?.pid; }

  /** The pid of the child last started under this name ("runtime", "kubelet"). */
  pid(child: string): number | undefined { return this.pids.get(child); }

  /** How many log lines so far have this message (and component, if given). */
  count(message: string, component?: string): number {
    return this.lines.filter((l) => l.message === message && (!component || l.component === component)).length;
  }

  /** SIGKILL to the supervisor; its children exit on their own (exitWithParent). Resolves once it is gone. */
  async killSupervisor(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const gone = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill('SIGKILL');
    await gone;
  }

  /** Hard stop of everything (cleanup): the supervisor and the children it started. */
  async destroy(): Promise<void> {
    const children = [...this.pids.values()];
    await this.killSupervisor();
    for (const pid of children) { try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ } }
  }

  /** The last `n` log lines as text (for failure messages). */
  tail(n = 60): string {
    return this.lines.slice(-n).map((l) => JSON.stringify(l)).join('\n');
  }
}

/** Whether a process with this pid exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
