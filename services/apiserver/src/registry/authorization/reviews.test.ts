import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError, type ResourceDef } from '@tskube/api';
import { nullLogger } from '@tskube/log';
import { SelfSubjectAccessReviewRest, SelfSubjectRulesReviewRest, SubjectAccessReviewRest } from './reviews.js';
import { SelfSubjectReviewRest } from '../authentication/selfsubjectreviews.js';

const def = {} as ResourceDef;
const admin = { username: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] };
const ctx = { user: admin, namespace: '', dryRun: false, log: nullLogger() };

test('reviews answer from the authorizer and the request user', async () => {
  const ssar = await new SelfSubjectAccessReviewRest(def).create(ctx, { metadata: {}, spec: { resourceAttributes: { verb: 'create', resource: 'pods', namespace: 'default' } } });
  assert.equal((ssar.status as { allowed: boolean }).allowed, true);
  assert.equal(ssar.kind, 'SelfSubjectAccessReview');
  await assert.rejects(new SelfSubjectAccessReviewRest(def).create(ctx, { metadata: {}, spec: {} }), (e) => e instanceof ApiError && e.code === 422);
  const anon = await new SubjectAccessReviewRest(def).create(ctx, { metadata: {}, spec: { user: 'system:anonymous', groups: ['system:unauthenticated'], resourceAttributes: { verb: 'list', resource: 'pods' } } });
  assert.deepEqual(anon.status, { allowed: false });
  const anonHealth = await new SubjectAccessReviewRest(def).create(ctx, { metadata: {}, spec: { user: 'system:anonymous', groups: ['system:unauthenticated'], nonResourceAttributes: { path: '/healthz', verb: 'get' } } });
  assert.equal((anonHealth.status as { allowed: boolean }).allowed, true);
  const rules = await new SelfSubjectRulesReviewRest(def).create(ctx, { metadata: {}, spec: { namespace: 'default' } });
  assert.deepEqual(rules.status, { resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }], nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }], incomplete: false });
  const who = await new SelfSubjectReviewRest(def).create(ctx, { metadata: {} });
  assert.deepEqual(who.status, { userInfo: { username: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] } });
});
