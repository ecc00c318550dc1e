/**
 * How the apiserver reaches kubelets (pods/log; exec, attach and port-forward through
 * {@link KubeletClient.upgrade}): HTTPS to the node's InternalIP and kubelet port, authenticated with
 * the apiserver-kubelet-client certificate. Kubelets serve self-signed certificates, so, as
 * upstream without --kubelet-certificate-authority, their certificate is not verified.
 */
import https from 'node:https';
import http from 'node:http';
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Node } from '@tskube/api';
import { badRequest, serviceUnavailable } from '@tskube/api';

export interface KubeletClientOptions {
  cert?: Buffer | string;
  key?: Buffer | string;
  timeoutMs?: number;
}

export class KubeletClient {
  private readonly agent: https.Agent;
  /** Upgraded connections are never reused. */
  private readonly upgradeAgent: https.Agent;
  constructor(private readonly opts: KubeletClientOptions = {}) {
    const tls = { rejectUnauthorized: false, ...(opts.cert ? { cert: opts.cert } : {}), ...(opts.key ? { key: opts.key } : {}) };
    this.agent = new https.Agent({ keepAlive: true, ...tls });
    this.upgradeAgent = new https.Agent({ keepAlive: false, ...tls });
  }

  /**
   * Proxies an upgrade request (exec/attach/port-forward) to a kubelet path, like upstream's
   * UpgradeAwareHandler: the client's method and headers (minus credentials) go to the
   * kubelet; a 101 answer is relayed and the two connections are spliced byte for byte
   * (WebSocket pings, channels, SPDY frames pass through); any other answer (status, type,
   * body up to 64 KiB) is relayed as-is and the connection closed; an unreachable kubelet
   * becomes a 503 Status. Resolves once the kubelet has answered.
   */
  upgrade(node: Node, path: string, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const { host, port } = KubeletClient.endpoint(node);
    const headers: OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (v === undefined || k === 'host' || k === 'authorization' || k === 'cookie' || k.startsWith('impersonate-')) continue;
      headers[k] = v;
    }
    const out = https.request({ host, port, path, method: req.method ?? 'GET', headers, agent: this.upgradeAgent, timeout: this.opts.timeoutMs ?? 10_000 });
    return new Promise<void>((resolve) => {
      socket.on('error', () => { socket.destroy(); out.destroy(); });
      out.on('timeout', () => out.destroy(new Error('timeout')));
      out.on('upgrade', (res: IncomingMessage, upstream: Duplex, upHead: Buffer) => {
        out.setTimeout(0);
        const lines = [`HTTP/1.1 101 ${res.statusMessage || 'Switching Protocols'}`];
        for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) lines.push(`${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}`);
        socket.write(`${lines.join('\r\n')}\r\n\r\n`);
        if (upHead.length) socket.write(upHead);
        if (head.length) upstream.write(head);
        const closeBoth = (): void => { socket.destroy(); upstream.destroy(); };
        upstream.on('error', closeBoth);
        socket.on('error', closeBoth);
        upstream.on('close', () => socket.end());
        socket.on('close', () => upstream.destroy());
        upstream.pipe(socket);
        socket.pipe(upstream);
        resolve();
      });
      out.on('response', (res: IncomingMessage) => {
        out.setTimeout(0);
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => { if (size < 65536) { chunks.push(c); size += c.length; } });
        res.on('end', () => {
          writeRaw(socket, res.statusCode ?? 500, Buffer.concat(chunks).subarray(0, 65536), String(res.headers['content-type'] ?? 'text/plain; charset=utf-8'));
          resolve();
        });
        res.on('error', () => { socket.destroy(); resolve(); });
      });
      out.on('error', (e) => {
        const status = serviceUnavailable(`error dialing the kubelet on node "${node.metadata?.name}" (${host}:${port}): ${e.message}`).status;
        writeRaw(socket, 503, Buffer.from(JSON.stringify(status)), 'application/json');
        resolve();
      });
      out.end();
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

/** A complete HTTP answer on a raw (not upgraded) socket, then close. */
function writeRaw(socket: Duplex, code: number, body: Buffer, contentType: string): void {
  if (!socket.writable) { socket.destroy(); return; }
  const head = `HTTP/1.1 ${code} ${http.STATUS_CODES[code] ?? 'Error'}\r\nContent-Type: ${contentType}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`;
  socket.end(Buffer.concat([Buffer.from(head), body]));
}
