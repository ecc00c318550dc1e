/**
 * Kinds core/v1 subresources accept: authentication.k8s.io/v1 TokenRequest
 * (serviceaccounts/token) and policy/v1 Eviction (pods/eviction), with upstream defaulting and
 * validation (pkg/apis/authentication/validation, apimachinery ValidateDeleteOptions).
 */
import type { TokenRequest } from 'kubernetes-types/authentication/v1.js';
import type { Eviction } from 'kubernetes-types/policy/v1.js';
import type { DeleteOptions } from 'kubernetes-types/meta/v1.js';
import { field, type FieldError } from '../errors.js';

export type { TokenRequest, Eviction, DeleteOptions };

export const DEFAULT_TOKEN_EXPIRATION_SECONDS = 3600;
const MIN_TOKEN_EXPIRATION_SECONDS = 600;
const MAX_TOKEN_EXPIRATION_SECONDS = 2 ** 32;

/** upstream SetDefaults_TokenRequestSpec: one hour. */
export function defaultTokenRequest(tr: TokenRequest): void {
  tr.spec ??= { audiences: [] };
  tr.spec.expirationSeconds ??= DEFAULT_TOKEN_EXPIRATION_SECONDS;
}

export function validateTokenRequest(tr: TokenRequest): FieldError[] {
  const errs: FieldError[] = [];
  const exp = tr.spec?.expirationSeconds ?? DEFAULT_TOKEN_EXPIRATION_SECONDS;
  if (exp < MIN_TOKEN_EXPIRATION_SECONDS) errs.push(field.invalid('spec.expirationSeconds', exp, 'may not specify a duration less than 10 minutes'));
  if (exp > MAX_TOKEN_EXPIRATION_SECONDS) errs.push(field.invalid('spec.expirationSeconds', exp, 'may not specify a duration larger than 2^32 seconds'));
  return errs;
}

const PROPAGATION = ['Foreground', 'Background', 'Orphan'];

/** upstream ValidateDeleteOptions (as carried by an Eviction). */
export function validateDeleteOptions(o: DeleteOptions | undefined): FieldError[] {
  if (!o) return [];
  const errs: FieldError[] = [];
  if (o.orphanDependents !== undefined && o.orphanDependents !== null && o.propagationPolicy !== undefined && o.propagationPolicy !== null) {
    errs.push(field.invalid('propagationPolicy', o.propagationPolicy, 'orphanDependents and deletionPropagation cannot be both set'));
  }
  if (o.propagationPolicy && !PROPAGATION.includes(o.propagationPolicy)) {
    errs.push(field.notSupported('propagationPolicy', o.propagationPolicy, [...PROPAGATION, 'nil']));
  }
  if ((o.dryRun ?? []).some((d) => d !== 'All')) errs.push(field.notSupported('dryRun', o.dryRun, ['All']));
  return errs;
}
