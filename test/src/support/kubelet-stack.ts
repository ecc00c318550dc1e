/**
 * Control planes for the integration tests. Without Docker (controller and scheduler tests,
 * nodes as plain `fakeNode` objects, the kubelet's part played by a `loop`):
 *
 *   plane = await startControlPlane({ name: 'deploy-it', namespaces: [NS], nodes: [fakeNode('n1')],
 *     controllerManager: { controllers: ['deployment-controller'] }, scheduler: true });
 *   plane.loop(fakeKubeletPass, 100);
 *   after(async () => { await plane?.stop(); });
 *
 * One node against a real control plane, for the kubelet-level integration tests: a real
 * apiserver (etcd + apiserver in this process, support/apiserver.ts), a throwaway Docker
 * scope (tskube.cluster label + network, support/docker.ts), a temporary directory, an admin
 * client and the pinned kubectl; with `startKubeletStack` also the Docker CRI runtime served
 * over gRPC on a unix socket in that directory, the kubelet in this process (advertising
 * 127.0.0.1, its API on an ephemeral port, so the apiserver's pods/log, exec, … proxy reaches
 * it) and optionally an in-process controller-manager:
 *
 *   let stack: KubeletStack;
 *   before(async () => { stack = await startKubeletStack({ name: 'volumes-it', rootDir: true }); });
 *   after(async () => { await stack?.stop(); });
 *   it('…', async () => { const pod = await stack.createRunningPod('box'); … });
 *
 * Contracts:
 * - `nodeName` is `<scope.cluster>-node`; every pod container the kubelet makes carries
 *   tskube.cluster=<scope.cluster>.
 * - If starting fails half-way, what was already started is stopped and removed before the
 *   error is rethrown (so a test's `after` has nothing to clean up).
 * - `stop()` is idempotent and always runs every step, in this order: hooks registered with
 *   `defer` (last registered first; the controller-manager, the kubelet and the runtime are
 *   such hooks), admin client, Docker scope (containers and network), apiserver (and its
 *   etcd), then the directory (after unmounting whatever a kubelet left mounted below it).
 *   A failing kubelet shutdown is logged, not rethrown; any other failing step is rethrown
 *   after all steps ran.
 * - `kubectl` is made on first use, so a test that never runs kubectl does not need it.
 *
 * Needs Docker with POD_IMAGE and PAUSE_IMAGE and the etcd binary (each fails loudly with a
 * how-to when missing); kubectl.1.32 beside the kubectl on PATH when `kubectl` is used.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rfc3339, type Node, type Pod, type PodSpec, type Taint } from '@tskube/api';
import { createClientFromKubeconfig, loadKubeconfig, Resources, type Client, type RestClient } from '@tskube/client';
import type { ControllerManager } from '@tskube/controller-manager';
import {
  buildKubelet, connectRuntime, DockerRuntime, serveRuntime,
  type KubeletDeps, type KubeletEndpoints, type KubeletSettings, type KubeletTiming, type RuntimeClient, type RuntimeServer,
} from '@tskube/kubelet';
import { createLogger, parseLogLevel, type Logger } from '@tskube/log';
import type { Scheduler } from '@tskube/scheduler';
import { startApiServer, type StartOptions, type TestApiServer } from './apiserver.js';
import {
  startControllerManager, startScheduler, type ControllerManagerTestOptions, type RunningComponent, type SchedulerTestOptions,
} from './control-plane.js';
import { destroyScope, makeScope, PAUSE_IMAGE, POD_IMAGE, type DockerScope } from './docker.js';
import { eventually, Kubectl } from './kubectl.js';
import { removeKubeletDir } from './mounts.js';

/** The namespace of the pods the helpers below make. */
export const NS = 'default';

/** `eventually` at the pace of the kubelet tests: every `everyMs` (default 200 ms), up to `timeoutMs` (default 30 s). */
export function waitFor<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs = 30_000, everyMs = 200): Promise<T> {
  return eventually(what, fn, timeoutMs, everyMs);
}

export interface ApiStackOptions {
  /**
   * Short test name, e.g. 'exec-it': the Docker scope prefix, the temporary directory's
   * prefix (tskube-<name>-), the admin client's component and the default logger's component.
   */
  name: string;
  /** Options of startApiServer (e.g. `{ disableAdmissionPlugins: [] }` for service-account tokens). */
  apiServer?: StartOptions;
  /** Default: a logger with component `name` at TSKUBE_LOG_LEVEL (default warn). */
  logger?: Logger;
}

