/**
 * Proxies an HTTP upgrade request (WebSocket, SPDY) to a backend and then splices the two
 * connections byte for byte, like upstream's UpgradeAwareHandler: the kubelet forwards
 * exec/attach/port-forward to the runtime's streaming server this way, without looking
 * inside the stream (pings, channels and close frames pass through untouched).
 *
 * - Backend answers 101: its status line and headers go to the client, then both
 *   directions are piped; either side closing or failing closes the other.
 * - Backend answers anything else: that status, Content-Type and body (up to 64 KiB) are
 *   written to the client, and the connection is closed.
 * - Backend unreachable: 502 with the error text.
 */
import http from 'node:http';
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';

const MAX_ERROR_BODY = 64 * 1024;

/** Writes a complete non-101 HTTP answer on a raw socket and closes it. */
export function writeRawResponse(socket: Duplex, code: number, body: string | Buffer, contentType = 'text/plain; charset=utf-8'): void {
  const buf = typeof body === 'string' ? Buffer.from(body) : body;
  const head = `HTTP/1.1 ${code} ${http.STATUS_CODES[code] ?? 'Error'}\r\nContent-Type: ${contentType}\r\nContent-Length: ${buf.length}\r\nConnection: close\r\n\r\n`;
  if (!socket.writable) { socket.destroy(); return; }
  socket.end(Buffer.concat([Buffer.from(head), buf]));
}

/** Headers worth forwarding to the backend: everything but hop-by-hop credentials and Host. */
export function forwardHeaders(req: IncomingMessage): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined || k === 'host' || k === 'authorization' || k === 'cookie' || k.startsWith('impersonate-')) continue;
    out[k] = v;
  }
  return out;
}

/**
 * Sends `out` (a request already carrying the client's upgrade headers; not yet ended) and
 * bridges the result to `socket`. `head` is what the client sent after its headers.
 * Resolves when the backend has answered (101 or not), rejects never.
 */
export function bridgeUpgrade(out: http.ClientRequest, socket: Duplex, head: Buffer): Promise<void> {
  return new Promise<void>((resolve) => {
    socket.on('error', () => { socket.destroy(); out.destroy(); });
    out.on('upgrade', (res: IncomingMessage, upstream: Duplex, upHead: Buffer) => {
      const lines = [`HTTP/1.1 101 ${res.statusMessage || 'Switching Protocols'}`];
      for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) lines.push(`${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}`);
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (upHead.length) socket.write(upHead);
      if (head.length) upstream.write(head);
      const closeBoth = (): void => { socket.destroy(); upstream.destroy(); };
      upstream.on('error', closeBoth);
      socket.on('error', closeBoth);
      upstream.on('close', () => socket.end());
      socket.on('close', () => upstream.destroy());
      upstream.pipe(socket);
      socket.pipe(upstream);
      resolve();
    });
    out.on('response', (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => { if (size < MAX_ERROR_BODY) { chunks.push(c); size += c.length; } });
      res.on('end', () => {
        writeRawResponse(socket, res.statusCode ?? 500, Buffer.concat(chunks).subarray(0, MAX_ERROR_BODY), String(res.headers['content-type'] ?? 'text/plain; charset=utf-8'));
        resolve();
      });
      res.on('error', () => { socket.destroy(); resolve(); });
    });
    out.on('error', (err) => {
      writeRawResponse(socket, 502, `error dialing backend: ${err.message}\n`);
      resolve();
    });
    out.end();
  });
}
