/**
 * One behavioural suite for every {@link ContainerRuntime}: the fake (directly and over
 * gRPC) in unit tests, the Docker runtime over gRPC in test/src/integration/cri-docker.test.ts.
 * Whatever passes it can sit under the kubelet.
 *
 * The suite needs an image with a busybox-like `sh -c`, `echo`, `sleep` and `exit` (the fake
 * simulates them), and two runtimes for different nodes on one backend, to check that a
 * node never sees another's objects. Every test removes what it created, also on failure.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { Code, CriError, type CodeValue } from './errors.js';
import type * as m from './proto.js';
import { StreamSession, exitCodeOf, runStream } from './streaming/client.js';
import { runSpdyExec } from './streaming/spdy-client.js';
import { LABEL_CLUSTER, LABEL_CONTAINER_NAME, LABEL_NODE, LABEL_POD_UID, type ContainerRuntime } from './runtime.js';

export interface ConformanceHarness {
  /** The runtime under test. */
  runtime: ContainerRuntime;
  /** A runtime for a different node on the same backend (same engine). */
  peer: ContainerRuntime;
  /** Image with busybox-like sh/echo/sleep/exit. Default "local/busybox:1". */
  image?: string;
  /** Node name `runtime` was made with, if the harness wants it checked on labels. */
  nodeName?: string;
  /** Frees everything the harness made; runs even when tests failed. */
  cleanup(): Promise<void>;
}

