/**
 * The CRI conformance suite against the Docker runtime, through real gRPC: two
 * DockerRuntimes (two nodes on one engine) served in-process on temp unix sockets, on a
 * Docker network this test creates. Plus Docker-specific checks (names, labels, namespaces,
 * resources, pull errors).
 *
 * Needs Docker and the local images: POD_IMAGE (default local/busybox:1) and PAUSE_IMAGE
 * (default local/pause:3.10). Removes every container (by its tskube.cluster label) and the
 * network it made, also when tests fail.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Dockerode from 'dockerode';
import { Code, CriError, DockerRuntime, connectRuntime, serveRuntime, type RuntimeServer, type RuntimeClient } from '@tskube/kubelet';
import { runtimeConformance } from '@tskube/kubelet/cri/conformance';
import { createLogger, parseLogLevel } from '@tskube/log';

const POD_IMAGE = process.env.POD_IMAGE || 'local/busybox:1';
const PAUSE_IMAGE = process.env.PAUSE_IMAGE || 'local/pause:3.10';
const HOW_TO = 'start dockerd: sudo ../shared/tools/offline-images.sh';

const log = createLogger({ component: 'cri-docker-test', level: parseLogLevel(process.env.TSKUBE_LOG_LEVEL, 'warn') });

/** A Docker client that works, with the images present; throws a how-to otherwise. */
async function requireDocker(): Promise<Dockerode> {
  const docker = new Dockerode();
  try {
    await docker.ping();
  } catch (err) {
    throw new Error(`Docker is not reachable (${err instanceof Error ? err.message : String(err)}); ${HOW_TO}`);
  }
  for (const image of [POD_IMAGE, PAUSE_IMAGE]) {
    try {
      await docker.getImage(image).inspect();
    } catch {
      throw new Error(`image ${image} is not in the local Docker engine; ${HOW_TO}`);
    }
  }
  return docker;
}

interface Scope {
  docker: Dockerode;
  cluster: string;
  network: string;
}

/** Creates a uniquely named cluster label value and Docker network. */
async function makeScope(): Promise<Scope> {
  const docker = await requireDocker();
  const id = randomBytes(4).toString('hex');
  const scope = { docker, cluster: `cri-test-${id}`, network: `tskube-cri-test-${id}` };
  await docker.createNetwork({ Name: scope.network, Labels: { 'tskube.cluster': scope.cluster } });
  return scope;
}

/** Removes every container labelled with the scope's cluster, then its network. Never throws. */
async function destroyScope(s: Scope): Promise<void> {
  try {
    const leftovers = await s.docker.listContainers({ all: true, filters: { label: [`tskube.cluster=${s.cluster}`] } });
    await Promise.all(leftovers.map((c) => s.docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined)));
  } catch (err) {
    log.error('cleanup: listing containers failed', { err: err instanceof Error ? err : String(err) });
  }
  try {
    await s.docker.getNetwork(s.network).remove();
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode !== 404) {
      log.error('cleanup: removing network failed', { network: s.network, err: err instanceof Error ? err : String(err) });
    }
  }
}

function dockerRuntime(s: Scope, nodeName: string): DockerRuntime {
  return new DockerRuntime({ docker: s.docker, nodeName, clusterName: s.cluster, network: s.network, pauseImage: PAUSE_IMAGE, logger: log });
}

