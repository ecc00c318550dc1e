/**
 * Create-only review resources (authorization.k8s.io/v1): selfsubjectaccessreviews
 * (`kubectl auth can-i`), selfsubjectrulesreviews (`kubectl auth can-i --list`),
 * subjectaccessreviews and localsubjectaccessreviews. Nothing is stored: a POST answers with the
 * review and its status, computed by the same authorizer chain the apiserver's filter uses
 * (today every authenticated user may do everything; anonymous may read public info).
 */
import {
  invalid, typed, validateLocalSubjectAccessReview, validateSelfSubjectAccessReview, validateSelfSubjectRulesReview,
  validateSubjectAccessReview,
  type FieldError, type KubeObject, type LocalSubjectAccessReview, type NonResourceRule, type ResourceDef,
  type SelfSubjectAccessReview, type SubjectAccessReview,
} from '@tskube/api';
import { AuthenticatedAuthorizer, PublicInfoAuthorizer, UnionAuthorizer, type Authorizer } from '../../filters/authorization.js';
import type { UserInfo } from '../../filters/authentication.js';
import type { RequestInfo, RequestVerb } from '../../filters/request-info.js';
import type { Creater, RequestContext } from '../rest.js';

type ResourceAttributes = NonNullable<NonNullable<SelfSubjectAccessReview['spec']>['resourceAttributes']>;
/** authorization/v1 ResourceRule (the kubernetes-types definition lacks verbs and resources). */
interface ResourceRule { verbs: string[]; apiGroups?: string[]; resources?: string[]; resourceNames?: string[] }
type NonResourceAttributes = NonNullable<NonNullable<SelfSubjectAccessReview['spec']>['nonResourceAttributes']>;

/** The authorizer chain of the apiserver's authorization filter. */
export function defaultAuthorizer(): Authorizer {
  return new UnionAuthorizer([new PublicInfoAuthorizer(), new AuthenticatedAuthorizer()]);
}

/** The request the attributes describe, as the authorization filter would see it. */
function requestInfoOf(ra: ResourceAttributes | undefined, nra: NonResourceAttributes | undefined): RequestInfo {
  if (nra) {
    return {
      isResourceRequest: false, path: nra.path ?? '', verb: (nra.verb ?? '') as RequestVerb, apiPrefix: '', apiGroup: '', apiVersion: '',
      namespace: '', resource: '', subresource: '', name: '', parts: [],
    };
  }
  const r = ra ?? {};
  return {
    isResourceRequest: true, path: '', verb: (r.verb ?? '') as RequestVerb, apiPrefix: r.group ? 'apis' : 'api', apiGroup: r.group ?? '',
    apiVersion: r.version ?? '', namespace: r.namespace ?? '', resource: r.resource ?? '', subresource: r.subresource ?? '', name: r.name ?? '', parts: [],
  };
}

/** SubjectAccessReviewStatus for a user and the attributes. */
export function decide(authz: Authorizer, user: UserInfo, ra: ResourceAttributes | undefined, nra: NonResourceAttributes | undefined): { allowed: boolean; reason?: string } {
  const d = authz.authorize(user, requestInfoOf(ra, nra));
  if (d.decision === 'allow') {
    return { allowed: true, reason: d.reason === 'authenticated' ? 'tskube allows every authenticated user (RBAC is not enforced yet)' : d.reason };
  }
  return d.reason ? { allowed: false, reason: d.reason } : { allowed: false };
}

function check(kind: string, errs: FieldError[]): void {
  if (errs.length) throw invalid({ group: 'authorization.k8s.io', kind }, '', errs);
}

abstract class ReviewRest implements Creater {
  abstract readonly kind: { group: string; version: string; kind: string };
  constructor(readonly def: ResourceDef, protected readonly authz: Authorizer = defaultAuthorizer()) {}
  abstract create(ctx: RequestContext, obj: KubeObject): Promise<KubeObject>;
}

export class SelfSubjectAccessReviewRest extends ReviewRest {
  readonly kind = { group: 'authorization.k8s.io', version: 'v1', kind: 'SelfSubjectAccessReview' };
  async create(ctx: RequestContext, obj: KubeObject): Promise<KubeObject> {
    const r = typed<SelfSubjectAccessReview>(obj);
    check(this.kind.kind, validateSelfSubjectAccessReview(r));
    const status = decide(this.authz, ctx.user, r.spec.resourceAttributes, r.spec.nonResourceAttributes);
    return { apiVersion: 'authorization.k8s.io/v1', kind: this.kind.kind, metadata: {}, spec: r.spec, status };
  }
}

/** The subject a SubjectAccessReview asks about. */
function subjectOf(spec: SubjectAccessReview['spec']): UserInfo {
  return {
    username: spec.user ?? '', groups: spec.groups ?? [], ...(spec.uid ? { uid: spec.uid } : {}),
    ...(spec.extra ? { extra: spec.extra } : {}),
  };
}

export class SubjectAccessReviewRest extends ReviewRest {
  readonly kind = { group: 'authorization.k8s.io', version: 'v1', kind: 'SubjectAccessReview' };
  async create(_ctx: RequestContext, obj: KubeObject): Promise<KubeObject> {
    const r = typed<SubjectAccessReview>(obj);
    check(this.kind.kind, validateSubjectAccessReview(r));
    const status = decide(this.authz, subjectOf(r.spec), r.spec.resourceAttributes, r.spec.nonResourceAttributes);
    return { apiVersion: 'authorization.k8s.io/v1', kind: this.kind.kind, metadata: {}, spec: r.spec, status };
  }
}

export class LocalSubjectAccessReviewRest extends ReviewRest {
  readonly kind = { group: 'authorization.k8s.io', version: 'v1', kind: 'LocalSubjectAccessReview' };
  async create(ctx: RequestContext, obj: KubeObject): Promise<KubeObject> {
    const r = typed<LocalSubjectAccessReview>(obj);
    check(this.kind.kind, validateLocalSubjectAccessReview(r, ctx.namespace));
    const status = decide(this.authz, subjectOf(r.spec), r.spec.resourceAttributes, undefined);
    return { apiVersion: 'authorization.k8s.io/v1', kind: this.kind.kind, metadata: { namespace: ctx.namespace }, spec: r.spec, status };
  }
}

/**
 * What the requesting user may do, as rules (`kubectl auth can-i --list`). While every
 * authenticated user may do everything that is one wildcard rule of each kind.
 */
export class SelfSubjectRulesReviewRest extends ReviewRest {
  readonly kind = { group: 'authorization.k8s.io', version: 'v1', kind: 'SelfSubjectRulesReview' };
  async create(ctx: RequestContext, obj: KubeObject): Promise<KubeObject> {
    check(this.kind.kind, validateSelfSubjectRulesReview(typed(obj)));
    const all = decide(this.authz, ctx.user, { verb: '*', group: '*', resource: '*', namespace: (obj.spec as { namespace?: string } | undefined)?.namespace ?? '' }, undefined).allowed;
    const resourceRules: ResourceRule[] = all ? [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }] : [];
    const nonResourceRules: NonResourceRule[] = all
      ? [{ verbs: ['*'], nonResourceURLs: ['*'] }]
      : [{ verbs: ['get'], nonResourceURLs: ['/healthz', '/livez', '/readyz', '/version', '/version/'] }];
    return {
      apiVersion: 'authorization.k8s.io/v1', kind: this.kind.kind, metadata: {}, spec: obj.spec ?? {},
      status: { resourceRules, nonResourceRules, incomplete: false },
    };
  }
}
