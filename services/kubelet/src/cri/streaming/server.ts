/**
 * The runtime side's streaming server (upstream pkg/kubelet/cri/streaming): the CRI Exec,
 * Attach and PortForward calls only validate and return a URL here; the client (through
 * the kubelet's proxy) then opens that URL with a WebSocket upgrade and the session runs.
 *
 * - URLs are http://<address>:<port>/{exec|attach|portforward}/<token>. A token is random,
 *   valid for one use and {@link STREAM_TOKEN_TTL_MS}; at most {@link MAX_IN_FLIGHT}
 *   unused tokens exist (more → RESOURCE_EXHAUSTED, as upstream's request cache).
 * - exec/attach: WebSocket with v5/v4.channel.k8s.io or channel.k8s.io (protocol.ts). The
 *   session ends with a Status on the error channel, then a normal close (1000). Pings are
 *   answered by `ws`. Or `Upgrade: SPDY/3.1` with X-Stream-Protocol-Version v5…v1 (kubectl
 *   ≤ 1.29; remotecommand-spdy.ts): one SPDY stream per channel, the Status on the error
 *   stream, then GOAWAY. Either way the client going away aborts the session's signal (and
 *   ends stdin).
 * - portforward: WebSocket `SPDY/3.1+portforward.k8s.io` (SPDY frames inside binary
 *   messages), a native `Upgrade: SPDY/3.1`, or WebSocket channels (`v4.channel.k8s.io` or no
 *   subprotocol; needs the request's ports); see port-forward.ts.
 * - Unknown/expired token → 404; a request without a WebSocket/SPDY upgrade, or offering
 *   no protocol we speak → 400 with a plain-text reason (SPDY exec/attach: 403, as upstream).
 *
 * The server listens lazily, on the first URL handed out, so runtimes that never stream
 * (simulated nodes) open no port. It binds to 127.0.0.1 by default: the kubelet that
 * proxies to it runs in the same process or network namespace.
 */
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { finished } from 'node:stream/promises';
import type { Duplex } from 'node:stream';
import { PassThrough, Writable } from 'node:stream';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import type { Logger } from '@tskube/log';
import { Code, CriError, invalidArgument } from '../errors.js';
import type * as m from '../proto.js';
import { STREAM_TOKEN_TTL_MS } from '../runtime.js';
import {
  CHANNEL, JsonObjectSplitter, PORT_FORWARD_TUNNEL_PROTOCOL, PROTOCOL_V4, decodeClientFrame, encodeFrame, errorFrame, exitCodeStatus,
  internalErrorStatus, parseTerminalSize, selectExecProtocol, selectPortForwardProtocol, spdyErrorPayload, successStatus, type ExecProtocol, type StreamStatus,
} from './protocol.js';
import { serveChannelPortForward, servePortForward, type PortForwarder } from './port-forward.js';
import { acceptSpdyRemoteCommand, type SpdyRemoteCommand } from './remotecommand-spdy.js';
import type { SpdyStream } from './spdy.js';

export const MAX_IN_FLIGHT = 1000;

export interface TerminalSize { width: number; height: number }

/** Terminal size changes of a tty session; `current` is the latest (possibly sent before the command started). */
export interface ResizeEvents {
  current(): TerminalSize | undefined;
  /** Calls `fn` on every later change; returns the unsubscribe function. */
  subscribe(fn: (size: TerminalSize) => void): () => void;
}

/**
 * What a session hands the runtime. Streams are present only when requested. The runtime
 * writes output to stdout/stderr but never ends them (the server does, once the call
 * resolves); it reads stdin until it ends (client EOF or gone).
 */
export interface StreamIO {
  stdin?: NodeJS.ReadableStream & { destroy(): void };
  stdout?: Writable;
  stderr?: Writable;
  tty: boolean;
  resize: ResizeEvents;
  /** Aborted when the client disconnects; the runtime should then stop streaming. */
  signal: AbortSignal;
}

/** The runtime operations behind the URLs (upstream streaming.Runtime). */
export interface StreamingRuntime {
  /** Runs `cmd`; resolves with its exit code. Rejects (CriError) if it cannot be run. */
  exec(containerId: string, cmd: string[], io: StreamIO): Promise<number>;
  /** Streams the main process until it exits or the client leaves. */
  attach(containerId: string, io: StreamIO): Promise<void>;
  /** Opens a TCP connection to `port` inside the sandbox's network namespace. */
  portForward: PortForwarder;
}

