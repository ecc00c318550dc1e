import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LimitRange, PersistentVolume, PersistentVolumeClaim, ReplicationController, ResourceQuota } from 'kubernetes-types/core/v1.js';
import { defaultLimitRange, validateLimitRange, validateResourceQuota, validateResourceQuotaUpdate } from './core-quota.js';
import {
  accessModesString, defaultPersistentVolume, defaultPersistentVolumeClaim, validatePersistentVolume, validatePersistentVolumeClaim,
  validatePersistentVolumeClaimUpdate, validatePersistentVolumeUpdate,
} from './core-storage.js';
import { defaultReplicationController, validateReplicationController, validateReplicationControllerStatus } from './core-rc.js';
import { fieldErrorString, type FieldError } from '../errors.js';

const strings = (errs: FieldError[]) => errs.map(fieldErrorString);
function expectPrefixes(name: string, got: string[], want: string[]) {
  assert.equal(got.length, want.length, `${name}: ${JSON.stringify(got)}`);
  want.forEach((w, i) => assert.ok(got[i]!.startsWith(w), `${name}: got ${got[i]}, want prefix ${w}`));
}

test('limit ranges: container defaults come from max, requests from defaults then min', () => {
  const lr: LimitRange = { spec: { limits: [{ type: 'Container', max: { cpu: '2' }, min: { memory: '64Mi' } }, { type: 'Pod', max: { cpu: '4' } }] } };
  defaultLimitRange(lr);
  assert.deepEqual(lr.spec!.limits[0], { type: 'Container', max: { cpu: '2' }, min: { memory: '64Mi' }, default: { cpu: '2' }, defaultRequest: { cpu: '2', memory: '64Mi' } });
  assert.deepEqual(lr.spec!.limits[1], { type: 'Pod', max: { cpu: '4' } });
  assert.deepEqual(validateLimitRange(lr), []);
});

test('limit range validation', () => {
  const cases: [string, LimitRange, string[]][] = [
    ['min above max', { spec: { limits: [{ type: 'Pod', min: { cpu: '2' }, max: { cpu: '1' } }] } }, ['spec.limits[0].min[cpu]: Invalid value: "2": min value 2 is greater than max value 1']],
    ['pod defaults forbidden', { spec: { limits: [{ type: 'Pod', default: { cpu: '1' } }] } }, ["spec.limits[0].default: Forbidden: may not be specified when `type` is 'Pod'"]],
    ['duplicate type', { spec: { limits: [{ type: 'Container' }, { type: 'Container' }] } }, ['spec.limits[1].type: Duplicate value: "Container"']],
    ['unknown type', { spec: { limits: [{ type: 'Volume' }] } }, ['spec.limits[0].type: Invalid value: "Volume": must be a standard limit type or fully qualified']],
    ['pvc needs storage bounds', { spec: { limits: [{ type: 'PersistentVolumeClaim' }] } }, ['spec.limits[0].limits: Required value: either minimum or maximum storage value is required']],
    ['ratio below one', { spec: { limits: [{ type: 'Container', maxLimitRequestRatio: { cpu: '0.5' } }] } }, ['spec.limits[0].maxLimitRequestRatio[cpu]: Invalid value: "0.5": ratio 0.5 is less than 1']],
    ['bad container resource', { spec: { limits: [{ type: 'Container', max: { pods: '1' } }] } }, ['spec.limits[0].max[pods]: Invalid value: "pods": must be a standard resource for containers']],
  ];
  for (const [name, lr, want] of cases) expectPrefixes(name, strings(validateLimitRange(lr)), want);
});

test('resource quota validation', () => {
  const cases: [string, ResourceQuota, string[]][] = [
    ['valid', { spec: { hard: { pods: '10', 'requests.cpu': '1', 'count/deployments.apps': '2' } } }, []],
    ['negative', { spec: { hard: { pods: '-1' } } }, ['spec.hard[pods]: Invalid value: "-1": must be greater than or equal to 0']],
    ['fractional count', { spec: { hard: { pods: '1.5' } } }, ['spec.hard[pods]: Invalid value: "1.5": must be an integer']],
    ['not a quota resource', { spec: { hard: { storage: '1Gi' } } }, ['spec.hard[storage]: Invalid value: "storage": must be a standard resource for quota']],
    ['conflicting scopes', { spec: { hard: { pods: '1' }, scopes: ['BestEffort', 'NotBestEffort'] } }, ['spec.scopes: Invalid value: ["BestEffort","NotBestEffort"]: conflicting scopes']],
    ['scope not valid for resource', { spec: { hard: { services: '1' }, scopes: ['Terminating'] } }, ['spec.scopes: Invalid value: ["Terminating"]: unsupported scope applied to resource']],
  ];
  for (const [name, rq, want] of cases) expectPrefixes(name, strings(validateResourceQuota(rq)), want);
  expectPrefixes('scopes immutable', strings(validateResourceQuotaUpdate({ spec: { hard: { pods: '1' }, scopes: ['NotTerminating'] } }, { spec: { hard: { pods: '1' } } })),
    ['spec.scopes: Invalid value: ["NotTerminating"]: field is immutable']);
});

const pv = (spec: Record<string, unknown>): PersistentVolume => ({ metadata: { name: 'pv' }, spec } as PersistentVolume);

