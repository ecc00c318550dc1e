/**
 * The kubelet API (upstream pkg/kubelet/server): HTTPS with the kubelet's own certificate
 * and key, requiring a client certificate signed by the cluster CA (the apiserver presents
 * its apiserver-kubelet-client certificate). Routes:
 *   GET /healthz                                      → "ok"
 *   GET /containerLogs/{namespace}/{pod}/{container}  → logs.ts
 * Anything else is 404 "404 page not found"; other methods 405. The next issue's exec,
 * attach and port-forward handlers slot into `route`.
 */
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '@tskube/log';
import { errorMessage } from '../format.js';
import { serveContainerLogs, type LogsContext } from './logs.js';

export interface KubeletServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  tls: { cert: Buffer | string; key: Buffer | string; ca: Buffer | string };
  logs: LogsContext;
  logger: Logger;
}

export interface KubeletServer {
  port: number;
  close(): Promise<void>;
}

function send(res: ServerResponse, code: number, body: string): void {
  res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(body);
}

async function route(req: IncomingMessage, res: ServerResponse, o: KubeletServerOptions): Promise<void> {
  const url = new URL(req.url ?? '/', 'https://kubelet');
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, '405: Method Not Allowed\n');
  if (url.pathname === '/healthz') return send(res, 200, 'ok');
  const m = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)\/?$/.exec(url.pathname);
  if (m) {
    const [namespace, pod, container] = m.slice(1).map((s) => decodeURIComponent(s)) as [string, string, string];
    return serveContainerLogs(req, res, o.logs, { namespace, pod, container }, url.searchParams);
  }
  return send(res, 404, '404 page not found\n');
}

/** Starts listening; resolves with the bound port. */
export function startKubeletServer(o: KubeletServerOptions): Promise<KubeletServer> {
  const log = o.logger.child({ subsystem: 'server' });
  const server = https.createServer({
    cert: o.tls.cert, key: o.tls.key, ca: o.tls.ca, requestCert: true, rejectUnauthorized: true,
  }, (req, res) => {
    route(req, res, o).catch((err: unknown) => {
      log.error('request failed', { path: req.url, err: errorMessage(err) });
      if (!res.headersSent) send(res, 500, 'Internal Server Error\n'); else res.end();
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      const a = server.address();
      const port = typeof a === 'object' && a ? a.port : o.port;
      log.info('kubelet API listening', { port });
      resolve({
        port,
        close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
      });
    });
  });
}