export interface StreamingServerOptions {
  runtime: StreamingRuntime;
  logger: Logger;
  /** Bind address, default 127.0.0.1. */
  address?: string;
  /** Default 0 (ephemeral). */
  port?: number;
}

type Pending =
  | { kind: 'exec'; req: m.ExecRequest; expires: number }
  | { kind: 'attach'; req: m.AttachRequest; expires: number }
  | { kind: 'portforward'; req: m.PortForwardRequest; expires: number };

function checkStreams(r: { stdin?: boolean; stdout?: boolean; stderr?: boolean; tty?: boolean }): void {
  if (!r.stdin && !r.stdout && !r.stderr) throw invalidArgument('one of stdin, stdout, or stderr must be set');
  if (r.tty && r.stderr) throw invalidArgument('tty and stderr cannot both be true');
}

function rejectUpgrade(socket: Duplex, code: number, message: string): void {
  const reason = http.STATUS_CODES[code] ?? 'Error';
  const body = `${message}\n`;
  socket.end(`HTTP/1.1 ${code} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

export class StreamingServer {
  private readonly pending = new Map<string, Pending>();
  private readonly wss = new WebSocketServer({
    noServer: true, perMessageDeflate: false, maxPayload: 16 * 1024 * 1024,
    // Ours, not the client's, order decides (onUpgrade has already checked one fits).
    handleProtocols: (offered: Set<string>, req: http.IncomingMessage) => this.chosenProtocol.get(req)
      ?? (req.url?.startsWith('/portforward/') ? false : selectExecProtocol(offered) ?? false),
  });
  /**
   * Port-forward subprotocols picked in onUpgrade. `ws` parses Sec-WebSocket-Protocol as RFC
   * 7230 tokens and refuses kubectl's `SPDY/3.1+portforward.k8s.io` ("/" is no token
   * character) with 400, which made kubectl fall back to native SPDY; so the request header is
   * replaced by a stand-in token and the real name is answered from here.
   */
  private readonly chosenProtocol = new WeakMap<http.IncomingMessage, string>();
  private readonly sockets = new Set<Duplex>();
  private server: http.Server | undefined;
  private listening: Promise<string> | undefined;
  private closed = false;
  private readonly log: Logger;

  constructor(private readonly o: StreamingServerOptions) {
    this.log = o.logger.child({ subsystem: 'streaming' });
  }

  getExec(req: m.ExecRequest): Promise<m.ExecResponse> {
    if (!req.cmd || req.cmd.length === 0) throw invalidArgument('cmd is required');
    checkStreams(req);
    return this.issue({ kind: 'exec', req, expires: 0 });
  }

  getAttach(req: m.AttachRequest): Promise<m.AttachResponse> {
    checkStreams(req);
    return this.issue({ kind: 'attach', req, expires: 0 });
  }

  getPortForward(req: m.PortForwardRequest): Promise<m.PortForwardResponse> {
    return this.issue({ kind: 'portforward', req, expires: 0 });
  }

  /** Stops listening and ends every open session. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    this.pending.clear();
    for (const s of this.sockets) s.destroy();
    for (const c of this.wss.clients) c.terminate();
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); });
  }

  private async issue(p: Pending): Promise<{ url: string }> {
    if (this.closed) throw new CriError(Code.UNAVAILABLE, 'streaming server is shut down');
    const now = Date.now();
    for (const [k, v] of this.pending) if (v.expires <= now) this.pending.delete(k);
    if (this.pending.size >= MAX_IN_FLIGHT) throw new CriError(Code.RESOURCE_EXHAUSTED, 'maximum number of in-flight requests exceeded');
    const base = await this.start();
    const token = randomBytes(12).toString('base64url');
    this.pending.set(token, { ...p, expires: now + STREAM_TOKEN_TTL_MS });
    return { url: `${base}/${p.kind}/${token}` };
  }

  private start(): Promise<string> {
    this.listening ??= new Promise<string>((resolve, reject) => {
      const server = http.createServer((_req, res) => {
        res.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end('streaming endpoints need a WebSocket (or SPDY/3.1 for port-forward) upgrade\n');
      });
      server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head));
      server.once('error', reject);
      const host = this.o.address ?? '127.0.0.1';
      server.listen(this.o.port ?? 0, host, () => {
        server.off('error', reject);
        server.unref();
        this.server = server;
        const a = server.address();
        const port = typeof a === 'object' && a ? a.port : 0;
        this.log.info('streaming server listening', { address: host, port });
        resolve(`http://${host.includes(':') ? `[${host}]` : host}:${port}`);
      });
    });
    return this.listening;
  }

  private onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const match = /^\/(exec|attach|portforward)\/([A-Za-z0-9_-]+)$/.exec(new URL(req.url ?? '/', 'http://x').pathname);
    const p = match ? this.pending.get(match[2]!) : undefined;
    if (!match || !p || p.kind !== match[1] || p.expires <= Date.now()) {
      if (match) this.pending.delete(match[2]!);
      return rejectUpgrade(socket, 404, '404 page not found');
    }
    this.pending.delete(match[2]!);
    const upgrade = String(req.headers.upgrade ?? '').toLowerCase();
    const offered = String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((s) => s.trim()).filter(Boolean);

    if (p.kind === 'portforward') {
      if (upgrade === 'websocket') {
        const protocol = selectPortForwardProtocol(offered);
        if (protocol === undefined) {
          return rejectUpgrade(socket, 400, `unable to upgrade: unable to negotiate protocol: client supports [${offered.join(' ')}], server supports [${PORT_FORWARD_TUNNEL_PROTOCOL} ${PROTOCOL_V4}]`);
        }
        if (protocol !== PORT_FORWARD_TUNNEL_PROTOCOL && !p.req.port?.length) {
          return rejectUpgrade(socket, 400, 'query parameter "port" is required');
        }
        if (protocol) {
          this.chosenProtocol.set(req, protocol);
          req.headers['sec-websocket-protocol'] = 'tskube-chosen';
        }
        this.wss.handleUpgrade(req, socket, head, (ws) => {
          if (protocol === PORT_FORWARD_TUNNEL_PROTOCOL) servePortForward({ kind: 'websocket', ws }, p.req, this.o.runtime.portForward, this.log);
          else serveChannelPortForward(ws, p.req, this.o.runtime.portForward, this.log);
        });
        return;
      }
      if (upgrade.startsWith('spdy/3.1')) {
        servePortForward({ kind: 'spdy', socket, head, request: req }, p.req, this.o.runtime.portForward, this.log);
        return;
      }
      return rejectUpgrade(socket, 400, 'unable to upgrade: missing upgrade headers in request');
    }

    if (upgrade.startsWith('spdy/3.1')) {
      void acceptSpdyRemoteCommand(req, socket, head, p.req, this.log).then((rc) => {
        if (rc) return this.runCommand(p, spdyTransport(rc));
      }).catch((err: unknown) => {
        this.log.warn('stream session failed', { err: err instanceof Error ? err.message : String(err) });
        socket.destroy();
      });
      return;
    }
    if (upgrade !== 'websocket') {
      return rejectUpgrade(socket, 400, 'unable to upgrade: missing upgrade headers in request');
    }
    const protocol = selectExecProtocol(offered);
    if (!protocol) {
      return rejectUpgrade(socket, 400, `unable to upgrade: unable to negotiate protocol: client supports [${offered.join(' ')}], server supports [v5.channel.k8s.io v4.channel.k8s.io channel.k8s.io]`);
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      void this.runCommand(p, webSocketTransport(ws, protocol, p.req, this.log)).catch((err: unknown) => {
        this.log.warn('stream session failed', { err: err instanceof Error ? err.message : String(err) });
        ws.terminate();
      });
    });
  }

  /** Runs the exec or attach of `p` over `t` and ends the session with its status. */
  private async runCommand(p: Pending & { kind: 'exec' | 'attach' }, t: SessionTransport): Promise<void> {
    const r = p.req;
    const io: StreamIO = {
      ...(r.stdin && t.stdin ? { stdin: t.stdin } : {}), ...(r.stdout && t.stdout ? { stdout: t.stdout } : {}),
      ...(r.stderr && t.stderr ? { stderr: t.stderr } : {}), tty: r.tty ?? false, resize: t.resize, signal: t.signal,
    };
    let status: StreamStatus;
    try {
      if (p.kind === 'exec') {
        const code = await this.o.runtime.exec(p.req.container_id, p.req.cmd, io);
        status = code === 0 ? successStatus() : exitCodeStatus(p.req.cmd, code);
      } else {
        await this.o.runtime.attach(p.req.container_id, io);
        status = successStatus();
      }
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      status = internalErrorStatus(p.kind === 'exec' ? `error executing command in container: ${msg}` : `error attaching to container: ${msg}`);
    }
    // Flush what the runtime wrote before the status, so kubectl sees all output first.
    await Promise.all([io.stdout, io.stderr].map(async (w) => {
      if (!w) return;
      w.end();
      await finished(w).catch(() => undefined);
    }));
    t.stdin?.destroy();
    await t.finish(status);
  }
}

