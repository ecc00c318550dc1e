// The Endpoints, EndpointSlice, ServiceAccount and ReplicationController controllers and the
// garbage collector's restart case, in-process against the real apiserver (real etcd), with
// pinned kubectl 1.32 reading what they wrote. No kubelet runs: the test binds pods itself
// (spec.nodeName) and writes their status (podIP, Ready) through pods/status.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isApiError, type EndpointSlice, type Pod, type ReplicaSet, type Service } from '@tskube/api';
import { Resources, type RestClient } from '@tskube/client';
import type { ControllerManager } from '@tskube/controller-manager';
import { startControllerManager, type RunningComponent } from '../support/control-plane.js';
import { startControlPlane, type ControlPlane } from '../support/kubelet-stack.js';
import { untilPasses, type Kubectl } from '../support/kubectl.js';

const CONTROLLERS = [
  'endpoints-controller', 'endpointslice-controller', 'serviceaccount-controller', 'replicationcontroller-controller',
  'replicaset-controller', 'garbage-collector-controller',
];

let plane: ControlPlane | undefined;
let admin: RestClient;
let cm: RunningComponent<ControllerManager> | undefined;
let kubectl: Kubectl;

const eventually = (what: string, fn: () => Promise<void> | void, timeoutMs = 15_000): Promise<void> => untilPasses(what, fn, timeoutMs, 100);

async function namespace(name: string): Promise<void> {
  await admin.resource(Resources.namespaces).create({ metadata: { name } });
}

/** Creates a pod bound to `node` and writes a Running status with `ip`, Ready or not (the kubelet's part). */
async function runningPod(ns: string, name: string, labels: Record<string, string>, node: string, ip: string, ready: boolean): Promise<Pod> {
  const created = await admin.resource(Resources.pods).create(ns, {
    metadata: { name, labels },
    spec: { nodeName: node, containers: [{ name: 'c', image: 'busybox:1', ports: [{ name: 'http', containerPort: 8080 }] }] },
  });
  return setStatus(created, ip, ready);
}

async function setStatus(pod: Pod, ip: string, ready: boolean): Promise<Pod> {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  return admin.resource(Resources.pods).updateStatus({
    ...pod,
    status: {
      phase: 'Running', podIP: ip, podIPs: [{ ip }], hostIP: '192.0.2.1', startTime: now,
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: now }],
    },
  });
}

before(async () => {
  plane = await startControlPlane({ name: 'service-controllers-it', controllerManager: { controllers: CONTROLLERS } });
  ({ admin, kubectl, controllerManager: cm } = plane);
});

after(async () => {
  // the controller-manager the GC test restarts is this file's; the first one stop() stops again (a no-op)
  await cm?.stop();
  await plane?.stop();
});

