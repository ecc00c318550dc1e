import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from 'kubernetes-types/rbac/v1.js';
import { fieldErrorString } from '../errors.js';
import {
  defaultRoleBinding, isRBACName, validateClusterRole, validateClusterRoleBinding, validateClusterRoleBindingUpdate, validateRole,
  validateRoleBinding, validateRoleBindingUpdate,
} from './rbac-roles.js';

test('policy rules', () => {
  const role = (rules: unknown[]) => ({ metadata: { name: 'r' }, rules } as Role);
  const cases: [string, unknown[], string[]][] = [
    ['valid', [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }], []],
    ['no verbs, groups or resources', [{}], [
      'rules[0].verbs: Required value: verbs must contain at least one value',
      'rules[0].apiGroups: Required value: resource rules must supply at least one api group',
      'rules[0].resources: Required value: resource rules must supply at least one resource',
    ]],
    ['non-resource URLs in a namespace', [{ nonResourceURLs: ['/healthz'], verbs: ['get'] }],
      ['rules[0].nonResourceURLs: Invalid value: ["/healthz"]: namespaced rules cannot apply to non-resource URLs']],
  ];
  for (const [name, rules, want] of cases) assert.deepEqual(validateRole(role(rules)).map(fieldErrorString), want, name);
  const cr = (extra: Record<string, unknown>) => ({ metadata: { name: 'c' }, ...extra } as ClusterRole);
  assert.deepEqual(validateClusterRole(cr({ rules: [{ nonResourceURLs: ['/healthz'], verbs: ['get'] }] })), []);
  assert.deepEqual(validateClusterRole(cr({ rules: [{ nonResourceURLs: ['/x'], resources: ['pods'], verbs: ['get'] }] })).map(fieldErrorString),
    ['rules[0].nonResourceURLs: Invalid value: ["/x"]: rules cannot apply to both regular resources and non-resource URLs']);
  assert.deepEqual(validateClusterRole(cr({ aggregationRule: { clusterRoleSelectors: [] } })).map(fieldErrorString),
    ['aggregationRule.clusterRoleSelectors: Required value: at least one clusterRoleSelector required if aggregationRule is non-nil']);
  assert.deepEqual(validateClusterRole(cr({ aggregationRule: { clusterRoleSelectors: [{ matchLabels: { a: 'b' } }] } })), []);
  assert.deepEqual(isRBACName('system:node'), []);
  assert.deepEqual(isRBACName('a/b'), ["may not contain '/'"]);
});

test('bindings: subject apiGroup defaults, kinds, roleRef rules and immutability', () => {
  const b = (roleRef: Record<string, string>, subjects: Record<string, string>[]) => {
    const x = { metadata: { name: "b" }, roleRef, subjects } as unknown as RoleBinding;
    defaultRoleBinding(x);
    return x;
  };
  const ok = b({ kind: 'Role', name: 'reader' }, [{ kind: 'User', name: 'alice' }, { kind: 'Group', name: 'devs' }, { kind: 'ServiceAccount', name: 'sa' }]);
  assert.equal(ok.roleRef.apiGroup, 'rbac.authorization.k8s.io');
  assert.deepEqual(ok.subjects!.map((s) => s.apiGroup), ['rbac.authorization.k8s.io', 'rbac.authorization.k8s.io', '']);
  assert.deepEqual(validateRoleBinding(ok), []);
  const cases: [string, RoleBinding, string[]][] = [
    ['roleRef kind', b({ kind: 'Pod', name: 'x' }, []), ['roleRef.kind: Unsupported value: "Pod": supported values: "Role", "ClusterRole"']],
    ['roleRef group', b({ apiGroup: 'apps', kind: 'Role', name: 'x' }, []), ['roleRef.apiGroup: Unsupported value: "apps": supported values: "rbac.authorization.k8s.io"']],
    ['subject kind', b({ kind: 'Role', name: 'x' }, [{ kind: 'Robot', name: 'r2' }]), ['subjects[0].kind: Unsupported value: "Robot": supported values: "ServiceAccount", "User", "Group"']],
    ['user apiGroup', b({ kind: 'Role', name: 'x' }, [{ kind: 'User', name: 'u', apiGroup: 'v1' }]), ['subjects[0].apiGroup: Unsupported value: "v1": supported values: "rbac.authorization.k8s.io"']],
    ['service account apiGroup', b({ kind: 'Role', name: 'x' }, [{ kind: 'ServiceAccount', name: 'sa', apiGroup: 'v1' }]), ['subjects[0].apiGroup: Unsupported value: "v1": supported values: ""']],
    ['subject name', b({ kind: 'Role', name: 'x' }, [{ kind: 'Group' }] as Record<string, string>[]), ['subjects[0].name: Required value']],
  ];
  for (const [name, rb, want] of cases) assert.deepEqual(validateRoleBinding(rb).map(fieldErrorString), want, name);
  const crb = b({ kind: 'Role', name: 'x' }, [{ kind: 'ServiceAccount', name: 'sa' }]) as ClusterRoleBinding;
  assert.deepEqual(validateClusterRoleBinding(crb).map(fieldErrorString), [
    'roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"', 'subjects[0].namespace: Required value',
  ]);
  const other = b({ kind: 'ClusterRole', name: 'reader' }, []);
  assert.deepEqual(validateRoleBindingUpdate(other, ok).map(fieldErrorString).slice(-1),
    ['roleRef: Invalid value: {"kind":"ClusterRole","name":"reader","apiGroup":"rbac.authorization.k8s.io"}: cannot change roleRef']);
  const c1 = b({ kind: 'ClusterRole', name: 'view' }, []) as ClusterRoleBinding;
  assert.deepEqual(validateClusterRoleBindingUpdate(c1, c1), []);
});
