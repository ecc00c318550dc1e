/**
 * The REST client: JSON over HTTP/1.1 (node:https or node:http) with one keep-alive Agent,
 * client-certificate or bearer-token authentication.
 *
 * - Every request sends `Accept: application/json` and `User-Agent: tskube-<component>/0.1.0`.
 * - Non-2xx answers reject with an `ApiError` (the server's Status, or a synthesized one).
 * - 429 (and 5xx carrying Retry-After) are retried after the Retry-After delay, up to
 *   `maxRetries` times; the server did not act on such a request, so every verb is retried.
 * - `timeoutMs` (per client, per request) bounds the whole exchange, and for streams the
 *   time until the response headers; `signal` aborts at any point (rejecting with AbortError).
 */
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import type { Logger } from '@tskube/log';
import { BaseClient, resourcePath, type ResourceRef } from './client.js';
import { apiErrorFromResponse, type RequestInfo } from './errors.js';
import { loadKubeconfig, type KubeconfigOptions } from './kubeconfig.js';
import {
  PATCH_CONTENT_TYPES, type DeleteOptions, type GetOptions, type ListOptions, type ListResult, type PatchOptions,
  type PatchType, type RawOptions, type RequestOptions, type WatchOptions, type WriteOptions,
} from './types.js';
import { watchStreamFromReadable, type WatchStream } from './watch.js';

export const CLIENT_VERSION = '0.1.0';

export interface RestClientOptions {
  /** Base URL, e.g. "https://127.0.0.1:6443" (a path prefix is kept). */
  server: string;
  /** PEM CA bundle that signed the server certificate (default: Node's trust store). */
  ca?: string | Buffer;
  /** PEM client certificate and key (mutual TLS). */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Bearer token. */
  token?: string;
  insecureSkipTLSVerify?: boolean;
  /** Component name for the User-Agent ("scheduler" → "tskube-scheduler/0.1.0") and default fieldManager. */
  component?: string;
  /** Overrides the whole User-Agent. */
  userAgent?: string;
  /** Default per-request timeout (ms); 30 s. */
  timeoutMs?: number;
  /** Retries of 429 / Retry-After answers; 3. */
  maxRetries?: number;
  /** Upper bound on one Retry-After wait (ms); 10 s. */
  maxRetryDelayMs?: number;
  /** Debug lines for retries. */
  logger?: Logger;
  /**
   * Connections kept to the server at most (default unbounded); further requests queue for a
   * free one. A process multiplexing many identities' traffic on one client (simulated
   * nodes) bounds its TLS sockets with it. Long-running watches hold one each.
   */
  maxSockets?: number;
}

