/**
 * Writes pod statuses to the apiserver, only when they changed (upstream
 * status/status_manager.go, without its asynchronous batching: each pod worker calls it for
 * its own pod, so writes for one pod are serial and in order).
 *
 * - `setPodStatus(pod, status)`: compares with the last status written for that pod UID;
 *   equal → nothing is sent. Otherwise GET the pod (a different UID means the pod was
 *   replaced: nothing is written), keep the conditions the kubelet does not own from the
 *   server's copy, and PUT …/status with the server's resourceVersion, retrying on conflict
 *   (up to 5 times, re-reading each time). A pod that is gone is not an error.
 * - A static pod's status is written to its mirror pod: the API pod whose
 *   `kubernetes.io/config.mirror` annotation is the static pod's UID.
 * - `get(uid)`: the status generated last (for the logs endpoint and the next generation).
 * - `deletePod(pod)`: the final delete of a terminated pod: gracePeriodSeconds 0 with a UID
 *   precondition, so a new pod of the same name is never hit. NotFound/Conflict are success.
 * Errors other than NotFound/Conflict reject; the pod worker retries the sync.
 */
import type { Pod, PodCondition, PodStatus } from '@tskube/api';
import { isApiError, jsonEqual } from '@tskube/api';
import { Resources, type Client, type DeepReadonly } from '@tskube/client';
import type { Logger } from '@tskube/log';

const KUBELET_CONDITIONS = new Set(['PodScheduled', 'Ready', 'Initialized', 'ContainersReady', 'PodReadyToStartContainers']);
/** Conditions others own but the kubelet may set (upstream PodConditionsSharedByKubelet). */
const SHARED_CONDITIONS = new Set(['DisruptionTarget']);
const MAX_CONFLICT_RETRIES = 5;
/** kubernetes.io/config.mirror: on a mirror pod, the UID (hash) of the static pod it shows. */
const MIRROR_ANNOTATION = 'kubernetes.io/config.mirror';
/** kubernetes.io/config.source: "file" on a static pod. */
const SOURCE_ANNOTATION = 'kubernetes.io/config.source';

interface Cached {
  status: PodStatus;
  /** The status as last confirmed written to the server. */
  written: boolean;
}

export interface StatusManagerOptions {
  client: Client;
  logger: Logger;
}

export class StatusManager {
  private readonly cache = new Map<string, Cached>();
  private readonly log: Logger;

  constructor(private readonly o: StatusManagerOptions) {
    this.log = o.logger.child({ subsystem: 'status' });
  }

  get(uid: string): DeepReadonly<PodStatus> | undefined {
    return this.cache.get(uid)?.status;
  }

  /**
   * Resolves true when a write was sent, false when nothing changed or the pod is gone. For a
   * static pod a failed write is not an error (it runs without the apiserver; the status is
   * written once the mirror pod can be reached): it resolves false and is retried later.
   */
  async setPodStatus(pod: DeepReadonly<Pod>, status: PodStatus): Promise<boolean> {
    if (pod.metadata?.annotations?.[SOURCE_ANNOTATION] !== 'file') return this.write(pod, status);
    try {
      return await this.write(pod, status);
    } catch (err) {
      this.log.debug('static pod status not written', { pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`, err: String(err) });
      return false;
    }
  }

  private async write(pod: DeepReadonly<Pod>, status: PodStatus): Promise<boolean> {
    const uid = pod.metadata?.uid ?? '';
    const cached = this.cache.get(uid);
    if (cached?.written && jsonEqual(cached.status, status)) return false;
    this.cache.set(uid, { status, written: false });
    const ns = pod.metadata?.namespace ?? '';
    const name = pod.metadata?.name ?? '';
    const pods = this.o.client.resource(Resources.pods);
    for (let attempt = 0; ; attempt++) {
      let current: Pod;
      try {
        current = await pods.get(ns, name);
      } catch (err) {
        if (isApiError(err, 'NotFound')) return false;
        throw err;
      }
      // A static pod's status goes to its mirror pod (upstream translatePodUID).
      if (current.metadata?.uid !== uid && current.metadata?.annotations?.[MIRROR_ANNOTATION] !== uid) return false;
      const merged = mergeStatus(current.status, status);
      if (jsonEqual(current.status ?? {}, merged)) {
        this.cache.set(uid, { status, written: true });
        return false;
      }
      try {
        await pods.updateStatus({ ...current, status: merged });
        this.cache.set(uid, { status, written: true });
        this.log.debug('pod status updated', { pod: `${ns}/${name}`, phase: status.phase });
        return true;
      } catch (err) {
        if (isApiError(err, 'NotFound')) return false;
        if (isApiError(err, 'Conflict') && attempt < MAX_CONFLICT_RETRIES) continue;
        throw err;
      }
    }
  }

  async deletePod(pod: DeepReadonly<Pod>): Promise<void> {
    try {
      await this.o.client.resource(Resources.pods).delete(pod.metadata?.namespace ?? '', pod.metadata?.name ?? '', {
        gracePeriodSeconds: 0, preconditions: { uid: pod.metadata?.uid ?? '' },
      });
      this.log.info('pod deleted', { pod: `${pod.metadata?.namespace}/${pod.metadata?.name}` });
    } catch (err) {
      if (isApiError(err, 'NotFound') || isApiError(err, 'Conflict')) return;
      throw err;
    }
  }

  /** The next setPodStatus writes even if the status is unchanged (a static pod's mirror was recreated). */
  markStale(uid: string): void {
    const c = this.cache.get(uid);
    if (c) c.written = false;
  }

  forget(uid: string): void {
    this.cache.delete(uid);
  }
}

/** Status fields the kubelet owns; others (nominatedNodeName, …) belong to other writers. */
const KUBELET_FIELDS = new Set(['phase', 'reason', 'message', 'conditions', 'hostIP', 'hostIPs', 'podIP', 'podIPs', 'startTime',
  'initContainerStatuses', 'containerStatuses', 'ephemeralContainerStatuses', 'qosClass']);

/**
 * The status to write: ours, plus what the server has that the kubelet does not own: fields
 * like nominatedNodeName and conditions of other writers (added since our copy was read).
 */
export function mergeStatus(server: DeepReadonly<PodStatus> | undefined, ours: PodStatus): PodStatus {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(server ?? {})) if (!KUBELET_FIELDS.has(k)) out[k] = structuredClone(v);
  const mine = ours.conditions ?? [];
  const shared = mine.filter((c) => SHARED_CONDITIONS.has(c.type));
  const foreign = (server?.conditions ?? [])
    .filter((c) => !KUBELET_CONDITIONS.has(c.type) && !shared.some((x) => x.type === c.type)) as PodCondition[];
  const ownedOrShared = mine.filter((c) => KUBELET_CONDITIONS.has(c.type) || SHARED_CONDITIONS.has(c.type));
  return { ...(out as PodStatus), ...ours, conditions: [...structuredClone(foreign), ...ownedOrShared] };
}
