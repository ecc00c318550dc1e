/**
 * The remotecommand channel protocol over WebSocket, as kubectl/client-go speak it for exec
 * and attach (upstream apimachinery wsstream and client-go tools/remotecommand/websocket.go).
 *
 * Every binary WebSocket message is one frame: the first byte is the channel (stream id),
 * the rest is the payload.
 *   0 stdin (client → server)      1 stdout        2 stderr
 *   3 error: one message, then the connection closes. v4/v5: a metav1.Status JSON
 *     (Success, or Failure with reason NonZeroExitCode and a cause {reason: ExitCode,
 *     message: "<code>"}); v1: plain error text, nothing on success.
 *   4 resize (client → server, tty only): JSON {"Width": W, "Height": H}
 * v5 adds the CLOSE signal: a message [255, id] half-closes stream `id` (the client sends
 * [255, 0] at stdin EOF). Without v5 stdin only ends with the connection.
 *
 * Supported subprotocols, best first: v5.channel.k8s.io, v4.channel.k8s.io, channel.k8s.io.
 * (The base64 variants were for browsers without binary frames; nobody offers only those.)
 */

export const PROTOCOL_V5 = 'v5.channel.k8s.io';
export const PROTOCOL_V4 = 'v4.channel.k8s.io';
export const PROTOCOL_V3 = 'v3.channel.k8s.io';
export const PROTOCOL_V2 = 'v2.channel.k8s.io';
export const PROTOCOL_V1 = 'channel.k8s.io';
/** Our preference order; the client's order does not matter (as upstream). */
export const EXEC_PROTOCOLS = [PROTOCOL_V5, PROTOCOL_V4, PROTOCOL_V1] as const;
export type ExecProtocol = (typeof EXEC_PROTOCOLS)[number];

/**
 * remotecommand over SPDY/3.1 (kubectl ≤ 1.29, and the fallback of newer ones), negotiated
 * with X-Stream-Protocol-Version; the client's order decides (upstream httpstream.Handshake).
 * v5 over SPDY is v4 (the CLOSE signal is a WebSocket matter: SPDY half-closes natively);
 * v3 is v4 with a plain-text error stream; v2 has no resize stream; v1 is v2 with the
 * server closing its side of stdin at once (a 1.0-era quirk, harmless).
 */
export const SPDY_EXEC_PROTOCOLS = [PROTOCOL_V5, PROTOCOL_V4, PROTOCOL_V3, PROTOCOL_V2, PROTOCOL_V1] as const;
export type SpdyExecProtocol = (typeof SPDY_EXEC_PROTOCOLS)[number];

/**
 * The first of the client's protocols (header values, each possibly a comma list) that we
 * speak; undefined when none. An empty offer is the caller's error ("… is required").
 */
export function negotiateSpdyExecProtocol(offered: readonly string[]): SpdyExecProtocol | undefined {
  const supported = new Set<string>(SPDY_EXEC_PROTOCOLS);
  for (const p of offered.flatMap((v) => v.split(',')).map((v) => v.trim())) {
    if (supported.has(p)) return p as SpdyExecProtocol;
  }
  return undefined;
}

/** Whether a SPDY remotecommand protocol has the resize stream (v3 and later). */
export function spdySupportsResize(p: SpdyExecProtocol): boolean {
  return p !== PROTOCOL_V2 && p !== PROTOCOL_V1;
}

/**
 * What the server writes on the SPDY error stream for `status`: v4/v5 the Status JSON;
 * older ones the message text on failure and nothing on success (exit codes do not reach
 * such clients: they print "error executing remote command: …").
 */
export function spdyErrorPayload(status: StreamStatus, protocol: SpdyExecProtocol): Buffer | undefined {
  if (protocol === PROTOCOL_V5 || protocol === PROTOCOL_V4) return Buffer.from(JSON.stringify(status));
  return status.status === 'Success' ? undefined : Buffer.from(status.message ?? 'error');
}

/** The SPDY stream types of remotecommand (header `streamType`). */
export const STREAM_TYPES = ['error', 'stdin', 'stdout', 'stderr', 'resize'] as const;
export type StreamType = (typeof STREAM_TYPES)[number];

/** Port-forward tunnelled in WebSocket: SPDY/3.1 frames as binary messages (kubectl ≥ 1.31). */
export const PORT_FORWARD_TUNNEL_PROTOCOL = 'SPDY/3.1+portforward.k8s.io';

/**
 * Port-forward over WebSocket channels (upstream kubelet portforward/websocket.go; client
 * libraries, not kubectl): subprotocol v4.channel.k8s.io, or none at all.
 */
export function selectPortForwardProtocol(offered: readonly string[]): typeof PORT_FORWARD_TUNNEL_PROTOCOL | typeof PROTOCOL_V4 | '' | undefined {
  if (offered.includes(PORT_FORWARD_TUNNEL_PROTOCOL)) return PORT_FORWARD_TUNNEL_PROTOCOL;
  if (offered.includes(PROTOCOL_V4)) return PROTOCOL_V4;
  return offered.length === 0 ? '' : undefined;
}

export const CHANNEL = { stdin: 0, stdout: 1, stderr: 2, error: 3, resize: 4, close: 255 } as const;

/** Picks the protocol for an offered set (Sec-WebSocket-Protocol values); undefined: none we speak. */
export function selectExecProtocol(offered: Iterable<string>): ExecProtocol | undefined {
  const set = new Set([...offered].map((p) => p.trim()));
  return EXEC_PROTOCOLS.find((p) => set.has(p));
}

