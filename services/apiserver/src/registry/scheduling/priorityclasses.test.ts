import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '@tskube/api';
import { MemoryStorage } from '@tskube/storage';
import { nullLogger } from '@tskube/log';
import { AdmissionChain } from '../../admission/admission.js';
import { KubeletClient } from '../../kubelet-client.js';
import { buildRegistry, systemContext } from '../index.js';

test('priority classes: system classes bootstrapped, at most one global default', async () => {
  const reg = buildRegistry({ storage: new MemoryStorage(), admission: new AdmissionChain([], []), kubelets: new KubeletClient(), logger: nullLogger() });
  const sys = systemContext(nullLogger());
  await reg.bootstrap({ signal: new AbortController().signal, securePort: 6443 });
  await reg.bootstrap({ signal: new AbortController().signal, securePort: 6443 });
  const pcs = reg.store('PriorityClass', 'scheduling.k8s.io');
  const rest = reg.lookup(pcs.def, '')!;
  const names = (await pcs.list(sys, {})).items.map((i) => `${i.metadata!.name}=${String(i.value)}`).sort();
  assert.deepEqual(names, ['system-cluster-critical=2000000000', 'system-node-critical=2000001000']);
  const pc = (name: string, globalDefault: boolean) => ({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name }, value: 10, globalDefault });
  await rest.create!(sys, pc('first', true));
  await assert.rejects(rest.create!(sys, pc('second', true)), (e) => e instanceof ApiError && e.code === 403
    && e.message === 'priorityclasses.scheduling.k8s.io "second" is forbidden: PriorityClass first is already marked as default. Only one default can exist');
  await rest.create!(sys, pc('third', false));
  await assert.rejects(rest.update!(sys, 'third', (cur) => ({ ...cur!, globalDefault: true })), (e) => e instanceof ApiError && e.code === 403);
  const crs = reg.store('ClusterRole', 'rbac.authorization.k8s.io');
  const view = await crs.get(sys, 'view');
  assert.ok((view.rules as { resources?: string[] }[]).some((r) => r.resources?.includes('deployments')), 'aggregated rules are filled in');
  const binding = await reg.store('ClusterRoleBinding', 'rbac.authorization.k8s.io').get(sys, 'cluster-admin');
  assert.deepEqual(binding.subjects, [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:masters' }]);
});
