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
 *   TSKUBE_HPA_SYNC_PERIOD              seconds between two reconciles of an HPA (15)
 *   TSKUBE_HPA_DOWNSCALE_STABILIZATION  seconds of recommendations a scale-down looks back
 *                                       over (300; tests shorten it)
 *   TSKUBE_HPA_TOLERANCE                usage ratio band around 1 that causes no scaling (0.1)
 *   TSKUBE_HPA_CPU_INITIALIZATION_PERIOD  seconds after a pod's start in which its CPU sample
 *                                       counts only once it is Ready for a window (300)
 *   TSKUBE_HPA_INITIAL_READINESS_DELAY  seconds after start in which a not-Ready pod counts as
 *                                       never ready (30)
 * (the last five are upstream's --horizontal-pod-autoscaler-* flags)
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
  /** The HPA controller's tunables (unset: upstream's defaults). */
  hpa?: HPAConfig;
}

/** upstream --horizontal-pod-autoscaler-* flags. */
export interface HPAConfig {
  syncPeriodSeconds: number;
  downscaleStabilizationSeconds: number;
  tolerance: number;
  cpuInitializationPeriodSeconds: number;
  initialReadinessDelaySeconds: number;
}

/** A non-negative decimal from the environment. */
function envFloat(name: string, dflt: number): number {
  const v = env.optional(name);
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!/^\d+(\.\d+)?$/.test(v) || !Number.isFinite(n)) throw new Error(`${name} must be a non-negative number, got "${v}"`);
  return n;
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
    hpa: {
      syncPeriodSeconds: env.int('TSKUBE_HPA_SYNC_PERIOD', 15, 1, 86400),
      downscaleStabilizationSeconds: env.int('TSKUBE_HPA_DOWNSCALE_STABILIZATION', 300, 0, 86400),
      tolerance: envFloat('TSKUBE_HPA_TOLERANCE', 0.1),
      cpuInitializationPeriodSeconds: env.int('TSKUBE_HPA_CPU_INITIALIZATION_PERIOD', 300, 0, 86400),
      initialReadinessDelaySeconds: env.int('TSKUBE_HPA_INITIAL_READINESS_DELAY', 30, 0, 86400),
    },
  };
}
