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
import { after, before, describe, it } from 'node:test';
import { Resources, type Client } from '@tskube/client';
import { POD_IMAGE } from '../support/docker.js';
import { eventually, Kubectl } from '../support/kubectl.js';
import { NS, startKubeletStack, type KubeletStack } from '../support/kubelet-stack.js';

describe('horizontal-pod-autoscaler: kubectl autoscale scales a CPU-bound Deployment up and back down', () => {
  let stack: KubeletStack;
  let admin: Client;
  let nodeName: string;
  let kubectl: Kubectl;
  const transcript: string[] = [];

  async function k(args: string[]): Promise<string> {
    const out = await kubectl.ok(args);
    transcript.push(`$ kubectl ${args.join(' ')}\n${out}`);
    return out;
  }

  const replicas = async () => (await admin.resource(Resources.deployments).get(NS, 'web')).spec?.replicas;

  before(async () => {
    stack = await startKubeletStack({
      name: 'hpa-it',
      // shortened HPA periods
      controllerManager: {
        leaderElect: false,
        controllers: ['deployment-controller', 'replicaset-controller', 'horizontal-pod-autoscaler-controller'],
        hpa: { syncPeriodSeconds: 5, downscaleStabilizationSeconds: 10, tolerance: 0.1, cpuInitializationPeriodSeconds: 300, initialReadinessDelaySeconds: 30 },
      },
    });
    ({ admin, nodeName, kubectl } = stack);
    await stack.waitForNodeReady();
  });

  after(async () => {
    if (process.env.TSKUBE_HPA_IT_TRANSCRIPT) process.stdout.write(`${transcript.join('\n')}\n`);
    await stack?.stop();
  });

  it('scales to 3 while the pods burn CPU, and back to 1 once they stop', async () => {
    await admin.resource(Resources.deployments).create(NS, {
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
      const pods = (await admin.resource(Resources.pods).list({ namespace: NS, labelSelector: 'app=web' })).items;
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
      const ps = (await admin.resource(Resources.pods).list({ namespace: NS, labelSelector: 'app=web' })).items;
      return ps.filter((p) => p.status?.phase === 'Running').length === 3;
    }, 60_000, 500);
    for (const p of (await admin.resource(Resources.pods).list({ namespace: NS, labelSelector: 'app=web' })).items) {
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
