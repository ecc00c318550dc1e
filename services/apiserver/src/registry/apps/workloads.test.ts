import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError, type KubeObject } from '@tskube/api';
import { MemoryStorage } from '@tskube/storage';
import { nullLogger } from '@tskube/log';
import { AdmissionChain } from '../../admission/admission.js';
import { KubeletClient } from '../../kubelet-client.js';
import { buildRegistry, systemContext } from '../index.js';
import { controllerRevisionTable, daemonSetTable, deploymentTable, statefulSetTable } from './tables.js';

const ctx = () => systemContext(nullLogger(), 'default');
const code = (e: unknown) => (e instanceof ApiError ? `${e.code} ${e.reason}` : String(e));
const registry = () => buildRegistry({ storage: new MemoryStorage(), admission: new AdmissionChain([], []), kubelets: new KubeletClient(), logger: nullLogger() });
const template = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx:1' }] } };
const deployment = (name = 'web'): KubeObject => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name }, spec: { selector: { matchLabels: { app: 'web' } }, template } });

test('deployments: defaults on create, status split, /scale with generation and the selector', async () => {
  const reg = registry();
  const deploys = reg.store('Deployment', 'apps');
  const d = await deploys.create(ctx(), { ...deployment(), status: { replicas: 5 } });
  assert.equal((d.spec as { replicas: number }).replicas, 1);
  assert.deepEqual(d.status, {});
  assert.equal(d.metadata.generation, 1);
  const scale = reg.lookup(deploys.def, 'scale')!;
  const s = await scale.get!(ctx(), 'web');
  assert.deepEqual({ spec: s.spec, status: s.status, kind: s.kind }, { spec: { replicas: 1 }, status: { replicas: 0, selector: 'app=web' }, kind: 'Scale' });
  const up = await scale.update!(ctx(), 'web', (cur) => ({ ...cur!, spec: { replicas: 3 } }));
  assert.deepEqual(up.object.spec, { replicas: 3 });
  const after = await deploys.get(ctx(), 'web');
  assert.equal((after.spec as { replicas: number }).replicas, 3);
  assert.equal(after.metadata.generation, 2);
  await assert.rejects(scale.update!(ctx(), 'web', (cur) => ({ ...cur!, spec: { replicas: -1 } })), (e) => code(e) === '422 Invalid');
  await assert.rejects(scale.update!(ctx(), 'web', (cur) => ({ ...cur!, metadata: { ...cur!.metadata, resourceVersion: '1' } })), (e) => code(e) === '409 Conflict');
  await assert.rejects(
    deploys.update(ctx(), 'web', (cur) => ({ ...cur!, spec: { ...(cur!.spec as object), selector: { matchLabels: { app: 'other' } } } })),
    (e) => e instanceof ApiError && e.code === 422 && e.message.includes('spec.selector: Invalid value: {"matchLabels":{"app":"other"}}: field is immutable'),
  );
});

test('statefulsets scale too; names are DNS labels; statuses start with their required counters', async () => {
  const reg = registry();
  const sts = reg.store('StatefulSet', 'apps');
  const s = await sts.create(ctx(), { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'db' }, spec: { serviceName: 'db', selector: { matchLabels: { app: 'web' } }, template } });
  assert.deepEqual(s.status, { replicas: 0, availableReplicas: 0 });
  const scale = reg.lookup(sts.def, 'scale')!;
  await scale.update!(ctx(), 'db', (cur) => ({ ...cur!, spec: { replicas: 2 } }));
  assert.equal(((await sts.get(ctx(), 'db')).spec as { replicas: number }).replicas, 2);
  await assert.rejects(sts.create(ctx(), { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'a.b' }, spec: { serviceName: 'x', selector: { matchLabels: { app: 'web' } }, template } }),
    (e) => code(e) === '422 Invalid');
  const ds = await reg.store('DaemonSet', 'apps').create(ctx(), { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'agent' }, spec: { selector: { matchLabels: { app: 'web' } }, template } });
  assert.deepEqual(ds.status, { currentNumberScheduled: 0, numberMisscheduled: 0, desiredNumberScheduled: 0, numberReady: 0 });
  assert.equal(reg.lookup(ds.metadata.uid ? reg.store('DaemonSet', 'apps').def : sts.def, 'scale'), undefined, 'daemonsets have no /scale');
});

test('apps tables: upstream columns and cells', () => {
  const now = new Date('2024-01-01T00:10:00Z');
  const meta = { name: 'web', creationTimestamp: '2024-01-01T00:00:00Z' };
  assert.deepEqual(deploymentTable.columns.map((c) => c.name), ['Name', 'Ready', 'Up-to-date', 'Available', 'Age', 'Containers', 'Images', 'Selector']);
  assert.deepEqual(deploymentTable.cells({ metadata: meta, spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template }, status: { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 } }, now),
    ['web', '2/3', 3, 2, '10m', 'c', 'nginx:1', 'app=web']);
  assert.deepEqual(statefulSetTable.columns.map((c) => c.name), ['Name', 'Ready', 'Age', 'Containers', 'Images']);
  assert.deepEqual(daemonSetTable.columns.filter((c) => c.priority === 0).map((c) => c.name), ['Name', 'Desired', 'Current', 'Ready', 'Up-to-date', 'Available', 'Node Selector', 'Age']);
  assert.deepEqual(controllerRevisionTable.cells({ metadata: { ...meta, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db', uid: 'u', controller: true }] }, revision: 2 }, now),
    ['web', 'statefulset.apps/db', 2, '10m']);
});
