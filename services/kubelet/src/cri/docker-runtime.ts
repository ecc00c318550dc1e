/**
 * The CRI on a Docker engine (through dockerode), in the manner of the old dockershim.
 *
 * Mapping:
 * - A sandbox is a pause container named `k8s_POD_<pod>_<ns>_<uid>_<attempt>`, attached to
 *   the Docker network `network` with the config's hostname and DNS; its IP on that network
 *   is the pod IP. Its IPC namespace is shareable.
 * - A container is named `k8s_<container>_<pod>_<ns>_<uid>_<attempt>` and joins the
 *   sandbox's network and IPC namespaces (`container:<sandbox id>`), and its PID namespace
 *   when the config asks for POD (pid NODE: the host's; pid TARGET: `container:<target_id>`,
 *   the target being a container of this node, else NOT_FOUND, as for ephemeral containers
 *   with a targetContainerName). CRI `command` becomes the Docker Entrypoint and `args` the
 *   Cmd (so a command drops the image's default args, as in Kubernetes); env, working dir,
 *   tty/stdin, user ("uid[:gid]" or the user name), supplemental groups (GroupAdd),
 *   privileged, read-only rootfs, capabilities (CapAdd/CapDrop), no_new_privs
 *   (SecurityOpt "no-new-privileges"), bind mounts, CPU shares/quota/period, memory limit and
 *   oom_score_adj (OomScoreAdj) carry over. The runtime never pulls on create: the image must be there.
 * - Everything this runtime makes carries the identity labels (runtime.ts) plus bookkeeping
 *   labels it hides again when reading back: `io.kubernetes.docker.type`
 *   (podsandbox|container), `io.kubernetes.sandbox.id`, `tskube.attempt`,
 *   `tskube.created-at`, `tskube.log-path`, and the annotations as
 *   `tskube.annotation.<key>` labels. Labels baked into the image show up in a container's
 *   labels too (Docker merges them; there is no telling them apart).
 * - Only containers labelled `tskube.node=<nodeName>` are listed or touched; anything else
 *   is "missing" (so Stop/Remove of it succeed without effect).
 * - created_at is the runtime's clock at creation (label `tskube.created-at`, strictly
 *   increasing per runtime), so lists (which have no inspect data) and statuses agree.
 * - A container Docker could not start ("created" with an error) reports EXITED with reason
 *   "ContainerCannotRun" and Docker's message.
 * - Logs come from Docker (`docker logs`), not from files: see logs.proto.
 */
import net from 'node:net';
import { once } from 'node:events';
import type { Duplex, Readable } from 'node:stream';
import Dockerode from 'dockerode';
import type { Logger } from '@tskube/log';
import { demuxFrames, rawFrames, type Frame } from './docker-stream.js';
import { Code, CriError, notFound } from './errors.js';
import type * as m from './proto.js';
import {
  CRI_API_VERSION, KUBE_RUNTIME_API_VERSION, LABEL_CONTAINER_NAME, LABEL_NODE, LABEL_POD_NAME,
  LABEL_POD_NAMESPACE, LABEL_POD_UID, identityLabels, type ContainerRuntime, type ReadLogsOptions,
} from './runtime.js';
import {
  CreationClock, EXEC_OUTPUT_LIMIT, byCreation, exitReason, matchesContainerFilter, matchesSandboxFilter,
  nowNanos, parseRfc3339Nano, requireId, validateContainerConfig, validateSandboxConfig,
} from './semantics.js';
import { StreamingServer, type StreamIO } from './streaming/server.js';
import { isEmptyDockerStats, usageFromDockerStats } from './docker-stats.js';
import { PullProgress, type PullMessage } from './pull-progress.js';
import {
  containerStatsOf, matchesContainerStatsFilter, matchesSandboxStatsFilter, sandboxStatsOf, sortByCreation, zeroUsage,
  type RawUsage,
} from './stats.js';

export interface DockerRuntimeOptions {
  docker: Dockerode;
  /** Value of the `tskube.node` label; this runtime sees only containers carrying it. */
  nodeName: string;
  /** Value of the `tskube.cluster` label. */
  clusterName: string;
  /** Docker network the sandboxes join; pod IPs come from it. */
  network: string;
  /** Image of the sandbox (pause) containers; pulled on first use if missing. */
  pauseImage: string;
  logger: Logger;
  /**
   * Seconds StopPodSandbox gives containers that are still running before killing them.
   * Default 0: the kubelet stops containers gracefully (StopContainer) before it stops the
   * sandbox, so what is left is killed at once.
   */
  sandboxStopGraceSeconds?: number;
  /** Bind address of the streaming server (exec/attach/port-forward URLs); default 127.0.0.1. */
  streamingAddress?: string;
}

/** How often a running image pull logs its progress. */
const PULL_PROGRESS_LOG_MS = 5000;
const LABEL_TYPE = 'io.kubernetes.docker.type';
const LABEL_SANDBOX_ID = 'io.kubernetes.sandbox.id';
const LABEL_ATTEMPT = 'tskube.attempt';
const LABEL_CREATED = 'tskube.created-at';
const LABEL_LOG_PATH = 'tskube.log-path';
const ANNOTATION_PREFIX = 'tskube.annotation.';
const TYPE_SANDBOX = 'podsandbox';
const TYPE_CONTAINER = 'container';
type ObjectType = typeof TYPE_SANDBOX | typeof TYPE_CONTAINER;

const HIDDEN_LABELS = new Set([LABEL_TYPE, LABEL_SANDBOX_ID, LABEL_ATTEMPT, LABEL_CREATED, LABEL_LOG_PATH]);

interface DecodedLabels {
  labels: m.StringMap;
  annotations: m.StringMap;
  attempt: number;
  createdAt: number;
  sandboxId: string;
  logPath: string;
}

/** Splits a Docker label map into CRI labels, annotations and our bookkeeping. */
export function decodeLabels(docker: m.StringMap | undefined | null, fallbackCreatedAt: number): DecodedLabels {
  const labels: m.StringMap = {};
  const annotations: m.StringMap = {};
  const all = docker ?? {};
  for (const [k, v] of Object.entries(all)) {
    if (k.startsWith(ANNOTATION_PREFIX)) annotations[k.slice(ANNOTATION_PREFIX.length)] = v;
    else if (!HIDDEN_LABELS.has(k)) labels[k] = v;
  }
  const created = Number(all[LABEL_CREATED]);
  return {
    labels,
    annotations,
    attempt: Number(all[LABEL_ATTEMPT] ?? 0) || 0,
    createdAt: Number.isFinite(created) && created > 0 ? created : fallbackCreatedAt,
    sandboxId: all[LABEL_SANDBOX_ID] ?? '',
    logPath: all[LABEL_LOG_PATH] ?? '',
  };
}

function encodeAnnotations(annotations: m.StringMap | undefined): m.StringMap {
  const out: m.StringMap = {};
  for (const [k, v] of Object.entries(annotations ?? {})) out[`${ANNOTATION_PREFIX}${k}`] = v;
  return out;
}

