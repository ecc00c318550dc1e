/**
 * The kubelet process in simulated-node mode: one client, N simulated nodes, and one
 * plain-HTTP health endpoint for the whole process (TSKUBE_HEALTH_PORT): /readyz passes once
 * every node is registered, /metrics has the process metrics and `tskube_sim_nodes_ready`.
 */
import { createClientFromKubeconfig } from '@tskube/client';
import { newMetricsRegistry, startHealthServer } from '@tskube/component';
import type { Logger } from '@tskube/log';
import { Gauge } from 'prom-client';
import type { KubeletConfig } from '../config.js';
import type { SimConfig } from './config.js';
import { SIM_CLIENT_MAX_SOCKETS, SIM_HEARTBEAT_MAX_SOCKETS, buildSimulatedNodes } from './simulated-nodes.js';

export async function runSimulatedNodes(config: KubeletConfig, sim: SimConfig, log: Logger, signal: AbortSignal): Promise<void> {
  const client = createClientFromKubeconfig(config.kubeconfig, { component: 'kubelet', logger: log, maxSockets: SIM_CLIENT_MAX_SOCKETS });
  const heartbeatClient = createClientFromKubeconfig(config.kubeconfig, { component: 'kubelet', logger: log, maxSockets: SIM_HEARTBEAT_MAX_SOCKETS });
  const nodes = buildSimulatedNodes({
    client, heartbeatClient, logger: log, count: sim.count, prefix: sim.prefix, startDelayMs: sim.startDelayMs, zones: sim.zones,
    cpu: config.nodeCpu, memory: config.nodeMemory, maxPods: config.maxPods, concurrency: sim.concurrency,
    clusterName: config.clusterName, shutdownRemovePods: sim.shutdownRemovePods,
  });
  const registry = newMetricsRegistry('kubelet');
  new Gauge({
    name: 'tskube_sim_nodes_ready', help: 'Simulated nodes registered and synced in this process', registers: [registry],
    collect() { this.set(nodes.readyCount()); },
  });
  const health = await startHealthServer({
    port: config.healthPort, registry, logger: log,
    readiness: [{
      name: 'nodes-registered',
      check: () => { if (nodes.readyCount() < sim.count) throw new Error(`${nodes.readyCount()}/${sim.count} simulated nodes ready`); },
    }],
  });
  log.info('simulated-node mode', { nodes: sim.count, prefix: sim.prefix, healthPort: health.port });
  try {
    await nodes.start(signal);
  } finally {
    await health.close();
    client.close();
    heartbeatClient.close();
  }
}
