/**
 * The kubelet API (upstream pkg/kubelet/server): HTTPS with the kubelet's own certificate
 * and key, requiring a client certificate signed by the cluster CA (the apiserver presents
 * its apiserver-kubelet-client certificate). Routes:
 *   GET /healthz                                      → "ok"
 *   GET /containerLogs/{namespace}/{pod}/{container}  → logs.ts
 *   GET /stats/summary, /metrics/resource, /metrics   → stats.ts
 *   GET|POST /exec/…, /attach/…, /portForward/… with an upgrade → streaming.ts (proxied to
 *   the runtime's streaming server); without an upgrade → 400 "Upgrade request required"
 * Anything else is 404 "404 page not found"; other methods 405.
 */
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '@tskube/log';
import { errorMessage } from '../format.js';
import { serveContainerLogs, type LogsContext } from './logs.js';
import { parseStreamingPath, serveStreaming, type StreamingContext } from './streaming.js';
import { serveStats, type StatsContext } from './stats.js';
import { writeRawResponse } from './upgrade-proxy.js';

export interface KubeletServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  tls: { cert: Buffer | string; key: Buffer | string; ca: Buffer | string };
  logs: LogsContext;
  /** exec/attach/port-forward; absent: those paths are 404. */
  streaming?: StreamingContext;
  /** Stats summary and metrics; absent: those paths are 404. */
  stats?: StatsContext;
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
  if (o.streaming && parseStreamingPath(url.pathname)) return send(res, 400, 'Upgrade request required\n');
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, '405: Method Not Allowed\n');
  if (url.pathname === '/healthz') return send(res, 200, 'ok');
  if (o.stats && await serveStats(url.pathname, res, o.stats)) return;
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
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (o.streaming && serveStreaming(req, socket, head, o.streaming)) return;
    writeRawResponse(socket, 404, '404 page not found\n');
  });
  return new Promise((resolve, reject) => {
    const sockets = new Set<Socket>();
    server.on('connection', (socket: Socket) => { sockets.add(socket); socket.once('close', () => sockets.delete(socket)); });
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      const a = server.address();
      const port = typeof a === 'object' && a ? a.port : o.port;
      log.info('kubelet API listening', { port });
      resolve({
        port,
        close: () => new Promise<void>((r) => {
          server.close(() => r());
          server.closeAllConnections();
          // Upgraded (exec/attach/port-forward) connections are no longer HTTP connections:
          // closeAllConnections leaves them, and close() would wait for them forever.
          for (const socket of sockets) socket.destroy();
        }),
      });
    });
  });
}
