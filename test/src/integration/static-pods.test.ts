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
import { unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isApiError, type Pod } from '@tskube/api';
import { Resources, type Client } from '@tskube/client';
import { POD_IMAGE, scopeContainers } from '../support/docker.js';
import { Kubectl } from '../support/kubectl.js';
import { NS, startKubeletStack, waitFor, type KubeletStack } from '../support/kubelet-stack.js';

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
  let stack: KubeletStack;
  let admin: Client;
  let kubectl: Kubectl;
  let nodeName: string;
  let mirrorName: string;

  before(async () => {
    stack = await startKubeletStack({
      name: 'static-it', staticPods: { 'web.yaml': MANIFEST },
      timing: { staticPodCheckMs: 1000, mirrorSyncMs: 200 },
    });
    ({ admin, nodeName, kubectl } = stack);
    mirrorName = `static-web-${nodeName}`;
  });

  after(async () => {
    await stack?.stop();
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
    ids = (await scopeContainers(stack.scope, { 'io.kubernetes.pod.uid': hash })).map((c) => c.Id).sort();
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
    assert.deepEqual((await scopeContainers(stack.scope, { 'io.kubernetes.pod.uid': hash })).map((c) => c.Id).sort(), ids);
  });

  it('a kubelet restart adopts the static pod (same containers, same mirror)', async () => {
    const before = (await mirror())!;
    await stack.stopKubelet();
    await stack.startKubelet();
    await new Promise((r) => setTimeout(r, 3000));
    assert.deepEqual((await scopeContainers(stack.scope, { 'io.kubernetes.pod.uid': hash })).map((c) => c.Id).sort(), ids);
    const m = await runningMirror();
    assert.equal(m.metadata?.uid, before.metadata?.uid, 'the mirror in sync is kept');
    assert.equal(m.status?.containerStatuses?.[0]?.restartCount, 0);
  });

  it('removing the manifest stops the pod and deletes the mirror', async () => {
    unlinkSync(join(stack.staticPodDir!, 'web.yaml'));
    await waitFor('containers removed', async () => (await scopeContainers(stack.scope, { 'io.kubernetes.pod.uid': hash })).length === 0, 30_000);
    await waitFor('mirror deleted', async () => (await mirror()) === undefined, 15_000);
  });
});
