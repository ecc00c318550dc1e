/**
 * HTTP GET for probes and lifecycle hooks (upstream pkg/probe/http: request.go, http.go).
 *
 * Request: scheme (lower-cased, default http), host (default the pod IP), port by number or
 * by the name of a container port (a numeric string also works), path (a query is kept),
 * the action's httpHeaders (added in order, names canonicalised as Go does). Unless the
 * headers say otherwise: `User-Agent: kube-<purpose>/1.32` and `Accept: *\/*` (an Accept
 * header given empty is dropped). A `Host` header sets the request's host. Connections are
 * not reused; https certificates are not verified, as upstream.
 *
 * Probe result: 200–399 success, ≥ 400 failure "HTTP probe failed with statuscode: N".
 * Redirects are followed (at most 10) only while they stay on the same host name; a
 * redirect elsewhere ends with that 3xx response, which is a success with a warning ("Probe
 * terminated redirects, Response body: …"). Transport errors and the timeout are failures
 * whose message is the error (Go's wording: `Get "URL": dial tcp …: connect: connection
 * refused`). At most 10 KiB of the body is read.
 *
 * Hand-written on node:http rather than fetch because fetch forbids setting Host, adds
 * headers of its own and cannot limit redirects to one host.
 */
import http from 'node:http';
import https from 'node:https';
import type { Container } from '@tskube/api';
import type { DeepReadonly } from '@tskube/client';
import { dialErrorText, joinHostPort } from './net-errors.js';
import type { ProbeOutcome } from './results.js';

/** The Kubernetes minor version the kubelet's User-Agent names (upstream kube-probe/<major>.<minor>). */
export const KUBE_VERSION = '1.32';
/** Upstream maxRespBodyLength. */
export const MAX_BODY_BYTES = 10 * 1024;
const MAX_REDIRECTS = 10;

/** core/v1 HTTPGetAction. */
export type HTTPGetAction = NonNullable<NonNullable<Container['livenessProbe']>['httpGet']>;

export interface HttpGetRequest {
  url: URL;
  /** Header name (canonical) → values, in the order given. */
  headers: Map<string, string[]>;
  /** The Host header to send; undefined: host:port of the URL. */
  host?: string;
}

/** Go's http.CanonicalHeaderKey: "x-forwarded-for" → "X-Forwarded-For". */
export function canonicalHeaderKey(name: string): string {
  if (!/^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/.test(name)) return name;
  return name.toLowerCase().replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());
}

/**
 * upstream probe.ResolveContainerPort: a number as is; a name looked up in the container's
 * ports, else parsed as a number. Throws an Error with Go's wording when neither works.
 */
export function resolveContainerPort(port: number | string | undefined, container: DeepReadonly<Container>): number {
  let n: number;
  if (typeof port === 'number') n = port;
  else if (typeof port === 'string') {
    const named = (container.ports ?? []).find((p) => p.name === port);
    if (named) n = named.containerPort;
    else if (/^[+-]?\d+$/.test(port)) n = Number.parseInt(port, 10);
    else throw new Error(`strconv.Atoi: parsing ${JSON.stringify(port)}: invalid syntax`);
  } else throw new Error(`intOrString had no kind: ${JSON.stringify(port)}`);
  if (n > 0 && n < 65536) return n;
  throw new Error(`invalid port number: ${n}`);
}

/** upstream NewRequestForHTTPGetAction; `purpose` is "probe" or "lifecycle" (the User-Agent). */
export function httpGetRequest(
  action: DeepReadonly<HTTPGetAction>, container: DeepReadonly<Container>, podIP: string, purpose: 'probe' | 'lifecycle',
): HttpGetRequest {
  const scheme = (action.scheme ?? '').toLowerCase() || 'http';
  const host = action.host || podIP;
  const port = resolveContainerPort(action.port, container);
  let path = action.path ?? '';
  if (path !== '' && !path.startsWith('/')) path = `/${path}`;
  const url = new URL(`${scheme}://${joinHostPort(host, port)}${path}`);
  const headers = new Map<string, string[]>();
  for (const h of action.httpHeaders ?? []) {
    const k = canonicalHeaderKey(h.name);
    headers.set(k, [...(headers.get(k) ?? []), h.value]);
  }
  if (!headers.has('User-Agent')) headers.set('User-Agent', [`kube-${purpose}/${KUBE_VERSION}`]);
  if (!headers.has('Accept')) headers.set('Accept', ['*/*']);
  else if ((headers.get('Accept') ?? [])[0] === '') headers.delete('Accept');
  const hostHeader = headers.get('Host')?.[0];
  headers.delete('Host');
  return { url, headers, ...(hostHeader ? { host: hostHeader } : {}) };
}

