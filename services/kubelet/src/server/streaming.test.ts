import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import type { Pod } from '@tskube/api';
import { nullLogger } from '@tskube/log';
import { FakeRuntime, exitCodeOf, runStream, StreamSession } from '../cri/index.js';
import { parseStreamFlags, parseStreamingPath, serveStreaming } from './streaming.js';

describe('parseStreamingPath / parseStreamFlags', () => {
  it('parses the kubelet streaming paths', () => {
    const cases: Array<[string, unknown]> = [
      ['/exec/ns/p/c', { kind: 'exec', namespace: 'ns', pod: 'p', container: 'c' }],
      ['/exec/ns/p/uid-1/c', { kind: 'exec', namespace: 'ns', pod: 'p', uid: 'uid-1', container: 'c' }],
      ['/attach/ns/p/c/', { kind: 'attach', namespace: 'ns', pod: 'p', container: 'c' }],
      ['/portForward/ns/p', { kind: 'portForward', namespace: 'ns', pod: 'p' }],
      ['/portForward/ns/p/u', { kind: 'portForward', namespace: 'ns', pod: 'p', uid: 'u' }],
      ['/exec/ns/p', undefined],
      ['/exec/ns/p/u/c/x', undefined],
      ['/containerLogs/ns/p/c', undefined],
      ['/portforward/ns/p', undefined],
    ];
    for (const [path, want] of cases) assert.deepEqual(parseStreamingPath(path), want, path);
  });

  it('reads "1" flags, drops stderr with a tty, wants one stream', () => {
    assert.deepEqual(parseStreamFlags(new URLSearchParams('stdin=1&stdout=1&stderr=1&tty=1')), { stdin: true, stdout: true, stderr: false, tty: true });
    assert.deepEqual(parseStreamFlags(new URLSearchParams('stdout=1&stderr=true')), { stdin: false, stdout: true, stderr: false, tty: false });
    assert.throws(() => parseStreamFlags(new URLSearchParams('tty=1')), /at least 1 of stdin, stdout, stderr/);
  });
});

describe('kubelet streaming proxy (FakeRuntime)', () => {
  const runtime = new FakeRuntime({ nodeName: 'n1' });
  const pod: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ns', uid: 'uid-1' }, spec: { containers: [{ name: 'main', image: 'local/busybox:1' }] } };
  let server: http.Server;
  let base: string;
  let containerId: string;

  before(async () => {
    const sandboxConfig = { metadata: { name: 'p', namespace: 'ns', uid: 'uid-1', attempt: 0 } };
    const { pod_sandbox_id } = await runtime.runPodSandbox({ config: sandboxConfig });
    const { container_id } = await runtime.createContainer({
      pod_sandbox_id, sandbox_config: sandboxConfig,
      config: { metadata: { name: 'main', attempt: 0 }, image: { image: 'local/busybox:1' }, command: ['sleep', '3600'] },
    });
    containerId = container_id;
    await runtime.startContainer({ container_id });
    server = http.createServer((_req, res) => { res.writeHead(404); res.end(); });
    server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      const handled = serveStreaming(req, socket, head, {
        podByName: (ns, name) => (ns === 'ns' && name === 'p' ? pod : undefined), runtime, logger: nullLogger(),
      });
      if (!handled) socket.destroy();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    await runtime.removePodSandbox({ pod_sandbox_id: (await runtime.listPodSandbox({})).items[0]!.id });
    await runtime.close();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('proxies an exec session: output, stdin, exit code', async () => {
    const r = await runStream(`${base}/exec/ns/p/main?command=sh&command=-c&command=echo+hi%3B+exit+5&stdout=1&stderr=1`);
    assert.equal(r.stdout.toString(), 'hi\n');
    assert.equal(exitCodeOf(r.status), 5);
    const cat = await runStream(`${base}/exec/ns/p/uid-1/main?command=cat&stdin=1&stdout=1`, { stdin: 'piped' });
    assert.equal(cat.stdout.toString(), 'piped');
    assert.equal(exitCodeOf(cat.status), 0);
  });

  it('passes WebSocket pings through to the streaming server and its pongs back', async () => {
    const ws = new WebSocket(`${base.replace('http', 'ws')}/exec/ns/p/main?command=sleep&command=5&stdout=1`, ['v5.channel.k8s.io']);
    await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject); });
    const pong = new Promise<Buffer>((resolve) => ws.once('pong', (d: Buffer) => resolve(d)));
    ws.ping(Buffer.from('are you there'));
    assert.equal((await pong).toString(), 'are you there');
    ws.terminate();
  });

  it('refuses before upgrading, in upstream words', async () => {
    const cases: Array<[string, RegExp]> = [
      ['/exec/ns/missing/main?command=true&stdout=1', /upgrade refused: 404 pod does not exist/],
      ['/exec/ns/p/other-uid/main?command=true&stdout=1', /upgrade refused: 404 pod does not exist/],
      ['/exec/ns/p/sidecar?command=true&stdout=1', /upgrade refused: 500 container not found \("sidecar"\)/],
      ['/exec/ns/p/main?command=true', /upgrade refused: 400 you must specify at least 1 of stdin, stdout, stderr/],
      ['/exec/ns/p/main?stdout=1', /upgrade refused: 400 you must specify at least one command/],
    ];
    for (const [path, want] of cases) await assert.rejects(StreamSession.open(`${base}${path}`).opened, want, path);
  });

  it('CRI Exec hands out a one-time URL on the loopback streaming server', async () => {
    const { url } = await runtime.exec({ container_id: containerId, cmd: ['true'], stdout: true });
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/exec\/[\w-]+$/);
  });
});
