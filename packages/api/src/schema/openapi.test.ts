import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RESOURCES, type ResourceDef } from '../resources.js';
import { buildOpenApi, documentHash, openApiDocument, openApiIndex, openApiPathKey, type OpenApiOperation } from './openapi.js';
import { SchemaNames } from './registry.js';

/** kubectl's server-side-validation probe: the first PATCH operation tagged with the GVK must list fieldValidation inline. */
function patchOpFor(doc: ReturnType<typeof openApiDocument>, gvk: { group: string; version: string; kind: string }): OpenApiOperation | undefined {
  for (const item of Object.values(doc.paths)) {
    const op = item.patch;
    const g = op?.['x-kubernetes-group-version-kind'];
    if (g && g.group === gvk.group && g.version === gvk.version && g.kind === gvk.kind) return op;
  }
  return undefined;
}

// A resource table with a Deployment (not in the default table yet) to cover apps/v1 fully.
const deployment: ResourceDef = {
  group: 'apps', version: 'v1', kind: 'Deployment', listKind: 'DeploymentList', plural: 'deployments', singular: 'deployment',
  namespaced: true, shortNames: ['deploy'], categories: ['all'],
  verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
  subresources: [
    { name: 'scale', kind: { group: 'autoscaling', version: 'v1', kind: 'Scale' }, verbs: ['get', 'patch', 'update'] },
    { name: 'status', kind: { group: 'apps', version: 'v1', kind: 'Deployment' }, verbs: ['get', 'patch', 'update'] },
  ],
  schema: 'io.k8s.api.apps.v1.Deployment', storagePrefix: 'deployments',
};
// the real table (it serves Deployments too, with the same row as `deployment` above, unless they differ)
const TABLE = RESOURCES.some((r) => r.group === 'apps' && r.plural === 'deployments') ? [...RESOURCES] : [...RESOURCES, deployment];

test('PATCH operations carry the GVK and an inline fieldValidation parameter (core/v1, apps/v1)', () => {
  const cases: [string, string, string, string][] = [
    ['', 'v1', 'Pod', '/api/v1/namespaces/{namespace}/pods/{name}'],
    ['', 'v1', 'Node', '/api/v1/nodes/{name}'],
    ['', 'v1', 'Namespace', '/api/v1/namespaces/{name}'],
    ['apps', 'v1', 'Deployment', '/apis/apps/v1/namespaces/{namespace}/deployments/{name}'],
    ['apps', 'v1', 'ReplicaSet', '/apis/apps/v1/namespaces/{namespace}/replicasets/{name}'],
    ['coordination.k8s.io', 'v1', 'Lease', '/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases/{name}'],
  ];
  for (const [group, version, kind, path] of cases) {
    const doc = openApiDocument(TABLE, group, version);
    const op = doc.paths[path]?.patch;
    assert.ok(op, `${path} has PATCH`);
    assert.deepEqual(op['x-kubernetes-group-version-kind'], { group, version, kind });
    assert.equal(op['x-kubernetes-action'], 'patch');
    const names = op.parameters.map((p) => p.name);
    for (const n of ['fieldValidation', 'fieldManager', 'dryRun', 'force', 'name']) assert.ok(names.includes(n), `${kind} patch has ${n}`);
    assert.deepEqual(Object.keys(op.requestBody?.content ?? {}).sort(), [
      'application/apply-patch+yaml', 'application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json']);
    assert.ok(patchOpFor(doc, { group, version, kind })?.parameters.some((p) => p.name === 'fieldValidation'));
    // explain and SMP find the kind's schema by its GVK.
    const schema = Object.values(doc.components.schemas).find((s) =>
      s['x-kubernetes-group-version-kind']?.some((g) => g.group === group && g.version === version && g.kind === kind));
    assert.ok(schema?.properties?.metadata, `${kind} schema in components`);
  }
});

