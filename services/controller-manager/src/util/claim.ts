/**
 * Claiming pods for an owner (upstream PodControllerRefManager.ClaimPods), for any
 * controller that owns pods by selector: owned pods that still match are kept, owned pods
 * that stopped matching are released (their controller reference removed), orphans that
 * match are adopted after `recheck` proves the owner is neither gone nor being deleted
 * (upstream RecheckDeletionTimestamp, one live read at most per claim). An owner being
 * deleted adopts and releases nothing. Adoption is a compare-and-swap merge patch
 * (uid + resourceVersion) adding the controller reference and `finalizers` (the Job's
 * tracking finalizer); NotFound during adopt/release is ignored, other errors are
 * aggregated and thrown after every pod was looked at.
 */
import { isApiError, matches, type Pod, type Selector } from '@tskube/api';
import { Resources, clone, type Client, type DeepReadonly } from '@tskube/client';
import type { Logger } from '@tskube/log';
import { aggregate } from './errors.js';
import { controllerOf, newControllerRef } from './owners.js';
import { removeOwnerRefsPatch } from './patches.js';
import { podKey } from './pods.js';

type RoPod = DeepReadonly<Pod>;
type Owner = DeepReadonly<{ metadata?: { name?: string; namespace?: string; uid?: string; deletionTimestamp?: string } }>;

export interface ClaimOptions {
  client: Client;
  owner: Owner;
  gvk: { apiVersion: string; kind: string };
  selector: Selector;
  /** Candidate pods (usually all pods of the owner's namespace). */
  pods: readonly RoPod[];
  /** Throws when the owner must not adopt (gone, other uid, being deleted). */
  recheck: () => Promise<void>;
  /** Finalizers an adopted pod gets (kept once). */
  finalizers?: readonly string[];
  logger: Logger;
}

/** The owned-and-matching pods plus the adopted ones (as patched). */
export async function claimPods(o: ClaimOptions): Promise<RoPod[]> {
  const claimed: RoPod[] = [];
  const errs: unknown[] = [];
  const uid = o.owner.metadata?.uid ?? '';
  const deleting = !!o.owner.metadata?.deletionTimestamp;
  let canAdopt: Promise<void> | undefined;
  const pods = o.client.resource(Resources.pods);
  for (const pod of o.pods) {
    const ref = controllerOf(pod);
    const match = o.selector.length > 0 && matches(o.selector, pod.metadata?.labels);
    const ns = pod.metadata?.namespace ?? '';
    const name = pod.metadata?.name ?? '';
    try {
      if (ref) {
        if (ref.uid !== uid) continue;
        if (match) { claimed.push(pod); continue; }
        if (deleting) continue;
        const patch = removeOwnerRefsPatch(pod.metadata, new Set([uid]));
        if (patch) {
          await pods.patch(ns, name, patch, 'json');
          o.logger.info('released pod', { owner: o.owner.metadata?.name, pod: podKey(pod) });
        }
        continue;
      }
      if (deleting || !match || pod.metadata?.deletionTimestamp) continue;
      canAdopt ??= o.recheck();
      await canAdopt;
      const refs = [...clone(pod.metadata?.ownerReferences ?? []), newControllerRef(o.owner, o.gvk)];
      const fins = [...new Set([...(pod.metadata?.finalizers ?? []), ...(o.finalizers ?? [])])];
      const patched = await pods.patch(ns, name, {
        metadata: {
          uid: pod.metadata?.uid, resourceVersion: pod.metadata?.resourceVersion, ownerReferences: refs,
          ...(o.finalizers?.length ? { finalizers: fins } : {}),
        },
      }, 'merge');
      o.logger.info('adopted pod', { owner: o.owner.metadata?.name, pod: podKey(pod) });
      claimed.push(patched);
    } catch (e) {
      if (!isApiError(e, 'NotFound')) errs.push(e);
    }
  }
  const err = aggregate(errs);
  if (err) throw err;
  return claimed;
}
