// The gRPC layer's own behaviour; the full API is covered by the conformance suite over gRPC
// in fake-runtime.test.ts.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { nullLogger } from '@tskube/log';
import { connectRuntime } from './client.js';
import { Code, CriError } from './errors.js';
import { FakeRuntime } from './fake-runtime.js';
import type * as m from './proto.js';
import { serveRuntime, type RuntimeServer } from './server.js';

/** A fake whose Version throws a plain Error and whose Status never answers. */
class Misbehaving extends FakeRuntime {
  override async version(): Promise<m.VersionResponse> { throw new Error('boom'); }
  override status(): Promise<m.StatusResponse> { return new Promise(() => {}); }
}

describe('CRI gRPC client and server', () => {
  let dir: string;
  let server: RuntimeServer;
  const rt = new Misbehaving({ nodeName: 'n' });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tskube-cri-grpc-'));
    server = await serveRuntime(rt, join(dir, 'cri.sock'), nullLogger());
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const isCode = (code: number) => (err: unknown): boolean => err instanceof CriError && err.code === code;

  it('turns unexpected server errors into UNKNOWN with the message', async () => {
    const client = await connectRuntime(join(dir, 'cri.sock'));
    try {
      await assert.rejects(client.version({}), (err: unknown) => isCode(Code.UNKNOWN)(err) && (err as Error).message === 'boom');
    } finally { client.close(); }
  });

  it('applies the call deadline', async () => {
    const client = await connectRuntime(join(dir, 'cri.sock'), { timeoutMs: 100 });
    try {
      await assert.rejects(client.status({}), isCode(Code.DEADLINE_EXCEEDED));
    } finally { client.close(); }
  });

  it('fails to connect to a missing socket with UNAVAILABLE', async () => {
    await assert.rejects(connectRuntime(join(dir, 'nothing.sock'), { connectTimeoutMs: 200 }), isCode(Code.UNAVAILABLE));
  });

  it('replaces a stale socket file, and close() ends open log follows', async () => {
    const path = join(dir, 'second.sock');
    const first = await serveRuntime(rt, path, nullLogger());
    await first.close();
    const fake = new FakeRuntime({ nodeName: 'n2' });
    const second = await serveRuntime(fake, path, nullLogger());
    const client = await connectRuntime(path);
    try {
      const { pod_sandbox_id } = await client.runPodSandbox({ config: { metadata: { name: 'p', namespace: 'n', uid: 'u', attempt: 0 } } });
      const { container_id } = await client.createContainer({
        pod_sandbox_id, config: { metadata: { name: 'c', attempt: 0 }, image: { image: 'local/busybox:1' }, command: ['sh', '-c', 'echo up; sleep 3600'] },
      });
      await client.startContainer({ container_id });
      let got = '';
      const reading = (async () => {
        for await (const chunk of client.readLogs({ container_id, follow: true })) got += Buffer.from(chunk.data).toString();
      })().then(() => undefined, (err: unknown) => err);
      for (const deadline = Date.now() + 5000; !got && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 10));
      assert.equal(got, 'up\n');
      const t0 = Date.now();
      await second.close(5000);
      assert.ok(Date.now() - t0 < 2000, `close waited ${Date.now() - t0} ms for the follow to finish`);
      const ended = await reading;
      assert.ok(ended instanceof CriError && ended.code === Code.UNAVAILABLE, `reader sees the cut: ${String(ended)}`);
    } finally {
      client.close();
      fake.backend.killAll();
    }
  });
});