/** CRI state of a Docker container state ("created", "running", ...). */
export function containerState(dockerStatus: string): m.ContainerState {
  switch (dockerStatus) {
    case 'created': return 'CONTAINER_CREATED';
    case 'running': case 'paused': case 'restarting': return 'CONTAINER_RUNNING';
    case 'exited': case 'dead': return 'CONTAINER_EXITED';
    default: return 'CONTAINER_UNKNOWN';
  }
}

function prop(obj: unknown, key: string): unknown {
  return typeof obj === 'object' && obj !== null ? (obj as Record<string, unknown>)[key] : undefined;
}

/** Docker's own message of a dockerode error (its JSON body), else the error message. */
function dockerMessage(err: unknown): string {
  const json = prop(err, 'json');
  const fromJson = prop(json, 'message');
  if (typeof fromJson === 'string' && fromJson) return fromJson.trim();
  if (typeof json === 'string' && json.trim()) return json.trim();
  return err instanceof Error ? err.message : String(err);
}

function statusCode(err: unknown): number | undefined {
  const c = prop(err, 'statusCode');
  return typeof c === 'number' ? c : undefined;
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOENT', 'EACCES', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT']);

/** Translates a Docker/dockerode failure into a CriError (the one boundary for Docker errors). */
export function fromDockerError(err: unknown, action: string): CriError {
  if (err instanceof CriError) return err;
  const msg = dockerMessage(err);
  const sysCode = prop(err, 'code');
  if (typeof sysCode === 'string' && UNREACHABLE.has(sysCode)) {
    return new CriError(Code.UNAVAILABLE, `${action}: Docker engine not reachable: ${msg}`, { cause: err });
  }
  const code = ((): Code => {
    switch (statusCode(err)) {
      case 400: return Code.INVALID_ARGUMENT;
      case 401: case 403: return Code.PERMISSION_DENIED;
      case 404: return Code.NOT_FOUND;
      case 409: return /already in use|already exists/i.test(msg) ? Code.ALREADY_EXISTS : Code.FAILED_PRECONDITION;
      default:
        if (/not running|cannot join network/i.test(msg)) return Code.FAILED_PRECONDITION;
        if (/minimum memory|invalid/i.test(msg)) return Code.INVALID_ARGUMENT;
        return Code.UNKNOWN;
    }
  })();
  return new CriError(code, `${action}: ${msg}`, { cause: err });
}

/** Classifies an image pull failure by Docker's message (pull errors arrive in the progress stream, without HTTP codes). */
export function fromPullError(err: unknown, ref: string): CriError {
  const msg = dockerMessage(err);
  const action = `pull image "${ref}"`;
  let code: Code;
  if (/not found|manifest unknown|pull access denied|repository does not exist|no such image/i.test(msg)) code = Code.NOT_FOUND;
  else if (/unauthorized|authentication required|denied/i.test(msg)) code = Code.PERMISSION_DENIED;
  else if (/no such host|dial tcp|connection refused|i\/o timeout|timeout|network is unreachable|name resolution|TLS handshake|EOF/i.test(msg)) code = Code.UNAVAILABLE;
  else if (/invalid reference format/i.test(msg)) code = Code.INVALID_ARGUMENT;
  else return fromDockerError(err, action);
  return new CriError(code, `${action}: ${msg}`, { cause: err });
}

function isDockerNotFound(err: unknown): boolean {
  return statusCode(err) === 404;
}

/** Docker bind string "host:container[:opts]" of a CRI mount. */
function bindSpec(mt: m.Mount): string {
  const opts: string[] = [];
  if (mt.readonly) opts.push('ro');
  if (mt.propagation === 'PROPAGATION_HOST_TO_CONTAINER') opts.push('rslave');
  if (mt.propagation === 'PROPAGATION_BIDIRECTIONAL') opts.push('rshared');
  return `${mt.host_path}:${mt.container_path}${opts.length ? `:${opts.join(',')}` : ''}`;
}

function criPropagation(p: string): m.MountPropagation {
  if (p === 'rshared' || p === 'shared') return 'PROPAGATION_BIDIRECTIONAL';
  if (p === 'rslave' || p === 'slave') return 'PROPAGATION_HOST_TO_CONTAINER';
  return 'PROPAGATION_PRIVATE';
}

/** Docker's `since` log parameter: "seconds.nanoseconds". */
function dockerSince(ns: number): string {
  const sec = Math.floor(ns / 1e9);
  const frac = Math.min(999_999_999, Math.max(0, Math.round(ns - sec * 1e9)));
  return `${sec}.${String(frac).padStart(9, '0')}`;
}

function nonZero(n: number | undefined | null): number | undefined {
  return n && n > 0 ? n : undefined;
}

/** The parts of a Docker create body that come from the CRI security context and resources. */
export interface DockerSecurityAndResources {
  User: string | undefined;
  HostConfig: Pick<Dockerode.HostConfig,
    'Privileged' | 'ReadonlyRootfs' | 'GroupAdd' | 'CapAdd' | 'CapDrop' | 'SecurityOpt' | 'OomScoreAdj' | 'CpuShares' | 'CpuQuota' | 'CpuPeriod' | 'Memory' | 'MemorySwap'>;
}

/**
 * CRI LinuxContainerSecurityContext + LinuxContainerResources → Docker (as dockershim did):
 * User "uid[:gid]" or "username[:gid]"; GroupAdd = supplemental groups; Privileged;
 * ReadonlyRootfs; CapAdd/CapDrop as given (Docker takes names with or without "CAP_");
 * no_new_privs → SecurityOpt ["no-new-privileges"]; CpuShares/CpuQuota/CpuPeriod/Memory/
 * MemorySwap when > 0; OomScoreAdj when ≠ 0. INVALID_ARGUMENT for run_as_group without a user.
 */
export function dockerSecurityAndResources(
  sc: m.LinuxContainerSecurityContext | null | undefined, res: m.LinuxContainerResources | null | undefined,
): DockerSecurityAndResources {
  let user: string | undefined;
  if (sc?.run_as_username) user = sc.run_as_username;
  else if (sc?.run_as_user) user = String(sc.run_as_user.value);
  if (sc?.run_as_group) {
    if (user === undefined) throw new CriError(Code.INVALID_ARGUMENT, 'run_as_group is specified without run_as_user or run_as_username');
    user += `:${sc.run_as_group.value}`;
  }
  return {
    User: user,
    HostConfig: {
      Privileged: sc?.privileged ?? false,
      ReadonlyRootfs: sc?.readonly_rootfs ?? false,
      GroupAdd: sc?.supplemental_groups?.length ? sc.supplemental_groups.map(String) : undefined,
      CapAdd: sc?.capabilities?.add_capabilities?.length ? [...sc.capabilities.add_capabilities] : undefined,
      CapDrop: sc?.capabilities?.drop_capabilities?.length ? [...sc.capabilities.drop_capabilities] : undefined,
      SecurityOpt: sc?.no_new_privs ? ['no-new-privileges'] : undefined,
      // Only positive values: lowering a score below 0 needs CAP_SYS_RESOURCE, which a Docker
      // engine in a container or user namespace lacks, and runc then fails to start the
      // container at all ("can't get final child's PID from pipe"). Guaranteed pods (upstream
      // -997) therefore keep the default 0 here.
      OomScoreAdj: res?.oom_score_adj && res.oom_score_adj > 0 ? res.oom_score_adj : undefined,
      CpuShares: nonZero(res?.cpu_shares),
      CpuQuota: nonZero(res?.cpu_quota),
      CpuPeriod: nonZero(res?.cpu_period),
      Memory: nonZero(res?.memory_limit_in_bytes),
      MemorySwap: nonZero(res?.memory_swap_limit_in_bytes),
    },
  };
}