interface SendOptions extends RequestOptions {
  query?: RawOptions['query'];
  body?: unknown;
  contentType?: string;
  accept?: string;
  info?: RequestInfo;
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

class TimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TimeoutError';
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) { reject(signal.reason); return; }
    const onAbort = () => { clearTimeout(t); reject(signal!.reason); };
    const t = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve(); }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function retryAfterMs(h: http.IncomingHttpHeaders): number | undefined {
  const v = h['retry-after'];
  if (typeof v !== 'string' || v.trim() === '') return undefined;
  const secs = Number(v);
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const date = Date.parse(v);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function encodeBody(body: unknown): Buffer | undefined {
  if (body === undefined) return undefined;
  if (Buffer.isBuffer(body)) return body;
  if (typeof body === 'string') return Buffer.from(body);
  return Buffer.from(JSON.stringify(body));
}

function decodeBody(a: Answer): unknown {
  if (a.body.length === 0) return undefined;
  const text = a.body.toString('utf8');
  const ct = String(a.headers['content-type'] ?? '');
  if (ct.includes('json') || ct === '') {
    try { return JSON.parse(text); } catch (e) {
      if (ct.includes('json')) throw new Error(`invalid JSON in response: ${(e as Error).message}`);
    }
  }
  return text;
}

function resourceName(ref: ResourceRef): string {
  const r = ref.rt.group ? `${ref.rt.plural}.${ref.rt.group}` : ref.rt.plural;
  return ref.subresource ? `${r}/${ref.subresource}` : r;
}

function writeQuery(o: WriteOptions | undefined, defaultManager?: string): Record<string, string | undefined> {
  return { fieldManager: o?.fieldManager ?? defaultManager, dryRun: o?.dryRun ? 'All' : undefined };
}

export class RestClient extends BaseClient {
  readonly userAgent: string;
  private readonly base: URL;
  private readonly agent: http.Agent;
  private readonly mod: typeof http | typeof https;
  private readonly opts: RestClientOptions;
  private readonly component: string;
  private readonly live = new Set<{ destroy(): void }>();

  constructor(opts: RestClientOptions) {
    super();
    this.opts = opts;
    this.base = new URL(opts.server);
    this.component = opts.component ?? 'client';
    this.userAgent = opts.userAgent ?? `tskube-${this.component}/${CLIENT_VERSION}`;
    if (this.base.protocol === 'https:') {
      this.mod = https;
      this.agent = new https.Agent({
        keepAlive: true, maxSockets: opts.maxSockets,
        ca: opts.ca, cert: opts.cert, key: opts.key,
        rejectUnauthorized: !opts.insecureSkipTLSVerify,
      });
    } else if (this.base.protocol === 'http:') {
      this.mod = http;
      this.agent = new http.Agent({ keepAlive: true, maxSockets: opts.maxSockets });
    } else {
      throw new Error(`unsupported server URL scheme: ${opts.server}`);
    }
  }

  close(): void {
    for (const s of this.live) s.destroy();
    this.live.clear();
    this.agent.destroy();
  }

  private url(path: string, query?: RawOptions['query']): URL {
    const prefix = this.base.pathname.replace(/\/+$/, '');
    const u = new URL(prefix + path, this.base);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) u.searchParams.set(k, String(v));
    return u;
  }

  private headers(o: SendOptions, body: Buffer | undefined): http.OutgoingHttpHeaders {
    const h: http.OutgoingHttpHeaders = { 'User-Agent': this.userAgent, Accept: o.accept ?? 'application/json' };
    if (this.opts.token) h.Authorization = `Bearer ${this.opts.token}`;
    if (body) {
      h['Content-Type'] = o.contentType ?? 'application/json';
      h['Content-Length'] = body.length;
    }
    return h;
  }

  /** One HTTP exchange. For `stream`, a 2xx resolves at the headers with the live response. */
  private exchange(method: string, url: URL, o: SendOptions, body: Buffer | undefined, stream: boolean):
    Promise<Answer & { res?: http.IncomingMessage }> {
    const timeoutMs = o.timeoutMs ?? this.opts.timeoutMs ?? 30_000;
    return new Promise((resolve, reject) => {
      const req = this.mod.request(url, { method, agent: this.agent, headers: this.headers(o, body), signal: o.signal });
      const timer = setTimeout(() => {
        req.destroy(new TimeoutError(`request timed out after ${timeoutMs} ms: ${method} ${url.pathname}`));
      }, timeoutMs);
      req.on('error', (e) => { clearTimeout(timer); reject(e); });
      req.on('response', (res) => {
        const status = res.statusCode ?? 0;
        if (stream && status >= 200 && status < 300) {
          clearTimeout(timer);
          resolve({ status, headers: res.headers, body: Buffer.alloc(0), res });
          return;
        }
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (e) => { clearTimeout(timer); reject(e); });
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status, headers: res.headers, body: Buffer.concat(chunks) });
        });
      });
      req.end(body);
    });
  }

  /** An exchange with the 429 / Retry-After policy; non-2xx rejects with an ApiError. */
  private async send(method: string, path: string, o: SendOptions, stream = false): Promise<Answer & { res?: http.IncomingMessage }> {
    const url = this.url(path, o.query);
    const body = encodeBody(o.body);
    const maxRetries = this.opts.maxRetries ?? 3;
    for (let attempt = 0; ; attempt++) {
      const a = await this.exchange(method, url, o, body, stream);
      if (a.status >= 200 && a.status < 300) return a;
      const wait = retryAfterMs(a.headers);
      const retriable = a.status === 429 || (a.status >= 500 && wait !== undefined);
      if (retriable && attempt < maxRetries) {
        const ms = Math.min(wait ?? 1000, this.opts.maxRetryDelayMs ?? 10_000);
        this.opts.logger?.debug('retrying request', { method, path: url.pathname, status: a.status, waitMs: ms, attempt: attempt + 1 });
        await sleep(ms, o.signal);
        continue;
      }
      throw apiErrorFromResponse(a.status, a.body.toString('utf8'), o.info, wait !== undefined ? Math.ceil(wait / 1000) : undefined);
    }
  }

  private async json(method: string, path: string, o: SendOptions): Promise<unknown> {
    return decodeBody(await this.send(method, path, o));
  }

  // ---- ResourceBackend ----

  get(ref: ResourceRef, opts?: GetOptions): Promise<unknown> {
    return this.json('GET', resourcePath(ref), {
      ...opts, query: { resourceVersion: opts?.resourceVersion },
      info: { verb: 'get', resource: resourceName(ref), name: ref.name },
    });
  }

  async list(ref: ResourceRef, opts?: ListOptions): Promise<ListResult<unknown>> {
    const body = await this.json('GET', resourcePath(ref), {
      ...opts,
      query: {
        labelSelector: opts?.labelSelector || undefined, fieldSelector: opts?.fieldSelector || undefined,
        limit: opts?.limit, continue: opts?.continue || undefined, resourceVersion: opts?.resourceVersion,
      },
      info: { verb: 'get', resource: resourceName(ref) },
    });
    return body as ListResult<unknown>;
  }

  create(ref: ResourceRef, obj: unknown, opts?: WriteOptions): Promise<unknown> {
    return this.json('POST', resourcePath(ref), {
      ...opts, body: obj, query: writeQuery(opts),
      info: { verb: 'post', resource: resourceName(ref), name: ref.name },
    });
  }

  update(ref: ResourceRef, obj: unknown, opts?: WriteOptions): Promise<unknown> {
    return this.json('PUT', resourcePath(ref), {
      ...opts, body: obj, query: writeQuery(opts),
      info: { verb: 'put', resource: resourceName(ref), name: ref.name },
    });
  }

  patch(ref: ResourceRef, patch: unknown, type: PatchType, opts?: PatchOptions): Promise<unknown> {
    const query: Record<string, string | undefined> = writeQuery(opts, type === 'apply' ? this.component : undefined);
    if (type === 'apply' && opts?.force) query.force = 'true';
    return this.json('PATCH', resourcePath(ref), {
      ...opts, body: patch, contentType: PATCH_CONTENT_TYPES[type], query,
      info: { verb: 'patch', resource: resourceName(ref), name: ref.name },
    });
  }

  async delete(ref: ResourceRef, opts?: DeleteOptions): Promise<void> {
    const body: Record<string, unknown> = { kind: 'DeleteOptions', apiVersion: 'v1' };
    if (opts?.gracePeriodSeconds !== undefined) body.gracePeriodSeconds = opts.gracePeriodSeconds;
    if (opts?.propagationPolicy) body.propagationPolicy = opts.propagationPolicy;
    if (opts?.preconditions) body.preconditions = opts.preconditions;
    if (opts?.dryRun) body.dryRun = ['All'];
    await this.send('DELETE', resourcePath(ref), {
      ...opts, body, info: { verb: 'delete', resource: resourceName(ref), name: ref.name },
    });
  }

  async watch(ref: ResourceRef, opts?: WatchOptions): Promise<WatchStream<unknown>> {
    const ac = new AbortController();
    const signal = opts?.signal ? AbortSignal.any([opts.signal, ac.signal]) : ac.signal;
    const a = await this.send('GET', resourcePath(ref), {
      timeoutMs: opts?.timeoutMs, signal,
      query: {
        watch: 'true', resourceVersion: opts?.resourceVersion || undefined,
        allowWatchBookmarks: opts?.allowWatchBookmarks ? 'true' : undefined,
        timeoutSeconds: opts?.timeoutSeconds,
        labelSelector: opts?.labelSelector || undefined, fieldSelector: opts?.fieldSelector || undefined,
      },
      info: { verb: 'watch', resource: resourceName(ref) },
    }, true);
    const res = a.res!;
    const handle = { destroy: () => ac.abort() };
    this.live.add(handle);
    // Aborting the signal destroys the response; swallow the resulting error event (the iterator reports it).
    res.on('error', () => {});
    return watchStreamFromReadable<unknown>(res, () => { this.live.delete(handle); ac.abort(); });
  }

  // ---- Client extras ----

  async raw<R = unknown>(method: string, path: string, opts?: RawOptions): Promise<R> {
    const a = await this.send(method.toUpperCase(), path, { ...opts, info: { verb: method.toLowerCase() } });
    return decodeBody(a) as R;
  }

  async getStream(path: string, query?: RawOptions['query'], opts?: RequestOptions): Promise<Readable> {
    const ac = new AbortController();
    const signal = opts?.signal ? AbortSignal.any([opts.signal, ac.signal]) : ac.signal;
    const a = await this.send('GET', path, {
      timeoutMs: opts?.timeoutMs, signal, query, accept: 'application/json, */*', info: { verb: 'get' },
    }, true);
    const res = a.res!;
    const handle = { destroy: () => res.destroy() };
    this.live.add(handle);
    res.on('close', () => this.live.delete(handle));
    return res;
  }
}

/** A REST client; see RestClientOptions. */
export function createClient(opts: RestClientOptions): RestClient {
  return new RestClient(opts);
}

export interface KubeconfigClientOptions extends KubeconfigOptions, Omit<RestClientOptions, 'server' | 'ca' | 'cert' | 'key' | 'token' | 'insecureSkipTLSVerify'> {}

/** A REST client for a kubeconfig file's current (or given) context. Throws KubeconfigError. */
export function createClientFromKubeconfig(path: string, opts: KubeconfigClientOptions = {}): RestClient {
  const kc = loadKubeconfig(path, { context: opts.context });
  return new RestClient({
    ...opts,
    server: kc.server, ca: kc.ca, cert: kc.cert, key: kc.key, token: kc.token,
    insecureSkipTLSVerify: kc.insecureSkipTLSVerify,
  });
}

/** True when `err` is a client-side timeout of this package. */
export function isTimeout(err: unknown): boolean {
  return err instanceof Error && err.name === 'TimeoutError';
}

