/**
 * An in-memory container runtime with the same contract as the Docker one (see runtime.ts),
 * for unit tests and simulated nodes.
 *
 * - {@link FakeBackend} plays the container engine: it holds images, sandboxes, containers
 *   and the IP counter, and may be shared by several {@link FakeRuntime}s (one per node),
 *   each of which sees only its own objects, as kubelets sharing one Docker engine do.
 * - Sandboxes get IPs 10.244.x.y from a counter (never reused) and are READY at once.
 * - Containers go CREATED → RUNNING on start. Their process is simulated by a
 *   {@link FakeBehaviour}: per image if configured, else {@link runFakeCommand} (a tiny
 *   busybox-like shell: `sleep`, `echo`, `exit`, `sh -c`; anything else runs until stopped).
 *   Output lands in in-memory logs served by readLogs.
 * - Stopping kills at once: exit code 137, whatever the timeout (no real time passes).
 * - PID namespaces (NamespaceOption.pid): CONTAINER (own), POD (the sandbox's), NODE, or
 *   TARGET (the target_id container's, which must exist on this node: else NOT_FOUND); the
 *   fake shell's `ps` lists the running main processes sharing one.
 * - Creating a container needs its image present (pullImage adds images; see
 *   {@link FakeBackendOptions.pull}).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { nullLogger, type Logger } from '@tskube/log';
import { Code, CriError, notFound } from './errors.js';
import { KILLED_EXIT_CODE, runFakeCommand, sleepFor, type ShellIO } from './fake-shell.js';
import { readMountedFile } from './fake-mounts.js';
import type * as m from './proto.js';
import {
  CRI_API_VERSION, KUBE_RUNTIME_API_VERSION, identityLabels,
  type ContainerRuntime, type ReadLogsOptions,
} from './runtime.js';
import {
  CreationClock, EXEC_OUTPUT_LIMIT, byCreation, exitReason, matchesContainerFilter, matchesSandboxFilter, nowNanos,
  requireId, resolveId, rfc3339Nano, selectLogLines, validateContainerConfig, validateSandboxConfig,
} from './semantics.js';
import { StreamingServer, type StreamIO, type StreamingRuntime } from './streaming/server.js';
import { DEFAULT_FAKE_USAGE, fakeUsage, type FakeUsage } from './fake-stats.js';
import {
  containerStatsOf, matchesContainerStatsFilter, matchesSandboxStatsFilter, sandboxStatsOf, sortByCreation, zeroUsage,
  type RawUsage,
} from './stats.js';

/** What a fake process sees. Write output with stdout/stderr; finish promptly once `signal` aborts. */
export interface FakeProcessContext extends ShellIO {
  readonly argv: readonly string[];
  readonly image: string;
  /** Container ID (for exec: the container the command runs in). */
  readonly containerId: string;
}

/**
 * Simulates a container's main process or an exec'd command: resolves with its exit code.
 * Once `signal` aborts (the container was stopped) the result is ignored.
 */
export type FakeBehaviour = (ctx: FakeProcessContext) => Promise<number>;

/** A behaviour that prints `output` (if any) to stdout, then exits with `code` after `ms`. */
export function exitAfter(ms: number, code: number, output?: string): FakeBehaviour {
  return async (ctx) => {
    if (output) ctx.stdout(output);
    const finished = await sleepFor(ms, ctx.signal);
    return finished ? code : KILLED_EXIT_CODE;
  };
}

/** The default behaviour: the fake shell (see fake-shell.ts). */
export const shellBehaviour: FakeBehaviour = (ctx) => runFakeCommand(ctx.argv, ctx);

export interface FakeImage {
  /** Reference, e.g. "local/busybox:1"; ":latest" is implied when no tag or digest is given. */
  name: string;
  /** Defaults to sha256 of the normalised name. */
  id?: string;
  entrypoint?: string[];
  cmd?: string[];
  size?: number;
  /** Default user: digits (uid) or a name. */
  user?: string;
}

export interface FakeBackendOptions {
  /** Images present from the start. Default {@link DEFAULT_FAKE_IMAGES}. */
  images?: FakeImage[];
  /** Process simulation per image reference (as written in ContainerConfig.image.image). */
  behaviours?: Record<string, FakeBehaviour>;
  /** Behaviour for ExecSync commands; default {@link shellBehaviour}. */
  execBehaviour?: FakeBehaviour;
  /**
   * Port-forward target: connects to `port` of the sandbox with IP `ip`. Default: every
   * port refuses the connection (nothing listens in a fake pod).
   */
  portForward?: (ip: string, port: number) => Promise<Duplex>;
  /**
   * Decides what pulling a missing image yields: the image, or a CriError to throw.
   * Default: every reference can be pulled (an image with no entrypoint or command).
   */
  pull?: (ref: string) => FakeImage | CriError;
  /** CPU rate and working set of running containers (CRI stats); default {@link DEFAULT_FAKE_USAGE}. */
  usage?: FakeUsage;
}

