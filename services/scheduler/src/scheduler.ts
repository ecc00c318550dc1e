/**
 * Wiring of the scheduler (design habit 1): informers → cache and queue; framework built from
 * the plugin registry and profile; the scheduling loop, run by the leader only; health and
 * metrics endpoint.
 *
 *   pod informer ──assigned pods──► SchedulerCache ◄── assume ── SchedulerLoop ──bind──► apiserver
 *        │        ──pending pods (ours, unbound, not deleting)──► SchedulingQueue ──pop──┘
 *   node informer ──► SchedulerCache, and cluster events ──► SchedulingQueue (requeue)
 *
 * Event handlers only update the cache and the queue; all API writes happen in the loop.
 */
import { setMaxListeners } from 'node:events';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { Registry as MetricsRegistry } from 'prom-client';
import {
  InformerFactory, LeaderElector, Resources, createEventRecorder, type Client, type DeepReadonly,
} from '@tskube/client';
import { startHealthServer, type HealthServer } from '@tskube/component';
import type { Logger } from '@tskube/log';
import type { Pod } from '@tskube/api';
import { SchedulerCache, Snapshot } from './cache/cache.js';
import { Framework } from './framework/framework.js';
import { defaultProfile, type Profile, type Registry } from './framework/registry.js';
import { PodScheduler } from './framework/schedule-pod.js';
import type { ReadonlyPod } from './framework/types.js';
import { newSchedulerMetrics } from './metrics.js';
import { inTreeRegistry } from './plugins/index.js';
import { Events, assignedPodChange, nodeChange, nodeSchedulingPropertiesChange } from './queue/events.js';
import { SchedulingQueue } from './queue/scheduling-queue.js';
import { SchedulerLoop } from './schedule-one.js';
import { DEFAULT_DEBUG_RECORDS, DebugStore } from './debug.js';
import type { ClusterListers } from './framework/registry.js';

export const LEASE_NAMESPACE = 'kube-system';
export const LEASE_NAME = 'kube-scheduler';

export interface SchedulerDeps {
  client: Client;
  logger: Logger;
  /** Pods with this spec.schedulerName are ours (default "default-scheduler"). */
  schedulerName?: string;
  /** Take part in leader election on Lease kube-system/kube-scheduler (default true). */
  leaderElect?: boolean;
  /** Lease timings (defaults: 15 s / 10 s / 2 s, as upstream). */
  leaderElection?: { leaseDurationMs?: number; renewDeadlineMs?: number; retryPeriodMs?: number };
  /** Candidate identity; default `<hostname>_<uuid>`. */
  identity?: string;
  /** Port of the /healthz /readyz /metrics endpoint (0 = any); undefined = no endpoint. */
  healthPort?: number;
  /** Metrics registry (default: a new one). */
  metrics?: MetricsRegistry;
  /** Plugin registry and profile (default: in-tree plugins, default profile). */
  registry?: Registry;
  profile?: Profile;
  /** How long an assumed pod whose binding finished may stay unconfirmed by the informer; 0 (default, as upstream) = forever. */
  assumedPodTtlMs?: number;
  /** Queue timings (tests). */
  queue?: { initialBackoffMs?: number; maxBackoffMs?: number; maxInUnschedulableMs?: number; backoffFlushIntervalMs?: number };
  now?: () => number;
  random?: () => number;
  /** How many pods' latest attempts the debug endpoint remembers (default 256; 0 = none). */
  debugRecords?: number;
}

export type StopReason = 'shutdown' | 'leadership-lost';

export interface Scheduler {
  /**
   * Starts informers, the health endpoint and (as leader) the scheduling loop. Resolves when
   * `signal` aborts ('shutdown') or leadership is lost ('leadership-lost'; the process should
   * exit, as upstream does), after everything it started has stopped. Call once.
   */
  start(signal: AbortSignal): Promise<StopReason>;
  /** The health endpoint's port once listening. */
  readonly healthPort: number | undefined;
  /** Informer caches are synced. */
  isReady(): boolean;
  /** This instance is scheduling (leader, or leader election disabled). */
  isLeader(): boolean;
  /** The debug view of the pod's latest scheduling attempt (what GET /debug/pods/<ns>/<name> serves), or undefined. */
  debugPod(namespace: string, name: string): unknown;
}

export const DEBUG_PODS_PREFIX = '/debug/pods/';

function isAssigned(p: DeepReadonly<Pod>): boolean {
  return Boolean(p.spec?.nodeName);
}