test('persistent volumes: defaults, one source, capacity, immutable source', () => {
  const p = pv({ capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/data' } });
  defaultPersistentVolume(p);
  assert.equal(p.spec!.persistentVolumeReclaimPolicy, 'Retain');
  assert.equal(p.spec!.volumeMode, 'Filesystem');
  assert.equal(p.spec!.hostPath!.type, '');
  assert.deepEqual(validatePersistentVolume(p), []);
  const cases: [string, PersistentVolume, string[]][] = [
    ['no source', pv({ capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'] }), ['spec: Required value: must specify a volume type']],
    ['two sources', pv({ capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/a' }, nfs: { server: 's', path: '/x' } }), ['spec.nfs: Forbidden: may not specify more than 1 volume type']],
    ['no capacity', pv({ accessModes: ['ReadWriteOnce'], hostPath: { path: '/a' } }), ['spec.capacity: Required value', 'spec.capacity: Unsupported value: {}']],
    ['zero capacity', pv({ capacity: { storage: '0' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/a' } }), ['spec.capacity[storage]: Invalid value: "0": must be greater than zero']],
    ['bad access mode', pv({ capacity: { storage: '1Gi' }, accessModes: ['Sometimes'], hostPath: { path: '/a' } }), ['spec.accessModes: Unsupported value: "Sometimes"']],
    ['RWOP with others', pv({ capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOncePod', 'ReadOnlyMany'], hostPath: { path: '/a' } }), ['spec.accessModes: Forbidden: may not use ReadWriteOncePod with other access modes']],
    ['relative nfs path', pv({ capacity: { storage: '1Gi' }, accessModes: ['ReadWriteMany'], nfs: { server: 's', path: 'x' } }), ['spec.nfs.path: Invalid value: "x": must be an absolute path']],
    ['backsteps', pv({ capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/a/../b' } }), ["spec.hostPath.path: Invalid value: \"/a/../b\": must not contain '..'"]],
  ];
  for (const [name, v, want] of cases) expectPrefixes(name, strings(validatePersistentVolume(v)), want);
  const moved = structuredClone(p);
  moved.spec!.hostPath!.path = '/other';
  expectPrefixes('source immutable', strings(validatePersistentVolumeUpdate(moved, p)), ['spec.persistentvolumesource: Forbidden: spec.persistentvolumesource is immutable after creation']);
  assert.equal(accessModesString(['ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOncePod']), 'RWO,RWX,RWOP');
});

test('persistent volume claims: storage request, immutable spec, no shrinking', () => {
  const claim = (spec: Record<string, unknown>): PersistentVolumeClaim => ({ metadata: { name: 'c' }, spec } as PersistentVolumeClaim);
  const c = claim({ accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } });
  defaultPersistentVolumeClaim(c);
  assert.equal(c.spec!.volumeMode, 'Filesystem');
  assert.deepEqual(validatePersistentVolumeClaim(c), []);
  expectPrefixes('empty', strings(validatePersistentVolumeClaim(claim({}))), ['spec.accessModes: Required value: at least 1 access mode is required', 'spec.resources[storage]: Required value']);
  const bound = structuredClone(c);
  bound.spec!.volumeName = 'pv-1';
  assert.deepEqual(validatePersistentVolumeClaimUpdate(bound, c), [], 'volumeName may be set once');
  const grown = structuredClone(c);
  grown.spec!.resources!.requests!.storage = '2Gi';
  grown.spec!.accessModes = ['ReadWriteMany'];
  expectPrefixes('spec change', strings(validatePersistentVolumeClaimUpdate(grown, c)), ['spec: Forbidden: spec is immutable after creation except resources.requests']);
  const shrunk = structuredClone(c);
  shrunk.spec!.resources!.requests!.storage = '512Mi';
  (shrunk as { status?: unknown }).status = { phase: 'Bound' };
  expectPrefixes('shrink', strings(validatePersistentVolumeClaimUpdate(shrunk, c)), ['spec.resources.requests.storage: Forbidden: field can not be less than previous value']);
});

test('replication controllers: selector and labels default from the template', () => {
  const rc: ReplicationController = { metadata: { name: 'r' }, spec: { template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'i:1' }] } } } };
  defaultReplicationController(rc);
  assert.deepEqual(rc.spec!.selector, { app: 'web' });
  assert.deepEqual(rc.metadata!.labels, { app: 'web' });
  assert.equal(rc.spec!.replicas, 1);
  assert.equal(rc.spec!.template!.spec!.restartPolicy, 'Always');
  assert.deepEqual(validateReplicationController(rc), []);
  const bad: ReplicationController = { metadata: { name: 'r' }, spec: { replicas: -1, selector: { app: 'x' }, template: { metadata: { labels: { app: 'web' } }, spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'i:1' }] } } } };
  expectPrefixes('bad', strings(validateReplicationController(bad)), [
    'spec.replicas: Invalid value: -1: must be greater than or equal to 0',
    'spec.template.metadata.labels: Invalid value: {"app":"web"}: `selector` does not match template `labels`',
    'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"',
  ]);
  expectPrefixes('status', strings(validateReplicationControllerStatus({ status: { replicas: 1, readyReplicas: 2 } })), ['status.readyReplicas: Invalid value: 2: cannot be greater than status.replicas']);
});
