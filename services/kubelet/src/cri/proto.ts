/**
 * The CRI wire messages as TypeScript types, and the loader for the .proto files.
 *
 * Shapes follow what @grpc/proto-loader produces with {@link LOADER_OPTIONS}:
 * - field names are the proto names (snake_case, `keepCase`);
 * - enums are their value names as strings (`'CONTAINER_RUNNING'`);
 * - int64/uint64 are JavaScript numbers. Trade-off: Unix-nanosecond timestamps (~1.7e18)
 *   exceed 2^53, so they keep only ~256 ns of precision. Nothing in tskube needs better
 *   (Kubernetes reports times in seconds), and plain numbers keep every caller simple.
 * - bytes are Buffers (typed as Uint8Array here);
 * - decoded messages carry every field (`defaults`): scalars get their zero value, repeated
 *   fields `[]`, maps `{}`, and absent sub-messages `null`.
 *
 * Two kinds of message types below:
 * - input messages (configs, requests, filters) have optional fields wherever proto3's
 *   zero value means "not specified", so callers write only what they mean. Implementations
 *   must treat `undefined`, `null` and the zero value alike.
 * - output messages (statuses, list items, responses) are complete: every field present,
 *   absent sub-messages as `null`. Implementations must fill them completely, so the direct
 *   and the over-gRPC results look the same.
 *
 * Only the subset declared in proto/cri/runtime/v1/api.proto is typed.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as protoLoader from '@grpc/proto-loader';

// ---- enums ----------------------------------------------------------------------------

export type PodSandboxState = 'SANDBOX_READY' | 'SANDBOX_NOTREADY';
export type ContainerState = 'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED' | 'CONTAINER_UNKNOWN';
export type Protocol = 'TCP' | 'UDP' | 'SCTP';
export type MountPropagation = 'PROPAGATION_PRIVATE' | 'PROPAGATION_HOST_TO_CONTAINER' | 'PROPAGATION_BIDIRECTIONAL';
export type NamespaceMode = 'POD' | 'CONTAINER' | 'NODE' | 'TARGET';

/** Label or annotation map. */
export type StringMap = Record<string, string>;

// ---- shared pieces --------------------------------------------------------------------

export interface KeyValue { key: string; value: string }

export interface ImageSpec {
  /** name[:tag], name@digest, or an image ID. */
  image: string;
  annotations?: StringMap;
  user_specified_image?: string;
  runtime_handler?: string;
}

export interface Int64Value { value: number }

export interface DNSConfig { servers?: string[]; searches?: string[]; options?: string[] }

export interface PortMapping {
  protocol?: Protocol;
  container_port: number;
  /** 0 (or absent): not published on the host. */
  host_port?: number;
  host_ip?: string;
}

export interface Mount {
  container_path: string;
  host_path: string;
  readonly?: boolean;
  selinux_relabel?: boolean;
  propagation?: MountPropagation;
}

export interface NamespaceOption {
  network?: NamespaceMode;
  pid?: NamespaceMode;
  ipc?: NamespaceMode;
  target_id?: string;
}

/** Zero or absent means "not specified". */
export interface LinuxContainerResources {
  /** CFS period, microseconds. */
  cpu_period?: number;
  /** CFS quota, microseconds per period. */
  cpu_quota?: number;
  cpu_shares?: number;
  memory_limit_in_bytes?: number;
  /** OOM killer score adjustment (-1000..1000); 0 = not specified. */
  oom_score_adj?: number;
  /** Memory + swap limit; equal to the memory limit means no swap. */
  memory_swap_limit_in_bytes?: number;
}

// ---- sandboxes ------------------------------------------------------------------------

export interface PodSandboxMetadata { name: string; uid: string; namespace: string; attempt: number }

export interface LinuxSandboxSecurityContext {
  namespace_options?: NamespaceOption | null;
  run_as_user?: Int64Value | null;
  run_as_group?: Int64Value | null;
  readonly_rootfs?: boolean;
  supplemental_groups?: number[];
  privileged?: boolean;
}

export interface LinuxPodSandboxConfig {
  cgroup_parent?: string;
  security_context?: LinuxSandboxSecurityContext | null;
  sysctls?: StringMap;
  overhead?: LinuxContainerResources | null;
  resources?: LinuxContainerResources | null;
}

export interface PodSandboxConfig {
  metadata: PodSandboxMetadata;
  hostname?: string;
  log_directory?: string;
  dns_config?: DNSConfig | null;
  port_mappings?: PortMapping[];
  labels?: StringMap;
  /** Returned unchanged in statuses; never acted upon. */
  annotations?: StringMap;
  linux?: LinuxPodSandboxConfig | null;
}