/** Images a fake backend has unless told otherwise. */
export const DEFAULT_FAKE_IMAGES: readonly FakeImage[] = [
  { name: 'local/busybox:1', cmd: ['sh'] },
  { name: 'local/pause:3.10', entrypoint: ['/pause'] },
  { name: 'registry.k8s.io/pause:3.10', entrypoint: ['/pause'] },
];

interface StoredImage { id: string; tags: string[]; image: FakeImage }

interface LogLine { time: number; stream: m.LogStream; data: Buffer }

interface FakeSandbox {
  id: string;
  node: string;
  name: string;
  metadata: m.PodSandboxMetadata;
  labels: m.StringMap;
  annotations: m.StringMap;
  state: m.PodSandboxState;
  createdAt: number;
  ip: string;
  runtimeHandler: string;
}

interface FakeContainer {
  id: string;
  node: string;
  name: string;
  sandboxId: string;
  metadata: m.ContainerMetadata;
  imageRef: string;
  imageId: string;
  argv: string[];
  env: Record<string, string>;
  labels: m.StringMap;
  annotations: m.StringMap;
  mounts: m.Mount[];
  logPath: string;
  resources: m.LinuxContainerResources | null;
  state: m.ContainerState;
  createdAt: number;
  startedAt: number;
  finishedAt: number;
  exitCode: number;
  reason: string;
  removed: boolean;
  logs: LogLine[];
  partial: Record<m.LogStream, string>;
  kill: AbortController;
  /**
   * The PID namespace the container's processes are in: its own (`ctr:<id>`), the sandbox's
   * (`pod:<id>`, pid POD), the node's (`node:<name>`, pid NODE), or a target's (pid TARGET).
   */
  pidNs: string;
  /** Called on every new log line and state change (for followers). */
  waiters: Set<() => void>;
}

function normaliseRef(ref: string): string {
  const lastSegment = ref.slice(ref.lastIndexOf('/') + 1);
  return lastSegment.includes(':') || lastSegment.includes('@') ? ref : `${ref}:latest`;
}

function newId(): string {
  return randomBytes(32).toString('hex');
}

/** The shared "engine": images, sandboxes, containers and the pod IP counter. */
export class FakeBackend {
  readonly sandboxes = new Map<string, FakeSandbox>();
  readonly containers = new Map<string, FakeContainer>();
  private readonly images = new Map<string, StoredImage>();
  private readonly names = new Set<string>();
  private nextIp = 2;
  /** Creation timestamps, strictly increasing across all nodes of this backend. */
  readonly clock = new CreationClock();

  constructor(readonly options: FakeBackendOptions = {}) {
    for (const img of options.images ?? DEFAULT_FAKE_IMAGES) this.addImage(img);
  }

  /** Adds (or re-tags) an image; returns its ID. */
  addImage(img: FakeImage): string {
    const tag = normaliseRef(img.name);
    const id = img.id ?? `sha256:${createHash('sha256').update(tag).digest('hex')}`;
    for (const other of this.images.values()) other.tags = other.tags.filter((t) => t !== tag);
    const existing = this.images.get(id);
    if (existing) {
      if (!existing.tags.includes(tag)) existing.tags.push(tag);
    } else {
      this.images.set(id, { id, tags: [tag], image: { ...img } });
    }
    return id;
  }

  /** The image a reference (tag, ID, or unique ID prefix) names, if present. */
  findImage(ref: string): StoredImage | undefined {
    if (!ref) return undefined;
    const tag = normaliseRef(ref);
    for (const img of this.images.values()) if (img.tags.includes(tag)) return img;
    const bare = ref.startsWith('sha256:') ? ref : `sha256:${ref}`;
    const id = resolveId(this.images.keys(), bare);
    return id === undefined ? undefined : this.images.get(id);
  }

  removeImage(id: string): void {
    this.images.delete(id);
  }

  allImages(): StoredImage[] {
    return [...this.images.values()];
  }

  /** Reserves a unique object name; false if taken. */
  claimName(name: string): boolean {
    if (this.names.has(name)) return false;
    this.names.add(name);
    return true;
  }

  releaseName(name: string): void {
    this.names.delete(name);
  }

  /**
   * Signals every running container of every node to die (the default behaviours then exit
   * with 137), e.g. at the end of a test: simulated processes (`sleep 3600`) hold timers that
   * keep Node running until stopped.
   */
  killAll(): void {
    for (const c of this.containers.values()) c.kill.abort();
  }

