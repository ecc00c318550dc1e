/**
 * The in-process container runtime service main.ts starts: the chosen implementation
 * (Docker through dockerode, or the in-memory fake for simulated nodes) served with
 * serveRuntime on a unix socket. The kubelet then talks to it only through connectRuntime,
 * so the CRI boundary is real gRPC on the wire, as with an external runtime.
 */
import Dockerode from 'dockerode';
import { sleep } from '@tskube/client';
import type { Logger } from '@tskube/log';
import {
  connectRuntime, DockerRuntime, FakeRuntime, serveRuntime, type ContainerRuntime, type RuntimeClient, type RuntimeServer,
} from './cri/index.js';
import { errorMessage } from './format.js';
import type { RuntimeKind } from './config.js';

export interface RuntimeServiceOptions {
  kind: RuntimeKind;
  socketPath: string;
  nodeName: string;
  clusterName: string;
  /** Docker network of the sandboxes (docker runtime; required there). */
  podNetwork?: string;
  pauseImage: string;
  docker?: Dockerode;
  logger: Logger;
}

/** A runtime with a streaming server to stop at shutdown. */
export type ClosableRuntime = ContainerRuntime & { close(): Promise<void> };

export function makeRuntime(o: RuntimeServiceOptions): ClosableRuntime {
  if (o.kind === 'fake') return new FakeRuntime({ nodeName: o.nodeName, clusterName: o.clusterName, logger: o.logger });
  if (!o.podNetwork) {
    throw new Error('TSKUBE_POD_NETWORK must be set when the kubelet does not run in a Docker container whose network it can use');
  }
  return new DockerRuntime({
    docker: o.docker ?? new Dockerode(), nodeName: o.nodeName, clusterName: o.clusterName,
    network: o.podNetwork, pauseImage: o.pauseImage, logger: o.logger,
  });
}

/** Serves the runtime; closing the result also stops the runtime's streaming server. */
export async function startRuntimeService(o: RuntimeServiceOptions): Promise<RuntimeServer> {
  const runtime = makeRuntime(o);
  const server = await serveRuntime(runtime, o.socketPath, o.logger.child({ subsystem: 'runtime-service' }));
  return {
    socketPath: server.socketPath,
    async close(graceMs?: number) {
      await server.close(graceMs);
      await runtime.close();
    },
  };
}

/**
 * Connects the kubelet to the runtime service on `socketPath`, waiting as long as it takes
 * (the runtime process may start after the kubelet, or be restarting): every failed attempt
 * (10 s each) is logged once per streak and retried after 1 s. Resolves undefined if
 * `signal` aborts first. Once connected, the gRPC channel reconnects by itself whenever the
 * runtime restarts (client.ts); calls made while it is down fail with UNAVAILABLE.
 */
export async function connectRuntimeService(socketPath: string, signal: AbortSignal, log: Logger): Promise<RuntimeClient | undefined> {
  let warned = false;
  while (!signal.aborted) {
    try {
      const client = await connectRuntime(socketPath);
      if (warned) log.info('container runtime reachable', { socket: socketPath });
      return client;
    } catch (err) {
      if (!warned) log.warn('container runtime not reachable yet; retrying', { socket: socketPath, err: errorMessage(err) });
      warned = true;
      await sleep(1000, signal).catch(() => undefined);
    }
  }
  return undefined;
}
