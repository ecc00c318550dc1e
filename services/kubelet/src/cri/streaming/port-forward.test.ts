import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { WebSocket, type RawData } from 'ws';
import { nullLogger } from '@tskube/log';
import { StreamingServer } from './server.js';

/** Collects a WebSocket's messages until it closes. */
function collect(ws: WebSocket): { msgs: Buffer[]; closed: Promise<number>; next(n: number): Promise<void> } {
  const msgs: Buffer[] = [];
  const waiters: Array<() => void> = [];
  ws.on('message', (d: RawData) => { msgs.push(Buffer.isBuffer(d) ? d : Buffer.from(d as ArrayBuffer)); for (const w of waiters) w(); });
  const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
  return {
    msgs, closed,
    next: (n) => new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`only ${msgs.length} of ${n} messages: ${msgs.map((m) => JSON.stringify(m.toString('latin1'))).join(' ')}`)), 5000);
      const check = (): void => { if (msgs.length >= n) { clearTimeout(t); resolve(); } };
      waiters.push(check);
      check();
    }),
  };
}

describe('port-forward over WebSocket channels (v4.channel.k8s.io)', () => {
  let upper: net.Server;
  let port: number;
  const server = new StreamingServer({
    logger: nullLogger(),
    runtime: {
      exec: () => Promise.resolve(0),
      attach: () => Promise.resolve(),
      portForward: (_sandbox: string, p: number): Promise<Duplex> => new Promise((resolve, reject) => {
        const s = net.connect(p, '127.0.0.1');
        s.once('connect', () => resolve(s));
        s.once('error', reject);
      }),
    },
  });
  before(async () => {
    // Upper-cases what it reads; closes after "bye".
    upper = net.createServer((s) => s.on('data', (d: Buffer) => { s.write(d.toString().toUpperCase()); if (d.includes('bye')) s.end(); }));
    await new Promise<void>((r) => upper.listen(0, '127.0.0.1', r));
    port = (upper.address() as AddressInfo).port;
  });
  after(async () => {
    await server.close();
    await new Promise<void>((r) => upper.close(() => r()));
  });

  const le = (p: number): Buffer => { const b = Buffer.alloc(2); b.writeUInt16LE(p); return b; };

  it('announces the port on both channels, pipes data on channel 0, closes when the pod side ends', async () => {
    for (const protocols of [['v4.channel.k8s.io'], []]) {
      const { url } = await server.getPortForward({ pod_sandbox_id: 'sb', port: [port] });
      const ws = new WebSocket(url.replace(/^http/, 'ws'), protocols);
      const c = collect(ws);
      await c.next(2);
      assert.equal(ws.protocol, protocols[0] ?? '');
      assert.deepEqual(c.msgs.slice(0, 2), [Buffer.concat([Buffer.from([0]), le(port)]), Buffer.concat([Buffer.from([1]), le(port)])]);
      ws.send(Buffer.from('\x00hello'));
      await c.next(3);
      assert.deepEqual(c.msgs[2], Buffer.from('\x00HELLO'));
      ws.send(Buffer.from('\x00bye'));
      assert.equal(await c.closed, 1000);
    }
  });

  it('a port nobody listens on: the reason on the error channel, then the close', async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const s = net.createServer();
      s.listen(0, '127.0.0.1', () => { const p = (s.address() as AddressInfo).port; s.close(() => resolve(p)); });
    });
    const { url } = await server.getPortForward({ pod_sandbox_id: 'sb', port: [closedPort] });
    const ws = new WebSocket(url.replace(/^http/, 'ws'), ['v4.channel.k8s.io']);
    const c = collect(ws);
    assert.equal(await c.closed, 1000);
    assert.equal(c.msgs.length, 3, c.msgs.map((m) => m.toString()).join(' | '));
    assert.equal(c.msgs[2]![0], 1);
    assert.match(c.msgs[2]!.subarray(1).toString(), new RegExp(`error forwarding port ${closedPort} to pod sb, uid : .*ECONNREFUSED`));
  });

  it('refuses a request without ports, or offering only protocols we do not speak', async () => {
    const refused = async (ports: number[], protocols: string[]): Promise<string> => {
      const { url } = await server.getPortForward({ pod_sandbox_id: 'sb', port: ports });
      const ws = new WebSocket(url.replace(/^http/, 'ws'), protocols);
      return new Promise<string>((resolve, reject) => {
        ws.once('unexpected-response', (_req, res) => {
          let body = '';
          res.on('data', (d: Buffer) => { body += d.toString(); });
          res.on('end', () => resolve(`${res.statusCode} ${body.trim()}`));
        });
        ws.once('open', () => reject(new Error('unexpected open')));
        ws.once('error', () => undefined);
      });
    };
    assert.equal(await refused([], ['v4.channel.k8s.io']), '400 query parameter "port" is required');
    assert.match(await refused([port], ['base64.channel.k8s.io']), /^400 unable to upgrade: unable to negotiate protocol/);
  });

  it('accepts kubectl\'s tunnel subprotocol SPDY/3.1+portforward.k8s.io (not an RFC 7230 token) and names it in the 101', async () => {
    const { url } = await server.getPortForward({ pod_sandbox_id: 'sb' });
    const u = new URL(url);
    const socket = net.connect(Number(u.port), u.hostname);
    socket.write(`GET ${u.pathname} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n`
      + `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: SPDY/3.1+portforward.k8s.io\r\n\r\n`);
    const head = await new Promise<string>((resolve) => {
      let got = '';
      socket.on('data', (d: Buffer) => { got += d.toString('latin1'); if (got.includes('\r\n\r\n')) resolve(got); });
    });
    socket.destroy();
    assert.match(head, /^HTTP\/1.1 101 /);
    assert.match(head, /\r\nSec-WebSocket-Protocol: SPDY\/3.1\+portforward.k8s.io\r\n/i);
  });
});
