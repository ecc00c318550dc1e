/**
 * The namespace controller (upstream pkg/controller/namespace): empties a namespace that is
 * being deleted and then releases it.
 *
 * reconcile(name), for a namespace with deletionTimestamp whose spec.finalizers still holds
 * "kubernetes" (read live, not from the cache):
 *  1. status.phase Terminating (the apiserver normally set it already);
 *  2. for every namespaced resource of the resource table that can be listed and deleted
 *     (events included): list the namespace's objects and DELETE each one not yet being
 *     deleted (propagation Background, uid precondition), then list again to see what is
 *     left: pods still terminating give an estimate (their longest grace period), objects
 *     held by finalizers 15 s, anything else left is an error;
 *  3. the status conditions (NamespaceDeletionContentFailure, NamespaceContentRemaining,
 *     NamespaceFinalizersRemaining, …; conditions.ts) written when they changed;
 *  4. errors → retried with backoff; content left → looked at again after estimate/2 + 1 s;
 *     empty → PUT …/namespaces/<name>/finalize with "kubernetes" removed from
 *     spec.finalizers, after which the apiserver removes the namespace.
 * Safe to run twice: deleting what is already being deleted is skipped, NotFound ignored.
 */
import { preferredVersions } from '../util/resources.js';
import { RESOURCES, isApiError, rfc3339, type Namespace, type ResourceDef } from '@tskube/api';
import {
  Resources, WorkQueue, type ApiObject, type Client, type Informer, type InformerFactory, type ReconcileResult,
} from '@tskube/client';
import type { Logger } from '@tskube/log';
import { runWorkers, type Controller } from '../controller.js';
import type { ControllerManagerMetrics } from '../metrics.js';
import { aggregate, errorMessage } from '../util/errors.js';
import { failingConditions, updateConditions, type DeletionOutcome } from './conditions.js';

export const FINALIZER_KUBERNETES = 'kubernetes';
/** Upstream finalizerEstimateSeconds: the wait assumed for objects held by finalizers. */
const FINALIZER_ESTIMATE_SECONDS = 15;

/** The namespaced resources a namespace is emptied of: list + delete. */
export function namespacedContentResources(all: readonly ResourceDef[] = RESOURCES): ResourceDef[] {
  return preferredVersions(all).filter((d) => d.namespaced && d.verbs.includes('list') && d.verbs.includes('delete'));
}

/** Upstream prints a GroupVersionResource as {group version resource}. */
const gvrString = (d: ResourceDef) => `{${d.group} ${d.version} ${d.plural}}`;

/** Longest grace period of the pods still running (upstream estimateGracefulTerminationForPods). */
function podsEstimateSeconds(items: readonly ApiObject[]): number {
  let estimate = 0;
  for (const item of items) {
    const pod = item as { spec?: { terminationGracePeriodSeconds?: number }; status?: { phase?: string } };
    if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') continue;
    estimate = Math.max(estimate, pod.spec?.terminationGracePeriodSeconds ?? 0);
  }
  return estimate;
}

export interface NamespaceControllerOptions {
  client: Client;
  informers: InformerFactory;
  logger: Logger;
  now?: () => Date;
  resources?: readonly ResourceDef[];
  queue?: WorkQueue<string>;
  metrics?: ControllerManagerMetrics;
  /** Upstream --concurrent-namespace-syncs: 10. */
  workers?: number;
}

interface ResourceOutcome {
  estimate: number;
  remaining: number;
  finalizers: Map<string, number>;
}

export class NamespaceController {
  readonly queue: WorkQueue<string>;
  private readonly nsInformer: Informer<Namespace>;
  private readonly resources: ResourceDef[];
  private readonly now: () => Date;

  constructor(private readonly o: NamespaceControllerOptions) {
    this.now = o.now ?? (() => new Date());
    this.queue = o.queue ?? new WorkQueue<string>({ name: 'namespace' });
    this.resources = namespacedContentResources(o.resources);
    this.nsInformer = o.informers.informer(Resources.namespaces);
    const maybe = (ns: { metadata?: { name?: string; deletionTimestamp?: string } }) => {
      if (ns.metadata?.deletionTimestamp) this.queue.add(ns.metadata.name ?? '');
    };
    this.nsInformer.addEventHandler({ onAdd: maybe, onUpdate: (_old, ns) => maybe(ns) });
  }

  run(signal: AbortSignal): Promise<void> {
    return runWorkers({
      name: 'namespace-controller', queue: this.queue, workers: this.o.workers ?? 5, logger: this.o.logger, signal,
      metrics: this.o.metrics, reconcile: (key) => this.reconcile(key),
    });
  }

