/**
 * Node registration and status reporting (upstream kubelet_node_status.go):
 * - `register`: create the Node (labels, not-ready taint, full status); if it exists
 *   already (a restarted kubelet), merge-patch the default labels and report the status.
 *   Retries every failure with backoff (100 ms doubling to 7 s) until it succeeds or the
 *   signal aborts.
 * - `run`: every `statusIntervalMs` (10 s) computes the status and merge-patches nodes/status
 *   when it changed, or when the last report is older than `heartbeatMs` (1 min) so the
 *   heartbeat times move. Ready follows the runtime's CRI Status (RuntimeReady and
 *   NetworkReady) and the PLEG's health.
 * - Node events: "Starting kubelet." once, and "Node <n> status is now: <Reason>" on
 *   condition changes.
 * The manager is the only writer of this Node's status in the kubelet.
 */
import type { Node, NodeStatus } from '@tskube/api';
import { isApiError } from '@tskube/api';
import { Backoff as RetryBackoff, Resources, sleep, type Client, type DeepReadonly } from '@tskube/client';
import type { Logger } from '@tskube/log';
import type { Clock } from '../clock.js';
import type { ContainerRuntime } from '../cri/index.js';
import { Reason, type KubeletEvents } from '../events.js';
import { errorMessage } from '../format.js';
import {
  conditionTransitions, initialNode, nodeImages, nodeLabels, nodeStatus, nodeStatusChanged, type ContainerImage, type NodeFacts, type RuntimeHealth,
} from './node-status.js';
import type { PressureCondition } from '../eviction/thresholds.js';

export interface NodeManagerOptions {
  client: Client;
  facts: NodeFacts;
  runtime: ContainerRuntime;
  events: KubeletEvents;
  clock: Clock;
  logger: Logger;
  statusIntervalMs: number;
  heartbeatMs: number;
  /** PLEG health; undefined while it has not relisted yet counts as healthy. */
  plegHealthy?: () => boolean;
  /**
   * Upstream maxWaitForContainerRuntime (30 s): the runtime counts as down ("container
   * runtime is down") once its Status call has failed for this long since it last answered;
   * a shorter outage (a runtime process restarting) keeps the previous health.
   */
  runtimeDownAfterMs?: number;
  /** The pressure conditions now True (the eviction manager's); default none. */
  pressure?: () => readonly PressureCondition[];
}

export const RUNTIME_DOWN_AFTER_MS = 30_000;
export const RUNTIME_DOWN_MESSAGE = 'container runtime is down';
const STATUS_TIMEOUT_MS = 5000;
/** How long the image list of `status.images` is reused (upstream's image cache: 30 s). */
export const IMAGE_LIST_MAX_AGE_MS = 30_000;

const EVENT_FOR: Record<string, Record<string, string>> = {
  MemoryPressure: { True: Reason.NodeHasInsufficientMemory, False: Reason.NodeHasSufficientMemory },
  DiskPressure: { True: Reason.NodeHasDiskPressure, False: Reason.NodeHasNoDiskPressure },
  PIDPressure: { True: Reason.NodeHasInsufficientPID, False: Reason.NodeHasSufficientPID },
  Ready: { True: Reason.NodeReady, False: Reason.NodeNotReady },
};

export class NodeManager {
  private last: DeepReadonly<NodeStatus> | undefined;
  private lastReportAt = 0;
  private nodeUid: string | undefined;
  private runtimeOkAt: number | undefined;
  private lastHealth: RuntimeHealth | undefined;
  private images: { list: ContainerImage[]; at: number } | undefined;
  private readonly log: Logger;

  constructor(private readonly o: NodeManagerOptions) {
    this.log = o.logger.child({ subsystem: 'node', node: o.facts.nodeName });
  }

  get name(): string { return this.o.facts.nodeName; }
  get uid(): string | undefined { return this.nodeUid; }
  get status(): DeepReadonly<NodeStatus> | undefined { return this.last; }

  /**
   * The runtime's health as the Ready condition sees it: the CRI Status conditions and the
   * PLEG; a Status call that fails keeps the previous health until the runtime has not
   * answered for `runtimeDownAfterMs`, then "container runtime is down".
   */
  async runtimeHealth(): Promise<RuntimeHealth> {
    const h = await this.computeHealth();
    this.lastHealth = h;
    return h;
  }