  allocateIp(): string {
    for (;;) {
      const n = this.nextIp++;
      const x = (n >> 8) & 255;
      const y = n & 255;
      if (y !== 0 && y !== 255) return `10.244.${x}.${y}`;
    }
  }
}

export interface FakeRuntimeOptions {
  nodeName: string;
  clusterName?: string;
  /** The engine; several runtimes (nodes) may share one. Default: a private backend. */
  backend?: FakeBackend;
  logger?: Logger;
}

export class FakeRuntime implements ContainerRuntime {
  readonly backend: FakeBackend;
  private readonly node: string;
  private readonly cluster: string;
  private readonly log: Logger;

  constructor(opts: FakeRuntimeOptions) {
    this.backend = opts.backend ?? new FakeBackend();
    this.node = opts.nodeName;
    this.cluster = opts.clusterName ?? 'tskube';
    this.log = (opts.logger ?? nullLogger()).child({ runtime: 'fake', node: opts.nodeName });
  }

  // ---- lookups (only this node's objects exist for us) ----

  private findSandbox(idOrPrefix: string): FakeSandbox | undefined {
    const mine = [...this.backend.sandboxes.values()].filter((s) => s.node === this.node).map((s) => s.id);
    const id = resolveId(mine, idOrPrefix);
    return id === undefined ? undefined : this.backend.sandboxes.get(id);
  }

  private findContainer(idOrPrefix: string): FakeContainer | undefined {
    const mine = [...this.backend.containers.values()].filter((c) => c.node === this.node).map((c) => c.id);
    const id = resolveId(mine, idOrPrefix);
    return id === undefined ? undefined : this.backend.containers.get(id);
  }

  private requireSandbox(id: string | undefined): FakeSandbox {
    const s = this.findSandbox(requireId(id, 'pod_sandbox_id'));
    if (!s) throw notFound('sandbox', id ?? '');
    return s;
  }

  private requireContainer(id: string | undefined): FakeContainer {
    const c = this.findContainer(requireId(id, 'container_id'));
    if (!c) throw notFound('container', id ?? '');
    return c;
  }

  // ---- version and status ----

  async version(_req: m.VersionRequest): Promise<m.VersionResponse> {
    return { version: KUBE_RUNTIME_API_VERSION, runtime_name: 'fake', runtime_version: '0.1.0', runtime_api_version: CRI_API_VERSION };
  }

  async status(_req: m.StatusRequest): Promise<m.StatusResponse> {
    const cond = (type: string): m.RuntimeCondition => ({ type, status: true, reason: '', message: '' });
    return { status: { conditions: [cond('RuntimeReady'), cond('NetworkReady')] }, info: {} };
  }

  // ---- sandboxes ----

  async runPodSandbox(req: m.RunPodSandboxRequest): Promise<m.RunPodSandboxResponse> {
    const config = req.config;
    validateSandboxConfig(config);
    const md = { ...config.metadata, attempt: config.metadata.attempt ?? 0 };
    const name = `k8s_POD_${md.name}_${md.namespace}_${md.uid}_${md.attempt}`;
    if (!this.backend.claimName(name)) throw new CriError(Code.ALREADY_EXISTS, `sandbox name "${name}" is already in use`);
    const s: FakeSandbox = {
      id: newId(),
      node: this.node,
      name,
      metadata: md,
      labels: { ...(config.labels ?? {}), ...identityLabels({ nodeName: this.node, clusterName: this.cluster, pod: md }) },
      annotations: { ...(config.annotations ?? {}) },
      state: 'SANDBOX_READY',
      createdAt: this.backend.clock.now(),
      ip: this.backend.allocateIp(),
      runtimeHandler: req.runtime_handler ?? '',
    };
    this.backend.sandboxes.set(s.id, s);
    this.log.debug('sandbox started', { sandbox: s.id, pod: `${md.namespace}/${md.name}`, ip: s.ip });
    return { pod_sandbox_id: s.id };
  }

  async stopPodSandbox(req: m.StopPodSandboxRequest): Promise<m.StopPodSandboxResponse> {
    const s = this.findSandbox(requireId(req.pod_sandbox_id, 'pod_sandbox_id'));
    if (!s) return {};
    for (const c of this.containersOf(s.id)) this.kill(c);
    s.state = 'SANDBOX_NOTREADY';
    s.ip = '';
    return {};
  }

