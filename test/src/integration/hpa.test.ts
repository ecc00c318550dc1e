/**
 * The HorizontalPodAutoscaler end to end: a real apiserver (etcd in this process), the kubelet
 * in-process on the real Docker runtime, the controller-manager in-process with the
 * deployment, replicaset and horizontal-pod-autoscaler controllers (sync period 5 s, downscale
 * stabilization 10 s instead of 15 s / 5 min), and the pinned kubectl 1.32.
 *
 * A Deployment `web` (1 replica, pods pinned to the node through the template's nodeName) runs
 * busybox burning CPU (`while [ ! -f /tmp/stop ]; do :; done`) under a 100m limit with a 20m
 * request, i.e. up to 500 % of its request (so even a starved burner is well above 50 %). `kubectl autoscale deployment web --cpu-percent=50
 * --min=1 --max=3` → the HPA scales to 3 (SuccessfulRescale "…cpu resource utilization
 * (percentage of request) above target"); `kubectl get hpa` shows "cpu: N%/50%". Then
 * `kubectl exec … touch /tmp/stop` in every pod ends the burn and the HPA scales back to 1
 * ("All metrics below target"). At most three burners at 100m each.
 *
 * Needs Docker with POD_IMAGE and PAUSE_IMAGE, the etcd binary and the pinned kubectl. Every
 * container carries tskube.cluster=<scope>; they and the network are removed in `after`.
 * Set TSKUBE_HPA_IT_TRANSCRIPT=1 to print the kubectl transcripts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createClientFromKubeconfig, loadKubeconfig, Resources, type Client } from '@tskube/client';
import { buildControllerManager } from '@tskube/controller-manager';
import { buildKubelet, connectRuntime, DockerRuntime, serveRuntime, type RuntimeClient, type RuntimeServer } from '@tskube/kubelet';
import { createLogger, parseLogLevel } from '@tskube/log';
import { startApiServer, type TestApiServer } from '../support/apiserver.js';
import { testLogger } from '../support/control-plane.js';
import { destroyScope, makeScope, PAUSE_IMAGE, POD_IMAGE, type DockerScope } from '../support/docker.js';
import { eventually, Kubectl } from '../support/kubectl.js';

const log = createLogger({ component: 'hpa-it', level: parseLogLevel(process.env.TSKUBE_LOG_LEVEL, 'warn') });
const NS = 'default';

describe('horizontal-pod-autoscaler: kubectl autoscale scales a CPU-bound Deployment up and back down', () => {
  let scope: DockerScope | undefined;
  let api: TestApiServer | undefined;
  let dir: string | undefined;
  let service: RuntimeServer | undefined;
  let runtime: RuntimeClient | undefined;
  let admin: Client | undefined;
  let kubeletClient: Client | undefined;
  let cmClient: Client | undefined;
  let stopKubelet: (() => Promise<void>) | undefined;
  let stopCM: (() => Promise<void>) | undefined;
  let nodeName: string;
  let kubectl: Kubectl;
  const transcript: string[] = [];

  async function k(args: string[]): Promise<string> {
    const out = await kubectl.ok(args);
    transcript.push(`$ kubectl ${args.join(' ')}\n${out}`);
    return out;
  }

  const replicas = async () => (await admin!.resource(Resources.deployments).get(NS, 'web')).spec?.replicas;

  before(async () => {
    scope = await makeScope('hpa-it');
    nodeName = `${scope.cluster}-node`;
    api = await startApiServer();
    kubectl = new Kubectl(api.kubeconfig, undefined, '1.32');
    dir = mkdtempSync(join(tmpdir(), 'tskube-hpa-it-'));
    const docker = new DockerRuntime({ docker: scope.docker, nodeName, clusterName: scope.cluster, network: scope.network, pauseImage: PAUSE_IMAGE, logger: log });
    service = await serveRuntime(docker, join(dir, 'runtime.sock'), log);
    runtime = await connectRuntime(join(dir, 'runtime.sock'));
    admin = createClientFromKubeconfig(api.kubeconfig, { component: 'hpa-it' });
    kubeletClient = createClientFromKubeconfig(api.kubeconfigs.kubelet, { component: 'kubelet' });
    const kc = loadKubeconfig(api.kubeconfigs.kubelet);
    assert.ok(kc.cert && kc.key && kc.ca, 'the kubelet kubeconfig has a client certificate and the CA');
    const kubelet = buildKubelet({
      settings: { nodeName, nodeIP: '127.0.0.1', bindAddress: '127.0.0.1', kubeletPort: 0, healthPort: 0, shutdownRemovePods: false },
      client: kubeletClient, runtime, logger: log, tls: { cert: kc.cert, key: kc.key, ca: kc.ca },
      timing: { leaseRenewMs: 1000, nodeStatusIntervalMs: 2000, syncErrorBackoffMs: 1000 },
    });
    const kac = new AbortController();
    const krun = kubelet.start(kac.signal);
    await kubelet.ready();
    stopKubelet = async () => { kac.abort(); await krun; };

    // the controller-manager as startControllerManager builds it, with shortened HPA periods
    cmClient = createClientFromKubeconfig(api.kubeconfigs.controllerManager, { component: 'controller-manager' });
    const cm = buildControllerManager({
      client: cmClient, logger: testLogger('controller-manager'),
      config: {
        kubeconfig: api.kubeconfigs.controllerManager, healthPort: 0, logLevel: 'info', leaderElect: false,
        nodeMonitorGracePeriodSeconds: 40, nodeStartupGracePeriodSeconds: 60,
        controllers: ['deployment-controller', 'replicaset-controller', 'horizontal-pod-autoscaler-controller'],
        hpa: { syncPeriodSeconds: 5, downscaleStabilizationSeconds: 10, tolerance: 0.1, cpuInitializationPeriodSeconds: 300, initialReadinessDelaySeconds: 30 },
      },
    });
    const cac = new AbortController();
    const crun = cm.start(cac.signal);
    await eventually('controller-manager ready', async () => cm.isReady(), 30_000, 100);
    stopCM = async () => { cac.abort(); await crun; };

    await eventually('Ready node', async () => {
      const n = await admin!.resource(Resources.nodes).get(nodeName);
      return n.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
    }, 30_000, 200);
  });

  after(async () => {
    if (process.env.TSKUBE_HPA_IT_TRANSCRIPT) process.stdout.write(`${transcript.join('\n')}\n`);
    await stopCM?.().catch((err: unknown) => log.error('stopping the controller-manager failed', { err: String(err) }));
    await stopKubelet?.().catch((err: unknown) => log.error('stopping the kubelet failed', { err: String(err) }));
    runtime?.close();
    await service?.close();
    admin?.close();
    kubeletClient?.close();
    cmClient?.close();
    if (scope) await destroyScope(scope);
    await api?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('scales to 3 while the pods burn CPU, and back to 1 once they stop', async () => {
    await admin!.resource(Resources.deployments).create(NS, {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: NS },
      spec: {
        replicas: 1, selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            nodeName, terminationGracePeriodSeconds: 0,
            containers: [{
              name: 'burn', image: POD_IMAGE,
              command: ['sh', '-c', 'while [ ! -f /tmp/stop ]; do :; done; exec sleep 3600'],
              resources: { requests: { cpu: '20m' }, limits: { cpu: '100m', memory: '64Mi' } },
            }],
          },
        },
      },
    });
    await eventually('the first pod Running', async () => {
      const pods = (await admin!.resource(Resources.pods).list({ namespace: NS, labelSelector: 'app=web' })).items;
      return pods.some((p) => p.status?.phase === 'Running');
    }, 60_000, 500);

    await k(['autoscale', 'deployment', 'web', '--cpu-percent=50', '--min=1', '--max=3']);
    const fresh = await k(['get', 'hpa', 'web']);
    assert.match(fresh, /^NAME\s+REFERENCE\s+TARGETS\s+MINPODS\s+MAXPODS\s+REPLICAS\s+AGE$/m);
    assert.match(fresh, /^web\s+Deployment\/web\s+cpu: <unknown>\/50%\s+1\s+3\s+0\s+\d+s$/m);

    await eventually('3 replicas', async () => (await replicas()) === 3, 90_000, 1000);
    const up = await eventually('the HPA status with 3 current replicas and a cpu figure', async () => {
      const out = await k(['get', 'hpa', 'web']);
      return /^web\s+Deployment\/web\s+cpu: \d+%\/50%\s+1\s+3\s+3\s+\S+$/m.test(out) ? out : undefined;
    }, 60_000, 2000);
    assert.ok(up);
    const described = await k(['describe', 'hpa', 'web']);
    assert.match(described, /^Reference:\s+Deployment\/web$/m);
    assert.match(described, /resource cpu on pods\s+\(as a percentage of request\):\s+\d+% \(\d+m\) \/ 50%/);
    assert.match(described, /^Min replicas:\s+1$/m);
    assert.match(described, /^Max replicas:\s+3$/m);
    assert.match(described, /^Deployment pods:\s+3 current \/ 3 desired$/m);
    assert.match(described, /AbleToScale\s+True\s+\w+/);
    assert.match(described, /ScalingActive\s+True\s+ValidMetricFound\s+the HPA was able to successfully calculate a replica count from cpu resource utilization \(percentage of request\)/);
    assert.match(described, /Normal\s+SuccessfulRescale\s+.*horizontal-pod-autoscaler\s+New size: 3; reason: cpu resource utilization \(percentage of request\) above target/);

    // end the burn in every pod
    await eventually('3 running pods', async () => {
      const ps = (await admin!.resource(Resources.pods).list({ namespace: NS, labelSelector: 'app=web' })).items;
      return ps.filter((p) => p.status?.phase === 'Running').length === 3;
    }, 60_000, 500);
    for (const p of (await admin!.resource(Resources.pods).list({ namespace: NS, labelSelector: 'app=web' })).items) {
      await k(['exec', p.metadata!.name!, '--', 'touch', '/tmp/stop']);
    }

    await eventually('1 replica', async () => (await replicas()) === 1, 90_000, 1000);
    const down = await eventually('the scale-down event', async () => {
      const out = await k(['describe', 'hpa', 'web']);
      return /Normal\s+SuccessfulRescale\s+.*New size: 1; reason: All metrics below target/.test(out) ? out : undefined;
    }, 30_000, 2000);
    assert.ok(down);
    const final = await eventually('the HPA at 1 replica', async () => {
      const out = await k(['get', 'hpa', 'web']);
      return /^web\s+Deployment\/web\s+cpu: \d+%\/50%\s+1\s+3\s+1\s+\S+$/m.test(out) ? out : undefined;
    }, 30_000, 2000);
    assert.ok(final);
    const v1 = JSON.parse(await kubectl.ok(['get', 'horizontalpodautoscalers.v1.autoscaling', 'web', '-o', 'json'])) as { status?: { currentReplicas?: number; lastScaleTime?: string } };
    assert.equal(v1.status?.currentReplicas, 1);
    assert.ok(v1.status?.lastScaleTime);
  });
});
