/**
 * API errors: a Kubernetes `Status` carried by an Error. Every layer above storage throws
 * these; the apiserver's one error handler renders them. Messages follow upstream wording
 * (k8s.io/apimachinery/pkg/api/errors) because kubectl prints them verbatim.
 */
import type { Status, StatusCause } from './types.js';

export type StatusReason =
  | 'BadRequest' | 'Unauthorized' | 'Forbidden' | 'NotFound' | 'AlreadyExists' | 'Conflict'
  | 'Gone' | 'Expired' | 'Invalid' | 'ServerTimeout' | 'Timeout' | 'TooManyRequests'
  | 'MethodNotAllowed' | 'NotAcceptable' | 'RequestEntityTooLarge' | 'UnsupportedMediaType'
  | 'InternalError' | 'ServiceUnavailable' | 'Unknown';

/** group + resource (plural), e.g. {group:'apps', resource:'replicasets'}. */
export interface GroupResource { group: string; resource: string }
/** group + kind, e.g. {group:'apps', kind:'ReplicaSet'}. */
export interface GroupKind { group: string; kind: string }

export function groupResourceString(gr: GroupResource): string {
  return gr.group ? `${gr.resource}.${gr.group}` : gr.resource;
}
export function groupKindString(gk: GroupKind): string {
  return gk.group ? `${gk.kind}.${gk.group}` : gk.kind;
}

export class ApiError extends Error {
  readonly status: Status & { code: number; reason: StatusReason };
  constructor(code: number, reason: StatusReason, message: string, details?: Status['details']) {
    super(message);
    this.name = 'ApiError';
    this.status = {
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure',
      message, reason, code,
      ...(details ? { details } : {}),
    } as Status & { code: number; reason: StatusReason };
  }
  get code(): number { return this.status.code; }
  get reason(): StatusReason { return this.status.reason; }
}

export function isApiError(e: unknown, reason?: StatusReason): e is ApiError {
  return e instanceof ApiError && (reason === undefined || e.reason === reason);
}

export function notFound(gr: GroupResource, name: string): ApiError {
  return new ApiError(404, 'NotFound', `${groupResourceString(gr)} "${name}" not found`,
    { name, group: gr.group || undefined, kind: gr.resource });
}

export function alreadyExists(gr: GroupResource, name: string): ApiError {
  return new ApiError(409, 'AlreadyExists', `${groupResourceString(gr)} "${name}" already exists`,
    { name, group: gr.group || undefined, kind: gr.resource });
}

export const CONFLICT_MODIFIED = 'the object has been modified; please apply your changes to the latest version and try again';

export function conflict(gr: GroupResource, name: string, why: string = CONFLICT_MODIFIED): ApiError {
  return new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${groupResourceString(gr)} "${name}": ${why}`,
    { name, group: gr.group || undefined, kind: gr.resource });
}

export function badRequest(message: string): ApiError {
  return new ApiError(400, 'BadRequest', message);
}

export function unauthorized(message = 'Unauthorized'): ApiError {
  return new ApiError(401, 'Unauthorized', message);
}

export function forbidden(message: string): ApiError {
  return new ApiError(403, 'Forbidden', message);
}

export function methodNotSupported(gr: GroupResource, verb: string): ApiError {
  return new ApiError(405, 'MethodNotAllowed', `${verb} is not supported on resources of kind "${groupResourceString(gr)}"`,
    { group: gr.group || undefined, kind: gr.resource });
}

export function notAcceptable(message: string): ApiError {
  return new ApiError(406, 'NotAcceptable', message);
}

export function unsupportedMediaType(contentType: string, accepted: readonly string[]): ApiError {
  return new ApiError(415, 'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`,
    { causes: [{ reason: 'UnexpectedServerResponse', message: contentType }] });
}

export function requestEntityTooLarge(message: string): ApiError {
  return new ApiError(413, 'RequestEntityTooLarge', `Request entity too large: ${message}`);
}

/** 410 for a resourceVersion older than the retained history. */
export function resourceExpired(message: string): ApiError {
  return new ApiError(410, 'Expired', message);
}

export function gone(message: string): ApiError {
  return new ApiError(410, 'Gone', message);
}

export function internalError(err: unknown): ApiError {
  const msg = err instanceof Error ? err.message : String(err);
  return new ApiError(500, 'InternalError', `Internal error occurred: ${msg}`, { causes: [{ message: msg }] });
}

