/**
 * The kubelet's exec, attach and port-forward endpoints (upstream kubelet server.go getExec,
 * getAttach, getPortForward), what the apiserver's pods/exec, pods/attach and
 * pods/portforward proxy to:
 *   /exec/{namespace}/{pod}[/{uid}]/{container}?command=…&stdin=1&stdout=1&stderr=1&tty=1
 *   /attach/{namespace}/{pod}[/{uid}]/{container}?stdin=1&stdout=1&stderr=1&tty=1
 *   /portForward/{namespace}/{pod}[/{uid}][?port=N…]
 * GET or POST, with an upgrade (WebSocket; SPDY/3.1 for port-forward).
 *
 * The kubelet finds the running container (or ready sandbox), asks the runtime over CRI for
 * a streaming URL, and proxies the client's connection there unchanged (upstream's
 * default, redirect-container-streaming=false). Stream flags are "1" for true, as upstream
 * (the apiserver rewrites kubectl's `true`). With tty, stderr is dropped.
 *
 * Errors before the upgrade, in upstream's words: unknown pod → 404 "pod does not exist";
 * a UID that does not match → 404 likewise; no running container of that name →
 * 500 `container not found ("c")` (kubectl prints "unable to upgrade connection: …");
 * no stream requested → 400; CRI errors → 404 for NOT_FOUND, else 500, with the message.
 */
import http from 'node:http';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Pod } from '@tskube/api';
import type { DeepReadonly } from '@tskube/client';
import type { Logger } from '@tskube/log';
import { Code, isCriError, LABEL_CONTAINER_NAME, LABEL_POD_UID, type RuntimeService } from '../cri/index.js';
import { errorMessage } from '../format.js';
import { bridgeUpgrade, forwardHeaders, writeRawResponse } from './upgrade-proxy.js';

export interface StreamingContext {
  podByName(namespace: string, name: string): DeepReadonly<Pod> | undefined;
  runtime: Pick<RuntimeService, 'exec' | 'attach' | 'portForward' | 'listContainers' | 'listPodSandbox'>;
  logger: Logger;
}

class StreamError extends Error {
  constructor(readonly code: number, message: string) { super(message); }
}

type Target =
  | { kind: 'exec' | 'attach'; namespace: string; pod: string; uid?: string; container: string }
  | { kind: 'portForward'; namespace: string; pod: string; uid?: string };

/** Parses a streaming path; undefined when it is not one. */
export function parseStreamingPath(pathname: string): Target | undefined {
  const parts = pathname.split('/').slice(1).map((s) => decodeURIComponent(s));
  if (parts.at(-1) === '') parts.pop();
  const [kind, namespace, pod, ...rest] = parts;
  if (!namespace || !pod) return undefined;
  if (kind === 'exec' || kind === 'attach') {
    if (rest.length === 1) return { kind, namespace, pod, container: rest[0]! };
    if (rest.length === 2) return { kind, namespace, pod, uid: rest[0]!, container: rest[1]! };
    return undefined;
  }
  if (kind === 'portForward') {
    if (rest.length === 0) return { kind, namespace, pod };
    if (rest.length === 1) return { kind, namespace, pod, uid: rest[0]! };
  }
  return undefined;
}

export interface StreamFlags { stdin: boolean; stdout: boolean; stderr: boolean; tty: boolean }

/** Upstream remotecommand NewOptions: flags are "1"; tty drops stderr; at least one stream. */
export function parseStreamFlags(q: URLSearchParams): StreamFlags {
  const on = (k: string): boolean => q.get(k) === '1';
  const tty = on('tty');
  const flags = { stdin: on('stdin'), stdout: on('stdout'), stderr: on('stderr') && !tty, tty };
  if (!flags.stdin && !flags.stdout && !flags.stderr) throw new StreamError(400, 'you must specify at least 1 of stdin, stdout, stderr');
  return flags;
}

function criStatus(err: unknown): StreamError {
  if (err instanceof StreamError) return err;
  return new StreamError(isCriError(err, Code.NOT_FOUND) ? 404 : 500, errorMessage(err));
}

async function streamUrl(t: Target, q: URLSearchParams, ctx: StreamingContext): Promise<string> {
  const pod = ctx.podByName(t.namespace, t.pod);
  if (!pod || (t.uid && pod.metadata?.uid !== t.uid)) throw new StreamError(404, 'pod does not exist');
  const uid = pod.metadata?.uid ?? '';
  if (t.kind === 'portForward') {
    const ports = q.getAll('port').map((p) => Number(p));
    if (ports.some((p) => !Number.isInteger(p) || p < 1 || p > 65535)) throw new StreamError(400, `invalid port in ${JSON.stringify(q.getAll('port'))}`);
    const { items } = await ctx.runtime.listPodSandbox({ filter: { id: '', state: { state: 'SANDBOX_READY' }, label_selector: { [LABEL_POD_UID]: uid } } });
    const sandbox = items.at(-1);
    if (!sandbox) throw new StreamError(500, `pod sandbox of pod "${t.pod}" not found`);
    return (await ctx.runtime.portForward({ pod_sandbox_id: sandbox.id, port: ports })).url;
  }
  const flags = parseStreamFlags(q);
  const { containers } = await ctx.runtime.listContainers({
    filter: { id: '', pod_sandbox_id: '', state: { state: 'CONTAINER_RUNNING' }, label_selector: { [LABEL_POD_UID]: uid, [LABEL_CONTAINER_NAME]: t.container } },
  });
  const c = containers.at(-1);
  if (!c) throw new StreamError(500, `container not found (${JSON.stringify(t.container)})`);
  if (t.kind === 'exec') {
    const cmd = q.getAll('command');
    if (cmd.length === 0) throw new StreamError(400, 'you must specify at least one command for the container');
    return (await ctx.runtime.exec({ container_id: c.id, cmd, ...flags })).url;
  }
  return (await ctx.runtime.attach({ container_id: c.id, ...flags })).url;
}

/**
 * Handles one upgrade request on the kubelet API. Returns false (touching nothing) if the
 * path is not a streaming endpoint.
 */
export function serveStreaming(req: IncomingMessage, socket: Duplex, head: Buffer, ctx: StreamingContext): boolean {
  const url = new URL(req.url ?? '/', 'https://kubelet');
  const target = parseStreamingPath(url.pathname);
  if (!target) return false;
  void (async () => {
    let backend: string;
    try {
      if (req.method !== 'GET' && req.method !== 'POST') throw new StreamError(405, '405: Method Not Allowed');
      backend = await streamUrl(target, url.searchParams, ctx);
    } catch (err) {
      const e = criStatus(err);
      if (e.code >= 500) ctx.logger.warn('streaming request failed', { kind: target.kind, pod: `${target.namespace}/${target.pod}`, err: e.message });
      writeRawResponse(socket, e.code, e.message);
      return;
    }
    const out = http.request(backend, { method: req.method, headers: forwardHeaders(req) });
    await bridgeUpgrade(out, socket, head);
  })().catch((err: unknown) => {
    ctx.logger.error('streaming proxy failed', { err: errorMessage(err) });
    socket.destroy();
  });
  return true;
}
