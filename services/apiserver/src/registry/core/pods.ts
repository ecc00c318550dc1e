/** pods, pods/status, pods/ephemeralcontainers, pods/binding, pods/log, pods/exec, pods/attach, pods/portforward. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  ApiError, badRequest, conflict, defaultPod, invalid, isPodTerminal, notFound, podQOSClass, rfc3339, typed, validateBinding,
  validatePod, validatePodEphemeralContainersUpdate, validatePodStatus, validatePodUpdate, RESOURCES,
  type Binding, type KubeObject, type Mutable, type Node, type Pod, type PodCondition, type ResourceDef,
} from '@tskube/api';
import { podTable } from '../../tables/tables.js';
import { keepSpec, keepStatus, type Strategy } from '../strategy.js';
import type { Connecter, Creater, RequestContext } from '../rest.js';
import type { Store } from '../store.js';
import { KubeletClient } from '../../kubelet-client.js';
import { takeUpgrade } from '../../handlers/upgrade.js';

export const podStrategy: Strategy = {
  applyDefaults: (o) => defaultPod(typed<Pod>(o)),
  prepareForCreate(o) {
    const p = typed<Mutable<Pod>>(o);
    p.status = { phase: 'Pending', qosClass: podQOSClass(p.spec) };
  },
  prepareForUpdate: keepStatus,
  validate: (o) => validatePod(typed<Pod>(o)),
  validateUpdate: (o, old) => validatePodUpdate(typed<Pod>(o), typed<Pod>(old)),
  hasGeneration: false,
  allowCreateOnUpdate: false,
  allowUnconditionalUpdate: true,
  selectableFields(o) {
    const p = typed<Pod>(o);
    return {
      'spec.nodeName': p.spec?.nodeName ?? '',
      'spec.restartPolicy': p.spec?.restartPolicy ?? '',
      'spec.schedulerName': p.spec?.schedulerName ?? '',
      'spec.serviceAccountName': p.spec?.serviceAccountName ?? '',
      'spec.hostNetwork': String(p.spec?.hostNetwork ?? false),
      'status.phase': p.status?.phase ?? '',
      'status.podIP': p.status?.podIP ?? '',
      'status.nominatedNodeName': p.status?.nominatedNodeName ?? '',
    };
  },
  /** upstream CheckGracefulDelete: unscheduled and finished pods go at once. */
  gracePeriodSeconds(o, requested) {
    const p = typed<Pod>(o);
    if (!p.spec?.nodeName || isPodTerminal(p)) return 0;
    const grace = requested ?? p.spec.terminationGracePeriodSeconds ?? 30;
    return Math.max(0, grace);
  },
  table: podTable,
};

export const podStatusStrategy: Strategy = {
  ...podStrategy,
  applyDefaults: undefined,
  prepareForUpdate: keepSpec,
  validateUpdate: (o) => validatePodStatus(typed<Pod>(o)),
};

/**
 * pods/ephemeralcontainers (upstream podEphemeralContainersStrategy): GET, PUT and PATCH of
 * the whole Pod (kubectl debug sends a strategic merge patch of spec.ephemeralContainers), of
 * which only spec.ephemeralContainers changes: the rest of the spec, the status, and the
 * labels, annotations, finalizers and ownerReferences are carried over from the stored pod
 * (upstream dropNonEphemeralContainerUpdates + ResetObjectMetaForStatus). Validation:
 * validatePodEphemeralContainersUpdate (containers may only be added).
 */
export const podEphemeralContainersStrategy: Strategy = {
  ...podStrategy,
  prepareForUpdate(o, old) {
    const p = typed<Mutable<Pod>>(o);
    const prev = typed<Pod>(old);
    const added = p.spec?.ephemeralContainers;
    p.spec = structuredClone(prev.spec) as Mutable<Pod>['spec'];
    if (p.spec) {
      if (added) p.spec.ephemeralContainers = added; else delete p.spec.ephemeralContainers;
    }
    keepStatus(o, old);
    const meta = o.metadata ?? (o.metadata = {});
    for (const k of ['labels', 'annotations', 'finalizers', 'ownerReferences'] as const) {
      const v = old.metadata?.[k];
      if (v === undefined) delete meta[k]; else (meta as Record<string, unknown>)[k] = structuredClone(v);
    }
  },
  validateUpdate: (o, old) => validatePodEphemeralContainersUpdate(typed<Pod>(o), typed<Pod>(old)),
};

