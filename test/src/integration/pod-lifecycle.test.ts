/**
 * Pod lifecycle details on a real apiserver (etcd + apiserver in this process), real Docker
 * through gRPC and the kubelet in this process, driven with the pinned kubectl 1.32:
 * - a container over its 32Mi memory limit is OOMKilled (terminated reason OOMKilled, 137);
 * - cpu/memory limits and the security context reach Docker (`docker inspect` HostConfig);
 * - runAsUser/runAsGroup/supplementalGroups (`id`), readOnlyRootFilesystem (a write fails),
 *   capabilities drop;
 * - a sidecar (init container with restartPolicy Always) runs next to the app, is listed in
 *   initContainerStatuses, and is stopped after the app when the pod is deleted;
 * - a termination message from the file and FallbackToLogsOnError;
 * - activeDeadlineSeconds fails the pod with DeadlineExceeded and kills its containers.
 *
 * The kubelet root is a temporary directory (the Docker host is this machine, so the
 * termination-log files the kubelet creates are the bind-mount sources Docker sees). Needs
 * Docker with POD_IMAGE/PAUSE_IMAGE, the etcd binary and kubectl 1.32; every container
 * (tskube.cluster=<scope>) is removed in `after`.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Pod } from '@tskube/api';
import { POD_IMAGE, scopeContainers } from '../support/docker.js';
import { Kubectl, eventually } from '../support/kubectl.js';
import { startKubeletStack, type KubeletStack } from '../support/kubelet-stack.js';

describe('pod lifecycle details (real apiserver, Docker, kubectl 1.32)', () => {
  let stack: KubeletStack;
  let k: Kubectl;
  let nodeName: string;

  before(async () => {
    stack = await startKubeletStack({ name: 'lifecycle-it', rootDir: true, timing: { resyncMs: 3000 } });
    ({ nodeName, kubectl: k } = stack);
  });

  after(async () => {
    await stack?.stop();
  });

  /** Runs kubectl and fails with its output unless it exits 0. */
  const kubectl = (args: string[], input?: string): Promise<string> => k.ok(args, { input });
  const apply = (obj: unknown): Promise<string> => kubectl(['apply', '-f', '-'], JSON.stringify(obj));
  const pod = (name: string, spec: Record<string, unknown>) => ({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' },
    spec: { nodeName, terminationGracePeriodSeconds: 1, ...spec },
  });
  async function getPod(name: string): Promise<Pod> {
    return JSON.parse(await kubectl(['get', 'pod', name, '-o', 'json'])) as Pod;
  }
  async function waitPod(name: string, what: string, ok: (p: Pod) => boolean, timeoutMs = 45_000): Promise<Pod> {
    return eventually(`pod ${name}: ${what}`, async () => {
      const p = await getPod(name);
      return ok(p) ? p : undefined;
    }, timeoutMs, 500);
  }
  async function logsOf(name: string, container?: string): Promise<string> {
    return kubectl(['logs', name, ...(container ? ['-c', container] : [])]);
  }
  /** docker inspect of the pod's (newest) container by name. */
  async function inspect(podName: string, container: string) {
    const list = await eventually(`a Docker container for ${podName}/${container}`, async () => {
      const l = await scopeContainers(stack.scope, { 'io.kubernetes.pod.name': podName, 'io.kubernetes.container.name': container });
      return l.length > 0 ? l : undefined;
    }, 30_000, 200);
    return stack.scope.docker.getContainer(list[0]!.Id).inspect();
  }

  it('a container over its memory limit is OOMKilled; cpu and memory limits reach Docker', async () => {
    await apply(pod('oom', {
      restartPolicy: 'Never',
      containers: [{
        name: 'hog', image: POD_IMAGE, command: ['sh', '-c', 'sleep 1; x=$(head -c 100000000 /dev/zero | tr "\\0" a); echo survived'],
        resources: { limits: { memory: '32Mi', cpu: '500m' }, requests: { memory: '16Mi', cpu: '250m' } },
      }],
    }));
    const hc = (await inspect('oom', 'hog')).HostConfig;
    assert.equal(hc.Memory, 32 * 1024 * 1024);
    assert.equal(hc.MemorySwap, 32 * 1024 * 1024, 'no swap');
    assert.equal(hc.CpuQuota, 50_000);
    assert.equal(hc.CpuPeriod, 100_000);
    assert.equal(hc.CpuShares, 256);
    assert.ok((hc.OomScoreAdj ?? 0) > 0 && (hc.OomScoreAdj ?? 0) < 1000, `Burstable oom_score_adj, got ${hc.OomScoreAdj}`);
    const p = await waitPod('oom', 'Failed', (x) => x.status?.phase === 'Failed');
    const t = p.status?.containerStatuses?.[0]?.state?.terminated;
    assert.equal(t?.reason, 'OOMKilled');
    assert.equal(t?.exitCode, 137);
    const reason = await kubectl(['get', 'pod', 'oom', '-o', 'jsonpath={.status.containerStatuses[0].state.terminated.reason}']);
    assert.equal(reason, 'OOMKilled');
  });

  it('securityContext: runAsUser/runAsGroup/supplementalGroups, readOnlyRootFilesystem, capabilities, no-new-privileges', async () => {
    await apply(pod('secure', {
      restartPolicy: 'Never',
      securityContext: { runAsUser: 2000, runAsGroup: 3000, supplementalGroups: [4000] },
      containers: [{
        name: 'main', image: POD_IMAGE,
        command: ['sh', '-c', 'echo "uid=$(id -u) gid=$(id -g) groups=$(id -G)"; if touch /probe 2>/dev/null; then echo write=ok; else echo write=denied; fi; echo tmp-ok > /dev/termination-log'],
        securityContext: {
          runAsUser: 1000, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false,
          capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] },
        },
      }],
    }));
    await waitPod('secure', 'Succeeded', (x) => x.status?.phase === 'Succeeded');
    const out = await logsOf('secure');
    assert.match(out, /^uid=1000 gid=3000 groups=3000 4000$/m, 'container runAsUser wins, pod group and supplemental groups apply');
    assert.match(out, /^write=denied$/m, 'the root filesystem is read-only');
    const info = await inspect('secure', 'main');
    assert.equal(info.Config.User, '1000:3000');
    assert.equal(info.HostConfig.ReadonlyRootfs, true);
    assert.deepEqual(info.HostConfig.CapDrop, ['ALL']);
    assert.deepEqual(info.HostConfig.CapAdd, ['NET_BIND_SERVICE']);
    assert.deepEqual(info.HostConfig.SecurityOpt, ['no-new-privileges']);
    assert.deepEqual(info.HostConfig.GroupAdd, ['4000']);
    // The termination-log mount stays writable on a read-only root, for any user.
    const p = await getPod('secure');
    assert.equal(p.status?.containerStatuses?.[0]?.state?.terminated?.message, 'tmp-ok\n');
  });

  it('a sidecar runs next to the app, shows in initContainerStatuses, and is stopped after the app', async () => {
    await apply(pod('sidecar', {
      initContainers: [
        { name: 'proxy', image: POD_IMAGE, restartPolicy: 'Always', command: ['sh', '-c', 'trap "echo proxy-stopping; exit 0" TERM; echo proxy-up; while true; do sleep 0.2; done'] },
        { name: 'setup', image: POD_IMAGE, command: ['sh', '-c', 'echo setup-done'] },
      ],
      containers: [{ name: 'app', image: POD_IMAGE, command: ['sh', '-c', 'trap "echo app-stopping; exit 0" TERM; while true; do sleep 0.2; done'] }],
    }));
    const p = await waitPod('sidecar', 'Running with the sidecar ready', (x) => x.status?.phase === 'Running'
      && x.status.conditions?.find((c) => c.type === 'Ready')?.status === 'True');
    const inits = p.status?.initContainerStatuses ?? [];
    assert.deepEqual(inits.map((s) => s.name), ['proxy', 'setup']);
    assert.ok(inits[0]?.state?.running, 'the sidecar keeps running');
    assert.equal(inits[0]?.ready, true);
    assert.equal(inits[0]?.started, true);
    assert.equal(inits[1]?.state?.terminated?.reason, 'Completed');
    assert.equal(p.status?.conditions?.find((c) => c.type === 'Initialized')?.status, 'True');
    assert.match(await kubectl(['get', 'pod', 'sidecar']), /sidecar\s+2\/2\s+Running/, 'kubectl counts the sidecar in READY');
    // Deletion stops both (the order is checked below).
    await kubectl(['delete', 'pod', 'sidecar', '--wait=false']);
    await eventually('sidecar and app stopped', async () => {
      const [a, s] = await Promise.all([
        scopeContainers(stack.scope, { 'io.kubernetes.pod.name': 'sidecar', 'io.kubernetes.container.name': 'app' }),
        scopeContainers(stack.scope, { 'io.kubernetes.pod.name': 'sidecar', 'io.kubernetes.container.name': 'proxy' }),
      ]);
      return (a.length === 0 || a.every((c) => c.State !== 'running')) && (s.length === 0 || s.every((c) => c.State !== 'running')) ? true : undefined;
    }, 30_000, 200);
  });

  it('sidecar order on deletion: the app finished before the sidecar got SIGTERM', async (t) => {
    // Recorded in a hostPath directory of the test's (an emptyDir is torn down as soon as the
    // containers are gone, which can be before the test reads it): each container appends when
    // it gets SIGTERM.
    const logDir = mkdtempSync(join(tmpdir(), 'sidecar-order-'));
    t.after(() => rmSync(logDir, { recursive: true, force: true }));
    await apply(pod('order', {
      terminationGracePeriodSeconds: 5,
      volumes: [{ name: 'log', hostPath: { path: logDir, type: 'Directory' } }],
      initContainers: [{
        name: 'proxy', image: POD_IMAGE, restartPolicy: 'Always', volumeMounts: [{ name: 'log', mountPath: '/log' }],
        command: ['sh', '-c', 'trap "echo proxy >> /log/order; exit 0" TERM; while true; do sleep 0.1; done'],
      }],
      containers: [{
        name: 'app', image: POD_IMAGE, volumeMounts: [{ name: 'log', mountPath: '/log' }],
        command: ['sh', '-c', 'trap "sleep 1; echo app >> /log/order; exit 0" TERM; while true; do sleep 0.1; done'],
        lifecycle: { preStop: { exec: { command: ['sh', '-c', 'true'] } } },
      }],
    }));
    await waitPod('order', 'Running', (x) => x.status?.phase === 'Running' && (x.status.initContainerStatuses?.[0]?.state?.running !== undefined));
    await kubectl(['delete', 'pod', 'order', '--wait=false']);
    const order = await eventually('both stopped', async () => {
      const text = await readFile(join(logDir, 'order'), 'utf8').catch(() => '');
      return text.split('\n').filter(Boolean).length === 2 ? text : undefined;
    }, 30_000, 200);
    assert.deepEqual(order.split('\n').filter(Boolean), ['app', 'proxy']);
  });

  it('termination messages: from the file, and from the logs with FallbackToLogsOnError', async () => {
    await apply(pod('term', {
      restartPolicy: 'Never',
      containers: [
        { name: 'file', image: POD_IMAGE, command: ['sh', '-c', 'echo -n "all done: 42" > /dev/termination-log; exit 3'] },
        {
          name: 'custom', image: POD_IMAGE, terminationMessagePath: '/tmp/msg',
          command: ['sh', '-c', 'echo -n custom-path > /tmp/msg'],
        },
        {
          name: 'fallback', image: POD_IMAGE, terminationMessagePolicy: 'FallbackToLogsOnError',
          command: ['sh', '-c', 'for i in $(seq 1 100); do echo "line $i"; done; exit 1'],
        },
      ],
    }));
    const p = await waitPod('term', 'Failed', (x) => x.status?.phase === 'Failed');
    const byName = new Map((p.status?.containerStatuses ?? []).map((s) => [s.name, s.state?.terminated]));
    assert.equal(byName.get('file')?.message, 'all done: 42');
    assert.equal(byName.get('file')?.exitCode, 3);
    assert.equal(byName.get('custom')?.message, 'custom-path');
    const fb = byName.get('fallback')?.message ?? '';
    assert.ok(fb.startsWith('line 21\n') && fb.endsWith('line 100\n'), `the last 80 log lines, got ${JSON.stringify(fb.slice(0, 40))}…`);
    const described = await kubectl(['describe', 'pod', 'term']);
    assert.match(described, /Message:\s+all done: 42/);
  });

  it('activeDeadlineSeconds: the pod fails with DeadlineExceeded and its containers are killed', async () => {
    await apply(pod('deadline', {
      activeDeadlineSeconds: 5,
      containers: [{ name: 'main', image: POD_IMAGE, command: ['sh', '-c', 'while true; do sleep 0.2; done'] }],
    }));
    const started = Date.now();
    await waitPod('deadline', 'started', (x) => x.status?.startTime !== undefined);
    const failed = await waitPod('deadline', 'Failed', (x) => x.status?.phase === 'Failed', 30_000);
    assert.equal(failed.status?.reason, 'DeadlineExceeded');
    assert.ok(Date.now() - started >= 3000, 'not before the deadline');
    const p = await waitPod('deadline', 'its container terminated', (x) => x.status?.containerStatuses?.[0]?.state?.terminated !== undefined);
    assert.equal(p.status?.phase, 'Failed');
    assert.equal(p.status?.reason, 'DeadlineExceeded');
    assert.equal(p.status?.message, 'Pod was active on the node longer than the specified deadline');
    assert.ok(p.status?.containerStatuses?.[0]?.state?.terminated, 'the container is terminated');
    const containers = await scopeContainers(stack.scope, { 'io.kubernetes.pod.name': 'deadline', 'io.kubernetes.container.name': 'main' });
    assert.ok(containers.every((c) => c.State !== 'running'), 'nothing of the pod runs');
    assert.equal(await kubectl(['get', 'pod', 'deadline', '-o', 'jsonpath={.status.phase}/{.status.reason}']), 'Failed/DeadlineExceeded');
  });
});
