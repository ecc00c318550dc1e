/**
 * The compose stack for end-to-end tests: a project of its own (tskube-e2e-<random>), its own
 * state dir and an ephemeral apiserver port, so runs never collide; torn down with every
 * container it made, including the pod containers the kubelets created outside compose.
 */
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { parse, stringify } from 'yaml';
import { propagationOf } from './mounts.js';

const ROOT = new URL('../../../', import.meta.url).pathname;

export function sh(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: opts.cwd ?? ROOT, env: { ...process.env, ...opts.env }, timeout: opts.timeoutMs ?? 600_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const IMAGES_ENV = process.env.TSKUBE_IMAGES_ENV ?? '/var/cache/offline-images/images.env';

/**
 * Image overrides (BASE_IMAGE, ETCD_IMAGE, POD_IMAGE, PAUSE_IMAGE): from the environment, or
 * else from the env file ../shared/tools/offline-images.sh writes, so that `npm test` works
 * on an offline machine without sourcing it first.
 */
export function loadImageEnv(): void {
  if (process.env.BASE_IMAGE || !existsSync(IMAGES_ENV)) return;
  for (const line of readFileSync(IMAGES_ENV, 'utf8').split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m && process.env[m[1]!] === undefined) process.env[m[1]!] = m[2]!;
  }
}

export async function requireDocker(): Promise<void> {
  loadImageEnv();
  const info = await sh('docker', ['info', '--format', '{{.ServerVersion}}'], { timeoutMs: 20_000 });
  if (info.code !== 0) throw new Error(`Docker is not reachable (${info.stderr.trim()}): start it with \`sudo ../shared/tools/offline-images.sh\``);
  const compose = await sh('docker', ['compose', 'version'], { timeoutMs: 20_000 });
  if (compose.code !== 0) throw new Error('docker compose v2 is missing: `sudo ../shared/tools/offline-images.sh` installs it');
  for (const v of ['BASE_IMAGE', 'ETCD_IMAGE', 'PAUSE_IMAGE', 'POD_IMAGE']) {
    if (!process.env[v]) throw new Error(`${v} is not set and ${IMAGES_ENV} does not exist: run \`sudo ../shared/tools/offline-images.sh\` (or export ${v} on a machine with a registry)`);
  }
}

/**
 * compose.yaml binds the kubelet root base into the kubelets `rshared` (memory-backed volumes
 * are tmpfs mounts the host must see); Docker refuses that unless the host mount holding the
 * base is shared. Throws, naming the fix, when it is not.
 */
export function requireSharedKubeletRoot(env: NodeJS.ProcessEnv = process.env): void {
  const base = env.TSKUBE_KUBELET_ROOT_BASE || '/var/lib/tskube-kubelet';
  const { mountPoint, propagation } = propagationOf(base);
  if (propagation !== 'shared') {
    throw new Error(`the kubelet root base ${base} is on the mount ${mountPoint} with ${propagation} propagation, but compose binds it `
      + 'rshared into the kubelets (tmpfs for memory-backed volumes) and Docker refuses that on a non-shared mount: '
      + `run \`sudo TSKUBE_KUBELET_ROOT_BASE=${base} scripts/host-setup.sh\` (once per boot; CI runs it)`);
  }
}

export interface ComposeCluster {
  project: string;
  stateDir: string;
  /** https://127.0.0.1:<port> */
  server: string;
  /** Admin kubeconfig with the real server address. */
  kubeconfig: string;
  compose(args: string[], timeoutMs?: number): Promise<{ code: number; stdout: string; stderr: string }>;
  down(): Promise<void>;
  /** Seconds `up` took (for the log). */
  upSeconds: number;
}

export interface ComposeUpOptions {
  kubelets?: number;
  /** Replicas of other services, e.g. `{ 'controller-manager': 2, scheduler: 2 }` (leader election). */
  scale?: Record<string, number>;
  env?: Record<string, string>;
}

export async function composeUp(opts: ComposeUpOptions = {}): Promise<ComposeCluster> {
  await requireDocker();
  requireSharedKubeletRoot({ ...process.env, ...opts.env });
  const project = `tskube-e2e-${randomBytes(3).toString('hex')}`;
  const stateDir = mkdtempSync(join(tmpdir(), `${project}-`));
  chmodSync(stateDir, 0o755);
  const env = { TSKUBE_STATE_DIR: stateDir, TSKUBE_PORT: '0', COMPOSE_PROJECT_NAME: project, ...opts.env };
  const compose = (args: string[], timeoutMs = 600_000) => sh('docker', ['compose', '-p', project, ...args], { env, timeoutMs });
  const down = async () => {
    await sh('sh', [join(ROOT, 'scripts/compose-cleanup.sh'), project], { timeoutMs: 180_000 });
    rmSync(stateDir, { recursive: true, force: true });
  };
  const t0 = Date.now();
  const scale = Object.entries({ ...opts.scale, kubelet: opts.kubelets ?? 1 }).flatMap(([svc, n]) => ['--scale', `${svc}=${n}`]);
  const up = await compose(['up', '-d', '--wait', '--wait-timeout', '240', ...scale]);
  const upSeconds = (Date.now() - t0) / 1000;
  if (up.code !== 0) {
    const logs = await compose(['logs', '--no-color', '--tail', '60']);
    await down();
    throw new Error(`docker compose up failed (${up.code}):\n${up.stderr.slice(-4000)}\n--- logs ---\n${logs.stdout.slice(-8000)}`);
  }
  const port = (await compose(['port', 'apiserver', '6443'])).stdout.trim().split(':').pop();
  const server = `https://127.0.0.1:${port}`;
  const kc = parse(readFileSync(join(stateDir, 'admin.kubeconfig'), 'utf8')) as { clusters: { cluster: { server: string } }[] };
  for (const c of kc.clusters) c.cluster.server = server;
  const kubeconfig = join(stateDir, 'e2e.kubeconfig');
  writeFileSync(kubeconfig, stringify(kc), { mode: 0o600 });
  return { project, stateDir, server, kubeconfig, compose, down, upSeconds };
}