/** CRI AuthConfig → dockerode's `authconfig` for a pull (undefined when it carries no credential). */
export function dockerAuthConfig(a: m.AuthConfig | null | undefined): Record<string, string> | undefined {
  if (!a || !(a.username || a.auth || a.identity_token || a.registry_token)) return undefined;
  const out: Record<string, string> = {};
  if (a.username) out.username = a.username;
  if (a.password) out.password = a.password;
  if (a.auth) out.auth = a.auth;
  if (a.server_address) out.serveraddress = a.server_address;
  if (a.identity_token) out.identitytoken = a.identity_token;
  if (a.registry_token) out.registrytoken = a.registry_token;
  return out;
}

export class DockerRuntime implements ContainerRuntime {
  private readonly docker: Dockerode;
  private readonly node: string;
  private readonly cluster: string;
  private readonly network: string;
  private readonly pauseImage: string;
  private readonly log: Logger;
  private readonly graceSeconds: number;
  private readonly clock = new CreationClock();
  private readonly streamingAddress: string | undefined;

  constructor(opts: DockerRuntimeOptions) {
    this.docker = opts.docker;
    this.node = opts.nodeName;
    this.cluster = opts.clusterName;
    this.network = opts.network;
    this.pauseImage = opts.pauseImage;
    this.graceSeconds = opts.sandboxStopGraceSeconds ?? 0;
    this.streamingAddress = opts.streamingAddress;
    this.log = opts.logger.child({ runtime: 'docker', node: opts.nodeName });
  }

  // ---- lookups ----

  /** Inspects a container of ours of the given type; undefined when missing or not ours. */
  private async inspectOwned(id: string, type: ObjectType): Promise<Dockerode.ContainerInspectInfo | undefined> {
    let info: Dockerode.ContainerInspectInfo;
    try {
      info = await this.docker.getContainer(id).inspect();
    } catch (err) {
      if (isDockerNotFound(err)) return undefined;
      throw fromDockerError(err, `inspect ${type} "${id}"`);
    }
    const labels = info.Config?.Labels ?? {};
    if (labels[LABEL_NODE] !== this.node || labels[LABEL_TYPE] !== type) return undefined;
    return info;
  }

  private async requireSandbox(id: string | undefined): Promise<Dockerode.ContainerInspectInfo> {
    const sid = requireId(id, 'pod_sandbox_id');
    const info = await this.inspectOwned(sid, TYPE_SANDBOX);
    if (!info) throw notFound('sandbox', sid);
    return info;
  }

  private async requireContainer(id: string | undefined): Promise<Dockerode.ContainerInspectInfo> {
    const cid = requireId(id, 'container_id');
    const info = await this.inspectOwned(cid, TYPE_CONTAINER);
    if (!info) throw notFound('container', cid);
    return info;
  }

  /** Our containers of one type, pre-filtered by Docker on labels. */
  private async listOwned(type: ObjectType, extraLabels: m.StringMap = {}): Promise<Dockerode.ContainerInfo[]> {
    const label = [`${LABEL_NODE}=${this.node}`, `${LABEL_TYPE}=${type}`,
      ...Object.entries(extraLabels).map(([k, v]) => `${k}=${v}`)];
    try {
      return await this.docker.listContainers({ all: true, filters: { label } });
    } catch (err) {
      throw fromDockerError(err, `list ${type}s`);
    }
  }

  // ---- version and status ----

  async version(_req: m.VersionRequest): Promise<m.VersionResponse> {
    try {
      const v = await this.docker.version();
      return { version: KUBE_RUNTIME_API_VERSION, runtime_name: 'docker', runtime_version: v.Version, runtime_api_version: CRI_API_VERSION };
    } catch (err) {
      throw fromDockerError(err, 'docker version');
    }
  }

  async status(_req: m.StatusRequest): Promise<m.StatusResponse> {
    const runtime: m.RuntimeCondition = { type: 'RuntimeReady', status: true, reason: '', message: '' };
    const network: m.RuntimeCondition = { type: 'NetworkReady', status: true, reason: '', message: '' };
    try {
      await this.docker.ping();
    } catch (err) {
      Object.assign(runtime, { status: false, reason: 'DockerDaemonNotAvailable', message: dockerMessage(err) });
    }
    try {
      await this.docker.getNetwork(this.network).inspect();
    } catch (err) {
      Object.assign(network, { status: false, reason: 'NetworkPluginNotReady', message: `network "${this.network}": ${dockerMessage(err)}` });
    }
    return { status: { conditions: [runtime, network] }, info: {} };
  }

  // ---- sandboxes ----

  private async ensureImage(ref: string): Promise<void> {
    try {
      await this.docker.getImage(ref).inspect();
      return;
    } catch (err) {
      if (!isDockerNotFound(err)) throw fromDockerError(err, `inspect image "${ref}"`);
    }
    this.log.info('pulling sandbox image', { image: ref });
    await this.pullImage({ image: { image: ref } });
  }

  async runPodSandbox(req: m.RunPodSandboxRequest): Promise<m.RunPodSandboxResponse> {
    const config = req.config;
    validateSandboxConfig(config);
    const md: m.PodSandboxMetadata = { ...config.metadata, attempt: config.metadata.attempt ?? 0 };
    await this.ensureImage(this.pauseImage);
    const name = `k8s_POD_${md.name}_${md.namespace}_${md.uid}_${md.attempt}`;
    const hostNetwork = config.linux?.security_context?.namespace_options?.network === 'NODE';
    const dns = config.dns_config;
    const portBindings: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
    const exposed: Record<string, Record<string, never>> = {};
    for (const p of config.port_mappings ?? []) {
      const key = `${p.container_port}/${(p.protocol ?? 'TCP').toLowerCase()}`;
      exposed[key] = {};
      if (p.host_port) (portBindings[key] ??= []).push({ HostIp: p.host_ip ?? '', HostPort: String(p.host_port) });
    }
    const labels: m.StringMap = {
      ...(config.labels ?? {}),
      ...identityLabels({ nodeName: this.node, clusterName: this.cluster, pod: md }),
      ...encodeAnnotations(config.annotations),
      [LABEL_TYPE]: TYPE_SANDBOX,
      [LABEL_ATTEMPT]: String(md.attempt),
      [LABEL_CREATED]: String(this.clock.now()),
    };
    let container: Dockerode.Container;
    try {
      container = await this.docker.createContainer({
        name,
        Image: this.pauseImage,
        Hostname: hostNetwork ? undefined : config.hostname || undefined,
        Labels: labels,
        ExposedPorts: exposed,
        HostConfig: {
          NetworkMode: hostNetwork ? 'host' : this.network,
          IpcMode: 'shareable',
          RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
          Dns: dns?.servers?.length ? dns.servers : undefined,
          DnsSearch: dns?.searches?.length ? dns.searches : undefined,
          DnsOptions: dns?.options?.length ? dns.options : undefined,
          PortBindings: portBindings,
          Sysctls: config.linux?.sysctls && Object.keys(config.linux.sysctls).length > 0 ? config.linux.sysctls : undefined,
        },
      });
    } catch (err) {
      throw fromDockerError(err, `create sandbox "${name}"`);
    }
    try {
      await container.start();
    } catch (err) {
      await container.remove({ force: true }).catch(() => undefined);
      throw fromDockerError(err, `start sandbox "${name}"`);
    }
    this.log.debug('sandbox started', { sandbox: container.id, pod: `${md.namespace}/${md.name}` });
    return { pod_sandbox_id: container.id };
  }

