/**
 * Simulated nodes: N kubelets in one process, each the real kubelet (buildKubelet: node
 * registration and status, the node Lease, pod workers, PLEG, status manager, events) on an
 * in-memory runtime (sim-runtime.ts) instead of Docker, so the control plane can be run and
 * measured at hundreds or thousands of nodes on one machine, next to real nodes.
 *
 * What makes a node cheap here:
 * - one shared client (one keep-alive agent, created with SIM_CLIENT_MAX_SOCKETS) and one
 *   shared pod watch for all nodes
 *   (PodDispatcher: `spec.nodeName!=`, dispatched by node name) — no per-node watch;
 * - no kubelet HTTPS API and no health server per node (one for the process, in main-sim.ts);
 * - synthetic host facts (nothing read from /proc per node), a private fake backend per node;
 * - registrations run at most `concurrency` at a time, which also spreads the nodes' 10 s
 *   lease and status timers over the registration window instead of firing them all at once.
 *
 * Nodes are named `<prefix><i>` (i = 1..count) and labelled `kubernetes.io/hostname`,
 * `tskube.io/simulated=true` and, with zones, `topology.kubernetes.io/zone` round-robin
 * (node i gets zone (i-1) mod K). They register with the not-ready taint like any kubelet
 * (the node lifecycle controller lifts it once the node is Ready).
 *
 * `start(signal)` runs until `signal` aborts; then every kubelet stops (with
 * `shutdownRemovePods` false, the default here: like a killed kubelet, nodes and pods stay
 * in the API and go NotReady after the lease expires) and every fake container is killed, so
 * no simulated process keeps timers alive.
 */