/** One frame: channel byte + payload. */
export function encodeFrame(channel: number, data: Uint8Array | string = ''): Buffer {
  const payload = typeof data === 'string' ? Buffer.from(data) : data;
  const out = Buffer.allocUnsafe(1 + payload.length);
  out[0] = channel;
  out.set(payload, 1);
  return out;
}

export type ClientFrame =
  | { kind: 'stdin'; data: Buffer }
  | { kind: 'resize'; width: number; height: number }
  /** v5 CLOSE signal for a stream (0 = stdin EOF). */
  | { kind: 'close'; stream: number }
  /** Anything else; ignored (upstream drops data for channels nobody reads). */
  | { kind: 'ignored'; channel: number }
  | { kind: 'invalid'; reason: string };

/**
 * Decodes a message from the client. Resize JSON that does not parse, or a CLOSE signal
 * without a stream id, is 'invalid' (the caller logs and ignores it). CLOSE is only
 * recognised under v5, as upstream: for older protocols 255 is just an unknown channel.
 */
export function decodeClientFrame(msg: Buffer, protocol: ExecProtocol): ClientFrame {
  if (msg.length === 0) return { kind: 'invalid', reason: 'empty message' };
  const channel = msg[0]!;
  const data = msg.subarray(1);
  if (channel === CHANNEL.close && protocol === PROTOCOL_V5) {
    if (data.length !== 1) return { kind: 'invalid', reason: 'CLOSE signal without exactly one stream id' };
    return { kind: 'close', stream: data[0]! };
  }
  if (channel === CHANNEL.stdin) return { kind: 'stdin', data };
  if (channel === CHANNEL.resize && protocol !== PROTOCOL_V1) {
    const size = parseTerminalSize(data.toString('utf8'));
    return typeof size === 'string' ? { kind: 'invalid', reason: size } : { kind: 'resize', ...size };
  }
  return { kind: 'ignored', channel };
}

/** A TerminalSize JSON `{"Width": W, "Height": H}` (uint16 each); a string is the reason it is not one. */
export function parseTerminalSize(text: string): { width: number; height: number } | string {
  let v: unknown;
  try { v = JSON.parse(text); } catch { return 'resize message is not JSON'; }
  const o = (typeof v === 'object' && v !== null ? v : {}) as { Width?: unknown; Height?: unknown };
  const width = typeof o.Width === 'number' ? o.Width : NaN;
  const height = typeof o.Height === 'number' ? o.Height : NaN;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 0 || height < 0 || width > 0xffff || height > 0xffff) {
    return 'resize message needs integer Width and Height in [0, 65535]';
  }
  return { width, height };
}

/**
 * Splits a byte stream of concatenated JSON objects (what Go's json.Encoder writes on the
 * SPDY resize stream: one object and a newline per change) into the objects' texts.
 * Whitespace between objects is skipped; braces inside strings are respected.
 */
export class JsonObjectSplitter {
  private buf = '';
  push(chunk: string): string[] {
    this.buf += chunk;
    const out: string[] = [];
    let depth = 0;
    let inString = false;
    let escaped = false;
    let start = -1;
    for (let i = 0; i < this.buf.length; i++) {
      const ch = this.buf[i]!;
      if (inString) {
        if (escaped) escaped = false;
        else if (ch === '\\') escaped = true;
        else if (ch === '"') inString = false;
        continue;
      }
      if (ch === '"') inString = true;
      else if (ch === '{') { if (depth++ === 0) start = i; }
      else if (ch === '}' && depth > 0 && --depth === 0) out.push(this.buf.slice(start, i + 1));
      else if (depth === 0 && !/\s/.test(ch)) out.push(ch); // garbage: the caller reports it
    }
    // An unfinished object (and only that) waits for more; an unfinished string is inside it.
    this.buf = depth === 0 ? '' : this.buf.slice(start);
    return out;
  }
}

/** metav1.Status for the error channel (v4/v5). */
export interface StreamStatus {
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: { causes: { reason: string; message: string }[] };
  code?: number;
}

export const NON_ZERO_EXIT_CODE_REASON = 'NonZeroExitCode';
export const EXIT_CODE_CAUSE = 'ExitCode';

export function successStatus(): StreamStatus {
  return { metadata: {}, status: 'Success' };
}

/**
 * A command that exited non-zero: kubectl reads the code from the ExitCode cause, prints
 * "command terminated with exit code N" and exits N.
 */
export function exitCodeStatus(cmd: readonly string[], code: number): StreamStatus {
  return {
    metadata: {}, status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${cmd.join(' ')}], exit code ${code}`,
    reason: NON_ZERO_EXIT_CODE_REASON,
    details: { causes: [{ reason: EXIT_CODE_CAUSE, message: String(code) }] },
  };
}

/** Any other failure: an InternalError Status, as upstream's apierrors.NewInternalError. */
export function internalErrorStatus(message: string): StreamStatus {
  return { metadata: {}, status: 'Failure', message: `Internal error occurred: ${message}`, reason: 'InternalError', details: { causes: [{ reason: '', message }] }, code: 500 };
}

/** The error-channel frame for `status` under `protocol` (v1: text, and nothing on success). */
export function errorFrame(status: StreamStatus, protocol: ExecProtocol): Buffer | undefined {
  if (protocol === PROTOCOL_V1) return status.status === 'Success' ? undefined : encodeFrame(CHANNEL.error, status.message ?? 'error');
  return encodeFrame(CHANNEL.error, JSON.stringify(status));
}