export interface RunPodSandboxRequest { config: PodSandboxConfig; runtime_handler?: string }
export interface RunPodSandboxResponse { pod_sandbox_id: string }
export interface StopPodSandboxRequest { pod_sandbox_id: string }
export type StopPodSandboxResponse = Record<string, never>;
export interface RemovePodSandboxRequest { pod_sandbox_id: string }
export type RemovePodSandboxResponse = Record<string, never>;
export interface PodSandboxStatusRequest { pod_sandbox_id: string; verbose?: boolean }

export interface PodIP { ip: string }
export interface PodSandboxNetworkStatus { ip: string; additional_ips: PodIP[] }
export interface LinuxPodSandboxStatus { namespaces: { options: NamespaceOption | null } | null }

export interface PodSandboxStatus {
  id: string;
  metadata: PodSandboxMetadata | null;
  state: PodSandboxState;
  created_at: number;
  network: PodSandboxNetworkStatus | null;
  linux: LinuxPodSandboxStatus | null;
  labels: StringMap;
  annotations: StringMap;
  runtime_handler: string;
}

export interface PodSandboxStatusResponse {
  status: PodSandboxStatus | null;
  info: StringMap;
  containers_statuses: ContainerStatus[];
  timestamp: number;
}

export interface PodSandboxFilter {
  /** Matches sandboxes whose ID starts with this value. */
  id?: string;
  state?: { state: PodSandboxState } | null;
  /** Every pair must be present in the sandbox's labels. */
  label_selector?: StringMap;
}

export interface ListPodSandboxRequest { filter?: PodSandboxFilter | null }

export interface PodSandbox {
  id: string;
  metadata: PodSandboxMetadata | null;
  state: PodSandboxState;
  created_at: number;
  labels: StringMap;
  annotations: StringMap;
  runtime_handler: string;
}

export interface ListPodSandboxResponse { items: PodSandbox[] }

// ---- containers -----------------------------------------------------------------------

export interface ContainerMetadata { name: string; attempt: number }

/** Capabilities to add/drop (upstream names, "CAP_" prefix optional; "ALL"). */
export interface Capability {
  add_capabilities?: string[];
  drop_capabilities?: string[];
}

export interface LinuxContainerSecurityContext {
  capabilities?: Capability | null;
  privileged?: boolean;
  namespace_options?: NamespaceOption | null;
  run_as_user?: Int64Value | null;
  run_as_username?: string;
  run_as_group?: Int64Value | null;
  readonly_rootfs?: boolean;
  supplemental_groups?: number[];
  /** Sets no_new_privs (allowPrivilegeEscalation: false). */
  no_new_privs?: boolean;
}

export interface LinuxContainerConfig {
  resources?: LinuxContainerResources | null;
  security_context?: LinuxContainerSecurityContext | null;
}

export interface ContainerConfig {
  metadata: ContainerMetadata;
  image: ImageSpec;
  /** Replaces the image entrypoint when non-empty. */
  command?: string[];
  /** Replaces the image's default arguments when non-empty. */
  args?: string[];
  working_dir?: string;
  envs?: KeyValue[];
  mounts?: Mount[];
  labels?: StringMap;
  /** Returned unchanged in statuses; never acted upon. */
  annotations?: StringMap;
  log_path?: string;
  stdin?: boolean;
  stdin_once?: boolean;
  tty?: boolean;
  linux?: LinuxContainerConfig | null;
}

export interface CreateContainerRequest {
  pod_sandbox_id: string;
  config: ContainerConfig;
  sandbox_config?: PodSandboxConfig | null;
}
export interface CreateContainerResponse { container_id: string }
export interface StartContainerRequest { container_id: string }
export type StartContainerResponse = Record<string, never>;
export interface StopContainerRequest {
  container_id: string;
  /** Seconds between the stop signal and the kill; 0 (default) kills at once. */
  timeout?: number;
}
export type StopContainerResponse = Record<string, never>;
export interface RemoveContainerRequest { container_id: string }
export type RemoveContainerResponse = Record<string, never>;

export interface ContainerFilter {
  /** Matches containers whose ID starts with this value. */
  id?: string;
  state?: { state: ContainerState } | null;
  /** Matches containers whose sandbox ID starts with this value. */
  pod_sandbox_id?: string;
  /** Every pair must be present in the container's labels. */
  label_selector?: StringMap;
}

export interface ListContainersRequest { filter?: ContainerFilter | null }

export interface Container {
  id: string;
  pod_sandbox_id: string;
  metadata: ContainerMetadata | null;
  image: ImageSpec | null;
  /** Image ID the container runs. */
  image_ref: string;
  state: ContainerState;
  created_at: number;
  labels: StringMap;
  annotations: StringMap;
  /** Same as image_ref. */
  image_id: string;
}