import { createHash, randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { Client } from '@tskube/client';
import type { Logger } from '@tskube/log';
import { Registry } from 'prom-client';
import type { FakeBackendOptions } from '../cri/fake-runtime.js';
import { goArch, type HostFacts } from '../host/host-info.js';
import { buildKubelet, type Kubelet, type KubeletTiming } from '../kubelet.js';
import { succeedingProbeRunner } from '../prober/prober.js';
import { PodDispatcher } from './pod-dispatcher.js';
import { SimRuntime, nodeAddress } from './sim-runtime.js';

export const SIMULATED_LABEL = 'tskube.io/simulated';
/**
 * Connections the simulated nodes' pod client keeps at most (RestClient `maxSockets`): pod
 * status reads and writes, events. Requests beyond it queue in the client, which is the
 * backpressure a burst of thousands of pod starts needs so that the apiserver keeps room for
 * heartbeats and the controllers (upstream: each kubelet's QPS limit and API priority and
 * fairness); too few, and requests wait in the queue past the 30 s request timeout.
 */
export const SIM_CLIENT_MAX_SOCKETS = 64;
/**
 * Connections of the heartbeat client (Node status, Leases). Each node has at most one Lease
 * renewal and one status report in flight, so the natural bound is 2 per node; 256 lets 1,000
 * nodes renew 100 Leases a second even while the apiserver answers in seconds (a small pool
 * would queue renewals past the node monitor grace period and the nodes would turn NotReady).
 */
export const SIM_HEARTBEAT_MAX_SOCKETS = 256;
export const ZONE_LABEL = 'topology.kubernetes.io/zone';

export interface SimulatedNodesOptions {
  client: Client;
  /**
   * Client for Node status and Lease writes (default `client`): give it its own connections
   * (SIM_HEARTBEAT_MAX_SOCKETS) so heartbeats never queue behind a burst of pod traffic in
   * `client` — one kubelet's connection per node would not have that head-of-line blocking.
   */
  heartbeatClient?: Client;
  logger: Logger;
  count: number;
  /** Node name prefix; default "sim-node-" (names sim-node-1 … sim-node-N). */
  prefix?: string;
  /** Delay before a pod's sandbox is created (≈ bind → Running); default 0. */
  startDelayMs?: number;
  /** Zone names (round-robin), or a count K for zone-1 … zone-K; default none. */
  zones?: readonly string[] | number;
  /** Capacity per node; defaults 8 CPUs, 32Gi, 110 pods. */
  cpu?: string;
  memory?: string;
  maxPods?: number;
  /** Registrations in flight at once; default 50. */
  concurrency?: number;
  /** Kubelet periods (defaults: the real kubelet's). */
  timing?: Partial<KubeletTiming>;
  clusterName?: string;
  /** Terminate every pod when stopping, as a kubelet on SIGTERM does; default false. */
  shutdownRemovePods?: boolean;
  /** Fake runtime tuning (per-image behaviours, pull results). */
  backend?: FakeBackendOptions;
}

export interface SimulatedNodes {
  readonly names: readonly string[];
  /** Runs every node until `signal` aborts; resolves once all have stopped. Call once. */
  start(signal: AbortSignal): Promise<void>;
  /** Resolves once every node is registered and has synced its pods; rejects if startup fails. */
  ready(): Promise<void>;
  /** Nodes registered and synced so far. */
  readyCount(): number;
  /** The runtime of one node (tests: inspect fake containers). */
  runtime(nodeName: string): SimRuntime | undefined;
}

/** The zone names `zones` stands for. */
export function zoneNames(zones: SimulatedNodesOptions['zones']): string[] {
  if (zones === undefined) return [];
  if (typeof zones === 'number') return Array.from({ length: zones }, (_, i) => `zone-${i + 1}`);
  return [...zones];
}

/** The labels simulated node number `i` (1-based) registers with, besides the kubelet's defaults. */
export function simulatedNodeLabels(i: number, zones: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = { [SIMULATED_LABEL]: 'true' };
  if (zones.length > 0) labels[ZONE_LABEL] = zones[(i - 1) % zones.length]!;
  return labels;
}

const BOOT = randomUUID();

function simHost(nodeName: string): HostFacts {
  const id = createHash('sha256').update(`sim:${nodeName}`).digest('hex');
  return {
    cpuCores: 8, memoryBytes: 32 * 1024 ** 3, ephemeralStorageBytes: 100 * 1024 ** 3,
    kernelVersion: '6.1.0-tskube-sim', osImage: 'tskube simulated node', architecture: goArch(),
    machineID: id.slice(0, 32),
    systemUUID: `${id.slice(32, 40)}-${id.slice(40, 44)}-${id.slice(44, 48)}-${id.slice(48, 52)}-${id.slice(52, 64)}`,
    bootID: BOOT, hostname: nodeName,
  };
}

export function buildSimulatedNodes(o: SimulatedNodesOptions): SimulatedNodes {
  if (!Number.isInteger(o.count) || o.count < 1) throw new Error(`simulated node count must be a positive integer, got ${o.count}`);
  const prefix = o.prefix ?? 'sim-node-';
  const zones = zoneNames(o.zones);
  const names = Array.from({ length: o.count }, (_, i) => `${prefix}${i + 1}`);
  const log = o.logger.child({ sim: prefix });
  const dispatcher = new PodDispatcher({ client: o.client, logger: log });
  const runtimes = new Map<string, SimRuntime>();
  const kubelets: Kubelet[] = names.map((nodeName, i) => {
    const runtime = new SimRuntime({
      nodeName, index: i, clusterName: o.clusterName, startDelayMs: o.startDelayMs ?? 0, backendOptions: o.backend,
    });
    runtimes.set(nodeName, runtime);
    return buildKubelet({
      settings: {
        nodeName, nodeIP: nodeAddress(i), bindAddress: '127.0.0.1', kubeletPort: 10250,
        nodeCpu: o.cpu ?? '8', nodeMemory: o.memory ?? '32Gi', maxPods: o.maxPods ?? 110,
        shutdownRemovePods: o.shutdownRemovePods ?? false, labels: simulatedNodeLabels(i + 1, zones),
      },
      client: o.client, heartbeatClient: o.heartbeatClient, runtime, logger: log, host: simHost(nodeName), timing: o.timing,
      // a private registry: the per-node kubelet metrics are not served (they would collide by name)
      registry: new Registry(),
      pods: dispatcher.forNode(nodeName),
      // Simulated pods have no network: probes always succeed (a real prober would dial fake
      // pod IPs), and node stats are the sum of the fake runtime's pod figures.
      probeRunner: succeedingProbeRunner, nodeStats: 'pods',
    });
  });

  let ready = 0;
  let resolveReady!: () => void;
  let rejectReady!: (err: unknown) => void;
  const allReady = new Promise<void>((res, rej) => { resolveReady = res; rejectReady = rej; });
  allReady.catch(() => undefined);
  let started = false;

  async function start(signal: AbortSignal): Promise<void> {
    if (started) throw new Error('simulated nodes already started');
    started = true;
    // every kubelet (and its loops) listens on the one signal
    setMaxListeners(0, signal);
    dispatcher.start(signal);
    const runs: Promise<void>[] = [];
    const limit = Math.max(1, o.concurrency ?? 50);
    let next = 0;
    const launch = (): void => {
      if (signal.aborted || next >= kubelets.length) return;
      const k = kubelets[next++]!;
      runs.push(k.start(signal).catch((err: unknown) => { rejectReady(err); }));
      k.ready().then(() => {
        ready++;
        if (ready === kubelets.length) {
          log.info('simulated nodes ready', { nodes: ready });
          resolveReady();
        }
        launch();
      }, (err: unknown) => { if (!signal.aborted) rejectReady(err); });
    };
    log.info('starting simulated nodes', { nodes: kubelets.length, concurrency: limit, zones: zones.length });
    for (let i = 0; i < limit; i++) launch();
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve(); else signal.addEventListener('abort', () => resolve(), { once: true });
    });
    rejectReady(new Error('simulated nodes stopped before they were ready'));
    await Promise.allSettled(runs);
    for (const r of runtimes.values()) r.backend.killAll();
    await dispatcher.stopped();
    log.info('simulated nodes stopped', { nodes: kubelets.length });
  }

  return {
    names,
    start,
    ready: () => allReady,
    readyCount: () => ready,
    runtime: (name) => runtimes.get(name),
  };
}
