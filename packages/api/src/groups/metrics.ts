/**
 * metrics.k8s.io/v1beta1 (the resource metrics API). Upstream it is served by metrics-server
 * behind API aggregation; tskube's apiserver serves it itself, from the kubelets' Summary API
 * (services/apiserver/src/registry/metrics). Read-only virtual resources: get and list.
 * Schemas: schema/metrics-schemas.ts (not in kubernetes-types), under upstream's names.
 */
import { row, type ResourceDef } from '../resource-def.js';

const SCHEMA_PREFIX = 'io.k8s.metrics.pkg.apis.metrics.v1beta1';

export const METRICS: readonly ResourceDef[] = [
  {
    ...row({
      group: 'metrics.k8s.io', version: 'v1beta1', kind: 'NodeMetrics', plural: 'nodes', namespaced: false,
      verbs: ['get', 'list'], schemaPackage: 'metrics', singular: '',
    }),
    schema: `${SCHEMA_PREFIX}.NodeMetrics`,
  },
  {
    ...row({
      group: 'metrics.k8s.io', version: 'v1beta1', kind: 'PodMetrics', plural: 'pods', namespaced: true,
      verbs: ['get', 'list'], schemaPackage: 'metrics', singular: '',
    }),
    schema: `${SCHEMA_PREFIX}.PodMetrics`,
  },
];