test('core/v1 document: verbs, all-namespaces list, subresources, operation ids, components closure', () => {
  const doc = openApiDocument(TABLE, '', 'v1');
  assert.equal(doc.openapi, '3.0.0');
  const pods = doc.paths['/api/v1/namespaces/{namespace}/pods']!;
  assert.equal(pods.get?.operationId, 'listCoreV1NamespacedPod');
  assert.equal(pods.get?.['x-kubernetes-action'], 'list');
  assert.ok(pods.get?.parameters.some((p) => p.name === 'watch'));
  assert.ok(pods.get?.parameters.some((p) => p.name === 'namespace' && p.in === 'path' && p.required));
  assert.equal(pods.post?.operationId, 'createCoreV1NamespacedPod');
  assert.ok(pods.post?.parameters.some((p) => p.name === 'fieldValidation'));
  assert.equal(pods.delete?.['x-kubernetes-action'], 'deletecollection');
  assert.equal(doc.paths['/api/v1/pods']?.get?.operationId, 'listCoreV1PodForAllNamespaces');
  const item = doc.paths['/api/v1/namespaces/{namespace}/pods/{name}']!;
  assert.deepEqual(Object.keys(item).sort(), ['delete', 'get', 'patch', 'put']);
  assert.ok(item.put?.parameters.some((p) => p.name === 'fieldValidation'));
  assert.equal(item.put?.['x-kubernetes-action'], 'put');
  // Subresources.
  const status = doc.paths['/api/v1/namespaces/{namespace}/pods/{name}/status']!;
  assert.equal(status.patch?.operationId, 'patchCoreV1NamespacedPodStatus');
  assert.deepEqual(status.patch?.['x-kubernetes-group-version-kind'], { group: '', version: 'v1', kind: 'Pod' });
  const binding = doc.paths['/api/v1/namespaces/{namespace}/pods/{name}/binding']!;
  assert.equal(binding.post?.['x-kubernetes-action'], 'post');
  assert.deepEqual(binding.post?.['x-kubernetes-group-version-kind'], { group: '', version: 'v1', kind: 'Binding' });
  const log = doc.paths['/api/v1/namespaces/{namespace}/pods/{name}/log']!;
  assert.ok(log.get?.parameters.some((p) => p.name === 'follow'));
  assert.ok(doc.paths['/api/v1/namespaces/{namespace}/bindings']?.post, 'bindings create-only resource');
  assert.equal(doc.paths['/api/v1/namespaces/{namespace}/bindings']?.get, undefined);
  // Cluster-scoped: no namespace segment, no all-namespaces twin.
  assert.ok(doc.paths['/api/v1/nodes']?.get);
  assert.equal(doc.paths['/api/v1/nodes']?.get?.operationId, 'listCoreV1Node');
  // Namespace has no deletecollection in the table.
  assert.equal(doc.paths['/api/v1/namespaces']?.delete, undefined);
  assert.ok(doc.paths['/api/v1/namespaces/{name}/finalize']?.put);
  // Components: the kinds, their lists, meta types; nothing from other groups.
  const names = Object.keys(doc.components.schemas);
  for (const n of ['io.k8s.api.core.v1.Pod', 'io.k8s.api.core.v1.PodList', 'io.k8s.api.core.v1.Binding', 'io.k8s.api.core.v1.Container',
    SchemaNames.status, SchemaNames.deleteOptions, SchemaNames.patch, SchemaNames.watchEvent, SchemaNames.objectMeta, SchemaNames.quantity]) {
    assert.ok(names.includes(n), n);
  }
  assert.ok(!names.includes('io.k8s.api.apps.v1.Deployment'));
  assert.deepEqual(names, [...names].sort());
  // Every $ref in the document resolves inside the document.
  const body = JSON.stringify(doc);
  for (const m of body.matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)) assert.ok(doc.components.schemas[m[1]!], `dangling ${m[1]}`);
  // Operation ids are unique.
  const ids = Object.values(doc.paths).flatMap((p) => Object.values(p).map((o) => o.operationId));
  assert.equal(new Set(ids).size, ids.length);
});

test('apps/v1 document: scale subresource uses autoscaling/v1 Scale', () => {
  const doc = openApiDocument(TABLE, 'apps', 'v1');
  const scale = doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale']!;
  assert.equal(scale.get?.operationId, 'readAppsV1NamespacedDeploymentScale');
  assert.deepEqual(scale.patch?.['x-kubernetes-group-version-kind'], { group: 'autoscaling', version: 'v1', kind: 'Scale' });
  assert.ok(doc.components.schemas['io.k8s.api.autoscaling.v1.Scale']);
  assert.equal(doc.paths['/apis/apps/v1/deployments']?.get?.operationId, 'listAppsV1DeploymentForAllNamespaces');
  assert.deepEqual(doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments']?.get?.tags, ['apps_v1']);
  assert.equal(openApiDocument(TABLE, 'coordination.k8s.io', 'v1').paths['/apis/coordination.k8s.io/v1/leases']?.get?.operationId,
    'listCoordinationV1LeaseForAllNamespaces');
});

test('a kind without a generated list schema gets a synthesized <Kind>List', () => {
  const fake: ResourceDef = { ...deployment, kind: 'Binding', listKind: 'BindingList', plural: 'bindingz', group: '', version: 'v1',
    schema: 'io.k8s.api.core.v1.Binding', subresources: [] };
  const doc = openApiDocument([fake], '', 'v1');
  const list = doc.components.schemas['io.k8s.api.core.v1.BindingList'];
  assert.deepEqual(list?.['x-kubernetes-group-version-kind'], [{ group: '', kind: 'BindingList', version: 'v1' }]);
  assert.equal(list?.properties?.items?.items?.$ref, '#/components/schemas/io.k8s.api.core.v1.Binding');
  assert.ok(doc.components.schemas['io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta']);
});

test('index and hashes: one entry per group version, hash = upper-case SHA-512 of the served body', () => {
  const built = buildOpenApi(TABLE);
  // one entry per served group version (the table grows with every group added)
  const served = [...new Set(TABLE.map((r) => openApiPathKey(r)))];
  assert.deepEqual(Object.keys(built.index.paths).sort(), served.sort());
  for (const k of ['api/v1', 'apis/apps/v1', 'apis/coordination.k8s.io/v1']) assert.ok(k in built.index.paths, k);
  for (const [key, d] of built.documents) {
    assert.match(d.hash, /^[0-9A-F]{128}$/);
    assert.equal(d.hash, documentHash(d.body));
    assert.equal(d.hash, documentHash(d.document));
    assert.equal(built.index.paths[key]?.serverRelativeURL, `/openapi/v3/${key}?hash=${d.hash}`);
  }
  assert.equal(openApiPathKey({ group: '', version: 'v1' }), 'api/v1');
  assert.equal(openApiPathKey({ group: 'apps', version: 'v1' }), 'apis/apps/v1');
  // Deterministic: building twice gives the same bytes; a changed table changes the hash.
  assert.equal(buildOpenApi(TABLE).documents.get('apis/apps/v1')?.hash, built.documents.get('apis/apps/v1')?.hash);
  const withoutDeployments = TABLE.filter((r) => !(r.group === 'apps' && r.plural === 'deployments'));
  assert.notEqual(buildOpenApi(withoutDeployments).documents.get('apis/apps/v1')?.hash, built.documents.get('apis/apps/v1')?.hash);
  assert.throws(() => openApiIndex(TABLE, {}), /no hash for api\/v1/);
  assert.throws(() => openApiDocument(TABLE, 'nothing.example.com', 'v1'), /no resources/);
});
