/**
 * Prometheus metrics of the controller-manager: client-go's workqueue metrics (same names
 * and `name` label) fed by the WorkQueue hooks, and controller-runtime's reconcile counters
 * (`controller` label).
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { WorkQueueMetrics } from '@tskube/client';

/** client-go: prometheus.ExponentialBuckets(10e-9, 10, 10). */
const DURATION_BUCKETS = Array.from({ length: 10 }, (_, i) => 1e-8 * 10 ** i);

export type ReconcileResult = 'success' | 'error' | 'requeue_after';

export class ControllerManagerMetrics {
  private readonly depth: Gauge<'name'>;
  private readonly adds: Counter<'name'>;
  private readonly queueLatency: Histogram<'name'>;
  private readonly workDuration: Histogram<'name'>;
  private readonly retries: Counter<'name'>;
  private readonly reconciles: Counter<'controller' | 'result'>;
  private readonly reconcileErrors: Counter<'controller'>;

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
  }

  /** Hooks for `new WorkQueue({ name, metrics })`. */
  readonly queue: WorkQueueMetrics = {
    depth: (name, depth) => this.depth.set({ name }, depth),
    add: (name) => this.adds.inc({ name }),
    queueDuration: (name, seconds) => this.queueLatency.observe({ name }, seconds),
    workDuration: (name, seconds) => this.workDuration.observe({ name }, seconds),
    retry: (name) => this.retries.inc({ name }),
  };

  reconciled(controller: string, result: ReconcileResult): void {
    this.reconciles.inc({ controller, result });
    if (result === 'error') this.reconcileErrors.inc({ controller });
  }
}
