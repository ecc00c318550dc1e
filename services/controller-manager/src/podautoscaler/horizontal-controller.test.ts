import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ApiError, rfc3339, type Deployment, type Pod } from '@tskube/api';
import { Resources } from '@tskube/client';
import { eventually, harness, type Harness } from '../testing.js';
import { HorizontalController, FixedIntervalRateLimiter, type HPASettings } from './horizontal-controller.js';
import { FakeMetricsSource, RestMetricsSource, type MetricsSource, type PodMetricsObject } from './metrics-source.js';
import { HPA_RESOURCE, type HPA, type HPACondition, type HPABehavior, type MetricSpec } from './types.js';

const NS = 'default';
const DEP = { group: 'apps', plural: 'deployments' };
const HPAS = { group: 'autoscaling', plural: 'horizontalpodautoscalers' };
const POD = { group: '', plural: 'pods' };
const PODMETRICS = { group: 'metrics.k8s.io', plural: 'pods' };
const CPU50: MetricSpec = { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } };

function deployment(name: string, replicas: number): Deployment {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: { name, namespace: NS },
    spec: {
      replicas, selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
    },
    status: { replicas },
  };
}

function hpa(name: string, o: { target?: string; kind?: string; apiVersion?: string; min?: number; max?: number; metrics?: MetricSpec[]; behavior?: HPABehavior } = {}): HPA {
  return {
    apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler',
    metadata: { name, namespace: NS },
    spec: {
      scaleTargetRef: { apiVersion: o.apiVersion ?? 'apps/v1', kind: o.kind ?? 'Deployment', name: o.target ?? 'web' },
      minReplicas: o.min ?? 1, maxReplicas: o.max ?? 3, metrics: o.metrics ?? [CPU50],
      ...(o.behavior ? { behavior: o.behavior } : {}),
    },
    status: { desiredReplicas: 0 },
  };
}

/** A Running, Ready pod of `app` that started an hour before `now`, requesting 100m. */
function pod(name: string, now: Date, app = 'web'): Pod {
  const started = rfc3339(new Date(now.getTime() - 3_600_000));
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: NS, labels: { app } },
    spec: { containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu: '100m' } } }] },
    status: { phase: 'Running', startTime: started, conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: started }] },
  };
}

function podMetrics(name: string, cpuMilli: number, now: Date, app = 'web'): PodMetricsObject {
  return {
    apiVersion: 'metrics.k8s.io/v1beta1', kind: 'PodMetrics', metadata: { name, namespace: NS, labels: { app } },
    timestamp: rfc3339(now), window: '10s', containers: [{ name: 'c', usage: { cpu: `${cpuMilli}m`, memory: '10Mi' } }],
  };
}

const cond = (h: HPA, type: string): Pick<HPACondition, 'status' | 'reason' | 'message'> | undefined => {
  const c = h.status?.conditions?.find((x) => x.type === type);
  return c && { status: c.status, reason: c.reason, message: c.message };
};