/** Sets or replaces a condition, moving lastTransitionTime only when the status changes. */
export function setCondition(conds: PodCondition[] | undefined, c: PodCondition): PodCondition[] {
  const out = [...(conds ?? [])];
  const i = out.findIndex((x) => x.type === c.type);
  if (i < 0) return [...out, c];
  const old = out[i]!;
  out[i] = { ...old, ...c, lastTransitionTime: old.status === c.status ? old.lastTransitionTime ?? c.lastTransitionTime : c.lastTransitionTime };
  return out;
}

const BINDING_DEF = RESOURCES.find((r) => r.kind === 'Binding')!;

/** POST pods/{name}/binding (and POST bindings): assigns a pod to a node, once. */
export class BindingRest implements Creater {
  readonly kind = { group: '', version: 'v1', kind: 'Binding' };
  constructor(readonly def: ResourceDef, private readonly pods: Store) {}

  async create(ctx: RequestContext, obj: KubeObject, name?: string): Promise<KubeObject> {
    const b = typed<Binding>(obj);
    const podName = name ?? b.metadata?.name ?? '';
    if (name && b.metadata?.name && b.metadata.name !== name) {
      throw badRequest(`name in URL does not match name in Binding object`);
    }
    if (!podName) throw invalid({ group: '', kind: 'Binding' }, '', [{ type: 'FieldValueRequired', field: 'metadata.name', detail: 'name or generateName is required' }]);
    const errs = validateBinding(b);
    if (errs.length) throw invalid({ group: '', kind: 'Binding' }, podName, errs);
    const gr = { group: '', resource: 'pods' };
    await this.pods.mutate(ctx, podName, (cur) => {
      const pod = typed<Mutable<Pod>>(structuredClone(cur));
      if (b.metadata?.uid && b.metadata.uid !== cur.metadata.uid) throw conflict(gr, podName, `Precondition failed: UID in precondition: ${b.metadata.uid}, UID in object meta: ${cur.metadata.uid}`);
      if (cur.metadata.deletionTimestamp) throw conflict({ group: '', resource: 'pods/binding' }, podName, `pod ${podName} is being deleted, cannot be assigned to a host`);
      if (pod.spec?.nodeName) throw conflict({ group: '', resource: 'pods/binding' }, podName, `pod ${podName} is already assigned to node "${pod.spec.nodeName}"`);
      pod.spec!.nodeName = b.target.name;
      if (b.metadata?.annotations) pod.metadata!.annotations = { ...pod.metadata!.annotations, ...b.metadata.annotations };
      pod.status ??= {};
      pod.status.conditions = setCondition(pod.status.conditions, { type: 'PodScheduled', status: 'True', lastProbeTime: null as unknown as string, lastTransitionTime: rfc3339() });
      return pod as unknown as KubeObject;
    });
    return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 };
  }
}

export function bindingResourceDef(): ResourceDef { return BINDING_DEF; }

const LOG_PARAMS = ['follow', 'previous', 'sinceSeconds', 'sinceTime', 'timestamps', 'tailLines', 'limitBytes', 'insecureSkipTLSVerifyBackend'];

/** GET pods/{name}/log: validated here, streamed from the pod's kubelet. */
export class PodLogRest implements Connecter {
  readonly kind = { group: '', version: 'v1', kind: 'Pod' };
  constructor(
    readonly def: ResourceDef,
    private readonly pods: Store,
    private readonly getNode: (name: string) => Promise<Node>,
    private readonly kubelets: KubeletClient,
  ) {}

