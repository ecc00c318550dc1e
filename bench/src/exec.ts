/**
 * Exec round trip: one `echo hi` exec session after another against a running pod on one real
 * node of the compose stack, next to a raw Docker exec of the same command in the same
 * container, in the same run.
 *
 *   tskube:   a WebSocket (v5.channel.k8s.io, what kubectl 1.30+ speaks) to the apiserver's
 *             pods/exec → TLS to the kubelet → CRI Exec → the runtime's streaming server →
 *             dockerode exec; timed from the upgrade request to the close after the exit
 *             status (StreamSession, services/kubelet/src/cri/streaming/client.ts)
 *   baseline: dockerode exec create + start (hijacked stream) + inspect for the exit code,
 *             which is what the runtime itself has to do for every session
 *   context:  `kubectl exec` end to end (process start-up dominates it), fewer samples
 *
 * Sessions run one at a time, rounds interleave tskube and the baseline; medians across rounds.
 */
import { execFile } from 'node:child_process';
import Docker from 'dockerode';
import { loadKubeconfig, Resources } from '@tskube/client';
import { runStream, exitCodeOf } from '@tskube/kubelet';
import { eventually, kubectlBinary } from '@tskube/test/support/kubectl';
import { fmtMs, median, percentile, say } from './stats.js';
import { upOneNode } from './one-node.js';

const podImage = () => process.env.POD_IMAGE ?? 'busybox:1.36';

async function rawExec(container: Docker.Container): Promise<number> {
  const t0 = performance.now();
  const exec = await container.exec({ Cmd: ['echo', 'hi'], AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', resolve);
    stream.on('error', reject);
  });
  const info = await exec.inspect();
  const ms = performance.now() - t0;
  // multiplexed stream: 8-byte header per frame, then the payload
  const out = Buffer.concat(chunks);
  if (info.ExitCode !== 0 || !out.subarray(8).toString().startsWith('hi')) throw new Error(`raw exec: exit ${info.ExitCode}, output ${JSON.stringify(out.toString())}`);
  return ms;
}

function kubectlExec(bin: string, kubeconfig: string, pod: string): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    execFile(bin, ['--kubeconfig', kubeconfig, 'exec', pod, '--', 'echo', 'hi'], { timeout: 30_000 }, (err, stdout) => {
      if (err || stdout !== 'hi\n') reject(err ?? new Error(`kubectl exec printed ${JSON.stringify(stdout)}`));
      else resolve(performance.now() - t0);
    });
  });
}

const p = (xs: number[], q: number) => fmtMs2(percentile(xs, q));
/** Sub-10 ms figures need a decimal. */
function fmtMs2(ms: number): string {
  return ms < 10 ? `${ms.toFixed(1)} ms` : fmtMs(ms);
}

export async function execBench(opts: { sessions: number; rounds: number; kubectl: number }): Promise<void> {
  say(`# exec round trip: ${opts.sessions} sequential \`echo hi\` sessions per round, ${opts.rounds} rounds (medians across rounds); kubectl exec ${opts.kubectl} per round`);
  const { cluster, client } = await upOneNode();
  try {
    const pods = client.resource(Resources.pods);
    await pods.create('default', {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'exec-bench' },
      spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: podImage(), imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }] },
    });
    const pod = await eventually('exec-bench Running', async () => {
      const x = await pods.get('default', 'exec-bench');
      return x.status?.phase === 'Running' ? x : null;
    }, 120_000, 500);
    const containerId = pod.status!.containerStatuses![0]!.containerID!.replace(/^docker:\/\//, '');
    const container = new Docker().getContainer(containerId);
    const kc = loadKubeconfig(cluster.kubeconfig);
    const ws = { ...(kc.cert ? { cert: kc.cert } : {}), ...(kc.key ? { key: kc.key } : {}), ...(kc.ca ? { ca: kc.ca } : {}) };
    const url = `${cluster.server}/api/v1/namespaces/default/pods/exec-bench/exec?command=echo&command=hi&stdout=true&stderr=true`;
    const tskubeExec = async (): Promise<number> => {
      const t0 = performance.now();
      const r = await runStream(url, { ws });
      const ms = performance.now() - t0;
      if (exitCodeOf(r.status) !== 0 || r.stdout.toString() !== 'hi\n') throw new Error(`exec through the apiserver: ${JSON.stringify(r.status)} ${JSON.stringify(r.stdout.toString())}`);
      return ms;
    };
    const kubectl = kubectlBinary('1.32');

    // Warm up both paths (TLS session setup, JIT, Docker's exec machinery).
    for (let i = 0; i < 10; i++) { await rawExec(container); await tskubeExec(); }
    await kubectlExec(kubectl, cluster.kubeconfig, 'exec-bench');

    const t50: number[] = []; const t99: number[] = []; const d50: number[] = []; const d99: number[] = []; const k50: number[] = [];
    for (let r = 0; r < opts.rounds; r++) {
      const d: number[] = []; const t: number[] = []; const kc2: number[] = [];
      for (let i = 0; i < opts.sessions; i++) d.push(await rawExec(container));
      for (let i = 0; i < opts.sessions; i++) t.push(await tskubeExec());
      for (let i = 0; i < opts.kubectl; i++) kc2.push(await kubectlExec(kubectl, cluster.kubeconfig, 'exec-bench'));
      d50.push(percentile(d, 50)); d99.push(percentile(d, 99)); t50.push(percentile(t, 50)); t99.push(percentile(t, 99)); k50.push(percentile(kc2, 50));
      say(`round ${r + 1}: tskube WebSocket p50 ${p(t, 50)} p99 ${p(t, 99)} | raw docker exec p50 ${p(d, 50)} p99 ${p(d, 99)} | kubectl exec p50 ${p(kc2, 50)}`);
    }
    say(`RESULT exec sessions=${opts.sessions} rounds=${opts.rounds}: tskube exec (WebSocket via apiserver → kubelet → CRI → Docker) p50 ${fmtMs2(median(t50))}, p99 ${fmtMs2(median(t99))}; ` +
      `raw dockerode exec p50 ${fmtMs2(median(d50))}, p99 ${fmtMs2(median(d99))}; ratio p50 ${(median(t50) / median(d50)).toFixed(2)}x, p99 ${(median(t99) / median(d99)).toFixed(2)}x; ` +
      `kubectl exec end to end p50 ${fmtMs2(median(k50))}`);
    client.close();
  } finally {
    await cluster.down();
  }
}
