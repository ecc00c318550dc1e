import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { loadConfig } from './config.js';

const KEYS = [
  'TSKUBE_KUBECONFIG', 'TSKUBE_NODE_NAME', 'TSKUBE_NODE_IP', 'TSKUBE_KUBELET_PORT', 'TSKUBE_HEALTH_PORT', 'TSKUBE_POD_NETWORK',
  'TSKUBE_PAUSE_IMAGE', 'TSKUBE_CLUSTER_NAME', 'TSKUBE_NODE_CPU', 'TSKUBE_NODE_MEMORY', 'TSKUBE_CA_FILE', 'TSKUBE_RUNTIME',
  'TSKUBE_RUNTIME_SOCKET', 'TSKUBE_SHUTDOWN_REMOVE_PODS', 'TSKUBE_SHUTDOWN_GRACE_SECONDS', 'TSKUBE_LOG_LEVEL',
  'TSKUBE_SYSTEM_RESERVED', 'TSKUBE_KUBE_RESERVED', 'TSKUBE_EVICTION_HARD', 'TSKUBE_EVICTION_SOFT', 'TSKUBE_EVICTION_SOFT_GRACE_PERIOD',
  'TSKUBE_EVICTION_MINIMUM_RECLAIM', 'TSKUBE_EVICTION_MAX_POD_GRACE_PERIOD', 'TSKUBE_EVICTION_PRESSURE_TRANSITION_PERIOD',
  'TSKUBE_EVICTION_MONITORING_INTERVAL',
];
const saved = Object.fromEntries(KEYS.map((k) => [k, process.env[k]]));

function withEnv(vars: Record<string, string>): void {
  for (const k of KEYS) delete process.env[k];
  Object.assign(process.env, vars);
}

afterEach(() => {
  for (const k of KEYS) {
    if (saved[k] === undefined) delete process.env[k]; else process.env[k] = saved[k];
  }
});

