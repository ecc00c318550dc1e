/**
 * Wiring of one kubelet (design habit 1: every dependency passed in, no singletons):
 *
 *   CRI client ──► PodSyncer (pods/sync.ts: computePodActions → apply; status/generate.ts)
 *        ▲              ▲ one serial worker per pod UID (pods/pod-workers.ts)
 *        │   pod informer (spec.nodeName=<node>) ─┘   PLEG relist (pods/pleg.ts) wakes workers
 *        │   StatusManager (status/) ──► pods/status        housekeeping: orphans → workers
 *   NodeManager (node/): register + status every 10 s     NodeLease: renew every 10 s
 *   kubelet API (server/): /containerLogs, /healthz       health + metrics (startHealthServer)
 *
 * The pod informer is the kubelet's own unless `pods` is given (simulated nodes share one
 * watch for a whole process: sim/pod-dispatcher.ts).
 *
 * `start(signal)` runs until `signal` aborts, then shuts down: with `shutdownRemovePods`
 * (SIGTERM, like upstream graceful node shutdown) every pod is terminated within
 * `shutdownGraceSeconds` (status Failed, reason Terminated), its containers removed and the
 * node reported NotReady; without it (a SIGKILL stand-in) the loops just stop and the
 * containers stay for the next kubelet to adopt (by their pod-UID labels).
 */
import { unitValue, type Pod, type PodStatus } from '@tskube/api';
import {
  InformerFactory, Resources, createEventRecorder, sleep, type Client, type DeepReadonly, type EventHandlers, type Informer,
} from '@tskube/client';
import { startHealthServer, type HealthServer } from '@tskube/component';
import type { Logger } from '@tskube/log';
import { Registry } from 'prom-client';
import { systemClock, type Clock } from './clock.js';
import type { ContainerRuntime } from './cri/index.js';
import { KubeletEvents } from './events.js';
import { errorMessage } from './format.js';
import { readHostFacts, type HostFacts } from './host/host-info.js';
import { newKubeletMetrics } from './metrics.js';
import { NodeLease } from './node/lease.js';
import { NodeManager } from './node/node-manager.js';
import { nodeCapacity, type NodeFacts } from './node/node-status.js';
import type { ProbeView } from './pods/actions.js';
import { Backoff, CONTAINER_BACKOFF, IMAGE_BACKOFF, type BackoffOptions } from './pods/backoff.js';
import { ContainerGC, CONTAINER_GC_PERIOD_MS } from './pods/container-gc.js';
import { ImageManager } from './pods/images.js';
import { Pleg } from './pods/pleg.js';
import { PodWorkers } from './pods/pod-workers.js';
import { PodSyncer } from './pods/sync.js';
import { ProbeManager } from './prober/manager.js';
import { Prober, type ProbeRunner } from './prober/prober.js';
import { startKubeletServer, type KubeletServer } from './server/server.js';
import { StaticPods } from './static/static-pods.js';
import { StatusManager } from './status/status-manager.js';
import { StatsCollector, type NodeStatsSource } from './stats/collector.js';
import { buildSummary, podTimesOf } from './stats/summary.js';
import { ObjectCache } from './volumes/object-cache.js';
import { TokenManager } from './volumes/tokens.js';
import { VolumeManager } from './volumes/volume-manager.js';
import { HostStatsSource } from './eviction/host-stats-source.js';
import { EvictionManager, POD_CLEANUP_TIMEOUT_MS } from './eviction/manager.js';
import { rejectedPodMessage } from './eviction/messages.js';
import type { EvictionStatsSource } from './eviction/stats.js';
import {
  DEFAULT_MONITORING_INTERVAL_MS, DEFAULT_PRESSURE_TRANSITION_PERIOD_MS, isHardThreshold, parseThresholdConfig, type EvictionConfig,
} from './eviction/thresholds.js';
import { ExecMounter, type Mounter } from './volumes/mounter.js';

