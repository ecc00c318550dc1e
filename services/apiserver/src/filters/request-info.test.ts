import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRequestInfo } from './request-info.js';

test('paths parse into what they address, like upstream RequestInfoFactory', () => {
  const q = (s = '') => new URLSearchParams(s);
  const cases: [string, string, string, Partial<ReturnType<typeof parseRequestInfo>>][] = [
    ['GET', '/api/v1/namespaces/default/pods', '', { verb: 'list', namespace: 'default', resource: 'pods', name: '' }],
    ['GET', '/api/v1/namespaces/default/pods/p1', '', { verb: 'get', name: 'p1' }],
    ['GET', '/api/v1/namespaces/default/pods', 'watch=true', { verb: 'watch', resource: 'pods' }],
    ['GET', '/api/v1/watch/namespaces/default/pods', '', { verb: 'watch', namespace: 'default', resource: 'pods' }],
    ['GET', '/api/v1/pods', '', { verb: 'list', namespace: '', resource: 'pods' }],
    ['POST', '/api/v1/namespaces/default/pods/p1/binding', '', { verb: 'create', name: 'p1', subresource: 'binding' }],
    ['GET', '/api/v1/namespaces/default', '', { verb: 'get', resource: 'namespaces', name: 'default', namespace: '' }],
    ['PUT', '/api/v1/namespaces/x/finalize', '', { verb: 'update', resource: 'namespaces', name: 'x', subresource: 'finalize', namespace: '' }],
    ['DELETE', '/apis/apps/v1/namespaces/ns/replicasets', '', { verb: 'deletecollection', apiGroup: 'apps', apiVersion: 'v1', resource: 'replicasets' }],
    ['PATCH', '/apis/apps/v1/namespaces/ns/replicasets/r/scale', '', { verb: 'patch', subresource: 'scale', name: 'r' }],
    ['GET', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1', '', { apiGroup: 'coordination.k8s.io', resource: 'leases', name: 'n1' }],
  ];
  for (const [method, path, query, want] of cases) {
    const got = parseRequestInfo(method, path, q(query));
    assert.ok(got.isResourceRequest, path);
    for (const [k, v] of Object.entries(want)) assert.equal(got[k as keyof typeof got], v, `${method} ${path}?${query}: ${k}`);
  }
  for (const path of ['/healthz', '/version', '/api', '/apis', '/api/v1', '/apis/apps', '/apis/apps/v1', '/openapi/v3']) {
    assert.equal(parseRequestInfo('GET', path, q()).isResourceRequest, false, path);
  }
});
