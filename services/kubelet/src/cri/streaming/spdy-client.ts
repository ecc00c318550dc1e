/**
 * A client of exec/attach over SPDY/3.1 (remotecommand-spdy.ts), for tests and the
 * conformance suite: what kubectl ≤ 1.29's SPDY executor does, driven from code. It sends
 * `POST` with `Upgrade: SPDY/3.1` and the offered `X-Stream-Protocol-Version`s, then opens
 * the streams in kubectl's order (error, stdin, stdout, stderr, resize), each after the
 * previous was accepted.
 */
import http from 'node:http';
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { SPDY_EXEC_PROTOCOLS, spdySupportsResize, type SpdyExecProtocol, type StreamStatus } from './protocol.js';
import { SpdySession, type SpdyStream } from './spdy.js';

export interface SpdyExecOptions {
  /** Offered protocols, best first; default v5…v1 (kubectl's list). */
  protocols?: string[];
  /** Streams to open; should match the URL's flags. stdout defaults to true. */
  stdin?: boolean;
  stdout?: boolean;
  stderr?: boolean;
  tty?: boolean;
  /** TLS client options when the URL is https (certificates, CA). */
  tls?: https.RequestOptions;
}

export interface SpdyExecResult {
  stdout: Buffer;
  stderr: Buffer;
  /** The error stream: a Status for v4/v5 (undefined if empty), its text for v1–v3 (undefined on success). */
  status: StreamStatus | string | undefined;
  protocol: string;
}

export class SpdyExecSession {
  private readonly out: Buffer[] = [];
  private readonly err: Buffer[] = [];
  private readonly waiters = new Set<() => void>();
  readonly done: Promise<SpdyExecResult>;

  private constructor(readonly protocol: string, session: SpdySession, private readonly streams: Record<string, SpdyStream | undefined>) {
    const ended = (s: SpdyStream | undefined, sink?: Buffer[]): Promise<void> => new Promise<void>((resolve) => {
      if (!s) { resolve(); return; }
      s.on('data', (c: Buffer) => { sink?.push(c); for (const w of this.waiters) w(); });
      s.once('end', resolve);
      s.once('close', resolve);
      s.once('error', () => resolve());
    });
    const errorText: Buffer[] = [];
    this.done = Promise.all([ended(streams.stdout, this.out), ended(streams.stderr, this.err), ended(streams.error, errorText)]).then(() => {
      const text = Buffer.concat(errorText).toString();
      let status: SpdyExecResult['status'];
      if (text) {
        try { status = protocol === 'v4.channel.k8s.io' || protocol === 'v5.channel.k8s.io' ? JSON.parse(text) as StreamStatus : text; } catch { status = text; }
      }
      void session.close();
      return { stdout: Buffer.concat(this.out), stderr: Buffer.concat(this.err), status, protocol };
    });
    streams.stdin?.resume(); // the server only ever FINs it
    streams.stdin?.on('error', () => undefined);
    streams.resize?.on('error', () => undefined);
  }

  /** Upgrades `url` and opens the streams; rejects with the HTTP refusal (status and body) otherwise. */
  static async open(url: string, opts: SpdyExecOptions = {}): Promise<SpdyExecSession> {
    const offered = opts.protocols ?? [...SPDY_EXEC_PROTOCOLS];
    const u = new URL(url);
    const mod = u.protocol === 'https:' ? https : http;
    const req = mod.request(u, {
      method: 'POST', ...opts.tls,
      headers: { Connection: 'Upgrade', Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': offered, 'Content-Length': '0' },
    });
    const { res, socket } = await new Promise<{ res: IncomingMessage; socket: Duplex }>((resolve, reject) => {
      req.once('upgrade', (res: IncomingMessage, socket: Duplex, head: Buffer) => {
        if (head.length) socket.unshift(head);
        resolve({ res, socket });
      });
      req.once('response', (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => reject(new Error(`upgrade refused: ${res.statusCode} ${Buffer.concat(chunks).toString().trim()}`)));
      });
      req.once('error', reject);
      req.end();
    });
    const protocol = String(res.headers['x-stream-protocol-version'] ?? '');
    const session = new SpdySession(socket, (s) => s.destroy());
    const want = { stdin: !!opts.stdin, stdout: opts.stdout ?? true, stderr: !!opts.stderr && !opts.tty };
    const streams: Record<string, SpdyStream | undefined> = {};
    streams.error = await session.openStream({ streamType: 'error' });
    for (const type of ['stdin', 'stdout', 'stderr'] as const) {
      if (want[type]) streams[type] = await session.openStream({ streamType: type });
    }
    if (opts.tty && (SPDY_EXEC_PROTOCOLS as readonly string[]).includes(protocol) && spdySupportsResize(protocol as SpdyExecProtocol)) {
      streams.resize = await session.openStream({ streamType: 'resize' });
    }
    return new SpdyExecSession(protocol, session, streams);
  }

  get stdout(): string { return Buffer.concat(this.out).toString(); }

  send(data: string | Buffer): void { this.streams.stdin?.write(data); }
  /** Half-closes stdin (FIN): EOF for the process. */
  closeStdin(): void { this.streams.stdin?.end(); }
  /** One TerminalSize on the resize stream, newline-terminated as Go's json.Encoder writes it. */
  resize(width: number, height: number): void { this.streams.resize?.write(`${JSON.stringify({ Width: width, Height: height })}\n`); }
  /** Whether a resize stream was opened (tty under v3 and later). */
  get hasResize(): boolean { return this.streams.resize !== undefined; }

  /** Resolves once stdout contains `text`; rejects after `timeoutMs`. */
  waitForStdout(text: string, timeoutMs = 10_000): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const check = (): void => { if (this.stdout.includes(text)) { cleanup(); resolve(); } };
      const timer = setTimeout(() => { cleanup(); reject(new Error(`no ${JSON.stringify(text)} on stdout within ${timeoutMs} ms; got ${JSON.stringify(this.stdout)}`)); }, timeoutMs);
      const cleanup = (): void => { clearTimeout(timer); this.waiters.delete(check); };
      this.waiters.add(check);
      check();
    });
  }
}

/** Opens a session, sends `stdin` (then FIN) if given, and waits for the end. */
export async function runSpdyExec(url: string, opts: SpdyExecOptions & { input?: string | Buffer } = {}): Promise<SpdyExecResult> {
  const s = await SpdyExecSession.open(url, { ...opts, stdin: opts.stdin ?? opts.input !== undefined });
  if (opts.input !== undefined) {
    s.send(opts.input);
    s.closeStdin();
  }
  return s.done;
}
