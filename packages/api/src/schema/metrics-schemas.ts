/**
 * OpenAPI schemas of metrics.k8s.io/v1beta1 (NodeMetrics, PodMetrics and their lists), which
 * kubernetes-types (the generator's input) does not have. Written by hand after upstream's
 * k8s.io/metrics types, under upstream's schema names; merged into the schema registry.
 */
import type { OpenApiSchema } from './registry.js';

const P = 'io.k8s.metrics.pkg.apis.metrics.v1beta1';
const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
const ref = (name: string): OpenApiSchema => ({ $ref: `#/components/schemas/${name}` });
const gvk = (kind: string) => [{ group: 'metrics.k8s.io', version: 'v1beta1', kind }];
const usage: OpenApiSchema = {
  description: 'The memory and CPU usage (cpu in cores, memory in bytes).',
  type: 'object', additionalProperties: ref('io.k8s.apimachinery.pkg.api.resource.Quantity'),
};
const typeMeta: Record<string, OpenApiSchema> = {
  apiVersion: { description: 'APIVersion defines the versioned schema of this representation of an object.', type: 'string' },
  kind: { description: 'Kind is a string value representing the REST resource this object represents.', type: 'string' },
};
const sampling: Record<string, OpenApiSchema> = {
  timestamp: { allOf: [ref(`${META}.Time`)], description: 'The following fields define time interval from which metrics were collected from the interval [Timestamp-Window, Timestamp].' },
  window: { description: 'Duration of the sample window (Go duration, e.g. "10.5s").', type: 'string' },
};
const list = (kind: string, item: string): OpenApiSchema => ({
  description: `${kind} is a list of ${item}.`,
  type: 'object',
  properties: {
    ...typeMeta,
    items: { description: `List of ${item}.`, type: 'array', items: ref(`${P}.${item}`) },
    metadata: { allOf: [ref(`${META}.ListMeta`)], description: 'Standard list metadata.' },
  },
  required: ['items'],
  'x-kubernetes-group-version-kind': gvk(kind),
});

export const METRICS_SCHEMAS: Readonly<Record<string, OpenApiSchema>> = {
  [`${P}.ContainerMetrics`]: {
    description: 'ContainerMetrics sets resource usage metrics of a container.',
    type: 'object',
    properties: { name: { description: 'Container name corresponding to the one from pod.spec.containers.', type: 'string' }, usage },
    required: ['name', 'usage'],
  },
  [`${P}.NodeMetrics`]: {
    description: 'NodeMetrics sets resource usage metrics of a node.',
    type: 'object',
    properties: { ...typeMeta, metadata: { allOf: [ref(`${META}.ObjectMeta`)], description: 'Standard object metadata.' }, ...sampling, usage },
    required: ['timestamp', 'window', 'usage'],
    'x-kubernetes-group-version-kind': gvk('NodeMetrics'),
  },
  [`${P}.NodeMetricsList`]: list('NodeMetricsList', 'NodeMetrics'),
  [`${P}.PodMetrics`]: {
    description: 'PodMetrics sets resource usage metrics of a pod.',
    type: 'object',
    properties: {
      ...typeMeta, metadata: { allOf: [ref(`${META}.ObjectMeta`)], description: 'Standard object metadata.' }, ...sampling,
      containers: { description: 'Metrics for all containers are collected within the same time window.', type: 'array', items: ref(`${P}.ContainerMetrics`) },
    },
    required: ['timestamp', 'window', 'containers'],
    'x-kubernetes-group-version-kind': gvk('PodMetrics'),
  },
  [`${P}.PodMetricsList`]: list('PodMetricsList', 'PodMetrics'),
};
