/**
 * Pods nominated to nodes (upstream backend/queue nominator): a preemptor waits for its
 * victims to go and meanwhile its nominated node keeps room for it, because every other pod of
 * lower or equal priority is filtered as if the nominated pod were already there.
 *
 * A pod is nominated by its `status.nominatedNodeName` (seen on queue add/update) or in memory
 * right after preemption chose a node, before that status write is observed. An update that
 * neither had nor has a nominatedNodeName keeps the in-memory nomination (the write may still be
 * on its way); one that removes it clears it. Deleting, binding or assuming a pod ends it.
 */
import { objectKey } from '@tskube/api';
import type { PodNominator } from '../framework/interface.js';
import { newPodInfo, type PodInfo } from '../framework/node-info.js';
import type { ReadonlyPod } from '../framework/types.js';

export class Nominator implements PodNominator {
  private readonly byNode = new Map<string, Map<string, PodInfo>>();
  private readonly nodeOf = new Map<string, string>();

  /**
   * Nominates `pod` to `nodeName` (override), or to its status.nominatedNodeName when
   * `nodeName` is undefined; '' (or no status value) just removes any nomination.
   */
  add(pod: ReadonlyPod, nodeName?: string): void {
    this.delete(pod);
    const node = nodeName ?? pod.status?.nominatedNodeName ?? '';
    if (node === '' || pod.spec?.nodeName) return;
    const key = objectKey(pod);
    let m = this.byNode.get(node);
    if (!m) this.byNode.set(node, (m = new Map()));
    m.set(key, newPodInfo(pod));
    this.nodeOf.set(key, node);
  }

  update(oldPod: ReadonlyPod | undefined, newPod: ReadonlyPod): void {
    const key = objectKey(newPod);
    const keep = !oldPod?.status?.nominatedNodeName && !newPod.status?.nominatedNodeName ? this.nodeOf.get(key) : undefined;
    this.add(newPod, keep);
  }

  delete(pod: ReadonlyPod): void {
    const key = objectKey(pod);
    const node = this.nodeOf.get(key);
    if (node === undefined) return;
    this.nodeOf.delete(key);
    const m = this.byNode.get(node);
    m?.delete(key);
    if (m?.size === 0) this.byNode.delete(node);
  }

  /** The node `pod` is nominated to, if any. */
  nominatedNode(pod: ReadonlyPod): string | undefined {
    return this.nodeOf.get(objectKey(pod));
  }

  nominatedPodsForNode(nodeName: string): readonly PodInfo[] {
    const m = this.byNode.get(nodeName);
    return m ? [...m.values()] : [];
  }

  get size(): number { return this.nodeOf.size; }
}