export interface ControlPlaneOptions extends ApiStackOptions {
  /** Namespaces the admin client creates once the apiserver is up, before any component starts. */
  namespaces?: string[];
  /** Node objects (e.g. `fakeNode('node-a')`) created after the namespaces, before any component starts. */
  nodes?: Node[];
  /** Run the controller-manager in this process (started after the nodes). */
  controllerManager?: ControllerManagerTestOptions;
  /** Run the scheduler in this process (started after the controller-manager); `true`: default options. */
  scheduler?: SchedulerTestOptions | true;
}

/**
 * An apiserver with an admin client and optionally the controller-manager and the scheduler
 * in this process, no Docker and no kubelet (startControlPlane): for controller and
 * scheduler tests whose nodes are plain Node objects and whose "kubelet" is a `loop`.
 */
export interface ControlPlane {
  readonly api: TestApiServer;
  /** system:masters client (component `name`). */
  readonly admin: RestClient;
  readonly log: Logger;
  /** The pinned kubectl 1.32 with the admin kubeconfig (made on first use). */
  readonly kubectl: Kubectl;
  readonly controllerManager: RunningComponent<ControllerManager> | undefined;
  readonly scheduler: RunningComponent<Scheduler> | undefined;
  /**
   * Runs `pass` over and over, `everyMs` after each pass ended (a rejection is ignored: the
   * next pass retries), from now until stop(), which ends it (waiting for the pass under
   * way) before the hooks registered earlier, e.g. the components. For fake kubelets.
   */
  loop(pass: () => Promise<void>, everyMs: number): void;
  /** Registers a cleanup step; stop() runs them first, the last registered first. */
  defer(step: () => Promise<void> | void): void;
  /** Stops and removes everything (see the module doc for the order). Idempotent. */
  stop(): Promise<void>;
}

export interface FakeNodeOptions {
  /** Labels besides kubernetes.io/hostname=<name>. */
  labels?: Record<string, string>;
  taints?: Taint[];
  /** Capacity and allocatable: cpu (default '4'), memory (default '8Gi'); pods is 110. */
  cpu?: string;
  memory?: string;
  /** The Ready condition's status (default true). */
  ready?: boolean;
}

/**
 * A Node as a kubelet would register it, for tests without one: label kubernetes.io/hostname,
 * the given taints, capacity = allocatable and a Ready condition (reason KubeletReady,
 * heartbeat and transition now). The apiserver keeps a Node's status on create.
 */
export function fakeNode(name: string, o: FakeNodeOptions = {}): Node {
  const resources = { cpu: o.cpu ?? '4', memory: o.memory ?? '8Gi', pods: '110' };
  const now = rfc3339(new Date());
  return {
    apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name, ...o.labels } },
    spec: o.taints?.length ? { taints: o.taints } : {},
    status: {
      capacity: resources, allocatable: resources,
      conditions: [{
        type: 'Ready', status: o.ready ?? true ? 'True' : 'False', reason: 'KubeletReady', message: 'kubelet is posting ready status',
        lastHeartbeatTime: now, lastTransitionTime: now,
      }],
    },
  };
}

/** An apiserver, a Docker scope, a directory and an admin client for one node the test runs itself. */
export interface ApiStack extends ControlPlane {
  readonly scope: DockerScope;
  /** Temporary directory, removed by stop(): the runtime socket, the kubelet root, test files. */
  readonly dir: string;
  /** `<scope.cluster>-node`. */
  readonly nodeName: string;
  /**
   * A Pod manifest in NS bound to this node by spec.nodeName (no scheduler needed):
   * terminationGracePeriodSeconds 1 and one container `main` running POD_IMAGE `sleep 3600`;
   * fields of `spec` replace those defaults.
   */
  pod(name: string, spec?: Partial<PodSpec>, labels?: Record<string, string>): Pod;
  /** Creates `pod(name, spec, labels)` with the admin client. */
  createPod(name: string, spec?: Partial<PodSpec>, labels?: Record<string, string>): Promise<Pod>;
  /** Creates `pod(name, spec, labels)` and waits (every 200 ms, default 30 s) until its phase is Running. */
  createRunningPod(name: string, spec?: Partial<PodSpec>, opts?: { labels?: Record<string, string>; timeoutMs?: number }): Promise<Pod>;
  /** The pod `name` in NS (404 rejects). */
  getPod(name: string): Promise<Pod>;
  /** Polls the pod every `everyMs` (default 200) until `ok` holds, up to `timeoutMs` (default 30 s); resolves with it. */
  waitForPod(name: string, what: string, ok: (p: Pod) => boolean, timeoutMs?: number, everyMs?: number): Promise<Pod>;
  /** Waits (every 200 ms, default 30 s) until the Node's Ready condition is True. */
  waitForNodeReady(timeoutMs?: number): Promise<void>;
  /** Creates NS's `default` ServiceAccount (automountServiceAccountToken false) unless it exists: pods without a serviceaccount-controller. */
  ensureDefaultServiceAccount(): Promise<void>;
}