export interface ListContainersResponse { containers: Container[] }
export interface ContainerStatusRequest { container_id: string; verbose?: boolean }

export interface ContainerStatus {
  id: string;
  metadata: ContainerMetadata | null;
  state: ContainerState;
  created_at: number;
  /** 0 until started. */
  started_at: number;
  /** 0 until exited. */
  finished_at: number;
  /** Meaningful when state is CONTAINER_EXITED. */
  exit_code: number;
  image: ImageSpec | null;
  image_ref: string;
  /** "Completed" (exit 0), "Error" (non-zero), "OOMKilled"; "" unless exited. */
  reason: string;
  message: string;
  labels: StringMap;
  annotations: StringMap;
  mounts: Mount[];
  log_path: string;
  resources: { linux: LinuxContainerResources | null } | null;
  image_id: string;
}

export interface ContainerStatusResponse { status: ContainerStatus | null; info: StringMap }

export interface ExecSyncRequest {
  container_id: string;
  cmd: string[];
  /** Seconds; 0 or absent: no limit. */
  timeout?: number;
}
export interface ExecSyncResponse { stdout: Uint8Array; stderr: Uint8Array; exit_code: number }

// ---- streaming (URLs on the runtime's streaming server) ------------------------------

export interface ExecRequest {
  container_id: string;
  cmd: string[];
  tty?: boolean;
  stdin?: boolean;
  stdout?: boolean;
  stderr?: boolean;
}
export interface ExecResponse { url: string }
export interface AttachRequest {
  container_id: string;
  stdin?: boolean;
  tty?: boolean;
  stdout?: boolean;
  stderr?: boolean;
}
export interface AttachResponse { url: string }
export interface PortForwardRequest { pod_sandbox_id: string; port?: number[] }
export interface PortForwardResponse { url: string }

// ---- version and status ---------------------------------------------------------------

export interface VersionRequest { version?: string }
export interface VersionResponse {
  version: string;
  runtime_name: string;
  runtime_version: string;
  runtime_api_version: string;
}

export interface RuntimeCondition { type: string; status: boolean; reason: string; message: string }
export interface StatusRequest { verbose?: boolean }
export interface StatusResponse { status: { conditions: RuntimeCondition[] } | null; info: StringMap }

// ---- images ---------------------------------------------------------------------------

export interface Image {
  /** Image ID; equals PullImageResponse.image_ref and Container.image_ref. */
  id: string;
  repo_tags: string[];
  repo_digests: string[];
  size: number;
  uid: Int64Value | null;
  username: string;
  spec: ImageSpec | null;
  pinned: boolean;
}

export interface ListImagesRequest { filter?: { image?: ImageSpec | null } | null }
export interface ListImagesResponse { images: Image[] }
export interface ImageStatusRequest { image: ImageSpec; verbose?: boolean }
/** `image` is null when the image is not present (not an error). */
export interface ImageStatusResponse { image: Image | null; info: StringMap }

export interface AuthConfig {
  username?: string;
  password?: string;
  auth?: string;
  server_address?: string;
  identity_token?: string;
  registry_token?: string;
}

export interface PullImageRequest {
  image: ImageSpec;
  auth?: AuthConfig | null;
  sandbox_config?: PodSandboxConfig | null;
}
export interface PullImageResponse { image_ref: string }
export interface RemoveImageRequest { image: ImageSpec }
export type RemoveImageResponse = Record<string, never>;

// ---- tskube log extension (proto/tskube/runtime/v1alpha1/logs.proto) -----------------

export interface ReadLogsRequest {
  container_id: string;
  /** Keep streaming until the container is no longer running (or the reader stops). */
  follow?: boolean;
  /** Only the last N lines; absent or negative: all. */
  tail_lines?: number;
  /** Only lines logged at or after this Unix time (ns); absent or 0: all. */
  since_time_unix_nano?: number;
  /** Prefix every line with its RFC 3339 nanosecond UTC timestamp and a space. */
  timestamps?: boolean;
  /** Stop after this many bytes of data; absent or 0: no limit. */
  limit_bytes?: number;
}

export type LogStream = 'stdout' | 'stderr';
export interface LogChunk { data: Uint8Array; stream: LogStream }

// ---- stats (ContainerStats, ListContainerStats, PodSandboxStats, ListPodSandboxStats) --

