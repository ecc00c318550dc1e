import assert from 'node:assert/strict';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { doGrpcProbe } from './grpc.js';

function bind(server: grpc.Server): Promise<number> {
  return new Promise((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))));
}

describe('doGrpcProbe', () => {
  let health: grpc.Server;
  let bare: grpc.Server;
  let port = 0;
  let barePort = 0;
  const agents: string[] = [];

  before(async () => {
    health = new grpc.Server({ interceptors: [(_desc, call) => new grpc.ServerInterceptingCall(call, {
      start: (next) => next({
        onReceiveMetadata: (md: grpc.Metadata, mdNext: (m: grpc.Metadata) => void) => { agents.push(String(md.get('user-agent')[0] ?? '')); mdNext(md); },
      }),
    })] });
    new HealthImplementation({ '': 'SERVING', web: 'SERVING', db: 'NOT_SERVING' }).addToServer(health);
    port = await bind(health);
    bare = new grpc.Server();
    barePort = await bind(bare);
  });
  after(() => { health.forceShutdown(); bare.forceShutdown(); });

  const cases: Array<[string, () => number, string, string, string]> = [
    ['overall health SERVING', () => port, '', 'success', 'service healthy'],
    ['a named service SERVING', () => port, 'web', 'success', 'service healthy'],
    ['NOT_SERVING', () => port, 'db', 'failure', 'service unhealthy (responded with "NOT_SERVING")'],
    ['an unknown service', () => port, 'nope', 'failure', 'error: health rpc probe failed: rpc error: code = NotFound desc = Health status unknown for service nope'],
    ['no health service', () => barePort, '', 'failure', 'error: this server does not implement the grpc health protocol (grpc.health.v1.Health): The server does not implement the method /grpc.health.v1.Health/Check'],
  ];
  for (const [what, p, service, outcome, output] of cases) {
    it(`${what} → ${outcome}`, async () => {
      assert.deepEqual(await doGrpcProbe('127.0.0.1', p(), service, 2000), { outcome, output });
    });
  }

  it('sends User-Agent kube-probe/1.32', () => {
    assert.ok(agents.some((a) => a.startsWith('kube-probe/1.32')), agents.join(', '));
  });

  it('nothing listening: a timeout to connect, in upstream wording', async () => {
    const s = net.createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const free = (s.address() as AddressInfo).port;
    await new Promise((r) => s.close(r));
    assert.deepEqual(await doGrpcProbe('127.0.0.1', free, '', 500), {
      outcome: 'failure', output: `timeout: failed to connect service "127.0.0.1:${free}" within 500ms: context deadline exceeded`,
    });
  });
});
