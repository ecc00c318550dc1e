/** authentication.k8s.io/v1 resource modules. */
import type { ResourceModule } from '../module.js';
import { SelfSubjectReviewRest } from './selfsubjectreviews.js';

export const AUTHENTICATION_MODULES: ResourceModule[] = [
  { group: 'authentication.k8s.io', kind: 'SelfSubjectReview', endpoints: (ctx) => ({ '': new SelfSubjectReviewRest(ctx.def) }) },
];
