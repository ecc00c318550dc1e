import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { Deployment, Pod, ReplicaSet } from '@tskube/api';
import { Resources, type ReconcileResult } from '@tskube/client';
import { eventually, harness, type Harness } from '../testing.js';
import { DeploymentController } from './deployment-controller.js';
import { computeHash } from '../util/hash.js';

const DEP_DEF = { group: 'apps', plural: 'deployments' };
const RS_DEF = { group: 'apps', plural: 'replicasets' };
const POD_DEF = { group: '', plural: 'pods' };
const KEY = 'default/web';

interface DepOpts {
  replicas?: number;
  image?: string;
  strategy?: Deployment['spec'] extends infer S ? S extends { strategy?: infer T } ? T : never : never;
  annotations?: Record<string, string>;
  paused?: boolean;
  revisionHistoryLimit?: number;
  progressDeadlineSeconds?: number;
  minReadySeconds?: number;
}

/** A Deployment as the apiserver stores it after defaulting. */
function deployment(o: DepOpts = {}): Deployment {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', generation: 1, ...(o.annotations ? { annotations: o.annotations } : {}) },
    spec: {
      replicas: o.replicas ?? 3,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: o.image ?? 'busybox:1' }] } },
      strategy: o.strategy ?? { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      revisionHistoryLimit: o.revisionHistoryLimit ?? 10,
      progressDeadlineSeconds: o.progressDeadlineSeconds ?? 600,
      ...(o.paused ? { paused: true } : {}),
      ...(o.minReadySeconds ? { minReadySeconds: o.minReadySeconds } : {}),
    },
  };
}