  private async computeHealth(): Promise<RuntimeHealth> {
    let conds;
    const now = this.o.clock.now();
    try {
      // A hung runtime (stopped process, wedged engine) must not hold the status loop for the
      // 2 min call deadline: no answer within 5 s is a failure.
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('runtime Status not answered within 5 s')), STATUS_TIMEOUT_MS);
      });
      try {
        conds = (await Promise.race([this.o.runtime.status({}), late])).status?.conditions ?? [];
      } finally {
        clearTimeout(timer);
      }
      this.runtimeOkAt = now;
      if (this.lastHealth?.message === RUNTIME_DOWN_MESSAGE) this.log.info('container runtime is up again', {});
    } catch (err) {
      const downAfter = this.o.runtimeDownAfterMs ?? RUNTIME_DOWN_AFTER_MS;
      if (this.runtimeOkAt !== undefined && now - this.runtimeOkAt < downAfter && this.lastHealth) return this.lastHealth;
      if (this.lastHealth?.message !== RUNTIME_DOWN_MESSAGE) this.log.warn('container runtime is down', { err: errorMessage(err) });
      return { ready: false, message: RUNTIME_DOWN_MESSAGE };
    }
    const rt = conds.find((c) => c.type === 'RuntimeReady');
    const net = conds.find((c) => c.type === 'NetworkReady');
    if (!rt?.status) return { ready: false, message: `container runtime not ready: RuntimeReady=false reason:${rt?.reason ?? ''} message:${rt?.message ?? ''}` };
    if (!net?.status) return { ready: false, message: `container runtime network not ready: NetworkReady=false reason:${net?.reason ?? ''} message:${net?.message ?? ''}` };
    if (this.o.plegHealthy && !this.o.plegHealthy()) return { ready: false, message: 'PLEG is not healthy: pleg has yet to be successful' };
    return { ready: true };
  }

  /** Registers the node; resolves with it, or undefined if `signal` aborted first. */
  async register(signal: AbortSignal): Promise<Node | undefined> {
    const nodes = this.o.client.resource(Resources.nodes);
    const retry = new RetryBackoff(100, 7000, 0);
    this.o.events.node('Normal', Reason.Starting, 'Starting kubelet.');
    while (!signal.aborted) {
      try {
        const health = await this.runtimeHealth();
        const desired = initialNode(this.o.facts, health, this.o.clock.now(), this.o.pressure?.(), await this.imageList(this.o.clock.now()));
        let node: Node;
        try {
          node = await nodes.create(desired);
          this.log.info('node registered', {});
          this.noteStatus(undefined, node.status ?? desired.status!);
        } catch (err) {
          if (!isApiError(err, 'AlreadyExists')) throw err;
          const existing = await nodes.get(this.o.facts.nodeName);
          const labels = nodeLabels(this.o.facts);
          const stale = Object.entries(labels).some(([k, v]) => existing.metadata?.labels?.[k] !== v);
          node = stale ? await nodes.patch(this.o.facts.nodeName, { metadata: { labels } }, 'merge') : existing;
          this.last = node.status;
          this.log.info('node already registered', {});
          await this.updateStatus(true);
        }
        this.nodeUid = node.metadata?.uid;
        return node;
      } catch (err) {
        const wait = retry.next();
        this.log.warn('node registration failed', { err: errorMessage(err), retryInMs: wait });
        await sleep(wait, signal);
      }
    }
    return undefined;
  }

  private noteStatus(prev: DeepReadonly<NodeStatus> | undefined, next: NodeStatus): void {
    for (const c of conditionTransitions(prev, next)) {
      const reason = EVENT_FOR[c.type]?.[c.status];
      if (reason) this.o.events.node('Normal', reason, `Node ${this.o.facts.nodeName} status is now: ${reason}`);
    }
    this.last = next;
    this.lastReportAt = this.o.clock.now();
  }

  /**
   * Reports the status if it changed or the heartbeat is due (or `force`). Resolves true when
   * a patch was sent.
   */
  async updateStatus(force = false, healthOverride?: RuntimeHealth): Promise<boolean> {
    const now = this.o.clock.now();
    const health = healthOverride ?? await this.runtimeHealth();
    const next = nodeStatus(this.o.facts, health, this.last, now, this.o.pressure?.(), await this.imageList(now));
    if (!force && !nodeStatusChanged(this.last, next) && now - this.lastReportAt < this.o.heartbeatMs) return false;
    const updated = await this.o.client.resource(Resources.nodes).patchStatus(this.o.facts.nodeName, { status: next }, 'merge');
    this.noteStatus(this.last, updated.status ?? next);
    return true;
  }

  /**
   * The runtime's images for `status.images`, listed at most every 30 s; when listing fails
   * the previous list is kept (undefined before the first success: the field is left out).
   */
  private async imageList(now: number): Promise<ContainerImage[] | undefined> {
    if (this.images && now - this.images.at < IMAGE_LIST_MAX_AGE_MS) return this.images.list;
    try {
      const { images } = await this.o.runtime.listImages({});
      this.images = { list: nodeImages(images), at: now };
    } catch (err) {
      this.log.warn('listing images for the node status failed', { err: errorMessage(err) });
    }
    return this.images?.list;
  }

  /** Reports the status every interval until `signal` aborts; failures are logged once per streak. */
  async run(signal: AbortSignal): Promise<void> {
    let failing = false;
    while (!signal.aborted) {
      await sleep(this.o.statusIntervalMs, signal);
      if (signal.aborted) break;
      try {
        await this.updateStatus();
        if (failing) this.log.info('node status update recovered', {});
        failing = false;
      } catch (err) {
        if (!failing) this.log.warn('node status update failed', { err: errorMessage(err) });
        failing = true;
      }
    }
  }
}