  private async stopDocker(id: string, seconds: number, what: string): Promise<void> {
    try {
      await this.docker.getContainer(id).stop({ t: Math.max(0, Math.floor(seconds)) });
    } catch (err) {
      // 304: already stopped; 404: already gone. Both are the state asked for.
      const code = statusCode(err);
      if (code === 304 || code === 404) return;
      throw fromDockerError(err, `stop ${what} "${id}"`);
    }
  }

  private async removeDocker(id: string, what: string): Promise<void> {
    try {
      await this.docker.getContainer(id).remove({ force: true, v: true });
    } catch (err) {
      if (isDockerNotFound(err) || /already in progress/i.test(dockerMessage(err))) return;
      throw fromDockerError(err, `remove ${what} "${id}"`);
    }
  }

  async stopPodSandbox(req: m.StopPodSandboxRequest): Promise<m.StopPodSandboxResponse> {
    const sb = await this.inspectOwned(requireId(req.pod_sandbox_id, 'pod_sandbox_id'), TYPE_SANDBOX);
    if (!sb) return {};
    const containers = await this.listOwned(TYPE_CONTAINER, { [LABEL_SANDBOX_ID]: sb.Id });
    await Promise.all(containers.filter((c) => c.State === 'running')
      .map((c) => this.stopDocker(c.Id, this.graceSeconds, 'container')));
    if (sb.State.Running) await this.stopDocker(sb.Id, this.graceSeconds, 'sandbox');
    return {};
  }

  async removePodSandbox(req: m.RemovePodSandboxRequest): Promise<m.RemovePodSandboxResponse> {
    const sb = await this.inspectOwned(requireId(req.pod_sandbox_id, 'pod_sandbox_id'), TYPE_SANDBOX);
    if (!sb) return {};
    const containers = await this.listOwned(TYPE_CONTAINER, { [LABEL_SANDBOX_ID]: sb.Id });
    await Promise.all(containers.map((c) => this.removeDocker(c.Id, 'container')));
    await this.removeDocker(sb.Id, 'sandbox');
    return {};
  }

  private sandboxMetadata(labels: m.StringMap, attempt: number): m.PodSandboxMetadata {
    return {
      name: labels[LABEL_POD_NAME] ?? '',
      uid: labels[LABEL_POD_UID] ?? '',
      namespace: labels[LABEL_POD_NAMESPACE] ?? '',
      attempt,
    };
  }

  async podSandboxStatus(req: m.PodSandboxStatusRequest): Promise<m.PodSandboxStatusResponse> {
    const info = await this.requireSandbox(req.pod_sandbox_id);
    const d = decodeLabels(info.Config.Labels, parseRfc3339Nano(info.Created));
    const running = info.State.Running;
    const networks = info.NetworkSettings?.Networks ?? {};
    const ip = running ? (networks[this.network]?.IPAddress ?? Object.values(networks)[0]?.IPAddress ?? '') : '';
    const hostNetwork = info.HostConfig?.NetworkMode === 'host';
    return {
      status: {
        id: info.Id,
        metadata: this.sandboxMetadata(d.labels, d.attempt),
        state: running ? 'SANDBOX_READY' : 'SANDBOX_NOTREADY',
        created_at: d.createdAt,
        network: { ip, additional_ips: [] },
        linux: {
          namespaces: {
            options: { network: hostNetwork ? 'NODE' : 'POD', pid: 'CONTAINER', ipc: 'POD', target_id: '' },
          },
        },
        labels: d.labels,
        annotations: d.annotations,
        runtime_handler: '',
      },
      info: {},
      containers_statuses: [],
      timestamp: nowNanos(),
    };
  }

  async listPodSandbox(req: m.ListPodSandboxRequest): Promise<m.ListPodSandboxResponse> {
    const items = (await this.listOwned(TYPE_SANDBOX, req.filter?.label_selector ?? {}))
      .map((c): m.PodSandbox => {
        const d = decodeLabels(c.Labels, c.Created * 1e9);
        return {
          id: c.Id,
          metadata: this.sandboxMetadata(d.labels, d.attempt),
          state: c.State === 'running' ? 'SANDBOX_READY' : 'SANDBOX_NOTREADY',
          created_at: d.createdAt,
          labels: d.labels,
          annotations: d.annotations,
          runtime_handler: '',
        };
      })
      .filter((s) => matchesSandboxFilter(req.filter, s))
      .sort(byCreation);
    return { items };
  }

  // ---- containers ----

  async createContainer(req: m.CreateContainerRequest): Promise<m.CreateContainerResponse> {
    const config = req.config;
    validateContainerConfig(config);
    const sb = await this.requireSandbox(req.pod_sandbox_id);
    const sbLabels = decodeLabels(sb.Config.Labels, 0);
    const pod = this.sandboxMetadata(sbLabels.labels, sbLabels.attempt);
    const md: m.ContainerMetadata = { name: config.metadata.name, attempt: config.metadata.attempt ?? 0 };
    const name = `k8s_${md.name}_${pod.name}_${pod.namespace}_${pod.uid}_${md.attempt}`;
    const sc = config.linux?.security_context;
    const res = config.linux?.resources;
    const ns = sc?.namespace_options;
    const sandboxRef = `container:${sb.Id}`;
    const hostNetwork = sb.HostConfig?.NetworkMode === 'host';
    const mapped = dockerSecurityAndResources(sc, res);
    let pidMode = ns?.pid === 'POD' ? sandboxRef : ns?.pid === 'NODE' ? 'host' : undefined;
    if (ns?.pid === 'TARGET') pidMode = `container:${(await this.requireContainer(ns.target_id)).Id}`;
    const labels: m.StringMap = {
      ...(config.labels ?? {}),
      ...identityLabels({ nodeName: this.node, clusterName: this.cluster, pod, containerName: md.name }),
      ...encodeAnnotations(config.annotations),
      [LABEL_TYPE]: TYPE_CONTAINER,
      [LABEL_SANDBOX_ID]: sb.Id,
      [LABEL_ATTEMPT]: String(md.attempt),
      [LABEL_CREATED]: String(this.clock.now()),
      ...(config.log_path ? { [LABEL_LOG_PATH]: config.log_path } : {}),
    };
    let created: Dockerode.Container;
    try {
      created = await this.docker.createContainer({
        name,
        Image: config.image.image,
        Entrypoint: config.command?.length ? config.command : undefined,
        Cmd: config.args?.length ? config.args : undefined,
        Env: (config.envs ?? []).map((kv) => `${kv.key}=${kv.value}`),
        WorkingDir: config.working_dir || undefined,
        Labels: labels,
        Tty: config.tty ?? false,
        OpenStdin: config.stdin ?? false,
        StdinOnce: config.stdin_once ?? false,
        User: mapped.User,
        HostConfig: {
          NetworkMode: hostNetwork ? 'host' : sandboxRef,
          IpcMode: ns?.ipc === 'NODE' ? 'host' : sandboxRef,
          PidMode: pidMode,
          RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
          Binds: (config.mounts ?? []).map(bindSpec),
          ...mapped.HostConfig,
        },
      });
    } catch (err) {
      if (isDockerNotFound(err) && /no such image/i.test(dockerMessage(err))) {
        throw new CriError(Code.NOT_FOUND, `image "${config.image.image}" not found: pull it first`, { cause: err });
      }
      throw fromDockerError(err, `create container "${name}"`);
    }
    return { container_id: created.id };
  }

