/**
 * Simulated nodes for integration tests and benchmarks: N in-process kubelets on the
 * in-memory fake runtime (services/kubelet/src/sim), registering Nodes, renewing Leases and
 * running bound pods (the fake shell: `sleep 3600` runs, `sh -c "exit 0"` succeeds).
 *
 *   const api = await startApiServer();
 *   const sched = await startScheduler(api);
 *   const sim = await startSimulatedNodes(api, { count: 50, zones: 3 });
 *   ... pods get bound and turn Running ...
 *   await sim.stop(); await sched.stop(); await api.stop();
 *
 * Resolves once every node is registered and Ready. Nodes register with the
 * `node.kubernetes.io/not-ready:NoSchedule` taint like real kubelets; unless
 * `removeNotReadyTaint: false`, this helper then lifts it itself (a stand-in for the node
 * lifecycle controller, so tests without a controller-manager can schedule). `stop()` stops
 * the kubelets and kills their fake containers; Nodes and pods stay in the API (delete them,
 * or the apiserver, yourself).
 */
import type { Node } from '@tskube/api';
import { isApiError } from '@tskube/api';
import { createClientFromKubeconfig, Resources, type Client, type RestClient } from '@tskube/client';
import { SIM_CLIENT_MAX_SOCKETS, SIM_HEARTBEAT_MAX_SOCKETS, buildSimulatedNodes, type KubeletTiming, type SimulatedNodes } from '@tskube/kubelet';
import { testLogger } from './control-plane.js';

export interface SimNodesOptions {
  count: number;
  /** Node name prefix; default "sim-node-" (sim-node-1 …). */
  prefix?: string;
  /** bind → Running delay per pod; default 0. */
  startDelayMs?: number;
  /** Zone count (zone-1 … zone-K) or names, round-robin into topology.kubernetes.io/zone. */
  zones?: number | string[];
  /** Per-node capacity; defaults 8 / 32Gi / 110. */
  cpu?: string;
  memory?: string;
  maxPods?: number;
  /** Lift the not-ready taint once registered (default true; see the module doc). */
  removeNotReadyTaint?: boolean;
  /** Kubelet periods, e.g. a short leaseRenewMs in tests. */
  timing?: Partial<KubeletTiming>;
  /** Registrations in flight at once; default 50. */
  concurrency?: number;
}

export interface RunningSimNodes {
  readonly names: readonly string[];
  readonly nodes: SimulatedNodes;
  /** The kubelets' client (kubelet kubeconfig). */
  readonly client: RestClient;
  stop(): Promise<void>;
}

const NOT_READY = 'node.kubernetes.io/not-ready';

/** Lifts `node.kubernetes.io/not-ready:NoSchedule` from one node (conflicts retried; absent taint is a no-op). */
export async function removeNotReadyTaint(client: Client, name: string): Promise<void> {
  const nodes = client.resource(Resources.nodes);
  for (let attempt = 0; attempt < 10; attempt++) {
    const node: Node = await nodes.get(name);
    const taints = node.spec?.taints ?? [];
    const kept = taints.filter((t) => !(t.key === NOT_READY && t.effect === 'NoSchedule'));
    if (kept.length === taints.length) return;
    try {
      await nodes.update({ ...node, spec: { ...node.spec, taints: kept } });
      return;
    } catch (err) {
      if (!isApiError(err, 'Conflict')) throw err;
    }
  }
  throw new Error(`could not lift the not-ready taint of node ${name}: too many conflicts`);
}

/** Runs `task` over `items` with at most `limit` in flight. */
export async function each<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    for (let i = next++; i < items.length; i = next++) await task(items[i]!);
  }));
}

export async function startSimulatedNodes(api: { kubeconfigs: { kubelet: string } }, o: SimNodesOptions): Promise<RunningSimNodes> {
  const client = createClientFromKubeconfig(api.kubeconfigs.kubelet, { component: 'kubelet', maxSockets: SIM_CLIENT_MAX_SOCKETS });
  const heartbeatClient = createClientFromKubeconfig(api.kubeconfigs.kubelet, { component: 'kubelet', maxSockets: SIM_HEARTBEAT_MAX_SOCKETS });
  const nodes = buildSimulatedNodes({
    client, heartbeatClient, logger: testLogger('sim-nodes'), count: o.count, prefix: o.prefix, startDelayMs: o.startDelayMs, zones: o.zones,
    cpu: o.cpu, memory: o.memory, maxPods: o.maxPods, timing: o.timing, concurrency: o.concurrency,
  });
  const ac = new AbortController();
  const done = nodes.start(ac.signal);
  const stop = async (): Promise<void> => {
    ac.abort();
    await done;
    client.close();
    heartbeatClient.close();
  };
  try {
    await nodes.ready();
    if (o.removeNotReadyTaint ?? true) await each(nodes.names, 32, (n) => removeNotReadyTaint(client, n));
  } catch (err) {
    await stop();
    throw err;
  }
  return { names: nodes.names, nodes, client, stop };
}
