/** authentication.k8s.io/v1. */
import { row, type ResourceDef } from '../resource-def.js';

export const AUTHENTICATION: readonly ResourceDef[] = [
  // create-only virtual resource: `kubectl auth whoami`
  row({
    group: 'authentication.k8s.io', version: 'v1', kind: 'SelfSubjectReview', plural: 'selfsubjectreviews', namespaced: false,
    verbs: ['create'], schemaPackage: 'authentication',
  }),
];