export interface UInt64Value { value: number }
export interface CpuUsage {
  /** Unix ns when read. */
  timestamp: number;
  /** Cumulative CPU time over all cores, ns. */
  usage_core_nano_seconds: UInt64Value | null;
  /** Average over the runtime's sample window, nano cores; null when not computed. */
  usage_nano_cores: UInt64Value | null;
}
export interface MemoryUsage {
  timestamp: number;
  working_set_bytes: UInt64Value | null;
  available_bytes: UInt64Value | null;
  usage_bytes: UInt64Value | null;
  rss_bytes: UInt64Value | null;
  page_faults: UInt64Value | null;
  major_page_faults: UInt64Value | null;
}
export interface ContainerAttributes { id: string; metadata: ContainerMetadata | null; labels: StringMap; annotations: StringMap }
export interface ContainerStats { attributes: ContainerAttributes | null; cpu: CpuUsage | null; memory: MemoryUsage | null }
export interface ContainerStatsRequest { container_id: string }
export interface ContainerStatsResponse { stats: ContainerStats | null }
export interface ContainerStatsFilter { id?: string; pod_sandbox_id?: string; label_selector?: StringMap }
export interface ListContainerStatsRequest { filter?: ContainerStatsFilter | null }
export interface ListContainerStatsResponse { stats: ContainerStats[] }

export interface PodSandboxAttributes { id: string; metadata: PodSandboxMetadata | null; labels: StringMap; annotations: StringMap }
export interface LinuxPodSandboxStats { cpu: CpuUsage | null; memory: MemoryUsage | null; containers: ContainerStats[] }
export interface PodSandboxStats { attributes: PodSandboxAttributes | null; linux: LinuxPodSandboxStats | null }
export interface PodSandboxStatsRequest { pod_sandbox_id: string }
export interface PodSandboxStatsResponse { stats: PodSandboxStats | null }
export interface PodSandboxStatsFilter { id?: string; label_selector?: StringMap }
export interface ListPodSandboxStatsRequest { filter?: PodSandboxStatsFilter | null }
export interface ListPodSandboxStatsResponse { stats: PodSandboxStats[] }

// ---- loading --------------------------------------------------------------------------

/** @grpc/proto-loader options every tskube CRI client and server uses. */
export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
};

export const RUNTIME_SERVICE = 'runtime.v1.RuntimeService';
export const IMAGE_SERVICE = 'runtime.v1.ImageService';
export const LOG_SERVICE = 'tskube.runtime.v1alpha1.ContainerLogService';

const CRI_PROTO = 'cri/runtime/v1/api.proto';
const LOGS_PROTO = 'tskube/runtime/v1alpha1/logs.proto';

/**
 * Directory holding the repo's proto/ tree: $TSKUBE_PROTO_DIR, else resolved from this
 * module's location (services/kubelet/dist/cri/proto.js → ../../../../proto), which holds
 * both in the repo and in the image, where the repo is copied to /app with the same layout.
 */
export function protoDir(env: NodeJS.ProcessEnv = process.env): string {
  const override = env.TSKUBE_PROTO_DIR;
  if (override) return override;
  return fileURLToPath(new URL('../../../../proto/', import.meta.url));
}

export interface CriServiceDefinitions {
  runtime: protoLoader.ServiceDefinition;
  image: protoLoader.ServiceDefinition;
  logs: protoLoader.ServiceDefinition;
}

function isServiceDefinition(def: protoLoader.AnyDefinition | undefined): def is protoLoader.ServiceDefinition {
  // Message and enum definitions carry a `format` string; services are maps of methods.
  return def !== undefined && !('format' in def && typeof def.format === 'string');
}

// Parsed definitions are immutable, so one parse per directory is shared by every client
// and server in the process (it is a cache, not shared mutable state).
const loaded = new Map<string, CriServiceDefinitions>();

/** Loads and caches the CRI and log service definitions from `dir` (default {@link protoDir}). */
export function loadCriServices(dir: string = protoDir()): CriServiceDefinitions {
  const cached = loaded.get(dir);
  if (cached) return cached;
  for (const f of [CRI_PROTO, LOGS_PROTO]) {
    if (!existsSync(join(dir, f))) {
      throw new Error(`CRI proto file ${join(dir, f)} not found; set TSKUBE_PROTO_DIR to the repo's proto/ directory`);
    }
  }
  const pkg = protoLoader.loadSync([CRI_PROTO, LOGS_PROTO], { ...LOADER_OPTIONS, includeDirs: [dir] });
  const pick = (name: string): protoLoader.ServiceDefinition => {
    const def = pkg[name];
    if (!isServiceDefinition(def)) throw new Error(`service ${name} missing from the protos in ${dir}`);
    return def;
  };
  const defs = { runtime: pick(RUNTIME_SERVICE), image: pick(IMAGE_SERVICE), logs: pick(LOG_SERVICE) };
  loaded.set(dir, defs);
  return defs;
}
