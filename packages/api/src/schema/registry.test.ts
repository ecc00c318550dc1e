// Sanity of the generated schemas (scripts/gen-schemas.mjs output) as read through the registry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultSchemaRegistry, getSchema, refName, schemaForKind, SchemaNames, SchemaRegistry, type OpenApiSchema } from './registry.js';

const prop = (schema: string, p: string): OpenApiSchema => {
  const s = getSchema(schema)?.properties?.[p];
  assert.ok(s, `${schema}.${p} exists`);
  return s;
};

test('top-level kinds carry their group-version-kind; lookups by GVK find them', () => {
  assert.deepEqual(getSchema('io.k8s.api.core.v1.Pod')?.['x-kubernetes-group-version-kind'], [{ group: '', kind: 'Pod', version: 'v1' }]);
  const cases: [string, string, string, string][] = [
    ['', 'v1', 'Pod', 'io.k8s.api.core.v1.Pod'],
    ['', 'v1', 'PodList', 'io.k8s.api.core.v1.PodList'],
    ['apps', 'v1', 'Deployment', 'io.k8s.api.apps.v1.Deployment'],
    ['coordination.k8s.io', 'v1', 'Lease', 'io.k8s.api.coordination.v1.Lease'],
    ['autoscaling', 'v1', 'Scale', 'io.k8s.api.autoscaling.v1.Scale'],
    ['', 'v1', 'Status', SchemaNames.status],
    ['apps', 'v1', 'DeleteOptions', SchemaNames.deleteOptions],
    ['', 'v1', 'DeleteOptions', SchemaNames.deleteOptions],
  ];
  for (const [group, version, kind, want] of cases) {
    assert.equal(schemaForKind({ group, version, kind })?.name, want, `${group}/${version} ${kind}`);
  }
  assert.equal(schemaForKind({ group: 'apps', version: 'v1', kind: 'Nope' }), undefined);
  // Plain structs have no GVK.
  assert.equal(getSchema('io.k8s.api.core.v1.PodSpec')?.['x-kubernetes-group-version-kind'], undefined);
});

test('patch metadata from the table: merge keys, strategies, list types', () => {
  const cases: [string, string, Partial<OpenApiSchema>][] = [
    ['io.k8s.api.core.v1.PodSpec', 'containers', { 'x-kubernetes-patch-merge-key': 'name', 'x-kubernetes-patch-strategy': 'merge', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] }],
    ['io.k8s.api.core.v1.PodSpec', 'volumes', { 'x-kubernetes-patch-merge-key': 'name', 'x-kubernetes-patch-strategy': 'merge,retainKeys' }],
    ['io.k8s.api.core.v1.PodSpec', 'tolerations', { 'x-kubernetes-list-type': 'atomic', 'x-kubernetes-patch-merge-key': undefined }],
    ['io.k8s.api.core.v1.PodSpec', 'nodeSelector', { 'x-kubernetes-map-type': 'atomic' }],
    ['io.k8s.api.core.v1.Container', 'ports', { 'x-kubernetes-patch-merge-key': 'containerPort', 'x-kubernetes-list-map-keys': ['containerPort', 'protocol'] }],
    ['io.k8s.api.core.v1.Container', 'env', { 'x-kubernetes-patch-merge-key': 'name' }],
    ['io.k8s.api.core.v1.Container', 'envFrom', { 'x-kubernetes-list-type': 'atomic', 'x-kubernetes-patch-merge-key': undefined }],
    ['io.k8s.api.core.v1.EphemeralContainer', 'volumeMounts', { 'x-kubernetes-patch-merge-key': 'mountPath' }],
    ['io.k8s.api.core.v1.PodStatus', 'conditions', { 'x-kubernetes-patch-merge-key': 'type' }],
    ['io.k8s.api.core.v1.NodeStatus', 'addresses', { 'x-kubernetes-patch-merge-key': 'type' }],
    ['io.k8s.api.core.v1.NodeSpec', 'taints', { 'x-kubernetes-list-type': 'atomic' }],
    ['io.k8s.api.core.v1.ServiceSpec', 'ports', { 'x-kubernetes-patch-merge-key': 'port', 'x-kubernetes-list-map-keys': ['port', 'protocol'] }],
    ['io.k8s.api.apps.v1.DeploymentStatus', 'conditions', { 'x-kubernetes-patch-merge-key': 'type' }],
    ['io.k8s.api.apps.v1.DeploymentSpec', 'strategy', { 'x-kubernetes-patch-strategy': 'retainKeys' }],
    ['io.k8s.api.batch.v1.JobStatus', 'conditions', { 'x-kubernetes-patch-merge-key': 'type', 'x-kubernetes-list-type': 'atomic' }],
    [SchemaNames.objectMeta, 'ownerReferences', { 'x-kubernetes-patch-merge-key': 'uid' }],
    [SchemaNames.objectMeta, 'finalizers', { 'x-kubernetes-patch-strategy': 'merge', 'x-kubernetes-list-type': 'set' }],
    [SchemaNames.objectMeta, 'managedFields', { 'x-kubernetes-list-type': 'atomic' }],
    ['io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector', 'matchExpressions', { 'x-kubernetes-list-type': 'atomic' }],
  ];
  for (const [schema, p, want] of cases) {
    const got = prop(schema, p);
    for (const [k, v] of Object.entries(want)) assert.deepEqual(got[k as keyof OpenApiSchema], v, `${schema}.${p} ${k}`);
  }
  // A ref that gained an extension is wrapped in allOf, keeping its target.
  assert.equal(refName(prop('io.k8s.api.apps.v1.DeploymentSpec', 'strategy')), 'io.k8s.api.apps.v1.DeploymentStrategy');
  assert.equal(getSchema('io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector')?.['x-kubernetes-map-type'], 'atomic');
});