  async startContainer(req: m.StartContainerRequest): Promise<m.StartContainerResponse> {
    const info = await this.requireContainer(req.container_id);
    if (info.State.Status !== 'created') {
      throw new CriError(Code.FAILED_PRECONDITION,
        `container "${info.Id}" is ${containerState(info.State.Status)}, only a created container can be started`);
    }
    try {
      await this.docker.getContainer(info.Id).start();
    } catch (err) {
      throw fromDockerError(err, `start container "${info.Id}"`);
    }
    return {};
  }

  async stopContainer(req: m.StopContainerRequest): Promise<m.StopContainerResponse> {
    const info = await this.inspectOwned(requireId(req.container_id, 'container_id'), TYPE_CONTAINER);
    if (!info || !info.State.Running) return {};
    await this.stopDocker(info.Id, req.timeout ?? 0, 'container');
    return {};
  }

  async removeContainer(req: m.RemoveContainerRequest): Promise<m.RemoveContainerResponse> {
    const info = await this.inspectOwned(requireId(req.container_id, 'container_id'), TYPE_CONTAINER);
    if (info) await this.removeDocker(info.Id, 'container');
    return {};
  }

  async listContainers(req: m.ListContainersRequest): Promise<m.ListContainersResponse> {
    const containers = (await this.listOwned(TYPE_CONTAINER, req.filter?.label_selector ?? {}))
      .map((c): m.Container => {
        const d = decodeLabels(c.Labels, c.Created * 1e9);
        return {
          id: c.Id,
          pod_sandbox_id: d.sandboxId,
          metadata: { name: d.labels[LABEL_CONTAINER_NAME] ?? '', attempt: d.attempt },
          image: { image: c.Image, annotations: {}, user_specified_image: '', runtime_handler: '' },
          image_ref: c.ImageID,
          state: containerState(c.State),
          created_at: d.createdAt,
          labels: d.labels,
          annotations: d.annotations,
          image_id: c.ImageID,
        };
      })
      .filter((c) => matchesContainerFilter(req.filter, c))
      .sort(byCreation);
    return { containers };
  }

  async containerStatus(req: m.ContainerStatusRequest): Promise<m.ContainerStatusResponse> {
    const info = await this.requireContainer(req.container_id);
    const d = decodeLabels(info.Config.Labels, parseRfc3339Nano(info.Created));
    const st = info.State;
    let state = containerState(st.Status);
    let reason = '';
    let exitCode = 0;
    let finishedAt = 0;
    if (state === 'CONTAINER_CREATED' && st.Error) {
      // Docker tried to start it and failed: for the kubelet that is a finished container.
      state = 'CONTAINER_EXITED';
      reason = 'ContainerCannotRun';
      exitCode = st.ExitCode || 128;
      finishedAt = parseRfc3339Nano(st.FinishedAt) || nowNanos();
    } else if (state === 'CONTAINER_EXITED') {
      exitCode = st.ExitCode;
      reason = exitReason(st.ExitCode, st.OOMKilled);
      finishedAt = parseRfc3339Nano(st.FinishedAt);
    }
    const hc = info.HostConfig ?? {};
    const startedAt = parseRfc3339Nano(st.StartedAt);
    // Docker stamps StartedAt when its start call returns, so a process that exits at once can
    // show a FinishedAt before it; report a zero-length run instead of a negative one.
    if (finishedAt && startedAt && finishedAt < startedAt) finishedAt = startedAt;
    return {
      status: {
        id: info.Id,
        metadata: { name: d.labels[LABEL_CONTAINER_NAME] ?? '', attempt: d.attempt },
        state,
        created_at: d.createdAt,
        started_at: startedAt,
        finished_at: finishedAt,
        exit_code: exitCode,
        image: { image: info.Config.Image, annotations: {}, user_specified_image: '', runtime_handler: '' },
        image_ref: info.Image,
        reason,
        message: st.Error ?? '',
        labels: d.labels,
        annotations: d.annotations,
        mounts: (info.Mounts ?? []).filter((mt) => mt.Type === 'bind').map((mt) => ({
          container_path: mt.Destination,
          host_path: mt.Source,
          readonly: !mt.RW,
          selinux_relabel: false,
          propagation: criPropagation(mt.Propagation),
        })),
        log_path: d.logPath,
        resources: {
          linux: {
            cpu_period: hc.CpuPeriod ?? 0,
            cpu_quota: hc.CpuQuota ?? 0,
            cpu_shares: hc.CpuShares ?? 0,
            memory_limit_in_bytes: hc.Memory ?? 0,
            oom_score_adj: hc.OomScoreAdj ?? 0,
            memory_swap_limit_in_bytes: hc.MemorySwap && hc.MemorySwap > 0 ? hc.MemorySwap : 0,
          },
        },
        image_id: info.Image,
      },
      info: {},
    };
  }

