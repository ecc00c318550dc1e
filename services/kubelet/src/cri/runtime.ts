/**
 * The kubelet's view of a container runtime: the CRI runtime.v1 RuntimeService and
 * ImageService, plus tskube's LogService extension, as promise-based TypeScript interfaces.
 *
 * Three implementations:
 * - {@link DockerRuntime} (docker-runtime.ts): pod sandboxes and containers on a Docker engine;
 * - {@link FakeRuntime} (fake-runtime.ts): in memory, for unit tests and simulated nodes;
 * - the gRPC client from {@link connectRuntime} (client.ts), talking to any of the above
 *   served by {@link serveRuntime} (server.ts) on a unix socket.
 * All three pass the same conformance suite (conformance.ts).
 *
 * Contract shared by every implementation:
 * - Errors are {@link CriError}s carrying a gRPC code: NOT_FOUND for a missing sandbox,
 *   container or image (for the status and create/start/exec/log calls), INVALID_ARGUMENT for
 *   a malformed request, FAILED_PRECONDITION for e.g. exec in a container that is not running,
 *   ALREADY_EXISTS for a name clash, UNAVAILABLE when the backend cannot be reached.
 * - Stop/Remove of a sandbox or container are idempotent: a missing (or already stopped)
 *   object is success. StopPodSandbox force-stops the sandbox's containers;
 *   RemovePodSandbox removes them.
 * - A runtime serves exactly one node: several runtimes may share a backend (one Docker engine
 *   for many kubelets), and each sees only the sandboxes and containers it created (they carry
 *   the label `tskube.node=<node>`). Others' objects behave as missing.
 * - Every sandbox and container carries, besides the labels from its config, the identity
 *   labels from {@link identityLabels}; they are returned with the labels.
 * - IDs may be abbreviated to a unique prefix in calls taking one ID; filters match by prefix.
 * - Lists are ordered by creation time, oldest first.
 * - Returned objects are fresh copies; callers may mutate them.
 */
import type * as m from './proto.js';

export interface RuntimeService {
  version(req: m.VersionRequest): Promise<m.VersionResponse>;
  /** Runtime conditions; RuntimeReady and NetworkReady are false (not an error) when down. */
  status(req: m.StatusRequest): Promise<m.StatusResponse>;

  /**
   * Creates and starts a sandbox (Docker: a pause container on the pod network); it is
   * SANDBOX_READY with a pod IP when this resolves. ALREADY_EXISTS if a sandbox with the
   * same metadata (name, namespace, uid, attempt) exists on this node.
   */
  runPodSandbox(req: m.RunPodSandboxRequest): Promise<m.RunPodSandboxResponse>;
  /** Force-stops the sandbox's containers, then the sandbox; it becomes SANDBOX_NOTREADY. Idempotent. */
  stopPodSandbox(req: m.StopPodSandboxRequest): Promise<m.StopPodSandboxResponse>;
  /** Removes the sandbox and every container in it, running or not. Idempotent. */
  removePodSandbox(req: m.RemovePodSandboxRequest): Promise<m.RemovePodSandboxResponse>;
  /** NOT_FOUND if missing. `network.ip` is the pod IP while READY, "" otherwise. */
  podSandboxStatus(req: m.PodSandboxStatusRequest): Promise<m.PodSandboxStatusResponse>;
  listPodSandbox(req: m.ListPodSandboxRequest): Promise<m.ListPodSandboxResponse>;

  /**
   * Creates a container (state CONTAINER_CREATED) in a sandbox, sharing its network and IPC.
   * NOT_FOUND if the sandbox or the image is missing (the runtime does not pull here).
   */
  createContainer(req: m.CreateContainerRequest): Promise<m.CreateContainerResponse>;
  /** Starts a created container; it is CONTAINER_RUNNING (or already EXITED) when this resolves. */
  startContainer(req: m.StartContainerRequest): Promise<m.StartContainerResponse>;
  /** Stop signal, then kill after `timeout` seconds (0: at once). Idempotent. */
  stopContainer(req: m.StopContainerRequest): Promise<m.StopContainerResponse>;
  /** Kills if needed, then removes. Idempotent. */
  removeContainer(req: m.RemoveContainerRequest): Promise<m.RemoveContainerResponse>;
  listContainers(req: m.ListContainersRequest): Promise<m.ListContainersResponse>;
  /** NOT_FOUND if missing. */
  containerStatus(req: m.ContainerStatusRequest): Promise<m.ContainerStatusResponse>;
  /**
   * Runs `cmd` in a running container and waits for it. FAILED_PRECONDITION if the container
   * is not running; DEADLINE_EXCEEDED if `timeout` seconds pass first. Output is capped at
   * 16 MiB per stream.
   */
  execSync(req: m.ExecSyncRequest): Promise<m.ExecSyncResponse>;

  /**
   * Streaming endpoints (upstream GetExec/GetAttach/GetPortForward): each validates the
   * request and returns the URL of a one-time endpoint on the runtime's streaming server
   * (streaming/server.ts), valid for {@link STREAM_TOKEN_TTL_MS}; the kubelet proxies the
   * client's upgraded connection there. NOT_FOUND for a missing container/sandbox,
   * FAILED_PRECONDITION if it is not running, INVALID_ARGUMENT for an empty command, no
   * stream requested, or tty with stderr.
   */
  exec(req: m.ExecRequest): Promise<m.ExecResponse>;
  attach(req: m.AttachRequest): Promise<m.AttachResponse>;
  portForward(req: m.PortForwardRequest): Promise<m.PortForwardResponse>;

