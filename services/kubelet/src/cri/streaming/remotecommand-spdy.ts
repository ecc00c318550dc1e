/**
 * exec/attach over SPDY/3.1 (upstream kubelet cri/streaming/remotecommand httpstream.go, the
 * protocol kubectl 1.27–1.29 speak and newer ones fall back to):
 *
 * 1. Handshake: the request carries `Upgrade: SPDY/3.1` and one or more
 *    `X-Stream-Protocol-Version` values (v5…v1.channel.k8s.io; the client's order wins).
 *    None → 400 "unable to upgrade: X-Stream-Protocol-Version is required"; none we speak →
 *    403 with `X-Accepted-Stream-Protocol-Versions`. Otherwise 101 with `Connection: Upgrade`,
 *    `Upgrade: SPDY/3.1` and the chosen `X-Stream-Protocol-Version`.
 * 2. The client opens one SPDY stream per channel, header `streamType`: `error` first, then
 *    `stdin`, `stdout`, `stderr` (not with a tty) and, v3+ with a tty, `resize`; each waits
 *    for our SYN_REPLY. We wait until all streams the request's flags imply exist (1 + stdin +
 *    stdout + stderr + resize); an unknown type is ignored, a repeated one replaces the
 *    earlier; not all within {@link STREAM_CREATION_TIMEOUT_MS} → the connection is closed.
 * 3. Session: stdin DATA goes to the process, its FIN is EOF; stdout/stderr DATA back; the
 *    resize stream carries concatenated TerminalSize JSON objects.
 * 4. End: stdout/stderr get FIN, the error stream gets the status (spdyErrorPayload: v4/v5 a
 *    Status JSON with the ExitCode cause, v1–v3 text on failure only) and FIN, then GOAWAY
 *    and the connection closes (upstream's conn.Close()).
 */
import type { IncomingMessage } from 'node:http';
import http from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '@tskube/log';
import {
  PROTOCOL_V1, SPDY_EXEC_PROTOCOLS, STREAM_TYPES, negotiateSpdyExecProtocol, spdySupportsResize,
  type SpdyExecProtocol, type StreamType,
} from './protocol.js';
import { SpdySession, type SpdyStream } from './spdy.js';

/** upstream remotecommand DefaultStreamCreationTimeout. */
export const STREAM_CREATION_TIMEOUT_MS = 30_000;

export const HEADER_PROTOCOL_VERSION = 'X-Stream-Protocol-Version';
export const HEADER_ACCEPTED_PROTOCOL_VERSIONS = 'X-Accepted-Stream-Protocol-Versions';

export interface SpdyRemoteCommand {
  protocol: SpdyExecProtocol;
  session: SpdySession;
  streams: Partial<Record<StreamType, SpdyStream>> & { error: SpdyStream };
}

export interface SpdyStreamFlags { stdin?: boolean; stdout?: boolean; stderr?: boolean; tty?: boolean }

function respond(socket: Duplex, code: number, message: string, headers: string[] = []): void {
  const body = `${message}\n`;
  socket.end([
    `HTTP/1.1 ${code} ${http.STATUS_CODES[code] ?? 'Error'}`, 'Content-Type: text/plain; charset=utf-8', ...headers,
    `Content-Length: ${Buffer.byteLength(body)}`, 'Connection: close', '', body,
  ].join('\r\n'));
}

/** How many streams a client with these flags opens under `protocol` (upstream expectedStreams). */
export function expectedStreamCount(flags: SpdyStreamFlags, protocol: SpdyExecProtocol): number {
  return 1 + Number(!!flags.stdin) + Number(!!flags.stdout) + Number(!!flags.stderr && !flags.tty)
    + Number(!!flags.tty && spdySupportsResize(protocol));
}

/**
 * Answers a SPDY upgrade for exec/attach on `socket` and waits for the client's streams.
 * Resolves undefined when the upgrade was refused (the answer is written) or the streams did
 * not all come in time (the connection is closed); never rejects.
 */
export function acceptSpdyRemoteCommand(
  req: IncomingMessage, socket: Duplex, head: Buffer, flags: SpdyStreamFlags, log: Logger,
  timeoutMs = STREAM_CREATION_TIMEOUT_MS,
): Promise<SpdyRemoteCommand | undefined> {
  const raw = req.headersDistinct[HEADER_PROTOCOL_VERSION.toLowerCase()] ?? [];
  const offered = raw.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
  if (offered.length === 0) {
    respond(socket, 400, `unable to upgrade: ${HEADER_PROTOCOL_VERSION} is required`);
    return Promise.resolve(undefined);
  }
  const protocol = negotiateSpdyExecProtocol(offered);
  if (!protocol) {
    respond(socket, 403, `unable to upgrade: unable to negotiate protocol: client supports [${offered.join(' ')}], server accepts [${SPDY_EXEC_PROTOCOLS.join(' ')}]`,
      SPDY_EXEC_PROTOCOLS.map((p) => `${HEADER_ACCEPTED_PROTOCOL_VERSIONS}: ${p}`));
    return Promise.resolve(undefined);
  }
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n${HEADER_PROTOCOL_VERSION}: ${protocol}\r\n\r\n`);
  if (head.length) socket.unshift(head);

  const expected = expectedStreamCount(flags, protocol);
  const streams: Partial<Record<StreamType, SpdyStream>> = {};
  return new Promise<SpdyRemoteCommand | undefined>((resolve) => {
    let done = false;
    const finish = (v: SpdyRemoteCommand | undefined): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(v);
    };
    const session = new SpdySession(socket, (stream) => {
      stream.on('error', () => undefined);
      const type = stream.headers.streamtype ?? '';
      if (done || !(STREAM_TYPES as readonly string[]).includes(type)) {
        if (!done) log.debug('ignoring SPDY stream of unexpected type', { streamType: type });
        stream.resume();
        return;
      }
      streams[type as StreamType]?.destroy();
      streams[type as StreamType] = stream;
      if (protocol === PROTOCOL_V1 && type === 'stdin') stream.end(); // upstream v1 closes our side of stdin at once
      if (Object.keys(streams).length === expected) {
        if (!streams.error) { log.debug('SPDY remotecommand without an error stream'); session.close().catch(() => undefined); finish(undefined); return; }
        finish({ protocol, session, streams: { ...streams, error: streams.error } });
      }
    }, (err) => log.debug('SPDY remotecommand session error', { err: err.message }));
    const timer = setTimeout(() => {
      log.warn('timed out waiting for client to create streams', { expected, received: Object.keys(streams) });
      void session.close().catch(() => undefined);
      finish(undefined);
    }, timeoutMs);
    timer.unref();
    void session.closed.then(() => finish(undefined));
  });
}