  async execSync(req: m.ExecSyncRequest): Promise<m.ExecSyncResponse> {
    const info = await this.requireContainer(req.container_id);
    if (!req.cmd || req.cmd.length === 0) throw new CriError(Code.INVALID_ARGUMENT, 'cmd is required');
    if (!info.State.Running) throw new CriError(Code.FAILED_PRECONDITION, `container "${info.Id}" is not running`);
    const action = `exec in container "${info.Id}"`;
    let exec: Dockerode.Exec;
    let stream: NodeJS.ReadWriteStream;
    try {
      exec = await this.docker.getContainer(info.Id).exec({ Cmd: req.cmd, AttachStdout: true, AttachStderr: true, Tty: false });
      stream = await exec.start({ hijack: true, stdin: false });
    } catch (err) {
      throw fromDockerError(err, action);
    }
    const out = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
    const size = { stdout: 0, stderr: 0 };
    const collect = (async () => {
      for await (const f of demuxFrames(stream as AsyncIterable<Buffer>)) {
        const room = EXEC_OUTPUT_LIMIT - size[f.stream];
        if (room <= 0) continue; // keep draining so the command is not blocked
        const data = f.data.length > room ? f.data.subarray(0, room) : f.data;
        out[f.stream].push(data);
        size[f.stream] += data.length;
      }
    })();
    const timeoutSec = req.timeout ?? 0;
    let timer: NodeJS.Timeout | undefined;
    try {
      if (timeoutSec > 0) {
        const timedOut = await Promise.race([
          collect.then(() => false),
          new Promise<boolean>((resolveTimer) => { timer = setTimeout(() => resolveTimer(true), timeoutSec * 1000); }),
        ]);
        if (timedOut) {
          // Docker cannot kill an exec'd process; dropping the stream is all we can do.
          (stream as unknown as Readable).destroy();
          throw new CriError(Code.DEADLINE_EXCEEDED, `command ${JSON.stringify(req.cmd)} timed out after ${timeoutSec}s`);
        }
      } else {
        await collect;
      }
    } catch (err) {
      throw err instanceof CriError ? err : fromDockerError(err, action);
    } finally {
      clearTimeout(timer);
    }
    const exitCode = await this.execExitCode(exec, action);
    return { stdout: Buffer.concat(out.stdout), stderr: Buffer.concat(out.stderr), exit_code: exitCode };
  }