  async connect(ctx: RequestContext, name: string, req: IncomingMessage, res: ServerResponse, query: URLSearchParams): Promise<void> {
    const pod = typed<Pod>(await this.pods.get(ctx, name));
    const containers = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? []), ...(pod.spec?.ephemeralContainers ?? [])].map((c) => c.name);
    let container = query.get('container') ?? '';
    if (!container) {
      if ((pod.spec?.containers?.length ?? 0) === 1) container = pod.spec!.containers[0]!.name;
      else throw badRequest(`a container name must be specified for pod ${name}, choose one of: [${(pod.spec?.containers ?? []).map((c) => c.name).join(' ')}]`);
    }
    if (!containers.includes(container)) throw badRequest(`container ${container} is not valid for pod ${name}`);
    for (const k of ['tailLines', 'limitBytes', 'sinceSeconds']) {
      const v = query.get(k);
      if (v !== null && !/^-?\d+$/.test(v)) throw badRequest(`${k}: invalid value "${v}"`);
      if (v !== null && (k === 'sinceSeconds' || k === 'limitBytes') && Number(v) < 1) throw invalid({ group: '', kind: 'PodLogOptions' }, '', [{ type: 'FieldValueInvalid', field: k, value: Number(v), detail: 'must be greater than 0' }]);
    }
    if (!pod.spec?.nodeName) throw badRequest(`pod ${name} does not have a host assigned`);
    let node: Node;
    try { node = await this.getNode(pod.spec.nodeName); } catch (e) {
      if (e instanceof ApiError && e.code === 404) throw badRequest(`node "${pod.spec.nodeName}" of pod ${name} not found`);
      throw e;
    }
    const q = new URLSearchParams();
    for (const k of LOG_PARAMS) { const v = query.get(k); if (v !== null) q.set(k, v); }
    const path = `/containerLogs/${encodeURIComponent(ctx.namespace)}/${encodeURIComponent(name)}/${encodeURIComponent(container)}${q.size ? `?${q}` : ''}`;
    const abort = new AbortController();
    req.on('close', () => abort.abort());
    const upstream = await this.kubelets.get(node, path, abort.signal);
    if ((upstream.statusCode ?? 500) >= 300) {
      const chunks: Buffer[] = [];
      for await (const c of upstream) { chunks.push(c as Buffer); if (chunks.length > 256) break; }
      const body = Buffer.concat(chunks).toString().trim();
      if (upstream.statusCode === 404) throw notFound({ group: '', resource: 'pods/log' }, name);
      throw upstream.statusCode === 400 ? badRequest(body) : new ApiError(upstream.statusCode ?? 500, 'InternalError', body || 'kubelet error');
    }
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' });
    res.flushHeaders();
    upstream.on('data', (c: Buffer) => res.write(c));
    await new Promise<void>((resolve) => {
      upstream.on('end', resolve);
      upstream.on('error', resolve);
      upstream.on('close', resolve);
    });
    res.end();
  }
}

/** Go's strconv-style bool of a query value, as upstream's query conversion reads it: absent → dflt. */
function queryBool(q: URLSearchParams, key: string, dflt: boolean): boolean {
  const v = q.get(key);
  if (v === null) return dflt;
  return !(v === '0' || v.toLowerCase() === 'f' || v.toLowerCase() === 'false');
}

export type StreamKind = 'exec' | 'attach' | 'portforward';

/**
 * pods/exec, pods/attach, pods/portforward (connect; GET or POST with an upgrade, upstream
 * ExecREST/AttachREST/PortForwardREST + ExecLocation/AttachLocation/PortForwardLocation):
 * the pod and container are checked here, then the upgraded connection is proxied to the
 * kubelet's /exec, /attach or /portForward with the apiserver-kubelet-client certificate
 * and spliced byte for byte (the WebSocket/SPDY session itself is the runtime's).
 *
 * Query (PodExecOptions / PodAttachOptions): command (repeated, exec), container, stdin,
 * tty (default false), stdout, stderr (default true); the kubelet gets them as "1".
 * PodPortForwardOptions: port (repeated, optional; kubectl sends ports in the stream).
 * Errors as upstream: missing pod 404; `container c is not valid for pod p` and `a container
 * name must be specified for pod p, choose one of: [...]` 400; `pod p does not have a host
 * assigned` 400; no upgrade → 400 "Upgrade request required"; the kubelet's own refusals
 * (e.g. 500 `container not found ("c")` for a container that is not running) are relayed.
 */
