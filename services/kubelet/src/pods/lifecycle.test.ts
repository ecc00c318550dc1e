import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Container, Pod } from '@tskube/api';
import type { ExecSyncRequest, ExecSyncResponse } from '../cri/index.js';
import { Code, CriError } from '../cri/index.js';
import { HookRunner } from './lifecycle.js';
import { containerKillGrace } from './sync.js';

const pod: Pod = { metadata: { name: 'p', namespace: 'ns', uid: 'u1' }, spec: { containers: [] } };
const container: Container = { name: 'web', image: 'img', ports: [{ name: 'http', containerPort: 1 }] };

/** ExecSync answering per command: `ok` exits 0, `bad` exits 3 with stderr, `gone` is NOT_FOUND. */
const runtime = {
  calls: [] as string[][],
  async execSync(req: ExecSyncRequest): Promise<ExecSyncResponse> {
    this.calls.push(req.cmd ?? []);
    const cmd = req.cmd?.[0];
    if (cmd === 'gone') throw new CriError(Code.NOT_FOUND, 'container "c1" not found');
    if (cmd === 'bad') return { stdout: Buffer.from('some out'), stderr: Buffer.from('oops'), exit_code: 3 };
    return { stdout: Buffer.from(''), stderr: Buffer.from(''), exit_code: 0 };
  },
};

describe('HookRunner', () => {
  const hooks = new HookRunner(runtime);
  let server: http.Server;
  let port = 0;
  const agents: string[] = [];
  before(async () => {
    server = http.createServer((req, res) => { agents.push(req.headers['user-agent'] ?? ''); res.statusCode = req.url === '/500' ? 500 : 200; res.end(); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => { await new Promise((r) => server.close(r)); });

  const target = (podIPs: string[] = ['127.0.0.1']) => ({ pod, container, containerId: 'c1', podIPs });

  it('exec: exit 0 is success; a non-zero exit fails with upstream wording', async () => {
    assert.deepEqual(await hooks.run(target(), { exec: { command: ['ok'] } }), { ok: true });
    assert.deepEqual(await hooks.run(target(), { exec: { command: ['bad', '-x'] } }), {
      ok: false,
      message: 'Exec lifecycle hook ([bad -x]) for Container "web" in Pod "p_ns(u1)" failed - error: command \'bad -x\' exited with 3: oops, message: "some outoops"',
    });
    const gone = await hooks.run(target(), { exec: { command: ['gone'] } });
    assert.equal(gone.ok, false);
    assert.match(gone.ok ? '' : gone.message, /failed - error: rpc error: code = NotFound desc = container "c1" not found, message: ""$/);
  });

  it('httpGet: any HTTP answer is delivered (kube-lifecycle/1.32); a refused connection fails', async () => {
    assert.deepEqual(await hooks.run(target(), { httpGet: { port, path: '/500' } }), { ok: true });
    assert.equal(agents.at(-1), 'kube-lifecycle/1.32');
    const s = http.createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const free = (s.address() as AddressInfo).port;
    await new Promise((r) => s.close(r));
    assert.deepEqual(await hooks.run(target(), { httpGet: { port: free, path: '/stop' } }), {
      ok: false,
      message: `HTTP lifecycle hook (/stop) for Container "web" in Pod "p_ns(u1)" failed - error: Get "http://127.0.0.1:${free}/stop": dial tcp 127.0.0.1:${free}: connect: connection refused`,
    });
    const noIP = await hooks.run(target([]), { httpGet: { port, path: '/' } });
    assert.equal(noIP.ok, false);
  });

  it('sleep waits, and is cut short by the signal', async () => {
    const ac = new AbortController();
    const t0 = Date.now();
    const r = hooks.run(target(), { sleep: { seconds: 30 } }, ac.signal);
    setTimeout(() => ac.abort(), 50);
    assert.deepEqual(await r, { ok: true });
    assert.ok(Date.now() - t0 < 5000);
  });
});

describe('containerKillGrace (upstream setTerminationGracePeriod)', () => {
  const c: Container = { name: 'c', livenessProbe: { exec: { command: ['x'] }, terminationGracePeriodSeconds: 3 }, startupProbe: { exec: { command: ['x'] } } };
  const cases: Array<[string, Pod, string | undefined, number]> = [
    ['the pod spec', { spec: { containers: [c], terminationGracePeriodSeconds: 20 } }, undefined, 20],
    ['30 when unset', { spec: { containers: [c] } }, undefined, 30],
    ['a liveness kill: the probe\'s own', { spec: { containers: [c], terminationGracePeriodSeconds: 20 } }, 'LivenessProbe', 3],
    ['a startup kill without its own: the pod\'s', { spec: { containers: [c], terminationGracePeriodSeconds: 20 } }, 'StartupProbe', 20],
    ['deletionGracePeriodSeconds first', { metadata: { deletionGracePeriodSeconds: 7 }, spec: { containers: [c], terminationGracePeriodSeconds: 20 } }, 'LivenessProbe', 7],
  ];
  for (const [what, p, reason, want] of cases) {
    it(`${what} → ${want}`, () => assert.equal(containerKillGrace(p, c, reason), want));
  }
});