describe('DeploymentController', () => {
  let h: Harness;
  let c: DeploymentController;
  beforeEach(() => {
    h = harness();
    c = new DeploymentController({ client: h.fake, informers: h.informers, logger: h.logger, recorder: h.recorder, now: h.clock.now });
  });
  afterEach(async () => { await h.stop(); });

  const deps = () => h.fake.resource(Resources.deployments);
  const rss = () => h.fake.resource(Resources.replicaSets);
  const getDep = () => deps().get('default', 'web');
  async function listRS(): Promise<ReplicaSet[]> {
    return (await rss().list({ namespace: 'default' })).items.sort((a, b) => a.metadata!.name!.localeCompare(b.metadata!.name!));
  }
  async function rsByImage(image: string): Promise<ReplicaSet | undefined> {
    return (await listRS()).find((r) => r.spec?.template?.spec?.containers[0]?.image === image);
  }

  /** Waits until every informer cache shows what the fake stores. */
  async function caughtUp(): Promise<void> {
    await eventually(async () => {
      const rv = (xs: readonly { metadata?: { name?: string; resourceVersion?: string } }[]) =>
        xs.map((x) => `${x.metadata?.name}@${x.metadata?.resourceVersion}`).sort();
      assert.deepEqual(rv(h.informers.informer(Resources.deployments).lister.list()), rv((await deps().list({})).items));
      assert.deepEqual(rv(h.informers.informer(Resources.replicaSets).lister.list()), rv((await rss().list({})).items));
      assert.deepEqual(rv(h.informers.informer(Resources.pods).lister.list()),
        rv((await h.fake.resource(Resources.pods).list({})).items));
    });
  }

  /** The ReplicaSet controller, instantly: every ReplicaSet reports spec.replicas pods, `available(rs)` of them available (default all). */
  async function runReplicaSets(available: (rs: ReplicaSet) => number = (rs) => rs.spec?.replicas ?? 0): Promise<void> {
    for (const rs of await listRS()) {
      const n = rs.spec?.replicas ?? 0;
      const a = Math.min(n, available(rs));
      await rss().updateStatus({ ...rs, status: { replicas: n, readyReplicas: a, availableReplicas: a, observedGeneration: rs.metadata?.generation } });
    }
  }

  async function step(available?: (rs: ReplicaSet) => number): Promise<ReconcileResult> {
    await caughtUp();
    const r = await c.reconcile(KEY);
    await runReplicaSets(available);
    await caughtUp();
    return r;
  }

  async function setTemplateImage(image: string): Promise<void> {
    const d = await getDep();
    d.spec!.template.spec!.containers[0]!.image = image;
    await deps().update(d);
  }

  const scalingEvents = () => h.recorder.events.filter((e) => e.reason === 'ScalingReplicaSet').map((e) => e.message);
  const progressing = (d: Deployment) => d.status?.conditions?.find((x) => x.type === 'Progressing');
  const available = (d: Deployment) => d.status?.conditions?.find((x) => x.type === 'Available');

  it('creates <deployment>-<hash> with the hash label, revision and replicas annotations, and reports progress', async () => {
    h.fake.seed(DEP_DEF, deployment({ replicas: 3, annotations: { 'kubernetes.io/change-cause': 'first' } }));
    await h.start();
    await step();
    const hash = computeHash(deployment().spec!.template);
    const [rs] = await listRS();
    assert.equal(rs?.metadata?.name, `web-${hash}`);
    assert.deepEqual(rs?.metadata?.labels, { app: 'web', 'pod-template-hash': hash });
    assert.deepEqual(rs?.spec?.selector, { matchLabels: { app: 'web', 'pod-template-hash': hash } });
    assert.deepEqual(rs?.spec?.template?.metadata?.labels, { app: 'web', 'pod-template-hash': hash });
    assert.equal(rs?.spec?.replicas, 3);
    assert.deepEqual(rs?.metadata?.annotations, {
      'kubernetes.io/change-cause': 'first', 'deployment.kubernetes.io/revision': '1',
      'deployment.kubernetes.io/desired-replicas': '3', 'deployment.kubernetes.io/max-replicas': '4',
    });
    const d = await getDep();
    assert.deepEqual(rs?.metadata?.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: d.metadata?.uid, controller: true, blockOwnerDeletion: true }]);
    assert.equal(d.metadata?.annotations?.['deployment.kubernetes.io/revision'], '1');
    assert.deepEqual([progressing(d)?.status, progressing(d)?.reason, progressing(d)?.message], ['True', 'NewReplicaSetCreated', `Created new replica set "web-${hash}"`]);
    assert.deepEqual(scalingEvents(), [`Scaled up replica set web-${hash} from 0 to 3`]);

    // The ReplicaSet reports its pods: the Deployment completes.
    await step();
    const done = await getDep();
    assert.deepEqual([done.status?.replicas, done.status?.updatedReplicas, done.status?.readyReplicas, done.status?.availableReplicas, done.status?.unavailableReplicas, done.status?.observedGeneration],
      [3, 3, 3, 3, undefined, 1]);
    assert.deepEqual([progressing(done)?.reason, progressing(done)?.message], ['NewReplicaSetAvailable', `ReplicaSet "web-${hash}" has successfully progressed.`]);
    assert.deepEqual([available(done)?.status, available(done)?.reason], ['True', 'MinimumReplicasAvailable']);
    // Nothing left to do: no write.
    const rv = done.metadata?.resourceVersion;
    await step();
    assert.equal((await getDep()).metadata?.resourceVersion, rv);
  });

  const rolling: { name: string; replicas: number; maxSurge: number | string; maxUnavailable: number | string; events: string[] }[] = [
    { name: 'ints 3/2 of 10', replicas: 10, maxSurge: 3, maxUnavailable: 2,
      events: ['up N 0→3', 'down O 10→8', 'up N 3→5', 'down O 8→3', 'up N 5→10', 'down O 3→0'] },
    { name: 'percentages 25%/25% of 10 (surge rounds up to 3, unavailable down to 2)', replicas: 10, maxSurge: '25%', maxUnavailable: '25%',
      events: ['up N 0→3', 'down O 10→8', 'up N 3→5', 'down O 8→3', 'up N 5→10', 'down O 3→0'] },
    { name: 'percentages 25%/25% of 5 (2 and 1)', replicas: 5, maxSurge: '25%', maxUnavailable: '25%',
      events: ['up N 0→2', 'down O 5→4', 'up N 2→3', 'down O 4→1', 'up N 3→5', 'down O 1→0'] },
    { name: 'no surge, 1 unavailable of 3', replicas: 3, maxSurge: 0, maxUnavailable: 1,
      events: ['down O 3→2', 'up N 0→1', 'down O 2→1', 'up N 1→2', 'down O 1→0', 'up N 2→3'] },
    { name: 'surge 50% (2), nothing unavailable, of 3', replicas: 3, maxSurge: '50%', maxUnavailable: '0%',
      events: ['up N 0→2', 'down O 3→1', 'up N 2→3', 'down O 1→0'] },
  ];
  for (const tc of rolling) {
    it(`rolling update steps: ${tc.name}`, async () => {
      const strategy = { type: 'RollingUpdate' as const, rollingUpdate: { maxSurge: tc.maxSurge, maxUnavailable: tc.maxUnavailable } };
      h.fake.seed(DEP_DEF, deployment({ replicas: tc.replicas, strategy }));
      await h.start();
      await step();
      await step();
      const old = (await listRS())[0]!;
      h.recorder.events.length = 0;
      h.clock.advance(1000);
      await setTemplateImage('busybox:2');
      const d0 = await getDep();
      const surge = tc.replicas + (typeof tc.maxSurge === 'number' ? tc.maxSurge : Math.ceil(parseInt(tc.maxSurge, 10) * tc.replicas / 100));
      const minAvail = tc.replicas - (typeof tc.maxUnavailable === 'number' ? tc.maxUnavailable : Math.floor(parseInt(tc.maxUnavailable, 10) * tc.replicas / 100));
      for (let i = 0; i < 12; i++) {
        await step();
        const all = await listRS();
        const total = all.reduce((n, r) => n + (r.spec?.replicas ?? 0), 0);
        const avail = all.reduce((n, r) => n + (r.status?.availableReplicas ?? 0), 0);
        assert.ok(total <= surge, `step ${i}: ${total} replicas exceed ${surge}`);
        assert.ok(avail >= Math.max(minAvail, 1) || total === 0, `step ${i}: only ${avail} available`);
      }
      const nu = (await rsByImage('busybox:2'))!;
      const rename = (m: string) => m.replace(`replica set ${nu.metadata!.name!}`, 'N').replace(`replica set ${old.metadata!.name!}`, 'O')
        .replace(/^Scaled (up|down) (\w) from (\d+) to (\d+)$/, '$1 $2 $3→$4');
      assert.deepEqual(scalingEvents().map(rename), tc.events);
      const d = await getDep();
      assert.equal(d.metadata?.annotations?.['deployment.kubernetes.io/revision'], '2');
      assert.equal(nu.metadata?.annotations?.['deployment.kubernetes.io/revision'], '2');
      assert.deepEqual([d.status?.replicas, d.status?.updatedReplicas, d.status?.availableReplicas, d.status?.observedGeneration],
        [tc.replicas, tc.replicas, tc.replicas, d0.metadata?.generation]);
      assert.equal(progressing(d)?.reason, 'NewReplicaSetAvailable');
    });
  }

  it('the rollout waits for the new pods to become available (maxUnavailable 0)', async () => {
    h.fake.seed(DEP_DEF, deployment({ replicas: 2, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } }));
    await h.start();
    await step();
    await step();
    await setTemplateImage('busybox:2');
    const newUnavailable = (rs: ReplicaSet) => (rs.spec?.template?.spec?.containers[0]?.image === 'busybox:2' ? 0 : rs.spec?.replicas ?? 0);
    for (let i = 0; i < 4; i++) await step(newUnavailable);
    assert.deepEqual((await listRS()).map((r) => [r.spec?.template?.spec?.containers[0]?.image, r.spec?.replicas]).sort(),
      [['busybox:1', 2], ['busybox:2', 1]], 'old keeps 2 while the new pod is not available');
    const d = await getDep();
    assert.deepEqual([progressing(d)?.status, progressing(d)?.reason], ['True', 'ReplicaSetUpdated']);
    assert.equal(d.status?.unavailableReplicas, 1);
    for (let i = 0; i < 5; i++) await step();
    assert.deepEqual((await listRS()).map((r) => [r.spec?.template?.spec?.containers[0]?.image, r.spec?.replicas]).sort(),
      [['busybox:1', 0], ['busybox:2', 2]]);
  });

  it('an old ReplicaSet whose status still counts more available pods than its spec is not an error (stale status under load)', async () => {
    h.fake.seed(DEP_DEF, deployment({ replicas: 4 }));
    await h.start();
    await step();
    await step();
    await setTemplateImage('busybox:2');
    await step();
    const old = (await rsByImage('busybox:1'))!;
    assert.equal(old.spec?.replicas, 3);
    await rss().updateStatus({ ...old, status: { ...old.status, replicas: 4, readyReplicas: 4, availableReplicas: 4 } });
    await caughtUp();
    await c.reconcile(KEY);
    assert.ok(((await rsByImage('busybox:1'))!.spec?.replicas ?? 0) <= 3, 'never scaled up by the cleanup');
    for (let i = 0; i < 6; i++) await step();
    assert.deepEqual((await listRS()).map((r) => [r.spec?.template?.spec?.containers[0]?.image, r.spec?.replicas]).sort(),
      [['busybox:1', 0], ['busybox:2', 4]]);
  });

  it('Recreate scales the old ReplicaSets to 0, waits for their pods to be gone, then creates the new one', async () => {
    h.fake.seed(DEP_DEF, deployment({ replicas: 3, strategy: { type: 'Recreate' } }));
    await h.start();
    await step();
    const old = (await listRS())[0]!;
    assert.equal(old.spec?.replicas, 3);
    // Old pods exist (as the ReplicaSet controller made them), Running.
    for (let i = 0; i < 3; i++) {
      h.fake.seed(POD_DEF, {
        apiVersion: 'v1', kind: 'Pod',
        metadata: {
          name: `old-${i}`, namespace: 'default', labels: { ...old.spec?.template?.metadata?.labels },
          ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: old.metadata!.name!, uid: old.metadata!.uid!, controller: true }],
        },
        spec: { containers: [{ name: 'c', image: 'busybox:1' }] }, status: { phase: 'Running' },
      } satisfies Pod);
    }
    await step();
    h.recorder.events.length = 0;
    await setTemplateImage('busybox:2');
    await step();
    assert.deepEqual(scalingEvents(), [`Scaled down replica set ${old.metadata!.name!} from 3 to 0`]);
    assert.equal((await listRS()).length, 1, 'no new ReplicaSet yet');
    // The ReplicaSet reports 0 replicas but its pods are still there (terminating): still waiting.
    await step();
    await step();
    assert.equal((await listRS()).length, 1, 'still waiting for the old pods');
    for (let i = 0; i < 3; i++) await h.fake.resource(Resources.pods).delete('default', `old-${i}`);
    await step();
    const nu = (await rsByImage('busybox:2'))!;
    assert.equal(nu.spec?.replicas, 3);
    assert.deepEqual(scalingEvents(), [`Scaled down replica set ${old.metadata!.name!} from 3 to 0`, `Scaled up replica set ${nu.metadata!.name!} from 0 to 3`]);
    await step();
    const d = await getDep();
    assert.deepEqual([d.status?.updatedReplicas, d.status?.availableReplicas, progressing(d)?.reason], [3, 3, 'NewReplicaSetAvailable']);
  });

  it('revisions count up, old ReplicaSets beyond revisionHistoryLimit are deleted, undo brings a ReplicaSet back at the newest revision', async () => {
    h.fake.seed(DEP_DEF, deployment({ replicas: 1, revisionHistoryLimit: 2, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } }));
    await h.start();
    for (const image of ['busybox:1', 'busybox:2', 'busybox:3', 'busybox:4']) {
      if (image !== 'busybox:1') await setTemplateImage(image);
      h.clock.advance(1000);
      for (let i = 0; i < 6; i++) await step();
    }
    const revs = (await listRS()).map((r) => [r.spec?.template?.spec?.containers[0]?.image, r.metadata?.annotations?.['deployment.kubernetes.io/revision'], r.spec?.replicas]);
    assert.deepEqual(revs.sort(), [['busybox:2', '2', 0], ['busybox:3', '3', 0], ['busybox:4', '4', 1]], 'revision 1 went (limit 2)');
    assert.equal((await getDep()).metadata?.annotations?.['deployment.kubernetes.io/revision'], '4');

    // kubectl rollout undo --to-revision=2: the template of revision 2 (without the hash label) patched back.
    const r2 = (await rsByImage('busybox:2'))!;
    const d = await getDep();
    const template = structuredClone(r2.spec!.template!);
    delete template.metadata!.labels!['pod-template-hash'];
    await deps().update({ ...d, spec: { ...d.spec!, template } });
    for (let i = 0; i < 6; i++) await step();
    const back = (await rsByImage('busybox:2'))!;
    assert.equal(back.metadata?.name, r2.metadata?.name, 'the same ReplicaSet, no new one');
    assert.equal(back.metadata?.annotations?.['deployment.kubernetes.io/revision'], '5');
    assert.equal(back.metadata?.annotations?.['deployment.kubernetes.io/revision-history'], '2');
    assert.equal(back.spec?.replicas, 1);
    assert.equal((await getDep()).metadata?.annotations?.['deployment.kubernetes.io/revision'], '5');
    assert.deepEqual((await listRS()).map((r) => r.metadata?.annotations?.['deployment.kubernetes.io/revision']).sort(), ['3', '4', '5']);
  });

  it('reports ProgressDeadlineExceeded when a rollout makes no progress, and requeues for the deadline', async () => {
    h.fake.seed(DEP_DEF, deployment({ replicas: 2, progressDeadlineSeconds: 60 }));
    await h.start();
    const none = () => 0;
    await step(none);
    await step(none);
    h.clock.advance(20_000);
    const r = await step(none);
    assert.deepEqual(r, { requeueAfter: 40_000 }, 'looks again when the deadline runs out');
    let d = await getDep();
    assert.deepEqual([available(d)?.status, available(d)?.reason], ['False', 'MinimumReplicasUnavailable']);
    h.clock.advance(41_000);
    await step(none);
    d = await getDep();
    const rsName = (await listRS())[0]!.metadata!.name!;
    assert.deepEqual([progressing(d)?.status, progressing(d)?.reason, progressing(d)?.message],
      ['False', 'ProgressDeadlineExceeded', `ReplicaSet "${rsName}" has timed out progressing.`]);
    assert.equal(await step(none), undefined, 'timed out: no more requeues');
    // Progress after all: the condition recovers.
    await step();
    await step();
    d = await getDep();
    assert.deepEqual([progressing(d)?.status, progressing(d)?.reason], ['True', 'NewReplicaSetAvailable']);
  });

  it('pause stops the rollout (DeploymentPaused) but not scaling; resume continues it (DeploymentResumed)', async () => {
    h.fake.seed(DEP_DEF, deployment({ replicas: 2 }));
    await h.start();
    await step();
    await step();
    const d = await getDep();
    await deps().update({ ...d, spec: { ...d.spec!, paused: true } });
    await step();
    let cur = await getDep();
    assert.deepEqual([progressing(cur)?.status, progressing(cur)?.reason, progressing(cur)?.message], ['Unknown', 'DeploymentPaused', 'Deployment is paused']);
    await setTemplateImage('busybox:2');
    await step();
    await step();
    assert.equal((await listRS()).length, 1, 'no new ReplicaSet while paused');
    cur = await getDep();
    await deps().update({ ...cur, spec: { ...cur.spec!, replicas: 4 } });
    await step();
    assert.equal((await listRS())[0]!.spec?.replicas, 4, 'scaling still works');
    cur = await getDep();
    await deps().update({ ...cur, spec: { ...cur.spec!, paused: false } });
    await step();
    cur = await getDep();
    assert.equal((await listRS()).length, 2, 'rollout resumed');
    // Created (NewReplicaSetCreated), then an old replica went in the same round (ReplicaSetUpdated).
    assert.deepEqual([progressing(cur)?.status, progressing(cur)?.reason], ['True', 'ReplicaSetUpdated']);
    assert.deepEqual(scalingEvents().slice(-2).map((m) => m.replace(/web-\w+/, 'RS')), [
      'Scaled up replica set RS from 0 to 1', 'Scaled down replica set RS from 4 to 3',
    ], 'surge 25% of 4 = 1, unavailable 1');
    assert.equal(scalingEvents().at(-2), `Scaled up replica set web-${computeHash(cur.spec!.template)} from 0 to 1`);
  });

  it('resume records DeploymentResumed before rolling on; a failed create is ReplicaSetCreateError', async () => {
    h.fake.seed(DEP_DEF, deployment({ replicas: 1, paused: true }));
    await h.start();
    await step();
    let d = await getDep();
    assert.equal(progressing(d)?.reason, 'DeploymentPaused');
    assert.equal((await listRS()).length, 0, 'a paused Deployment creates no ReplicaSet');
    await deps().update({ ...d, spec: { ...d.spec!, paused: false } });
    await caughtUp();
    // Stop after the condition write: the ReplicaSet create fails this round.
    const stopCreate = h.fake.addReactor((a) => { if (a.verb === 'create' && a.resource === 'replicasets') throw new Error('boom'); });
    const before = h.fake.actions.length;
    await assert.rejects(c.reconcile(KEY), /boom/);
    stopCreate();
    const statusWrites = h.fake.actions.slice(before).filter((a) => a.resource === 'deployments' && a.subresource === 'status')
      .map((a) => progressing(a.body as Deployment));
    assert.deepEqual(statusWrites.map((x) => [x?.status, x?.reason, x?.message]), [
      ['Unknown', 'DeploymentResumed', 'Deployment is resumed'],
      ['False', 'ReplicaSetCreateError', `Failed to create new replica set "web-${computeHash(d.spec!.template)}": boom`],
    ]);
    d = await getDep();
    assert.deepEqual([progressing(d)?.status, progressing(d)?.message], ['False', 'Failed to create new replica set "web-' + computeHash(d.spec!.template) + '": boom']);
    assert.ok(h.recorder.events.some((e) => e.type === 'Warning' && e.reason === 'ReplicaSetCreateError'));
  });

  it('a hash collision bumps collisionCount and the next round uses a new name', async () => {
    const hash = computeHash(deployment().spec!.template);
    // Someone else's ReplicaSet already has the name (it does not match the selector, so it is not adopted).
    h.fake.seed(RS_DEF, {
      apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: `web-${hash}`, namespace: 'default', labels: { app: 'other' } },
      spec: { replicas: 0, selector: { matchLabels: { app: 'other' } }, template: { metadata: { labels: { app: 'other' } }, spec: { containers: [{ name: 'c', image: 'x' }] } } },
    });
    h.fake.seed(DEP_DEF, deployment());
    await h.start();
    await caughtUp();
    await assert.rejects(c.reconcile(KEY), /already exists/);
    await caughtUp();
    assert.equal((await getDep()).status?.collisionCount, 1);
    await step();
    const mine = (await listRS()).find((r) => r.metadata?.labels?.app === 'web')!;
    assert.equal(mine.metadata?.name, `web-${computeHash(deployment().spec!.template, 1)}`);
    assert.notEqual(mine.metadata?.name, `web-${hash}`);
  });

  it('adopts a matching orphan ReplicaSet and releases one that stopped matching', async () => {
    const d = deployment();
    const hash = computeHash(d.spec!.template);
    h.fake.seed(DEP_DEF, d);
    h.fake.seed(RS_DEF, {
      apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: `web-${hash}`, namespace: 'default', labels: { app: 'web', 'pod-template-hash': hash } },
      spec: { replicas: 3, selector: { matchLabels: { app: 'web', 'pod-template-hash': hash } }, template: { ...structuredClone(d.spec!.template), metadata: { labels: { app: 'web', 'pod-template-hash': hash } } } },
    });
    await h.start();
    await step();
    const [rs] = await listRS();
    assert.equal(rs?.metadata?.ownerReferences?.[0]?.name, 'web');
    assert.equal((await listRS()).length, 1, 'adopted, not duplicated');
    await rss().update({ ...rs!, metadata: { ...rs!.metadata, labels: { app: 'elsewhere' } } });
    await caughtUp();
    // Released; its name now blocks the replacement: a collision, resolved by collisionCount.
    await assert.rejects(c.reconcile(KEY), /already exists/);
    const released = (await listRS()).find((r) => r.metadata?.name === rs?.metadata?.name);
    assert.equal(released?.metadata?.ownerReferences, undefined);
    assert.equal((await getDep()).status?.collisionCount, 1);
    await step();
    assert.equal((await listRS()).filter((r) => r.metadata?.ownerReferences?.[0]?.name === 'web').length, 1);
  });

  it('scaling in the middle of a rollout spreads the new replicas proportionally', async () => {
    h.fake.seed(DEP_DEF, deployment({ replicas: 10, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 3, maxUnavailable: 2 } } }));
    await h.start();
    await step();
    await step();
    await setTemplateImage('busybox:2');
    // Up to old 8 / new 5, the new pods not available yet.
    const notNew = (rs: ReplicaSet) => (rs.spec?.template?.spec?.containers[0]?.image === 'busybox:2' ? 0 : rs.spec?.replicas ?? 0);
    await step(notNew);
    await step(notNew);
    await step(notNew);
    const sizes = async () => (await listRS()).map((r) => [r.spec?.template?.spec?.containers[0]?.image, r.spec?.replicas]).sort();
    assert.deepEqual(await sizes(), [['busybox:1', 8], ['busybox:2', 5]]);
    h.recorder.events.length = 0;
    const d = await getDep();
    await deps().update({ ...d, spec: { ...d.spec!, replicas: 20 } });
    await step(notNew);
    // 23 allowed, 13 there: old round(8·23/13)=14, new round(5·23/13)=9.
    assert.deepEqual(await sizes(), [['busybox:1', 14], ['busybox:2', 9]]);
    for (const r of await listRS()) {
      assert.equal(r.metadata?.annotations?.['deployment.kubernetes.io/desired-replicas'], '20');
      assert.equal(r.metadata?.annotations?.['deployment.kubernetes.io/max-replicas'], '23');
    }
    assert.equal(scalingEvents().length, 2);
    // And the rollout then finishes at 20.
    for (let i = 0; i < 12; i++) await step();
    assert.deepEqual(await sizes(), [['busybox:1', 0], ['busybox:2', 20]]);
  });

  it('scale to zero and back', async () => {
    h.fake.seed(DEP_DEF, deployment({ replicas: 3 }));
    await h.start();
    await step();
    await step();
    for (const n of [0, 3]) {
      const d = await getDep();
      await deps().update({ ...d, spec: { ...d.spec!, replicas: n } });
      await step();
      await step();
      assert.equal((await listRS())[0]!.spec?.replicas, n);
      assert.equal((await getDep()).status?.availableReplicas ?? 0, n);
    }
    assert.deepEqual(scalingEvents().slice(1).map((m) => m.replace(/web-\w+/, 'RS')), ['Scaled down replica set RS from 3 to 0', 'Scaled up replica set RS from 0 to 3']);
  });

  it('minReadySeconds is handed to the ReplicaSets, also when it changes', async () => {
    h.fake.seed(DEP_DEF, deployment({ minReadySeconds: 10 }));
    await h.start();
    await step();
    assert.equal((await listRS())[0]!.spec?.minReadySeconds, 10);
    const d = await getDep();
    await deps().update({ ...d, spec: { ...d.spec!, minReadySeconds: 5 } });
    await step();
    assert.equal((await listRS())[0]!.spec?.minReadySeconds, 5);
  });

  it('a Deployment selecting everything only gets a warning', async () => {
    const d = deployment();
    d.spec!.selector = {};
    h.fake.seed(DEP_DEF, d);
    await h.start();
    await step();
    assert.equal((await listRS()).length, 0);
    assert.deepEqual(h.recorder.events.map((e) => [e.type, e.reason, e.message]),
      [['Warning', 'SelectingAll', 'This deployment is selecting all pods. A non-empty selector is required.']]);
    assert.equal((await getDep()).status?.observedGeneration, 1);
  });
});
