/**
 * The DaemonSet controller (upstream pkg/controller/daemon): one pod per eligible node.
 *
 * reconcile(namespace/name):
 *  1. History: the ControllerRevision whose data is the current template (upstream
 *     constructHistory/snapshot) is found or created as `<ds>-<hash>` (hash of the template and
 *     status.collisionCount; a name taken by other data bumps collisionCount and retries),
 *     duplicates are folded into the newest, and its revision number is raised above the
 *     old ones. Its `controller-revision-hash` label value is the hash new pods carry.
 *  2. Unless expectations are pending: claim pods (adopt/release by selector), group them by
 *     target node (spec.nodeName, or the node of their `metadata.name In [node]` affinity), and
 *     per node (nodeShouldRunDaemonPod: nodeSelector, required node affinity, taints vs the
 *     template's tolerations plus the daemon defaults): create a pod where one should run and
 *     none does; delete failed pods (with a per-node exponential backoff, 1 s to 15 min, and a
 *     FailedDaemonPod event) and succeeded ones; keep only the oldest of several (or, with
 *     maxSurge, one old and one new pod); delete every pod on a node that must not run one (an
 *     untolerated NoExecute taint, a selector/affinity that no longer matches); delete
 *     unscheduled pods aimed at nodes that no longer exist. Creations go in slow-start batches
 *     with the template's labels plus `controller-revision-hash` (and `pod-template-generation`
 *     when the DaemonSet has the template-generation annotation), the default daemon
 *     tolerations, and a required node affinity `metadata.name In [node]` (matchFields) so the
 *     default scheduler binds the pod to that node.
 *  3. RollingUpdate (when nothing is in flight): without maxSurge, delete old pods that are
 *     unavailable, plus available ones while fewer than maxUnavailable new/missing pods are
 *     unavailable (the next round creates their replacements); with maxSurge, create new pods
 *     next to old ones (at most maxSurge at a time, immediately where the old one is
 *     unavailable) and delete an old pod once its replacement is available. OnDelete does
 *     nothing here: a deleted pod comes back at the new revision.
 *  4. Old revisions beyond revisionHistoryLimit (default 10) that no pod uses are deleted,
 *     oldest first.
 *  5. Status via /status when it changed: desiredNumberScheduled, currentNumberScheduled,
 *     numberMisscheduled, numberReady, updatedNumberScheduled, numberAvailable,
 *     numberUnavailable, observedGeneration (not raised while expectations are pending).
 *
 * Events (on the DaemonSet): SuccessfulCreate "Created pod: <name>", FailedCreate "Error
 * creating: <err>", SuccessfulDelete "Deleted pod: <name>", FailedDelete "Error deleting:
 * <err>", FailedDaemonPod "Found failed daemon pod <ns>/<name> on node <node>, will try to kill
 * it", SelectingAll "This daemon set is selecting all pods. A non-empty selector is required.".
 *
 * Reacts to DaemonSets, their pods and revisions, and nodes (added: if a DaemonSet should run
 * there; updated: if labels or taints changed a DaemonSet's verdict; deleted: every
 * DaemonSet). Leaves out: the pre-1.12 self-scheduling path, relabelling revisions that lack
 * the hash label (pre-1.7 history), and the DaemonSet conditions (upstream never sets any).
 */
import {
  isApiError, jsonEqual, matches, objectKey, splitKey,
  type ControllerRevision, type DaemonSet, type DaemonSetStatus, type Node, type Pod, type PodTemplateSpec, type Selector,
} from '@tskube/api';
import {
  Resources, WorkQueue, clone, type DeepReadonly, type Informer, type ReconcileResult,
} from '@tskube/client';
import type { Logger } from '@tskube/log';
import { runWorkers, type Controller, type ControllerOptions } from '../controller.js';
import { computeHash } from '../util/hash.js';
import {
  ControllerHistory, POD_REVISION_LABEL, sameData, sortRevisions, templatePatch, type RoRevision,
} from '../history/history.js';
import { slowStartBatch } from '../replicaset/replicaset-controller.js';
import { claimPods } from '../util/claim.js';
import { aggregate, errorMessage, hasStatusCause } from '../util/errors.js';
import { Expectations } from '../util/expectations.js';
import { controllerOf, groupOf, newControllerRef } from '../util/owners.js';
import { isPodAvailable, isPodReady, podKey } from '../util/pods.js';
import {
  POD_TEMPLATE_GENERATION_LABEL, addDaemonPodTolerations, allowsSurge, byCreationAndBinding, isPodUpdated,
  nodeShouldRunDaemonPod, replaceNodeNameAffinity, surgeCount, targetNodeName, templateGeneration, unavailableCount,
} from './util.js';
import { selectorOf } from '../util/selector.js';

type RoDS = DeepReadonly<DaemonSet>;
type RoPod = DeepReadonly<Pod>;
type RoNode = DeepReadonly<Node>;

