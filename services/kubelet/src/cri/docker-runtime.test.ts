// Pure mapping rules of the Docker runtime; the runtime itself is tested against a real engine
// in test/src/integration/cri-docker.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PassThrough } from 'node:stream';
import type Dockerode from 'dockerode';
import { createLogger } from '@tskube/log';
import {
  DockerRuntime, containerState, decodeLabels, dockerAuthConfig, dockerSecurityAndResources, fromDockerError, fromPullError,
} from './docker-runtime.js';
import type * as m from './proto.js';
import { Code } from './errors.js';

function dockerErr(statusCode: number, message: string): Error {
  return Object.assign(new Error(`(HTTP code ${statusCode}) - ${message}`), { statusCode, json: { message } });
}

describe('Docker runtime mapping', () => {
  it('maps Docker states to CRI states', () => {
    const cases: Array<[string, string]> = [
      ['created', 'CONTAINER_CREATED'], ['running', 'CONTAINER_RUNNING'], ['paused', 'CONTAINER_RUNNING'],
      ['exited', 'CONTAINER_EXITED'], ['dead', 'CONTAINER_EXITED'], ['removing', 'CONTAINER_UNKNOWN'],
    ];
    for (const [docker, cri] of cases) assert.equal(containerState(docker), cri, docker);
  });

  it('splits Docker labels into labels, annotations and hidden bookkeeping', () => {
    const d = decodeLabels({
      app: 'web', 'tskube.node': 'n1', 'io.kubernetes.docker.type': 'container', 'io.kubernetes.sandbox.id': 'sb',
      'tskube.attempt': '2', 'tskube.created-at': '1700000000000000000', 'tskube.log-path': 'c/2.log',
      'tskube.annotation.example.com/x': 'y',
    }, 5);
    assert.deepEqual(d, {
      labels: { app: 'web', 'tskube.node': 'n1' }, annotations: { 'example.com/x': 'y' },
      attempt: 2, createdAt: 1700000000000000000, sandboxId: 'sb', logPath: 'c/2.log',
    });
    assert.equal(decodeLabels({}, 5).createdAt, 5, 'falls back to Docker time');
  });

  it('maps Docker errors to gRPC codes', () => {
    const cases: Array<[unknown, Code]> = [
      [dockerErr(404, 'No such container: x'), Code.NOT_FOUND],
      [dockerErr(409, 'Conflict. The container name "/k8s_x" is already in use'), Code.ALREADY_EXISTS],
      [dockerErr(409, 'Container abc is not running'), Code.FAILED_PRECONDITION],
      [dockerErr(400, 'bad parameter'), Code.INVALID_ARGUMENT],
      [dockerErr(500, 'cannot join network of a non running container'), Code.FAILED_PRECONDITION],
      [dockerErr(500, 'something odd'), Code.UNKNOWN],
      [Object.assign(new Error('connect ENOENT /var/run/docker.sock'), { code: 'ENOENT' }), Code.UNAVAILABLE],
    ];
    for (const [err, code] of cases) {
      const e = fromDockerError(err, 'do it');
      assert.equal(e.code, code, String(err));
      assert.match(e.message, /^do it: /);
    }
  });

  it('maps pull failures by message', () => {
    const cases: Array<[string, Code]> = [
      ['manifest for x:1 not found: manifest unknown', Code.NOT_FOUND],
      ['pull access denied for x, repository does not exist or may require docker login', Code.NOT_FOUND],
      ['Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io: no such host', Code.UNAVAILABLE],
      ['unauthorized: authentication required', Code.PERMISSION_DENIED],
      ['invalid reference format', Code.INVALID_ARGUMENT],
    ];
    for (const [msg, code] of cases) {
      const e = fromPullError(new Error(msg), 'x:1');
      assert.equal(e.codeName, Code[code], msg);
      assert.equal(e.message, `pull image "x:1": ${msg}`);
    }
  });

  it('maps the security context and resources to the Docker create body', () => {
    const cases: Array<{ name: string; sc?: m.LinuxContainerSecurityContext; res?: m.LinuxContainerResources; user?: string; hc: Record<string, unknown> }> = [
      { name: 'nothing set', hc: { Privileged: false, ReadonlyRootfs: false } },
      { name: 'uid only', sc: { run_as_user: { value: 1000 } }, user: '1000', hc: { Privileged: false, ReadonlyRootfs: false } },
      { name: 'uid:gid', sc: { run_as_user: { value: 1000 }, run_as_group: { value: 3000 } }, user: '1000:3000', hc: { Privileged: false, ReadonlyRootfs: false } },
      { name: 'user name and group', sc: { run_as_username: 'nobody', run_as_group: { value: 99 } }, user: 'nobody:99', hc: { Privileged: false, ReadonlyRootfs: false } },
      {
        name: 'everything', user: '0',
        sc: {
          run_as_user: { value: 0 }, privileged: true, readonly_rootfs: true, supplemental_groups: [2000, 3000],
          capabilities: { add_capabilities: ['NET_ADMIN'], drop_capabilities: ['ALL'] }, no_new_privs: true,
        },
        res: { cpu_shares: 256, cpu_quota: 50_000, cpu_period: 100_000, memory_limit_in_bytes: 33_554_432, memory_swap_limit_in_bytes: 33_554_432, oom_score_adj: 500 },
        hc: {
          Privileged: true, ReadonlyRootfs: true, GroupAdd: ['2000', '3000'], CapAdd: ['NET_ADMIN'], CapDrop: ['ALL'],
          SecurityOpt: ['no-new-privileges'], OomScoreAdj: 500, CpuShares: 256, CpuQuota: 50_000, CpuPeriod: 100_000, Memory: 33_554_432, MemorySwap: 33_554_432,
        },
      },
    ];
    for (const c of cases) {
      const got = dockerSecurityAndResources(c.sc, c.res);
      assert.equal(got.User, c.user, c.name);
      const defined = Object.fromEntries(Object.entries(got.HostConfig).filter(([, v]) => v !== undefined));
      assert.deepEqual(defined, c.hc, c.name);
    }
    assert.throws(() => dockerSecurityAndResources({ run_as_group: { value: 5 } }, undefined), /run_as_group is specified without/);
  });

  it('maps CRI AuthConfig to the dockerode authconfig', () => {
    assert.equal(dockerAuthConfig(undefined), undefined);
    assert.equal(dockerAuthConfig({ server_address: 'r.example.com' }), undefined, 'no credential, no authconfig');
    assert.deepEqual(dockerAuthConfig({ username: 'u', password: 'p', server_address: 'r.example.com:5000' }),
      { username: 'u', password: 'p', serveraddress: 'r.example.com:5000' });
    assert.deepEqual(dockerAuthConfig({ auth: 'dTpw', identity_token: 'it', registry_token: 'rt' }),
      { auth: 'dTpw', identitytoken: 'it', registrytoken: 'rt' });
  });

  it('PullImage hands the credentials to the Docker pull and reports failures with their code', async () => {
    const pulls: Array<{ ref: string; opts: unknown }> = [];
    let fail: string | undefined;
    const stub = {
      pull: async (ref: string, opts: unknown) => { pulls.push({ ref, opts }); const s = new PassThrough(); s.end(); return s; },
      modem: { followProgress: (_s: unknown, done: (err: unknown) => void) => setImmediate(() => done(fail ? new Error(fail) : null)) },
      getImage: () => ({ inspect: async () => ({ Id: 'sha256:abc', RepoTags: ['r.example.com/app:1'], RepoDigests: [], Size: 10, Config: { User: '' } }) }),
    };
    const rt = new DockerRuntime({
      docker: stub as unknown as Dockerode, nodeName: 'n', clusterName: 'c', network: 'net', pauseImage: 'pause', logger: createLogger({ component: 'test', level: 'error' }),
    });
    const res = await rt.pullImage({ image: { image: 'r.example.com/app:1' }, auth: { username: 'u', password: 'p', server_address: 'r.example.com' } });
    assert.equal(res.image_ref, 'sha256:abc');
    assert.deepEqual(pulls[0], { ref: 'r.example.com/app:1', opts: { authconfig: { username: 'u', password: 'p', serveraddress: 'r.example.com' } } });
    await rt.pullImage({ image: { image: 'busybox' } });
    assert.deepEqual(pulls[1], { ref: 'busybox', opts: {} }, 'anonymous pull without authconfig');
    fail = 'unauthorized: authentication required';
    await assert.rejects(rt.pullImage({ image: { image: 'r.example.com/app:1' }, auth: { username: 'u', password: 'bad' } }),
      (e: Error & { codeName?: string }) => e.codeName === 'PERMISSION_DENIED' && e.message === 'pull image "r.example.com/app:1": unauthorized: authentication required');
  });
});