export class PodStreamRest implements Connecter {
  readonly kind: { group: string; version: string; kind: string };
  constructor(
    readonly def: ResourceDef,
    private readonly stream: StreamKind,
    private readonly pods: Store,
    private readonly getNode: (name: string) => Promise<Node>,
    private readonly kubelets: KubeletClient,
  ) {
    const kinds = { exec: 'PodExecOptions', attach: 'PodAttachOptions', portforward: 'PodPortForwardOptions' } as const;
    this.kind = { group: '', version: 'v1', kind: kinds[stream] };
  }

  /** The kubelet path for a validated request. */
  kubeletPath(namespace: string, pod: Pod, query: URLSearchParams): string {
    const name = pod.metadata?.name ?? '';
    const base = `${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`;
    const q = new URLSearchParams();
    if (this.stream === 'portforward') {
      for (const p of query.getAll('port')) {
        if (!/^\d+$/.test(p) || Number(p) < 1 || Number(p) > 65535) throw badRequest(`port ${p} must be in the range 1 - 65535`);
        q.append('port', p);
      }
      return `/portForward/${base}${q.size ? `?${q}` : ''}`;
    }
    const all = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? []), ...(pod.spec?.ephemeralContainers ?? [])].map((c) => c.name);
    let container = query.get('container') ?? '';
    if (!container) {
      const main = (pod.spec?.containers ?? []).map((c) => c.name);
      if (main.length === 1) container = main[0]!;
      else {
        const init = (pod.spec?.initContainers ?? []).map((c) => c.name);
        throw badRequest(`a container name must be specified for pod ${name}, choose one of: [${main.join(' ')}]${init.length ? ` or one of the init containers: [${init.join(' ')}]` : ''}`);
      }
    } else if (!all.includes(container)) {
      throw badRequest(`container ${container} is not valid for pod ${name}`);
    }
    const flags = {
      stdin: queryBool(query, 'stdin', false), stdout: queryBool(query, 'stdout', true),
      stderr: queryBool(query, 'stderr', true), tty: queryBool(query, 'tty', false),
    };
    if (!flags.stdin && !flags.stdout && !flags.stderr) throw badRequest('you must specify at least 1 of stdin, stdout, stderr');
    for (const [k, v] of Object.entries(flags)) if (v) q.set(k, '1');
    if (this.stream === 'exec') {
      const cmd = query.getAll('command');
      if (cmd.length === 0) throw badRequest('you must specify at least one command for the container');
      for (const c of cmd) q.append('command', c);
    }
    return `/${this.stream}/${base}/${encodeURIComponent(container)}?${q}`;
  }

  async connect(ctx: RequestContext, name: string, req: IncomingMessage, _res: ServerResponse, query: URLSearchParams): Promise<void> {
    const pod = typed<Pod>(await this.pods.get(ctx, name));
    const path = this.kubeletPath(ctx.namespace, pod, query);
    if (!pod.spec?.nodeName) throw badRequest(`pod ${name} does not have a host assigned`);
    let node: Node;
    try { node = await this.getNode(pod.spec.nodeName); } catch (e) {
      if (e instanceof ApiError && e.code === 404) throw badRequest(`node "${pod.spec.nodeName}" of pod ${name} not found`);
      throw e;
    }
    KubeletClient.endpoint(node); // a node without an address fails here, as a Status
    const conn = takeUpgrade(req);
    if (!conn) throw badRequest('Upgrade request required');
    ctx.log.debug('proxying stream to kubelet', { stream: this.stream, pod: name, node: pod.spec.nodeName });
    await this.kubelets.upgrade(node, path, req, conn.socket, conn.head);
  }
}
