import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ReplicaSet } from 'kubernetes-types/apps/v1.js';
import { defaultReplicaSet, validateReplicaSet, validateReplicaSetUpdate } from './replicaset.js';
import { fieldErrorString } from '../errors.js';

const rs = (spec: Record<string, unknown> = {}): ReplicaSet => {
  const r = {
    metadata: { name: 'web' },
    spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'i' }] } }, ...spec },
  } as ReplicaSet;
  defaultReplicaSet(r);
  return r;
};

test('replicas default to 1 and the template gets pod defaults', () => {
  const r = rs();
  assert.equal(r.spec!.replicas, 1);
  assert.equal(r.spec!.template!.spec!.restartPolicy, 'Always');
});

test('selector, template and replicas are validated like upstream', () => {
  const cases: [string, Record<string, unknown>, string[]][] = [
    ['ok', {}, []],
    ['negative replicas', { replicas: -1 }, ['spec.replicas: Invalid value: -1: must be greater than or equal to 0']],
    ['selector does not match', { selector: { matchLabels: { app: 'db' } } }, ['spec.template.metadata.labels: Invalid value: {"app":"web"}: `selector` does not match template `labels`']],
    ['no selector', { selector: undefined }, ['spec.selector: Required value']],
    ['restart policy', { template: { metadata: { labels: { app: 'web' } }, spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'i' }] } } }, ['spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"']],
  ];
  for (const [name, spec, want] of cases) {
    const got = validateReplicaSet(rs(spec)).map(fieldErrorString);
    assert.deepEqual(got, want, name);
  }
});

test('the selector is immutable', () => {
  const old = rs();
  const next = rs({ selector: { matchLabels: { app: 'web', tier: 'x' } }, template: { metadata: { labels: { app: 'web', tier: 'x' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } });
  assert.ok(validateReplicaSetUpdate(next, old).some((e) => e.field === 'spec.selector' && e.detail === 'field is immutable'));
});
