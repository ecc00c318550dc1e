/**
 * The scheduler cache (upstream backend/cache/cache.go): per node, the Node object and the
 * pods on it, from two sources:
 *
 * - the informers: nodes, and pods that are assigned (spec.nodeName set) and not finished;
 * - assumed pods: the moment the scheduler decides, the pod is added to the chosen node,
 *   before the binding is written or observed, so the next decision already accounts for it
 *   and back-to-back decisions never overcommit a node.
 *
 * Lifecycle of an assumed pod (keyed by uid):
 *   assume(pod) → [finishBinding(pod)] → addPod(pod from informer)  : confirmed, replaced by the real object
 *                                      → forget(pod)                : binding failed, removed
 *                 after finishBinding, with a TTL configured, it expires if never confirmed
 *                 (upstream's TTL is 0 = never; the informer's eventual delete cleans up).
 *
 * Only the scheduling loop and the informer handlers mutate the cache; JavaScript runs them
 * one at a time, so no locking is needed. `updateSnapshot` hands each cycle independent
 * NodeInfo clones, reusing a clone while its node's generation is unchanged.
 */
import type { Logger } from '@tskube/log';
import type { SharedLister } from '../framework/interface.js';
import { NodeInfo, podKey } from '../framework/node-info.js';
import { podRef, type ReadonlyNode, type ReadonlyPod } from '../framework/types.js';

interface PodState {
  pod: ReadonlyPod;
  assumed: boolean;
  bindingFinished: boolean;
  /** Expiry (ms) of an assumed pod whose binding finished; undefined = never. */
  deadline?: number;
}

export interface CacheOptions {
  logger: Logger;
  now?: () => number;
  /** How long an assumed pod whose binding finished may stay unconfirmed; 0 (default) = forever. */
  assumedPodTtlMs?: number;
}

export class SchedulerCache {
  private readonly nodes = new Map<string, NodeInfo>();
  private readonly pods = new Map<string, PodState>();
  private readonly now: () => number;
  private readonly ttl: number;
  private readonly log: Logger;

  constructor(opts: CacheOptions) {
    this.now = opts.now ?? Date.now;
    this.ttl = opts.assumedPodTtlMs ?? 0;
    this.log = opts.logger;
  }

  // ---- nodes ----

  addNode(node: ReadonlyNode): void {
    const name = node.metadata?.name ?? '';
    const ni = this.nodes.get(name);
    if (ni) ni.setNode(node);
    else this.nodes.set(name, new NodeInfo(node));
  }

  updateNode(node: ReadonlyNode): void {
    this.addNode(node);
  }

  /** The node is gone; its pods stay accounted until they are removed as well. */
  removeNode(node: ReadonlyNode): void {
    const name = node.metadata?.name ?? '';
    const ni = this.nodes.get(name);
    if (!ni) return;
    if (ni.podCount === 0) this.nodes.delete(name);
    else ni.clearNode();
  }

  // ---- pods ----

  isAssumed(pod: ReadonlyPod): boolean {
    return this.pods.get(podKey(pod))?.assumed ?? false;
  }

  /** The cached version of a pod (assumed or confirmed), if any. */
  getPod(pod: ReadonlyPod): ReadonlyPod | undefined {
    return this.pods.get(podKey(pod))?.pod;
  }

  /** Records the decision: `pod` (with spec.nodeName set) now counts on its node. Throws if the pod is already cached. */
  assume(pod: ReadonlyPod): void {
    const key = podKey(pod);
    if (this.pods.has(key)) throw new Error(`pod ${podRef(pod)} (${key}) is in the cache, so can't be assumed`);
    this.attach(pod);
    this.pods.set(key, { pod, assumed: true, bindingFinished: false });
  }

  /** The binding request returned; start the TTL (if any) after which an unconfirmed assumption expires. */
  finishBinding(pod: ReadonlyPod): void {
    const st = this.pods.get(podKey(pod));
    if (!st?.assumed) return;
    st.bindingFinished = true;
    if (this.ttl > 0) st.deadline = this.now() + this.ttl;
  }

  /** Undoes an assumption (binding failed). A pod that is not assumed is left alone. */
  forget(pod: ReadonlyPod): void {
    const key = podKey(pod);
    const st = this.pods.get(key);
    if (!st?.assumed) return;
    this.detach(st.pod);
    this.pods.delete(key);
  }

