// Deployments end to end: the real apiserver (real etcd) and the controller-manager in-process
// with deployment-controller, replicaset-controller and the garbage collector, driven by the
// pinned kubectl 1.32 (`rollout status|history|undo|restart|pause|resume`, `set image`, `scale`).
// No kubelet runs: an in-test driver plays it, binding every pod to a fake node, reporting it
// Running and Ready, and finishing graceful deletions at once.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Deployment, Event, Pod, ReplicaSet } from '@tskube/api';
import { Resources, type RestClient } from '@tskube/client';
import { startControlPlane, type ControlPlane } from '../support/kubelet-stack.js';
import { untilPasses, type Kubectl } from '../support/kubectl.js';

const NS = 'deploy-it';
let plane: ControlPlane | undefined;
let admin: RestClient;
let kubectl: Kubectl;
/** Per Deployment name: samples of which images ran at the same moment (Recreate must never mix). */
const mixed = new Map<string, Set<string>[]>();
/** Images whose pods the driver binds but never reports ready. */
const stuckImages = new Set<string>();

const eventually = (what: string, fn: () => Promise<void> | void, timeoutMs = 20_000): Promise<void> => untilPasses(what, fn, timeoutMs, 150);

/** One pass of the fake kubelet over the namespace. */
async function drive(): Promise<void> {
  const pods = admin.resource(Resources.pods);
  const list = (await pods.list({ namespace: NS })).items;
  const images = new Map<string, Set<string>>();
  for (const p of list) {
    const name = p.metadata!.name!;
    const app = p.metadata?.labels?.app ?? '';
    if (!images.has(app)) images.set(app, new Set());
    images.get(app)!.add(p.spec?.containers[0]?.image ?? '');
    if (p.metadata?.deletionTimestamp) {
      await pods.delete(NS, name, { gracePeriodSeconds: 0 }).catch(() => undefined);
      continue;
    }
    if (!p.spec?.nodeName) {
      await pods.createSubresource(NS, name, 'binding', { apiVersion: 'v1', kind: 'Binding', metadata: { name }, target: { kind: 'Node', name: 'fake-node' } }).catch(() => undefined);
      continue;
    }
    if (p.status?.phase === 'Running' || stuckImages.has(p.spec?.containers[0]?.image ?? '')) continue;
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    await pods.patchStatus(NS, name, {
      status: {
        phase: 'Running', podIP: '10.0.0.1', startTime: now,
        conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now }, { type: 'ContainersReady', status: 'True', lastTransitionTime: now }],
      },
    }, 'merge').catch(() => undefined);
  }
  for (const [app, set] of images) {
    const l = mixed.get(app) ?? [];
    l.push(set);
    mixed.set(app, l);
  }
}

function deployment(name: string, replicas: number, strategy?: NonNullable<Deployment['spec']>['strategy']): Deployment {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: NS },
    spec: {
      replicas, selector: { matchLabels: { app: name } }, ...(strategy ? { strategy } : {}),
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'busybox:1' }] } },
    },
  };
}

const getDep = (name: string) => admin.resource(Resources.deployments).get(NS, name);

async function replicaSets(app: string): Promise<ReplicaSet[]> {
  return (await admin.resource(Resources.replicaSets).list({ namespace: NS, labelSelector: `app=${app}` })).items;
}

async function podsOf(app: string): Promise<Pod[]> {
  return (await admin.resource(Resources.pods).list({ namespace: NS, labelSelector: `app=${app}` })).items;
}

const imageOf = (o: { spec?: { template?: { spec?: { containers: readonly { image?: string }[] } } } }) => o.spec?.template?.spec?.containers[0]?.image;
const revisionOf = (o: { metadata?: { annotations?: Record<string, string> } }) => o.metadata?.annotations?.['deployment.kubernetes.io/revision'];

/** `kubectl rollout status` until it reports success (it exits non-zero on timeout). */
async function rolledOut(name: string): Promise<void> {
  const out = await kubectl.ok(['-n', NS, 'rollout', 'status', `deployment/${name}`, '--timeout=40s']);
  assert.match(out, new RegExp(`deployment "${name}" successfully rolled out`));
}

/** Every pod of `app` runs `image` and only the ReplicaSet with `image` has replicas. */
async function settled(app: string, image: string, replicas: number): Promise<void> {
  await eventually(`${app} settled on ${image}`, async () => {
    const pods = (await podsOf(app)).filter((p) => !p.metadata?.deletionTimestamp);
    assert.equal(pods.length, replicas);
    assert.ok(pods.every((p) => p.spec?.containers[0]?.image === image), 'every pod runs the new image');
    for (const rs of await replicaSets(app)) assert.equal(rs.spec?.replicas, imageOf(rs) === image ? replicas : 0, rs.metadata?.name);
  });
}

