import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { nullLogger } from '@tskube/log';
import { PROTOCOL_V4 } from './protocol.js';
import { acceptSpdyRemoteCommand, expectedStreamCount } from './remotecommand-spdy.js';
import { StreamingServer, type StreamIO, type StreamingRuntime, type TerminalSize } from './server.js';
import { SpdyExecSession, runSpdyExec } from './spdy-client.js';
import { SpdySession } from './spdy.js';

/** A scripted runtime: commands are JS, so each test sees exactly what the server handed over. */
function scriptedRuntime(): StreamingRuntime & { sizes: TerminalSize[]; stdinEnded: boolean } {
  const rt = {
    sizes: [] as TerminalSize[],
    stdinEnded: false,
    async exec(_id: string, cmd: string[], io: StreamIO): Promise<number> {
      const [name, ...args] = cmd;
      if (name === 'echo') { io.stdout?.write(`${args.join(' ')}\n`); return 0; }
      if (name === 'fail') { io.stdout?.write('out\n'); io.stderr?.write('err\n'); return Number(args[0]); }
      if (name === 'boom') throw new Error('no such binary');
      if (name === 'cat') {
        for await (const c of io.stdin!) io.stdout?.write(c as Buffer);
        rt.stdinEnded = true;
        return 0;
      }
      if (name === 'tty') {
        // Reports every size (the one sent before the start included) until stdin says "q".
        const report = (s: TerminalSize): void => { rt.sizes.push(s); io.stdout?.write(`size ${s.height} ${s.width}\r\n`); };
        const first = io.resize.current();
        if (first) report(first);
        const off = io.resize.subscribe(report);
        for await (const c of io.stdin!) if (String(c).includes('q')) break;
        off();
        return 5;
      }
      return 127;
    },
    async attach(_id: string, io: StreamIO): Promise<void> { io.stdout?.write('attached\n'); },
    portForward: async (): Promise<Duplex> => { throw new Error('no port-forward here'); },
  };
  return rt;
}

