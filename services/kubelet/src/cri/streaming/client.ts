/**
 * A client of the exec/attach channel protocol (protocol.ts), for tests, the conformance
 * suite and benchmarks: what kubectl's WebSocket executor does, driven from code.
 */
import { WebSocket, type ClientOptions, type RawData } from 'ws';
import { CHANNEL, PROTOCOL_V5, encodeFrame, type StreamStatus } from './protocol.js';

export interface StreamClientOptions {
  /** Offered subprotocols; default [v5.channel.k8s.io]. */
  protocols?: string[];
  /** TLS and headers for the WebSocket (e.g. client certificates when going through an apiserver). */
  ws?: ClientOptions;
}

export interface StreamResult {
  stdout: Buffer;
  stderr: Buffer;
  /** The error channel: a Status (v4/v5), its text (v1), or undefined if nothing came. */
  status: StreamStatus | string | undefined;
  /** Negotiated subprotocol. */
  protocol: string;
  closeCode: number;
}

/** The exit code kubectl would report: 0 on Success, the ExitCode cause, or undefined for other failures. */
export function exitCodeOf(status: StreamResult['status']): number | undefined {
  if (status === undefined) return 0;
  if (typeof status === 'string') return undefined;
  if (status.status === 'Success') return 0;
  const cause = status.details?.causes.find((c) => c.reason === 'ExitCode');
  return cause ? Number(cause.message) : undefined;
}

export class StreamSession {
  private readonly out: Buffer[] = [];
  private readonly err: Buffer[] = [];
  private status: StreamResult['status'];
  private readonly waiters = new Set<() => void>();
  /** Resolves when the server closes the session. */
  readonly done: Promise<StreamResult>;
  /** Resolves once the upgrade succeeded; rejects with the HTTP refusal otherwise. */
  readonly opened: Promise<void>;

  private constructor(private readonly ws: WebSocket) {
    this.opened = new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_req, res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => reject(new Error(`upgrade refused: ${res.statusCode} ${Buffer.concat(chunks).toString().trim()}`)));
      });
      ws.once('error', reject);
    });
    this.done = new Promise<StreamResult>((resolve, reject) => {
      ws.on('message', (data: RawData) => {
        const msg = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
        const ch = msg[0];
        const payload = msg.subarray(1);
        if (ch === CHANNEL.stdout) this.out.push(payload);
        else if (ch === CHANNEL.stderr) this.err.push(payload);
        else if (ch === CHANNEL.error && payload.length) {
          const text = payload.toString();
          try { this.status = JSON.parse(text) as StreamStatus; } catch { this.status = text; }
        }
        for (const w of this.waiters) w();
      });
      ws.once('close', (code) => resolve({
        stdout: Buffer.concat(this.out), stderr: Buffer.concat(this.err), status: this.status, protocol: ws.protocol, closeCode: code,
      }));
      this.opened.catch(reject);
    });
    this.done.catch(() => undefined);
  }

  static open(url: string, opts: StreamClientOptions = {}): StreamSession {
    const wsUrl = url.replace(/^http/, 'ws');
    return new StreamSession(new WebSocket(wsUrl, opts.protocols ?? [PROTOCOL_V5], { perMessageDeflate: false, ...opts.ws }));
  }

  get stdout(): string { return Buffer.concat(this.out).toString(); }

  send(data: string | Buffer): void { this.ws.send(encodeFrame(CHANNEL.stdin, data)); }
  /** v5 CLOSE of stdin (EOF for the process). */
  closeStdin(): void { this.ws.send(Buffer.from([CHANNEL.close, CHANNEL.stdin])); }
  resize(width: number, height: number): void { this.ws.send(encodeFrame(CHANNEL.resize, JSON.stringify({ Width: width, Height: height }))); }
  /** Drops the connection without a close handshake (a client that went away). */
  terminate(): void { this.ws.terminate(); }

  /** Resolves once stdout contains `text`; rejects after `timeoutMs`. */
  waitForStdout(text: string, timeoutMs = 10_000): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (this.stdout.includes(text)) { cleanup(); resolve(); }
      };
      const timer = setTimeout(() => { cleanup(); reject(new Error(`no ${JSON.stringify(text)} on stdout within ${timeoutMs} ms; got ${JSON.stringify(this.stdout)}`)); }, timeoutMs);
      const cleanup = (): void => { clearTimeout(timer); this.waiters.delete(check); };
      this.waiters.add(check);
      check();
    });
  }
}

/** Opens a session, sends `stdin` (then EOF) if given, and waits for the end. */
export async function runStream(url: string, opts: StreamClientOptions & { stdin?: string | Buffer } = {}): Promise<StreamResult> {
  const s = StreamSession.open(url, opts);
  await s.opened;
  if (opts.stdin !== undefined) {
    s.send(opts.stdin);
    s.closeStdin();
  }
  return s.done;
}
