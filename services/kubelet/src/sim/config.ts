/**
 * Simulated-node mode settings (TSKUBE_SIMULATED_NODES > 0 switches the kubelet main to it),
 * validated once at start; every error names the variable. Capacity (TSKUBE_NODE_CPU,
 * TSKUBE_NODE_MEMORY, TSKUBE_NODE_MAX_PODS), the kubeconfig, health port and log level come
 * from the kubelet's own config (config.ts).
 */
import { env } from '@tskube/component';

export interface SimConfig {
  /** TSKUBE_SIMULATED_NODES: how many nodes this process hosts. */
  count: number;
  /** TSKUBE_SIM_NODE_PREFIX ("sim-node-"): nodes are <prefix>1 … <prefix>N. */
  prefix: string;
  /** TSKUBE_SIM_START_DELAY_MS (0): bind → Running delay per pod. */
  startDelayMs: number;
  /** TSKUBE_SIM_ZONES: a count K (zone-1 … zone-K) or a comma list of zone names; unset: no zone label. */
  zones: string[] | number | undefined;
  /** TSKUBE_SIM_CONCURRENCY (50): registrations in flight at once. */
  concurrency: number;
  /** TSKUBE_SHUTDOWN_REMOVE_PODS, default false here: stopping leaves nodes and pods as a killed kubelet does. */
  shutdownRemovePods: boolean;
}

const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** The simulated-node settings, or undefined when TSKUBE_SIMULATED_NODES is unset or 0. */
export function loadSimConfig(): SimConfig | undefined {
  const count = env.int('TSKUBE_SIMULATED_NODES', 0, 0, 16_384);
  if (count === 0) return undefined;
  const prefix = env.str('TSKUBE_SIM_NODE_PREFIX', 'sim-node-');
  if (!/^[a-z0-9]([-a-z0-9.]*)$/.test(prefix)) {
    throw new Error(`TSKUBE_SIM_NODE_PREFIX must start a DNS subdomain name (lower-case letters, digits, "-", "."), got "${prefix}"`);
  }
  const z = env.optional('TSKUBE_SIM_ZONES');
  let zones: SimConfig['zones'];
  if (z !== undefined && /^\d+$/.test(z)) {
    zones = env.int('TSKUBE_SIM_ZONES', 0, 1, 1000);
  } else if (z !== undefined) {
    zones = z.split(',').map((s) => s.trim()).filter(Boolean);
    const badZone = zones.find((s) => s.length > 63 || !NAME.test(s));
    if (zones.length === 0 || badZone !== undefined) throw new Error(`TSKUBE_SIM_ZONES must be a count or a comma list of label values, got "${z}"`);
  }
  return {
    count, prefix, zones,
    startDelayMs: env.int('TSKUBE_SIM_START_DELAY_MS', 0, 0, 3_600_000),
    concurrency: env.int('TSKUBE_SIM_CONCURRENCY', 50, 1, 10_000),
    shutdownRemovePods: env.bool('TSKUBE_SHUTDOWN_REMOVE_PODS', false),
  };
}