/**
 * A dockerode stand-in for the stats calls: listContainers filters by label, and every
 * container's stats call waits for the next `tick()`, as Docker 20.10 answers even one-shot
 * stats calls at its stats collector's next (once a second) round.
 */
function statsDocker(containers: Array<{ Id: string; Labels: Record<string, string>; State: string }>, frames: Record<string, unknown>) {
  const pending: Array<{ id: string; resolve: (v: unknown) => void }> = [];
  let rounds = 0;
  const docker = {
    listContainers: async (opts: { filters: { label: string[] } }) =>
      containers.filter((c) => opts.filters.label.every((l) => { const [k, v] = l.split('='); return c.Labels[k!] === v; }))
        .map((c) => ({ ...c, Created: 1_700_000_000 })),
    getContainer: (id: string) => ({
      stats: () => new Promise((resolve) => { pending.push({ id, resolve }); }),
      inspect: async () => {
        const c = containers.find((x) => x.Id === id);
        if (!c) throw Object.assign(new Error('no such container'), { statusCode: 404 });
        return { Id: id, State: { Running: c.State === 'running' }, Created: '2025-01-02T03:04:05Z', Config: { Labels: c.Labels } };
      },
    }),
  };
  return {
    docker: docker as unknown as Dockerode,
    pending: () => pending.map((p) => p.id).sort(),
    rounds: () => rounds,
    /** Answers every call waiting now, as one collector round. */
    tick: () => { rounds++; for (const p of pending.splice(0)) p.resolve(frames[p.id]); },
  };
}