  /** The exit code of a finished exec; it can lag the end of the output stream by a moment. */
  private async execExitCode(exec: Dockerode.Exec, action: string): Promise<number> {
    for (let i = 0; ; i++) {
      let ei: Dockerode.ExecInspectInfo;
      try {
        ei = await exec.inspect();
      } catch (err) {
        throw fromDockerError(err, action);
      }
      if (!ei.Running && ei.ExitCode !== null) return ei.ExitCode;
      if (i >= 100) throw new CriError(Code.UNKNOWN, `${action}: no exit code after the output ended`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  // ---- streaming (exec/attach/port-forward through the streaming server) ----

  private streamingServer: StreamingServer | undefined;

  private get streaming(): StreamingServer {
    this.streamingServer ??= new StreamingServer({
      runtime: {
        exec: (id, cmd, io) => this.runExec(id, cmd, io),
        attach: (id, io) => this.runAttach(id, io),
        portForward: (id, port) => this.connectPort(id, port),
      },
      logger: this.log,
      ...(this.streamingAddress ? { address: this.streamingAddress } : {}),
    });
    return this.streamingServer;
  }

  private async requireRunning(id: string | undefined): Promise<Dockerode.ContainerInspectInfo> {
    const info = await this.requireContainer(id);
    if (!info.State.Running) throw new CriError(Code.FAILED_PRECONDITION, `container "${info.Id}" is not running`);
    return info;
  }

  async exec(req: m.ExecRequest): Promise<m.ExecResponse> {
    await this.requireRunning(req.container_id);
    return this.streaming.getExec(req);
  }

  async attach(req: m.AttachRequest): Promise<m.AttachResponse> {
    await this.requireRunning(req.container_id);
    return this.streaming.getAttach(req);
  }

  async portForward(req: m.PortForwardRequest): Promise<m.PortForwardResponse> {
    const info = await this.requireSandbox(req.pod_sandbox_id);
    if (!info.State.Running) throw new CriError(Code.FAILED_PRECONDITION, `pod sandbox "${info.Id}" is not ready`);
    return this.streaming.getPortForward(req);
  }

  // ---- stats (docker-stats.ts: one-shot readings, working set as cadvisor computes it) ----

  /**
   * One reading of a running container; undefined when it disappeared or stopped meanwhile
   * (a 404, or Docker's empty frame). Each call waits for the engine's next stats round
   * (docker-stats.ts), so callers read everything they need concurrently.
   */
  private async readUsage(id: string): Promise<RawUsage | undefined> {
    try {
      const raw: unknown = await this.docker.getContainer(id).stats({ stream: false, 'one-shot': true });
      return isEmptyDockerStats(raw) ? undefined : usageFromDockerStats(raw);
    } catch (err) {
      if (isDockerNotFound(err)) return undefined;
      throw fromDockerError(err, `stats of container "${id}"`);
    }
  }

  private containerAttributes(c: { Id: string; Labels?: m.StringMap | null }, d: DecodedLabels): m.ContainerAttributes {
    return { id: c.Id, metadata: { name: d.labels[LABEL_CONTAINER_NAME] ?? '', attempt: d.attempt }, labels: d.labels, annotations: d.annotations };
  }

  /** Stats of running listed containers (those gone meanwhile are left out), oldest first. */
  private async statsOfListed(list: Dockerode.ContainerInfo[]): Promise<{ stats: m.ContainerStats; usage: RawUsage; sandboxId: string }[]> {
    const read = await Promise.all(list.map(async (c) => {
      const d = decodeLabels(c.Labels, c.Created * 1e9);
      const usage = await this.readUsage(c.Id);
      if (!usage) return undefined;
      return { item: { stats: containerStatsOf(this.containerAttributes(c, d), usage), usage, sandboxId: d.sandboxId }, created_at: d.createdAt, id: c.Id };
    }));
    return sortByCreation(read.filter((x) => x !== undefined));
  }

  async containerStats(req: m.ContainerStatsRequest): Promise<m.ContainerStatsResponse> {
    const info = await this.requireContainer(req.container_id);
    const d = decodeLabels(info.Config.Labels, parseRfc3339Nano(info.Created));
    const usage = (info.State.Running ? await this.readUsage(info.Id) : undefined) ?? zeroUsage(nowNanos());
    return { stats: containerStatsOf(this.containerAttributes({ Id: info.Id }, d), usage) };
  }

  async listContainerStats(req: m.ListContainerStatsRequest): Promise<m.ListContainerStatsResponse> {
    const list = (await this.listOwned(TYPE_CONTAINER, req.filter?.label_selector ?? {}))
      .filter((c) => c.State === 'running')
      .filter((c) => matchesContainerStatsFilter(req.filter, { id: c.Id, sandboxId: decodeLabels(c.Labels, 0).sandboxId, labels: decodeLabels(c.Labels, 0).labels }));
    return { stats: (await this.statsOfListed(list)).map((x) => x.stats) };
  }

  /** A sandbox's stats from its pause container's usage (read by the caller) plus its running containers'. */
  private sandboxStats(sb: { Id: string; Labels?: m.StringMap | null; createdFallback: number }, own: RawUsage | undefined,
    containers: { stats: m.ContainerStats; usage: RawUsage }[]): m.PodSandboxStats {
    const d = decodeLabels(sb.Labels, sb.createdFallback);
    const attributes = { id: sb.Id, metadata: this.sandboxMetadata(d.labels, d.attempt), labels: d.labels, annotations: d.annotations };
    return sandboxStatsOf(attributes, own, containers, nowNanos());
  }

  async podSandboxStats(req: m.PodSandboxStatsRequest): Promise<m.PodSandboxStatsResponse> {
    const info = await this.requireSandbox(req.pod_sandbox_id);
    const containers = (await this.listOwned(TYPE_CONTAINER, { [LABEL_SANDBOX_ID]: info.Id })).filter((c) => c.State === 'running');
    // The pause container and the pod's containers in one round of stats calls.
    const [own, read] = await Promise.all([info.State.Running ? this.readUsage(info.Id) : undefined, this.statsOfListed(containers)]);
    return { stats: this.sandboxStats({ Id: info.Id, Labels: info.Config.Labels, createdFallback: parseRfc3339Nano(info.Created) }, own, read) };
  }

  /**
   * Every ready sandbox with its running containers, oldest first. All stats calls (pause
   * containers and pods' containers) are made at once: each waits for Docker's next stats
   * round (up to ~1 s), and the kubelet's summary must answer within the apiserver's scrape
   * timeout.
   */
  async listPodSandboxStats(req: m.ListPodSandboxStatsRequest): Promise<m.ListPodSandboxStatsResponse> {
    const sandboxes = (await this.listOwned(TYPE_SANDBOX, req.filter?.label_selector ?? {}))
      .filter((c) => c.State === 'running' && matchesSandboxStatsFilter(req.filter, { id: c.Id, labels: decodeLabels(c.Labels, 0).labels }));
    if (sandboxes.length === 0) return { stats: [] };
    const running = (await this.listOwned(TYPE_CONTAINER)).filter((c) => c.State === 'running');
    const [owns, all] = await Promise.all([Promise.all(sandboxes.map((sb) => this.readUsage(sb.Id))), this.statsOfListed(running)]);
    const stats = sandboxes.map((sb, i) => {
      const d = decodeLabels(sb.Labels, sb.Created * 1e9);
      const item = this.sandboxStats({ Id: sb.Id, Labels: sb.Labels, createdFallback: sb.Created * 1e9 }, owns[i],
        all.filter((c) => c.sandboxId === sb.Id));
      return { item, created_at: d.createdAt, id: sb.Id };
    });
    return { stats: sortByCreation(stats) };
  }

  /** Stops the streaming server (open exec/attach/port-forward sessions end). */
  async close(): Promise<void> {
    await this.streamingServer?.close();
    this.streamingServer = undefined;
  }

  /**
   * Copies a hijacked Docker stream to the session's outputs (multiplexed unless `tty`) and
   * the session's stdin into it; the write side is half-closed at stdin EOF, which Docker
   * turns into EOF on the process's stdin. Resolves when Docker ends the stream.
   */
  /**
   * Copies the session's stdin to the hijacked Docker stream and the stream's frames to the
   * session's stdout/stderr until the stream ends. `closeStdin`: the end of the client's stdin
   * half-closes the stream (exec; attach to a stdinOnce container). Otherwise it is left open:
   * Docker closes an attach's stdout and stderr when its stdin ends unless the container is
   * stdinOnce, while CRI runtimes keep streaming the output until the container exits (what
   * `kubectl debug -i` / `attach -i` with piped input rely on).
   */
  private async pump(stream: Duplex, io: StreamIO, tty: boolean, closeStdin = true): Promise<void> {
    const onAbort = (): void => { stream.destroy(); };
    io.signal.addEventListener('abort', onAbort, { once: true });
    if (io.stdin) {
      const input = io.stdin;
      void (async () => {
        try {
          for await (const chunk of input as AsyncIterable<Buffer>) {
            if (!stream.writable) break;
            if (!stream.write(chunk)) await once(stream, 'drain');
          }
          if (closeStdin && stream.writable) stream.end();
        } catch { /* the stream went away */ }
      })();
    }
    try {
      const source = stream as AsyncIterable<Buffer>;
      for await (const f of tty ? rawFrames(source) : demuxFrames(source)) {
        const w = f.stream === 'stderr' ? io.stderr : io.stdout;
        if (w && !w.write(f.data)) await once(w, 'drain');
      }
    } catch (err) {
      if (!io.signal.aborted) throw err;
    } finally {
      io.signal.removeEventListener('abort', onAbort);
    }
  }

  private async runExec(id: string, cmd: string[], io: StreamIO): Promise<number> {
    const info = await this.requireRunning(id);
    const action = `exec in container "${info.Id}"`;
    let exec: Dockerode.Exec;
    let stream: Duplex;
    try {
      exec = await this.docker.getContainer(info.Id).exec({
        Cmd: cmd, AttachStdin: !!io.stdin, AttachStdout: !!io.stdout, AttachStderr: !!io.stderr, Tty: io.tty,
      });
      stream = await exec.start({ hijack: true, stdin: !!io.stdin, Tty: io.tty }) as unknown as Duplex;
    } catch (err) {
      throw fromDockerError(err, action);
    }
    const unsubscribe = this.followResize(io, (h, w) => exec.resize({ h, w }));
    try {
      await this.pump(stream, io, io.tty);
    } finally {
      unsubscribe();
    }
    if (io.signal.aborted) return 0;
    return this.execExitCode(exec, action);
  }

  private async runAttach(id: string, io: StreamIO): Promise<void> {
    const info = await this.requireRunning(id);
    const container = this.docker.getContainer(info.Id);
    let stream: Duplex;
    try {
      stream = await container.attach({
        stream: true, hijack: true, stdin: !!io.stdin, stdout: !!io.stdout, stderr: !!io.stderr,
      }) as unknown as Duplex;
    } catch (err) {
      throw fromDockerError(err, `attach to container "${info.Id}"`);
    }
    const unsubscribe = this.followResize(io, (h, w) => container.resize({ h, w }));
    try {
      await this.pump(stream, io, info.Config.Tty ?? false, info.Config.StdinOnce ?? false);
    } finally {
      unsubscribe();
    }
  }

  /** Applies the session's terminal size now and on every change (tty sessions only). */
  private followResize(io: StreamIO, apply: (h: number, w: number) => Promise<unknown>): () => void {
    if (!io.tty) return () => {};
    const set = (size: { width: number; height: number } | undefined): void => {
      if (!size || size.width === 0 || size.height === 0) return;
      apply(size.height, size.width).catch((err: unknown) => this.log.debug('terminal resize failed', { err: String(err) }));
    };
    set(io.resize.current());
    // Docker only sizes an exec's terminal once its process exists, which is a moment after
    // start returns (the engine has no console size on exec create before API 1.42): size it
    // again shortly after, so a command reading its size at once sees the client's.
    const again = [100, 400].map((ms) => setTimeout(() => set(io.resize.current()), ms));
    const unsubscribe = io.resize.subscribe(set);
    return () => {
      for (const t of again) clearTimeout(t);
      unsubscribe();
    };
  }

  /**
   * Port-forward target: a TCP connection to the sandbox's IP on the pod network (the
   * runtime must be able to reach that network, as it can when it runs on it; dockershim
   * entered the network namespace with nsenter instead). Host-network pods: 127.0.0.1.
   */
  private async connectPort(sandboxId: string, port: number): Promise<Duplex> {
    const info = await this.requireSandbox(sandboxId);
    const networks = info.NetworkSettings?.Networks ?? {};
    const host = info.HostConfig?.NetworkMode === 'host'
      ? '127.0.0.1'
      : (networks[this.network]?.IPAddress || Object.values(networks)[0]?.IPAddress || '');
    if (!host) throw new CriError(Code.FAILED_PRECONDITION, `pod sandbox "${info.Id}" has no IP address`);
    return new Promise<Duplex>((resolve, reject) => {
      const sock = net.connect({ host, port });
      sock.once('connect', () => { sock.off('error', reject); resolve(sock); });
      sock.once('error', (err) => reject(new CriError(Code.UNAVAILABLE, `failed to connect to localhost:${port} inside namespace "${info.Id}": ${err.message}`)));
    });
  }

  // ---- logs ----

  async *readLogs(req: m.ReadLogsRequest, opts: ReadLogsOptions = {}): AsyncGenerator<m.LogChunk> {
    const info = await this.requireContainer(req.container_id);
    const { signal } = opts;
    if (signal?.aborted) return;
    const tail = req.tail_lines;
    if (tail === 0 && !req.follow) return; // nothing to read (and not every Docker version reads tail=0 as "none")
    const base = {
      stdout: true,
      stderr: true,
      timestamps: req.timestamps ?? false,
      tail: tail !== undefined && tail !== null && tail >= 0 ? tail : undefined,
      since: req.since_time_unix_nano && req.since_time_unix_nano > 0 ? dockerSince(req.since_time_unix_nano) : undefined,
    };
    const container = this.docker.getContainer(info.Id);
    let source: AsyncIterable<Buffer | string> | Iterable<Buffer>;
    let stream: Readable | undefined;
    try {
      if (req.follow) {
        stream = (await container.logs({ ...base, follow: true })) as Readable;
        source = stream;
      } else {
        const buf = await container.logs({ ...base, follow: false });
        source = [buf];
      }
    } catch (err) {
      if (isDockerNotFound(err)) throw notFound('container', info.Id);
      throw fromDockerError(err, `logs of container "${info.Id}"`);
    }
    const limit = req.limit_bytes && req.limit_bytes > 0 ? req.limit_bytes : Infinity;
    let sent = 0;
    const onAbort = (): void => { stream?.destroy(); };
    signal?.addEventListener('abort', onAbort, { once: true });
    const frames: AsyncGenerator<Frame> = info.Config.Tty ? rawFrames(source) : demuxFrames(source);
    try {
      for await (const f of frames) {
        if (signal?.aborted) return;
        const data = sent + f.data.length > limit ? f.data.subarray(0, limit - sent) : f.data;
        sent += data.length;
        if (data.length > 0) yield { data, stream: f.stream };
        if (sent >= limit) return;
      }
    } catch (err) {
      if (signal?.aborted) return;
      throw fromDockerError(err, `logs of container "${info.Id}"`);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      stream?.destroy();
    }
  }

  // ---- images ----

  private toImage(img: Dockerode.ImageInspectInfo): m.Image {
    const user = (img.Config?.User ?? '').split(':')[0] ?? '';
    const numeric = /^\d+$/.test(user);
    return {
      id: img.Id,
      repo_tags: img.RepoTags ?? [],
      repo_digests: img.RepoDigests ?? [],
      size: img.Size,
      uid: numeric ? { value: Number(user) } : null,
      username: numeric ? '' : user,
      spec: { image: img.Id, annotations: {}, user_specified_image: '', runtime_handler: '' },
      pinned: false,
    };
  }

  private async inspectImage(ref: string): Promise<Dockerode.ImageInspectInfo | undefined> {
    try {
      return await this.docker.getImage(ref).inspect();
    } catch (err) {
      if (isDockerNotFound(err)) return undefined;
      throw fromDockerError(err, `inspect image "${ref}"`);
    }
  }

  async listImages(req: m.ListImagesRequest): Promise<m.ListImagesResponse> {
    const ref = req.filter?.image?.image;
    if (ref) {
      const img = await this.inspectImage(ref);
      return { images: img ? [this.toImage(img)] : [] };
    }
    let list: Dockerode.ImageInfo[];
    try {
      list = await this.docker.listImages();
    } catch (err) {
      throw fromDockerError(err, 'list images');
    }
    return {
      images: list.map((i) => ({
        id: i.Id,
        repo_tags: (i.RepoTags ?? []).filter((t) => t !== '<none>:<none>'),
        repo_digests: (i.RepoDigests ?? []).filter((t) => t !== '<none>@<none>'),
        size: i.Size,
        uid: null,
        username: '',
        spec: { image: i.Id, annotations: {}, user_specified_image: '', runtime_handler: '' },
        pinned: false,
      })),
    };
  }

  async imageStatus(req: m.ImageStatusRequest): Promise<m.ImageStatusResponse> {
    const ref = req.image?.image;
    if (!ref) throw new CriError(Code.INVALID_ARGUMENT, 'image.image is required');
    const img = await this.inspectImage(ref);
    return { image: img ? this.toImage(img) : null, info: {} };
  }

  async pullImage(req: m.PullImageRequest): Promise<m.PullImageResponse> {
    const ref = req.image?.image;
    if (!ref) throw new CriError(Code.INVALID_ARGUMENT, 'image.image is required');
    const authconfig = dockerAuthConfig(req.auth);
    try {
      const stream = await this.docker.pull(ref, authconfig ? { authconfig } : {});
      // A long pull shows its progress in the runtime's log every 5 s.
      const progress = new PullProgress();
      const started = Date.now();
      let loggedAt = started;
      await new Promise<void>((resolvePull, reject) => {
        this.docker.modem.followProgress(stream, (err: unknown) => (err ? reject(err) : resolvePull()), (m: PullMessage) => {
          progress.add(m);
          if (Date.now() - loggedAt < PULL_PROGRESS_LOG_MS) return;
          loggedAt = Date.now();
          this.log.info('image pull progress', { image: ref, elapsedMs: loggedAt - started, ...progress.summary() });
        });
      });
    } catch (err) {
      throw fromPullError(err, ref);
    }
    const img = await this.inspectImage(ref);
    if (!img) throw new CriError(Code.UNKNOWN, `pull image "${ref}": pulled, but the image is not there`);
    this.log.info('image pulled', { image: ref, id: img.Id });
    return { image_ref: img.Id };
  }

  async removeImage(req: m.RemoveImageRequest): Promise<m.RemoveImageResponse> {
    const ref = req.image?.image;
    if (!ref) throw new CriError(Code.INVALID_ARGUMENT, 'image.image is required');
    const img = await this.inspectImage(ref);
    if (!img) return {};
    // Upstream semantics: the image goes with all its tags. Untag each, then drop what is left.
    for (const tag of img.RepoTags ?? []) {
      try {
        await this.docker.getImage(tag).remove({ noprune: false });
      } catch (err) {
        if (!isDockerNotFound(err)) throw fromDockerError(err, `remove image "${tag}"`);
      }
    }
    try {
      await this.docker.getImage(img.Id).remove({ noprune: false });
    } catch (err) {
      if (!isDockerNotFound(err)) throw fromDockerError(err, `remove image "${img.Id}"`);
    }
    return {};
  }
}
