/**
 * Metrics of the runtime service process: every CRI call it serves, counted by operation
 * and gRPC code and timed by operation (names in the manner of upstream kubelet's
 * kubelet_runtime_operations_*, seen from the runtime's side).
 *
 * `instrumentRuntime` wraps a {@link ContainerRuntime} in a Proxy that observes each
 * promise-returning method; streaming calls (readLogs, an async generator) are counted when
 * opened. The wrapped object behaves exactly like the original otherwise.
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import { CriError } from '../cri/errors.js';

/** listPodSandbox → list_pod_sandbox (upstream's operation_type style). */
export function operationName(method: string): string {
  return method.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function codeOf(err: unknown): string {
  return err instanceof CriError ? err.codeName : 'UNKNOWN';
}

export interface RuntimeServiceMetrics {
  operations: Counter<'operation' | 'code'>;
  duration: Histogram<'operation'>;
}

export function newRuntimeServiceMetrics(registry: Registry): RuntimeServiceMetrics {
  return {
    operations: new Counter({
      name: 'tskube_runtime_operations_total', help: 'CRI calls served, by operation and gRPC status code',
      labelNames: ['operation', 'code'], registers: [registry],
    }),
    duration: new Histogram({
      name: 'tskube_runtime_operations_duration_seconds', help: 'Duration of the CRI calls served, by operation',
      labelNames: ['operation'], registers: [registry],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    }),
  };
}

/** The runtime with every method call observed in `metrics` (see the module doc). */
export function instrumentRuntime<T extends object>(impl: T, metrics: RuntimeServiceMetrics): T {
  return new Proxy(impl, {
    get(target, prop, receiver): unknown {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function' || typeof prop !== 'string' || prop === 'constructor' || prop === 'close') return value;
      const fn = value as (...args: unknown[]) => unknown;
      const operation = operationName(prop);
      return (...args: unknown[]): unknown => {
        const end = metrics.duration.startTimer({ operation });
        const done = (code: string): void => { end(); metrics.operations.inc({ operation, code }); };
        let result: unknown;
        try {
          result = fn.apply(target, args);
        } catch (err) {
          done(codeOf(err));
          throw err;
        }
        if (result instanceof Promise) {
          return result.then((v: unknown) => { done('OK'); return v; }, (err: unknown) => { done(codeOf(err)); throw err; });
        }
        done('OK');
        return result;
      };
    },
  });
}
