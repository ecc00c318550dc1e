/**
 * Taint-based eviction (upstream pkg/controller/tainteviction, the "taint manager"): pods on
 * a node with NoExecute taints are deleted unless they tolerate every one of them, and then
 * only for as long as the shortest matching tolerationSeconds allows (no seconds = forever).
 * The apiserver's DefaultTolerationSeconds admission gives every pod 300 s for the
 * not-ready and unreachable taints, so pods leave a lost node after five minutes.
 *
 * reconcile(namespace/name) of a pod bound to a node:
 *  - no NoExecute taint, or all tolerated forever: nothing;
 *  - a taint not tolerated: evict now;
 *  - otherwise evict at start + min(tolerationSeconds), where start is the earliest
 *    timeAdded of the node's NoExecute taints (the time this controller first saw them when
 *    they carry none); until then the key is requeued for that moment.
 * Eviction: event TaintManagerEviction "Marking for deletion Pod <ns>/<name>", the pod's
 * DisruptionTarget condition (reason DeletionByTaintManager), then DELETE. Level-triggered:
 * a pod whose node lost the taint meanwhile is simply left alone.
 */
import { isApiError, rfc3339, splitKey, type Node, type Pod, type Taint } from '@tskube/api';
import {
  Resources, WorkQueue, clone, type DeepReadonly, type Informer, type ReconcileResult,
} from '@tskube/client';
import { runWorkers, type Controller, type ControllerOptions } from '../controller.js';
import { POD_NODE_INDEX } from '../nodelifecycle/node-lifecycle-controller.js';
import { podKey, updatePodCondition } from '../util/pods.js';
import { tolerates } from '../util/taints.js';

type RoPod = DeepReadonly<Pod>;
type RoTaint = DeepReadonly<Taint>;

export interface TaintEvictionOptions extends ControllerOptions {
  workers?: number;
}

function noExecute(node: DeepReadonly<Node> | undefined): RoTaint[] {
  return (node?.spec?.taints ?? []).filter((t) => t.effect === 'NoExecute');
}

/**
 * How long `pod` may stay with `taints` (ms): 0 = evict now, Infinity = never
 * (upstream GetMatchingTolerations + getMinTolerationTime).
 */
export function tolerationTimeMs(pod: RoPod, taints: readonly RoTaint[]): number {
  if (!taints.length) return Infinity;
  const tols = pod.spec?.tolerations ?? [];
  let min = Infinity;
  for (const taint of taints) {
    const t = tols.find((x) => tolerates(x, taint));
    if (!t) return 0;
    if (t.tolerationSeconds !== undefined && t.tolerationSeconds !== null) {
      if (t.tolerationSeconds <= 0) return 0;
      min = Math.min(min, t.tolerationSeconds * 1000);
    }
  }
  return min;
}

export class TaintEvictionController {
  readonly queue: WorkQueue<string>;
  private readonly nodeInformer: Informer<Node>;
  private readonly podInformer: Informer<Pod>;
  /** First time a NoExecute taint without timeAdded was seen, per node and taint. */
  private readonly firstSeen = new Map<string, number>();
  private readonly now: () => Date;

  constructor(private readonly o: TaintEvictionOptions) {
    this.now = o.now ?? (() => new Date());
    this.queue = o.queue ?? new WorkQueue<string>({ name: 'taint_eviction_controller' });
    this.nodeInformer = o.informers.informer(Resources.nodes);
    this.podInformer = o.informers.informer(Resources.pods, {
      indexers: { [POD_NODE_INDEX]: (p) => (p.spec?.nodeName ? [p.spec.nodeName] : []) },
    });
    this.podInformer.addEventHandler({
      onAdd: (p) => { if (p.spec?.nodeName) this.queue.add(podKey(p)); },
      onUpdate: (old, p) => {
        if (p.spec?.nodeName && (p.spec.nodeName !== old.spec?.nodeName || JSON.stringify(p.spec.tolerations) !== JSON.stringify(old.spec?.tolerations))) {
          this.queue.add(podKey(p));
        }
      },
    });
    this.nodeInformer.addEventHandler({
      onAdd: (n) => this.nodeChanged(undefined, n),
      onUpdate: (old, n) => this.nodeChanged(old, n),
    });
  }

  private nodeChanged(old: DeepReadonly<Node> | undefined, node: DeepReadonly<Node>): void {
    const before = JSON.stringify(noExecute(old));
    const after = JSON.stringify(noExecute(node));
    if (before === after) return;
    for (const p of this.podInformer.lister.byIndex(POD_NODE_INDEX, node.metadata?.name ?? '')) this.queue.add(podKey(p));
  }

  run(signal: AbortSignal): Promise<void> {
    return runWorkers({
      name: 'taint-eviction-controller', queue: this.queue, workers: this.o.workers ?? 4, logger: this.o.logger, signal,
      metrics: this.o.metrics, reconcile: (key) => this.reconcile(key),
    });
  }

  /** When the node's current NoExecute taints started (ms). */
  private taintedSince(nodeName: string, taints: readonly RoTaint[]): number {
    const now = this.now().getTime();
    let start = Infinity;
    for (const t of taints) {
      let at = t.timeAdded ? Date.parse(t.timeAdded) : NaN;
      if (Number.isNaN(at)) {
        const k = `${nodeName}|${t.key}`;
        at = this.firstSeen.get(k) ?? now;
        this.firstSeen.set(k, at);
      }
      start = Math.min(start, at);
    }
    return start === Infinity ? now : start;
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const { namespace, name } = splitKey(key);
    const pod = this.podInformer.lister.getByName(namespace, name);
    const nodeName = pod?.spec?.nodeName;
    if (!pod || !nodeName || pod.metadata?.deletionTimestamp) return;
    const taints = noExecute(this.nodeInformer.lister.get(nodeName));
    const allowed = tolerationTimeMs(pod, taints);
    if (allowed === Infinity) return;
    const due = this.taintedSince(nodeName, taints) + allowed - this.now().getTime();
    if (due > 0) return { requeueAfter: due };
    await this.evict(pod);
  }

  private async evict(pod: RoPod): Promise<void> {
    const ns = pod.metadata?.namespace ?? '';
    const name = pod.metadata?.name ?? '';
    this.o.recorder.event(pod, 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${ns}/${name}`);
    const pods = this.o.client.resource(Resources.pods);
    try {
      const copy = clone(pod);
      const status = (copy.status ??= {});
      const changed = updatePodCondition(status, {
        type: 'DisruptionTarget', status: 'True', reason: 'DeletionByTaintManager', message: 'Taint manager: deleting due to NoExecute taint',
      }, rfc3339(this.now()));
      if (changed) await pods.updateStatus(copy);
      await pods.delete(ns, name);
      this.o.logger.info('evicted pod', { pod: `${ns}/${name}`, node: pod.spec?.nodeName });
    } catch (e) {
      if (!isApiError(e, 'NotFound')) throw e;
    }
  }
}

export const taintEvictionController: Controller = {
  name: 'taint-eviction-controller',
  async start(ctx) {
    const c = new TaintEvictionController({
      client: ctx.client, informers: ctx.informers, logger: ctx.logger, recorder: ctx.recorder('taint-eviction-controller'),
      now: ctx.now, queue: ctx.newQueue('taint_eviction_controller'), metrics: ctx.metrics,
    });
    if (!(await ctx.waitForCacheSync())) return;
    await c.run(ctx.signal);
  },
};
