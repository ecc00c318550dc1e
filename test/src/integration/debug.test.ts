/**
 * `kubectl debug` end to end with the pinned real kubectl 1.32: ephemeral containers through
 * the pods/ephemeralcontainers subresource (kubectl sends a strategic merge patch of
 * spec.ephemeralContainers), started by the kubelet in the target's PID namespace, attached to
 * with `-it`, their logs; the 422s of the subresource; `debug node/<node>` (a hostNetwork/
 * hostPID/hostIPC pod with the node's / at /host); `--copy-to` (a protobuf-encoded pod create).
 *
 * Real apiserver + etcd, the kubelet in this process on the Docker runtime over gRPC (as
 * exec.test.ts). Needs Docker with POD_IMAGE (local/busybox:1) and PAUSE_IMAGE, the etcd
 * binary, kubectl.1.32 beside the kubectl on PATH, and `script` (util-linux) for the pty. Every
 * container carries tskube.cluster=<scope> and is removed in `after`.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Pod } from '@tskube/api';
import { Resources, type Client } from '@tskube/client';
import { POD_IMAGE, scopeContainers } from '../support/docker.js';
import { credsFromKubeconfig, request, type Creds } from '../support/http.js';
import { eventually, Kubectl } from '../support/kubectl.js';
import { NS, startKubeletStack, type KubeletStack } from '../support/kubelet-stack.js';
const POD_PATH = `/api/v1/namespaces/${NS}/pods`;

function requireScript(): void {
  try {
    execFileSync('sh', ['-c', 'command -v script'], { encoding: 'utf8' });
  } catch {
    throw new Error('`script` (util-linux) is needed to give kubectl debug -t a pty: apt-get install util-linux');
  }
}

/**
 * Runs a command under `script` (a pty), answering prompts: each step waits for its regex in
 * the output since the previous step typed, then types its input. Resolves with the exit code
 * and the whole output.
 */
function underPty(cmd: string, steps: Array<[RegExp, string]>, timeoutMs = 30_000): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = spawn('script', ['-qefc', cmd, '/dev/null'], { stdio: 'pipe' });
    let out = '';
    let next = 0;
    let mark = 0;
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      while (next < steps.length && steps[next]![0].test(out.slice(mark))) {
        mark = out.length;
        child.stdin.write(steps[next++]![1]);
      }
    });
    child.on('close', (code) => { clearTimeout(timer); resolve({ code: code ?? 1, out }); });
  });
}

