import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from './config.js';
import { ALL_CONTROLLERS, selectControllers } from './controllers.js';

function withEnv<T>(vars: Record<string, string | undefined>, fn: () => T): T {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(vars)) { if (v === undefined) delete process.env[k]; else process.env[k] = v; }
  try { return fn(); } finally {
    for (const [k, v] of Object.entries(saved)) { if (v === undefined) delete process.env[k]; else process.env[k] = v; }
  }
}

const CLEAR = {
  TSKUBE_KUBECONFIG: undefined, TSKUBE_HEALTH_PORT: undefined, TSKUBE_LOG_LEVEL: undefined, TSKUBE_LEADER_ELECT: undefined,
  TSKUBE_NODE_MONITOR_GRACE_PERIOD: undefined, TSKUBE_NODE_STARTUP_GRACE_PERIOD: undefined, TSKUBE_CONTROLLERS: undefined,
  TSKUBE_HPA_SYNC_PERIOD: undefined, TSKUBE_HPA_DOWNSCALE_STABILIZATION: undefined, TSKUBE_HPA_TOLERANCE: undefined,
  TSKUBE_HPA_CPU_INITIALIZATION_PERIOD: undefined, TSKUBE_HPA_INITIAL_READINESS_DELAY: undefined,
};

describe('loadConfig', () => {
  it('has upstream defaults', () => {
    const c = withEnv({ ...CLEAR, TSKUBE_KUBECONFIG: '/k' }, loadConfig);
    assert.deepEqual(c, {
      kubeconfig: '/k', healthPort: 10257, logLevel: 'info', leaderElect: true,
      nodeMonitorGracePeriodSeconds: 40, nodeStartupGracePeriodSeconds: 60, controllers: ['*'],
      hpa: { syncPeriodSeconds: 15, downscaleStabilizationSeconds: 300, tolerance: 0.1, cpuInitializationPeriodSeconds: 300, initialReadinessDelaySeconds: 30 },
    });
  });

  it('reads every variable', () => {
    const c = withEnv({
      ...CLEAR, TSKUBE_KUBECONFIG: '/k', TSKUBE_HEALTH_PORT: '0', TSKUBE_LOG_LEVEL: 'debug', TSKUBE_LEADER_ELECT: 'false',
      TSKUBE_NODE_MONITOR_GRACE_PERIOD: '5', TSKUBE_CONTROLLERS: '*, -garbagecollector',
    }, loadConfig);
    assert.deepEqual([c.healthPort, c.logLevel, c.leaderElect, c.nodeMonitorGracePeriodSeconds, c.controllers], [0, 'debug', false, 5, ['*', '-garbagecollector']]);
  });

  it('reads the horizontal-pod-autoscaler flags', () => {
    const c = withEnv({
      ...CLEAR, TSKUBE_KUBECONFIG: '/k', TSKUBE_HPA_SYNC_PERIOD: '5', TSKUBE_HPA_DOWNSCALE_STABILIZATION: '10', TSKUBE_HPA_TOLERANCE: '0.25',
      TSKUBE_HPA_CPU_INITIALIZATION_PERIOD: '60', TSKUBE_HPA_INITIAL_READINESS_DELAY: '0',
    }, loadConfig);
    assert.deepEqual(c.hpa, { syncPeriodSeconds: 5, downscaleStabilizationSeconds: 10, tolerance: 0.25, cpuInitializationPeriodSeconds: 60, initialReadinessDelaySeconds: 0 });
  });

  const bad: [Record<string, string>, RegExp][] = [
    [{}, /TSKUBE_KUBECONFIG must be set/],
    [{ TSKUBE_KUBECONFIG: '/k', TSKUBE_HEALTH_PORT: 'x' }, /TSKUBE_HEALTH_PORT must be an integer/],
    [{ TSKUBE_KUBECONFIG: '/k', TSKUBE_LEADER_ELECT: 'maybe' }, /TSKUBE_LEADER_ELECT must be true or false/],
    [{ TSKUBE_KUBECONFIG: '/k', TSKUBE_NODE_MONITOR_GRACE_PERIOD: '0' }, /TSKUBE_NODE_MONITOR_GRACE_PERIOD must be an integer in \[1, 86400\]/],
    [{ TSKUBE_KUBECONFIG: '/k', TSKUBE_LOG_LEVEL: 'loud' }, /invalid log level "loud"/],
    [{ TSKUBE_KUBECONFIG: '/k', TSKUBE_HPA_TOLERANCE: '-1' }, /TSKUBE_HPA_TOLERANCE must be a non-negative number, got "-1"/],
    [{ TSKUBE_KUBECONFIG: '/k', TSKUBE_HPA_SYNC_PERIOD: '0' }, /TSKUBE_HPA_SYNC_PERIOD must be an integer in \[1, 86400\]/],
  ];
  for (const [vars, msg] of bad) {
    it(`rejects ${JSON.stringify(vars)}`, () => assert.throws(() => withEnv({ ...CLEAR, ...vars }, loadConfig), msg));
  }
});

describe('selectControllers', () => {
  const all = ALL_CONTROLLERS.map((c) => c.name);
  const cases: [string[], string[]][] = [
    [['*'], all],
    [['*', '-garbagecollector'], all.filter((n) => n !== 'garbage-collector-controller')],
    [['replicaset', 'namespace-controller'], ['replicaset-controller', 'namespace-controller']],
    [['-replicaset-controller'], []],
  ];
  for (const [spec, want] of cases) {
    it(JSON.stringify(spec), () => assert.deepEqual(selectControllers(spec).map((c) => c.name), want));
  }
  it('rejects unknown names', () => {
    assert.throws(() => selectControllers(['*', '-nope']), /TSKUBE_CONTROLLERS: unknown controller "nope" \(known: replicaset-controller, /);
  });
});