/** Registers the suite (node:test `describe`) for one implementation. `make` runs once, before the tests. */
export function runtimeConformance(name: string, make: () => Promise<ConformanceHarness>): void {
  describe(`CRI runtime conformance: ${name}`, () => {
    let h: ConformanceHarness | undefined;
    const runId = randomBytes(4).toString('hex');
    let seq = 0;
    /** Sandboxes to remove after the current test, with the runtime that owns them. */
    let created: Array<{ rt: ContainerRuntime; id: string }> = [];

    const harness = (): ConformanceHarness => {
      assert.ok(h, 'harness was not set up');
      return h;
    };
    const rt = (): ContainerRuntime => harness().runtime;
    const image = (): string => harness().image ?? 'local/busybox:1';

    before(async () => { h = await make(); });
    after(async () => { await h?.cleanup(); });
    afterEach(async () => {
      const todo = created;
      created = [];
      for (const { rt: r, id } of todo) {
        try { await r.removePodSandbox({ pod_sandbox_id: id }); } catch { /* reported by the test itself */ }
      }
    });

    const sandboxConfig = (pod: string, extra: Partial<m.PodSandboxConfig> = {}): m.PodSandboxConfig => ({
      metadata: { name: pod, namespace: 'conformance', uid: `${runId}-${++seq}`, attempt: 0 },
      hostname: pod,
      labels: { 'conformance.tskube.io/run': runId, 'conformance.tskube.io/pod': pod },
      annotations: { 'conformance.tskube.io/note': 'kept as is', 'with/slash': 'x=y' },
      ...extra,
    });

    async function runSandbox(pod: string, r: ContainerRuntime = rt()): Promise<{ id: string; config: m.PodSandboxConfig }> {
      const config = sandboxConfig(pod);
      const { pod_sandbox_id: id } = await r.runPodSandbox({ config });
      created.push({ rt: r, id });
      return { id, config };
    }

    async function createContainer(
      sb: { id: string; config: m.PodSandboxConfig }, name: string, command: string[],
      extra: Partial<m.ContainerConfig> = {}, r: ContainerRuntime = rt(),
    ): Promise<string> {
      const { container_id } = await r.createContainer({
        pod_sandbox_id: sb.id,
        sandbox_config: sb.config,
        config: {
          metadata: { name, attempt: 0 },
          image: { image: image() },
          command,
          labels: { 'conformance.tskube.io/run': runId, 'conformance.tskube.io/container': name },
          annotations: { 'conformance.tskube.io/container-note': name },
          ...extra,
        },
      });
      return container_id;
    }

    async function runContainer(sb: { id: string; config: m.PodSandboxConfig }, name: string, command: string[],
      extra: Partial<m.ContainerConfig> = {}, r: ContainerRuntime = rt()): Promise<string> {
      const id = await createContainer(sb, name, command, extra, r);
      await r.startContainer({ container_id: id });
      return id;
    }

    async function status(id: string, r: ContainerRuntime = rt()): Promise<m.ContainerStatus> {
      const res = await r.containerStatus({ container_id: id });
      assert.ok(res.status, 'containerStatus returned no status');
      return res.status;
    }

    async function waitForState(id: string, state: m.ContainerState, timeoutMs = 15_000): Promise<m.ContainerStatus> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const s = await status(id);
        if (s.state === state) return s;
        if (Date.now() > deadline) assert.fail(`container ${id} is ${s.state}, expected ${state} within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }

    async function rejectsWith(p: Promise<unknown>, code: CodeValue, what: string): Promise<void> {
      await assert.rejects(p, (err: unknown) => {
        assert.ok(err instanceof CriError, `${what}: expected a CriError, got ${String(err)}`);
        assert.equal(err.codeName, Code[code], `${what}: ${err.message}`);
        return true;
      });
    }

    async function readLogs(req: m.ReadLogsRequest): Promise<{ all: string; stdout: string; stderr: string }> {
      const parts = { all: '', stdout: '', stderr: '' };
      for await (const chunk of rt().readLogs(req)) {
        const text = Buffer.from(chunk.data).toString('utf8');
        parts.all += text;
        parts[chunk.stream] += text;
      }
      return parts;
    }

    const ids = (items: Array<{ id: string }>): string[] => items.map((i) => i.id).sort();
    const runLabel = (): m.StringMap => ({ 'conformance.tskube.io/run': runId });

    it('reports its version and readiness', async () => {
      const v = await rt().version({ version: '0.1.0' });
      assert.equal(v.runtime_api_version, 'v1');
      assert.ok(v.runtime_name, 'runtime_name is empty');
      assert.ok(v.runtime_version, 'runtime_version is empty');
      const s = await rt().status({});
      const conditions = Object.fromEntries((s.status?.conditions ?? []).map((c) => [c.type, c.status]));
      assert.deepEqual(conditions, { RuntimeReady: true, NetworkReady: true });
    });

    it('runs a sandbox that is READY with a pod IP; metadata, labels and annotations round-trip', async () => {
      const sb = await runSandbox('web');
      const res = await rt().podSandboxStatus({ pod_sandbox_id: sb.id });
      const st = res.status;
      assert.ok(st);
      assert.equal(st.id, sb.id);
      assert.equal(st.state, 'SANDBOX_READY');
      assert.match(st.network?.ip ?? '', /^\d+\.\d+\.\d+\.\d+$/, 'pod IP');
      assert.deepEqual(st.metadata, sb.config.metadata);
      assert.ok(st.created_at > Date.now() * 1e6 - 120e9 && st.created_at <= Date.now() * 1e6 + 1e9, 'created_at is Unix ns of about now');
      for (const [k, v] of Object.entries(sb.config.labels ?? {})) assert.equal(st.labels[k], v, `label ${k}`);
      assert.equal(st.labels[LABEL_POD_UID], sb.config.metadata.uid);
      assert.equal(st.labels[LABEL_CONTAINER_NAME], 'POD');
      if (harness().nodeName) assert.equal(st.labels[LABEL_NODE], harness().nodeName);
      assert.ok(st.labels[LABEL_CLUSTER], 'cluster label');
      assert.deepEqual(st.annotations, sb.config.annotations);

      const listed = await rt().listPodSandbox({ filter: { id: sb.id } });
      assert.deepEqual(ids(listed.items), [sb.id]);
      const item = listed.items[0];
      assert.ok(item);
      assert.equal(item.state, 'SANDBOX_READY');
      assert.equal(item.created_at, st.created_at, 'list and status agree on created_at');
      assert.deepEqual(item.metadata, sb.config.metadata);
      assert.deepEqual(item.annotations, sb.config.annotations);

      // An abbreviated ID works like the full one.
      const short = await rt().podSandboxStatus({ pod_sandbox_id: sb.id.slice(0, 12) });
      assert.equal(short.status?.id, sb.id);
    });

    it('rejects a second sandbox with the same metadata (ALREADY_EXISTS) and malformed requests (INVALID_ARGUMENT)', async () => {
      const sb = await runSandbox('twice');
      await rejectsWith(rt().runPodSandbox({ config: sb.config }), Code.ALREADY_EXISTS, 'same sandbox twice');
      const noMetadata = { config: { hostname: 'x' } } as unknown as m.RunPodSandboxRequest;
      await rejectsWith(rt().runPodSandbox(noMetadata), Code.INVALID_ARGUMENT, 'sandbox without metadata');
      const noImage = { pod_sandbox_id: sb.id, config: { metadata: { name: 'c', attempt: 0 } } } as unknown as m.CreateContainerRequest;
      await rejectsWith(rt().createContainer(noImage), Code.INVALID_ARGUMENT, 'container without image');
    });

    it('creates a container (CREATED), starts it (RUNNING with started_at); config round-trips', async () => {
      const sb = await runSandbox('app');
      const id = await createContainer(sb, 'main', ['sleep', '3600'], { envs: [{ key: 'A', value: '1' }] });
      const before = await status(id);
      assert.equal(before.state, 'CONTAINER_CREATED');
      assert.equal(before.started_at, 0);
      assert.equal(before.finished_at, 0);
      assert.ok(before.created_at > 0);

      await rt().startContainer({ container_id: id });
      const st = await status(id);
      assert.equal(st.state, 'CONTAINER_RUNNING');
      assert.ok(st.started_at >= st.created_at - 1e9, 'started_at after created_at');
      assert.ok(st.started_at <= Date.now() * 1e6 + 1e9, 'started_at is Unix ns, not in the future');
      assert.equal(st.finished_at, 0);
      assert.deepEqual(st.metadata, { name: 'main', attempt: 0 });
      assert.equal(st.image?.image, image());
      assert.ok(st.image_ref, 'image_ref (image ID) is set');
      assert.equal(st.image_id, st.image_ref);
      assert.equal(st.labels['conformance.tskube.io/container'], 'main');
      assert.equal(st.labels[LABEL_CONTAINER_NAME], 'main');
      assert.equal(st.labels[LABEL_POD_UID], sb.config.metadata.uid);
      assert.deepEqual(st.annotations, { 'conformance.tskube.io/container-note': 'main' });

      const listed = await rt().listContainers({ filter: { id } });
      assert.equal(listed.containers.length, 1);
      const c = listed.containers[0];
      assert.ok(c);
      assert.equal(c.pod_sandbox_id, sb.id);
      assert.equal(c.state, 'CONTAINER_RUNNING');
      assert.equal(c.image_ref, st.image_ref);
      assert.equal(c.created_at, st.created_at, 'list and status agree on created_at');
      assert.deepEqual(c.labels, st.labels);
      assert.deepEqual(c.annotations, st.annotations);

      await rejectsWith(rt().startContainer({ container_id: id }), Code.FAILED_PRECONDITION, 'starting a running container');
    });

    it('applies linux resources and reports them in the status', async () => {
      const sb = await runSandbox('res');
      const resources: m.LinuxContainerResources = {
        cpu_shares: 512, cpu_quota: 50_000, cpu_period: 100_000, memory_limit_in_bytes: 64 * 1024 * 1024, oom_score_adj: 500,
        memory_swap_limit_in_bytes: 64 * 1024 * 1024,
      };
      const id = await createContainer(sb, 'main', ['sleep', '3600'], {
        linux: { resources, security_context: { capabilities: { add_capabilities: ['NET_ADMIN'], drop_capabilities: ['MKNOD'] }, no_new_privs: true } },
      });
      const st = await status(id);
      assert.deepEqual(
        {
          cpu_shares: st.resources?.linux?.cpu_shares, cpu_quota: st.resources?.linux?.cpu_quota, cpu_period: st.resources?.linux?.cpu_period,
          memory_limit_in_bytes: st.resources?.linux?.memory_limit_in_bytes, oom_score_adj: st.resources?.linux?.oom_score_adj,
          memory_swap_limit_in_bytes: st.resources?.linux?.memory_swap_limit_in_bytes,
        },
        resources,
      );
    });

    it('filters containers and sandboxes by id, sandbox, state and labels', async () => {
      const a = await runSandbox('filter-a');
      const b = await runSandbox('filter-b');
      const a1 = await runContainer(a, 'one', ['sleep', '3600']);
      const a2 = await createContainer(a, 'two', ['sleep', '3600']);
      const b1 = await runContainer(b, 'one', ['sleep', '3600']);
      const list = async (filter: m.ContainerFilter): Promise<string[]> =>
        (await rt().listContainers({ filter: { ...filter, label_selector: { ...runLabel(), ...filter.label_selector } } }))
          .containers.map((c) => c.id).sort();
      const sorted = (...xs: string[]): string[] => xs.sort();

      const cases: Array<[string, m.ContainerFilter, string[]]> = [
        ['all of this run', {}, sorted(a1, a2, b1)],
        ['by sandbox', { pod_sandbox_id: a.id }, sorted(a1, a2)],
        ['by state RUNNING', { state: { state: 'CONTAINER_RUNNING' } }, sorted(a1, b1)],
        ['by state CREATED', { state: { state: 'CONTAINER_CREATED' } }, [a2]],
        ['by label', { label_selector: { 'conformance.tskube.io/container': 'one' } }, sorted(a1, b1)],
        ['by identity label', { label_selector: { [LABEL_POD_UID]: b.config.metadata.uid } }, [b1]],
        ['by sandbox and state', { pod_sandbox_id: a.id, state: { state: 'CONTAINER_RUNNING' } }, [a1]],
        ['by id', { id: a2 }, [a2]],
        ['by id prefix', { id: b1.slice(0, 16) }, [b1]],
        ['no match', { label_selector: { 'conformance.tskube.io/container': 'nope' } }, []],
      ];
      for (const [what, filter, want] of cases) assert.deepEqual(await list(filter), want, what);

      await rt().stopPodSandbox({ pod_sandbox_id: b.id });
      const sbList = async (filter: m.PodSandboxFilter): Promise<string[]> =>
        ids((await rt().listPodSandbox({ filter: { ...filter, label_selector: { ...runLabel(), ...filter.label_selector } } })).items);
      const sbCases: Array<[string, m.PodSandboxFilter, string[]]> = [
        ['all of this run', {}, sorted(a.id, b.id)],
        ['READY', { state: { state: 'SANDBOX_READY' } }, [a.id]],
        ['NOTREADY', { state: { state: 'SANDBOX_NOTREADY' } }, [b.id]],
        ['by label', { label_selector: { 'conformance.tskube.io/pod': 'filter-b' } }, [b.id]],
        ['by id', { id: a.id }, [a.id]],
      ];
      for (const [what, filter, want] of sbCases) assert.deepEqual(await sbList(filter), want, `sandboxes ${what}`);

      // Unfiltered lists are ordered oldest first.
      const all = (await rt().listPodSandbox({ filter: { label_selector: runLabel() } })).items;
      assert.deepEqual(all.map((s) => s.id), [a.id, b.id]);
    });

    it('stops a container: EXITED with the kill exit code and finished_at', async () => {
      const sb = await runSandbox('stopper');
      const id = await runContainer(sb, 'main', ['sleep', '3600']);
      await rt().stopContainer({ container_id: id, timeout: 0 });
      const st = await waitForState(id, 'CONTAINER_EXITED');
      assert.equal(st.exit_code, 137, 'sleep ignores SIGTERM as PID 1, so it is killed');
      assert.equal(st.reason, 'Error');
      assert.ok(st.finished_at >= st.started_at && st.started_at > 0, 'finished_at >= started_at');
      // Stopping again is fine.
      await rt().stopContainer({ container_id: id, timeout: 0 });
    });

    it('reports the exit code and reason of a container that finished', async () => {
      const sb = await runSandbox('exits');
      const cases: Array<[string, string[], number, string]> = [
        ['exit 3', ['sh', '-c', 'exit 3'], 3, 'Error'],
        ['exit 0', ['sh', '-c', 'true'], 0, 'Completed'],
      ];
      for (const [name, cmd, code, reason] of cases) {
        const id = await runContainer(sb, name.replace(' ', '-'), cmd);
        const st = await waitForState(id, 'CONTAINER_EXITED');
        assert.equal(st.exit_code, code, name);
        assert.equal(st.reason, reason, name);
        assert.ok(st.finished_at >= st.started_at, `${name}: finished_at >= started_at`);
      }
    });

    it('bind-mounts host paths: the process reads a mounted file; mounts are reported in the status', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'tskube-cri-mount-'));
      try {
        await writeFile(join(dir, 'hello.txt'), 'from the host\n');
        await mkdir(join(dir, 'sub'));
        await writeFile(join(dir, 'sub', 'deep.txt'), 'deeper\n');
        const sb = await runSandbox('mounts');
        const mounts: m.Mount[] = [
          { container_path: '/mnt/data', host_path: dir, readonly: true, propagation: 'PROPAGATION_PRIVATE' },
          { container_path: '/mnt/data/sub', host_path: join(dir, 'sub'), readonly: false, propagation: 'PROPAGATION_PRIVATE' },
        ];
        const id = await runContainer(sb, 'reader', ['sh', '-c', 'cat /mnt/data/hello.txt /mnt/data/sub/deep.txt'], { mounts });
        const st = await waitForState(id, 'CONTAINER_EXITED');
        assert.equal(st.exit_code, 0);
        assert.equal((await readLogs({ container_id: id })).stdout, 'from the host\ndeeper\n');
        const got = [...st.mounts].sort((a, b) => a.container_path.localeCompare(b.container_path))
          .map((mt) => ({ container_path: mt.container_path, host_path: mt.host_path, readonly: mt.readonly ?? false }));
        assert.deepEqual(got, mounts.map(({ container_path, host_path, readonly }) => ({ container_path, host_path, readonly })));
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it('reads logs back: streams, env, tail, timestamps, since and limit_bytes', async () => {
      const sb = await runSandbox('logger');
      const hello = await runContainer(sb, 'hello', ['echo', 'hello']);
      await waitForState(hello, 'CONTAINER_EXITED');
      assert.equal((await readLogs({ container_id: hello })).all, 'hello\n');

      assert.equal((await readLogs({ container_id: hello, limit_bytes: 3 })).all, 'hel');

      const lines = await runContainer(sb, 'lines', ['sh', '-c', 'echo one; echo two; echo three']);
      await waitForState(lines, 'CONTAINER_EXITED');
      const tailCases: Array<[number | undefined, string]> = [
        [undefined, 'one\ntwo\nthree\n'], [-1, 'one\ntwo\nthree\n'], [0, ''], [1, 'three\n'], [2, 'two\nthree\n'], [10, 'one\ntwo\nthree\n'],
      ];
      for (const [tail, want] of tailCases) {
        assert.equal((await readLogs({ container_id: lines, tail_lines: tail })).all, want, `tail_lines ${tail}`);
      }

      const mixed = await runContainer(sb, 'mixed', ['sh', '-c', 'echo out; echo $GREETING >&2'],
        { envs: [{ key: 'GREETING', value: 'hi there' }] });
      await waitForState(mixed, 'CONTAINER_EXITED');
      const both = await readLogs({ container_id: mixed });
      assert.equal(both.stdout, 'out\n');
      assert.equal(both.stderr, 'hi there\n');

      const stamped = await readLogs({ container_id: hello, timestamps: true });
      assert.match(stamped.all, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z hello\n$/);
      const stampNs = Date.parse(stamped.all.slice(0, stamped.all.indexOf(' '))) * 1e6;
      assert.equal((await readLogs({ container_id: hello, since_time_unix_nano: stampNs - 1e9 })).all, 'hello\n');
      assert.equal((await readLogs({ container_id: hello, since_time_unix_nano: stampNs + 5e9 })).all, '');

      await rejectsWith(readLogs({ container_id: `missing${runId}` }), Code.NOT_FOUND, 'logs of a missing container');
    });

    it('follows logs until the container exits, or until the reader stops', async () => {
      const sb = await runSandbox('follower');
      const id = await runContainer(sb, 'ticker', ['sh', '-c', 'echo a; sleep 1; echo b']);
      const started = Date.now();
      const followed = await readLogs({ container_id: id, follow: true });
      assert.equal(followed.all, 'a\nb\n');
      assert.ok(Date.now() - started >= 500, 'follow waited for the second line');
      assert.equal((await status(id)).state, 'CONTAINER_EXITED');

      const forever = await runContainer(sb, 'forever', ['sh', '-c', 'echo first; sleep 3600']);
      const ac = new AbortController();
      let got = '';
      for await (const chunk of rt().readLogs({ container_id: forever, follow: true }, { signal: ac.signal })) {
        got += Buffer.from(chunk.data).toString();
        if (got.includes('first\n')) ac.abort();
      }
      assert.equal(got, 'first\n');
      // Breaking out of the loop also ends the stream.
      for await (const chunk of rt().readLogs({ container_id: forever, follow: true })) {
        assert.equal(Buffer.from(chunk.data).toString(), 'first\n');
        break;
      }
    });

    it('execs a command in a running container; not in a stopped one', async () => {
      const sb = await runSandbox('execer');
      const id = await runContainer(sb, 'main', ['sleep', '3600'], { envs: [{ key: 'WHO', value: 'world' }] });
      const res = await rt().execSync({ container_id: id, cmd: ['sh', '-c', 'echo hi $WHO; echo oops >&2; exit 2'], timeout: 10 });
      assert.equal(Buffer.from(res.stdout).toString(), 'hi world\n');
      assert.equal(Buffer.from(res.stderr).toString(), 'oops\n');
      assert.equal(res.exit_code, 2);
      const ok = await rt().execSync({ container_id: id, cmd: ['true'] });
      assert.equal(ok.exit_code, 0);
      await rejectsWith(rt().execSync({ container_id: id, cmd: ['sleep', '5'], timeout: 1 }), Code.DEADLINE_EXCEEDED, 'exec timeout');

      await rt().stopContainer({ container_id: id, timeout: 0 });
      await waitForState(id, 'CONTAINER_EXITED');
      await rejectsWith(rt().execSync({ container_id: id, cmd: ['true'] }), Code.FAILED_PRECONDITION, 'exec in stopped container');
      await rejectsWith(rt().execSync({ container_id: `missing${runId}`, cmd: ['true'] }), Code.NOT_FOUND, 'exec in missing container');
    });

    it('exec streams: output, exit codes, stdin, one-time URLs, tty; validation', async () => {
      const sb = await runSandbox('streamer');
      const id = await runContainer(sb, 'main', ['sleep', '3600']);
      const { url } = await rt().exec({ container_id: id, cmd: ['sh', '-c', 'echo out; echo err >&2; exit 3'], stdout: true, stderr: true });
      const r = await runStream(url);
      assert.equal(r.protocol, 'v5.channel.k8s.io');
      assert.equal(r.stdout.toString(), 'out\n');
      assert.equal(r.stderr.toString(), 'err\n');
      assert.equal(exitCodeOf(r.status), 3, `status ${JSON.stringify(r.status)}`);
      assert.equal(typeof r.status === 'object' && r.status.reason, 'NonZeroExitCode');
      assert.equal(r.closeCode, 1000);

      const cat = await rt().exec({ container_id: id, cmd: ['cat'], stdin: true, stdout: true, stderr: true });
      const r2 = await runStream(cat.url, { stdin: 'hello\nworld\n' });
      assert.equal(r2.stdout.toString(), 'hello\nworld\n');
      assert.deepEqual(r2.status, { metadata: {}, status: 'Success' });
      await assert.rejects(runStream(cat.url), /upgrade refused: 404/, 'a URL is good for one session');

      // The same over SPDY/3.1 (kubectl ≤ 1.29): streams per channel, stdin FIN is EOF.
      const spdy = await rt().exec({ container_id: id, cmd: ['sh', '-c', 'echo out; echo err >&2; exit 3'], stdout: true, stderr: true });
      const rs = await runSpdyExec(spdy.url, { stderr: true });
      assert.deepEqual([rs.protocol, rs.stdout.toString(), rs.stderr.toString(), exitCodeOf(rs.status)], ['v5.channel.k8s.io', 'out\n', 'err\n', 3]);
      const spdyCat = await rt().exec({ container_id: id, cmd: ['cat'], stdin: true, stdout: true, stderr: true });
      const rc = await runSpdyExec(spdyCat.url, { input: 'over spdy\n', stderr: true, protocols: ['v4.channel.k8s.io'] });
      assert.deepEqual([rc.stdout.toString(), rc.status], ['over spdy\n', { metadata: {}, status: 'Success' }]);

      const tty = await rt().exec({ container_id: id, cmd: ['sh'], stdin: true, stdout: true, tty: true });
      const s = StreamSession.open(tty.url);
      await s.opened;
      s.resize(100, 30);
      s.send('echo A""B\n');
      await s.waitForStdout('AB\r\n');
      s.send('exit 4\n');
      const r3 = await s.done;
      assert.equal(exitCodeOf(r3.status), 4);

      await rejectsWith(rt().exec({ container_id: id, cmd: ['true'], stdout: true, stderr: true, tty: true }), Code.INVALID_ARGUMENT, 'tty with stderr');
      await rejectsWith(rt().exec({ container_id: id, cmd: ['true'] }), Code.INVALID_ARGUMENT, 'no streams');
      await rejectsWith(rt().exec({ container_id: id, cmd: [], stdout: true }), Code.INVALID_ARGUMENT, 'no command');
      await rejectsWith(rt().exec({ container_id: `missing${runId}`, cmd: ['true'], stdout: true }), Code.NOT_FOUND, 'exec in missing container');
      await rt().stopContainer({ container_id: id, timeout: 0 });
      await waitForState(id, 'CONTAINER_EXITED');
      await rejectsWith(rt().exec({ container_id: id, cmd: ['true'], stdout: true }), Code.FAILED_PRECONDITION, 'exec in stopped container');
    });

    it('joins the PID namespace of a target container (pid TARGET, ephemeral containers)', async () => {
      const sb = await runSandbox('targeted');
      const target = await runContainer(sb, 'main', ['sleep', '3601']);
      const pidNs = (pid: m.NamespaceMode, targetId = ''): Partial<m.ContainerConfig> => ({
        linux: { security_context: { namespace_options: { network: 'POD', pid, ipc: 'POD', target_id: targetId } } },
      });
      const debug = await runContainer(sb, 'debugger', ['sleep', '3602'], pidNs('TARGET', target));
      const own = await runContainer(sb, 'other', ['sleep', '3603'], pidNs('CONTAINER'));
      const ps = async (id: string): Promise<string> => {
        const r = await rt().execSync({ container_id: id, cmd: ['ps'], timeout: 10 });
        assert.equal(r.exit_code, 0, Buffer.from(r.stderr).toString());
        return Buffer.from(r.stdout).toString();
      };
      const seen = await ps(debug);
      assert.match(seen, /sleep 3601/, `the target's process is visible: ${seen}`);
      assert.match(seen, /sleep 3602/, seen);
      assert.match(await ps(target), /sleep 3602/, 'and the other way round');
      const alone = await ps(own);
      assert.match(alone, /sleep 3603/, alone);
      assert.doesNotMatch(alone, /sleep 3601/, `a private PID namespace: ${alone}`);
      await rejectsWith(createContainer(sb, 'nowhere', ['sleep', '1'], pidNs('TARGET', `missing${runId}`)), Code.NOT_FOUND, 'missing target');
      await rejectsWith(createContainer(sb, 'untargeted', ['sleep', '1'], pidNs('TARGET')), Code.INVALID_ARGUMENT, 'TARGET without target_id');
    });

    it('attach streams the main process output until it exits', async () => {
      const sb = await runSandbox('attacher');
      const id = await runContainer(sb, 'main', ['sh', '-c', 'sleep 2; echo attached; sleep 3600']);
      const { url } = await rt().attach({ container_id: id, stdout: true, stderr: true });
      const s = StreamSession.open(url);
      await s.opened;
      await s.waitForStdout('attached\n', 15_000);
      await rt().stopContainer({ container_id: id, timeout: 0 });
      const r = await s.done;
      assert.equal(r.stdout.toString(), 'attached\n');
      assert.deepEqual(r.status, { metadata: {}, status: 'Success' });
      await rejectsWith(rt().attach({ container_id: id, stdout: true }), Code.FAILED_PRECONDITION, 'attach to a stopped container');
    });

    it('stop and remove are idempotent; status of missing objects is NOT_FOUND', async () => {
      const missing = `0000${runId}0000`;
      await rt().stopContainer({ container_id: missing, timeout: 0 });
      await rt().removeContainer({ container_id: missing });
      await rt().stopPodSandbox({ pod_sandbox_id: missing });
      await rt().removePodSandbox({ pod_sandbox_id: missing });
      await rejectsWith(rt().containerStatus({ container_id: missing }), Code.NOT_FOUND, 'status of missing container');
      await rejectsWith(rt().podSandboxStatus({ pod_sandbox_id: missing }), Code.NOT_FOUND, 'status of missing sandbox');
      await rejectsWith(rt().startContainer({ container_id: missing }), Code.NOT_FOUND, 'start of missing container');
      await rejectsWith(createContainer({ id: missing, config: sandboxConfig('ghost') }, 'c', ['true']), Code.NOT_FOUND,
        'container in a missing sandbox');

      const sb = await runSandbox('idem');
      const id = await runContainer(sb, 'main', ['sleep', '3600']);
      await rt().removeContainer({ container_id: id });
      await rt().removeContainer({ container_id: id });
      await rejectsWith(rt().containerStatus({ container_id: id }), Code.NOT_FOUND, 'status of removed container');
      await rt().stopPodSandbox({ pod_sandbox_id: sb.id });
      await rt().stopPodSandbox({ pod_sandbox_id: sb.id });
      await rt().removePodSandbox({ pod_sandbox_id: sb.id });
      await rt().removePodSandbox({ pod_sandbox_id: sb.id });
      await rejectsWith(rt().podSandboxStatus({ pod_sandbox_id: sb.id }), Code.NOT_FOUND, 'status of removed sandbox');
    });

    it('stopping a sandbox stops its containers; removing it removes them', async () => {
      const sb = await runSandbox('teardown');
      const c1 = await runContainer(sb, 'one', ['sleep', '3600']);
      const c2 = await createContainer(sb, 'two', ['sleep', '3600']);
      await rt().stopPodSandbox({ pod_sandbox_id: sb.id });
      const st = (await rt().podSandboxStatus({ pod_sandbox_id: sb.id })).status;
      assert.equal(st?.state, 'SANDBOX_NOTREADY');
      assert.equal(st?.network?.ip ?? '', '', 'a stopped sandbox has no IP');
      assert.equal((await status(c1)).state, 'CONTAINER_EXITED');
      await rejectsWith(rt().startContainer({ container_id: c2 }), Code.FAILED_PRECONDITION, 'start in a stopped sandbox');

      await rt().removePodSandbox({ pod_sandbox_id: sb.id });
      assert.deepEqual((await rt().listContainers({ filter: { pod_sandbox_id: sb.id } })).containers, []);
      await rejectsWith(rt().containerStatus({ container_id: c1 }), Code.NOT_FOUND, 'container of removed sandbox');
      await rejectsWith(rt().containerStatus({ container_id: c2 }), Code.NOT_FOUND, 'created container of removed sandbox');
      assert.deepEqual((await rt().listPodSandbox({ filter: { id: sb.id } })).items, []);

      // A running sandbox can be removed directly, containers and all.
      const sb2 = await runSandbox('direct');
      const c3 = await runContainer(sb2, 'one', ['sleep', '3600']);
      await rt().removePodSandbox({ pod_sandbox_id: sb2.id });
      await rejectsWith(rt().containerStatus({ container_id: c3 }), Code.NOT_FOUND, 'container of sandbox removed while running');
    });

    it("does not see or touch another node's sandboxes and containers", async () => {
      const peer = harness().peer;
      const theirs = await runSandbox('peer-pod', peer);
      const theirContainer = await runContainer(theirs, 'main', ['sleep', '3600'], {}, peer);

      assert.deepEqual((await rt().listPodSandbox({ filter: { label_selector: runLabel() } })).items, []);
      assert.deepEqual((await rt().listContainers({ filter: { label_selector: runLabel() } })).containers, []);
      assert.deepEqual((await rt().listPodSandbox({ filter: { id: theirs.id } })).items, []);
      await rejectsWith(rt().podSandboxStatus({ pod_sandbox_id: theirs.id }), Code.NOT_FOUND, "peer's sandbox status");
      await rejectsWith(rt().containerStatus({ container_id: theirContainer }), Code.NOT_FOUND, "peer's container status");
      await rejectsWith(rt().startContainer({ container_id: theirContainer }), Code.NOT_FOUND, "peer's container start");
      await rejectsWith(createContainer(theirs, 'intruder', ['true']), Code.NOT_FOUND, "container in peer's sandbox");
      await rejectsWith(readLogs({ container_id: theirContainer }), Code.NOT_FOUND, "peer's logs");

      // Stop/remove treat them as missing: success, and nothing happens to them.
      await rt().stopContainer({ container_id: theirContainer, timeout: 0 });
      await rt().removeContainer({ container_id: theirContainer });
      await rt().stopPodSandbox({ pod_sandbox_id: theirs.id });
      await rt().removePodSandbox({ pod_sandbox_id: theirs.id });
      assert.equal((await status(theirContainer, peer)).state, 'CONTAINER_RUNNING');
      assert.equal((await peer.podSandboxStatus({ pod_sandbox_id: theirs.id })).status?.state, 'SANDBOX_READY');
      assert.deepEqual(ids((await peer.listPodSandbox({ filter: { label_selector: runLabel() } })).items), [theirs.id]);
    });

    it('reports container and sandbox stats: cumulative CPU, working set, filters', async () => {
      const sb = await runSandbox('stats');
      const busy = await runContainer(sb, 'busy', ['sleep', '3600']);
      const idle = await createContainer(sb, 'idle', ['sleep', '3600']);
      const value = (v: m.UInt64Value | null | undefined, what: string): number => {
        assert.ok(v, `${what} is present`);
        return v.value;
      };

      const first = (await rt().containerStats({ container_id: busy })).stats;
      assert.ok(first?.attributes && first.cpu && first.memory, 'containerStats has attributes, cpu and memory');
      assert.equal(first.attributes.id, busy);
      assert.equal(first.attributes.metadata?.name, 'busy');
      assert.equal(first.attributes.labels['conformance.tskube.io/container'], 'busy');
      assert.equal(first.attributes.annotations['conformance.tskube.io/container-note'], 'busy');
      assert.ok(first.cpu.timestamp > 0 && first.memory.timestamp > 0, 'stats carry timestamps');
      const cpu1 = value(first.cpu.usage_core_nano_seconds, 'usage_core_nano_seconds');
      assert.ok(value(first.memory.working_set_bytes, 'working_set_bytes') > 0, 'a running container has a working set');

      const notRunning = (await rt().containerStats({ container_id: idle })).stats;
      assert.equal(value(notRunning?.cpu?.usage_core_nano_seconds, 'idle cpu'), 0, 'a created container uses no CPU');
      assert.equal(value(notRunning?.memory?.working_set_bytes, 'idle memory'), 0);
      await rejectsWith(rt().containerStats({ container_id: 'f'.repeat(64) }), Code.NOT_FOUND, 'stats of a missing container');

      const ids = async (f: m.ContainerStatsFilter, r: ContainerRuntime = rt()): Promise<string[]> =>
        (await r.listContainerStats({ filter: f })).stats.map((x) => x.attributes?.id ?? '');
      assert.deepEqual(await ids({ pod_sandbox_id: sb.id }), [busy], 'running containers only');
      assert.deepEqual(await ids({ id: busy.slice(0, 20) }), [busy]);
      assert.deepEqual(await ids({ label_selector: { 'conformance.tskube.io/container': 'busy' } }), [busy]);
      assert.deepEqual(await ids({ label_selector: { 'conformance.tskube.io/container': 'idle' } }), []);
      assert.deepEqual(await ids({ pod_sandbox_id: sb.id }, harness().peer), [], "another node's containers are not listed");

      await new Promise((r) => setTimeout(r, 300));
      const second = (await rt().listContainerStats({ filter: { id: busy } })).stats[0];
      assert.ok(value(second?.cpu?.usage_core_nano_seconds, 'second cpu') >= cpu1, 'CPU time never decreases');
      assert.ok((second?.cpu?.timestamp ?? 0) >= first.cpu.timestamp);

      const pod = (await rt().podSandboxStats({ pod_sandbox_id: sb.id })).stats;
      assert.ok(pod?.attributes && pod.linux, 'podSandboxStats has attributes and linux stats');
      assert.equal(pod.attributes.id, sb.id);
      assert.deepEqual(pod.attributes.metadata, sb.config.metadata);
      assert.equal(pod.attributes.labels['conformance.tskube.io/pod'], 'stats');
      assert.deepEqual(pod.linux.containers.map((c) => c.attributes?.id), [busy]);
      const podCpu = value(pod.linux.cpu?.usage_core_nano_seconds, 'pod cpu');
      const containerCpu = value(pod.linux.containers[0]?.cpu?.usage_core_nano_seconds, 'pod container cpu');
      assert.ok(podCpu >= containerCpu, 'pod CPU includes its containers');
      assert.ok(value(pod.linux.memory?.working_set_bytes, 'pod memory') >= value(pod.linux.containers[0]?.memory?.working_set_bytes, 'c mem'));
      assert.deepEqual((await rt().listPodSandboxStats({ filter: { id: sb.id } })).stats.map((x) => x.attributes?.id), [sb.id]);
      assert.deepEqual((await rt().listPodSandboxStats({ filter: { label_selector: { 'conformance.tskube.io/pod': 'stats' } } })).stats
        .map((x) => x.attributes?.id), [sb.id]);
      assert.deepEqual((await harness().peer.listPodSandboxStats({ filter: { id: sb.id } })).stats, []);
      await rejectsWith(rt().podSandboxStats({ pod_sandbox_id: 'f'.repeat(64) }), Code.NOT_FOUND, 'stats of a missing sandbox');
      await rt().stopPodSandbox({ pod_sandbox_id: sb.id });
      assert.deepEqual((await rt().listPodSandboxStats({ filter: { id: sb.id } })).stats, [], 'stopped sandboxes are not listed');
    });

    it('reports present and missing images; creating from a missing image is NOT_FOUND', async () => {
      const present = await rt().imageStatus({ image: { image: image() } });
      assert.ok(present.image, `image ${image()} is present`);
      assert.match(present.image.id, /^sha256:[0-9a-f]{64}$/);
      assert.ok(present.image.repo_tags.includes(image()), `repo_tags ${JSON.stringify(present.image.repo_tags)}`);
      assert.ok(present.image.size > 0);
      const byId = await rt().imageStatus({ image: { image: present.image.id } });
      assert.equal(byId.image?.id, present.image.id);

      const missingRef = `tskube.invalid/missing-${runId}:0`;
      assert.equal((await rt().imageStatus({ image: { image: missingRef } })).image, null);

      const all = await rt().listImages({});
      assert.ok(all.images.some((i) => i.id === present.image?.id), 'listImages includes the pod image');
      const filtered = await rt().listImages({ filter: { image: { image: image() } } });
      assert.deepEqual(filtered.images.map((i) => i.id), [present.image.id]);

      await rt().removeImage({ image: { image: missingRef } });

      const sb = await runSandbox('imageless');
      await rejectsWith(
        rt().createContainer({ pod_sandbox_id: sb.id, config: { metadata: { name: 'c', attempt: 0 }, image: { image: missingRef } } }),
        Code.NOT_FOUND, 'container from a missing image');
      const started = await runContainer(sb, 'uses-image', ['sleep', '3600']);
      assert.equal((await status(started)).image_ref, present.image.id, 'container image_ref is the image ID');
    });
  });
}
