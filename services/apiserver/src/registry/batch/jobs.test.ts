import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError, type Job } from '@tskube/api';
import { MemoryStorage } from '@tskube/storage';
import { nullLogger } from '@tskube/log';
import { AdmissionChain } from '../../admission/admission.js';
import { KubeletClient } from '../../kubelet-client.js';
import { buildRegistry, systemContext } from '../index.js';
import { jobCompletions, jobStatus, jobTable } from './tables.js';

const ctx = () => systemContext(nullLogger(), 'default');

test('jobs: generated selector and labels on create, immutable template, status.successful field selector', async () => {
  const reg = buildRegistry({ storage: new MemoryStorage(), admission: new AdmissionChain([], []), kubelets: new KubeletClient(), logger: nullLogger() });
  const jobs = reg.store('Job', 'batch');
  const j = await jobs.create(ctx(), { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'pi' }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'perl' }] } } } });
  const uid = j.metadata.uid!;
  assert.deepEqual((j.spec as { selector: unknown }).selector, { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } });
  assert.equal(j.metadata.labels!['job-name'], 'pi');
  assert.equal(j.metadata.labels!['controller-uid'], uid);
  assert.deepEqual(j.status, {});
  await assert.rejects(jobs.update(ctx(), 'pi', (cur) => {
    const next = structuredClone(cur!) as unknown as { spec: { template: { spec: { containers: { image: string }[] } } } };
    next.spec.template.spec.containers[0]!.image = 'python';
    return next as never;
  }), (e) => e instanceof ApiError && e.code === 422 && e.message.includes('spec.template'));
  const status = reg.lookup(jobs.def, 'status')!;
  await status.update!(ctx(), 'pi', (cur) => ({ ...cur!, status: { succeeded: 1 } }));
  assert.equal((await jobs.list(ctx(), { fieldSelector: 'status.successful=1' })).items.length, 1);
  assert.equal((await jobs.list(ctx(), { fieldSelector: 'status.successful=0' })).items.length, 0);
  const rest = reg.lookup(jobs.def, '')!;
  const del = await rest.delete!(ctx(), 'pi', {});
  assert.equal(del.deleted, false, 'jobs orphan their pods by default');
  assert.deepEqual(del.object.metadata!.finalizers, ['orphan']);
  await jobs.create(ctx(), { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'bg' }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'perl' }] } } } });
  assert.equal((await rest.delete!(ctx(), 'bg', { propagationPolicy: 'Background' })).deleted, true);
  await assert.rejects(jobs.create(ctx(), { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'bad' }, spec: { template: { spec: { containers: [{ name: 'c', image: 'perl' }] } } } }),
    (e) => e instanceof ApiError && e.message.includes('spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"'));
});

test('job table cells: status, completions, duration', () => {
  const now = new Date('2024-01-01T01:00:00Z');
  const job = (spec: object, status: object, meta: object = {}) => ({ metadata: { name: 'j', creationTimestamp: '2024-01-01T00:00:00Z', ...meta }, spec, status } as unknown as Job);
  assert.deepEqual(jobTable.columns.filter((c) => c.priority === 0).map((c) => c.name), ['Name', 'Status', 'Completions', 'Duration', 'Age']);
  assert.equal(jobStatus(job({}, { conditions: [{ type: 'Complete', status: 'True' }] })), 'Complete');
  assert.equal(jobStatus(job({}, {}, { deletionTimestamp: '2024-01-01T00:00:00Z' })), 'Terminating');
  assert.equal(jobStatus(job({}, {})), 'Running');
  assert.equal(jobCompletions(job({ completions: 3 }, { succeeded: 1 })), '1/3');
  assert.equal(jobCompletions(job({ parallelism: 4 }, {})), '0/1 of 4');
  const cells = jobTable.cells(job({ completions: 1 }, { startTime: '2024-01-01T00:00:00Z', completionTime: '2024-01-01T00:00:42Z', succeeded: 1 }) as never, now);
  assert.deepEqual(cells.slice(0, 5), ['j', 'Running', '1/1', '42s', '60m']);
});
