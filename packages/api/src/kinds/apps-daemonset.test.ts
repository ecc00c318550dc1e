import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ControllerRevision, DaemonSet } from 'kubernetes-types/apps/v1.js';
import { fieldErrorString } from '../errors.js';
import { defaultDaemonSet, validateControllerRevision, validateControllerRevisionUpdate, validateDaemonSet, validateDaemonSetUpdate } from './apps-daemonset.js';

const ds = (spec: Record<string, unknown> = {}): DaemonSet => {
  const d = {
    metadata: { name: 'agent' },
    spec: { selector: { matchLabels: { app: 'agent' } }, template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'c', image: 'i' }] } }, ...spec },
  } as DaemonSet;
  defaultDaemonSet(d);
  return d;
};

test('daemonset defaults: RollingUpdate maxUnavailable 1 / maxSurge 0, history 10', () => {
  assert.deepEqual(ds().spec!.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
  assert.equal(ds().spec!.revisionHistoryLimit, 10);
  assert.deepEqual(ds({ updateStrategy: { type: 'OnDelete' } }).spec!.updateStrategy, { type: 'OnDelete' });
});

test('daemonset validation and updates', () => {
  const cases: [string, Record<string, unknown>, string[]][] = [
    ['valid', {}, []],
    ['both non-zero', { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 1 } } },
      ['spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: 1: may not be set when maxUnavailable is non-zero']],
    ['both zero', { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 0 } } },
      ['spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when maxSurge is 0']],
    ['unknown strategy', { updateStrategy: { type: 'Never' } }, ['spec.updateStrategy: Unsupported value: {"type":"Never"}: supported values: "RollingUpdate", "OnDelete"']],
    ['empty selector', { selector: {} }, ['spec.selector: Invalid value: {}: empty selector is invalid for daemonset']],
    ['deadline', { template: { metadata: { labels: { app: 'agent' } }, spec: { activeDeadlineSeconds: 5, containers: [{ name: 'c', image: 'i' }] } } },
      ['spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in DaemonSet is not Supported']],
  ];
  for (const [name, spec, want] of cases) assert.deepEqual(validateDaemonSet(ds(spec)).map(fieldErrorString), want, name);
  const moved = ds({ selector: { matchLabels: { app: 'agent', x: 'y' } }, template: { metadata: { labels: { app: 'agent', x: 'y' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } });
  assert.ok(validateDaemonSetUpdate(moved, ds()).some((e) => e.field === 'spec.selector' && e.detail === 'field is immutable'));
});

test('controllerrevision: data is mandatory and immutable', () => {
  const cr = (data: unknown, revision = 1) => ({ metadata: { name: 'r' }, data, revision } as ControllerRevision);
  assert.deepEqual(validateControllerRevision(cr(undefined, -1)).map(fieldErrorString), [
    'data: Required value: data is mandatory', 'revision: Invalid value: -1: must be greater than or equal to 0',
  ]);
  assert.deepEqual(validateControllerRevisionUpdate(cr({ a: 2 }), cr({ a: 1 })).map(fieldErrorString), ['data: Invalid value: {"a":2}: field is immutable']);
});