describe('service controllers against the apiserver', () => {
  test('Endpoints and EndpointSlices follow ready pod IPs; kubectl shows them', async () => {
    await namespace('svc');
    await admin.resource(Resources.nodes).create({ metadata: { name: 'node-a', labels: { 'topology.kubernetes.io/zone': 'zone-1' } } });
    await admin.resource(Resources.nodes).create({ metadata: { name: 'node-b' } });
    const svc: Service = await admin.resource(Resources.services).create('svc', {
      metadata: { name: 'web', labels: { tier: 'front' } },
      spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
    });
    await runningPod('svc', 'web-1', { app: 'web' }, 'node-a', '10.244.0.11', true);
    const web2 = await runningPod('svc', 'web-2', { app: 'web' }, 'node-b', '10.244.0.12', false);
    await runningPod('svc', 'other', { app: 'other' }, 'node-a', '10.244.0.13', true);

    await eventually('endpoints', async () => {
      const ep = await admin.resource(Resources.endpoints).get('svc', 'web');
      assert.deepEqual(ep.metadata?.labels, { tier: 'front' });
      assert.ok(ep.metadata?.annotations?.['endpoints.kubernetes.io/last-change-trigger-time']);
      assert.equal(ep.subsets?.length, 1);
      const s = ep.subsets![0]!;
      assert.deepEqual(s.addresses?.map((a) => [a.ip, a.nodeName, a.targetRef?.kind, a.targetRef?.name]), [['10.244.0.11', 'node-a', 'Pod', 'web-1']]);
      assert.deepEqual(s.notReadyAddresses?.map((a) => a.ip), ['10.244.0.12']);
      assert.deepEqual(s.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
    });
    let slice: EndpointSlice | undefined;
    await eventually('endpoint slice', async () => {
      const slices = (await admin.resource(Resources.endpointSlices).list({ namespace: 'svc', labelSelector: 'kubernetes.io/service-name=web' })).items;
      assert.equal(slices.length, 1);
      slice = slices[0]!;
      assert.equal(slice.endpoints?.length, 2);
    });
    assert.match(slice!.metadata!.name!, /^web-[a-z0-9]{5}$/);
    assert.equal(slice!.metadata!.labels?.['endpointslice.kubernetes.io/managed-by'], 'endpointslice-controller.k8s.io');
    assert.equal(slice!.metadata!.labels?.tier, 'front');
    assert.equal(slice!.addressType, 'IPv4');
    assert.deepEqual(slice!.metadata!.ownerReferences?.map((r) => [r.kind, r.name, r.uid, r.controller]), [['Service', 'web', svc.metadata?.uid, true]]);
    const byPod = new Map(slice!.endpoints.map((e) => [e.targetRef?.name, e]));
    assert.deepEqual(byPod.get('web-1')?.conditions, { ready: true, serving: true, terminating: false });
    assert.equal(byPod.get('web-1')?.zone, 'zone-1');
    assert.equal(byPod.get('web-1')?.nodeName, 'node-a');
    assert.deepEqual(byPod.get('web-2')?.conditions, { ready: false, serving: false, terminating: false });

    // web-2 turns ready: both objects follow, the slice in place.
    await setStatus(web2, '10.244.0.12', true);
    await eventually('web-2 ready everywhere', async () => {
      const ep = await admin.resource(Resources.endpoints).get('svc', 'web');
      assert.deepEqual(ep.subsets?.[0]?.addresses?.map((a) => a.ip), ['10.244.0.11', '10.244.0.12']);
      const s = await admin.resource(Resources.endpointSlices).get('svc', slice!.metadata!.name!);
      assert.ok(s.endpoints.every((e) => e.conditions?.ready === true));
    });

    const eps = await kubectl.ok(['get', 'endpoints', '-n', 'svc']);
    assert.match(eps, /^NAME\s+ENDPOINTS\s+AGE/);
    assert.match(eps, /web\s+10\.244\.0\.11:8080,10\.244\.0\.12:8080\s/);
    const slices = await kubectl.ok(['get', 'endpointslices', '-n', 'svc']);
    assert.match(slices, /^NAME\s+ADDRESSTYPE\s+PORTS\s+ENDPOINTS\s+AGE/);
    assert.match(slices, new RegExp(`${slice!.metadata!.name}\\s+IPv4\\s+8080\\s+10\\.244\\.0\\.1[12],10\\.244\\.0\\.1[12]\\s`));
    const described = await kubectl.ok(['describe', 'service', 'web', '-n', 'svc']);
    assert.match(described, /Selector:\s+app=web/);
    assert.match(described, /TargetPort:\s+http\/TCP/);
    assert.match(described, /Endpoints:\s+10\.244\.0\.11:8080,10\.244\.0\.12:8080/);

    // A Service without selector keeps hand-written Endpoints.
    await admin.resource(Resources.services).create('svc', { metadata: { name: 'manual' }, spec: { ports: [{ port: 80 }] } });
    await admin.resource(Resources.endpoints).create('svc', { metadata: { name: 'manual' }, subsets: [{ addresses: [{ ip: '192.0.2.10' }], ports: [{ port: 80 }] }] });

    // The Service goes: its Endpoints are deleted, its slices garbage-collected.
    await admin.resource(Resources.services).delete('svc', 'web');
    await eventually('endpoints and slices gone', async () => {
      await assert.rejects(admin.resource(Resources.endpoints).get('svc', 'web'), (e) => isApiError(e, 'NotFound'));
      const left = (await admin.resource(Resources.endpointSlices).list({ namespace: 'svc', labelSelector: 'kubernetes.io/service-name=web' })).items;
      assert.deepEqual(left, []);
    });
    const manual = await admin.resource(Resources.endpoints).get('svc', 'manual');
    assert.deepEqual(manual.subsets?.[0]?.addresses?.map((a) => a.ip), ['192.0.2.10']);
  });

  test('every namespace gets a default ServiceAccount, recreated when deleted; kubectl create token works', async () => {
    await namespace('fresh');
    await eventually('default service account', async () => { await admin.resource(Resources.serviceAccounts).get('fresh', 'default'); });
    const token = (await kubectl.ok(['create', 'token', 'default', '-n', 'fresh'])).trim();
    assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
    const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { sub?: string };
    assert.equal(payload.sub, 'system:serviceaccount:fresh:default');
    const before = await admin.resource(Resources.serviceAccounts).get('fresh', 'default');
    await admin.resource(Resources.serviceAccounts).delete('fresh', 'default');
    await eventually('default service account recreated', async () => {
      const sa = await admin.resource(Resources.serviceAccounts).get('fresh', 'default');
      assert.notEqual(sa.metadata?.uid, before.metadata?.uid);
    });
  });

  test('a ReplicationController keeps its replicas, with status and events on the RC', async () => {
    await namespace('rc');
    const rc = await admin.resource(Resources.replicationControllers).create('rc', {
      metadata: { name: 'legacy' },
      spec: { replicas: 3, selector: { app: 'legacy' }, template: { metadata: { labels: { app: 'legacy' } }, spec: { containers: [{ name: 'c', image: 'busybox:1' }] } } },
    });
    await eventually('3 pods and status', async () => {
      const pods = (await admin.resource(Resources.pods).list({ namespace: 'rc', labelSelector: 'app=legacy' })).items;
      assert.equal(pods.length, 3);
      for (const p of pods) assert.deepEqual(p.metadata?.ownerReferences?.map((r) => [r.apiVersion, r.kind, r.uid]), [['v1', 'ReplicationController', rc.metadata?.uid]]);
      const got = await admin.resource(Resources.replicationControllers).get('rc', 'legacy');
      assert.equal(got.status?.replicas, 3);
      assert.equal(got.status?.observedGeneration, got.metadata?.generation);
    });
    await eventually('SuccessfulCreate events on the RC', async () => {
      const evs = (await admin.resource(Resources.events).list({ namespace: 'rc', fieldSelector: 'involvedObject.kind=ReplicationController,reason=SuccessfulCreate' })).items;
      assert.equal(evs.length, 3);
      assert.equal(evs[0]!.source?.component, 'replication-controller');
    });
    const got = await kubectl.ok(['get', 'rc', 'legacy', '-n', 'rc']);
    assert.match(got, /legacy\s+3\s+3\s+0\s/);
    await kubectl.ok(['scale', 'rc', 'legacy', '--replicas=1', '-n', 'rc']);
    await eventually('scaled to 1', async () => {
      assert.equal((await admin.resource(Resources.pods).list({ namespace: 'rc', labelSelector: 'app=legacy' })).items.length, 1);
      assert.equal((await admin.resource(Resources.replicationControllers).get('rc', 'legacy')).status?.replicas, 1);
    });
  });

  test('pods of a ReplicaSet deleted while the controller-manager was down are collected after it restarts', async () => {
    await namespace('gc');
    const rs: ReplicaSet = await admin.resource(Resources.replicaSets).create('gc', {
      metadata: { name: 'orphaned' },
      spec: { replicas: 2, selector: { matchLabels: { app: 'orphaned' } }, template: { metadata: { labels: { app: 'orphaned' } }, spec: { containers: [{ name: 'c', image: 'busybox:1' }] } } },
    });
    const podsOf = async () => (await admin.resource(Resources.pods).list({ namespace: 'gc', labelSelector: 'app=orphaned' })).items;
    await eventually('2 pods', async () => assert.equal((await podsOf()).length, 2));
    await cm!.stop();
    cm = undefined;
    await admin.resource(Resources.replicaSets).delete('gc', 'orphaned', { propagationPolicy: 'Background' });
    await assert.rejects(admin.resource(Resources.replicaSets).get('gc', 'orphaned'), (e) => isApiError(e, 'NotFound'));
    await new Promise((r) => setTimeout(r, 300));
    const orphans = await podsOf();
    assert.equal(orphans.length, 2, 'nothing collects them while the controller-manager is down');
    assert.ok(orphans.every((p) => p.metadata?.ownerReferences?.[0]?.uid === rs.metadata?.uid));
    cm = await startControllerManager(plane!.api, { controllers: ['garbage-collector-controller'], identity: 'second' });
    await eventually('dependents of the vanished owner deleted', async () => assert.deepEqual(await podsOf(), []));
  });
});
