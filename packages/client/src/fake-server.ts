/**
 * Serves a FakeClient over HTTP(S) with the apiserver's REST and watch protocol, so the REST
 * client, informers and anything else speaking HTTP can be tested without an apiserver.
 * Test-only: no authentication beyond optional mutual TLS, no discovery, no OpenAPI.
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { ApiError, internalError, isApiError, isObject } from '@tskube/api';
import type { FakeClient } from './fake.js';
import type { DeleteOptions, PatchType } from './types.js';

export interface FakeServerRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  /** Common name of the client certificate (mutual TLS only). */
  clientCN?: string;
}

/** A canned answer that short-circuits the fake. */
export interface FakeServerReply {
  status: number;
  body?: string;
  headers?: Record<string, string>;
}

export interface FakeServerOptions {
  /** Serve HTTPS; with `ca` and `requestCert`, client certificates signed by `ca` are required. */
  tls?: { key: string | Buffer; cert: string | Buffer; ca?: string | Buffer; requestCert?: boolean };
}

export interface FakeServer {
  readonly url: string;
  readonly fake: FakeClient;
  /** Every request received, in order. */
  readonly requests: FakeServerRequest[];
  /** Consulted first for every request; return a reply to answer with it instead of the fake. */
  intercept: ((req: FakeServerRequest) => FakeServerReply | undefined) | undefined;
  /** Open watch responses. */
  readonly openWatches: number;
  /** Cuts every open watch connection without a clean end (a network failure). */
  dropWatches(): void;
  close(): Promise<void>;
}

function patchTypeOf(ct: string): PatchType {
  if (ct.includes('json-patch')) return 'json';
  if (ct.includes('strategic-merge-patch')) return 'strategic';
  if (ct.includes('apply-patch')) return 'apply';
  return 'merge';
}

function sendJson(res: http.ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function sendError(res: http.ServerResponse, e: unknown): void {
  const err = isApiError(e) ? e : internalError(e);
  if (!res.headersSent) sendJson(res, err.code, err.status);
  else res.destroy();
}

export async function serveFake(fake: FakeClient, opts: FakeServerOptions = {}): Promise<FakeServer> {
  const requests: FakeServerRequest[] = [];
  const watches = new Set<http.ServerResponse>();
  const sockets = new Set<import('node:net').Socket>();

  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    void handle(req, res).catch((e: unknown) => sendError(res, e));
  };

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = (req.method ?? 'GET').toUpperCase();
    const info: FakeServerRequest = { method, path: url.pathname, query: url.searchParams, headers: req.headers };
    const sock = req.socket as TLSSocket;
    if (typeof sock.getPeerCertificate === 'function') {
      const cn = sock.getPeerCertificate()?.subject?.CN;
      if (cn) info.clientCN = Array.isArray(cn) ? cn[0] : cn;
    }
    requests.push(info);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');

    const canned = server.intercept?.(info);
    if (canned) {
      res.writeHead(canned.status, { 'Content-Type': 'application/json', ...canned.headers });
      res.end(canned.body ?? '');
      return;
    }

    let body: unknown;
    if (raw) {
      try { body = JSON.parse(raw); } catch { throw new ApiError(400, 'BadRequest', 'the request body is not valid JSON'); }
    }
    const q = url.searchParams;
    const opt = (k: string) => q.get(k) ?? undefined;
    const ref = fake.route(url.pathname);

    if (method === 'GET' && q.get('watch') === 'true') {
      const stream = await fake.watch(ref, {
        resourceVersion: opt('resourceVersion'), labelSelector: opt('labelSelector'), fieldSelector: opt('fieldSelector'),
        allowWatchBookmarks: q.get('allowWatchBookmarks') === 'true',
      });
      res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
      res.flushHeaders();
      watches.add(res);
      const timeout = Number(q.get('timeoutSeconds') ?? 0);
      const timer = timeout > 0 ? setTimeout(() => stream.close(), timeout * 1000) : undefined;
      res.on('close', () => { stream.close(); watches.delete(res); if (timer) clearTimeout(timer); });
      try {
        for await (const ev of stream) res.write(`${JSON.stringify(ev)}\n`);
      } catch (e) {
        const err = isApiError(e) ? e : internalError(e);
        res.write(`${JSON.stringify({ type: 'ERROR', object: err.status })}\n`);
      }
      if (timer) clearTimeout(timer);
      watches.delete(res);
      res.end();
      return;
    }

    switch (method) {
      case 'GET': {
        if (ref.subresource === 'log') {
          const s = await fake.getStream(url.pathname);
          res.writeHead(200, { 'Content-Type': 'text/plain' });
          s.pipe(res);
          return;
        }
        if (ref.name) { sendJson(res, 200, await fake.get(ref, { resourceVersion: opt('resourceVersion') })); return; }
        const limit = q.get('limit');
        sendJson(res, 200, await fake.list(ref, {
          labelSelector: opt('labelSelector'), fieldSelector: opt('fieldSelector'),
          limit: limit ? Number(limit) : undefined, continue: opt('continue'),
        }));
        return;
      }
      case 'POST': sendJson(res, 201, await fake.create(ref, body, { dryRun: q.get('dryRun') === 'All', fieldManager: opt('fieldManager') })); return;
      case 'PUT': sendJson(res, 200, await fake.update(ref, body, { dryRun: q.get('dryRun') === 'All', fieldManager: opt('fieldManager') })); return;
      case 'PATCH': {
        const type = patchTypeOf(String(req.headers['content-type'] ?? ''));
        sendJson(res, 200, await fake.patch(ref, body, type, { fieldManager: opt('fieldManager'), force: q.get('force') === 'true' }));
        return;
      }
      case 'DELETE': {
        const d: DeleteOptions = isObject(body) ? (body as DeleteOptions) : {};
        await fake.delete(ref, d);
        sendJson(res, 200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name: ref.name, kind: ref.rt.plural } });
        return;
      }
      default:
        throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
    }
  }

  const srv = opts.tls
    ? https.createServer({
      key: opts.tls.key, cert: opts.tls.cert, ca: opts.tls.ca,
      requestCert: opts.tls.requestCert ?? false, rejectUnauthorized: opts.tls.requestCert ?? false,
    }, handler)
    : http.createServer(handler);
  srv.on('connection', (s: import('node:net').Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as AddressInfo).port;

  const server: FakeServer = {
    url: `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    fake,
    requests,
    intercept: undefined,
    get openWatches() { return watches.size; },
    dropWatches() {
      for (const r of [...watches]) r.socket?.destroy();
      watches.clear();
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => srv.close(() => resolve()));
    },
  };
  return server;
}
