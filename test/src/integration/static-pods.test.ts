/**
 * Static pods (issue 5) with the real apiserver (+ etcd, in this process), real Docker
 * through gRPC, the kubelet in-process with a manifest directory, and the pinned kubectl:
 * - a manifest runs as a pod (UID = its hash) and shows in the API as the mirror pod
 *   `<name>-<node>` (config.mirror/config.hash/config.source annotations, ownerReference to
 *   the Node) carrying the status (Running, pod IP);
 * - `kubectl delete` of the mirror pod: the kubelet creates it again; the containers keep
 *   running (same IDs, restartCount 0);
 * - a kubelet restart adopts the static pod's containers;
 * - removing the manifest stops the pod (containers removed) and deletes the mirror.
 *
 * Needs Docker with POD_IMAGE/PAUSE_IMAGE, the etcd binary and kubectl.1.32. Containers
 * carry tskube.cluster=<scope> and are removed in `after`, also on failure.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isApiError, type Pod } from '@tskube/api';
import { createClientFromKubeconfig, loadKubeconfig, Resources, type Client } from '@tskube/client';
import { buildKubelet, connectRuntime, DockerRuntime, serveRuntime, type RuntimeClient, type RuntimeServer } from '@tskube/kubelet';
import { createLogger, parseLogLevel } from '@tskube/log';
import { startApiServer, type TestApiServer } from '../support/apiserver.js';
import { destroyScope, makeScope, PAUSE_IMAGE, POD_IMAGE, scopeContainers, type DockerScope } from '../support/docker.js';
import { Kubectl } from '../support/kubectl.js';

const log = createLogger({ component: 'static-pods-it', level: parseLogLevel(process.env.TSKUBE_LOG_LEVEL, 'warn') });
const NS = 'default';

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 30_000, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

const MANIFEST = `apiVersion: v1
kind: Pod
metadata:
  name: static-web
  labels: {app: static-web}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: ${POD_IMAGE}
    command: [sh, -c, "echo static hello; exec sleep 3600"]
`;

describe('static pods with mirror pods', () => {
  let scope: DockerScope | undefined;
  let api: TestApiServer | undefined;
  let dir: string | undefined;
  let manifests: string;
  let service: RuntimeServer | undefined;
  let runtime: RuntimeClient | undefined;
  let admin: Client;
  let kubeletClient: Client;
  let kubectl: Kubectl;
  let nodeName: string;
  let mirrorName: string;
  let stopKubelet: (() => Promise<void>) | undefined;

  async function startKubelet(): Promise<void> {
    const kc = loadKubeconfig(api!.kubeconfigs.kubelet);
    assert.ok(kc.cert && kc.key && kc.ca);
    const kubelet = buildKubelet({
      settings: {
        nodeName, nodeIP: '127.0.0.1', bindAddress: '127.0.0.1', kubeletPort: 0, healthPort: 0, shutdownRemovePods: false,
        staticPodPath: manifests,
      },
      client: kubeletClient, runtime: runtime!, logger: log, tls: { cert: kc.cert, key: kc.key, ca: kc.ca },
      timing: { leaseRenewMs: 1000, nodeStatusIntervalMs: 2000, syncErrorBackoffMs: 1000, staticPodCheckMs: 1000, mirrorSyncMs: 200 },
    });
    const ac = new AbortController();
    const run = kubelet.start(ac.signal);
    await kubelet.ready();
    stopKubelet = async () => { ac.abort(); await run; stopKubelet = undefined; };
  }

  before(async () => {
    scope = await makeScope('static-it');
    nodeName = `${scope.cluster}-node`;
    mirrorName = `static-web-${nodeName}`;
    api = await startApiServer();
    dir = mkdtempSync(join(tmpdir(), 'tskube-static-it-'));
    manifests = join(dir, 'manifests');
    mkdirSync(manifests);
    writeFileSync(join(manifests, 'web.yaml'), MANIFEST);
    const docker = new DockerRuntime({ docker: scope.docker, nodeName, clusterName: scope.cluster, network: scope.network, pauseImage: PAUSE_IMAGE, logger: log });
    service = await serveRuntime(docker, join(dir, 'runtime.sock'), log);
    runtime = await connectRuntime(join(dir, 'runtime.sock'));
    admin = createClientFromKubeconfig(api.kubeconfig, { component: 'static-it' });
    kubeletClient = createClientFromKubeconfig(api.kubeconfigs.kubelet, { component: 'kubelet' });
    kubectl = new Kubectl(api.kubeconfig);
    await startKubelet();
  });

  after(async () => {
    await stopKubelet?.().catch((err: unknown) => log.error('stopping the kubelet failed', { err: String(err) }));
    runtime?.close();
    await service?.close();
    admin?.close();
    kubeletClient?.close();
    if (scope) await destroyScope(scope);
    await api?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function mirror(): Promise<Pod | undefined> {
    try {
      return await admin.resource(Resources.pods).get(NS, mirrorName);
    } catch (err) {
      if (isApiError(err, 'NotFound')) return undefined;
      throw err;
    }
  }

  async function runningMirror(notUid?: string): Promise<Pod> {
    return waitFor('a Running mirror pod', async () => {
      const m = await mirror();
      return m && m.metadata?.uid !== notUid && !m.metadata?.deletionTimestamp && m.status?.phase === 'Running' && m.status.podIP ? m : undefined;
    }, 40_000);
  }

  let hash: string;
  let ids: string[];

  it('runs the manifest and shows it as a mirror pod with the status', async () => {
    const m = await runningMirror();
    const node = await admin.resource(Resources.nodes).get(nodeName);
    hash = m.metadata!.annotations!['kubernetes.io/config.hash']!;
    assert.match(hash, /^[0-9a-f]{32}$/);
    assert.equal(m.metadata?.annotations?.['kubernetes.io/config.mirror'], hash);
    assert.equal(m.metadata?.annotations?.['kubernetes.io/config.source'], 'file');
    assert.notEqual(m.metadata?.uid, hash, 'the mirror has its own UID');
    assert.deepEqual(m.metadata?.ownerReferences?.map((o) => [o.apiVersion, o.kind, o.name, o.uid]), [['v1', 'Node', nodeName, node.metadata?.uid]]);
    assert.equal(m.spec?.nodeName, nodeName);
    assert.equal(m.status?.containerStatuses?.[0]?.restartCount, 0);
    ids = (await scopeContainers(scope!, { 'io.kubernetes.pod.uid': hash })).map((c) => c.Id).sort();
    assert.equal(ids.length, 2, 'the runtime objects carry the static pod UID (hash): sandbox + container');
    const out = await kubectl.ok(['get', 'pods', '-o', 'wide']);
    assert.match(out, new RegExp(`${mirrorName}\\s+1/1\\s+Running\\s+0`));
    const logs = await waitFor('logs', async () => { const o = await kubectl.ok(['logs', mirrorName]); return o.includes('static hello') ? o : undefined; }, 10_000);
    assert.match(logs, /static hello/, 'logs reach the static pod through its mirror');
  });

  it('kubectl delete of the mirror pod: recreated by the kubelet, the containers untouched', async () => {
    const before = (await mirror())!;
    await kubectl.ok(['delete', 'pod', mirrorName, '--wait=false']);
    const again = await runningMirror(before.metadata!.uid);
    assert.notEqual(again.metadata?.uid, before.metadata?.uid);
    assert.equal(again.metadata?.annotations?.['kubernetes.io/config.mirror'], hash);
    assert.equal(again.status?.containerStatuses?.[0]?.restartCount, 0);
    assert.deepEqual((await scopeContainers(scope!, { 'io.kubernetes.pod.uid': hash })).map((c) => c.Id).sort(), ids);
  });

  it('a kubelet restart adopts the static pod (same containers, same mirror)', async () => {
    const before = (await mirror())!;
    await stopKubelet!();
    await startKubelet();
    await new Promise((r) => setTimeout(r, 3000));
    assert.deepEqual((await scopeContainers(scope!, { 'io.kubernetes.pod.uid': hash })).map((c) => c.Id).sort(), ids);
    const m = await runningMirror();
    assert.equal(m.metadata?.uid, before.metadata?.uid, 'the mirror in sync is kept');
    assert.equal(m.status?.containerStatuses?.[0]?.restartCount, 0);
  });

  it('removing the manifest stops the pod and deletes the mirror', async () => {
    unlinkSync(join(manifests, 'web.yaml'));
    await waitFor('containers removed', async () => (await scopeContainers(scope!, { 'io.kubernetes.pod.uid': hash })).length === 0, 30_000);
    await waitFor('mirror deleted', async () => (await mirror()) === undefined, 15_000);
  });
});
