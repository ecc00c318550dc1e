/**
 * GET /containerLogs/{namespace}/{pod}/{container} (upstream kubelet server.go
 * getContainerLogs and kubelet_pods.go validateContainerLogStatus), what the apiserver's
 * pods/log proxies to:
 * - query (PodLogOptions): follow, previous, timestamps (bool), tailLines, limitBytes,
 *   sinceSeconds (int), sinceTime (RFC 3339); `tail` is the old name of tailLines.
 *   Undecodable → 400, invalid (negative tailLines, limitBytes/sinceSeconds < 1, both since
 *   options) → 422, with upstream's JSON-ish plain-text bodies.
 * - unknown pod → 404 `pod "p" does not exist`; unknown container → 404
 *   `container "c" not found in pod "p"`.
 * - which instance: the running one, else the exited one, else the previous; `previous`
 *   takes lastState's. A container with none → 400 `container "c" in pod "p" is waiting to
 *   start: <reason>` (image problems in upstream's words).
 * - the body is the container's output as text/plain, chunked; with follow it stays open
 *   until the container stops or the client goes away (which cancels the runtime stream).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Pod, PodStatus } from '@tskube/api';
import type { DeepReadonly } from '@tskube/client';
import type { Logger } from '@tskube/log';
import type { Clock } from '../clock.js';
import type { LogService, ReadLogsRequest } from '../cri/index.js';
import { errorMessage } from '../format.js';

export interface LogsContext {
  podByName(namespace: string, name: string): DeepReadonly<Pod> | undefined;
  /** The freshest status known for the pod (the status manager's, else the API's). */
  podStatus(pod: DeepReadonly<Pod>): DeepReadonly<PodStatus> | undefined;
  runtime: LogService;
  clock: Clock;
  logger: Logger;
}

export class HttpError extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
  }
}

const UNDECODABLE = '{"message": "Unable to decode query."}';

/** Go strconv.ParseBool, as the query decoder uses it. */
function parseBool(v: string | null): boolean {
  if (v === null || v === '') return false;
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(v)) return false;
  throw new HttpError(400, UNDECODABLE);
}

function parseInt64(v: string | null): number | undefined {
  if (v === null || v === '') return undefined;
  if (!/^[+-]?\d+$/.test(v)) throw new HttpError(400, UNDECODABLE);
  return Number(v);
}

export interface LogOptions {
  follow: boolean;
  previous: boolean;
  timestamps: boolean;
  tailLines?: number;
  limitBytes?: number;
  sinceSeconds?: number;
  sinceTime?: number;
}

/** PodLogOptions from the query string; throws HttpError 400/422 like upstream. */
export function parseLogOptions(q: URLSearchParams): LogOptions {
  let tail = q.get('tailLines');
  const legacy = q.get('tail');
  if (legacy !== null && legacy !== '') tail = legacy === 'all' ? null : legacy;
  const opts: LogOptions = {
    follow: parseBool(q.get('follow')),
    previous: parseBool(q.get('previous')),
    timestamps: parseBool(q.get('timestamps')),
    tailLines: parseInt64(tail),
    limitBytes: parseInt64(q.get('limitBytes')),
    sinceSeconds: parseInt64(q.get('sinceSeconds')),
  };
  const since = q.get('sinceTime');
  if (since) {
    const t = Date.parse(since);
    if (Number.isNaN(t) || !/^\d{4}-\d\d-\d\dT/.test(since)) throw new HttpError(400, UNDECODABLE);
    opts.sinceTime = t;
  }
  const invalid = (opts.tailLines !== undefined && opts.tailLines < 0)
    || (opts.limitBytes !== undefined && opts.limitBytes < 1)
    || (opts.sinceSeconds !== undefined && opts.sinceSeconds < 1)
    || (opts.sinceSeconds !== undefined && opts.sinceTime !== undefined);
  if (invalid) throw new HttpError(422, '{"message": "Invalid request."}');
  return opts;
}