export interface HttpResponse {
  status: number;
  /** At most {@link MAX_BODY_BYTES}. */
  body: string;
}

class HttpGetError extends Error {}

/** One GET without following redirects; rejects with Go's wording on transport errors. */
function getOnce(req: HttpGetRequest, url: URL, host: string | undefined, signal: AbortSignal): Promise<HttpResponse & { location?: string }> {
  const addr = joinHostPort(url.hostname.replace(/^\[|\]$/g, ''), Number(url.port || (url.protocol === 'https:' ? 443 : 80)));
  const headers: Record<string, string | string[]> = { Host: host ?? url.host, Connection: 'close' };
  for (const [k, v] of req.headers) headers[k] = v.length === 1 ? v[0]! : v;
  const mod = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const fail = (text: string): void => reject(new HttpGetError(`Get ${JSON.stringify(url.href)}: ${text}`));
    const r = mod.request(url, {
      method: 'GET', headers, agent: false, signal, ...(url.protocol === 'https:' ? { rejectUnauthorized: false } : {}),
    }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const finish = (): void => {
        res.destroy();
        resolve({
          status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'),
          ...(res.headers.location ? { location: res.headers.location } : {}),
        });
      };
      res.on('data', (c: Buffer) => {
        const room = MAX_BODY_BYTES - size;
        if (room > 0) { chunks.push(c.length > room ? c.subarray(0, room) : c); size += Math.min(room, c.length); }
        if (size >= MAX_BODY_BYTES) finish();
      });
      res.on('end', finish);
      res.on('error', (err) => (signal.aborted ? fail(timeoutText) : fail(dialErrorText(err, addr))));
    });
    r.on('error', (err) => (signal.aborted ? fail(timeoutText) : fail(dialErrorText(err, addr))));
    r.end();
  });
}

const timeoutText = 'context deadline exceeded (Client.Timeout exceeded while awaiting headers)';

/**
 * GET with upstream's redirect policy (same host name only, at most 10). Resolves with the
 * final response, rejects (an Error with Go's wording) on transport errors, too many
 * redirects, or when `timeoutMs` passes (0: no limit).
 */
export async function httpGet(req: HttpGetRequest, timeoutMs: number): Promise<HttpResponse> {
  const ac = new AbortController();
  const timer = timeoutMs > 0 ? setTimeout(() => ac.abort(), timeoutMs) : undefined;
  try {
    let url = req.url;
    let host = req.host;
    for (let redirects = 0; ; redirects++) {
      const res = await getOnce(req, url, host, ac.signal);
      if (res.status < 300 || res.status >= 400 || !res.location || ![301, 302, 303, 307, 308].includes(res.status)) {
        return { status: res.status, body: res.body };
      }
      const relative = !/^[a-z][a-z0-9+.-]*:/i.test(res.location);
      const next = new URL(res.location, url);
      if (next.hostname !== req.url.hostname) return { status: res.status, body: res.body };
      if (redirects + 1 >= MAX_REDIRECTS) throw new HttpGetError(`Get ${JSON.stringify(next.href)}: stopped after ${MAX_REDIRECTS} redirects`);
      // A custom Host header survives only relative redirects (Go's client).
      if (!relative) host = undefined;
      url = next;
    }
  } finally {
    clearTimeout(timer);
  }
}

/** upstream DoHTTPProbe: the outcome and the output (message) of one HTTP probe. */
export async function doHttpProbe(req: HttpGetRequest, timeoutMs: number): Promise<{ outcome: ProbeOutcome; output: string }> {
  let res: HttpResponse;
  try {
    res = await httpGet(req, timeoutMs);
  } catch (err) {
    return { outcome: 'failure', output: err instanceof Error ? err.message : String(err) };
  }
  if (res.status >= 200 && res.status < 400) {
    if (res.status >= 300) return { outcome: 'warning', output: `Probe terminated redirects, Response body: ${res.body}` };
    return { outcome: 'success', output: res.body };
  }
  return { outcome: 'failure', output: `HTTP probe failed with statuscode: ${res.status}` };
}
