/**
 * Probes and lifecycle hooks on real Docker: a real apiserver (etcd + apiserver in this
 * process), the kubelet in-process with the Docker runtime over gRPC, on a Docker network this
 * test creates (this process reaches pod IPs on it, as the kubelet container does on the
 * compose network), driven with the pinned kubectl 1.32.
 *
 * - liveness exec (`cat /tmp/healthy`, the file removed after 5 s) restarts the container:
 *   restartCount ≥ 1, Unhealthy + Killing events;
 * - a readiness exec probe flips Ready as a file comes and goes;
 * - httpGet (named port) / tcpSocket / startup httpGet against busybox httpd in the pod;
 *   a 404 turns the pod unready;
 * - postStart runs (a readiness probe waits for its marker file); on deletion preStop runs
 *   before SIGTERM: `kubectl logs -f` shows "bye from preStop" (written by the hook to the
 *   main process's stdout) before "got SIGTERM" (the main process's trap);
 * - a failing postStart hook: FailedPostStartHook and a restart;
 * - a sidecar (init container with restartPolicy Always) with startup/readiness/liveness
 *   probes: the app container starts only after the sidecar's startup probe passed, the
 *   sidecar's readiness shows in initContainerStatuses and the pod's Ready condition, and a
 *   liveness failure restarts the sidecar alone (also under restartPolicy Never).
 *
 * Needs Docker with POD_IMAGE (busybox with httpd) and PAUSE_IMAGE, the etcd binary and
 * kubectl 1.32. Every container carries tskube.cluster=<scope> and is removed in `after`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Pod } from '@tskube/api';
import { Resources } from '@tskube/client';
import { POD_IMAGE } from '../support/docker.js';
import { eventually, Kubectl } from '../support/kubectl.js';
import { NS, startKubeletStack, type KubeletStack } from '../support/kubelet-stack.js';

describe('probes and lifecycle hooks (real apiserver, Docker, kubectl 1.32)', () => {
  let stack: KubeletStack;
  let k: Kubectl;
  let nodeName: string;

  /** Runs kubectl and fails with its output unless it exits 0. */
  const kubectl = (args: string[], input?: string): Promise<string> => k.ok(args, { input });
  const pod = (name: string, containers: unknown[], extra: Record<string, unknown> = {}) => ({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: NS },
    spec: { nodeName, terminationGracePeriodSeconds: 1, containers, ...extra },
  });
  const getPod = (name: string): Promise<Pod> => stack.getPod(name);
  const ready = (p: Pod): string | undefined => p.status?.conditions?.find((c) => c.type === 'Ready')?.status;
  async function events(name: string): Promise<string[]> {
    return (await stack.admin.resource(Resources.events).list({ namespace: NS })).items
      .filter((e) => e.involvedObject.name === name).map((e) => `${e.type} ${e.reason}: ${e.message}`);
  }
  async function execIn(name: string, cmd: string[]): Promise<void> {
    const id = (await getPod(name)).status?.containerStatuses?.[0]?.containerID?.replace(/^docker:\/\//, '');
    assert.ok(id, `${name} has a container`);
    const r = await stack.runtime.execSync({ container_id: id, cmd, timeout: 10 });
    assert.equal(r.exit_code, 0, Buffer.from(r.stderr).toString());
  }

  before(async () => {
    stack = await startKubeletStack({ name: 'probes-it' });
    ({ nodeName, kubectl: k } = stack);

    // Every pod at once: the tests below watch them in parallel time.
    const exec = (cmd: string[], o: Record<string, number> = {}) => ({ exec: { command: cmd }, periodSeconds: 1, failureThreshold: 1, ...o });
    const list = {
      apiVersion: 'v1', kind: 'List', items: [
        pod('live', [{
          name: 'main', image: POD_IMAGE, command: ['sh', '-c', 'touch /tmp/healthy; sleep 5; rm -f /tmp/healthy; sleep 3600'],
          livenessProbe: exec(['cat', '/tmp/healthy'], { initialDelaySeconds: 1 }),
        }]),
        pod('ready', [{ name: 'main', image: POD_IMAGE, command: ['sleep', '3600'], readinessProbe: exec(['cat', '/tmp/ready']) }]),
        pod('web', [{
          name: 'httpd', image: POD_IMAGE, command: ['sh', '-c', 'mkdir -p /www && echo ok > /www/healthz && exec httpd -f -p 8080 -h /www'],
          ports: [{ name: 'http', containerPort: 8080 }],
          startupProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 1, failureThreshold: 10 },
          readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 1, failureThreshold: 1 },
          livenessProbe: { tcpSocket: { port: 'http' }, periodSeconds: 1 },
        }]),
        pod('hooks', [{
          name: 'main', image: POD_IMAGE,
          command: ['sh', '-c', "trap 'echo got SIGTERM; exit 0' TERM; echo started; while true; do sleep 1; done"],
          readinessProbe: exec(['cat', '/tmp/poststart']),
          lifecycle: {
            postStart: { exec: { command: ['sh', '-c', 'echo ran > /tmp/poststart'] } },
            preStop: { exec: { command: ['sh', '-c', 'echo bye from preStop > /proc/1/fd/1; sleep 1'] } },
          },
        }], { terminationGracePeriodSeconds: 10 }),
        // A sidecar with all three probes; restartPolicy Never: the sidecar restarts anyway.
        pod('sidecar', [{ name: 'main', image: POD_IMAGE, command: ['sleep', '3600'] }], {
          restartPolicy: 'Never',
          initContainers: [{
            name: 'proxy', image: POD_IMAGE, restartPolicy: 'Always',
            command: ['sh', '-c', 'touch /tmp/alive; sleep 5; touch /tmp/started; exec sleep 3600'],
            startupProbe: exec(['cat', '/tmp/started'], { failureThreshold: 30 }),
            readinessProbe: exec(['cat', '/tmp/ready']),
            livenessProbe: exec(['cat', '/tmp/alive']),
          }],
        }),
        pod('badhook', [{
          name: 'main', image: POD_IMAGE, command: ['sleep', '3600'],
          lifecycle: { postStart: { exec: { command: ['sh', '-c', 'echo no >&2; exit 3'] } } },
        }]),
      ],
    };
    await kubectl(['apply', '-f', '-'], JSON.stringify(list));
  });

  after(async () => {
    await stack?.stop();
  });

  it('a failing liveness exec probe restarts the container (Unhealthy, Killing, restartCount 1)', async (t) => {
    const p = await eventually('live restarted', async () => {
      const x = await getPod('live');
      return (x.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1 ? x : undefined;
    }, 40_000, 250);
    assert.equal(p.status?.containerStatuses?.[0]?.lastState?.terminated?.exitCode, 137, 'sh ignores SIGTERM: killed after the grace period');
    const evs = await eventually('probe events', async () => {
      const e = await events('live');
      return e.some((x) => x.startsWith('Warning Unhealthy: Liveness probe failed: cat: can\'t open \'/tmp/healthy\': No such file or directory'))
        && e.includes('Normal Killing: Container main failed liveness probe, will be restarted') ? e : undefined;
    }, 10_000, 250);
    t.diagnostic(evs.join('\n'));
    t.diagnostic(await kubectl(['get', 'pod', 'live']));
  });

  it('a readiness exec probe drives ready and the Ready condition', async (t) => {
    const first = await eventually('ready Running', async () => { const x = await getPod('ready'); return x.status?.phase === 'Running' ? x : undefined; }, 30_000, 250);
    assert.equal(first.status?.containerStatuses?.[0]?.ready, false);
    assert.equal(ready(first), 'False');
    t.diagnostic(await kubectl(['get', 'pod', 'ready']));
    await execIn('ready', ['touch', '/tmp/ready']);
    await eventually('Ready True', async () => ready(await getPod('ready')) === 'True', 15_000, 200);
    t.diagnostic(await kubectl(['get', 'pod', 'ready']));
    await execIn('ready', ['rm', '/tmp/ready']);
    const down = await eventually('Ready False', async () => { const x = await getPod('ready'); return ready(x) === 'False' ? x : undefined; }, 15_000, 200);
    assert.equal(down.status?.containerStatuses?.[0]?.restartCount, 0);
    assert.equal(down.status?.conditions?.find((c) => c.type === 'ContainersReady')?.message, 'containers with unready status: [main]');
  });

  it('httpGet (named port), tcpSocket and startup probes against busybox httpd in the pod', async (t) => {
    const up = await eventually('web Ready', async () => { const x = await getPod('web'); return ready(x) === 'True' ? x : undefined; }, 30_000, 250);
    assert.equal(up.status?.containerStatuses?.[0]?.started, true);
    await execIn('web', ['rm', '/www/healthz']);
    await eventually('web not Ready', async () => ready(await getPod('web')) === 'False', 15_000, 200);
    const evs = await eventually('Unhealthy 404', async () => {
      const e = await events('web');
      return e.includes('Warning Unhealthy: Readiness probe failed: HTTP probe failed with statuscode: 404') ? e : undefined;
    }, 10_000, 250);
    assert.ok(!evs.some((e) => e.includes('Liveness probe failed')), 'the TCP liveness probe keeps passing');
    const p = await getPod('web');
    assert.equal(p.status?.containerStatuses?.[0]?.restartCount, 0);
    t.diagnostic((await kubectl(['describe', 'pod', 'web'])).split('\n').filter((l) => /Liveness|Readiness|Startup|Ready|Unhealthy/.test(l)).join('\n'));
  });

  it('postStart runs before the container counts as started; preStop runs before SIGTERM on deletion', async (t) => {
    await eventually('hooks Ready (postStart wrote its marker)', async () => ready(await getPod('hooks')) === 'True', 30_000, 250);
    const following = k.run(['logs', '-f', 'hooks'], { timeoutMs: 40_000 });
    await new Promise((r) => setTimeout(r, 1500));
    await kubectl(['delete', 'pod', 'hooks', '--wait=false']);
    const out = await following;
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout, 'started\nbye from preStop\ngot SIGTERM\n');
    t.diagnostic(`kubectl logs -f hooks:\n${out.stdout}`);
    await eventually('hooks gone', async () => { try { await getPod('hooks'); return false; } catch { return true; } }, 30_000, 250);
  });

  it('sidecar probes: the app starts after the startup probe; readiness gates Ready; a liveness failure restarts the sidecar', async (t) => {
    const proxy = (p: Pod) => p.status?.initContainerStatuses?.find((c) => c.name === 'proxy');
    const main = (p: Pod) => p.status?.containerStatuses?.find((c) => c.name === 'main');
    // Running but not past its startup probe: not started, the app waits (PodInitializing).
    const early = await eventually('proxy running, not started', async () => {
      const x = await getPod('sidecar');
      return proxy(x)?.state?.running ? x : undefined;
    }, 30_000, 200);
    if (!main(early)?.state?.running) {
      assert.equal(proxy(early)?.started, false);
      assert.equal(main(early)?.state?.waiting?.reason, 'PodInitializing');
      assert.equal(early.status?.phase, 'Pending');
    }
    const up = await eventually('main running', async () => {
      const x = await getPod('sidecar');
      return main(x)?.state?.running ? x : undefined;
    }, 30_000, 250);
    const gap = Date.parse(main(up)!.state!.running!.startedAt!) - Date.parse(proxy(up)!.state!.running!.startedAt!);
    assert.ok(gap >= 4000, `the app started ${gap} ms after the sidecar: it must wait for the startup probe (5 s)`);
    assert.equal(proxy(up)?.started, true);
    // Started, but its readiness probe fails: the sidecar and the pod are not ready.
    const unready = await eventually('ContainersReady names proxy', async () => {
      const x = await getPod('sidecar');
      return x.status?.conditions?.find((c) => c.type === 'ContainersReady')?.message === 'containers with unready status: [proxy]' ? x : undefined;
    }, 15_000, 250);
    assert.equal(proxy(unready)?.ready, false);
    assert.equal(ready(unready), 'False');
    t.diagnostic(await kubectl(['get', 'pod', 'sidecar']));
    const execInProxy = async (cmd: string[]): Promise<void> => {
      const id = proxy(await getPod('sidecar'))?.containerID?.replace(/^docker:\/\//, '');
      assert.ok(id, 'proxy has a container');
      const r = await stack.runtime.execSync({ container_id: id, cmd, timeout: 10 });
      assert.equal(r.exit_code, 0, Buffer.from(r.stderr).toString());
    };
    await execInProxy(['touch', '/tmp/ready']);
    const readyNow = await eventually('pod Ready', async () => { const x = await getPod('sidecar'); return ready(x) === 'True' ? x : undefined; }, 15_000, 200);
    assert.equal(proxy(readyNow)?.ready, true);
    t.diagnostic(await kubectl(['get', 'pod', 'sidecar']));
    // Liveness fails: the sidecar (only) is restarted, even under restartPolicy Never, and
    // is probed again: started once its startup probe passes anew.
    await execInProxy(['rm', '/tmp/alive']);
    const restarted = await eventually('proxy restarted and started again', async () => {
      const x = await getPod('sidecar');
      const c = proxy(x);
      return (c?.restartCount ?? 0) >= 1 && c?.started === true ? x : undefined;
    }, 40_000, 250);
    assert.equal(main(restarted)?.restartCount, 0, 'the app keeps running');
    assert.equal(ready(restarted), 'False', 'the new sidecar instance has no /tmp/ready');
    const evs = await events('sidecar');
    assert.ok(evs.some((e) => e.startsWith("Warning Unhealthy: Liveness probe failed: cat: can't open '/tmp/alive'")), evs.join('\n'));
    assert.ok(evs.includes('Normal Killing: Init container proxy failed liveness probe'), evs.join('\n'));
    assert.ok(evs.some((e) => e.startsWith('Warning Unhealthy: Startup probe failed:')), 'the startup probe failed while the sidecar slept');
    t.diagnostic(evs.join('\n'));
    t.diagnostic(await kubectl(['get', 'pod', 'sidecar', '-o', 'jsonpath={range .status.initContainerStatuses[*]}{.name} started={.started} ready={.ready} restarts={.restartCount}{"\\n"}{end}']));
  });

  it('a failing postStart hook kills the container: FailedPostStartHook, and it restarts', async (t) => {
    await eventually('badhook restarted', async () => ((await getPod('badhook')).status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1, 30_000, 250);
    const evs = await eventually('hook events', async () => {
      const e = await events('badhook');
      return e.includes('Warning FailedPostStartHook: PostStartHook failed') && e.includes('Normal Killing: FailedPostStartHook') ? e : undefined;
    }, 10_000, 250);
    t.diagnostic(evs.join('\n'));
  });
});
