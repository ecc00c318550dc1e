/**
 * HTTP upgrade requests (kubectl exec/attach/port-forward: WebSocket, or SPDY/3.1 as the
 * fallback) go through the same pipeline as every other request — request info,
 * authentication, authorization, the resource handler and its Status errors — by giving
 * them a ServerResponse bound to the raw socket. A connect endpoint that wants the
 * connection calls {@link takeUpgrade}, which detaches the socket from that response; if
 * nobody takes it, the response (an error Status, usually) is written and the socket closed.
 */
import { ServerResponse, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

interface Pending { socket: Duplex; head: Buffer; res: ServerResponse; taken: boolean }

const pending = new WeakMap<IncomingMessage, Pending>();

/** Routes `server`'s upgrade requests to `serve` as ordinary (req, res) requests. */
export function acceptUpgrades(server: Server, serve: (req: IncomingMessage, res: ServerResponse) => void): void {
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const res = new ServerResponse(req);
    res.shouldKeepAlive = false;
    res.assignSocket(socket as Socket);
    const p: Pending = { socket, head, res, taken: false };
    res.on('finish', () => {
      if (p.taken) return;
      res.detachSocket(socket as Socket);
      socket.end();
    });
    pending.set(req, p);
    serve(req, res);
  });
}

/**
 * The raw connection of an upgrade request, now owned by the caller (it must answer on the
 * socket itself: 101 and the stream, or an HTTP error). Undefined for a plain request or
 * when already taken.
 */
export function takeUpgrade(req: IncomingMessage): { socket: Duplex; head: Buffer } | undefined {
  const p = pending.get(req);
  if (!p || p.taken) return undefined;
  p.taken = true;
  p.res.detachSocket(p.socket as Socket);
  return { socket: p.socket, head: p.head };
}
