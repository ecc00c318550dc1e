/**
 * The node lifecycle controller (upstream pkg/controller/nodelifecycle, with
 * TaintNodesByCondition and the NoExecute tainting of the taint manager).
 *
 * Node health is judged on this controller's own clock, as upstream does, so clock skew
 * between hosts does not matter: a node's "probe timestamp" is the local time at which this
 * controller last saw its kubelet renew the node's Lease (kube-node-lease/<node>, a newer
 * spec.renewTime) or post a new Ready heartbeat. A node first seen gets "now"; a node that
 * never posted a Ready condition counts from its creation with the startup grace period.
 *
 * reconcile(node):
 *  1. When now > probe + grace period: Ready, MemoryPressure, DiskPressure and PIDPressure
 *     become Unknown (reason NodeStatusUnknown, "Kubelet stopped posting node status.";
 *     missing ones NodeStatusNeverUpdated, "Kubelet never posted node status."), written
 *     through nodes/status.
 *  2. Taints follow the conditions: NoSchedule for Ready=False (not-ready), Ready=Unknown
 *     (unreachable), MemoryPressure/DiskPressure/PIDPressure/NetworkUnavailable=True and
 *     spec.unschedulable; NoExecute not-ready / unreachable for Ready False / Unknown, none
 *     for Ready=True. Other taints are kept; added ones carry timeAdded. Written with a
 *     compare-and-swap update of the node.
 *  3. On the transition Ready=True → not True: event NodeNotReady on the node and the Ready
 *     condition of its pods set to False (upstream MarkPodsNotReady; retried until done).
 *  4. Requeues itself for the moment the grace period would run out.
 * Pods that get bound to a node whose last seen Ready is not True are marked too (second
 * queue, keyed by pod). State kept in memory (probe times) is rebuilt after a restart the
 * way upstream's is: every node starts with a fresh grace period.
 *
 * Not modelled: zone disruption modes and the rate-limited tainting of upstream (taints are
 * applied at once), node label reconciliation.
 */
import { isApiError, jsonEqual, rfc3339, splitKey, type Lease, type Node, type NodeCondition, type Pod } from '@tskube/api';
import {
  Resources, WorkQueue, clone, type DeepReadonly, type DeepWritable, type Informer,
  type ReconcileResult,
} from '@tskube/client';
import type { Logger } from '@tskube/log';
import { runWorkers, type Controller, type ControllerOptions } from '../controller.js';
import { aggregate } from '../util/errors.js';
import { podKey, updatePodCondition } from '../util/pods.js';
import {
  TAINT_DISK_PRESSURE, TAINT_MEMORY_PRESSURE, TAINT_NETWORK_UNAVAILABLE, TAINT_NOT_READY, TAINT_PID_PRESSURE,
  TAINT_UNREACHABLE, TAINT_UNSCHEDULABLE, sameTaint,
} from '../util/taints.js';

export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
/** Pod informer index: pods by spec.nodeName. */
export const POD_NODE_INDEX = 'spec.nodeName';

type RoNode = DeepReadonly<Node>;
type RoPod = DeepReadonly<Pod>;
type Taint = NonNullable<NonNullable<Node['spec']>['taints']>[number];

/** Which condition status gives which NoSchedule taint (upstream nodeConditionToTaintKeyStatusMap). */
const CONDITION_TAINTS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  Ready: { False: TAINT_NOT_READY, Unknown: TAINT_UNREACHABLE },
  MemoryPressure: { True: TAINT_MEMORY_PRESSURE },
  DiskPressure: { True: TAINT_DISK_PRESSURE },
  NetworkUnavailable: { True: TAINT_NETWORK_UNAVAILABLE },
  PIDPressure: { True: TAINT_PID_PRESSURE },
};
const CONDITION_TAINT_KEYS = new Set(Object.values(CONDITION_TAINTS).flatMap((m) => Object.values(m)));
/** Conditions set to Unknown when the kubelet goes silent (NetworkUnavailable belongs to the network plugin). */
const SILENT_CONDITIONS = ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'];

type Conditions = readonly (NodeCondition | DeepReadonly<NodeCondition>)[] | undefined;

function conditionOf(conds: Conditions, type: string): DeepReadonly<NodeCondition> | undefined {
  return conds?.find((c) => c.type === type);
}

/** Whether this controller owns the taint (and so may add or remove it). */
function managed(t: DeepReadonly<Taint>, manageNoExecute: boolean): boolean {
  if (t.effect === 'NoSchedule') return t.key === TAINT_UNSCHEDULABLE || CONDITION_TAINT_KEYS.has(t.key);
  if (t.effect === 'NoExecute') return manageNoExecute && (t.key === TAINT_NOT_READY || t.key === TAINT_UNREACHABLE);
  return false;
}