  /**
   * An assigned pod was observed (informer add, or update that assigned it): confirms an
   * assumption (replacing the assumed copy, on the node the server says) or adds the pod.
   */
  addPod(pod: ReadonlyPod): void {
    const key = podKey(pod);
    const st = this.pods.get(key);
    if (st?.assumed && st.pod.spec?.nodeName !== pod.spec?.nodeName) {
      this.log.info('assumed pod bound to a different node', { pod: podRef(pod), assumedNode: st.pod.spec?.nodeName, node: pod.spec?.nodeName });
    }
    if (st) this.detach(st.pod);
    this.attach(pod);
    this.pods.set(key, { pod, assumed: false, bindingFinished: true });
  }

  /** An assigned pod changed: its requests or node may have too. */
  updatePod(pod: ReadonlyPod): void {
    this.addPod(pod);
  }

  /** An assigned pod is gone (deleted or finished), or an assumed one was deleted before it was confirmed. */
  removePod(pod: ReadonlyPod): void {
    const key = podKey(pod);
    const st = this.pods.get(key);
    if (!st) return;
    this.detach(st.pod);
    this.pods.delete(key);
  }

  /** Expires assumed pods whose binding finished longer than the TTL ago; returns how many. */
  cleanupAssumedPods(): number {
    const now = this.now();
    let n = 0;
    for (const [key, st] of this.pods) {
      if (!st.assumed || !st.bindingFinished || st.deadline === undefined || st.deadline > now) continue;
      this.log.warn('assumed pod expired', { pod: podRef(st.pod), node: st.pod.spec?.nodeName });
      this.detach(st.pod);
      this.pods.delete(key);
      n++;
    }
    return n;
  }

  // ---- snapshot ----

  /**
   * Brings `snapshot` up to date: one independent NodeInfo per node that has a Node object, in
   * a stable order. Unchanged nodes keep their previous clone.
   */
  updateSnapshot(snapshot: Snapshot): void {
    const next = new Map<string, NodeInfo>();
    for (const [name, ni] of this.nodes) {
      if (!ni.node) continue;
      const prev = snapshot.get(name);
      next.set(name, prev && prev.generation === ni.generation ? prev : ni.clone());
    }
    snapshot.replace(next);
  }

  /** The live NodeInfo of a node (tests and debugging; do not mutate). */
  nodeInfo(name: string): NodeInfo | undefined {
    return this.nodes.get(name);
  }

  get nodeCount(): number { return [...this.nodes.values()].filter((n) => n.node).length; }
  get podCount(): number { return this.pods.size; }
  get assumedCount(): number { return [...this.pods.values()].filter((s) => s.assumed).length; }

  private attach(pod: ReadonlyPod): void {
    const name = pod.spec?.nodeName ?? '';
    let ni = this.nodes.get(name);
    if (!ni) {
      // The pod's node is not known yet (informers race): keep its pods until it appears.
      ni = new NodeInfo();
      this.nodes.set(name, ni);
    }
    ni.addPod(pod);
  }

  private detach(pod: ReadonlyPod): void {
    const name = pod.spec?.nodeName ?? '';
    const ni = this.nodes.get(name);
    if (!ni) return;
    ni.removePod(podKey(pod));
    if (!ni.node && ni.podCount === 0) this.nodes.delete(name);
  }
}

/** What one scheduling cycle sees: NodeInfo clones by name, in cache order (the framework's SharedLister). */
export class Snapshot implements SharedLister {
  private byName = new Map<string, NodeInfo>();
  private all: NodeInfo[] = [];
  private withAffinity: NodeInfo[] | undefined;
  private withRequiredAntiAffinity: NodeInfo[] | undefined;

  /** A snapshot of the given NodeInfos (tests). */
  static of(nodes: readonly NodeInfo[]): Snapshot {
    const s = new Snapshot();
    s.replace(new Map(nodes.map((n) => [n.name, n])));
    return s;
  }

  get(name: string): NodeInfo | undefined { return this.byName.get(name); }
  get nodes(): readonly NodeInfo[] { return this.all; }
  get size(): number { return this.all.length; }
  list(): readonly NodeInfo[] { return this.all; }

  havePodsWithAffinityList(): readonly NodeInfo[] {
    return (this.withAffinity ??= this.all.filter((n) => n.podsWithAffinity > 0));
  }

  havePodsWithRequiredAntiAffinityList(): readonly NodeInfo[] {
    return (this.withRequiredAntiAffinity ??= this.all.filter((n) => n.podsWithRequiredAntiAffinity > 0));
  }

  replace(next: Map<string, NodeInfo>): void {
    this.byName = next;
    this.all = [...next.values()];
    this.withAffinity = undefined;
    this.withRequiredAntiAffinity = undefined;
  }
}
