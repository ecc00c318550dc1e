/**
 * Container garbage collection (upstream kuberuntime_gc.go and its defaults): every minute
 * the kubelet removes dead containers and sandboxes by policy.
 *
 * Policy (upstream GCPolicy; kubelet defaults MinAge 0, MaxPerPodContainer 1, MaxContainers -1):
 * - evictable containers: not running (created, exited, unknown) and created at least
 *   `minAgeMs` ago; grouped per evict unit (pod UID, container name), newest first;
 * - units of a pod that is gone (`podRemoved(uid)`: no longer in the API nor run by the
 *   kubelet) are removed entirely;
 * - each remaining unit keeps its newest `maxPerPodContainer` (< 0: no limit);
 * - if `maxContainers` ≥ 0 and more evictable containers remain, every unit is cut to
 *   max(1, maxContainers / units), then the oldest overall go until `maxContainers` remain;
 * - removal is oldest first. Running containers are never touched.
 * Sandboxes, after the containers: a sandbox is active while READY or while any container
 * (of any state) still belongs to it. For a removed pod every inactive sandbox goes; for a
 * live pod the newest sandbox is always kept and older inactive ones go.
 *
 * `planContainerGC` is pure (the table-tested policy); `ContainerGC.collect` lists the
 * runtime, plans and removes, logging and skipping an object whose removal fails (it is
 * retried on the next round). Removal is idempotent in the CRI, so racing a pod worker that
 * removes the same objects is harmless.
 */
import { sleep } from '@tskube/client';
import type { Logger } from '@tskube/log';
import type { Clock } from '../clock.js';
import { LABEL_CONTAINER_NAME, LABEL_POD_UID, type ContainerRuntime } from '../cri/index.js';
import { errorMessage } from '../format.js';
import { nsToMs } from './runtime-state.js';

export interface GCPolicy {
  /** Minimum age of a dead container before it may be collected (upstream MinAge). */
  minAgeMs: number;
  /** Dead containers kept per (pod, container name); < 0: no limit (upstream MaxPerPodContainer). */
  maxPerPodContainer: number;
  /** Dead containers kept on the node in total; < 0: no limit (upstream MaxContainers). */
  maxContainers: number;
}

/** The kubelet's defaults: --minimum-container-ttl-duration 0, --maximum-dead-containers-per-container 1, --maximum-dead-containers -1. */
export const DEFAULT_GC_POLICY: GCPolicy = { minAgeMs: 0, maxPerPodContainer: 1, maxContainers: -1 };

/** Upstream ContainerGCPeriod. */
export const CONTAINER_GC_PERIOD_MS = 60_000;

export interface GCContainer {
  id: string;
  podUid: string;
  name: string;
  running: boolean;
  /** ms since the epoch. */
  createdAt: number;
  sandboxId: string;
}

export interface GCSandbox {
  id: string;
  podUid: string;
  ready: boolean;
  createdAt: number;
}

export interface GCInput {
  containers: readonly GCContainer[];
  sandboxes: readonly GCSandbox[];
  policy: GCPolicy;
  now: number;
  /** The pod is gone: its dead containers and inactive sandboxes all go. */
  podRemoved: (uid: string) => boolean;
}

export interface GCPlan {
  /** Container IDs to remove, in removal order (oldest first). */
  containers: string[];
  /** Sandbox IDs to remove, in removal order (oldest first). */
  sandboxes: string[];
}

const newestFirst = <T extends { createdAt: number; id: string }>(a: T, b: T): number =>
  b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