export interface KubeletStackOptions extends ApiStackOptions {
  /** Give the kubelet a root directory (`<dir>/root`): pod volumes are set up (otherwise ignored). */
  rootDir?: boolean;
  /** Static pod manifests (file name → YAML/JSON), written into `<dir>/manifests`, the kubelet's staticPodPath. */
  staticPods?: Record<string, string>;
  /** Kubelet settings over the defaults (127.0.0.1, kubelet port 0, no health port, shutdownRemovePods false). */
  settings?: Partial<Omit<KubeletSettings, 'nodeName'>>;
  /** Kubelet timing over the test defaults (lease renewal 1 s, node status 2 s, sync error backoff 1 s). */
  timing?: Partial<KubeletTiming>;
  /** More kubelet dependencies (evictionStats, mounter, probeRunner, …). */
  deps?: Partial<Omit<KubeletDeps, 'settings' | 'client' | 'runtime' | 'logger' | 'tls' | 'timing'>>;
  /** Also run the controller-manager in this process, started once the kubelet is ready. */
  controllerManager?: ControllerManagerTestOptions;
}

export interface KubeletStack extends ApiStack {
  /** The kubelet's own client (kubelet kubeconfig). */
  readonly kubeletClient: Client;
  /** The gRPC client of the Docker runtime service (the kubelet's CRI). */
  readonly runtime: RuntimeClient;
  /** `<dir>/root` with `rootDir: true`. */
  readonly rootDir: string | undefined;
  /** `<dir>/manifests` with `staticPods`. */
  readonly staticPodDir: string | undefined;
  readonly controllerManager: RunningComponent<ControllerManager> | undefined;
  /** The endpoints the running kubelet reported (the last start). */
  readonly endpoints: KubeletEndpoints;
  /** Stops the kubelet (abort, then wait for its shutdown); a no-op when it is not running. Pods keep running. */
  stopKubelet(): Promise<void>;
  /** Starts a new kubelet with the same settings (after stopKubelet); rejects if one is running. */
  startKubelet(): Promise<KubeletEndpoints>;
}

function defaultLogger(name: string): Logger {
  return createLogger({ component: name, level: parseLogLevel(process.env.TSKUBE_LOG_LEVEL, 'warn') });
}

