import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '@tskube/api';
import type { TableConvertor } from '../strategy.js';
import {
  configMapTable, endpointsTable, formatEndpoints, limitRangeTable, persistentVolumeClaimTable, persistentVolumeTable,
  replicationControllerTable, resourceQuotaTable, secretTable, serviceAccountTable, serviceTable,
} from './tables.js';

const now = new Date('2024-05-01T10:10:00Z');
const meta = { name: 'x', creationTimestamp: '2024-05-01T10:00:00Z' };
const headers = (t: TableConvertor, wide = false) => t.columns.filter((c) => wide || c.priority === 0).map((c) => c.name.toUpperCase());
const row = (t: TableConvertor, o: Record<string, unknown>) => t.cells({ metadata: meta, ...o } as KubeObject, now);

test('column headers are upstream\'s', () => {
  const cases: [TableConvertor, string[], string[]][] = [
    [serviceTable, ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE'], ['SELECTOR']],
    [endpointsTable, ['NAME', 'ENDPOINTS', 'AGE'], []],
    [configMapTable, ['NAME', 'DATA', 'AGE'], []],
    [secretTable, ['NAME', 'TYPE', 'DATA', 'AGE'], []],
    [serviceAccountTable, ['NAME', 'SECRETS', 'AGE'], []],
    [limitRangeTable, ['NAME', 'CREATED AT'], []],
    [resourceQuotaTable, ['NAME', 'REQUEST', 'LIMIT', 'AGE'], []],
    [persistentVolumeTable, ['NAME', 'CAPACITY', 'ACCESS MODES', 'RECLAIM POLICY', 'STATUS', 'CLAIM', 'STORAGECLASS', 'VOLUMEATTRIBUTESCLASS', 'REASON', 'AGE'], ['VOLUMEMODE']],
    [persistentVolumeClaimTable, ['NAME', 'STATUS', 'VOLUME', 'CAPACITY', 'ACCESS MODES', 'STORAGECLASS', 'VOLUMEATTRIBUTESCLASS', 'AGE'], ['VOLUMEMODE']],
    [replicationControllerTable, ['NAME', 'DESIRED', 'CURRENT', 'READY', 'AGE'], ['CONTAINERS', 'IMAGES', 'SELECTOR']],
  ];
  for (const [t, plain, wideOnly] of cases) {
    assert.deepEqual(headers(t), plain);
    assert.deepEqual([...headers(t, true)].sort(), [...plain, ...wideOnly].sort(), '-o wide adds the priority-1 columns');
    assert.equal(t.columns.length, t.cells({ metadata: meta }, now).length, 'one cell per column');
  }
});

test('service cells: ports with node ports, external IPs by type', () => {
  assert.deepEqual(row(serviceTable, { spec: { type: 'NodePort', clusterIPs: ['10.96.0.10'], ports: [{ port: 80, nodePort: 30080, protocol: 'TCP' }, { port: 53, protocol: 'UDP' }], selector: { b: '2', a: '1' } } }),
    ['x', 'NodePort', '10.96.0.10', '<none>', '80:30080/TCP,53/UDP', '10m', 'a=1,b=2']);
  assert.deepEqual(row(serviceTable, { spec: { type: 'LoadBalancer', clusterIPs: ['10.96.0.11'], ports: [{ port: 443, protocol: 'TCP' }] } }).slice(3, 5), ['<pending>', '443/TCP']);
  assert.deepEqual(row(serviceTable, { spec: { type: 'ExternalName', externalName: 'db.example.com' } }).slice(2, 5), ['<none>', 'db.example.com', '<none>']);
  assert.deepEqual(row(serviceTable, { spec: { type: 'ClusterIP', clusterIPs: ['None'], externalIPs: ['1.2.3.4'], ports: [] } }).slice(2, 7), ['None', '1.2.3.4', '<none>', '10m', '<none>']);
});

test('endpoints cells show at most three addresses', () => {
  assert.equal(formatEndpoints({ subsets: [] }), '<none>');
  assert.equal(formatEndpoints({ subsets: [{ addresses: [{ ip: '10.1.0.1' }, { ip: '10.1.0.2' }], ports: [{ port: 80 }] }] }), '10.1.0.1:80,10.1.0.2:80');
  assert.equal(formatEndpoints({ subsets: [{ addresses: [{ ip: '10.1.0.1' }, { ip: '10.1.0.2' }, { ip: 'fd00::3' }, { ip: '10.1.0.4' }, { ip: '10.1.0.5' }], ports: [{ port: 80 }] }] }),
    '10.1.0.1:80,10.1.0.2:80,[fd00::3]:80 + 2 more...');
  assert.equal(formatEndpoints({ subsets: [{ addresses: [{ ip: '10.1.0.1' }] }] }), '10.1.0.1', 'headless without ports');
});

test('quota, volume, claim, secret, configmap and rc cells', () => {
  assert.deepEqual(row(resourceQuotaTable, { status: { hard: { pods: '10', 'limits.cpu': '2', 'requests.memory': '1Gi' }, used: { pods: '3' } } }),
    ['x', 'pods: 3/10, requests.memory: 0/1Gi', 'limits.cpu: 0/2', '10m']);
  assert.deepEqual(row(persistentVolumeTable, { spec: { capacity: { storage: '5Gi' }, accessModes: ['ReadWriteOnce', 'ReadOnlyMany'], persistentVolumeReclaimPolicy: 'Retain', claimRef: { namespace: 'default', name: 'data' }, storageClassName: 'standard', volumeMode: 'Filesystem' }, status: { phase: 'Bound' } }),
    ['x', '5Gi', 'RWO,ROX', 'Retain', 'Bound', 'default/data', 'standard', '<unset>', '', '10m', 'Filesystem']);
  assert.deepEqual(row(persistentVolumeClaimTable, { spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } }, status: { phase: 'Pending' } }),
    ['x', 'Pending', '', '', '', '', '<unset>', '10m', '<unset>']);
  assert.deepEqual(row(secretTable, { type: 'Opaque', data: { a: 'YQ==', b: 'Yg==' } }), ['x', 'Opaque', 2, '10m']);
  assert.deepEqual(row(configMapTable, { data: { a: '1' }, binaryData: { b: 'Yg==' } }), ['x', 2, '10m']);
  assert.deepEqual(row(replicationControllerTable, { spec: { replicas: 3, selector: { app: 'web' }, template: { spec: { containers: [{ name: 'c', image: 'i:1' }] } } }, status: { replicas: 2, readyReplicas: 1 } }),
    ['x', 3, 2, 1, '10m', 'c', 'i:1', 'app=web']);
});