runtimeConformance('docker over gRPC', async () => {
  const scope = await makeScope();
  const dir = mkdtempSync(join(tmpdir(), 'tskube-cri-docker-'));
  const servers: RuntimeServer[] = [];
  const clients: RuntimeClient[] = [];
  const cleanup = async (): Promise<void> => {
    for (const c of clients) c.close();
    await Promise.all(servers.map((s) => s.close()));
    await destroyScope(scope);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const nodeA = `${scope.cluster}-a`;
    servers.push(await serveRuntime(dockerRuntime(scope, nodeA), join(dir, 'a.sock'), log));
    servers.push(await serveRuntime(dockerRuntime(scope, `${scope.cluster}-b`), join(dir, 'b.sock'), log));
    clients.push(await connectRuntime(join(dir, 'a.sock')), await connectRuntime(join(dir, 'b.sock')));
    const [runtime, peer] = clients;
    assert.ok(runtime && peer);
    return { runtime, peer, image: POD_IMAGE, nodeName: nodeA, cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
});

describe('DockerRuntime: how CRI objects look in Docker', () => {
  let scope: Scope | undefined;
  let rt: DockerRuntime;
  const node = (): string => `${scope?.cluster}-n`;

  before(async () => {
    scope = await makeScope();
    rt = dockerRuntime(scope, node());
  });
  after(async () => { if (scope) await destroyScope(scope); });

  it('names, labels, namespaces and resources follow the dockershim conventions', async () => {
    assert.ok(scope);
    const { docker } = scope;
    const config = {
      metadata: { name: 'web', namespace: 'shop', uid: `uid-${randomBytes(3).toString('hex')}`, attempt: 1 },
      hostname: 'web-host',
      labels: { app: 'web' },
      annotations: { 'example.com/owner': 'team-a' },
    };
    const { pod_sandbox_id: sbId } = await rt.runPodSandbox({ config });
    const sb = await docker.getContainer(sbId).inspect();
    assert.equal(sb.Name, `/k8s_POD_web_shop_${config.metadata.uid}_1`);
    assert.equal(sb.Config.Image, PAUSE_IMAGE);
    assert.equal(sb.Config.Hostname, 'web-host');
    assert.equal(sb.HostConfig.NetworkMode, scope.network);
    const sbLabels = sb.Config.Labels;
    for (const [k, v] of Object.entries({
      app: 'web', 'io.kubernetes.pod.name': 'web', 'io.kubernetes.pod.namespace': 'shop',
      'io.kubernetes.pod.uid': config.metadata.uid, 'io.kubernetes.container.name': 'POD',
      'io.kubernetes.docker.type': 'podsandbox', 'tskube.node': node(), 'tskube.cluster': scope.cluster,
    })) assert.equal(sbLabels[k], v, `sandbox label ${k}`);
    assert.ok(Object.values(sbLabels).includes('team-a'), 'annotation kept as a label');
    const podIp = (await rt.podSandboxStatus({ pod_sandbox_id: sbId })).status?.network?.ip;
    assert.equal(podIp, sb.NetworkSettings.Networks[scope.network]?.IPAddress);

    const { container_id: cId } = await rt.createContainer({
      pod_sandbox_id: sbId,
      sandbox_config: config,
      config: {
        metadata: { name: 'app', attempt: 2 },
        image: { image: POD_IMAGE },
        command: ['sleep'],
        args: ['3600'],
        working_dir: '/tmp',
        envs: [{ key: 'MODE', value: 'test' }],
        log_path: 'app/2.log',
        linux: { resources: { cpu_shares: 512, cpu_quota: 50_000, cpu_period: 100_000, memory_limit_in_bytes: 64 * 1024 * 1024, memory_swap_limit_in_bytes: 64 * 1024 * 1024, oom_score_adj: 300 } },
      },
    });
    const c = await docker.getContainer(cId).inspect();
    assert.equal(c.Name, `/k8s_app_web_shop_${config.metadata.uid}_2`);
    assert.deepEqual(c.Config.Entrypoint, ['sleep']);
    assert.deepEqual(c.Config.Cmd, ['3600']);
    assert.equal(c.Config.WorkingDir, '/tmp');
    assert.ok(c.Config.Env.includes('MODE=test'));
    assert.equal(c.HostConfig.NetworkMode, `container:${sbId}`);
    assert.equal(c.HostConfig.IpcMode, `container:${sbId}`);
    assert.equal(c.HostConfig.CpuShares, 512);
    assert.equal(c.HostConfig.CpuQuota, 50_000);
    assert.equal(c.HostConfig.CpuPeriod, 100_000);
    assert.equal(c.HostConfig.Memory, 64 * 1024 * 1024);
    assert.equal(c.Config.Labels['tskube.node'], node());
    assert.equal(c.Config.Labels['io.kubernetes.container.name'], 'app');

    await rt.startContainer({ container_id: cId });
    const st = (await rt.containerStatus({ container_id: cId })).status;
    assert.equal(st?.log_path, 'app/2.log');
    assert.deepEqual(st?.metadata, { name: 'app', attempt: 2 });
    assert.deepEqual(st?.resources?.linux, {
      cpu_shares: 512, cpu_quota: 50_000, cpu_period: 100_000, memory_limit_in_bytes: 64 * 1024 * 1024, memory_swap_limit_in_bytes: 64 * 1024 * 1024, oom_score_adj: 300,
    });
    assert.ok(!Object.keys(st?.labels ?? {}).some((k) => k.startsWith('tskube.annotation.') || k === 'io.kubernetes.docker.type'),
      'bookkeeping labels are hidden');

    // The container lives in the sandbox's network namespace (same IP) and sees its hostname.
    const ip = await rt.execSync({ container_id: cId, cmd: ['sh', '-c', 'hostname; ip -4 -o addr show eth0'], timeout: 10 });
    const out = Buffer.from(ip.stdout).toString();
    assert.equal(ip.exit_code, 0, Buffer.from(ip.stderr).toString());
    assert.match(out, /^web-host\n/);
    assert.ok(podIp && out.includes(`${podIp}/`), `exec output ${JSON.stringify(out)} shows pod IP ${podIp}`);

    await rt.removePodSandbox({ pod_sandbox_id: sbId });
    const left = await docker.listContainers({ all: true, filters: { label: [`io.kubernetes.pod.uid=${config.metadata.uid}`] } });
    assert.deepEqual(left, []);
  });

  it('maps a failed pull to a CriError naming the image', async () => {
    const ref = `tskube.invalid/missing-${randomBytes(3).toString('hex')}:0`;
    await assert.rejects(rt.pullImage({ image: { image: ref } }), (err: unknown) => {
      assert.ok(err instanceof CriError, String(err));
      assert.ok([Code.NOT_FOUND, Code.UNAVAILABLE].includes(err.code), `code ${err.codeName}: ${err.message}`);
      assert.match(err.message, new RegExp(`pull image "${ref.replace(/[.]/g, '\\.')}"`));
      return true;
    });
  });

  it('reports the runtime and network ready, and NetworkReady false for a missing network', async () => {
    assert.ok(scope);
    const ok = await rt.status({});
    assert.deepEqual(ok.status?.conditions.map((c) => [c.type, c.status]), [['RuntimeReady', true], ['NetworkReady', true]]);
    const broken = new DockerRuntime({
      docker: scope.docker, nodeName: node(), clusterName: scope.cluster, network: `${scope.network}-absent`, pauseImage: PAUSE_IMAGE, logger: log,
    });
    const bad = await broken.status({});
    assert.deepEqual(bad.status?.conditions.map((c) => [c.type, c.status]), [['RuntimeReady', true], ['NetworkReady', false]]);
  });
});
