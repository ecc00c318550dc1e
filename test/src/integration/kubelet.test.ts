/**
 * The kubelet against a real apiserver (etcd + apiserver in this process, see
 * support/apiserver.ts) and the real Docker runtime, through real gRPC on a unix socket,
 * on a Docker network this test creates. The kubelet runs in this process, advertises
 * 127.0.0.1 and serves its API on an ephemeral port, so the apiserver's pods/log proxy
 * reaches it.
 *
 * Needs Docker with POD_IMAGE (default local/busybox:1) and PAUSE_IMAGE (default
 * local/pause:3.10), and the etcd binary. Every container it makes carries
 * tskube.cluster=<scope>; they and the network are removed in `after`, also on failure.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isApiError, type Event, type Pod } from '@tskube/api';
import { Resources, type Client } from '@tskube/client';
import { POD_IMAGE, scopeContainers } from '../support/docker.js';
import { NS, startKubeletStack, waitFor, type KubeletStack } from '../support/kubelet-stack.js';

describe('kubelet with the real apiserver and Docker', () => {
  let stack: KubeletStack;
  let admin: Client;
  let nodeName: string;

  before(async () => {
    stack = await startKubeletStack({ name: 'kubelet-it' });
    ({ admin, nodeName } = stack);
  });

  after(async () => {
    await stack?.stop();
  });

  /** A pod on this node: `main` running `sleep 3600` unless `spec` says otherwise, 2 s grace. */
  async function createPod(name: string, spec: Partial<NonNullable<Pod['spec']>>): Promise<Pod> {
    return stack.createPod(name, { terminationGracePeriodSeconds: 2, ...spec });
  }

  async function getPod(name: string): Promise<Pod> {
    return admin.resource(Resources.pods).get(NS, name);
  }

  async function podEvents(name: string): Promise<Event[]> {
    return (await admin.resource(Resources.events).list({ namespace: NS })).items.filter((e) => e.involvedObject.name === name);
  }

  it('registers the Node (Ready, InternalIP, kubelet port) and renews its Lease', async () => {
    const node = await waitFor('Ready node', async () => {
      const n = await admin.resource(Resources.nodes).get(nodeName);
      return n.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? n : undefined;
    });
    assert.deepEqual(node.status?.addresses, [{ type: 'InternalIP', address: '127.0.0.1' }, { type: 'Hostname', address: nodeName }]);
    assert.equal(node.status?.daemonEndpoints?.kubeletEndpoint?.Port, stack.endpoints.kubeletPort);
    assert.match(node.status?.nodeInfo?.containerRuntimeVersion ?? '', /^docker:\/\/\d+\./);
    assert.equal(node.metadata?.labels?.['kubernetes.io/hostname'], nodeName);
    const first = await admin.resource(Resources.leases).get('kube-node-lease', nodeName);
    assert.equal(first.spec?.holderIdentity, nodeName);
    assert.equal(first.metadata?.ownerReferences?.[0]?.uid, node.metadata?.uid);
    await waitFor('lease renewal', async () => {
      const l = await admin.resource(Resources.leases).get('kube-node-lease', nodeName);
      return l.spec?.renewTime !== first.spec?.renewTime;
    }, 10_000);
  });

  it('runs a pod bound by spec.nodeName: Running with a pod IP, labelled containers', async () => {
    const created = await createPod('web', {
      containers: [{
        name: 'main', image: POD_IMAGE, command: ['sh', '-c', 'echo "hello from $POD_NAME"; exec sleep 3600'],
        env: [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
      }],
    });
    const pod = await waitFor('web Running', async () => { const p = await getPod('web'); return p.status?.phase === 'Running' ? p : undefined; });
    assert.match(pod.status?.podIP ?? '', /^\d+\.\d+\.\d+\.\d+$/);
    assert.notEqual(pod.status?.podIP, '127.0.0.1');
    assert.equal(pod.status?.hostIP, '127.0.0.1');
    const cs = pod.status?.containerStatuses?.[0];
    assert.equal(cs?.ready, true);
    assert.match(cs?.containerID ?? '', /^docker:\/\/[0-9a-f]{64}$/);
    assert.equal(pod.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
    const ours = await scopeContainers(stack.scope, { 'io.kubernetes.pod.uid': created.metadata!.uid! });
    assert.equal(ours.length, 2, 'a sandbox and the main container');
    for (const c of ours) {
      assert.equal(c.Labels['tskube.node'], nodeName);
      assert.equal(c.Labels['tskube.cluster'], stack.scope.cluster);
      assert.equal(c.Labels['io.kubernetes.pod.name'], 'web');
    }
    const evs = await waitFor('Started event', async () => {
      const e = await podEvents('web');
      return e.some((x) => x.reason === 'Started') ? e : undefined;
    }, 10_000);
    assert.deepEqual(evs.filter((e) => e.source?.component === 'kubelet').map((e) => [e.reason, e.message, e.involvedObject.fieldPath]), [
      ['Pulled', `Container image "${POD_IMAGE}" already present on machine`, 'spec.containers{main}'],
      ['Created', 'Created container: main', 'spec.containers{main}'],
      ['Started', 'Started container main', 'spec.containers{main}'],
    ]);
  });

  it('GET pods/<p>/log through the apiserver returns the container output', async () => {
    const text = await waitFor('log text', async () => {
      const t = await admin.raw<string>('GET', `/api/v1/namespaces/${NS}/pods/web/log`, { query: { container: 'main' } });
      return t.includes('hello') ? t : undefined;
    }, 10_000);
    assert.equal(text, 'hello from web\n');
    const stamped = await admin.raw<string>('GET', `/api/v1/namespaces/${NS}/pods/web/log`, { query: { container: 'main', timestamps: true, tailLines: 1 } });
    assert.match(stamped, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z hello from web\n$/);
  });

  it('a container that exits 3 with restartPolicy Never ends the pod Failed with exit code 3', async () => {
    await createPod('fail', { restartPolicy: 'Never', containers: [{ name: 'main', image: POD_IMAGE, command: ['sh', '-c', 'echo bye; exit 3'] }] });
    const pod = await waitFor('fail Failed', async () => { const p = await getPod('fail'); return p.status?.phase === 'Failed' ? p : undefined; });
    const t = pod.status?.containerStatuses?.[0]?.state?.terminated;
    assert.equal(t?.exitCode, 3);
    assert.equal(t?.reason, 'Error');
    const text = await admin.raw<string>('GET', `/api/v1/namespaces/${NS}/pods/fail/log`, { query: { container: 'main' } });
    assert.equal(text, 'bye\n', 'logs of an exited container stay available');
  });

  it('an image that cannot be pulled shows ErrImagePull / ImagePullBackOff, and logs answer 400', async () => {
    const image = 'does-not-exist.invalid/tskube/nope:1';
    await createPod('nopull', { containers: [{ name: 'main', image }] });
    const seen = new Set<string>();
    await waitFor('ImagePullBackOff', async () => {
      const reason = (await getPod('nopull')).status?.containerStatuses?.[0]?.state?.waiting?.reason;
      if (reason) seen.add(reason);
      return reason === 'ImagePullBackOff';
    }, 30_000, 100);
    for (const r of seen) assert.ok(['ContainerCreating', 'ErrImagePull', 'ImagePullBackOff'].includes(r), `unexpected waiting reason ${r}`);
    const msgs = await waitFor('pull events', async () => {
      const m = (await podEvents('nopull')).map((e) => `${e.type} ${e.reason}: ${e.message}`);
      return m.includes('Warning Failed: Error: ErrImagePull') && m.includes('Warning Failed: Error: ImagePullBackOff') ? m : undefined;
    }, 10_000);
    assert.ok(msgs.includes(`Normal Pulling: Pulling image "${image}"`), msgs.join('\n'));
    assert.ok(msgs.some((m) => m.startsWith(`Warning Failed: Failed to pull image "${image}": `)), msgs.join('\n'));
    assert.ok(msgs.includes(`Normal BackOff: Back-off pulling image "${image}"`), msgs.join('\n'));
    await assert.rejects(
      admin.raw('GET', `/api/v1/namespaces/${NS}/pods/nopull/log`, { query: { container: 'main' } }),
      (e: unknown) => isApiError(e, 'BadRequest') && /^container "main" in pod "nopull" is waiting to start: /.test(e.message),
    );
  });

  it('after the kubelet is killed and restarted, it adopts the running containers', async () => {
    const web = await getPod('web');
    const before = (await scopeContainers(stack.scope, { 'io.kubernetes.pod.uid': web.metadata!.uid! })).map((c) => c.Id).sort();
    await stack.stopKubelet();
    await stack.startKubelet();
    await new Promise((r) => setTimeout(r, 3000));
    const afterIds = (await scopeContainers(stack.scope, { 'io.kubernetes.pod.uid': web.metadata!.uid! })).map((c) => c.Id).sort();
    assert.deepEqual(afterIds, before, 'the same sandbox and container, nothing duplicated');
    const pod = await getPod('web');
    assert.equal(pod.status?.phase, 'Running');
    assert.equal(pod.status?.containerStatuses?.[0]?.restartCount, 0);
    assert.equal(pod.status?.containerStatuses?.[0]?.containerID, web.status?.containerStatuses?.[0]?.containerID);
  });

  it('delete: the containers leave Docker and the pod object is removed', async () => {
    const web = await getPod('web');
    await admin.resource(Resources.pods).delete(NS, 'web');
    const marked = await getPod('web').catch(() => undefined);
    assert.ok(!marked || marked.metadata?.deletionTimestamp, 'the apiserver marks a bound pod');
    await waitFor('web removed', async () => {
      try { await getPod('web'); return false; } catch (e) { return isApiError(e, 'NotFound'); }
    }, 30_000);
    await waitFor('containers gone', async () => (await scopeContainers(stack.scope, { 'io.kubernetes.pod.uid': web.metadata!.uid! })).length === 0, 10_000);
  });
});