/** What startControlPlane and startApiStack share; `docker` adds the scope and the directory. */
async function launch(o: ControlPlaneOptions, docker: boolean): Promise<{ plane: ControlPlane; scope?: DockerScope; dir?: string }> {
  const log = o.logger ?? defaultLogger(o.name);
  const hooks: Array<() => Promise<void> | void> = [];
  let scope: DockerScope | undefined;
  let api: TestApiServer | undefined;
  let dir: string | undefined;
  let admin: RestClient | undefined;
  let kubectl: Kubectl | undefined;
  let cm: RunningComponent<ControllerManager> | undefined;
  let sched: RunningComponent<Scheduler> | undefined;
  let stopped: Promise<void> | undefined;

  async function teardown(): Promise<void> {
    const errors: unknown[] = [];
    const step = async (fn: () => Promise<void> | void) => {
      try { await fn(); } catch (err) { errors.push(err); }
    };
    while (hooks.length > 0) await step(hooks.pop()!);
    if (admin) await step(() => admin!.close());
    if (scope) await step(() => destroyScope(scope!));
    if (api) await step(() => api!.stop());
    // unmounts what a stopped kubelet left (tmpfs of memory-backed volumes), then removes
    if (dir) await step(() => removeKubeletDir(dir!));
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, `${errors.length} cleanup steps of ${o.name} failed`);
  }
  const stop = (): Promise<void> => (stopped ??= teardown());

  try {
    if (docker) scope = await makeScope(o.name);
    const a = api = await startApiServer(o.apiServer);
    if (docker) dir = mkdtempSync(join(tmpdir(), `tskube-${o.name}-`));
    const c = admin = createClientFromKubeconfig(a.kubeconfig, { component: o.name });
    for (const name of o.namespaces ?? []) await c.resource(Resources.namespaces).create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    for (const node of o.nodes ?? []) await c.resource(Resources.nodes).create(node);
    if (o.controllerManager) {
      const started = cm = await startControllerManager(a, o.controllerManager);
      hooks.push(async () => { await started.stop(); });
    }
    if (o.scheduler) {
      const started = sched = await startScheduler(a, o.scheduler === true ? {} : o.scheduler);
      hooks.push(async () => { await started.stop(); });
    }
  } catch (err) {
    await stop().catch((e: unknown) => log.error('cleanup after a failed start failed', { err: String(e) }));
    throw err;
  }
  const kubeconfig = api.kubeconfig;
  const plane: ControlPlane = {
    api, admin, log, controllerManager: cm, scheduler: sched,
    get kubectl() { return (kubectl ??= new Kubectl(kubeconfig, undefined, '1.32')); },
    loop(pass, everyMs) {
      const ac = new AbortController();
      const running = (async () => {
        while (!ac.signal.aborted) {
          await pass().catch(() => undefined);
          await new Promise((r) => setTimeout(r, everyMs));
        }
      })();
      hooks.push(async () => { ac.abort(); await running; });
    },
    defer(step) { hooks.push(step); },
    stop,
  };
  return { plane, scope, dir };
}

/**
 * Apiserver, admin client, then `namespaces`, `nodes`, the controller-manager and the scheduler
 * as asked (in that order). stop() runs the `defer`red hooks and loops (last first; the
 * components are the first hooks), closes the admin client and stops the apiserver; a start
 * failing half-way stops what was started before rethrowing. Needs the etcd binary.
 */
export async function startControlPlane(o: ControlPlaneOptions): Promise<ControlPlane> {
  return (await launch(o, false)).plane;
}

/** Scope, apiserver, directory and admin client; a node of its own is the caller's (e.g. a NodeProcess). */
export async function startApiStack(o: ApiStackOptions): Promise<ApiStack> {
  const { plane, scope, dir } = await launch({ name: o.name, apiServer: o.apiServer, logger: o.logger }, true);
  if (!scope || !dir) {
    await plane.stop();
    throw new Error('launch with Docker made no scope or directory');
  }
  const { admin: a } = plane;
  const nodeName = `${scope.cluster}-node`;
  const pods = () => a.resource(Resources.pods);
  const pod = (name: string, spec: Partial<PodSpec> = {}, labels?: Record<string, string>): Pod => ({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: NS, ...(labels ? { labels } : {}) },
    spec: { nodeName, terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image: POD_IMAGE, command: ['sleep', '3600'] }], ...spec },
  });
  const getPod = (name: string): Promise<Pod> => pods().get(NS, name);
  const waitForPod = (name: string, what: string, ok: (p: Pod) => boolean, timeoutMs = 30_000, everyMs = 200): Promise<Pod> =>
    eventually(`${name} ${what}`, async () => {
      const p = await getPod(name);
      return ok(p) ? p : undefined;
    }, timeoutMs, everyMs);
  // extends `plane` in place: a spread would call its lazy `kubectl` getter
  return Object.assign(plane, {
    scope, dir, nodeName,
    pod,
    createPod: (name, spec, labels) => pods().create(NS, pod(name, spec, labels)),
    async createRunningPod(name, spec, opts = {}) {
      await pods().create(NS, pod(name, spec, opts.labels));
      return waitForPod(name, 'Running', (p) => p.status?.phase === 'Running', opts.timeoutMs ?? 30_000, 200);
    },
    getPod,
    waitForPod,
    async waitForNodeReady(timeoutMs = 30_000) {
      await eventually('Ready node', async () => {
        const n = await a.resource(Resources.nodes).get(nodeName);
        return n.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
      }, timeoutMs, 200);
    },
    async ensureDefaultServiceAccount() {
      await a.resource(Resources.serviceAccounts).create(NS, {
        apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: NS }, automountServiceAccountToken: false,
      }).catch((err: unknown) => { if (!(err instanceof Error && /already exists/.test(err.message))) throw err; });
    },
  } satisfies Omit<ApiStack, keyof ControlPlane>);
}

