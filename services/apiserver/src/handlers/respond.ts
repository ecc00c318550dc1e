/**
 * Writing responses: JSON bodies, Status errors (the one error renderer, design habit 4)
 * and warning headers.
 */
import type { ServerResponse } from 'node:http';
import { ApiError, internalError, type KubeObject } from '@tskube/api';
import type { Logger } from '@tskube/log';

export function sendJson(res: ServerResponse, code: number, body: unknown, contentType = 'application/json'): void {
  const data = JSON.stringify(body);
  res.statusCode = code;
  res.setHeader('Content-Type', contentType);
  res.setHeader('Content-Length', Buffer.byteLength(data));
  res.setHeader('Cache-Control', 'no-cache, private');
  res.end(data);
}

export function sendObject(res: ServerResponse, code: number, obj: KubeObject | object): void {
  sendJson(res, code, obj);
}

/** `Warning: 299 - "text"` headers, as kubectl prints them on stderr. */
export function addWarnings(res: ServerResponse, warnings: readonly string[]): void {
  if (!warnings.length || res.headersSent) return;
  const prev = res.getHeader('Warning');
  const list = Array.isArray(prev) ? prev.map(String) : prev !== undefined ? [String(prev)] : [];
  for (const w of warnings) list.push(`299 - ${JSON.stringify(w)}`);
  res.setHeader('Warning', list);
}

/**
 * Renders any error as a Status. ApiErrors carry their own; anything else is a bug: 500 with
 * a log line (the only place such errors are logged).
 */
export function sendError(res: ServerResponse, err: unknown, log: Logger, ctx: Record<string, unknown> = {}): void {
  let e: ApiError;
  if (err instanceof ApiError) {
    e = err;
  } else {
    const status = (err as { status?: number; type?: string }).status;
    const type = (err as { type?: string }).type;
    if (status === 413 || type === 'entity.too.large') {
      e = new ApiError(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728');
    } else if (status === 400 && typeof type === 'string') {
      e = new ApiError(400, 'BadRequest', (err as Error).message);
    } else {
      log.error('unhandled error', { ...ctx, err });
      e = internalError(err);
    }
  }
  if (res.headersSent) {
    // A stream was already going: the best we can do is end it.
    res.end();
    return;
  }
  if (e.code === 413) res.setHeader('Connection', 'close');
  if (e.status.details?.retryAfterSeconds) res.setHeader('Retry-After', String(e.status.details.retryAfterSeconds));
  sendJson(res, e.code, e.status);
}
