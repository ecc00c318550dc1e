/**
 * Authorization: a chain of authorizers, each allowing, denying or having no opinion
 * (RBAC and the Node authorizer come later). For now every authenticated user may do
 * everything, and anonymous users may read the public-info endpoints only.
 */
import type { UserInfo } from './authentication.js';
import type { RequestInfo } from './request-info.js';

export type Decision = 'allow' | 'deny' | 'noOpinion';

export interface Authorizer {
  authorize(user: UserInfo, info: RequestInfo): { decision: Decision; reason: string };
}

/** What upstream's system:public-info-viewer grants to everyone. */
const PUBLIC_PATHS = ['/healthz', '/livez', '/readyz', '/version'];

export class PublicInfoAuthorizer implements Authorizer {
  authorize(_user: UserInfo, info: RequestInfo): { decision: Decision; reason: string } {
    if (!info.isResourceRequest && info.verb === 'get' && PUBLIC_PATHS.some((p) => info.path === p || info.path.startsWith(`${p}/`))) {
      return { decision: 'allow', reason: 'public info' };
    }
    return { decision: 'noOpinion', reason: '' };
  }
}

export class AuthenticatedAuthorizer implements Authorizer {
  authorize(user: UserInfo): { decision: Decision; reason: string } {
    return user.groups.includes('system:authenticated') ? { decision: 'allow', reason: 'authenticated' } : { decision: 'noOpinion', reason: '' };
  }
}

export class UnionAuthorizer implements Authorizer {
  constructor(private readonly chain: readonly Authorizer[]) {}
  authorize(user: UserInfo, info: RequestInfo): { decision: Decision; reason: string } {
    for (const a of this.chain) {
      const d = a.authorize(user, info);
      if (d.decision !== 'noOpinion') return d;
    }
    return { decision: 'deny', reason: '' };
  }
}