test('formats: numbers from client-node, special scalar types like upstream v3', () => {
  assert.deepEqual({ ...prop('io.k8s.api.core.v1.ContainerPort', 'containerPort'), description: undefined },
    { description: undefined, type: 'integer', format: 'int32' });
  assert.equal(prop('io.k8s.api.core.v1.PodSpec', 'activeDeadlineSeconds').format, 'int64');
  assert.equal(prop(SchemaNames.objectMeta, 'generation').format, 'int64');
  assert.deepEqual(prop('io.k8s.api.core.v1.Secret', 'data').additionalProperties, { type: 'string', format: 'byte' });
  assert.equal(refName(prop('io.k8s.api.core.v1.ServicePort', 'targetPort')), SchemaNames.intOrString);
  assert.equal(refName(prop(SchemaNames.objectMeta, 'creationTimestamp')), SchemaNames.time);
  assert.equal(refName(prop('io.k8s.api.core.v1.ResourceRequirements', 'limits').additionalProperties as OpenApiSchema), SchemaNames.quantity);
  assert.deepEqual(getSchema(SchemaNames.intOrString)?.oneOf, [{ type: 'integer' }, { type: 'string' }]);
  assert.equal(getSchema(SchemaNames.intOrString)?.format, 'int-or-string');
  assert.deepEqual(getSchema(SchemaNames.quantity)?.oneOf, [{ type: 'string' }, { type: 'number' }]);
  assert.equal(getSchema(SchemaNames.time)?.format, 'date-time');
  assert.equal(getSchema(SchemaNames.rawExtension)?.type, 'object');
  assert.deepEqual(getSchema('io.k8s.api.core.v1.Pod')?.required, undefined);
  assert.deepEqual(getSchema('io.k8s.api.core.v1.Container')?.required, ['name']);
  assert.match(getSchema('io.k8s.api.core.v1.Pod')?.description ?? '', /collection of containers/);
});

test('closure follows $refs transitively and rejects unknown names', () => {
  const reg = defaultSchemaRegistry();
  const c = reg.closure(['io.k8s.api.coordination.v1.Lease']);
  for (const n of ['io.k8s.api.coordination.v1.Lease', 'io.k8s.api.coordination.v1.LeaseSpec', SchemaNames.objectMeta,
    'io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference', SchemaNames.microTime, 'io.k8s.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry']) {
    assert.ok(c.includes(n), n);
  }
  assert.ok(!c.includes('io.k8s.api.core.v1.Pod'));
  assert.deepEqual(c, [...c].sort());
  assert.throws(() => reg.closure(['io.k8s.api.core.v1.Nope']), /unknown API schema/);
  // Every $ref in the whole set resolves.
  assert.equal(reg.closure(reg.names()).length, reg.names().length);
});

test('a missing generated file says how to produce it', () => {
  assert.throws(() => SchemaRegistry.fromFile('/nonexistent/schemas.json'), /npm run build/);
});
