/**
 * Turning what a server answered into `ApiError`s: a `Status` body keeps its code, reason,
 * message and details; anything else becomes a synthesized Status with the HTTP code and
 * upstream client-go's wording (`NewGenericServerResponse`), which is what kubectl prints.
 */
import { ApiError, isObject, type Status, type StatusReason } from '@tskube/api';

const REASONS: ReadonlySet<string> = new Set<StatusReason>([
  'BadRequest', 'Unauthorized', 'Forbidden', 'NotFound', 'AlreadyExists', 'Conflict', 'Gone', 'Expired',
  'Invalid', 'ServerTimeout', 'Timeout', 'TooManyRequests', 'MethodNotAllowed', 'NotAcceptable',
  'RequestEntityTooLarge', 'UnsupportedMediaType', 'InternalError', 'ServiceUnavailable', 'Unknown',
]);

/** Which request failed, for the "(get pods web)" suffix of synthesized messages. */
export interface RequestInfo {
  verb: string;
  /** "pods" or "replicasets.apps". */
  resource?: string;
  name?: string;
}

function reasonForCode(code: number): StatusReason {
  switch (code) {
    case 400: return 'BadRequest';
    case 401: return 'Unauthorized';
    case 403: return 'Forbidden';
    case 404: return 'NotFound';
    case 405: return 'MethodNotAllowed';
    case 406: return 'NotAcceptable';
    case 409: return 'Conflict';
    case 410: return 'Gone';
    case 413: return 'RequestEntityTooLarge';
    case 415: return 'UnsupportedMediaType';
    case 422: return 'Invalid';
    case 429: return 'TooManyRequests';
    case 500: return 'InternalError';
    case 503: return 'ServiceUnavailable';
    case 504: return 'Timeout';
    default: return code >= 500 ? 'InternalError' : 'Unknown';
  }
}

function genericMessage(code: number, body: string): string {
  switch (code) {
    case 400: return 'the server rejected our request for an unknown reason';
    case 401: return 'the server has asked for the client to provide credentials';
    case 403: return body || 'the server does not allow access to the requested resource';
    case 404: return 'the server could not find the requested resource';
    case 405: return 'the server does not allow this method on the requested resource';
    case 406: return 'the server was unable to respond with a content type that the client supports';
    case 409: return 'the server reported a conflict';
    case 410: return 'the server has indicated the requested resource is gone';
    case 413: return 'the server has rejected the request because it is too large';
    case 415: return 'the server was unable to process the request because the media type is not supported';
    case 422: return 'the server rejected our request due to an error in our request';
    case 429: return 'the server has received too many requests and has asked us to try again later';
    case 503: return 'the server is currently unable to handle the request';
    case 504: return 'the server was unable to return a response in the time allotted, but may still be processing the request';
    default: return `an error on the server (${JSON.stringify(body.slice(0, 200))}) has prevented the request from succeeding`;
  }
}

/** True when `v` looks like a Kubernetes Status object. */
export function isStatus(v: unknown): v is Status {
  return isObject(v) && v.kind === 'Status';
}

/** An ApiError carrying `status` as the server sent it (code defaults to `httpCode`). */
export function apiErrorFromStatus(status: Status, httpCode = 500): ApiError {
  const code = typeof status.code === 'number' && status.code > 0 ? status.code : httpCode;
  const reason = status.reason && REASONS.has(status.reason) ? (status.reason as StatusReason) : reasonForCode(code);
  return new ApiError(code, reason, status.message ?? genericMessage(code, ''), status.details);
}

/**
 * The error for a non-2xx response. `body` is the raw response text; a Status in it wins,
 * otherwise the message follows client-go ("the server could not find the requested
 * resource (get pods web)").
 */
export function apiErrorFromResponse(code: number, body: string, info?: RequestInfo, retryAfterSeconds?: number): ApiError {
  let parsed: unknown;
  try { parsed = body ? JSON.parse(body) : undefined; } catch { parsed = undefined; }
  if (isStatus(parsed)) return apiErrorFromStatus(parsed, code);
  let message = genericMessage(code, body.trim());
  if (info) message += ` (${[info.verb, info.resource, info.name].filter((s) => s).join(' ')})`;
  const details: Status['details'] = {
    causes: [{ reason: 'UnexpectedServerResponse', message: body.trim().slice(0, 1000) }],
    ...(info?.name ? { name: info.name } : {}),
    ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
  };
  return new ApiError(code, reasonForCode(code), message, details);
}

/**
 * True for "the resourceVersion you asked for is gone" (HTTP 410, reason Expired or Gone),
 * from a list, a watch request or a watch ERROR event: the caller must relist.
 */
export function isExpired(err: unknown): boolean {
  return err instanceof ApiError && err.code === 410;
}