describe('HorizontalController', () => {
  let h: Harness;
  let source: FakeMetricsSource;
  let c: HorizontalController;

  function controller(settings: Partial<HPASettings> = {}, metricsSource: MetricsSource = source): HorizontalController {
    c = new HorizontalController({
      client: h.fake, informers: h.informers, logger: h.logger, recorder: h.recorder, metricsSource, now: h.clock.now, settings,
    });
    return c;
  }

  /** Seeds the Deployment `web` with `replicas` pods using `cpu` millicores each (of 100m requested). */
  function workload(replicas: number, cpu: number, name = 'web'): void {
    h.fake.seed(DEP, deployment(name, replicas));
    for (let i = 0; i < replicas; i++) {
      h.fake.seed(POD, pod(`${name}-${i}`, h.clock.now(), name));
      source.podMetrics.push(podMetrics(`${name}-${i}`, cpu, h.clock.now(), name));
    }
  }

  const getHPA = (name = 'web') => h.fake.resource(HPA_RESOURCE).get(NS, name);
  const getDeployment = (name = 'web') => h.fake.resource(Resources.deployments).get(NS, name);
  /** Waits until the informer has the stored HPA (a reconcile reads the cache). */
  async function synced(name = 'web'): Promise<void> {
    const rv = (await getHPA(name)).metadata?.resourceVersion;
    await eventually(() => assert.equal(h.informers.informer(HPA_RESOURCE).lister.getByName(NS, name)?.metadata?.resourceVersion, rv));
  }
  const events = (reason?: string) => h.recorder.events.filter((e) => !reason || e.reason === reason).map((e) => `${e.type} ${e.reason} ${e.message}`);

  beforeEach(() => {
    h = harness();
    source = new FakeMetricsSource();
  });
  afterEach(async () => {
    c?.queue.shutDown();
    await h.stop();
  });

  it('scales up on cpu utilization, clamped to maxReplicas, and reports it', async () => {
    workload(1, 200);
    h.fake.seed(HPAS, hpa('web', { max: 3 }));
    controller();
    await h.start();
    assert.deepEqual(await c.reconcile('default/web'), { requeueAfter: 15_000 });
    assert.equal((await getDeployment()).spec?.replicas, 3);
    assert.deepEqual(events(), ['Normal SuccessfulRescale New size: 3; reason: cpu resource utilization (percentage of request) above target']);
    const got = await getHPA();
    assert.deepEqual({ ...got.status, conditions: undefined }, {
      currentReplicas: 1, desiredReplicas: 3, lastScaleTime: rfc3339(h.clock.now()), conditions: undefined,
      currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 200, averageValue: '200m' } } }],
    });
    assert.deepEqual(got.status?.conditions?.map((x) => x.type), ['AbleToScale', 'ScalingActive', 'ScalingLimited']);
    assert.deepEqual(cond(got, 'AbleToScale'), { status: 'True', reason: 'SucceededRescale', message: 'the HPA controller was able to update the target scale to 3' });
    assert.deepEqual(cond(got, 'ScalingActive'), {
      status: 'True', reason: 'ValidMetricFound', message: 'the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)',
    });
    assert.deepEqual(cond(got, 'ScalingLimited'), { status: 'True', reason: 'TooManyReplicas', message: 'the desired replica count is more than the maximum replica count' });
    assert.deepEqual(source.calls, ['resource cpu default app=web ']);
  });

  it('within the tolerance it does not scale and writes the status once', async () => {
    workload(2, 52);
    h.fake.seed(HPAS, hpa('web'));
    controller();
    await h.start();
    await c.reconcile('default/web');
    assert.equal((await getDeployment()).spec?.replicas, 2);
    assert.deepEqual(events(), []);
    const got = await getHPA();
    assert.deepEqual([got.status?.currentReplicas, got.status?.desiredReplicas, got.status?.lastScaleTime], [2, 2, undefined]);
    assert.deepEqual(cond(got, 'AbleToScale'), { status: 'True', reason: 'ReadyForNewScale', message: 'recommended size matches current size' });
    assert.deepEqual(cond(got, 'ScalingLimited'), { status: 'False', reason: 'DesiredWithinRange', message: 'the desired count is within the acceptable range' });
    await synced();
    h.fake.clearActions();
    await c.reconcile('default/web');
    assert.deepEqual(h.fake.actions.filter((a) => a.verb === 'update'), [], 'nothing changed: no writes');
  });

  it('without metrics: FailedGetResourceMetric, FailedComputeMetricsReplicas, ScalingActive False, <unknown> entry', async () => {
    workload(1, 10);
    source.resourceError = new Error('no metrics returned from resource metrics API');
    h.fake.seed(HPAS, hpa('web'));
    controller();
    await h.start();
    const inner = 'failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API';
    await assert.rejects(c.reconcile('default/web'), {
      message: `failed to compute desired number of replicas based on listed metrics for Deployment/default/web: invalid metrics (1 invalid out of 1), first error is: failed to get cpu resource metric value: ${inner}`,
    });
    assert.deepEqual(events(), [
      `Warning FailedGetResourceMetric ${inner}`,
      `Warning FailedComputeMetricsReplicas invalid metrics (1 invalid out of 1), first error is: failed to get cpu resource metric value: ${inner}`,
    ]);
    const got = await getHPA();
    assert.deepEqual(cond(got, 'AbleToScale'), { status: 'True', reason: 'SucceededGetScale', message: "the HPA controller was able to get the target's current scale" });
    assert.deepEqual(cond(got, 'ScalingActive'), { status: 'False', reason: 'FailedGetResourceMetric', message: `the HPA was unable to compute the replica count: ${inner}` });
    assert.deepEqual([got.status?.currentReplicas, got.status?.desiredReplicas, got.status?.currentMetrics], [1, 0, [{ type: '' }]]);
    assert.equal((await getDeployment()).spec?.replicas, 1);
  });

  it('reads metrics.k8s.io through the client; Pods metrics fail for want of a custom metrics API, cpu still scales', async () => {
    workload(1, 300);
    for (const m of source.podMetrics) h.fake.seed(PODMETRICS, m);
    h.fake.seed(HPAS, hpa('web', {
      max: 5, metrics: [CPU50, { type: 'Pods', pods: { metric: { name: 'qps' }, target: { type: 'AverageValue', averageValue: '10' } } }],
    }));
    controller({}, new RestMetricsSource(h.fake));
    await h.start();
    const noApi = 'unable to get metric qps: unable to fetch metrics from custom metrics API: no custom metrics API (custom.metrics.k8s.io) registered';
    await assert.rejects(c.reconcile('default/web'), { message: `invalid metrics (1 invalid out of 2), first error is: failed to get pods metric value: ${noApi}` });
    assert.equal((await getDeployment()).spec?.replicas, 4, '300 % of the request, scale-up limit max(2 × 1, 4)');
    assert.deepEqual(events(), [
      `Warning FailedGetPodsMetric ${noApi}`,
      'Normal SuccessfulRescale New size: 4; reason: cpu resource utilization (percentage of request) above target',
    ]);
    const got = await getHPA();
    assert.equal(cond(got, 'ScalingActive')?.reason, 'ValidMetricFound');
    assert.deepEqual(got.status?.currentMetrics, [
      { type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 300, averageValue: '300m' } } }, { type: '' },
    ]);
  });

  it('External and Object metrics report that their APIs are missing', async () => {
    workload(2, 50);
    h.fake.seed(HPAS, hpa('web', {
      metrics: [
        { type: 'External', external: { metric: { name: 'queue' }, target: { type: 'AverageValue', averageValue: '30' } } },
        { type: 'Object', object: { describedObject: { apiVersion: 'v1', kind: 'Service', name: 'web' }, metric: { name: 'hits' }, target: { type: 'Value', value: '1k' } } },
      ],
    }));
    controller({}, new RestMetricsSource(h.fake));
    await h.start();
    await assert.rejects(c.reconcile('default/web'), /invalid metrics \(2 invalid out of 2\), first error is: failed to get queue external metric value: failed to get queue external metric: unable to get external metric default\/queue\/nil: unable to fetch metrics from external metrics API: the server could not find the requested resource/);
    assert.deepEqual(h.recorder.reasons(), ['FailedGetExternalMetric', 'FailedGetObjectMetric', 'FailedComputeMetricsReplicas']);
    assert.equal(h.recorder.events[1]!.message, 'unable to get metric hits: Service on default web/unable to fetch metrics from custom metrics API: no custom metrics API (custom.metrics.k8s.io) registered');
    assert.equal(cond(await getHPA(), 'ScalingActive')?.reason, 'FailedGetExternalMetric');
  });

  it('waits out the downscale stabilization window, then scales down', async () => {
    workload(3, 10);
    h.fake.seed(HPAS, hpa('web'));
    controller({ downscaleStabilizationMs: 60_000 });
    await h.start();
    await c.reconcile('default/web');
    assert.equal((await getDeployment()).spec?.replicas, 3);
    let got = await getHPA();
    assert.deepEqual(cond(got, 'AbleToScale'), {
      status: 'True', reason: 'ScaleDownStabilized', message: 'recent recommendations were higher than current one, applying the highest recent recommendation',
    });
    assert.equal(got.status?.desiredReplicas, 3);
    h.clock.advance(30_000);
    await synced();
    await c.reconcile('default/web');
    assert.equal((await getDeployment()).spec?.replicas, 3, 'still within the window');
    h.clock.advance(31_000);
    await synced();
    await c.reconcile('default/web');
    assert.equal((await getDeployment()).spec?.replicas, 1);
    assert.deepEqual(events('SuccessfulRescale'), ['Normal SuccessfulRescale New size: 1; reason: All metrics below target']);
    got = await getHPA();
    assert.deepEqual([got.status?.desiredReplicas, got.status?.lastScaleTime], [1, rfc3339(h.clock.now())]);
  });

  it('follows spec.behavior scaling policies', async () => {
    workload(1, 400);
    h.fake.seed(HPAS, hpa('web', {
      max: 10,
      behavior: {
        scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] },
        scaleDown: { selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] },
      },
    }));
    controller();
    await h.start();
    await c.reconcile('default/web');
    assert.equal((await getDeployment()).spec?.replicas, 2);
    assert.deepEqual(cond(await getHPA(), 'ScalingLimited'), {
      status: 'True', reason: 'ScaleUpLimit', message: 'the desired replica count is increasing faster than the maximum scale rate',
    });
    h.clock.advance(30_000);
    await synced();
    await c.reconcile('default/web');
    assert.equal((await getDeployment()).spec?.replicas, 2, 'one pod per 60 s');
    h.clock.advance(31_000);
    await synced();
    await c.reconcile('default/web');
    assert.equal((await getDeployment()).spec?.replicas, 3);
    assert.deepEqual(events('SuccessfulRescale').map((e) => e.split('; ')[0]), ['Normal SuccessfulRescale New size: 2', 'Normal SuccessfulRescale New size: 3']);
  });

  const clamps: { name: string; replicas: number; min: number; max: number; want: number; reason: string }[] = [
    { name: 'above maxReplicas', replicas: 8, min: 1, max: 5, want: 5, reason: 'Current number of replicas above Spec.MaxReplicas' },
    { name: 'below minReplicas', replicas: 1, min: 2, max: 5, want: 2, reason: 'Current number of replicas below Spec.MinReplicas' },
  ];
  for (const k of clamps) {
    it(`brings a target ${k.name} into range without reading metrics`, async () => {
      h.fake.seed(DEP, deployment('web', k.replicas));
      h.fake.seed(HPAS, hpa('web', { min: k.min, max: k.max }));
      controller();
      await h.start();
      await c.reconcile('default/web');
      assert.equal((await getDeployment()).spec?.replicas, k.want);
      assert.deepEqual(events(), [`Normal SuccessfulRescale New size: ${k.want}; reason: ${k.reason}`]);
      assert.deepEqual(source.calls, []);
    });
  }

  it('a target at 0 replicas disables scaling', async () => {
    h.fake.seed(DEP, deployment('web', 0));
    h.fake.seed(HPAS, hpa('web'));
    controller();
    await h.start();
    await c.reconcile('default/web');
    const got = await getHPA();
    assert.deepEqual(cond(got, 'ScalingActive'), { status: 'False', reason: 'ScalingDisabled', message: 'scaling is disabled since the replica count of the target is zero' });
    assert.deepEqual([got.status?.currentReplicas, got.status?.desiredReplicas], [0, 0]);
    assert.equal((await getDeployment()).spec?.replicas, 0);
  });

  const scaleErrors: { name: string; target: string; kind?: string; apiVersion?: string; event: string; error: string }[] = [
    {
      name: 'a missing target', target: 'nope', event: 'deployments.apps "nope" not found',
      error: 'failed to query scale subresource for Deployment/default/nope: deployments.apps "nope" not found',
    },
    {
      name: 'an unknown kind', target: 'web', kind: 'Widget', event: 'no matches for kind "Widget" in group "apps"',
      error: 'unable to determine resource for scale target reference: no matches for kind "Widget" in group "apps"',
    },
    {
      name: 'a bad apiVersion', target: 'web', apiVersion: 'a/b/c', event: 'unexpected GroupVersion string: a/b/c',
      error: 'invalid API version in scale target reference: unexpected GroupVersion string: a/b/c',
    },
  ];
  for (const e of scaleErrors) {
    it(`FailedGetScale for ${e.name}`, async () => {
      h.fake.seed(DEP, deployment('web', 1));
      h.fake.seed(HPAS, hpa('web', { target: e.target, kind: e.kind, apiVersion: e.apiVersion }));
      controller();
      await h.start();
      await assert.rejects(c.reconcile('default/web'), { message: e.error });
      assert.deepEqual(events(), [`Warning FailedGetScale ${e.event}`]);
      assert.deepEqual(cond(await getHPA(), 'AbleToScale'), {
        status: 'False', reason: 'FailedGetScale', message: `the HPA controller was unable to get the target's current scale: ${e.event}`,
      });
    });
  }

  it('FailedRescale when the scale write fails', async () => {
    workload(1, 200);
    h.fake.seed(HPAS, hpa('web'));
    controller();
    await h.start();
    h.fake.addReactor((a) => {
      if (a.verb === 'update' && a.resource === 'deployments') throw new ApiError(500, 'InternalError', 'etcd is down');
    });
    await assert.rejects(c.reconcile('default/web'), { message: 'failed to rescale Deployment/default/web: etcd is down' });
    assert.deepEqual(events(), ['Warning FailedRescale New size: 3; reason: cpu resource utilization (percentage of request) above target; error: etcd is down']);
    const got = await getHPA();
    assert.deepEqual(cond(got, 'AbleToScale'), { status: 'False', reason: 'FailedUpdateScale', message: 'the HPA controller was unable to update the target scale: etcd is down' });
    assert.deepEqual([got.status?.currentReplicas, got.status?.desiredReplicas], [1, 0]);
  });

  it('refuses pods two HPAs select (AmbiguousSelector)', async () => {
    workload(2, 50);
    h.fake.seed(HPAS, hpa('a'));
    h.fake.seed(HPAS, hpa('b'));
    controller();
    await h.start();
    await c.reconcile('default/a');
    await assert.rejects(c.reconcile('default/b'), /pods by selector app=web are controlled by multiple HPAs: \[default\/a default\/b\]/);
    assert.ok(events().includes('Warning AmbiguousSelector pods by selector app=web are controlled by multiple HPAs: [default/a default/b]'));
    assert.equal(cond(await getHPA('b'), 'ScalingActive')?.reason, 'AmbiguousSelector');
  });

  it('scales ReplicationControllers through their scale subresource (selector from the label map)', async () => {
    h.fake.seed({ group: '', plural: 'replicationcontrollers' }, {
      apiVersion: 'v1', kind: 'ReplicationController', metadata: { name: 'rc', namespace: NS },
      spec: { replicas: 1, selector: { app: 'rc' }, template: { metadata: { labels: { app: 'rc' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
      status: { replicas: 1 },
    });
    h.fake.seed(POD, pod('rc-0', h.clock.now(), 'rc'));
    source.podMetrics.push(podMetrics('rc-0', 100, h.clock.now(), 'rc'));
    h.fake.seed(HPAS, hpa('rc', { target: 'rc', kind: 'ReplicationController', apiVersion: 'v1' }));
    controller();
    await h.start();
    await c.reconcile('default/rc');
    assert.equal((await h.fake.resource(Resources.replicationControllers).get(NS, 'rc')).spec?.replicas, 2);
    assert.deepEqual(source.calls, ['resource cpu default app=rc ']);
  });

  it('forgets a deleted HPA; events re-queue after the sync period', async () => {
    workload(1, 50);
    h.fake.seed(HPAS, hpa('web'));
    controller({ syncPeriodMs: 50 });
    await h.start();
    assert.equal(c.queue.len(), 0, 'not at once: after the sync period');
    await eventually(() => assert.equal(c.queue.len(), 1));
    await c.reconcile('default/web');
    await h.fake.resource(HPA_RESOURCE).delete(NS, 'web');
    await eventually(() => assert.equal(h.informers.informer(HPA_RESOURCE).lister.getByName(NS, 'web'), undefined));
    assert.equal(await c.reconcile('default/web'), undefined);
    assert.deepEqual(c.history.recommendationsOf('default/web'), []);
  });

  it('FixedIntervalRateLimiter always waits the interval', () => {
    const r = new FixedIntervalRateLimiter<string>(15_000);
    assert.deepEqual([r.when('a'), r.when('a'), r.numRequeues('a')], [15_000, 15_000, 2]);
    r.forget('a');
    assert.equal(r.numRequeues('a'), 0);
  });
});
