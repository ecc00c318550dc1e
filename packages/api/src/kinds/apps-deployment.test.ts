import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Deployment } from 'kubernetes-types/apps/v1.js';
import { fieldErrorString } from '../errors.js';
import { defaultDeployment, validateDeployment, validateDeploymentStatus, validateDeploymentUpdate } from './apps-deployment.js';

const template = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } };
const deploy = (spec: Record<string, unknown> = {}, defaults = true): Deployment => {
  const d = { metadata: { name: 'web' }, spec: { selector: { matchLabels: { app: 'web' } }, template: structuredClone(template), ...spec } } as Deployment;
  if (defaults) defaultDeployment(d);
  return d;
};

test('deployment defaults: replicas 1, RollingUpdate 25%/25%, history 10, progress deadline 600, pod defaults', () => {
  const d = deploy();
  assert.equal(d.spec!.replicas, 1);
  assert.deepEqual(d.spec!.strategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } });
  assert.equal(d.spec!.revisionHistoryLimit, 10);
  assert.equal(d.spec!.progressDeadlineSeconds, 600);
  assert.equal(d.spec!.template.spec!.restartPolicy, 'Always');
  assert.equal(d.spec!.template.spec!.containers[0]!.imagePullPolicy, 'Always');
  const recreate = deploy({ strategy: { type: 'Recreate' } });
  assert.deepEqual(recreate.spec!.strategy, { type: 'Recreate' });
  const partial = deploy({ strategy: { rollingUpdate: { maxSurge: 2 } }, replicas: 0 });
  assert.deepEqual(partial.spec!.strategy, { type: 'RollingUpdate', rollingUpdate: { maxSurge: 2, maxUnavailable: '25%' } });
  assert.equal(partial.spec!.replicas, 0);
});

test('deployment validation: every cause with its upstream path and wording', () => {
  const cases: [string, Record<string, unknown>, string[]][] = [
    ['valid', {}, []],
    ['negative replicas', { replicas: -1 }, ['spec.replicas: Invalid value: -1: must be greater than or equal to 0']],
    ['both zero', { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } } },
      ['spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0']],
    ['zero percents', { strategy: { rollingUpdate: { maxSurge: '0%', maxUnavailable: '0%' } } },
      ['spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "0%": may not be 0 when `maxSurge` is 0']],
    ['bad percent and over 100%', { strategy: { rollingUpdate: { maxSurge: 'lots', maxUnavailable: '150%' } } }, [
      "spec.strategy.rollingUpdate.maxSurge: Invalid value: \"lots\": a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
      'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "150%": must not be greater than 100%',
    ]],
    ['recreate with rollingUpdate', { strategy: { type: 'Recreate', rollingUpdate: {} } },
      ["spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'"]],
    ['unknown strategy', { strategy: { type: 'BlueGreen' } }, ['spec.strategy: Unsupported value: {"type":"BlueGreen"}: supported values: "Recreate", "RollingUpdate"']],
    ['selector must match', { selector: { matchLabels: { app: 'db' } } },
      ['spec.template.metadata.labels: Invalid value: {"app":"web"}: `selector` does not match template `labels`']],
    ['empty selector', { selector: {} }, ['spec.selector: Invalid value: {}: empty selector is invalid for deployment']],
    ['progress deadline', { minReadySeconds: 700 }, ['spec.progressDeadlineSeconds: Invalid value: 600: must be greater than minReadySeconds']],
    ['restart policy', { template: { ...template, spec: { ...template.spec, restartPolicy: 'Never' } } },
      ['spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"']],
    ['several at once', { replicas: -2, revisionHistoryLimit: -1, selector: undefined }, [
      'spec.replicas: Invalid value: -2: must be greater than or equal to 0',
      'spec.selector: Required value',
      'spec.revisionHistoryLimit: Invalid value: -1: must be greater than or equal to 0',
    ]],
  ];
  for (const [name, spec, want] of cases) {
    assert.deepEqual(validateDeployment(deploy(spec)).map(fieldErrorString), want, name);
  }
});

test('deployment updates: the selector is immutable in apps/v1; status counters are checked', () => {
  const old = deploy();
  const moved = deploy({ selector: { matchLabels: { app: 'web', v: '2' } }, template: { ...template, metadata: { labels: { app: 'web', v: '2' } } } });
  assert.deepEqual(validateDeploymentUpdate(moved, old).map(fieldErrorString), ['spec.selector: Invalid value: {"matchLabels":{"app":"web","v":"2"}}: field is immutable']);
  assert.deepEqual(validateDeploymentUpdate(deploy({ replicas: 5 }), old), []);
  const st = (status: Record<string, unknown>) => ({ ...deploy(), status } as Deployment);
  assert.deepEqual(validateDeploymentStatus(st({ replicas: 1, readyReplicas: 2, availableReplicas: 3 })).map(fieldErrorString), [
    'status.readyReplicas: Invalid value: 2: cannot be greater than status.replicas',
    'status.availableReplicas: Invalid value: 3: cannot be greater than status.replicas',
    'status.availableReplicas: Invalid value: 3: cannot be greater than readyReplicas',
  ]);
  assert.deepEqual(validateDeploymentStatus(st({ collisionCount: 1 }), st({ collisionCount: 2 })).map(fieldErrorString),
    ['status.collisionCount: Invalid value: 1: cannot be decremented']);
});
