/** authorization.k8s.io/v1 resource modules: create-only reviews, nothing stored. */
import type { ResourceModule } from '../module.js';
import { LocalSubjectAccessReviewRest, SelfSubjectAccessReviewRest, SelfSubjectRulesReviewRest, SubjectAccessReviewRest } from './reviews.js';

const GROUP = 'authorization.k8s.io';

export const AUTHORIZATION_MODULES: ResourceModule[] = [
  { group: GROUP, kind: 'LocalSubjectAccessReview', endpoints: (ctx) => ({ '': new LocalSubjectAccessReviewRest(ctx.def) }) },
  { group: GROUP, kind: 'SelfSubjectAccessReview', endpoints: (ctx) => ({ '': new SelfSubjectAccessReviewRest(ctx.def) }) },
  { group: GROUP, kind: 'SelfSubjectRulesReview', endpoints: (ctx) => ({ '': new SelfSubjectRulesReviewRest(ctx.def) }) },
  { group: GROUP, kind: 'SubjectAccessReview', endpoints: (ctx) => ({ '': new SubjectAccessReviewRest(ctx.def) }) },
];