  async reconcile(name: string): Promise<ReconcileResult> {
    if (!this.nsInformer.lister.get(name)?.metadata?.deletionTimestamp) return;
    const nsClient = this.o.client.resource(Resources.namespaces);
    let ns: Namespace;
    try {
      ns = await nsClient.get(name);
    } catch (e) {
      if (isApiError(e, 'NotFound')) return;
      throw e;
    }
    if (!ns.metadata?.deletionTimestamp) return;
    if (ns.status?.phase !== 'Terminating') ns = await nsClient.updateStatus({ ...ns, status: { ...ns.status, phase: 'Terminating' } });
    if (!(ns.spec?.finalizers ?? []).includes(FINALIZER_KUBERNETES)) return;

    const { outcome, estimate } = await this.deleteAllContent(name);
    ns = await this.writeConditions(ns, outcome);
    if (outcome.errors.length) throw new Error(`failed to delete all content of namespace ${name}: ${outcome.errors.join(', ')}`);
    if (estimate > 0) {
      this.o.logger.debug('namespace content remaining', { namespace: name, estimateSeconds: estimate });
      return { requeueAfter: (Math.floor(estimate / 2) + 1) * 1000 };
    }
    const body: Namespace = { ...ns, spec: { ...ns.spec, finalizers: (ns.spec?.finalizers ?? []).filter((f) => f !== FINALIZER_KUBERNETES) } };
    try {
      await this.o.client.raw('PUT', `/api/v1/namespaces/${encodeURIComponent(name)}/finalize`, { body });
    } catch (e) {
      if (!isApiError(e, 'NotFound')) throw e;
    }
    this.o.logger.info('namespace finalized', { namespace: name });
  }

  private async deleteAllContent(namespace: string): Promise<{ outcome: DeletionOutcome; estimate: number }> {
    const errors: string[] = [];
    const remaining = new Map<string, number>();
    const finalizers = new Map<string, number>();
    let estimate = 0;
    for (const def of this.resources) {
      try {
        const r = await this.deleteAllOf(namespace, def);
        estimate = Math.max(estimate, r.estimate);
        if (r.remaining) remaining.set(`${def.plural}.${def.group}`, r.remaining);
        for (const [f, n] of r.finalizers) finalizers.set(f, (finalizers.get(f) ?? 0) + n);
      } catch (e) {
        errors.push(errorMessage(e));
      }
    }
    return { outcome: { errors, remaining, finalizers }, estimate };
  }

  private async deleteAllOf(namespace: string, def: ResourceDef): Promise<ResourceOutcome> {
    const dyn = this.o.client.dynamic(def);
    const none: ResourceOutcome = { estimate: 0, remaining: 0, finalizers: new Map() };
    let list;
    try {
      list = await dyn.list({ namespace });
    } catch (e) {
      // The server does not serve it after all: nothing to delete (upstream's "operation not supported").
      if (isApiError(e, 'NotFound') || isApiError(e, 'MethodNotAllowed')) return none;
      throw e;
    }
    const errs: unknown[] = [];
    for (const item of list.items) {
      if (item.metadata?.deletionTimestamp) continue;
      try {
        await dyn.delete(namespace, item.metadata?.name ?? '', { propagationPolicy: 'Background', preconditions: { uid: item.metadata?.uid } });
      } catch (e) {
        if (!isApiError(e, 'NotFound') && !isApiError(e, 'Conflict')) errs.push(e);
      }
    }
    const err = aggregate(errs);
    if (err) throw err;
    const left = (await dyn.list({ namespace })).items;
    if (!left.length) return none;
    const finalizers = new Map<string, number>();
    for (const item of left) for (const f of item.metadata?.finalizers ?? []) finalizers.set(f, (finalizers.get(f) ?? 0) + 1);
    const estimate = def.plural === 'pods' && !def.group ? podsEstimateSeconds(left) : 0;
    if (estimate > 0) return { estimate, remaining: left.length, finalizers };
    if (finalizers.size) return { estimate: FINALIZER_ESTIMATE_SECONDS, remaining: left.length, finalizers };
    throw new Error(`unexpected items still remain in namespace: ${namespace} for gvr: ${gvrString(def)}`);
  }

  /** Writes the deletion conditions when they changed; a conflict is left to the next pass. */
  private async writeConditions(ns: Namespace, outcome: DeletionOutcome): Promise<Namespace> {
    const now = rfc3339(this.now());
    const conds = updateConditions(ns.status?.conditions, failingConditions(outcome, now), now);
    if (!conds) return ns;
    try {
      return await this.o.client.resource(Resources.namespaces).updateStatus({ ...ns, status: { ...ns.status, conditions: conds } });
    } catch (e) {
      if (isApiError(e, 'Conflict')) return ns;
      throw e;
    }
  }
}

export const namespaceController: Controller = {
  name: 'namespace-controller',
  aliases: ['namespace'],
  async start(ctx) {
    const c = new NamespaceController({
      client: ctx.client, informers: ctx.informers, logger: ctx.logger, now: ctx.now,
      queue: ctx.newQueue('namespace'), metrics: ctx.metrics,
    });
    if (!(await ctx.waitForCacheSync())) return;
    await c.run(ctx.signal);
  },
};
