import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { nullLogger } from '@tskube/log';
import { connectRuntime } from './client.js';
import { runtimeConformance } from './conformance.js';
import { Code, CriError } from './errors.js';
import { FakeBackend, FakeRuntime, exitAfter } from './fake-runtime.js';
import { serveRuntime } from './server.js';

runtimeConformance('fake', async () => {
  const backend = new FakeBackend();
  return {
    runtime: new FakeRuntime({ backend, nodeName: 'node-a', clusterName: 'unit' }),
    peer: new FakeRuntime({ backend, nodeName: 'node-b', clusterName: 'unit' }),
    nodeName: 'node-a',
    async cleanup() {},
  };
});

runtimeConformance('fake over gRPC', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tskube-cri-'));
  const backend = new FakeBackend();
  const log = nullLogger();
  const servers = [
    await serveRuntime(new FakeRuntime({ backend, nodeName: 'node-a', clusterName: 'unit' }), join(dir, 'a.sock'), log),
    await serveRuntime(new FakeRuntime({ backend, nodeName: 'node-b', clusterName: 'unit' }), join(dir, 'b.sock'), log),
  ];
  const runtime = await connectRuntime(join(dir, 'a.sock'));
  const peer = await connectRuntime(join(dir, 'b.sock'));
  return {
    runtime,
    peer,
    nodeName: 'node-a',
    async cleanup() {
      runtime.close();
      peer.close();
      await Promise.all(servers.map((s) => s.close()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('FakeRuntime specifics', () => {
  const sandbox = { metadata: { name: 'p', namespace: 'ns', uid: 'u1', attempt: 0 } };

  it('allocates distinct 10.244.x.y IPs across runtimes sharing a backend', async () => {
    const backend = new FakeBackend();
    const a = new FakeRuntime({ backend, nodeName: 'a' });
    const b = new FakeRuntime({ backend, nodeName: 'b' });
    const ips = new Set<string>();
    for (let i = 0; i < 300; i++) {
      const rt = i % 2 ? a : b;
      const { pod_sandbox_id } = await rt.runPodSandbox({ config: { metadata: { ...sandbox.metadata, uid: `u${i}` } } });
      const ip = (await rt.podSandboxStatus({ pod_sandbox_id })).status?.network?.ip ?? '';
      assert.match(ip, /^10\.244\.\d+\.\d+$/);
      assert.ok(!ip.endsWith('.0') && !ip.endsWith('.255'), ip);
      ips.add(ip);
    }
    assert.equal(ips.size, 300);
  });

  it('runs per-image behaviours (exit after N ms with code C)', async () => {
    const backend = new FakeBackend({
      images: [{ name: 'example/job:1' }],
      behaviours: { 'example/job:1': exitAfter(30, 7, 'working\n') },
    });
    const rt = new FakeRuntime({ backend, nodeName: 'n' });
    const { pod_sandbox_id } = await rt.runPodSandbox({ config: sandbox });
    const { container_id } = await rt.createContainer({
      pod_sandbox_id, config: { metadata: { name: 'job', attempt: 0 }, image: { image: 'example/job:1' } },
    });
    await rt.startContainer({ container_id });
    assert.equal((await rt.containerStatus({ container_id })).status?.state, 'CONTAINER_RUNNING');
    await new Promise((r) => setTimeout(r, 80));
    const st = (await rt.containerStatus({ container_id })).status;
    assert.equal(st?.state, 'CONTAINER_EXITED');
    assert.equal(st?.exit_code, 7);
    let logs = '';
    for await (const c of rt.readLogs({ container_id })) logs += Buffer.from(c.data).toString();
    assert.equal(logs, 'working\n');
  });

  it('uses the image entrypoint and cmd when the config gives none (Docker rules)', async () => {
    const backend = new FakeBackend({ images: [{ name: 'example/echo', entrypoint: ['echo'], cmd: ['default'] }] });
    const rt = new FakeRuntime({ backend, nodeName: 'n' });
    const { pod_sandbox_id } = await rt.runPodSandbox({ config: sandbox });
    const cases: Array<[string, { command?: string[]; args?: string[] }, string]> = [
      ['image defaults', {}, 'default\n'],
      ['args replace cmd', { args: ['given'] }, 'given\n'],
      ['command drops the image cmd', { command: ['echo'] }, '\n'],
    ];
    for (const [i, [what, cfg, want]] of cases.entries()) {
      const { container_id } = await rt.createContainer({
        pod_sandbox_id, config: { metadata: { name: `c${i}`, attempt: 0 }, image: { image: 'example/echo:latest' }, ...cfg },
      });
      await rt.startContainer({ container_id });
      await new Promise((r) => setTimeout(r, 5));
      let logs = '';
      for await (const c of rt.readLogs({ container_id })) logs += Buffer.from(c.data).toString();
      assert.equal(logs, want, what);
    }
  });

  it('pulls and removes images; a pull hook can refuse', async () => {
    const backend = new FakeBackend({
      images: [],
      pull: (ref) => (ref.includes('private') ? new CriError(Code.NOT_FOUND, `pull ${ref}: not found`) : { name: ref }),
    });
    const rt = new FakeRuntime({ backend, nodeName: 'n' });
    const { image_ref } = await rt.pullImage({ image: { image: 'nginx' } });
    assert.match(image_ref, /^sha256:/);
    const st = await rt.imageStatus({ image: { image: 'nginx:latest' } });
    assert.equal(st.image?.id, image_ref);
    assert.deepEqual(st.image?.repo_tags, ['nginx:latest']);
    assert.equal((await rt.pullImage({ image: { image: 'nginx' } })).image_ref, image_ref, 'pulling again is a no-op');
    await assert.rejects(rt.pullImage({ image: { image: 'example/private:1' } }), (e: unknown) => e instanceof CriError && e.code === Code.NOT_FOUND);
    await rt.removeImage({ image: { image: image_ref } });
    assert.equal((await rt.imageStatus({ image: { image: 'nginx' } })).image, null);
    assert.deepEqual((await rt.listImages({})).images, []);
  });
});
