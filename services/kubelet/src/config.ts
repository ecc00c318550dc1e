/**
 * Kubelet configuration from the environment (CONVENTIONS.md), validated once at start;
 * every error names the variable. Values left to discovery (node name, pod network, node
 * IP) stay undefined here and are resolved by main.ts.
 */
import { env } from '@tskube/component';
import { isValidQuantity } from '@tskube/api';
import { parseLogLevel, type LogLevel } from '@tskube/log';
import {
  DEFAULT_MONITORING_INTERVAL_MS, DEFAULT_PRESSURE_TRANSITION_PERIOD_MS, parseGoDuration, parseReserved, parseThresholdConfig,
  parseThresholdStatements, type EvictionConfig,
} from './eviction/thresholds.js';

export type RuntimeKind = 'docker' | 'fake';

export interface KubeletConfig {
  kubeconfig: string;
  /** TSKUBE_NODE_NAME; undefined: the kubelet's container name, else the hostname. */
  nodeName?: string;
  /** TSKUBE_NODE_IP; undefined: the kubelet's IP on the pod network (docker) or its first IPv4. */
  nodeIP?: string;
  kubeletPort: number;
  /** TSKUBE_KUBELET_BIND_ADDRESS (0.0.0.0). */
  bindAddress: string;
  healthPort: number;
  /** TSKUBE_POD_NETWORK; undefined: the kubelet container's own network. */
  podNetwork?: string;
  pauseImage: string;
  clusterName: string;
  nodeCpu?: string;
  nodeMemory?: string;
  /** TSKUBE_NODE_MAX_PODS (110): the node's pod capacity. */
  maxPods: number;
  /** TSKUBE_CA_FILE; undefined: the kubeconfig's certificate authority. */
  caFile?: string;
  runtime: RuntimeKind;
  runtimeSocket: string;
  /**
   * TSKUBE_RUNTIME_EXTERNAL (false): connect to a runtime service another process serves on
   * the socket (runtime-main.js; supervisor-main.js sets this) instead of starting one in-process.
   */
  runtimeExternal: boolean;
  shutdownRemovePods: boolean;
  /** TSKUBE_SHUTDOWN_GRACE_SECONDS (20): budget of a graceful shutdown. */
  shutdownGraceSeconds: number;
  /**
   * TSKUBE_KUBELET_ROOT: pod volume directories; must be the same path for the kubelet and
   * the Docker engine. Undefined: <TSKUBE_KUBELET_ROOT_BASE>/<cluster>/<node> (main.ts).
   */
  rootDir?: string;
  /** TSKUBE_KUBELET_ROOT_BASE (/var/lib/tskube-kubelet): parent of the default root dirs. */
  rootBase: string;
  /** TSKUBE_STATIC_POD_PATH (/etc/kubernetes/manifests): static pod manifests; "" turns static pods off. */
  staticPodPath?: string;
  /** TSKUBE_SYSTEM_RESERVED: `cpu=100m,memory=256Mi,ephemeral-storage=1Gi,pid=1000` (upstream --system-reserved). */
  systemReserved?: Record<string, string>;
  /** TSKUBE_KUBE_RESERVED: the same syntax (upstream --kube-reserved). */
  kubeReserved?: Record<string, string>;
  /** TSKUBE_EVICTION_*: thresholds, transition period, monitoring interval (docs/kubelet.md "Node pressure"). */
  eviction: EvictionConfig;
  logLevel: LogLevel;
}

function quantity(name: string): string | undefined {
  const v = env.optional(name);
  if (v !== undefined && !isValidQuantity(v)) throw new Error(`${name} must be a quantity (e.g. "4", "500m", "8Gi"), got "${v}"`);
  return v;
}