/**
 * The condition-derived taints a node should carry (key and effect only). NoExecute taints
 * are only decided when the node has a Ready condition (`noExecuteDecided`).
 */
export function desiredTaints(node: RoNode): { taints: { key: string; effect: 'NoSchedule' | 'NoExecute' }[]; noExecuteDecided: boolean } {
  const conds = node.status?.conditions;
  const out: { key: string; effect: 'NoSchedule' | 'NoExecute' }[] = [];
  for (const c of conds ?? []) {
    const key = CONDITION_TAINTS[c.type]?.[c.status];
    if (key) out.push({ key, effect: 'NoSchedule' });
  }
  if (node.spec?.unschedulable) out.push({ key: TAINT_UNSCHEDULABLE, effect: 'NoSchedule' });
  const ready = conditionOf(conds, 'Ready');
  if (ready?.status === 'False') out.push({ key: TAINT_NOT_READY, effect: 'NoExecute' });
  if (ready?.status === 'Unknown') out.push({ key: TAINT_UNREACHABLE, effect: 'NoExecute' });
  return { taints: out, noExecuteDecided: ready !== undefined };
}

/**
 * The node's taints with the controller-owned ones brought in line with `desiredTaints`:
 * other taints and still-wanted ones (with their timeAdded) are kept, unwanted owned ones
 * removed, missing ones appended with timeAdded = `now`. Undefined when nothing changes.
 */
export function reconcileTaints(node: RoNode, now: Date): Taint[] | undefined {
  const { taints: want, noExecuteDecided } = desiredTaints(node);
  const cur = node.spec?.taints ?? [];
  const next: Taint[] = cur.filter((t) => !managed(t, noExecuteDecided) || want.some((w) => sameTaint(w, t))).map((t) => clone(t));
  for (const w of want) {
    if (!next.some((t) => sameTaint(t, w))) next.push({ ...w, timeAdded: rfc3339(now) });
  }
  return next.length === cur.length && next.every((t, i) => jsonEqual(t, cur[i])) ? undefined : next;
}

interface NodeHealth {
  /** Local ms when the kubelet was last heard from. */
  probe: number;
  /** Local ms when the Ready condition last changed as seen here. */
  readyTransition: number;
  /** The status last seen (or written). */
  status: DeepReadonly<Node['status']>;
  /** spec.renewTime (ms) of the node's Lease last seen; undefined = none seen yet. */
  leaseRenew?: number;
  leaseSeen: boolean;
}

export interface NodeLifecycleOptions extends ControllerOptions {
  gracePeriodMs: number;
  startupGracePeriodMs: number;
  podQueue?: WorkQueue<string>;
  /** Node workers (upstream nodeUpdateWorkerSize: 8). */
  workers?: number;
}

export class NodeLifecycleController {
  readonly queue: WorkQueue<string>;
  readonly podQueue: WorkQueue<string>;
  private readonly nodeInformer: Informer<Node>;
  private readonly podInformer: Informer<Pod>;
  private readonly leaseInformer: Informer<Lease>;
  private readonly health = new Map<string, NodeHealth>();
  private readonly known = new Set<string>();
  /** Nodes whose pods still need to be marked not ready (a previous attempt failed). */
  private readonly retry = new Set<string>();
  private readonly now: () => Date;
  private readonly log: Logger;

  constructor(private readonly o: NodeLifecycleOptions) {
    this.now = o.now ?? (() => new Date());
    this.log = o.logger;
    this.queue = o.queue ?? new WorkQueue<string>({ name: 'node_lifecycle_controller' });
    this.podQueue = o.podQueue ?? new WorkQueue<string>({ name: 'node_lifecycle_controller_pods' });
    this.nodeInformer = o.informers.informer(Resources.nodes);
    this.leaseInformer = o.informers.informer(Resources.leases, { namespace: NODE_LEASE_NAMESPACE });
    this.podInformer = o.informers.informer(Resources.pods, {
      indexers: { [POD_NODE_INDEX]: (p) => (p.spec?.nodeName ? [p.spec.nodeName] : []) },
    });
    const byName = (obj: { metadata?: { name?: string } }) => this.queue.add(obj.metadata?.name ?? '');
    this.nodeInformer.addEventHandler({ onAdd: byName, onUpdate: (_o, n) => byName(n), onDelete: byName });
    this.leaseInformer.addEventHandler({ onAdd: byName, onUpdate: (_o, l) => byName(l), onDelete: byName });
    this.podInformer.addEventHandler({
      onAdd: (p) => this.podChanged(undefined, p),
      onUpdate: (old, p) => this.podChanged(old, p),
    });
  }

