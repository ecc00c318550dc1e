import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LocalSubjectAccessReview, SelfSubjectAccessReview, SubjectAccessReview } from 'kubernetes-types/authorization/v1.js';
import { fieldErrorString } from '../errors.js';
import { validateEmptyMetadata, validateLocalSubjectAccessReview, validateSelfSubjectAccessReview, validateSubjectAccessReview } from './authorization-reviews.js';

test('access reviews: exactly one kind of attributes, a subject, empty metadata', () => {
  const ssar = (spec: Record<string, unknown>, metadata: Record<string, unknown> = {}) => ({ metadata, spec } as SelfSubjectAccessReview);
  assert.deepEqual(validateSelfSubjectAccessReview(ssar({ resourceAttributes: { verb: 'create', resource: 'pods' } })), []);
  assert.deepEqual(validateSelfSubjectAccessReview(ssar({})).map(fieldErrorString), ['spec.resourceAttributes: Invalid value: null: exactly one of nonResourceAttributes or resourceAttributes must be specified']);
  assert.deepEqual(validateSelfSubjectAccessReview(ssar({ resourceAttributes: {}, nonResourceAttributes: { path: '/x', verb: 'get' } })).map(fieldErrorString),
    ['spec.nonResourceAttributes: Invalid value: {"path":"/x","verb":"get"}: cannot be specified in combination with resourceAttributes']);
  assert.deepEqual(validateSelfSubjectAccessReview(ssar({ resourceAttributes: {} }, { name: 'x' })).map(fieldErrorString), ['metadata: Invalid value: {"name":"x"}: must be empty']);
  assert.deepEqual(validateEmptyMetadata({ managedFields: [] }), []);
  const sar = (spec: Record<string, unknown>) => ({ metadata: {}, spec } as SubjectAccessReview);
  assert.deepEqual(validateSubjectAccessReview(sar({ resourceAttributes: {} })).map(fieldErrorString), ['spec.user: Invalid value: "": at least one of user or group must be specified']);
  assert.deepEqual(validateSubjectAccessReview(sar({ resourceAttributes: {}, groups: ['g'] })), []);
  const local = { metadata: { namespace: 'a' }, spec: { user: 'u', resourceAttributes: { namespace: 'b' } } } as LocalSubjectAccessReview;
  assert.deepEqual(validateLocalSubjectAccessReview(local, 'a').map(fieldErrorString), ['spec.resourceAttributes.namespace: Invalid value: "b": must match metadata.namespace']);
});
