/**
 * The real kubectl, pinned: tests call `kubectl.1.32` (or another version) from the directory
 * of the gcloud dispatcher that `kubectl` on PATH resolves to, never the dispatcher itself
 * (it picks a version from the server's /version; kubectl-contract S1).
 */
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execFileSync } from 'node:child_process';

export function kubectlBinary(version = '1.32'): string {
  const fromEnv = process.env.TSKUBE_KUBECTL_DIR;
  let dir = fromEnv;
  if (!dir) {
    let onPath = '';
    try { onPath = execFileSync('sh', ['-c', 'command -v kubectl'], { encoding: 'utf8' }).trim(); } catch { /* none */ }
    if (!onPath) throw new Error('kubectl not found on PATH: these tests need the real kubectl binaries (kubectl.1.27 … kubectl.1.33 beside it), or set TSKUBE_KUBECTL_DIR');
    dir = dirname(realpathSync(onPath));
  }
  const bin = join(dir, `kubectl.${version}`);
  if (!existsSync(bin)) throw new Error(`${bin} not found: expected pinned kubectl binaries beside the kubectl on PATH (or set TSKUBE_KUBECTL_DIR)`);
  return bin;
}

export interface KubectlResult { code: number; stdout: string; stderr: string }

/** kubectl discovery caches made by this process, removed when it exits (they used to pile up in /tmp). */
const cacheDirs = new Set<string>();
function newCacheDir(): string {
  if (cacheDirs.size === 0) {
    process.once('exit', () => { for (const d of cacheDirs) rmSync(d, { recursive: true, force: true }); });
  }
  const d = mkdtempSync(join(tmpdir(), 'kubectl-cache-'));
  cacheDirs.add(d);
  return d;
}

export class Kubectl {
  readonly bin: string;
  private readonly cacheDir = newCacheDir();
  constructor(private readonly kubeconfig: string, private readonly server?: string, version = '1.32') {
    this.bin = kubectlBinary(version);
  }

  run(args: string[], opts: { input?: string; timeoutMs?: number; env?: Record<string, string> } = {}): Promise<KubectlResult> {
    const full = ['--kubeconfig', this.kubeconfig, '--cache-dir', this.cacheDir, ...(this.server ? ['--server', this.server] : []), ...args];
    return new Promise((resolve) => {
      const env = opts.env ? { ...process.env, ...opts.env } : process.env;
      const child = execFile(this.bin, full, { timeout: opts.timeoutMs ?? 60_000, maxBuffer: 16 * 1024 * 1024, env }, (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
        resolve({ code, stdout, stderr });
      });
      if (opts.input !== undefined) { child.stdin?.write(opts.input); }
      child.stdin?.end();
    });
  }

  /** Starts a long-running kubectl (port-forward, logs -f); the caller reads its output and kills it. */
  spawn(args: string[]): ChildProcessWithoutNullStreams {
    const full = ['--kubeconfig', this.kubeconfig, '--cache-dir', this.cacheDir, ...(this.server ? ['--server', this.server] : []), ...args];
    return spawn(this.bin, full, { stdio: 'pipe' });
  }

  /** Runs and fails with the full output unless kubectl exits 0. */
  async ok(args: string[], opts: { input?: string; timeoutMs?: number; env?: Record<string, string> } = {}): Promise<string> {
    const r = await this.run(args, opts);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    return r.stdout;
  }
}

/**
 * Calls `fn` every `everyMs` until it resolves without throwing (an assertion passed) and
 * resolves with its value; after `timeoutMs` rethrows the last failure as
 * "<what>: not within <timeoutMs> ms: <message>" (the failure as `cause`).
 */
export async function untilPasses<T>(what: string, fn: () => Promise<T> | T, timeoutMs: number, everyMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      await new Promise((r) => setTimeout(r, everyMs));
    }
  }
}

/** Polls `fn` until it returns a truthy value or the timeout passes (then throws with the last value). */
export async function eventually<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs = 60_000, everyMs = 1000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface PortForward {
  /** The local port kubectl listens on. */
  port: number;
  /** kubectl's stdout so far ("Forwarding from …") and stderr. */
  output(): { stdout: string; stderr: string };
  stop(): void;
}

/**
 * Runs `kubectl <args>` (a `port-forward … :<remote>` command) until it prints
 * `Forwarding from 127.0.0.1:<port> -> <remote>`; rejects when it exits first or stays silent
 * for 20 s. The caller must `stop()` it.
 */
export async function startPortForward(bin: string, args: readonly string[], remotePort: number): Promise<PortForward> {
  const child = spawn(bin, [...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (c: Buffer) => { err += c.toString(); });
  const stop = () => { child.kill('SIGTERM'); };
  try {
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "Forwarding from" within 20 s; stdout ${out} stderr ${err}`)), 20_000);
      const re = new RegExp(`Forwarding from 127\\.0\\.0\\.1:(\\d+) -> ${remotePort}`);
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        const m = re.exec(out);
        if (m) { clearTimeout(timer); resolve(Number(m[1])); }
      });
      child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`kubectl port-forward exited ${code}: ${err}`)); });
    });
    return { port, output: () => ({ stdout: out, stderr: err }), stop };
  } catch (e) {
    stop();
    throw e;
  }
}