export interface KubeletSettings {
  nodeName: string;
  /** Advertised InternalIP (and pods' hostIP). */
  nodeIP: string;
  bindAddress: string;
  /** Kubelet API port; 0 picks a free one (reported in the Node's daemonEndpoints). */
  kubeletPort: number;
  /** Plain-HTTP /healthz and /metrics; undefined: not served. */
  healthPort?: number;
  /** Capacity overrides (quantities). */
  nodeCpu?: string;
  nodeMemory?: string;
  maxPods?: number;
  shutdownRemovePods: boolean;
  /** Budget of a graceful shutdown (upstream shutdownGracePeriod); default 20. */
  shutdownGraceSeconds?: number;
  /** Extra node labels (simulated nodes: zone, tskube.io/simulated). */
  labels?: Readonly<Record<string, string>>;
  /**
   * Kubelet root dir (pods/<uid>/volumes/...): the same path for the kubelet and the container
   * engine, as the bind-mount sources of pod volumes. Undefined: pod volumes are ignored
   * (simulated nodes); env from ConfigMaps/Secrets works either way.
   */
  rootDir?: string;
  /** Static pod manifest directory (static/static-pods.ts); undefined: no static pods. */
  staticPodPath?: string;
  /** Resources held back from allocatable (upstream --system-reserved / --kube-reserved), as quantities. */
  systemReserved?: Readonly<Record<string, string>>;
  kubeReserved?: Readonly<Record<string, string>>;
  /**
   * Eviction thresholds and timings; undefined: upstream's defaults. Hard thresholds always
   * come off allocatable; pods are only evicted by a node with an eviction stats source
   * (KubeletDeps.evictionStats).
   */
  eviction?: EvictionConfig;
}

/** TSKUBE_KUBELET_ROOT's default: `<base>/<cluster>/<node>`, base TSKUBE_KUBELET_ROOT_BASE (/var/lib/tskube-kubelet). */
export function defaultRootDir(clusterName: string, nodeName: string, base = '/var/lib/tskube-kubelet'): string {
  return `${base.replace(/\/+$/, '')}/${clusterName}/${nodeName}`;
}

export interface KubeletTiming {
  nodeStatusIntervalMs: number;
  heartbeatMs: number;
  leaseRenewMs: number;
  plegRelistMs: number;
  housekeepingMs: number;
  resyncMs: number;
  syncErrorBackoffMs: number;
  crashLoopBackoff: BackoffOptions;
  imagePullBackoff: BackoffOptions;
  /** How long a ConfigMap/Secret read is reused (volumes/object-cache.ts). */
  objectCacheTtlMs: number;
  /** The node turns NotReady "container runtime is down" after the runtime failed this long (upstream 30 s). */
  runtimeDownAfterMs: number;
  /** Container garbage collection period (upstream ContainerGCPeriod, 1 min; pods/container-gc.ts). */
  containerGcMs: number;
  /** Static pod directory rescan (upstream fileCheckFrequency 20 s; fs events rescan at once). */
  staticPodCheckMs: number;
  /** Mirror pod reconcile tick while something changed. */
  mirrorSyncMs: number;
}

export const DEFAULT_TIMING: KubeletTiming = {
  nodeStatusIntervalMs: 10_000,
  heartbeatMs: 60_000,
  leaseRenewMs: 10_000,
  plegRelistMs: 1000,
  housekeepingMs: 2000,
  resyncMs: 60_000,
  syncErrorBackoffMs: 10_000,
  crashLoopBackoff: CONTAINER_BACKOFF,
  imagePullBackoff: IMAGE_BACKOFF,
  objectCacheTtlMs: 5000,
  runtimeDownAfterMs: 30_000,
  containerGcMs: CONTAINER_GC_PERIOD_MS,
  staticPodCheckMs: 20_000,
  mirrorSyncMs: 1000,
};