const DS_GVK = { apiVersion: 'apps/v1', kind: 'DaemonSet' };
/** Upstream BurstReplicas. */
export const BURST_REPLICAS = 250;
/** Upstream failedPodsBackoff: flowcontrol.NewBackOff(1 s, 15 min). */
const FAILED_BACKOFF_INITIAL_MS = 1000;
const FAILED_BACKOFF_MAX_MS = 15 * 60_000;

export interface DaemonSetControllerOptions extends ControllerOptions {
  burstReplicas?: number;
  /** Parallel workers (upstream --concurrent-daemonset-syncs: 2). */
  workers?: number;
}

/**
 * Per-key exponential backoff (upstream flowcontrol.Backoff as the DaemonSet uses it): `next`
 * starts at the initial delay and doubles up to the max; an entry idle for twice the max is
 * forgotten.
 */
class FailedPodBackoff {
  private readonly entries = new Map<string, { delayMs: number; lastMs: number }>();
  constructor(private readonly now: () => number) {}

  /** In backoff: the last failure was less than the current delay ago. */
  inBackoff(key: string): boolean {
    const e = this.entries.get(key);
    return !!e && this.now() - e.lastMs < e.delayMs;
  }

  delay(key: string): number {
    return this.entries.get(key)?.delayMs ?? 0;
  }

  next(key: string): void {
    const now = this.now();
    const e = this.entries.get(key);
    if (!e || now - e.lastMs > 2 * FAILED_BACKOFF_MAX_MS) {
      this.entries.set(key, { delayMs: FAILED_BACKOFF_INITIAL_MS, lastMs: now });
      return;
    }
    this.entries.set(key, { delayMs: Math.min(e.delayMs * 2, FAILED_BACKOFF_MAX_MS), lastMs: now });
  }

  /** Forgets every key starting with `prefix`. */
  forgetPrefix(prefix: string): void {
    for (const k of [...this.entries.keys()]) if (k.startsWith(prefix)) this.entries.delete(k);
  }
}

/** What one reconcile round collected about the DaemonSet. */
interface Round {
  key: string;
  ds: RoDS;
  nodes: readonly RoNode[];
  /** Claimed pods by target node (deleted terminal pods left out). */
  byNode: Map<string, RoPod[]>;
  /** Every claimed pod. */
  pods: readonly RoPod[];
  hash: string;
  /** Shortest requested look-again delay (ms). */
  requeueMs?: number;
}

export class DaemonSetController {
  readonly queue: WorkQueue<string>;
  readonly expectations: Expectations;
  private readonly dsInformer: Informer<DaemonSet>;
  private readonly podInformer: Informer<Pod>;
  private readonly nodeInformer: Informer<Node>;
  private readonly revInformer: Informer<ControllerRevision>;
  private readonly history: ControllerHistory;
  private readonly backoff: FailedPodBackoff;
  private readonly log: Logger;
  private readonly now: () => Date;
  private readonly burst: number;

  constructor(private readonly o: DaemonSetControllerOptions) {
    this.log = o.logger;
    this.now = o.now ?? (() => new Date());
    this.burst = o.burstReplicas ?? BURST_REPLICAS;
    this.expectations = new Expectations({ now: () => this.now().getTime() });
    this.backoff = new FailedPodBackoff(() => this.now().getTime());
    this.queue = o.queue ?? new WorkQueue<string>({ name: 'daemonset' });
    this.dsInformer = o.informers.informer(Resources.daemonSets);
    this.podInformer = o.informers.informer(Resources.pods);
    this.nodeInformer = o.informers.informer(Resources.nodes);
    this.revInformer = o.informers.informer(Resources.controllerRevisions);
    this.history = new ControllerHistory(o.client, this.revInformer);

    this.dsInformer.addEventHandler({
      onAdd: (ds) => this.enqueue(ds),
      onUpdate: (old, ds) => {
        if (old.metadata?.uid !== ds.metadata?.uid) this.forget(old);
        this.enqueue(ds);
      },
      onDelete: (ds) => {
        this.forget(ds);
        this.enqueue(ds);
      },
    });
    this.podInformer.addEventHandler({
      onAdd: (pod) => this.podAdded(pod),
      onUpdate: (old, pod) => this.podUpdated(old, pod),
      onDelete: (pod) => this.podDeleted(pod),
    });
    this.nodeInformer.addEventHandler({
      onAdd: (node) => {
        for (const ds of this.dsInformer.lister.list()) if (nodeShouldRunDaemonPod(node, ds).shouldRun) this.enqueue(ds);
      },
      onUpdate: (old, node) => {
        if (jsonEqual(old.metadata?.labels ?? {}, node.metadata?.labels ?? {}) && jsonEqual(old.spec?.taints ?? [], node.spec?.taints ?? [])) return;
        for (const ds of this.dsInformer.lister.list()) {
          const a = nodeShouldRunDaemonPod(old, ds);
          const b = nodeShouldRunDaemonPod(node, ds);
          if (a.shouldRun !== b.shouldRun || a.shouldContinueRunning !== b.shouldContinueRunning) this.enqueue(ds);
        }
      },
      // Pods aimed at a vanished node never get scheduled: every DaemonSet looks again.
      onDelete: () => { for (const ds of this.dsInformer.lister.list()) this.enqueue(ds); },
    });
    const revisionChanged = (rev: DeepReadonly<ControllerRevision>) => {
      const ref = controllerOf(rev);
      const ds = ref && this.resolve(rev.metadata?.namespace ?? '', ref);
      if (ds) this.enqueue(ds);
    };
    this.revInformer.addEventHandler({ onAdd: revisionChanged, onUpdate: (_o, r) => revisionChanged(r), onDelete: revisionChanged });
  }

