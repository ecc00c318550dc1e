/**
 * The admission chain: mutating plugins run first (in order, may change the object), then
 * validating plugins (may only refuse). Plugins are small named units; more arrive with
 * the security work (ServiceAccount, LimitRanger, ResourceQuota, webhooks …).
 */
import type { KubeObject, ResourceDef } from '@tskube/api';
import type { UserInfo } from '../filters/authentication.js';

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

export interface AdmissionAttributes {
  operation: Operation;
  resource: ResourceDef;
  subresource: string;
  namespace: string;
  name: string;
  /** The incoming object (CREATE/UPDATE); mutating plugins may change it in place. */
  object?: KubeObject;
  oldObject?: KubeObject;
  user: UserInfo;
  dryRun: boolean;
}

export interface MutatingPlugin {
  readonly name: string;
  admit(a: AdmissionAttributes): Promise<void> | void;
}

export interface ValidatingPlugin {
  readonly name: string;
  /** Throws an ApiError to refuse. */
  validate(a: AdmissionAttributes): Promise<void> | void;
}

export class AdmissionChain {
  constructor(
    private readonly mutating: readonly MutatingPlugin[] = [],
    private readonly validating: readonly ValidatingPlugin[] = [],
  ) {}

  async admit(a: AdmissionAttributes): Promise<void> {
    for (const p of this.mutating) await p.admit(a);
  }

  async validate(a: AdmissionAttributes): Promise<void> {
    for (const p of this.validating) await p.validate(a);
  }
}
