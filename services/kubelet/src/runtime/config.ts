/**
 * Configuration of the runtime service process (runtime-main.ts) from the environment,
 * validated once at start; every error names the variable. It reads the kubelet's variables
 * where they mean the same thing (both processes of a node get the same environment in
 * compose), and no kubeconfig: the runtime never talks to the apiserver.
 */
import { env } from '@tskube/component';
import { parseLogLevel, type LogLevel } from '@tskube/log';
import type { RuntimeKind } from '../config.js';

export interface RuntimeServiceConfig {
  /** TSKUBE_RUNTIME (docker): the implementation served. */
  runtime: RuntimeKind;
  /** TSKUBE_RUNTIME_SOCKET (/run/tskube/runtime.sock): where the CRI is served. */
  socketPath: string;
  /** TSKUBE_NODE_NAME; undefined: this container's name via Docker, else the hostname (as the kubelet). */
  nodeName?: string;
  /** TSKUBE_POD_NETWORK; undefined: this container's own network. */
  podNetwork?: string;
  /** TSKUBE_PAUSE_IMAGE (registry.k8s.io/pause:3.10). */
  pauseImage: string;
  /** TSKUBE_CLUSTER_NAME (tskube). */
  clusterName: string;
  /** TSKUBE_RUNTIME_HEALTH_PORT (10247): plain-HTTP /healthz, /readyz, /metrics; -1: not served. */
  healthPort: number;
  logLevel: LogLevel;
}

export function loadRuntimeServiceConfig(): RuntimeServiceConfig {
  const runtime = env.str('TSKUBE_RUNTIME', 'docker');
  if (runtime !== 'docker' && runtime !== 'fake') throw new Error(`TSKUBE_RUNTIME must be docker or fake, got "${runtime}"`);
  return {
    runtime,
    socketPath: env.str('TSKUBE_RUNTIME_SOCKET', '/run/tskube/runtime.sock'),
    nodeName: env.optional('TSKUBE_NODE_NAME'),
    podNetwork: env.optional('TSKUBE_POD_NETWORK'),
    pauseImage: env.str('TSKUBE_PAUSE_IMAGE', 'registry.k8s.io/pause:3.10'),
    clusterName: env.str('TSKUBE_CLUSTER_NAME', 'tskube'),
    healthPort: env.int('TSKUBE_RUNTIME_HEALTH_PORT', 10247, -1, 65535),
    logLevel: parseLogLevel(process.env.TSKUBE_LOG_LEVEL),
  };
}