  run(signal: AbortSignal): Promise<void> {
    return runWorkers({
      name: 'daemonset-controller', queue: this.queue, workers: this.o.workers ?? 2, logger: this.log, signal,
      metrics: this.o.metrics, reconcile: (key) => this.reconcile(key),
    });
  }

  // ---- event handlers ----

  private enqueue(ds: RoDS): void {
    this.queue.add(objectKey(ds));
  }

  private forget(ds: RoDS): void {
    this.expectations.delete(objectKey(ds));
    this.backoff.forgetPrefix(`${ds.metadata?.uid ?? ''}/`);
  }

  private resolve(namespace: string, ref: { kind: string; apiVersion: string; name: string; uid: string }): RoDS | undefined {
    if (ref.kind !== 'DaemonSet' || groupOf(ref.apiVersion) !== 'apps') return undefined;
    const ds = this.dsInformer.lister.getByName(namespace, ref.name);
    return ds && ds.metadata?.uid === ref.uid ? ds : undefined;
  }

  private daemonSetsFor(pod: RoPod): RoDS[] {
    return this.dsInformer.lister.listNamespace(pod.metadata?.namespace ?? '').filter((ds) => {
      const sel = selectorOf(ds);
      return sel !== null && sel.length > 0 && matches(sel, pod.metadata?.labels);
    });
  }

  private podAdded(pod: RoPod): void {
    if (pod.metadata?.deletionTimestamp) {
      this.podDeleted(pod);
      return;
    }
    const ref = controllerOf(pod);
    if (ref) {
      const ds = this.resolve(pod.metadata?.namespace ?? '', ref);
      if (!ds) return;
      this.expectations.creationObserved(objectKey(ds));
      this.enqueue(ds);
      return;
    }
    for (const ds of this.daemonSetsFor(pod)) this.enqueue(ds);
  }

  private podUpdated(old: RoPod, pod: RoPod): void {
    if (old.metadata?.resourceVersion === pod.metadata?.resourceVersion) return;
    if (pod.metadata?.deletionTimestamp) {
      this.podDeleted(pod);
      return;
    }
    const ref = controllerOf(pod);
    const oldRef = controllerOf(old);
    const ns = pod.metadata?.namespace ?? '';
    if (oldRef && !jsonEqual(ref, oldRef)) {
      const ds = this.resolve(ns, oldRef);
      if (ds) this.enqueue(ds);
    }
    if (ref) {
      const ds = this.resolve(ns, ref);
      if (!ds) return;
      this.enqueue(ds);
      const minReady = ds.spec?.minReadySeconds ?? 0;
      if (minReady > 0 && !isPodReady(old) && isPodReady(pod)) this.queue.addAfter(objectKey(ds), (minReady + 1) * 1000);
      return;
    }
    if (!jsonEqual(old.metadata?.labels, pod.metadata?.labels) || oldRef) for (const ds of this.daemonSetsFor(pod)) this.enqueue(ds);
  }

  private podDeleted(pod: RoPod): void {
    const ref = controllerOf(pod);
    if (!ref) return;
    const ds = this.resolve(pod.metadata?.namespace ?? '', ref);
    if (!ds) return;
    this.expectations.deletionObserved(objectKey(ds), podKey(pod));
    this.enqueue(ds);
  }

  // ---- reconcile ----

