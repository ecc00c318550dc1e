/**
 * Restart safety of a real node (issue 5): the runtime service and the kubelet as real
 * processes under supervisor-main.js (as in compose), against a real apiserver + etcd
 * (in this process) and real Docker. Each part kills something with SIGKILL mid-life —
 * no graceful shutdown anywhere — and checks that the node comes back and adopts:
 *
 * 1. the kubelet process: restarted by the supervisor, it adopts the running pod's sandbox
 *    and container (same IDs, nothing duplicated, restartCount 0), and removes the
 *    containers of a pod force-deleted while it was down;
 * 2. the runtime process: restarted by the supervisor; the kubelet's gRPC channel
 *    reconnects, the pod is untouched and a new pod starts;
 * 3. the whole node (the supervisor; both children exit with it, as `docker kill`): a new
 *    supervisor adopts everything.
 *
 * Needs Docker with POD_IMAGE/PAUSE_IMAGE, the etcd binary, and `npx tsc -b services/kubelet`
 * (the processes run services/kubelet/dist). Containers carry tskube.cluster=<scope>; they,
 * the network and the processes are removed in `after`, also on failure.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isApiError, type Pod } from '@tskube/api';
import { Resources, type Client } from '@tskube/client';
import { PAUSE_IMAGE, scopeContainers } from '../support/docker.js';
import { NS, startApiStack, waitFor, type ApiStack } from '../support/kubelet-stack.js';
import { alive, NodeProcess } from '../support/node-process.js';

describe('restart safety: kill -9 of the kubelet, the runtime, the whole node', () => {
  let stack: ApiStack;
  let node: NodeProcess | undefined;
  let admin: Client;
  let nodeName: string;

  before(async () => {
    stack = await startApiStack({ name: 'restart-it' });
    ({ admin, nodeName } = stack);
    const { api, scope, dir } = stack;
    const n = new NodeProcess({
      env: {
        TSKUBE_KUBECONFIG: api.kubeconfigs.kubelet, TSKUBE_NODE_NAME: nodeName, TSKUBE_NODE_IP: '127.0.0.1',
        TSKUBE_KUBELET_BIND_ADDRESS: '127.0.0.1', TSKUBE_KUBELET_PORT: '0', TSKUBE_HEALTH_PORT: '0', TSKUBE_RUNTIME_HEALTH_PORT: '0',
        TSKUBE_POD_NETWORK: scope.network, TSKUBE_PAUSE_IMAGE: PAUSE_IMAGE, TSKUBE_CLUSTER_NAME: scope.cluster,
        TSKUBE_RUNTIME: 'docker', TSKUBE_RUNTIME_SOCKET: join(dir, 'runtime.sock'), TSKUBE_KUBELET_ROOT: join(dir, 'root'),
        TSKUBE_SHUTDOWN_REMOVE_PODS: 'false', TSKUBE_LOG_LEVEL: 'info',
      },
    });
    node = n;
    // the processes go before the scope's containers and the directory
    stack.defer(() => n.destroy());
    n.start();
    await stack.waitForNodeReady();
  });

  after(async () => {
    if (node && process.env.TSKUBE_TEST_DUMP_LOGS) process.stderr.write(`${node.tail(200)}\n`);
    await stack?.stop();
  });

  const createPod = (name: string): Promise<Pod> => stack.createPod(name);

  async function running(name: string): Promise<Pod> {
    return stack.waitForPod(name, 'Running', (p) => p.status?.phase === 'Running' && !!p.status.containerStatuses?.[0]?.state?.running);
  }

  /** IDs of the pod's sandbox and containers in Docker, sorted. */
  async function dockerIds(uid: string): Promise<string[]> {
    return (await scopeContainers(stack.scope, { 'io.kubernetes.pod.uid': uid })).map((c) => c.Id).sort();
  }

  /** The pod must stay exactly as it was: same Docker objects, Running, restartCount 0, same containerID. */
  async function assertAdopted(before: Pod, ids: string[]): Promise<void> {
    assert.equal(ids.length, 2, 'a sandbox and one container');
    assert.deepEqual(await dockerIds(before.metadata!.uid!), ids, 'the same sandbox and container, nothing duplicated');
    const now = await admin.resource(Resources.pods).get(NS, before.metadata!.name!);
    assert.equal(now.status?.phase, 'Running');
    assert.equal(now.status?.containerStatuses?.[0]?.restartCount, 0);
    assert.equal(now.status?.containerStatuses?.[0]?.containerID, before.status?.containerStatuses?.[0]?.containerID);
    assert.ok(now.status?.containerStatuses?.[0]?.state?.running, 'still running');
  }

  it('kill -9 of the kubelet: adopted by its labels, nothing duplicated; a pod deleted meanwhile is cleaned up', async () => {
    await createPod('keep');
    await createPod('doomed');
    const keep = await running('keep');
    const doomed = await running('doomed');
    const ids = await dockerIds(keep.metadata!.uid!);
    assert.equal((await dockerIds(doomed.metadata!.uid!)).length, 2);

    const old = node!.pid('kubelet')!;
    const started = node!.count('kubelet started');
    process.kill(old, 'SIGKILL');
    // Force-delete while the kubelet is down (the supervisor restarts it after 1 s): the
    // object is gone at once, so only the restarted kubelet's housekeeping can find the containers.
    await admin.resource(Resources.pods).delete(NS, 'doomed', { gracePeriodSeconds: 0 });
    await waitFor('a new kubelet', async () => node!.count('kubelet started') > started, 30_000);
    assert.notEqual(node!.pid('kubelet'), old);
    await waitFor('the deleted pod\'s containers removed', async () => (await dockerIds(doomed.metadata!.uid!)).length === 0, 20_000);
    // Give the restarted kubelet a few sync rounds to (wrongly) create anything.
    await new Promise((r) => setTimeout(r, 3000));
    await assertAdopted(keep, ids);
  });

  it('kill -9 of the runtime: the supervisor restarts it, the kubelet reconnects, pods untouched, a new pod starts', async () => {
    const keep = await running('keep');
    const ids = await dockerIds(keep.metadata!.uid!);
    const kubelet = node!.pid('kubelet');
    const old = node!.pid('runtime')!;
    const served = node!.count('runtime service started');
    process.kill(old, 'SIGKILL');
    await waitFor('a new runtime', async () => node!.count('runtime service started') > served, 20_000);
    assert.notEqual(node!.pid('runtime'), old);
    assert.equal(node!.pid('kubelet'), kubelet, 'the kubelet process survived');
    await createPod('after-runtime');
    await running('after-runtime');
    await assertAdopted(keep, ids);
    const n = await admin.resource(Resources.nodes).get(nodeName);
    assert.equal(n.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True', 'a short outage keeps the node Ready (upstream: 30 s)');
  });

  it('kill -9 of the whole node: both processes die with it; a new node process adopts everything', async () => {
    const keep = await running('keep');
    const other = await running('after-runtime');
    const ids = await dockerIds(keep.metadata!.uid!);
    const otherIds = await dockerIds(other.metadata!.uid!);
    const children = [node!.pid('runtime')!, node!.pid('kubelet')!];
    await node!.killSupervisor();
    await waitFor('the children exited with the supervisor', async () => children.every((p) => !alive(p)), 10_000);
    const started = node!.count('kubelet started');
    node!.start();
    await waitFor('a new kubelet', async () => node!.count('kubelet started') > started, 30_000);
    await new Promise((r) => setTimeout(r, 3000));
    await assertAdopted(keep, ids);
    await assertAdopted(other, otherIds);
    const all = await scopeContainers(stack.scope);
    assert.equal(all.length, 4, `two pods × (sandbox + container), nothing else: ${all.map((c) => c.Names[0]).join(', ')}`);
    await admin.resource(Resources.pods).delete(NS, 'keep');
    await waitFor('keep removed by the new kubelet', async () => {
      try { await admin.resource(Resources.pods).get(NS, 'keep'); return false; } catch (e) { return isApiError(e, 'NotFound'); }
    }, 30_000);
    assert.deepEqual(await dockerIds(keep.metadata!.uid!), []);
  });
});
