/**
 * nodes/proxy (GET): the rest of the path after /api/v1/nodes/{name}/proxy and the query
 * string go to the node's kubelet API (InternalIP, status.daemonEndpoints.kubeletEndpoint.Port)
 * through the kubelet client (apiserver-kubelet-client certificate), and the kubelet's answer
 * (status, Content-Type, body) comes back as is, streamed. So `kubectl get --raw
 * /api/v1/nodes/<n>/proxy/stats/summary`, `/proxy/healthz` and `/proxy/metrics` reach the
 * kubelet. Other methods are 405 (upstream proxies every method; tskube's kubelet API is
 * read-only apart from the streaming upgrades). An unreachable kubelet is a 503 Status.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { methodNotSupported, type Node, type ResourceDef } from '@tskube/api';
import type { KubeletClient } from '../../kubelet-client.js';
import type { Connecter, RequestContext } from '../rest.js';

/** The kubelet path of a proxied request URL: what follows `/nodes/<name>/proxy` ("/" when nothing), with its query. */
export function kubeletPathOf(url: string, name: string): string {
  const q = url.indexOf('?');
  const pathname = q < 0 ? url : url.slice(0, q);
  const search = q < 0 ? '' : url.slice(q);
  const marker = `/nodes/${encodeURIComponent(name)}/proxy`;
  let at = pathname.indexOf(marker);
  let len = marker.length;
  if (at < 0) { at = pathname.indexOf(`/nodes/${name}/proxy`); len = `/nodes/${name}/proxy`.length; }
  const rest = at < 0 ? '' : pathname.slice(at + len);
  return `${rest.startsWith('/') ? rest : `/${rest}`}${search}`;
}

export class NodeProxyRest implements Connecter {
  readonly kind = { group: '', version: 'v1', kind: 'NodeProxyOptions' };
  constructor(
    readonly def: ResourceDef,
    private readonly getNode: (name: string) => Promise<Node>,
    private readonly kubelets: Pick<KubeletClient, 'get'>,
  ) {}

  async connect(_ctx: RequestContext, name: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD') throw methodNotSupported({ group: '', resource: 'nodes/proxy' }, method.toLowerCase());
    const node = await this.getNode(name);
    const abort = new AbortController();
    req.on('close', () => abort.abort());
    const upstream = await this.kubelets.get(node, kubeletPathOf(req.url ?? '/', name), abort.signal);
    const headers: Record<string, string> = { 'Cache-Control': 'no-cache, private' };
    const type = upstream.headers['content-type'];
    if (type) headers['Content-Type'] = type;
    res.writeHead(upstream.statusCode ?? 502, headers);
    if (method === 'HEAD') { upstream.destroy(); res.end(); return; }
    await new Promise<void>((resolve) => {
      upstream.on('data', (c: Buffer) => res.write(c));
      upstream.on('end', resolve);
      upstream.on('error', resolve);
      upstream.on('close', resolve);
    });
    res.end();
  }
}
