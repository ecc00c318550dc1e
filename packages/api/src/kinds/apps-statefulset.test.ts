import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StatefulSet } from 'kubernetes-types/apps/v1.js';
import { fieldErrorString } from '../errors.js';
import { defaultStatefulSet, isStatefulSetName, validateStatefulSet, validateStatefulSetStatus, validateStatefulSetUpdate } from './apps-statefulset.js';

const template = {
  metadata: { labels: { app: 'db' } },
  spec: { containers: [{ name: 'c', image: 'postgres', volumeMounts: [{ name: 'data', mountPath: '/data' }] }] },
};
const claim = { metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } };
const sts = (spec: Record<string, unknown> = {}): StatefulSet => {
  const s = {
    metadata: { name: 'db' },
    spec: { serviceName: 'db', selector: { matchLabels: { app: 'db' } }, template: structuredClone(template), volumeClaimTemplates: [structuredClone(claim)], ...spec },
  } as StatefulSet;
  defaultStatefulSet(s);
  return s;
};

test('statefulset defaults: OrderedReady, RollingUpdate partition 0, Retain/Retain, replicas 1, history 10, claim defaults', () => {
  const s = sts();
  assert.equal(s.spec!.podManagementPolicy, 'OrderedReady');
  assert.deepEqual(s.spec!.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { partition: 0 } });
  assert.deepEqual(s.spec!.persistentVolumeClaimRetentionPolicy, { whenDeleted: 'Retain', whenScaled: 'Retain' });
  assert.equal(s.spec!.replicas, 1);
  assert.equal(s.spec!.revisionHistoryLimit, 10);
  assert.equal(s.spec!.volumeClaimTemplates![0]!.spec!.volumeMode, 'Filesystem');
  assert.deepEqual(s.spec!.volumeClaimTemplates![0]!.status, { phase: 'Pending' });
  assert.deepEqual(sts({ updateStrategy: { type: 'OnDelete' } }).spec!.updateStrategy, { type: 'OnDelete' });
});

test('statefulset validation', () => {
  const cases: [string, Record<string, unknown>, string[]][] = [
    ['valid (mounts may use claim templates)', {}, []],
    ['pod management policy', { podManagementPolicy: 'Random' }, ["spec.podManagementPolicy: Invalid value: \"Random\": must be 'OrderedReady' or 'Parallel'"]],
    ['update strategy', { updateStrategy: { type: 'Sometimes' } }, ["spec.updateStrategy: Invalid value: {\"type\":\"Sometimes\"}: must be 'RollingUpdate' or 'OnDelete'"]],
    ['OnDelete with rollingUpdate', { updateStrategy: { type: 'OnDelete', rollingUpdate: { partition: 1 } } },
      ["spec.updateStrategy.rollingUpdate: Invalid value: {\"partition\":1}: only allowed for updateStrategy 'RollingUpdate'"]],
    ['negative partition', { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: -1 } } },
      ['spec.updateStrategy.rollingUpdate.partition: Invalid value: -1: must be greater than or equal to 0']],
    ['retention policy', { persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Keep', whenScaled: 'Delete' } },
      ['spec.persistentVolumeClaimRetentionPolicy.whenDeleted: Unsupported value: "Keep": supported values: "Retain", "Delete"']],
    ['empty selector', { selector: {} }, ['spec.selector: Invalid value: {}: empty selector is invalid for statefulset']],
    ['undeclared volume', { volumeClaimTemplates: [] }, ['spec.template.spec.containers[0].volumeMounts[0].name: Not found: "data"']],
  ];
  for (const [name, spec, want] of cases) assert.deepEqual(validateStatefulSet(sts(spec)).map(fieldErrorString), want, name);
  assert.deepEqual(isStatefulSetName('web.example'), ["a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"]);
});

test('statefulset updates: only replicas, template, updateStrategy, ordinals, retention and minReadySeconds change', () => {
  const old = sts();
  assert.deepEqual(validateStatefulSetUpdate(sts({ replicas: 3, minReadySeconds: 5 }), old), []);
  assert.deepEqual(validateStatefulSetUpdate(sts({ serviceName: 'other' }), old).map(fieldErrorString), [
    "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
  ]);
  const bad = { ...sts(), status: { replicas: 1, readyReplicas: 2, availableReplicas: 2 } } as StatefulSet;
  assert.deepEqual(validateStatefulSetStatus(bad).map(fieldErrorString), [
    'status.readyReplicas: Invalid value: 2: cannot be greater than status.replicas',
    'status.availableReplicas: Invalid value: 2: cannot be greater than status.replicas',
  ]);
});
