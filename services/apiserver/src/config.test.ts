import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from './config.js';

test('TSKUBE_SERVICE_CLUSTER_IP_RANGE: default, normalised, dual-stack, refused when invalid', () => {
  assert.deepEqual(loadConfig({}).serviceClusterIPRanges, ['10.96.0.0/12']);
  assert.deepEqual(loadConfig({ TSKUBE_SERVICE_CLUSTER_IP_RANGE: '10.100.5.0/16' }).serviceClusterIPRanges, ['10.100.0.0/16']);
  assert.deepEqual(loadConfig({ TSKUBE_SERVICE_CLUSTER_IP_RANGE: '10.96.0.0/16, fd00:10:96::/112' }).serviceClusterIPRanges, ['10.96.0.0/16', 'fd00:10:96::/112']);
  assert.throws(() => loadConfig({ TSKUBE_SERVICE_CLUSTER_IP_RANGE: '10.0.0.0/8' }), /TSKUBE_SERVICE_CLUSTER_IP_RANGE: specified service cluster IP range 10\.0\.0\.0\/8 is too large/);
  assert.throws(() => loadConfig({ TSKUBE_SERVICE_CLUSTER_IP_RANGE: 'nonsense' }), /is not a CIDR/);
});

test('TSKUBE_DISABLE_ADMISSION_PLUGINS: none by default, a comma list', () => {
  assert.deepEqual(loadConfig({}).disableAdmissionPlugins, []);
  assert.deepEqual(loadConfig({ TSKUBE_DISABLE_ADMISSION_PLUGINS: 'ServiceAccount, Priority' }).disableAdmissionPlugins, ['ServiceAccount', 'Priority']);
});