/** Runs `parse` on the variable's value (when set), naming the variable in any error. */
function parsedVar<T>(name: string, parse: (v: string) => T): T | undefined {
  const v = env.optional(name);
  if (v === undefined) return undefined;
  try {
    return parse(v);
  } catch (err) {
    throw new Error(`${name}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function durationVar(name: string, dfltMs: number): number {
  const ms = parsedVar(name, parseGoDuration) ?? dfltMs;
  if (ms < 0) throw new Error(`${name} must not be negative`);
  return ms;
}

/** The TSKUBE_EVICTION_* variables (upstream --eviction-hard, --eviction-soft, … flags). */
export function loadEvictionConfig(): EvictionConfig {
  // each list on its own first, so an error names the right variable
  const hard = parsedVar('TSKUBE_EVICTION_HARD', (v) => { if (v.trim() !== 'none') parseThresholdStatements(v); return v; });
  const soft = parsedVar('TSKUBE_EVICTION_SOFT', (v) => { parseThresholdStatements(v); return v; });
  const softGracePeriod = env.optional('TSKUBE_EVICTION_SOFT_GRACE_PERIOD');
  const minimumReclaim = env.optional('TSKUBE_EVICTION_MINIMUM_RECLAIM');
  let thresholds;
  try {
    thresholds = parseThresholdConfig({ hard, soft, softGracePeriod, minimumReclaim });
  } catch (err) {
    throw new Error(`TSKUBE_EVICTION_SOFT_GRACE_PERIOD / TSKUBE_EVICTION_MINIMUM_RECLAIM: ${err instanceof Error ? err.message : String(err)}`);
  }
  const monitoringIntervalMs = durationVar('TSKUBE_EVICTION_MONITORING_INTERVAL', DEFAULT_MONITORING_INTERVAL_MS);
  if (monitoringIntervalMs < 100) throw new Error('TSKUBE_EVICTION_MONITORING_INTERVAL must be at least 100ms');
  return {
    thresholds,
    pressureTransitionPeriodMs: durationVar('TSKUBE_EVICTION_PRESSURE_TRANSITION_PERIOD', DEFAULT_PRESSURE_TRANSITION_PERIOD_MS),
    maxPodGracePeriodSeconds: env.int('TSKUBE_EVICTION_MAX_POD_GRACE_PERIOD', 0, 0, 86_400),
    monitoringIntervalMs,
  };
}

export function loadConfig(): KubeletConfig {
  const runtime = env.str('TSKUBE_RUNTIME', 'docker');
  if (runtime !== 'docker' && runtime !== 'fake') throw new Error(`TSKUBE_RUNTIME must be docker or fake, got "${runtime}"`);
  return {
    kubeconfig: env.str('TSKUBE_KUBECONFIG'),
    nodeName: env.optional('TSKUBE_NODE_NAME'),
    nodeIP: env.optional('TSKUBE_NODE_IP'),
    kubeletPort: env.int('TSKUBE_KUBELET_PORT', 10250, 0, 65535),
    bindAddress: env.str('TSKUBE_KUBELET_BIND_ADDRESS', '0.0.0.0'),
    healthPort: env.int('TSKUBE_HEALTH_PORT', 10248, 0, 65535),
    podNetwork: env.optional('TSKUBE_POD_NETWORK'),
    pauseImage: env.str('TSKUBE_PAUSE_IMAGE', 'registry.k8s.io/pause:3.10'),
    clusterName: env.str('TSKUBE_CLUSTER_NAME', 'tskube'),
    nodeCpu: quantity('TSKUBE_NODE_CPU'),
    nodeMemory: quantity('TSKUBE_NODE_MEMORY'),
    maxPods: env.int('TSKUBE_NODE_MAX_PODS', 110, 1, 10_000),
    caFile: env.optional('TSKUBE_CA_FILE'),
    runtime,
    runtimeSocket: env.str('TSKUBE_RUNTIME_SOCKET', '/run/tskube/runtime.sock'),
    runtimeExternal: env.bool('TSKUBE_RUNTIME_EXTERNAL', false),
    shutdownRemovePods: env.bool('TSKUBE_SHUTDOWN_REMOVE_PODS', true),
    shutdownGraceSeconds: env.int('TSKUBE_SHUTDOWN_GRACE_SECONDS', 20, 1, 3600),
    rootDir: env.optional('TSKUBE_KUBELET_ROOT'),
    rootBase: env.str('TSKUBE_KUBELET_ROOT_BASE', '/var/lib/tskube-kubelet'),
    staticPodPath: process.env.TSKUBE_STATIC_POD_PATH === '' ? undefined : env.str('TSKUBE_STATIC_POD_PATH', '/etc/kubernetes/manifests'),
    systemReserved: parsedVar('TSKUBE_SYSTEM_RESERVED', parseReserved),
    kubeReserved: parsedVar('TSKUBE_KUBE_RESERVED', parseReserved),
    eviction: loadEvictionConfig(),
    logLevel: parseLogLevel(process.env.TSKUBE_LOG_LEVEL),
  };
}