before(async () => {
  plane = await startControlPlane({
    name: 'deploy-it', namespaces: [NS],
    controllerManager: { controllers: ['deployment-controller', 'replicaset-controller', 'garbage-collector-controller'] },
  });
  ({ admin, kubectl } = plane);
  plane.loop(drive, 100);
});

after(async () => { await plane?.stop(); });

describe('deployment controller', () => {
  test('rollout, history, undo, restart, pause/resume, scale to zero and back', async () => {
    await admin.resource(Resources.deployments).create(NS, deployment('web', 3));
    await rolledOut('web');
    let d = await getDep('web');
    assert.deepEqual([d.status?.replicas, d.status?.updatedReplicas, d.status?.readyReplicas, d.status?.availableReplicas], [3, 3, 3, 3]);
    assert.equal(revisionOf(d), '1');
    const [first] = await replicaSets('web');
    const hash = first!.metadata!.labels!['pod-template-hash']!;
    assert.equal(first!.metadata!.name, `web-${hash}`);
    assert.ok((await podsOf('web')).every((p) => p.metadata?.labels?.['pod-template-hash'] === hash));

    // An image change rolls out: old ReplicaSet at 0, new one at 3, revision 2.
    await kubectl.ok(['-n', NS, 'set', 'image', 'deployment/web', 'c=busybox:2']);
    await rolledOut('web');
    await settled('web', 'busybox:2', 3);
    d = await getDep('web');
    assert.equal(revisionOf(d), '2');
    assert.equal(d.status?.observedGeneration, d.metadata?.generation);
    assert.equal(d.status?.conditions?.find((c) => c.type === 'Progressing')?.reason, 'NewReplicaSetAvailable');
    assert.equal(d.status?.conditions?.find((c) => c.type === 'Available')?.reason, 'MinimumReplicasAvailable');

    const history = await kubectl.ok(['-n', NS, 'rollout', 'history', 'deployment/web']);
    assert.match(history, /^deployment\.apps\/web\s*\nREVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>\n/m);

    // kubectl rollout undo (client side: the template of revision 1 patched back): the first
    // ReplicaSet comes back as revision 3, no new ReplicaSet is made.
    const undo = await kubectl.ok(['-n', NS, 'rollout', 'undo', 'deployment/web']);
    assert.match(undo, /deployment\.apps\/web rolled back/);
    await rolledOut('web');
    await settled('web', 'busybox:1', 3);
    assert.equal((await replicaSets('web')).length, 2);
    const back = (await replicaSets('web')).find((rs) => rs.metadata?.name === first!.metadata!.name)!;
    assert.equal(revisionOf(back), '3');
    assert.equal(back.metadata?.annotations?.['deployment.kubernetes.io/revision-history'], '1');
    assert.equal(revisionOf(await getDep('web')), '3');
    assert.match(await kubectl.ok(['-n', NS, 'rollout', 'history', 'deployment/web']), /REVISION\s+CHANGE-CAUSE\n2\s+<none>\n3\s+<none>\n/);

    // kubectl rollout restart: a template annotation, so a normal rollout to revision 4.
    await kubectl.ok(['-n', NS, 'rollout', 'restart', 'deployment/web']);
    await rolledOut('web');
    await eventually('restart rolled out', async () => {
      const sets = await replicaSets('web');
      assert.equal(sets.length, 3);
      const restarted = sets.find((rs) => rs.spec?.template?.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt'])!;
      assert.equal(restarted.spec?.replicas, 3);
      assert.equal(revisionOf(restarted), '4');
      assert.equal(sets.filter((rs) => rs !== restarted).reduce((n, rs) => n + (rs.spec?.replicas ?? 0), 0), 0);
    });

    // Pause: a template change does nothing; resume: it rolls out.
    await kubectl.ok(['-n', NS, 'rollout', 'pause', 'deployment/web']);
    await eventually('paused condition', async () => {
      const c = (await getDep('web')).status?.conditions?.find((x) => x.type === 'Progressing');
      assert.deepEqual([c?.status, c?.reason, c?.message], ['Unknown', 'DeploymentPaused', 'Deployment is paused']);
    });
    await kubectl.ok(['-n', NS, 'set', 'image', 'deployment/web', 'c=busybox:3']);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal((await replicaSets('web')).filter((rs) => imageOf(rs) === 'busybox:3').length, 0, 'no rollout while paused');
    const undoPaused = await kubectl.run(['-n', NS, 'rollout', 'undo', 'deployment/web']);
    assert.notEqual(undoPaused.code, 0);
    assert.match(undoPaused.stderr, /you cannot rollback a paused deployment; resume it first with 'kubectl rollout resume' and try again/);
    await kubectl.ok(['-n', NS, 'rollout', 'resume', 'deployment/web']);
    await rolledOut('web');
    await settled('web', 'busybox:3', 3);

    // Scale to zero and back.
    await kubectl.ok(['-n', NS, 'scale', 'deployment/web', '--replicas=0']);
    await eventually('scaled to zero', async () => {
      assert.equal((await podsOf('web')).length, 0);
      const s = (await getDep('web')).status;
      assert.equal(s?.replicas ?? 0, 0);
      assert.equal(s?.availableReplicas ?? 0, 0);
    });
    await kubectl.ok(['-n', NS, 'scale', 'deployment/web', '--replicas=3']);
    await rolledOut('web');
    await settled('web', 'busybox:3', 3);

    // The events kubectl shows.
    const events = (await admin.resource(Resources.events).list({ namespace: NS })).items as Event[];
    const msgs = events.filter((e) => e.involvedObject?.name === 'web' && e.reason === 'ScalingReplicaSet').map((e) => e.message ?? '');
    assert.ok(msgs.includes(`Scaled up replica set web-${hash} from 0 to 3`), msgs.join('\n'));
    assert.ok(msgs.some((m) => /^Scaled down replica set web-\w+ from 3 to 0$/.test(m)), msgs.join('\n'));
    assert.ok(events.some((e) => e.source?.component === 'deployment-controller'));

    // Deleting the Deployment removes its ReplicaSets and pods (garbage collector).
    await kubectl.ok(['-n', NS, 'delete', 'deployment', 'web']);
    await eventually('dependents collected', async () => {
      assert.equal((await replicaSets('web')).length, 0);
      assert.equal((await podsOf('web')).length, 0);
    });
  });

  test('Recreate: the old pods are gone before new ones start', async () => {
    await admin.resource(Resources.deployments).create(NS, deployment('batch', 2, { type: 'Recreate' }));
    await rolledOut('batch');
    mixed.delete('batch');
    await kubectl.ok(['-n', NS, 'set', 'image', 'deployment/batch', 'c=busybox:2']);
    await rolledOut('batch');
    await settled('batch', 'busybox:2', 2);
    const samples = mixed.get('batch') ?? [];
    assert.ok(samples.length > 0);
    assert.ok(samples.every((s) => s.size <= 1), `old and new pods at once: ${JSON.stringify(samples.map((s) => [...s]))}`);
    assert.ok(samples.some((s) => s.has('busybox:1')) && samples.some((s) => s.has('busybox:2')));
  });

  test('minReadySeconds: ready pods count as available only after that long', async () => {
    const d = deployment('slow', 2);
    d.spec!.minReadySeconds = 2;
    await admin.resource(Resources.deployments).create(NS, d);
    await eventually('ready but not yet available', async () => {
      const s = (await getDep('slow')).status;
      assert.equal(s?.readyReplicas, 2);
      assert.equal(s?.availableReplicas ?? 0, 0);
      assert.equal(s?.unavailableReplicas, 2);
    });
    const readyAt = Date.now();
    await rolledOut('slow');
    assert.ok(Date.now() - readyAt >= 1000, 'available only after minReadySeconds');
    assert.equal((await replicaSets('slow'))[0]?.spec?.minReadySeconds, 2);
  });

  test('progressDeadlineSeconds: a rollout that cannot progress reports ProgressDeadlineExceeded and rollout status fails', async () => {
    const d = deployment('stuck', 1);
    d.spec!.progressDeadlineSeconds = 2;
    await admin.resource(Resources.deployments).create(NS, d);
    await rolledOut('stuck');
    stuckImages.add('busybox:9');
    await kubectl.ok(['-n', NS, 'set', 'image', 'deployment/stuck', 'c=busybox:9']);
    await eventually('deadline exceeded', async () => {
      const c = (await getDep('stuck')).status?.conditions?.find((x) => x.type === 'Progressing');
      assert.equal(c?.status, 'False');
      assert.equal(c?.reason, 'ProgressDeadlineExceeded');
      assert.match(c?.message ?? '', /^ReplicaSet "stuck-\w+" has timed out progressing\.$/);
    });
    const r = await kubectl.run(['-n', NS, 'rollout', 'status', 'deployment/stuck', '--timeout=10s']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /deployment "stuck" exceeded its progress deadline/);
  });
});
