/**
 * Scheduler metrics, named as upstream's (pkg/scheduler/metrics):
 *   scheduler_schedule_attempts_total{result, profile}                  counter
 *   scheduler_scheduling_attempt_duration_seconds{result, profile}     histogram
 *   scheduler_pending_pods{queue=active|backoff|unschedulable}          gauge, read at scrape time
 * result is one of scheduled | unschedulable | error.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { QueueLengths } from './queue/scheduling-queue.js';

export type AttemptResult = 'scheduled' | 'unschedulable' | 'error';

export interface SchedulerMetrics {
  /** One finished attempt of `profile`, which took `seconds` (from pop to bind or failure). */
  attempt(result: AttemptResult, profile: string, seconds: number): void;
}

export function newSchedulerMetrics(registry: Registry, lengths: () => QueueLengths): SchedulerMetrics {
  const attempts = new Counter({
    name: 'scheduler_schedule_attempts_total',
    help: 'Number of attempts to schedule pods, by the result. \'unschedulable\' means a pod could not be scheduled, while \'error\' means an internal scheduler problem.',
    labelNames: ['result', 'profile'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'scheduler_scheduling_attempt_duration_seconds',
    help: 'Scheduling attempt latency in seconds (scheduling algorithm + binding)',
    labelNames: ['result', 'profile'] as const,
    // upstream: exponential buckets 0.001 × 2^i, 15 of them
    buckets: Array.from({ length: 15 }, (_, i) => 0.001 * 2 ** i),
    registers: [registry],
  });
  new Gauge({
    name: 'scheduler_pending_pods',
    help: 'Number of pending pods, by the queue type. \'active\' means number of pods in activeQ; \'backoff\' means number of pods in backoffQ; \'unschedulable\' means number of pods in unschedulablePods.',
    labelNames: ['queue'] as const,
    registers: [registry],
    collect() {
      const l = lengths();
      this.set({ queue: 'active' }, l.active);
      this.set({ queue: 'backoff' }, l.backoff);
      this.set({ queue: 'unschedulable' }, l.unschedulable);
    },
  });
  return {
    attempt(result, profile, seconds) {
      attempts.inc({ result, profile });
      duration.observe({ result, profile }, seconds);
    },
  };
}