/** Which dead containers and sandboxes to remove (see the module doc). Pure. */
export function planContainerGC(input: GCInput): GCPlan {
  const { policy } = input;
  const newestGCTime = input.now - policy.minAgeMs;
  const units = new Map<string, GCContainer[]>();
  for (const c of input.containers) {
    if (c.running || c.createdAt > newestGCTime) continue;
    const key = `${c.podUid}\u0000${c.name}`;
    let u = units.get(key);
    if (!u) units.set(key, (u = []));
    u.push(c);
  }
  for (const u of units.values()) u.sort(newestFirst);
  const removed: GCContainer[] = [];
  /** Removes the oldest `n` of a unit (newest first), returning what is kept. */
  const dropOldest = (list: GCContainer[], n: number): GCContainer[] => {
    const keep = Math.max(0, list.length - n);
    removed.push(...list.slice(keep).reverse());
    return list.slice(0, keep);
  };
  for (const [key, u] of units) {
    if (input.podRemoved(u[0]!.podUid)) {
      dropOldest(u, u.length);
      units.delete(key);
    }
  }
  const enforcePerUnit = (max: number): void => {
    for (const [key, u] of units) {
      if (u.length > max) units.set(key, dropOldest(u, u.length - max));
    }
  };
  if (policy.maxPerPodContainer >= 0) enforcePerUnit(policy.maxPerPodContainer);
  const count = (): number => [...units.values()].reduce((n, u) => n + u.length, 0);
  if (policy.maxContainers >= 0 && count() > policy.maxContainers) {
    enforcePerUnit(Math.max(1, Math.floor(policy.maxContainers / Math.max(1, units.size))));
    const total = count();
    if (total > policy.maxContainers) {
      const flat = [...units.values()].flat().sort(newestFirst);
      removed.push(...flat.slice(policy.maxContainers).reverse());
    }
  }

  const gone = new Set(removed.map((c) => c.id));
  const withContainers = new Set(input.containers.filter((c) => !gone.has(c.id)).map((c) => c.sandboxId));
  const byPod = new Map<string, GCSandbox[]>();
  for (const s of input.sandboxes) {
    let l = byPod.get(s.podUid);
    if (!l) byPod.set(s.podUid, (l = []));
    l.push(s);
  }
  const sandboxes: GCSandbox[] = [];
  for (const [uid, list] of byPod) {
    list.sort(newestFirst);
    const keep = input.podRemoved(uid) ? 0 : 1;
    for (let i = list.length - 1; i >= keep; i--) {
      const s = list[i]!;
      if (!s.ready && !withContainers.has(s.id)) sandboxes.push(s);
    }
  }
  return { containers: removed.map((c) => c.id), sandboxes: sandboxes.sort((a, b) => -newestFirst(a, b)).map((s) => s.id) };
}

export interface ContainerGCOptions {
  runtime: ContainerRuntime;
  clock: Clock;
  logger: Logger;
  policy?: GCPolicy;
}

export class ContainerGC {
  private readonly log: Logger;
  private readonly policy: GCPolicy;

  constructor(private readonly o: ContainerGCOptions) {
    this.log = o.logger.child({ subsystem: 'container-gc' });
    this.policy = o.policy ?? DEFAULT_GC_POLICY;
  }

  /** One round: list, plan, remove. Resolves with what was removed. */
  async collect(podRemoved: (uid: string) => boolean): Promise<GCPlan> {
    const [ct, sb] = await Promise.all([this.o.runtime.listContainers({}), this.o.runtime.listPodSandbox({})]);
    const plan = planContainerGC({
      policy: this.policy, now: this.o.clock.now(), podRemoved,
      containers: ct.containers.filter((c) => c.labels[LABEL_POD_UID]).map((c) => ({
        id: c.id, podUid: c.labels[LABEL_POD_UID]!, name: c.metadata?.name || c.labels[LABEL_CONTAINER_NAME] || '',
        running: c.state === 'CONTAINER_RUNNING', createdAt: nsToMs(c.created_at), sandboxId: c.pod_sandbox_id,
      })),
      sandboxes: sb.items.filter((s) => s.labels[LABEL_POD_UID]).map((s) => ({
        id: s.id, podUid: s.labels[LABEL_POD_UID]!, ready: s.state === 'SANDBOX_READY', createdAt: nsToMs(s.created_at),
      })),
    });
    const done: GCPlan = { containers: [], sandboxes: [] };
    for (const id of plan.containers) {
      try {
        await this.o.runtime.removeContainer({ container_id: id });
        done.containers.push(id);
      } catch (err) {
        this.log.warn('removing dead container failed', { container: id, err: errorMessage(err) });
      }
    }
    for (const id of plan.sandboxes) {
      try {
        await this.o.runtime.removePodSandbox({ pod_sandbox_id: id });
        done.sandboxes.push(id);
      } catch (err) {
        this.log.warn('removing dead sandbox failed', { sandbox: id, err: errorMessage(err) });
      }
    }
    if (done.containers.length || done.sandboxes.length) {
      this.log.info('garbage collected', { containers: done.containers.length, sandboxes: done.sandboxes.length });
    }
    return done;
  }

  /** Collects every `periodMs` (upstream: 1 min) until `signal` aborts; a failed round is logged and retried. */
  async run(podRemoved: (uid: string) => boolean, periodMs: number, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await sleep(periodMs, signal);
      if (signal.aborted) break;
      try {
        await this.collect(podRemoved);
      } catch (err) {
        this.log.warn('container garbage collection failed', { err: errorMessage(err) });
      }
    }
  }
}