export interface KubeletDeps {
  settings: KubeletSettings;
  client: Client;
  /** The CRI: in production the gRPC client of connectRuntime; tests may pass a FakeRuntime. */
  runtime: ContainerRuntime;
  logger: Logger;
  clock?: Clock;
  /** Serving certificate/key and the CA client certificates must chain to; no API without it. */
  tls?: { cert: Buffer | string; key: Buffer | string; ca: Buffer | string };
  host?: HostFacts;
  registry?: Registry;
  timing?: Partial<KubeletTiming>;
  probes?: ProbeView;
  /** Runs liveness/readiness/startup probes; default the real prober (exec, HTTP, TCP, gRPC). */
  probeRunner?: ProbeRunner;
  /**
   * Where the pods bound to this node come from. Default: the kubelet's own informer on
   * `spec.nodeName=<node>`. Simulated nodes share one pod watch for the whole process
   * (sim/pod-dispatcher.ts) instead of one watch per node.
   */
  pods?: KubeletPodSource;
  /**
   * Client for the node's heartbeats (Node registration and status, the node Lease); default
   * `client`. Simulated nodes give them their own connections so that a burst of pod traffic
   * queued in the shared client never delays a Lease renewal past the node monitor grace
   * period (upstream, API priority and fairness keeps node leases in their own level).
   */
  heartbeatClient?: Client;
  /** Node figures of /stats/summary: the host's /proc counters (default) or the sum of the pods. */
  nodeStats?: NodeStatsSource;
  /**
   * What the eviction manager observes (eviction/): 'host' reads this machine and the CRI
   * stats (eviction/host-stats-source.ts); undefined: no eviction manager, so the pressure
   * conditions stay False and nothing is evicted or rejected (simulated nodes: no real usage).
   */
  evictionStats?: EvictionStatsSource | 'host';
  /**
   * Mounts the tmpfs of memory-backed pod volumes (volumes/mounter.ts) under `rootDir`;
   * default the machine's mount/umount (root, or CAP_SYS_ADMIN in a container bound rshared).
   */
  mounter?: Mounter;
}

/** The API pods bound to one node, as the kubelet reads them. */
export interface KubeletPodSource {
  /** Registers handlers for this node's pods; pods already known are replayed as adds. Returns an unregister function. */
  addEventHandler(h: EventHandlers<Pod>): () => void;
  /** Resolves true once the source has listed, false if `signal` aborts first. */
  waitForSync(signal: AbortSignal): Promise<boolean>;
  /** This node's pod `namespace/name`, if the API has it. */
  getByName(namespace: string, name: string): DeepReadonly<Pod> | undefined;
  /** Whether the API has a pod of this node with this UID (housekeeping: anything else is an orphan). */
  hasUid(uid: string): boolean;
}

/** The default pod source: one informer watching `spec.nodeName=<node>`. */
function informerPodSource(inf: Informer<Pod>): KubeletPodSource {
  return {
    addEventHandler: (h) => inf.addEventHandler(h),
    waitForSync: (signal) => inf.waitForSync(signal),
    getByName: (ns, name) => inf.lister.getByName(ns, name),
    hasUid: (uid) => inf.lister.byIndex('uid', uid).length > 0,
  };
}

export interface KubeletEndpoints {
  kubeletPort: number;
  healthPort: number | undefined;
}

export interface Kubelet {
  /** Runs until `signal` aborts, then shuts down (see the module doc). Rejects only if startup fails. */
  start(signal: AbortSignal): Promise<void>;
  /** Resolves once the node is registered and pods are synced; rejects if startup fails. */
  ready(): Promise<KubeletEndpoints>;
}

const SHUTDOWN_REASON = 'Terminated';
const SHUTDOWN_MESSAGE = 'Pod was terminated in response to imminent node shutdown.';