  /**
   * Resource usage (upstream ContainerStats/ListContainerStats/PodSandboxStats/
   * ListPodSandboxStats). Every stats object carries its attributes (ID, metadata, labels,
   * annotations), `cpu.usage_core_nano_seconds` (cumulative, never decreasing while the
   * container runs) and `memory.working_set_bytes` (usage minus inactive file cache), each
   * with a timestamp > 0. `usage_nano_cores` is null: rates are the kubelet's job (it keeps
   * the previous sample; stats/collector.ts). ContainerStats: NOT_FOUND for a missing
   * container; a container that is not running reports zero usage. ListContainerStats:
   * running containers only, filter ANDed (IDs by prefix, labels by equality), oldest first.
   * PodSandboxStats: NOT_FOUND for a missing sandbox; `linux.cpu`/`linux.memory` sum its
   * running containers (the sandbox's own pause process included where there is one).
   * ListPodSandboxStats: READY sandboxes only, oldest first.
   */
  containerStats(req: m.ContainerStatsRequest): Promise<m.ContainerStatsResponse>;
  listContainerStats(req: m.ListContainerStatsRequest): Promise<m.ListContainerStatsResponse>;
  podSandboxStats(req: m.PodSandboxStatsRequest): Promise<m.PodSandboxStatsResponse>;
  listPodSandboxStats(req: m.ListPodSandboxStatsRequest): Promise<m.ListPodSandboxStatsResponse>;
}

/** How long a URL from exec/attach/portForward stays valid (upstream streaming cacheTTL). */
export const STREAM_TOKEN_TTL_MS = 60_000;

export interface ImageService {
  listImages(req: m.ListImagesRequest): Promise<m.ListImagesResponse>;
  /** `image: null` when the image is not present; never NOT_FOUND. */
  imageStatus(req: m.ImageStatusRequest): Promise<m.ImageStatusResponse>;
  /**
   * Pulls the image; resolves with its ID. NOT_FOUND when the registry does not have it,
   * UNAVAILABLE when the registry cannot be reached, with the backend's message.
   */
  pullImage(req: m.PullImageRequest): Promise<m.PullImageResponse>;
  /** Removes the image and all its tags. Idempotent. */
  removeImage(req: m.RemoveImageRequest): Promise<m.RemoveImageResponse>;
}

export interface ReadLogsOptions {
  /** Aborting ends the stream early (the iterator finishes without error). */
  signal?: AbortSignal;
}

export interface LogService {
  /**
   * The container's output, oldest first, as an async iterable of chunks. Without `follow`
   * it ends after what is logged now; with `follow` it ends once the container is no longer
   * running. Breaking out of the loop or aborting `opts.signal` stops it early and frees the
   * backend stream. NOT_FOUND (thrown by the first iteration) if the container is missing.
   */
  readLogs(req: m.ReadLogsRequest, opts?: ReadLogsOptions): AsyncIterable<m.LogChunk>;
}

/** Everything a kubelet needs from one node's runtime. */
export type ContainerRuntime = RuntimeService & ImageService & LogService;

/** The CRI API version every tskube runtime reports in VersionResponse.runtime_api_version. */
export const CRI_API_VERSION = 'v1';
/** VersionResponse.version: the version of the kubelet-runtime API, as upstream reports it. */
export const KUBE_RUNTIME_API_VERSION = '0.1.0';

/** Label keys tskube runtimes put on every sandbox and container. */
export const LABEL_NODE = 'tskube.node';
export const LABEL_CLUSTER = 'tskube.cluster';
export const LABEL_POD_NAME = 'io.kubernetes.pod.name';
export const LABEL_POD_NAMESPACE = 'io.kubernetes.pod.namespace';
export const LABEL_POD_UID = 'io.kubernetes.pod.uid';
export const LABEL_CONTAINER_NAME = 'io.kubernetes.container.name';
/** io.kubernetes.container.name of a sandbox, as dockershim had it. */
export const SANDBOX_CONTAINER_NAME = 'POD';

export interface IdentityOptions {
  nodeName: string;
  clusterName: string;
  pod: m.PodSandboxMetadata;
  /** The container's name, or undefined for the sandbox itself. */
  containerName?: string;
}

/**
 * Identity labels added to every sandbox/container (and returned in its labels): pod
 * name/namespace/uid, container name ("POD" for sandboxes), node and cluster. They win over
 * same-named keys in the config's labels.
 */
export function identityLabels(o: IdentityOptions): m.StringMap {
  return {
    [LABEL_POD_NAME]: o.pod.name,
    [LABEL_POD_NAMESPACE]: o.pod.namespace,
    [LABEL_POD_UID]: o.pod.uid,
    [LABEL_CONTAINER_NAME]: o.containerName ?? SANDBOX_CONTAINER_NAME,
    [LABEL_NODE]: o.nodeName,
    [LABEL_CLUSTER]: o.clusterName,
  };
}
