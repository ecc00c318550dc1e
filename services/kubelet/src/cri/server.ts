/**
 * Serves any {@link ContainerRuntime} over gRPC on a unix socket: runtime.v1 RuntimeService
 * and ImageService plus tskube's ContainerLogService, all on the same socket.
 *
 * Errors: a {@link CriError} becomes a gRPC status with its code and message; anything else
 * is logged here (the boundary where it is finally handled) and becomes UNKNOWN.
 */
import { once } from 'node:events';
import { lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '@tskube/log';
import { CriError } from './errors.js';
import { loadCriServices } from './proto.js';
import type * as m from './proto.js';
import type { ContainerRuntime } from './runtime.js';

export interface RuntimeServer {
  /** Absolute path of the socket. */
  readonly socketPath: string;
  /**
   * Stops accepting calls, cancels open log streams, waits up to `graceMs` (default 2000)
   * for running calls to finish, then cancels the rest. Idempotent.
   */
  close(graceMs?: number): Promise<void>;
}

export interface ServeOptions {
  /** Directory of the proto/ tree; default {@link protoDir}. */
  protoDir?: string;
}

/** Largest message the server accepts or sends (ExecSync output is capped at 2 × 16 MiB). */
const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

function toStatus(err: unknown, method: string, log: Logger): Partial<grpc.StatusObject> {
  if (err instanceof CriError) {
    log.debug('runtime call failed', { method, code: err.codeName, err: err.message });
    return { code: err.code, details: err.message };
  }
  log.error('runtime call failed unexpectedly', { method, err: err instanceof Error ? err : String(err) });
  return { code: grpc.status.UNKNOWN, details: err instanceof Error ? err.message : String(err) };
}

/**
 * Starts a gRPC server for `impl` on `socketPath` (its directory is created; a stale socket
 * file there is replaced). Resolves once it accepts connections.
 */
export async function serveRuntime(impl: ContainerRuntime, socketPath: string, logger: Logger, opts: ServeOptions = {}): Promise<RuntimeServer> {
  const path = resolve(socketPath);
  const log = logger.child({ socket: path });
  const defs = loadCriServices(opts.protoDir);
  const server = new grpc.Server({
    'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
    'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
  });

  function unary<Req, Res>(method: string, fn: (req: Req) => Promise<Res>): grpc.handleUnaryCall<Req, Res> {
    return (call, callback) => {
      Promise.resolve().then(() => fn(call.request)).then(
        (res) => callback(null, res),
        (err: unknown) => callback(toStatus(err, method, log)),
      );
    };
  }

  grpcAddService(server, defs.runtime, {
    Version: unary('Version', (r: m.VersionRequest) => impl.version(r)),
    Status: unary('Status', (r: m.StatusRequest) => impl.status(r)),
    RunPodSandbox: unary('RunPodSandbox', (r: m.RunPodSandboxRequest) => impl.runPodSandbox(r)),
    StopPodSandbox: unary('StopPodSandbox', (r: m.StopPodSandboxRequest) => impl.stopPodSandbox(r)),
    RemovePodSandbox: unary('RemovePodSandbox', (r: m.RemovePodSandboxRequest) => impl.removePodSandbox(r)),
    PodSandboxStatus: unary('PodSandboxStatus', (r: m.PodSandboxStatusRequest) => impl.podSandboxStatus(r)),
    ListPodSandbox: unary('ListPodSandbox', (r: m.ListPodSandboxRequest) => impl.listPodSandbox(r)),
    CreateContainer: unary('CreateContainer', (r: m.CreateContainerRequest) => impl.createContainer(r)),
    StartContainer: unary('StartContainer', (r: m.StartContainerRequest) => impl.startContainer(r)),
    StopContainer: unary('StopContainer', (r: m.StopContainerRequest) => impl.stopContainer(r)),
    RemoveContainer: unary('RemoveContainer', (r: m.RemoveContainerRequest) => impl.removeContainer(r)),
    ListContainers: unary('ListContainers', (r: m.ListContainersRequest) => impl.listContainers(r)),
    ContainerStatus: unary('ContainerStatus', (r: m.ContainerStatusRequest) => impl.containerStatus(r)),
    ExecSync: unary('ExecSync', (r: m.ExecSyncRequest) => impl.execSync(r)),
    Exec: unary('Exec', (r: m.ExecRequest) => impl.exec(r)),
    Attach: unary('Attach', (r: m.AttachRequest) => impl.attach(r)),
    PortForward: unary('PortForward', (r: m.PortForwardRequest) => impl.portForward(r)),
    ContainerStats: unary('ContainerStats', (r: m.ContainerStatsRequest) => impl.containerStats(r)),
    ListContainerStats: unary('ListContainerStats', (r: m.ListContainerStatsRequest) => impl.listContainerStats(r)),
    PodSandboxStats: unary('PodSandboxStats', (r: m.PodSandboxStatsRequest) => impl.podSandboxStats(r)),
    ListPodSandboxStats: unary('ListPodSandboxStats', (r: m.ListPodSandboxStatsRequest) => impl.listPodSandboxStats(r)),
  });
  grpcAddService(server, defs.image, {
    ListImages: unary('ListImages', (r: m.ListImagesRequest) => impl.listImages(r)),
    ImageStatus: unary('ImageStatus', (r: m.ImageStatusRequest) => impl.imageStatus(r)),
    PullImage: unary('PullImage', (r: m.PullImageRequest) => impl.pullImage(r)),
    RemoveImage: unary('RemoveImage', (r: m.RemoveImageRequest) => impl.removeImage(r)),
  });

  // Open log streams, so close() can end them instead of waiting for a follow to finish.
  const streams = new Set<AbortController>();
  let shuttingDown = false;
  const readLogs: grpc.handleServerStreamingCall<m.ReadLogsRequest, m.LogChunk> = (call) => {
    const ac = new AbortController();
    let clientGone = false;
    streams.add(ac);
    call.on('cancelled', () => { clientGone = true; ac.abort(); });
    void (async () => {
      try {
        for await (const chunk of impl.readLogs(call.request, { signal: ac.signal })) {
          if (ac.signal.aborted) break;
          if (!call.write(chunk)) await once(call, 'drain', { signal: ac.signal });
        }
      } catch (err) {
        if (!ac.signal.aborted) {
          call.emit('error', toStatus(err, 'ReadLogs', log));
          return;
        }
      } finally {
        streams.delete(ac);
      }
      if (clientGone) return;
      // Cut short by close(): tell the reader the stream did not end on its own.
      if (shuttingDown) call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'container runtime service is shutting down' });
      else call.end();
    })();
  };
  grpcAddService(server, defs.logs, { ReadLogs: readLogs });

  removeStaleSocket(path);
  await new Promise<void>((resolvePromise, reject) => {
    server.bindAsync(`unix://${path}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolvePromise()));
  });
  log.info('runtime service listening', {});

  let closing: Promise<void> | undefined;
  return {
    socketPath: path,
    close(graceMs = 2000) {
      closing ??= new Promise<void>((done) => {
        shuttingDown = true;
        for (const ac of streams) ac.abort();
        let finished = false;
        const finish = (): void => {
          if (finished) return;
          finished = true;
          clearTimeout(timer);
          try { unlinkSync(path); } catch { /* already gone */ }
          done();
        };
        const timer = setTimeout(() => {
          log.warn('runtime service calls still running at shutdown; cancelling them', { graceMs });
          server.forceShutdown();
          finish();
        }, graceMs);
        server.tryShutdown(finish);
      });
      return closing;
    },
  };
}

/** addService with handlers typed per method; grpc-js only needs them keyed by RPC name. */
function grpcAddService(server: grpc.Server, def: grpc.ServiceDefinition, handlers: grpc.UntypedServiceImplementation): void {
  for (const method of Object.keys(def)) {
    if (!(method in handlers)) throw new Error(`no handler for ${method}`);
  }
  server.addService(def, handlers);
}

function removeStaleSocket(path: string): void {
  mkdirSync(dirname(path), { recursive: true });
  let isSocket = false;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return; // nothing there
  }
  if (!isSocket) throw new Error(`${path} exists and is not a socket; refusing to replace it`);
  unlinkSync(path);
}
