/**
 * Who and where this kubelet is, resolved once at start (deployment facts of the compose
 * stack): each kubelet runs in a container sharing the host's Docker socket, and its
 * container's hostname is its container ID, so inspecting `os.hostname()` through Docker
 * tells its container name and networks.
 * - node name: TSKUBE_NODE_NAME, else the container's name (without the leading "/"), else
 *   the hostname;
 * - pod network: TSKUBE_POD_NETWORK, else the container's (first) network;
 * - node IP: TSKUBE_NODE_IP, else the container's IP on the pod network, else the first
 *   non-internal IPv4 of the machine.
 */
import os from 'node:os';
import type Dockerode from 'dockerode';
import type { Logger } from '@tskube/log';
import { errorMessage } from '../format.js';
import { firstIPv4 } from './host-info.js';

export interface SelfContainer {
  name: string;
  /** Network name → this container's IPv4 on it. */
  networks: Record<string, string>;
}

export interface Identity {
  nodeName: string;
  nodeIP: string;
  /** Undefined when not configured and not discoverable (only fatal for the Docker runtime). */
  podNetwork?: string;
}

/** Inspects this process's own container; undefined when not in a container (or no Docker). */
export async function inspectSelf(docker: Dockerode, log: Logger, timeoutMs = 3000): Promise<SelfContainer | undefined> {
  try {
    const info = await Promise.race([
      docker.getContainer(os.hostname()).inspect(),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs).unref()),
    ]);
    const networks: Record<string, string> = {};
    for (const [name, n] of Object.entries(info.NetworkSettings?.Networks ?? {})) networks[name] = n.IPAddress ?? '';
    return { name: info.Name.replace(/^\//, ''), networks };
  } catch (err) {
    log.debug('not running in a Docker container (or Docker unreachable)', { err: errorMessage(err) });
    return undefined;
  }
}

export function resolveIdentity(
  cfg: { nodeName?: string; nodeIP?: string; podNetwork?: string },
  self: SelfContainer | undefined,
): Identity {
  const podNetwork = cfg.podNetwork ?? (self ? Object.keys(self.networks)[0] : undefined);
  const nodeIP = cfg.nodeIP ?? (self && podNetwork ? self.networks[podNetwork] || undefined : undefined) ?? firstIPv4();
  return { nodeName: cfg.nodeName ?? self?.name ?? os.hostname(), nodeIP, podNetwork };
}
