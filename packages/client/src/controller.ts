/**
 * The controller loop (habit 5): workers take keys from a WorkQueue and reconcile them.
 *
 * For each key: `reconcile(key)` →
 * - resolves (void): success; the key's backoff is reset (`forget`).
 * - resolves `{ requeueAfter: ms }`: success, and the key is looked at again after `ms`.
 * - rejects: the key is re-queued with rate-limited backoff and one log line is written
 *   (controller, key, error, retry count; at debug level for a 409 Conflict): the error is
 *   handled here, so reconcile should not log it too.
 * Then `done(key)`. The queue guarantees a key is never reconciled by two workers at once.
 *
 * When `signal` aborts the queue is shut down; workers finish the reconcile in hand and
 * stop (keys still queued are not processed). `runController` resolves once all workers stopped.
 */
import { isApiError } from '@tskube/api';
import type { Logger } from '@tskube/log';
import type { WorkQueue } from './workqueue.js';

export type ReconcileResult = void | { requeueAfter: number };

export interface ControllerOptions<K = string> {
  /** Names the controller in log lines. */
  name: string;
  queue: WorkQueue<K>;
  /** Idempotent; reads current state from listers, writes through the client. */
  reconcile: (key: K, signal: AbortSignal) => Promise<ReconcileResult>;
  /** Parallel workers (default 1). */
  workers?: number;
  logger: Logger;
  signal: AbortSignal;
}

export async function runController<K = string>(opts: ControllerOptions<K>): Promise<void> {
  const { queue, signal } = opts;
  const log = opts.logger.child({ controller: opts.name });
  const onAbort = () => queue.shutDown();
  if (signal.aborted) queue.shutDown();
  else signal.addEventListener('abort', onAbort, { once: true });

  const worker = async (): Promise<void> => {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      if (signal.aborted) { queue.done(key); return; }
      try {
        const res = await opts.reconcile(key, signal);
        queue.forget(key);
        if (res && res.requeueAfter > 0) queue.addAfter(key, res.requeueAfter);
      } catch (e) {
        if (!signal.aborted) {
          queue.addRateLimited(key);
          // A conflict only means the cache was behind a write: routine under load, retried at
          // once with backoff, not worth an error line (upstream logs these at a verbose level).
          if (isApiError(e, 'Conflict')) log.debug('reconcile conflict, retrying', { key, err: e, requeues: queue.numRequeues(key) });
          else log.error('reconcile failed', { key, err: e, requeues: queue.numRequeues(key) });
        }
      } finally {
        queue.done(key);
      }
    }
  };

  log.info('controller started', { workers: opts.workers ?? 1 });
  try {
    await Promise.all(Array.from({ length: Math.max(1, opts.workers ?? 1) }, worker));
  } finally {
    signal.removeEventListener('abort', onAbort);
    log.info('controller stopped');
  }
}
