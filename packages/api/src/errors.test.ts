import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alreadyExists, conflict, field, invalid, notFound } from './errors.js';

test('Status messages use upstream wording', () => {
  assert.equal(notFound({ group: '', resource: 'pods' }, 'x').message, 'pods "x" not found');
  assert.equal(notFound({ group: 'apps', resource: 'replicasets' }, 'x').message, 'replicasets.apps "x" not found');
  assert.equal(alreadyExists({ group: '', resource: 'pods' }, 'x').status.code, 409);
  assert.equal(conflict({ group: 'apps', resource: 'replicasets' }, 'r').message,
    'Operation cannot be fulfilled on replicasets.apps "r": the object has been modified; please apply your changes to the latest version and try again');
});

test('Invalid carries one cause per field error; the message aggregates them', () => {
  const one = invalid({ group: '', kind: 'Pod' }, 'bad', [field.required('spec.containers')]);
  assert.equal(one.message, 'Pod "bad" is invalid: spec.containers: Required value');
  assert.equal(one.code, 422);
  const two = invalid({ group: 'apps', kind: 'ReplicaSet' }, 'r', [field.invalid('spec.replicas', -1, 'must be greater than or equal to 0'), field.notSupported('spec.x', 'a', ['b'])]);
  assert.equal(two.message, 'ReplicaSet.apps "r" is invalid: [spec.replicas: Invalid value: -1: must be greater than or equal to 0, spec.x: Unsupported value: "a": supported values: "b"]');
  assert.deepEqual(two.status.details?.causes?.map((c) => [c.reason, c.field]), [['FieldValueInvalid', 'spec.replicas'], ['FieldValueNotSupported', 'spec.x']]);
  assert.equal(two.status.details?.kind, 'ReplicaSet');
  assert.equal(two.status.details?.group, 'apps');
});
