/**
 * Port-forward sessions (portforward.k8s.io over SPDY/3.1, as upstream kubelet's
 * portforward/httpstream.go serves them), on either transport kubectl uses:
 * - WebSocket with subprotocol `SPDY/3.1+portforward.k8s.io` (kubectl ≥ 1.31; 1.30 and older go native): the SPDY
 *   byte stream travels inside binary messages;
 * - a native `Upgrade: SPDY/3.1` (older kubectl, or the fallback): 101 with
 *   `X-Stream-Protocol-Version: portforward.k8s.io`, then SPDY on the socket.
 *
 * Per forwarded connection the client opens two streams carrying headers `streamtype`
 * (`error` | `data`), `port` and `requestid`. The data stream is piped to a TCP connection
 * to that port in the pod's network namespace; if that fails (or the port is not allowed by
 * the CRI request) the reason is written on the error stream. When the pod side closes, both
 * streams get FIN; a FIN from the client half-closes the pod connection.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { createWebSocketStream, type WebSocket } from 'ws';
import type { Logger } from '@tskube/log';
import type * as m from '../proto.js';
import { SpdySession, type SpdyStream } from './spdy.js';
import { encodeFrame } from './protocol.js';

/** Connects to `port` inside the sandbox's network namespace; rejects if it cannot. */
export type PortForwarder = (sandboxId: string, port: number) => Promise<Duplex>;

export type PortForwardTransport =
  | { kind: 'websocket'; ws: WebSocket }
  | { kind: 'spdy'; socket: Duplex; head: Buffer; request: IncomingMessage };

export const PORT_FORWARD_PROTOCOL = 'portforward.k8s.io';

interface Pair { error?: SpdyStream; data?: SpdyStream }

/** Runs one session until the client goes away. */
export function servePortForward(t: PortForwardTransport, req: m.PortForwardRequest, connect: PortForwarder, log: Logger): void {
  let conn: Duplex;
  if (t.kind === 'websocket') {
    conn = createWebSocketStream(t.ws);
  } else {
    t.socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${PORT_FORWARD_PROTOCOL}\r\n\r\n`);
    if (t.head.length) t.socket.unshift(t.head);
    conn = t.socket;
  }
  conn.on('error', () => conn.destroy());
  const allowed = new Set(req.port ?? []);
  const pairs = new Map<string, Pair>();
  const session = new SpdySession(conn, (stream) => {
    const type = stream.headers.streamtype;
    const requestId = stream.headers.requestid ?? '';
    const pair = pairs.get(requestId) ?? {};
    pairs.set(requestId, pair);
    if (type === 'error') {
      pair.error = stream;
      stream.resume(); // the client writes nothing here; drain its FIN
      return;
    }
    if (type !== 'data') {
      stream.destroy();
      return;
    }
    pair.data = stream;
    const port = Number(stream.headers.port);
    const fail = (message: string): void => {
      log.debug('port-forward failed', { port, err: message });
      pair.error?.end(message);
      stream.end();
      pairs.delete(requestId);
    };
    if (!Number.isInteger(port) || port < 1 || port > 65535) return fail(`invalid port ${JSON.stringify(stream.headers.port)}`);
    if (allowed.size && !allowed.has(port)) return fail(`port ${port} is not allowed for this port-forward`);
    connect(req.pod_sandbox_id, port).then((target) => {
      const done = (): void => {
        pair.error?.end();
        pairs.delete(requestId);
      };
      target.on('error', (err) => { pair.error?.write(`error forwarding port ${port} to pod ${req.pod_sandbox_id}: ${err.message}`); });
      target.on('close', () => { if (!stream.writableEnded) stream.end(); done(); });
      stream.on('end', () => target.end());
      stream.on('close', () => target.destroy());
      stream.pipe(target, { end: false });
      target.pipe(stream);
    }, (err: unknown) => fail(`error forwarding port ${port} to pod ${req.pod_sandbox_id}, uid : ${err instanceof Error ? err.message : String(err)}`));
  }, (err) => log.warn('port-forward session error', { err: err.message }));
  void session.closed.then(() => conn.destroy());
}

/**
 * Port-forward over WebSocket channels: for the i-th port of `req.port`, channel 2i carries
 * data both ways and channel 2i+1 errors (server → client). The server first sends the port
 * number (uint16, little endian) as one message on each of the two channels, then connects;
 * a connection that fails writes its reason on the error channel. Client messages are
 * `[channel, bytes…]`; data for a port whose connection is not up yet is queued. The
 * WebSocket closes (1000) once every port's connection has ended, and a client that goes
 * away closes them all.
 */
export function serveChannelPortForward(ws: WebSocket, req: m.PortForwardRequest, connect: PortForwarder, log: Logger): void {
  const ports = req.port ?? [];
  const targets: Array<Duplex | undefined> = ports.map(() => undefined);
  const queued: Buffer[][] = ports.map(() => []);
  let open = ports.length;
  const send = (channel: number, data: Buffer | string): void => {
    if (ws.readyState === ws.OPEN) ws.send(encodeFrame(channel, data), { binary: true });
  };
  const portDone = (): void => {
    if (--open === 0 && ws.readyState === ws.OPEN) ws.close(1000);
  };
  ws.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
    const msg = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    if (!isBinary || msg.length < 2) return;
    const ch = msg[0]!;
    const i = ch / 2;
    if (ch % 2 !== 0 || i >= ports.length) return; // error channels are server → client only
    const t = targets[i];
    if (t) t.write(msg.subarray(1));
    else queued[i]?.push(Buffer.from(msg.subarray(1)));
  });
  ws.on('close', () => { for (const t of targets) t?.destroy(); });
  ws.on('error', () => ws.terminate());
  ports.forEach((port, i) => {
    const le = Buffer.alloc(2);
    le.writeUInt16LE(port);
    send(2 * i, le);
    send(2 * i + 1, le);
  });
  if (ports.length === 0) { ws.close(1000); return; }
  ports.forEach((port, i) => {
    connect(req.pod_sandbox_id, port).then((target) => {
      if (ws.readyState !== ws.OPEN) { target.destroy(); return; }
      targets[i] = target;
      for (const b of queued[i]!.splice(0)) target.write(b);
      target.on('data', (c: Buffer) => send(2 * i, c));
      target.on('error', (err) => send(2 * i + 1, `error forwarding port ${port} to pod ${req.pod_sandbox_id}: ${err.message}`));
      target.on('close', portDone);
    }, (err: unknown) => {
      log.debug('port-forward failed', { port, err: err instanceof Error ? err.message : String(err) });
      send(2 * i + 1, `error forwarding port ${port} to pod ${req.pod_sandbox_id}, uid : ${err instanceof Error ? err.message : String(err)}`);
      portDone();
    });
  });
}
