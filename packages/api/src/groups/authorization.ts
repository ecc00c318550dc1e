/** authorization.k8s.io/v1: create-only virtual review resources. */
import { row, type ResourceDef } from '../resource-def.js';

const review = (kind: string, plural: string, namespaced = false): ResourceDef => row({
  group: 'authorization.k8s.io', version: 'v1', kind, plural, namespaced, verbs: ['create'], schemaPackage: 'authorization',
});

export const AUTHORIZATION: readonly ResourceDef[] = [
  review('LocalSubjectAccessReview', 'localsubjectaccessreviews', true),
  review('SelfSubjectAccessReview', 'selfsubjectaccessreviews'),
  review('SelfSubjectRulesReview', 'selfsubjectrulesreviews'),
  review('SubjectAccessReview', 'subjectaccessreviews'),
];