describe('Docker runtime stats', () => {
  const frame = (cpu: number, mem: number) => ({ read: '2025-01-02T03:04:05.5Z', cpu_stats: { cpu_usage: { total_usage: cpu } }, memory_stats: { usage: mem, stats: {} } });
  // Docker's frame for a container it could not read (stopped meanwhile).
  const empty = { read: '0001-01-01T00:00:00Z', preread: '0001-01-01T00:00:00Z', cpu_stats: { cpu_usage: { total_usage: 0 } }, memory_stats: {} };
  const sandbox = (id: string, pod: string) => ({ Id: id, State: 'running', Labels: {
    'tskube.node': 'n', 'io.kubernetes.docker.type': 'podsandbox', 'io.kubernetes.pod.name': pod, 'io.kubernetes.pod.namespace': 'default', 'io.kubernetes.pod.uid': `${pod}-uid`,
  } });
  const container = (id: string, sb: string, name: string) => ({ Id: id, State: 'running', Labels: {
    'tskube.node': 'n', 'io.kubernetes.docker.type': 'container', 'io.kubernetes.sandbox.id': sb, 'io.kubernetes.container.name': name,
  } });

  it('ListPodSandboxStats reads pause and pod containers in one stats round; an empty frame is no reading', async () => {
    const fake = statsDocker(
      [sandbox('sa', 'a'), sandbox('sb', 'b'), container('ca', 'sa', 'main'), container('cb1', 'sb', 'main'), container('cb2', 'sb', 'side')],
      { sa: frame(1, 10), sb: frame(2, 20), ca: frame(100, 1000), cb1: frame(200, 2000), cb2: empty },
    );
    const rt = new DockerRuntime({ docker: fake.docker, nodeName: 'n', clusterName: 'c', network: 'net', pauseImage: 'pause', logger: createLogger({ component: 'test', level: 'error' }) });
    const res = rt.listPodSandboxStats({});
    for (let i = 0; i < 20 && fake.pending().length < 5; i++) await new Promise((r) => setImmediate(r));
    assert.deepEqual(fake.pending(), ['ca', 'cb1', 'cb2', 'sa', 'sb'], 'every stats call is made before the first round');
    fake.tick();
    const { stats } = await res;
    assert.equal(fake.rounds(), 1, 'one round answered everything');
    const b = stats.find((s) => s.attributes?.metadata?.name === 'b');
    assert.deepEqual(b?.linux?.containers.map((c) => c.attributes?.metadata?.name), ['main'], 'side (empty frame) is left out, not read as zero usage');
    assert.equal(b?.linux?.cpu?.usage_core_nano_seconds?.value, 202, 'pause + main');
    assert.equal(stats.find((s) => s.attributes?.metadata?.name === 'a')?.linux?.cpu?.usage_core_nano_seconds?.value, 101);
  });

  it('PodSandboxStats: one round as well', async () => {
    const fake = statsDocker([sandbox('sa', 'a'), container('ca', 'sa', 'main')], { sa: frame(1, 10), ca: frame(100, 1000) });
    const rt = new DockerRuntime({ docker: fake.docker, nodeName: 'n', clusterName: 'c', network: 'net', pauseImage: 'pause', logger: createLogger({ component: 'test', level: 'error' }) });
    const res = rt.podSandboxStats({ pod_sandbox_id: 'sa' });
    for (let i = 0; i < 20 && fake.pending().length < 2; i++) await new Promise((r) => setImmediate(r));
    assert.deepEqual(fake.pending(), ['ca', 'sa']);
    fake.tick();
    assert.equal((await res).stats?.linux?.cpu?.usage_core_nano_seconds?.value, 101);
    assert.equal(fake.rounds(), 1);
  });
});
