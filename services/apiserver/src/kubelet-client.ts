/**
 * How the apiserver reaches kubelets (pods/log today; exec, attach, port-forward and
 * nodes/proxy later): HTTPS to the node's InternalIP and kubelet port, authenticated with
 * the apiserver-kubelet-client certificate. Kubelets serve self-signed certificates, so, as
 * upstream without --kubelet-certificate-authority, their certificate is not verified.
 */
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { Node } from '@tskube/api';
import { badRequest, serviceUnavailable } from '@tskube/api';

export interface KubeletClientOptions {
  cert?: Buffer | string;
  key?: Buffer | string;
  timeoutMs?: number;
}

export class KubeletClient {
  private readonly agent: https.Agent;
  constructor(private readonly opts: KubeletClientOptions = {}) {
    this.agent = new https.Agent({
      keepAlive: true, rejectUnauthorized: false,
      ...(opts.cert ? { cert: opts.cert } : {}), ...(opts.key ? { key: opts.key } : {}),
    });
  }

  /** host:port of a node's kubelet API. */
  static endpoint(node: Node): { host: string; port: number } {
    const addrs = node.status?.addresses ?? [];
    const host = addrs.find((a) => a.type === 'InternalIP')?.address ?? addrs.find((a) => a.type === 'Hostname')?.address;
    if (!host) throw badRequest(`node "${node.metadata?.name}" has no address`);
    const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port || 10250;
    return { host, port };
  }

  /**
   * GET a kubelet path; resolves with the response (any status) once headers arrive. The
   * timeout covers connecting and the headers only: a streamed body (logs -f) may stay quiet
   * for as long as the client keeps it open.
   */
  get(node: Node, path: string, signal?: AbortSignal): Promise<IncomingMessage> {
    const { host, port } = KubeletClient.endpoint(node);
    return new Promise((resolve, reject) => {
      const req = https.request({ host, port, path, method: 'GET', agent: this.agent, timeout: this.opts.timeoutMs ?? 10_000, ...(signal ? { signal } : {}) }, (res) => {
        req.setTimeout(0);
        resolve(res);
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (e) => reject(serviceUnavailable(`error dialing the kubelet on node "${node.metadata?.name}" (${host}:${port}): ${e.message}`)));
      req.end();
    });
  }
}
