/**
 * One pod watch for every simulated node of a process. A kubelet normally watches
 * `spec.nodeName=<its node>`; a thousand simulated nodes doing that would hold a thousand
 * watches on the apiserver and a thousand caches. Instead one informer watches every bound
 * pod (`spec.nodeName!=`: the apiserver filters out pending pods, and a pod that gets bound
 * arrives as an ADDED event) and hands each event to the handlers of the node named in
 * `spec.nodeName` — nodes of other kubelets are ignored.
 *
 * Contracts (those of an informer, per node):
 * - handlers of a node see only pods with that `spec.nodeName`, in event order, after the
 *   shared cache has been updated; pods already cached are replayed as adds
 *   (initialList = true) when the handlers are added;
 * - a pod whose node changed (cannot happen through the API, but a relist may merge two
 *   objects of one name) is a delete for the old node and an add for the new one.
 * Handlers must only enqueue (the kubelet's pod workers do).
 */
import type { Pod } from '@tskube/api';
import { InformerFactory, Resources, type Client, type DeepReadonly, type EventHandlers, type Informer } from '@tskube/client';
import type { Logger } from '@tskube/log';
import type { KubeletPodSource } from '../kubelet.js';

const NODE_INDEX = 'nodeName';
const UID_INDEX = 'uid';

export interface PodDispatcherOptions {
  client: Client;
  logger: Logger;
  /** Share an existing factory (its pod informer with this selection is reused). */
  informers?: InformerFactory;
}

type ReadonlyPod = DeepReadonly<Pod>;

const nodeOf = (p: ReadonlyPod): string => p.spec?.nodeName ?? '';

export class PodDispatcher {
  readonly informer: Informer<Pod>;
  private readonly factory: InformerFactory;
  private readonly byNode = new Map<string, Set<EventHandlers<Pod>>>();

  constructor(o: PodDispatcherOptions) {
    this.factory = o.informers ?? new InformerFactory({ client: o.client, logger: o.logger });
    this.informer = this.factory.informer(Resources.pods, {
      fieldSelector: 'spec.nodeName!=',
      indexers: {
        [NODE_INDEX]: (p) => [nodeOf(p)],
        [UID_INDEX]: (p) => (p.metadata?.uid ? [p.metadata.uid] : []),
      },
    });
    this.informer.addEventHandler({
      onAdd: (pod, initial) => this.each(nodeOf(pod), (h) => h.onAdd?.(pod, initial)),
      onUpdate: (old, pod) => {
        if (nodeOf(old) === nodeOf(pod)) {
          this.each(nodeOf(pod), (h) => h.onUpdate?.(old, pod));
          return;
        }
        this.each(nodeOf(old), (h) => h.onDelete?.(old, { finalStateUnknown: false }));
        this.each(nodeOf(pod), (h) => h.onAdd?.(pod, false));
      },
      onDelete: (pod, info) => this.each(nodeOf(pod), (h) => h.onDelete?.(pod, info)),
    });
  }

  /** Starts the shared informer (idempotent through the factory). */
  start(signal: AbortSignal): void {
    this.factory.start(signal);
  }

  /** Resolves once every informer of the factory has stopped (after the start signal aborted). */
  stopped(): Promise<void> {
    return this.factory.stopped();
  }

  /** Number of nodes with handlers registered. */
  get nodes(): number {
    return this.byNode.size;
  }

  /** The pod source of one node, for buildKubelet's `pods`. */
  forNode(nodeName: string): KubeletPodSource {
    const inf = this.informer;
    return {
      addEventHandler: (h) => {
        let set = this.byNode.get(nodeName);
        if (!set) this.byNode.set(nodeName, (set = new Set()));
        set.add(h);
        if (h.onAdd) for (const p of inf.lister.byIndex(NODE_INDEX, nodeName)) h.onAdd(p, true);
        return () => {
          set.delete(h);
          if (set.size === 0 && this.byNode.get(nodeName) === set) this.byNode.delete(nodeName);
        };
      },
      waitForSync: (signal) => inf.waitForSync(signal),
      getByName: (ns, name) => {
        const p = inf.lister.getByName(ns, name);
        return p && nodeOf(p) === nodeName ? p : undefined;
      },
      hasUid: (uid) => inf.lister.byIndex(UID_INDEX, uid).some((p) => nodeOf(p) === nodeName),
    };
  }

  private each(nodeName: string, f: (h: EventHandlers<Pod>) => void): void {
    const set = this.byNode.get(nodeName);
    if (!set) return;
    for (const h of set) f(h);
  }
}