/**
 * One exec/attach connection as the runtime sees it, whatever the wire: stdin ends at the
 * client's EOF or when it goes away; stdout/stderr are ended by runCommand before finish.
 */
interface SessionTransport {
  stdin?: PassThrough;
  stdout?: Writable;
  stderr?: Writable;
  resize: ResizeEvents & { emit(size: TerminalSize): void };
  /** Aborted when the client disconnects. */
  signal: AbortSignal;
  /** Sends the final status and closes the connection. */
  finish(status: StreamStatus): Promise<void>;
}

function resizeEvents(): SessionTransport['resize'] {
  let size: TerminalSize | undefined;
  const listeners = new Set<(s: TerminalSize) => void>();
  return {
    current: () => size,
    subscribe: (fn) => { listeners.add(fn); return () => listeners.delete(fn); },
    emit: (s) => { size = s; for (const fn of listeners) fn(s); },
  };
}

/** The channel protocol over WebSocket (protocol.ts). */
function webSocketTransport(ws: WebSocket, protocol: ExecProtocol, flags: { stdin?: boolean; tty?: boolean }, log: Logger): SessionTransport {
  const ac = new AbortController();
  const stdin = new PassThrough();
  const resize = resizeEvents();
  ws.on('message', (data: RawData, isBinary: boolean) => {
    const msg = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    if (!isBinary) return; // text frames are only for the base64 protocols we do not offer
    const f = decodeClientFrame(msg, protocol);
    switch (f.kind) {
      case 'stdin': if (flags.stdin && !stdin.writableEnded && f.data.length) stdin.write(f.data); break;
      case 'close': if (f.stream === CHANNEL.stdin) stdin.end(); break;
      case 'resize': if (flags.tty) resize.emit({ width: f.width, height: f.height }); break;
      case 'invalid': log.debug('ignoring stream message', { reason: f.reason }); break;
      case 'ignored': break;
    }
  });
  ws.on('close', () => { ac.abort(); stdin.end(); });
  ws.on('error', () => ac.abort());
  const output = (channel: number): Writable => new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (ws.readyState !== ws.OPEN) { cb(); return; }
      ws.send(encodeFrame(channel, chunk), { binary: true }, () => cb());
    },
  });
  return {
    stdin, stdout: output(CHANNEL.stdout), stderr: output(CHANNEL.stderr), resize, signal: ac.signal,
    async finish(status) {
      if (ws.readyState !== ws.OPEN) return;
      const frame = errorFrame(status, protocol);
      if (frame) await new Promise<void>((resolve) => ws.send(frame, { binary: true }, () => resolve()));
      ws.close(1000);
    },
  };
}