export function buildScheduler(deps: SchedulerDeps): Scheduler {
  const log = deps.logger;
  const schedulerName = deps.schedulerName ?? 'default-scheduler';
  const profile = deps.profile ?? defaultProfile(schedulerName);
  const now = deps.now ?? Date.now;
  const client = deps.client;
  const metricsRegistry = deps.metrics ?? new MetricsRegistry();
  const identity = deps.identity ?? `${hostname()}_${randomUUID()}`;

  // A burst of thousands of pending pods means thousands of Scheduled events while the
  // apiserver is busiest with their bindings: queue them (≈1 KiB each) rather than drop them.
  const recorder = createEventRecorder({
    client, component: profile.schedulerName, instance: `${profile.schedulerName}-${hostname()}`, logger: log, maxQueued: 10_000,
  });
  // Finished pods hold no resources: upstream's scheduler informer leaves them out.
  const factory = new InformerFactory({ client, logger: log });
  const pods = factory.informer(Resources.pods, { fieldSelector: 'status.phase!=Succeeded,status.phase!=Failed' });
  const nodes = factory.informer(Resources.nodes);
  // What PodTopologySpread (default constraints), InterPodAffinity (namespace selectors) and
  // DefaultPreemption (PodDisruptionBudgets) read.
  const namespaces = factory.informer(Resources.namespaces);
  const services = factory.informer(Resources.services);
  const rcs = factory.informer(Resources.replicationControllers);
  const replicaSets = factory.informer(Resources.replicaSets);
  const statefulSets = factory.informer(Resources.statefulSets);
  const pdbs = factory.informer(Resources.podDisruptionBudgets);
  const informers = [pods, nodes, namespaces, services, rcs, replicaSets, statefulSets, pdbs];
  const listers: ClusterListers = {
    namespace: (name) => namespaces.lister.getByName(undefined, name),
    namespaces: () => namespaces.lister.list(),
    services: (ns) => services.lister.listNamespace(ns),
    replicationController: (ns, name) => rcs.lister.getByName(ns, name),
    replicaSet: (ns, name) => replicaSets.lister.getByName(ns, name),
    statefulSet: (ns, name) => statefulSets.lister.getByName(ns, name),
    podDisruptionBudgets: () => pdbs.lister.list(),
  };

  const snapshot = new Snapshot();
  const framework = new Framework({
    registry: deps.registry ?? inTreeRegistry(), profile, client, logger: log.child({ subsystem: 'framework' }), now, snapshot, listers, recorder,
  });
  const queue = new SchedulingQueue({
    logger: log.child({ subsystem: 'queue' }), queueSort: framework.queueSortPlugin, pluginEvents: framework.eventsToRegister(), now, ...deps.queue,
  });
  framework.setPodNominator(queue.nominator);
  const cache = new SchedulerCache({ logger: log.child({ subsystem: 'cache' }), now, assumedPodTtlMs: deps.assumedPodTtlMs });
  const metrics = newSchedulerMetrics(metricsRegistry, () => queue.lengths());
  const debug = new DebugStore(deps.debugRecords ?? DEFAULT_DEBUG_RECORDS);
  const debugEnabled = (deps.debugRecords ?? DEFAULT_DEBUG_RECORDS) > 0;
  const responsible = (p: ReadonlyPod) => p.spec?.schedulerName === profile.schedulerName && !p.metadata?.deletionTimestamp;

  pods.addEventHandler({
    onAdd: (p) => {
      if (isAssigned(p)) {
        cache.addPod(p);
        queue.moveAllToActiveOrBackoffQueue(assignedPodChange(Events.AssignedPodAdd, undefined, p));
      } else if (responsible(p)) {
        queue.add(p);
      }
    },
    onUpdate: (old, p) => {
      if (isAssigned(p)) {
        if (isAssigned(old)) {
          cache.updatePod(p);
          queue.moveAllToActiveOrBackoffQueue(assignedPodChange(Events.AssignedPodUpdate, old, p));
        } else {
          // Just bound (by us, confirming the assumption, or by someone else).
          cache.addPod(p);
          queue.delete(p);
          queue.moveAllToActiveOrBackoffQueue(assignedPodChange(Events.AssignedPodAdd, undefined, p));
        }
        return;
      }
      if (responsible(p)) queue.update(old, p);
      else queue.delete(p);
    },
    onDelete: (p) => {
      debug.delete(p.metadata?.namespace ?? '', p.metadata?.name ?? '');
      if (isAssigned(p)) {
        cache.removePod(p);
        queue.moveAllToActiveOrBackoffQueue(assignedPodChange(Events.AssignedPodDelete, p, undefined));
      } else {
        cache.removePod(p); // an assumed pod deleted before its binding was seen
        queue.delete(p);
      }
    },
  });
  nodes.addEventHandler({
    onAdd: (n) => {
      cache.addNode(n);
      queue.moveAllToActiveOrBackoffQueue(nodeChange(Events.NodeAdd, undefined, n));
    },
    onUpdate: (old, n) => {
      cache.updateNode(n);
      for (const ev of nodeSchedulingPropertiesChange(n, old)) queue.moveAllToActiveOrBackoffQueue(nodeChange(ev, old, n));
    },
    onDelete: (n) => cache.removeNode(n),
  });

  const loop = new SchedulerLoop({
    framework, podScheduler: new PodScheduler({ random: deps.random }), queue, cache, client, recorder, metrics,
    getPod: (ns, name) => pods.lister.getByName(ns, name),
    logger: log, now, ...(debugEnabled ? { debug } : {}),
  }, snapshot);

  function debugPod(namespace: string, name: string): unknown {
    const r = debug.get(namespace, name);
    if (!r) return undefined;
    const current = pods.lister.getByName(namespace, name);
    return { ...(debug.render(r) as Record<string, unknown>), currentNodeName: current?.spec?.nodeName ?? null, pending: Boolean(current && !current.spec?.nodeName) };
  }

  function debugEndpoint(path: string): { status: number; contentType: string; body: string } | undefined {
    if (!path.startsWith(DEBUG_PODS_PREFIX)) return undefined;
    const parts = path.slice(DEBUG_PODS_PREFIX.length).split('/').filter(Boolean).map(decodeURIComponent);
    const json = (status: number, body: unknown) => ({ status, contentType: 'application/json', body: `${JSON.stringify(body, null, 2)}\n` });
    if (parts.length !== 2) return json(400, { message: 'use /debug/pods/<namespace>/<name>' });
    const view = debugPod(parts[0]!, parts[1]!);
    return view ? json(200, view) : json(404, { message: `no scheduling attempt of pod ${parts[0]}/${parts[1]} is remembered` });
  }

  let leading = false;
  let healthPort: number | undefined;

  async function schedule(signal: AbortSignal): Promise<void> {
    leading = true;
    log.info('scheduling started', { schedulerName: profile.schedulerName, pending: queue.lengths() });
    try {
      await loop.run(signal);
    } finally {
      leading = false;
    }
  }

  return {
    get healthPort() { return healthPort; },
    isReady: () => informers.every((i) => i.hasSynced()),
    isLeader: () => leading,
    debugPod,

    async start(signal: AbortSignal): Promise<StopReason> {
      let health: HealthServer | undefined;
      if (deps.healthPort !== undefined) {
        health = await startHealthServer({
          port: deps.healthPort, registry: metricsRegistry, logger: log, extra: debugEndpoint,
          readiness: [{
            name: 'informer-sync',
            check: () => { if (!informers.every((i) => i.hasSynced())) throw new Error('informers not synced'); },
          }],
        });
        healthPort = health.port;
      }
      // Every informer, watch, queue and binding in flight listens on this signal: more than
      // Node's default of 10 listeners is expected, not a leak.
      const stop = new AbortController();
      setMaxListeners(0, stop.signal);
      const onAbort = () => stop.abort();
      signal.addEventListener('abort', onAbort, { once: true });
      let reason: StopReason = 'shutdown';
      try {
        factory.start(stop.signal);
        queue.run(stop.signal);
        if ((deps.assumedPodTtlMs ?? 0) > 0) {
          const cleanup = setInterval(() => cache.cleanupAssumedPods(), 1000);
          stop.signal.addEventListener('abort', () => clearInterval(cleanup), { once: true });
        }
        if (!(await factory.waitForSync(stop.signal))) return reason;
        log.info('caches synced', { nodes: cache.nodeCount, pods: cache.podCount, pending: queue.lengths() });
        if (deps.leaderElect ?? true) {
          let scheduling: Promise<void> = Promise.resolve();
          await new LeaderElector({
            client, namespace: LEASE_NAMESPACE, name: LEASE_NAME, identity, logger: log, releaseOnCancel: true,
            ...deps.leaderElection,
            onStartedLeading: (leaderSignal) => { scheduling = schedule(leaderSignal); },
          }).run(stop.signal);
          await scheduling;
          if (!signal.aborted) {
            reason = 'leadership-lost';
            log.error('leader election lost', { identity });
          }
        } else {
          await schedule(stop.signal);
        }
        return reason;
      } finally {
        signal.removeEventListener('abort', onAbort);
        stop.abort();
        queue.close();
        await factory.stopped();
        await recorder.flush();
        await health?.close();
      }
    },
  };
}