describe('loadConfig', () => {
  it('defaults', () => {
    withEnv({ TSKUBE_KUBECONFIG: '/k' });
    const c = loadConfig();
    assert.equal(c.kubeconfig, '/k');
    assert.equal(c.kubeletPort, 10250);
    assert.equal(c.healthPort, 10248);
    assert.equal(c.pauseImage, 'registry.k8s.io/pause:3.10');
    assert.equal(c.clusterName, 'tskube');
    assert.equal(c.runtime, 'docker');
    assert.equal(c.runtimeSocket, '/run/tskube/runtime.sock');
    assert.equal(c.shutdownRemovePods, true);
    assert.equal(c.shutdownGraceSeconds, 20);
    assert.equal(c.nodeName, undefined);
    assert.equal(c.podNetwork, undefined);
    assert.equal(c.caFile, undefined);
  });

  it('reads every variable', () => {
    withEnv({
      TSKUBE_KUBECONFIG: '/k', TSKUBE_NODE_NAME: 'n1', TSKUBE_NODE_IP: '127.0.0.1', TSKUBE_KUBELET_PORT: '0', TSKUBE_HEALTH_PORT: '0',
      TSKUBE_POD_NETWORK: 'net', TSKUBE_PAUSE_IMAGE: 'local/pause:3.10', TSKUBE_CLUSTER_NAME: 'c', TSKUBE_NODE_CPU: '8',
      TSKUBE_NODE_MEMORY: '16Gi', TSKUBE_CA_FILE: '/ca', TSKUBE_RUNTIME: 'fake', TSKUBE_RUNTIME_SOCKET: '/tmp/s.sock',
      TSKUBE_SHUTDOWN_REMOVE_PODS: 'false',
    });
    const c = loadConfig();
    assert.deepEqual(
      [c.nodeName, c.nodeIP, c.kubeletPort, c.healthPort, c.podNetwork, c.pauseImage, c.clusterName, c.nodeCpu, c.nodeMemory, c.caFile, c.runtime, c.runtimeSocket, c.shutdownRemovePods],
      ['n1', '127.0.0.1', 0, 0, 'net', 'local/pause:3.10', 'c', '8', '16Gi', '/ca', 'fake', '/tmp/s.sock', false],
    );
  });

  const bad: Array<[Record<string, string>, RegExp]> = [
    [{}, /TSKUBE_KUBECONFIG must be set/],
    [{ TSKUBE_KUBECONFIG: '/k', TSKUBE_RUNTIME: 'containerd' }, /TSKUBE_RUNTIME must be docker or fake/],
    [{ TSKUBE_KUBECONFIG: '/k', TSKUBE_KUBELET_PORT: 'http' }, /TSKUBE_KUBELET_PORT must be an integer/],
    [{ TSKUBE_KUBECONFIG: '/k', TSKUBE_NODE_MEMORY: 'lots' }, /TSKUBE_NODE_MEMORY must be a quantity/],
    [{ TSKUBE_KUBECONFIG: '/k', TSKUBE_SHUTDOWN_REMOVE_PODS: 'maybe' }, /TSKUBE_SHUTDOWN_REMOVE_PODS must be true or false/],
  ];
  for (const [vars, want] of bad) {
    it(`rejects ${JSON.stringify(vars)}`, () => {
      withEnv(vars);
      assert.throws(() => loadConfig(), want);
    });
  }

  it('reservations and eviction: upstream defaults, then every variable', () => {
    withEnv({ TSKUBE_KUBECONFIG: '/k' });
    const d = loadConfig();
    assert.equal(d.systemReserved, undefined);
    assert.equal(d.kubeReserved, undefined);
    assert.deepEqual(d.eviction.thresholds.map((t) => t.signal),
      ['memory.available', 'nodefs.available', 'nodefs.inodesFree', 'imagefs.available', 'allocatableMemory.available']);
    assert.deepEqual([d.eviction.pressureTransitionPeriodMs, d.eviction.monitoringIntervalMs, d.eviction.maxPodGracePeriodSeconds], [300_000, 10_000, 0]);
    withEnv({
      TSKUBE_KUBECONFIG: '/k', TSKUBE_SYSTEM_RESERVED: 'cpu=100m,memory=256Mi,ephemeral-storage=1Gi,pid=1000', TSKUBE_KUBE_RESERVED: 'memory=128Mi',
      TSKUBE_EVICTION_HARD: 'memory.available<200Mi', TSKUBE_EVICTION_SOFT: 'nodefs.available<15%', TSKUBE_EVICTION_SOFT_GRACE_PERIOD: 'nodefs.available=1m',
      TSKUBE_EVICTION_MINIMUM_RECLAIM: 'nodefs.available=1Gi', TSKUBE_EVICTION_MAX_POD_GRACE_PERIOD: '30',
      TSKUBE_EVICTION_PRESSURE_TRANSITION_PERIOD: '30s', TSKUBE_EVICTION_MONITORING_INTERVAL: '2s',
    });
    const c = loadConfig();
    assert.deepEqual(c.systemReserved, { cpu: '100m', memory: '256Mi', 'ephemeral-storage': '1Gi', pid: '1000' });
    assert.deepEqual(c.kubeReserved, { memory: '128Mi' });
    assert.deepEqual(c.eviction.thresholds.map((t) => [t.signal, t.gracePeriodMs, t.minReclaim !== undefined]),
      [['memory.available', 0, false], ['nodefs.available', 60_000, true], ['allocatableMemory.available', 0, false]]);
    assert.deepEqual([c.eviction.pressureTransitionPeriodMs, c.eviction.monitoringIntervalMs, c.eviction.maxPodGracePeriodSeconds], [30_000, 2000, 30]);
    withEnv({ TSKUBE_KUBECONFIG: '/k', TSKUBE_EVICTION_HARD: 'none' });
    assert.deepEqual(loadConfig().eviction.thresholds, []);
  });

  const badEviction: Array<[Record<string, string>, RegExp]> = [
    [{ TSKUBE_SYSTEM_RESERVED: 'gpu=1' }, /TSKUBE_SYSTEM_RESERVED: cannot reserve "gpu" resource/],
    [{ TSKUBE_KUBE_RESERVED: 'memory' }, /TSKUBE_KUBE_RESERVED: malformed pair "memory"/],
    [{ TSKUBE_EVICTION_HARD: 'memory.free<1Gi' }, /TSKUBE_EVICTION_HARD: unsupported eviction signal memory\.free/],
    [{ TSKUBE_EVICTION_SOFT: 'memory.available<1Gi' }, /grace period must be specified for the soft eviction threshold memory\.available/],
    [{ TSKUBE_EVICTION_PRESSURE_TRANSITION_PERIOD: '5 minutes' }, /TSKUBE_EVICTION_PRESSURE_TRANSITION_PERIOD: time: invalid duration/],
    [{ TSKUBE_EVICTION_MONITORING_INTERVAL: '1ms' }, /TSKUBE_EVICTION_MONITORING_INTERVAL must be at least 100ms/],
  ];
  for (const [vars, want] of badEviction) {
    it(`rejects ${JSON.stringify(vars)}`, () => {
      withEnv({ TSKUBE_KUBECONFIG: '/k', ...vars });
      assert.throws(() => loadConfig(), want);
    });
  }
});
