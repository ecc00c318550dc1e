/**
 * The container runtime of a simulated node: the in-memory FakeRuntime (the same CRI
 * contract the real kubelet drives), with
 * - one private FakeBackend per node, so every CRI call (and the PLEG's relist each second)
 *   costs in proportion to that node's pods, not to all pods of the process;
 * - pod IPs from the node's own /24 (node i: 10.(64 + i/256).(i%256).0/24, like a podCIDR),
 *   handed out round-robin over .2–.254, so IPs are unique across the nodes of one process
 *   (at most 110 pods per node live at once) — separate simulator processes overlap;
 * - a start delay: RunPodSandbox waits `startDelayMs` first, standing in for image pulls and
 *   sandbox setup, so a bound pod turns Running that long after the kubelet sees it.
 * Containers behave as in the fake runtime: the fake shell (`sh -c "exit 0"` completes,
 * `sleep 3600` runs), anything else runs until stopped.
 */
import { FakeBackend, FakeRuntime, type FakeBackendOptions } from '../cri/fake-runtime.js';
import type * as m from '../cri/proto.js';
import type { Logger } from '@tskube/log';

/** The /24 prefix ("10.64.3") of simulated node number `index` (0-based; up to 16,383). */
export function podSubnet(index: number): string {
  if (!Number.isInteger(index) || index < 0 || index >= 64 * 256) throw new Error(`simulated node index ${index} out of range [0, 16383]`);
  return `10.${64 + (index >> 8)}.${index & 255}`;
}

/**
 * The InternalIP of simulated node number `index` (0-based): 127.16.0.1 onwards. Loopback on
 * purpose: the apiserver dials a node's InternalIP for logs, exec, nodes/proxy and metrics,
 * and a simulated node must never send it to an address on somebody else's network (a
 * loopback address nobody listens on refuses at once).
 */
export function nodeAddress(index: number): string {
  const n = index + 1;
  return `127.${16 + ((n >> 16) & 15)}.${(n >> 8) & 255}.${n & 255}`;
}

/** A FakeBackend whose pod IPs come from one /24, reused round-robin. */
export class SimBackend extends FakeBackend {
  private next = 2;

  constructor(private readonly subnet: string, options?: FakeBackendOptions) {
    super(options);
  }

  override allocateIp(): string {
    const ip = `${this.subnet}.${this.next}`;
    this.next = this.next >= 254 ? 2 : this.next + 1;
    return ip;
  }
}

export interface SimRuntimeOptions {
  nodeName: string;
  index: number;
  clusterName?: string;
  startDelayMs: number;
  backendOptions?: FakeBackendOptions;
  logger?: Logger;
}

export class SimRuntime extends FakeRuntime {
  private readonly delayMs: number;

  constructor(o: SimRuntimeOptions) {
    super({ nodeName: o.nodeName, clusterName: o.clusterName, backend: new SimBackend(podSubnet(o.index), o.backendOptions), logger: o.logger });
    this.delayMs = o.startDelayMs;
  }

  override async runPodSandbox(req: m.RunPodSandboxRequest): Promise<m.RunPodSandboxResponse> {
    if (this.delayMs > 0) {
      // unref'd: a pending start never keeps the process alive on shutdown
      await new Promise<void>((resolve) => setTimeout(resolve, this.delayMs).unref());
    }
    return super.runPodSandbox(req);
  }
}
