/**
 * Streaming through the apiserver with the pinned real kubectl 1.32: exec (plain, stdin,
 * exit codes, errors), exec with a tty (under `script` for a pty, and driven directly over
 * WebSocket through the apiserver for resize), cp in and out (tar over exec), attach, and
 * `run -i --rm`; the same with kubectl 1.28, which speaks SPDY/3.1 (v4.channel.k8s.io)
 * instead of WebSocket.
 *
 * Path: kubectl ─WebSocket v5.channel.k8s.io (1.28: SPDY/3.1)─▶ apiserver pods/exec ─TLS, kubelet-client
 * cert─▶ kubelet /exec (in this process) ─CRI Exec over gRPC─▶ Docker runtime's streaming
 * server ─dockerode exec─▶ container.
 *
 * Needs Docker with POD_IMAGE (local/busybox:1) and PAUSE_IMAGE (local/pause:3.10), the
 * etcd binary, kubectl.1.32 and kubectl.1.28 beside the kubectl on PATH, and `script` (util-linux) for the
 * pty. Every container carries tskube.cluster=<scope> and is removed in `after`.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Pod } from '@tskube/api';
import { loadKubeconfig, Resources, type Client } from '@tskube/client';
import { exitCodeOf, StreamSession } from '@tskube/kubelet';
import { POD_IMAGE } from '../support/docker.js';
import { eventually, Kubectl, startPortForward } from '../support/kubectl.js';
import { NS, startKubeletStack, type KubeletStack } from '../support/kubelet-stack.js';

function requireScript(): string {
  try {
    return execFileSync('sh', ['-c', 'command -v script'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('`script` (util-linux) is needed to give kubectl exec -t a pty: apt-get install util-linux');
  }
}

describe('exec, attach, cp and run -i through the apiserver (kubectl 1.32, Docker)', () => {
  let stack: KubeletStack;
  let admin: Client;
  let nodeName: string;
  let k: Kubectl;

  before(async () => {
    requireScript();
    stack = await startKubeletStack({ name: 'exec-it' });
    ({ admin, nodeName, kubectl: k } = stack);
    // No controller-manager here: the "default" account the ServiceAccount admission wants is
    // made by hand, without token automount (nothing publishes kube-root-ca.crt either).
    await stack.ensureDefaultServiceAccount();
    await stack.createRunningPod('box');
  });

  after(async () => {
    await stack?.stop();
  });

  it('exec -- echo hi', async () => {
    const r = await k.run(['exec', 'box', '--', 'echo', 'hi']);
    assert.deepEqual({ code: r.code, stdout: r.stdout }, { code: 0, stdout: 'hi\n' }, r.stderr);
  });

  it('exec -i pipes stdin to cat (EOF ends it)', async () => {
    const input = 'hello\nworld\n'.repeat(2000);
    const r = await k.run(['exec', '-i', 'box', '--', 'cat'], { input });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, input);
  });

  it('propagates a non-zero exit code and keeps stdout/stderr apart', async () => {
    const r = await k.run(['exec', 'box', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    assert.equal(r.code, 3);
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\ncommand terminated with exit code 3\n');
  });

  it('errors: unknown container 400, missing pod 404, unscheduled 400, not running, a binary the image lacks exits 126', async () => {
    const bad = await k.run(['exec', 'box', '-c', 'nope', '--', 'true']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /Error from server \(BadRequest\): container nope is not valid for pod box/);
    const missing = await k.run(['exec', 'ghost', '--', 'true']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /Error from server \(NotFound\): pods "ghost" not found/);
    await admin.resource(Resources.pods).create(NS, {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'unscheduled', namespace: NS },
      spec: { containers: [{ name: 'main', image: POD_IMAGE }] },
    });
    const unscheduled = await k.run(['exec', 'unscheduled', '--', 'true']);
    assert.match(unscheduled.stderr, /Error from server \(BadRequest\): pod unscheduled does not have a host assigned/);
    await admin.resource(Resources.pods).create(NS, {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'neverpull', namespace: NS },
      spec: { nodeName, containers: [{ name: 'main', image: 'local/not-here:1', imagePullPolicy: 'Never' }] },
    });
    await eventually('neverpull waiting', async () => (await admin.resource(Resources.pods).get(NS, 'neverpull')).status?.containerStatuses?.[0]?.state?.waiting, 30_000, 200);
    const notRunning = await k.run(['exec', 'neverpull', '--', 'true']);
    assert.equal(notRunning.code, 1);
    assert.match(notRunning.stderr, /error: unable to upgrade connection: container not found \("main"\)/);
    // Docker reports an exec that cannot start as exit code 126 (dockershim did the same).
    const noBinary = await k.run(['exec', 'box', '--', '/no/such/binary']);
    assert.equal(noBinary.code, 126);
    assert.match(noBinary.stderr, /command terminated with exit code 126/);
  });

  it('exec -it with a pty (script): interactive sh, exit code of the shell', async () => {
    const cmd = `${k.bin} --kubeconfig ${stack.api.kubeconfig} exec -it box -- sh`;
    const out = await new Promise<{ code: number; stdout: string }>((resolve) => {
      const child = execFile('script', ['-qefc', cmd, '/dev/null'], { timeout: 30_000 }, (err, stdout) => {
        resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0, stdout });
      });
      // Type slowly enough for the shell to have its terminal set up.
      setTimeout(() => child.stdin?.write('echo A""B\r'), 1500);
      setTimeout(() => child.stdin?.write('exit 7\r'), 2500);
    });
    assert.match(out.stdout, /AB\r\n/, JSON.stringify(out.stdout));
    assert.equal(out.code, 7, JSON.stringify(out.stdout));
  });

  it('a tty session over WebSocket through the apiserver: resize reaches the terminal, pings are answered', async () => {
    const kc = loadKubeconfig(stack.api.kubeconfig);
    const q = new URLSearchParams([['command', 'sh'], ['stdin', 'true'], ['stdout', 'true'], ['tty', 'true']]);
    const s = StreamSession.open(`${stack.api.url}/api/v1/namespaces/${NS}/pods/box/exec?${q}`, {
      ws: { ...(kc.cert ? { cert: kc.cert } : {}), ...(kc.key ? { key: kc.key } : {}), ...(kc.ca ? { ca: kc.ca } : {}) },
    });
    await s.opened;
    s.resize(123, 45);
    await s.waitForStdout('# '); // the shell's prompt: it is reading input
    s.send('stty size\r');
    await s.waitForStdout('45 123');
    s.resize(90, 20);
    s.send('stty size\r');
    await s.waitForStdout('20 90');
    s.send('exit 0\r');
    const r = await s.done;
    assert.equal(r.protocol, 'v5.channel.k8s.io');
    assert.equal(exitCodeOf(r.status), 0);
  });

  it('cp a file into the pod and back out (tar over exec)', async () => {
    const local = join(stack.dir, 'payload.txt');
    const back = join(stack.dir, 'back.txt');
    const content = Array.from({ length: 5000 }, (_, i) => `line ${i}`).join('\n');
    writeFileSync(local, content);
    const into = await k.run(['cp', local, 'box:/tmp/payload.txt']);
    assert.equal(into.code, 0, into.stderr);
    assert.equal(await k.ok(['exec', 'box', '--', 'sh', '-c', 'wc -l < /tmp/payload.txt']), '4999\n');
    const out = await k.run(['cp', 'box:/tmp/payload.txt', back]);
    assert.equal(out.code, 0, out.stderr);
    assert.equal(readFileSync(back, 'utf8'), content);
  });

  it('attach streams the running container output', async () => {
    await stack.createRunningPod('talker', {
      containers: [{ name: 'main', image: POD_IMAGE, command: ['sh', '-c', 'i=0; while true; do echo tick $i; i=$((i+1)); sleep 1; done'] }],
    });
    await new Promise((r) => setTimeout(r, 2500)); // so "tick 0" is history by the time kubectl attaches
    const r = await k.run(['attach', 'talker'], { timeoutMs: 4000 });
    assert.match(r.stdout, /tick \d+\n/, `stdout ${JSON.stringify(r.stdout)} stderr ${r.stderr}`);
    assert.doesNotMatch(r.stdout, /tick 0\n/, 'attach shows output from now on, not the history');
  });

  it('run -i --rm --restart=Never: stdin reaches the container, the pod is deleted afterwards', async () => {
    const overrides = JSON.stringify({ apiVersion: 'v1', spec: { nodeName, terminationGracePeriodSeconds: 1 } });
    const r = await k.run([
      'run', 'once', '-i', '--rm', '--restart=Never', `--image=${POD_IMAGE}`, `--overrides=${overrides}`,
      '--', 'sh', '-c', 'read x; echo got-$x',
    ], { input: 'hello\n', timeoutMs: 60_000 });
    assert.equal(r.code, 0, `stdout ${r.stdout} stderr ${r.stderr}`);
    assert.match(r.stdout, /got-hello\n/);
    assert.match(r.stdout, /pod "once" deleted/);
    await eventually('once gone', async () => {
      try { await admin.resource(Resources.pods).get(NS, 'once'); return false; } catch { return true; }
    }, 30_000, 500);
  });

  /** Runs `kubectl port-forward` until it prints its local port, fetches `/` twice, then stops it. */
  async function portForwardFetch(kubectl: Kubectl, pod: string): Promise<string[]> {
    // -v=4 shows client-go's "fallback to secondary dialer" if the WebSocket tunnel is refused.
    const pf = await startPortForward(kubectl.bin, ['--kubeconfig', stack.api.kubeconfig, 'port-forward', `pod/${pod}`, ':8080', '-v=4'], 8080);
    try {
      const port = pf.port;
      const bodies: string[] = [];
      for (let i = 0; i < 2; i++) {
        const res = await fetch(`http://127.0.0.1:${port}/index.html`, { headers: { Connection: 'close' } });
        bodies.push(`${res.status} ${await res.text()}`);
      }
      if (!/kubectl\.1\.(27|28|29|30)$/.test(kubectl.bin)) assert.doesNotMatch(pf.output().stderr, /fallback to secondary dialer/, 'the WebSocket tunnel is used, not native SPDY');
      return bodies;
    } finally {
      pf.stop();
    }
  }

  it('port-forward fetches from an HTTP server in the pod (WebSocket-tunnelled SPDY, kubectl 1.32)', async () => {
    await stack.createRunningPod('web', {
      containers: [{ name: 'main', image: POD_IMAGE, command: ['sh', '-c', 'mkdir -p /www && echo hello-pf > /www/index.html && exec httpd -f -p 8080 -h /www'] }],
    });
    assert.deepEqual(await portForwardFetch(k, 'web'), ['200 hello-pf\n', '200 hello-pf\n']);
  });

  it('port-forward over native SPDY/3.1 (kubectl 1.28)', async () => {
    const old = new Kubectl(stack.api.kubeconfig, undefined, '1.28');
    assert.deepEqual(await portForwardFetch(old, 'web'), ['200 hello-pf\n', '200 hello-pf\n']);
  });

  it('kubectl 1.28 over SPDY/3.1 (v4.channel.k8s.io): exec, -i to cat, exit codes and stderr, cp both ways', async () => {
    const old = new Kubectl(stack.api.kubeconfig, undefined, '1.28');
    const hi = await old.run(['exec', 'box', '--', 'echo', 'hi']);
    assert.deepEqual({ code: hi.code, stdout: hi.stdout }, { code: 0, stdout: 'hi\n' }, hi.stderr);
    const input = 'spdy\n'.repeat(20_000);
    const cat = await old.run(['exec', '-i', 'box', '--', 'cat'], { input });
    assert.equal(cat.code, 0, cat.stderr);
    assert.equal(cat.stdout, input);
    const fail = await old.run(['exec', 'box', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    assert.deepEqual([fail.code, fail.stdout, fail.stderr], [3, 'out\n', 'err\ncommand terminated with exit code 3\n']);
    const local = join(stack.dir, 'spdy.txt');
    const back = join(stack.dir, 'spdy-back.txt');
    const content = Array.from({ length: 3000 }, (_, i) => `spdy ${i}`).join('\n');
    writeFileSync(local, content);
    const into = await old.run(['cp', local, 'box:/tmp/spdy.txt']);
    assert.equal(into.code, 0, into.stderr);
    const out = await old.run(['cp', 'box:/tmp/spdy.txt', back]);
    assert.equal(out.code, 0, out.stderr);
    assert.equal(readFileSync(back, 'utf8'), content);
  });

  it('kubectl 1.28 over SPDY/3.1: exec -it under a pty (resize stream, exit code), attach', async () => {
    const old = new Kubectl(stack.api.kubeconfig, undefined, '1.28');
    // The pty `script` makes has no size until told; kubectl then sends 30x100 on the resize stream.
    const cmd = `stty rows 30 cols 100; ${old.bin} --kubeconfig ${stack.api.kubeconfig} exec -it box -- sh`;
    const tty = await new Promise<{ code: number; stdout: string }>((resolve) => {
      const child = execFile('script', ['-qefc', cmd, '/dev/null'], { timeout: 30_000 }, (err, stdout) => {
        resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0, stdout });
      });
      setTimeout(() => child.stdin?.write('stty size; echo A""B\r'), 1500);
      setTimeout(() => child.stdin?.write('exit 7\r'), 2500);
    });
    assert.match(tty.stdout, /AB\r\n/, JSON.stringify(tty.stdout));
    assert.match(tty.stdout, /\r\n30 100\r\n/, JSON.stringify(tty.stdout));
    assert.equal(tty.code, 7, JSON.stringify(tty.stdout));
    const r = await old.run(['attach', 'talker'], { timeoutMs: 4000 });
    assert.match(r.stdout, /tick \d+\n/, `stdout ${JSON.stringify(r.stdout)} stderr ${r.stderr}`);
  });

  it('kubectl 1.28: run -i --rm over SPDY attach', async () => {
    const old = new Kubectl(stack.api.kubeconfig, undefined, '1.28');
    const overrides = JSON.stringify({ apiVersion: 'v1', spec: { nodeName, terminationGracePeriodSeconds: 1 } });
    const r = await old.run([
      'run', 'once-spdy', '-i', '--rm', '--restart=Never', `--image=${POD_IMAGE}`, `--overrides=${overrides}`,
      '--', 'sh', '-c', 'read x; echo got-$x',
    ], { input: 'hello\n', timeoutMs: 60_000 });
    assert.equal(r.code, 0, `stdout ${r.stdout} stderr ${r.stderr}`);
    assert.match(r.stdout, /got-hello\n/);
    assert.match(r.stdout, /pod "once-spdy" deleted/);
  });

  it('a finished pod: kubectl refuses exec on the client side', async () => {
    await admin.resource(Resources.pods).create(NS, {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'done', namespace: NS },
      spec: { nodeName, restartPolicy: 'Never', containers: [{ name: 'main', image: POD_IMAGE, command: ['true'] }] },
    });
    await eventually('done Succeeded', async () => {
      const p: Pod = await admin.resource(Resources.pods).get(NS, 'done');
      return p.status?.phase === 'Succeeded';
    }, 30_000, 200);
    const r = await k.run(['exec', 'done', '--', 'true']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot exec into a container in a completed pod; current phase is Succeeded/);
  });
});