  /**
   * Brings the DaemonSet `key` to one pod per eligible node at the current revision and
   * writes its status. Not-found: forgets its expectations. Throws on a failed write (retried).
   */
  async reconcile(key: string): Promise<ReconcileResult> {
    const { namespace, name } = splitKey(key);
    const ds = this.dsInformer.lister.getByName(namespace, name);
    if (!ds) {
      this.expectations.delete(key);
      return;
    }
    const selector = selectorOf(ds);
    if (!selector) {
      this.log.warn('daemonset has an invalid selector', { key });
      return;
    }
    if (selector.length === 0) {
      this.o.recorder.event(ds, 'Warning', 'SelectingAll', 'This daemon set is selecting all pods. A non-empty selector is required.');
      return;
    }
    // Being deleted: its revisions may already be gone, so neither history nor pods are touched.
    if (ds.metadata?.deletionTimestamp) return;

    const { cur, old } = await this.constructHistory(ds, selector);
    const hash = cur.metadata?.labels?.[POD_REVISION_LABEL] ?? '';
    const nodes = this.nodeInformer.lister.list();
    const pods = await this.claim(ds, selector);
    const round: Round = { key, ds, nodes, pods, byNode: nodesToDaemonPods(pods, false), hash };

    if (!this.expectations.satisfied(key)) {
      // Writes of an earlier round are not visible yet: report, but do not raise observedGeneration.
      await this.updateStatus(round, false);
      return this.requeue(round);
    }
    let err: unknown;
    try {
      await this.manage(round);
      if (this.expectations.satisfied(key) && (ds.spec?.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate') {
        await this.rollingUpdate(round);
      }
      await this.cleanupHistory(round, old);
    } catch (e) {
      err = e;
    }
    try {
      await this.updateStatus(round, true);
    } catch (statusErr) {
      if (err === undefined) throw statusErr;
      this.log.warn('daemonset status update failed', { key, error: errorMessage(statusErr) });
    }
    if (err !== undefined) throw err;
    return this.requeue(round);
  }

  private requeue(round: Round): ReconcileResult {
    return round.requeueMs !== undefined ? { requeueAfter: round.requeueMs } : undefined;
  }

  private lookAgain(round: Round, ms: number): void {
    round.requeueMs = round.requeueMs === undefined ? ms : Math.min(round.requeueMs, ms);
  }

  private async claim(ds: RoDS, selector: Selector): Promise<RoPod[]> {
    return claimPods({
      client: this.o.client, owner: ds, gvk: DS_GVK, selector, logger: this.log,
      pods: this.podInformer.lister.listNamespace(ds.metadata?.namespace ?? ''), recheck: () => this.recheck(ds),
    });
  }

  /** Adoption needs a live view: the cached DaemonSet may be gone or being deleted (upstream RecheckDeletionTimestamp). */
  private async recheck(ds: RoDS): Promise<void> {
    const ns = ds.metadata?.namespace ?? '';
    const fresh = await this.o.client.resource(Resources.daemonSets).get(ns, ds.metadata?.name ?? '');
    if (fresh.metadata?.uid !== ds.metadata?.uid) throw new Error(`original DaemonSet ${ns}/${ds.metadata?.name ?? ''} is gone`);
    if (fresh.metadata?.deletionTimestamp) throw new Error(`${ns}/${ds.metadata?.name ?? ''} has just been deleted at ${fresh.metadata.deletionTimestamp}`);
  }

  // ---- history ----

  /**
   * The current revision (found, folded from duplicates, or created) and the old ones
   * (upstream constructHistory). Orphaned revisions matching the selector are adopted.
   */
  private async constructHistory(ds: RoDS, selector: Selector): Promise<{ cur: RoRevision; old: RoRevision[] }> {
    const data = templatePatch(ds.spec?.template);
    const current: RoRevision[] = [];
    const old: RoRevision[] = [];
    let canAdopt: Promise<void> | undefined;
    for (let rev of this.history.list(ds, selector)) {
      if (!controllerOf(rev)) {
        canAdopt ??= this.recheck(ds);
        await canAdopt;
        rev = await this.history.adopt(ds, DS_GVK, rev);
      }
      (sameData(rev, data) ? current : old).push(rev);
    }
    const next = old.reduce((m, r) => Math.max(m, r.revision), 0) + 1;
    let cur: RoRevision;
    if (current.length === 0) {
      cur = await this.snapshot(ds, data, next);
    } else {
      cur = await this.dedupCurrent(ds, current);
      if (cur.revision < next) cur = await this.history.renumber(cur, next);
    }
    return { cur, old };
  }

  /** Keeps the newest of several revisions with the current data; relabels their pods to it and deletes the rest. */
  private async dedupCurrent(ds: RoDS, current: readonly RoRevision[]): Promise<RoRevision> {
    const sorted = sortRevisions(current);
    const keep = sorted[sorted.length - 1]!;
    const keepHash = keep.metadata?.labels?.[POD_REVISION_LABEL] ?? '';
    const podsClient = this.o.client.resource(Resources.pods);
    for (const dup of sorted.slice(0, -1)) {
      const dupHash = dup.metadata?.labels?.[POD_REVISION_LABEL];
      for (const pod of this.podInformer.lister.listNamespace(ds.metadata?.namespace ?? '')) {
        if (controllerOf(pod)?.uid !== ds.metadata?.uid || !dupHash || pod.metadata?.labels?.[POD_REVISION_LABEL] !== dupHash) continue;
        await podsClient.patch(pod.metadata?.namespace ?? '', pod.metadata?.name ?? '', { metadata: { labels: { [POD_REVISION_LABEL]: keepHash } } }, 'merge');
      }
      await this.history.delete(dup);
    }
    return keep;
  }

  /**
   * Stores the current template as revision `revision` named `<ds>-<hash>` (upstream
   * snapshot). A name already holding other data bumps status.collisionCount (from a fresh
   * read, so a stale count is never bumped twice) and throws, so the next round uses the new
   * name.
   */
  private async snapshot(ds: RoDS, data: Record<string, unknown>, revision: number): Promise<RoRevision> {
    const ns = ds.metadata?.namespace ?? '';
    const collisionCount = ds.status?.collisionCount;
    const hash = computeHash(ds.spec?.template as PodTemplateSpec | undefined, collisionCount);
    const name = `${ds.metadata?.name ?? ''}-${hash}`;
    const rev: ControllerRevision = {
      apiVersion: 'apps/v1', kind: 'ControllerRevision',
      metadata: {
        name, namespace: ns,
        labels: { ...(ds.spec?.template?.metadata?.labels ?? {}), [POD_REVISION_LABEL]: hash },
        ...(ds.metadata?.annotations ? { annotations: clone(ds.metadata.annotations) } : {}),
        ownerReferences: [newControllerRef(ds, DS_GVK)],
      },
      data: data as ControllerRevision['data'],
      revision,
    };
    const crs = this.o.client.resource(Resources.controllerRevisions);
    try {
      return await crs.create(ns, rev);
    } catch (e) {
      if (!isApiError(e, 'AlreadyExists')) throw e;
      const existing = await crs.get(ns, name);
      if (sameData(existing, data) && controllerOf(existing)?.uid === ds.metadata?.uid) return existing;
      const dsClient = this.o.client.resource(Resources.daemonSets);
      const fresh = await dsClient.get(ns, ds.metadata?.name ?? '');
      if (fresh.status?.collisionCount !== collisionCount) {
        throw new Error(`found a stale collision count (${collisionCount ?? 'nil'}, expected ${fresh.status?.collisionCount ?? 'nil'}) of DaemonSet "${ds.metadata?.name ?? ''}" while processing; will retry until it is updated`);
      }
      await dsClient.updateStatus({ ...fresh, status: { ...fresh.status, collisionCount: (collisionCount ?? 0) + 1 } as DaemonSetStatus });
      this.log.info('hash collision for daemonset, bumped collisionCount', { daemonset: objectKey(ds), collisionCount: (collisionCount ?? 0) + 1 });
      throw e;
    }
  }

  /** Deletes old revisions beyond revisionHistoryLimit that no pod runs, oldest first (upstream cleanupHistory). */
  private async cleanupHistory(round: Round, old: readonly RoRevision[]): Promise<void> {
    const toKeep = round.ds.spec?.revisionHistoryLimit ?? 10;
    let toKill = old.length - toKeep;
    if (toKill <= 0) return;
    const live = new Set(round.pods.map((p) => p.metadata?.labels?.[POD_REVISION_LABEL]).filter((h): h is string => !!h));
    for (const rev of sortRevisions(old)) {
      if (toKill <= 0) break;
      const h = rev.metadata?.labels?.[POD_REVISION_LABEL];
      if (h && live.has(h)) continue;
      try {
        await this.history.delete(rev);
      } catch (e) {
        throw new Error(`failed to clean up revisions of DaemonSet: ${errorMessage(e)}`, { cause: e });
      }
      toKill--;
    }
  }

  // ---- pods ----

  /** Creates and deletes pods so that each node runs what it should (upstream manage + podsShouldBeOnNode). */
  private async manage(round: Round): Promise<void> {
    const { ds, byNode, hash } = round;
    const create: string[] = [];
    const remove: RoPod[] = [];
    const now = this.now();
    const surge = allowsSurge(ds);
    for (const node of round.nodes) {
      const nodeName = node.metadata?.name ?? '';
      const { shouldRun, shouldContinueRunning } = nodeShouldRunDaemonPod(node, ds);
      const pods = byNode.get(nodeName);
      if (shouldRun && !pods) {
        create.push(nodeName);
        continue;
      }
      if (!pods) continue;
      if (!shouldContinueRunning) {
        for (const p of pods) if (!p.metadata?.deletionTimestamp) remove.push(p);
        continue;
      }
      const running: RoPod[] = [];
      for (const p of pods) {
        if (p.metadata?.deletionTimestamp) continue;
        if (p.status?.phase === 'Failed') {
          // Kubelets that keep rejecting a pod would make this a hot loop: back off per node.
          const bkey = `${ds.metadata?.uid ?? ''}/${ds.status?.observedGeneration ?? 0}/${nodeName}`;
          if (this.backoff.inBackoff(bkey)) {
            this.lookAgain(round, this.backoff.delay(bkey));
            continue;
          }
          this.backoff.next(bkey);
          this.o.recorder.event(ds, 'Warning', 'FailedDaemonPod',
            `Found failed daemon pod ${p.metadata?.namespace ?? ''}/${p.metadata?.name ?? ''} on node ${nodeName}, will try to kill it`);
          remove.push(p);
        } else if (p.status?.phase === 'Succeeded') {
          remove.push(p);
        } else {
          running.push(p);
        }
      }
      if (!surge) {
        // Keep the oldest (bound first); any further one goes.
        if (running.length > 1) remove.push(...[...running].sort(byCreationAndBinding).slice(1));
        continue;
      }
      if (running.length <= 1) {
        if (running.length === 0 && shouldRun) create.push(nodeName);
        continue;
      }
      // Surging: at most the oldest new and the oldest old pod; the old one goes once it is
      // not ready or the new one is available.
      let oldestNew: RoPod | undefined;
      let oldestOld: RoPod | undefined;
      for (const p of [...running].sort(byCreationAndBinding)) {
        const isNew = p.metadata?.labels?.[POD_REVISION_LABEL] === hash;
        if (isNew && !oldestNew) oldestNew = p;
        else if (!isNew && !oldestOld) oldestOld = p;
        else remove.push(p);
      }
      if (oldestNew && oldestOld && (!isPodReady(oldestOld) || isPodAvailable(oldestNew, ds.spec?.minReadySeconds ?? 0, now))) {
        remove.push(oldestOld);
      }
    }
    // Unscheduled pods aimed at nodes that no longer exist would stay Pending forever.
    const known = new Set(round.nodes.map((n) => n.metadata?.name ?? ''));
    for (const [nodeName, pods] of byNode) {
      if (known.has(nodeName)) continue;
      for (const p of pods) if (!p.spec?.nodeName && !p.metadata?.deletionTimestamp) remove.push(p);
    }
    await this.syncNodes(round, remove, create);
  }

  /**
   * Deletes `remove` and creates one pod per node in `create` (each capped at burstReplicas),
   * with expectations set first (upstream syncNodes). Creations run in slow-start batches;
   * after a failing batch the rest are skipped (and no longer expected).
   */
  private async syncNodes(round: Round, remove: readonly RoPod[], create: readonly string[]): Promise<void> {
    const { key, ds, hash } = round;
    const nCreate = Math.min(create.length, this.burst);
    const victims = remove.slice(0, this.burst);
    this.expectations.expect(key, nCreate, victims.map(podKey));
    const errs: unknown[] = [];
    if (nCreate > 0) {
      this.log.debug('nodes needing daemon pods', { key, nodes: create.slice(0, nCreate) });
      const template = this.podTemplate(ds, hash);
      let next = 0;
      const { error } = await slowStartBatch(nCreate, 1, async () => {
        const nodeName = create[next++]!;
        try {
          await this.createPod(ds, template, nodeName);
        } catch (e) {
          this.expectations.creationObserved(key);
          throw e;
        }
      });
      // Never attempted: not expected any more; the next round retries them.
      for (let i = next; i < nCreate; i++) this.expectations.creationObserved(key);
      if (error !== undefined) errs.push(error);
    }
    const results = await Promise.allSettled(victims.map((p) => this.deletePod(ds, p)));
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') return;
      this.expectations.deletionObserved(key, podKey(victims[i]!));
      if (!isApiError(r.reason, 'NotFound')) errs.push(r.reason);
    });
    const err = aggregate(errs);
    if (err) throw err;
  }

  /** The template new pods are made from (upstream CreatePodTemplate): default tolerations, generation and hash labels. */
  private podTemplate(ds: RoDS, hash: string): PodTemplateSpec {
    const t = clone(ds.spec?.template ?? {}) as PodTemplateSpec;
    t.spec ??= { containers: [] };
    addDaemonPodTolerations(t.spec);
    const labels = { ...(t.metadata?.labels ?? {}) };
    const generation = templateGeneration(ds);
    if (generation !== undefined) labels[POD_TEMPLATE_GENERATION_LABEL] = generation;
    if (hash) labels[POD_REVISION_LABEL] = hash;
    t.metadata = { ...(t.metadata ?? {}), labels };
    return t;
  }

  private async createPod(ds: RoDS, template: PodTemplateSpec, nodeName: string): Promise<void> {
    const labels = template.metadata?.labels;
    if (!labels || Object.keys(labels).length === 0) throw new Error('unable to create pods, no labels');
    const spec = clone(template.spec!);
    spec.affinity = replaceNodeNameAffinity(spec.affinity, nodeName);
    const pod: Pod = {
      apiVersion: 'v1', kind: 'Pod',
      metadata: {
        generateName: `${ds.metadata?.name ?? ''}-`,
        labels: clone(labels),
        ...(template.metadata?.annotations ? { annotations: clone(template.metadata.annotations) } : {}),
        ...(template.metadata?.finalizers ? { finalizers: clone(template.metadata.finalizers) } : {}),
        ownerReferences: [newControllerRef(ds, DS_GVK)],
      },
      spec,
    };
    try {
      const created = await this.o.client.resource(Resources.pods).create(ds.metadata?.namespace ?? '', pod);
      this.o.recorder.event(ds, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata?.name ?? ''}`);
    } catch (e) {
      // A terminating namespace accepts no pods; the namespace controller removes the DaemonSet too.
      if (hasStatusCause(e, 'NamespaceTerminating')) return;
      this.o.recorder.event(ds, 'Warning', 'FailedCreate', `Error creating: ${errorMessage(e)}`);
      throw new Error(`unable to create pods: ${errorMessage(e)}`, { cause: e });
    }
  }

  private async deletePod(ds: RoDS, pod: RoPod): Promise<void> {
    const name = pod.metadata?.name ?? '';
    try {
      await this.o.client.resource(Resources.pods).delete(pod.metadata?.namespace ?? '', name);
    } catch (e) {
      if (isApiError(e, 'NotFound')) throw e;
      this.o.recorder.event(ds, 'Warning', 'FailedDelete', `Error deleting: ${errorMessage(e)}`);
      throw new Error(`unable to delete pods: ${errorMessage(e)}`, { cause: e });
    }
    this.o.recorder.event(ds, 'Normal', 'SuccessfulDelete', `Deleted pod: ${name}`);
  }

  // ---- rolling update ----

  /** One step of a RollingUpdate (upstream rollingUpdate); see the file comment. */
  private async rollingUpdate(round: Round): Promise<void> {
    const { ds, hash } = round;
    const now = this.now();
    const minReady = ds.spec?.minReadySeconds ?? 0;
    const generation = templateGeneration(ds);
    // Nodes that should run a pod but have none count too (as "missing").
    const byNode = new Map(round.byNode);
    let desired = 0;
    const nodesByName = new Map<string, RoNode>();
    for (const node of round.nodes) {
      const nodeName = node.metadata?.name ?? '';
      nodesByName.set(nodeName, node);
      if (!nodeShouldRunDaemonPod(node, ds).shouldRun) continue;
      desired++;
      if (!byNode.has(nodeName)) byNode.set(nodeName, []);
    }
    let maxUnavailable = unavailableCount(ds, desired);
    const maxSurge = surgeCount(ds, desired);
    if (desired > 0 && maxUnavailable === 0 && maxSurge === 0) maxUnavailable = 1;
    const available = (p: RoPod) => isPodAvailable(p, minReady, now);

    if (maxSurge === 0) {
      let numUnavailable = 0;
      const allowed: RoPod[] = [];
      const candidates: RoPod[] = [];
      for (const [, pods] of byNode) {
        const found = updatedPodsOnNode(pods, hash, generation);
        if (!found) {
          numUnavailable++; // excess pods: the manage step sorts the node out first
          continue;
        }
        const { newPod, oldPod } = found;
        if ((!oldPod && !newPod) || (oldPod && newPod)) numUnavailable++;
        else if (newPod) {
          if (!available(newPod)) numUnavailable++;
        } else if (oldPod) {
          if (!available(oldPod)) {
            allowed.push(oldPod);
            numUnavailable++;
          } else if (numUnavailable < maxUnavailable) {
            candidates.push(oldPod);
          }
        }
      }
      const remaining = Math.min(Math.max(maxUnavailable - numUnavailable, 0), candidates.length);
      const victims = [...allowed, ...candidates.slice(0, remaining)];
      if (victims.length) this.log.debug('rolling update: replacing pods', { key: round.key, pods: victims.map(podKey) });
      await this.syncNodes(round, victims, []);
      return;
    }

    const remove: RoPod[] = [];
    const shouldNotRun: RoPod[] = [];
    const candidateNodes: string[] = [];
    const allowedNodes: string[] = [];
    let numSurge = 0;
    let numAvailable = 0;
    for (const [nodeName, pods] of byNode) {
      const found = updatedPodsOnNode(pods, hash, generation);
      if (!found) {
        numSurge++;
        continue;
      }
      const { newPod, oldPod } = found;
      if (oldPod ? available(oldPod) : newPod ? available(newPod) : false) numAvailable++;
      if (!oldPod) continue;
      const node = nodesByName.get(nodeName);
      const shouldRun = node ? nodeShouldRunDaemonPod(node, ds).shouldRun : false;
      if (!newPod) {
        if (!available(oldPod)) {
          if (!shouldRun) remove.push(oldPod);
          else allowedNodes.push(nodeName);
        } else if (!shouldRun) {
          shouldNotRun.push(oldPod);
        } else if (numSurge < maxSurge) {
          candidateNodes.push(nodeName);
        }
        continue;
      }
      if (!available(newPod)) {
        numSurge++;
        continue;
      }
      remove.push(oldPod);
    }
    // With surge the owner expects full availability: a pod on a node it must leave goes only
    // once enough pods elsewhere are available.
    const deletable = Math.min(Math.max(numAvailable - desired, 0), shouldNotRun.length);
    remove.push(...shouldNotRun.slice(0, deletable));
    const remainingSurge = Math.min(Math.max(maxSurge - numSurge, 0), candidateNodes.length);
    await this.syncNodes(round, remove, [...allowedNodes, ...candidateNodes.slice(0, remainingSurge)]);
  }

  // ---- status ----

  /** Computes and stores the status (upstream updateDaemonSetStatus + storeDaemonSetStatus). */
  private async updateStatus(round: Round, updateObservedGeneration: boolean): Promise<void> {
    const { ds, byNode, hash } = round;
    const now = this.now();
    const minReady = ds.spec?.minReadySeconds ?? 0;
    const generation = templateGeneration(ds);
    let desired = 0, current = 0, misscheduled = 0, ready = 0, updated = 0, available = 0;
    for (const node of round.nodes) {
      const { shouldRun } = nodeShouldRunDaemonPod(node, ds);
      const pods = byNode.get(node.metadata?.name ?? '') ?? [];
      if (!shouldRun) {
        if (pods.length) misscheduled++;
        continue;
      }
      desired++;
      if (!pods.length) continue;
      current++;
      const pod = [...pods].sort(byCreationAndBinding)[0]!;
      if (isPodReady(pod)) {
        ready++;
        if (isPodAvailable(pod, minReady, now)) available++;
      }
      if (isPodUpdated(pod, hash, generation)) updated++;
    }
    const counts = {
      desiredNumberScheduled: desired, currentNumberScheduled: current, numberMisscheduled: misscheduled,
      numberReady: ready, updatedNumberScheduled: updated, numberAvailable: available, numberUnavailable: desired - available,
    };
    // A last line of defence against clock skew: look again once ready pods should be available.
    if (minReady > 0 && ready !== available) this.lookAgain(round, minReady * 1000);

    const st = ds.status;
    const gen = ds.metadata?.generation ?? 0;
    const same = (Object.keys(counts) as (keyof typeof counts)[]).every((k) => (st?.[k] ?? 0) === counts[k]);
    if (same && (st?.observedGeneration ?? 0) >= gen) return;
    const client = this.o.client.resource(Resources.daemonSets);
    const build = (base: DeepReadonly<DaemonSet>): DaemonSet => {
      const next = clone(base);
      next.status = { ...(next.status ?? {}), ...counts } as DaemonSetStatus;
      if (updateObservedGeneration) next.status.observedGeneration = gen;
      return next;
    };
    try {
      await client.updateStatus(build(ds));
    } catch (e) {
      if (isApiError(e, 'NotFound')) return;
      if (!isApiError(e, 'Conflict')) throw new Error(`error storing status for daemon set ${objectKey(ds)}: ${errorMessage(e)}`, { cause: e });
      const fresh = await client.get(ds.metadata?.namespace ?? '', ds.metadata?.name ?? '');
      if (fresh.metadata?.uid !== ds.metadata?.uid) return;
      await client.updateStatus(build(fresh));
    }
  }
}

/**
 * Claimed pods grouped by target node (upstream getNodesToDaemonPods); pods with no target
 * node are left out, and so are deleted terminal pods unless `includeDeletedTerminal`.
 */
export function nodesToDaemonPods(pods: readonly RoPod[], includeDeletedTerminal: boolean): Map<string, RoPod[]> {
  const out = new Map<string, RoPod[]>();
  for (const p of pods) {
    const terminal = p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
    if (!includeDeletedTerminal && terminal && p.metadata?.deletionTimestamp) continue;
    const node = targetNodeName(p);
    if (!node) continue;
    const list = out.get(node);
    if (list) list.push(p);
    else out.set(node, [p]);
  }
  return out;
}

/**
 * The one new and the one old non-deleted pod on a node; undefined when there are several of
 * either (upstream findUpdatedPodsOnNode), which the manage step resolves first.
 */
function updatedPodsOnNode(pods: readonly RoPod[], hash: string, generation: string | undefined): { newPod?: RoPod; oldPod?: RoPod } | undefined {
  let newPod: RoPod | undefined;
  let oldPod: RoPod | undefined;
  for (const p of pods) {
    if (p.metadata?.deletionTimestamp) continue;
    if (isPodUpdated(p, hash, generation)) {
      if (newPod) return undefined;
      newPod = p;
    } else {
      if (oldPod) return undefined;
      oldPod = p;
    }
  }
  return { newPod, oldPod };
}

/** The unit the controller-manager runs. */
export const daemonSetController: Controller = {
  name: 'daemonset-controller',
  aliases: ['daemonset'],
  async start(ctx) {
    const c = new DaemonSetController({
      client: ctx.client, informers: ctx.informers, logger: ctx.logger, recorder: ctx.recorder('daemonset-controller'),
      queue: ctx.newQueue('daemonset'), metrics: ctx.metrics, now: ctx.now,
    });
    if (!(await ctx.waitForCacheSync())) return;
    await c.run(ctx.signal);
  },
};