  async removePodSandbox(req: m.RemovePodSandboxRequest): Promise<m.RemovePodSandboxResponse> {
    const s = this.findSandbox(requireId(req.pod_sandbox_id, 'pod_sandbox_id'));
    if (!s) return {};
    for (const c of this.containersOf(s.id)) this.remove(c);
    this.backend.sandboxes.delete(s.id);
    this.backend.releaseName(s.name);
    return {};
  }

  async podSandboxStatus(req: m.PodSandboxStatusRequest): Promise<m.PodSandboxStatusResponse> {
    const s = this.requireSandbox(req.pod_sandbox_id);
    return {
      status: {
        id: s.id,
        metadata: { ...s.metadata },
        state: s.state,
        created_at: s.createdAt,
        network: { ip: s.ip, additional_ips: [] },
        linux: null,
        labels: { ...s.labels },
        annotations: { ...s.annotations },
        runtime_handler: s.runtimeHandler,
      },
      info: {},
      containers_statuses: [],
      timestamp: nowNanos(),
    };
  }

  async listPodSandbox(req: m.ListPodSandboxRequest): Promise<m.ListPodSandboxResponse> {
    const items = [...this.backend.sandboxes.values()]
      .filter((s) => s.node === this.node)
      .map((s): m.PodSandbox => ({
        id: s.id,
        metadata: { ...s.metadata },
        state: s.state,
        created_at: s.createdAt,
        labels: { ...s.labels },
        annotations: { ...s.annotations },
        runtime_handler: s.runtimeHandler,
      }))
      .filter((s) => matchesSandboxFilter(req.filter, s))
      .sort(byCreation);
    return { items };
  }

  // ---- containers ----

  /** The main processes of the running containers in one PID namespace, oldest first (pid 1 …). */
  private processesIn(pidNs: string): Array<{ pid: number; command: string }> {
    return [...this.backend.containers.values()]
      .filter((x) => x.pidNs === pidNs && x.state === 'CONTAINER_RUNNING')
      .sort((a, b) => a.startedAt - b.startedAt)
      .map((x, i) => ({ pid: i + 1, command: x.argv.join(' ') }));
  }

  private containersOf(sandboxId: string): FakeContainer[] {
    return [...this.backend.containers.values()].filter((c) => c.sandboxId === sandboxId);
  }

  async createContainer(req: m.CreateContainerRequest): Promise<m.CreateContainerResponse> {
    const config = req.config;
    validateContainerConfig(config);
    const s = this.requireSandbox(req.pod_sandbox_id);
    const image = this.backend.findImage(config.image.image);
    if (!image) throw notFound('image', config.image.image);
    const md = { name: config.metadata.name, attempt: config.metadata.attempt ?? 0 };
    const pod = s.metadata;
    const name = `k8s_${md.name}_${pod.name}_${pod.namespace}_${pod.uid}_${md.attempt}`;
    if (!this.backend.claimName(name)) throw new CriError(Code.ALREADY_EXISTS, `container name "${name}" is already in use`);
    const command = config.command ?? [];
    const args = config.args ?? [];
    // Docker's rule: a given command replaces the image entrypoint and drops its default args.
    const argv = command.length > 0
      ? [...command, ...args]
      : [...(image.image.entrypoint ?? []), ...(args.length > 0 ? args : image.image.cmd ?? [])];
    const id = newId();
    const ns = config.linux?.security_context?.namespace_options;
    let pidNs = `ctr:${id}`;
    if (ns?.pid === 'POD') pidNs = `pod:${s.id}`;
    else if (ns?.pid === 'NODE') pidNs = `node:${this.node}`;
    else if (ns?.pid === 'TARGET') {
      const target = this.findContainer(ns.target_id ?? '');
      if (!target) {
        this.backend.releaseName(name);
        throw notFound('container', ns.target_id ?? '');
      }
      pidNs = target.pidNs;
    }
    const c: FakeContainer = {
      id,
      node: this.node,
      name,
      sandboxId: s.id,
      metadata: md,
      imageRef: config.image.image,
      imageId: image.id,
      argv,
      env: Object.fromEntries((config.envs ?? []).map((kv) => [kv.key, kv.value])),
      labels: {
        ...(config.labels ?? {}),
        ...identityLabels({ nodeName: this.node, clusterName: this.cluster, pod, containerName: md.name }),
      },
      annotations: { ...(config.annotations ?? {}) },
      mounts: (config.mounts ?? []).map((mt) => ({ ...mt })),
      logPath: config.log_path ?? '',
      resources: config.linux?.resources ? { ...config.linux.resources } : null,
      state: 'CONTAINER_CREATED',
      createdAt: this.backend.clock.now(),
      startedAt: 0,
      finishedAt: 0,
      exitCode: 0,
      reason: '',
      removed: false,
      logs: [],
      partial: { stdout: '', stderr: '' },
      kill: new AbortController(),
      pidNs,
      waiters: new Set(),
    };
    this.backend.containers.set(c.id, c);
    return { container_id: c.id };
  }

