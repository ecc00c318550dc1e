import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError, type KubeObject } from '@tskube/api';
import { MemoryStorage } from '@tskube/storage';
import { nullLogger } from '@tskube/log';
import { AdmissionChain } from '../../admission/admission.js';
import { KubeletClient } from '../../kubelet-client.js';
import { buildRegistry, systemContext } from '../index.js';
import { formatHPAMetrics } from './hpa.js';

const ctx = () => systemContext(nullLogger(), 'default');
const code = (e: unknown) => (e instanceof ApiError ? `${e.code} ${e.reason}` : String(e));

function stores() {
  const reg = buildRegistry({ storage: new MemoryStorage(), admission: new AdmissionChain([], []), kubelets: new KubeletClient(), logger: nullLogger() });
  return { v1: reg.store('HorizontalPodAutoscaler', 'autoscaling', 'v1'), v2: reg.store('HorizontalPodAutoscaler', 'autoscaling', 'v2'), reg };
}
const ref = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' };

test('one stored version: v1 writes read back as v2 and v2 writes read back as v1', async () => {
  const { v1, v2 } = stores();
  await v1.create(ctx(), { apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name: 'a' }, spec: { scaleTargetRef: ref, maxReplicas: 4, targetCPUUtilizationPercentage: 60 } });
  const a2 = await v2.get(ctx(), 'a');
  assert.equal(a2.apiVersion, 'autoscaling/v2');
  assert.deepEqual((a2.spec as { metrics: unknown }).metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } } }]);
  assert.equal((a2.spec as { minReplicas: number }).minReplicas, 1, 'v1 defaulting');

  await v2.create(ctx(), {
    apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'b' },
    spec: { scaleTargetRef: ref, maxReplicas: 4, metrics: [{ type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '1Gi' } } }] },
  });
  const b1 = await v1.get(ctx(), 'b');
  assert.equal(b1.apiVersion, 'autoscaling/v1');
  assert.equal((b1.spec as { targetCPUUtilizationPercentage?: number }).targetCPUUtilizationPercentage, undefined);
  assert.deepEqual(JSON.parse(b1.metadata.annotations!['autoscaling.alpha.kubernetes.io/metrics']!), [{ type: 'Resource', resource: { name: 'memory', targetAverageValue: '1Gi' } }]);

  // a v1 client's read-modify-write keeps what only v2 can express
  await v1.update(ctx(), 'b', (cur) => ({ ...cur!, spec: { ...(cur!.spec as object), maxReplicas: 9 } }));
  const b2 = await v2.get(ctx(), 'b');
  assert.equal((b2.spec as { maxReplicas: number }).maxReplicas, 9);
  assert.deepEqual((b2.spec as { metrics: unknown }).metrics, [{ type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '1Gi' } } }]);
  assert.equal(b2.metadata.annotations, undefined);

  // lists and watches are converted too
  const list = await v1.list(ctx(), {});
  assert.deepEqual(list.items.map((i) => i.apiVersion), ['autoscaling/v1', 'autoscaling/v1']);
  const w = await v1.watch(ctx(), { resourceVersion: '0' });
  const ev = await w.next();
  w.stop();
  assert.equal(ev?.object.apiVersion, 'autoscaling/v1');
});

test('v1 validation speaks about the v2 form, status is split, /status keeps spec', async () => {
  const { v1, v2, reg } = stores();
  await assert.rejects(
    v1.create(ctx(), { apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name: 'x' }, spec: { scaleTargetRef: ref, maxReplicas: 0, targetCPUUtilizationPercentage: 0 } }),
    (e) => e instanceof ApiError && e.code === 422 && JSON.stringify(e.status.details?.causes) === JSON.stringify([
      { reason: 'FieldValueInvalid', message: 'Invalid value: 0: must be greater than 0', field: 'spec.maxReplicas' },
      { reason: 'FieldValueInvalid', message: 'Invalid value: 0: must be greater than or equal to `minReplicas`', field: 'spec.maxReplicas' },
      { reason: 'FieldValueInvalid', message: 'Invalid value: 0: must be greater than 0', field: 'spec.metrics[0].resource.target.averageUtilization' },
    ]),
  );
  const created = await v2.create(ctx(), { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 's' }, spec: { scaleTargetRef: ref, maxReplicas: 3 }, status: { desiredReplicas: 7 } } as KubeObject);
  assert.deepEqual(created.status, { desiredReplicas: 0 }, 'create never sets status');
  const status = reg.lookup(v2.def, 'status')!;
  const st = await status.update!(ctx(), 's', (cur) => ({ ...cur!, spec: { scaleTargetRef: ref, maxReplicas: 99 }, status: { currentReplicas: 2, desiredReplicas: 3, currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 42 } } }] } }));
  assert.equal((st.object.spec as { maxReplicas: number }).maxReplicas, 3);
  const s1 = await v1.get(ctx(), 's');
  assert.deepEqual(s1.status, { currentReplicas: 2, desiredReplicas: 3, currentCPUUtilizationPercentage: 42 });
  await assert.rejects(status.update!(ctx(), 's', (cur) => ({ ...cur!, status: { desiredReplicas: -1 } })), (e) => code(e) === '422 Invalid');
});

test('TARGETS like kubectl prints them', () => {
  const cpu = { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } };
  const mem = { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '1Gi' } } };
  const pods = { type: 'Pods', pods: { metric: { name: 'qps' }, target: { type: 'AverageValue', averageValue: '10' } } };
  assert.equal(formatHPAMetrics([cpu], undefined), 'cpu: <unknown>/50%');
  assert.equal(formatHPAMetrics([cpu, mem], [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 12 } } }]), 'cpu: 12%/50%, memory: <unknown>/1Gi');
  assert.equal(formatHPAMetrics([cpu, mem, pods], undefined), 'cpu: <unknown>/50%, memory: <unknown>/1Gi + 1 more...');
  assert.equal(formatHPAMetrics([], undefined), '<none>');
});