describe('kubectl debug: ephemeral containers, node debugging, --copy-to (kubectl 1.32, Docker)', () => {
  let stack: KubeletStack;
  let admin: Client;
  let creds: Creds;
  let nodeName: string;
  let k: Kubectl;

  const getPod = (name: string): Promise<Pod> => admin.resource(Resources.pods).get(NS, name);
  /** The Docker container of a pod's container (by the kubelet's labels). */
  const dockerContainer = async (pod: string, container: string) => {
    const [c] = await scopeContainers(stack.scope, { 'io.kubernetes.pod.name': pod, 'io.kubernetes.container.name': container });
    assert.ok(c, `no Docker container for ${pod}/${container}`);
    return stack.scope.docker.getContainer(c.Id).inspect();
  };

  before(async () => {
    requireScript();
    // a root dir: pod volumes (the node debugging pod's hostPath) are set up
    stack = await startKubeletStack({ name: 'debug-it', rootDir: true });
    ({ admin, nodeName, kubectl: k } = stack);
    creds = credsFromKubeconfig(stack.api.kubeconfig);
    await stack.createRunningPod('box');
  });

  after(async () => {
    await stack?.stop();
  });

  it('discovery lists pods/ephemeralcontainers (get, patch, update; kind Pod)', async () => {
    const list = (await request(creds, 'GET', '/api/v1')).json<{ resources: Array<{ name: string; kind: string; verbs: string[] }> }>();
    const ec = list.resources.find((r) => r.name === 'pods/ephemeralcontainers');
    assert.deepEqual(ec && { kind: ec.kind, verbs: [...ec.verbs].sort() }, { kind: 'Pod', verbs: ['get', 'patch', 'update'] });
  });

  it('debug -it --target=main: ps in the ephemeral container sees the target\'s process; exit ends kubectl', async () => {
    const cmd = `${k.bin} --kubeconfig ${stack.api.kubeconfig} --cache-dir ${join(stack.dir, 'cache-it')} debug -it box --image=${POD_IMAGE} --target=main --container=dbg-it -- sh`;
    // busybox's prompt is "/ # " (followed by an erase-line sequence)
    const r = await underPty(cmd, [[/\/ # /, 'ps\r'], [/COMMAND[\s\S]*\/ # /, 'exit 0\r']]);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /Targeting container "main"/, r.out);
    assert.match(r.out, /\d+ root +sleep 3600\r\n/, `the target's sleep is in the ps output: ${r.out}`);
    const pod = await eventually('dbg-it terminated', async () => {
      const p = await getPod('box');
      return p.status?.ephemeralContainerStatuses?.find((c) => c.name === 'dbg-it')?.state?.terminated ? p : undefined;
    }, 15_000, 200);
    const ec = pod.spec?.ephemeralContainers?.find((c) => c.name === 'dbg-it');
    assert.deepEqual([ec?.targetContainerName, ec?.stdin, ec?.tty, ec?.imagePullPolicy], ['main', true, true, 'IfNotPresent']);
    const st = pod.status?.ephemeralContainerStatuses?.find((c) => c.name === 'dbg-it');
    assert.deepEqual([st?.ready, st?.restartCount, st?.state?.terminated?.exitCode], [false, 0, 0]);
    assert.equal(pod.status?.phase, 'Running');
    const main = await dockerContainer('box', 'main');
    assert.equal((await dockerContainer('box', 'dbg-it')).HostConfig.PidMode, `container:${main.Id}`);
  });

  it('debug without -i runs a command once; kubectl logs shows its output', async () => {
    const r = await k.run(['debug', 'box', `--image=${POD_IMAGE}`, '--container=hello', '--', 'sh', '-c', 'echo hi from debug; exit 3']);
    assert.equal(r.code, 0, r.stderr);
    await eventually('hello terminated', async () =>
      (await getPod('box')).status?.ephemeralContainerStatuses?.find((c) => c.name === 'hello')?.state?.terminated?.exitCode === 3, 15_000, 200);
    assert.equal(await k.ok(['logs', 'box', '-c', 'hello']), 'hi from debug\n');
    // never restarted: one Docker container for it
    assert.equal((await scopeContainers(stack.scope, { 'io.kubernetes.pod.name': 'box', 'io.kubernetes.container.name': 'hello' })).length, 1);
    const bad = await k.run(['debug', 'box', `--image=${POD_IMAGE}`, '--target=nosuch', '--', 'true']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /The Pod "box" is invalid: spec\.ephemeralContainers\[\d+\]\.targetContainerName: Not found: "nosuch"/, bad.stderr);
  });

  it('the subresource: GET; 422 for forbidden fields, removals and changes; the pod itself refuses ephemeral containers', async () => {
    const got = await request(creds, 'GET', `${POD_PATH}/box/ephemeralcontainers`);
    assert.equal(got.status, 200);
    assert.equal(got.json().kind, 'Pod');
    const n = ((await getPod('box')).spec?.ephemeralContainers ?? []).length;
    assert.ok(n >= 1);
    const smp = (ec: Record<string, unknown>) => request(creds, 'PATCH', `${POD_PATH}/box/ephemeralcontainers`, {
      contentType: 'application/strategic-merge-patch+json', body: JSON.stringify({ spec: { ephemeralContainers: [{ image: POD_IMAGE, ...ec }] } }),
    });
    const causes = (r: Awaited<ReturnType<typeof request>>) => {
      assert.equal(r.status, 422, r.body);
      const s = r.json<{ reason: string; details: { kind: string; name: string; causes: Array<{ field: string; message: string }> } }>();
      assert.deepEqual([s.reason, s.details.kind, s.details.name], ['Invalid', 'Pod', 'box']);
      return s.details.causes.map((c) => `${c.field}: ${c.message}`);
    };
    // A patch without $setElementOrder puts its new item first (upstream's list order rules).
    assert.deepEqual(causes(await smp({ name: 'p1', ports: [{ containerPort: 80 }], readinessProbe: { exec: { command: ['true'] } } })), [
      'spec.ephemeralContainers[0].ports: Forbidden: cannot be set for an Ephemeral Container',
      'spec.ephemeralContainers[0].readinessProbe: Forbidden: cannot be set for an Ephemeral Container',
    ]);
    assert.deepEqual(causes(await smp({ name: 'r1', resources: { limits: { cpu: '1' } } })),
      ['spec.ephemeralContainers[0].resources: Forbidden: cannot be set for an Ephemeral Container']);
    assert.deepEqual(causes(await smp({ name: 'main' })), ['spec.ephemeralContainers[0].name: Duplicate value: "main"']);
    const removal = await request(creds, 'PATCH', `${POD_PATH}/box/ephemeralcontainers`, {
      contentType: 'application/json-patch+json', body: JSON.stringify([{ op: 'remove', path: '/spec/ephemeralContainers/0' }]),
    });
    assert.match(causes(removal)[0]!, /^spec\.ephemeralContainers: Forbidden: existing ephemeral containers "[a-z0-9-]+" may not be removed/);
    const live = got.json<Pod>();
    live.spec!.ephemeralContainers![0]!.image = 'local/busybox:2';
    const changed = await request(creds, 'PUT', `${POD_PATH}/box/ephemeralcontainers`, { body: JSON.stringify(live) });
    assert.match(causes(changed)[0]!, /^spec\.ephemeralContainers: Forbidden: existing ephemeral containers "[a-z0-9-]+" may not be changed/);
    const viaPod = await request(creds, 'PATCH', `${POD_PATH}/box`, {
      contentType: 'application/strategic-merge-patch+json', body: JSON.stringify({ spec: { ephemeralContainers: [{ name: 'sneaky', image: POD_IMAGE }] } }),
    });
    assert.match(causes(viaPod)[0]!, /^spec: Forbidden: pod updates may not change fields other than `spec\.containers\[\*\]\.image`/);
    const merge = await request(creds, 'PATCH', `${POD_PATH}/box/ephemeralcontainers`, {
      contentType: 'application/merge-patch+json', body: JSON.stringify({ metadata: { labels: { dropped: 'yes' } } }),
    });
    assert.equal(merge.status, 200, merge.body);
    assert.equal(merge.json<Pod>().metadata?.labels?.dropped, undefined, 'only spec.ephemeralContainers changes through the subresource');
  });

  it('debug node/<node>: a hostNetwork/hostPID/hostIPC pod on the node with its / at /host', async () => {
    const marker = join(stack.dir, 'node-marker');
    writeFileSync(marker, 'seen from the node\n');
    const input = `cat /host${marker}; cat /proc/1/comm; exit 0\n`;
    const r = await k.run(['debug', `node/${nodeName}`, '-i', `--image=${POD_IMAGE}`, '--', 'sh'], { input, timeoutMs: 45_000 });
    assert.equal(r.code, 0, r.stderr);
    const name = /Creating debugging pod (node-debugger-\S+) with container debugger on node/.exec(r.stdout + r.stderr)?.[1];
    assert.ok(name, r.stdout + r.stderr);
    const hostInit = readFileSync('/proc/1/comm', 'utf8');
    assert.equal(r.stdout.slice(r.stdout.indexOf('seen from')), `seen from the node\n${hostInit}`, 'the node\'s files and its PID namespace');
    const pod = await getPod(name);
    assert.deepEqual([pod.spec?.hostNetwork, pod.spec?.hostPID, pod.spec?.hostIPC, pod.spec?.nodeName, pod.spec?.restartPolicy], [true, true, true, nodeName, 'Never']);
    assert.deepEqual(pod.spec?.volumes?.find((v) => v.hostPath)?.hostPath, { path: '/', type: '' });
    const c = await dockerContainer(name, 'debugger');
    assert.deepEqual([c.HostConfig.NetworkMode, c.HostConfig.PidMode, c.HostConfig.IpcMode], ['host', 'host', 'host']);
    await eventually(`${name} Succeeded`, async () => (await getPod(name)).status?.phase === 'Succeeded', 15_000, 200);
    await k.ok(['delete', 'pod', name, '--wait=false']);
  });

  it('debug --copy-to: a copy of the pod with a debug container (created with a protobuf body)', async () => {
    const r = await k.run(['debug', 'box', '--copy-to=box-copy', `--image=${POD_IMAGE}`, '--container=copy-dbg', '--', 'sh', '-c', 'echo copied']);
    assert.equal(r.code, 0, r.stderr);
    const copy = await getPod('box-copy');
    assert.deepEqual(copy.spec?.containers.map((c) => c.name), ['main', 'copy-dbg']);
    assert.equal(copy.spec?.ephemeralContainers, undefined);
    assert.equal(copy.spec?.nodeName, undefined, 'kubectl clears nodeName unless --same-node');
    // no scheduler here: bind it as one would
    const bind = await request(creds, 'POST', `${POD_PATH}/box-copy/binding`, {
      body: JSON.stringify({ apiVersion: 'v1', kind: 'Binding', metadata: { name: 'box-copy' }, target: { kind: 'Node', name: nodeName } }),
    });
    assert.equal(bind.status, 201, bind.body);
    // restartPolicy Always (copied): it runs, exits and restarts; once it ran, its log is there
    await eventually('copy-dbg ran', async () => {
      const st = (await getPod('box-copy')).status?.containerStatuses?.find((c) => c.name === 'copy-dbg');
      return st?.state?.terminated !== undefined || st?.lastState?.terminated !== undefined;
    }, 20_000, 200);
    assert.equal(await k.ok(['logs', 'box-copy', '-c', 'copy-dbg']), 'copied\n');
    await k.ok(['delete', 'pod', 'box-copy', '--wait=false']);
  });
});
