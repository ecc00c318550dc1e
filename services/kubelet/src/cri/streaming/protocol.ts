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
export const PROTOCOL_V1 = 'channel.k8s.io';
/** Our preference order; the client's order does not matter (as upstream). */
export const EXEC_PROTOCOLS = [PROTOCOL_V5, PROTOCOL_V4, PROTOCOL_V1] as const;
export type ExecProtocol = (typeof EXEC_PROTOCOLS)[number];

/** Port-forward tunnelled in WebSocket: SPDY/3.1 frames as binary messages (kubectl ≥ 1.30). */
export const PORT_FORWARD_TUNNEL_PROTOCOL = 'SPDY/3.1+portforward.k8s.io';

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
    let v: unknown;
    try { v = JSON.parse(data.toString('utf8')); } catch { return { kind: 'invalid', reason: 'resize message is not JSON' }; }
    const o = (typeof v === 'object' && v !== null ? v : {}) as { Width?: unknown; Height?: unknown };
    const width = typeof o.Width === 'number' ? o.Width : NaN;
    const height = typeof o.Height === 'number' ? o.Height : NaN;
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 0 || height < 0 || width > 0xffff || height > 0xffff) {
      return { kind: 'invalid', reason: 'resize message needs integer Width and Height in [0, 65535]' };
    }
    return { kind: 'resize', width, height };
  }
  return { kind: 'ignored', channel };
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