export function buildKubelet(deps: KubeletDeps): Kubelet {
  const s = deps.settings;
  const timing: KubeletTiming = { ...DEFAULT_TIMING, ...deps.timing };
  const clock = deps.clock ?? systemClock;
  const log = deps.logger.child({ node: s.nodeName });
  const runtime = deps.runtime;
  const registry = deps.registry ?? new Registry();
  const metrics = newKubeletMetrics(registry);
  const recorder = createEventRecorder({ client: deps.client, component: 'kubelet', host: s.nodeName, logger: log });
  const events = new KubeletEvents(recorder, s.nodeName);
  const statusManager = new StatusManager({ client: deps.client, logger: log });
  const images = new ImageManager({
    runtime, events, clock, backoff: new Backoff(timing.imagePullBackoff),
    secrets: { secret: (ns, name) => objects.secret(ns, name) }, // imagePullSecrets
  });
  let runtimeName = 'unknown';
  const startedAtMs = clock.now();
  const stats = new StatsCollector({ runtime, clock, logger: log, nodeStats: deps.nodeStats });
  let facts: NodeFacts | undefined;
  const evictionConfig: EvictionConfig = s.eviction ?? {
    thresholds: parseThresholdConfig({}), pressureTransitionPeriodMs: DEFAULT_PRESSURE_TRANSITION_PERIOD_MS,
    maxPodGracePeriodSeconds: 0, monitoringIntervalMs: DEFAULT_MONITORING_INTERVAL_MS,
  };
  const nodeView = {
    name: s.nodeName,
    hostIPs: () => [s.nodeIP],
    allocatable: () => (facts ? nodeCapacity(facts).allocatable : {}),
  };
  const objects = new ObjectCache({ client: deps.client, ttlMs: timing.objectCacheTtlMs, now: () => clock.now() });
  const volumes = s.rootDir ? new VolumeManager({
    rootDir: s.rootDir, client: deps.client, objects, tokens: new TokenManager({ client: deps.client, now: () => clock.now() }),
    events, logger: log, node: nodeView, mounter: deps.mounter ?? new ExecMounter(),
  }) : undefined;

  const prober = new ProbeManager({
    runner: deps.probeRunner ?? new Prober({ runtime, events }), podStatus: (uid) => statusManager.get(uid), clock, logger: log,
    onChange: (uid) => workers.wake(uid),
  });
  const syncer = new PodSyncer({
    runtime, runtimeName: () => runtimeName, statusManager, images, events, clock, logger: log,
    node: {
      name: s.nodeName,
      hostIPs: () => [s.nodeIP],
      allocatable: () => (facts ? nodeCapacity(facts).allocatable : {}),
      capacity: () => (facts ? nodeCapacity(facts).capacity : {}),
    },
    backoff: new Backoff(timing.crashLoopBackoff),
    syncErrorBackoffMs: timing.syncErrorBackoffMs,
    probes: deps.probes, prober,
    onPodRunning: (_uid, firstSeenAt) => metrics.podStartDuration.observe((clock.now() - firstSeenAt) / 1000),
    objects, volumes, rootDir: s.rootDir,
  });
  const workers = new PodWorkers({
    handler: syncer, logger: log, resyncMs: timing.resyncMs, errorBackoffMs: timing.syncErrorBackoffMs,
    onStep: (operation, seconds) => metrics.podWorkerDuration.observe({ operation }, seconds),
  });
  const pleg = new Pleg({
    runtime, clock, logger: log, intervalMs: timing.plegRelistMs,
    onChange: (uid) => workers.wake(uid),
    onRelist: (r) => {
      let ready = 0;
      const byState: Record<string, number> = { created: 0, running: 0, exited: 0, unknown: 0 };
      for (const p of r.pods.values()) {
        if (p.readySandboxes > 0) ready++;
        for (const [st, n] of Object.entries(p.containers)) byState[st] = (byState[st] ?? 0) + n;
      }
      metrics.runningPods.set(ready);
      for (const [st, n] of Object.entries(byState)) metrics.runningContainers.set({ container_state: st }, n);
    },
  });

  let resolveReady!: (e: KubeletEndpoints) => void;
  let rejectReady!: (err: unknown) => void;
  const readyPromise = new Promise<KubeletEndpoints>((res, rej) => { resolveReady = res; rejectReady = rej; });
  readyPromise.catch(() => undefined);
  /** Node-pressure eviction and admission (eviction/manager.ts); built in start() when deps.evictionStats is given. */
  let eviction: EvictionManager | undefined;

  async function runtimeVersion(signal: AbortSignal): Promise<string> {
    for (let attempt = 0; ; attempt++) {
      try {
        const v = await runtime.version({});
        runtimeName = v.runtime_name;
        return `${v.runtime_name}://${v.runtime_version}`;
      } catch (err) {
        if (signal.aborted) throw err;
        if (attempt === 0) log.warn('container runtime not answering yet', { err: errorMessage(err) });
        await sleep(Math.min(5000, 200 * 2 ** attempt), signal);
      }
    }
  }

  async function start(signal: AbortSignal): Promise<void> {
    const loops = new AbortController();
    const running: Promise<unknown>[] = [];
    let server: KubeletServer | undefined;
    let health: HealthServer | undefined;
    let nodeManager: NodeManager | undefined;
    const informers = deps.pods ? undefined : new InformerFactory({ client: deps.client, logger: log });
    const pods = deps.pods ?? informerPodSource(informers!.informer(Resources.pods, {
      fieldSelector: `spec.nodeName=${s.nodeName}`,
      indexers: { uid: (p) => (p.metadata?.uid ? [p.metadata.uid] : []) },
    }));
    let staticPods: StaticPods | undefined;
    // A static pod by its (mirror) name is the pod the kubelet runs, not the mirror.
    const podByName = (ns: string, name: string): DeepReadonly<Pod> | undefined => staticPods?.byName(ns, name) ?? pods.getByName(ns, name);
    try {
      const runtimeVersionString = await runtimeVersion(signal);
      const host = deps.host ?? readHostFacts(s.nodeName, s.rootDir);
      const podStatus = (pod: DeepReadonly<Pod>): DeepReadonly<PodStatus> | undefined =>
        statusManager.get(pod.metadata?.uid ?? '') ?? pod.status;
      if (deps.tls) {
        server = await startKubeletServer({
          host: s.bindAddress, port: s.kubeletPort, tls: deps.tls, logger: log,
          logs: {
            podByName, podStatus, runtime, clock, logger: log,
          },
          streaming: { podByName, runtime, logger: log },
          stats: {
            registry, logger: log,
            summary: async () => buildSummary(await stats.latest(), {
              nodeName: s.nodeName, startedAtMs,
              podTimes: (p) => { const pod = podByName(p.namespace, p.name); return pod ? podTimesOf(podStatus(pod)) : undefined; },
            }),
          },
        });
      }
      facts = {
        nodeName: s.nodeName, nodeIP: s.nodeIP, hostname: host.hostname, kubeletPort: server?.port ?? s.kubeletPort,
        cpuCores: host.cpuCores, memoryBytes: host.memoryBytes, ephemeralStorageBytes: host.ephemeralStorageBytes,
        cpuOverride: s.nodeCpu, memoryOverride: s.nodeMemory, maxPods: s.maxPods ?? 110, labels: s.labels,
        reservations: { systemReserved: s.systemReserved, kubeReserved: s.kubeReserved, evictionHard: evictionConfig.thresholds.filter(isHardThreshold) },
        nodeInfo: {
          machineID: host.machineID, systemUUID: host.systemUUID, bootID: host.bootID, kernelVersion: host.kernelVersion,
          osImage: host.osImage, architecture: host.architecture, containerRuntimeVersion: runtimeVersionString,
        },
      };
      const containerGC = new ContainerGC({ runtime, clock, logger: log });
      // a pod is gone when neither a worker nor the API has it
      const podGone = (uid: string): boolean => !workers.has(uid) && !pods.hasUid(uid);
      const nodeFacts = facts;
      eviction = deps.evictionStats ? new EvictionManager({
        config: evictionConfig, events, clock, logger: log,
        stats: deps.evictionStats === 'host' ? new HostStatsSource({ runtime, rootDir: s.rootDir, clock }) : deps.evictionStats,
        activePods: () => workers.activePods(),
        terminator: {
          evict: async (pod, o) => {
            const uid = pod.metadata?.uid ?? '';
            workers.terminate(uid, { gracePeriodSeconds: o.gracePeriodSeconds, reason: { reason: o.reason, message: o.message, condition: o.condition } });
            // until its worker has terminated it (volumes torn down), at most 30 s, or the kubelet stops
            const stop = new AbortController();
            const onStop = (): void => stop.abort();
            loops.signal.addEventListener('abort', onStop, { once: true });
            try {
              const done = await Promise.race([workers.waitTerminated([uid], POD_CLEANUP_TIMEOUT_MS), sleep(POD_CLEANUP_TIMEOUT_MS, stop.signal).then(() => false)]);
              if (!done && !loops.signal.aborted) log.info('eviction manager: timed out waiting for pods to be cleaned up', { uid });
            } finally {
              stop.abort();
              loops.signal.removeEventListener('abort', onStop);
            }
          },
        },
        allocatableMemoryBytes: () => unitValue(nodeCapacity(nodeFacts).allocatable.memory ?? '0'),
        reclaimDisk: async () => { await containerGC.collect(podGone); },
        onEviction: (signal) => metrics.evictions.inc({ eviction_signal: signal }),
      }) : undefined;
      const nm = nodeManager = new NodeManager({
        client: deps.heartbeatClient ?? deps.client, facts, runtime, events, clock, logger: log,
        statusIntervalMs: timing.nodeStatusIntervalMs, heartbeatMs: timing.heartbeatMs,
        plegHealthy: () => pleg.last === undefined || pleg.healthy(), runtimeDownAfterMs: timing.runtimeDownAfterMs,
        pressure: () => eviction?.conditions() ?? [],
      });
      if (s.healthPort !== undefined) {
        health = await startHealthServer({
          port: s.healthPort, registry, logger: log,
          liveness: [{ name: 'syncloop', check: () => { if (pleg.last && !pleg.healthy()) throw new Error('PLEG is not healthy'); } }],
          readiness: [{ name: 'node-registered', check: () => { if (!nm.uid) throw new Error('node not registered yet'); } }],
        });
      }
      if (s.staticPodPath) {
        const sp = staticPods = new StaticPods({
          dir: s.staticPodPath, nodeName: s.nodeName, client: deps.client, clock, logger: log,
          checkMs: timing.staticPodCheckMs, mirrorSyncMs: timing.mirrorSyncMs, nodeUid: () => nm.uid,
          update: (pod) => workers.update(pod), remove: (pod) => workers.update(pod, { deleted: true }),
          running: (uid) => workers.has(uid),
          onMirrorCreated: (uid) => { statusManager.markStale(uid); workers.wake(uid); },
        });
        // Before registration (static pods run without the apiserver) and before housekeeping
        // (their containers are adopted, not taken for orphans). Mirrors wait for the Node's UID.
        await sp.scan();
        running.push(sp.run(loops.signal));
      }
      const node = await nm.register(signal);
      if (!node) return;
      const lease = new NodeLease({
        client: deps.heartbeatClient ?? deps.client, nodeName: s.nodeName, nodeUid: () => nm.uid, clock, logger: log, renewIntervalMs: timing.leaseRenewMs,
      });
      running.push(lease.run(loops.signal), nm.run(loops.signal));

      // Mirror pods (static pods shown in the API) are never run as pods of their own.
      pods.addEventHandler({
        onAdd: (pod) => { if (!staticPods?.observe(pod) && admit(pod)) workers.update(pod); },
        onUpdate: (old, pod) => {
          if (staticPods?.observe(pod)) return;
          if (old.metadata?.uid !== pod.metadata?.uid) workers.update(old, { deleted: true });
          if (admit(pod)) workers.update(pod);
        },
        onDelete: (pod) => { if (!staticPods?.observeDelete(pod)) workers.update(pod, { deleted: true }); },
      });
      informers?.start(loops.signal);
      if (!(await pods.waitForSync(signal))) return;
      try {
        await pleg.relist();
      } catch (err) {
        log.warn('first relist failed', { err: errorMessage(err) });
      }
      running.push(pleg.run(loops.signal));
      running.push(housekeeping(pods, loops.signal));
      // Dead containers and sandboxes by policy.
      running.push(containerGC.run(podGone, timing.containerGcMs, loops.signal));
      if (eviction) running.push(eviction.run(loops.signal));
      log.info('kubelet started', { kubeletPort: server?.port, healthPort: health?.port, runtime: runtimeVersionString });
      resolveReady({ kubeletPort: server?.port ?? s.kubeletPort, healthPort: health?.port });
      await new Promise<void>((resolve) => {
        if (signal.aborted) resolve(); else signal.addEventListener('abort', () => resolve(), { once: true });
      });
    } catch (err) {
      rejectReady(err);
      throw err;
    } finally {
      rejectReady(new Error('kubelet stopped before it was ready'));
      loops.abort();
      if (s.shutdownRemovePods && nodeManager?.uid) await gracefulShutdown(nodeManager);
      await workers.stop();
      await prober.stop();
      await Promise.allSettled(running);
      await informers?.stopped();
      await Promise.allSettled([server?.close(), health?.close()]);
      await events.flush();
      log.info('kubelet stopped', {});
    }
  }

  /**
   * Admission of a pod new to this kubelet (upstream HandlePodAdditions → canAdmitPod) under
   * node pressure: a rejected pod gets a Warning with the reason and goes straight to
   * termination, ending Failed with "Pod was rejected: …" (upstream rejectPod). Pods already
   * run (a worker, or containers after a restart), finished or being deleted are not checked.
   */
  function admit(pod: DeepReadonly<Pod>): boolean {
    const uid = pod.metadata?.uid;
    const phase = pod.status?.phase;
    if (!eviction || !uid || workers.has(uid) || pod.metadata?.deletionTimestamp || phase === 'Succeeded' || phase === 'Failed'
      || pleg.last?.pods.has(uid)) return true;
    const r = eviction.admit(pod);
    if (r.admit) return true;
    events.pod(pod, 'Warning', r.reason, r.message);
    workers.update(pod, { terminate: { gracePeriodSeconds: 0, rejected: true, reason: { reason: r.reason, message: rejectedPodMessage(r.message) } } });
    return false;
  }

  /** Orphans: runtime pods with neither a worker nor an API object get a worker that removes them. */
  async function housekeeping(pods: KubeletPodSource, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const r = pleg.last;
      for (const p of r?.pods.values() ?? []) {
        if (workers.has(p.uid) || pods.hasUid(p.uid)) continue;
        log.info('removing orphaned pod', { pod: `${p.namespace}/${p.name}`, uid: p.uid });
        const orphan: Pod = { metadata: { uid: p.uid, name: p.name, namespace: p.namespace }, spec: { containers: [], terminationGracePeriodSeconds: 0 } };
        workers.update(orphan, { deleted: true });
      }
      await volumes?.cleanupOrphans((uid) => workers.has(uid) || pods.hasUid(uid)).catch((err: unknown) => log.warn('removing orphaned pod directories failed', { err: errorMessage(err) }));
      await sleep(timing.housekeepingMs, signal);
    }
  }

  /** Upstream graceful node shutdown: terminate every pod within the budget, remove its containers. */
  async function gracefulShutdown(nm: NodeManager): Promise<void> {
    const budgetMs = (s.shutdownGraceSeconds ?? 20) * 1000;
    const started = clock.now();
    const uids = workers.uids();
    log.info('node shutting down: terminating pods', { pods: uids.length, budgetSeconds: budgetMs / 1000 });
    events.node('Normal', 'Shutdown', 'Shutdown manager detected shutdown event');
    const podGrace = Math.max(1, Math.floor(budgetMs / 1000) - 5);
    for (const uid of uids) {
      workers.terminate(uid, {
        gracePeriodSeconds: podGrace,
        removeContainers: true,
        reason: {
          reason: SHUTDOWN_REASON, message: SHUTDOWN_MESSAGE,
          condition: { type: 'DisruptionTarget', status: 'True', reason: 'TerminationByKubelet', message: SHUTDOWN_MESSAGE },
        },
      });
    }
    if (!(await workers.waitTerminated(uids, Math.max(1000, budgetMs - 3000)))) {
      log.warn('pods did not terminate within the shutdown budget; removing their containers', {});
    }
    await workers.stop(1000);
    try {
      const r = await pleg.relist();
      for (const uid of r.pods.keys()) await syncer.removePod(uid);
    } catch (err) {
      log.warn('removing leftover containers failed', { err: errorMessage(err) });
    }
    try {
      await nm.updateStatus(true, { ready: false, message: 'node is shutting down' });
    } catch (err) {
      log.warn('reporting node shutdown failed', { err: errorMessage(err) });
    }
    log.info('node shutdown complete', { tookMs: clock.now() - started });
  }

  return { start, ready: () => readyPromise };
}

