/**
 * gRPC client for a CRI runtime on a unix socket, implementing {@link ContainerRuntime}.
 *
 * Deadlines, as upstream kubelet's remote runtime sets them:
 * - ordinary calls: `timeoutMs` (default 2 minutes, kubelet's runtime-request-timeout);
 * - StopContainer: its `timeout` seconds plus `timeoutMs`;
 * - ExecSync: its `timeout` seconds plus `timeoutMs`, none when `timeout` is 0;
 * - PullImage: `pullTimeoutMs` (default 10 minutes);
 * - ReadLogs: none (ends with the container, on abort, or when the reader stops).
 * Failures reject with a {@link CriError} carrying the gRPC code and the server's message
 * (DEADLINE_EXCEEDED and UNAVAILABLE come from the client side).
 */
import { resolve } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { ServiceDefinition } from '@grpc/proto-loader';
import { CriError } from './errors.js';
import { loadCriServices } from './proto.js';
import type * as m from './proto.js';
import type { ContainerRuntime, ReadLogsOptions } from './runtime.js';

export interface ConnectOptions {
  /** Deadline of ordinary calls, ms. Default 120000. */
  timeoutMs?: number;
  /** Deadline of PullImage, ms. Default 600000. */
  pullTimeoutMs?: number;
  /** How long connectRuntime waits for the socket to accept a connection, ms. Default 10000. */
  connectTimeoutMs?: number;
  /** Directory of the proto/ tree; default {@link protoDir}. */
  protoDir?: string;
}

/** A connected runtime. close() ends the connection; later calls fail with UNAVAILABLE/CANCELLED. */
export interface RuntimeClient extends ContainerRuntime {
  readonly address: string;
  close(): void;
}

const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

function isServiceError(err: unknown): err is grpc.ServiceError {
  return err instanceof Error && typeof (err as Partial<grpc.ServiceError>).code === 'number';
}

function toCriError(err: unknown): CriError {
  if (err instanceof CriError) return err;
  if (isServiceError(err)) return new CriError(err.code, err.details || err.message, { cause: err });
  return new CriError(grpc.status.UNKNOWN, err instanceof Error ? err.message : String(err), { cause: err });
}

class GrpcRuntimeClient implements RuntimeClient {
  private readonly timeoutMs: number;
  private readonly pullTimeoutMs: number;

  constructor(
    readonly address: string,
    private readonly client: grpc.Client,
    private readonly defs: { runtime: ServiceDefinition; image: ServiceDefinition; logs: ServiceDefinition },
    opts: ConnectOptions,
  ) {
    this.timeoutMs = opts.timeoutMs ?? 120_000;
    this.pullTimeoutMs = opts.pullTimeoutMs ?? 600_000;
  }

  close(): void {
    this.client.close();
  }

  /** One unary call; `timeoutMs` null means no deadline. */
  private call<Req extends object, Res>(svc: ServiceDefinition, method: string, req: Req, timeoutMs: number | null): Promise<Res> {
    const def = svc[method];
    if (!def) return Promise.reject(new CriError(grpc.status.UNIMPLEMENTED, `unknown method ${method}`));
    const options: grpc.CallOptions = timeoutMs === null ? {} : { deadline: Date.now() + timeoutMs };
    return new Promise<Res>((resolvePromise, reject) => {
      this.client.makeUnaryRequest<Req, object>(
        def.path,
        (value) => def.requestSerialize(value),
        (bytes) => def.responseDeserialize(bytes),
        req,
        new grpc.Metadata(),
        options,
        (err, res) => {
          if (err) reject(toCriError(err));
          // The decoder fills every field (defaults: true), which is the shape Res describes.
          else resolvePromise(res as Res);
        },
      );
    });
  }

  private rt<Req extends object, Res>(method: string, req: Req, timeoutMs?: number): Promise<Res> {
    return this.call<Req, Res>(this.defs.runtime, method, req, timeoutMs ?? this.timeoutMs);
  }

  private img<Req extends object, Res>(method: string, req: Req, timeoutMs?: number): Promise<Res> {
    return this.call<Req, Res>(this.defs.image, method, req, timeoutMs ?? this.timeoutMs);
  }

