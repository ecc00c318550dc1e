/**
 * The ServiceAccount controller (upstream pkg/controller/serviceaccount
 * serviceaccounts_controller.go): every active namespace has the service accounts it should
 * (by default just `default`).
 *
 * reconcile(namespace name): nothing for a namespace that is gone or not Active
 * (Terminating); otherwise each wanted service account missing from the cache is created
 * (AlreadyExists is success; a namespace that started terminating meanwhile is ignored).
 * Triggered by namespace adds and updates and by the deletion of a wanted service account, so
 * a deleted `default` comes back. No events (as upstream). Idempotent.
 */
import { isApiError, objectKey, type Namespace, type ServiceAccount } from '@tskube/api';
import { Resources, WorkQueue, type Client, type Informer, type InformerFactory, type ReconcileResult } from '@tskube/client';
import type { Logger } from '@tskube/log';
import { runWorkers, type Controller } from '../controller.js';
import type { ControllerManagerMetrics } from '../metrics.js';
import { aggregate, hasStatusCause } from '../util/errors.js';

export interface ServiceAccountsControllerOptions {
  client: Client;
  informers: InformerFactory;
  logger: Logger;
  /** Names ensured in every namespace (upstream DefaultServiceAccountsControllerOptions: ["default"]). */
  serviceAccounts?: readonly string[];
  /** Default: a queue named "serviceaccount" without metrics. */
  queue?: WorkQueue<string>;
  metrics?: ControllerManagerMetrics;
  /** Upstream runs one worker. */
  workers?: number;
}

export class ServiceAccountsController {
  readonly queue: WorkQueue<string>;
  private readonly names: readonly string[];
  private readonly namespaces: Informer<Namespace>;
  private readonly serviceAccounts: Informer<ServiceAccount>;
  private readonly log: Logger;

  constructor(private readonly o: ServiceAccountsControllerOptions) {
    this.log = o.logger;
    this.names = o.serviceAccounts ?? ['default'];
    this.queue = o.queue ?? new WorkQueue<string>({ name: 'serviceaccount' });
    this.namespaces = o.informers.informer(Resources.namespaces);
    this.serviceAccounts = o.informers.informer(Resources.serviceAccounts);
    this.namespaces.addEventHandler({
      onAdd: (ns) => this.queue.add(objectKey(ns)),
      onUpdate: (_old, ns) => this.queue.add(objectKey(ns)),
    });
    this.serviceAccounts.addEventHandler({
      onDelete: (sa) => {
        if (this.names.includes(sa.metadata?.name ?? '')) this.queue.add(sa.metadata?.namespace ?? '');
      },
    });
  }

  run(signal: AbortSignal): Promise<void> {
    return runWorkers({
      name: 'serviceaccount-controller', queue: this.queue, workers: this.o.workers ?? 1, logger: this.log, signal,
      metrics: this.o.metrics, reconcile: (key) => this.reconcile(key),
    });
  }

  /** See the file comment. Throws (retried) when a create fails for another reason. */
  async reconcile(namespace: string): Promise<ReconcileResult> {
    const ns = this.namespaces.lister.getByName(undefined, namespace);
    if (!ns || (ns.status?.phase ?? 'Active') !== 'Active') return;
    const errs: unknown[] = [];
    for (const name of this.names) {
      if (this.serviceAccounts.lister.getByName(namespace, name)) continue;
      try {
        await this.o.client.resource(Resources.serviceAccounts).create(namespace, {
          apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace },
        });
        this.log.info('created service account', { namespace, name });
      } catch (e) {
        if (isApiError(e, 'AlreadyExists') || hasStatusCause(e, 'NamespaceTerminating')) continue;
        errs.push(e);
      }
    }
    const err = aggregate(errs);
    if (err) throw err;
  }
}

/** The unit the controller-manager runs. */
export const serviceAccountController: Controller = {
  name: 'serviceaccount-controller',
  aliases: ['serviceaccount'],
  async start(ctx) {
    const c = new ServiceAccountsController({
      client: ctx.client, informers: ctx.informers, logger: ctx.logger, queue: ctx.newQueue('serviceaccount'), metrics: ctx.metrics,
    });
    if (!(await ctx.waitForCacheSync())) return;
    await c.run(ctx.signal);
  },
};
