/**
 * Prometheus metrics of the controller-manager: client-go's workqueue metrics (same names
 * and `name` label) fed by the WorkQueue hooks, and controller-runtime's reconcile counters
 * and reconcile duration histogram (`controller` label).
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { WorkQueueMetrics } from '@tskube/client';

/** client-go: prometheus.ExponentialBuckets(10e-9, 10, 10). */
const DURATION_BUCKETS = Array.from({ length: 10 }, (_, i) => 1e-8 * 10 ** i);
/** controller-runtime's buckets for controller_runtime_reconcile_time_seconds. */
const RECONCILE_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0,
  1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
];

export type ReconcileResult = 'success' | 'error' | 'requeue_after';

export class ControllerManagerMetrics {
  private readonly depth: Gauge<'name'>;
  private readonly adds: Counter<'name'>;
  private readonly queueLatency: Histogram<'name'>;
  private readonly workDuration: Histogram<'name'>;
  private readonly retries: Counter<'name'>;
  private readonly reconciles: Counter<'controller' | 'result'>;
  private readonly reconcileErrors: Counter<'controller'>;
  private readonly reconcileTime: Histogram<'controller'>;

  /** Registers every metric in `registry` (once per registry). */
  constructor(registry: Registry) {
    const registers = [registry];
    this.depth = new Gauge({ name: 'workqueue_depth', help: 'Current depth of workqueue', labelNames: ['name'], registers });
    this.adds = new Counter({ name: 'workqueue_adds_total', help: 'Total number of adds handled by workqueue', labelNames: ['name'], registers });
    this.queueLatency = new Histogram({
      name: 'workqueue_queue_duration_seconds', help: 'How long in seconds an item stays in workqueue before being requested.',
      labelNames: ['name'], buckets: DURATION_BUCKETS, registers,
    });
    this.workDuration = new Histogram({
      name: 'workqueue_work_duration_seconds', help: 'How long in seconds processing an item from workqueue takes.',
      labelNames: ['name'], buckets: DURATION_BUCKETS, registers,
    });
    this.retries = new Counter({ name: 'workqueue_retries_total', help: 'Total number of retries handled by workqueue', labelNames: ['name'], registers });
    this.reconciles = new Counter({
      name: 'controller_runtime_reconcile_total', help: 'Total number of reconciliations per controller',
      labelNames: ['controller', 'result'], registers,
    });
    this.reconcileErrors = new Counter({
      name: 'controller_runtime_reconcile_errors_total', help: 'Total number of reconciliation errors per controller',
      labelNames: ['controller'], registers,
    });
    this.reconcileTime = new Histogram({
      name: 'controller_runtime_reconcile_time_seconds', help: 'Length of time per reconciliation per controller',
      labelNames: ['controller'], buckets: RECONCILE_BUCKETS, registers,
    });
  }

  /** Hooks for `new WorkQueue({ name, metrics })`. */
  readonly queue: WorkQueueMetrics = {
    depth: (name, depth) => this.depth.set({ name }, depth),
    add: (name) => this.adds.inc({ name }),
    queueDuration: (name, seconds) => this.queueLatency.observe({ name }, seconds),
    workDuration: (name, seconds) => this.workDuration.observe({ name }, seconds),
    retry: (name) => this.retries.inc({ name }),
  };

  /** One finished reconcile of `controller`: its outcome and, when known, how long it took. */
  reconciled(controller: string, result: ReconcileResult, seconds?: number): void {
    this.reconciles.inc({ controller, result });
    if (result === 'error') this.reconcileErrors.inc({ controller });
    if (seconds !== undefined) this.reconcileTime.observe({ controller }, seconds);
  }
}