  run(signal: AbortSignal): Promise<void> {
    return Promise.all([
      runWorkers({
        name: 'node-lifecycle-controller', queue: this.queue, workers: this.o.workers ?? 8, logger: this.log, signal,
        metrics: this.o.metrics, reconcile: (key) => this.reconcile(key),
      }),
      runWorkers({
        name: 'node-lifecycle-controller-pods', queue: this.podQueue, workers: 4, logger: this.log, signal,
        metrics: this.o.metrics, reconcile: (key) => this.reconcilePod(key),
      }),
    ]).then(() => undefined);
  }

  private podChanged(old: RoPod | undefined, pod: RoPod): void {
    const node = pod.spec?.nodeName;
    if (node && node !== old?.spec?.nodeName) this.podQueue.add(podKey(pod));
  }

  /** See the file comment. Not found: forgets the node. Throws when a write fails (retried). */
  async reconcile(name: string): Promise<ReconcileResult> {
    const cached = this.nodeInformer.lister.get(name);
    if (!cached) {
      this.health.delete(name);
      this.known.delete(name);
      this.retry.delete(name);
      return;
    }
    if (!this.known.has(name)) {
      this.known.add(name);
      this.o.recorder.event(cached, 'Normal', 'RegisteredNode', `Node ${name} event: Registered Node ${name} in Controller`);
    }
    const { node, observed, current, grace } = await this.updateHealth(clone(cached));

    const taints = reconcileTaints(node, this.now());
    if (taints) {
      await this.o.client.resource(Resources.nodes).update({ ...node, spec: { ...node.spec, taints: taints.length ? taints : undefined } });
      this.log.info('node taints updated', { node: name, taints: taints.map((t) => `${t.key}:${t.effect}`) });
    }

    if (current) {
      let mark = this.retry.has(name) && observed.status !== 'True';
      if (current.status !== 'True' && observed.status === 'True') {
        this.o.recorder.event(cached, 'Normal', 'NodeNotReady', `Node ${name} status is now: NodeNotReady`);
        mark = true;
      }
      if (mark) {
        try {
          await this.markPodsNotReady(this.podInformer.lister.byIndex(POD_NODE_INDEX, name), name);
        } catch (e) {
          this.retry.add(name);
          throw e;
        }
      }
      this.retry.delete(name);
    }

    const h = this.health.get(name);
    const due = h ? h.probe + grace - this.now().getTime() : 0;
    return due >= 0 ? { requeueAfter: due + 1 } : undefined;
  }

