/**
 * Starts a throwaway etcd process for integration tests (Debian's etcd-server package).
 * Ports are picked free on loopback; the data dir is a temp dir removed on stop().
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';

export interface EtcdProcess {
  endpoint: string;
  /** SIGSTOP: etcd stops answering without closing connections (a hung or partitioned member). */
  pause(): Promise<void>;
  resume(): Promise<void>;
  stop(): Promise<void>;
}

export function etcdBinary(): string {
  const candidates = [process.env.ETCD_BIN, '/usr/bin/etcd', '/usr/local/bin/etcd'].filter((x): x is string => !!x);
  const bin = candidates.find((c) => existsSync(c));
  if (!bin) {
    throw new Error('etcd binary not found: install it with `sudo apt-get install etcd-server` (CI does this in .ci/run), or set ETCD_BIN');
  }
  return bin;
}

export async function startEtcd(): Promise<EtcdProcess> {
  const bin = etcdBinary();
  const dir = mkdtempSync(join(tmpdir(), 'tskube-etcd-'));
  const clientPort = await freePort();
  const peerPort = await freePort();
  const endpoint = `http://127.0.0.1:${clientPort}`;
  const child: ChildProcess = spawn(bin, [
    '--name', 'test', '--data-dir', dir,
    '--listen-client-urls', endpoint, '--advertise-client-urls', endpoint,
    '--listen-peer-urls', `http://127.0.0.1:${peerPort}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${peerPort}`,
    '--initial-cluster', `test=http://127.0.0.1:${peerPort}`, '--log-level', 'error', '--logger', 'zap',
  ], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ETCD_UNSUPPORTED_ARCH: process.arch === 'arm64' ? 'arm64' : '' } });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`etcd exited with ${child.exitCode}: ${stderr}`);
    try {
      const r = await fetch(`${endpoint}/health`);
      if (r.ok) break;
    } catch { /* not yet */ }
    if (Date.now() > deadline) { child.kill('SIGKILL'); throw new Error(`etcd did not become healthy in 20 s: ${stderr}`); }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    endpoint,
    async pause() { child.kill('SIGSTOP'); },
    async resume() { child.kill('SIGCONT'); },
    async stop() {
      if (child.exitCode === null) child.kill('SIGCONT');
      if (child.exitCode === null) { child.kill('SIGTERM'); await exited; }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
