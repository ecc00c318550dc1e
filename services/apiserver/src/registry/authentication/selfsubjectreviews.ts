/**
 * selfsubjectreviews (authentication.k8s.io/v1, `kubectl auth whoami`): a create-only review that
 * answers with the user the request authenticated as. Nothing is stored.
 */
import { invalid, validateEmptyMetadata, type KubeObject, type ResourceDef } from '@tskube/api';
import type { Creater, RequestContext } from '../rest.js';

export class SelfSubjectReviewRest implements Creater {
  readonly kind = { group: 'authentication.k8s.io', version: 'v1', kind: 'SelfSubjectReview' };
  constructor(readonly def: ResourceDef) {}

  async create(ctx: RequestContext, obj: KubeObject): Promise<KubeObject> {
    const errs = validateEmptyMetadata(obj.metadata);
    if (errs.length) throw invalid({ group: 'authentication.k8s.io', kind: 'SelfSubjectReview' }, '', errs);
    const u = ctx.user;
    return {
      apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview', metadata: {},
      status: {
        userInfo: {
          username: u.username, ...(u.uid ? { uid: u.uid } : {}), groups: [...u.groups], ...(u.extra && Object.keys(u.extra).length ? { extra: u.extra } : {}),
        },
      },
    };
  }
}