  /**
   * Upstream tryUpdateNodeHealth: updates the probe bookkeeping from the node and its Lease,
   * and writes Unknown conditions once the grace period ran out. Returns the Ready condition
   * as it was (`observed`) and as it is now (`current`), and the node to continue with.
   */
  private async updateHealth(node: DeepWritable<Node>): Promise<{ node: DeepWritable<Node>; observed: DeepReadonly<NodeCondition>; current?: DeepReadonly<NodeCondition>; grace: number }> {
    const name = node.metadata?.name ?? '';
    const now = this.now().getTime();
    const created = Date.parse(node.metadata?.creationTimestamp ?? '');
    const createdMs = Number.isNaN(created) ? now : created;
    const cur = conditionOf(node.status?.conditions, 'Ready');
    let h = this.health.get(name);
    let observed: DeepReadonly<NodeCondition>;
    let grace: number;
    if (!cur) {
      // Never posted: judge it from its creation with the (longer) startup grace period.
      observed = { type: 'Ready', status: 'Unknown', lastHeartbeatTime: node.metadata?.creationTimestamp, lastTransitionTime: node.metadata?.creationTimestamp };
      grace = this.o.startupGracePeriodMs;
      h = h ? { ...h, status: clone(node.status) } : { status: clone(node.status), probe: createdMs, readyTransition: createdMs, leaseSeen: false };
    } else {
      observed = clone(cur);
      grace = this.o.gracePeriodMs;
    }
    const saved = h ? conditionOf(h.status?.conditions, 'Ready') : undefined;
    const fresh = (prev?: NodeHealth): NodeHealth => ({
      status: clone(node.status), probe: now, readyTransition: now, leaseRenew: prev?.leaseRenew, leaseSeen: prev?.leaseSeen ?? false,
    });
    if (!h) {
      h = fresh();
    } else if (!saved && cur) {
      h = fresh(h);
    } else if (saved && cur && saved.lastHeartbeatTime !== cur.lastHeartbeatTime) {
      const transition = saved.lastTransitionTime !== cur.lastTransitionTime ? now : h.readyTransition;
      h = { ...fresh(h), readyTransition: transition };
    }
    // A renewed Lease is a heartbeat too.
    const lease = this.leaseInformer.lister.getByName(NODE_LEASE_NAMESPACE, name);
    if (lease) {
      const t = Date.parse(lease.spec?.renewTime ?? '');
      const renew = Number.isNaN(t) ? undefined : t;
      if (!h.leaseSeen || (renew !== undefined && (h.leaseRenew === undefined || h.leaseRenew < renew))) {
        h = { ...h, leaseSeen: true, leaseRenew: renew, probe: now };
      }
    }
    this.health.set(name, h);

    if (now > h.probe + grace) {
      const stamp = rfc3339(new Date(now));
      const status = (node.status ??= {});
      const conds = (status.conditions ??= []);
      for (const type of SILENT_CONDITIONS) {
        const c = conds.find((x) => x.type === type);
        if (!c) {
          conds.push({
            type, status: 'Unknown', reason: 'NodeStatusNeverUpdated', message: 'Kubelet never posted node status.',
            lastHeartbeatTime: node.metadata?.creationTimestamp, lastTransitionTime: stamp,
          });
        } else if (c.status !== 'Unknown') {
          c.status = 'Unknown';
          c.reason = 'NodeStatusUnknown';
          c.message = 'Kubelet stopped posting node status.';
          c.lastTransitionTime = stamp;
        }
      }
      const current = conditionOf(conds, 'Ready');
      if (!jsonEqual(current, observed)) {
        const updated = clone(await this.o.client.resource(Resources.nodes).updateStatus(node));
        this.health.set(name, { ...h, status: clone(updated.status), readyTransition: now });
        this.log.info('node stopped posting status', { node: name, silentForMs: now - h.probe });
        return { node: updated, observed, current: conditionOf(updated.status?.conditions, 'Ready'), grace };
      }
      return { node, observed, current, grace };
    }
    return { node, observed, current: cur, grace };
  }

  /** Sets the Ready condition of `pods` on `nodeName` to False (upstream MarkPodsNotReady). */
  private async markPodsNotReady(pods: readonly RoPod[], nodeName: string): Promise<void> {
    const errs: unknown[] = [];
    const stamp = rfc3339(this.now());
    for (const pod of pods) {
      if (pod.spec?.nodeName !== nodeName) continue;
      const ready = pod.status?.conditions?.find((c) => c.type === 'Ready');
      if (!ready) continue;
      const copy = clone(pod);
      const status = (copy.status ??= {});
      if (!updatePodCondition(status, { ...clone(ready), status: 'False' }, stamp)) continue;
      try {
        await this.o.client.resource(Resources.pods).updateStatus(copy);
      } catch (e) {
        if (!isApiError(e, 'NotFound')) errs.push(e);
        continue;
      }
      this.o.recorder.event(pod, 'Warning', 'NodeNotReady', 'Node is not ready');
    }
    const err = aggregate(errs);
    if (err) throw err;
  }

  /** A pod bound to a node last seen not Ready is marked not ready too (upstream processPod). */
  async reconcilePod(key: string): Promise<ReconcileResult> {
    const { namespace, name } = splitKey(key);
    const pod = this.podInformer.lister.getByName(namespace, name);
    const nodeName = pod?.spec?.nodeName;
    if (!pod || !nodeName) return;
    const h = this.health.get(nodeName);
    if (!h) return;
    if (!this.nodeInformer.lister.get(nodeName)) throw new Error(`node ${nodeName} of pod ${key} is not in the cache`);
    const ready = conditionOf(h.status?.conditions, 'Ready');
    if (ready && ready.status !== 'True') await this.markPodsNotReady([pod], nodeName);
  }
}

export const nodeLifecycleController: Controller = {
  name: 'node-lifecycle-controller',
  aliases: ['nodelifecycle'],
  async start(ctx) {
    const c = new NodeLifecycleController({
      client: ctx.client, informers: ctx.informers, logger: ctx.logger, recorder: ctx.recorder('node-controller'),
      gracePeriodMs: ctx.settings.nodeMonitorGracePeriodMs, startupGracePeriodMs: ctx.settings.nodeStartupGracePeriodMs,
      now: ctx.now, queue: ctx.newQueue('node_lifecycle_controller'), podQueue: ctx.newQueue('node_lifecycle_controller_pods'),
      metrics: ctx.metrics,
    });
    if (!(await ctx.waitForCacheSync())) return;
    await c.run(ctx.signal);
  },
};
