import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from './config.js';
import { truncateMessage } from './schedule-one.js';

const VARS = ['TSKUBE_KUBECONFIG', 'TSKUBE_HEALTH_PORT', 'TSKUBE_LOG_LEVEL', 'TSKUBE_SCHEDULER_NAME', 'TSKUBE_LEADER_ELECT'];

function withEnv<T>(vars: Record<string, string>, f: () => T): T {
  const saved = Object.fromEntries(VARS.map((k) => [k, process.env[k]]));
  for (const k of VARS) delete process.env[k];
  Object.assign(process.env, vars);
  try {
    return f();
  } finally {
    for (const k of VARS) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  }
}

test('config defaults and overrides', () => {
  assert.deepEqual(withEnv({ TSKUBE_KUBECONFIG: '/k' }, loadConfig), {
    kubeconfig: '/k', healthPort: 10259, logLevel: 'info', schedulerName: 'default-scheduler', leaderElect: true,
  });
  assert.deepEqual(withEnv({
    TSKUBE_KUBECONFIG: '/k', TSKUBE_HEALTH_PORT: '0', TSKUBE_LOG_LEVEL: 'debug', TSKUBE_SCHEDULER_NAME: 'mine', TSKUBE_LEADER_ELECT: 'false',
  }, loadConfig), { kubeconfig: '/k', healthPort: 0, logLevel: 'debug', schedulerName: 'mine', leaderElect: false });
});

test('bad config fails naming the variable', () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{}, /TSKUBE_KUBECONFIG must be set/],
    [{ TSKUBE_KUBECONFIG: '/k', TSKUBE_HEALTH_PORT: 'x' }, /TSKUBE_HEALTH_PORT must be an integer/],
    [{ TSKUBE_KUBECONFIG: '/k', TSKUBE_LEADER_ELECT: 'maybe' }, /TSKUBE_LEADER_ELECT must be true or false/],
    [{ TSKUBE_KUBECONFIG: '/k', TSKUBE_LOG_LEVEL: 'loud' }, /invalid log level/],
  ];
  for (const [vars, re] of cases) assert.throws(() => withEnv(vars, loadConfig), re);
});

test('event messages are truncated to 1024 characters as upstream', () => {
  assert.equal(truncateMessage('short'), 'short');
  const long = 'x'.repeat(2000);
  const t = truncateMessage(long);
  assert.equal(t.length, 1024);
  assert.ok(t.endsWith('x ...'));
});