  version(req: m.VersionRequest): Promise<m.VersionResponse> { return this.rt('Version', req); }
  status(req: m.StatusRequest): Promise<m.StatusResponse> { return this.rt('Status', req); }
  runPodSandbox(req: m.RunPodSandboxRequest): Promise<m.RunPodSandboxResponse> { return this.rt('RunPodSandbox', req); }
  stopPodSandbox(req: m.StopPodSandboxRequest): Promise<m.StopPodSandboxResponse> { return this.rt('StopPodSandbox', req); }
  removePodSandbox(req: m.RemovePodSandboxRequest): Promise<m.RemovePodSandboxResponse> { return this.rt('RemovePodSandbox', req); }
  podSandboxStatus(req: m.PodSandboxStatusRequest): Promise<m.PodSandboxStatusResponse> { return this.rt('PodSandboxStatus', req); }
  listPodSandbox(req: m.ListPodSandboxRequest): Promise<m.ListPodSandboxResponse> { return this.rt('ListPodSandbox', req); }
  createContainer(req: m.CreateContainerRequest): Promise<m.CreateContainerResponse> { return this.rt('CreateContainer', req); }
  startContainer(req: m.StartContainerRequest): Promise<m.StartContainerResponse> { return this.rt('StartContainer', req); }
  stopContainer(req: m.StopContainerRequest): Promise<m.StopContainerResponse> {
    return this.rt('StopContainer', req, Math.max(0, req.timeout ?? 0) * 1000 + this.timeoutMs);
  }
  removeContainer(req: m.RemoveContainerRequest): Promise<m.RemoveContainerResponse> { return this.rt('RemoveContainer', req); }
  listContainers(req: m.ListContainersRequest): Promise<m.ListContainersResponse> { return this.rt('ListContainers', req); }
  containerStatus(req: m.ContainerStatusRequest): Promise<m.ContainerStatusResponse> { return this.rt('ContainerStatus', req); }
  execSync(req: m.ExecSyncRequest): Promise<m.ExecSyncResponse> {
    const timeout = req.timeout ?? 0;
    return this.call(this.defs.runtime, 'ExecSync', req, timeout > 0 ? timeout * 1000 + this.timeoutMs : null);
  }

  exec(req: m.ExecRequest): Promise<m.ExecResponse> { return this.rt('Exec', req); }
  attach(req: m.AttachRequest): Promise<m.AttachResponse> { return this.rt('Attach', req); }
  portForward(req: m.PortForwardRequest): Promise<m.PortForwardResponse> { return this.rt('PortForward', req); }
  containerStats(req: m.ContainerStatsRequest): Promise<m.ContainerStatsResponse> { return this.rt('ContainerStats', req); }
  listContainerStats(req: m.ListContainerStatsRequest): Promise<m.ListContainerStatsResponse> { return this.rt('ListContainerStats', req); }
  podSandboxStats(req: m.PodSandboxStatsRequest): Promise<m.PodSandboxStatsResponse> { return this.rt('PodSandboxStats', req); }
  listPodSandboxStats(req: m.ListPodSandboxStatsRequest): Promise<m.ListPodSandboxStatsResponse> { return this.rt('ListPodSandboxStats', req); }

  listImages(req: m.ListImagesRequest): Promise<m.ListImagesResponse> { return this.img('ListImages', req); }
  imageStatus(req: m.ImageStatusRequest): Promise<m.ImageStatusResponse> { return this.img('ImageStatus', req); }
  pullImage(req: m.PullImageRequest): Promise<m.PullImageResponse> { return this.img('PullImage', req, this.pullTimeoutMs); }
  removeImage(req: m.RemoveImageRequest): Promise<m.RemoveImageResponse> { return this.img('RemoveImage', req); }

  async *readLogs(req: m.ReadLogsRequest, opts: ReadLogsOptions = {}): AsyncGenerator<m.LogChunk> {
    const def = this.defs.logs.ReadLogs;
    if (!def) throw new CriError(grpc.status.UNIMPLEMENTED, 'unknown method ReadLogs');
    const { signal } = opts;
    if (signal?.aborted) return;
    // proto3 cannot tell "absent" from 0, and 0 means "no lines": send -1 for "all".
    const wire: m.ReadLogsRequest = { ...req, tail_lines: req.tail_lines ?? -1 };
    const call = this.client.makeServerStreamRequest<m.ReadLogsRequest, object>(
      def.path,
      (value) => def.requestSerialize(value),
      (bytes) => def.responseDeserialize(bytes),
      wire,
      new grpc.Metadata(),
      {},
    );
    const onAbort = (): void => call.cancel();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for await (const chunk of call) {
        yield chunk as m.LogChunk;
      }
    } catch (err) {
      if (signal?.aborted) return;
      throw toCriError(err);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      // The reader may have stopped early (break/return): free the server-side stream.
      call.cancel();
    }
  }
}

/**
 * Connects to a runtime serving on the unix socket `socketPath` and waits until the socket
 * accepts a connection. Rejects with UNAVAILABLE if it does not within `connectTimeoutMs`.
 */
export async function connectRuntime(socketPath: string, opts: ConnectOptions = {}): Promise<RuntimeClient> {
  const defs = loadCriServices(opts.protoDir);
  const address = `unix://${resolve(socketPath)}`;
  const client = new grpc.Client(address, grpc.credentials.createInsecure(), {
    'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
    'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
    // A restarted runtime (its own process) is found again within about a second: grpc-js
    // reconnects by itself, here with a backoff of 250 ms up to 1 s instead of up to 120 s.
    'grpc.initial_reconnect_backoff_ms': 250,
    'grpc.max_reconnect_backoff_ms': 1000,
  });
  const connectTimeoutMs = opts.connectTimeoutMs ?? 10_000;
  try {
    await new Promise<void>((resolvePromise, reject) => {
      client.waitForReady(Date.now() + connectTimeoutMs, (err) => (err ? reject(err) : resolvePromise()));
    });
  } catch (err) {
    client.close();
    throw new CriError(grpc.status.UNAVAILABLE,
      `container runtime at ${address} not reachable within ${connectTimeoutMs} ms: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err });
  }
  return new GrpcRuntimeClient(address, client, defs, opts);
}