/** The runtime container ID to read, per upstream validateContainerLogStatus. */
export function containerIdForLogs(podName: string, status: DeepReadonly<PodStatus> | undefined, container: string, previous: boolean): string {
  const all = [...(status?.containerStatuses ?? []), ...(status?.initContainerStatuses ?? []), ...(status?.ephemeralContainerStatuses ?? [])];
  const cs = all.find((s) => s.name === container);
  if (!cs) throw new HttpError(400, `container "${container}" in pod "${podName}" is not available`);
  const last = cs.lastState?.terminated;
  const { waiting, running, terminated } = cs.state ?? {};
  let cid: string | undefined;
  if (previous) {
    if (!last?.containerID) throw new HttpError(400, `previous terminated container "${container}" in pod "${podName}" not found`);
    cid = last.containerID;
  } else if (running) {
    cid = cs.containerID;
  } else if (terminated) {
    cid = terminated.containerID || last?.containerID;
    if (!cid) throw new HttpError(400, `container "${container}" in pod "${podName}" is terminated`);
  } else if (last) {
    if (!last.containerID) throw new HttpError(400, `container "${container}" in pod "${podName}" is terminated`);
    cid = last.containerID;
  } else if (waiting) {
    const why = waiting.reason === 'ErrImagePull' ? 'image can\'t be pulled'
      : waiting.reason === 'ImagePullBackOff' ? 'trying and failing to pull image'
        : waiting.reason ?? '';
    throw new HttpError(400, `container "${container}" in pod "${podName}" is waiting to start: ${why}`);
  } else {
    throw new HttpError(400, `container "${container}" in pod "${podName}" is waiting to start - no logs yet`);
  }
  if (!cid) throw new HttpError(400, `container "${container}" in pod "${podName}" is waiting to start - no logs yet`);
  const i = cid.indexOf('://');
  return i >= 0 ? cid.slice(i + 3) : cid;
}

/** Handles one request; never rejects (errors become HTTP answers). */
export async function serveContainerLogs(
  req: IncomingMessage, res: ServerResponse, ctx: LogsContext,
  params: { namespace: string; pod: string; container: string }, query: URLSearchParams,
): Promise<void> {
  let id: string;
  let opts: LogOptions;
  try {
    opts = parseLogOptions(query);
    const pod = ctx.podByName(params.namespace, params.pod);
    if (!pod) throw new HttpError(404, `pod "${params.pod}" does not exist`);
    const inSpec = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? []), ...(pod.spec?.ephemeralContainers ?? [])]
      .some((c) => c.name === params.container);
    if (!inSpec) throw new HttpError(404, `container "${params.container}" not found in pod "${params.pod}"`);
    id = containerIdForLogs(params.pod, ctx.podStatus(pod), params.container, opts.previous);
  } catch (err) {
    const code = err instanceof HttpError ? err.code : 500;
    res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(`${errorMessage(err)}\n`);
    return;
  }

  const sinceMs = opts.sinceSeconds !== undefined ? ctx.clock.now() - opts.sinceSeconds * 1000 : opts.sinceTime;
  const request: ReadLogsRequest = {
    container_id: id,
    follow: opts.follow,
    timestamps: opts.timestamps,
    ...(opts.tailLines !== undefined ? { tail_lines: opts.tailLines } : {}),
    ...(opts.limitBytes !== undefined ? { limit_bytes: opts.limitBytes } : {}),
    ...(sinceMs !== undefined ? { since_time_unix_nano: Math.max(0, sinceMs) * 1e6 } : {}),
  };
  const ac = new AbortController();
  const onClose = (): void => ac.abort();
  req.on('close', onClose);
  res.on('close', onClose);
  // Headers go out at once (upstream flushes a zero-byte write first), so a quiet follow
  // does not keep the apiserver waiting; later runtime errors just end the stream.
  res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' });
  res.flushHeaders();
  try {
    for await (const chunk of ctx.runtime.readLogs(request, { signal: ac.signal })) {
      if (ac.signal.aborted) break;
      if (!res.write(chunk.data)) await new Promise<void>((resolve) => { res.once('drain', resolve); res.once('close', resolve); });
    }
  } catch (err) {
    if (!ac.signal.aborted) ctx.logger.warn('container log stream failed', { container: id, err: errorMessage(err) });
  } finally {
    req.off('close', onClose);
    res.end();
  }
}
