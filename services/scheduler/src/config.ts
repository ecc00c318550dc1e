/** Scheduler configuration from the environment, validated once at start. */
import { env } from '@tskube/component';
import { parseLogLevel, type LogLevel } from '@tskube/log';

export interface SchedulerConfig {
  /** TSKUBE_KUBECONFIG (required): credentials for the apiserver. */
  kubeconfig: string;
  /** TSKUBE_HEALTH_PORT: plain-HTTP /healthz, /readyz, /metrics (upstream's secure port is 10259). */
  healthPort: number;
  /** TSKUBE_LOG_LEVEL: error | warn | info | debug. */
  logLevel: LogLevel;
  /** TSKUBE_SCHEDULER_NAME: pods whose spec.schedulerName equals it are ours. */
  schedulerName: string;
  /** TSKUBE_LEADER_ELECT: only the holder of Lease kube-system/kube-scheduler schedules. */
  leaderElect: boolean;
}

/** Reads process.env; throws an Error naming the variable on the first bad value. */
export function loadConfig(): SchedulerConfig {
  return {
    kubeconfig: env.str('TSKUBE_KUBECONFIG'),
    healthPort: env.int('TSKUBE_HEALTH_PORT', 10259, 0, 65535),
    logLevel: parseLogLevel(env.optional('TSKUBE_LOG_LEVEL')),
    schedulerName: env.str('TSKUBE_SCHEDULER_NAME', 'default-scheduler'),
    leaderElect: env.bool('TSKUBE_LEADER_ELECT', true),
  };
}
