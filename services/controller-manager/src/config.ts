/**
 * controller-manager configuration from the environment, validated once at start:
 *
 *   TSKUBE_KUBECONFIG                   kubeconfig to reach the apiserver (required)
 *   TSKUBE_HEALTH_PORT                  plain-HTTP /healthz /readyz /metrics (10257)
 *   TSKUBE_LOG_LEVEL                    error | warn | info | debug (info)
 *   TSKUBE_LEADER_ELECT                 run controllers only while holding the Lease
 *                                       kube-system/kube-controller-manager (true)
 *   TSKUBE_NODE_MONITOR_GRACE_PERIOD    seconds without a kubelet Lease renewal before a node
 *                                       turns Unknown (40)
 *   TSKUBE_NODE_STARTUP_GRACE_PERIOD    the same for a node that never posted Ready (60)
 *   TSKUBE_CONTROLLERS                  comma list as upstream --controllers: "*" = all,
 *                                       "name" enables, "-name" disables ("*")
 */
import { env } from '@tskube/component';
import { parseLogLevel, type LogLevel } from '@tskube/log';

export interface ControllerManagerConfig {
  kubeconfig: string;
  healthPort: number;
  logLevel: LogLevel;
  leaderElect: boolean;
  nodeMonitorGracePeriodSeconds: number;
  nodeStartupGracePeriodSeconds: number;
  /** The TSKUBE_CONTROLLERS items, checked against the known controllers by `selectControllers`. */
  controllers: string[];
}

/** Reads process.env; throws an Error naming the variable on any bad value. */
export function loadConfig(): ControllerManagerConfig {
  const controllers = env.str('TSKUBE_CONTROLLERS', '*').split(',').map((s) => s.trim()).filter(Boolean);
  return {
    kubeconfig: env.str('TSKUBE_KUBECONFIG'),
    healthPort: env.int('TSKUBE_HEALTH_PORT', 10257, 0, 65535),
    logLevel: parseLogLevel(env.optional('TSKUBE_LOG_LEVEL')),
    leaderElect: env.bool('TSKUBE_LEADER_ELECT', true),
    nodeMonitorGracePeriodSeconds: env.int('TSKUBE_NODE_MONITOR_GRACE_PERIOD', 40, 1, 86400),
    nodeStartupGracePeriodSeconds: env.int('TSKUBE_NODE_STARTUP_GRACE_PERIOD', 60, 1, 86400),
    controllers: controllers.length ? controllers : ['*'],
  };
}