/** remotecommand over SPDY/3.1 (remotecommand-spdy.ts), once the client's streams are there. */
function spdyTransport(rc: SpdyRemoteCommand): SessionTransport {
  const ac = new AbortController();
  const { streams, session, protocol } = rc;
  void session.closed.then(() => ac.abort());
  const stdin = new PassThrough();
  if (streams.stdin) streams.stdin.pipe(stdin);
  else stdin.end();
  ac.signal.addEventListener('abort', () => stdin.end());
  const resize = resizeEvents();
  if (streams.resize) {
    const splitter = new JsonObjectSplitter();
    streams.resize.setEncoding('utf8');
    streams.resize.on('data', (chunk: string) => {
      for (const text of splitter.push(chunk)) {
        const size = parseTerminalSize(text);
        if (typeof size !== 'string') resize.emit(size);
      }
    });
  }
  /** Writes to a SPDY stream unless it is gone (a client RST): output is then dropped, as for a closed WebSocket. */
  const output = (s: SpdyStream | undefined): Writable | undefined => s && new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (s.destroyed || s.writableEnded) { cb(); return; }
      s.write(chunk, () => cb());
    },
    final(cb) {
      if (s.destroyed || s.writableEnded) { cb(); return; }
      s.end(() => cb());
    },
  });
  const stdout = output(streams.stdout);
  const stderr = output(streams.stderr);
  return {
    stdin, ...(stdout ? { stdout } : {}), ...(stderr ? { stderr } : {}), resize, signal: ac.signal,
    async finish(status) {
      const e = streams.error;
      if (!e.destroyed && !e.writableEnded) {
        const payload = spdyErrorPayload(status, protocol);
        await new Promise<void>((resolve) => (payload ? e.end(payload, () => resolve()) : e.end(() => resolve())));
      }
      for (const s of [streams.stdin, streams.resize]) if (s && !s.destroyed && !s.writableEnded) s.end();
      await session.close();
    },
  };
}