/** startApiStack plus the Docker runtime over gRPC, the kubelet in this process and optionally a controller-manager. */
export async function startKubeletStack(o: KubeletStackOptions): Promise<KubeletStack> {
  const base = await startApiStack(o);
  const { api, scope, dir, nodeName, log } = base;
  const rootDir = o.rootDir ? join(dir, 'root') : undefined;
  const staticPodDir = o.staticPods ? join(dir, 'manifests') : undefined;
  let stopRunning: (() => Promise<void>) | undefined;
  /** The returned stack, whose `endpoints` a restart updates. */
  let live: { endpoints: KubeletEndpoints } | undefined;
  try {
    if (staticPodDir) {
      mkdirSync(staticPodDir);
      for (const [file, text] of Object.entries(o.staticPods ?? {})) writeFileSync(join(staticPodDir, file), text);
    }
    const docker = new DockerRuntime({ docker: scope.docker, nodeName, clusterName: scope.cluster, network: scope.network, pauseImage: PAUSE_IMAGE, logger: log });
    base.defer(() => docker.close());
    const socket = join(dir, 'runtime.sock');
    const service: RuntimeServer = await serveRuntime(docker, socket, log);
    base.defer(() => service.close());
    const runtime = await connectRuntime(socket);
    base.defer(() => runtime.close());
    const kubeletClient = createClientFromKubeconfig(api.kubeconfigs.kubelet, { component: 'kubelet' });
    base.defer(() => kubeletClient.close());

    const startKubelet = async (): Promise<KubeletEndpoints> => {
      if (stopRunning) throw new Error('the kubelet is already running');
      const kc = loadKubeconfig(api.kubeconfigs.kubelet);
      assert.ok(kc.cert && kc.key && kc.ca, 'the kubelet kubeconfig has a client certificate and the CA');
      const kubelet = buildKubelet({
        ...o.deps,
        settings: {
          nodeName, nodeIP: '127.0.0.1', bindAddress: '127.0.0.1', kubeletPort: 0, shutdownRemovePods: false,
          ...(rootDir ? { rootDir } : {}), ...(staticPodDir ? { staticPodPath: staticPodDir } : {}), ...o.settings,
        },
        client: kubeletClient, runtime, logger: log, tls: { cert: kc.cert, key: kc.key, ca: kc.ca },
        timing: { leaseRenewMs: 1000, nodeStatusIntervalMs: 2000, syncErrorBackoffMs: 1000, ...o.timing },
      });
      const ac = new AbortController();
      const run = kubelet.start(ac.signal);
      // start() rejects only when startup fails, which ready() reports; awaited again on stop
      run.catch(() => undefined);
      const halt = async () => { ac.abort(); await run; };
      let endpoints: KubeletEndpoints;
      try {
        endpoints = await kubelet.ready();
      } catch (err) {
        await halt().catch(() => undefined);
        throw err;
      }
      stopRunning = halt;
      if (live) live.endpoints = endpoints;
      return endpoints;
    };
    const stopKubelet = async (): Promise<void> => {
      const halt = stopRunning;
      stopRunning = undefined;
      await halt?.();
    };
    base.defer(() => stopKubelet().catch((err: unknown) => log.error('stopping the kubelet failed', { err: String(err) })));
    const first = await startKubelet();
    let cm: RunningComponent<ControllerManager> | undefined;
    if (o.controllerManager) {
      const c = await startControllerManager(api, o.controllerManager);
      cm = c;
      base.defer(async () => { await c.stop(); });
    }
    // extends `base` in place: a spread would call its lazy `kubectl` getter
    const stack = Object.assign(base, {
      kubeletClient, runtime, rootDir, staticPodDir, controllerManager: cm, endpoints: first, stopKubelet, startKubelet,
    });
    live = stack;
    return stack;
  } catch (err) {
    await base.stop().catch((e: unknown) => log.error('cleanup after a failed start failed', { err: String(e) }));
    throw err;
  }
}
