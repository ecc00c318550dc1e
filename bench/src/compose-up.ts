/**
 * Time from `docker compose up -d` to every service healthy (`--wait`).
 *   cold: the tskube image is rebuilt without cache (npm ci + tsc) and a fresh cluster starts
 *   warm: the image exists; a fresh cluster (new etcd volume, new PKI) starts
 * Baseline in the same run: `docker run` of the etcd image alone until `etcdctl endpoint health`.
 */
import { composeUp, sh } from '@tskube/test/support/compose';
import { fmtMs, median, say } from './stats.js';

async function etcdAlone(): Promise<number> {
  const name = `tskube-bench-etcd-${process.pid}`;
  const t0 = performance.now();
  const run = await sh('docker', ['run', '-d', '--name', name, process.env.ETCD_IMAGE ?? 'quay.io/coreos/etcd:v3.5.16', '/usr/local/bin/etcd', '--listen-client-urls=http://0.0.0.0:2379', '--advertise-client-urls=http://127.0.0.1:2379']);
  if (run.code !== 0) throw new Error(run.stderr);
  for (;;) {
    const h = await sh('docker', ['exec', name, '/usr/local/bin/etcdctl', 'endpoint', 'health']);
    if (h.code === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const ms = performance.now() - t0;
  await sh('docker', ['rm', '-f', name]);
  return ms;
}

export async function composeUpTimes(opts: { warm: number; cold: number }): Promise<void> {
  say(`# docker compose up -d --wait: ${opts.cold} cold, ${opts.warm} warm`);
  const image = process.env.TSKUBE_IMAGE ?? 'tskube:dev';
  const cold: number[] = [];
  const warm: number[] = [];
  const base: number[] = [];
  for (let i = 0; i < opts.cold; i++) {
    await sh('docker', ['rmi', '-f', image]);
    const b0 = performance.now();
    const b = await sh('docker', ['compose', 'build', '--no-cache', 'apiserver'], { env: { COMPOSE_PROJECT_NAME: 'tskube-bench-build' } });
    if (b.code !== 0) throw new Error(b.stderr.slice(-3000));
    const buildMs = performance.now() - b0;
    const c = await composeUp();
    cold.push(buildMs + c.upSeconds * 1000);
    say(`cold ${i + 1}: build ${fmtMs(buildMs)} + up ${fmtMs(c.upSeconds * 1000)}`);
    await c.down();
  }
  for (let i = 0; i < opts.warm; i++) {
    const c = await composeUp();
    warm.push(c.upSeconds * 1000);
    say(`warm ${i + 1}: up ${fmtMs(c.upSeconds * 1000)}`);
    await c.down();
    base.push(await etcdAlone());
  }
  const coldText = cold.length ? fmtMs(median(cold)) : 'not measured';
  say(`RESULT compose-up: cold (no-cache build + up) median ${coldText}; warm median ${fmtMs(median(warm))}; ` +
    `baseline etcd container alone to healthy median ${fmtMs(median(base))}; warm/baseline ${(median(warm) / median(base)).toFixed(1)}x`);
}