  async startContainer(req: m.StartContainerRequest): Promise<m.StartContainerResponse> {
    const c = this.requireContainer(req.container_id);
    if (c.state !== 'CONTAINER_CREATED') {
      throw new CriError(Code.FAILED_PRECONDITION, `container "${c.id}" is ${c.state}, only a created container can be started`);
    }
    const s = this.backend.sandboxes.get(c.sandboxId);
    if (!s || s.state !== 'SANDBOX_READY') {
      throw new CriError(Code.FAILED_PRECONDITION, `sandbox "${c.sandboxId}" of container "${c.id}" is not ready`);
    }
    c.state = 'CONTAINER_RUNNING';
    c.startedAt = nowNanos();
    const behaviour = this.backend.options.behaviours?.[c.imageRef] ?? shellBehaviour;
    const ctx: FakeProcessContext = {
      argv: c.argv,
      env: c.env,
      image: c.imageRef,
      containerId: c.id,
      signal: c.kill.signal,
      readFile: (path) => readMountedFile(c.mounts, path),
      processes: () => this.processesIn(c.pidNs),
      stdout: (text) => this.append(c, 'stdout', text),
      stderr: (text) => this.append(c, 'stderr', text),
    };
    // The process runs on its own; its end (or a throw, reported as exit 1) moves the
    // container to EXITED unless a stop got there first.
    void Promise.resolve()
      .then(() => behaviour(ctx))
      .then((code) => this.exited(c, code), (err: unknown) => {
        this.append(c, 'stderr', `${err instanceof Error ? err.message : String(err)}\n`);
        this.exited(c, 1);
      });
    return {};
  }

  private append(c: FakeContainer, stream: m.LogStream, text: string): void {
    if (c.state !== 'CONTAINER_RUNNING' || c.removed) return;
    const pending = c.partial[stream] + text;
    const lines = pending.split('\n');
    c.partial[stream] = lines.pop() ?? '';
    const time = nowNanos();
    for (const line of lines) c.logs.push({ time, stream, data: Buffer.from(`${line}\n`) });
    if (lines.length > 0) this.notify(c);
  }

  private notify(c: FakeContainer): void {
    for (const w of [...c.waiters]) w();
  }

  private exited(c: FakeContainer, code: number): void {
    if (c.state !== 'CONTAINER_RUNNING') return;
    for (const stream of ['stdout', 'stderr'] as const) {
      if (c.partial[stream]) {
        c.logs.push({ time: nowNanos(), stream, data: Buffer.from(c.partial[stream]) });
        c.partial[stream] = '';
      }
    }
    c.state = 'CONTAINER_EXITED';
    c.finishedAt = nowNanos();
    c.exitCode = code;
    c.reason = exitReason(code, false);
    c.kill.abort();
    this.notify(c);
  }

  private kill(c: FakeContainer): void {
    if (c.state === 'CONTAINER_RUNNING') this.exited(c, KILLED_EXIT_CODE);
  }

  private remove(c: FakeContainer): void {
    this.kill(c);
    c.removed = true;
    this.backend.containers.delete(c.id);
    this.backend.releaseName(c.name);
    this.notify(c);
  }

  async stopContainer(req: m.StopContainerRequest): Promise<m.StopContainerResponse> {
    const c = this.findContainer(requireId(req.container_id, 'container_id'));
    if (c) this.kill(c);
    return {};
  }

  async removeContainer(req: m.RemoveContainerRequest): Promise<m.RemoveContainerResponse> {
    const c = this.findContainer(requireId(req.container_id, 'container_id'));
    if (c) this.remove(c);
    return {};
  }

  private toContainer(c: FakeContainer): m.Container {
    return {
      id: c.id,
      pod_sandbox_id: c.sandboxId,
      metadata: { ...c.metadata },
      image: { image: c.imageRef, annotations: {}, user_specified_image: '', runtime_handler: '' },
      image_ref: c.imageId,
      state: c.state,
      created_at: c.createdAt,
      labels: { ...c.labels },
      annotations: { ...c.annotations },
      image_id: c.imageId,
    };
  }

  async listContainers(req: m.ListContainersRequest): Promise<m.ListContainersResponse> {
    const containers = [...this.backend.containers.values()]
      .filter((c) => c.node === this.node)
      .map((c) => this.toContainer(c))
      .filter((c) => matchesContainerFilter(req.filter, c))
      .sort(byCreation);
    return { containers };
  }

