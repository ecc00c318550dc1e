/**
 * The root CA certificate publisher (upstream pkg/controller/certificates/rootcacertpublisher):
 * every active namespace has a ConfigMap `kube-root-ca.crt` whose `ca.crt` is the cluster CA,
 * so pods can verify the apiserver (the default projected service account volume mounts it).
 *
 * reconcile(namespace name): nothing for a namespace that is gone or not Active; creates the
 * ConfigMap when missing (AlreadyExists: requeued by the add event), or updates it when its
 * `ca.crt` differs or it lacks the description annotation (other data keys are dropped, as
 * upstream). Triggered by namespace adds/updates and by updates/deletes of any
 * `kube-root-ca.crt` ConfigMap, so an edited or deleted one is restored. Idempotent.
 */
import { isApiError, type ConfigMap, type Namespace } from '@tskube/api';
import { Resources, WorkQueue, type Client, type DeepReadonly, type Informer, type InformerFactory, type ReconcileResult } from '@tskube/client';
import type { Logger } from '@tskube/log';
import { runWorkers, type Controller } from '../controller.js';
import type { ControllerManagerMetrics } from '../metrics.js';
import { hasStatusCause } from '../util/errors.js';

export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';
export const ROOT_CA_KEY = 'ca.crt';
export const DESCRIPTION_ANNOTATION = 'kubernetes.io/description';
export const DESCRIPTION = 'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.';

export interface RootCACertPublisherOptions {
  client: Client;
  informers: InformerFactory;
  logger: Logger;
  /** The CA bundle (PEM). */
  rootCA: string;
  queue?: WorkQueue<string>;
  metrics?: ControllerManagerMetrics;
  workers?: number;
}

export class RootCACertPublisher {
  readonly queue: WorkQueue<string>;
  private readonly namespaces: Informer<Namespace>;
  private readonly configMaps: Informer<ConfigMap>;

  constructor(private readonly o: RootCACertPublisherOptions) {
    this.queue = o.queue ?? new WorkQueue<string>({ name: 'root_ca_cert_publisher' });
    this.namespaces = o.informers.informer(Resources.namespaces);
    this.configMaps = o.informers.informer(Resources.configMaps);
    this.namespaces.addEventHandler({
      onAdd: (ns) => this.queue.add(ns.metadata?.name ?? ''),
      onUpdate: (_old, ns) => this.queue.add(ns.metadata?.name ?? ''),
    });
    const onConfigMap = (cm: DeepReadonly<ConfigMap>): void => {
      if (cm.metadata?.name === ROOT_CA_CONFIGMAP) this.queue.add(cm.metadata.namespace ?? '');
    };
    this.configMaps.addEventHandler({ onUpdate: (_old, cm) => onConfigMap(cm), onDelete: onConfigMap });
  }

  run(signal: AbortSignal): Promise<void> {
    return runWorkers({
      name: 'root-ca-cert-publisher', queue: this.queue, workers: this.o.workers ?? 1, logger: this.o.logger, signal,
      metrics: this.o.metrics, reconcile: (key) => this.reconcile(key),
    });
  }

  async reconcile(namespace: string): Promise<ReconcileResult> {
    const ns = this.namespaces.lister.getByName(undefined, namespace);
    if (!ns || (ns.status?.phase ?? 'Active') !== 'Active') return;
    const client = this.o.client.resource(Resources.configMaps);
    const existing = this.configMaps.lister.getByName(namespace, ROOT_CA_CONFIGMAP);
    try {
      if (!existing) {
        await client.create(namespace, {
          apiVersion: 'v1', kind: 'ConfigMap',
          metadata: { name: ROOT_CA_CONFIGMAP, namespace, annotations: { [DESCRIPTION_ANNOTATION]: DESCRIPTION } },
          data: { [ROOT_CA_KEY]: this.o.rootCA },
        });
        this.o.logger.info('published root CA', { namespace });
        return;
      }
      const upToDate = existing.data?.[ROOT_CA_KEY] === this.o.rootCA && Object.keys(existing.data ?? {}).length === 1
        && existing.metadata?.annotations?.[DESCRIPTION_ANNOTATION] === DESCRIPTION;
      if (upToDate) return;
      const cm = structuredClone(existing) as ConfigMap;
      cm.data = { [ROOT_CA_KEY]: this.o.rootCA };
      cm.metadata = { ...cm.metadata, annotations: { ...(cm.metadata?.annotations ?? {}), [DESCRIPTION_ANNOTATION]: DESCRIPTION } };
      await client.update(cm);
    } catch (e) {
      // AlreadyExists: the cache is behind; the ConfigMap's own events bring the key back.
      if (isApiError(e, 'AlreadyExists') || isApiError(e, 'NotFound') || hasStatusCause(e, 'NamespaceTerminating')) return;
      throw e;
    }
  }
}

/** The unit the controller-manager runs; idle when no root CA is configured. */
export const rootCACertPublisherController: Controller = {
  name: 'root-ca-cert-publisher',
  aliases: ['root-ca-cert-publisher-controller'],
  async start(ctx) {
    const rootCA = ctx.settings.rootCA;
    if (!rootCA) {
      ctx.logger.warn('no root CA configured: kube-root-ca.crt is not published', {});
      await new Promise<void>((resolve) => { if (ctx.signal.aborted) resolve(); else ctx.signal.addEventListener('abort', () => resolve(), { once: true }); });
      return;
    }
    const c = new RootCACertPublisher({
      client: ctx.client, informers: ctx.informers, logger: ctx.logger, rootCA, queue: ctx.newQueue('root_ca_cert_publisher'), metrics: ctx.metrics,
    });
    if (!(await ctx.waitForCacheSync())) return;
    await c.run(ctx.signal);
  },
};
