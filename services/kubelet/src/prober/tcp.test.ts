import assert from 'node:assert/strict';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { doTcpProbe } from './tcp.js';

describe('doTcpProbe', () => {
  it('succeeds when the port accepts a connection, fails with Go\'s dial error once it is closed', async () => {
    let accepted = 0;
    const server = net.createServer((s) => { accepted++; s.destroy(); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    assert.deepEqual(await doTcpProbe('127.0.0.1', port, 1000), { outcome: 'success', output: '' });
    await new Promise((r) => server.close(r));
    assert.equal(accepted, 1);
    assert.deepEqual(await doTcpProbe('127.0.0.1', port, 1000), {
      outcome: 'failure', output: `dial tcp 127.0.0.1:${port}: connect: connection refused`,
    });
  });
});