  async containerStatus(req: m.ContainerStatusRequest): Promise<m.ContainerStatusResponse> {
    const c = this.requireContainer(req.container_id);
    return {
      status: {
        id: c.id,
        metadata: { ...c.metadata },
        state: c.state,
        created_at: c.createdAt,
        started_at: c.startedAt,
        finished_at: c.finishedAt,
        exit_code: c.exitCode,
        image: { image: c.imageRef, annotations: {}, user_specified_image: '', runtime_handler: '' },
        image_ref: c.imageId,
        reason: c.reason,
        message: '',
        labels: { ...c.labels },
        annotations: { ...c.annotations },
        mounts: c.mounts.map((mt) => ({ ...mt })),
        log_path: c.logPath,
        resources: c.resources ? { linux: { ...c.resources } } : null,
        image_id: c.imageId,
      },
      info: {},
    };
  }

  async execSync(req: m.ExecSyncRequest): Promise<m.ExecSyncResponse> {
    const c = this.requireContainer(req.container_id);
    if (!req.cmd || req.cmd.length === 0) throw new CriError(Code.INVALID_ARGUMENT, 'cmd is required');
    if (c.state !== 'CONTAINER_RUNNING') {
      throw new CriError(Code.FAILED_PRECONDITION, `container "${c.id}" is not running`);
    }
    const out = { stdout: '', stderr: '' };
    const ac = new AbortController();
    const onKill = (): void => ac.abort();
    c.kill.signal.addEventListener('abort', onKill, { once: true });
    const cap = (s: string): string => (s.length > EXEC_OUTPUT_LIMIT ? s.slice(0, EXEC_OUTPUT_LIMIT) : s);
    const behaviour = this.backend.options.execBehaviour ?? shellBehaviour;
    const run = behaviour({
      argv: req.cmd, env: c.env, image: c.imageRef, containerId: c.id, signal: ac.signal,
      readFile: (path) => readMountedFile(c.mounts, path),
      processes: () => this.processesIn(c.pidNs),
      stdout: (t) => { out.stdout = cap(out.stdout + t); },
      stderr: (t) => { out.stderr = cap(out.stderr + t); },
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = req.timeout && req.timeout > 0
      ? new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), (req.timeout ?? 0) * 1000); })
      : new Promise<'timeout'>(() => {});
    try {
      const result = await Promise.race([run, timeout]);
      if (result === 'timeout') {
        ac.abort();
        throw new CriError(Code.DEADLINE_EXCEEDED, `command ${JSON.stringify(req.cmd)} timed out after ${req.timeout}s`);
      }
      return { stdout: Buffer.from(out.stdout), stderr: Buffer.from(out.stderr), exit_code: result };
    } finally {
      clearTimeout(timer);
      c.kill.signal.removeEventListener('abort', onKill);
    }
  }

  // ---- streaming (exec/attach/port-forward through the streaming server) ----

  private streamingServer: StreamingServer | undefined;

  private get streaming(): StreamingServer {
    this.streamingServer ??= new StreamingServer({ runtime: this.streamingRuntime(), logger: this.log });
    return this.streamingServer;
  }

  private requireRunning(id: string | undefined): FakeContainer {
    const c = this.requireContainer(id);
    if (c.state !== 'CONTAINER_RUNNING') throw new CriError(Code.FAILED_PRECONDITION, `container "${c.id}" is not running`);
    return c;
  }

  async exec(req: m.ExecRequest): Promise<m.ExecResponse> {
    this.requireRunning(req.container_id);
    return this.streaming.getExec(req);
  }

  async attach(req: m.AttachRequest): Promise<m.AttachResponse> {
    this.requireRunning(req.container_id);
    return this.streaming.getAttach(req);
  }

  async portForward(req: m.PortForwardRequest): Promise<m.PortForwardResponse> {
    const s = this.requireSandbox(req.pod_sandbox_id);
    if (s.state !== 'SANDBOX_READY') throw new CriError(Code.FAILED_PRECONDITION, `pod sandbox "${s.id}" is not ready`);
    return this.streaming.getPortForward(req);
  }

  // ---- stats (figures from FakeBackendOptions.usage; see fake-stats.ts) ----

  private usageOf(c: FakeContainer, now: number): RawUsage {
    if (c.state !== 'CONTAINER_RUNNING') return zeroUsage(now);
    const figures = (this.backend.options.usage ?? DEFAULT_FAKE_USAGE)({ containerId: c.id, image: c.imageRef, argv: c.argv, labels: c.labels });
    return fakeUsage(figures, c.startedAt, now);
  }

  private statsOf(c: FakeContainer, now: number): { stats: m.ContainerStats; usage: RawUsage } {
    const usage = this.usageOf(c, now);
    const attributes = { id: c.id, metadata: { ...c.metadata }, labels: { ...c.labels }, annotations: { ...c.annotations } };
    return { stats: containerStatsOf(attributes, usage), usage };
  }

  private runningOf(sandboxId: string): FakeContainer[] {
    return this.containersOf(sandboxId).filter((c) => c.state === 'CONTAINER_RUNNING')
      .sort((a, b) => a.createdAt - b.createdAt);
  }

  async containerStats(req: m.ContainerStatsRequest): Promise<m.ContainerStatsResponse> {
    return { stats: this.statsOf(this.requireContainer(req.container_id), nowNanos()).stats };
  }

  async listContainerStats(req: m.ListContainerStatsRequest): Promise<m.ListContainerStatsResponse> {
    const now = nowNanos();
    const mine = [...this.backend.containers.values()]
      .filter((c) => c.node === this.node && c.state === 'CONTAINER_RUNNING')
      .filter((c) => matchesContainerStatsFilter(req.filter, { id: c.id, sandboxId: c.sandboxId, labels: c.labels }));
    return { stats: sortByCreation(mine.map((c) => ({ item: this.statsOf(c, now).stats, created_at: c.createdAt, id: c.id }))) };
  }

  private sandboxStats(s: FakeSandbox, now: number): m.PodSandboxStats {
    const attributes = { id: s.id, metadata: { ...s.metadata }, labels: { ...s.labels }, annotations: { ...s.annotations } };
    return sandboxStatsOf(attributes, undefined, this.runningOf(s.id).map((c) => this.statsOf(c, now)), now);
  }

  async podSandboxStats(req: m.PodSandboxStatsRequest): Promise<m.PodSandboxStatsResponse> {
    return { stats: this.sandboxStats(this.requireSandbox(req.pod_sandbox_id), nowNanos()) };
  }

  async listPodSandboxStats(req: m.ListPodSandboxStatsRequest): Promise<m.ListPodSandboxStatsResponse> {
    const now = nowNanos();
    const mine = [...this.backend.sandboxes.values()]
      .filter((s) => s.node === this.node && s.state === 'SANDBOX_READY' && matchesSandboxStatsFilter(req.filter, s));
    return { stats: sortByCreation(mine.map((s) => ({ item: this.sandboxStats(s, now), created_at: s.createdAt, id: s.id }))) };
  }

  /** Stops the streaming server (open exec/attach sessions end). The runtime stays usable otherwise. */
  async close(): Promise<void> {
    await this.streamingServer?.close();
    this.streamingServer = undefined;
  }

  private streamingRuntime(): StreamingRuntime {
    return {
      exec: (id, cmd, io) => this.runExec(id, cmd, io),
      attach: (id, io) => this.runAttach(id, io),
      portForward: async (sandboxId, port) => {
        const s = this.requireSandbox(sandboxId);
        if (!this.backend.options.portForward) {
          throw new CriError(Code.UNAVAILABLE, `failed to connect to localhost:${port} inside namespace "${s.id}": connection refused`);
        }
        return this.backend.options.portForward(s.ip, port);
      },
    };
  }

  /** An exec'd command of the fake shell with live streams; killed with the container or when the client leaves. */
  private async runExec(id: string, cmd: string[], io: StreamIO): Promise<number> {
    const c = this.requireRunning(id);
    const ac = new AbortController();
    const onKill = (): void => ac.abort();
    c.kill.signal.addEventListener('abort', onKill, { once: true });
    io.signal.addEventListener('abort', onKill, { once: true });
    const behaviour = this.backend.options.execBehaviour ?? shellBehaviour;
    const nl = (t: string): string => (io.tty ? t.replace(/\r?\n/g, '\r\n') : t);
    try {
      return await behaviour({
        argv: cmd, env: c.env, image: c.imageRef, containerId: c.id, signal: ac.signal, tty: io.tty,
        readFile: (path) => readMountedFile(c.mounts, path),
        processes: () => this.processesIn(c.pidNs),
        ...(io.stdin ? { stdin: io.stdin as AsyncIterable<Buffer> } : {}),
        stdout: (t) => { io.stdout?.write(nl(t)); },
        // A terminal has one output stream.
        stderr: (t) => { (io.tty ? io.stdout : io.stderr)?.write(nl(t)); },
      });
    } finally {
      c.kill.signal.removeEventListener('abort', onKill);
      io.signal.removeEventListener('abort', onKill);
    }
  }

  /** The container's output from now on, until it stops or the client leaves; stdin is discarded. */
  private async runAttach(id: string, io: StreamIO): Promise<void> {
    this.requireRunning(id);
    if (io.stdin) void (async () => { for await (const _ of io.stdin as AsyncIterable<Buffer>) { /* no reader */ } })();
    const ac = new AbortController();
    const onAbort = (): void => ac.abort();
    io.signal.addEventListener('abort', onAbort, { once: true });
    try {
      for await (const chunk of this.readLogs({ container_id: id, follow: true, tail_lines: 0, timestamps: false }, { signal: ac.signal })) {
        const w = chunk.stream === 'stderr' && !io.tty ? io.stderr : io.stdout;
        w?.write(chunk.data);
      }
    } finally {
      io.signal.removeEventListener('abort', onAbort);
    }
  }

  // ---- logs ----

  async *readLogs(req: m.ReadLogsRequest, opts: ReadLogsOptions = {}): AsyncGenerator<m.LogChunk> {
    const c = this.requireContainer(req.container_id);
    const signal = opts.signal;
    const limit = req.limit_bytes && req.limit_bytes > 0 ? req.limit_bytes : Infinity;
    let sent = 0;
    const format = (l: LogLine): m.LogChunk | undefined => {
      let data = req.timestamps ? Buffer.concat([Buffer.from(`${rfc3339Nano(l.time)} `), l.data]) : l.data;
      if (sent + data.length > limit) data = data.subarray(0, limit - sent);
      sent += data.length;
      return data.length > 0 ? { data: Buffer.from(data), stream: l.stream } : undefined;
    };
    let next = c.logs.length;
    for (const l of selectLogLines(c.logs, req)) {
      if (signal?.aborted || sent >= limit) return;
      const chunk = format(l);
      if (chunk) yield chunk;
    }
    if (!req.follow) return;
    const since = req.since_time_unix_nano ?? 0;
    while (!signal?.aborted && sent < limit) {
      while (next < c.logs.length) {
        const l = c.logs[next++];
        if (!l || l.time < since) continue;
        const chunk = format(l);
        if (chunk) yield chunk;
        if (signal?.aborted || sent >= limit) return;
      }
      if (c.state !== 'CONTAINER_RUNNING' || c.removed) return;
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          c.waiters.delete(wake);
          signal?.removeEventListener('abort', wake);
          resolve();
        };
        c.waiters.add(wake);
        signal?.addEventListener('abort', wake, { once: true });
      });
    }
  }

  // ---- images ----

  private toImage(img: StoredImage): m.Image {
    const user = img.image.user ?? '';
    const numeric = /^\d+$/.test(user);
    return {
      id: img.id,
      repo_tags: [...img.tags],
      repo_digests: [],
      size: img.image.size ?? 1024 * 1024,
      uid: numeric ? { value: Number(user) } : null,
      username: numeric ? '' : user,
      spec: { image: img.id, annotations: {}, user_specified_image: '', runtime_handler: '' },
      pinned: false,
    };
  }

  async listImages(req: m.ListImagesRequest): Promise<m.ListImagesResponse> {
    const ref = req.filter?.image?.image;
    if (ref) {
      const img = this.backend.findImage(ref);
      return { images: img ? [this.toImage(img)] : [] };
    }
    return { images: this.backend.allImages().map((i) => this.toImage(i)) };
  }

  async imageStatus(req: m.ImageStatusRequest): Promise<m.ImageStatusResponse> {
    const ref = req.image?.image;
    if (!ref) throw new CriError(Code.INVALID_ARGUMENT, 'image.image is required');
    const img = this.backend.findImage(ref);
    return { image: img ? this.toImage(img) : null, info: {} };
  }

  async pullImage(req: m.PullImageRequest): Promise<m.PullImageResponse> {
    const ref = req.image?.image;
    if (!ref) throw new CriError(Code.INVALID_ARGUMENT, 'image.image is required');
    const present = this.backend.findImage(ref);
    if (present) return { image_ref: present.id };
    const pulled = this.backend.options.pull ? this.backend.options.pull(ref) : { name: ref };
    if (pulled instanceof CriError) throw pulled;
    return { image_ref: this.backend.addImage({ ...pulled, name: ref }) };
  }

  async removeImage(req: m.RemoveImageRequest): Promise<m.RemoveImageResponse> {
    const ref = req.image?.image;
    if (!ref) throw new CriError(Code.INVALID_ARGUMENT, 'image.image is required');
    const img = this.backend.findImage(ref);
    if (!img) return {};
    const users = [...this.backend.containers.values()].filter((c) => c.imageId === img.id && c.state === 'CONTAINER_RUNNING');
    if (users.length > 0) {
      throw new CriError(Code.FAILED_PRECONDITION, `image "${ref}" is in use by running container "${users[0]?.id}"`);
    }
    this.backend.removeImage(img.id);
    return {};
  }
}