describe('exec/attach over SPDY/3.1 (StreamingServer)', () => {
  const runtime = scriptedRuntime();
  const server = new StreamingServer({ runtime, logger: nullLogger() });
  after(() => server.close());
  const exec = async (cmd: string[], flags: { stdin?: boolean; stderr?: boolean; tty?: boolean } = {}): Promise<string> =>
    (await server.getExec({ container_id: 'c1', cmd, stdout: true, ...flags })).url;

  it('negotiates v4 by the client order, streams stdout, ends with a Success Status', async () => {
    const s = await SpdyExecSession.open(await exec(['echo', 'hi']), { protocols: ['v4.channel.k8s.io', 'v3.channel.k8s.io', 'channel.k8s.io'] });
    assert.equal(s.protocol, 'v4.channel.k8s.io');
    const r = await s.done;
    assert.equal(r.stdout.toString(), 'hi\n');
    assert.deepEqual(r.status, { metadata: {}, status: 'Success' });
  });

  it('a non-zero exit: v4/v5 get the ExitCode cause, v3/v2/v1 only the message', async () => {
    const cases: Array<[string, (s: unknown) => void]> = [
      ['v5.channel.k8s.io', (st) => assert.deepEqual((st as { details: unknown }).details, { causes: [{ reason: 'ExitCode', message: '3' }] })],
      ['v4.channel.k8s.io', (st) => assert.equal((st as { reason: string }).reason, 'NonZeroExitCode')],
      ['v3.channel.k8s.io', (st) => assert.equal(st, 'command terminated with non-zero exit code: error executing command [fail 3], exit code 3')],
      ['v2.channel.k8s.io', (st) => assert.match(String(st), /exit code 3$/)],
      ['channel.k8s.io', (st) => assert.match(String(st), /exit code 3$/)],
    ];
    for (const [protocol, check] of cases) {
      const r = await runSpdyExec(await exec(['fail', '3'], { stderr: true }), { protocols: [protocol], stderr: true });
      assert.equal(r.protocol, protocol);
      assert.deepEqual([r.stdout.toString(), r.stderr.toString()], ['out\n', 'err\n'], protocol);
      check(r.status);
    }
    // Success on v1–v3 is an empty error stream.
    assert.equal((await runSpdyExec(await exec(['echo', 'x']), { protocols: ['v3.channel.k8s.io'] })).status, undefined);
  });

  it('stdin: data reaches the process, the FIN is its EOF', async () => {
    const input = 'line\n'.repeat(30_000); // > one SPDY frame and several socket writes
    const r = await runSpdyExec(await exec(['cat'], { stdin: true }), { input });
    assert.equal(r.stdout.toString(), input);
    assert.equal(runtime.stdinEnded, true);
    assert.deepEqual(r.status, { metadata: {}, status: 'Success' });
  });

  it('tty: the resize stream carries TerminalSize JSON (before and during the command)', async () => {
    runtime.sizes.length = 0;
    const s = await SpdyExecSession.open(await exec(['tty'], { stdin: true, tty: true }), { stdin: true, tty: true });
    assert.equal(s.hasResize, true);
    s.resize(80, 24);
    await s.waitForStdout('size 24 80');
    s.resize(120, 40);
    s.resize(100, 30); // two objects in quick succession, maybe in one DATA frame
    await s.waitForStdout('size 30 100');
    s.send('q');
    const r = await s.done;
    assert.deepEqual(runtime.sizes, [{ width: 80, height: 24 }, { width: 120, height: 40 }, { width: 100, height: 30 }]);
    assert.deepEqual((r.status as { details: { causes: unknown[] } }).details.causes, [{ reason: 'ExitCode', message: '5' }]);
  });

  it('v2 has no resize stream: a tty session starts with stdin and stdout only', async () => {
    const s = await SpdyExecSession.open(await exec(['echo', 'old'], { stdin: true, tty: true }), { protocols: ['v2.channel.k8s.io'], stdin: true, tty: true });
    assert.equal(s.hasResize, false);
    assert.equal((await s.done).stdout.toString(), 'old\n');
  });

  it('a runtime failure is an InternalError Status; attach works the same way', async () => {
    const r = await runSpdyExec(await exec(['boom']));
    assert.equal(typeof r.status === 'object' && r.status.reason, 'InternalError');
    assert.match(typeof r.status === 'object' ? r.status.message ?? '' : '', /error executing command in container: no such binary/);
    const a = await runSpdyExec((await server.getAttach({ container_id: 'c1', stdout: true })).url);
    assert.equal(a.stdout.toString(), 'attached\n');
    assert.deepEqual(a.status, { metadata: {}, status: 'Success' });
  });

  it('refuses: no protocol header 400, no common protocol 403 listing ours, plain HTTP 400; a WebSocket still works', async () => {
    const raw = async (url: string, headers: Record<string, string>): Promise<{ code: number; body: string; accepted: string[] }> =>
      new Promise((resolve, reject) => {
        const req = http.request(url, { method: 'POST', headers });
        req.on('response', (res) => {
          let body = '';
          res.on('data', (c: Buffer) => { body += c.toString(); });
          res.on('end', () => resolve({ code: res.statusCode ?? 0, body: body.trim(), accepted: res.headersDistinct['x-accepted-stream-protocol-versions'] ?? [] }));
        });
        req.on('upgrade', () => reject(new Error('unexpected upgrade')));
        req.on('error', reject);
        req.end();
      });
    const spdy = { Connection: 'Upgrade', Upgrade: 'SPDY/3.1' };
    assert.deepEqual(await raw(await exec(['echo']), spdy), { code: 400, body: 'unable to upgrade: X-Stream-Protocol-Version is required', accepted: [] });
    const none = await raw(await exec(['echo']), { ...spdy, 'X-Stream-Protocol-Version': 'v9.channel.k8s.io' });
    assert.equal(none.code, 403);
    assert.match(none.body, /unable to negotiate protocol: client supports \[v9.channel.k8s.io\]/);
    assert.deepEqual(none.accepted, ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io']);
    assert.equal((await raw(await exec(['echo']), {})).code, 400);
    const ws = new WebSocket((await exec(['echo', 'ws'])).replace(/^http/, 'ws'), [PROTOCOL_V4]);
    const msgs: Buffer[] = [];
    ws.on('message', (d: Buffer) => msgs.push(d));
    await new Promise((r) => ws.once('close', r));
    assert.deepEqual(msgs[0], Buffer.from('\x01ws\n'));
  });
});

describe('acceptSpdyRemoteCommand', () => {
  let server: http.Server;
  let port: number;
  const results: Array<Promise<unknown>> = [];
  before(async () => {
    server = http.createServer();
    server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      results.push(acceptSpdyRemoteCommand(req, socket, head, { stdin: true, stdout: true, stderr: true }, nullLogger(), 300));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));

  it('counts the streams upstream expects', () => {
    const cases: Array<[Parameters<typeof expectedStreamCount>[0], Parameters<typeof expectedStreamCount>[1], number]> = [
      [{ stdout: true }, 'v4.channel.k8s.io', 2],
      [{ stdin: true, stdout: true, stderr: true }, 'v4.channel.k8s.io', 4],
      [{ stdin: true, stdout: true, tty: true }, 'v4.channel.k8s.io', 4],
      [{ stdin: true, stdout: true, stderr: true, tty: true }, 'v3.channel.k8s.io', 4],
      [{ stdin: true, stdout: true, tty: true }, 'v2.channel.k8s.io', 3],
      [{ stdin: true, stdout: true, tty: true }, 'channel.k8s.io', 3],
    ];
    for (const [flags, protocol, n] of cases) assert.equal(expectedStreamCount(flags, protocol), n, `${JSON.stringify(flags)} ${protocol}`);
  });

  it('answers 101 with the chosen protocol, then closes when the client does not open all streams in time', async () => {
    const socket = net.connect(port, '127.0.0.1');
    socket.write('POST /x HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v2.channel.k8s.io, v4.channel.k8s.io\r\nX-Stream-Protocol-Version: channel.k8s.io\r\n\r\n');
    let head = '';
    await new Promise<void>((resolve) => socket.on('data', (c: Buffer) => { head += c.toString('latin1'); if (head.includes('\r\n\r\n')) resolve(); }));
    assert.match(head, /^HTTP\/1.1 101 Switching Protocols\r\n/);
    assert.match(head, /\r\nUpgrade: SPDY\/3.1\r\n/);
    assert.match(head, /\r\nX-Stream-Protocol-Version: v2.channel.k8s.io\r\n/);
    // Only the error stream: the server gives up after its (here 300 ms) creation timeout.
    socket.removeAllListeners('data');
    const client = new SpdySession(socket, (s) => s.destroy());
    await client.openStream({ streamtype: 'error' });
    const t0 = Date.now();
    await client.closed;
    assert.ok(Date.now() - t0 < 5000);
    assert.equal(await results.at(-1), undefined);
  });
});