export function serviceUnavailable(message = 'the server is currently unable to handle the request'): ApiError {
  return new ApiError(503, 'ServiceUnavailable', message);
}

export function timeout(message: string, retryAfterSeconds = 1): ApiError {
  return new ApiError(504, 'Timeout', message, { retryAfterSeconds });
}

export function tooManyRequests(message: string, retryAfterSeconds = 1): ApiError {
  return new ApiError(429, 'TooManyRequests', message, { retryAfterSeconds });
}

// ---- field errors (k8s.io/apimachinery/pkg/util/validation/field) ----

export type FieldErrorType =
  | 'FieldValueRequired' | 'FieldValueInvalid' | 'FieldValueNotSupported' | 'FieldValueForbidden'
  | 'FieldValueDuplicate' | 'FieldValueTooLong' | 'FieldValueTooMany' | 'FieldValueNotFound' | 'InternalError';

/** One problem with one field. `field` is a path like `spec.containers[0].image`. */
export interface FieldError {
  type: FieldErrorType;
  field: string;
  value?: unknown;
  detail?: string;
}

/** How Go's field.Error prints a bad value: strings quoted, numbers and booleans bare. */
function formatValue(v: unknown): string {
  if (v === undefined || v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return JSON.stringify(v);
}

/** The part of a field error after `field: ` (upstream `ErrorBody`). */
export function fieldErrorBody(e: FieldError): string {
  const withDetail = (s: string) => (e.detail ? `${s}: ${e.detail}` : s);
  switch (e.type) {
    case 'FieldValueRequired': return withDetail('Required value');
    case 'FieldValueForbidden': return withDetail('Forbidden');
    case 'FieldValueTooLong': return withDetail('Too long');
    case 'FieldValueTooMany': return withDetail('Too many');
    case 'InternalError': return withDetail('Internal error');
    case 'FieldValueInvalid': return withDetail(`Invalid value: ${formatValue(e.value)}`);
    case 'FieldValueNotSupported': return withDetail(`Unsupported value: ${formatValue(e.value)}`);
    case 'FieldValueDuplicate': return withDetail(`Duplicate value: ${formatValue(e.value)}`);
    case 'FieldValueNotFound': return withDetail(`Not found: ${formatValue(e.value)}`);
  }
}

export function fieldErrorString(e: FieldError): string {
  return `${e.field}: ${fieldErrorBody(e)}`;
}

/** 422 Invalid with one cause per field error, worded like upstream `NewInvalid`. */
export function invalid(gk: GroupKind, name: string, errs: readonly FieldError[]): ApiError {
  const causes: StatusCause[] = errs.map((e) => ({ reason: e.type, message: fieldErrorBody(e), field: e.field }));
  let message = `${groupKindString(gk)} "${name}" is invalid`;
  if (errs.length === 1) message += `: ${fieldErrorString(errs[0]!)}`;
  else if (errs.length > 1) message += `: [${errs.map(fieldErrorString).join(', ')}]`;
  return new ApiError(422, 'Invalid', message, { name, group: gk.group || undefined, kind: gk.kind, causes });
}

// Constructors in the style of upstream field.Required(path, detail) etc.
export const field = {
  required: (f: string, detail = ''): FieldError => ({ type: 'FieldValueRequired', field: f, detail }),
  invalid: (f: string, value: unknown, detail = ''): FieldError => ({ type: 'FieldValueInvalid', field: f, value, detail }),
  notSupported: (f: string, value: unknown, supported: readonly string[]): FieldError => ({
    type: 'FieldValueNotSupported', field: f, value,
    detail: supported.length ? `supported values: ${supported.map((s) => JSON.stringify(s)).join(', ')}` : '',
  }),
  forbidden: (f: string, detail: string): FieldError => ({ type: 'FieldValueForbidden', field: f, detail }),
  duplicate: (f: string, value: unknown): FieldError => ({ type: 'FieldValueDuplicate', field: f, value }),
  tooLong: (f: string, value: unknown, max: number): FieldError => ({
    type: 'FieldValueTooLong', field: f, value, detail: `may not be more than ${max} bytes`,
  }),
  tooMany: (f: string, actual: number, max: number): FieldError => ({
    type: 'FieldValueTooMany', field: f, value: actual, detail: `must have at most ${max} items`,
  }),
};
