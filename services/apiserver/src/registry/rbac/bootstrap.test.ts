import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultClusterRoles } from './bootstrap.js';

test('default cluster roles: admin ⊇ edit ⊇ view, aggregated like the upstream controller', () => {
  const roles = new Map(defaultClusterRoles().map((r) => [r.metadata!.name!, r]));
  for (const n of ['cluster-admin', 'admin', 'edit', 'view', 'system:aggregate-to-admin', 'system:aggregate-to-edit', 'system:aggregate-to-view', 'system:basic-user', 'system:discovery']) {
    assert.ok(roles.has(n), n);
  }
  const key = (r: object) => JSON.stringify(r);
  const rules = (n: string) => (roles.get(n)!.rules ?? []).map(key);
  assert.deepEqual(rules('view'), rules('system:aggregate-to-view'));
  assert.deepEqual(rules('edit'), [...rules('system:aggregate-to-edit'), ...rules('view')]);
  assert.deepEqual(rules('admin'), [...rules('edit'), ...rules('system:aggregate-to-admin')]);
  assert.deepEqual(roles.get('admin')!.aggregationRule, { clusterRoleSelectors: [{ matchLabels: { 'rbac.authorization.k8s.io/aggregate-to-admin': 'true' } }] });
  assert.equal(roles.get('edit')!.metadata!.labels!['rbac.authorization.k8s.io/aggregate-to-admin'], 'true');
  assert.deepEqual(roles.get('cluster-admin')!.rules, [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }, { nonResourceURLs: ['*'], verbs: ['*'] }]);
});
