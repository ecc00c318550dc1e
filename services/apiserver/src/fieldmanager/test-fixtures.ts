/** A test kind with one field of every list and map flavour (shared by the field manager tests). */
import { SchemaRegistry, type OpenApiSchema } from '@tskube/api';
import { SmdSchemas } from './schema.js';

const ref = (n: string): OpenApiSchema => ({ $ref: `#/components/schemas/${n}` });
const str: OpenApiSchema = { type: 'string' };

export const TEST_SCHEMAS: Record<string, OpenApiSchema> = {
  'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta': {
    type: 'object',
    properties: {
      name: str, namespace: str, uid: str, resourceVersion: str,
      labels: { type: 'object', additionalProperties: str },
      annotations: { type: 'object', additionalProperties: str },
      finalizers: { type: 'array', items: str, 'x-kubernetes-list-type': 'set', 'x-kubernetes-patch-strategy': 'merge' },
      managedFields: { type: 'array', items: { type: 'object' }, 'x-kubernetes-list-type': 'atomic' },
    },
  },
  'test.v1.Widget': {
    type: 'object',
    'x-kubernetes-group-version-kind': [{ group: 'test', version: 'v1', kind: 'Widget' }],
    properties: {
      apiVersion: str, kind: str,
      metadata: ref('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'),
      spec: ref('test.v1.WidgetSpec'),
      status: { type: 'object', properties: { ready: { type: 'boolean' } } },
    },
  },
  'test.v1.WidgetSpec': {
    type: 'object',
    properties: {
      replicas: { type: 'integer' },
      atomicList: { type: 'array', items: str, 'x-kubernetes-list-type': 'atomic' },
      setList: { type: 'array', items: str, 'x-kubernetes-list-type': 'set' },
      mapList: { type: 'array', items: ref('test.v1.Item'), 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] },
      ports: { type: 'array', items: ref('io.k8s.api.core.v1.ContainerPort'), 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['containerPort', 'protocol'] },
      mergeList: { type: 'array', items: ref('test.v1.Item'), 'x-kubernetes-patch-strategy': 'merge', 'x-kubernetes-patch-merge-key': 'name' },
      mergeSet: { type: 'array', items: str, 'x-kubernetes-patch-strategy': 'merge' },
      plainList: { type: 'array', items: ref('test.v1.Item') },
      atomicMap: { type: 'object', additionalProperties: str, 'x-kubernetes-map-type': 'atomic' },
      labels: { type: 'object', additionalProperties: str },
      struct: ref('test.v1.Item'),
      atomicStruct: { allOf: [ref('test.v1.Item')], 'x-kubernetes-map-type': 'atomic' },
      free: { type: 'object' },
      intOrString: ref('io.k8s.apimachinery.pkg.util.intstr.IntOrString'),
    },
  },
  'test.v1.Item': { type: 'object', properties: { name: str, value: str, tags: { type: 'array', items: str } } },
  'io.k8s.api.core.v1.ContainerPort': { type: 'object', properties: { containerPort: { type: 'integer' }, protocol: str, name: str } },
  'io.k8s.apimachinery.pkg.util.intstr.IntOrString': { format: 'int-or-string', oneOf: [{ type: 'integer' }, { type: 'string' }] },
};

export const testSchemas = new SmdSchemas(new SchemaRegistry(TEST_SCHEMAS));
